package vrrp

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paceline/paceline/e2e"
)

// The test hosts: two namespaces on the e2e lab's bridge (shared/
// TESTING.md), "ka" for keepalived or a first Conn and "go" for ours.
// Addresses are from 192.0.2.0/24 and, inside these namespaces only,
// 2001:db8::/64. t.Cleanup removes everything, also on failure.
const (
	hostKA, hostGo = "ka", "go"
	addrKA, addrGo = "192.0.2.1", "192.0.2.2"
)

// vrrpLab is the e2e lab with the two hosts, IPv6 addresses added and
// every IPv6 address past duplicate address detection (a tentative
// link-local cannot be a source).
func vrrpLab(t *testing.T) *e2e.Lab {
	t.Helper()
	l := e2e.NewLab(t)
	for _, h := range []struct{ name, v4, v6 string }{
		{hostKA, addrKA + "/24", "2001:db8::1/64"},
		{hostGo, addrGo + "/24", "2001:db8::2/64"},
	} {
		l.AddHost(h.name, h.v4)
		run(t, "ip", "-n", l.NS(h.name), "addr", "add", h.v6, "dev", "eth0", "nodad")
	}
	for _, h := range []string{hostKA, hostGo} {
		waitFor(t, 30*time.Second, "IPv6 addresses of "+h+" past DAD", func() bool {
			out := run(t, "ip", "-n", l.NS(h), "-6", "addr", "show", "dev", "eth0")
			return strings.Contains(out, "scope link") && !strings.Contains(out, "tentative")
		})
	}
	return l
}

// run runs a command and returns its output; it fails the test if the
// command fails.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// waitFor polls cond every 50 ms until it holds, or fails the test
// after limit (a generous bound, not a timing assertion).
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(limit); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("no %s within %s", what, limit)
		}
	}
}

// listenIn opens a Conn on eth0 inside a host's namespace; it is closed
// in t.Cleanup.
func listenIn(t *testing.T, l *e2e.Lab, host string, cfg Config) *Conn {
	t.Helper()
	cfg.Interface = "eth0"
	c, err := e2e.InNetns(l.NS(host), func() (*Conn, error) {
		return Listen(context.Background(), cfg, testLog(t).With("host", host))
	})
	if err != nil {
		t.Fatalf("listen in %s: %v", host, err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			t.Errorf("close in %s: %v", host, err)
		}
	})
	return c
}

func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Logf("%s", strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// keepalivedBin is where Debian installs keepalived.
const keepalivedBin = "/usr/sbin/keepalived"

// keepalived is one keepalived process (and its VRRP child) in a host's
// namespace, with its own pid files and console log in a temp dir.
type keepalived struct {
	cmd     *exec.Cmd
	logPath string
	vrrpPid string
	exited  chan struct{}
	exitErr error
}

// startKeepalived runs keepalived --vrrp in the host's namespace with
// the given configuration. t.Cleanup stops it by PID: SIGTERM, then
// SIGKILL after 10 s, then its VRRP child by the PID in its pid file if
// that is still there (keepalived removes it on exit; the child also
// dies with its parent).
func startKeepalived(t *testing.T, l *e2e.Lab, host, conf string) *keepalived {
	t.Helper()
	if _, err := os.Stat(keepalivedBin); err != nil {
		t.Skipf("needs keepalived at %s (Debian's keepalived package; CI has it): %v", keepalivedBin, err)
	}
	dir := t.TempDir()
	confPath := dir + "/keepalived.conf"
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	k := &keepalived{logPath: dir + "/console.log", vrrpPid: dir + "/vrrp.pid", exited: make(chan struct{})}
	logf, err := os.Create(k.logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	// ip netns exec execs keepalived: the PID is keepalived's.
	k.cmd = exec.Command("ip", "netns", "exec", l.NS(host), keepalivedBin,
		"--vrrp", "--dont-fork", "--log-console", "--no-syslog",
		"-f", confPath, "-p", dir+"/keepalived.pid", "-r", k.vrrpPid)
	k.cmd.Stdout, k.cmd.Stderr = logf, logf
	if err := k.cmd.Start(); err != nil {
		t.Fatalf("start keepalived in %s: %v", host, err)
	}
	go func() { k.exitErr = k.cmd.Wait(); close(k.exited) }()
	t.Cleanup(func() { k.stop(t) })
	return k
}

func (k *keepalived) stop(t *testing.T) {
	select {
	case <-k.exited:
	default:
		_ = k.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-k.exited:
		case <-time.After(10 * time.Second):
			t.Errorf("keepalived pid %d ignored SIGTERM for 10 s: SIGKILL", k.cmd.Process.Pid)
			_ = k.cmd.Process.Kill()
			<-k.exited
		}
	}
	if b, err := os.ReadFile(k.vrrpPid); err == nil {
		t.Errorf("keepalived's VRRP child outlived it (pid file %s: %s): SIGKILL", k.vrrpPid, b)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if t.Failed() {
		t.Logf("keepalived's console log:\n%s", k.log())
	}
}

// log returns keepalived's console output so far.
func (k *keepalived) log() string {
	b, _ := os.ReadFile(k.logPath)
	return string(b)
}

// waitLog waits until keepalived's log has line after byte offset from,
// and returns the offset just past it. It fails the test if keepalived
// exits first, or after a generous minute.
func (k *keepalived) waitLog(t *testing.T, from int, line string) int {
	t.Helper()
	end := time.Now().Add(time.Minute)
	for {
		s := k.log()
		if from > len(s) {
			from = len(s)
		}
		if i := strings.Index(s[from:], line); i >= 0 {
			return from + i + len(line)
		}
		select {
		case <-k.exited:
			t.Fatalf("keepalived exited (%v) before logging %q", k.exitErr, line)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(end) {
			t.Fatalf("keepalived did not log %q within a minute", line)
		}
	}
}

// lines returns the log lines after offset from that contain s, without
// their timestamps.
func (k *keepalived) lines(from int, s string) []string {
	var out []string
	log := k.log()
	if from > len(log) {
		from = len(log)
	}
	for _, ln := range strings.Split(log[from:], "\n") {
		if strings.Contains(ln, s) {
			if i := strings.Index(ln, ": "); i >= 0 && strings.Contains(ln[:i], ":") {
				ln = ln[i+2:]
			}
			out = append(out, ln)
		}
	}
	return out
}
