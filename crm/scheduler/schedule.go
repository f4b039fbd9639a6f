package scheduler

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/paceline/paceline/cib"
)

// Schedule decides where every resource should run and the actions that
// get there (see README.md for the rules). It is a pure function of its
// inputs: it reads no clock and does no I/O, and the same inputs give the
// same plan. cfg must be valid (cib.Config.Validate); st is checked
// against it.
func Schedule(cfg *cib.Config, st *Status, opt Options) (*Plan, error) {
	if cfg == nil || st == nil {
		return nil, errors.New("schedule: no configuration or no status")
	}
	if err := st.Validate(cfg); err != nil {
		return nil, err
	}
	w, err := build(cfg, st, opt)
	if err != nil {
		return nil, fmt.Errorf("schedule: %w", err)
	}
	w.prepare(st)
	w.scoreBase()
	w.allocate()
	if err := w.buildActions(); err != nil {
		return nil, fmt.Errorf("schedule: %w", err)
	}
	w.placements()
	if opt.Explain {
		w.explain()
	}
	return w.plan, nil
}

// placements fills Plan.Placements, in configuration order, from the
// steps: a placement is what runs once the plan's actions are done.
func (w *world) placements() {
	pl := make([]Placement, 0, len(w.prims))
	for _, p := range w.prims {
		u := p.unit
		var final []*step
		for _, s := range w.planned[p] {
			if s.to != "" && (s.fixed || s.pinned || !s.stops() || s.starts()) {
				final = append(final, s)
			}
		}
		slices.SortStableFunc(final, func(a, b *step) int { return cmp.Compare(a.node, b.node) })
		reasonOf := func(s *step) string {
			if s.fixed || s.pinned {
				return s.reason
			}
			return ""
		}
		if u.kind == unitClone {
			for i, s := range final {
				pl = append(pl, Placement{Rsc: p.id, Clone: u.id, Instance: i, Node: w.nodes[s.node].name, Role: s.to, Reason: reasonOf(s)})
			}
			for i := len(final); i < u.cloneMax; i++ {
				pl = append(pl, Placement{Rsc: p.id, Clone: u.id, Instance: i, Role: cib.RoleStopped, Reason: w.stoppedReason(p)})
			}
			continue
		}
		for _, s := range final {
			pl = append(pl, Placement{Rsc: p.id, Node: w.nodes[s.node].name, Role: s.to, Reason: reasonOf(s)})
		}
		if len(final) == 0 {
			pl = append(pl, Placement{Rsc: p.id, Role: cib.RoleStopped, Reason: w.stoppedReason(p)})
		}
	}
	at := make(map[string]int, len(w.cfg.Primitives))
	for i := range w.cfg.Primitives {
		at[w.cfg.Primitives[i].ID] = i
	}
	slices.SortStableFunc(pl, func(a, b Placement) int { return cmp.Compare(at[a.Rsc], at[b.Rsc]) })
	w.plan.Placements = pl
}

// stoppedReason says why p (or a copy of it) does not run.
func (w *world) stoppedReason(p *prim) string {
	u := p.unit
	switch {
	case !p.managed:
		return "unmanaged, and not running"
	case p.target == cib.RoleStopped:
		return "target-role Stopped"
	case p.stop:
		return p.stopWhy
	case u.fixed:
		return "not running, and " + u.id + " is pinned (" + u.fixedBy + ")"
	}
	if u.kind == unitGroup && p.pos > 0 && u.node >= 0 && p.pos >= u.placed {
		if u.reason != "" {
			return u.reason
		}
		return "cannot run where " + u.id + " runs, or a member before it cannot"
	}
	return u.reason
}

// explain fills Plan.Explanations: every unit's node scores, best first,
// with what made them.
func (w *world) explain() {
	for _, u := range w.units {
		e := Explanation{Rsc: u.id, Result: u.result}
		if u.promoResult != "" {
			e.Result += "; " + u.promoResult
		}
		for ni, n := range w.nodes {
			ns := NodeScore{Node: n.name, Score: u.total(ni, -1)}
			ns.Contributions = append(ns.Contributions, u.contrib[ni]...)
			for _, p := range u.prims {
				ns.Contributions = append(ns.Contributions, p.contrib[ni]...)
			}
			e.Nodes = append(e.Nodes, ns)
		}
		slices.SortStableFunc(e.Nodes, func(a, b NodeScore) int { return cmp.Compare(b.Score, a.Score) })
		w.plan.Explanations = append(w.plan.Explanations, e)
	}
}
