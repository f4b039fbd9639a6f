package crm

import (
	"testing"
	"time"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/lrm"
)

// fakeCluster answers only what priorityDelay reads.
type fakeCluster struct {
	Cluster
	self string
	cfg  *cib.Config
}

func (f fakeCluster) Self() string        { return f.self }
func (f fakeCluster) Config() *cib.Config { return f.cfg }

func running(rsc string) lrm.History {
	return lrm.History{Rsc: rsc, State: &lrm.Op{Rsc: rsc, Action: ocf.Start, Result: lrm.Result{RC: ocf.Success, Status: lrm.StatusDone}}}
}

// priority-fencing-delay delays the fence of the node that runs the more
// important resources (two-node only), so that in a split it shoots
// first.
func TestPriorityFencingDelay(t *testing.T) {
	cfg := &cib.Config{
		Properties: map[string]string{"two-node": "true", "priority-fencing-delay": "2s"},
		Primitives: []cib.Primitive{
			{ID: "db", Agent: "ocf:paceline:dummy", Meta: map[string]string{"priority": "10"}},
			{ID: "web", Agent: "ocf:paceline:dummy"},
			{ID: "cache", Agent: "ocf:paceline:dummy"},
		},
		ResourceDefaults: map[string]string{"priority": "1"},
	}
	c := New(fakeCluster{self: "n1", cfg: cfg}, Options{})
	c.known["n1"] = []lrm.History{running("web"), running("cache")} // 1 + 1
	c.known["n2"] = []lrm.History{running("db")}                    // 10
	if got := c.priorityDelay("n2"); got != 2*time.Second {
		t.Errorf("n2 runs db (priority 10 > 2): delay %v, want 2s", got)
	}
	c.known["n2"] = []lrm.History{running("web")}
	if got := c.priorityDelay("n2"); got != 0 {
		t.Errorf("n2 runs less: delay %v, want 0", got)
	}
	cfg.Properties["two-node"] = "false"
	c.known["n2"] = []lrm.History{running("db")}
	if got := c.priorityDelay("n2"); got != 0 {
		t.Errorf("not two-node: delay %v, want 0", got)
	}
}
