package clustertest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
)

// runsOn lists the nodes whose dummy state file for rsc exists (the
// dummy agent keeps one per node in state_dir).
func runsOn(dir, rsc string, nodes []*Node) []string {
	var on []string
	for _, n := range nodes {
		if _, err := os.Stat(filepath.Join(dir, "paceline-dummy-"+n.Name+"-"+rsc+".state")); err == nil {
			on = append(on, n.Name)
		}
	}
	return on
}

// waitRunsOn waits until rsc runs on exactly the node want.
func waitRunsOn(t *testing.T, c *Cluster, dir, rsc, want string, bound time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	WaitFor(t, bound, func() (bool, string) {
		on := runsOn(dir, rsc, c.Nodes)
		return len(on) == 1 && on[0] == want, rsc + " runs on " + formatList(on) + ", want only " + want
	})
	return time.Since(start)
}

func formatList(s []string) string {
	if len(s) == 0 {
		return "no node"
	}
	out := s[0]
	for _, x := range s[1:] {
		out += "," + x
	}
	return out
}

func indexOf(c *Cluster, name string) int {
	for i, n := range c.Nodes {
		if n.Name == name {
			return i
		}
	}
	return -1
}

// dummy is an ocf:paceline:dummy primitive keeping its state files in
// dir (one per node), monitored every interval.
func dummy(id, dir string, interval time.Duration, meta map[string]string) cib.Primitive {
	return cib.Primitive{ID: id, Agent: "ocf:paceline:dummy", Params: map[string]string{"state_dir": dir}, Meta: meta,
		Ops: []cib.Op{{Name: "monitor", Interval: cib.Duration(interval)}}}
}

// mustApply applies a command through a node, failing the test on error.
func mustApply(t *testing.T, n *Node, cmd cib.Command) {
	t.Helper()
	if _, err := n.Client.Apply(Ctx(t), cmd, false); err != nil {
		t.Fatalf("%T: %v", cmd, err)
	}
}

// The controller end to end, in-process with dummy agents: a resource
// starts on its best node; killing that node moves it; with stickiness 0
// it fails back when the node returns, with stickiness it stays.
func TestControllerFailoverAndFailback(t *testing.T) {
	c := New(t, 3, Options{Manage: true})
	ctx := Ctx(t)
	dir := t.TempDir()
	cl := c.Nodes[0].Client
	mustApply(t, c.Nodes[0], &cib.CreatePrimitive{Primitive: dummy("d", dir, 200*time.Millisecond, nil)})
	mustApply(t, c.Nodes[0], &cib.AddConstraint{Location: &cib.Location{ID: "d-prefers-n2", Rsc: "d", Node: "n2", Score: 100}})
	took := waitRunsOn(t, c, dir, "d", "n2", 15*time.Second)
	t.Logf("create -> running on n2: %v", took)

	n2 := indexOf(c, "n2")
	t0 := time.Now()
	c.Kill(n2)
	// The machine is gone, and its resources with it.
	os.Remove(filepath.Join(dir, "paceline-dummy-n2-d.state"))
	other := runsOnOther(t, c, dir)
	t.Logf("n2 killed -> d running on %s: %v (failure detection, the lease, and a DC election when n2 was the DC)", other, time.Since(t0))

	c.Start(n2)
	took = waitRunsOn(t, c, dir, "d", "n2", 15*time.Second)
	t.Logf("n2 back -> d failed back (stickiness 0): %v", took)

	if _, err := cl.Apply(ctx, &cib.SetResourceDefaults{Patch: cib.Patch{Set: map[string]string{"resource-stickiness": "200"}}}, false); err != nil {
		t.Fatal(err)
	}
	c.Kill(n2)
	os.Remove(filepath.Join(dir, "paceline-dummy-n2-d.state"))
	other = runsOnOther(t, c, dir)
	c.Start(n2)
	c.WaitRegistered(10 * time.Second)
	time.Sleep(2 * time.Second) // n2 is back; nothing should move
	if on := runsOn(dir, "d", c.Nodes); len(on) != 1 || on[0] != other {
		t.Fatalf("with stickiness 200 > preference 100, d moved back: runs on %v, want %s", on, other)
	}
}

// runsOnOther waits until d runs on exactly one node and returns it.
func runsOnOther(t *testing.T, c *Cluster, dir string) string {
	t.Helper()
	var on []string
	WaitFor(t, 15*time.Second, func() (bool, string) {
		on = runsOn(dir, "d", c.Nodes)
		return len(on) == 1 && on[0] != "n2", "d runs on " + formatList(on)
	})
	return on[0]
}

// A monitor that finds the resource dead makes the DC recover it in
// place; after migration-threshold failures it moves.
func TestControllerMonitorFailureAndMigrationThreshold(t *testing.T) {
	c := New(t, 3, Options{Manage: true})
	ctx := Ctx(t)
	dir := t.TempDir()
	cl := c.Nodes[0].Client
	mustApply(t, c.Nodes[0], &cib.CreatePrimitive{Primitive: dummy("d", dir, 100*time.Millisecond,
		map[string]string{"migration-threshold": "2", "failure-timeout": "2s"})})
	mustApply(t, c.Nodes[0], &cib.AddConstraint{Location: &cib.Location{ID: "d-prefers-n1", Rsc: "d", Node: "n1", Score: 100}})
	waitRunsOn(t, c, dir, "d", "n1", 15*time.Second)
	state := filepath.Join(dir, "paceline-dummy-n1-d.state")

	// First failure: recovered on n1 (fail count 1 < 2).
	t0 := time.Now()
	os.Remove(state)
	WaitFor(t, 30*time.Second, func() (bool, string) {
		_, err := os.Stat(state)
		return err == nil, "d restarted on n1"
	})
	t.Logf("monitor failure -> restarted in place: %v", time.Since(t0))
	h, err := cl.History(ctx, "d", "n1")
	if err != nil || len(h.Resources) != 1 || h.Resources[0].FailCounts["monitor_100"] != 1 {
		t.Fatalf("n1's history after one failure: %+v, %v", h, err)
	}
	// Second failure: the fail count reaches migration-threshold: it
	// moves away from n1 despite the preference.
	os.Remove(state)
	other := ""
	WaitFor(t, 30*time.Second, func() (bool, string) {
		on := runsOn(dir, "d", c.Nodes)
		if len(on) == 1 && on[0] != "n1" {
			other = on[0]
			return true, ""
		}
		return false, "d runs on " + formatList(on)
	})
	t.Logf("second failure: d moved to %s", other)
	// failure-timeout: 2 s after the last failure the fail count no
	// longer counts, and d returns to its preferred node.
	t0 = time.Now()
	waitRunsOn(t, c, dir, "d", "n1", 15*time.Second)
	t.Logf("failure-timeout 2s: d back on n1 after %v", time.Since(t0))
}

// Killing the DC elects a new one (the raft leader) that restarts
// nothing: every resource keeps running where it is.
func TestControllerDCChangeRestartsNothing(t *testing.T) {
	c := New(t, 3, Options{Manage: true})
	ctx := Ctx(t)
	dir := t.TempDir()
	for _, id := range []string{"a", "b", "e"} {
		mustApply(t, c.Nodes[0], &cib.CreatePrimitive{Primitive: dummy(id, dir, time.Second, nil)})
	}
	where := map[string]string{}
	WaitFor(t, 15*time.Second, func() (bool, string) {
		for _, id := range []string{"a", "b", "e"} {
			on := runsOn(dir, id, c.Nodes)
			if len(on) != 1 {
				return false, id + " runs on " + formatList(on)
			}
			where[id] = on[0]
		}
		return true, ""
	})
	dc := c.WaitLeader(10 * time.Second)
	starts := func() map[[3]string]int { // node, resource, action
		out := map[[3]string]int{}
		for _, i := range c.Running() {
			h, err := c.Nodes[i].Client.History(ctx, "", "")
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range h.Resources {
				for _, o := range r.Recent {
					if o.Action == "start" || o.Action == "stop" {
						out[[3]string{c.Nodes[i].Name, r.Rsc, o.Action}]++
					}
				}
			}
		}
		return out
	}
	// Resources on the DC's node go down with it; the others must not
	// be touched by the new DC.
	before := starts()
	c.Kill(dc)
	for id, n := range where {
		if n == c.Nodes[dc].Name {
			os.Remove(filepath.Join(dir, "paceline-dummy-"+n+"-"+id+".state"))
		}
	}
	newDC := c.WaitLeader(10 * time.Second)
	time.Sleep(2500 * time.Millisecond) // detection, node-loss-grace, the new DC's transitions
	after := starts()
	for k, v := range after {
		node, rsc := k[0], k[1]
		if node == c.Nodes[dc].Name || where[rsc] != node {
			continue // moved here from the dead node: started, as it must be
		}
		if v != before[k] {
			t.Errorf("the new DC %s touched %s: %v went from %d to %d", c.Nodes[newDC].Name, rsc, k, before[k], v)
		}
	}
	for id, n := range where {
		on := runsOn(dir, id, c.Nodes)
		if len(on) != 1 || (n != c.Nodes[dc].Name && on[0] != n) {
			t.Errorf("%s ran on %s, now on %v", id, n, on)
		}
	}
}

// The operator's commands on a live cluster: move, ban, clear, disable,
// enable and cleanup, each seen through to where the resource runs.
func TestControllerOperatorCommands(t *testing.T) {
	c := New(t, 3, Options{Manage: true})
	ctx := Ctx(t)
	dir := t.TempDir()
	cl := c.Nodes[0].Client
	apply := func(cmd cib.Command) { t.Helper(); mustApply(t, c.Nodes[0], cmd) }
	apply(&cib.CreatePrimitive{Primitive: dummy("d", dir, 100*time.Millisecond, nil)})
	first := ""
	WaitFor(t, 15*time.Second, func() (bool, string) {
		on := runsOn(dir, "d", c.Nodes)
		if len(on) == 1 {
			first = on[0]
		}
		return len(on) == 1, "d runs on " + formatList(on)
	})
	target := "n1"
	if first == "n1" {
		target = "n2"
	}
	apply(&cib.CLIConstraints{Rsc: "d", Move: target})
	waitRunsOn(t, c, dir, "d", target, 15*time.Second)

	apply(&cib.CLIConstraints{Rsc: "d", Clear: true})
	apply(&cib.CLIConstraints{Rsc: "d", Ban: target})
	WaitFor(t, 15*time.Second, func() (bool, string) {
		on := runsOn(dir, "d", c.Nodes)
		return len(on) == 1 && on[0] != target, "after the ban d runs on " + formatList(on)
	})
	apply(&cib.CLIConstraints{Rsc: "d", Clear: true})

	apply(&cib.UpdateResource{ID: "d", Meta: cib.Patch{Set: map[string]string{"target-role": "Stopped"}}})
	WaitFor(t, 15*time.Second, func() (bool, string) {
		on := runsOn(dir, "d", c.Nodes)
		return len(on) == 0, "disabled, d runs on " + formatList(on)
	})
	apply(&cib.UpdateResource{ID: "d", Meta: cib.Patch{Unset: []string{"target-role"}}})
	var now string
	WaitFor(t, 15*time.Second, func() (bool, string) {
		on := runsOn(dir, "d", c.Nodes)
		if len(on) == 1 {
			now = on[0]
		}
		return len(on) == 1, "enabled, d runs on " + formatList(on)
	})

	// A monitor failure leaves a fail count; cleanup forgets it.
	os.Remove(filepath.Join(dir, "paceline-dummy-"+now+"-d.state"))
	failCount := func() int {
		h, err := cl.History(ctx, "d", now)
		if err != nil || len(h.Resources) == 0 {
			return -1
		}
		return h.Resources[0].FailCount()
	}
	WaitFor(t, 30*time.Second, func() (bool, string) { return failCount() > 0, "a fail count after the monitor failure" })
	rep, err := cl.Cleanup(ctx, api.CleanupRequest{Rsc: "d"})
	if err != nil || len(rep.Cleaned) != 3 {
		t.Fatalf("cleanup: %+v, %v", rep, err)
	}
	if n := failCount(); n != 0 {
		t.Fatalf("fail count after cleanup: %d", n)
	}
	if _, err := cl.Cleanup(ctx, api.CleanupRequest{Rsc: "nosuch"}); err == nil {
		t.Error("cleanup of an unknown resource succeeded")
	}
}

// A group moves as a unit: when its node goes into standby its members
// stop there in reverse order and start on one other node in order.
func TestControllerGroupStandbyDrain(t *testing.T) {
	c := New(t, 3, Options{Manage: true})
	ctx := Ctx(t)
	dir := t.TempDir()
	cl := c.Nodes[0].Client
	members := []string{"g1", "g2", "g3"}
	for _, id := range members {
		if _, err := cl.Apply(ctx, &cib.CreatePrimitive{
			Primitive: cib.Primitive{ID: id, Agent: "ocf:paceline:dummy", Params: map[string]string{"state_dir": dir}},
			Placement: cib.Placement{Group: "g"},
		}, false); err != nil {
			t.Fatal(err)
		}
	}
	var from string
	WaitFor(t, 15*time.Second, func() (bool, string) {
		on := runsOn(dir, "g3", c.Nodes)
		for _, id := range members {
			if o := runsOn(dir, id, c.Nodes); len(o) != 1 || len(on) != 1 || o[0] != on[0] {
				return false, id + " runs on " + formatList(o)
			}
		}
		from = on[0]
		return true, ""
	})
	yes := true
	if _, err := cl.Apply(ctx, &cib.UpdateNode{Name: from, Standby: &yes}, false); err != nil {
		t.Fatal(err)
	}
	var to string
	WaitFor(t, 15*time.Second, func() (bool, string) {
		for _, id := range members {
			o := runsOn(dir, id, c.Nodes)
			if len(o) != 1 || o[0] == from || (to != "" && o[0] != to) {
				return false, id + " runs on " + formatList(o)
			}
			to = o[0]
		}
		return true, ""
	})
	// Order, from each node's history (call IDs grow on a node).
	callOf := func(node, rsc, action string) int64 {
		h, err := cl.History(ctx, rsc, node)
		if err != nil || len(h.Resources) != 1 {
			t.Fatalf("history of %s on %s: %+v %v", rsc, node, h, err)
		}
		for _, o := range h.Resources[0].Recent {
			if o.Action == action {
				return o.CallID
			}
		}
		t.Fatalf("no %s of %s on %s", action, rsc, node)
		return 0
	}
	if a, b, cc := callOf(from, "g3", "stop"), callOf(from, "g2", "stop"), callOf(from, "g1", "stop"); !(a < b && b < cc) {
		t.Errorf("stops on %s not in reverse order: g3 %d, g2 %d, g1 %d", from, a, b, cc)
	}
	if a, b, cc := callOf(to, "g1", "start"), callOf(to, "g2", "start"), callOf(to, "g3", "start"); !(a < b && b < cc) {
		t.Errorf("starts on %s not in order: g1 %d, g2 %d, g3 %d", to, a, b, cc)
	}
	t.Logf("group drained from %s to %s", from, to)
}

// A start that fails with rc 6 (not configured: the parameters are wrong,
// so they are wrong everywhere) bans the resource from every node, as
// Pacemaker does: it is not tried on each node in turn (each try is a
// failure, and where its stop fails too, a fence). Explain names the
// reason. Once the parameters are fixed and the failure cleaned up, it
// starts.
func TestControllerFatalErrorBansEverywhere(t *testing.T) {
	c := New(t, 3, Options{Manage: true})
	ctx := Ctx(t)
	dir := t.TempDir()
	cl := c.Nodes[0].Client
	p := dummy("d", dir, 200*time.Millisecond, map[string]string{"migration-threshold": "1000000"})
	p.Params["fail_start"] = "6"
	mustApply(t, c.Nodes[0], &cib.CreatePrimitive{Primitive: p})

	// Wait for the failed start, wherever it was tried first.
	failedOn := ""
	WaitFor(t, 15*time.Second, func() (bool, string) {
		for _, n := range c.Nodes {
			h, err := cl.History(ctx, "d", n.Name)
			if err == nil && len(h.Resources) == 1 && h.Resources[0].LastFailure != nil && h.Resources[0].LastFailure.RC == 6 {
				failedOn = n.Name
				return true, ""
			}
		}
		return false, "no start of d has failed with rc 6 yet"
	})
	// Explain must give the ban everywhere as its reason.
	WaitFor(t, 10*time.Second, func() (bool, string) {
		ex, err := cl.Explain(ctx, "d")
		if err != nil || len(ex.Explanations) == 0 {
			return false, fmt.Sprintf("explain d: %v", err)
		}
		e := ex.Explanations[0]
		banned := 0
		for _, ns := range e.Nodes {
			for _, c := range ns.Contributions {
				if ns.Score == -cib.Infinity && strings.Contains(c.Source, "configuration is invalid") {
					banned++
					break
				}
			}
		}
		// Nothing left to do: the scheduler plans no start anywhere.
		return banned == len(c.Nodes) && len(ex.Actions) == 0,
			fmt.Sprintf("explain d: %d of %d nodes banned for the invalid configuration, pending %v: %+v", banned, len(c.Nodes), ex.Actions, e)
	})
	// The starts on all nodes: one, where it failed.
	starts := 0
	for _, n := range c.Nodes {
		h, err := cl.History(ctx, "d", n.Name)
		if err != nil {
			t.Fatalf("history of d on %s: %v", n.Name, err)
		}
		for _, r := range h.Resources {
			for _, op := range r.Recent {
				if op.Action == "start" {
					starts++
					if n.Name != failedOn {
						t.Errorf("d was started on %s after its rc 6 failure on %s: %+v", n.Name, failedOn, op)
					}
				}
			}
		}
	}
	if starts != 1 {
		t.Errorf("d was started %d times, want once (the failed start on %s)", starts, failedOn)
	}
	if on := runsOn(dir, "d", c.Nodes); len(on) != 0 {
		t.Errorf("d runs on %v, want nowhere", on)
	}

	// The operator fixes the parameter and cleans up: d starts.
	mustApply(t, c.Nodes[0], &cib.UpdateResource{ID: "d", Params: cib.Patch{Unset: []string{"fail_start"}}})
	if _, err := cl.Cleanup(ctx, api.CleanupRequest{Rsc: "d"}); err != nil {
		t.Fatal(err)
	}
	WaitFor(t, 15*time.Second, func() (bool, string) {
		on := runsOn(dir, "d", c.Nodes)
		return len(on) == 1, "d runs on " + formatList(on) + " after the fix and cleanup"
	})
}
