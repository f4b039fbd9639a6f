package scheduler

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/paceline/paceline/cib"
)

var update = flag.Bool("update", false, "rewrite the .out files of the scenario corpus")

// scenario is one case of the corpus: testdata/NAME.yaml holds the input and
// hand-written expectations, testdata/NAME.out the whole plan as Format
// prints it (rewritten by go test -run TestScenarios -update, then
// reviewed like code).
type scenario struct {
	Description string    `yaml:"description"`
	Now         time.Time `yaml:"now"`
	Config      yaml.Node `yaml:"config"`
	Status      yaml.Node `yaml:"status"`
	Expect      expect    `yaml:"expect"`
}

// expect is what a person says the plan must contain, independent of the
// golden file.
type expect struct {
	// Placement maps a primitive to "NODE ROLE" or "Stopped"; a cloned
	// primitive to its instances, "n1 Promoted, n2 Unpromoted" (by node
	// name, stopped instances left out).
	Placement map[string]string `yaml:"placement"`
	// Actions must all be in the plan (as Action.String prints them).
	Actions []string `yaml:"actions"`
	// ActionsExact says Actions is the whole plan, recurring monitors and
	// pseudo actions aside.
	ActionsExact bool `yaml:"actions-exact"`
	// NoActions must not be in the plan.
	NoActions []string `yaml:"no-actions"`
	// Order lists pairs [A, B]: B must (transitively) wait for A.
	Order [][2]string `yaml:"order"`
	// Warnings are substrings that some warning must contain.
	Warnings []string `yaml:"warnings"`
}

func loadScenario(t *testing.T, path string) (*scenario, *cib.Config, *Status) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sc scenario
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&sc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if sc.Description == "" {
		t.Fatalf("%s: no description", path)
	}
	cb, err := yaml.Marshal(&sc.Config)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := cib.DecodeYAML(cb)
	if err != nil {
		t.Fatalf("%s: config: %v", path, err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("%s: config does not validate:\n%v", path, err)
	}
	st := &Status{}
	if sc.Status.Kind != 0 {
		sb, err := yaml.Marshal(&sc.Status)
		if err != nil {
			t.Fatal(err)
		}
		if st, err = DecodeStatusYAML(sb); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	if err := st.Validate(cfg); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if sc.Now.IsZero() {
		sc.Now = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	}
	return &sc, cfg, st
}

func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/scenarios/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no scenarios in testdata/scenarios")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			sc, cfg, st := loadScenario(t, f)
			opt := Options{Now: sc.Now}
			plan, err := Schedule(cfg, st, opt)
			if err != nil {
				t.Fatalf("Schedule: %v", err)
			}
			got := plan.Format()
			again, err := Schedule(cfg, st, opt)
			if err != nil || again.Format() != got {
				t.Fatalf("a second run gave another plan (err %v)", err)
			}
			checkExpect(t, plan, &sc.Expect)
			golden := strings.TrimSuffix(f, ".yaml") + ".out"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it, then review it)", err)
			}
			if string(want) != got {
				t.Errorf("plan differs from %s\n--- want\n%s--- got\n%s", golden, want, got)
			}
		})
	}
}

// placementSummary renders what expect.Placement compares for primitive id.
func placementSummary(p *Plan, id string) (string, bool) {
	var parts []string
	found, cloned := false, false
	for _, pl := range p.Placements {
		if pl.Rsc != id {
			continue
		}
		found = true
		cloned = cloned || pl.Clone != ""
		if pl.Node != "" {
			parts = append(parts, pl.Node+" "+pl.Role)
		}
	}
	if !found {
		return "", false
	}
	if len(parts) == 0 {
		return "Stopped", true
	}
	slices.Sort(parts)
	return strings.Join(parts, ", "), true
}

func checkExpect(t *testing.T, p *Plan, e *expect) {
	t.Helper()
	for id, want := range e.Placement {
		got, ok := placementSummary(p, id)
		if !ok {
			t.Errorf("placement of %s: not in the plan", id)
		} else if got != want {
			t.Errorf("placement of %s: got %q, want %q", id, got, want)
		}
	}
	byName := map[string]int{}
	for i := range p.Actions {
		byName[p.Actions[i].String()] = i
	}
	for _, a := range e.Actions {
		if _, ok := byName[a]; !ok {
			t.Errorf("action %q missing from the plan", a)
		}
	}
	if e.ActionsExact {
		for i := range p.Actions {
			a := &p.Actions[i]
			if a.Op == OpPseudo || (a.Op == OpMonitor && a.Interval > 0) {
				continue
			}
			if !slices.Contains(e.Actions, a.String()) {
				t.Errorf("unexpected action %q", a.String())
			}
		}
	}
	for _, a := range e.NoActions {
		if _, ok := byName[a]; ok {
			t.Errorf("action %q must not be in the plan", a)
		}
	}
	for _, pair := range e.Order {
		a, okA := byName[pair[0]]
		b, okB := byName[pair[1]]
		if !okA || !okB {
			t.Errorf("order %q before %q: action missing", pair[0], pair[1])
			continue
		}
		if !waitsFor(p, b, a) {
			t.Errorf("%q does not wait for %q", pair[1], pair[0])
		}
	}
	for _, w := range e.Warnings {
		if !slices.ContainsFunc(p.Warnings, func(s string) bool { return strings.Contains(s, w) }) {
			t.Errorf("no warning contains %q (warnings: %q)", w, p.Warnings)
		}
	}
}

// waitsFor reports whether action b transitively waits for action a.
func waitsFor(p *Plan, b, a int) bool {
	seen := make([]bool, len(p.Actions))
	stack := []int{b}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, y := range p.Actions[x].After {
			if y == a {
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
