// Package e2e runs real paceline agent processes on test hosts made of
// network namespaces on a private bridge (shared/TESTING.md). Tests need
// root and skip without it. Hosts use 192.0.2.0/24 only; every namespace
// and process a test makes is removed in t.Cleanup, processes by PID.
package e2e

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

// Lab is a set of test hosts (network namespaces) on one bridge, which
// lives in a namespace of its own so the machine's interfaces are never
// touched.
type Lab struct {
	t      *testing.T
	prefix string
	sw     string
	hosts  []string
}

// RequireRoot skips the test when not root: namespaces need it.
func RequireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces (CI runs as root)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2's ip (make deps installs it)")
	}
}

// NewLab makes the switch namespace with a bridge.
func NewLab(t *testing.T) *Lab {
	t.Helper()
	RequireRoot(t)
	l := &Lab{t: t, prefix: fmt.Sprintf("pl%d-", os.Getpid()%100000)}
	l.sw = l.prefix + "sw"
	t.Cleanup(l.cleanup)
	l.ip("netns", "add", l.sw)
	l.ip("-n", l.sw, "link", "add", "br0", "type", "bridge")
	l.ip("-n", l.sw, "link", "set", "br0", "up")
	return l
}

// NS returns the namespace name of a host.
func (l *Lab) NS(host string) string { return l.prefix + host }

// AddHost makes a host namespace with eth0 at addr (CIDR) on the bridge.
func (l *Lab) AddHost(host, addr string) {
	l.t.Helper()
	ns := l.NS(host)
	veth := "v" + strconv.Itoa(len(l.hosts))
	l.ip("netns", "add", ns)
	l.hosts = append(l.hosts, host)
	l.ip("link", "add", veth, "netns", l.sw, "type", "veth", "peer", "name", "eth0", "netns", ns)
	l.ip("-n", l.sw, "link", "set", veth, "master", "br0", "up")
	l.ip("-n", ns, "link", "set", "lo", "up")
	l.ip("-n", ns, "addr", "add", addr, "dev", "eth0")
	l.ip("-n", ns, "link", "set", "eth0", "up")
}

// Cut takes a host's port on the switch down (its link is cut); Heal
// brings it back.
func (l *Lab) Cut(host string)  { l.ip("-n", l.sw, "link", "set", l.port(host), "down") }
func (l *Lab) Heal(host string) { l.ip("-n", l.sw, "link", "set", l.port(host), "up") }

func (l *Lab) port(host string) string {
	for i, h := range l.hosts {
		if h == host {
			return "v" + strconv.Itoa(i)
		}
	}
	l.t.Fatalf("no host %q", host)
	return ""
}

func (l *Lab) ip(args ...string) {
	l.t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("ip %v: %v: %s", args, err, out)
	}
}

func (l *Lab) cleanup() {
	for _, h := range l.hosts {
		_ = exec.Command("ip", "netns", "del", l.NS(h)).Run()
	}
	_ = exec.Command("ip", "netns", "del", l.sw).Run()
}

// Proc is a process started in a host namespace.
type Proc struct {
	cmd *exec.Cmd
	out *bytes.Buffer
}

// Start runs a command inside a host's namespace; it is killed (by PID)
// at test end.
func (l *Lab) Start(host string, name string, args ...string) *Proc {
	l.t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", l.NS(host), name}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		l.t.Fatalf("start %s in %s: %v", name, host, err)
	}
	p := &Proc{cmd: cmd, out: &out}
	l.t.Cleanup(func() { p.Stop(syscall.SIGKILL) })
	return p
}

// Stop signals the process (by PID) and waits for it, at most 5 s.
func (p *Proc) Stop(sig syscall.Signal) {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// Output returns what the process printed so far (read after Stop).
func (p *Proc) Output() string { return p.out.String() }

// InNetns runs open on a thread that has entered the named network
// namespace, then goes back; what open makes (a socket) stays in that
// namespace. If the thread cannot go back it stays locked, and the runtime
// ends it with its goroutine instead of reusing it in the wrong namespace.
func InNetns[T io.Closer](nsName string, open func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		var zero T
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{zero, err}
			return
		}
		defer orig.Close()
		target, err := netns.GetFromName(nsName)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{zero, err}
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			runtime.UnlockOSThread()
			ch <- result{zero, err}
			return
		}
		v, err := open()
		if serr := netns.Set(orig); serr != nil {
			if err == nil {
				_ = v.Close()
			}
			ch <- result{zero, fmt.Errorf("back to the original namespace: %w", serr)}
			return
		}
		runtime.UnlockOSThread()
		ch <- result{v, err}
	}()
	r := <-ch
	return r.v, r.err
}
