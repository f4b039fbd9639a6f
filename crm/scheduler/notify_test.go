package scheduler

import (
	"testing"
)

// The notify_* variables of a failover of a promotable clone: n2's
// unpromoted instance is promoted, n3 starts one (scenario
// core-clone-notify-failover).
func TestNotifyVars(t *testing.T) {
	_, cfg, st := loadScenario(t, "testdata/scenarios/core-clone-notify-failover.yaml")
	plan, err := Schedule(cfg, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	for _, a := range plan.Actions {
		if a.Op == OpNotify && a.Notify.Type == "pre" && a.Notify.Operation == OpPromote {
			got = a.Notify.Vars
		}
	}
	want := map[string]string{
		"notify_promote_uname": "n2", "notify_start_uname": "n3", "notify_stop_uname": "", "notify_demote_uname": "",
		"notify_active_uname": "n2", "notify_inactive_uname": "n3", "notify_slave_uname": "n2", "notify_unpromoted_uname": "n2",
		"notify_master_uname": "", "notify_promote_resource": "db",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}
