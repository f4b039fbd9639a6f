package scheduler

import (
	"fmt"
	"slices"
	"strings"

	"github.com/paceline/paceline/cib"
)

// notifications adds, for each primitive of a clone with meta notify=true,
// Pacemaker's clone notifications around the transition's actions of
// that primitive: for each operation with actions, in the order demote,
// stop, start, promote, a "pre" notification to every instance active
// before it (on an online node) ordered before the operation's actions,
// and a "post" notification to every instance active after the transition
// ordered after them. Each tells, in Pacemaker's notify_* variables,
// which nodes start, stop, promote and demote, and which were active,
// promoted and unpromoted when the transition began. A post notification
// of one operation comes before the pre notification of the next.
func (w *world) notifications(g *graph, emit func(*prim, Action, int) int) {
	ops := []string{OpDemote, OpStop, OpStart, OpPromote}
	for _, u := range w.units {
		if u.kind != unitClone || !u.notify {
			continue
		}
		for _, p := range u.prims {
			acts := map[string][]actRef{}
			for _, a := range p.acts {
				if slices.Contains(ops, a.op) {
					acts[a.op] = append(acts[a.op], a)
				}
			}
			if len(acts) == 0 {
				continue
			}
			vars := w.notifyVars(g, p, acts)
			before, after := w.activeBefore(p), w.activeAfter(p)
			var prevPost []int
			for _, op := range ops {
				if len(acts[op]) == 0 {
					continue
				}
				var opIDs []int
				for _, a := range acts[op] {
					opIDs = append(opIDs, a.id)
				}
				var pre []int
				for _, ni := range before {
					id := emit(p, Action{Op: OpNotify, Notify: &Notify{Type: "pre", Operation: op, Vars: vars}, Reason: "notify=true"}, ni)
					pre = append(pre, id)
					for _, x := range opIDs {
						g.edge(id, x)
					}
				}
				first := pre
				if len(first) == 0 {
					first = opIDs
				}
				for _, pp := range prevPost {
					for _, f := range first {
						g.edge(pp, f)
					}
				}
				var post []int
				for _, ni := range after {
					id := emit(p, Action{Op: OpNotify, Notify: &Notify{Type: "post", Operation: op, Vars: vars}, Reason: "notify=true"}, ni)
					post = append(post, id)
					for _, x := range opIDs {
						g.edge(x, id)
					}
				}
				if len(post) > 0 {
					prevPost = post
				}
			}
		}
	}
}

// activeBefore lists the online nodes where p runs now.
func (w *world) activeBefore(p *prim) []int {
	var out []int
	for _, r := range p.running {
		if w.nodes[r.node].state == NodeOnline && !slices.Contains(out, r.node) {
			out = append(out, r.node)
		}
	}
	slices.Sort(out)
	return out
}

// activeAfter lists the online nodes where p runs after the plan.
func (w *world) activeAfter(p *prim) []int {
	var out []int
	for _, s := range w.planned[p] {
		if s.to != "" && w.nodes[s.node].state == NodeOnline && !slices.Contains(out, s.node) {
			out = append(out, s.node)
		}
	}
	slices.Sort(out)
	return out
}

// notifyVars are Pacemaker's notify_* variables for p in this
// transition: per operation the nodes (uname) and instances (resource,
// as the nodes' resource managers name them: PRIMITIVE, or PRIMITIVE:N
// for a further instance on a node) acting, and those active, inactive,
// promoted (also as master) and unpromoted (also as slave) when it began:
// resource agents read the old names.
func (w *world) notifyVars(g *graph, p *prim, acts map[string][]actRef) map[string]string {
	vars := map[string]string{}
	type at struct{ node, inst int }
	list := func(kind string, where []at) {
		var unames, rscs []string
		for _, x := range where {
			unames = append(unames, w.nodes[x.node].name)
			name := p.id
			if x.inst > 0 {
				name = fmt.Sprintf("%s:%d", p.id, x.inst)
			}
			rscs = append(rscs, name)
		}
		vars["notify_"+kind+"_uname"] = strings.Join(unames, " ")
		vars["notify_"+kind+"_resource"] = strings.Join(rscs, " ")
	}
	nodesOf := func(ns []int) []at {
		out := make([]at, len(ns))
		for i, n := range ns {
			out[i] = at{node: n}
		}
		return out
	}
	for _, op := range []string{OpStart, OpStop, OpPromote, OpDemote} {
		var where []at
		for _, a := range acts[op] {
			where = append(where, at{a.node, g.acts[a.id].Instance})
		}
		list(op, where)
	}
	var active, promoted, unpromoted, inactive []int
	running := map[int]bool{}
	for _, r := range p.running {
		running[r.node] = true
		active = append(active, r.node)
		switch r.role {
		case cib.RolePromoted:
			promoted = append(promoted, r.node)
		case cib.RoleUnpromoted:
			unpromoted = append(unpromoted, r.node)
		}
	}
	for ni, n := range w.nodes {
		if !running[ni] && n.state == NodeOnline {
			inactive = append(inactive, ni)
		}
	}
	list("active", nodesOf(active))
	list("inactive", nodesOf(inactive))
	list("promoted", nodesOf(promoted))
	list("unpromoted", nodesOf(unpromoted))
	list("master", nodesOf(promoted)) // the names agents such as ocf:heartbeat:redis read
	list("slave", nodesOf(unpromoted))
	return vars
}
