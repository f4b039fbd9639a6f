// Package schedgen builds synthetic, deterministic inputs for the
// scheduler: a configuration of a given size (nodes, primitives,
// constraints) and the statuses of a cluster that is cold (nothing probed)
// or steady (a previous plan running), with one node failed. The
// scheduler's benchmarks and tools/schedbench use it, so the inputs a
// benchmark measures can be written out and fed to `paceline simulate`.
//
// It imports the scheduler, so only the scheduler's external tests
// (package scheduler_test) can use it.
package schedgen

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/crm/scheduler"
)

// Agent is the resource agent of every generated primitive.
const Agent = "ocf:paceline:dummy"

// GroupSize is the number of members of a generated group.
const GroupSize = 5

// unit is one top-level resource: a standalone primitive, a group or a
// clone. Constraints name units; orders and colocations only run from a
// lower unit index to a higher one, so neither can form a cycle.
type unit struct {
	id    string
	clone bool
}

// Cluster returns a configuration with the given number of nodes,
// primitives and constraints, the same for the same arguments.
//
// Primitives: about 1 in 200 is a clone (every third clone promotable),
// about 30% of the rest sit in groups of GroupSize, the others stand
// alone; each has a monitor op. Constraints: 40% locations (three in four
// a finite preference, some of them rules on the rack attribute, one in
// four a -INFINITY ban), 30% colocations of a later unit with an earlier
// one (four in five advisory, the rest INFINITY), 30% mandatory
// symmetrical orders from an earlier unit to a later one. Every promotable
// clone also gets a role-Promoted location preference, so that something
// is promoted. resource-stickiness defaults to 50.
func Cluster(nodes, resources, constraints int, seed int64) *cib.Config {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	c := &cib.Config{
		Properties:       map[string]string{"cluster-name": "schedbench"},
		ResourceDefaults: map[string]string{"resource-stickiness": "50"},
	}
	for i := range nodes {
		c.Nodes = append(c.Nodes, cib.Node{
			Name:       NodeName(i),
			Attributes: map[string]string{"rack": fmt.Sprintf("r%d", i%4), "site": []string{"east", "west"}[i%2]},
		})
	}

	nClones := 0
	if resources >= 10 {
		nClones = max(1, resources/200)
	}
	nGroups := (resources - nClones) * 3 / 10 / GroupSize
	nPrims := resources - nClones - nGroups*GroupSize
	kinds := make([]byte, 0, nClones+nGroups+nPrims)
	for range nClones {
		kinds = append(kinds, 'c')
	}
	for range nGroups {
		kinds = append(kinds, 'g')
	}
	for range nPrims {
		kinds = append(kinds, 'p')
	}
	rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })

	intervals := []time.Duration{10 * time.Second, 20 * time.Second, 30 * time.Second, 60 * time.Second}
	primitive := func(id string, promotable bool) cib.Primitive {
		p := cib.Primitive{ID: id, Agent: Agent,
			Params: map[string]string{"state": "/run/paceline/" + id}}
		if promotable {
			p.Ops = []cib.Op{
				{Name: "monitor", Interval: cib.Duration(10 * time.Second), Timeout: cib.Duration(20 * time.Second), Role: cib.RolePromoted},
				{Name: "monitor", Interval: cib.Duration(11 * time.Second), Timeout: cib.Duration(20 * time.Second), Role: cib.RoleUnpromoted},
			}
		} else {
			p.Ops = []cib.Op{{Name: "monitor", Interval: cib.Duration(intervals[rng.IntN(len(intervals))]), Timeout: cib.Duration(20 * time.Second)}}
		}
		if rng.IntN(20) == 0 {
			p.Meta = map[string]string{"priority": "10"}
		}
		return p
	}
	var units []unit
	var promotable []string
	clones := 0
	for i, k := range kinds {
		switch k {
		case 'p':
			id := fmt.Sprintf("rsc%d", i)
			c.Primitives = append(c.Primitives, primitive(id, false))
			units = append(units, unit{id: id})
		case 'g':
			g := cib.Group{ID: fmt.Sprintf("grp%d", i)}
			for m := range GroupSize {
				id := fmt.Sprintf("grp%d-%d", i, m)
				c.Primitives = append(c.Primitives, primitive(id, false))
				g.Members = append(g.Members, id)
			}
			c.Groups = append(c.Groups, g)
			units = append(units, unit{id: g.ID})
		case 'c':
			prom := clones%3 == 2
			clones++
			cl := cib.Clone{ID: fmt.Sprintf("cln%d", i), Rsc: fmt.Sprintf("cln%d-p", i), Promotable: prom}
			c.Primitives = append(c.Primitives, primitive(cl.Rsc, prom))
			if prom {
				cl.Meta = map[string]string{"clone-max": fmt.Sprint(min(3, max(1, nodes))), "promoted-max": "1"}
				promotable = append(promotable, cl.ID)
			} else {
				cl.Meta = map[string]string{"interleave": "true"}
			}
			c.Clones = append(c.Clones, cl)
			units = append(units, unit{id: cl.ID, clone: true})
		}
	}

	cs := &c.Constraints
	for _, id := range promotable {
		l := cib.NewLocation(id+"-promote-pref", id)
		l.Node, l.Score, l.Role = NodeName(rng.IntN(max(1, nodes))), 100, cib.RolePromoted
		cs.Location = append(cs.Location, l)
	}
	if len(units) == 0 || nodes == 0 {
		return c
	}
	nLoc := constraints * 4 / 10
	nCol := constraints * 3 / 10
	nOrd := constraints - nLoc - nCol
	for i := range nLoc {
		l := cib.NewLocation(fmt.Sprintf("loc%d", i), units[rng.IntN(len(units))].id)
		switch r := rng.IntN(20); {
		case r < 5:
			l.Node, l.Score = NodeName(rng.IntN(nodes)), -cib.Infinity
		case r < 7:
			l.Rule, l.Score = fmt.Sprintf("rack eq r%d", rng.IntN(4)), cib.Score(rng.IntN(500)+1)
		default:
			l.Node, l.Score = NodeName(rng.IntN(nodes)), cib.Score(rng.IntN(1200)-200)
		}
		cs.Location = append(cs.Location, l)
	}
	colocatable := slices.ContainsFunc(units[1:], func(u unit) bool { return !u.clone })
	if len(units) >= 2 {
		for i := range nCol {
			if !colocatable {
				break
			}
			// The dependent is never a clone: a clone colocated with a
			// primitive would run one instance at most.
			a, b := twoUnits(rng, len(units))
			for units[b].clone {
				a, b = twoUnits(rng, len(units))
			}
			l := cib.NewColocation(fmt.Sprintf("col%d", i), units[b].id, units[a].id)
			if rng.IntN(5) == 0 {
				l.Score = cib.Infinity
			} else {
				l.Score = cib.Score(rng.IntN(700) - 200)
			}
			cs.Colocation = append(cs.Colocation, l)
		}
		for i := range nOrd {
			a, b := twoUnits(rng, len(units))
			cs.Order = append(cs.Order, cib.NewOrder(fmt.Sprintf("ord%d", i), units[a].id, units[b].id))
		}
	}
	return c
}

// twoUnits returns two different unit indexes a < b.
func twoUnits(rng *rand.Rand, n int) (int, int) {
	a := rng.IntN(n)
	b := rng.IntN(n - 1)
	if b >= a {
		b++
	}
	if a > b {
		a, b = b, a
	}
	return a, b
}

// NodeName is the name of the i-th generated node (from 0): n1, n2, ...
func NodeName(i int) string { return fmt.Sprintf("n%d", i+1) }

// ColdStatus is a quorate cluster whose nodes have all just joined:
// online, nothing probed, nothing known to run (so the plan probes every
// resource everywhere).
func ColdStatus(cfg *cib.Config) *scheduler.Status {
	st := &scheduler.Status{Quorate: true}
	for _, n := range cfg.Nodes {
		st.Nodes = append(st.Nodes, scheduler.NodeStatus{Name: n.Name, State: scheduler.NodeOnline})
	}
	return st
}

// SteadyStatus is a quorate cluster, every node online and probed, that
// runs exactly what plan placed, in the placed roles. A node running an
// instance of a promotable clone has its promotion score set (10 where
// promoted, 5 otherwise), as the agent would.
func SteadyStatus(cfg *cib.Config, plan *scheduler.Plan) *scheduler.Status {
	st := &scheduler.Status{Quorate: true}
	at := make(map[string]int, len(cfg.Nodes))
	for i, n := range cfg.Nodes {
		at[n.Name] = i
		st.Nodes = append(st.Nodes, scheduler.NodeStatus{Name: n.Name, State: scheduler.NodeOnline, Probed: true})
	}
	for _, pl := range plan.Placements {
		i, ok := at[pl.Node]
		if !ok {
			continue // stopped, or on a node the configuration lacks
		}
		ns := &st.Nodes[i]
		rs := scheduler.ResourceState{ID: pl.Rsc}
		switch pl.Role {
		case cib.RolePromoted, cib.RoleUnpromoted:
			rs.Role = pl.Role
			if ns.Attributes == nil {
				ns.Attributes = map[string]string{}
			}
			score := "5"
			if pl.Role == cib.RolePromoted || ns.Attributes["master-"+pl.Rsc] == "10" {
				score = "10"
			}
			ns.Attributes["master-"+pl.Rsc] = score
		}
		ns.Resources = append(ns.Resources, rs)
	}
	return st
}

// CloneStatus returns a deep copy of st.
func CloneStatus(st *scheduler.Status) *scheduler.Status {
	out := &scheduler.Status{Quorate: st.Quorate, Nodes: slices.Clone(st.Nodes)}
	for i := range out.Nodes {
		out.Nodes[i].Attributes = maps.Clone(out.Nodes[i].Attributes)
		out.Nodes[i].Resources = slices.Clone(out.Nodes[i].Resources)
	}
	return out
}

// WithNodeState returns a copy of st in which node name has the given state
// (offline or unclean). What the node's LRM reported stays listed: for an
// unclean node it may still run; an offline node is known to run nothing,
// whatever its history says, and its fail counts still count.
func WithNodeState(st *scheduler.Status, name string, state scheduler.NodeState) *scheduler.Status {
	out := CloneStatus(st)
	for i := range out.Nodes {
		if out.Nodes[i].Name == name {
			out.Nodes[i].State = state
			return out
		}
	}
	out.Nodes = append(out.Nodes, scheduler.NodeStatus{Name: name, State: state})
	return out
}

// BusiestNode returns the node of st with the most resources listed (not
// counting Stopped entries); the first such node on a tie, "" if st has no
// node.
func BusiestNode(st *scheduler.Status) string {
	best, most := "", -1
	for _, n := range st.Nodes {
		k := 0
		for _, r := range n.Resources {
			if r.Role != cib.RoleStopped {
				k++
			}
		}
		if k > most {
			best, most = n.Name, k
		}
	}
	return best
}

// Situations are the statuses a generated configuration is scheduled in.
const (
	// Cold: every node just joined, nothing probed (ColdStatus).
	Cold = "cold"
	// NodeFail: the cluster runs what a cold start planned, then the node
	// running the most resources goes offline.
	NodeFail = "nodefail"
)

// Now is the time the generated inputs are scheduled at.
var Now = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// Status returns the status of a situation (Cold or NodeFail) for cfg.
// NodeFail schedules the cold status once to learn what runs where.
func Status(cfg *cib.Config, situation string) (*scheduler.Status, error) {
	cold := ColdStatus(cfg)
	switch situation {
	case Cold:
		return cold, nil
	case NodeFail:
		plan, err := scheduler.Schedule(cfg, cold, scheduler.Options{Now: Now})
		if err != nil {
			return nil, fmt.Errorf("scheduling the cold start: %w", err)
		}
		steady := SteadyStatus(cfg, plan)
		return WithNodeState(steady, BusiestNode(steady), scheduler.NodeOffline), nil
	}
	return nil, fmt.Errorf("unknown situation %q (want %s or %s)", situation, Cold, NodeFail)
}
