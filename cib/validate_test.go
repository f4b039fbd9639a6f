package cib

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestInvalidConfigs walks testdata/invalid: each file's first line is
// "# want: TEXT", and decoding or validating the file must fail with an
// error that contains TEXT.
func TestInvalidConfigs(t *testing.T) {
	files := testdataFiles(t, "invalid")
	if len(files) < 35 {
		t.Errorf("only %d invalid cases", len(files))
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := bytes.Cut(b, []byte("\n"))
			want, ok := strings.CutPrefix(string(first), "# want: ")
			if !ok || want == "" {
				t.Fatalf("first line must be '# want: TEXT', got %q", first)
			}
			c, err := DecodeYAML(b)
			if err == nil {
				err = c.Validate()
				if err == nil {
					t.Fatalf("decoded and validated; want an error containing %q", want)
				}
				var ve *ValidationError
				if !errors.As(err, &ve) || len(ve.Problems) == 0 {
					t.Fatalf("Validate returned %T, want *ValidationError", err)
				}
			}
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error does not contain %q:\n%v", want, err)
			}
		})
	}
}

func TestValidationErrorListsEveryProblem(t *testing.T) {
	c, err := DecodeYAML([]byte(`
properties: {bogus: "1", stonith-enabled: perhaps}
primitives:
  - {id: a, agent: "ocf:x"}
  - {id: a, agent: "lsb:y"}
constraints:
  order:
    - {id: o, first: a, then: ghost}
`))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate = %v, want *ValidationError", err)
	}
	want := []string{
		"properties[bogus]: unknown property",
		"properties[stonith-enabled]: \"perhaps\" is not a boolean",
		"primitives[a]: duplicate id \"a\": already used by another primitive",
		"primitives[a].agent: bad agent \"ocf:x\"",
		"constraints.order[o].then: unknown resource \"ghost\"",
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(ve.Problems) || len(lines) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ve.Problems), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("problem %d = %q, want prefix %q", i, lines[i], w)
		}
	}
}

func TestUnknownNodeInLocationIsAllowed(t *testing.T) {
	c := &Config{
		Nodes:      []Node{{Name: "n1"}},
		Primitives: []Primitive{{ID: "web", Agent: "ocf:heartbeat:Dummy"}},
	}
	l := NewLocation("l", "web")
	l.Node = "n9"
	c.Constraints.Location = []Location{l}
	if err := c.Validate(); err != nil {
		t.Fatalf("a location on a node not yet registered must validate: %v", err)
	}
}

func TestLegacyNamesValidateAndNormalize(t *testing.T) {
	c, err := DecodeYAML([]byte(`
primitives:
  - id: r
    agent: ocf:heartbeat:redis
    meta: {target-role: master}
    ops: [{name: monitor, interval: 10s, role: Master}, {name: monitor, interval: 11s, role: slave}]
  - {id: v, agent: "ocf:heartbeat:IPaddr2"}
clones: [{id: r-clone, rsc: r, promotable: true}]
constraints:
  colocation: [{id: c, rsc: v, with-rsc: r-clone, with-rsc-role: Master}]
  order: [{id: o, first: r-clone, first-action: promote, then: v, then-action: start, kind: Mandatory}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	p := c.Primitive("r")
	if p.Meta["target-role"] != "Promoted" || p.Ops[0].Role != "Promoted" || p.Ops[1].Role != "Unpromoted" {
		t.Errorf("roles not normalized: %+v", p)
	}
	if c.Constraints.Colocation[0].WithRscRole != "Promoted" || c.Constraints.Order[0].Kind != "mandatory" {
		t.Errorf("constraints not normalized: %+v", c.Constraints)
	}
	// Validate accepts the legacy forms without Normalize too.
	c.Constraints.Colocation[0].WithRscRole = "Master"
	c.Constraints.Order[0].Kind = "Mandatory"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestProperty(t *testing.T) {
	c := &Config{Properties: map[string]string{"no-quorum-policy": "freeze"}}
	for name, want := range map[string]string{
		"no-quorum-policy":  "freeze",
		"stonith-enabled":   "false",
		"stonith-timeout":   "60s",
		"symmetric-cluster": "true",
		"not-a-property":    "",
	} {
		if got := c.Property(name); got != want {
			t.Errorf("Property(%q) = %q, want %q", name, got, want)
		}
	}
	for name, def := range PropertyDefs {
		if def.Default != "" {
			if err := ValidateProperty(name, def.Default); err != nil {
				t.Errorf("default of %s does not validate: %v", name, err)
			}
		}
		if def.Description == "" {
			t.Errorf("property %s has no description", name)
		}
	}
	for name, def := range MetaDefs {
		if def.Default != "" {
			if why := checkValue(def.Type, def.Values, def.Legacy, def.Default); why != "" {
				t.Errorf("default of meta %s does not validate: %s", name, why)
			}
		}
	}
}

func TestValidatePropertyAndMeta(t *testing.T) {
	tests := []struct {
		err  error
		want string // "" for no error
	}{
		{ValidateProperty("no-quorum-policy", "demote"), ""},
		{ValidateProperty("stonith-enabled", "Yes"), ""},
		{ValidateProperty("placement-strategy", "utilization"), ""},
		{ValidateProperty("migration-limit", "-1"), ""},
		{ValidateProperty("batch-limit", "-1"), `property "batch-limit": "-1" is negative`},
		{ValidateProperty("cluster-recheck-interval", "2min"), ""},
		{ValidateProperty("cluster-recheck-interval", "PTNANS"), "is not a duration"},
		{ValidateProperty("symetric-cluster", "true"), `property "symetric-cluster": unknown property; did you mean "symmetric-cluster"?`},
		{ValidateMeta(KindPrimitive, false, "resource-stickiness", "-INFINITY"), ""},
		{ValidateMeta(KindPrimitive, false, "target-role", "Slave"), ""},
		{ValidateMeta(KindPrimitive, false, "target-role", "Master"), "target-role Promoted needs a promotable clone"},
		{ValidateMeta(KindPrimitive, true, "target-role", "Promoted"), ""},
		{ValidateMeta(KindGroup, false, "interleave", "true"), "it is a clone option"},
		{ValidateMeta(KindClone, false, "interleave", "true"), ""},
		{ValidateMeta(KindClone, true, "promoted-node-max", "2"), ""},
		{ValidateMeta(KindClone, false, "promoted-node-max", "2"), "only a promotable clone accepts it"},
		{ValidateMeta(KindClone, true, "master-node-max", "2"), `use "promoted-node-max"`},
		{ValidateMeta(KindClone, true, "clone-max", "two"), `"two" is not an integer`},
		{ValidateMeta("", false, "failure-timeout", "5min"), ""},
		{ValidateMeta("", false, "multiple-active", "explode"), `meta attribute "multiple-active": "explode" is not one of block, stop_only, stop_start, stop_unexpected`},
		{ValidateMeta(KindPrimitive, false, "requires", "unfencing"), ""},
		{ValidateMeta(KindPrimitive, false, "migration-threshold", "INFINITY"), ""},
		{ValidateMeta(KindPrimitive, false, "priority", "1.5"), "not an integer"},
	}
	for i, tt := range tests {
		switch {
		case tt.want == "" && tt.err != nil:
			t.Errorf("%d: unexpected error %v", i, tt.err)
		case tt.want != "" && (tt.err == nil || !strings.Contains(tt.err.Error(), tt.want)):
			t.Errorf("%d: error %v, want %q", i, tt.err, tt.want)
		}
	}
}

func TestParseBool(t *testing.T) {
	for _, s := range []string{"true", "Yes", "ON", "y", "1"} {
		if b, err := ParseBool(s); err != nil || !b {
			t.Errorf("ParseBool(%q) = %v, %v", s, b, err)
		}
	}
	for _, s := range []string{"false", "No", "off", "N", "0"} {
		if b, err := ParseBool(s); err != nil || b {
			t.Errorf("ParseBool(%q) = %v, %v", s, b, err)
		}
	}
	if _, err := ParseBool("maybe"); err == nil {
		t.Error("ParseBool(maybe) succeeded")
	}
}

func TestInvalidCasesAreDistinct(t *testing.T) {
	seen := map[string]string{}
	for _, f := range testdataFiles(t, "invalid") {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Scan()
		if prev, dup := seen[sc.Text()]; dup {
			t.Errorf("%s and %s expect the same error", prev, f)
		}
		seen[sc.Text()] = f
	}
}

// largeConfig has 10,000 primitives (in groups, cloned and alone) and
// 20,000 constraints, every order running from a lower unit to a higher one.
func largeConfig() *Config {
	c := &Config{Properties: map[string]string{"stonith-enabled": "true", "no-quorum-policy": "stop"}}
	for i := range 16 {
		c.Nodes = append(c.Nodes, Node{Name: fmt.Sprintf("node%02d", i), Attributes: map[string]string{"pingd": "1000"}})
	}
	var units []string
	for i := range 10_000 {
		id := fmt.Sprintf("p%05d", i)
		c.Primitives = append(c.Primitives, Primitive{ID: id, Agent: "ocf:heartbeat:Dummy",
			Params: map[string]string{"state": "/run/" + id}, Meta: map[string]string{"priority": "1"},
			Ops: []Op{{Name: "monitor", Interval: Duration(10 * time.Second)}, {Name: "start", Timeout: Duration(time.Minute)}}})
		switch {
		case i < 6000 && i%3 == 2:
			g := fmt.Sprintf("g%05d", i)
			c.Groups = append(c.Groups, Group{ID: g, Members: []string{c.Primitives[i-2].ID, c.Primitives[i-1].ID, id}})
			units = append(units, g)
		case i >= 6000 && i < 7000:
			c.Clones = append(c.Clones, Clone{ID: id + "-clone", Rsc: id, Meta: map[string]string{"interleave": "true"}})
			units = append(units, id+"-clone")
		case i >= 7000:
			units = append(units, id)
		}
	}
	for i := range 8000 {
		l := NewLocation(fmt.Sprintf("loc%05d", i), units[i%len(units)])
		if i%2 == 0 {
			l.Node = c.Nodes[i%16].Name
		} else {
			l.Rule, l.Score = "not_defined pingd or pingd lte 0", -Infinity
		}
		c.Constraints.Location = append(c.Constraints.Location, l)
	}
	for i := range 6000 {
		a, b := i%len(units), (i*7+1)%len(units)
		if a == b {
			b = (b + 1) % len(units)
		}
		c.Constraints.Colocation = append(c.Constraints.Colocation, NewColocation(fmt.Sprintf("col%05d", i), units[a], units[b]))
		lo, hi := min(a, b), max(a, b)
		c.Constraints.Order = append(c.Constraints.Order, NewOrder(fmt.Sprintf("ord%05d", i), units[lo], units[hi]))
	}
	return c
}

func TestLargeConfigValidates(t *testing.T) {
	c := largeConfig()
	if n := len(c.Constraints.Location) + len(c.Constraints.Colocation) + len(c.Constraints.Order); len(c.Primitives) != 10_000 || n != 20_000 {
		t.Fatalf("%d primitives, %d constraints", len(c.Primitives), n)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	// One back edge closes a long cycle through groups and clones.
	c.Constraints.Order = append(c.Constraints.Order, NewOrder("back", c.Constraints.Order[0].Then, c.Constraints.Order[0].First))
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "mandatory orders form a cycle") {
		t.Fatalf("want a cycle, got %v", err)
	}
}

func BenchmarkValidateLarge(b *testing.B) {
	c := largeConfig()
	for b.Loop() {
		if err := c.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}
