package crm

import (
	"testing"
	"time"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/crm/scheduler"
	"github.com/paceline/paceline/lrm"
)

func op(id int64, action string, interval time.Duration, rc int, st lrm.ExecStatus, failed bool) *lrm.Op {
	return &lrm.Op{CallID: id, Action: action, Interval: interval, Result: lrm.Result{RC: rc, Status: st}, Failed: failed}
}

// What each history says runs where.
func TestResourceState(t *testing.T) {
	done := lrm.StatusDone
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		h      lrm.History
		ok     bool
		role   string
		failed string
	}{
		{"nothing", lrm.History{Rsc: "a"}, false, "", ""},
		{"started", lrm.History{Rsc: "a", State: op(1, ocf.Start, 0, 0, done, false)}, true, cib.RoleStarted, ""},
		{"start failed", lrm.History{Rsc: "a", State: op(1, ocf.Start, 0, 1, done, true)}, true, cib.RoleStarted, ocf.Start},
		{"start timed out", lrm.History{Rsc: "a", State: op(1, ocf.Start, 0, 1, lrm.StatusTimeout, true)}, true, cib.RoleStarted, ocf.Start},
		{"stopped", lrm.History{Rsc: "a", State: op(1, ocf.Stop, 0, 0, done, false)}, true, cib.RoleStopped, ""},
		{"stop failed", lrm.History{Rsc: "a", State: op(1, ocf.Stop, 0, 1, done, true)}, true, cib.RoleStarted, ocf.Stop},
		{"probe not running", lrm.History{Rsc: "a", State: op(1, ocf.Monitor, 0, 7, done, false)}, true, cib.RoleStopped, ""},
		{"probe not installed", lrm.History{Rsc: "a", State: op(1, ocf.Monitor, 0, 5, done, true)}, true, cib.RoleStopped, ""},
		{"probe running", lrm.History{Rsc: "a", State: op(1, ocf.Monitor, 0, 0, done, false)}, true, cib.RoleStarted, ""},
		{"probe promoted", lrm.History{Rsc: "a:0", State: op(1, ocf.Monitor, 0, 8, done, false)}, true, cib.RolePromoted, ""},
		{"promoted", lrm.History{Rsc: "a:0", State: op(2, ocf.Promote, 0, 0, done, false)}, true, cib.RolePromoted, ""},
		{"demoted", lrm.History{Rsc: "a:0", State: op(2, ocf.Demote, 0, 0, done, false)}, true, cib.RoleUnpromoted, ""},
		{"monitor found it dead", lrm.History{Rsc: "a", State: op(1, ocf.Start, 0, 0, done, false),
			Monitors: []lrm.Op{*op(2, ocf.Monitor, 10*time.Second, 7, done, true)}}, true, cib.RoleStarted, ocf.Monitor},
		{"monitor recovered", lrm.History{Rsc: "a", State: op(1, ocf.Start, 0, 0, done, false),
			Monitors: []lrm.Op{*op(3, ocf.Monitor, 10*time.Second, 0, done, false), *op(2, ocf.Monitor, 5*time.Second, 7, done, true)}}, true, cib.RoleStarted, ""},
		{"old monitor failure, restarted since", lrm.History{Rsc: "a", State: op(5, ocf.Start, 0, 0, done, false),
			Monitors: []lrm.Op{*op(2, ocf.Monitor, 10*time.Second, 7, done, true)}}, true, cib.RoleStarted, ""},
		{"promoted instance failed", lrm.History{Rsc: "a:1", State: op(1, ocf.Promote, 0, 0, done, false),
			Monitors: []lrm.Op{*op(2, ocf.Monitor, 10*time.Second, 9, done, true)}}, true, cib.RolePromoted, ocf.Monitor},
	}
	for _, c := range cases {
		rs, ok := resourceState(c.h)
		if ok != c.ok || ok && (rs.Role != c.role || rs.FailedOp != c.failed || rs.Failed != (c.failed != "") || rs.ID != "a") {
			t.Errorf("%s: %+v ok=%v; want role %s failed-op %q ok=%v", c.name, rs, ok, c.role, c.failed, c.ok)
		}
	}
	h := lrm.History{Rsc: "a", State: op(1, ocf.Stop, 0, 0, done, false), FailCounts: map[string]int{"monitor_10000": 2, "start_0": 1},
		LastFailure: &lrm.Op{Started: t0}}
	if rs, _ := resourceState(h); rs.FailCount != 3 || !rs.LastFailure.Equal(t0) {
		t.Errorf("fail counts: %+v", rs)
	}
}

// The status lists nodes in their states with their attributes; a node
// whose history could not be read has no resources listed (probed).
func TestBuildStatus(t *testing.T) {
	st := BuildStatus(true, []NodeView{
		{Name: "n1", State: scheduler.NodeOnline, HaveHistory: true, Attrs: map[string]string{"pingd": "1"},
			History: []lrm.History{{Rsc: "web", State: op(1, ocf.Start, 0, 0, lrm.StatusDone, false)}, {Rsc: "db:0", State: op(2, ocf.Monitor, 0, 7, lrm.StatusDone, false)}}},
		{Name: "n2", State: scheduler.NodeUnclean},
	})
	if !st.Quorate || len(st.Nodes) != 2 || st.Nodes[0].Attributes["pingd"] != "1" || st.Nodes[1].State != scheduler.NodeUnclean {
		t.Fatalf("%+v", st)
	}
	r := st.Nodes[0].Resources
	if len(r) != 2 || r[0].ID != "db" || r[0].Role != cib.RoleStopped || r[1].ID != "web" || r[1].Role != cib.RoleStarted {
		t.Fatalf("resources: %+v", r)
	}
	if len(st.Nodes[1].Resources) != 0 || st.Nodes[1].Probed {
		t.Errorf("unknown node: %+v", st.Nodes[1])
	}
}
