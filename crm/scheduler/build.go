package scheduler

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/cib"
)

// world is one scheduler run's working set: the configuration and status
// turned into indexed nodes, primitives and allocation units.
type world struct {
	cfg  *cib.Config
	opt  Options
	plan *Plan

	nodes   []*node // by name
	nodeIdx map[string]int

	prims   []*prim // configuration order
	primIdx map[string]*prim

	units  []*unit          // allocation units: top-level primitives, groups, clones
	unitOf map[string]*unit // any resource id -> its top-level unit

	quorate bool // quorate, or no-quorum-policy=ignore
	// hasQuorum: the partition really has quorum (fencing needs it, even
	// with no-quorum-policy=ignore).
	hasQuorum bool
	planned   map[*prim][]*step
	policy    string // no-quorum-policy in force when not quorate
	stonith   bool
	strategy  string // placement-strategy
	symmetric,
	startFatal bool
	probes bool

	orders []*orderC // every order constraint, by id
	locs   []*location
	locsOf map[string][]*location
	colos  []*colocation
	clears []clearFC
}

type node struct {
	name    string
	state   NodeState
	probed  bool
	standby bool
	maint   bool
	attrs   map[string]string
	fence   bool   // the plan fences it
	canRun  bool   // may run resources in this plan
	why     string // why it cannot
	cap     map[string]int64
	used    map[string]int64
	count   int // resources allocated to it so far
}

// prim is one primitive with its resolved meta attributes and its state on
// each node.
type prim struct {
	cfg  *cib.Primitive
	id   string
	unit *unit // its top-level unit
	pos  int   // position in its group (0 if none)

	stickiness cib.Score
	threshold  int64 // 0: never
	failTO     time.Duration
	target     string
	managed    bool
	priority   int64
	multiple   string
	requires   string

	running []runState
	// stoppedFails are failures of instances that are stopped now; their
	// on-fail (stop, standby, block) still applies.
	stoppedFails []runState
	known        []bool // per node: the LRM state is known
	fails        []int  // effective fail count per node
	banned       []string
	// fatal, when set, bans it from every node: a failure of rc 6 (not
	// configured) somewhere.
	fatal   string
	stop    bool // on-fail=stop: keep stopped
	multi   bool // active on several nodes
	stopWhy string

	base    []cib.Score // location + stickiness + fail bans, per node
	contrib [][]Contribution

	acts []actRef // the actions emitted for it
}

// actRef is one emitted action of a primitive.
type actRef struct {
	op   string
	node int
	id   int
}

// runState is one running (or failed) instance on a node, as the status
// says.
type runState struct {
	node     int
	role     string
	failed   bool
	failedOp string
	implied  bool // the node is fenced: its stop is implied
	// blocked says why this instance is left alone where it is
	// (unmanaged, on-fail=block, an unclean node that cannot be fenced).
	blocked string
	// byQuorum: blocked only by the quorum policy (freeze, demote); its
	// stop could run, so it blocks no other resource's stop.
	byQuorum bool
	// keepAs is the role a pinned instance is kept in when it differs
	// from its current one (no-quorum-policy=demote).
	keepAs string
	// demote: a promoted instance whose failure demotes it (on-fail=demote);
	// it may be promoted again afterwards, as in Pacemaker.
	demote bool
	// monitors are the recurring monitors running for it (if known).
	monitors      []cib.Duration
	monitorsKnown bool
}

type unitKind uint8

const (
	unitPrimitive unitKind = iota
	unitGroup
	unitClone
)

// unit is what allocation places: a primitive, a group (members together),
// or a clone (instances).
type unit struct {
	kind     unitKind
	id       string
	order    int
	prims    []*prim // the primitive, the group's members, the clone's child members
	gid      string  // the group id for a group, or a clone of a group
	meta     []map[string]string
	priority int64

	// clone options
	cloneMax, cloneNodeMax       int
	promotable                   bool
	promotedMax, promotedNodeMax int
	interleave, ordered          bool
	notify                       bool // meta notify=true: instances are told of each other's actions

	state    int // 0 unassigned, 1 assigning, 2 done
	fixed    bool
	fixedBy  string
	fixedPos int // the first blocked member

	// results
	node   int // primitive/group: chosen node, -1 none
	placed int // group: how many leading members are placed
	inst   []inst
	reason string

	scores  []cib.Score
	contrib [][]Contribution
	// capped: a clone's node whose folded dependents' preferences would
	// have made it negative; its total is 1 (assign.go, fold).
	capped      []bool
	result      string
	promoResult string

	asDep  []*colocation // this with primary
	asPrim []*colocation // dependent with this
}

// inst is one clone instance's placement.
type inst struct {
	node  int
	role  string
	fixed string // why it is pinned where it runs ("" if placed freely)
	// over: a pinned instance beyond clone-max or clone-node-max; the
	// later members of its group do not stay with it.
	over bool
}

type location struct {
	c    *cib.Location
	rule cib.Rule
	role string
}

type colocation struct {
	c         *cib.Colocation
	dep, prim *unit
	score     cib.Score
	depRole   string
	primRole  string
}

type orderC struct {
	c           *cib.Order
	first, then *unit
}

// meta resolves a meta attribute along a chain of maps (innermost first)
// and the resource defaults.
func (w *world) meta(chain []map[string]string, name string) string {
	for _, m := range chain {
		if v, ok := m[name]; ok {
			return v
		}
	}
	if v, ok := w.cfg.ResourceDefaults[name]; ok {
		return v
	}
	return cib.MetaDefs[name].Default
}

// anyMeta reports whether any map in the chain sets name to a value that
// satisfies pred.
func anyMeta(chain []map[string]string, name string, pred func(string) bool) bool {
	for _, m := range chain {
		if v, ok := m[name]; ok && pred(v) {
			return true
		}
	}
	return false
}

var roleRank = map[string]int{cib.RoleStopped: 0, cib.RoleUnpromoted: 1, cib.RoleStarted: 2, cib.RolePromoted: 3}

// targetRole is the most restrictive target-role of the chain.
// The resource defaults only fill in a target-role that no map of the
// chain sets.
func (w *world) targetRole(chain []map[string]string) string {
	r, set := "", false
	for _, m := range chain {
		if v, ok := m["target-role"]; ok && (!set || roleRank[v] < roleRank[r]) {
			r, set = v, true
		}
	}
	if !set {
		return w.meta(nil, "target-role")
	}
	return r
}

func parseBool(s string) bool {
	switch strings.ToLower(s) {
	case "true", "yes", "on", "y", "1":
		return true
	}
	return false
}

func atoiDefault(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}

// build indexes the configuration and the status.
func build(cfg *cib.Config, st *Status, opt Options) (*world, error) {
	w := &world{cfg: cfg, opt: opt, plan: &Plan{}, nodeIdx: map[string]int{}, primIdx: map[string]*prim{}, unitOf: map[string]*unit{}}
	w.stonith = parseBool(cfg.Property("stonith-enabled"))
	w.policy = cfg.Property("no-quorum-policy")
	w.quorate = st.Quorate || w.policy == "ignore"
	w.hasQuorum = st.Quorate
	w.strategy = cfg.Property("placement-strategy")
	w.symmetric = parseBool(cfg.Property("symmetric-cluster"))
	w.startFatal = parseBool(cfg.Property("start-failure-is-fatal"))
	w.probes = parseBool(cfg.Property("enable-startup-probes"))

	// Nodes: the configured ones and any the status names.
	names := make([]string, 0, len(cfg.Nodes))
	for _, n := range cfg.Nodes {
		names = append(names, n.Name)
	}
	known := make(map[string]bool, len(cfg.Nodes))
	for _, n := range cfg.Nodes {
		known[n.Name] = true
	}
	for _, n := range st.Nodes {
		if !known[n.Name] {
			known[n.Name] = true
			names = append(names, n.Name)
		}
	}
	slices.Sort(names)
	for i, name := range names {
		w.nodeIdx[name] = i
		n := &node{name: name, state: NodeOffline, attrs: map[string]string{}}
		if cn := cfg.Node(name); cn != nil {
			n.standby, n.maint = cn.Standby, cn.Maintenance
			for k, v := range cn.Attributes {
				n.attrs[k] = v
			}
			n.cap = cn.Utilization
		}
		w.nodes = append(w.nodes, n)
	}
	for _, ns := range st.Nodes {
		n := w.nodes[w.nodeIdx[ns.Name]]
		n.state = ns.State
		if n.state == "" {
			n.state = NodeOnline
		}
		n.probed = ns.Probed
		for k, v := range ns.Attributes {
			n.attrs[k] = v
		}
		if parseBool(ns.Attributes["standby"]) {
			n.standby = true
		}
	}
	for _, n := range w.nodes {
		n.attrs["#uname"] = n.name
		n.attrs["#id"] = n.name
		n.attrs["#kind"] = "cluster"
		if cn := cfg.Property("cluster-name"); cn != "" {
			n.attrs["#cluster-name"] = cn
		}
		n.used = map[string]int64{}
	}

	if err := w.buildResources(); err != nil {
		return nil, err
	}
	if err := w.buildConstraints(); err != nil {
		return nil, err
	}
	if err := w.readStatus(st); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *world) newPrim(p *cib.Primitive, u *unit, pos int, chain []map[string]string) *prim {
	chain = append([]map[string]string{p.Meta}, chain...)
	pr := &prim{cfg: p, id: p.ID, unit: u, pos: pos}
	pr.stickiness, _ = cib.ParseScore(w.meta(chain, "resource-stickiness"))
	if t, err := cib.ParseScore(w.meta(chain, "migration-threshold")); err == nil && t < cib.Infinity && t > 0 {
		pr.threshold = int64(t)
	}
	if d, err := cib.ParseDuration(w.meta(chain, "failure-timeout")); err == nil {
		pr.failTO = d.D()
	}
	pr.target = w.targetRole(chain)
	if parseBool(w.cfg.Property("stop-all-resources")) {
		pr.target = cib.RoleStopped
	}
	pr.managed = !anyMeta(append(chain, w.cfg.ResourceDefaults), "is-managed", func(v string) bool { return !parseBool(v) }) &&
		!anyMeta(append(chain, w.cfg.ResourceDefaults), "maintenance", parseBool) &&
		!parseBool(w.cfg.Property("maintenance-mode"))
	pr.priority, _ = strconv.ParseInt(w.meta(chain, "priority"), 10, 64)
	pr.multiple = w.meta(chain, "multiple-active")
	pr.requires = w.meta(chain, "requires")
	n := len(w.nodes)
	pr.known = make([]bool, n)
	pr.fails = make([]int, n)
	pr.banned = make([]string, n)
	w.prims = append(w.prims, pr)
	w.primIdx[p.ID] = pr
	w.unitOf[p.ID] = u
	return pr
}

func (w *world) buildResources() error {
	cfg := w.cfg
	inGroup := map[string]bool{}
	for _, g := range cfg.Groups {
		for _, m := range g.Members {
			inGroup[m] = true
		}
	}
	inClone := map[string]bool{}
	for _, c := range cfg.Clones {
		inClone[c.Rsc] = true
	}
	primByID := make(map[string]*cib.Primitive, len(cfg.Primitives))
	for i := range cfg.Primitives {
		primByID[cfg.Primitives[i].ID] = &cfg.Primitives[i]
	}
	groupByID := make(map[string]*cib.Group, len(cfg.Groups))
	for i := range cfg.Groups {
		groupByID[cfg.Groups[i].ID] = &cfg.Groups[i]
	}
	addGroup := func(u *unit, g *cib.Group, chain []map[string]string) error {
		u.gid = g.ID
		w.unitOf[g.ID] = u
		chain = append([]map[string]string{g.Meta}, chain...)
		for i, m := range g.Members {
			p := primByID[m]
			if p == nil {
				return fmt.Errorf("group %s: member %s is not a primitive", g.ID, m)
			}
			u.prims = append(u.prims, w.newPrim(p, u, i, chain))
		}
		return nil
	}
	for i := range cfg.Primitives {
		p := &cfg.Primitives[i]
		if inGroup[p.ID] || inClone[p.ID] {
			continue
		}
		u := &unit{kind: unitPrimitive, id: p.ID, node: -1, order: len(w.units)}
		u.prims = []*prim{w.newPrim(p, u, 0, nil)}
		u.meta = []map[string]string{p.Meta}
		w.units = append(w.units, u)
	}
	for i := range cfg.Groups {
		g := &cfg.Groups[i]
		if inClone[g.ID] {
			continue
		}
		u := &unit{kind: unitGroup, id: g.ID, node: -1, order: len(w.units)}
		u.meta = []map[string]string{g.Meta}
		if err := addGroup(u, g, nil); err != nil {
			return err
		}
		w.units = append(w.units, u)
	}
	for i := range cfg.Clones {
		c := &cfg.Clones[i]
		u := &unit{kind: unitClone, id: c.ID, node: -1, order: len(w.units), promotable: c.Promotable}
		w.unitOf[c.ID] = u
		chain := []map[string]string{c.Meta}
		u.meta = chain
		if g := groupByID[c.Rsc]; g != nil {
			if err := addGroup(u, g, chain); err != nil {
				return err
			}
		} else if p := primByID[c.Rsc]; p != nil {
			u.prims = []*prim{w.newPrim(p, u, 0, chain)}
		} else {
			return fmt.Errorf("clone %s: %s is neither a primitive nor a group", c.ID, c.Rsc)
		}
		u.cloneMax = atoiDefault(w.meta(chain, "clone-max"), len(w.nodes))
		u.cloneNodeMax = atoiDefault(w.meta(chain, "clone-node-max"), 1)
		u.promotedMax = atoiDefault(w.meta(chain, "promoted-max"), 1)
		u.promotedNodeMax = atoiDefault(w.meta(chain, "promoted-node-max"), 1)
		u.interleave = parseBool(w.meta(chain, "interleave"))
		u.ordered = parseBool(w.meta(chain, "ordered"))
		u.notify = parseBool(w.meta(chain, "notify"))
		w.units = append(w.units, u)
	}
	for _, u := range w.units {
		u.priority = u.prims[0].priority
		for _, p := range u.prims[1:] {
			u.priority = max(u.priority, p.priority)
		}
	}
	return nil
}

func (w *world) buildConstraints() error {
	cs := &w.cfg.Constraints
	for i := range cs.Location {
		l := &cs.Location[i]
		loc := &location{c: l, role: l.Role}
		if l.Rule != "" {
			r, err := cib.ParseRule(l.Rule)
			if err != nil {
				return fmt.Errorf("location %s: %w", l.ID, err)
			}
			loc.rule = r
		}
		if w.unitOf[l.Rsc] == nil {
			return fmt.Errorf("location %s: unknown resource %s", l.ID, l.Rsc)
		}
		w.locs = append(w.locs, loc)
	}
	for i := range cs.Colocation {
		c := &cs.Colocation[i]
		dep, pri := w.unitOf[c.Rsc], w.unitOf[c.WithRsc]
		if dep == nil || pri == nil {
			return fmt.Errorf("colocation %s: unknown resource", c.ID)
		}
		if dep == pri {
			continue // within one group or clone: already implied
		}
		co := &colocation{c: c, dep: dep, prim: pri, score: c.Score, depRole: c.RscRole, primRole: c.WithRscRole}
		w.colos = append(w.colos, co)
		dep.asDep = append(dep.asDep, co)
		pri.asPrim = append(pri.asPrim, co)
	}
	for i := range cs.Order {
		o := &cs.Order[i]
		f, t := w.unitOf[o.First], w.unitOf[o.Then]
		if f == nil || t == nil {
			return fmt.Errorf("order %s: unknown resource", o.ID)
		}
		w.orders = append(w.orders, &orderC{c: o, first: f, then: t})
	}
	slices.SortFunc(w.orders, func(a, b *orderC) int { return cmp.Compare(a.c.ID, b.c.ID) })
	return nil
}

// readStatus records what runs where, fail counts and failures.
func (w *world) readStatus(st *Status) error {
	for _, ns := range st.Nodes {
		ni := w.nodeIdx[ns.Name]
		n := w.nodes[ni]
		if n.probed {
			for _, p := range w.prims {
				p.known[ni] = true
			}
		}
		for _, rs := range ns.Resources {
			p := w.primIdx[rs.ID]
			if p == nil {
				return fmt.Errorf("status: node %s: unknown primitive %s", ns.Name, rs.ID)
			}
			p.known[ni] = true
			role := rs.Role
			if role == "" {
				role = cib.RoleStarted
			}
			if p.unit.promotable && role == cib.RoleStarted {
				role = cib.RoleUnpromoted
			}
			count := rs.FailCount
			expired := p.failTO > 0 && !rs.LastFailure.IsZero() && !w.opt.Now.Before(rs.LastFailure.Add(p.failTO))
			if at := rs.LastFailure.Add(p.failTO); p.failTO > 0 && rs.FailCount > 0 && !rs.LastFailure.IsZero() && !expired &&
				(w.plan.Recheck.IsZero() || at.Before(w.plan.Recheck)) {
				w.plan.Recheck = at
			}
			if expired {
				count = 0
				if rs.FailCount > 0 && n.state == NodeOnline && !slices.Contains(w.clears, clearFC{p, ni}) {
					w.clears = append(w.clears, clearFC{p, ni})
				}
			}
			p.fails[ni] += count
			if rs.Failed && rs.FailedOp == "start" && w.startFatal && !expired {
				p.banned[ni] = "its start failed here (start-failure-is-fatal)"
			}
			// A hard or fatal error bans until cleaned up or expired,
			// unless the failed op's on-fail is ignore (as Pacemaker).
			ignored := rs.Failed && w.onFail(p, cmp.Or(rs.FailedOp, OpMonitor), role) == "ignore"
			if rs.FailCount > 0 && !expired && !ignored {
				switch hard := hardError(rs.FailedRC); {
				case rs.FailedRC == ocf.ErrConfigured && p.fatal == "":
					p.fatal = fmt.Sprintf("its agent said on %s that its configuration is invalid (rc 6, not configured); fix it, then clean up the failure", ns.Name)
				case hard != "":
					p.banned[ni] = fmt.Sprintf("hard error here (rc %d, %s); clean up the failure once fixed", rs.FailedRC, hard)
				}
			}
			r := runState{node: ni, role: role, failed: rs.Failed, failedOp: rs.FailedOp}
			if rs.MonitorsKnown {
				r.monitorsKnown, r.monitors = true, rs.Monitors
			}
			switch {
			case role == cib.RoleStopped && rs.Failed:
				// Failed and since stopped: its on-fail still holds.
				p.stoppedFails = append(p.stoppedFails, r)
			case role == cib.RoleStopped, n.state == NodeOffline:
				// Not running; an offline node runs nothing.
			default:
				p.running = append(p.running, r)
			}
		}
	}
	if !w.probes {
		for _, p := range w.prims {
			for i := range p.known {
				p.known[i] = true
			}
		}
	}
	for _, p := range w.prims {
		if p.fatal != "" {
			for ni := range p.banned {
				p.banned[ni] = p.fatal
			}
		}
		for ni, c := range p.fails {
			if p.threshold > 0 && int64(c) >= p.threshold && p.banned[ni] == "" {
				p.banned[ni] = fmt.Sprintf("migration-threshold %d reached (%d failures)", p.threshold, c)
			}
		}
	}
	return nil
}

// hardError names the OCF codes that ban a resource from the node where
// an operation returned them (Pacemaker's hard errors); "" for others.
func hardError(rc int) string {
	switch rc {
	case ocf.ErrArgs, ocf.ErrUnimplemented, ocf.ErrPerm, ocf.ErrInstalled:
		return ocf.RCName(rc)
	}
	return ""
}

// clearFC is an expired fail count the plan clears.
type clearFC struct {
	p    *prim
	node int
}

// runningOn is p's running state on node ni.
func (p *prim) runningOn(ni int) (runState, bool) {
	for _, r := range p.running {
		if r.node == ni {
			return r, true
		}
	}
	return runState{}, false
}
