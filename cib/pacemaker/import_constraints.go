package pacemaker

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/paceline/paceline/cib"
)

func (im *importer) constraints(e *Element) error {
	for _, c := range e.Children {
		var err error
		switch c.Name {
		case "rsc_location":
			err = im.location(c)
		case "rsc_colocation":
			err = im.colocation(c)
		case "rsc_order":
			err = im.order(c)
		case "rsc_ticket":
			im.unsupported(c, "", "tickets (multi-site clusters) are not supported")
		default:
			err = unknownChild(e, c, "rsc_location, rsc_colocation, rsc_order, rsc_ticket")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// constraintBasics checks what every constraint may not hold: resource
// sets and lifetimes. ok is false when the constraint is left out.
func (im *importer) constraintBasics(c *Element, attrs string, children ...string) (ok bool, err error) {
	if _, err := element(c, attrs, append(children, "resource_set", "lifetime")...); err != nil {
		return false, err
	}
	switch {
	case c.Child("resource_set") != nil:
		im.unsupported(c, "", "resource sets in constraints are not supported: write one constraint per pair of resources")
		return false, nil
	case c.Child("lifetime") != nil:
		im.unsupported(c, "", "constraint lifetimes (deprecated) are not supported")
		return false, nil
	}
	return true, nil
}

// ref reads the resource a constraint names in attr. ok is false when the
// constraint is left out: the resource was not imported, or is a fence
// device. A name that is nothing is an error.
func (im *importer) ref(c *Element, attr string) (id string, ok bool, err error) {
	id = c.Get(attr)
	if id == "" {
		return "", false, errorf(c, "%s is required", attr)
	}
	if why, gone := im.dropped[id]; gone {
		im.unsupported(c, "", "%s %q is not imported (%s)", attr, id, why)
		return id, false, nil
	}
	switch im.kinds[id] {
	case "":
		if t := im.ids[id]; t != nil && t.Name == "tag" {
			im.unsupported(c, "", "%s %q is a tag: constraints on tags are not supported", attr, id)
			return id, false, nil
		} else if t != nil {
			return "", false, errorf(c, "%s %q names a <%s>, not a resource", attr, id, t.Name)
		}
		return "", false, errorf(c, "%s %q: no such resource", attr, id)
	case kindFence:
		im.unsupported(c, "", "constraints on fence devices are not supported (%s %q: Paceline does not place fence devices)", attr, id)
		return id, false, nil
	}
	return id, true, nil
}

// role reads a role attribute ("" when absent).
func role(c *Element, attr string) (string, error) {
	v, ok := c.Lookup(attr)
	if !ok {
		return "", nil
	}
	r, known := canonicalRole(v)
	if !known {
		return "", errorf(c, "%s %q: unknown role (want Started, Stopped, Promoted, Unpromoted, Master or Slave)", attr, v)
	}
	return r, nil
}

func (im *importer) scoreAttr(c *Element, in, attr string, dflt cib.Score) (cib.Score, error) {
	v, ok := c.Lookup(attr)
	if !ok {
		return dflt, nil
	}
	return im.score(c, in, attr, v)
}

func (im *importer) location(c *Element) error {
	ok, err := im.constraintBasics(c, "id rsc rsc-pattern role score node resource-discovery description", "rule")
	if !ok || err != nil {
		return err
	}
	if p := c.Get("rsc-pattern"); p != "" {
		im.unsupported(c, "", "rsc-pattern (a constraint on every resource matching %q) is not supported", p)
		return nil
	}
	if d := c.Get("resource-discovery"); d != "" && d != "always" {
		im.unsupported(c, "", "resource-discovery=%s is not supported (Paceline probes every node)", d)
		return nil
	}
	rsc, ok, err := im.ref(c, "rsc")
	if !ok || err != nil {
		return err
	}
	r, err := role(c, "role")
	if err != nil {
		return err
	}
	rules := slices.DeleteFunc(slices.Clone(c.Children), func(x *Element) bool { return x.Name != "rule" })
	node, hasNode := c.Lookup("node")
	switch {
	case hasNode && len(rules) > 0:
		return errorf(c, "give node and score, or rules, not both")
	case hasNode:
		if _, ok := c.Lookup("score"); !ok {
			return errorf(c, "a location constraint with a node needs a score")
		}
		s, err := im.scoreAttr(c, "", "score", 0)
		if err != nil {
			return err
		}
		im.cfg.Constraints.Location = append(im.cfg.Constraints.Location, cib.Location{ID: c.ID(), Rsc: rsc, Node: node, Score: s, Role: r})
		return nil
	case len(rules) == 0:
		return errorf(c, "a location constraint needs a node and a score, or a rule")
	}
	if _, ok := c.Lookup("score"); ok {
		return errorf(c, "a location constraint with rules takes its score from them: give the score on the rule")
	}
	var locs []cib.Location
	for i, x := range rules {
		rl, err := im.resolve(x, "rule")
		if err != nil {
			return err
		}
		if err := checkAttrs(x, "id id-ref score score-attribute boolean-op role description"); err != nil {
			return err
		}
		expr, ok, err := im.rule(rl, name(c), 0)
		if err != nil || !ok {
			return err
		}
		l := cib.Location{ID: c.ID(), Rsc: rsc, Rule: expr, Role: r}
		if i > 0 {
			l.ID = x.ID()
			if l.ID == "" {
				l.ID = c.ID() + "-rule-" + strconv.Itoa(i)
			}
			im.note(x, name(c), "Paceline's location constraints hold one rule: this one is constraint %q", l.ID)
		}
		_, hasScore := rl.Lookup("score")
		attr, hasAttr := rl.Lookup("score-attribute")
		switch {
		case hasScore && hasAttr:
			return errorf(rl, "give score or score-attribute, not both")
		case hasAttr:
			l.Score, l.ScoreAttribute = cib.Infinity, attr
		default:
			if l.Score, err = im.scoreAttr(rl, name(c), "score", 0); err != nil {
				return err
			}
		}
		if l.Role == "" {
			if l.Role, err = role(rl, "role"); err != nil {
				return err
			}
		}
		locs = append(locs, l)
	}
	im.cfg.Constraints.Location = append(im.cfg.Constraints.Location, locs...)
	return nil
}

// rule writes a rule element as Paceline's rule expression. ok is false
// when it holds something Paceline does not model (reported).
func (im *importer) rule(r *Element, in string, depth int) (expr string, ok bool, err error) {
	if depth > 0 {
		if r, err = im.resolve(r, "rule"); err != nil {
			return "", false, err
		}
		if err := checkAttrs(r, "id score score-attribute boolean-op role description"); err != nil {
			return "", false, err
		}
	}
	if err := onlyChildren(r, "expression", "date_expression", "rule", "rsc_expression", "op_expression"); err != nil {
		return "", false, err
	}
	join := " and "
	switch op := r.Get("boolean-op"); op {
	case "", "and":
	case "or":
		join = " or "
	default:
		return "", false, errorf(r, "unknown boolean-op %q (want and, or)", op)
	}
	var terms []string
	for _, x := range r.Children {
		switch x.Name {
		case "expression":
			t, ok, err := im.expression(x, in)
			if err != nil || !ok {
				return "", false, err
			}
			terms = append(terms, t)
		case "rule":
			t, ok, err := im.rule(x, in, depth+1)
			if err != nil || !ok {
				return "", false, err
			}
			terms = append(terms, "("+t+")")
		case "date_expression":
			im.unsupported(x, in, "date and time rules are not supported (rules test node attributes only)")
			return "", false, nil
		default:
			im.unsupported(x, in, "%s is not supported in a location rule", x.Name)
			return "", false, nil
		}
	}
	if len(terms) == 0 {
		return "", false, errorf(r, "a rule needs at least one expression")
	}
	expr = strings.Join(terms, join)
	if depth == 0 {
		p, err := cib.ParseRule(expr)
		if err != nil {
			return "", false, errorf(r, "rule %q: %v", expr, err)
		}
		expr = p.String()
	}
	return expr, true, nil
}

// nodeIDExpression rewrites an expression on #id. Pacemaker's #id is the
// node's id (<node id>, corosync's node number), Paceline's the node's
// name. A node's id does not change, so the expression is evaluated for
// each node of <nodes> here, and becomes one on #uname that holds on the
// same nodes: "#uname eq NAME" for the node whose id an eq names.
func (im *importer) nodeIDExpression(x *Element, in, op, typ, value string) (string, bool, error) {
	var test cib.Rule
	switch op {
	case "defined", "not_defined":
		test = cib.DefinedExpr{Attr: "#id", Negate: op == "not_defined"}
	case "lt", "gt", "lte", "gte", "eq", "ne":
		if _, ok := x.Lookup("value"); !ok {
			return "", false, errorf(x, "operation %s needs a value", op)
		}
		test = cib.CompareExpr{Attr: "#id", Op: op, Type: typ, Value: value}
	default:
		return "", false, errorf(x, "unknown operation %q (want lt, gt, lte, gte, eq, ne, defined, not_defined)", op)
	}
	var yes, no []string
	for _, n := range im.nodeIDs {
		if test.Eval(map[string]string{"#id": n.id}) {
			yes = append(yes, n.name)
		} else {
			no = append(no, n.name)
		}
	}
	var expr string
	switch {
	case len(yes) == 0:
		expr = cib.DefinedExpr{Attr: "#uname", Negate: true}.String() // no node
	case len(no) == 0:
		expr = cib.DefinedExpr{Attr: "#uname"}.String() // every node
	case len(yes) == 1:
		expr = cib.CompareExpr{Attr: "#uname", Op: "eq", Value: yes[0]}.String()
	case len(no) == 1:
		expr = cib.CompareExpr{Attr: "#uname", Op: "ne", Value: no[0]}.String()
	default:
		terms := make([]string, len(yes))
		for i, n := range yes {
			terms[i] = cib.CompareExpr{Attr: "#uname", Op: "eq", Value: n}.String()
		}
		expr = "(" + strings.Join(terms, " or ") + ")"
	}
	im.note(x, in, "%s read as %s: Pacemaker's #id is the node's id (<node id>), Paceline's its name; it holds on the same nodes of <nodes> (%s)",
		test, expr, cmp.Or(strings.Join(yes, ", "), "none"))
	return expr, true, nil
}

// ruleBuiltins are the node built-ins Paceline's rules know.
var ruleBuiltins = []string{"#uname", "#id", "#kind", "#cluster-name"}

func (im *importer) expression(x *Element, in string) (string, bool, error) {
	if err := checkAttrs(x, "id attribute operation value type value-source description"); err != nil {
		return "", false, err
	}
	attr, op, value := x.Get("attribute"), x.Get("operation"), x.Get("value")
	if attr == "" {
		return "", false, errorf(x, "an expression needs an attribute")
	}
	if vs := x.Get("value-source"); vs != "" && vs != "literal" {
		im.unsupported(x, in, "value-source=%s (comparing with a resource parameter) is not supported", vs)
		return "", false, nil
	}
	if strings.HasPrefix(attr, "#") && !slices.Contains(ruleBuiltins, attr) {
		im.unsupported(x, in, "node built-in attribute %s is not supported in rules (want %s)", attr, strings.Join(ruleBuiltins, ", "))
		return "", false, nil
	}
	typ := x.Get("type")
	switch typ {
	case "", "string", "integer", "number", "version":
	default:
		return "", false, errorf(x, "unknown type %q (want string, integer, number or version)", typ)
	}
	if attr == "#id" {
		return im.nodeIDExpression(x, in, op, typ, value)
	}
	switch op {
	case "defined", "not_defined":
		return cib.DefinedExpr{Attr: attr, Negate: op == "not_defined"}.String(), true, nil
	case "lt", "gt", "lte", "gte", "eq", "ne":
		if _, ok := x.Lookup("value"); !ok {
			return "", false, errorf(x, "operation %s needs a value", op)
		}
		return cib.CompareExpr{Attr: attr, Op: op, Type: typ, Value: value}.String(), true, nil
	}
	return "", false, errorf(x, "unknown operation %q (want lt, gt, lte, gte, eq, ne, defined, not_defined)", op)
}

func (im *importer) colocation(c *Element) error {
	ok, err := im.constraintBasics(c, "id rsc with-rsc score rsc-role with-rsc-role node-attribute rsc-instance with-rsc-instance influence symmetrical score-attribute description")
	if !ok || err != nil {
		return err
	}
	for _, a := range []string{"rsc-instance", "with-rsc-instance", "score-attribute"} {
		if _, has := c.Lookup(a); has {
			im.unsupported(c, "", "%s is not supported in a colocation", a)
			return nil
		}
	}
	if na := c.Get("node-attribute"); na != "" && na != "#uname" {
		im.unsupported(c, "", "node-attribute=%s (colocation by a node attribute) is not supported", na)
		return nil
	}
	if v, has := c.Lookup("influence"); has {
		b, err := cib.ParseBool(v)
		if err != nil {
			return wrap(c, err)
		}
		if !b {
			im.unsupported(c, "", "influence=false is not supported (set meta critical=false on the resource instead)")
			return nil
		}
	}
	if _, has := c.Lookup("symmetrical"); has {
		im.note(c, "", "symmetrical has no meaning for a colocation (Pacemaker ignores it too): left out")
	}
	rsc, ok1, err := im.ref(c, "rsc")
	if err != nil {
		return err
	}
	with, ok2, err := im.ref(c, "with-rsc")
	if err != nil || !ok1 || !ok2 {
		return err
	}
	l := cib.Colocation{ID: c.ID(), Rsc: rsc, WithRsc: with}
	if l.Score, err = im.scoreAttr(c, "", "score", 0); err != nil {
		return err
	}
	if l.RscRole, err = role(c, "rsc-role"); err != nil {
		return err
	}
	if l.WithRscRole, err = role(c, "with-rsc-role"); err != nil {
		return err
	}
	im.cfg.Constraints.Colocation = append(im.cfg.Constraints.Colocation, l)
	return nil
}

var orderActions = []string{"start", "stop", "promote", "demote"}

func (im *importer) order(c *Element) error {
	ok, err := im.constraintBasics(c, "id first then first-action then-action kind score symmetrical first-instance then-instance require-all description")
	if !ok || err != nil {
		return err
	}
	for _, a := range []string{"first-instance", "then-instance"} {
		if _, has := c.Lookup(a); has {
			im.unsupported(c, "", "%s is not supported in an order", a)
			return nil
		}
	}
	if _, has := c.Lookup("require-all"); has {
		im.note(c, "", "require-all applies to resource sets only: left out")
	}
	first, ok1, err := im.ref(c, "first")
	if err != nil {
		return err
	}
	then, ok2, err := im.ref(c, "then")
	if err != nil || !ok1 || !ok2 {
		return err
	}
	o := cib.Order{ID: c.ID(), First: first, Then: then, FirstAction: c.Get("first-action"), ThenAction: c.Get("then-action")}
	if o.FirstAction == "" {
		o.FirstAction = "start"
	}
	if o.ThenAction == "" {
		o.ThenAction = o.FirstAction
	}
	for _, a := range []string{o.FirstAction, o.ThenAction} {
		if !slices.Contains(orderActions, a) {
			return errorf(c, "unknown action %q (want start, stop, promote, demote)", a)
		}
	}
	kind, hasKind := c.Lookup("kind")
	switch {
	case hasKind:
		switch k := strings.ToLower(kind); k {
		case cib.OrderMandatory, cib.OrderOptional, cib.OrderSerialize:
			o.Kind = k
		default:
			return errorf(c, "unknown kind %q (want Mandatory, Optional or Serialize)", kind)
		}
	case c.Get("score") != "":
		s, err := im.scoreAttr(c, "", "score", 0)
		if err != nil {
			return err
		}
		o.Kind = cib.OrderMandatory
		if s == 0 {
			o.Kind = cib.OrderOptional
		}
		im.note(c, "", "score=%s (deprecated) read as kind %s", c.Get("score"), o.Kind)
	default:
		o.Kind = cib.OrderMandatory
	}
	o.Symmetrical = o.Kind != cib.OrderSerialize
	if v, has := c.Lookup("symmetrical"); has {
		b, err := cib.ParseBool(v)
		if err != nil {
			return wrap(c, err)
		}
		if b && o.Kind == cib.OrderSerialize {
			im.note(c, "", "symmetrical=true is not valid with kind Serialize (Pacemaker ignores it too): left out")
			b = false
		}
		o.Symmetrical = b
	}
	im.cfg.Constraints.Order = append(im.cfg.Constraints.Order, o)
	return nil
}

func (im *importer) fencingTopology(e *Element) error {
	if err := checkAttrs(e, "id description"); err != nil {
		return err
	}
	if err := onlyChildren(e, "fencing-level"); err != nil {
		return err
	}
	for _, x := range e.Children {
		if _, err := element(x, "id target target-pattern target-attribute target-value index devices description"); err != nil {
			return err
		}
		if x.Get("target-pattern") != "" || x.Get("target-attribute") != "" {
			im.unsupported(x, "", "fencing levels for nodes by pattern or attribute are not supported (give target)")
			continue
		}
		l := cib.FenceLevel{Target: x.Get("target")}
		if l.Target == "" {
			return errorf(x, "a fencing level needs a target")
		}
		n, err := strconv.Atoi(x.Get("index"))
		if err != nil {
			return errorf(x, "index %q: want a number 1-9", x.Get("index"))
		}
		l.Index = n
		keep := true
		for d := range strings.SplitSeq(x.Get("devices"), ",") {
			d = strings.TrimSpace(d)
			if d == "" {
				continue
			}
			switch why, gone := im.dropped[d]; {
			case gone:
				im.unsupported(x, "", "device %q is not imported (%s)", d, why)
				keep = false
			case im.kinds[d] == kindFence:
				l.Devices = append(l.Devices, d)
			case im.kinds[d] != "":
				return errorf(x, "device %q is a %s, not a fence device", d, im.kinds[d])
			default:
				return errorf(x, "device %q: no such fence device", d)
			}
		}
		if len(l.Devices) == 0 && keep {
			return errorf(x, "a fencing level needs devices")
		}
		if keep {
			im.cfg.FenceLevels = append(im.cfg.FenceLevels, l)
		}
	}
	return nil
}

func (im *importer) alerts(e *Element) error {
	if err := onlyChildren(e, "alert"); err != nil {
		return err
	}
	for _, x := range e.Children {
		id, err := element(x, "id path description", "meta_attributes", "instance_attributes", "select", "recipient")
		if err != nil {
			return err
		}
		a := cib.Alert{ID: id, Path: x.Get("path"), Description: x.Get("description")}
		if a.Params, a.Meta, err = im.alertSets(x); err != nil {
			return err
		}
		for _, c := range x.Children {
			switch c.Name {
			case "select":
				if err := im.alertSelect(c, &a); err != nil {
					return err
				}
			case "recipient":
				rid, err := element(c, "id value description", "meta_attributes", "instance_attributes")
				if err != nil {
					return err
				}
				r := cib.Recipient{ID: rid, Value: c.Get("value"), Description: c.Get("description")}
				if r.Params, r.Meta, err = im.alertSets(c); err != nil {
					return err
				}
				a.Recipients = append(a.Recipients, r)
			}
		}
		im.cfg.Alerts = append(im.cfg.Alerts, a)
	}
	return nil
}

// alertSets reads an alert's or recipient's instance and meta attributes.
func (im *importer) alertSets(x *Element) (params, meta map[string]string, err error) {
	pp, err := im.nvsets(x, "instance_attributes", "")
	if err != nil {
		return nil, nil, err
	}
	mp, err := im.nvsets(x, "meta_attributes", "")
	if err != nil {
		return nil, nil, err
	}
	for _, p := range mp {
		if _, ok := cib.AlertMetaDefs[p.name]; !ok {
			im.unsupported(p.el, name(x), "alert meta attribute %s is not supported", p.name)
			continue
		}
		setMap(&meta, p.name, p.value)
	}
	return pairMap(pp, nil), meta, nil
}

var alertSelects = map[string]string{
	"select_nodes": cib.SelectNodes, "select_fencing": cib.SelectFencing,
	"select_resources": cib.SelectResources, "select_attributes": cib.SelectAttributes,
}

func (im *importer) alertSelect(s *Element, a *cib.Alert) error {
	if err := checkAttrs(s, "id"); err != nil {
		return err
	}
	for _, c := range s.Children {
		kind, ok := alertSelects[c.Name]
		if !ok {
			return unknownChild(s, c, "select_nodes, select_fencing, select_resources, select_attributes")
		}
		if err := checkAttrs(c, "id"); err != nil {
			return err
		}
		a.Select = append(a.Select, kind)
		for _, at := range c.Children {
			if c.Name != "select_attributes" || at.Name != "attribute" {
				return unknownChild(c, at, fmt.Sprintf("nothing in <%s>, <attribute> in <select_attributes>", c.Name))
			}
			if err := checkAttrs(at, "id name"); err != nil {
				return err
			}
			a.SelectAttributes = append(a.SelectAttributes, at.Get("name"))
		}
	}
	return nil
}
