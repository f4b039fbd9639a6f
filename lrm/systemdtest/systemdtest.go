// Package systemdtest boots a real systemd for a test, as PID 1 of fresh
// namespaces (shared/TESTING.md, "A real systemd for the systemd resource
// class"), so the systemd class can be tested on machines whose own PID 1
// is not systemd. It is for tests only: production code never imports it.
//
//	host (test process)                  new pid/mount/net/uts/ipc/cgroup ns
//	-------------------                  -----------------------------------
//	cgroup2 subtree NAME  --unshare-->   INIT (sh): overlay of / (tmpfs upper),
//	                                     private /dev, D/run bound on /run,
//	                                     pivot_root, exec systemd --unit=TARGET
//	D/run/dbus/system_bus_socket  <----  dbus.socket, dbus.service
//	D/run/systemd/system/         ---->  /run/systemd/system (units, drop-ins)
//
// Where this departs from TESTING.md, for the host's sake: /dev is a
// private tmpfs with the basic device nodes bound in, not the host's /dev
// rbound (systemd-journald-dev-log.socket would otherwise put a /dev/log
// symlink into the host's /dev, and journald would write to its
// /dev/kmsg); and modprobe@.service and systemd-modules-load.service are
// masked (kernel modules are not namespaced).
//
// Boot skips the test without root, without systemd, dbus or util-linux's
// unshare (Debian packages systemd, dbus, util-linux, mount), or without
// a cgroup2 hierarchy.
package systemdtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
	"golang.org/x/sys/unix"
)

// Bounds of the harness's waits.
const (
	bootTimeout = 60 * time.Second
	stopTimeout = 20 * time.Second // poweroff, before SIGKILL
	killTimeout = 10 * time.Second
	// sigPowerOff is SIGRTMIN+4 as systemd (glibc: SIGRTMIN is 34) reads
	// it: power off.
	sigPowerOff = syscall.Signal(34 + 4)
	// Target is the unit the instance boots into.
	Target = "paceline-test.target"
)

// Paths the harness needs on the host.
const (
	systemdBin = "/lib/systemd/systemd"
	dbusUnit   = "/lib/systemd/system/dbus.service"
)

// Systemd is one booted systemd instance.
type Systemd struct {
	// Dir is the instance's directory on the host (D).
	Dir string
	// UnitDir is the instance's /run/systemd/system as seen from the
	// host: units and drop-ins written here are its runtime units.
	UnitDir string
	// BusAddress is its system bus, reachable from the host.
	BusAddress string
	// PID is the host PID of its systemd (PID 1 inside).
	PID int

	t      testing.TB
	cgroup string
	cmd    *exec.Cmd
	exited chan struct{} // closed when unshare has exited
	pidfd  int           // of PID; -1 when none
	out    *syncBuffer
	conn   *sddbus.Conn
}

// Require skips the test unless this machine can boot an instance.
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: boots systemd in new namespaces (CI runs as root)")
	}
	for _, p := range []string{systemdBin, dbusUnit} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("needs %s (Debian packages systemd and dbus; make deps installs them): %v", p, err)
		}
	}
	for _, p := range []string{"unshare", "pivot_root", "mount", "umount", "env"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("needs %s (Debian packages util-linux, mount, coreutils): %v", p, err)
		}
	}
	if _, err := cgroup2Mount(); err != nil {
		t.Skipf("needs a cgroup2 hierarchy: %v", err)
	}
}

// Boot starts an instance and returns once its bus answers and its boot
// job is done; t.Cleanup powers it off and removes what it made.
func Boot(t testing.TB) *Systemd {
	t.Helper()
	Require(t)
	s, err := boot(t)
	if err != nil {
		t.Fatalf("systemdtest: %v\n%s", err, s.outputTail())
	}
	return s
}

func boot(t testing.TB) (*Systemd, error) {
	dir, err := os.MkdirTemp("", "plsd") // short: a unix socket path has 108 bytes
	if err != nil {
		return &Systemd{}, err
	}
	name := "paceline-" + filepath.Base(dir)
	s := &Systemd{
		Dir: dir, UnitDir: filepath.Join(dir, "run/systemd/system"),
		BusAddress: "unix:path=" + filepath.Join(dir, "run/dbus/system_bus_socket"),
		t:          t, pidfd: -1, out: &syncBuffer{}, exited: make(chan struct{}),
	}
	t.Cleanup(s.stop)
	if err := s.writeTree(); err != nil {
		return s, err
	}
	mnt, err := cgroup2Mount()
	if err != nil {
		return s, err
	}
	own, err := ownCgroup()
	if err != nil {
		return s, err
	}
	s.cgroup = filepath.Join(mnt, own, name)
	if err := os.Mkdir(s.cgroup, 0o755); err != nil {
		s.cgroup = ""
		return s, fmt.Errorf("cgroup: %w", err)
	}
	init := filepath.Join(t.TempDir(), "init.sh")
	if err := os.WriteFile(init, []byte(initScript), 0o755); err != nil {
		return s, err
	}
	if err := s.start(init, name); err != nil {
		return s, err
	}
	if err := s.findPID(); err != nil {
		return s, err
	}
	if err := s.waitBus(); err != nil {
		return s, err
	}
	return s, nil
}

// writeTree makes D/run with the boot target and the masks.
func (s *Systemd) writeTree() error {
	if err := os.MkdirAll(s.UnitDir, 0o755); err != nil {
		return err
	}
	target := "[Unit]\nDescription=Paceline test instance\nWants=dbus.socket dbus.service\nAfter=dbus.socket dbus.service\n"
	if err := os.WriteFile(filepath.Join(s.UnitDir, Target), []byte(target), 0o644); err != nil {
		return err
	}
	for _, u := range []string{"modprobe@.service", "systemd-modules-load.service"} {
		if err := os.Symlink("/dev/null", filepath.Join(s.UnitDir, u)); err != nil {
			return err
		}
	}
	return nil
}

// start runs unshare with INIT inside the instance's cgroup. The starting
// thread stays locked until unshare exits: a child's Pdeathsig fires when
// the thread that forked it ends.
func (s *Systemd) start(init, name string) error {
	cg, err := os.Open(s.cgroup)
	if err != nil {
		return fmt.Errorf("cgroup: %w", err)
	}
	defer cg.Close()
	cmd := exec.Command("unshare", "--pid", "--fork", "--kill-child=SIGKILL",
		"--mount", "--net", "--uts", "--ipc", "--cgroup",
		"/bin/sh", init, s.Dir, name, Target)
	cmd.Stdout, cmd.Stderr = s.out, s.out
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:     true,
		Pdeathsig:   syscall.SIGKILL, // if the test binary dies, so does the instance
		UseCgroupFD: true,
		CgroupFD:    int(cg.Fd()),
	}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			close(s.exited)
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(s.exited)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("starting unshare: %w", err)
	}
	s.cmd = cmd
	return nil
}

// findPID finds systemd's host PID (unshare's only child, PID 1 in its
// namespace) and pins it with a pidfd, so later signals cannot reach a
// process that reused the number.
func (s *Systemd) findPID() error {
	up := s.cmd.Process.Pid
	deadline := time.Now().Add(bootTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return errors.New("unshare exited during boot")
		default:
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", up, up))
		if err == nil {
			if f := strings.Fields(string(b)); len(f) == 1 {
				pid, err := strconv.Atoi(f[0])
				if err != nil {
					return fmt.Errorf("children of unshare %d: %w", up, err)
				}
				fd, err := unix.PidfdOpen(pid, 0)
				if err != nil {
					return fmt.Errorf("pidfd of %d: %w", pid, err)
				}
				if !isNamespaceInit(pid) {
					unix.Close(fd)
					return fmt.Errorf("process %d (child of unshare %d) is not PID 1 of its namespace", pid, up)
				}
				s.PID, s.pidfd = pid, fd
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("no child of unshare %d after %v", up, bootTimeout)
}

// isNamespaceInit: the process is PID 1 of a nested PID namespace.
func isNamespaceInit(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if f, ok := strings.CutPrefix(sc.Text(), "NSpid:"); ok {
			ids := strings.Fields(f)
			return len(ids) == 2 && ids[1] == "1"
		}
	}
	return false
}

// waitBus waits for the bus socket, then for systemd to answer on it with
// its boot finished (SystemState running or degraded).
func (s *Systemd) waitBus() error {
	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
	defer cancel()
	sock := strings.TrimPrefix(s.BusAddress, "unix:path=")
	var last error
	for ctx.Err() == nil {
		select {
		case <-s.exited:
			return errors.New("systemd exited during boot")
		case <-time.After(20 * time.Millisecond):
		}
		if _, err := os.Stat(sock); err != nil {
			last = err
			continue
		}
		if s.conn == nil {
			c, err := s.dial(ctx)
			if err != nil {
				last = err
				continue
			}
			s.conn = c
		}
		p, err := s.conn.SystemStateContext(ctx)
		if err != nil {
			last = err
			if !s.conn.Connected() {
				s.conn.Close()
				s.conn = nil
			}
			continue
		}
		switch st, _ := p.Value.Value().(string); st {
		case "running", "degraded":
			return nil
		default:
			last = fmt.Errorf("system state %s", st)
		}
	}
	return fmt.Errorf("bus %s not ready after %v: %v", s.BusAddress, bootTimeout, last)
}

// dial opens a connection to the instance's systemd, closed when ctx
// ends or by its Close.
func (s *Systemd) dial(ctx context.Context) (*sddbus.Conn, error) {
	return sddbus.NewConnection(func() (*dbus.Conn, error) {
		c, err := dbus.Dial(s.BusAddress, dbus.WithContext(ctx))
		if err != nil {
			return nil, err
		}
		if err := c.Auth([]dbus.Auth{dbus.AuthExternal(strconv.Itoa(os.Getuid()))}); err != nil {
			c.Close()
			return nil, err
		}
		if err := c.Hello(); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	})
}

// Conn is the harness's own connection to the instance's systemd (for a
// test's own checks); it closes at cleanup.
func (s *Systemd) Conn() *sddbus.Conn {
	s.t.Helper()
	if s.conn == nil || !s.conn.Connected() {
		c, err := s.dial(context.Background())
		if err != nil {
			s.t.Fatalf("systemdtest: connecting to %s: %v", s.BusAddress, err)
		}
		s.conn = c
	}
	return s.conn
}

// WriteUnit writes a runtime unit file and has systemd reload.
func (s *Systemd) WriteUnit(name, content string) {
	s.t.Helper()
	if name == "" || strings.ContainsRune(name, '/') {
		s.t.Fatalf("systemdtest: bad unit name %q", name)
	}
	if err := os.WriteFile(filepath.Join(s.UnitDir, name), []byte(content), 0o644); err != nil {
		s.t.Fatalf("systemdtest: %v", err)
	}
	s.Reload()
}

// Mask masks a unit at runtime (a symlink to /dev/null) and has systemd
// reload.
func (s *Systemd) Mask(name string) {
	s.t.Helper()
	if name == "" || strings.ContainsRune(name, '/') {
		s.t.Fatalf("systemdtest: bad unit name %q", name)
	}
	if err := os.Symlink("/dev/null", filepath.Join(s.UnitDir, name)); err != nil {
		s.t.Fatalf("systemdtest: %v", err)
	}
	s.Reload()
}

// Reload is systemctl daemon-reload.
func (s *Systemd) Reload() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Conn().ReloadContext(ctx); err != nil {
		s.t.Fatalf("systemdtest: daemon-reload: %v", err)
	}
}

// UnitPIDs are the host PIDs in a unit's cgroup (e.g. to kill a service's
// process behind systemd's back). The unit must be a service or scope
// directly under system.slice.
func (s *Systemd) UnitPIDs(unit string) []int {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.cgroup, "system.slice", unit, "cgroup.procs"))
	if err != nil {
		s.t.Fatalf("systemdtest: processes of %s: %v", unit, err)
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// stop powers the instance off (SIGRTMIN+4 to its PID), kills it if it
// does not end in time, then removes its cgroup subtree and directory.
func (s *Systemd) stop() {
	if s.conn != nil {
		s.conn.Close()
	}
	if s.cmd != nil {
		s.signal(sigPowerOff)
		if !s.waitExit(stopTimeout) {
			s.t.Logf("systemdtest: systemd %d did not power off within %v; killing it", s.PID, stopTimeout)
			s.signal(syscall.SIGKILL) // PID 1 of its namespace: the whole namespace goes
			if s.cmd.Process != nil {
				_ = s.cmd.Process.Kill() // unshare, our child: safe by PID until reaped
			}
			if !s.waitExit(killTimeout) {
				s.t.Errorf("systemdtest: unshare %d still running after SIGKILL", s.cmd.Process.Pid)
			}
		}
	}
	if s.pidfd >= 0 {
		unix.Close(s.pidfd)
	}
	if s.t.Failed() {
		s.t.Logf("systemdtest: output of the instance:\n%s", s.outputTail())
	}
	if s.cgroup != "" {
		if err := removeCgroup(s.cgroup, killTimeout); err != nil {
			s.t.Errorf("systemdtest: %v", err)
		}
	}
	if s.Dir != "" {
		if m := mountsUnder(s.Dir); len(m) > 0 {
			s.t.Errorf("systemdtest: not removing %s: mounts under it on the host: %v", s.Dir, m)
			return
		}
		if err := os.RemoveAll(s.Dir); err != nil {
			s.t.Errorf("systemdtest: %v", err)
		}
	}
}

// signal sends a signal through the pidfd (never to a reused PID).
func (s *Systemd) signal(sig syscall.Signal) {
	if s.pidfd < 0 {
		if s.cmd != nil && s.cmd.Process != nil {
			_ = s.cmd.Process.Signal(syscall.SIGKILL) // no systemd yet: end unshare
		}
		return
	}
	if err := unix.PidfdSendSignal(s.pidfd, sig, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		s.t.Logf("systemdtest: signal %v to systemd %d: %v", sig, s.PID, err)
	}
}

func (s *Systemd) waitExit(d time.Duration) bool {
	select {
	case <-s.exited:
		return true
	case <-time.After(d):
		return false
	}
}

// removeCgroup removes a cgroup subtree depth-first, retrying while its
// last processes are reaped.
func removeCgroup(root string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		var dirs []string
		err := filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		sort.Slice(dirs, func(i, j int) bool { return strings.Count(dirs[i], "/") > strings.Count(dirs[j], "/") })
		var last error
		for _, d := range dirs {
			if err := os.Remove(d); err != nil && !errors.Is(err, os.ErrNotExist) {
				last = err
			}
		}
		if last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("removing cgroup %s: %w", root, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cgroup2Mount is where the cgroup2 hierarchy is mounted (/sys/fs/cgroup,
// or /sys/fs/cgroup/unified on a hybrid host).
func cgroup2Mount() (string, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		for i, v := range f {
			if v == "-" && i+1 < len(f) && f[i+1] == "cgroup2" && len(f) > 4 {
				return unescapeMount(f[4]), nil
			}
		}
	}
	return "", errors.New("no cgroup2 mount in /proc/self/mountinfo")
}

// ownCgroup is this process's cgroup2 path ("0::/PATH").
func ownCgroup() (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			return p, nil
		}
	}
	return "", errors.New("no cgroup2 entry in /proc/self/cgroup")
}

// mountsUnder lists host mounts at or below dir.
func mountsUnder(dir string) []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 {
			if m := unescapeMount(f[4]); m == dir || strings.HasPrefix(m, dir+"/") {
				out = append(out, m)
			}
		}
	}
	return out
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (s *Systemd) outputTail() string {
	if s == nil || s.out == nil {
		return ""
	}
	b := s.out.Bytes()
	if len(b) > 8192 {
		b = b[len(b)-8192:]
	}
	return string(b)
}

// syncBuffer is a bytes.Buffer safe for the writer and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// initScript is PID 1 of the new namespaces until it execs systemd:
// $1 is D, $2 the container name, $3 the target. Nothing it mounts is seen
// by the host (its mounts are private), except D/run, which is the host's
// directory.
const initScript = `#!/bin/sh
set -eu
D=$1 NAME=$2 TARGET=$3
R=$D/root
mount --make-rprivate /
mkdir -p "$D/ovl" "$R"
mount -t tmpfs -o mode=0755,size=512m tmpfs "$D/ovl"
mkdir -p "$D/ovl/upper" "$D/ovl/work"
mount -t overlay overlay -o "lowerdir=/,upperdir=$D/ovl/upper,workdir=$D/ovl/work" "$R"
mount -t proc proc "$R/proc"
mount -t sysfs -o ro sysfs "$R/sys"
mount --bind "$R/proc/sys" "$R/proc/sys"
mount -o remount,bind,ro "$R/proc/sys"
mount -t cgroup2 cgroup2 "$R/sys/fs/cgroup"
# A private /dev: the host's device nodes the services need, bound in.
mount -t tmpfs -o mode=0755,nosuid tmpfs "$R/dev"
for n in null zero full random urandom tty; do
	touch "$R/dev/$n"
	mount --bind "/dev/$n" "$R/dev/$n"
done
mkdir -p "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/dev/shm"
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"
ln -s /proc/self/fd/2 "$R/dev/stderr"
mount --bind "$D/run" "$R/run"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
mkdir -p "$R/.oldroot"
cd "$R"
pivot_root . .oldroot
umount -l /.oldroot
exec env -i container="$NAME" /lib/systemd/systemd --system --unit="$TARGET"
`
