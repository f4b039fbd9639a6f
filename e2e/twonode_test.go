package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paceline/paceline/clustertest"
)

func (c *netCluster) quorate(name string) (bool, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	m, err := c.clients[name].Members(ctx)
	if err != nil || m.Quorum == nil {
		return false, "no answer"
	}
	return m.Quorum.Quorate, m.Quorum.Reason
}

func (c *netCluster) cli(t *testing.T, args ...string) {
	t.Helper()
	full := append([]string{"-s", c.clients["n1"].Socket()}, args...)
	if out, err := exec.Command(bin, full...).CombinedOutput(); err != nil {
		t.Fatalf("paceline %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// waitQuorate waits until each named node's Quorate is as wanted.
func (c *netCluster) waitQuorate(t *testing.T, timeout time.Duration, want map[string]bool) {
	t.Helper()
	clustertest.WaitFor(t, timeout, func() (bool, string) {
		for name, w := range want {
			if q, why := c.quorate(name); q != w {
				return false, name + ": " + why
			}
		}
		return true, ""
	})
}

// neverBoth samples both nodes many times a second until stop, and
// reports any moment in a split at which both had won the tiebreak. (In
// the first ~200 ms after a cut, before membership notices, each side
// still counts both nodes present: that window is the lease's to cover,
// in the controller, not the tiebreak's.)
func (c *netCluster) neverBoth(t *testing.T) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			q1, r1 := c.quorate("n1")
			q2, r2 := c.quorate("n2")
			lost := !strings.Contains(r1, "both nodes present") && !strings.Contains(r2, "both nodes present")
			if q1 && q2 && lost && c.split.Load() {
				t.Errorf("both sides quorate during a split: n1 %q, n2 %q", r1, r2)
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

func TestNetnsTwoNodePingTiebreak(t *testing.T) {
	c := newNetCluster(t, 2)
	c.lab.AddHost("ping", "192.0.2.254/24") // the ping target: a host that answers ICMP echo
	c.waitQuorate(t, 20*time.Second, map[string]bool{"n1": true, "n2": true})
	c.cli(t, "property", "set", "two-node=true", "wait-for-all=true", "ping-targets=192.0.2.254", "tiebreak-delay=500ms")
	c.waitQuorate(t, 5*time.Second, map[string]bool{"n1": true, "n2": true})
	stop := c.neverBoth(t)
	defer stop()

	// n2 is cut from both n1 and the ping target: n1 (preferred, reaches
	// the target) keeps quorum after the tiebreak delay; n2 loses it.
	c.split.Store(true)
	c.lab.Cut("n2")
	start := time.Now()
	c.waitReason(t, 10*time.Second, "n1", "won tiebreak")
	c.waitQuorate(t, time.Second, map[string]bool{"n1": true, "n2": false})
	_, r1 := c.quorate("n1")
	_, r2 := c.quorate("n2")
	t.Logf("n2 cut: after %v n1 %q, n2 %q", time.Since(start), r1, r2)
	c.split.Store(false)
	c.lab.Heal("n2")
	c.waitQuorate(t, 20*time.Second, map[string]bool{"n1": true, "n2": true})

	// n1 is cut instead: n1 no longer reaches the target, and n2 may not
	// win alone (it never does without fencing, which comes with the
	// fencing issue): no side keeps quorum, and never both.
	c.split.Store(true)
	c.lab.Cut("n1")
	c.waitReason(t, 10*time.Second, "n2", "lost tiebreak")
	c.waitQuorate(t, 10*time.Second, map[string]bool{"n1": false, "n2": false})
	_, r1 = c.quorate("n1")
	_, r2 = c.quorate("n2")
	t.Logf("n1 cut: n1 %q, n2 %q", r1, r2)
	time.Sleep(time.Second) // well past the tiebreak delay: still nobody
	c.waitQuorate(t, time.Second, map[string]bool{"n1": false, "n2": false})
	c.split.Store(false)
	c.lab.Heal("n1")
	c.waitQuorate(t, 20*time.Second, map[string]bool{"n1": true, "n2": true})
}

// waitReason waits until a node's quorum reason contains want.
func (c *netCluster) waitReason(t *testing.T, timeout time.Duration, name, want string) {
	t.Helper()
	clustertest.WaitFor(t, timeout, func() (bool, string) {
		_, why := c.quorate(name)
		return strings.Contains(why, want), fmt.Sprintf("%s: quorum reason %q, want it to say %q", name, why, want)
	})
}

// A degraded two-node cluster keeps managing resources: when n2, holding
// the VIP, is cut off, n1 wins the tiebreak (it reaches the ping target),
// becomes DC without a raft leader, and starts the VIP once n2's lease
// has run out; n2 stops it by itself first. Never two holders.
func TestNetnsTwoNodeVIPFailover(t *testing.T) {
	c := newNetClusterWith(t, 2, "resources:\n  manage: true\n")
	c.lab.AddHost("ping", "192.0.2.254/24")
	c.waitQuorate(t, 20*time.Second, map[string]bool{"n1": true, "n2": true})
	c.cli(t, "property", "set", "two-node=true", "wait-for-all=true", "ping-targets=192.0.2.254", "tiebreak-delay=500ms")
	c.cli(t, "resource", "create", "vip", "ocf:paceline:vip", "ip="+vipAddr, "cidr_netmask=24", "op", "monitor", "interval=1s")
	c.cli(t, "constraint", "location", "vip", "prefers", "n2=50")
	h := newHolders(t, c)
	clustertest.WaitFor(t, 20*time.Second, func() (bool, string) {
		on := h.now()
		return len(on) == 1 && on[0] == "n2", "holders " + join(on)
	})
	stop := h.neverTwo(t)
	t0 := time.Now()
	c.lab.Cut("n2")
	clustertest.WaitFor(t, 15*time.Second, func() (bool, string) {
		on := h.now()
		return len(on) == 1 && on[0] == "n1", "holders " + join(on)
	})
	t.Logf("n2 cut off: the VIP runs on n1 after %v (tiebreak delay 500ms)", time.Since(t0))
	c.lab.Heal("n2")
	c.waitQuorate(t, 20*time.Second, map[string]bool{"n1": true, "n2": true})
	h.waitOne(t, 15*time.Second, "")
	t.Logf("healed: never two holders over %d samples", stop())
}
