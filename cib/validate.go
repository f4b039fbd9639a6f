package cib

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Problem is one thing wrong with a configuration, at a path such as
// primitives[web-ip].ops[1].interval or constraints.order[web-after-db].
type Problem struct {
	Path    string
	Message string
}

// String renders the problem as "path: message".
func (p Problem) String() string { return p.Path + ": " + p.Message }

// ValidationError lists every problem Validate found, in a stable order.
type ValidationError struct {
	Problems []Problem
}

// Error prints one problem per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Validate checks the whole configuration and reports every problem found,
// each with its path, as a *ValidationError (nil when there is none). It
// follows the CIB rules of "Pacemaker Explained": one id namespace for
// resources, constraints and fence devices; groups of primitives; clones of
// a primitive or a group; no cycle of mandatory orders. Validate does not
// change c; legacy names (role Master, kind Mandatory) are accepted, and
// Normalize rewrites them.
func (c *Config) Validate() error {
	cs := &c.Constraints
	v := &validator{
		c:        c,
		owner:    make(map[string]string, len(c.Primitives)+len(c.Groups)+len(c.Clones)+len(cs.Location)+len(cs.Colocation)+len(cs.Order)),
		prims:    make(map[string]int, len(c.Primitives)),
		groups:   make(map[string]int, len(c.Groups)),
		clones:   make(map[string]int, len(c.Clones)),
		groupOf:  make(map[string]int, len(c.Primitives)),
		cloneOf:  make(map[string]int, len(c.Clones)),
		fenceDev: make(map[string]bool, len(c.FenceDevices)),
		opSeen:   map[opKey]int{},
	}
	if lc := c.LastChange; lc != nil {
		v.checkText("last-change.origin", lc.Origin)
		v.checkText("last-change.command", lc.Command)
	}
	v.checkProperties()
	v.checkNodes()
	v.index()
	v.checkPrimitives()
	v.checkGroups()
	v.checkClones()
	v.checkLocations()
	v.checkColocations()
	v.checkOrders()
	v.checkOrderCycles()
	v.checkFencing()
	v.checkParams("agent-attributes", v.c.AgentAttributes)
	v.checkAlerts() // last: see checkAlerts
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems}
}

// validator holds the lookups Validate builds once, so every check is a map
// access rather than a scan.
type validator struct {
	c        *Config
	problems []Problem
	owner    map[string]string // id -> what first had it ("primitive", "order constraint", ...)
	prims    map[string]int    // id -> index in c.Primitives (first of duplicates)
	groups   map[string]int    // id -> index in c.Groups
	clones   map[string]int    // id -> index in c.Clones
	groupOf  map[string]int    // member -> index of the first group listing it
	cloneOf  map[string]int    // rsc -> index of the first clone of it
	fenceDev map[string]bool
	keyBuf   []string      // reused by sortedKeys
	opSeen   map[opKey]int // reused by checkOps
}

// opKey identifies an op for the duplicate check.
type opKey struct {
	name, role string
	interval   Duration
}

func (v *validator) add(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) checkText(path, s string) {
	if why := textProblem(s); why != "" {
		v.add(path, "%s", why)
	}
}

// elem names an element of a list by id, or by position when the id is not
// usable in a path.
func elem(list, id string, i int) string {
	if idProblem(id) == "" {
		return list + "[" + id + "]"
	}
	return list + "[#" + strconv.Itoa(i) + "]"
}

// key renders a map key for a path.
func key(k string) string {
	if attrNameProblem(k) == "" {
		return k
	}
	return strconv.Quote(k)
}

// index records every id, reporting bad and duplicate ones, and fills the
// lookups.
func (v *validator) index() {
	c := v.c
	record := func(what, list, id string, i int) {
		path := elem(list, id, i)
		if why := idProblem(id); why != "" {
			v.add(path+".id", "%s", why)
			return
		}
		if prev, dup := v.owner[id]; dup {
			if prev == what {
				v.add(path, "duplicate id %q: already used by another %s", id, what)
			} else {
				v.add(path, "duplicate id %q: already used by a %s", id, prev)
			}
			return
		}
		v.owner[id] = what
	}
	firstOf := func(m map[string]int, id string, i int) {
		if _, ok := m[id]; !ok {
			m[id] = i
		}
	}
	for i, p := range c.Primitives {
		record("primitive", "primitives", p.ID, i)
		firstOf(v.prims, p.ID, i)
	}
	for i, g := range c.Groups {
		record("group", "groups", g.ID, i)
		firstOf(v.groups, g.ID, i)
		for _, m := range g.Members {
			firstOf(v.groupOf, m, i)
		}
	}
	for i, cl := range c.Clones {
		record("clone", "clones", cl.ID, i)
		firstOf(v.clones, cl.ID, i)
		firstOf(v.cloneOf, cl.Rsc, i)
	}
	for i, l := range c.Constraints.Location {
		record("location constraint", "constraints.location", l.ID, i)
	}
	for i, l := range c.Constraints.Colocation {
		record("colocation constraint", "constraints.colocation", l.ID, i)
	}
	for i, o := range c.Constraints.Order {
		record("order constraint", "constraints.order", o.ID, i)
	}
	for i, f := range c.FenceDevices {
		record("fence device", "fence-devices", f.ID, i)
		v.fenceDev[f.ID] = true
	}
}

func (v *validator) isResource(id string) bool {
	_, p := v.prims[id]
	_, g := v.groups[id]
	_, c := v.clones[id]
	return p || g || c
}

// refProblem says why id does not name a resource, or "".
func (v *validator) refProblem(id string) string {
	switch {
	case id == "":
		return "a resource id is required"
	case v.isResource(id):
		return ""
	case v.owner[id] != "":
		return fmt.Sprintf("%q is a %s, not a resource", id, v.owner[id])
	}
	return fmt.Sprintf("unknown resource %q", id)
}

// promotable reports whether resource id is a promotable clone or sits
// inside one (directly, or as a member of a cloned group).
func (v *validator) promotable(id string) bool {
	for range 3 {
		if i, ok := v.clones[id]; ok {
			return v.c.Clones[i].Promotable
		}
		if i, ok := v.cloneOf[id]; ok {
			return v.c.Clones[i].Promotable
		}
		g, ok := v.groupOf[id]
		if !ok {
			return false
		}
		id = v.c.Groups[g].ID
	}
	return false
}

func (v *validator) checkNodes() {
	seen := make(map[string]int, len(v.c.Nodes))
	for i, n := range v.c.Nodes {
		path := "nodes[#" + strconv.Itoa(i) + "]"
		if why := nodeNameProblem(n.Name); why != "" {
			v.add(path+".name", "%s", why)
		} else {
			path = "nodes[" + n.Name + "]"
			lower := strings.ToLower(n.Name)
			if j, dup := seen[lower]; dup {
				v.add(path, "duplicate node %q (also nodes[#%d]; host names ignore case)", n.Name, j)
			} else {
				seen[lower] = i
			}
		}
		if n.Votes < 0 {
			v.add(path+".votes", "votes must not be negative (got %d)", n.Votes)
		}
		for _, k := range sortedKeys(v, n.Attributes) {
			apath := path + ".attributes[" + key(k) + "]"
			if why := attrNameProblem(k); why != "" {
				v.add(apath, "%s", why)
			}
			v.checkText(apath, n.Attributes[k])
		}
		v.checkUtilization(path+".utilization", n.Utilization)
	}
}

func (v *validator) checkUtilization(path string, m map[string]int64) {
	for _, k := range sortedKeys(v, m) {
		if why := attrNameProblem(k); why != "" {
			v.add(path+"["+key(k)+"]", "%s", why)
		}
		if m[k] < 0 {
			v.add(path+"["+key(k)+"]", "utilization must not be negative (got %d)", m[k])
		}
	}
}

// checkParams checks agent parameters: names reach agents as OCF_RESKEY_name
// environment variables, so no '=', whitespace or NUL.
func (v *validator) checkParams(path string, m map[string]string) {
	for _, k := range sortedKeys(v, m) {
		ppath := path + "[" + key(k) + "]"
		switch {
		case k == "":
			v.add(ppath, "empty parameter name")
		case strings.ContainsAny(k, "= \t\n\r\v\f\x00") || !utf8.ValidString(k):
			v.add(ppath, "parameter name %q must not contain '=', whitespace or NUL", k)
		}
		v.checkText(ppath, m[k])
	}
}

// The op names a primitive may configure, and what on-fail may say
// ("Pacemaker Explained", Resource Operations).
var (
	opNames  = []string{"start", "stop", "monitor", "promote", "demote", "notify", "reload", "reload-agent", "migrate_to", "migrate_from", "meta-data", "validate-all"}
	onFails  = []string{"ignore", "block", "stop", "restart", "standby", "fence", "demote"}
	orderOps = []string{"start", "stop", "promote", "demote"}
)

func (v *validator) checkPrimitives() {
	for i := range v.c.Primitives {
		p := &v.c.Primitives[i]
		path := elem("primitives", p.ID, i)
		if _, err := ParseAgent(p.Agent); err != nil {
			v.add(path+".agent", "%v", err)
		} else if !utf8.ValidString(p.Agent) {
			v.add(path+".agent", "agent %q is not valid UTF-8", p.Agent)
		}
		v.checkParams(path+".params", p.Params)
		promotable := v.promotable(p.ID)
		v.checkMetaMap(path+".meta", KindPrimitive, promotable, p.Meta)
		v.checkOps(path, p.Ops, promotable)
		v.checkUtilization(path+".utilization", p.Utilization)
	}
}

func (v *validator) checkOps(path string, ops []Op, promotable bool) {
	clear(v.opSeen)
	for j, op := range ops {
		at := func(field string) string { return path + ".ops[" + strconv.Itoa(j) + "]" + field }
		known := slices.Contains(opNames, op.Name)
		if !known {
			v.add(at(".name"), "unknown op %q (want one of %s)", op.Name, strings.Join(opNames, ", "))
		}
		switch {
		case op.Interval < 0:
			v.add(at(".interval"), "interval must not be negative")
		case op.Interval > 0 && op.Name != "monitor" && known:
			v.add(at(".interval"), "only monitor ops recur: a %s op takes no interval (got %s)", op.Name, op.Interval)
		}
		if op.Timeout < 0 {
			v.add(at(".timeout"), "timeout must not be negative")
		}
		role := ""
		if op.Role != "" {
			var why string
			if role, why = roleProblem(op.Role, promotable); why != "" {
				v.add(at(".role"), "%s", why)
			}
		}
		if op.CheckLevel < 0 {
			v.add(at(".check-level"), "check-level %d: want a depth of 0 or more (0, 10, 20, ...)", op.CheckLevel)
		}
		if op.OnFail != "" {
			if !slices.Contains(onFails, op.OnFail) {
				v.add(at(".on-fail"), "unknown on-fail %q (want one of %s)", op.OnFail, strings.Join(onFails, ", "))
			} else if op.OnFail == "demote" && op.Name != "promote" && !(op.Name == "monitor" && op.Interval > 0 && role == RolePromoted) {
				v.add(at(".on-fail"), "on-fail demote applies only to promote ops and recurring monitors with role Promoted")
			}
		}
		// Pacemaker keys op history by resource, op and interval, so two
		// recurring monitors may not share an interval even for different
		// roles ("Pacemaker Explained", Monitoring Resources for Failure).
		recurring := op.Name == "monitor" && op.Interval > 0
		k := opKey{op.Name, role, op.Interval}
		if recurring {
			k.role = ""
		}
		if prev, dup := v.opSeen[k]; dup {
			if recurring {
				v.add(at(""), "another recurring monitor (ops[%d]) has interval %s; monitor intervals must differ, even for different roles", prev, op.Interval)
			} else {
				v.add(at(""), "duplicate %s op (also ops[%d])", op.Name, prev)
			}
		} else {
			v.opSeen[k] = j
		}
	}
}

func (v *validator) checkGroups() {
	for i := range v.c.Groups {
		g := &v.c.Groups[i]
		path := elem("groups", g.ID, i)
		if len(g.Members) == 0 {
			v.add(path+".members", "group %q has no members", g.ID)
		}
		listed := make(map[string]bool, len(g.Members))
		for j, m := range g.Members {
			mpath := path + ".members[" + strconv.Itoa(j) + "]"
			if listed[m] {
				v.add(mpath, "%q is listed twice", m)
				continue
			}
			listed[m] = true
			_, isGroup := v.groups[m]
			_, isClone := v.clones[m]
			switch {
			case isClone:
				v.add(mpath, "clone inside a group: %q is a clone; clone the group instead", m)
			case isGroup:
				v.add(mpath, "%q is a group; groups cannot nest", m)
			case v.refProblem(m) != "":
				v.add(mpath, "%s", v.refProblem(m))
			case v.groupOf[m] != i:
				v.add(mpath, "%q is already in group %q; a primitive belongs to at most one group", m, v.c.Groups[v.groupOf[m]].ID)
			}
		}
		v.checkMetaMap(path+".meta", KindGroup, v.promotable(g.ID), g.Meta)
	}
}

func (v *validator) checkClones() {
	for i := range v.c.Clones {
		cl := &v.c.Clones[i]
		path := elem("clones", cl.ID, i)
		_, isPrim := v.prims[cl.Rsc]
		_, isClone := v.clones[cl.Rsc]
		switch {
		case isClone:
			v.add(path+".rsc", "%q is a clone; a clone cannot be cloned again", cl.Rsc)
		case v.refProblem(cl.Rsc) != "":
			v.add(path+".rsc", "%s", v.refProblem(cl.Rsc))
		case v.cloneOf[cl.Rsc] != i:
			v.add(path+".rsc", "%q is already cloned by %q", cl.Rsc, v.c.Clones[v.cloneOf[cl.Rsc]].ID)
		case isPrim:
			if g, ok := v.groupOf[cl.Rsc]; ok {
				v.add(path+".rsc", "%q is in group %q; a grouped primitive cannot be cloned on its own: clone the group instead", cl.Rsc, v.c.Groups[g].ID)
			}
		}
		v.checkMetaMap(path+".meta", KindClone, cl.Promotable, cl.Meta)
	}
}

func (v *validator) checkRef(path, field, id string) bool {
	if why := v.refProblem(id); why != "" {
		v.add(path+field, "%s", why)
		return false
	}
	return true
}

func (v *validator) checkScore(path string, s Score) {
	if s < -Infinity || s > Infinity {
		v.add(path+".score", "score %d is beyond ±INFINITY (%d)", int64(s), Infinity)
	}
}

// checkConstraintRole checks a constraint's role on resource rsc.
func (v *validator) checkConstraintRole(path, field, role, rsc string, exists bool) {
	if role == "" {
		return
	}
	if _, why := roleProblem(role, !exists || v.promotable(rsc)); why != "" {
		v.add(path+field, "%s", why)
	}
}

func (v *validator) checkLocations() {
	for i := range v.c.Constraints.Location {
		l := &v.c.Constraints.Location[i]
		path := elem("constraints.location", l.ID, i)
		ok := v.checkRef(path, ".rsc", l.Rsc)
		switch {
		case l.Node != "" && l.Rule != "":
			v.add(path, "give node or rule, not both")
		case l.Node == "" && l.Rule == "":
			v.add(path, "needs a node or a rule")
		}
		if l.Node != "" {
			// Unknown nodes are allowed, as in Pacemaker: a node may be
			// constrained before it first joins.
			if why := nodeNameProblem(l.Node); why != "" {
				v.add(path+".node", "%s", why)
			}
		}
		if l.Rule != "" {
			if _, err := ParseRule(l.Rule); err != nil {
				v.add(path+".rule", "bad rule %q: %v", l.Rule, err)
			}
		}
		if l.ScoreAttribute != "" {
			if l.Rule == "" {
				v.add(path+".score-attribute", "score-attribute needs a rule")
			} else if why := attrNameProblem(l.ScoreAttribute); why != "" {
				v.add(path+".score-attribute", "%s", why)
			}
		}
		v.checkScore(path, l.Score)
		v.checkConstraintRole(path, ".role", l.Role, l.Rsc, ok)
	}
}

func (v *validator) checkColocations() {
	for i := range v.c.Constraints.Colocation {
		l := &v.c.Constraints.Colocation[i]
		path := elem("constraints.colocation", l.ID, i)
		ok1 := v.checkRef(path, ".rsc", l.Rsc)
		ok2 := v.checkRef(path, ".with-rsc", l.WithRsc)
		if l.Rsc != "" && l.Rsc == l.WithRsc {
			v.add(path, "%q cannot be colocated with itself", l.Rsc)
		}
		v.checkScore(path, l.Score)
		v.checkConstraintRole(path, ".rsc-role", l.RscRole, l.Rsc, ok1)
		v.checkConstraintRole(path, ".with-rsc-role", l.WithRscRole, l.WithRsc, ok2)
	}
}

// The kinds of order ("Pacemaker Explained", Ordering Constraints).
const (
	OrderMandatory = "mandatory"
	OrderOptional  = "optional"
	OrderSerialize = "serialize"
)

func (v *validator) checkOrders() {
	for i := range v.c.Constraints.Order {
		o := &v.c.Constraints.Order[i]
		path := elem("constraints.order", o.ID, i)
		ok1 := v.checkRef(path, ".first", o.First)
		ok2 := v.checkRef(path, ".then", o.Then)
		if o.First != "" && o.First == o.Then {
			v.add(path, "%q cannot be ordered after itself", o.First)
		}
		v.checkAction(path, ".first-action", o.FirstAction, o.First, ok1)
		v.checkAction(path, ".then-action", o.ThenAction, o.Then, ok2)
		switch kind := strings.ToLower(o.Kind); kind {
		case OrderMandatory, OrderOptional:
		case OrderSerialize:
			if o.Symmetrical {
				v.add(path+".symmetrical", "a serialize order cannot be symmetrical")
			}
		default:
			v.add(path+".kind", "unknown kind %q (want mandatory, optional or serialize)", o.Kind)
		}
	}
}

func (v *validator) checkAction(path, field, action, rsc string, exists bool) {
	switch {
	case !slices.Contains(orderOps, action):
		v.add(path+field, "unknown action %q (want start, stop, promote or demote)", action)
	case (action == "promote" || action == "demote") && exists && !v.promotable(rsc):
		v.add(path+field, "%s applies only to a promotable clone (or a resource inside one); %q is not one", action, rsc)
	}
}

// validFenceAgentName: a plain name (fence_ipmilan), or external/NAME, the
// name Pacemaker's stonith class gives cluster-glue plugins
// (external/sbd, external/ssh), kept so that a Pacemaker CIB imports as
// it is. The fencer runs only fence-agents executables by name and
// reports any other agent as failing when it fences.
func validFenceAgentName(s string) bool {
	plain := func(s string) bool {
		return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/ \t\n\r\v\f\x00") && utf8.ValidString(s)
	}
	if rest, ok := strings.CutPrefix(s, "external/"); ok {
		return plain(rest)
	}
	return plain(s)
}

func (v *validator) checkFencing() {
	for i, f := range v.c.FenceDevices {
		path := elem("fence-devices", f.ID, i)
		switch {
		case f.Agent == "":
			v.add(path+".agent", "a fence agent is required")
		case !validFenceAgentName(f.Agent):
			v.add(path+".agent", "fence agent %q must be a plain name (no '/', whitespace or NUL; or external/NAME, a cluster-glue stonith plugin)", f.Agent)
		}
		v.checkParams(path+".params", f.Params)
		v.checkMetaMap(path+".meta", KindPrimitive, false, f.Meta)
	}
	type level struct {
		target string
		index  int
	}
	seen := map[level]int{}
	for i, l := range v.c.FenceLevels {
		path := "fence-levels[" + strconv.Itoa(i) + "]"
		if why := nodeNameProblem(l.Target); why != "" {
			v.add(path+".target", "%s", why)
		}
		// Pacemaker numbers topology levels 1 to 9.
		if l.Index < 1 || l.Index > 9 {
			v.add(path+".index", "index %d is out of range 1..9", l.Index)
		} else if j, dup := seen[level{strings.ToLower(l.Target), l.Index}]; dup {
			v.add(path+".index", "node %q already has a level %d (fence-levels[%d])", l.Target, l.Index, j)
		} else {
			seen[level{strings.ToLower(l.Target), l.Index}] = i
		}
		if len(l.Devices) == 0 {
			v.add(path+".devices", "a fence level needs at least one device")
		}
		listed := map[string]bool{}
		for j, d := range l.Devices {
			dpath := path + ".devices[" + strconv.Itoa(j) + "]"
			switch {
			case listed[d]:
				v.add(dpath, "fence device %q is listed twice", d)
			case !v.fenceDev[d]:
				v.add(dpath, "unknown fence device %q", d)
			}
			listed[d] = true
		}
	}
}

// actionKey is one node of the order graph: an action of a primitive.
type actionKey struct{ rsc, action string }

// orderEdge runs from an action to one that must wait for it; order is the
// index of the order constraint that made it, or -1 for a group's own order.
type orderEdge struct {
	to      int
	order   int
	reverse bool   // the implied reverse of a symmetrical order
	group   string // for order -1
}

type orderGraph struct {
	ids   map[actionKey]int
	keys  []actionKey
	edges [][]orderEdge
}

func (g *orderGraph) node(k actionKey) int {
	if i, ok := g.ids[k]; ok {
		return i
	}
	g.ids[k] = len(g.keys)
	g.keys = append(g.keys, k)
	g.edges = append(g.edges, nil)
	return len(g.keys) - 1
}

func (g *orderGraph) add(from, to actionKey, e orderEdge) {
	f := g.node(from)
	e.to = g.node(to)
	g.edges[f] = append(g.edges[f], e)
}

var inverseAction = map[string]string{"start": "stop", "stop": "start", "promote": "demote", "demote": "promote"}

// endpoint maps an action of a resource to the primitive action that
// begins it (begin) or completes it: a clone acts through what it clones; a
// group starts and promotes its members first to last, and stops and
// demotes them last to first.
func (v *validator) endpoint(rsc, action string, begin bool) actionKey {
	for range 2 {
		i, ok := v.clones[rsc]
		if !ok {
			break
		}
		rsc = v.c.Clones[i].Rsc
	}
	if i, ok := v.groups[rsc]; ok && len(v.c.Groups[i].Members) > 0 {
		m := v.c.Groups[i].Members
		if forward := action == "start" || action == "promote"; forward == begin {
			return actionKey{m[0], action}
		}
		return actionKey{m[len(m)-1], action}
	}
	return actionKey{rsc, action}
}

// checkOrderCycles reports every cycle of mandatory orders: first/then
// edges, the reverse edges of symmetrical orders, and the start order
// implied by groups. Such a cycle can never be satisfied.
func (v *validator) checkOrderCycles() {
	if len(v.c.Constraints.Order) == 0 {
		return
	}
	n := 4 * (len(v.c.Constraints.Order) + len(v.groupOf)) // at most, so the graph never grows
	g := &orderGraph{ids: make(map[actionKey]int, n), keys: make([]actionKey, 0, n), edges: make([][]orderEdge, 0, n)}
	for i := range v.c.Constraints.Order {
		o := &v.c.Constraints.Order[i]
		if strings.ToLower(o.Kind) != OrderMandatory || o.First == o.Then || !v.isResource(o.First) || !v.isResource(o.Then) ||
			inverseAction[o.FirstAction] == "" || inverseAction[o.ThenAction] == "" {
			continue // reported elsewhere, or not an ordering
		}
		g.add(v.endpoint(o.First, o.FirstAction, false), v.endpoint(o.Then, o.ThenAction, true), orderEdge{order: i})
		if o.Symmetrical {
			g.add(v.endpoint(o.Then, inverseAction[o.ThenAction], false),
				v.endpoint(o.First, inverseAction[o.FirstAction], true), orderEdge{order: i, reverse: true})
		}
	}
	if len(g.keys) == 0 {
		return
	}
	for i, grp := range v.c.Groups {
		if v.groups[grp.ID] != i {
			continue
		}
		for j := 0; j+1 < len(grp.Members); j++ {
			a, b := grp.Members[j], grp.Members[j+1]
			if v.groupOf[a] != i || v.groupOf[b] != i {
				continue // a member of another group too: reported, and no chain here
			}
			e := orderEdge{order: -1, group: grp.ID}
			g.add(actionKey{a, "start"}, actionKey{b, "start"}, e)
			g.add(actionKey{a, "promote"}, actionKey{b, "promote"}, e)
			g.add(actionKey{b, "stop"}, actionKey{a, "stop"}, e)
			g.add(actionKey{b, "demote"}, actionKey{a, "demote"}, e)
		}
	}
	comp := g.components()
	reported := map[int]bool{}
	for n := range g.keys {
		c := comp[n]
		if reported[c] {
			continue
		}
		if cycle := g.cycleThrough(n, comp); cycle != nil {
			reported[c] = true
			v.reportCycle(g, n, cycle)
		}
	}
}

// components labels each node with its strongly connected component
// (Tarjan's algorithm, iterative so no input can exhaust the stack).
func (g *orderGraph) components() []int {
	n := len(g.keys)
	index, low, comp := make([]int, n), make([]int, n), make([]int, n)
	onStack := make([]bool, n)
	var stack []int
	type frame struct{ v, e int }
	next, ncomp := 1, 0
	for root := range n {
		if index[root] != 0 {
			continue
		}
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		call := []frame{{root, 0}}
		for len(call) > 0 {
			f := &call[len(call)-1]
			if f.e < len(g.edges[f.v]) {
				w := g.edges[f.v][f.e].to
				f.e++
				if index[w] == 0 {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{w, 0})
				} else if onStack[w] {
					low[f.v] = min(low[f.v], index[w])
				}
				continue
			}
			u := f.v
			call = call[:len(call)-1]
			if len(call) > 0 {
				p := call[len(call)-1].v
				low[p] = min(low[p], low[u])
			}
			if low[u] == index[u] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = ncomp
					if w == u {
						break
					}
				}
				ncomp++
			}
		}
	}
	return comp
}

// cycleThrough returns the edges of a shortest cycle from start back to
// start within its component, or nil if start is on none.
func (g *orderGraph) cycleThrough(start int, comp []int) []orderEdge {
	type via struct {
		from int
		edge orderEdge
	}
	prev := map[int]via{}
	queue := []int{start}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for _, e := range g.edges[u] {
			if comp[e.to] != comp[start] {
				continue
			}
			if e.to == start {
				path := []orderEdge{e}
				for x := u; x != start; x = prev[x].from {
					path = append(path, prev[x].edge)
				}
				slices.Reverse(path)
				return path
			}
			if _, seen := prev[e.to]; !seen {
				prev[e.to] = via{u, e}
				queue = append(queue, e.to)
			}
		}
	}
	return nil
}

func (v *validator) reportCycle(g *orderGraph, start int, cycle []orderEdge) {
	// Tell the cycle from its first-listed order.
	at := 0
	for i, e := range cycle {
		if e.order >= 0 && (cycle[at].order < 0 || e.order < cycle[at].order) {
			at = i
		}
	}
	if at > 0 {
		start = cycle[at-1].to
		cycle = append(slices.Clone(cycle[at:]), cycle[:at]...)
	}
	k := g.keys[start]
	msg := "mandatory orders form a cycle: " + k.rsc + " " + k.action
	for _, e := range cycle {
		k := g.keys[e.to]
		msg += " -> " + k.rsc + " " + k.action
		switch {
		case e.order < 0:
			msg += fmt.Sprintf(" (group %q)", e.group)
		case e.reverse:
			msg += fmt.Sprintf(" (order %q, symmetrical reverse)", v.c.Constraints.Order[e.order].ID)
		default:
			msg += fmt.Sprintf(" (order %q)", v.c.Constraints.Order[e.order].ID)
		}
	}
	path := "constraints.order"
	if o := cycle[0].order; o >= 0 {
		path = elem(path, v.c.Constraints.Order[o].ID, o)
	}
	v.add(path, "%s", msg)
}
