package scheduler

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/paceline/paceline/cib"
)

// step is what happens to one instance of a primitive on one node: it may
// stop, start, restart, or change role.
type step struct {
	p       *prim
	node    int
	inst    int    // instance number on the node (clones)
	from    string // role now ("" not running)
	to      string // role after the plan ("" stopped)
	restart bool   // stop and start again in place
	implied bool   // its stop is done by fencing the node
	fixed   bool   // left alone
	pinned  bool   // kept in place with a role change only (never restarted)
	demote  bool   // demote first even if it stays promoted (on-fail=demote)
	reason  string
}

func (s *step) stops() bool {
	return !s.fixed && s.from != "" && (s.to == "" || s.restart)
}

func (s *step) starts() bool {
	return !s.fixed && s.to != "" && (s.from == "" || s.restart)
}

// desired lists where p should be, in which role, after the plan.
func (w *world) desired(p *prim) []inst {
	u := p.unit
	switch u.kind {
	case unitClone:
		// In a clone of a group, a member after one that may not start
		// (unmanaged, target-role Stopped, on-fail=stop) starts nowhere.
		runnable := true
		for _, q := range u.prims[:p.pos+1] {
			runnable = runnable && q.mayRun()
		}
		out := make([]inst, 0, len(u.inst))
		for _, in := range u.inst {
			if in.fixed == "" && !runnable {
				continue
			}
			if len(u.prims) > 1 && in.fixed == "" {
				in.role = cib.RoleStarted
			}
			out = append(out, in)
		}
		return out
	default:
		if u.node >= 0 && p.pos < u.placed {
			return []inst{{node: u.node, role: cib.RoleStarted}}
		}
	}
	return nil
}

// steps matches where p runs now with where it should be.
func (w *world) steps(p *prim) []*step {
	u := p.unit
	var out []*step
	if u.kind != unitClone && u.fixed {
		// A pinned group: blocked members and the members before them stay;
		// a member after them stays only where it may run; nothing starts.
		pin := w.nodes[u.node]
		for _, r := range p.running {
			switch {
			case r.blocked != "":
				out = append(out, &step{p: p, node: r.node, from: r.role, to: r.role, fixed: true, reason: r.blocked})
			case r.implied:
				out = append(out, &step{p: p, node: r.node, from: r.role, implied: true})
			case r.node == u.node && (p.pos < u.fixedPos || !r.failed) && w.staysPinned(u, p, u.node, u.fixedPos):
				out = append(out, &step{p: p, node: r.node, from: r.role, to: r.role, fixed: true, reason: "pinned with " + u.id + " (" + u.fixedBy + ")"})
			default:
				out = append(out, &step{p: p, node: r.node, from: r.role, reason: u.id + " is pinned to " + pin.name})
			}
		}
		return numberSteps(out)
	}
	var next []inst
	if p.managed {
		next = w.desired(p)
	}
	// multiple-active=stop_start: stop everywhere, start once.
	restartAll := p.multi && (p.multiple == "stop_start" || p.multiple == "")
	// A clone's pinned instances: entries of this primitive on those nodes
	// stay as they are, unless it comes after the pinned member of a group
	// and the node may no longer run the clone.
	pinnedOn := map[int]int{}
	overOn := map[int]int{}
	for _, in := range next {
		if in.fixed != "" {
			pinnedOn[in.node]++
			if in.over {
				overOn[in.node]++
			}
		}
	}
	if u.kind == unitClone && len(u.prims) > 1 {
		for ni := range pinnedOn {
			first := len(u.prims)
			for _, q := range u.prims {
				for _, r := range q.running {
					if r.node == ni && r.blocked != "" {
						first = min(first, q.pos)
					}
				}
			}
			switch {
			case p.pos <= first:
			case !w.staysPinned(u, p, ni, first):
				delete(pinnedOn, ni)
			default:
				pinnedOn[ni] -= overOn[ni]
			}
		}
	}
	var free []runState
	for _, r := range p.running {
		if r.blocked != "" {
			s := &step{p: p, node: r.node, from: r.role, to: r.role, fixed: true, reason: r.blocked}
			if r.keepAs != "" && r.keepAs != r.role {
				s.to, s.fixed, s.pinned = r.keepAs, false, true
			}
			out = append(out, s)
			pinnedOn[r.node]--
			continue
		}
		free = append(free, r)
	}
	// Keep healthy instances first when pairing on a node.
	slices.SortStableFunc(free, func(a, b runState) int {
		if c := cmp.Compare(a.node, b.node); c != 0 {
			return c
		}
		return cmp.Compare(boolInt(a.failed), boolInt(b.failed))
	})
	var rest []runState
	for _, r := range free {
		if pinnedOn[r.node] > 0 && !r.implied {
			pinnedOn[r.node]--
			s := &step{p: p, node: r.node, from: r.role, to: r.role, fixed: true, reason: "pinned with its clone instance"}
			if r.role == cib.RolePromoted && p.managed && (p.target == cib.RoleUnpromoted || len(u.prims) > 1) {
				// It stays, but as no promoted group instance is chosen
				// (or target-role forbids it), unpromoted.
				s.to, s.fixed, s.pinned = cib.RoleUnpromoted, false, true
			}
			out = append(out, s)
			continue
		}
		rest = append(rest, r)
	}
	var want []inst
	for _, in := range next {
		if in.fixed == "" {
			want = append(want, in)
		}
	}
	slices.SortStableFunc(want, func(a, b inst) int {
		if c := cmp.Compare(a.node, b.node); c != 0 {
			return c
		}
		return cmp.Compare(roleRank[b.role], roleRank[a.role])
	})
	used := make([]bool, len(want))
	for _, r := range rest {
		s := &step{p: p, node: r.node, from: r.role, implied: r.implied}
		for j, d := range want {
			if !used[j] && d.node == r.node && !r.implied {
				used[j] = true
				s.to = d.role
				s.restart = r.failed || restartAll
				s.demote = r.demote
				break
			}
		}
		if r.failed {
			s.reason = "recover: " + cmp.Or(r.failedOp, OpMonitor) + " failed"
		}
		out = append(out, s)
	}
	for j, d := range want {
		if !used[j] {
			out = append(out, &step{p: p, node: d.node, to: d.role})
		}
	}
	return numberSteps(out)
}

// mayRun reports whether p may be running at all: managed, not
// target-role Stopped, not stopped by on-fail or multiple-active.
func (p *prim) mayRun() bool {
	return p.managed && p.target != cib.RoleStopped && !p.stop
}

// staysPinned reports whether member p of u, running on node ni where the
// member at position first is pinned, stays there: a member up to the
// pinned one does (they cannot be stopped in order around it), one after
// it only if it may still run there.
func (w *world) staysPinned(u *unit, p *prim, ni, first int) bool {
	return p.pos <= first || w.nodes[ni].canRun && u.total(ni, -1) >= 0 && p.mayRun() && !stoppedBefore(u, p)
}

// stoppedBefore reports whether a group member before p has target-role
// Stopped (which stops every member after it).
func stoppedBefore(u *unit, p *prim) bool {
	for _, q := range u.prims[:p.pos] {
		if q.target == cib.RoleStopped {
			return true
		}
	}
	return false
}

// numberSteps numbers the instances on each node: 0, 1, ...
func numberSteps(steps []*step) []*step {
	on := map[int]int{}
	for _, s := range steps {
		s.inst = on[s.node]
		on[s.node]++
	}
	return steps
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// propagateRestarts restarts what depends on something that stops or
// starts: the later members of a group, and the `then` side of mandatory
// start orders (Pacemaker's implies-then: a required start of `first`
// makes `then`'s start required, which restarts a `then` that runs). A
// clone `first` without interleave restarts its `then` only when one of
// its instances stops.
func (w *world) propagateRestarts(steps map[*prim][]*step) {
	restart := func(p *prim, node int, why string) bool {
		changed := false
		for _, s := range steps[p] {
			if !s.fixed && !s.pinned && !s.restart && s.from != "" && s.to != "" && (node < 0 || s.node == node) {
				s.restart, s.reason = true, why
				changed = true
			}
		}
		return changed
	}
	orders := w.orders
	for changed, rounds := true, 0; changed && rounds < len(w.prims)+len(orders)+2; rounds++ {
		changed = false
		for _, u := range w.units {
			for i := 1; i < len(u.prims); i++ {
				prev, p := u.prims[i-1], u.prims[i]
				for _, s := range steps[prev] {
					if !s.stops() && !s.starts() {
						continue
					}
					node := s.node
					if u.kind != unitClone && s.stops() {
						node = -1 // a group moving off a node: everything after it restarts
					}
					if restart(p, node, "restart: "+prev.id+" before it in "+u.gid+" stops or starts") {
						changed = true
					}
				}
			}
		}
		for _, oc := range orders {
			o := oc.c
			if o.Kind != cib.OrderMandatory || o.FirstAction != OpStart || o.ThenAction != OpStart || o.First == o.Then {
				continue
			}
			cloneFirst := oc.first.kind == unitClone
			interleave := cloneFirst && oc.then.kind == unitClone && oc.then.interleave
			for _, fp := range w.primsOf(o.First) {
				for _, fs := range steps[fp] {
					if !fs.stops() && !(fs.starts() && (!cloneFirst || interleave)) {
						continue
					}
					node := -1
					if interleave {
						node = fs.node
					}
					for _, tp := range w.primsOf(o.Then) {
						if restart(tp, node, "restart: order "+o.ID+" after "+o.First+", which stops or starts") {
							changed = true
						}
					}
				}
			}
		}
	}
}

// primsOf lists the primitives an id stands for: itself, a group's
// members, a clone's child members.
func (w *world) primsOf(id string) []*prim {
	if p := w.primIdx[id]; p != nil {
		return []*prim{p}
	}
	if u := w.unitOf[id]; u != nil {
		return u.prims
	}
	return nil
}

// graph collects actions and their prerequisites. Repeated edges are
// removed by finish.
type graph struct {
	acts []Action
	// soft names the order constraint whose edges are being added; such
	// edges are recorded so that a cycle can be broken by dropping them.
	soft     string
	softRank int
	softs    []softEdge
}

// softEdge is an edge of an order constraint. A loop is broken by dropping
// its edges of the lowest rank first: the reverse of a symmetrical order
// between promote/demote actions (0), such an order itself (1), the
// reverse of a start/stop order (2), a start/stop order itself (3).
type softEdge struct {
	from, to int
	order    string
	rank     int
}

func (g *graph) add(a Action) int {
	a.ID = len(g.acts)
	g.acts = append(g.acts, a)
	return a.ID
}

// edge makes `to` wait for `from`.
func (g *graph) edge(from, to int) {
	if from < 0 || to < 0 || from == to {
		return
	}
	g.acts[to].After = append(g.acts[to].After, from)
	if g.soft != "" {
		g.softs = append(g.softs, softEdge{from, to, g.soft, g.softRank})
	}
}

// edgesAll makes every action of `to` wait for every action of `from`,
// through one pseudo action when that saves edges.
func (g *graph) edgesAll(from, to []int, label string) {
	if len(from) == 0 || len(to) == 0 {
		return
	}
	if len(from) > 1 && len(to) > 1 && len(from)*len(to) > len(from)+len(to) {
		ps := g.add(Action{Op: OpPseudo, Label: label})
		for _, f := range from {
			g.edge(f, ps)
		}
		for _, t := range to {
			g.edge(ps, t)
		}
		return
	}
	for _, f := range from {
		for _, t := range to {
			g.edge(f, t)
		}
	}
}

// opTimeout is the configured timeout of an op (0: none configured).
func opTimeout(p *prim, name string, interval time.Duration, role string) time.Duration {
	for _, o := range p.cfg.Ops {
		if o.Name == name && o.Interval.D() == interval && (role == "" || o.Role == "" || o.Role == role) {
			return o.Timeout.D()
		}
	}
	for _, o := range p.cfg.Ops {
		if o.Name == name {
			return o.Timeout.D()
		}
	}
	return 0
}

// monitorsFor lists the recurring monitor ops for an instance in a role.
func monitorsFor(p *prim, role string) []cib.Op {
	var out []cib.Op
	for _, o := range p.cfg.Ops {
		if o.Name != OpMonitor || o.Interval == 0 {
			continue
		}
		switch {
		case o.Role == role:
		case o.Role == "" && role != cib.RolePromoted:
		case o.Role == cib.RoleStarted && role == cib.RoleUnpromoted:
		default:
			continue
		}
		out = append(out, o)
	}
	return out
}

// actionsOf lists p's actions of an op, on a node (node < 0: any).
func actionsOf(p *prim, op string, node int) []int {
	var out []int
	for _, a := range p.acts {
		if a.op == op && (node < 0 || a.node == node) {
			out = append(out, a.id)
		}
	}
	return out
}

// needsProbe reports whether p's state on n is unknown and n can be asked.
func (w *world) needsProbe(p *prim, ni int) bool {
	n := w.nodes[ni]
	return !p.known[ni] && n.state == NodeOnline && !n.fence && !n.maint
}

// buildActions turns the placement into the action graph.
func (w *world) buildActions() error {
	probes := 0
	for _, p := range w.prims {
		for ni := range w.nodes {
			if w.needsProbe(p, ni) {
				probes++
			}
		}
	}
	g := &graph{acts: make([]Action, 0, probes+4*len(w.prims)+len(w.nodes)+len(w.clears))}
	emit := func(p *prim, a Action, node int) int {
		a.Rsc = p.id
		a.Node = w.nodes[node].name
		id := g.add(a)
		op := a.Op
		if a.IsProbe() {
			op = "probe"
		}
		p.acts = append(p.acts, actRef{op: op, node: node, id: id})
		return id
	}
	fence := make([]int, len(w.nodes))
	for i, n := range w.nodes {
		fence[i] = -1
		if n.fence {
			fence[i] = g.add(Action{Op: OpFence, Node: n.name, Reason: n.why})
		}
	}
	for _, c := range w.clears {
		g.add(Action{Op: OpClearFailcount, Rsc: c.p.id, Node: w.nodes[c.node].name,
			Reason: "failure-timeout " + cib.Duration(c.p.failTO).String() + " expired"})
	}
	for _, p := range w.prims {
		for ni := range w.nodes {
			if w.needsProbe(p, ni) {
				emit(p, Action{Op: OpMonitor, Timeout: opTimeout(p, OpMonitor, 0, ""), Reason: "state unknown"}, ni)
			}
		}
	}
	steps := make(map[*prim][]*step, len(w.prims))
	for _, p := range w.prims {
		steps[p] = w.steps(p)
	}
	w.propagateRestarts(steps)
	w.planned = steps
	for _, p := range w.prims {
		for _, s := range steps[p] {
			if s.fixed {
				continue
			}
			last := -1
			if s.stops() {
				if s.implied {
					last = emit(p, Action{Op: OpStop, Implied: true, Instance: s.inst, Reason: "node is fenced"}, s.node)
					g.edge(fence[s.node], last)
				} else {
					if s.from == cib.RolePromoted {
						last = emit(p, Action{Op: OpDemote, Instance: s.inst, Timeout: opTimeout(p, OpDemote, 0, ""), Reason: s.reason}, s.node)
					}
					st := emit(p, Action{Op: OpStop, Instance: s.inst, Timeout: opTimeout(p, OpStop, 0, ""), Reason: s.reason}, s.node)
					g.edge(last, st)
					last = st
				}
			} else if s.from == cib.RolePromoted && (s.to == cib.RoleUnpromoted || s.demote) {
				last = emit(p, Action{Op: OpDemote, Instance: s.inst, Timeout: opTimeout(p, OpDemote, 0, "")}, s.node)
			}
			changed := last >= 0
			if s.starts() {
				st := emit(p, Action{Op: OpStart, Instance: s.inst, Timeout: opTimeout(p, OpStart, 0, ""), Reason: s.reason}, s.node)
				g.edge(last, st)
				last = st
				if s.to == cib.RolePromoted {
					pr := emit(p, Action{Op: OpPromote, Instance: s.inst, Timeout: opTimeout(p, OpPromote, 0, "")}, s.node)
					g.edge(last, pr)
					last = pr
				}
				changed = true
			} else if s.to == cib.RolePromoted && !s.stops() && (s.from == cib.RoleUnpromoted || s.demote) {
				pr := emit(p, Action{Op: OpPromote, Instance: s.inst, Timeout: opTimeout(p, OpPromote, 0, "")}, s.node)
				g.edge(last, pr)
				last = pr
				changed = true
			}
			if changed && s.to != "" && last >= 0 && (s.starts() || !s.stops()) {
				for _, o := range monitorsFor(p, s.to) {
					m := emit(p, Action{Op: OpMonitor, Interval: o.Interval.D(), Role: o.Role, Instance: s.inst, Timeout: o.Timeout.D()}, s.node)
					g.edge(last, m)
				}
			} else if !changed && s.to != "" && s.to == s.from && !s.stops() {
				// It stays as it is: start any configured monitor that is
				// known not to run (a transition aborted between a start
				// and its monitor).
				if r, ok := p.runningOn(s.node); ok && r.monitorsKnown {
					for _, o := range monitorsFor(p, s.to) {
						if !slices.Contains(r.monitors, o.Interval) {
							emit(p, Action{Op: OpMonitor, Interval: o.Interval.D(), Role: o.Role, Instance: s.inst, Timeout: o.Timeout.D(), Reason: "its recurring monitor is not running"}, s.node)
						}
					}
				}
			}
		}
	}
	// As Pacemaker (requires=fencing, the default): every start and promote
	// waits for the fencing of the transition, since a resource whose
	// state on the fenced node is unknown may still run there.
	var fences, gated []int
	for _, id := range fence {
		if id >= 0 {
			fences = append(fences, id)
		}
	}
	if len(fences) > 0 {
		for _, p := range w.prims {
			if p.requires == "fencing" || p.requires == "unfencing" {
				gated = append(gated, actionsOf(p, OpStart, -1)...)
				gated = append(gated, actionsOf(p, OpPromote, -1)...)
			}
		}
		g.edgesAll(fences, gated, "fencing done")
	}
	w.orderEdges(g)
	w.notifications(g, emit)
	return w.finish(g)
}

// orderEdges adds the implied and configured orders between actions.
func (w *world) orderEdges(g *graph) {
	for _, p := range w.prims {
		starts := actionsOf(p, OpStart, -1)
		g.edgesAll(actionsOf(p, "probe", -1), starts, p.id+" probed")
		if p.unit.kind != unitClone {
			g.edgesAll(actionsOf(p, OpStop, -1), starts, p.id+" stopped")
		} else {
			// As Pacemaker's clones: every stop of the clone before any start,
			// every demote and stop before any promote, promotes after all
			// starts. A promoted instance on a fenced node counts through its
			// implied stop, so nothing is promoted before the fence.
			stops, promotes := actionsOf(p, OpStop, -1), actionsOf(p, OpPromote, -1)
			g.edgesAll(stops, starts, p.unit.id+" stopped")
			g.edgesAll(append(actionsOf(p, OpDemote, -1), stops...), promotes, p.unit.id+" demoted")
			g.edgesAll(starts, promotes, p.unit.id+" running")
			if p.unit.ordered {
				// ordered=true: one instance after another, stops in reverse.
				for i := 1; i < len(starts); i++ {
					g.edge(starts[i-1], starts[i])
				}
				for i := 1; i < len(stops); i++ {
					g.edge(stops[i], stops[i-1])
				}
			}
		}
	}
	// With a placement strategy, what leaves a node frees its capacity
	// before anything that needs capacity starts there (Pacemaker's
	// "load_stopped" ordering).
	if w.strategy != "default" {
		stops := make([][]int, len(w.nodes))
		starts := make([][]int, len(w.nodes))
		for _, p := range w.prims {
			if len(p.cfg.Utilization) == 0 {
				continue
			}
			for _, a := range p.acts {
				switch a.op {
				case OpStop:
					stops[a.node] = append(stops[a.node], a.id)
				case OpStart:
					starts[a.node] = append(starts[a.node], a.id)
				}
			}
		}
		for ni, n := range w.nodes {
			g.edgesAll(stops[ni], starts[ni], n.name+" load stopped")
		}
	}
	// Groups: members start in order and stop in reverse (per node for a
	// clone of a group, wherever they are for a group), each against the
	// nearest earlier member that has such an action.
	for _, u := range w.units {
		perNode := u.kind == unitClone
		for i := 1; i < len(u.prims); i++ {
			p := u.prims[i]
			for _, a := range p.acts {
				if a.op != OpStart && a.op != OpStop {
					continue
				}
				node := -1
				if perNode {
					node = a.node
				}
				for j := i - 1; j >= 0; j-- {
					prev := actionsOf(u.prims[j], a.op, node)
					if len(prev) == 0 {
						continue
					}
					for _, b := range prev {
						if a.op == OpStart {
							g.edge(b, a.id)
						} else {
							g.edge(a.id, b)
						}
					}
					break
				}
			}
		}
	}
	inverse := map[string]string{OpStart: OpStop, OpStop: OpStart, OpPromote: OpDemote, OpDemote: OpPromote}
	for _, oc := range w.orders {
		o := oc.c
		interleave := oc.first.kind == unitClone && oc.then.kind == unitClone && oc.then.interleave
		link := func(fop, top string, fromPrims, toPrims []*prim, label string) {
			var from, to []int
			for _, p := range fromPrims {
				from = append(from, actionsOf(p, fop, -1)...)
			}
			for _, p := range toPrims {
				to = append(to, actionsOf(p, top, -1)...)
			}
			if !interleave {
				g.edgesAll(from, to, label)
				return
			}
			for _, f := range from {
				for _, t := range to {
					if g.acts[f].Node == g.acts[t].Node {
						g.edge(f, t)
					}
				}
			}
		}
		fp, tp := w.primsOf(o.First), w.primsOf(o.Then)
		if o.First == o.Then {
			continue
		}
		startStop := (o.FirstAction == OpStart || o.FirstAction == OpStop) && (o.ThenAction == OpStart || o.ThenAction == OpStop)
		g.soft, g.softRank = o.ID, 1+2*boolInt(startStop)
		link(o.FirstAction, o.ThenAction, fp, tp, "order "+o.ID)
		if o.Symmetrical && o.Kind != cib.OrderSerialize {
			if ti, fi := inverse[o.ThenAction], inverse[o.FirstAction]; ti != "" && fi != "" {
				g.softRank--
				link(ti, fi, tp, fp, "order "+o.ID+" (reverse)")
			}
		}
		g.soft = ""
	}
}

// finish orders the actions so each comes after its prerequisites (ties
// by creation order) and fills the plan. If the configured orders close a
// loop among the actions (possible with orders between different actions
// of the same resources), the order edges inside the loop are dropped,
// with a warning, as Pacemaker drops an ordering that would loop.
func (w *world) finish(g *graph) error {
	for i := range g.acts {
		a := &g.acts[i]
		if len(a.After) > 1 {
			slices.Sort(a.After)
			a.After = slices.Compact(a.After)
		}
	}
	for {
		pos, stuck := topoOrder(g.acts)
		if stuck == nil {
			w.plan.Actions = place(g.acts, pos)
			return nil
		}
		inLoop := make(map[int]bool, len(stuck))
		for _, i := range stuck {
			inLoop[i] = true
		}
		drop := map[[2]int]bool{}
		var orders []string
		rank := -1
		for _, e := range g.softs {
			if inLoop[e.from] && inLoop[e.to] && (rank < 0 || e.rank < rank) {
				rank = e.rank
			}
		}
		for _, e := range g.softs {
			if inLoop[e.from] && inLoop[e.to] && e.rank == rank {
				drop[[2]int{e.from, e.to}] = true
				if !slices.Contains(orders, e.order) {
					orders = append(orders, e.order)
				}
			}
		}
		if len(drop) == 0 {
			var names []string
			for _, i := range stuck[:min(5, len(stuck))] {
				names = append(names, g.acts[i].String())
			}
			return fmt.Errorf("the action graph has a cycle through: %s", strings.Join(names, "; "))
		}
		slices.Sort(orders)
		w.warn("orders %s loop among the actions of this transition; their ordering inside the loop is dropped", strings.Join(orders, ", "))
		for to := range g.acts {
			a := &g.acts[to]
			a.After = slices.DeleteFunc(a.After, func(from int) bool { return drop[[2]int{from, to}] })
		}
		g.softs = slices.DeleteFunc(g.softs, func(e softEdge) bool { return drop[[2]int{e.from, e.to}] })
	}
}

// topoOrder is Kahn's algorithm with a min-heap on creation order: the
// plan lists actions in the order they were made wherever prerequisites
// allow. It returns each action's position, or the actions left in or
// behind a cycle.
func topoOrder(acts []Action) (pos []int, stuck []int) {
	n := len(acts)
	succ := make([][]int, n)
	indeg := make([]int, n)
	for i := range acts {
		for _, f := range acts[i].After {
			succ[f] = append(succ[f], i)
			indeg[i]++
		}
	}
	h := &minHeap{}
	for i := range n {
		if indeg[i] == 0 {
			h.push(i)
		}
	}
	pos = make([]int, n)
	done := 0
	for len(*h) > 0 {
		i := h.pop()
		pos[i] = done
		done++
		for _, s := range succ[i] {
			indeg[s]--
			if indeg[s] == 0 {
				h.push(s)
			}
		}
	}
	if done == n {
		return pos, nil
	}
	// Of what is left, peel off what only hangs behind a cycle (no
	// successor left): what remains lies on a cycle or between cycles.
	left := make([]bool, n)
	for i := range n {
		left[i] = indeg[i] > 0
	}
	outdeg := make([]int, n)
	for i := range n {
		if left[i] {
			for _, f := range acts[i].After {
				if left[f] {
					outdeg[f]++
				}
			}
		}
	}
	var queue []int
	for i := range n {
		if left[i] && outdeg[i] == 0 {
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		left[i] = false
		for _, f := range acts[i].After {
			if left[f] {
				outdeg[f]--
				if outdeg[f] == 0 {
					queue = append(queue, f)
				}
			}
		}
	}
	for i := range n {
		if left[i] {
			stuck = append(stuck, i)
		}
	}
	return nil, stuck
}

// place renumbers the actions by their positions and moves each to its
// place, in place.
func place(acts []Action, pos []int) []Action {
	for i := range acts {
		a := &acts[i]
		for j, f := range a.After {
			a.After[j] = pos[f]
		}
		slices.Sort(a.After)
	}
	for i := range acts {
		for pos[i] != i {
			j := pos[i]
			acts[i], acts[j] = acts[j], acts[i]
			pos[i], pos[j] = pos[j], pos[i]
		}
	}
	for i := range acts {
		acts[i].ID = i
	}
	return acts
}

// minHeap is a binary min-heap of action indexes.
type minHeap []int

func (h *minHeap) push(x int) {
	*h = append(*h, x)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if a[p] <= a[i] {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *minHeap) pop() int {
	a := *h
	top := a[0]
	last := len(a) - 1
	a[0] = a[last]
	a = a[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(a) && a[l] < a[m] {
			m = l
		}
		if r < len(a) && a[r] < a[m] {
			m = r
		}
		if m == i {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
	return top
}
