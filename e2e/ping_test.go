package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paceline/paceline/clustertest"
)

// pingTarget is the host the ping agent probes, on the lab's bridge.
const pingTarget = "192.0.2.254"

// isolatePorts sets or clears the bridge's isolated flag on the hosts'
// ports: isolated ports cannot reach one another, but still reach every
// port that is not isolated.
func (l *Lab) isolatePorts(on bool, hosts ...string) {
	v := "off"
	if on {
		v = "on"
	}
	for _, h := range hosts {
		l.ip("-n", l.sw, "link", "set", "dev", l.port(h), "type", "bridge_slave", "isolated", v)
	}
}

// pingdSeen is node's pingd attribute as observer's agent sees it
// ("" when it has none).
func (c *netCluster) pingdSeen(observer, node string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	m, err := c.clients[observer].Members(ctx)
	if err != nil {
		return "", err
	}
	return m.Attrs[node]["pingd"], nil
}

// waitPingd waits until every node's agent sees each named node's pingd
// as wanted ("": not set).
func (c *netCluster) waitPingd(t *testing.T, bound time.Duration, want map[string]string) {
	t.Helper()
	clustertest.WaitFor(t, bound, func() (bool, string) {
		ok, seen := true, []string{}
		for _, obs := range c.names {
			for _, node := range c.names {
				w, asked := want[node]
				if !asked {
					continue
				}
				got, err := c.pingdSeen(obs, node)
				if err != nil || got != w {
					ok = false
					seen = append(seen, fmt.Sprintf("%s sees %s's pingd=%q (err %v), want %q", obs, node, got, err, w))
				}
			}
		}
		return ok, strings.Join(seen, "; ")
	})
}

// dummyOn lists the nodes whose ocf:paceline:dummy instance rsc runs,
// by its state files in dir (one per node and instance).
func (c *netCluster) dummyOn(dir, rsc string) []string {
	var on []string
	for _, n := range c.names {
		if _, err := os.Stat(filepath.Join(dir, "paceline-dummy-"+n+"-"+rsc+".state")); err == nil {
			on = append(on, n)
		}
	}
	return on
}

// waitDummyOn waits until rsc runs on node only ("": nowhere).
func (c *netCluster) waitDummyOn(t *testing.T, bound time.Duration, dir, rsc, node string) {
	t.Helper()
	clustertest.WaitFor(t, bound, func() (bool, string) {
		on := c.dummyOn(dir, rsc)
		if (node == "" && len(on) == 0) || (len(on) == 1 && on[0] == node) {
			return true, ""
		}
		return false, rsc + " runs on " + join(on)
	})
}

// monitored reports whether rsc runs on node with its recurring monitor
// of that interval, as the node's LRM says.
func (c *netCluster) monitored(node, rsc string, interval time.Duration) (bool, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	h, err := c.clients[node].History(ctx, rsc, "")
	if err != nil {
		return false, fmt.Sprintf("%s: history of %s: %v", node, rsc, err)
	}
	for _, r := range h.Resources {
		for _, m := range r.Recurring {
			if r.Rsc == rsc && m.Interval == interval {
				return true, ""
			}
		}
	}
	return false, fmt.Sprintf("%s: %s runs without its %v recurring monitor (a transition aborted between the start and "+
		"its monitor, e.g. by the attribute the start set, leaves it so: the scheduler never plans the missing monitor "+
		"of a running resource)", node, rsc, interval)
}

// cliOut runs the CLI against n1's agent and returns its output.
func (c *netCluster) cliOut(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, append([]string{"-s", c.clients["n1"].Socket()}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("paceline %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// The ping agent end to end: a cloned ocf:paceline:ping on three nodes
// sets pingd=1 on each; a resource that needs pingd ≥ 1 runs on the node
// it prefers. When only that node's path to the ping target is cut (it
// stays in the cluster), its pingd drops to 0 and the resource moves
// away; healed, pingd comes back and the resource returns.
func TestNetnsPingAgent(t *testing.T) {
	c := newNetClusterWith(t, 3, "resources:\n  manage: true\n")
	c.lab.AddHost("target", pingTarget+"/24")
	all := "quorate: 3 of 3 votes"
	c.waitQuorum(t, 20*time.Second, map[string]string{"n1": all, "n2": all, "n3": all})
	state := t.TempDir()
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, n := range c.names {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			h, err := c.clients[n].History(ctx, "", "")
			cancel()
			b, _ := json.MarshalIndent(h, "    ", "  ")
			t.Logf("%s's history (err %v):\n    %s", n, err, b)
		}
	})
	c.cli(t, "resource", "create", "ping", "ocf:paceline:ping", "host_list="+pingTarget, "dampen=0",
		"attempts=2", "timeout=1s", "state_dir="+state, "op", "monitor", "interval=1s", "--clone")
	c.cli(t, "resource", "create", "app", "ocf:paceline:dummy", "state_dir="+state, "op", "monitor", "interval=1s")
	c.cli(t, "constraint", "location", "add", "app-needs-ping", "app", "rule", "score=-INFINITY",
		"not_defined", "pingd", "or", "pingd", "lt", "1")
	c.cli(t, "constraint", "location", "app", "prefers", "n3=100")

	c.waitPingd(t, 30*time.Second, map[string]string{"n1": "1", "n2": "1", "n3": "1"})
	c.waitDummyOn(t, 20*time.Second, state, "app", "n3")
	// The attribute follows the recurring monitor: every instance needs
	// its own.
	clustertest.WaitFor(t, 10*time.Second, func() (bool, string) {
		for _, n := range c.names {
			if ok, why := c.monitored(n, "ping", time.Second); !ok {
				return false, why
			}
		}
		return true, ""
	})
	t.Logf("pingd=1 everywhere, app runs on n3")

	// Cut n3 from the ping target only: both ports isolated.
	t0 := time.Now()
	c.lab.isolatePorts(true, "target", "n3")
	c.waitPingd(t, 30*time.Second, map[string]string{"n1": "1", "n2": "1", "n3": "0"})
	t.Logf("n3 cut from %s: its pingd is 0 after %v", pingTarget, time.Since(t0))
	var moved string
	clustertest.WaitFor(t, 20*time.Second, func() (bool, string) {
		on := c.dummyOn(state, "app")
		if len(on) == 1 && on[0] != "n3" {
			moved = on[0]
			return true, ""
		}
		return false, "app runs on " + join(on)
	})
	t.Logf("app moved to %s after %v", moved, time.Since(t0))
	// n3 stayed in the cluster all along.
	c.waitQuorum(t, 5*time.Second, map[string]string{"n1": all, "n2": all, "n3": all})
	t.Logf("paceline status --attrs:\n%s", c.cliOut(t, "status", "--attrs"))

	// Heal: pingd back on n3, and app back on the node it prefers.
	t0 = time.Now()
	c.lab.isolatePorts(false, "target", "n3")
	c.waitPingd(t, 30*time.Second, map[string]string{"n1": "1", "n2": "1", "n3": "1"})
	c.waitDummyOn(t, 20*time.Second, state, "app", "n3")
	t.Logf("healed: pingd=1 on n3 and app back there after %v", time.Since(t0))

	// Stopping the clone deletes the attribute everywhere.
	c.cli(t, "resource", "disable", "ping-clone")
	c.waitPingd(t, 20*time.Second, map[string]string{"n1": "", "n2": "", "n3": ""})
	c.waitDummyOn(t, 20*time.Second, state, "app", "")
}
