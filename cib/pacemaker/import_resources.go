package pacemaker

import (
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/fencing"
)

// unit is one top-level resource being read: it is added whole, or, when
// something in it cannot be modelled (a class, a template), left out
// whole.
type unit struct {
	prims   []cib.Primitive
	groups  []cib.Group
	clones  []cib.Clone
	fence   []cib.FenceDevice
	blocked string // why the unit is left out, "" if it is not
}

func (u *unit) block(why string) {
	if u.blocked == "" {
		u.blocked = why
	}
}

func (im *importer) resources(e *Element) error {
	for _, c := range e.Children {
		switch c.Name {
		case "primitive", "group", "clone", "master":
			if err := im.topResource(c); err != nil {
				return err
			}
		case "bundle":
			im.unsupported(c, "", "bundles (containerized resources) are not supported")
			im.dropTree(c, "bundle "+strconv.Quote(c.ID())+" is not supported")
		case "template":
			im.unsupported(c, "", "resource templates are not supported")
			im.dropTree(c, "template "+strconv.Quote(c.ID())+" is not supported")
		default:
			return unknownChild(e, c, "primitive, group, clone, master, bundle, template")
		}
	}
	return nil
}

// dropTree marks every resource in e as left out.
func (im *importer) dropTree(e *Element, why string) {
	switch e.Name {
	case "primitive", "group", "clone", "master", "bundle", "template":
		if id := e.ID(); id != "" {
			im.dropped[id] = why
		}
	}
	for _, c := range e.Children {
		im.dropTree(c, why)
	}
}

func (im *importer) topResource(e *Element) error {
	u := &unit{}
	var err error
	switch e.Name {
	case "primitive":
		err = im.primitive(e, u, "", false, nil)
	case "group":
		err = im.group(e, u, false, nil)
	default:
		err = im.clone(e, u)
	}
	if err != nil {
		return err
	}
	if u.blocked != "" {
		if e.Name != "primitive" {
			im.unsupported(e, "", "left out whole, as one of its resources cannot be imported (%s)", u.blocked)
		}
		im.dropTree(e, u.blocked)
		return nil
	}
	c := im.cfg
	c.Primitives = append(c.Primitives, u.prims...)
	c.Groups = append(c.Groups, u.groups...)
	c.Clones = append(c.Clones, u.clones...)
	c.FenceDevices = append(c.FenceDevices, u.fence...)
	for _, p := range u.prims {
		im.kinds[p.ID] = kindPrimitive
	}
	for _, g := range u.groups {
		im.kinds[g.ID] = kindGroup
	}
	for _, cl := range u.clones {
		im.kinds[cl.ID] = kindClone
	}
	for _, f := range u.fence {
		im.kinds[f.ID] = kindFence
	}
	return nil
}

// element checks e's attributes (allowed: space-separated) and children
// (none when not given), and returns its id, which it must have.
func element(e *Element, attrs string, children ...string) (string, error) {
	if err := checkAttrs(e, attrs); err != nil {
		return "", err
	}
	if err := onlyChildren(e, children...); err != nil {
		return "", err
	}
	id := e.ID()
	if id == "" {
		return "", errorf(e, "<%s> needs an id", e.Name)
	}
	return id, nil
}

// The resource classes Paceline runs, and those it knows it does not.
var (
	runClasses     = []string{"ocf", "lsb", "systemd", "service"}
	unknownClasses = []string{"upstart", "nagios", "heartbeat", "alert"}
)

// primitive reads a primitive; parent is "", "group" or "clone";
// inherited are the instance attributes of its group and clone.
func (im *importer) primitive(e *Element, u *unit, parent string, promotable bool, inherited []pair) error {
	id, err := element(e, "id class provider type description template", "operations", "instance_attributes", "meta_attributes", "utilization")
	if err != nil {
		return err
	}
	if t := e.Get("template"); t != "" {
		im.unsupported(e, "", "resource templates are not supported (this primitive uses template %q)", t)
		u.block("it uses resource template " + strconv.Quote(t))
		return nil
	}
	class, provider, typ := e.Get("class"), e.Get("provider"), e.Get("type")
	switch {
	case class == "" || typ == "":
		return errorf(e, "a primitive needs a class and a type")
	case class == "stonith":
		return im.fenceDevice(e, u, parent)
	case slices.Contains(unknownClasses, class):
		im.unsupported(e, "", "resource class %s is not supported (Paceline runs ocf, lsb, systemd and service)", class)
		u.block("its class " + class + " is not supported")
		return nil
	case !slices.Contains(runClasses, class):
		return errorf(e, "unknown resource class %q (want ocf, lsb, systemd, service or stonith)", class)
	case class == "ocf" && provider == "":
		return errorf(e, "an ocf primitive needs a provider")
	case class != "ocf" && provider != "":
		return errorf(e, "a %s primitive has no provider (got %q)", class, provider)
	}
	if class == "lsb" && strings.HasPrefix(typ, "/") {
		// Pacemaker runs an lsb type that starts with '/' from that path;
		// Paceline runs init scripts from its LSB directory by name.
		base := path.Base(typ)
		if base == "/" || base == "." || base == ".." || strings.ContainsAny(base, " \t\n\x00") {
			return errorf(e, "lsb agent %q: want an init script's name or path", typ)
		}
		im.note(e, "", "lsb agent given by path %s: read as lsb:%s; Paceline runs init scripts by name from /etc/init.d, so the script must be there (or linked there) on the nodes", typ, base)
		typ = base
	}
	if class == "ocf" && provider == "pacemaker" && typ == "remote" {
		im.unsupported(e, "", "remote nodes (ocf:pacemaker:remote) are not supported")
		u.block("it is a remote node connection")
		return nil
	}
	p := cib.Primitive{ID: id, Agent: cib.Agent{Class: class, Provider: provider, Type: typ}.String()}
	params, err := im.nvsets(e, "instance_attributes", "")
	if err != nil {
		return err
	}
	p.Params = pairMap(params, inherited)
	if len(inherited) > 0 && parent != "" {
		im.note(e, "", "instance attributes of its %s are written into its params", parent)
	}
	metaPairs, err := im.nvsets(e, "meta_attributes", "")
	if err != nil {
		return err
	}
	if p.Meta, err = im.meta(metaPairs, cib.KindPrimitive, promotable, name(e)); err != nil {
		return err
	}
	if d := e.Get("description"); d != "" && p.Meta["description"] == "" {
		setMap(&p.Meta, "description", d)
	}
	if p.Utilization, err = im.utilization(e); err != nil {
		return err
	}
	if p.Ops, err = im.ops(e, promotable); err != nil {
		return err
	}
	u.prims = append(u.prims, p)
	return nil
}

// pairMap turns pairs into a map; inherited fill in names not set.
func pairMap(pairs, inherited []pair) map[string]string {
	var m map[string]string
	for _, p := range pairs {
		setMap(&m, p.name, p.value)
	}
	for _, p := range inherited {
		if _, ok := m[p.name]; !ok {
			setMap(&m, p.name, p.value)
		}
	}
	return m
}

// fenceDevice reads a stonith primitive as a fence device.
func (im *importer) fenceDevice(e *Element, u *unit, parent string) error {
	if e.Get("provider") != "" {
		return errorf(e, "a stonith primitive has no provider (got %q)", e.Get("provider"))
	}
	if parent != "" {
		im.unsupported(e, "", "a fence device in a %s is not supported (Paceline's fence devices are not resources)", parent)
		u.block("it holds a fence device")
		return nil
	}
	f := cib.FenceDevice{ID: e.ID(), Agent: e.Get("type")}
	if !fencing.ValidAgentName(f.Agent) {
		im.note(e, "", "fence agent %s is not a fence-agents name (fence_*): imported as given, but Paceline's fencer runs only fence_* executables installed on the nodes, so fencing with this device fails, and says so, until it uses one (external/sbd: fence_sbd)", f.Agent)
	}
	params, err := im.nvsets(e, "instance_attributes", "")
	if err != nil {
		return err
	}
	f.Params = pairMap(params, nil)
	metaPairs, err := im.nvsets(e, "meta_attributes", "")
	if err != nil {
		return err
	}
	if f.Meta, err = im.meta(metaPairs, cib.KindPrimitive, false, name(e)); err != nil {
		return err
	}
	if util, err := im.utilization(e); err != nil {
		return err
	} else if len(util) > 0 {
		im.note(e.Child("utilization"), name(e), "fence devices take no capacity in Paceline: utilization left out")
	}
	if ops := e.Child("operations"); ops != nil {
		ops, err := im.resolve(ops, "operations")
		if err != nil {
			return err
		}
		for _, op := range ops.Children {
			im.note(op, name(e), "Paceline does not run operations of fence devices (no recurring monitor; fencing has its own timeouts, pcmk_*_timeout): left out")
		}
	}
	u.fence = append(u.fence, f)
	return nil
}

func (im *importer) group(e *Element, u *unit, promotable bool, inherited []pair) error {
	id, err := element(e, "id description", "primitive", "meta_attributes", "instance_attributes")
	if err != nil {
		return err
	}
	g := cib.Group{ID: id}
	params, err := im.nvsets(e, "instance_attributes", "")
	if err != nil {
		return err
	}
	inherit := append(slices.Clone(params), inherited...)
	for _, c := range e.Children {
		if c.Name != "primitive" {
			continue
		}
		if err := im.primitive(c, u, "group", promotable, inherit); err != nil {
			return err
		}
		g.Members = append(g.Members, c.ID())
	}
	if len(g.Members) == 0 {
		return errorf(e, "a group needs at least one primitive")
	}
	metaPairs, err := im.nvsets(e, "meta_attributes", "")
	if err != nil {
		return err
	}
	if g.Meta, err = im.meta(metaPairs, cib.KindGroup, promotable, name(e)); err != nil {
		return err
	}
	if d := e.Get("description"); d != "" && g.Meta["description"] == "" {
		setMap(&g.Meta, "description", d)
	}
	u.groups = append(u.groups, g)
	return nil
}

func (im *importer) clone(e *Element, u *unit) error {
	id, err := element(e, "id description", "primitive", "group", "meta_attributes", "instance_attributes")
	if err != nil {
		return err
	}
	cl := cib.Clone{ID: id, Promotable: e.Name == "master"}
	if cl.Promotable {
		im.note(e, "", "<master> (deprecated) read as a promotable clone")
	}
	metaPairs, err := im.nvsets(e, "meta_attributes", "")
	if err != nil {
		return err
	}
	var rest []pair
	for _, p := range metaPairs {
		if p.name != "promotable" {
			rest = append(rest, p)
			continue
		}
		b, err := cib.ParseBool(p.value)
		if err != nil {
			return wrap(p.el, err)
		}
		cl.Promotable = cl.Promotable || b
	}
	if cl.Meta, err = im.meta(rest, cib.KindClone, cl.Promotable, name(e)); err != nil {
		return err
	}
	if d := e.Get("description"); d != "" && cl.Meta["description"] == "" {
		setMap(&cl.Meta, "description", d)
	}
	params, err := im.nvsets(e, "instance_attributes", "")
	if err != nil {
		return err
	}
	var child *Element
	for _, c := range e.Children {
		if c.Name != "primitive" && c.Name != "group" {
			continue
		}
		if child != nil {
			return errorf(c, "a clone holds one primitive or group; %s already has %s", name(e), child)
		}
		child = c
	}
	switch {
	case child == nil:
		return errorf(e, "a clone needs a primitive or a group")
	case child.Name == "group":
		err = im.group(child, u, cl.Promotable, params)
	default:
		err = im.primitive(child, u, "clone", cl.Promotable, params)
	}
	if err != nil {
		return err
	}
	cl.Rsc = child.ID()
	u.clones = append(u.clones, cl)
	return nil
}

// renamedMeta are meta attributes Pacemaker renamed: read under the new
// name.
var renamedMeta = map[string]string{"master-max": "promoted-max", "master-node-max": "promoted-node-max"}

// guestMeta are the meta attributes that make a resource a guest node.
var guestMeta = []string{"remote-node", "remote-port", "remote-addr", "remote-connect-timeout", "remote-allow-migrate"}

// meta reads meta attributes of a resource of kind ("" for rsc_defaults).
// Unknown names are not supported; options that do not apply to kind (a
// clone option on a primitive) have no effect in Pacemaker either and are
// left out with a note.
func (im *importer) meta(pairs []pair, kind cib.ResourceKind, promotable bool, in string) (map[string]string, error) {
	var out map[string]string
	set := map[string]bool{}
	for _, p := range pairs {
		set[p.name] = true
	}
	for _, p := range pairs {
		n := p.name
		if to, ok := renamedMeta[n]; ok {
			if set[to] {
				im.note(p.el, in, "%s is overridden by %s: left out", n, to)
				continue
			}
			im.note(p.el, in, "%s (deprecated) read as %s", n, to)
			n = to
		}
		def, known := cib.MetaDefs[n]
		switch {
		case slices.Contains(guestMeta, n):
			im.unsupported(p.el, in, "meta attribute %s (guest nodes) is not supported", n)
			continue
		case n == "promotable":
			im.note(p.el, in, "promotable has no effect outside a clone: left out")
			continue
		case !known:
			im.unsupported(p.el, in, "meta attribute %s is not supported", n)
			continue
		case def.Scope&scopeOf(kind, promotable) == 0:
			if kind == "" {
				im.unsupported(p.el, in, "meta attribute %s is not supported in resource defaults", n)
			} else {
				im.note(p.el, in, "meta attribute %s has no effect on a %s: left out", n, kindName(kind, promotable))
			}
			continue
		}
		v := im.truncatedMeta(def.Type, p, in)
		if n == "target-role" && kind != "" && !promotable {
			if r, ok := canonicalRole(v); ok && (r == cib.RolePromoted || r == cib.RoleUnpromoted) {
				// Pacemaker's get_target_role ignores it there.
				im.note(p.el, in, "target-role %s applies only to promotable clones: Pacemaker ignores it on a %s, which stays at its default (Started): left out", v, kindName(kind, promotable))
				continue
			}
		}
		if err := cib.ValidateMeta(kind, promotable, n, v); err != nil {
			return nil, wrap(p.el, err)
		}
		setMap(&out, n, v)
	}
	return out, nil
}

func scopeOf(kind cib.ResourceKind, promotable bool) cib.MetaScope {
	switch kind {
	case cib.KindPrimitive:
		return cib.ScopePrimitive
	case cib.KindGroup:
		return cib.ScopeGroup
	case cib.KindClone:
		if promotable {
			return cib.ScopePromotable
		}
		return cib.ScopeClone
	}
	return cib.ScopeDefaults
}

func kindName(kind cib.ResourceKind, promotable bool) string {
	if kind == cib.KindClone && !promotable {
		return "clone that is not promotable"
	}
	return string(kind)
}

// The op names and on-fail values Paceline models ("Pacemaker
// Explained", Resource Operations).
var (
	opNames = []string{"start", "stop", "monitor", "promote", "demote", "notify", "reload", "reload-agent", "migrate_to", "migrate_from", "meta-data", "validate-all"}
	onFails = []string{"ignore", "block", "stop", "restart", "standby", "fence", "demote"}
)

// ops reads a primitive's operations.
func (im *importer) ops(e *Element, promotable bool) ([]cib.Op, error) {
	var out []cib.Op
	in := name(e)
	for _, c := range e.Children {
		if c.Name != "operations" {
			continue
		}
		if err := checkAttrs(c, "id id-ref"); err != nil {
			return nil, err
		}
		ops, err := im.resolve(c, "operations")
		if err != nil {
			return nil, err
		}
		if err := onlyChildren(ops, "op"); err != nil {
			return nil, err
		}
		for _, x := range ops.Children {
			op, keep, err := im.op(x, in)
			if err != nil {
				return nil, err
			}
			if keep {
				out = append(out, op)
			}
		}
	}
	return out, nil
}

// op reads one op; keep is false when it is left out.
func (im *importer) op(x *Element, in string) (op cib.Op, keep bool, err error) {
	if _, err := element(x, "id name interval description start-delay interval-origin timeout enabled record-pending role requires on-fail",
		"meta_attributes", "instance_attributes"); err != nil {
		return op, false, err
	}
	// The op's settings: its attributes, over those of its meta_attributes.
	metaPairs, err := im.nvsets(x, "meta_attributes", "")
	if err != nil {
		return op, false, err
	}
	attrs := map[string]string{}
	src := map[string]*Element{}
	for _, p := range metaPairs {
		attrs[p.name], src[p.name] = p.value, p.el
	}
	for _, a := range x.Attrs {
		attrs[a.Name], src[a.Name] = a.Value, x
	}
	op.Name = attrs["name"]
	if op.Name == "" {
		return op, false, errorf(x, "an op needs a name")
	}
	if !slices.Contains(opNames, op.Name) {
		im.unsupported(x, in, "operation %q is not supported (Paceline runs %s)", op.Name, strings.Join(opNames, ", "))
		return op, false, nil
	}
	if v, ok := attrs["enabled"]; ok {
		b, err := cib.ParseBool(v)
		if err != nil {
			return op, false, wrap(src["enabled"], err)
		}
		if !b {
			im.note(x, in, "disabled operation left out")
			return op, false, nil
		}
	}
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		v := attrs[k]
		switch k {
		case "id", "name", "description", "enabled":
		case "interval", "timeout":
			d, err := cib.ParseDuration(v)
			if err != nil {
				return op, false, wrap(src[k], err)
			}
			if k == "interval" {
				op.Interval = d
			} else {
				op.Timeout = d
			}
		case "role":
			r, ok := canonicalRole(v)
			if !ok {
				return op, false, errorf(src[k], "unknown role %q (want Started, Stopped, Promoted, Unpromoted, Master or Slave)", v)
			}
			op.Role = r
		case "on-fail":
			if !slices.Contains(onFails, v) {
				if v == "restart-container" {
					im.unsupported(src[k], in, "on-fail restart-container (bundles) is not supported")
					continue
				}
				return op, false, errorf(src[k], "unknown on-fail %q (want %s)", v, strings.Join(onFails, ", "))
			}
			op.OnFail = v
		case "record-pending":
			im.note(src[k], in, "record-pending has no effect in Paceline: left out")
		default:
			im.unsupported(src[k], in, "operation setting %s=%s is not supported", k, v)
		}
	}
	params, err := im.nvsets(x, "instance_attributes", "")
	if err != nil {
		return op, false, err
	}
	for _, p := range params {
		if p.name != "OCF_CHECK_LEVEL" {
			im.unsupported(p.el, in, "operation parameter %s is not supported (only OCF_CHECK_LEVEL)", p.name)
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(p.value))
		if err != nil || n < 0 {
			return op, false, errorf(p.el, "OCF_CHECK_LEVEL %q: want a depth of 0 or more", p.value)
		}
		op.CheckLevel = n
	}
	return op, true, nil
}

// canonicalRole reads a role, in any case, with the legacy names Master
// and Slave.
func canonicalRole(s string) (string, bool) {
	for _, r := range []string{cib.RoleStarted, cib.RoleStopped, cib.RolePromoted, cib.RoleUnpromoted} {
		if strings.EqualFold(s, r) {
			return r, true
		}
	}
	switch strings.ToLower(s) {
	case "master":
		return cib.RolePromoted, true
	case "slave":
		return cib.RoleUnpromoted, true
	}
	return "", false
}
