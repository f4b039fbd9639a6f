package pacemaker

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paceline/paceline/cib"
)

// The schema and feature set Export declares: Pacemaker 2.1.5's, what
// Debian 12 ships.
const (
	SchemaVersion = "pacemaker-3.9"
	FeatureSet    = "3.16.1"
)

// Export writes c as a Pacemaker CIB: <cib> with the configuration section
// and an empty <status/>, which Pacemaker 2.1.5's `crm_verify -x` accepts
// and Import reads back to c. c must be valid (cib.Config.Validate).
//
// Where the two differ, Export writes what keeps c's meaning: the
// property stonith-enabled is always written (Paceline's default is false,
// Pacemaker's true); a node's quorum votes, which Pacemaker keeps in
// corosync, are written as the node attribute paceline-votes; the
// agents' cluster-wide attributes go in a cluster_property_set of their
// own. The order of resources is: top-level primitives, groups, clones,
// then fence devices, each in c's order (the scheduler's allocation order
// for equal priorities).
func Export(c *cib.Config) ([]byte, error) {
	if c == nil {
		return nil, errors.New("export to pacemaker: no configuration")
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("export to pacemaker: the configuration is not valid:\n%w", err)
	}
	for _, cl := range c.Clones {
		if !cl.Promotable {
			continue
		}
		for _, id := range c.PrimitivesOf(cl.ID) {
			if a, _ := cib.ParseAgent(c.Primitive(id).Agent); a.Class != "ocf" {
				return nil, fmt.Errorf("export to pacemaker: promotable clone %q: Pacemaker promotes only ocf resources, and %q is %s", cl.ID, id, a)
			}
		}
	}
	x := &exporter{c: c, used: map[string]bool{}}
	x.reserveIDs()
	doc := el("cib", "validate-with", SchemaVersion, "crm_feature_set", FeatureSet,
		"epoch", strconv.FormatUint(c.Epoch, 10), "num_updates", "0", "admin_epoch", "0")
	conf := el("configuration").add(
		x.crmConfig(),
		x.nodes(),
		x.resources(),
		x.constraints(),
	)
	if len(c.ResourceDefaults) > 0 {
		conf.add(el("rsc_defaults").add(x.nvset("meta_attributes", "rsc-options", c.ResourceDefaults)))
	}
	if len(c.FenceLevels) > 0 {
		top := el("fencing-topology")
		for _, l := range c.FenceLevels {
			top.add(el("fencing-level", "id", x.newID("fl-"+l.Target+"-"+strconv.Itoa(l.Index)),
				"target", l.Target, "index", strconv.Itoa(l.Index), "devices", strings.Join(l.Devices, ",")))
		}
		conf.add(top)
	}
	if len(c.Alerts) > 0 {
		conf.add(x.alerts())
	}
	doc.add(conf, el("status"))
	return doc.Marshal(), nil
}

// exporter makes the ids of the elements Paceline has no id for (sets,
// nvpairs, ops, rules), unique among all ids of the document.
type exporter struct {
	c    *cib.Config
	used map[string]bool
}

// reserveIDs takes the ids of c's objects first, so made-up ids go
// around them.
func (x *exporter) reserveIDs() {
	c := x.c
	for _, p := range c.Primitives {
		x.used[p.ID] = true
	}
	for _, g := range c.Groups {
		x.used[g.ID] = true
	}
	for _, cl := range c.Clones {
		x.used[cl.ID] = true
	}
	for _, f := range c.FenceDevices {
		x.used[f.ID] = true
	}
	for _, l := range c.Constraints.Location {
		x.used[l.ID] = true
	}
	for _, l := range c.Constraints.Colocation {
		x.used[l.ID] = true
	}
	for _, o := range c.Constraints.Order {
		x.used[o.ID] = true
	}
	for _, a := range c.Alerts {
		x.used[a.ID] = true
		for _, r := range a.Recipients {
			x.used[r.ID] = true
		}
	}
}

// newID makes an unused XML id from base: characters an id may not hold
// become '_', and a number is added while it is taken.
func (x *exporter) newID(base string) string {
	id := []byte(base)
	for i, ch := range id {
		ok := ch == '_' || ('a' <= ch && ch <= 'z') || ('A' <= ch && ch <= 'Z') ||
			(i > 0 && (ch == '-' || ch == '.' || ('0' <= ch && ch <= '9')))
		if !ok {
			id[i] = '_'
		}
	}
	s := string(id)
	if s == "" {
		s = "_"
	}
	for n := 2; x.used[s]; n++ {
		s = string(id) + "-" + strconv.Itoa(n)
	}
	x.used[s] = true
	return s
}

// nvset writes a set of name/value pairs sorted by name (nil when empty).
func (x *exporter) nvset(element, id string, m map[string]string) *Element {
	if len(m) == 0 {
		return nil
	}
	setID := x.newID(id)
	set := el(element, "id", setID)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		set.add(&Element{Name: "nvpair", Attrs: []Attr{{"id", x.newID(setID + "-" + k)}, {"name", k}, {"value", m[k]}}})
	}
	return set
}

func (x *exporter) crmConfig() *Element {
	props := maps.Clone(x.c.Properties)
	if _, ok := props["stonith-enabled"]; !ok {
		setMap(&props, "stonith-enabled", x.c.Property("stonith-enabled"))
	}
	return el("crm_config").add(
		x.nvset("cluster_property_set", "cib-bootstrap-options", props),
		x.nvset("cluster_property_set", "paceline-agent-attributes", x.c.AgentAttributes))
}

func (x *exporter) nodes() *Element {
	out := el("nodes")
	for _, n := range x.c.Nodes {
		attrs := maps.Clone(n.Attributes)
		if n.Standby {
			setMap(&attrs, "standby", "on")
		}
		if n.Maintenance {
			setMap(&attrs, "maintenance", "on")
		}
		if n.Votes != 0 {
			setMap(&attrs, votesAttr, strconv.Itoa(n.Votes))
		}
		out.add(el("node", "id", n.Name, "uname", n.Name, "type", "member").add(
			x.nvset("instance_attributes", "nodes-"+n.Name, attrs),
			x.nvset("utilization", "nodes-"+n.Name+"-utilization", cib.UtilizationStrings(n.Utilization))))
	}
	return out
}

func (x *exporter) resources() *Element {
	c := x.c
	out := el("resources")
	for _, p := range c.Primitives {
		if c.GroupOf(p.ID) == nil && c.CloneOf(p.ID) == nil {
			out.add(x.primitive(&p))
		}
	}
	for _, g := range c.Groups {
		if c.CloneOf(g.ID) == nil {
			out.add(x.group(&g))
		}
	}
	for _, cl := range c.Clones {
		meta := maps.Clone(cl.Meta)
		if cl.Promotable {
			setMap(&meta, "promotable", "true")
		}
		e := el("clone", "id", cl.ID).add(x.nvset("meta_attributes", cl.ID+"-meta_attributes", meta))
		if g := c.Group(cl.Rsc); g != nil {
			e.add(x.group(g))
		} else if p := c.Primitive(cl.Rsc); p != nil {
			e.add(x.primitive(p))
		}
		out.add(e)
	}
	for _, f := range c.FenceDevices {
		out.add(el("primitive", "id", f.ID, "class", "stonith", "type", f.Agent).add(
			x.nvset("instance_attributes", f.ID+"-instance_attributes", f.Params),
			x.nvset("meta_attributes", f.ID+"-meta_attributes", f.Meta)))
	}
	return out
}

func (x *exporter) group(g *cib.Group) *Element {
	e := el("group", "id", g.ID).add(x.nvset("meta_attributes", g.ID+"-meta_attributes", g.Meta))
	for _, m := range g.Members {
		if p := x.c.Primitive(m); p != nil {
			e.add(x.primitive(p))
		}
	}
	return e
}

func (x *exporter) primitive(p *cib.Primitive) *Element {
	a, _ := cib.ParseAgent(p.Agent) // valid: Export validated c
	e := el("primitive", "id", p.ID, "class", a.Class, "provider", a.Provider, "type", a.Type).add(
		x.nvset("instance_attributes", p.ID+"-instance_attributes", p.Params),
		x.nvset("meta_attributes", p.ID+"-meta_attributes", p.Meta),
		x.nvset("utilization", p.ID+"-utilization", cib.UtilizationStrings(p.Utilization)))
	if len(p.Ops) == 0 {
		return e
	}
	ops := el("operations")
	for _, o := range p.Ops {
		iv := duration(o.Interval)
		op := el("op", "id", x.newID(strings.TrimSuffix(p.ID+"-"+o.Name+"-interval-"+iv+"-"+o.Role, "-")), "name", o.Name, "interval", iv)
		if o.Timeout > 0 {
			op.set("timeout", duration(o.Timeout))
		}
		op.set("role", o.Role).set("on-fail", o.OnFail)
		if o.CheckLevel > 0 {
			op.add(x.nvset("instance_attributes", op.ID()+"-instance_attributes",
				map[string]string{"OCF_CHECK_LEVEL": strconv.Itoa(o.CheckLevel)}))
		}
		ops.add(op)
	}
	return e.add(ops)
}

// duration writes d as Pacemaker reads it: "10s", else "1500ms", else
// microseconds (Pacemaker's finest unit).
func duration(d cib.Duration) string {
	t := d.D()
	switch {
	case t%time.Second == 0:
		return strconv.FormatInt(int64(t/time.Second), 10) + "s"
	case t%time.Millisecond == 0:
		return strconv.FormatInt(t.Milliseconds(), 10) + "ms"
	}
	return strconv.FormatInt(t.Microseconds(), 10) + "us"
}

func (x *exporter) constraints() *Element {
	cs := x.c.Constraints
	out := el("constraints")
	for _, l := range cs.Location {
		e := el("rsc_location", "id", l.ID, "rsc", l.Rsc, "role", l.Role)
		if l.Rule == "" {
			e.set("node", l.Node).set("score", l.Score.String())
			out.add(e)
			continue
		}
		r, _ := cib.ParseRule(l.Rule) // valid: Export validated c
		rule := x.rule(l.ID+"-rule", r)
		if l.ScoreAttribute != "" {
			rule.Attrs = slices.Insert(rule.Attrs, 1, Attr{"score-attribute", l.ScoreAttribute})
		} else {
			rule.Attrs = slices.Insert(rule.Attrs, 1, Attr{"score", l.Score.String()})
		}
		out.add(e.add(rule))
	}
	for _, l := range cs.Colocation {
		out.add(el("rsc_colocation", "id", l.ID, "rsc", l.Rsc, "with-rsc", l.WithRsc, "score", l.Score.String(),
			"rsc-role", l.RscRole, "with-rsc-role", l.WithRscRole))
	}
	for _, o := range cs.Order {
		kind := strings.ToLower(o.Kind)
		if kind == "" {
			kind = cib.OrderMandatory
		}
		out.add(el("rsc_order", "id", o.ID, "first", o.First, "first-action", o.FirstAction, "then", o.Then,
			"then-action", o.ThenAction, "kind", strings.ToUpper(kind[:1])+kind[1:], "symmetrical", strconv.FormatBool(o.Symmetrical)))
	}
	return out
}

// rule writes a parsed rule: and/or become boolean-op, nested ones nested
// rules.
func (x *exporter) rule(base string, r cib.Rule) *Element {
	id := x.newID(base)
	e := el("rule", "id", id)
	terms := []cib.Rule{r}
	switch t := r.(type) {
	case cib.AndExpr:
		e.set("boolean-op", "and")
		terms = t.Terms
	case cib.OrExpr:
		e.set("boolean-op", "or")
		terms = t.Terms
	}
	for i, t := range terms {
		tid := id + "-expr-" + strconv.Itoa(i)
		switch t := t.(type) {
		case cib.AndExpr, cib.OrExpr:
			e.add(x.rule(tid, t))
		case cib.DefinedExpr:
			op := "defined"
			if t.Negate {
				op = "not_defined"
			}
			e.add(el("expression", "id", x.newID(tid), "attribute", t.Attr, "operation", op))
		case cib.CompareExpr:
			ex := el("expression", "id", x.newID(tid), "attribute", t.Attr, "operation", t.Op)
			ex.Attrs = append(ex.Attrs, Attr{"value", t.Value}) // even when empty
			e.add(ex.set("type", t.Type))
		}
	}
	return e
}

func (x *exporter) alerts() *Element {
	out := el("alerts")
	for _, a := range x.c.Alerts {
		e := el("alert", "id", a.ID, "path", a.Path, "description", a.Description).add(
			x.nvset("meta_attributes", a.ID+"-meta_attributes", a.Meta),
			x.nvset("instance_attributes", a.ID+"-instance_attributes", a.Params))
		if len(a.Select) > 0 {
			sel := el("select")
			for _, k := range a.Select {
				for tag, kind := range alertSelects {
					if kind != k {
						continue
					}
					s := el(tag)
					if k == cib.SelectAttributes {
						for _, name := range a.SelectAttributes {
							s.add(el("attribute", "id", x.newID(a.ID+"-select-"+name), "name", name))
						}
					}
					sel.add(s)
				}
			}
			e.add(sel)
		}
		for _, r := range a.Recipients {
			e.add(el("recipient", "id", r.ID, "value", r.Value, "description", r.Description).add(
				x.nvset("meta_attributes", r.ID+"-meta_attributes", r.Meta),
				x.nvset("instance_attributes", r.ID+"-instance_attributes", r.Params)))
		}
		out.add(e)
	}
	return out
}
