package e2e

// The Debian package end to end (issue 12): the .deb that
// scripts/build-deb.sh makes is installed with dpkg inside a real systemd
// (lrm/systemdtest: PID 1 of fresh namespaces over an overlay of the host
// root, writes to a tmpfs), and its paceline.service joins two plain
// agents in network namespaces of the lab's bridge.
//
//	lab bridge (namespace pl…-sw), 198.51.100.0/24
//	 ├─ vpkg ── eth0 in the systemd instance's netns: 198.51.100.1, n1 =
//	 │          paceline.service from the package (Type=notify, watchdog)
//	 ├─ v0 ──── netns n2: 198.51.100.2, `paceline agent` (TestMain's binary)
//	 └─ v1 ──── netns n3: 198.51.100.3, `paceline agent`
//
// Nothing touches the host's network, /etc or dpkg database: the package
// is installed into the instance's overlay, which goes with the instance.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paceline/paceline/clustertest"
	"github.com/paceline/paceline/lrm/systemdtest"
)

// container runs commands inside a systemd instance's namespaces.
type container struct {
	t   *testing.T
	pid int // the instance's systemd, as the host sees it
}

// root is the instance's root directory as the host can write it.
func (c container) root(p string) string {
	return filepath.Join(fmt.Sprintf("/proc/%d/root", c.pid), p)
}

// run runs a command in all of the instance's namespaces (nsenter -a),
// with a bound; the command's process group is killed (by its PID) if it
// overruns.
func (c container) run(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"-t", strconv.Itoa(c.pid), "-a", "--"}, args...)...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "DEBIAN_FRONTEND=noninteractive", "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w", strings.Join(args, " "), err)
	}
	return string(out), nil
}

// must is run, failing the test on error.
func (c container) must(timeout time.Duration, args ...string) string {
	c.t.Helper()
	out, err := c.run(timeout, args...)
	if err != nil {
		c.t.Fatalf("in the systemd instance: %v\n%s", err, out)
	}
	return out
}

// show reads unit properties (systemctl show) into a map.
func (c container) show(unit string, props ...string) map[string]string {
	c.t.Helper()
	out := c.must(10*time.Second, "systemctl", "show", "--property="+strings.Join(props, ","), unit)
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

func TestPackageInstallsRunsAndJoins(t *testing.T) {
	RequireRoot(t)
	systemdtest.Require(t)
	for _, tool := range []string{"dpkg-deb", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (Debian packages dpkg, util-linux): %v", tool, err)
		}
	}
	begin := time.Now()
	step := func(what string) { t.Logf("%5.1fs %s", time.Since(begin).Seconds(), what) }

	// The package, from TestMain's binary (make deb builds a static one;
	// the files around it are the same). No compression: quicker.
	debDir := t.TempDir()
	build := exec.Command("../scripts/build-deb.sh", "--out", debDir, "--binary", bin, "--version", "0.0~e2e1")
	build.Env = append(os.Environ(), "DEB_COMPRESSION=none")
	out, err := build.CombinedOutput()
	if err != nil {
		t.Fatalf("build-deb.sh: %v\n%s", err, out)
	}
	deb := filepath.Join(debDir, "paceline_0.0~e2e1_"+debArch(t)+".deb")
	if _, err := os.Stat(deb); err != nil {
		t.Fatalf("build-deb.sh made no %s: %v\n%s", deb, err, out)
	}
	step("package built: " + filepath.Base(deb))

	// The cluster's files: n1 keeps the packaged paths (/var/lib/paceline,
	// /run/paceline/paceline.sock); n2 and n3 share the host's filesystem,
	// so theirs live in their own directories.
	dir, err := os.MkdirTemp("", "pl-pkg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if out, err := exec.Command(bin, "cluster", "init", "--dir", dir, "--name", "pkg",
		"n1=198.51.100.1:7250", "n2=198.51.100.2:7250", "n3=198.51.100.3:7250").CombinedOutput(); err != nil {
		t.Fatalf("cluster init: %v\n%s", err, out)
	}
	for _, n := range []string{"n2", "n3"} {
		p := filepath.Join(dir, n, "paceline.yaml")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for old, repl := range map[string]string{"data-dir: /var/lib/paceline\n": "data-dir: data\n", "api-socket: /run/paceline/paceline.sock\n": "api-socket: paceline.sock\n"} {
			if strings.Count(s, old) != 1 {
				t.Fatalf("%s: no line %q to make local", p, strings.TrimSpace(old))
			}
			s = strings.Replace(s, old, repl, 1)
		}
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	lab := NewLab(t)
	lab.AddHost("n2", "198.51.100.2/24")
	lab.AddHost("n3", "198.51.100.3/24")
	sd := systemdtest.Boot(t)
	c := container{t: t, pid: sd.PID}
	step(fmt.Sprintf("systemd booted in namespaces (host PID %d)", sd.PID))

	// Nothing in the instance may manage its network but this test: mask
	// what a host could have enabled (ifupdown, networkd, NetworkManager).
	for _, u := range []string{"networking.service", "ifupdown-wait-online.service", "systemd-networkd.service",
		"systemd-networkd-wait-online.service", "NetworkManager.service", "NetworkManager-wait-online.service"} {
		if err := os.Symlink("/dev/null", filepath.Join(sd.UnitDir, u)); err != nil {
			t.Fatal(err)
		}
	}
	sd.Reload()
	// The instance's network namespace joins the bridge.
	lab.ip("link", "add", "vpkg", "netns", lab.sw, "type", "veth", "peer", "name", "eth0", "netns", strconv.Itoa(sd.PID))
	lab.ip("-n", lab.sw, "link", "set", "vpkg", "master", "br0", "up")
	c.must(5*time.Second, "ip", "link", "set", "lo", "up")
	c.must(5*time.Second, "ip", "addr", "add", "198.51.100.1/24", "dev", "eth0")
	c.must(5*time.Second, "ip", "link", "set", "eth0", "up")

	// Install. man-db's trigger would rebuild the whole man index (seconds,
	// and nothing this test checks): its auto-update flag goes, in the
	// instance's overlay only.
	if err := os.Remove(c.root("/var/lib/man-db/auto-update")); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	copyFile(t, deb, c.root("/tmp/paceline.deb"), 0o644)
	inst := c.must(60*time.Second, "dpkg", "-i", "/tmp/paceline.deb")
	step("dpkg -i done")
	t.Logf("dpkg -i:\n%s", inst)
	files := c.must(5*time.Second, "dpkg", "-L", "paceline")
	for _, f := range []string{"/usr/bin/paceline", "/lib/systemd/system/paceline.service", "/etc/paceline/paceline.yaml.example",
		"/usr/lib/ocf/resource.d/paceline/dummy", "/usr/lib/ocf/resource.d/paceline/vip",
		"/usr/share/bash-completion/completions/paceline", "/usr/share/zsh/vendor-completions/_paceline",
		"/usr/share/fish/vendor_completions.d/paceline.fish", "/usr/share/man/man1/paceline-agent.1.gz"} {
		if !strings.Contains(files, f+"\n") {
			t.Errorf("dpkg -L paceline lacks %s", f)
		}
	}
	if cf := c.must(5*time.Second, "dpkg-query", "-W", "-f=${Conffiles}", "paceline"); !strings.Contains(cf, "/etc/paceline/paceline.yaml.example") {
		t.Errorf("conffiles %q: want /etc/paceline/paceline.yaml.example", cf)
	}
	if fi, err := os.Stat(c.root("/var/lib/paceline")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("/var/lib/paceline after postinst: %v, %v; want a 0700 directory", fi, err)
	}
	if md := c.must(10*time.Second, "/usr/lib/ocf/resource.d/paceline/dummy", "meta-data"); !strings.Contains(md, "<resource-agent") {
		t.Errorf("ocf:paceline:dummy meta-data: %q", md)
	}
	// Enabled, not started: there is no node config yet; starting it
	// anyway is skipped by its condition, not failed.
	if st := c.show("paceline.service", "ActiveState", "UnitFileState"); st["ActiveState"] != "inactive" || st["UnitFileState"] != "enabled" {
		t.Fatalf("after dpkg -i without a config: %v, want inactive and enabled", st)
	}
	c.must(30*time.Second, "systemctl", "start", "paceline")
	if st := c.show("paceline.service", "ActiveState", "ConditionResult"); st["ActiveState"] != "inactive" || st["ConditionResult"] != "no" {
		t.Fatalf("start without /etc/paceline/paceline.yaml: %v, want skipped (inactive, condition no)", st)
	}
	if st := c.show("paceline.service", "Type", "NotifyAccess", "KillMode", "TimeoutStopUSec", "Restart"); st["Type"] != "notify" ||
		st["NotifyAccess"] != "main" || st["KillMode"] != "mixed" || st["Restart"] != "on-failure" {
		t.Errorf("packaged unit: %v", st)
	} else {
		t.Logf("packaged unit: %v", st)
	}
	// (WatchdogUSec reads infinity until the unit runs: its file says.)
	if unit := c.must(10*time.Second, "systemctl", "cat", "paceline"); !strings.Contains(unit, "\nWatchdogSec=20s\n") {
		t.Errorf("packaged unit has no WatchdogSec=20s:\n%s", unit)
	}

	// The node config, as an operator copies it from `cluster init`.
	for _, f := range []string{"paceline.yaml", "ca.crt", "node.crt", "node.key"} {
		mode := os.FileMode(0o644)
		if f == "node.key" || f == "paceline.yaml" {
			mode = 0o600
		}
		copyFile(t, filepath.Join(dir, "n1", f), c.root("/etc/paceline/"+f), mode)
	}
	// A short watchdog for this test (a runtime drop-in): the unit stays
	// up past several timeouts only if the agent keeps pinging.
	dropin := filepath.Join(sd.UnitDir, "paceline.service.d")
	if err := os.MkdirAll(dropin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dropin, "e2e-watchdog.conf"), []byte("[Service]\nWatchdogSec=2s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sd.Reload()

	startAt := time.Now()
	c.must(60*time.Second, "systemctl", "start", "paceline") // Type=notify: returns once READY=1 came
	step(fmt.Sprintf("systemctl start paceline returned after %v", time.Since(startAt).Round(time.Millisecond)))
	st := c.show("paceline.service", "ActiveState", "SubState", "MainPID", "WatchdogUSec", "WatchdogTimestampMonotonic", "StatusText")
	if st["ActiveState"] != "active" || st["SubState"] != "running" {
		t.Fatalf("after systemctl start: %v\n%s", st, c.journal())
	}
	mainPID, watchStart := st["MainPID"], st["WatchdogTimestampMonotonic"]
	if st["WatchdogUSec"] != "2s" || watchStart == "" || watchStart == "0" {
		t.Fatalf("watchdog not armed: %v", st)
	}
	t.Logf("active: %v", st)

	for _, n := range []string{"n2", "n3"} {
		lab.Start(n, bin, "agent", "--config", filepath.Join(dir, n, "paceline.yaml"))
	}
	var status string
	clustertest.WaitFor(t, 30*time.Second, func() (bool, string) {
		status, err = c.run(10*time.Second, "paceline", "status")
		if err != nil {
			return false, fmt.Sprintf("paceline status in the instance: %v: %s", err, status)
		}
		if !strings.Contains(status, "Quorum: quorate: 3 of 3 votes") {
			return false, "not all three quorate yet:\n" + status
		}
		for _, n := range []string{"n1", "n2", "n3"} {
			if !containsLine(status, n, "alive") {
				return false, n + " not alive yet:\n" + status
			}
		}
		return true, ""
	})
	step("all three joined")
	t.Logf("paceline status in the instance:\n%s", status)

	// Past several watchdog timeouts since the start: still the same
	// process, never restarted, its watchdog time stamp moved on (pings),
	// and its status line tells quorum and raft role.
	if d := 3*time.Second - time.Since(startAt); d > 0 {
		time.Sleep(d + 500*time.Millisecond)
	}
	clustertest.WaitFor(t, 10*time.Second, func() (bool, string) {
		st = c.show("paceline.service", "ActiveState", "MainPID", "NRestarts", "WatchdogTimestampMonotonic", "StatusText")
		ok := st["ActiveState"] == "active" && st["MainPID"] == mainPID && st["NRestarts"] == "0" &&
			st["WatchdogTimestampMonotonic"] != watchStart && strings.Contains(st["StatusText"], "quorate: 3 of 3 votes")
		return ok, fmt.Sprintf("%v (MainPID was %s, watchdog stamp at start %s)", st, mainPID, watchStart)
	})
	step(fmt.Sprintf("watchdog fed: %v", st))

	// A clean stop: STOPPING=1, resources (none here) and membership left,
	// the unit inactive with result success; then purge removes the data.
	c.must(60*time.Second, "systemctl", "stop", "paceline")
	if st := c.show("paceline.service", "ActiveState", "Result"); st["ActiveState"] != "inactive" || st["Result"] != "success" {
		t.Fatalf("after systemctl stop: %v\n%s", st, c.journal())
	}
	step("stopped cleanly")
	c.must(60*time.Second, "dpkg", "--purge", "paceline")
	for _, p := range []string{"/var/lib/paceline", "/usr/bin/paceline", "/lib/systemd/system/paceline.service"} {
		if _, err := os.Stat(c.root(p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after dpkg --purge: %v, want gone", p, err)
		}
	}
	if _, err := os.Stat(c.root("/etc/paceline/node.key")); err != nil {
		t.Errorf("the operator's /etc/paceline/node.key after purge: %v, want kept", err)
	}
	step("purged")
}

// journal is the unit's journal in the instance, for a failure message.
func (c container) journal() string {
	out, _ := c.run(10*time.Second, "journalctl", "-u", "paceline", "--no-pager", "-n", "80")
	return out
}

// containsLine reports whether some line of s has every word.
func containsLine(s string, words ...string) bool {
	for _, l := range strings.Split(s, "\n") {
		f := strings.Fields(l)
		all := true
		for _, w := range words {
			found := false
			for _, x := range f {
				if x == w {
					found = true
				}
			}
			all = all && found
		}
		if all {
			return true
		}
	}
	return false
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(to, mode); err != nil {
		t.Fatal(err)
	}
}

func debArch(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("dpkg", "--print-architecture").Output()
	if err != nil {
		t.Fatalf("dpkg --print-architecture: %v", err)
	}
	return strings.TrimSpace(string(out))
}
