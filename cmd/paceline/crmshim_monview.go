package main

// What crm_mon shows, read from a CIB: nodes, resources with their
// instances' roles per node, failures (crmshim_mon.go writes it out).

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/cib"
)

// monView is what crm_mon shows, read from a CIB.
type monView struct {
	stack, dc, dcVersion       string
	quorate                    bool
	written, user, via, origin string
	props                      map[string]string // cluster options as set
	defaults                   map[string]string // resource defaults
	nodes                      []*monNode
	rscs                       []*monRsc // top level, in CIB order, then active orphans
	failures                   []*xel    // failure records, with on_node
}

type monNode struct {
	name, id                            string
	online, unclean, standby, maint, dc bool
	attrs                               map[string]string // permanent, transient ones over them
	running                             int
}

// monRsc is a primitive, group or clone.
type monRsc struct {
	kind, id, agent string
	meta            map[string]string
	parent          *monRsc
	kids            []*monRsc
	on              []monInst // a primitive's active instances
	orphan          bool
}

// monInst is a primitive's instance on a node: its role and whether it is
// failed.
type monInst struct {
	node, role string
	failed     bool
}

func (v *monView) node(name string) *monNode {
	for _, n := range v.nodes {
		if n.name == name || n.id == name {
			return n
		}
	}
	return nil
}

// prop is a cluster option: as set, else Paceline's default.
func (v *monView) prop(name string) string {
	if x, ok := v.props[name]; ok {
		return x
	}
	return cib.PropertyDefault(name)
}

// readMonView reads a CIB.
func readMonView(doc *xel) (*monView, error) {
	if doc.name != "cib" {
		return nil, fmt.Errorf("not a CIB: the root element is <%s>", doc.name)
	}
	conf := doc.child("configuration")
	if conf == nil {
		return nil, errors.New("the CIB has no configuration")
	}
	v := &monView{props: map[string]string{}, defaults: map[string]string{},
		written: doc.attr("cib-last-written"), user: doc.attr("update-user"),
		via: doc.attr("update-client"), origin: doc.attr("update-origin")}
	v.quorate = isTrue(doc.attr("have-quorum"))
	for _, set := range conf.path("crm_config").children("cluster_property_set") {
		maps.Copy(v.props, nvpairs(set))
	}
	v.stack = cmp.Or(v.props["cluster-infrastructure"], "unknown")
	v.dcVersion = v.props["dc-version"]
	for _, set := range conf.path("rsc_defaults").children("meta_attributes") {
		maps.Copy(v.defaults, nvpairs(set))
	}
	for _, n := range conf.path("nodes").children("node") {
		mn := &monNode{name: cmp.Or(n.attr("uname"), n.attr("id")), id: n.attr("id"), attrs: map[string]string{}}
		for _, set := range n.children("instance_attributes") {
			maps.Copy(mn.attrs, nvpairs(set))
		}
		v.nodes = append(v.nodes, mn)
	}
	for _, r := range conf.path("resources").kids {
		mr, err := readMonRsc(r, nil)
		if err != nil {
			return nil, err
		}
		v.rscs = append(v.rscs, mr)
	}
	prims := map[string]*monRsc{}
	for _, r := range v.rscs {
		r.walk(func(x *monRsc) {
			if x.kind == "primitive" {
				prims[x.id] = x
			}
		})
	}
	for _, ns := range doc.path("status").children("node_state") {
		n := v.node(ns.attr("id"))
		if n == nil { // a member the configuration does not list
			n = &monNode{name: cmp.Or(ns.attr("uname"), ns.attr("id")), id: ns.attr("id"), attrs: map[string]string{}}
			v.nodes = append(v.nodes, n)
		}
		member := isTrue(ns.attr("in_ccm")) || isPositive(ns.attr("in_ccm"))
		n.online = member && (ns.attr("crmd") == "online" || isPositive(ns.attr("crmd")))
		n.unclean = !n.online && ns.attr("join") == "member" && ns.attr("expected") == "member"
		for _, set := range ns.path("transient_attributes").children("instance_attributes") {
			maps.Copy(n.attrs, nvpairs(set))
		}
		if !n.online && !n.unclean { // a node that left cleanly runs nothing
			continue
		}
		for _, lr := range ns.path("lrm", "lrm_resources").children("lrm_resource") {
			id, _, _ := strings.Cut(lr.attr("id"), ":")
			role, failed, fails := lrmState(lr.children("lrm_rsc_op"))
			for _, f := range fails {
				if f.attr("on_node") == "" {
					f.set("on_node", n.name)
				}
				v.failures = append(v.failures, f)
			}
			if role == cib.RoleStopped {
				continue
			}
			p := prims[id]
			if p == nil { // active, but no longer configured
				p = &monRsc{kind: "primitive", id: id, agent: lrmAgent(lr), orphan: true}
				prims[id] = p
				v.rscs = append(v.rscs, p)
			}
			p.on = append(p.on, monInst{node: n.name, role: role, failed: failed})
			n.running++
		}
	}
	for _, n := range v.nodes {
		n.standby = isTrue(n.attrs["standby"])
		n.maint = isTrue(n.attrs["maintenance"])
	}
	if dc := v.node(doc.attr("dc-uuid")); dc != nil {
		dc.dc, v.dc = true, dc.name
	}
	return v, nil
}

// readMonRsc reads a configured resource; parent is its group or clone.
func readMonRsc(x *xel, parent *monRsc) (*monRsc, error) {
	r := &monRsc{id: x.attr("id"), parent: parent, meta: map[string]string{}}
	for _, set := range x.children("meta_attributes") {
		maps.Copy(r.meta, nvpairs(set))
	}
	switch x.name {
	case "primitive":
		r.kind = "primitive"
		r.agent = x.attr("class") + ":" + x.attr("type")
		if p := x.attr("provider"); p != "" {
			r.agent = x.attr("class") + ":" + p + ":" + x.attr("type")
		}
		return r, nil
	case "group":
		r.kind = "group"
		for _, k := range x.children("primitive") {
			m, err := readMonRsc(k, r)
			if err != nil {
				return nil, err
			}
			r.kids = append(r.kids, m)
		}
		return r, nil
	case "clone", "master": // <master> is Pacemaker 1's promotable clone
		r.kind = "clone"
		if x.name == "master" {
			r.meta["promotable"] = "true"
		}
		for _, k := range x.kids {
			if k.name == "primitive" || k.name == "group" {
				m, err := readMonRsc(k, r)
				if err != nil {
					return nil, err
				}
				r.kids = append(r.kids, m)
			}
		}
		if len(r.kids) != 1 {
			return nil, fmt.Errorf("clone %s: want one primitive or group in it, found %d", r.id, len(r.kids))
		}
		return r, nil
	}
	return nil, fmt.Errorf("resource %s: <%s> resources are not supported", r.id, x.name)
}

func (r *monRsc) walk(f func(*monRsc)) {
	f(r)
	for _, k := range r.kids {
		k.walk(f)
	}
}

// lrmAgent is an lrm_resource's agent, class:provider:type.
func lrmAgent(lr *xel) string {
	parts := []string{lr.attr("class"), lr.attr("provider"), lr.attr("type")}
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), ":")
}

// lrmState reads an instance's state from its operation records, in call
// order: the last one-shot operation (start, stop, promote, demote, a
// probe) gives the role, a later recurring monitor that found it promoted
// makes it Promoted, and a failure record (RSC_last_failure_0) no older
// than the last one-shot operation makes it failed. It also returns the
// failure records.
func lrmState(ops []*xel) (role string, failed bool, failures []*xel) {
	ops = slices.Clone(ops)
	slices.SortStableFunc(ops, func(a, b *xel) int { return cmp.Compare(atoi(a.attr("call-id")), atoi(b.attr("call-id"))) })
	role, stateCall := cib.RoleStopped, -1
	for _, op := range ops {
		call, rc := atoi(op.attr("call-id")), atoi(op.attr("rc-code"))
		if strings.HasSuffix(op.attr("id"), "_last_failure_0") {
			failures = append(failures, op)
			continue
		}
		if call < 0 { // pending
			continue
		}
		if atoi(op.attr("interval")) > 0 {
			if op.attr("operation") == ocf.Monitor && call > stateCall && (rc == ocf.RunningPromoted || rc == ocf.FailedPromoted) {
				role = cib.RolePromoted
			}
			continue
		}
		switch op.attr("operation") {
		case ocf.Start:
			role = cib.RoleStarted
		case ocf.Stop:
			role = cib.RoleStarted // a failed stop may have left it running
			if rc == ocf.Success {
				role = cib.RoleStopped
			}
		case ocf.Promote:
			role = cib.RolePromoted
		case ocf.Demote:
			role = cib.RolePromoted
			if rc == ocf.Success {
				role = cib.RoleUnpromoted
			}
		case ocf.Monitor:
			switch rc {
			case ocf.NotRunning:
				role = cib.RoleStopped
			case ocf.RunningPromoted, ocf.FailedPromoted:
				role = cib.RolePromoted
			default:
				role = cib.RoleStarted
			}
		default:
			continue // notify, meta-data, ...: they say nothing of the state
		}
		stateCall = call
	}
	for _, f := range failures {
		if atoi(f.attr("call-id")) >= stateCall && role != cib.RoleStopped {
			failed = true
		}
	}
	return role, failed, failures
}

func nvpairs(set *xel) map[string]string {
	m := map[string]string{}
	for _, p := range set.children("nvpair") {
		m[p.attr("name")] = p.attr("value")
	}
	return m
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// isTrue reads a boolean as Pacemaker does; anything else is false.
func isTrue(s string) bool {
	b, err := cib.ParseBool(s)
	return err == nil && b
}

func isPositive(s string) bool { return atoi(s) > 0 }

// metaOf is a resource's meta attribute, inherited from the group and
// clone it is in, then the resource defaults.
func (v *monView) metaOf(r *monRsc, name string) (string, bool) {
	for x := r; x != nil; x = x.parent {
		if val, ok := x.meta[name]; ok {
			return val, true
		}
	}
	val, ok := v.defaults[name]
	return val, ok
}

// disabled: target-role Stopped on the resource or what holds it.
func (v *monView) disabled(r *monRsc) bool {
	for x := r; x != nil; x = x.parent {
		if strings.EqualFold(x.meta["target-role"], cib.RoleStopped) {
			return true
		}
	}
	return false
}

func (v *monView) managed(r *monRsc) bool {
	if isTrue(v.prop("maintenance-mode")) {
		return false
	}
	if m, ok := v.metaOf(r, "is-managed"); ok && !isTrue(m) {
		return false
	}
	m, ok := v.metaOf(r, "maintenance")
	return !ok || !isTrue(m)
}

func (r *monRsc) promotable() bool { return r.kind == "clone" && isTrue(r.meta["promotable"]) }
func (r *monRsc) unique() bool     { return r.kind == "clone" && isTrue(r.meta["globally-unique"]) }

// cloneMax is how many instances a clone has: clone-max, by default one
// per node.
func (v *monView) cloneMax(c *monRsc) int {
	if n, err := strconv.Atoi(c.meta["clone-max"]); err == nil && n >= 0 {
		return n
	}
	return len(v.nodes)
}

// shownRole is an instance's role as crm_mon names it: Started instances
// of a promotable clone are Unpromoted.
func shownRole(r *monRsc, role string) string {
	if role == cib.RoleStarted && r.parent != nil {
		c := r.parent
		if c.kind == "group" {
			c = c.parent
		}
		if c != nil && c.promotable() {
			return cib.RoleUnpromoted
		}
	}
	return role
}

// cloneInstance is one instance of a clone: the node it is on ("" for a
// stopped one) and, per primitive of the clone, its instance there.
type cloneInstance struct {
	node string
	on   map[*monRsc]monInst
}

// instances lists a clone's instances: the active ones by node name, then
// stopped ones up to clone-max.
func (v *monView) instances(c *monRsc) []cloneInstance {
	byNode := map[string]cloneInstance{}
	c.walk(func(p *monRsc) {
		for _, in := range p.on {
			ci, ok := byNode[in.node]
			if !ok {
				ci = cloneInstance{node: in.node, on: map[*monRsc]monInst{}}
				byNode[in.node] = ci
			}
			ci.on[p] = in
		}
	})
	var out []cloneInstance
	for _, n := range slices.Sorted(maps.Keys(byNode)) {
		out = append(out, byNode[n])
	}
	for len(out) < v.cloneMax(c) {
		out = append(out, cloneInstance{on: map[*monRsc]monInst{}})
	}
	return out
}

func roleRank(role string) int {
	return slices.Index([]string{cib.RoleStopped, cib.RoleStarted, cib.RoleUnpromoted, cib.RolePromoted}, role)
}

func anyFailed(r *monRsc) bool {
	failed := false
	r.walk(func(x *monRsc) {
		for _, in := range x.on {
			failed = failed || in.failed
		}
	})
	return failed
}

// instanceCounts counts the configured resource instances (a clone's
// primitives once per instance) and the disabled ones.
func (v *monView) instanceCounts() (configured, disabled int) {
	for _, r := range v.rscs {
		if r.orphan {
			continue
		}
		times := 1
		if r.kind == "clone" {
			times = v.cloneMax(r)
		}
		r.walk(func(x *monRsc) {
			if x.kind == "primitive" {
				configured += times
				if v.disabled(x) {
					disabled += times
				}
			}
		})
	}
	return configured, disabled
}
