package vip

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/paceline/paceline/agents/ocf"
)

// lab is a set of test hosts, each a network namespace with eth0 on one
// bridge; the bridge lives in a namespace of its own, so the machine's
// interfaces are never touched (shared/TESTING.md). Names carry the
// test process's PID and a tag per test, so parallel packages and tests
// do not collide; t.Cleanup deletes every namespace, also on failure.
type lab struct {
	t      testing.TB
	prefix string
	hosts  []*host
}

// host is one test host.
type host struct {
	name, ns string
	mac      string     // eth0's, fixed by the lab: 02:00:00:00:00:NN
	logLevel slog.Level // of the agent's log in tests (benchmarks raise it)
}

// requireRoot skips tests that make namespaces, unless root.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces and raw sockets (CI runs as root)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2's ip")
	}
}

func newLab(t testing.TB, tag string) *lab {
	t.Helper()
	requireRoot(t)
	l := &lab{t: t, prefix: fmt.Sprintf("plvip%d-%s-", os.Getpid(), tag)}
	t.Cleanup(l.cleanup)
	l.ip("netns", "add", l.sw())
	l.ip("-n", l.sw(), "link", "add", "br0", "type", "bridge")
	l.ip("-n", l.sw(), "link", "set", "br0", "up")
	return l
}

func (l *lab) sw() string { return l.prefix + "sw" }

// addHost makes a host with eth0 on the bridge and the given addresses
// (CIDR; IPv6 ones without duplicate address detection, so they work at
// once).
func (l *lab) addHost(name string, addrs ...string) *host {
	l.t.Helper()
	n := len(l.hosts) + 1
	h := &host{name: name, ns: l.prefix + name, mac: fmt.Sprintf("02:00:00:00:00:%02x", n)}
	port := fmt.Sprintf("v%d", n)
	l.ip("netns", "add", h.ns)
	l.hosts = append(l.hosts, h)
	l.ip("link", "add", port, "netns", l.sw(), "type", "veth", "peer", "name", "eth0", "netns", h.ns)
	l.ip("-n", l.sw(), "link", "set", port, "master", "br0", "up")
	l.ip("-n", h.ns, "link", "set", "lo", "up")
	l.ip("-n", h.ns, "link", "set", "eth0", "address", h.mac)
	for _, a := range addrs {
		args := []string{"-n", h.ns, "addr", "add", a, "dev", "eth0"}
		if strings.Contains(a, ":") {
			args = append(args, "nodad")
		}
		l.ip(args...)
	}
	l.ip("-n", h.ns, "link", "set", "eth0", "up")
	return h
}

// port is a host's port on the bridge (to cut its link).
func (l *lab) port(h *host) string {
	for i, x := range l.hosts {
		if x == h {
			return fmt.Sprintf("v%d", i+1)
		}
	}
	l.t.Fatalf("no host %s", h.name)
	return ""
}

func (l *lab) ip(args ...string) string {
	l.t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (l *lab) cleanup() {
	for _, h := range l.hosts {
		if out, err := exec.Command("ip", "netns", "del", h.ns).CombinedOutput(); err != nil {
			l.t.Logf("cleanup: ip netns del %s: %v: %s", h.ns, err, out)
		}
	}
	if out, err := exec.Command("ip", "netns", "del", l.sw()).CombinedOutput(); err != nil {
		l.t.Logf("cleanup: ip netns del %s: %v: %s", l.sw(), err, out)
	}
}

// in runs fn on this goroutine's OS thread, switched into the host's
// namespace: sockets fn opens belong to that namespace. The thread goes
// back to its namespace after; if that fails it stays locked, and the
// runtime ends it with the goroutine rather than reuse it.
func (h *host) in(t testing.TB, fn func()) {
	t.Helper()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("current netns: %v", err)
	}
	defer orig.Close()
	target, err := netns.GetFromName(h.ns)
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("netns %s: %v", h.ns, err)
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("enter netns %s: %v", h.ns, err)
	}
	defer func() {
		if err := netns.Set(orig); err != nil {
			t.Errorf("leave netns %s: %v", h.ns, err)
			return
		}
		runtime.UnlockOSThread()
	}()
	fn()
}

// run performs one agent action inside the host, with a 20 s timeout as
// the meta-data advises; it returns the rc and the action's output.
func (h *host) run(t testing.TB, a *Agent, action string, params map[string]string) (rc int, out string) {
	t.Helper()
	rc, out, _, _ = h.timed(t, a, action, params)
	return rc, out
}

// timed is run that also returns when Run was entered and how long it
// took, measured inside the namespace, around Run alone.
func (h *host) timed(t testing.TB, a *Agent, action string, params map[string]string) (rc int, out string, entered time.Time, took time.Duration) {
	t.Helper()
	var buf bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: h.logLevel}))
	act := &ocf.Action{Name: action, Instance: "vip1", Params: params, Timeout: 20 * time.Second,
		Out: &buf, Log: log.With("host", h.name, "op", action)}
	h.in(t, func() {
		entered = time.Now()
		rc = a.Run(ctx, act)
		took = time.Since(entered)
	})
	return rc, strings.TrimSpace(buf.String()), entered, took
}

// must runs an action and fails the test unless it returns want.
func (h *host) must(t testing.TB, a *Agent, action string, params map[string]string, want int) string {
	t.Helper()
	rc, out := h.run(t, a, action, params)
	if rc != want {
		t.Fatalf("%s: %s %v: rc %d (%s), want %d; output: %s", h.name, action, params, rc, ocf.RCName(rc), want, out)
	}
	return out
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Logf("%s", bytes.TrimRight(b, "\n"))
	return len(b), nil
}
