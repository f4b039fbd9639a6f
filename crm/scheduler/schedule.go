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

// placements fills Plan.Placements in configuration order.
func (w *world) placements() {
	pl := make([]Placement, 0, len(w.prims))
	for _, p := range w.prims {
		u := p.unit
		if u.kind == unitClone {
			for i, in := range u.inst {
				role := in.role
				if len(u.prims) > 1 && in.fixed == "" {
					role = cib.RoleStarted
				}
				pl = append(pl, Placement{Rsc: p.id, Clone: u.id, Instance: i, Node: w.nodes[in.node].name, Role: role, Reason: in.fixed})
			}
			for i := len(u.inst); i < u.cloneMax; i++ {
				pl = append(pl, Placement{Rsc: p.id, Clone: u.id, Instance: i, Role: cib.RoleStopped, Reason: u.reason})
			}
			continue
		}
		if u.node >= 0 && p.pos < u.placed {
			role := cib.RoleStarted
			reason := ""
			if u.fixed {
				reason = u.fixedBy
				for _, r := range p.running {
					if r.node == u.node {
						role = r.role
					}
				}
			}
			pl = append(pl, Placement{Rsc: p.id, Node: w.nodes[u.node].name, Role: role, Reason: reason})
			continue
		}
		reason := u.reason
		if u.kind == unitGroup && p.pos > 0 && (u.node >= 0 || reason == "") {
			prev := u.prims[p.pos-1]
			switch {
			case p.target == cib.RoleStopped:
				reason = "target-role Stopped"
			case p.stop:
				reason = "on-fail=stop"
			case prev.pos >= u.placed && u.node >= 0 || reason == "":
				reason = "cannot run where " + u.id + " runs, or a member before it cannot"
			}
		}
		pl = append(pl, Placement{Rsc: p.id, Role: cib.RoleStopped, Reason: reason})
	}
	at := make(map[string]int, len(w.cfg.Primitives))
	for i := range w.cfg.Primitives {
		at[w.cfg.Primitives[i].ID] = i
	}
	slices.SortStableFunc(pl, func(a, b Placement) int { return cmp.Compare(at[a.Rsc], at[b.Rsc]) })
	w.plan.Placements = pl
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
