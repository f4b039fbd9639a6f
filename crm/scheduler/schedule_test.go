package scheduler

import (
	"strings"
	"testing"
	"time"

	"github.com/paceline/paceline/cib"
)

func mustConfig(t *testing.T, y string) *cib.Config {
	t.Helper()
	c, err := cib.DecodeYAML([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

const twoNodeWeb = `
nodes: [{name: n1}, {name: n2}]
primitives:
  - {id: web, agent: "ocf:paceline:dummy", meta: {resource-stickiness: "100"}}
constraints:
  location:
    - {id: web-likes-n2, rsc: web, node: n2, score: 50}
`

func TestStatusValidateNamesEveryProblem(t *testing.T) {
	cfg := mustConfig(t, twoNodeWeb)
	st, err := DecodeStatusYAML([]byte(`
quorate: true
nodes:
  - {name: n1, state: sleeping, resources: [{id: nope}, {id: web, role: Promoted}]}
  - {name: n1}
  - {name: n2, resources: [{id: web, failed-op: fly}, {id: web}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	err = st.Validate(cfg)
	if err == nil {
		t.Fatal("bad status accepted")
	}
	for _, want := range []string{`unknown state "sleeping"`, `"nope" is not a primitive`, "role Promoted needs a promotable clone",
		"nodes[n1]: listed twice", `unknown failed-op "fly"`, "failed-op without failed", "web is listed twice on n2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if _, err := Schedule(cfg, st, Options{}); err == nil {
		t.Error("Schedule accepted a bad status")
	}
	if _, err := DecodeStatusYAML([]byte("quorate: true\nbogus: 1\n")); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("unknown field: %v", err)
	}
	if _, err := Schedule(nil, st, Options{}); err == nil {
		t.Error("nil config accepted")
	}
}

func TestExplainGivesContributionsAndDecision(t *testing.T) {
	cfg := mustConfig(t, twoNodeWeb)
	st := &Status{Quorate: true, Nodes: []NodeStatus{
		{Name: "n1", Probed: true, Resources: []ResourceState{{ID: "web"}}},
		{Name: "n2", Probed: true},
	}}
	p, err := Schedule(cfg, st, Options{Now: time.Unix(0, 0), Explain: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Explanations) != 1 {
		t.Fatalf("explanations: %+v", p.Explanations)
	}
	e := p.Explanations[0]
	if e.Rsc != "web" || !strings.Contains(e.Result, "runs on n1") {
		t.Errorf("result: %+v", e)
	}
	if e.Nodes[0].Node != "n1" || e.Nodes[0].Score != 100 || e.Nodes[1].Score != 50 {
		t.Errorf("scores: %+v", e.Nodes)
	}
	text := p.FormatScores()
	for _, want := range []string{"resource-stickiness", "location web-likes-n2"} {
		if !strings.Contains(text, want) {
			t.Errorf("scores text lacks %q:\n%s", want, text)
		}
	}
	// Without Explain, no explanations are built.
	p, err = Schedule(cfg, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Explanations != nil {
		t.Error("explanations without Explain")
	}
}

func TestStoppedResourceSaysWhy(t *testing.T) {
	cfg := mustConfig(t, twoNodeWeb)
	st := &Status{Quorate: true, Nodes: []NodeStatus{{Name: "n1", Probed: true, State: NodeOffline}, {Name: "n2", Probed: true, Attributes: map[string]string{"standby": "on"}}}}
	p, err := Schedule(cfg, st, Options{Explain: true})
	if err != nil {
		t.Fatal(err)
	}
	pl := p.Placements[0]
	if pl.Node != "" || !strings.Contains(pl.Reason, "n1: offline") || !strings.Contains(pl.Reason, "n2: standby") {
		t.Errorf("placement: %+v", pl)
	}
}

// Plan.Recheck is when the earliest fail count still held runs out by
// failure-timeout; none when every one has run out, or none times out.
func TestRecheckAtNextFailureTimeout(t *testing.T) {
	cfg := mustConfig(t, `
nodes: [{name: n1}, {name: n2}]
primitives:
  - {id: a, agent: "ocf:paceline:dummy", meta: {failure-timeout: 10min}}
  - {id: b, agent: "ocf:paceline:dummy", meta: {failure-timeout: 2min}}
  - {id: c, agent: "ocf:paceline:dummy"}
`)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	status := func(bAgo time.Duration) *Status {
		return &Status{Quorate: true, Nodes: []NodeStatus{{Name: "n1", Probed: true, Resources: []ResourceState{
			{ID: "a", Role: cib.RoleStopped, FailCount: 1, LastFailure: now.Add(-time.Minute)},
			{ID: "b", Role: cib.RoleStopped, FailCount: 1, LastFailure: now.Add(-bAgo)},
			{ID: "c", Role: cib.RoleStopped, FailCount: 3, LastFailure: now.Add(-time.Hour)},
		}}, {Name: "n2", Probed: true}}}
	}
	plan, err := Schedule(cfg, status(time.Minute), Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Add(time.Minute); !plan.Recheck.Equal(want) {
		t.Errorf("recheck %v, want %v (b's fail count runs out first)", plan.Recheck, want)
	}
	plan, err = Schedule(cfg, status(5*time.Minute), Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Add(9 * time.Minute); !plan.Recheck.Equal(want) {
		t.Errorf("with b's expired: recheck %v, want %v (a's)", plan.Recheck, want)
	}
}
