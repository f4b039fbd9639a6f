package cib

import (
	"slices"
	"strings"
	"testing"
)

func locIDs(c *Config) []string {
	var ids []string
	for _, l := range c.Constraints.Location {
		ids = append(ids, l.ID+"@"+l.Node+"="+l.Score.String())
	}
	slices.Sort(ids)
	return ids
}

// The operator's move, ban and clear, each one change.
func TestCLIConstraints(t *testing.T) {
	c := &Config{Nodes: []Node{{Name: "n1"}, {Name: "n2"}}, Primitives: []Primitive{{ID: "a", Agent: "ocf:heartbeat:Dummy"}}}
	steps := []struct {
		cmd  CLIConstraints
		want []string
		err  string
	}{
		{CLIConstraints{Rsc: "a", Move: "n1"}, []string{"cli-prefer-a@n1=INFINITY"}, ""},
		{CLIConstraints{Rsc: "a", Move: "n2"}, []string{"cli-prefer-a@n2=INFINITY"}, ""},
		{CLIConstraints{Rsc: "a", Ban: "n1"}, []string{"cli-ban-a-on-n1@n1=-INFINITY", "cli-prefer-a@n2=INFINITY"}, ""},
		{CLIConstraints{Rsc: "a", Ban: "n1"}, nil, "already banned"},
		{CLIConstraints{Rsc: "a", Move: "n1"}, []string{"cli-prefer-a@n1=INFINITY"}, ""},
		{CLIConstraints{Rsc: "a", Clear: true}, nil, ""},
		{CLIConstraints{Rsc: "a", Clear: true}, nil, "no move or ban"},
		{CLIConstraints{Rsc: "zz", Move: "n1"}, nil, `unknown resource "zz"`},
		{CLIConstraints{Rsc: "a", Move: "n9"}, nil, `unknown node "n9"`},
		{CLIConstraints{Rsc: "a", Move: "n1", Ban: "n2"}, nil, "exactly one"},
	}
	for i, s := range steps {
		before := locIDs(c)
		cmd := s.cmd
		next, _, err := c.Apply(Envelope{Cmd: &cmd})
		if s.err != "" {
			if err == nil || !strings.Contains(err.Error(), s.err) {
				t.Fatalf("step %d %+v: error %v, want %q", i, s.cmd, err, s.err)
			}
			if !slices.Equal(locIDs(c), before) {
				t.Fatalf("step %d: a refused change changed the configuration", i)
			}
			continue
		}
		if err != nil {
			t.Fatalf("step %d %+v: %v", i, s.cmd, err)
		}
		if got := locIDs(next); !slices.Equal(got, s.want) {
			t.Fatalf("step %d %+v: constraints %v, want %v", i, s.cmd, got, s.want)
		}
		c = next
	}
}

// --promoted: the move or ban of a promotable clone's promoted role, a
// constraint with role Promoted; refused for anything else.
func TestCLIConstraintsPromoted(t *testing.T) {
	c := &Config{Nodes: []Node{{Name: "n1"}, {Name: "n2"}},
		Primitives: []Primitive{{ID: "db", Agent: "ocf:heartbeat:Dummy"}, {ID: "web", Agent: "ocf:heartbeat:Dummy"}},
		Clones:     []Clone{{ID: "db-clone", Rsc: "db", Promotable: true}}}
	for _, tc := range []struct {
		cmd  CLIConstraints
		role string
		err  string
	}{
		{CLIConstraints{Rsc: "db-clone", Move: "n2", Promoted: true}, RolePromoted, ""},
		{CLIConstraints{Rsc: "db-clone", Ban: "n1", Promoted: true}, RolePromoted, ""},
		{CLIConstraints{Rsc: "db-clone", Move: "n2"}, "", ""},
		{CLIConstraints{Rsc: "web", Move: "n2", Promoted: true}, "", "only the promoted role of a promotable clone"},
		{CLIConstraints{Rsc: "db", Move: "n2", Promoted: true}, "", "give the clone's id"},
		{CLIConstraints{Rsc: "db-clone", Clear: true, Promoted: true}, "", "takes no promoted"},
	} {
		cmd := tc.cmd
		next, _, err := c.Apply(Envelope{Cmd: &cmd})
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%+v: error %v, want %q", tc.cmd, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%+v: %v", tc.cmd, err)
		}
		l := next.Constraints.Location[len(next.Constraints.Location)-1]
		if l.Role != tc.role || l.Rsc != "db-clone" {
			t.Errorf("%+v: constraint %+v, want role %q", tc.cmd, l, tc.role)
		}
	}
}

// PrimitivesOf: a primitive, a group's members, a clone's primitives
// (also through a group).
func TestPrimitivesOf(t *testing.T) {
	c := &Config{
		Primitives: []Primitive{{ID: "a"}, {ID: "b"}, {ID: "c"}, {ID: "d"}},
		Groups:     []Group{{ID: "g", Members: []string{"b", "c"}}},
		Clones:     []Clone{{ID: "gc", Rsc: "g"}, {ID: "dc", Rsc: "d"}},
	}
	for id, want := range map[string][]string{"a": {"a"}, "g": {"b", "c"}, "gc": {"b", "c"}, "dc": {"d"}, "zz": nil} {
		if got := c.PrimitivesOf(id); !slices.Equal(got, want) {
			t.Errorf("PrimitivesOf(%q) = %v, want %v", id, got, want)
		}
	}
}
