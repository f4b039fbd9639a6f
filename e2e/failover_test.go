package e2e

import (
	"context"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/paceline/paceline/clustertest"
)

const vipAddr = "192.0.2.50"

// holders watches which host namespaces hold an address on a link that
// is up, through one netlink handle per namespace.
type holders struct {
	c       *netCluster
	handles map[string]*netlink.Handle
	sw      *netlink.Handle // the switch namespace
	// reachable: count only hosts whose port on the switch is up (a fenced
	// node may keep the address, unreachable; a cut one counts).
	reachable bool
}

func newHolders(t *testing.T, c *netCluster) *holders {
	h := &holders{c: c, handles: map[string]*netlink.Handle{}}
	for _, name := range c.names {
		ns, err := netns.GetFromName(c.lab.NS(name))
		if err != nil {
			t.Fatal(err)
		}
		nh, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nh.Close(); ns.Close() })
		h.handles[name] = nh
	}
	ns, err := netns.GetFromName(c.lab.sw)
	if err != nil {
		t.Fatal(err)
	}
	if h.sw, err = netlink.NewHandleAt(ns, unix.NETLINK_ROUTE); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.sw.Close(); ns.Close() })
	return h
}

// now lists the hosts holding the address, their eth0 up.
func (h *holders) now() []string {
	var out []string
	for _, name := range h.c.names {
		if h.hasVIP(name) && (!h.reachable || h.portUp(name)) {
			out = append(out, name)
		}
	}
	return out
}

// hasVIP says whether the host's eth0 is up and carries the address.
func (h *holders) hasVIP(name string) bool {
	nh := h.handles[name]
	link, err := nh.LinkByName("eth0")
	if err != nil || link.Attrs().Flags&net.FlagUp == 0 {
		return false
	}
	addrs, err := nh.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return false
	}
	want := net.ParseIP(vipAddr)
	return slices.ContainsFunc(addrs, func(a netlink.Addr) bool { return a.IP.Equal(want) })
}

// neverTwo samples the holders every 5 ms until stop, and fails the test
// at any moment with two.
func (h *holders) neverTwo(t *testing.T) (stop func() int) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	samples := 0
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
			samples++
			if on := h.now(); len(on) > 1 {
				t.Errorf("%s held by %v at once", vipAddr, on)
			}
		}
	})
	return func() int { close(done); wg.Wait(); return samples }
}

func (h *holders) waitOne(t *testing.T, bound time.Duration, not string) string {
	t.Helper()
	var got string
	clustertest.WaitFor(t, bound, func() (bool, string) {
		on := h.now()
		if len(on) == 1 && on[0] != not {
			got = on[0]
			return true, ""
		}
		return false, "holders " + join(on)
	})
	return got
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	if out == "" {
		return "none"
	}
	return out
}

// The controller end to end in network namespaces: a VIP + dummy group
// runs on one node; when that node crashes (its agent SIGKILLed, its link
// down) the group comes back on another; when a node holding it is cut
// off (agent alive), it stops the VIP itself before the majority starts
// it: never two holders.
func TestNetnsVIPFailover(t *testing.T) {
	c := newNetClusterWith(t, 3, "resources:\n  manage: true\n")
	all := "quorate: 3 of 3 votes"
	c.waitQuorum(t, 20*time.Second, map[string]string{"n1": all, "n2": all, "n3": all})
	state := t.TempDir()
	c.cli(t, "resource", "create", "vip", "ocf:paceline:vip", "ip="+vipAddr, "cidr_netmask=24", "op", "monitor", "interval=1s", "--group", "g")
	c.cli(t, "resource", "create", "app", "ocf:paceline:dummy", "state_dir="+state, "op", "monitor", "interval=1s", "--group", "g")
	h := newHolders(t, c)
	first := h.waitOne(t, 20*time.Second, "")
	t.Logf("the VIP runs on %s", first)

	// An isolated node stops its VIP before the majority starts it.
	stop := h.neverTwo(t)
	t0 := time.Now()
	c.split.Store(true)
	c.lab.Cut(first)
	second := h.waitOne(t, 15*time.Second, first)
	t.Logf("%s cut off: the VIP runs on %s after %v", first, second, time.Since(t0))
	c.lab.Heal(first)
	c.split.Store(false)
	time.Sleep(2 * time.Second) // rejoined: the VIP stays or moves once, never doubled
	n := stop()
	t.Logf("never two holders over %d samples", n)

	// resource restart: the group stops everywhere, then runs again.
	before := h.waitOne(t, 15*time.Second, "")
	c.cli(t, "resource", "restart", "g", "--timeout", "20s")
	after := h.waitOne(t, 15*time.Second, "")
	t.Logf("restarted: the VIP was on %s, is on %s", before, after)

	// A clean stop of the holder's agent (SIGTERM): it stops its
	// resources on the way out, the others take over; never two.
	stop = h.neverTwo(t)
	t0 = time.Now()
	c.procs[after].Stop(syscall.SIGTERM)
	moved := h.waitOne(t, 15*time.Second, after)
	t.Logf("%s stopped cleanly: the VIP runs on %s after %v, never two over %d samples", after, moved, time.Since(t0), stop())
	c.procs[after] = c.lab.Start(after, bin, "agent", "--config", filepath.Join(c.dir, after, "paceline.yaml"))
	c.waitQuorum(t, 20*time.Second, map[string]string{"n1": all, "n2": all, "n3": all})

	// A crash: every process of the holder's node is killed and its link
	// taken down (a dead machine takes its addresses with it).
	holder := h.waitOne(t, 15*time.Second, "")
	t0 = time.Now()
	c.procs[holder].Stop(syscall.SIGKILL)
	c.lab.ip("-n", c.lab.NS(holder), "link", "set", "eth0", "down")
	next := h.waitOne(t, 15*time.Second, holder)
	t.Logf("%s crashed: the VIP runs on %s after %v", holder, next, time.Since(t0))
}

// leader is the raft leader as n-anything reports it.
func (c *netCluster) leader() string {
	for _, n := range c.names {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		ci, err := c.clients[n].Cluster(ctx)
		cancel()
		if err == nil && ci.Leader != "" {
			return ci.Leader
		}
	}
	return ""
}
