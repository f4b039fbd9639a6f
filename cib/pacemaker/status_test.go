package pacemaker

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/crm/scheduler"
)

// statusTestConfig is a configuration built in Go (independent of the
// configuration importer): web (ops with on-fail), a clone of db, a
// promotable clone of st, nodes n1-n3.
func statusTestConfig(stonith bool) *cib.Config {
	return &cib.Config{
		Properties: map[string]string{"stonith-enabled": map[bool]string{true: "true", false: "false"}[stonith]},
		Nodes:      []cib.Node{{Name: "n1"}, {Name: "n2"}, {Name: "n3"}},
		Primitives: []cib.Primitive{
			{ID: "web", Agent: "ocf:heartbeat:Dummy", Meta: map[string]string{"failure-timeout": "60"},
				Ops: []cib.Op{{Name: "monitor", Interval: cib.Duration(10 * time.Second), OnFail: "stop"}}},
			{ID: "db", Agent: "ocf:heartbeat:Dummy"},
			{ID: "st", Agent: "ocf:pacemaker:Stateful"},
		},
		Clones: []cib.Clone{{ID: "db-clone", Rsc: "db"}, {ID: "st-clone", Rsc: "st", Promotable: true}},
	}
}

// op renders an lrm_rsc_op: task, interval (ms), call-id, rc, op-status,
// expected rc, last-rc-change.
func op(rsc, task string, interval, call, rc, status, target int, changed int64) string {
	r := strings.NewReplacer("RSC", rsc, "TASK", task)
	s := r.Replace(`<lrm_rsc_op id="RSC_TASK_` + itoa(interval) + `_` + itoa(call) + `" operation="TASK"`)
	s += ` interval="` + itoa(interval) + `" call-id="` + itoa(call) + `" rc-code="` + itoa(rc) + `" op-status="` + itoa(status) + `"`
	s += ` transition-key="1:1:` + itoa(target) + `:00000000-0000-0000-0000-000000000000" last-rc-change="` + itoa(int(changed)) + `"/>`
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }

func node(uname, attrs string, rscs ...string) string {
	s := `<node_state id="` + uname + `" uname="` + uname + `" in_ccm="true" crmd="online" join="member" expected="member">`
	if attrs != "" {
		s += `<transient_attributes id="` + uname + `"><instance_attributes id="s-` + uname + `">` + attrs + `</instance_attributes></transient_attributes>`
	}
	s += `<lrm id="` + uname + `"><lrm_resources>` + strings.Join(rscs, "") + `</lrm_resources></lrm></node_state>`
	return s
}

func lrm(id string, ops ...string) string {
	return `<lrm_resource id="` + id + `" class="ocf" provider="heartbeat" type="Dummy">` + strings.Join(ops, "") + `</lrm_resource>`
}

func nv(name, value string) string {
	return `<nvpair id="a-` + name + `" name="` + name + `" value="` + value + `"/>`
}

func importTestStatus(t *testing.T, cfg *cib.Config, cibAttrs string, states ...string) (*scheduler.Status, *StatusReport) {
	t.Helper()
	doc := `<cib have-quorum="1" ` + cibAttrs + `><configuration/><status>` + strings.Join(states, "") + `</status></cib>`
	st, rep, err := ImportStatus([]byte(doc), cfg, StatusOptions{Fallback: time.Unix(2000, 0)})
	if err != nil {
		t.Fatalf("ImportStatus: %v", err)
	}
	if err := st.Validate(cfg); err != nil {
		t.Fatalf("the imported status does not validate: %v", err)
	}
	return st, rep
}

func entry(t *testing.T, st *scheduler.Status, nodeName, id string) scheduler.ResourceState {
	t.Helper()
	for _, n := range st.Nodes {
		if n.Name != nodeName {
			continue
		}
		for _, r := range n.Resources {
			if r.ID == id {
				return r
			}
		}
	}
	t.Fatalf("no entry for %s on %s in %+v", id, nodeName, st.Nodes)
	return scheduler.ResourceState{}
}

func TestImportStatusNodes(t *testing.T) {
	cfg := statusTestConfig(true)
	down := `<node_state id="n2" uname="n2" in_ccm="false" crmd="offline" join="down" expected="member"/>`
	st, rep := importTestStatus(t, cfg, "", node("n1", ""), down)
	want := map[string]scheduler.NodeState{"n1": scheduler.NodeOnline, "n2": scheduler.NodeUnclean, "n3": scheduler.NodeUnclean}
	for _, n := range st.Nodes {
		if n.State != want[n.Name] {
			t.Errorf("node %s: state %s, want %s", n.Name, n.State, want[n.Name])
		}
	}
	if !st.Quorate {
		t.Error("have-quorum=1 should be quorate")
	}
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "n3: no node_state") {
		t.Errorf("notes should name the unseen node n3: %q", rep.Notes)
	}
	// Without fencing, a node that left while expected down is offline,
	// and its history is not read.
	cfg = statusTestConfig(false)
	left := `<node_state id="n2" uname="n2" in_ccm="false" crmd="offline" join="down" expected="down"><lrm id="n2"><lrm_resources>` +
		lrm("web", op("web", "start", 0, 3, 0, 0, 0, 100)) + `</lrm_resources></lrm></node_state>`
	st, _ = importTestStatus(t, cfg, "", node("n1", nv("shutdown", "0")), left)
	if st.Nodes[1].State != scheduler.NodeOffline || len(st.Nodes[1].Resources) != 0 {
		t.Errorf("n2: %+v, want offline with no resources", st.Nodes[1])
	}
}

func TestImportStatusHistory(t *testing.T) {
	cfg := statusTestConfig(true)
	st, rep := importTestStatus(t, cfg, `execution-date="1000"`,
		node("n1", nv("fail-count-web#monitor_10000", "2")+nv("last-failure-web#monitor_10000", "990")+nv("master-st:0", "10"),
			// started, then its monitor failed (on-fail=stop): failed.
			lrm("web", op("web", "start", 0, 2, 0, 0, 0, 900), op("web", "monitor", 10000, 3, 7, 0, 0, 990)),
			// clone instance db:1; a probe found it running.
			lrm("db:1", op("db", "monitor", 0, 4, 0, 0, 7, 900)),
			// promotable instance, promoted.
			lrm("st:0", op("st", "start", 0, 5, 0, 0, 0, 900), op("st", "promote", 0, 6, 0, 0, 0, 900)),
			// an orphan, running.
			lrm("gone", op("gone", "start", 0, 7, 0, 0, 0, 900))),
		node("n2", "",
			// the agent is missing here: a masked probe failure (not expired).
			lrm("web", op("web", "monitor", 0, 2, 5, 0, 7, 990)),
			// a pending start counts as started.
			lrm("db", op("db", "start", 0, -1, 0, -1, 0, 900)),
			// start then stop: stopped.
			lrm("st", op("st", "stop", 0, 9, 0, 0, 0, 950), op("st", "start", 0, 8, 0, 0, 0, 900))))
	if !rep.Now.Equal(time.Unix(1000, 0)) || rep.NowSource != "execution-date" {
		t.Errorf("now %v from %s, want the execution-date 1000", rep.Now, rep.NowSource)
	}
	web := entry(t, st, "n1", "web")
	if !web.Failed || web.FailedOp != "monitor" || web.FailCount != 2 || !web.LastFailure.Equal(time.Unix(990, 0)) {
		t.Errorf("web on n1: %+v, want failed monitor, fail-count 2, last failure 990", web)
	}
	if db := entry(t, st, "n1", "db"); db.Role != cib.RoleStarted {
		t.Errorf("db on n1: %+v, want Started", db)
	}
	if s := entry(t, st, "n1", "st"); s.Role != cib.RolePromoted {
		t.Errorf("st on n1: %+v, want Promoted", s)
	}
	if got := st.Nodes[0].Attributes["master-st"]; got != "10" {
		t.Errorf("master-st on n1 = %q, want 10 (from master-st:0)", got)
	}
	if len(rep.Orphans) != 1 || rep.Orphans[0].Rsc != "gone" {
		t.Errorf("orphans %+v, want gone on n1", rep.Orphans)
	}
	web2 := entry(t, st, "n2", "web")
	if web2.Role != cib.RoleStopped || web2.FailedRC != 5 || web2.FailCount == 0 || web2.Failed {
		t.Errorf("web on n2: %+v, want Stopped, banned by rc 5, not failed", web2)
	}
	if db := entry(t, st, "n2", "db"); db.Role != cib.RoleStarted {
		t.Errorf("db on n2 (pending start): %+v, want Started", db)
	}
	if s := entry(t, st, "n2", "st"); s.Role != cib.RoleStopped {
		t.Errorf("st on n2 (stop after start by call-id): %+v, want Stopped", s)
	}
}

func TestImportStatusExpiredFailure(t *testing.T) {
	cfg := statusTestConfig(true)
	cfg.Primitives[0].Ops = nil // on-fail restart
	// A failed start at 100 with failure-timeout 60 is expired at 1000.
	st, _ := importTestStatus(t, cfg, `execution-date="1000"`,
		node("n1", "", lrm("web", op("web", "start", 0, 2, 1, 0, 0, 100))))
	for _, n := range st.Nodes {
		for _, r := range n.Resources {
			if r.ID == "web" && (r.Failed || r.Role != cib.RoleStopped) {
				t.Errorf("web: %+v, want the expired failure ignored", r)
			}
		}
	}
}

func TestImportStatusErrors(t *testing.T) {
	cfg := statusTestConfig(true)
	for _, tc := range []struct{ doc, want string }{
		{`<cib><status>`, "malformed XML"},
		{``, "empty document"},
		{`<cib><status>` + node("n1", "", lrm("web", `<lrm_rsc_op id="x" operation="start" call-id="abc"/>`)) + `</status></cib>`, `<lrm_resource id="web">: <lrm_rsc_op id="x">: bad call-id`},
		{`<cib execution-date="soon"/>`, "execution-date"},
	} {
		_, _, err := ImportStatus([]byte(tc.doc), cfg, StatusOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.doc, err, tc.want)
		}
	}
}
