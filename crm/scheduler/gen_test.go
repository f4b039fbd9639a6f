package scheduler_test

// The generated inputs of the benchmarks. They come from package schedgen
// (shared with tools/schedbench); schedgen imports the scheduler, which is
// why these tests are the external package scheduler_test.

import (
	"bytes"
	"fmt"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/crm/scheduler"
	"github.com/paceline/paceline/crm/scheduler/schedgen"
)

// genCluster returns a valid configuration of the given size, the same for
// the same arguments: standalone primitives, groups of five, a few clones
// (some promotable), each with a monitor; location preferences and bans,
// mostly advisory colocations and mandatory orders, neither with a cycle.
func genCluster(nodes, resources, constraints int, seed int64) *cib.Config {
	return schedgen.Cluster(nodes, resources, constraints, seed)
}

// coldStatus: every node online, nothing probed.
func coldStatus(cfg *cib.Config) *scheduler.Status { return schedgen.ColdStatus(cfg) }

// steadyStatus: every placement of plan running, every node online and
// probed.
func steadyStatus(cfg *cib.Config, plan *scheduler.Plan) *scheduler.Status {
	return schedgen.SteadyStatus(cfg, plan)
}

// withNodeState returns a copy of st with node name offline or unclean.
func withNodeState(st *scheduler.Status, name string, state scheduler.NodeState) *scheduler.Status {
	return schedgen.WithNodeState(st, name, state)
}

var genSizes = []struct{ nodes, resources, constraints int }{
	{1, 1, 0}, {2, 7, 3}, {3, 100, 100}, {16, 1000, 1000}, {32, 5000, 5000},
}

// TestGenCluster: generated configurations validate, have the size asked
// for, are the same for the same seed and differ for another; the cold
// status validates and probes are what it asks for.
func TestGenCluster(t *testing.T) {
	for _, sz := range genSizes {
		t.Run(fmt.Sprintf("%dn-%dr-%dc", sz.nodes, sz.resources, sz.constraints), func(t *testing.T) {
			cfg := genCluster(sz.nodes, sz.resources, sz.constraints, 1)
			if err := cfg.Validate(); err != nil {
				t.Fatalf("generated config does not validate:\n%v", err)
			}
			if len(cfg.Nodes) != sz.nodes || len(cfg.Primitives) != sz.resources {
				t.Errorf("got %d nodes, %d primitives; want %d, %d", len(cfg.Nodes), len(cfg.Primitives), sz.nodes, sz.resources)
			}
			cs := cfg.Constraints
			extra := 0 // the promotion preferences of promotable clones
			for _, cl := range cfg.Clones {
				if cl.Promotable {
					extra++
				}
			}
			if got := len(cs.Location) + len(cs.Colocation) + len(cs.Order) - extra; sz.resources >= 10 && got != sz.constraints {
				t.Errorf("got %d constraints, want %d", got, sz.constraints)
			}
			for _, p := range cfg.Primitives {
				if len(p.Ops) == 0 || p.Ops[0].Name != "monitor" {
					t.Errorf("primitive %s has no monitor", p.ID)
				}
			}
			if sz.resources >= 100 {
				if len(cfg.Groups) == 0 || len(cfg.Clones) == 0 || len(cs.Colocation) == 0 || len(cs.Order) == 0 {
					t.Errorf("want groups, clones, colocations and orders: got %d, %d, %d, %d",
						len(cfg.Groups), len(cfg.Clones), len(cs.Colocation), len(cs.Order))
				}
			}
			a, _ := cib.EncodeYAML(cfg)
			b, _ := cib.EncodeYAML(genCluster(sz.nodes, sz.resources, sz.constraints, 1))
			if !bytes.Equal(a, b) {
				t.Error("the same seed gave another configuration")
			}
			if sz.resources >= 100 {
				c, _ := cib.EncodeYAML(genCluster(sz.nodes, sz.resources, sz.constraints, 2))
				if bytes.Equal(a, c) {
					t.Error("another seed gave the same configuration")
				}
			}
			st := coldStatus(cfg)
			if err := st.Validate(cfg); err != nil {
				t.Fatal(err)
			}
			if !st.Quorate || len(st.Nodes) != sz.nodes {
				t.Errorf("cold status: quorate %v, %d nodes", st.Quorate, len(st.Nodes))
			}
			for _, n := range st.Nodes {
				if n.Probed || n.State != scheduler.NodeOnline || len(n.Resources) > 0 {
					t.Errorf("cold status: node %+v", n)
				}
			}
		})
	}
}

// TestGenSteadyStatus: the steady status built from a plan lists every
// placement on its node in its role, validates, and survives the YAML
// round trip `paceline simulate` reads; a failed node keeps its history.
func TestGenSteadyStatus(t *testing.T) {
	cfg := genCluster(3, 100, 100, 1)
	var plan scheduler.Plan
	for i, p := range cfg.Primitives {
		pl := scheduler.Placement{Rsc: p.ID, Role: cib.RoleStarted, Node: schedgen.NodeName(i % 3)}
		if cl := cfg.CloneOf(p.ID); cl != nil && cl.Promotable {
			pl.Clone, pl.Role = cl.ID, cib.RoleUnpromoted
			if i%2 == 0 {
				pl.Role = cib.RolePromoted
			}
		}
		if i%7 == 0 {
			pl.Node, pl.Role = "", cib.RoleStopped
		}
		plan.Placements = append(plan.Placements, pl)
	}
	st := steadyStatus(cfg, &plan)
	if err := st.Validate(cfg); err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{}
	for _, n := range st.Nodes {
		if !n.Probed || n.State != scheduler.NodeOnline {
			t.Errorf("node %s: probed %v, state %s", n.Name, n.Probed, n.State)
		}
		for _, r := range n.Resources {
			role := r.Role
			if role == "" {
				role = cib.RoleStarted
			}
			listed[r.ID] = n.Name + " " + role
			if role == cib.RolePromoted && n.Attributes["master-"+r.ID] == "" {
				t.Errorf("%s promoted on %s without a promotion score", r.ID, n.Name)
			}
		}
	}
	for _, pl := range plan.Placements {
		want := ""
		if pl.Node != "" {
			want = pl.Node + " " + pl.Role
		}
		if listed[pl.Rsc] != want {
			t.Errorf("%s: listed as %q, placed %q", pl.Rsc, listed[pl.Rsc], want)
		}
	}
	b, err := yaml.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	back, err := scheduler.DecodeStatusYAML(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := yaml.Marshal(back)
	if !bytes.Equal(b, b2) {
		t.Errorf("status YAML does not round-trip:\n%s\n---\n%s", b, b2)
	}
	busy := schedgen.BusiestNode(st)
	failed := withNodeState(st, busy, scheduler.NodeUnclean)
	for i, n := range failed.Nodes {
		switch {
		case n.Name == busy && (n.State != scheduler.NodeUnclean || len(n.Resources) != len(st.Nodes[i].Resources)):
			t.Errorf("failed node %s: state %s, %d resources", n.Name, n.State, len(n.Resources))
		case n.Name != busy && n.State != scheduler.NodeOnline:
			t.Errorf("node %s changed state", n.Name)
		}
	}
	if st.Nodes[0].State != scheduler.NodeOnline || st.Nodes[1].State != scheduler.NodeOnline {
		t.Error("withNodeState changed its input")
	}
}
