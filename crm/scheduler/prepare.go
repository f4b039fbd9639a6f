package scheduler

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"

	"github.com/paceline/paceline/cib"
)

// onFail returns the on-fail policy for a failed op of p in a role:
// configured on the op, else Pacemaker's default.
func (w *world) onFail(p *prim, op, role string) string {
	for _, o := range p.cfg.Ops {
		if o.Name != op || o.OnFail == "" {
			continue
		}
		if op == OpMonitor && o.Role != "" && o.Role != role {
			continue
		}
		return o.OnFail
	}
	if op == OpStop {
		if w.stonith {
			return "fence"
		}
		return "block"
	}
	return "restart"
}

// prepare settles node eligibility, failures and what is fixed in place,
// before any score is computed.
func (w *world) prepare(st *Status) {
	fenceOK := w.stonith && w.hasQuorum
	for _, n := range w.nodes {
		if n.state == NodeUnclean && fenceOK {
			n.fence = true
		}
	}
	// multiple-active: a primitive (not cloned) found active on several nodes.
	for _, p := range w.prims {
		if p.unit.kind == unitClone {
			continue
		}
		var on []string
		for _, r := range p.running {
			if !r.implied {
				on = append(on, w.nodes[r.node].name)
			}
		}
		if len(on) < 2 {
			continue
		}
		p.multi = true
		w.warn("%s is active on %d nodes (%s): multiple-active=%s", p.id, len(on), strings.Join(on, ", "), p.multiple)
		switch p.multiple {
		case "block":
			for i := range p.running {
				p.running[i].blocked = "blocked: active on several nodes (multiple-active=block)"
			}
		case "stop_only":
			p.stop, p.stopWhy = true, "active on several nodes (multiple-active=stop_only)"
		}
	}
	// on-fail: what a failure does (not for unmanaged resources: they get
	// no action, and their failures fence nothing).
	for _, p := range w.prims {
		if !p.managed {
			continue
		}
		for _, r := range p.stoppedFails {
			op := cmp.Or(r.failedOp, OpMonitor)
			n := w.nodes[r.node]
			switch of := w.onFail(p, op, r.role); of {
			case "stop", "block":
				p.stop, p.stopWhy = true, "on-fail="+of+" after its "+op+" failed"
			case "standby":
				n.standby = true
				n.why = "standby (on-fail=standby after " + p.id + " failed)"
			}
		}
		for i := range p.running {
			r := &p.running[i]
			if !r.failed {
				continue
			}
			op := r.failedOp
			if op == "" {
				op = OpMonitor
			}
			n := w.nodes[r.node]
			switch of := w.onFail(p, op, r.role); of {
			case "ignore":
				r.failed = false
			case "block":
				r.blocked = fmt.Sprintf("blocked: its %s failed on %s (on-fail=block)", op, n.name)
				if op == OpStop && !n.fence {
					w.warn("%s: its stop failed on %s and fencing is not enabled: left blocked there until an operator cleans it up", p.id, n.name)
				}
			case "stop":
				p.stop, p.stopWhy = true, "on-fail=stop after its "+op+" failed"
			case "standby":
				n.standby = true
				n.why = "standby (on-fail=standby after " + p.id + " failed)"
			case "fence":
				switch {
				case fenceOK && (n.state == NodeOnline || n.state == NodeUnclean):
					n.fence = true
				case op == OpStop:
					r.blocked = fmt.Sprintf("blocked: its stop failed on %s and it cannot be fenced", n.name)
					w.warn("%s: its stop failed on %s with on-fail=fence, but fencing is not possible (stonith-enabled=%v, quorate=%v): left blocked", p.id, n.name, w.stonith, w.hasQuorum)
				default:
					// As Pacemaker: on-fail=fence without fencing means stop.
					p.stop, p.stopWhy = true, "on-fail=fence, and fencing is not possible"
					w.warn("%s: %s failed on %s with on-fail=fence, but fencing is not possible (stonith-enabled=%v, quorate=%v): stopped instead", p.id, op, n.name, w.stonith, w.hasQuorum)
				}
			case "demote":
				if r.role == cib.RolePromoted {
					r.failed = false
					r.demote = true
				}
			}
		}
	}
	noQuorum := !w.quorate
	suicide := noQuorum && w.policy == "suicide" && w.stonith
	for _, n := range w.nodes {
		switch {
		case n.state == NodeOffline:
			n.why = "offline"
		case n.state == NodeUnclean:
			n.why = "unclean"
		case suicide:
			n.fence = true
			n.why = "fenced (no-quorum-policy=suicide)"
		case n.fence:
			n.why = "to be fenced"
		case noQuorum:
			n.why = "no quorum (no-quorum-policy=" + w.policy + ")"
		case n.maint:
			n.why = "in maintenance"
		case n.standby:
			if n.why == "" {
				n.why = "standby"
			}
		default:
			n.canRun = true
		}
	}
	freeze := noQuorum && w.policy == "freeze"
	// What is fixed in place: unmanaged resources, nodes in maintenance,
	// unclean nodes that cannot be fenced, a frozen partition.
	for _, p := range w.prims {
		for i := range p.running {
			r := &p.running[i]
			n := w.nodes[r.node]
			switch {
			case n.fence:
				// Fencing stops it, whatever its failure's on-fail said.
				r.implied, r.blocked, r.keepAs = true, "", ""
			case r.blocked != "":
			case n.state == NodeUnclean:
				r.blocked = "blocked: " + n.name + " is unclean and cannot be fenced yet"
			case !p.managed:
				r.blocked = "unmanaged"
			case n.maint:
				r.blocked = "unmanaged: " + n.name + " is in maintenance"
			case noQuorum && w.policy == "demote" && p.unit.promotable && len(p.unit.prims) == 1 && !r.failed:
				r.blocked = "no quorum (no-quorum-policy=demote)"
				r.keepAs = cib.RoleUnpromoted
				r.byQuorum = true
			case freeze && !r.failed:
				r.blocked = "frozen: no quorum (no-quorum-policy=freeze)"
				r.byQuorum = true
			}
		}
	}
	w.blockOrderedStops()
	for _, u := range w.units {
		w.fixUnit(u)
	}
}

// blockOrderedStops propagates a stop that cannot run along mandatory
// orders, as Pacemaker's unrunnable actions do: with `start A then start
// B` (symmetrical) A may stop only after B has stopped, and with `stop B
// then stop A` likewise; if B cannot stop (blocked, unmanaged), A cannot
// either and stays where it runs, pinned as B is. Only between primitives
// and groups: a clone's stop runs if any of its instances' can
// (Pacemaker's summary of the instances' actions), and a clone is not
// pinned whole.
func (w *world) blockOrderedStops() {
	stuck := func(id string) bool {
		if w.unitOf[id].kind == unitClone {
			return false
		}
		for _, p := range w.primsOf(id) {
			for _, r := range p.running {
				if r.blocked != "" && !r.byQuorum && !r.implied {
					return true
				}
			}
		}
		return false
	}
	for changed, rounds := true, 0; changed && rounds <= len(w.orders); rounds++ {
		changed = false
		for _, oc := range w.orders {
			o := oc.c
			if o.Kind != cib.OrderMandatory {
				continue
			}
			var before, after string // after's stop waits for before's
			switch {
			case o.FirstAction == OpStart && o.ThenAction == OpStart && o.Symmetrical:
				before, after = o.Then, o.First
			case o.FirstAction == OpStop && o.ThenAction == OpStop:
				before, after = o.First, o.Then
			default:
				continue
			}
			if w.unitOf[after].kind == unitClone || !stuck(before) {
				continue
			}
			for _, p := range w.primsOf(after) {
				for i := range p.running {
					r := &p.running[i]
					if r.blocked == "" && !r.implied {
						r.blocked = fmt.Sprintf("blocked: order %s: %s cannot stop, and it must stop first", o.ID, before)
						changed = true
					}
				}
			}
		}
	}
}

// fixUnit pins a primitive or group with a blocked member to where that
// member runs.
func (w *world) fixUnit(u *unit) {
	if u.kind == unitClone {
		return
	}
	for _, p := range u.prims {
		for _, r := range p.running {
			if r.blocked != "" {
				u.fixed, u.fixedBy, u.node, u.fixedPos = true, r.blocked, r.node, p.pos
				return
			}
		}
	}
}

func (w *world) warn(format string, args ...any) {
	w.plan.Warnings = append(w.plan.Warnings, fmt.Sprintf(format, args...))
}

// locScore is the score a location constraint gives a node, and whether it
// applies there at all.
func (w *world) locScore(l *location, n *node) (cib.Score, bool) {
	if l.c.Node != "" {
		if l.c.Node != n.name {
			return 0, false
		}
		return l.c.Score, true
	}
	if l.rule == nil || !l.rule.Eval(n.attrs) {
		return 0, false
	}
	if l.c.ScoreAttribute != "" {
		v, ok := n.attrs[l.c.ScoreAttribute]
		if !ok {
			return 0, false
		}
		s, err := cib.ParseScore(v)
		if err != nil {
			if f, ferr := strconv.ParseFloat(v, 64); ferr == nil {
				return cib.Score(0).Add(cib.Score(int64(f))), true
			}
			return 0, false
		}
		return s, true
	}
	return l.c.Score, true
}

// scoreBase computes every primitive's own per-node scores (locations,
// stickiness, fail bans) and every unit's (eligibility, its own
// locations), with contributions when explaining.
func (w *world) scoreBase() {
	byRsc := map[string][]*location{}
	for _, l := range w.locs {
		byRsc[l.c.Rsc] = append(byRsc[l.c.Rsc], l)
	}
	w.locsOf = byRsc
	nn := len(w.nodes)
	for _, p := range w.prims {
		p.base = make([]cib.Score, nn)
		if w.opt.Explain {
			p.contrib = make([][]Contribution, nn)
		}
		for ni, n := range w.nodes {
			add := func(s cib.Score, src string) {
				p.base[ni] = p.base[ni].Add(s)
				if p.contrib != nil {
					p.contrib[ni] = append(p.contrib[ni], Contribution{Source: src, Score: s})
				}
			}
			for _, l := range byRsc[p.id] {
				if l.role == cib.RolePromoted {
					continue
				}
				if s, ok := w.locScore(l, n); ok {
					add(s, "location "+l.c.ID+p.suffix())
				}
			}
			if p.banned[ni] != "" {
				add(-cib.Infinity, p.id+": "+p.banned[ni])
			}
			if !w.symmetric && !w.optedIn(p.ownerIDs(), n) {
				add(-cib.Infinity, p.id+": symmetric-cluster=false and no location constraint allows it here")
			}
			if p.stickiness != 0 {
				for _, r := range p.running {
					if r.node == ni && !r.failed && !r.implied {
						add(p.stickiness, p.id+": resource-stickiness (runs here)")
					}
				}
			}
		}
	}
	for _, u := range w.units {
		u.scores = make([]cib.Score, nn)
		if w.opt.Explain {
			u.contrib = make([][]Contribution, nn)
		}
		// Locations on the primitives are in their base scores; the unit
		// adds those on the group and the clone.
		var ids []string
		if u.kind != unitPrimitive {
			ids = append(ids, u.id)
		}
		if u.gid != "" && u.gid != u.id {
			ids = append(ids, u.gid)
		}
		for ni, n := range w.nodes {
			if !n.canRun {
				u.add(ni, -cib.Infinity, "node "+n.why)
			}
			for _, id := range ids {
				for _, l := range byRsc[id] {
					if l.role == cib.RolePromoted {
						continue
					}
					if s, ok := w.locScore(l, n); ok {
						u.add(ni, s, "location "+l.c.ID)
					}
				}
			}
		}
	}
}

func (p *prim) suffix() string {
	if p.unit.kind == unitPrimitive {
		return ""
	}
	return " (on " + p.id + ")"
}

// ownerIDs are the ids whose location constraints apply to p: its own,
// its group's and its clone's.
func (p *prim) ownerIDs() []string {
	ids := []string{p.id}
	if p.unit.gid != "" {
		ids = append(ids, p.unit.gid)
	}
	if p.unit.kind == unitClone {
		ids = append(ids, p.unit.id)
	}
	return ids
}

// optedIn reports whether a location constraint on any of ids applies to n
// (symmetric-cluster=false makes nodes opt-in).
func (w *world) optedIn(ids []string, n *node) bool {
	for _, id := range ids {
		for _, l := range w.locsOf[id] {
			if _, ok := w.locScore(l, n); ok {
				return true
			}
		}
	}
	return false
}

// add adds a unit-level contribution.
func (u *unit) add(ni int, s cib.Score, src string) {
	u.scores[ni] = u.scores[ni].Add(s)
	if u.contrib != nil {
		u.contrib[ni] = append(u.contrib[ni], Contribution{Source: src, Score: s})
	}
}
