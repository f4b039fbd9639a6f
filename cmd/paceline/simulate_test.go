package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/cib/pacemaker"
	"github.com/paceline/paceline/crm/scheduler"
)

// The example files of docs/simulate.md, relative to this package.
const (
	exampleConfig = "../../examples/simulate/cluster.yaml"
	exampleStatus = "../../examples/simulate/status.yaml"
	simNow        = "2026-01-01T12:00:00Z"
)

// runSim runs `paceline simulate` with stdin and args.
func runSim(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runBinaryIn(t, stdin, append([]string{"simulate"}, args...)...)
}

// writeFile writes content to a file in a temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func loadExample(t *testing.T) (*cib.Config, *scheduler.Status) {
	t.Helper()
	b, err := os.ReadFile(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := cib.DecodeYAML(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("%s: %v", exampleConfig, err)
	}
	b, err = os.ReadFile(exampleStatus)
	if err != nil {
		t.Fatal(err)
	}
	st, err := scheduler.DecodeStatusYAML(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Validate(cfg); err != nil {
		t.Fatalf("%s: %v", exampleStatus, err)
	}
	return cfg, st
}

// TestSimulateErrors needs no plan: every bad input is refused before the
// scheduler runs, with a message naming it; exit 2 for how the command was
// called, 1 for files and names that do not fit the configuration.
func TestSimulateErrors(t *testing.T) {
	cfgArgs := []string{"--config", exampleConfig, "--status", exampleStatus, "--now", simNow}
	badYAML := writeFile(t, "bad.yaml", "nodes: [{name: n1}]\nprimitivs: []\n")
	invalid := writeFile(t, "invalid.yaml", "nodes: [{name: n1}]\ngroups: [{id: g, members: [nosuch]}]\n")
	stUnknownField := writeFile(t, "st1.yaml", "quorate: true\nnodes: [{name: n1, probd: true}]\n")
	stUnknownRsc := writeFile(t, "st2.yaml", "quorate: true\nnodes: [{name: n1, resources: [{id: nosuch}]}]\n")
	stUnknownNode := writeFile(t, "st3.yaml", "quorate: true\nnodes: [{name: n9}]\n")
	stBadState := writeFile(t, "st4.yaml", "quorate: true\nnodes: [{name: n1, state: sleepy}]\n")
	stGroup := writeFile(t, "st5.yaml", "quorate: true\nnodes: [{name: n1, resources: [{id: web}]}]\n")
	stTwice := writeFile(t, "st6.yaml", "quorate: true\nnodes: [{name: n1}, {name: n1}]\n")
	notYAML := writeFile(t, "st7.yaml", "quorate: [\n")

	cases := []struct {
		name  string
		args  []string
		stdin string
		code  int
		want  []string
	}{
		// usage: exit 2
		{"no config", []string{"--status", exampleStatus}, "", 2, []string{"--config FILE is required"}},
		{"positional", append([]string{"extra"}, cfgArgs...), "", 2, []string{"no arguments", "got 1"}},
		{"bad now", []string{"--config", exampleConfig, "--now", "tomorrow"}, "", 2, []string{`bad --now "tomorrow"`, "RFC 3339"}},
		{"now without zone", []string{"--config", exampleConfig, "--now", "2026-01-01T12:00:00"}, "", 2, []string{"bad --now"}},
		{"unknown flag", append([]string{"--node-dwn", "n1"}, cfgArgs...), "", 2, []string{"unknown flag: --node-dwn"}},
		{"flag without value", []string{"--config", exampleConfig, "--node-down"}, "", 2, []string{"node-down"}},
		{"empty node", append([]string{"--node-down="}, cfgArgs...), "", 2, []string{"--node-down needs a node name"}},
		{"two states", append([]string{"--node-down", "n1", "--node-up", "n1"}, cfgArgs...), "", 2, []string{"node n1 is given both --node-up and --node-down"}},
		{"op-fail no @", append([]string{"--op-fail", "web-ip:monitor"}, cfgArgs...), "", 2, []string{`bad --op-fail "web-ip:monitor"`, "RSC:OP@NODE"}},
		{"op-fail no op", append([]string{"--op-fail", "web-ip@n1"}, cfgArgs...), "", 2, []string{"RSC:OP@NODE"}},
		{"op-fail empty op", append([]string{"--op-fail", "web-ip:@n1"}, cfgArgs...), "", 2, []string{"no op"}},
		{"op-fail empty rsc", append([]string{"--op-fail", ":monitor@n1"}, cfgArgs...), "", 2, []string{"no resource"}},
		{"op-fail empty node", append([]string{"--op-fail", "web-ip:monitor@"}, cfgArgs...), "", 2, []string{"no node"}},
		{"op-fail bad op", append([]string{"--op-fail", "web-ip:reload@n1"}, cfgArgs...), "", 2, []string{`unknown op "reload"`, "start, stop, monitor, promote, demote"}},
		{"both stdin", []string{"--config", "-", "--status", "-"}, "", 2, []string{"only one of --config and --status"}},
		{"save to stdout", append([]string{"--save-status", "-"}, cfgArgs...), "", 2, []string{"--save-status needs a file name"}},
		{"output yaml", append([]string{"-o", "yaml"}, cfgArgs...), "", 2, []string{`bad --output "yaml"`}},

		// files: exit 1
		{"config missing", []string{"--config", "/nonexistent/c.yaml"}, "", 1, []string{"--config", "/nonexistent/c.yaml", "no such file"}},
		{"config unknown field", []string{"--config", badYAML}, "", 1, []string{badYAML, "primitivs"}},
		{"config invalid", []string{"--config", invalid}, "", 1, []string{invalid, "nosuch"}},
		{"config empty stdin", []string{"--config", "-"}, "", 1, []string{"--config -", "no YAML configuration document"}},
		{"status missing", []string{"--config", exampleConfig, "--status", "/nonexistent/s.yaml"}, "", 1, []string{"--status", "/nonexistent/s.yaml", "no such file"}},
		{"status unknown field", []string{"--config", exampleConfig, "--status", stUnknownField}, "", 1, []string{stUnknownField, "probd"}},
		{"status not yaml", []string{"--config", exampleConfig, "--status", notYAML}, "", 1, []string{notYAML, "yaml"}},
		{"status unknown resource", []string{"--config", exampleConfig, "--status", stUnknownRsc}, "", 1, []string{stUnknownRsc, `nodes[n1].resources[0]: "nosuch" is not a primitive`}},
		{"status group", []string{"--config", exampleConfig, "--status", stGroup}, "", 1, []string{`"web" is not a primitive`}},
		{"status unknown node", []string{"--config", exampleConfig, "--status", stUnknownNode}, "", 1, []string{stUnknownNode, "nodes[n9]: not a node of the configuration (nodes: n1, n2, n3)"}},
		{"status bad state", []string{"--config", exampleConfig, "--status", stBadState}, "", 1, []string{`unknown state "sleepy"`}},
		{"status node twice", []string{"--config", exampleConfig, "--status", stTwice}, "", 1, []string{"nodes[n1]: listed twice"}},

		// what-ifs naming what is not there: exit 1
		{"node-down unknown", append([]string{"--node-down", "n9"}, cfgArgs...), "", 1, []string{"--node-down n9", `no node "n9"`, "n1, n2, n3"}},
		{"node-up unknown", append([]string{"--node-up", "n9"}, cfgArgs...), "", 1, []string{"--node-up n9", `no node "n9"`}},
		{"node-fail unknown", append([]string{"--node-fail", "n9"}, cfgArgs...), "", 1, []string{"--node-fail n9", `no node "n9"`}},
		{"op-fail unknown rsc", append([]string{"--op-fail", "nosuch:monitor@n1"}, cfgArgs...), "", 1, []string{"nosuch:monitor@n1", `no resource "nosuch"`}},
		{"op-fail group", append([]string{"--op-fail", "web:monitor@n1"}, cfgArgs...), "", 1, []string{"web is a group: name one of its primitives (web-ip, web-server)"}},
		{"op-fail unknown node", append([]string{"--op-fail", "web-ip:monitor@n9"}, cfgArgs...), "", 1, []string{"web-ip:monitor@n9", `no node "n9"`}},
		{"op-fail offline node", append([]string{"--node-down", "n1", "--op-fail", "web-ip:monitor@n1"}, cfgArgs...), "", 1, []string{"web-ip:monitor@n1", "node n1 is offline"}},
		{"op-fail promote unpromotable", append([]string{"--op-fail", "web-ip:promote@n1"}, cfgArgs...), "", 1, []string{"web-ip is not in a promotable clone"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runSim(t, c.stdin, c.args...)
			if r.code != c.code || !strings.HasPrefix(r.stderr, "Error: ") || r.stdout != "" {
				t.Fatalf("want exit %d, an error and no output; got %s", c.code, r)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stderr, w) {
					t.Fatalf("want %q on stderr; got %s", w, r)
				}
			}
		})
	}
}

// placements renders a plan's placements as "rsc=node Role", "rsc=Stopped".
func placements(p *scheduler.Plan) []string {
	var out []string
	for _, pl := range p.Placements {
		if pl.Node == "" {
			out = append(out, pl.Name()+"=Stopped")
		} else {
			out = append(out, pl.Name()+"="+pl.Node+" "+pl.Role)
		}
	}
	return out
}

// actionNames lists a plan's actions as Action.String prints them, leaving
// out recurring monitors and pseudo actions.
func actionNames(p *scheduler.Plan) []string {
	var out []string
	for i := range p.Actions {
		a := &p.Actions[i]
		if a.Op == scheduler.OpPseudo || (a.Op == scheduler.OpMonitor && a.Interval > 0) {
			continue
		}
		out = append(out, a.String())
	}
	return out
}

// waitsOn reports whether the action named b (transitively) waits for the
// one named a.
func waitsOn(p *scheduler.Plan, b, a string) bool {
	ia := slices.IndexFunc(p.Actions, func(x scheduler.Action) bool { return x.String() == a })
	ib := slices.IndexFunc(p.Actions, func(x scheduler.Action) bool { return x.String() == b })
	if ia < 0 || ib < 0 {
		return false
	}
	seen := map[int]bool{}
	stack := []int{ib}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, y := range p.Actions[x].After {
			if y == ia {
				return true
			}
			if !seen[y] {
				seen[y] = true
				stack = append(stack, y)
			}
		}
	}
	return false
}

// TestSimulatePlans runs the example cluster through what-ifs and checks
// the plans. It needs the real scheduler.
func TestSimulatePlans(t *testing.T) {
	base := []string{"--config", exampleConfig, "--status", exampleStatus, "--now", simNow}
	web := func(node string) []string {
		return []string{"web-ip=" + node + " Started", "web-server=" + node + " Started"}
	}
	quorumLost := writeFile(t, "noquorum.yaml", "quorate: false\nnodes:\n  - {name: n1, probed: true, resources: [{id: web-ip}, {id: web-server}]}\n  - {name: n2, probed: true}\n  - {name: n3, state: offline}\n")
	cases := []struct {
		name  string
		args  []string
		place []string
		// actions lists every action but recurring monitors and pseudo
		// actions, in any order.
		actions []string
		// order lists pairs [A, B]: B must wait for A.
		order [][2]string
	}{
		{name: "steady state", args: base, place: web("n1")},
		{name: "no status: start on the preferred node",
			args:    []string{"--config", exampleConfig, "--now", simNow},
			place:   web("n1"),
			actions: []string{"start web-ip on n1", "start web-server on n1"},
			order:   [][2]string{{"start web-ip on n1", "start web-server on n1"}}},
		{name: "node down: the group moves",
			args:    append([]string{"--node-down", "n1"}, base...),
			place:   web("n2"),
			actions: []string{"start web-ip on n2", "start web-server on n2"},
			order:   [][2]string{{"start web-ip on n2", "start web-server on n2"}}},
		{name: "node fail: fence first",
			args:    append([]string{"--node-fail", "n1"}, base...),
			place:   web("n2"),
			actions: []string{"fence n1", "stop web-ip on n1 (implied by fencing)", "stop web-server on n1 (implied by fencing)", "start web-ip on n2", "start web-server on n2"},
			order:   [][2]string{{"fence n1", "start web-ip on n2"}, {"start web-ip on n2", "start web-server on n2"}}},
		{name: "monitor failure: restart in place",
			args:    append([]string{"--op-fail", "web-server:monitor@n1"}, base...),
			place:   web("n1"),
			actions: []string{"stop web-server on n1", "start web-server on n1"},
			order:   [][2]string{{"stop web-server on n1", "start web-server on n1"}}},
		{name: "third failure reaches migration-threshold: the group moves",
			args:    append([]string{"--op-fail", "web-server:monitor@n1", "--op-fail", "web-server:monitor@n1", "--op-fail", "web-server:monitor@n1"}, base...),
			place:   web("n2"),
			actions: []string{"stop web-server on n1", "stop web-ip on n1", "start web-ip on n2", "start web-server on n2"},
			order:   [][2]string{{"stop web-server on n1", "stop web-ip on n1"}, {"stop web-ip on n1", "start web-ip on n2"}}},
		{name: "node up: stickiness keeps it",
			args:  append([]string{"--node-up", "n2"}, base...),
			place: web("n1")},
		{name: "quorum lost: everything stops",
			args:    []string{"--config", exampleConfig, "--status", quorumLost, "--now", simNow},
			place:   []string{"web-ip=Stopped", "web-server=Stopped"},
			actions: []string{"stop web-server on n1", "stop web-ip on n1"},
			order:   [][2]string{{"stop web-server on n1", "stop web-ip on n1"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runSim(t, "", append(c.args, "-o", "json")...)
			if r.code != 0 {
				t.Fatalf("simulate %v: %s", c.args, r)
			}
			var out simulateView
			if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.Plan == nil || out.Status == nil {
				t.Fatalf("-o json: %v\n%s", err, r.stdout)
			}
			if got := placements(out.Plan); !slices.Equal(got, c.place) {
				t.Errorf("placements: got %q, want %q\n%s", got, c.place, out.Plan.Format())
			}
			got, want := actionNames(out.Plan), slices.Clone(c.actions)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("actions: got %q, want %q\n%s", got, want, out.Plan.Format())
			}
			for _, o := range c.order {
				if !waitsOn(out.Plan, o[1], o[0]) {
					t.Errorf("%q does not wait for %q\n%s", o[1], o[0], out.Plan.Format())
				}
			}
			// The text form prints the same plan after the header.
			txt := runSim(t, "", c.args...)
			if txt.code != 0 || !strings.HasSuffix(txt.stdout, "\n"+out.Plan.Format()) {
				t.Errorf("text output does not end with the plan:\n%s\nwant the plan:\n%s", txt, out.Plan.Format())
			}
		})
	}
}

// TestSimulateOutput checks the text header, -o json's status and what-ifs,
// --scores and stdin. It needs the real scheduler.
func TestSimulateOutput(t *testing.T) {
	r := runSim(t, "", "--config", exampleConfig, "--status", exampleStatus, "--now", simNow,
		"--node-down", "n3", "--op-fail", "web-server:monitor@n1")
	if r.code != 0 {
		t.Fatalf("simulate: %s", r)
	}
	header := "Quorum: yes\n" +
		"Nodes:\n" +
		"  n1  online   web-ip, web-server (FAILED monitor, fail-count 1)\n" +
		"  n2  online\n" +
		"  n3  offline\n" +
		"What-ifs:\n" +
		"  node n3 down (offline)\n" +
		"  web-server monitor failed on n1\n" +
		"\n" +
		"placement:\n"
	if !strings.HasPrefix(r.stdout, header) {
		t.Fatalf("want the output to start with\n%s\ngot\n%s", header, r.stdout)
	}

	// JSON: the status the plan was made from, what-ifs applied.
	r = runSim(t, "", "--config", exampleConfig, "--status", exampleStatus, "--now", "2026-01-01T13:00:00+01:00",
		"--node-fail", "n2", "--op-fail", "web-server:monitor@n1", "-o", "json")
	var out simulateView
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil {
		t.Fatalf("-o json: %s", r)
	}
	if !out.Now.Equal(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)) || !slices.Equal(out.WhatIfs, []string{"node n2 failed (unclean)", "web-server monitor failed on n1"}) {
		t.Fatalf("-o json: now %v, what-ifs %q", out.Now, out.WhatIfs)
	}
	if !out.Status.Quorate || len(out.Status.Nodes) != 3 || out.Status.Nodes[1].State != scheduler.NodeUnclean {
		t.Fatalf("-o json status: %+v", out.Status)
	}
	ws := out.Status.Nodes[0].Resources[1]
	if ws.ID != "web-server" || !ws.Failed || ws.FailedOp != "monitor" || ws.FailCount != 1 || !ws.LastFailure.Equal(out.Now) {
		t.Fatalf("-o json: web-server on n1: %+v", ws)
	}

	// --scores: every allocated resource's scores after the plan.
	r = runSim(t, "", "--config", exampleConfig, "--status", exampleStatus, "--now", simNow, "--scores")
	if r.code != 0 {
		t.Fatalf("--scores: %s", r)
	}
	_, scores, ok := strings.Cut(r.stdout, "\nscores:\n")
	if !ok || !strings.Contains(scores, "  web") || !strings.Contains(scores, "n1") || !strings.Contains(scores, "n2") {
		t.Fatalf("--scores: no scores for web:\n%s", r.stdout)
	}
	r = runSim(t, "", "--config", exampleConfig, "--status", exampleStatus, "--now", simNow, "--scores", "-o", "json")
	out = simulateView{}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil || len(out.Plan.Explanations) == 0 {
		t.Fatalf("--scores -o json: no explanations: %s", r)
	}
	if r := runSim(t, "", "--config", exampleConfig, "--status", exampleStatus, "--now", simNow, "-o", "json"); strings.Contains(r.stdout, "explanations") {
		t.Fatalf("explanations without --scores:\n%s", r.stdout)
	}

	// The configuration from stdin; a status missing a node.
	cfg, err := os.ReadFile(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	partial := writeFile(t, "partial.yaml", "quorate: true\nnodes: [{name: n1, probed: true}, {name: n2}]\n")
	r = runSim(t, string(cfg), "--config", "-", "--status", partial, "--now", simNow)
	if r.code != 0 {
		t.Fatalf("--config -: %s", r)
	}
	contains(t, "partial status", r.stdout, "  n2  online, not probed\n", "  n3  offline (not in the status)\n", "probe web-ip on n2")
	if strings.Contains(r.stdout, "on n3") {
		t.Fatalf("an action on offline n3:\n%s", r.stdout)
	}
}

// TestSimulateSaveStatus chains runs through --save-status: each saved
// status is what the plan made, and the next run starts from it. It needs
// the real scheduler.
func TestSimulateSaveStatus(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := loadExample(t)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	load := func(name string) *scheduler.Status {
		t.Helper()
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		st, err := scheduler.DecodeStatusYAML(b)
		if err == nil {
			err = st.Validate(cfg)
		}
		if err != nil {
			t.Fatalf("saved status %s: %v\n%s", name, err, b)
		}
		return st
	}
	run := func(status, save string, whatIfs ...string) *scheduler.Plan {
		t.Helper()
		args := append([]string{"--config", exampleConfig, "--status", status, "--now", simNow, "--save-status", save, "-o", "json"}, whatIfs...)
		r := runSim(t, "", args...)
		var out simulateView
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil || out.SavedStatus != save || r.stderr != "" {
			t.Fatalf("simulate %v: %s", args, r)
		}
		return out.Plan
	}

	// 1. web-server fails on n1 and restarts there; n3 goes down. The
	// failure is recovered, its fail count stays.
	s1 := filepath.Join(dir, "s1.yaml")
	run(exampleStatus, s1, "--node-down", "n3", "--op-fail", "web-server:monitor@n1")
	want := &scheduler.Status{Quorate: true, Nodes: []scheduler.NodeStatus{
		{Name: "n1", State: "online", Probed: true, Resources: []scheduler.ResourceState{
			{ID: "web-ip"}, {ID: "web-server", FailCount: 1, LastFailure: now}}},
		{Name: "n2", State: "online", Probed: true},
		{Name: "n3", State: "offline", Probed: true},
	}}
	if got := load(s1); !reflect.DeepEqual(got, want) {
		t.Fatalf("after run 1:\n got %+v\nwant %+v", got, want)
	}

	// 2. From there n1 fails: it is fenced, the group moves to n2.
	s2 := filepath.Join(dir, "s2.yaml")
	run(s1, s2, "--node-fail", "n1")
	want = &scheduler.Status{Quorate: true, Nodes: []scheduler.NodeStatus{
		{Name: "n1", State: "offline", Probed: true},
		{Name: "n2", State: "online", Probed: true, Resources: []scheduler.ResourceState{{ID: "web-ip"}, {ID: "web-server"}}},
		{Name: "n3", State: "offline", Probed: true},
	}}
	if got := load(s2); !reflect.DeepEqual(got, want) {
		t.Fatalf("after run 2:\n got %+v\nwant %+v", got, want)
	}

	// 3. n1 and n3 come back: stickiness (200) beats n1's preference (50);
	// nothing moves.
	s3 := filepath.Join(dir, "s3.yaml")
	plan := run(s2, s3, "--node-up", "n1", "--node-up", "n3")
	if got := placements(plan); !slices.Equal(got, []string{"web-ip=n2 Started", "web-server=n2 Started"}) {
		t.Fatalf("run 3 placements %q\n%s", got, plan.Format())
	}
	if got := actionNames(plan); len(got) != 0 {
		t.Fatalf("run 3: unexpected actions %q\n%s", got, plan.Format())
	}
	want.Nodes[0].State, want.Nodes[2].State = "online", "online"
	if got := load(s3); !reflect.DeepEqual(got, want) {
		t.Fatalf("after run 3:\n got %+v\nwant %+v", got, want)
	}

	// The text form says where it wrote.
	r := runSim(t, "", "--config", exampleConfig, "--status", s3, "--now", simNow, "--save-status", filepath.Join(dir, "s4.yaml"))
	if r.code != 0 || r.stderr != "Wrote the status after the plan to "+filepath.Join(dir, "s4.yaml")+"\n" {
		t.Fatalf("--save-status text: %s", r)
	}
	// A file that cannot be written is an error, after no output.
	r = runSim(t, "", "--config", exampleConfig, "--now", simNow, "--save-status", filepath.Join(dir, "no", "such", "dir.yaml"))
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "--save-status") || !strings.Contains(r.stderr, "no such file") {
		t.Fatalf("--save-status to a missing directory: %s", r)
	}
}

// The tests below need no plan.

func TestParseOpFail(t *testing.T) {
	for _, c := range []struct {
		in, rsc, op, node, err string
	}{
		{in: "web:monitor@n1", rsc: "web", op: "monitor", node: "n1"},
		{in: "db-1.x:promote@node-2.example.com", rsc: "db-1.x", op: "promote", node: "node-2.example.com"},
		{in: "web", err: "want RSC:OP@NODE"},
		{in: "web@n1", err: "want RSC:OP@NODE"},
		{in: "web:monitor", err: "want RSC:OP@NODE"},
		{in: "web:@n1", err: "no op"},
		{in: ":start@n1", err: "no resource"},
		{in: "web:start@", err: "no node"},
		{in: "web:notify@n1", err: `unknown op "notify"`},
	} {
		got, err := parseOpFail(c.in)
		if c.err != "" {
			var ue usageError
			if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: want a usage error with %q, got %v", c.in, c.err, err)
			}
			continue
		}
		if err != nil || got.Rsc != c.rsc || got.Op != c.op || got.Node != c.node {
			t.Errorf("%q: got %+v, %v", c.in, got, err)
		}
	}
}

// promotableConfig has a promotable clone db-clone of db, besides the web
// example's resources.
func promotableConfig(t *testing.T) *cib.Config {
	t.Helper()
	cfg, err := cib.DecodeYAML([]byte(`
properties: {stonith-enabled: "true"}
nodes: [{name: n1}, {name: n2}, {name: n3}]
primitives:
  - {id: web, agent: "ocf:heartbeat:Dummy", ops: [{name: monitor, interval: 10s}]}
  - {id: keep, agent: "ocf:heartbeat:Dummy", ops: [{name: monitor, interval: 10s, on-fail: stop}]}
  - {id: db, agent: "ocf:heartbeat:Stateful"}
clones:
  - {id: db-clone, rsc: db, promotable: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestWhatIfs(t *testing.T) {
	cfg := promotableConfig(t)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	st := defaultStatus(cfg)
	st.Nodes[0].Resources = []scheduler.ResourceState{{ID: "web", FailCount: 2}, {ID: "db", Role: "Promoted"}}
	st.Nodes[1].Resources = []scheduler.ResourceState{{ID: "web", Role: "Stopped", FailCount: 1}}
	st.Nodes[2].Resources = []scheduler.ResourceState{{ID: "keep"}, {ID: "web", Failed: true, FailCount: 1, LastFailure: now}, {ID: "db", Role: "Unpromoted"}}
	w, err := parseWhatIfs(&simulateFlags{
		nodeDown: []string{"n3", "n3"},
		opFail:   []string{"web:monitor@n1", "web:start@n2", "db:promote@n2", "db:demote@n1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	applied, err := w.apply(cfg, st, now)
	if err != nil {
		t.Fatal(err)
	}
	wantApplied := []string{"node n3 down (offline)", "web monitor failed on n1", "web start failed on n2", "db promote failed on n2", "db demote failed on n1"}
	if !slices.Equal(applied, wantApplied) {
		t.Fatalf("applied %q", applied)
	}
	if err := st.Validate(cfg); err != nil {
		t.Fatal(err)
	}
	want := []scheduler.NodeStatus{
		{Name: "n1", State: "online", Probed: true, Resources: []scheduler.ResourceState{
			{ID: "web", Failed: true, FailedOp: "monitor", FailCount: 3, LastFailure: now},
			{ID: "db", Role: "Promoted", Failed: true, FailedOp: "demote", FailCount: 1, LastFailure: now},
		}},
		{Name: "n2", State: "online", Probed: true, Resources: []scheduler.ResourceState{
			{ID: "web", Failed: true, FailedOp: "start", FailCount: 2, LastFailure: now},
			{ID: "db", Role: "Unpromoted", Failed: true, FailedOp: "promote", FailCount: 1, LastFailure: now},
		}},
		// offline: runs nothing; fail counts stay
		{Name: "n3", State: "offline", Probed: true, Resources: []scheduler.ResourceState{
			{ID: "web", Role: "Stopped", FailCount: 1, LastFailure: now},
		}},
	}
	if !reflect.DeepEqual(st.Nodes, want) {
		t.Fatalf("after the what-ifs:\n got %+v\nwant %+v", st.Nodes, want)
	}
	if !st.Quorate {
		t.Fatal("what-ifs changed quorum")
	}
}

func TestResultStatus(t *testing.T) {
	cfg := promotableConfig(t)
	t0 := time.Date(2026, 1, 1, 11, 0, 0, 0, time.UTC)
	st := &scheduler.Status{Quorate: true, Nodes: []scheduler.NodeStatus{
		{Name: "n1", State: "online", Probed: true, Attributes: map[string]string{"pingd": "1"}, Resources: []scheduler.ResourceState{
			{ID: "web", Failed: true, FailedOp: "monitor", FailCount: 1, LastFailure: t0},
			{ID: "keep", Failed: true, FailedOp: "monitor", FailCount: 1, LastFailure: t0},
			{ID: "db", Role: "Promoted"},
		}},
		{Name: "n2", State: "unclean", Attributes: map[string]string{"pingd": "1"}, Resources: []scheduler.ResourceState{
			{ID: "db", Role: "Unpromoted", FailCount: 4, LastFailure: t0},
		}},
		{Name: "n3", State: "online", Resources: []scheduler.ResourceState{
			{ID: "web", Role: "Stopped", FailCount: 2, LastFailure: t0},
		}},
	}}
	// web restarts on n3 (whose old fail count is cleared), keep stops
	// (on-fail stop: the failure is gone, its count stays), n2 is fenced,
	// db is promoted on n3.
	plan := &scheduler.Plan{
		Placements: []scheduler.Placement{
			{Rsc: "web", Node: "n3", Role: "Started"},
			{Rsc: "keep", Role: "Stopped"},
			{Rsc: "db", Clone: "db-clone", Instance: 0, Node: "n1", Role: "Unpromoted"},
			{Rsc: "db", Clone: "db-clone", Instance: 1, Node: "n3", Role: "Promoted"},
			{Rsc: "db", Clone: "db-clone", Instance: 2, Role: "Stopped"},
		},
		Actions: []scheduler.Action{
			{ID: 0, Op: "fence", Node: "n2"},
			{ID: 1, Op: "stop", Rsc: "db", Node: "n2", Implied: true},
			{ID: 2, Op: "stop", Rsc: "web", Node: "n1"},
			{ID: 3, Op: "stop", Rsc: "keep", Node: "n1"},
			{ID: 4, Op: "clear-failcount", Rsc: "web", Node: "n3"},
			{ID: 5, Op: "start", Rsc: "web", Node: "n3"},
			{ID: 6, Op: "demote", Rsc: "db", Node: "n1"},
			{ID: 7, Op: "start", Rsc: "db", Node: "n3"},
			{ID: 8, Op: "promote", Rsc: "db", Node: "n3"},
		},
	}
	got := resultStatus(st, plan)
	want := &scheduler.Status{Quorate: true, Nodes: []scheduler.NodeStatus{
		{Name: "n1", State: "online", Probed: true, Attributes: map[string]string{"pingd": "1"}, Resources: []scheduler.ResourceState{
			{ID: "db", Role: "Unpromoted"},
			{ID: "web", Role: "Stopped", FailCount: 1, LastFailure: t0},
			{ID: "keep", Role: "Stopped", FailCount: 1, LastFailure: t0},
		}},
		{Name: "n2", State: "offline", Probed: true},
		{Name: "n3", State: "online", Probed: true, Resources: []scheduler.ResourceState{
			{ID: "web"},
			{ID: "db", Role: "Promoted"},
		}},
	}}
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.MarshalIndent(got, "", " ")
		wj, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("result status:\n got %s\nwant %s", gj, wj)
	}
	if err := got.Validate(cfg); err != nil {
		t.Fatal(err)
	}

	// An unclean node that is not fenced keeps what it had (blocked) and
	// stays unprobed; a failure nothing acted on stays.
	st = &scheduler.Status{Quorate: true, Nodes: []scheduler.NodeStatus{
		{Name: "n1", State: "unclean", Resources: []scheduler.ResourceState{{ID: "web", Failed: true, FailCount: 1, LastFailure: t0}}},
	}}
	plan = &scheduler.Plan{Placements: []scheduler.Placement{{Rsc: "web", Node: "n1", Role: "Started", Reason: "blocked"}}}
	got = resultStatus(st, plan)
	if n := got.Nodes[0]; n.State != "unclean" || n.Probed || !reflect.DeepEqual(n.Resources, st.Nodes[0].Resources) {
		t.Fatalf("unclean node: %+v", n)
	}
}

func TestWriteStatusFileRoundTrip(t *testing.T) {
	cfg, st := loadExample(t)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	st.Nodes[0].Resources[1] = scheduler.ResourceState{ID: "web-server", Failed: true, FailedOp: "monitor", FailCount: 2, LastFailure: now}
	st.Nodes[1].Attributes = map[string]string{"pingd": "100"}
	p := filepath.Join(t.TempDir(), "s.yaml")
	if err := writeStatusFile(p, st, []string{"node n3 down (offline)"}, now); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	back, err := scheduler.DecodeStatusYAML(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if err := back.Validate(cfg); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, st) {
		t.Fatalf("round trip:\n got %+v\nwant %+v\n%s", back, st, b)
	}
	if !strings.HasPrefix(string(b), "# The status after `paceline simulate`") || !strings.Contains(string(b), "# What-ifs: node n3 down (offline).") {
		t.Fatalf("no header comment:\n%s", b)
	}
}

// TestSimulateDocs keeps docs/simulate.md in step with the code: every
// flag and every status field is documented, and its example statuses
// validate against the example configuration.
func TestSimulateDocs(t *testing.T) {
	b, err := os.ReadFile("../../docs/simulate.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	c := newSimulateCmd(&globals{})
	for _, name := range []string{"config", "status", "now", "scores", "node-down", "node-up", "node-fail", "op-fail", "save-status"} {
		if c.Flags().Lookup(name) == nil {
			t.Errorf("no flag --%s", name)
		}
		if !strings.Contains(doc, "`--"+name) {
			t.Errorf("docs/simulate.md does not document --%s", name)
		}
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[scheduler.Status](), reflect.TypeFor[scheduler.NodeStatus](), reflect.TypeFor[scheduler.ResourceState]()} {
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name != "" && name != "-" && !strings.Contains(doc, "`"+name+"`") {
				t.Errorf("docs/simulate.md does not document the status field %s (%s.%s)", name, typ.Name(), f.Name)
			}
		}
	}
	cfg, _ := loadExample(t)
	n := 0
	for _, block := range strings.Split(doc, "```yaml\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		if !strings.HasPrefix(block, "quorate:") {
			continue
		}
		n++
		st, err := scheduler.DecodeStatusYAML([]byte(block))
		if err == nil {
			err = st.Validate(cfg)
		}
		if err != nil {
			t.Errorf("docs/simulate.md: status example %d: %v\n%s", n, err, block)
		}
	}
	if n == 0 {
		t.Error("docs/simulate.md has no status example (a ```yaml block starting with quorate:)")
	}
}

// The Pacemaker CIBs of cib/pacemaker's tests, relative to this package.
const (
	// cibPromoted: a promotable clone, a dummy moved by anti-colocation,
	// an execution-date and an external/sbd fence device (a note).
	cibPromoted = "../../cib/pacemaker/testdata/parity/anti-colocation-promoted.xml"
	// cibFence: rh5node1 is unclean and fenced; its fence device is a
	// clone (not supported).
	cibFence = "../../cib/pacemaker/testdata/parity/stonith-3.xml"
	// cibUnsupported: objects Paceline does not model (bundle, ticket,
	// ...); app and vm1 remain.
	cibUnsupported = "../../cib/pacemaker/testdata/import/unsupported.xml"
	cibMalformed   = "../../cib/pacemaker/testdata/bad/malformed.xml"
)

// TestSimulateCIB runs `simulate --cib` on Pacemaker CIBs: the text form,
// -o json's outcome and both import reports, stdin, --skip-unsupported
// and the errors.
func TestSimulateCIB(t *testing.T) {
	// text: the CIB's time, the status read from it, then the plan
	r := runSim(t, "", "--cib", cibPromoted)
	if r.code != 0 {
		t.Fatalf("simulate --cib: %s", r)
	}
	contains(t, "simulate --cib", r.stdout,
		"Time: 2016-04-29T09:06:59Z (the CIB's execution-date)\n", "Quorum: yes\n",
		"sle12sp2-1  online, not probed  state1 (Promoted)",
		"dummy1    sle12sp2-1 Started", "state1:1  sle12sp2-2 Promoted",
		"promote state1 on sle12sp2-2")
	if r.stderr != "" {
		t.Errorf("nothing is left out, so nothing on stderr; got %q", r.stderr)
	}

	// -o json: outcome, import report (notes), status report
	type cibView struct {
		simulateView
		StatusReport map[string]any `json:"status-report"` // (no JSON names of its own)
	}
	decode := func(t *testing.T, r result) cibView {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("simulate --cib -o json: %s", r)
		}
		var v cibView
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
			t.Fatalf("-o json: %v\n%s", err, r.stdout)
		}
		if v.Outcome == nil || v.ImportReport == nil || v.StatusReport == nil || v.Plan == nil || v.Status == nil {
			t.Fatalf("-o json: want outcome, import-report, status-report, plan and status:\n%s", r.stdout)
		}
		return v
	}
	v := decode(t, runSim(t, "", "--cib", cibPromoted, "-o", "json"))
	o := v.Outcome
	if len(o.Primitives) != 1 || o.Primitives[0].ID != "dummy1" || o.Primitives[0].Role != cib.RoleStarted ||
		!slices.Equal(o.Primitives[0].Nodes, []string{"sle12sp2-1"}) {
		t.Errorf("outcome primitives: %+v", o.Primitives)
	}
	if len(o.Clones) != 1 || o.Clones[0].Clone != "ms1" || o.Clones[0].Rsc != "state1" || len(o.Clones[0].Instances) != 2 {
		t.Fatalf("outcome clones: %+v", o.Clones)
	}
	roles := map[string]string{}
	for _, in := range o.Clones[0].Instances {
		roles[in.Node] = in.Role
	}
	if roles["sle12sp2-1"] != cib.RoleUnpromoted || roles["sle12sp2-2"] != cib.RolePromoted {
		t.Errorf("ms1 instances: %+v", o.Clones[0].Instances)
	}
	if len(o.Fenced) != 0 {
		t.Errorf("fenced: %v", o.Fenced)
	}
	if !v.Now.Equal(time.Date(2016, 4, 29, 9, 6, 59, 0, time.UTC)) || v.StatusReport["now-source"] != "execution-date" {
		t.Errorf("now %s, status report %v: want the CIB's execution-date", v.Now, v.StatusReport)
	}
	if len(v.ImportReport.Unsupported) != 0 || !slices.ContainsFunc(v.ImportReport.Notes, func(it pacemaker.Item) bool {
		return it.ID == "st_sbd" && strings.Contains(it.What, "external/sbd")
	}) {
		t.Errorf("import report: want a note on st_sbd's agent external/sbd: %+v", v.ImportReport)
	}

	// fencing, from stdin (its cloned fence device is left out)
	v = decode(t, runSim(t, mustRead(t, cibFence), "--cib", "-", "--skip-unsupported", "-o", "json"))
	if !slices.Equal(v.Outcome.Fenced, []string{"rh5node1"}) || len(v.Outcome.Primitives) != 1 ||
		!slices.Equal(v.Outcome.Primitives[0].Nodes, []string{"rh5node2"}) {
		t.Errorf("stonith-3 outcome: %+v", v.Outcome)
	}
	if !slices.ContainsFunc(v.Plan.Actions, func(a scheduler.Action) bool { return a.Op == scheduler.OpFence && a.Node == "rh5node1" }) {
		t.Errorf("no fence of rh5node1 in the plan:\n%s", v.Plan.Format())
	}

	// unsupported objects: refused without --skip-unsupported; with it,
	// listed on stderr (text) or in the import report (json)
	r = runSim(t, "", "--cib", cibUnsupported)
	if r.code != 1 || !strings.Contains(r.stderr, "Paceline does not support") || !strings.Contains(r.stderr, "--skip-unsupported") || r.stdout != "" {
		t.Fatalf("unsupported without --skip-unsupported: want exit 1 and the reason; got %s", r)
	}
	r = runSim(t, "", "--cib", cibUnsupported, "--skip-unsupported")
	if r.code != 0 {
		t.Fatalf("--skip-unsupported: %s", r)
	}
	contains(t, "--skip-unsupported stderr", r.stderr, "Left out of "+cibUnsupported, `<bundle "httpd-bundle">`, `<rsc_ticket "app-ticket">`)
	contains(t, "--skip-unsupported stdout", r.stdout, "placement:", "app", "vm1")
	r = runSim(t, "", "--cib", cibUnsupported, "--skip-unsupported", "-o", "json")
	v = decode(t, r)
	if r.stderr != "" || len(v.ImportReport.Unsupported) == 0 || v.ImportReport.Unsupported[0].Element == "" {
		t.Errorf("-o json: want the unsupported objects in import-report, not on stderr; got %q, %+v", r.stderr, v.ImportReport)
	}

	// errors
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"with --config", []string{"--cib", cibPromoted, "--config", exampleConfig}, 2, "not with --config or --status"},
		{"with --status", []string{"--cib", cibPromoted, "--status", exampleStatus}, 2, "not with --config or --status"},
		{"skip without cib", []string{"--config", exampleConfig, "--skip-unsupported"}, 2, "--skip-unsupported goes with --cib"},
		{"missing", []string{"--cib", "/nonexistent/cib.xml"}, 1, "no such file"},
		{"malformed", []string{"--cib", cibMalformed}, 1, "malformed XML"},
		{"not a CIB", []string{"--cib", exampleConfig}, 1, exampleConfig},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runSim(t, "", c.args...)
			if r.code != c.code || !strings.Contains(r.stderr, c.want) || !strings.HasPrefix(r.stderr, "Error: ") {
				t.Fatalf("want exit %d and %q on stderr; got %s", c.code, c.want, r)
			}
		})
	}
}

func mustRead(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
