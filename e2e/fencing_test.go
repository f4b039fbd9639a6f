package e2e

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paceline/paceline/clustertest"
	"github.com/paceline/paceline/fencing"
)

// fencedPair is a two-node cluster with fencing (fence_paceline_netns on
// the lab's bridge), a ping target, and the VIP.
type fencedPair struct {
	*netCluster
	h *holders
}

func newFencedPair(t *testing.T, tiebreak string) *fencedPair {
	c := newNetClusterWith(t, 2, "resources:\n  manage: true\n")
	c.lab.AddHost("ping", "192.0.2.254/24")
	c.waitQuorate(t, 20*time.Second, map[string]bool{"n1": true, "n2": true})
	c.cli(t, "property", "set", "two-node=true", "wait-for-all=true", "ping-targets=192.0.2.254", "tiebreak-delay="+tiebreak)
	c.cli(t, "stonith", "create", "switch", "fence_paceline_netns", "switch_ns="+c.lab.sw,
		fmt.Sprintf("pcmk_host_map=n1:%s;n2:%s", c.lab.port("n1"), c.lab.port("n2")),
		fmt.Sprintf("node_netns=n1:%s;n2:%s", c.lab.NS("n1"), c.lab.NS("n2")))
	c.cli(t, "property", "set", "stonith-enabled=true")
	c.cli(t, "resource", "create", "vip", "ocf:paceline:vip", "ip="+vipAddr, "cidr_netmask=24", "op", "monitor", "interval=1s")
	h := newHolders(t, c)
	h.reachable = true
	return &fencedPair{netCluster: c, h: h}
}

// placeVIP makes node the VIP's preferred place and waits for it there.
func (p *fencedPair) placeVIP(t *testing.T, node string) {
	t.Helper()
	p.cli(t, "resource", "move", "vip", node)
	clustertest.WaitFor(t, 20*time.Second, func() (bool, string) {
		on := p.h.now()
		return len(on) == 1 && on[0] == node, "holders " + join(on)
	})
	p.cli(t, "resource", "clear", "vip")
}

// revive brings a fenced node back as a machine would after a reboot:
// its addresses are gone, its port is up, its agent starts again.
func (p *fencedPair) revive(t *testing.T, node string) {
	t.Helper()
	p.procs[node].Stop(syscall.SIGKILL) // the fence killed it: this reaps it
	ns := p.lab.NS(node)
	out, _ := runIP("-n", ns, "-o", "addr", "show", "dev", "eth0")
	if strings.Contains(out, " "+vipAddr+"/") {
		p.lab.ip("-n", ns, "addr", "del", vipAddr+"/24", "dev", "eth0")
	}
	p.lab.Heal(node)
	p.procs[node] = p.lab.Start(node, bin, "agent", "--config", filepath.Join(p.dir, node, "paceline.yaml"))
	p.waitQuorate(t, 30*time.Second, map[string]bool{"n1": true, "n2": true})
}

// fenceHistory is every reachable node's fencing history, asked of from.
func fenceHistory(t *testing.T, c *netCluster, from string) []fencing.Op {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ops, err := c.clients[from].FenceHistory(ctx)
	if err != nil {
		t.Fatalf("fence history from %s: %v", from, err)
	}
	return ops
}

func other(node string) string {
	if node == "n1" {
		return "n2"
	}
	return "n1"
}

// (a) A hung node: its agent is SIGKILLed while its namespace and its
// VIP address live on. The survivor fences it (the test device takes it
// off the network and kills what is left of it), and only then takes the
// VIP: no moment with two reachable holders. Run with the VIP on each
// node in turn (the preferred node n1 wins by the tiebreak; n2 wins by
// fencing n1).
func TestNetnsTwoNodeFenceHungNode(t *testing.T) {
	p := newFencedPair(t, "500ms")
	for _, victim := range []string{"n2", "n1"} {
		p.placeVIP(t, victim)
		stop := p.h.neverTwo(t)
		t0 := time.Now()
		p.procs[victim].Stop(syscall.SIGKILL) // the agent only: the VIP stays on eth0
		if on := p.h.now(); !slices.Contains(on, victim) {
			t.Fatalf("%s's VIP went with its agent: holders %v", victim, on)
		}
		survivor := p.h.waitOne(t, 20*time.Second, victim)
		took := time.Since(t0)
		ops := fenceHistory(t, p.netCluster, survivor)
		if len(ops) == 0 || ops[len(ops)-1].Target != victim || ops[len(ops)-1].State != fencing.Done {
			t.Fatalf("%s took the VIP, but the history shows no successful fence of %s: %+v", survivor, victim, ops)
		}
		last := ops[len(ops)-1]
		t.Logf("%s hung (agent killed, VIP left on it): fenced by %s in %v (delay %v), the VIP on %s after %v; never two over %d samples",
			victim, last.Executor, last.Completed.Sub(last.Started).Round(time.Millisecond), last.Delay, survivor, took, stop())
		p.revive(t, victim)
	}
}

// (b) Only the link between the two nodes is cut (both still reach the
// ping target and the clients): exactly one fences the other, and the
// VIP is never held by both.
func TestNetnsTwoNodeFenceSplit(t *testing.T) {
	p := newFencedPair(t, "500ms")
	for _, holder := range []string{"n1", "n2"} {
		p.placeVIP(t, holder)
		splitAt := time.Now()
		stop := p.h.neverTwo(t)
		p.split.Store(true)
		p.lab.isolate(true)
		// The loser is fenced: its port goes down.
		var loser string
		clustertest.WaitFor(t, 20*time.Second, func() (bool, string) {
			for _, n := range []string{"n1", "n2"} {
				if !p.h.portUp(n) {
					loser = n
					return true, ""
				}
			}
			return false, "nobody fenced yet"
		})
		winner := other(loser)
		final := p.h.waitOne(t, 20*time.Second, loser)
		time.Sleep(time.Second) // the loser, dead, fences nobody later
		if !p.h.portUp(winner) {
			t.Fatalf("both nodes were fenced (the VIP was on %s)", holder)
		}
		ops := fenceHistory(t, p.netCluster, winner)
		var mine []fencing.Op
		for _, op := range ops {
			if op.State == fencing.Done && op.Started.After(splitAt) {
				mine = append(mine, op)
			}
		}
		if len(mine) != 1 || mine[0].Target != loser {
			t.Fatalf("want exactly one fence, of %s: %+v", loser, mine)
		}
		t.Logf("link n1-n2 cut with the VIP on %s: %s fenced %s (delay %v); the VIP on %s; never two over %d samples",
			holder, winner, loser, mine[0].Delay, final, stop())
		p.lab.isolate(false)
		p.split.Store(false)
		p.revive(t, loser)
	}
}

// (c) n2 is cut from both n1 and the ping target: n1 wins and fences n2.
func TestNetnsTwoNodeFenceIsolated(t *testing.T) {
	p := newFencedPair(t, "500ms")
	p.placeVIP(t, "n2")
	stop := p.h.neverTwo(t)
	t0 := time.Now()
	p.lab.Cut("n2")
	got := p.h.waitOne(t, 20*time.Second, "n2")
	ops := fenceHistory(t, p.netCluster, "n1")
	if got != "n1" || len(ops) == 0 || ops[len(ops)-1].Target != "n2" || ops[len(ops)-1].State != fencing.Done {
		t.Fatalf("the VIP on %s, fence history %+v: want n1 to have fenced n2", got, ops)
	}
	t.Logf("n2 isolated: n1 fenced it and holds the VIP after %v; never two over %d samples", time.Since(t0), stop())
}

// (d) Cold start of one node: not quorate until the peer has been seen
// (wait_for_all), unless the operator overrides (`quorum unblock`).
func TestNetnsTwoNodeColdStartWaitForAll(t *testing.T) {
	c := newNetClusterWith(t, 2, "resources:\n  manage: true\n")
	c.lab.AddHost("ping", "192.0.2.254/24")
	c.waitQuorate(t, 20*time.Second, map[string]bool{"n1": true, "n2": true})
	c.cli(t, "property", "set", "two-node=true", "wait-for-all=true", "ping-targets=192.0.2.254", "tiebreak-delay=500ms")
	for _, n := range c.names {
		c.procs[n].Stop(syscall.SIGTERM)
	}
	c.procs["n1"] = c.lab.Start("n1", bin, "agent", "--config", filepath.Join(c.dir, "n1", "paceline.yaml"))
	clustertest.WaitFor(t, 20*time.Second, func() (bool, string) {
		_, why := c.quorate("n1")
		return strings.Contains(why, "wait_for_all"), "n1: " + why
	})
	time.Sleep(2 * time.Second) // well past the tiebreak delay: still waiting
	if q, why := c.quorate("n1"); q {
		t.Fatalf("n1 alone became quorate with wait_for_all: %s", why)
	}
	_, why := c.quorate("n1")
	t.Logf("n1 alone: %s", why)
	c.cli(t, "quorum", "unblock")
	c.waitQuorate(t, 10*time.Second, map[string]bool{"n1": true})
	_, why = c.quorate("n1")
	t.Logf("after quorum unblock: %s", why)
	c.procs["n2"] = c.lab.Start("n2", bin, "agent", "--config", filepath.Join(c.dir, "n2", "paceline.yaml"))
	c.waitQuorate(t, 20*time.Second, map[string]bool{"n1": true, "n2": true})
}

// isolate sets every host port of the bridge isolated (or not): isolated
// ports cannot reach each other but still reach the others (ping target,
// clients): the nodes' link to each other is cut, nothing else.
func (l *Lab) isolate(on bool) {
	v := "off"
	if on {
		v = "on"
	}
	for _, n := range []string{"n1", "n2"} {
		l.ip("-n", l.sw, "link", "set", "dev", l.port(n), "type", "bridge_slave", "isolated", v)
	}
}

// portUp reports whether node's port on the bridge is up (it is not
// fenced or cut).
func (h *holders) portUp(node string) bool {
	link, err := h.sw.LinkByName(h.c.lab.port(node))
	return err == nil && link.Attrs().Flags&net.FlagUp != 0
}

func runIP(args ...string) (string, error) {
	out, err := exec.Command("ip", args...).CombinedOutput()
	return string(out), err
}

// Two-node failover figures with fencing (skipped unless
// PACELINE_FENCE_RUNS is set): RUNS crashes (agent SIGKILLed, eth0 down)
// of the VIP's holder, alternating nodes; the survivor must fence it
// before it takes the VIP. Per run: crash -> the client answered again,
// and the fence action's own duration. Logged, never asserted.
func TestNetnsTwoNodeFenceFigures(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("PACELINE_FENCE_RUNS"))
	if runs <= 0 {
		t.Skip("figures only: set PACELINE_FENCE_RUNS")
	}
	delay := cmp.Or(os.Getenv("PACELINE_FENCE_TIEBREAK"), "500ms")
	p := newFencedPair(t, delay)
	p.lab.AddHost("client", "192.0.2.100/24")
	pr := startProber(t, p.lab, "client", vipAddr)
	var answer, fence []time.Duration
	for i := range runs {
		victim := []string{"n1", "n2"}[i%2]
		p.placeVIP(t, victim)
		crashPhase()
		stop := p.h.neverTwo(t)
		began, done := crash(p.lab, victim, func() { p.procs[victim].Stop(syscall.SIGKILL) })
		_, _, ans := measureCrash(t, p.h, pr, victim, began, done, 20*time.Second)
		stop()
		ops := fenceHistory(t, p.netCluster, other(victim))
		j := slices.IndexFunc(ops, func(op fencing.Op) bool {
			return op.Target == victim && op.State == fencing.Done && op.Started.After(began)
		})
		if j < 0 {
			t.Fatalf("run %d: %s took over without fencing %s: %+v", i, other(victim), victim, ops)
		}
		f := ops[j].Completed.Sub(ops[j].Started)
		answer, fence = append(answer, ans), append(fence, f)
		t.Logf("%s crashed: fenced by %s in %v (delay %v); the client answered after %v", victim, other(victim), f.Round(time.Microsecond), ops[j].Delay, ans.Round(time.Millisecond))
		reboot(p.lab, victim)
		p.revive(t, victim)
	}
	t.Logf("two-node, tiebreak-delay %s: crash -> VIP answering %s; the fence action %s", delay, stats(answer), stats(fence))
}
