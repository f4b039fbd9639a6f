package scheduler_test

// Property tests of Schedule over small random inputs (README.md is the
// specification): 2-5 nodes in every state, 1-12 primitives standing alone,
// in groups, in clones and promotable clones (of primitives and of groups),
// random locations, colocations and orders, random running state with
// failures and fail counts, quorum and stonith-enabled random.
//
//	make prop PROPCHECKS=20000
//
// A failing check prints the smallest input rapid found, as YAML (the
// configuration and the status `paceline simulate` reads) with the plan.
//
// Some resources legitimately stay where they run whatever the rules say:
// unmanaged ones (is-managed=false, maintenance, a node in maintenance,
// maintenance-mode), blocked ones (on-fail=block, a failure whose node
// cannot be fenced, an unclean node that cannot be fenced) and, without
// quorum, frozen ones (no-quorum-policy=freeze) and demoted promotable
// instances (no-quorum-policy=demote). The properties allow a resource to
// stay on a node it runs on for those reasons (facts.stays).

import (
	"fmt"
	"maps"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
	"pgregory.net/rapid"

	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/crm/scheduler"
	"github.com/paceline/paceline/crm/scheduler/schedgen"
)

var propNow = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// chance draws true about once in n; it shrinks to false.
func chance(t *rapid.T, label string, n int) bool {
	return rapid.IntRange(0, n-1).Draw(t, label) == n-1
}

// pick draws one of the values; it shrinks to the first.
func pick[E any](t *rapid.T, label string, values ...E) E {
	return values[rapid.IntRange(0, len(values)-1).Draw(t, label)]
}

// genUnit is a top-level resource of a drawn configuration.
type genUnit struct {
	id         string
	prims      []string
	promotable bool
	cloned     bool
}

// drawMeta draws the meta attributes every resource accepts.
func drawMeta(t *rapid.T, label string, promotable bool) map[string]string {
	m := map[string]string{}
	roles := []string{"", "", "", cib.RoleStarted, cib.RoleStopped}
	if promotable {
		roles = append(roles, cib.RoleUnpromoted, cib.RolePromoted)
	}
	if r := pick(t, label+"-target-role", roles...); r != "" {
		m["target-role"] = r
	}
	if chance(t, label+"-unmanaged", 12) {
		m["is-managed"] = "false"
	}
	if chance(t, label+"-maintenance", 25) {
		m["maintenance"] = "true"
	}
	if v := pick(t, label+"-stickiness", "", "", "0", "10", "100", "INFINITY"); v != "" {
		m["resource-stickiness"] = v
	}
	if v := pick(t, label+"-migration-threshold", "", "", "1", "2", "INFINITY"); v != "" {
		m["migration-threshold"] = v
	}
	if v := pick(t, label+"-failure-timeout", "", "", "0", "10min"); v != "" {
		m["failure-timeout"] = v
	}
	if v := pick(t, label+"-priority", "", "", "1", "5"); v != "" {
		m["priority"] = v
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

func drawPrimitive(t *rapid.T, id string, promotable bool) cib.Primitive {
	p := cib.Primitive{ID: id, Agent: schedgen.Agent}
	onFail := pick(t, id+"-monitor-on-fail", "", "", "restart", "block", "ignore", "stop", "standby", "fence")
	if promotable {
		p.Ops = []cib.Op{
			{Name: "monitor", Interval: cib.Duration(10 * time.Second), Role: cib.RolePromoted, OnFail: onFail},
			{Name: "monitor", Interval: cib.Duration(11 * time.Second), Role: cib.RoleUnpromoted, OnFail: onFail},
		}
		if of := pick(t, id+"-promote-on-fail", "", "", "demote", "restart", "block"); of != "" {
			p.Ops = append(p.Ops, cib.Op{Name: "promote", OnFail: of})
		}
	} else {
		p.Ops = []cib.Op{{Name: "monitor", Interval: cib.Duration(10 * time.Second), OnFail: onFail}}
	}
	if of := pick(t, id+"-start-on-fail", "", "", "", "restart", "block", "stop", "ignore"); of != "" {
		p.Ops = append(p.Ops, cib.Op{Name: "start", OnFail: of})
	}
	if of := pick(t, id+"-stop-on-fail", "", "", "", "block", "fence"); of != "" {
		p.Ops = append(p.Ops, cib.Op{Name: "stop", OnFail: of})
	}
	p.Meta = drawMeta(t, id, promotable)
	return p
}

// drawConfig draws a valid configuration (Validate is still checked).
func drawConfig(t *rapid.T) *cib.Config {
	c := &cib.Config{Properties: map[string]string{}, ResourceDefaults: map[string]string{}}
	nNodes := rapid.IntRange(2, 5).Draw(t, "nodes")
	for i := range nNodes {
		n := cib.Node{Name: schedgen.NodeName(i), Standby: chance(t, "standby", 8), Maintenance: chance(t, "node-maintenance", 15)}
		if chance(t, "rack", 2) {
			n.Attributes = map[string]string{"rack": "r1"}
		}
		c.Nodes = append(c.Nodes, n)
	}
	c.Properties["stonith-enabled"] = strconv.FormatBool(rapid.Bool().Draw(t, "stonith-enabled"))
	if v := pick(t, "no-quorum-policy", "", "stop", "freeze", "ignore", "demote", "suicide"); v != "" {
		c.Properties["no-quorum-policy"] = v
	}
	if chance(t, "asymmetric", 6) {
		c.Properties["symmetric-cluster"] = "false"
	}
	if chance(t, "maintenance-mode", 20) {
		c.Properties["maintenance-mode"] = "true"
	}
	if chance(t, "stop-all-resources", 20) {
		c.Properties["stop-all-resources"] = "true"
	}
	if chance(t, "start-failure-not-fatal", 4) {
		c.Properties["start-failure-is-fatal"] = "false"
	}
	if v := pick(t, "placement-strategy", "", "", "balanced", "minimal", "utilization"); v != "" {
		c.Properties["placement-strategy"] = v
	}
	if v := pick(t, "default-stickiness", "", "0", "50"); v != "" {
		c.ResourceDefaults["resource-stickiness"] = v
	}
	if v := pick(t, "default-migration-threshold", "", "", "1", "3"); v != "" {
		c.ResourceDefaults["migration-threshold"] = v
	}
	if v := pick(t, "default-failure-timeout", "", "", "10min"); v != "" {
		c.ResourceDefaults["failure-timeout"] = v
	}

	nPrims := rapid.IntRange(1, 12).Draw(t, "primitives")
	var units []genUnit
	next := 0
	newID := func() string { next++; return fmt.Sprintf("p%d", next) }
	for next < nPrims {
		// 0 primitive, 1 group, 2 clone, 3 promotable clone, 4 cloned
		// group, 5 promotable cloned group.
		kind := rapid.IntRange(0, 5).Draw(t, "kind")
		size := 1
		if kind == 1 || kind >= 4 {
			size = min(rapid.IntRange(2, 4).Draw(t, "group-size"), nPrims-next)
			if size < 2 {
				kind = 0
			}
		}
		promotable := kind == 3 || kind == 5
		var prims []string
		for range size {
			id := newID()
			prims = append(prims, id)
			c.Primitives = append(c.Primitives, drawPrimitive(t, id, promotable))
		}
		u := genUnit{id: prims[0], prims: prims, promotable: promotable, cloned: kind >= 2}
		if kind == 1 || kind >= 4 {
			g := cib.Group{ID: fmt.Sprintf("g%d", len(units)), Members: prims, Meta: drawMeta(t, "group", promotable)}
			c.Groups = append(c.Groups, g)
			u.id = g.ID
		}
		if kind >= 2 {
			cl := cib.Clone{ID: fmt.Sprintf("c%d", len(units)), Rsc: u.id, Promotable: promotable, Meta: drawMeta(t, "clone", promotable)}
			if cl.Meta == nil {
				cl.Meta = map[string]string{}
			}
			if v := pick(t, "clone-max", "", "1", "2", "3"); v != "" {
				cl.Meta["clone-max"] = v
			}
			if v := pick(t, "clone-node-max", "", "1", "2"); v != "" {
				cl.Meta["clone-node-max"] = v
			}
			if rapid.Bool().Draw(t, "interleave") {
				cl.Meta["interleave"] = "true"
			}
			if chance(t, "ordered", 4) {
				cl.Meta["ordered"] = "true"
			}
			if promotable {
				if v := pick(t, "promoted-max", "", "1", "2"); v != "" {
					cl.Meta["promoted-max"] = v
				}
				if v := pick(t, "promoted-node-max", "", "1", "2"); v != "" {
					cl.Meta["promoted-node-max"] = v
				}
			}
			if len(cl.Meta) == 0 {
				cl.Meta = nil
			}
			c.Clones = append(c.Clones, cl)
			u.id = cl.ID
		}
		units = append(units, u)
	}

	// Constraint targets: the top-level resources, and the members of
	// groups that are not cloned (locations and orders only). Each target
	// carries its unit's index: colocations and orders run from a lower
	// index to a higher one, so none forms a cycle.
	type target struct {
		id         string
		unit       int
		promotable bool
	}
	var targets []target
	for i, u := range units {
		targets = append(targets, target{u.id, i, u.promotable})
		if len(u.prims) > 1 && !u.cloned {
			for _, m := range u.prims {
				targets = append(targets, target{m, i, false})
			}
		}
	}
	nodes := make([]string, 0, nNodes+1)
	for _, n := range c.Nodes {
		nodes = append(nodes, n.Name)
	}
	nodes = append(nodes, "n9") // not (yet) in the cluster
	cs := &c.Constraints
	for i := range rapid.IntRange(0, 4).Draw(t, "locations") {
		tg := targets[rapid.IntRange(0, len(targets)-1).Draw(t, "loc-rsc")]
		l := cib.NewLocation(fmt.Sprintf("loc%d", i), tg.id)
		l.Score = pick(t, "loc-score", cib.Score(cib.Infinity), -cib.Infinity, 100, -100, 10, 0, 1000)
		if chance(t, "loc-rule", 5) {
			l.Rule = pick(t, "rule", "rack eq r1", "#uname eq n2", "not_defined rack")
		} else {
			l.Node = pick(t, "loc-node", nodes...)
		}
		if tg.promotable && chance(t, "loc-promoted", 3) {
			l.Role = cib.RolePromoted
		}
		cs.Location = append(cs.Location, l)
	}
	if len(units) >= 2 {
		for i := range rapid.IntRange(0, 3).Draw(t, "colocations") {
			a := rapid.IntRange(0, len(units)-2).Draw(t, "col-with")
			b := rapid.IntRange(a+1, len(units)-1).Draw(t, "col-rsc")
			l := cib.NewColocation(fmt.Sprintf("col%d", i), units[b].id, units[a].id)
			l.Score = pick(t, "col-score", cib.Score(cib.Infinity), cib.Infinity, -cib.Infinity, 200, -200)
			if units[a].promotable && chance(t, "col-with-role", 3) {
				l.WithRscRole = cib.RolePromoted
			}
			if units[b].promotable && chance(t, "col-rsc-role", 3) {
				l.RscRole = cib.RolePromoted
			}
			cs.Colocation = append(cs.Colocation, l)
		}
		for i := range rapid.IntRange(0, 3).Draw(t, "orders") {
			f := targets[rapid.IntRange(0, len(targets)-1).Draw(t, "ord-first")]
			var later []target
			for _, tg := range targets {
				if tg.unit > f.unit {
					later = append(later, tg)
				}
			}
			if len(later) == 0 {
				continue
			}
			th := later[rapid.IntRange(0, len(later)-1).Draw(t, "ord-then")]
			o := cib.NewOrder(fmt.Sprintf("ord%d", i), f.id, th.id)
			if f.promotable {
				o.FirstAction = pick(t, "ord-first-action", "start", "promote", "demote")
			}
			o.ThenAction = "start"
			if th.promotable {
				o.ThenAction = pick(t, "ord-then-action", "start", "promote", "demote")
			}
			o.Kind = pick(t, "ord-kind", cib.OrderMandatory, cib.OrderOptional, cib.OrderSerialize)
			o.Symmetrical = o.Kind != cib.OrderSerialize && !chance(t, "ord-asymmetrical", 3)
			cs.Order = append(cs.Order, o)
		}
	}
	if len(c.ResourceDefaults) == 0 {
		c.ResourceDefaults = nil
	}
	return c
}

// drawStatus draws a status that goes with cfg.
func drawStatus(t *rapid.T, cfg *cib.Config) *scheduler.Status {
	st := &scheduler.Status{Quorate: !chance(t, "quorum-lost", 4)}
	nn := len(cfg.Nodes)
	per := make([][]scheduler.ResourceState, nn)
	running := func(id string, promotable bool) scheduler.ResourceState {
		rs := scheduler.ResourceState{ID: id}
		if promotable {
			rs.Role = pick(t, "role", cib.RoleUnpromoted, cib.RolePromoted)
		} else {
			rs.Role = pick(t, "role", "", cib.RoleStarted)
		}
		if chance(t, "failed", 5) {
			rs.Failed = true
			ops := []string{"", "monitor", "start", "stop"}
			if promotable {
				ops = append(ops, "promote", "demote")
			}
			rs.FailedOp = pick(t, "failed-op", ops...)
		}
		return rs
	}
	failCount := func(rs *scheduler.ResourceState) {
		rs.FailCount = pick(t, "fail-count", 0, 0, 1, 2, 3)
		if rs.FailCount > 0 || rs.Failed {
			rs.LastFailure = propNow.Add(-pick(t, "failed-ago", time.Minute, 2*time.Hour))
		}
		if rs.FailCount > 0 && chance(t, "failed-rc", 5) {
			rs.FailedRC = pick(t, "rc", 1, 2, 5, 6)
		}
	}
	for _, p := range cfg.Primitives {
		cl := cfg.CloneOf(p.ID)
		if cl == nil {
			if g := cfg.GroupOf(p.ID); g != nil {
				cl = cfg.CloneOf(g.ID)
			}
		}
		promotable := cl != nil && cl.Promotable
		listed := make([]bool, nn)
		if cl != nil {
			for ni := range nn {
				if chance(t, "instance-runs", 2) {
					per[ni] = append(per[ni], running(p.ID, promotable))
					listed[ni] = true
					if chance(t, "second-copy", 6) {
						per[ni] = append(per[ni], running(p.ID, promotable))
					}
				}
			}
		} else {
			if home := rapid.IntRange(-1, nn-1).Draw(t, "runs-on"); home >= 0 {
				per[home] = append(per[home], running(p.ID, false))
				listed[home] = true
				if chance(t, "also-active", 12) {
					if other := rapid.IntRange(0, nn-1).Draw(t, "also-on"); other != home {
						per[other] = append(per[other], running(p.ID, false))
						listed[other] = true
					}
				}
			}
		}
		for ni := range nn {
			if !listed[ni] && chance(t, "stopped-history", 5) {
				per[ni] = append(per[ni], scheduler.ResourceState{ID: p.ID, Role: cib.RoleStopped})
				listed[ni] = true
			}
		}
		for ni := range nn {
			for j := range per[ni] {
				if per[ni][j].ID == p.ID {
					failCount(&per[ni][j])
				}
			}
		}
	}
	var promotable []string
	for _, p := range cfg.Primitives {
		if cl := cfg.CloneOf(p.ID); cl != nil && cl.Promotable {
			promotable = append(promotable, p.ID)
		} else if g := cfg.GroupOf(p.ID); g != nil {
			if cl := cfg.CloneOf(g.ID); cl != nil && cl.Promotable {
				promotable = append(promotable, p.ID)
			}
		}
	}
	for ni, n := range cfg.Nodes {
		// 0-4 online, 5 offline, 6 unclean, 7 missing from the status.
		mode := rapid.IntRange(0, 7).Draw(t, "node-state")
		if mode == 7 {
			continue
		}
		ns := scheduler.NodeStatus{Name: n.Name, Probed: !chance(t, "unprobed", 3), Resources: per[ni]}
		switch mode {
		case 5:
			ns.State = scheduler.NodeOffline
		case 6:
			ns.State = scheduler.NodeUnclean
		default:
			ns.State = pick(t, "online-as", scheduler.NodeState(""), scheduler.NodeOnline)
		}
		attrs := map[string]string{}
		if chance(t, "transient-standby", 10) {
			attrs["standby"] = "true"
		}
		for _, id := range promotable {
			if rapid.Bool().Draw(t, "has-promotion-score") {
				attrs["master-"+id] = pick(t, "promotion-score", "1", "5", "10", "100")
			}
		}
		if len(attrs) > 0 {
			ns.Attributes = attrs
		}
		st.Nodes = append(st.Nodes, ns)
	}
	return st
}

// drawInput draws a configuration and a status that both validate;
// invalid draws are discarded.
func drawInput(t *rapid.T) (*cib.Config, *scheduler.Status) {
	cfg := drawConfig(t)
	if err := cfg.Validate(); err != nil {
		t.Skipf("invalid configuration: %v", err)
	}
	st := drawStatus(t, cfg)
	if err := st.Validate(cfg); err != nil {
		t.Skipf("invalid status: %v", err)
	}
	return cfg, st
}

// dump prints an input (and plan) for a failure message.
func dump(cfg *cib.Config, st *scheduler.Status, plan *scheduler.Plan) string {
	var b strings.Builder
	c, err := cib.EncodeYAML(cfg)
	if err != nil {
		c = []byte(err.Error())
	}
	s, err := yaml.Marshal(st)
	if err != nil {
		s = []byte(err.Error())
	}
	fmt.Fprintf(&b, "\n--- config:\n%s--- status (now %s):\n%s", c, propNow.Format(time.RFC3339), s)
	if plan != nil {
		b.WriteString("--- plan:\n" + plan.Format())
	}
	return b.String()
}

// schedule runs Schedule and fails on a panic or an error (property f).
func schedule(t *rapid.T, cfg *cib.Config, st *scheduler.Status, explain bool) *scheduler.Plan {
	var (
		plan     *scheduler.Plan
		err      error
		panicked any
		stack    []byte
	)
	func() {
		defer func() {
			if panicked = recover(); panicked != nil {
				stack = debug.Stack()
			}
		}()
		plan, err = scheduler.Schedule(cfg, st, scheduler.Options{Now: propNow, Explain: explain})
	}()
	switch {
	case panicked != nil:
		t.Fatalf("Schedule panicked: %v\n%s%s", panicked, stack, dump(cfg, st, nil))
	case err != nil:
		t.Fatalf("Schedule on a valid input: %v%s", err, dump(cfg, st, nil))
	case plan == nil:
		t.Fatalf("Schedule returned no plan and no error%s", dump(cfg, st, nil))
	}
	return plan
}

// problems collects violations and reports them all with the input.
type problems struct {
	list []string
}

func (p *problems) add(format string, args ...any) {
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

func (p *problems) check(t *rapid.T, cfg *cib.Config, st *scheduler.Status, plan *scheduler.Plan) {
	if len(p.list) > 0 {
		t.Fatalf("%s%s", strings.Join(p.list, "\n"), dump(cfg, st, plan))
	}
}

// facts are what the README says about an input, independently of the
// scheduler's code.
type facts struct {
	cfg       *cib.Config
	st        *scheduler.Status
	nodeSt    map[string]*scheduler.NodeStatus
	cfgNode   map[string]*cib.Node
	stonith   bool
	quorumOK  bool   // quorate, or no-quorum-policy=ignore
	nqp       string // no-quorum-policy
	fencingOK bool   // a node can be fenced in this partition
	maintMode bool
	prims     map[string]*primFacts
}

type primFacts struct {
	p     *cib.Primitive
	group *cib.Group
	clone *cib.Clone
	// chain is the meta attributes, innermost first: the primitive's, its
	// group's, its clone's.
	chain     []map[string]string
	unmanaged bool
	// entries are the primitive's LRM entries per node (any state).
	entries map[string][]scheduler.ResourceState
}

func newFacts(cfg *cib.Config, st *scheduler.Status) *facts {
	f := &facts{cfg: cfg, st: st, nodeSt: map[string]*scheduler.NodeStatus{}, cfgNode: map[string]*cib.Node{}, prims: map[string]*primFacts{}}
	for i := range cfg.Nodes {
		f.cfgNode[cfg.Nodes[i].Name] = &cfg.Nodes[i]
	}
	for i := range st.Nodes {
		f.nodeSt[st.Nodes[i].Name] = &st.Nodes[i]
	}
	f.stonith = boolProp(cfg, "stonith-enabled")
	f.nqp = cfg.Property("no-quorum-policy")
	f.quorumOK = st.Quorate || f.nqp == "ignore"
	f.fencingOK = f.stonith && st.Quorate // no fencing without real quorum, even with ignore
	f.maintMode = boolProp(cfg, "maintenance-mode")
	for i := range cfg.Primitives {
		p := &cfg.Primitives[i]
		pf := &primFacts{p: p, group: cfg.GroupOf(p.ID), clone: cfg.CloneOf(p.ID), entries: map[string][]scheduler.ResourceState{}}
		pf.chain = []map[string]string{p.Meta}
		if pf.group != nil {
			pf.chain = append(pf.chain, pf.group.Meta)
			pf.clone = cfg.CloneOf(pf.group.ID)
		}
		if pf.clone != nil {
			pf.chain = append(pf.chain, pf.clone.Meta)
		}
		for _, m := range append(slices.Clone(pf.chain), cfg.ResourceDefaults) {
			if v, ok := m["is-managed"]; ok && !isTrue(v) {
				pf.unmanaged = true
			}
			if v, ok := m["maintenance"]; ok && isTrue(v) {
				pf.unmanaged = true
			}
		}
		pf.unmanaged = pf.unmanaged || f.maintMode
		f.prims[p.ID] = pf
	}
	for _, n := range st.Nodes {
		for _, r := range n.Resources {
			if pf := f.prims[r.ID]; pf != nil {
				pf.entries[n.Name] = append(pf.entries[n.Name], r)
			}
		}
	}
	return f
}

func isTrue(s string) bool {
	b, err := cib.ParseBool(s)
	return err == nil && b
}

func boolProp(cfg *cib.Config, name string) bool { return isTrue(cfg.Property(name)) }

// state is a node's state; a node missing from the status is offline.
func (f *facts) state(node string) scheduler.NodeState {
	ns := f.nodeSt[node]
	switch {
	case ns == nil:
		return scheduler.NodeOffline
	case ns.State == "":
		return scheduler.NodeOnline
	}
	return ns.State
}

func (f *facts) promotable(id string) bool {
	pf := f.prims[id]
	return pf != nil && pf.clone != nil && pf.clone.Promotable
}

// metaValues returns the distinct values name has along a primitive's
// chain and the resource defaults.
func (f *facts) metaValues(id, name string) []string {
	var out []string
	for _, m := range append(slices.Clone(f.prims[id].chain), f.cfg.ResourceDefaults) {
		if v, ok := m[name]; ok && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// running lists the entries of id on node that run: the node is online or
// unclean (an offline node runs nothing) and the role is not Stopped.
func (f *facts) running(id, node string) []scheduler.ResourceState {
	if s := f.state(node); s != scheduler.NodeOnline && s != scheduler.NodeUnclean {
		return nil
	}
	var out []scheduler.ResourceState
	for _, r := range f.prims[id].entries[node] {
		if r.Role != cib.RoleStopped {
			out = append(out, r)
		}
	}
	return out
}

// onFails returns what a failed entry's on-fail can be (one value, unless
// the configuration is ambiguous): the op's configured on-fail, else
// Pacemaker's default; fence that cannot be done is block.
func (f *facts) onFails(id string, r scheduler.ResourceState) []string {
	op := r.FailedOp
	if op == "" {
		op = "monitor"
	}
	var out []string
	for _, o := range f.prims[id].p.Ops {
		if o.Name == op && o.OnFail != "" && !slices.Contains(out, o.OnFail) {
			out = append(out, o.OnFail)
		}
	}
	if len(out) == 0 {
		switch {
		case op == "stop" && f.stonith:
			out = []string{"fence"}
		case op == "stop":
			out = []string{"block"}
		default:
			out = []string{"restart"}
		}
	}
	for i, v := range out {
		if v == "fence" && (!f.fencingOK || f.state(nodeOf(f, id, r)) != scheduler.NodeOnline) {
			out[i] = "block"
		}
	}
	return out
}

// nodeOf finds the node an entry is listed on (entries are values).
func nodeOf(f *facts, id string, r scheduler.ResourceState) string {
	for node, rs := range f.prims[id].entries {
		if slices.ContainsFunc(rs, func(x scheduler.ResourceState) bool { return reflect.DeepEqual(x, r) }) {
			return node
		}
	}
	return ""
}

// failures calls fn for each failed entry of a managed primitive running
// on node, with its possible on-fail values.
func (f *facts) failures(node string, fn func(id string, r scheduler.ResourceState, onFail []string)) {
	if cn := f.cfgNode[node]; cn != nil && cn.Maintenance {
		return
	}
	for _, p := range f.cfg.Primitives {
		if f.prims[p.ID].unmanaged {
			continue
		}
		for _, r := range f.running(p.ID, node) {
			if r.Failed {
				fn(p.ID, r, f.onFails(p.ID, r))
			}
		}
	}
}

// allAre reports whether every value is v.
func allAre(values []string, v string) bool {
	return len(values) > 0 && !slices.ContainsFunc(values, func(s string) bool { return s != v })
}

// fenced reports whether the plan must fence node: it is unclean and can be
// fenced, or a failure there says fence.
func (f *facts) fenced(node string) bool {
	if !f.fencingOK {
		return false
	}
	switch f.state(node) {
	case scheduler.NodeUnclean:
		return true
	case scheduler.NodeOnline:
		fence := false
		f.failures(node, func(_ string, _ scheduler.ResourceState, of []string) { fence = fence || allAre(of, "fence") })
		return fence
	}
	return false
}

// ineligible says why node may not run resources, or "".
func (f *facts) ineligible(node string) string {
	cn := f.cfgNode[node]
	switch {
	case cn == nil:
		return "not a configured node"
	case f.state(node) != scheduler.NodeOnline:
		return string(f.state(node))
	case cn.Standby:
		return "standby"
	case isTrue(f.nodeSt[node].Attributes["standby"]):
		return "standby (transient attribute)"
	case cn.Maintenance:
		return "in maintenance"
	case !f.quorumOK:
		return "no quorum, no-quorum-policy=" + f.nqp
	case f.fenced(node):
		return "to be fenced"
	}
	why := ""
	f.failures(node, func(id string, _ scheduler.ResourceState, of []string) {
		if allAre(of, "standby") {
			why = "standby (on-fail=standby of " + id + ")"
		}
	})
	return why
}

// blocked reports whether id is left alone where it runs on node: a
// failure there blocks it, or the node is unclean and cannot be fenced.
func (f *facts) blocked(id, node string) bool {
	run := f.running(id, node)
	if len(run) == 0 {
		return false
	}
	if f.state(node) == scheduler.NodeUnclean && !f.fencingOK {
		return true
	}
	for _, r := range run {
		if r.Failed && slices.Contains(f.onFails(id, r), "block") {
			return true
		}
	}
	return false
}

// stays reports whether id may legitimately stay on node, where it runs,
// whatever the rules say: it is unmanaged or blocked there, or the
// partition without quorum freezes it (freeze) or keeps promotable
// instances (demote).
func (f *facts) stays(id, node string) bool {
	if len(f.running(id, node)) == 0 {
		return false
	}
	pf := f.prims[id]
	cn := f.cfgNode[node]
	switch {
	case pf.unmanaged, cn != nil && cn.Maintenance, f.blocked(id, node):
		return true
	case f.orderPinned(id, 0):
		// A stop ordered before its own cannot run (README, Orders).
		return true
	case pf.group != nil && f.laterMemberStays(pf.group, id, node):
		// A member a later member depends on: stopping it would leave
		// that one running without it.
		return true
	case !f.quorumOK && f.nqp == "freeze":
		return true
	case !f.quorumOK && f.nqp == "demote" && f.promotable(id):
		return true
	}
	return false
}

// orderPinned reports whether id (a primitive or group member, not
// cloned) must wait, to stop, for a stop that cannot run: a mandatory
// symmetrical `start id then start B`, or a mandatory `stop B then stop
// id`, where B (not a clone) has a primitive that runs and cannot stop
// (unmanaged, on a node in maintenance, blocked, or itself so pinned).
func (f *facts) orderPinned(id string, depth int) bool {
	if f.prims[id].clone != nil || depth > 8 {
		return false
	}
	for _, o := range f.cfg.Constraints.Order {
		if !strings.EqualFold(o.Kind, cib.OrderMandatory) {
			continue
		}
		var before, after string
		switch {
		case o.FirstAction == "start" && o.ThenAction == "start" && o.Symmetrical:
			before, after = o.Then, o.First
		case o.FirstAction == "stop" && o.ThenAction == "stop":
			before, after = o.First, o.Then
		default:
			continue
		}
		if !slices.Contains(f.primsOf(after), id) || f.cfg.CloneByID(before) != nil {
			continue
		}
		for _, b := range f.primsOf(before) {
			if f.prims[b].clone != nil {
				continue
			}
			for node := range f.nodeSt {
				if len(f.running(b, node)) == 0 {
					continue
				}
				cn := f.cfgNode[node]
				if f.prims[b].unmanaged || cn != nil && cn.Maintenance || f.blocked(b, node) || f.orderPinned(b, depth+1) {
					return true
				}
			}
		}
	}
	return false
}

// laterMemberStays reports whether a member of g after id stays on node.
func (f *facts) laterMemberStays(g *cib.Group, id, node string) bool {
	i := slices.Index(g.Members, id)
	for _, m := range g.Members[i+1:] {
		if f.stays(m, node) {
			return true
		}
	}
	return false
}

// primsOf lists the primitives a resource id stands for: itself, a group's
// members, a clone's primitive or members.
func (f *facts) primsOf(id string) []string {
	if f.prims[id] != nil {
		return []string{id}
	}
	if g := f.cfg.Group(id); g != nil {
		return g.Members
	}
	if cl := f.cfg.CloneByID(id); cl != nil {
		return f.primsOf(cl.Rsc)
	}
	return nil
}

// placedNodes lists the nodes where any primitive of a resource is placed.
func placedNodes(plan *scheduler.Plan, prims []string) map[string]bool {
	out := map[string]bool{}
	for _, pl := range plan.Placements {
		if pl.Node != "" && slices.Contains(prims, pl.Rsc) {
			out[pl.Node] = true
		}
	}
	return out
}

// (a) The same input gives the same plan: twice, on deep copies, and with
// Explain (which must not change the decisions); Schedule does not modify
// its inputs.
func TestPropDeterministic(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg, st := drawInput(t)
		cfgBefore, _ := cib.EncodeYAML(cfg)
		stBefore, _ := yaml.Marshal(st)
		plan := schedule(t, cfg, st, false)
		got := plan.Format()
		if cfgAfter, _ := cib.EncodeYAML(cfg); string(cfgAfter) != string(cfgBefore) {
			t.Fatalf("Schedule modified the configuration:\n%s\n--- after:\n%s", cfgBefore, cfgAfter)
		}
		if stAfter, _ := yaml.Marshal(st); string(stAfter) != string(stBefore) {
			t.Fatalf("Schedule modified the status:\n%s\n--- after:\n%s", stBefore, stAfter)
		}
		if again := schedule(t, cfg.Clone(), schedgen.CloneStatus(st), false).Format(); again != got {
			t.Fatalf("a second run gave another plan:\n%s--- second run:\n%s%s", got, again, dump(cfg, st, nil))
		}
		if explained := schedule(t, cfg, st, true).Format(); explained != got {
			t.Fatalf("Explain changed the plan:\n%s--- with Explain:\n%s%s", got, explained, dump(cfg, st, nil))
		}
	})
}

// (b) Nothing is placed on a node that cannot run resources (offline,
// unclean, standby, maintenance, to be fenced, no quorum), nor, with
// symmetric-cluster=false, on a node no location constraint names, unless
// it stays where it runs (facts.stays). Without quorum, freeze starts and
// promotes nothing and demote promotes nothing.
func TestPropEligibleNodes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg, st := drawInput(t)
		plan := schedule(t, cfg, st, false)
		f := newFacts(cfg, st)
		var p problems
		symmetric := boolProp(cfg, "symmetric-cluster")
		for _, pl := range plan.Placements {
			if pl.Node == "" {
				continue
			}
			stays := f.stays(pl.Rsc, pl.Node)
			if why := f.ineligible(pl.Node); why != "" && !stays {
				p.add("%s placed on %s, which cannot run resources: %s", pl.Name(), pl.Node, why)
			}
			if !symmetric && !stays && !f.optedIn(pl.Rsc, pl.Node) {
				p.add("%s placed on %s: symmetric-cluster=false and no location constraint names it there", pl.Name(), pl.Node)
			}
			if pl.Role == cib.RolePromoted && !f.quorumOK {
				wasPromoted := slices.ContainsFunc(f.running(pl.Rsc, pl.Node), func(r scheduler.ResourceState) bool { return r.Role == cib.RolePromoted })
				switch {
				case f.nqp == "demote" && !f.stays(pl.Rsc, pl.Node) && pl.Reason == "":
					p.add("%s promoted on %s without quorum and no-quorum-policy=demote", pl.Name(), pl.Node)
				case f.nqp == "freeze" && !wasPromoted:
					p.add("%s promoted on %s without quorum and no-quorum-policy=freeze", pl.Name(), pl.Node)
				}
			}
		}
		p.check(t, cfg, st, plan)
	})
}

// optedIn: some location constraint on the primitive, its group or its
// clone applies to node.
func (f *facts) optedIn(id, node string) bool {
	for _, l := range f.cfg.Constraints.Location {
		if slices.Contains(f.chainIDs(id), l.Rsc) && f.locationApplies(&l, node) {
			return true
		}
	}
	return false
}

// chainIDs: the primitive, its group, its clone.
func (f *facts) chainIDs(id string) []string {
	pf := f.prims[id]
	ids := []string{id}
	if pf.group != nil {
		ids = append(ids, pf.group.ID)
	}
	if pf.clone != nil {
		ids = append(ids, pf.clone.ID)
	}
	return ids
}

// locationApplies reports whether a location constraint names node, by
// name or by a rule that holds there.
func (f *facts) locationApplies(l *cib.Location, node string) bool {
	if l.Node != "" {
		return l.Node == node
	}
	r, err := cib.ParseRule(l.Rule)
	if err != nil {
		return false
	}
	attrs := map[string]string{"#uname": node}
	if cn := f.cfgNode[node]; cn != nil {
		maps.Copy(attrs, cn.Attributes)
	}
	if ns := f.nodeSt[node]; ns != nil {
		maps.Copy(attrs, ns.Attributes)
	}
	if v := f.cfg.Property("cluster-name"); v != "" {
		attrs["#cluster-name"] = v
	}
	attrs["#uname"] = node
	return r.Eval(attrs)
}

// (c) Mandatory colocations hold: with score INFINITY and no roles, the
// dependent runs only where the primary runs (or is stopped); with
// -INFINITY, never where the primary runs. A dependent that stays where it
// runs (facts.stays) is exempt.
func TestPropMandatoryColocations(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg, st := drawInput(t)
		plan := schedule(t, cfg, st, false)
		f := newFacts(cfg, st)
		var p problems
		for _, c := range cfg.Constraints.Colocation {
			if c.RscRole != "" || c.WithRscRole != "" || (c.Score != cib.Infinity && c.Score != -cib.Infinity) {
				continue
			}
			primary := placedNodes(plan, f.primsOf(c.WithRsc))
			deps := f.primsOf(c.Rsc)
			for _, pl := range plan.Placements {
				if pl.Node == "" || !slices.Contains(deps, pl.Rsc) || f.stays(pl.Rsc, pl.Node) {
					continue
				}
				if c.Score == cib.Infinity && !primary[pl.Node] {
					p.add("%s: %s runs on %s, where %s does not run (it runs on %v)", c.ID, pl.Name(), pl.Node, c.WithRsc, slices.Sorted(maps.Keys(primary)))
				}
				if c.Score == -cib.Infinity && primary[pl.Node] {
					p.add("%s: %s runs on %s, where %s runs too (score -INFINITY)", c.ID, pl.Name(), pl.Node, c.WithRsc)
				}
			}
		}
		p.check(t, cfg, st, plan)
	})
}

// ancestors[i] is the set of actions action i transitively waits for.
type ancestors [][]uint64

func newAncestors(plan *scheduler.Plan) ancestors {
	n := len(plan.Actions)
	words := (n + 63) / 64
	anc := make(ancestors, n)
	for i, a := range plan.Actions {
		anc[i] = make([]uint64, words)
		for _, j := range a.After {
			if j < 0 || j >= i {
				continue // reported by checkGraph
			}
			anc[i][j/64] |= 1 << (j % 64)
			for w := range anc[i] {
				anc[i][w] |= anc[j][w]
			}
		}
	}
	return anc
}

// waits reports whether action b (transitively) waits for action a.
func (anc ancestors) waits(b, a int) bool { return anc[b][a/64]&(1<<(a%64)) != 0 }

// checkGraph checks the action list: IDs are indexes, every After names an
// earlier action (so the graph is acyclic and the order respects it), no
// action but a pseudo one is listed twice.
func checkGraph(p *problems, plan *scheduler.Plan) {
	seen := map[string]int{}
	for i, a := range plan.Actions {
		if a.ID != i {
			p.add("action %d (%s) has ID %d", i+1, a.String(), a.ID)
		}
		for _, j := range a.After {
			if j < 0 || j >= i {
				p.add("action %d (%s) waits for %d, which is not an earlier action", i+1, a.String(), j+1)
			}
		}
		if a.Op == scheduler.OpPseudo {
			continue
		}
		key := fmt.Sprintf("%s/%d/%s", a.String(), a.Interval, a.Role)
		if prev, dup := seen[key]; dup {
			p.add("action %d (%s) repeats action %d", i+1, a.String(), prev+1)
		}
		seen[key] = i
	}
}

// actionsOf lists the indexes of the actions with op on any of prims.
func actionsOf(plan *scheduler.Plan, op string, prims []string) []int {
	var out []int
	for i, a := range plan.Actions {
		if a.Op == op && slices.Contains(prims, a.Rsc) && !(op == scheduler.OpMonitor && a.Interval > 0) {
			out = append(out, i)
		}
	}
	return out
}

// perNode reports whether an order between two resources binds only the
// instances on the same node: both are clones and one interleaves.
func (f *facts) perNode(first, then string) bool {
	a, b := f.cfg.CloneByID(first), f.cfg.CloneByID(then)
	return a != nil && b != nil && (isTrue(a.Meta["interleave"]) || isTrue(b.Meta["interleave"]))
}

// (d) The action graph is acyclic and listed in an order that respects it
// (every After names an earlier action), and orders hold: for every order
// start-then-start whose resources both start in the plan, each start of
// then waits (transitively) for each start of first — mandatory, optional
// ("when both are in the plan") and serialize ("first goes first") alike;
// a symmetrical one also makes each stop of first wait for each stop of
// then. Between two clones with interleave only instances on the same node
// are bound.
func TestPropActionGraph(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg, st := drawInput(t)
		plan := schedule(t, cfg, st, false)
		f := newFacts(cfg, st)
		var p problems
		checkGraph(&p, plan)
		anc := newAncestors(plan)
		for _, o := range cfg.Constraints.Order {
			if o.FirstAction != "start" || o.ThenAction != "start" {
				continue
			}
			local := f.perNode(o.First, o.Then)
			firsts, thens := f.primsOf(o.First), f.primsOf(o.Then)
			pairs := func(op string, before, after []int, what string) {
				for _, b := range after {
					for _, a := range before {
						if local && plan.Actions[a].Node != plan.Actions[b].Node {
							continue
						}
						if op == scheduler.OpStop && plan.Actions[a].Implied {
							continue // done by the fence, whenever it runs
						}
						if !anc.waits(b, a) {
							p.add("%s (%s %s): %q does not wait for %q", o.ID, o.Kind, what, plan.Actions[b].String(), plan.Actions[a].String())
						}
					}
				}
			}
			pairs(scheduler.OpStart, actionsOf(plan, scheduler.OpStart, firsts), actionsOf(plan, scheduler.OpStart, thens), "start first, then start then")
			if o.Symmetrical && o.Kind != cib.OrderSerialize {
				pairs(scheduler.OpStop, actionsOf(plan, scheduler.OpStop, thens), actionsOf(plan, scheduler.OpStop, firsts), "symmetrical: stop then, then stop first")
			}
		}
		p.check(t, cfg, st, plan)
	})
}

// The orders the README implies: a primitive stops before it starts
// elsewhere; probes of a resource before any of its starts; start before
// the recurring monitor and before promote on the same node; demote before
// stop; all demotes of a clone before any promote, and every start of it
// before any promote; group members start in order and stop in reverse;
// starts of a primitive that ran on a fenced node wait for the fence.
func TestPropImpliedOrders(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg, st := drawInput(t)
		plan := schedule(t, cfg, st, false)
		f := newFacts(cfg, st)
		var p problems
		checkGraph(&p, plan)
		anc := newAncestors(plan)
		acts := plan.Actions
		must := func(b, a int, why string) {
			if !anc.waits(b, a) {
				p.add("%s: %q does not wait for %q", why, acts[b].String(), acts[a].String())
			}
		}
		same := func(a, b int) bool { return acts[a].Node == acts[b].Node && acts[a].Instance == acts[b].Instance }
		for _, pr := range cfg.Primitives {
			id := []string{pr.ID}
			pf := f.prims[pr.ID]
			starts := actionsOf(plan, scheduler.OpStart, id)
			stops := actionsOf(plan, scheduler.OpStop, id)
			for _, s := range starts {
				if pf.clone == nil {
					for _, x := range stops {
						must(s, x, "stop before start")
					}
				}
				for _, pb := range actionsOf(plan, scheduler.OpMonitor, id) {
					must(s, pb, "probe before start")
				}
			}
			for i, a := range acts {
				if a.Rsc != pr.ID {
					continue
				}
				switch {
				case a.Op == scheduler.OpMonitor && a.Interval > 0:
					for _, s := range starts {
						if same(s, i) {
							must(i, s, "start before its monitor")
						}
					}
				case a.Op == scheduler.OpPromote:
					for _, s := range starts {
						if same(s, i) {
							must(i, s, "start before promote")
						}
					}
				case a.Op == scheduler.OpStop && !a.Implied:
					for _, d := range actionsOf(plan, scheduler.OpDemote, id) {
						if same(d, i) {
							must(i, d, "demote before stop")
						}
					}
				}
			}
			if pf.clone == nil {
				for node := range pf.entries {
					fences := slices.IndexFunc(acts, func(a scheduler.Action) bool { return a.Op == scheduler.OpFence && a.Node == node })
					if fences < 0 || len(f.running(pr.ID, node)) == 0 {
						continue
					}
					for _, s := range starts {
						must(s, fences, "a replacement waits for the fence")
					}
				}
			}
		}
		for _, cl := range cfg.Clones {
			if !cl.Promotable {
				continue
			}
			prims := f.primsOf(cl.ID)
			for _, pm := range actionsOf(plan, scheduler.OpPromote, prims) {
				for _, d := range actionsOf(plan, scheduler.OpDemote, prims) {
					must(pm, d, "demotes of "+cl.ID+" before its promotes")
				}
				for _, s := range actionsOf(plan, scheduler.OpStart, prims) {
					must(pm, s, "starts of "+cl.ID+" before its promotes")
				}
			}
		}
		for _, g := range cfg.Groups {
			if cfg.CloneOf(g.ID) != nil {
				continue
			}
			for k := 1; k < len(g.Members); k++ {
				prev, cur := []string{g.Members[k-1]}, []string{g.Members[k]}
				for _, s := range actionsOf(plan, scheduler.OpStart, cur) {
					for _, s0 := range actionsOf(plan, scheduler.OpStart, prev) {
						must(s, s0, "group "+g.ID+" starts in order")
					}
				}
				for _, x0 := range actionsOf(plan, scheduler.OpStop, prev) {
					if acts[x0].Implied {
						continue
					}
					for _, x := range actionsOf(plan, scheduler.OpStop, cur) {
						must(x0, x, "group "+g.ID+" stops in reverse")
					}
				}
			}
		}
		p.check(t, cfg, st, plan)
	})
}

// Actions run where they can: a fence only with stonith-enabled, never by a
// partition without quorum (but for no-quorum-policy=suicide), never of an
// offline node; an implied stop only on a node the plan fences; anything
// else but clearing a fail count only on an online node, and a start only
// on a node that can run resources. Unmanaged resources and resources on a node in maintenance get
// no action but probes (and clearing fail counts). Probes only where the
// state is unknown (node not probed, resource not listed), and everywhere
// it is on a node that can run resources and is not fenced.
func TestPropActionTargets(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg, st := drawInput(t)
		plan := schedule(t, cfg, st, false)
		f := newFacts(cfg, st)
		var p problems
		fenced := map[string]bool{}
		probed := map[[2]string]bool{}
		for _, a := range plan.Actions {
			switch {
			case a.Op == scheduler.OpFence:
				fenced[a.Node] = true
				if !f.stonith || !f.quorumOK && f.nqp != "suicide" || f.state(a.Node) == scheduler.NodeOffline {
					p.add("%q: stonith-enabled=%v, quorate=%v, no-quorum-policy=%s, node %s", a.String(), f.stonith, st.Quorate, f.nqp, f.state(a.Node))
				}
			case a.Implied:
				if a.Op != scheduler.OpStop {
					p.add("%q is implied but not a stop", a.String())
				}
			case a.Op == scheduler.OpPseudo:
			case a.Op == scheduler.OpClearFailcount:
				// Bookkeeping, not run by the node's agent: the README
				// does not say where it runs.
			default:
				if f.state(a.Node) != scheduler.NodeOnline || f.cfgNode[a.Node] == nil {
					p.add("%q: node %s is %s", a.String(), a.Node, f.state(a.Node))
				}
			}
			if a.Op == scheduler.OpStart && f.ineligible(a.Node) != "" {
				p.add("%q: %s cannot run resources: %s", a.String(), a.Node, f.ineligible(a.Node))
			}
			pf := f.prims[a.Rsc]
			if a.Rsc != "" && pf == nil {
				p.add("%q: %s is not a primitive", a.String(), a.Rsc)
				continue
			}
			if pf == nil || a.IsProbe() || a.Implied || a.Op == scheduler.OpClearFailcount {
				continue // probes, and clearing a fail count, do not act on the resource
			}
			if pf.unmanaged {
				p.add("%q: %s is unmanaged", a.String(), a.Rsc)
			}
			if cn := f.cfgNode[a.Node]; cn != nil && cn.Maintenance {
				p.add("%q: %s is in maintenance", a.String(), a.Node)
			}
		}
		for _, a := range plan.Actions {
			if a.Implied && !fenced[a.Node] {
				p.add("%q: the plan does not fence %s", a.String(), a.Node)
			}
			if !a.IsProbe() {
				continue
			}
			probed[[2]string{a.Rsc, a.Node}] = true
			if ns := f.nodeSt[a.Node]; ns != nil && ns.Probed {
				p.add("%q: %s is probed", a.String(), a.Node)
			}
			if len(f.prims[a.Rsc].entries[a.Node]) > 0 {
				p.add("%q: the state of %s on %s is known", a.String(), a.Rsc, a.Node)
			}
		}
		if boolProp(cfg, "enable-startup-probes") {
			for _, n := range cfg.Nodes {
				ns := f.nodeSt[n.Name]
				if ns == nil || ns.Probed || f.ineligible(n.Name) != "" || fenced[n.Name] {
					continue
				}
				for _, pr := range cfg.Primitives {
					if len(f.prims[pr.ID].entries[n.Name]) == 0 && !probed[[2]string{pr.ID, n.Name}] {
						p.add("%s is not probed on %s, where its state is unknown", pr.ID, n.Name)
					}
				}
			}
		}
		p.check(t, cfg, st, plan)
	})
}

// (e) No primitive that is not cloned is placed twice or ends up running on
// two nodes; a clone places at most clone-max instances, at most
// clone-node-max a node; at most promoted-max instances are promoted, at
// most promoted-node-max a node; roles fit the resource. Instances that
// stay where they run (facts.stays) may exceed the limits.
func TestPropInstances(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg, st := drawInput(t)
		plan := schedule(t, cfg, st, false)
		f := newFacts(cfg, st)
		var p problems
		final := finalState(f, plan)
		byRsc := map[string][]scheduler.Placement{}
		for _, pl := range plan.Placements {
			if f.prims[pl.Rsc] == nil {
				p.add("placement of %s, which is not a primitive", pl.Name())
				continue
			}
			byRsc[pl.Rsc] = append(byRsc[pl.Rsc], pl)
			switch {
			case pl.Node == "" && pl.Role != cib.RoleStopped:
				p.add("%s: no node but role %s", pl.Name(), pl.Role)
			case pl.Node != "" && pl.Role == cib.RoleStopped:
				p.add("%s: on %s but role Stopped", pl.Name(), pl.Node)
			case pl.Node != "" && !f.promotable(pl.Rsc) && pl.Role != cib.RoleStarted:
				p.add("%s: role %s, but it is not promotable", pl.Name(), pl.Role)
			}
		}
		for _, pr := range cfg.Primitives {
			pf := f.prims[pr.ID]
			pls := byRsc[pr.ID]
			if pf.clone == nil {
				// Several placements only where it is left alone on each
				// (unmanaged, blocked): the plan cannot change that.
				leftAlone := len(pls) > 1 && !slices.ContainsFunc(pls, func(pl scheduler.Placement) bool { return pl.Reason == "" })
				if (len(pls) != 1 && !leftAlone) || pls[0].Clone != "" {
					p.add("%s is not cloned but has %d placements (%v)", pr.ID, len(pls), pls)
				}
				if on := nodesWith(final[pr.ID]); len(on) > 1 && !slices.ContainsFunc(on, func(n string) bool { return f.stays(pr.ID, n) }) {
					p.add("%s is not cloned but the plan leaves it running on %v", pr.ID, on)
				}
				continue
			}
			cloneMax := metaInt(pf.clone.Meta, "clone-max", len(cfg.Nodes))
			nodeMax := metaInt(pf.clone.Meta, "clone-node-max", 1)
			promMax := metaInt(pf.clone.Meta, "promoted-max", 1)
			promNodeMax := metaInt(pf.clone.Meta, "promoted-node-max", 1)
			exempt := false
			placed, promoted := 0, 0
			perNode, promPerNode := map[string]int{}, map[string]int{}
			for _, pl := range pls {
				if pl.Clone != pf.clone.ID {
					p.add("%s: clone %q, want %q", pl.Name(), pl.Clone, pf.clone.ID)
				}
				if pl.Node == "" {
					continue
				}
				exempt = exempt || f.stays(pr.ID, pl.Node)
				placed++
				perNode[pl.Node]++
				if pl.Role == cib.RolePromoted {
					promoted++
					promPerNode[pl.Node]++
				}
			}
			if exempt {
				continue
			}
			if placed > cloneMax {
				p.add("%s: %d instances placed, clone-max %d", pr.ID, placed, cloneMax)
			}
			if promoted > promMax {
				p.add("%s: %d instances promoted, promoted-max %d", pr.ID, promoted, promMax)
			}
			for node, k := range perNode {
				if k > nodeMax {
					p.add("%s: %d instances on %s, clone-node-max %d", pr.ID, k, node, nodeMax)
				}
				if promPerNode[node] > promNodeMax {
					p.add("%s: %d instances promoted on %s, promoted-node-max %d", pr.ID, promPerNode[node], node, promNodeMax)
				}
			}
		}
		p.check(t, cfg, st, plan)
	})
}

func metaInt(m map[string]string, name string, def int) int {
	if v, err := strconv.Atoi(m[name]); err == nil {
		return v
	}
	return def
}

func nodesWith(counts map[string]int) []string {
	var out []string
	for n, k := range counts {
		if k > 0 {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// finalState applies the plan's actions to what runs now: per primitive,
// per node, how many copies run once the plan has completed. A fence
// leaves nothing on its node.
func finalState(f *facts, plan *scheduler.Plan) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, p := range f.cfg.Primitives {
		m := map[string]int{}
		for _, n := range f.st.Nodes {
			if k := len(f.running(p.ID, n.Name)); k > 0 {
				m[n.Name] = k
			}
		}
		out[p.ID] = m
	}
	for _, a := range plan.Actions {
		switch a.Op {
		case scheduler.OpFence:
			for _, m := range out {
				delete(m, a.Node)
			}
		case scheduler.OpStop:
			if m := out[a.Rsc]; m != nil && m[a.Node] > 0 {
				m[a.Node]--
			}
		case scheduler.OpStart:
			if m := out[a.Rsc]; m != nil {
				m[a.Node]++
			}
		}
	}
	return out
}

// The actions get the cluster to the placements: applying the plan's
// starts, stops and fences to what runs now leaves each primitive running
// exactly where it is placed (as many copies per node), and a placement is
// promoted only where it is promoted now (and not demoted or stopped) or
// the plan promotes it.
func TestPropActionsReachPlacements(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg, st := drawInput(t)
		plan := schedule(t, cfg, st, false)
		f := newFacts(cfg, st)
		var p problems
		final := finalState(f, plan)
		placed := map[string]map[string]int{}
		for _, pl := range plan.Placements {
			if placed[pl.Rsc] == nil {
				placed[pl.Rsc] = map[string]int{}
			}
			if pl.Node != "" {
				placed[pl.Rsc][pl.Node]++
			}
		}
		for _, pr := range cfg.Primitives {
			want, got := placed[pr.ID], final[pr.ID]
			for _, node := range slices.Sorted(maps.Keys(mergeKeys(want, got))) {
				if want[node] != got[node] {
					p.add("%s: placed %d on %s, but after the actions %d run there (now %d)", pr.ID, want[node], node, got[node], len(f.running(pr.ID, node)))
				}
			}
		}
		did := map[[3]string]int{}
		for _, a := range plan.Actions {
			did[[3]string{a.Op, a.Rsc, a.Node}]++
		}
		for _, pl := range plan.Placements {
			if pl.Role != cib.RolePromoted {
				continue
			}
			promoted := 0
			for _, r := range f.running(pl.Rsc, pl.Node) {
				if r.Role == cib.RolePromoted {
					promoted++
				}
			}
			now := promoted > 0
			// Kept promoted: more promoted copies there now than the plan
			// demotes (a promoted copy stops only after its demote), and
			// not every copy there stops (a second, unpromoted one may).
			kept := promoted > did[[3]string{scheduler.OpDemote, pl.Rsc, pl.Node}] && did[[3]string{scheduler.OpStop, pl.Rsc, pl.Node}] < len(f.running(pl.Rsc, pl.Node))
			if !kept && did[[3]string{scheduler.OpPromote, pl.Rsc, pl.Node}] == 0 {
				p.add("%s placed Promoted on %s, but the plan does not promote it there (promoted there now: %v)", pl.Name(), pl.Node, now)
			}
		}
		p.check(t, cfg, st, plan)
	})
}

func mergeKeys(a, b map[string]int) map[string]int {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]int{}
	}
	maps.Copy(out, b)
	return out
}

// Bans and target roles hold: nothing is placed where a -INFINITY location
// applies (promoted where a role-Promoted one does), where its fail count
// reached migration-threshold (not expired by failure-timeout), or where
// its start failed with start-failure-is-fatal, where it failed with a
// hard error (rc 2, 5), nor anywhere after a fatal one (rc 6); a resource whose
// target-role is Stopped (also: a group member after one, and
// stop-all-resources) is stopped, one with Unpromoted is not promoted.
// Resources that stay where they run are exempt.
func TestPropBansAndTargetRoles(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg, st := drawInput(t)
		plan := schedule(t, cfg, st, false)
		f := newFacts(cfg, st)
		var p problems
		startFatal := boolProp(cfg, "start-failure-is-fatal")
		stopAll := boolProp(cfg, "stop-all-resources")
		for _, pl := range plan.Placements {
			if pl.Node == "" || f.prims[pl.Rsc] == nil || f.stays(pl.Rsc, pl.Node) {
				continue
			}
			pf := f.prims[pl.Rsc]
			chain := f.chainIDs(pl.Rsc)
			for _, l := range cfg.Constraints.Location {
				if l.Score != -cib.Infinity || l.ScoreAttribute != "" || !slices.Contains(chain, l.Rsc) || !f.locationApplies(&l, pl.Node) {
					continue
				}
				switch {
				case l.Role == "" || l.Role == cib.RoleStarted:
					p.add("%s placed on %s despite location %s (-INFINITY)", pl.Name(), pl.Node, l.ID)
				case l.Role == cib.RolePromoted && pl.Role == cib.RolePromoted:
					p.add("%s promoted on %s despite location %s (role Promoted, -INFINITY)", pl.Name(), pl.Node, l.ID)
				}
			}
			// Fail counts: only when the chain agrees on the threshold
			// and the timeout, and one entry is listed on the node.
			entries := pf.entries[pl.Node]
			thresholds, timeouts := f.metaValues(pl.Rsc, "migration-threshold"), f.metaValues(pl.Rsc, "failure-timeout")
			if len(entries) == 1 && len(thresholds) <= 1 && len(timeouts) <= 1 {
				r := entries[0]
				var timeout time.Duration
				if len(timeouts) == 1 {
					d, _ := cib.ParseDuration(timeouts[0])
					timeout = time.Duration(d)
				}
				expired := timeout > 0 && propNow.Sub(r.LastFailure) > timeout
				ignored := r.Failed && slices.Contains(f.onFails(pl.Rsc, r), "ignore")
				if len(thresholds) == 1 && !expired && !ignored {
					if th, err := cib.ParseScore(thresholds[0]); err == nil && th > 0 && th < cib.Infinity && int64(r.FailCount) >= int64(th) {
						p.add("%s placed on %s, where its fail count %d reached migration-threshold %s", pl.Name(), pl.Node, r.FailCount, thresholds[0])
					}
				}
				if startFatal && r.Failed && r.FailedOp == "start" && !expired && !ignored {
					p.add("%s placed on %s, where its start failed (start-failure-is-fatal)", pl.Name(), pl.Node)
				}
				if (r.FailedRC == 2 || r.FailedRC == 5) && r.FailCount > 0 && !expired && !ignored {
					p.add("%s placed on %s, where it failed with the hard error rc %d", pl.Name(), pl.Node, r.FailedRC)
				}
			}
			// A fatal error (rc 6) anywhere bans it from every node.
			if len(timeouts) <= 1 {
				var timeout time.Duration
				if len(timeouts) == 1 {
					d, _ := cib.ParseDuration(timeouts[0])
					timeout = time.Duration(d)
				}
				for node, es := range pf.entries {
					for _, r := range es {
						expired := timeout > 0 && propNow.Sub(r.LastFailure) > timeout
						ignored := r.Failed && slices.Contains(f.onFails(pl.Rsc, r), "ignore")
						if r.FailedRC == 6 && r.FailCount > 0 && !expired && !ignored {
							p.add("%s placed on %s, though it failed with rc 6 (not configured) on %s", pl.Name(), pl.Node, node)
						}
					}
				}
			}
			target := f.targetRole(pl.Rsc)
			switch {
			case stopAll:
				p.add("%s placed on %s despite stop-all-resources", pl.Name(), pl.Node)
			case target == cib.RoleStopped:
				p.add("%s placed on %s despite target-role Stopped", pl.Name(), pl.Node)
			case target == cib.RoleUnpromoted && pl.Role == cib.RolePromoted:
				p.add("%s promoted on %s despite target-role Unpromoted", pl.Name(), pl.Node)
			}
		}
		p.check(t, cfg, st, plan)
	})
}

// targetRole is the most restrictive target-role of a primitive's chain,
// Stopped when a group member before it is stopped by its own.
func (f *facts) targetRole(id string) string {
	rank := map[string]int{cib.RoleStopped: 0, cib.RoleUnpromoted: 1, cib.RoleStarted: 2, cib.RolePromoted: 3}
	role := cib.RolePromoted
	restrict := func(m map[string]string) {
		if v, ok := m["target-role"]; ok && rank[v] < rank[role] {
			role = v
		}
	}
	for _, m := range f.prims[id].chain {
		restrict(m)
	}
	if g := f.prims[id].group; g != nil {
		for _, m := range g.Members {
			if m == id {
				break
			}
			if f.prims[m].p.Meta["target-role"] == cib.RoleStopped {
				role = cib.RoleStopped
			}
		}
	}
	return role
}

// Groups run together: the placed members of a group that is not cloned
// are on one node and are a leading run of its members; in a cloned group,
// on each node, no member has more instances than the member before it.
// Groups with a member that stays where it runs are exempt.
func TestPropGroups(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg, st := drawInput(t)
		plan := schedule(t, cfg, st, false)
		f := newFacts(cfg, st)
		var p problems
	groups:
		for _, g := range cfg.Groups {
			count := make([]map[string]int, len(g.Members))
			for i := range count {
				count[i] = map[string]int{}
			}
			for _, pl := range plan.Placements {
				i := slices.Index(g.Members, pl.Rsc)
				if i < 0 || pl.Node == "" {
					continue
				}
				if f.stays(pl.Rsc, pl.Node) || pl.Reason != "" {
					continue groups // pinned where it runs (blocked, unmanaged)
				}
				count[i][pl.Node]++
			}
			if cfg.CloneOf(g.ID) == nil {
				var at []string
				gap := false
				for i, m := range g.Members {
					on := nodesWith(count[i])
					switch {
					case len(on) == 0:
						gap = true
					case gap:
						p.add("group %s: %s runs on %v but a member before it is stopped", g.ID, m, on)
					}
					for _, n := range on {
						if !slices.Contains(at, n) {
							at = append(at, n)
						}
					}
				}
				if len(at) > 1 {
					p.add("group %s is split over %v", g.ID, at)
				}
				continue
			}
			for i := 1; i < len(g.Members); i++ {
				for node, k := range count[i] {
					if k > count[i-1][node] {
						p.add("cloned group %s: %d instances of %s on %s, but %d of %s before it", g.ID, k, g.Members[i], node, count[i-1][node], g.Members[i-1])
					}
				}
			}
		}
		p.check(t, cfg, st, plan)
	})
}

// (f) Schedule never panics nor errs on a valid input, with or without
// Explain; with Explain every node of an explained resource has a score.
func TestPropNoPanicOrError(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg, st := drawInput(t)
		schedule(t, cfg, st, false)
		plan := schedule(t, cfg, st, true)
		var p problems
		checkGraph(&p, plan)
		for _, e := range plan.Explanations {
			if len(e.Nodes) < len(cfg.Nodes) || e.Result == "" {
				p.add("explanation of %s: %d nodes, result %q", e.Rsc, len(e.Nodes), e.Result)
			}
		}
		p.check(t, cfg, st, plan)
	})
}
