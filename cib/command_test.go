package cib

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2025, 11, 23, 9, 18, 0, 123, time.UTC)

// baseConfig is a small valid configuration the command tests change.
func baseConfig() *Config {
	return &Config{
		Epoch:      10,
		Properties: map[string]string{"stonith-enabled": "false"},
		Nodes:      []Node{{Name: "n1"}, {Name: "n2", Attributes: map[string]string{"site": "a"}}, {Name: "n3"}},
		Primitives: []Primitive{
			{ID: "vip", Agent: "ocf:heartbeat:IPaddr2", Params: map[string]string{"ip": "192.0.2.10"},
				Ops: []Op{{Name: "monitor", Interval: Duration(10 * time.Second)}}},
			{ID: "web", Agent: "ocf:heartbeat:nginx", Meta: map[string]string{"priority": "5"}},
			{ID: "db", Agent: "systemd:postgresql"},
			{ID: "ping", Agent: "ocf:pacemaker:ping"},
			{ID: "redis", Agent: "ocf:heartbeat:redis"},
			{ID: "mail", Agent: "systemd:postfix"},
		},
		Groups: []Group{{ID: "g", Members: []string{"vip", "web"}}},
		Clones: []Clone{{ID: "ping-clone", Rsc: "ping"}, {ID: "redis-clone", Rsc: "redis", Promotable: true}},
		Constraints: Constraints{
			Location:   []Location{{ID: "g-on-n1", Rsc: "g", Node: "n1", Score: 50}},
			Colocation: []Colocation{{ID: "g-with-ping", Rsc: "g", WithRsc: "ping-clone", Score: Infinity}},
			Order:      []Order{NewOrder("db-then-g", "db", "g")},
		},
		FenceDevices: []FenceDevice{{ID: "ipmi", Agent: "fence_ipmilan"}},
		FenceLevels:  []FenceLevel{{Target: "n1", Index: 1, Devices: []string{"ipmi"}}},
		Alerts:       baseAlerts(), // alert_test.go
	}
}

func members(c *Config, g string) []string {
	if grp := c.Group(g); grp != nil {
		return grp.Members
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

type commandCase struct {
	name    string
	cmd     Command
	wantErr string   // substring of the error; "" when the change is accepted
	object  string   // the object a rejection must name ("" when there is none)
	notes   []string // notes of an accepted change
	check   func(t *testing.T, c *Config)
}

func commandCases() []commandCase {
	loc := func(l Location) *Location { return &l }
	withNode := func(l Location, node string) Location { l.Node = node; return l }
	withRule := func(l Location, rule, role string) Location { l.Rule, l.Role = rule, role; return l }
	return append(append(alertCommandCases(), fenceCommandCases()...), []commandCase{ // alerts: alert_test.go, fencing: fence_command_test.go
		// ReplaceConfig
		{name: "replace", cmd: &ReplaceConfig{Config: &Config{Epoch: 99, Nodes: []Node{{Name: "x1"}}}},
			check: func(t *testing.T, c *Config) {
				// Registered nodes the replacement does not list are kept.
				names := []string{}
				for _, n := range c.Nodes {
					names = append(names, n.Name)
				}
				if !slices.Equal(names, []string{"x1", "n1", "n2", "n3"}) || len(c.Primitives) != 0 || c.Properties != nil {
					t.Errorf("not replaced: %+v", c)
				}
			}},
		{name: "replace/nil", cmd: &ReplaceConfig{}, wantErr: "replace config: no configuration"},
		{name: "replace/invalid", cmd: &ReplaceConfig{Config: &Config{Constraints: Constraints{
			Order: []Order{NewOrder("o1", "a", "b")}}}}, wantErr: `constraints.order[o1].first: unknown resource "a"`, object: "o1"},

		// CreatePrimitive
		{name: "create", cmd: &CreatePrimitive{Primitive: Primitive{ID: "new", Agent: "lsb:cron", Params: map[string]string{"a": "b"}}},
			check: func(t *testing.T, c *Config) {
				if p := c.Primitive("new"); p == nil || p.Params["a"] != "b" {
					t.Errorf("primitive not created: %+v", p)
				}
			}},
		{name: "create/in-group-after", cmd: &CreatePrimitive{Primitive: Primitive{ID: "new", Agent: "lsb:cron"}, Placement: Placement{Group: "g", After: "vip"}},
			check: func(t *testing.T, c *Config) {
				if got := members(c, "g"); !slices.Equal(got, []string{"vip", "new", "web"}) {
					t.Errorf("members = %v", got)
				}
			}},
		{name: "create/in-group-before", cmd: &CreatePrimitive{Primitive: Primitive{ID: "new", Agent: "lsb:cron"}, Placement: Placement{Group: "g", Before: "vip"}},
			check: func(t *testing.T, c *Config) {
				if got := members(c, "g"); !slices.Equal(got, []string{"new", "vip", "web"}) {
					t.Errorf("members = %v", got)
				}
			}},
		{name: "create/new-group", cmd: &CreatePrimitive{Primitive: Primitive{ID: "new", Agent: "lsb:cron"}, Placement: Placement{Group: "g2"}},
			check: func(t *testing.T, c *Config) {
				if got := members(c, "g2"); !slices.Equal(got, []string{"new"}) {
					t.Errorf("members = %v", got)
				}
			}},
		{name: "create/cloned", cmd: &CreatePrimitive{Primitive: Primitive{ID: "st", Agent: "ocf:pacemaker:Stateful",
			Ops: []Op{{Name: "monitor", Interval: Duration(5 * time.Second), Role: "Promoted"}}}, Clone: &CreateClone{Promotable: true}},
			check: func(t *testing.T, c *Config) {
				if cl := c.CloneByID("st-clone"); cl == nil || cl.Rsc != "st" || !cl.Promotable {
					t.Errorf("clone = %+v", cl)
				}
			}},
		{name: "create/cloned-in-group", cmd: &CreatePrimitive{Primitive: Primitive{ID: "st", Agent: "lsb:x"}, Placement: Placement{Group: "g"}, Clone: &CreateClone{}},
			wantErr: `resource "st": a clone cannot be in a group`, object: "st"},
		{name: "create/promoted-op-without-clone", cmd: &CreatePrimitive{Primitive: Primitive{ID: "st", Agent: "ocf:pacemaker:Stateful",
			Ops: []Op{{Name: "monitor", Interval: Duration(5 * time.Second), Role: "Promoted"}}}},
			wantErr: "primitives[st].ops[0].role: role Promoted applies only to a promotable clone", object: "st"},
		{name: "create/duplicate", cmd: &CreatePrimitive{Primitive: Primitive{ID: "web", Agent: "lsb:cron"}}, wantErr: `id "web" is already used by a primitive`, object: "web"},
		{name: "create/id-of-group", cmd: &CreatePrimitive{Primitive: Primitive{ID: "g", Agent: "lsb:cron"}}, wantErr: `id "g" is already used by a group`, object: "g"},
		{name: "create/id-of-constraint", cmd: &CreatePrimitive{Primitive: Primitive{ID: "g-on-n1", Agent: "lsb:cron"}}, wantErr: `already used by a location constraint`, object: "g-on-n1"},
		{name: "create/no-id", cmd: &CreatePrimitive{Primitive: Primitive{Agent: "lsb:cron"}}, wantErr: "an id is required"},
		{name: "create/bad-id", cmd: &CreatePrimitive{Primitive: Primitive{ID: "9lives", Agent: "lsb:cron"}}, wantErr: `id "9lives" must start with a letter`, object: "9lives"},
		{name: "create/bad-agent", cmd: &CreatePrimitive{Primitive: Primitive{ID: "new", Agent: "ocf:Dummy"}}, wantErr: `primitives[new].agent: bad agent "ocf:Dummy"`, object: "new"},
		{name: "create/bad-op", cmd: &CreatePrimitive{Primitive: Primitive{ID: "new", Agent: "lsb:cron", Ops: []Op{{Name: "stop", Interval: Duration(time.Second)}}}},
			wantErr: "primitives[new].ops[0].interval: only monitor ops recur", object: "new"},
		{name: "create/before-without-group", cmd: &CreatePrimitive{Primitive: Primitive{ID: "new", Agent: "lsb:cron"}, Placement: Placement{Before: "vip"}},
			wantErr: `resource "new": before/after need a group`, object: "new"},
		{name: "create/group-id-taken", cmd: &CreatePrimitive{Primitive: Primitive{ID: "new", Agent: "lsb:cron"}, Placement: Placement{Group: "db"}},
			wantErr: `group "db": id "db" is already used by a primitive`, object: "db"},
		{name: "create/after-non-member", cmd: &CreatePrimitive{Primitive: Primitive{ID: "new", Agent: "lsb:cron"}, Placement: Placement{Group: "g", After: "db"}},
			wantErr: `group "g": "db" is not a member`, object: "g"},

		// UpdateResource
		{name: "update/primitive", cmd: &UpdateResource{ID: "vip", Params: Patch{Set: map[string]string{"cidr_netmask": "24"}, Unset: []string{"ip"}},
			Meta: Patch{Set: map[string]string{"resource-stickiness": "100"}}, Utilization: Patch{Set: map[string]string{"cpu": "2"}},
			SetOps: []Op{{Name: "monitor", Interval: Duration(5 * time.Second)}, {Name: "monitor", Interval: Duration(7 * time.Second)}}},
			check: func(t *testing.T, c *Config) {
				p := c.Primitive("vip")
				want := Primitive{ID: "vip", Agent: "ocf:heartbeat:IPaddr2", Params: map[string]string{"cidr_netmask": "24"},
					Meta: map[string]string{"resource-stickiness": "100"}, Utilization: map[string]int64{"cpu": 2},
					Ops: []Op{{Name: "monitor", Interval: Duration(5 * time.Second)}, {Name: "monitor", Interval: Duration(7 * time.Second)}}}
				if !reflect.DeepEqual(*p, want) {
					t.Errorf("got %+v\nwant %+v", *p, want)
				}
			}},
		{name: "update/agent-and-remove-ops", cmd: &UpdateResource{ID: "vip", Agent: "ocf:heartbeat:IPaddr", RemoveOps: []string{"monitor"}},
			check: func(t *testing.T, c *Config) {
				if p := c.Primitive("vip"); p.Agent != "ocf:heartbeat:IPaddr" || p.Ops != nil {
					t.Errorf("got %+v", p)
				}
			}},
		{name: "update/group-meta", cmd: &UpdateResource{ID: "g", Meta: Patch{Set: map[string]string{"target-role": "Stopped"}}},
			check: func(t *testing.T, c *Config) {
				if c.Group("g").Meta["target-role"] != "Stopped" {
					t.Errorf("group meta = %v", c.Group("g").Meta)
				}
			}},
		{name: "update/clone-meta", cmd: &UpdateResource{ID: "redis-clone", Meta: Patch{Set: map[string]string{"promoted-max": "2"}}},
			check: func(t *testing.T, c *Config) {
				if c.CloneByID("redis-clone").Meta["promoted-max"] != "2" {
					t.Errorf("clone meta = %v", c.CloneByID("redis-clone").Meta)
				}
			}},
		{name: "update/unset-last-meta", cmd: &UpdateResource{ID: "web", Meta: Patch{Unset: []string{"priority"}}},
			check: func(t *testing.T, c *Config) {
				if c.Primitive("web").Meta != nil {
					t.Errorf("meta = %#v, want nil", c.Primitive("web").Meta)
				}
			}},
		{name: "update/unknown", cmd: &UpdateResource{ID: "nope", Meta: Patch{Set: map[string]string{"priority": "1"}}}, wantErr: `unknown resource "nope"`, object: "nope"},
		{name: "update/group-params", cmd: &UpdateResource{ID: "g", Params: Patch{Set: map[string]string{"a": "b"}}}, wantErr: `group "g": only meta attributes`, object: "g"},
		{name: "update/clone-agent", cmd: &UpdateResource{ID: "ping-clone", Agent: "lsb:x"}, wantErr: `clone "ping-clone": only meta attributes`, object: "ping-clone"},
		{name: "update/bad-meta", cmd: &UpdateResource{ID: "web", Meta: Patch{Set: map[string]string{"is-managed": "perhaps"}}},
			wantErr: `primitives[web].meta[is-managed]: "perhaps" is not a boolean`, object: "web"},
		{name: "update/promotable-meta-on-plain-clone", cmd: &UpdateResource{ID: "ping-clone", Meta: Patch{Set: map[string]string{"promoted-max": "1"}}},
			wantErr: `clones[ping-clone].meta[promoted-max]: only a promotable clone accepts it`, object: "ping-clone"},
		{name: "update/remove-missing-op", cmd: &UpdateResource{ID: "web", RemoveOps: []string{"monitor"}}, wantErr: `resource "web": no monitor op to remove`, object: "web"},
		{name: "update/bad-utilization", cmd: &UpdateResource{ID: "web", Utilization: Patch{Set: map[string]string{"cpu": "two"}}},
			wantErr: `resource "web": utilization "cpu": "two" is not an integer`, object: "web"},
		{name: "update/bad-agent", cmd: &UpdateResource{ID: "web", Agent: "nope"}, wantErr: `primitives[web].agent`, object: "web"},

		// DeleteResource
		{name: "delete/primitive", cmd: &DeleteResource{ID: "db"}, notes: []string{`removed order constraint "db-then-g"`},
			check: func(t *testing.T, c *Config) {
				if c.Primitive("db") != nil || len(c.Constraints.Order) != 0 {
					t.Errorf("not deleted: %+v", c)
				}
			}},
		{name: "delete/group", cmd: &DeleteResource{ID: "g"}, notes: []string{`removed member "vip"`, `removed member "web"`,
			`removed location constraint "g-on-n1"`, `removed colocation constraint "g-with-ping"`, `removed order constraint "db-then-g"`},
			check: func(t *testing.T, c *Config) {
				if c.Group("g") != nil || c.Primitive("vip") != nil || c.Primitive("web") != nil || !c.Constraints.IsZero() {
					t.Errorf("not deleted: %+v", c)
				}
			}},
		{name: "delete/clone", cmd: &DeleteResource{ID: "ping-clone"}, notes: []string{`removed cloned resource "ping"`, `removed colocation constraint "g-with-ping"`},
			check: func(t *testing.T, c *Config) {
				if c.CloneByID("ping-clone") != nil || c.Primitive("ping") != nil {
					t.Errorf("not deleted: %+v", c)
				}
			}},
		{name: "delete/cloned-primitive", cmd: &DeleteResource{ID: "redis"}, notes: []string{`removed clone "redis-clone"`},
			check: func(t *testing.T, c *Config) {
				if c.CloneByID("redis-clone") != nil {
					t.Error("clone left behind")
				}
			}},
		{name: "delete/member", cmd: &DeleteResource{ID: "vip"},
			check: func(t *testing.T, c *Config) {
				if got := members(c, "g"); !slices.Equal(got, []string{"web"}) {
					t.Errorf("members = %v", got)
				}
			}},
		{name: "delete/unknown", cmd: &DeleteResource{ID: "nope"}, wantErr: `unknown resource "nope"`, object: "nope"},
		{name: "delete/constraint-id", cmd: &DeleteResource{ID: "g-on-n1"}, wantErr: `unknown resource "g-on-n1"`, object: "g-on-n1"},

		// GroupAdd
		{name: "group-add/end", cmd: &GroupAdd{Group: "g", Members: []string{"mail"}},
			check: func(t *testing.T, c *Config) {
				if got := members(c, "g"); !slices.Equal(got, []string{"vip", "web", "mail"}) {
					t.Errorf("members = %v", got)
				}
			}},
		{name: "group-add/before", cmd: &GroupAdd{Group: "g", Members: []string{"mail"}, Before: "web"},
			check: func(t *testing.T, c *Config) {
				if got := members(c, "g"); !slices.Equal(got, []string{"vip", "mail", "web"}) {
					t.Errorf("members = %v", got)
				}
			}},
		{name: "group-add/after", cmd: &GroupAdd{Group: "g", Members: []string{"mail"}, After: "vip"},
			check: func(t *testing.T, c *Config) {
				if got := members(c, "g"); !slices.Equal(got, []string{"vip", "mail", "web"}) {
					t.Errorf("members = %v", got)
				}
			}},
		{name: "group-add/reorder", cmd: &GroupAdd{Group: "g", Members: []string{"web"}, Before: "vip"},
			check: func(t *testing.T, c *Config) {
				if got := members(c, "g"); !slices.Equal(got, []string{"web", "vip"}) {
					t.Errorf("members = %v", got)
				}
			}},
		{name: "group-add/new-group-moves", cmd: &GroupAdd{Group: "g2", Members: []string{"web"}}, notes: []string{`moved "web" out of group "g"`},
			check: func(t *testing.T, c *Config) {
				if !slices.Equal(members(c, "g"), []string{"vip"}) || !slices.Equal(members(c, "g2"), []string{"web"}) {
					t.Errorf("groups = %+v", c.Groups)
				}
			}},
		{name: "group-add/empties-old-group", cmd: &GroupAdd{Group: "g2", Members: []string{"vip", "web"}},
			notes: []string{`moved "vip" out of group "g"`, `moved "web" out of group "g"`, `removed empty group "g"`,
				`removed location constraint "g-on-n1"`, `removed colocation constraint "g-with-ping"`, `removed order constraint "db-then-g"`},
			check: func(t *testing.T, c *Config) {
				if c.Group("g") != nil || !slices.Equal(members(c, "g2"), []string{"vip", "web"}) {
					t.Errorf("groups = %+v", c.Groups)
				}
			}},
		{name: "group-add/unknown-member", cmd: &GroupAdd{Group: "g", Members: []string{"nope"}}, wantErr: `group "g": unknown resource "nope"`, object: "nope"},
		{name: "group-add/clone", cmd: &GroupAdd{Group: "g", Members: []string{"ping-clone"}}, wantErr: `group "g": "ping-clone" is a clone`, object: "ping-clone"},
		{name: "group-add/cloned-primitive", cmd: &GroupAdd{Group: "g", Members: []string{"ping"}}, wantErr: `"ping" is cloned by "ping-clone"`, object: "ping"},
		{name: "group-add/group", cmd: &GroupAdd{Group: "g2", Members: []string{"g"}}, wantErr: `group "g2": "g" is a group`, object: "g"},
		{name: "group-add/already-member", cmd: &GroupAdd{Group: "g", Members: []string{"web"}}, wantErr: `group "g": "web" is already a member`, object: "web"},
		{name: "group-add/before-and-after", cmd: &GroupAdd{Group: "g", Members: []string{"db"}, Before: "vip", After: "web"}, wantErr: "give before or after, not both", object: "g"},
		{name: "group-add/nothing", cmd: &GroupAdd{Group: "g"}, wantErr: `group "g": no resources to add`, object: "g"},
		{name: "group-add/twice-in-list", cmd: &GroupAdd{Group: "g", Members: []string{"mail", "mail"}}, wantErr: `groups[g].members[3]: "mail" is listed twice`, object: "g"},
		{name: "group-add/new-group", cmd: &GroupAdd{Group: "grp", Members: []string{"mail"}}, // a valid new group
			check: func(t *testing.T, c *Config) {
				if !slices.Equal(members(c, "grp"), []string{"mail"}) {
					t.Errorf("groups = %+v", c.Groups)
				}
			}},

		{name: "group-add/creates-cycle", cmd: &GroupAdd{Group: "g", Members: []string{"db"}},
			wantErr: `mandatory orders form a cycle: db start -> vip start (order "db-then-g") -> web start (group "g") -> db start (group "g")`, object: "db-then-g"},

		// GroupRemove
		{name: "group-remove/one", cmd: &GroupRemove{Group: "g", Members: []string{"web"}},
			check: func(t *testing.T, c *Config) {
				if !slices.Equal(members(c, "g"), []string{"vip"}) || c.Primitive("web") == nil {
					t.Errorf("groups = %+v", c.Groups)
				}
			}},
		{name: "group-remove/all", cmd: &GroupRemove{Group: "g", Members: []string{"web", "vip"}},
			notes: []string{`removed empty group "g"`, `removed location constraint "g-on-n1"`, `removed colocation constraint "g-with-ping"`, `removed order constraint "db-then-g"`},
			check: func(t *testing.T, c *Config) {
				if c.Group("g") != nil || c.Primitive("vip") == nil || c.Primitive("web") == nil {
					t.Errorf("got %+v", c)
				}
			}},
		{name: "group-remove/unknown-group", cmd: &GroupRemove{Group: "nope", Members: []string{"web"}}, wantErr: `unknown group "nope"`, object: "nope"},
		{name: "group-remove/not-member", cmd: &GroupRemove{Group: "g", Members: []string{"db"}}, wantErr: `group "g": "db" is not a member`, object: "db"},
		{name: "group-remove/nothing", cmd: &GroupRemove{Group: "g"}, wantErr: `group "g": no resources to remove`, object: "g"},

		// CreateClone
		{name: "clone/default-id", cmd: &CreateClone{Rsc: "db", Meta: map[string]string{"clone-max": "2"}},
			check: func(t *testing.T, c *Config) {
				if cl := c.CloneByID("db-clone"); cl == nil || cl.Rsc != "db" || cl.Meta["clone-max"] != "2" {
					t.Errorf("clone = %+v", cl)
				}
			}},
		{name: "clone/group-promotable", cmd: &CreateClone{ID: "g-ms", Rsc: "g", Promotable: true, Meta: map[string]string{"promoted-max": "1"}},
			check: func(t *testing.T, c *Config) {
				if cl := c.CloneByID("g-ms"); cl == nil || !cl.Promotable {
					t.Errorf("clone = %+v", cl)
				}
			}},
		{name: "clone/unknown", cmd: &CreateClone{Rsc: "nope"}, wantErr: `clone "nope-clone": unknown resource "nope"`, object: "nope"},
		{name: "clone/grouped", cmd: &CreateClone{Rsc: "vip"}, wantErr: `clone "vip-clone": "vip" is in group "g"; clone the group instead`, object: "vip"},
		{name: "clone/clone", cmd: &CreateClone{Rsc: "ping-clone"}, wantErr: `"ping-clone" is already a clone`, object: "ping-clone"},
		{name: "clone/already-cloned", cmd: &CreateClone{ID: "ping2", Rsc: "ping"}, wantErr: `clone "ping2": "ping" is already cloned by "ping-clone"`, object: "ping"},
		{name: "clone/id-taken", cmd: &CreateClone{ID: "web", Rsc: "db"}, wantErr: `clone "web": id "web" is already used by a primitive`, object: "web"},
		{name: "clone/promotable-meta-on-plain", cmd: &CreateClone{Rsc: "db", Meta: map[string]string{"promoted-max": "1"}},
			wantErr: `clones[db-clone].meta[promoted-max]: only a promotable clone accepts it`, object: "db-clone"},

		// Unclone
		{name: "unclone/by-id", cmd: &Unclone{ID: "ping-clone"}, notes: []string{`removed colocation constraint "g-with-ping"`},
			check: func(t *testing.T, c *Config) {
				if c.CloneByID("ping-clone") != nil || c.Primitive("ping") == nil {
					t.Errorf("got %+v", c.Clones)
				}
			}},
		{name: "unclone/by-inner-id", cmd: &Unclone{ID: "redis"},
			check: func(t *testing.T, c *Config) {
				if c.CloneByID("redis-clone") != nil || c.Primitive("redis") == nil {
					t.Errorf("got %+v", c.Clones)
				}
			}},
		{name: "unclone/unknown", cmd: &Unclone{ID: "web"}, wantErr: `unknown clone "web"`, object: "web"},

		// AddConstraint
		{name: "constraint/location", cmd: &AddConstraint{Location: loc(withNode(NewLocation("db-on-n2", "db"), "n2"))},
			check: func(t *testing.T, c *Config) {
				if len(c.Constraints.Location) != 2 || c.Constraints.Location[1].Score != Infinity {
					t.Errorf("got %+v", c.Constraints.Location)
				}
			}},
		{name: "constraint/location-rule-promoted", cmd: &AddConstraint{Location: loc(withRule(NewLocation("r-on-a", "redis-clone"), "site eq a", "Promoted"))}},
		{name: "constraint/colocation", cmd: &AddConstraint{Colocation: ptr(NewColocation("db-with-g", "db", "g"))}},
		{name: "constraint/order", cmd: &AddConstraint{Order: ptr(Order{ID: "ping-then-db", First: "ping-clone", FirstAction: "start", Then: "db", ThenAction: "start", Kind: "optional"})}},
		{name: "constraint/none", cmd: &AddConstraint{}, wantErr: "give exactly one of location, colocation, order (got 0)"},
		{name: "constraint/two", cmd: &AddConstraint{Location: loc(withNode(NewLocation("x", "db"), "n1")), Colocation: ptr(NewColocation("y", "db", "g"))},
			wantErr: "got 2"},
		{name: "constraint/no-id", cmd: &AddConstraint{Order: ptr(NewOrder("", "db", "web"))}, wantErr: "an id is required"},
		{name: "constraint/unknown-resource", cmd: &AddConstraint{Colocation: ptr(NewColocation("c2", "db", "ghost"))},
			wantErr: `constraints.colocation[c2].with-rsc: unknown resource "ghost"`, object: "c2"},
		{name: "constraint/duplicate-id", cmd: &AddConstraint{Order: ptr(NewOrder("g-on-n1", "db", "web"))},
			wantErr: `constraints.order[g-on-n1]: duplicate id "g-on-n1": already used by a location constraint`, object: "g-on-n1"},
		{name: "constraint/cycle", cmd: &AddConstraint{Order: ptr(NewOrder("web-then-db", "web", "db"))},
			wantErr: `constraints.order[db-then-g]: mandatory orders form a cycle: db start -> vip start (order "db-then-g") -> web start (group "g") -> db start (order "web-then-db")`, object: "web-then-db"},
		{name: "constraint/bad-rule", cmd: &AddConstraint{Location: loc(withRule(NewLocation("l2", "db"), "site eq", ""))},
			wantErr: `constraints.location[l2].rule: bad rule "site eq"`, object: "l2"},
		{name: "constraint/promoted-not-promotable", cmd: &AddConstraint{Location: loc(withRule(NewLocation("l2", "db"), "site eq a", "Promoted"))},
			wantErr: `constraints.location[l2].role: role Promoted applies only to a promotable clone`, object: "l2"},

		// DeleteConstraint
		{name: "delete-constraint", cmd: &DeleteConstraint{ID: "g-with-ping"},
			check: func(t *testing.T, c *Config) {
				if len(c.Constraints.Colocation) != 0 {
					t.Errorf("got %+v", c.Constraints)
				}
			}},
		{name: "delete-constraint/unknown", cmd: &DeleteConstraint{ID: "web"}, wantErr: `unknown constraint "web"`, object: "web"},

		// SetProperties and SetResourceDefaults
		{name: "properties", cmd: &SetProperties{Patch: Patch{Set: map[string]string{"no-quorum-policy": "freeze"}, Unset: []string{"stonith-enabled"}}},
			check: func(t *testing.T, c *Config) {
				if !reflect.DeepEqual(c.Properties, map[string]string{"no-quorum-policy": "freeze"}) {
					t.Errorf("got %v", c.Properties)
				}
			}},
		{name: "properties/empty", cmd: &SetProperties{}, wantErr: "set properties: nothing to change"},
		{name: "properties/bad-value", cmd: &SetProperties{Patch: Patch{Set: map[string]string{"stonith-timeout": "forever"}}},
			wantErr: `properties[stonith-timeout]: "forever" is not a duration`, object: "stonith-timeout"},
		{name: "properties/unknown", cmd: &SetProperties{Patch: Patch{Set: map[string]string{"quorum-policy": "stop"}}},
			wantErr: `properties[quorum-policy]: unknown property`, object: "quorum-policy"},
		{name: "defaults", cmd: &SetResourceDefaults{Patch: Patch{Set: map[string]string{"resource-stickiness": "100"}}},
			check: func(t *testing.T, c *Config) {
				if c.ResourceDefaults["resource-stickiness"] != "100" {
					t.Errorf("got %v", c.ResourceDefaults)
				}
			}},
		{name: "defaults/empty", cmd: &SetResourceDefaults{}, wantErr: "set resource defaults: nothing to change"},
		{name: "defaults/bad", cmd: &SetResourceDefaults{Patch: Patch{Set: map[string]string{"priority": "high"}}},
			wantErr: `resource-defaults[priority]: "high" is not an integer`, object: "priority"},

		// UpdateNode and RegisterNode
		{name: "node/update", cmd: &UpdateNode{Name: "n2", Attributes: Patch{Set: map[string]string{"rack": "r1"}, Unset: []string{"site"}},
			Utilization: Patch{Set: map[string]string{"memory": "2048"}}, Standby: ptr(true), Maintenance: ptr(true), Votes: ptr(2)},
			check: func(t *testing.T, c *Config) {
				want := Node{Name: "n2", Votes: 2, Attributes: map[string]string{"rack": "r1"}, Utilization: map[string]int64{"memory": 2048}, Standby: true, Maintenance: true}
				if !reflect.DeepEqual(*c.Node("n2"), want) {
					t.Errorf("got %+v", *c.Node("n2"))
				}
			}},
		{name: "node/unknown", cmd: &UpdateNode{Name: "n9", Standby: ptr(true)}, wantErr: `unknown node "n9"`, object: "n9"},
		{name: "node/negative-votes", cmd: &UpdateNode{Name: "n1", Votes: ptr(-1)}, wantErr: "nodes[n1].votes: votes must not be negative", object: "n1"},
		{name: "node/bad-utilization", cmd: &UpdateNode{Name: "n1", Utilization: Patch{Set: map[string]string{"cpu": "1.5"}}},
			wantErr: `node "n1": utilization "cpu": "1.5" is not an integer`, object: "n1"},
		{name: "node/bad-attribute", cmd: &UpdateNode{Name: "n1", Attributes: Patch{Set: map[string]string{"#uname": "x"}}},
			wantErr: `nodes[n1].attributes["#uname"]`, object: "n1"},
		{name: "register", cmd: &RegisterNode{Name: "n4"},
			check: func(t *testing.T, c *Config) {
				if c.Node("n4") == nil {
					t.Error("not registered")
				}
			}},
		{name: "register/existing", cmd: &RegisterNode{Name: "n1"},
			check: func(t *testing.T, c *Config) {
				if len(c.Nodes) != 3 {
					t.Errorf("nodes = %+v", c.Nodes)
				}
			}},
		{name: "register/bad-name", cmd: &RegisterNode{Name: "n 4"}, wantErr: `node name "n 4" is not a valid host name`, object: "n 4"},
		{name: "register/case-duplicate", cmd: &RegisterNode{Name: "N1"}, wantErr: `nodes[N1]: duplicate node "N1"`, object: "N1"},
		// CLIConstraints (resource move, ban, clear)
		{name: "cli/move", cmd: &CLIConstraints{Rsc: "g", Move: "n2"},
			notes: []string{"added constraint cli-prefer-g: g prefers n2 (INFINITY); `resource clear g` removes it"},
			check: func(t *testing.T, c *Config) {
				if !slices.ContainsFunc(c.Constraints.Location, func(l Location) bool { return l.ID == "cli-prefer-g" && l.Node == "n2" && l.Score == Infinity }) {
					t.Errorf("locations %+v", c.Constraints.Location)
				}
			}},
		{name: "cli/ban", cmd: &CLIConstraints{Rsc: "db", Ban: "n3"},
			notes: []string{"added constraint cli-ban-db-on-n3: db avoids n3 (-INFINITY); `resource clear db` removes it"}},
		{name: "cli/unknown-node", cmd: &CLIConstraints{Rsc: "db", Ban: "n9"}, wantErr: `resource "db": unknown node "n9"`, object: "db"},
		{name: "cli/nothing-to-clear", cmd: &CLIConstraints{Rsc: "db", Clear: true}, wantErr: `resource "db" has no move or ban to clear`, object: "db"},
	}...)
}

func TestCommandApply(t *testing.T) {
	seen := map[CommandType]bool{}
	for _, tt := range commandCases() {
		t.Run(tt.name, func(t *testing.T) {
			c := baseConfig()
			if err := c.Validate(); err != nil {
				t.Fatalf("base config: %v", err)
			}
			before := c.Clone()
			next, notes, err := c.Apply(Envelope{Origin: "n1", Time: t0, Cmd: tt.cmd})
			if !reflect.DeepEqual(c, before) {
				t.Fatalf("Apply changed the original config:\nbefore %+v\nafter  %+v", before, c)
			}
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("accepted; want an error containing %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %q, want it to contain %q", err, tt.wantErr)
				}
				if tt.object != "" && !strings.Contains(err.Error(), `"`+tt.object+`"`) && !strings.Contains(err.Error(), "["+tt.object+"]") {
					t.Errorf("error %q does not name %q", err, tt.object)
				}
				if next != nil || notes != nil {
					t.Errorf("a rejected change returned %v, %v", next, notes)
				}
				return
			}
			seen[tt.cmd.Type()] = true
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if next.Epoch != c.Epoch+1 {
				t.Errorf("epoch %d, want %d", next.Epoch, c.Epoch+1)
			}
			wantChange := Change{Time: t0, Origin: "n1", Command: tt.cmd.Type().String()}
			if next.LastChange == nil || *next.LastChange != wantChange {
				t.Errorf("last change %+v, want %+v", next.LastChange, wantChange)
			}
			if !slices.Equal(notes, tt.notes) {
				t.Errorf("notes:\ngot  %q\nwant %q", notes, tt.notes)
			}
			if err := next.Validate(); err != nil {
				t.Errorf("result does not validate: %v", err)
			}
			if tt.check != nil {
				tt.check(t, next)
			}
		})
	}
	for typ := range commandTable {
		if !seen[typ] {
			t.Errorf("no accepted case for %v", typ)
		}
	}
}

// TestEpochGrowsByOne applies a sequence of changes, some rejected: the
// epoch grows by one per accepted change only.
func TestEpochGrowsByOne(t *testing.T) {
	c := baseConfig()
	epoch := c.Epoch
	accepted := 0
	for _, tt := range commandCases() {
		next, _, err := c.Apply(Envelope{Time: t0, Cmd: tt.cmd})
		if err != nil {
			if next != nil {
				t.Fatalf("%s: error with a config", tt.name)
			}
			continue
		}
		accepted++
		if next.Epoch != c.Epoch+1 {
			t.Fatalf("%s: epoch %d after %d", tt.name, next.Epoch, c.Epoch)
		}
		c = next
	}
	if accepted == 0 || c.Epoch != epoch+uint64(accepted) {
		t.Errorf("epoch %d after %d accepted changes from %d", c.Epoch, accepted, epoch)
	}
}

func TestDeleteLastMemberRemovesClonedGroup(t *testing.T) {
	c := baseConfig()
	steps := []Command{
		&CreateClone{ID: "g-clone", Rsc: "g"},
		&DeleteResource{ID: "vip"},
	}
	for _, s := range steps {
		next, _, err := c.Apply(Envelope{Time: t0, Cmd: s})
		if err != nil {
			t.Fatalf("%T: %v", s, err)
		}
		c = next
	}
	next, notes, err := c.Apply(Envelope{Time: t0, Cmd: &DeleteResource{ID: "web"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`removed empty group "g"`, `removed clone "g-clone" of the empty group`,
		`removed location constraint "g-on-n1"`, `removed colocation constraint "g-with-ping"`, `removed order constraint "db-then-g"`}
	if !slices.Equal(notes, want) {
		t.Errorf("notes:\ngot  %q\nwant %q", notes, want)
	}
	if next.Group("g") != nil || next.CloneByID("g-clone") != nil {
		t.Errorf("group or clone left: %+v %+v", next.Groups, next.Clones)
	}
}

// sampleCommands has one filled-in command of every type.
func sampleCommands(t testing.TB) []Command {
	b, err := os.ReadFile("testdata/valid/everything.yaml")
	if err != nil {
		t.Fatal(err)
	}
	everything, err := DecodeYAML(b)
	if err != nil {
		t.Fatal(err)
	}
	return append(append(alertSampleCommands(), fenceSampleCommands()...), []Command{ // alerts: alert_test.go, fencing: fence_command_test.go
		&ReplaceConfig{Config: everything},
		&CreatePrimitive{Primitive: Primitive{ID: "p", Agent: "ocf:heartbeat:Dummy", Params: map[string]string{"a": "1"},
			Meta: map[string]string{"priority": "2"}, Ops: []Op{{Name: "monitor", Interval: Duration(time.Second), Timeout: Duration(time.Minute), Role: "Started", OnFail: "block"}},
			Utilization: map[string]int64{"cpu": 1}}, Placement: Placement{Group: "g", After: "vip"}},
		&CreatePrimitive{Primitive: Primitive{ID: "q", Agent: "lsb:q"}, Clone: &CreateClone{ID: "qc", Promotable: true, Meta: map[string]string{"notify": "true"}}},
		&UpdateResource{ID: "p", Agent: "lsb:x", Params: Patch{Set: map[string]string{"a": "2"}, Unset: []string{"b"}},
			Meta: Patch{Unset: []string{"priority"}}, Utilization: Patch{Set: map[string]string{"cpu": "3"}},
			SetOps: []Op{{Name: "start", Timeout: Duration(time.Second)}}, RemoveOps: []string{"monitor"}},
		&DeleteResource{ID: "p"},
		&GroupAdd{Group: "g", Members: []string{"a", "b"}, Before: "c"},
		&GroupRemove{Group: "g", Members: []string{"a"}},
		&CreateClone{ID: "c", Rsc: "p", Promotable: true, Meta: map[string]string{"promoted-max": "1"}},
		&Unclone{ID: "c"},
		&AddConstraint{Location: &Location{ID: "l", Rsc: "p", Rule: "defined pingd", Score: -Infinity, ScoreAttribute: "pingd", Role: "Promoted"}},
		&AddConstraint{Colocation: &Colocation{ID: "co", Rsc: "a", WithRsc: "b", Score: -20, RscRole: "Started", WithRscRole: "Promoted"}},
		&AddConstraint{Order: &Order{ID: "o", First: "a", FirstAction: "promote", Then: "b", ThenAction: "start", Kind: "serialize"}},
		&DeleteConstraint{ID: "o"},
		&SetProperties{Patch: Patch{Set: map[string]string{"stonith-enabled": "true"}, Unset: []string{"maintenance-mode"}}},
		&SetResourceDefaults{Patch: Patch{Set: map[string]string{"resource-stickiness": "1"}}},
		&UpdateNode{Name: "n1", Attributes: Patch{Set: map[string]string{"x": "y"}}, Utilization: Patch{Unset: []string{"cpu"}},
			Standby: ptr(false), Maintenance: ptr(true), Votes: ptr(0)},
		&RegisterNode{Name: "n1"},
		&CLIConstraints{Rsc: "g", Move: "n2"},
	}...)
}

func TestCommandCodecRoundTrip(t *testing.T) {
	covered := map[CommandType]bool{}
	for _, cmd := range sampleCommands(t) {
		covered[cmd.Type()] = true
		e := Envelope{Origin: "node-a", Time: t0, Cmd: cmd}
		b, err := EncodeCommand(e)
		if err != nil {
			t.Fatalf("%v: %v", cmd.Type(), err)
		}
		if CommandType(b[0]) != cmd.Type() || b[1] != commandTable[cmd.Type()].version {
			t.Errorf("%v: header % x", cmd.Type(), b[:2])
		}
		got, err := DecodeCommand(b)
		if err != nil {
			t.Fatalf("%v: %v", cmd.Type(), err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("%v round trip:\ngot  %#v\nwant %#v", cmd.Type(), got.Cmd, e.Cmd)
		}
		byName, err := CommandByName(cmd.Type().String())
		if err != nil || byName.Type() != cmd.Type() {
			t.Errorf("CommandByName(%q) = %v, %v", cmd.Type().String(), byName, err)
		}
	}
	for typ := range commandTable {
		if !covered[typ] {
			t.Errorf("no sample of %v", typ)
		}
	}
}

func TestDecodeCommandErrors(t *testing.T) {
	good, err := EncodeCommand(Envelope{Time: t0, Cmd: &RegisterNode{Name: "n1"}})
	if err != nil {
		t.Fatal(err)
	}
	payload := good[2:]
	with := func(typ, ver byte, body []byte) []byte { return append([]byte{typ, ver}, body...) }
	tests := []struct {
		name string
		in   []byte
		is   error
		want string
	}{
		{"empty", nil, nil, "0 bytes, want at least 2"},
		{"one byte", []byte{14}, nil, "1 bytes"},
		{"unknown type", with(99, 1, payload), ErrUnknownCommand, "unknown command type 99"},
		{"unknown type 0", with(0, 1, payload), ErrUnknownCommand, "unknown command type 0"},
		{"ignorable unknown", with(byte(Ignorable)|99, 1, payload), ErrIgnorableCommand, "unknown ignorable command type 227"},
		{"newer version", with(byte(TypeRegisterNode), 2, payload), nil, "decode RegisterNode: payload version 2, this build reads up to 1"},
		{"version 0", with(byte(TypeRegisterNode), 0, payload), nil, "payload version 0"},
		{"not json", with(byte(TypeRegisterNode), 1, []byte("{")), nil, "decode RegisterNode"},
		{"no cmd", with(byte(TypeRegisterNode), 1, []byte(`{"time":"2025-01-01T00:00:00Z"}`)), nil, "decode RegisterNode: no payload"},
		{"null cmd", with(byte(TypeRegisterNode), 1, []byte(`{"cmd":null}`)), nil, "no payload"},
		{"cmd of wrong shape", with(byte(TypeRegisterNode), 1, []byte(`{"cmd":[1]}`)), nil, "decode RegisterNode"},
		{"bad time", with(byte(TypeRegisterNode), 1, []byte(`{"time":"yesterday","cmd":{}}`)), nil, "decode RegisterNode"},
		{"bad score", with(byte(TypeAddConstraint), 1, []byte(`{"cmd":{"location":{"id":"l","score":"lots"}}}`)), nil, `bad score "lots"`},
		{"unknown constraint field", with(byte(TypeAddConstraint), 1, []byte(`{"cmd":{"order":{"id":"o","weight":1}}}`)), nil, `unknown field "weight"`},
	}
	for _, tt := range tests {
		_, err := DecodeCommand(tt.in)
		if err == nil {
			t.Errorf("%s: decoded", tt.name)
			continue
		}
		if tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("%s: %v is not %v", tt.name, err, tt.is)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := EncodeCommand(Envelope{}); err == nil {
		t.Error("encoded an envelope without a command")
	}
	if _, _, err := baseConfig().Apply(Envelope{}); err == nil {
		t.Error("applied an envelope without a command")
	}
}

func TestDecodeCommandFillsConstraintDefaults(t *testing.T) {
	b := append([]byte{byte(TypeAddConstraint), 1}, `{"cmd":{"order":{"id":"o","first":"a","then":"b","kind":"Serialize"}}}`...)
	e, err := DecodeCommand(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Order{ID: "o", First: "a", FirstAction: "start", Then: "b", ThenAction: "start", Kind: "Serialize"}
	if got := *e.Cmd.(*AddConstraint).Order; got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	var o Order
	if err := json.Unmarshal([]byte(`{"id":"o","first":"a","then":"b","first-action":"stop"}`), &o); err != nil || o.ThenAction != "stop" || !o.Symmetrical {
		t.Errorf("got %+v, %v", o, err)
	}
}

func TestGroupAddEmptyingClonedGroupRemovesItsClone(t *testing.T) {
	c := &Config{
		Primitives: []Primitive{{ID: "a", Agent: "ocf:pacemaker:Dummy"}},
		Groups:     []Group{{ID: "g1", Members: []string{"a"}}},
		Clones:     []Clone{{ID: "g1-clone", Rsc: "g1"}},
	}
	next, notes, err := c.Apply(Envelope{Cmd: &GroupAdd{Group: "g2", Members: []string{"a"}}})
	if err != nil {
		t.Fatalf("moving the last member out of a cloned group: %v", err)
	}
	if next.CloneByID("g1-clone") != nil || next.Group("g1") != nil || next.Group("g2") == nil {
		t.Fatalf("groups %+v clones %+v", next.Groups, next.Clones)
	}
	if !slices.Contains(notes, `removed clone "g1-clone" of the empty group`) {
		t.Fatalf("notes %q", notes)
	}
}

func TestApplyStoresCanonicalRoles(t *testing.T) {
	c := &Config{}
	next, _, err := c.Apply(Envelope{Cmd: &CreatePrimitive{
		Primitive: Primitive{ID: "r", Agent: "ocf:heartbeat:redis", Ops: []Op{{Name: "monitor", Interval: Duration(5e9), Role: "Master"}}},
		Clone:     &CreateClone{Promotable: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := next.Primitive("r").Ops[0].Role; got != RolePromoted {
		t.Fatalf("stored role %q, want %q", got, RolePromoted)
	}
}

func TestUpdateResourceAddOps(t *testing.T) {
	c := &Config{Primitives: []Primitive{{ID: "web", Agent: "ocf:heartbeat:nginx",
		Ops: []Op{{Name: "monitor", Interval: Duration(10e9)}}}}}
	next, _, err := c.Apply(Envelope{Cmd: &UpdateResource{ID: "web", AddOps: []Op{{Name: "start", Timeout: Duration(30e9)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if ops := next.Primitive("web").Ops; len(ops) != 2 || ops[0].Name != "monitor" || ops[1].Name != "start" {
		t.Fatalf("ops after add: %+v", ops)
	}
	for name, op := range map[string]Op{
		"exists already": {Name: "monitor", Interval: Duration(10e9)},
		"ops[1]":         {Name: "monitor", Interval: Duration(10e9), Timeout: Duration(5e9)}, // same interval: Validate names it
	} {
		_, _, err := c.Apply(Envelope{Cmd: &UpdateResource{ID: "web", AddOps: []Op{op}}})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("adding %+v: got %v, want an error naming %q", op, err, name)
		}
	}
	if len(c.Primitive("web").Ops) != 1 {
		t.Fatal("a refused add changed the original")
	}
}
