package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeSystemd is a NOTIFY_SOCKET: a unixgram socket in a test directory
// whose datagrams are the notifications.
type fakeSystemd struct {
	t    *testing.T
	conn *net.UnixConn
	msgs chan string
}

func newFakeSystemd(t *testing.T, watchdog time.Duration) *fakeSystemd {
	t.Helper()
	dir, err := os.MkdirTemp("", "plsdn") // short: a unix socket path has 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	path := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSystemd{t: t, conn: conn, msgs: make(chan string, 1024)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			f.msgs <- string(buf[:n])
		}
	}()
	t.Cleanup(func() { _ = conn.Close(); <-done })
	t.Setenv("NOTIFY_SOCKET", path)
	if watchdog > 0 {
		t.Setenv("WATCHDOG_USEC", strconv.FormatInt(watchdog.Microseconds(), 10))
		t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	} else {
		t.Setenv("WATCHDOG_USEC", "")
		t.Setenv("WATCHDOG_PID", "")
	}
	return f
}

// next returns the next notification, failing after timeout.
func (f *fakeSystemd) next(timeout time.Duration) string {
	f.t.Helper()
	select {
	case m := <-f.msgs:
		return m
	case <-time.After(timeout):
		f.t.Fatalf("no notification within %v", timeout)
		return ""
	}
}

// waitFor returns the first notification that has prefix, skipping others.
func (f *fakeSystemd) waitFor(prefix string, timeout time.Duration) string {
	f.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case m := <-f.msgs:
			if strings.HasPrefix(m, prefix) {
				return m
			}
		case <-deadline:
			f.t.Fatalf("no %q notification within %v", prefix, timeout)
			return ""
		}
	}
}

// drain returns what arrived within d.
func (f *fakeSystemd) drain(d time.Duration) []string {
	var out []string
	end := time.After(d)
	for {
		select {
		case m := <-f.msgs:
			out = append(out, m)
		case <-end:
			return out
		}
	}
}

func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// Without NOTIFY_SOCKET (not run by systemd) nothing is started or sent,
// and the nil notifier's methods are no-ops.
func TestSdNotifyNothingWithoutNotifySocket(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	probed := atomic.Int32{}
	n := startNotifier(context.Background(), testLog(t), func(context.Context) (string, error) {
		probed.Add(1)
		return "ok", nil
	}, "ready")
	if n != nil {
		t.Fatal("a notifier started without NOTIFY_SOCKET")
	}
	n.stopping("stopping")
	n.close()
	if probed.Load() != 0 {
		t.Fatal("probed without NOTIFY_SOCKET")
	}
}

// READY=1 first; WATCHDOG=1 only while the probe succeeds (not when it
// fails, not while it hangs, and a hanging probe is not joined by a
// second one); STATUS= when the status changes; STOPPING=1 at the end.
func TestSdNotifyWatchdogFollowsTheProbe(t *testing.T) {
	const wd = 100 * time.Millisecond // ping every 50 ms
	f := newFakeSystemd(t, wd)
	var mode atomic.Int32 // 0 healthy, 1 failing, 2 hanging
	var running, maxRunning, calls atomic.Int32
	probe := func(ctx context.Context) (string, error) {
		calls.Add(1)
		r := running.Add(1)
		defer running.Add(-1)
		for {
			m := maxRunning.Load()
			if r <= m || maxRunning.CompareAndSwap(m, r) {
				break
			}
		}
		switch mode.Load() {
		case 1:
			return "", errors.New("store does not answer")
		case 2:
			<-ctx.Done() // a wedged loop: only the probe's own deadline ends it
			return "", ctx.Err()
		}
		return "quorate: 3 of 3 votes", nil
	}
	n := startNotifier(context.Background(), testLog(t), probe, "node n1 started")
	if n == nil {
		t.Fatal("no notifier with NOTIFY_SOCKET set")
	}
	for _, v := range []string{"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"} {
		if os.Getenv(v) != "" {
			t.Errorf("%s still in the environment: child processes would inherit it", v)
		}
	}
	if got, want := f.next(2*time.Second), "READY=1\nSTATUS=node n1 started"; got != want {
		t.Fatalf("first notification %q, want %q", got, want)
	}
	if got, want := f.next(2*time.Second), "WATCHDOG=1\nSTATUS=quorate: 3 of 3 votes"; got != want {
		t.Fatalf("first ping %q, want %q (the status changed)", got, want)
	}
	if got := f.next(2 * time.Second); got != "WATCHDOG=1" {
		t.Fatalf("second ping %q, want a bare WATCHDOG=1 (status unchanged)", got)
	}

	for _, m := range []int32{1, 2} {
		mode.Store(m)
		f.drain(60 * time.Millisecond) // a probe started before the switch may still ping once
		before := calls.Load()
		if got := f.drain(10 * wd); len(got) > 0 {
			t.Fatalf("mode %d: notifications while the probe does not succeed: %q", m, got)
		}
		if calls.Load() == before {
			t.Fatalf("mode %d: no probe ran", m)
		}
	}
	if m := maxRunning.Load(); m != 1 {
		t.Fatalf("%d probes ran at once, want 1 (a hanging probe is not joined by another)", m)
	}

	mode.Store(0)
	if got := f.waitFor("WATCHDOG=1", 2*time.Second); got != "WATCHDOG=1" {
		t.Fatalf("ping after recovery %q, want WATCHDOG=1", got)
	}
	n.stopping("stopping resources")
	if got := f.waitFor("STOPPING=1", 2*time.Second); got != "STOPPING=1\nSTATUS=stopping resources" {
		t.Fatalf("stop notification %q", got)
	}
	if got := f.drain(3 * wd); len(got) > 0 {
		t.Fatalf("notifications after STOPPING=1: %q", got)
	}
	n.close() // after stopping: a no-op
}

// Without WATCHDOG_USEC the probe still runs for STATUS= updates (every
// probeEvery), and no WATCHDOG=1 is ever sent; READY=1 comes at once.
func TestSdNotifyWithoutWatchdog(t *testing.T) {
	f := newFakeSystemd(t, 0)
	n := startNotifier(context.Background(), testLog(t), func(context.Context) (string, error) { return "fine", nil }, "up")
	if n.n.watchdog != 0 || n.n.period() != probeEvery {
		t.Fatalf("watchdog %v, period %v: want none and %v", n.n.watchdog, n.n.period(), probeEvery)
	}
	if got := f.next(2 * time.Second); got != "READY=1\nSTATUS=up" {
		t.Fatalf("first notification %q", got)
	}
	n.stopping("bye")
	if got := f.next(2 * time.Second); got != "STOPPING=1\nSTATUS=bye" {
		t.Fatalf("stop notification %q", got)
	}
}

// A real single-node agent under Run: READY=1 once started, a status line
// from its own API (quorate, raft leader), pings, and STOPPING=1 when its
// context ends; Run then returns cleanly.
func TestSdNotifyRealAgent(t *testing.T) {
	f := newFakeSystemd(t, 400*time.Millisecond)
	dir, err := os.MkdirTemp("", "plsda")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	port, gport := freeTCPPort(t), freeTCPPort(t)
	paths, err := InitCluster(dir, InitOptions{Cluster: "sd", Timing: "fast", Local: true},
		[]NodeSpec{{Name: "n1", Host: "127.0.0.1", Port: port, GossipPort: gport}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	manage := false
	cfg.Resources.Manage = &manage
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, *cfg, testLog(t)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("Run did not return")
		}
	})
	if got := f.next(20 * time.Second); !strings.HasPrefix(got, "READY=1\nSTATUS=node n1 started") {
		t.Fatalf("first notification %q, want READY=1", got)
	}
	if _, err := os.Stat(cfg.APISocket); err != nil {
		t.Fatalf("READY=1 before the API socket exists: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		m := f.next(5 * time.Second)
		if !strings.HasPrefix(m, "WATCHDOG=1") {
			t.Fatalf("notification %q while running, want WATCHDOG=1", m)
		}
		if s, ok := strings.CutPrefix(m, "WATCHDOG=1\nSTATUS="); ok {
			last = s
			t.Logf("status: %s", s)
		}
		if strings.Contains(last, "quorate: 1 of 1 votes") && strings.Contains(last, "DC (raft leader)") {
			break
		}
	}
	if !strings.Contains(last, "DC (raft leader)") {
		t.Fatalf("last status %q: want the single node quorate and raft leader", last)
	}
	cancel()
	if got := f.waitFor("STOPPING=1", 10*time.Second); !strings.HasPrefix(got, "STOPPING=1\nSTATUS=stopping") {
		t.Fatalf("stop notification %q", got)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	done <- nil // for the cleanup
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p)); err == nil {
			pc.Close()
			return p
		}
	}
	t.Fatal("no free port")
	return 0
}
