package clustertest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

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

// The controller end to end, in-process with dummy agents: a resource
// starts on its best node; killing that node moves it; with stickiness 0
// it fails back when the node returns, with stickiness it stays.
func TestControllerFailoverAndFailback(t *testing.T) {
	c := New(t, 3, Options{Manage: true})
	ctx := Ctx(t)
	dir := t.TempDir()
	cl := c.Nodes[0].Client
	if _, err := cl.Apply(ctx, &cib.CreatePrimitive{Primitive: cib.Primitive{
		ID: "d", Agent: "ocf:paceline:dummy", Params: map[string]string{"state_dir": dir},
		Ops: []cib.Op{{Name: "monitor", Interval: cib.Duration(200 * time.Millisecond)}},
	}}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Apply(ctx, &cib.AddConstraint{Location: &cib.Location{ID: "d-prefers-n2", Rsc: "d", Node: "n2", Score: 100}}, false); err != nil {
		t.Fatal(err)
	}
	took := waitRunsOn(t, c, dir, "d", "n2", 15*time.Second)
	t.Logf("create -> running on n2: %v", took)

	n2 := indexOf(c, "n2")
	t0 := time.Now()
	c.Kill(n2)
	// The machine is gone, and its resources with it.
	os.Remove(filepath.Join(dir, "paceline-dummy-n2-d.state"))
	other := runsOnOther(t, c, dir)
	t.Logf("n2 killed -> d running on %s: %v (includes failure detection and node-loss-grace 1s)", other, time.Since(t0))

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
