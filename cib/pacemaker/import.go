package pacemaker

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/paceline/paceline/cib"
)

// ImportOptions tune Import.
type ImportOptions struct {
	// SkipUnsupported leaves out what Paceline does not model (listed in
	// the Report) instead of failing.
	SkipUnsupported bool
}

// Import reads a Pacemaker CIB — a whole <cib> or just its
// <configuration> — and returns Paceline's configuration, validated, and
// a report of what was not brought over as it was. The <status> section is
// ignored (ImportStatus reads it). With objects Paceline does not model
// and without opt.SkipUnsupported, it returns the report and an
// *UnsupportedError. Malformed XML, unknown elements or attributes, bad
// values and dangling references are errors naming the element, its id
// and line. Either the whole configuration is returned, or none.
func Import(r io.Reader, opt ImportOptions) (*cib.Config, *Report, error) {
	root, err := ParseXML(r)
	if err != nil {
		return nil, &Report{}, err
	}
	return ImportElement(root, opt)
}

// ImportElement is Import of a document already read by ParseXML, so that
// a caller that also reads the status section parses the file once.
func ImportElement(root *Element, opt ImportOptions) (*cib.Config, *Report, error) {
	im := &importer{
		opt:     opt,
		rep:     &Report{},
		ids:     map[string]*Element{},
		dropped: map[string]string{},
		kinds:   map[string]string{},
		cfg:     &cib.Config{},
	}
	cfg, err := im.run(root)
	// Report in document order.
	byLine := func(a, b Item) int { return cmp.Compare(a.Line, b.Line) }
	slices.SortStableFunc(im.rep.Unsupported, byLine)
	slices.SortStableFunc(im.rep.Notes, byLine)
	if err != nil {
		return nil, im.rep, err
	}
	if len(im.rep.Unsupported) > 0 && !opt.SkipUnsupported {
		return nil, im.rep, &UnsupportedError{Report: im.rep}
	}
	return cfg, im.rep, nil
}

// importer holds the state of one Import.
type importer struct {
	opt ImportOptions
	rep *Report
	// ids indexes every element of the configuration that has an id.
	ids map[string]*Element
	// kinds says what each imported resource id is: primitive, group,
	// clone, fence device.
	kinds map[string]string
	// dropped names the resources and devices left out, and why.
	dropped map[string]string
	cfg     *cib.Config
	// opDefaults are op_defaults to apply once the resources are read.
	opDefaults []opDefault
	// crmPairs are the crm_config values, for legacyResourceDefaults.
	crmPairs []pair
	// nodeIDs are the <node>s' ids and names, in document order, for
	// rules on #id.
	nodeIDs []nodeID
}

// nodeID is a <node>'s id and its name.
type nodeID struct{ id, name string }

// opDefault is one op_defaults value Paceline writes into ops.
type opDefault struct {
	pair
	timeout cib.Duration
}

// Kinds of imported objects (importer.kinds).
const (
	kindPrimitive = "primitive"
	kindGroup     = "group"
	kindClone     = "clone"
	kindFence     = "fence device"
)

// unsupported records an object Paceline does not model.
func (im *importer) unsupported(e *Element, in, format string, args ...any) {
	im.rep.Unsupported = append(im.rep.Unsupported, item(e, in, format, args...))
}

// note records an object read with a change, or left out without effect.
func (im *importer) note(e *Element, in, format string, args ...any) {
	im.rep.Notes = append(im.rep.Notes, item(e, in, format, args...))
}

func item(e *Element, in, format string, args ...any) Item {
	id := e.ID()
	if id == "" {
		id = cmp.Or(e.Get("id-ref"), e.Get("name"))
	}
	return Item{Element: e.Name, ID: id, Line: e.Line, In: in, What: fmt.Sprintf(format, args...)}
}

// errorf is an error about an element: line, element and id first.
func errorf(e *Element, format string, args ...any) error {
	return fmt.Errorf("%s: %s", e, fmt.Sprintf(format, args...))
}

// wrap prefixes err with the element it happened in.
func wrap(e *Element, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", e, err)
}

// name is how an object is named in report items: `primitive "web"`.
func name(e *Element) string {
	if e.ID() == "" {
		return e.Name
	}
	return fmt.Sprintf("%s %q", e.Name, e.ID())
}

// checkAttrs refuses attributes outside allowed (space-separated).
func checkAttrs(e *Element, allowed string) error {
	known := strings.Fields(allowed)
	for _, a := range e.Attrs {
		if !slices.Contains(known, a.Name) {
			return errorf(e, "unknown attribute %q (want %s)", a.Name, strings.Join(known, ", "))
		}
	}
	return nil
}

// unknownChild is the error for a child element that does not belong.
func unknownChild(parent, c *Element, want string) error {
	return errorf(c, "unknown element <%s> in <%s%s> (want %s)", c.Name, parent.Name, idSuffix(parent), want)
}

func idSuffix(e *Element) string {
	if id := e.ID(); id != "" {
		return fmt.Sprintf(" id=%q", id)
	}
	return ""
}

func (im *importer) run(root *Element) (*cib.Config, error) {
	conf := root
	switch root.Name {
	case "configuration":
	case "cib":
		conf = nil
		for _, c := range root.Children {
			switch c.Name {
			case "configuration":
				if conf != nil {
					return nil, errorf(c, "a second <configuration> in <cib>")
				}
				conf = c
			case "status":
				// ImportStatus reads it.
			default:
				return nil, unknownChild(root, c, "configuration, status")
			}
		}
		if conf == nil {
			return nil, errors.New("<cib> has no <configuration>")
		}
	default:
		return nil, fmt.Errorf("%s: not a Pacemaker CIB: want a <cib> or <configuration> root element", root)
	}
	if err := im.index(conf, 0); err != nil {
		return nil, err
	}
	sections := map[string]*Element{}
	for _, c := range conf.Children {
		if sections[c.Name] != nil {
			return nil, errorf(c, "a second <%s> in <configuration>", c.Name)
		}
		sections[c.Name] = c
	}
	for _, c := range conf.Children {
		switch c.Name {
		case "crm_config", "nodes", "resources", "constraints", "rsc_defaults", "op_defaults", "fencing-topology", "alerts":
		case "acls", "tags":
			for _, x := range c.Children {
				im.unsupported(x, "", "%s are not supported (Paceline has no %s)", c.Name,
					map[string]string{"acls": "access control lists", "tags": "resource tags"}[c.Name])
			}
		default:
			return nil, unknownChild(conf, c, "crm_config, nodes, resources, constraints, rsc_defaults, op_defaults, fencing-topology, alerts, acls, tags")
		}
	}
	// Resources come before what refers to them; rsc_defaults after
	// crm_config (legacy defaults); op_defaults once the ops are read.
	steps := []struct {
		section string
		read    func(*Element) error
	}{
		{"crm_config", im.crmConfig},
		{"nodes", im.nodes},
		{"rsc_defaults", im.rscDefaults},
		{"op_defaults", im.readOpDefaults},
		{"resources", im.resources},
		{"constraints", im.constraints},
		{"fencing-topology", im.fencingTopology},
		{"alerts", im.alerts},
	}
	for _, s := range steps {
		if e := sections[s.section]; e != nil {
			if err := s.read(e); err != nil {
				return nil, err
			}
		}
	}
	if err := im.legacyResourceDefaults(); err != nil {
		return nil, err
	}
	im.applyOpDefaults()
	im.legacyStonithDefault(sections["crm_config"])
	cfg := im.cfg
	cfg.Normalize()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("the imported configuration is not valid:\n%w", err)
	}
	return cfg, nil
}

// index records every id of the configuration; XML ids are unique in a
// CIB. Some id attributes are not XML ids: a node's (corosync's number, or
// its name) and the references of resource sets, tags and ACLs.
func (im *importer) index(e *Element, depth int) error {
	switch e.Name {
	case "acls":
		return nil // not supported, and full of references
	case "node", "resource_ref", "obj_ref":
		for _, c := range e.Children {
			if err := im.index(c, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if id, ok := e.Lookup("id"); ok {
		if prev := im.ids[id]; prev != nil {
			return errorf(e, "duplicate id %q (also %s)", id, prev)
		}
		im.ids[id] = e
	}
	for _, c := range e.Children {
		if err := im.index(c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// resolve follows an id-ref: the element it names, which must be one of
// the given element names.
func (im *importer) resolve(e *Element, names ...string) (*Element, error) {
	ref, ok := e.Lookup("id-ref")
	if !ok {
		return e, nil
	}
	if _, has := e.Lookup("id"); has && e.Name != "nvpair" {
		return nil, errorf(e, "give id or id-ref, not both")
	}
	t := im.ids[ref]
	switch {
	case t == nil:
		return nil, errorf(e, "id-ref %q names nothing in the configuration", ref)
	case !slices.Contains(names, t.Name):
		return nil, errorf(e, "id-ref %q names a <%s>, want %s", ref, t.Name, strings.Join(names, " or "))
	}
	if _, ok := t.Lookup("id-ref"); ok {
		return nil, errorf(e, "id-ref %q names an element that is itself a reference", ref)
	}
	return t, nil
}

// pair is one name=value of a merged set, with the nvpair it came from.
type pair struct {
	name, value string
	el          *Element
}

var nvsetNames = []string{"instance_attributes", "meta_attributes", "utilization", "cluster_property_set"}

// nvsets merges owner's sets of one kind (instance_attributes,
// meta_attributes, utilization, cluster_property_set) as Pacemaker does:
// higher set score first (the set with id first, if given, before all),
// then document order; the first value of a name wins, and the value
// "#default" unsets it. A set with a rule is not supported.
func (im *importer) nvsets(owner *Element, kind, first string) ([]pair, error) {
	type set struct {
		el    *Element
		score cib.Score
		first bool
	}
	var sets []set
	for _, c := range owner.Children {
		if c.Name != kind {
			continue
		}
		if err := checkAttrs(c, "id id-ref score description"); err != nil {
			return nil, err
		}
		s, err := im.resolve(c, nvsetNames...)
		if err != nil {
			return nil, err
		}
		var score cib.Score
		if v, ok := c.Lookup("score"); ok {
			if score, err = im.score(c, name(owner), "score", v); err != nil {
				return nil, err
			}
		}
		if err := checkAttrs(s, "id score description"); err != nil {
			return nil, err
		}
		sets = append(sets, set{el: s, score: score, first: first != "" && s.ID() == first})
	}
	slices.SortStableFunc(sets, func(a, b set) int {
		if a.first != b.first {
			if a.first {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.score, a.score)
	})
	var out []pair
	seen := map[string]bool{}
	for _, s := range sets {
		if r := s.el.Child("rule"); r != nil {
			im.unsupported(s.el, name(owner), "sets with a rule (values that depend on a node, a date or an operation) are not supported")
			continue
		}
		for _, c := range s.el.Children {
			if c.Name != "nvpair" {
				return nil, unknownChild(s.el, c, "nvpair, rule")
			}
			if err := checkAttrs(c, "id id-ref name value description"); err != nil {
				return nil, err
			}
			p, err := im.resolve(c, "nvpair")
			if err != nil {
				return nil, err
			}
			n := cmp.Or(c.Get("name"), p.Get("name"))
			if n == "" {
				return nil, errorf(c, "an nvpair needs a name")
			}
			v, ok := p.Lookup("value")
			if !ok || seen[n] {
				continue // no value: not set (as Pacemaker); or set by an earlier set
			}
			seen[n] = true
			if v == "#default" {
				continue
			}
			out = append(out, pair{name: n, value: v, el: c})
		}
	}
	return out, nil
}

// onlyChildren refuses children of e outside allowed.
func onlyChildren(e *Element, allowed ...string) error {
	for _, c := range e.Children {
		if !slices.Contains(allowed, c.Name) {
			return unknownChild(e, c, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// pacemakerOptions are Pacemaker 2.1.5's cluster options that Paceline
// does not have (pacemaker-schedulerd, -controld, -fenced and -based
// metadata). informational ones are kept by Pacemaker itself or tune its
// daemons: they are left out with a note. The others change behaviour:
// left out with a note at their Pacemaker default, not supported otherwise.
var (
	informationalOptions = []string{"dc-version", "cluster-infrastructure", "have-watchdog", "last-lrm-refresh",
		"pe-error-series-max", "pe-warn-series-max", "pe-input-series-max", "cluster-ipc-limit", "dc-deadtime",
		"load-threshold", "node-action-limit", "election-timeout", "shutdown-escalation", "join-integration-timeout",
		"join-finalization-timeout", "transition-delay", "cluster-delay", "crmd-transition-delay"}
	behaviourOptions = map[string]string{
		"startup-fencing": "true", "stop-orphan-resources": "true", "stop-orphan-actions": "true",
		"remove-after-stop": "false", "node-health-strategy": "none", "node-health-base": "0",
		"node-health-green": "0", "node-health-yellow": "0", "node-health-red": "-INFINITY",
		"fence-reaction": "stop", "stonith-watchdog-timeout": "0", "stonith-max-attempts": "10",
		"enable-acl": "false",
	}
	// legacyDefaults are cluster options that Pacemaker reads as resource
	// defaults.
	legacyDefaults = map[string]string{"default-resource-stickiness": "resource-stickiness", "is-managed-default": "is-managed"}
)

// sameValue compares option values: booleans and scores by meaning.
func sameValue(a, b string) bool {
	if strings.EqualFold(strings.TrimSpace(a), b) {
		return true
	}
	x, err1 := cib.ParseBool(a)
	y, err2 := cib.ParseBool(b)
	if err1 == nil && err2 == nil {
		return x == y
	}
	s, err1 := cib.ParseScore(a)
	t, err2 := cib.ParseScore(b)
	return err1 == nil && err2 == nil && s == t
}

func (im *importer) crmConfig(e *Element) error {
	if err := onlyChildren(e, "cluster_property_set"); err != nil {
		return err
	}
	pairs, err := im.nvsets(e, "cluster_property_set", "cib-bootstrap-options")
	if err != nil {
		return err
	}
	im.crmPairs = pairs
	for _, p := range pairs {
		in := "crm_config"
		_, known := cib.PropertyDefs[p.name]
		switch {
		case known:
			if err := cib.ValidateProperty(p.name, p.value); err != nil {
				return wrap(p.el, err)
			}
			setMap(&im.cfg.Properties, p.name, p.value)
		case slices.Contains(informationalOptions, p.name):
			im.note(p.el, in, "cluster option %s=%s is kept by or tunes Pacemaker's daemons: left out", p.name, p.value)
		case behaviourOptions[p.name] != "":
			if sameValue(p.value, behaviourOptions[p.name]) {
				im.note(p.el, in, "cluster option %s is at its Pacemaker default (%s), which is what Paceline does: left out", p.name, p.value)
			} else {
				im.unsupported(p.el, in, "cluster option %s=%s is not supported (Paceline behaves as with %s)", p.name, p.value, behaviourOptions[p.name])
			}
		case legacyDefaults[p.name] != "":
			// rscDefaults applies it unless rsc_defaults sets it.
		default:
			// Not a cluster option: an agent's own attribute
			// (crm_attribute --type crm_config).
			setMap(&im.cfg.AgentAttributes, p.name, p.value)
		}
	}
	return nil
}

// legacyStonithDefault writes stonith-enabled=true when the CIB leaves it
// out: Pacemaker's default is true, Paceline's false.
func (im *importer) legacyStonithDefault(crm *Element) {
	if _, ok := im.cfg.Properties["stonith-enabled"]; ok {
		return
	}
	setMap(&im.cfg.Properties, "stonith-enabled", "true")
	if crm == nil {
		crm = &Element{Name: "crm_config"}
	}
	im.note(crm, "", "stonith-enabled is not set: Pacemaker's default (true) is written, as Paceline's default is false")
}

func setMap[V any](m *map[string]V, k string, v V) {
	if *m == nil {
		*m = map[string]V{}
	}
	(*m)[k] = v
}

func (im *importer) nodes(e *Element) error {
	if err := onlyChildren(e, "node"); err != nil {
		return err
	}
	for _, n := range e.Children {
		if err := checkAttrs(n, "id uname type description score"); err != nil {
			return err
		}
		if err := onlyChildren(n, "instance_attributes", "utilization"); err != nil {
			return err
		}
		switch t := n.Get("type"); t {
		case "", "member", "normal":
		case "remote", "ping":
			im.unsupported(n, "", "%s nodes are not supported (Paceline nodes are cluster members)", t)
			continue
		default:
			return errorf(n, "unknown node type %q (want member, remote or ping)", t)
		}
		node := cib.Node{Name: cmp.Or(n.Get("uname"), n.ID())}
		if node.Name == "" {
			return errorf(n, "a node needs a uname")
		}
		if s, ok := n.Lookup("score"); ok {
			if v, err := im.score(n, "", "score", s); err != nil {
				return err
			} else if v != 0 {
				im.unsupported(n, "", "node score %s (a preference for the node for every resource) is not supported: use location constraints", s)
			}
		}
		attrs, err := im.nvsets(n, "instance_attributes", "")
		if err != nil {
			return err
		}
		for _, p := range attrs {
			switch p.name {
			case "standby", "maintenance":
				b, err := cib.ParseBool(p.value)
				if err != nil {
					return wrap(p.el, err)
				}
				if p.name == "standby" {
					node.Standby = b
				} else {
					node.Maintenance = b
				}
			case votesAttr:
				v, err := strconv.Atoi(p.value)
				if err != nil || v < 0 {
					return errorf(p.el, "%s %q: want a number of votes", votesAttr, p.value)
				}
				node.Votes = v
			default:
				setMap(&node.Attributes, p.name, p.value)
			}
		}
		if node.Utilization, err = im.utilization(n); err != nil {
			return err
		}
		im.nodeIDs = append(im.nodeIDs, nodeID{id: cmp.Or(n.ID(), node.Name), name: node.Name})
		im.cfg.Nodes = append(im.cfg.Nodes, node)
	}
	return nil
}

// votesAttr is the node attribute Export writes a node's quorum votes in:
// Pacemaker keeps votes in corosync, not in the CIB.
const votesAttr = "paceline-votes"

// utilization reads e's utilization sets: whole numbers, as Pacemaker's.
func (im *importer) utilization(e *Element) (map[string]int64, error) {
	pairs, err := im.nvsets(e, "utilization", "")
	if err != nil {
		return nil, err
	}
	var out map[string]int64
	for _, p := range pairs {
		v, err := strconv.ParseInt(strings.TrimSpace(p.value), 10, 64)
		if err != nil {
			return nil, errorf(p.el, "utilization %s=%q: want a whole number", p.name, p.value)
		}
		setMap(&out, p.name, v)
	}
	return out, nil
}

// defaultsSets reads rsc_defaults or op_defaults: meta_attributes sets.
func (im *importer) defaultsSets(e *Element) ([]pair, error) {
	if err := onlyChildren(e, "meta_attributes"); err != nil {
		return nil, err
	}
	return im.nvsets(e, "meta_attributes", "")
}

func (im *importer) rscDefaults(e *Element) error {
	pairs, err := im.defaultsSets(e)
	if err != nil {
		return err
	}
	m, err := im.meta(pairs, "", false, "rsc_defaults")
	if err != nil {
		return err
	}
	im.cfg.ResourceDefaults = m
	return nil
}

// legacyResourceDefaults applies default-resource-stickiness and
// is-managed-default from crm_config where rsc_defaults is silent.
func (im *importer) legacyResourceDefaults() error {
	for _, p := range im.crmPairs {
		meta := legacyDefaults[p.name]
		if meta == "" {
			continue
		}
		if _, set := im.cfg.ResourceDefaults[meta]; set {
			im.note(p.el, "crm_config", "legacy option %s is overridden by rsc_defaults %s: left out", p.name, meta)
			continue
		}
		v := im.truncatedMeta(cib.MetaDefs[meta].Type, p, "crm_config")
		if err := cib.ValidateMeta("", false, meta, v); err != nil {
			return wrap(p.el, err)
		}
		setMap(&im.cfg.ResourceDefaults, meta, v)
		im.note(p.el, "crm_config", "legacy option %s read as resource default %s", p.name, meta)
	}
	return nil
}

func (im *importer) readOpDefaults(e *Element) error {
	pairs, err := im.defaultsSets(e)
	if err != nil {
		return err
	}
	for _, p := range pairs {
		switch p.name {
		case "timeout":
			d, err := cib.ParseDuration(p.value)
			if err != nil {
				return wrap(p.el, err)
			}
			im.opDefaults = append(im.opDefaults, opDefault{pair: p, timeout: d})
		case "on-fail":
			if !slices.Contains(onFails, p.value) {
				return errorf(p.el, "unknown on-fail %q (want %s)", p.value, strings.Join(onFails, ", "))
			}
			im.opDefaults = append(im.opDefaults, opDefault{pair: p})
		case "record-pending":
			im.note(p.el, "op_defaults", "record-pending has no effect in Paceline (pending operations are always shown): left out")
		default:
			im.unsupported(p.el, "op_defaults", "operation default %s is not supported", p.name)
		}
	}
	return nil
}

// applyOpDefaults gives the configured ops of every primitive the
// op_defaults timeout and on-fail they do not set. Paceline has no
// operation defaults: ops that are not configured keep the agent's.
func (im *importer) applyOpDefaults() {
	for _, d := range im.opDefaults {
		n := 0
		for i := range im.cfg.Primitives {
			for j := range im.cfg.Primitives[i].Ops {
				op := &im.cfg.Primitives[i].Ops[j]
				switch {
				case d.name == "timeout" && op.Timeout == 0:
					op.Timeout = d.timeout
					n++
				case d.name == "on-fail" && op.OnFail == "":
					op.OnFail = d.value
					n++
				}
			}
		}
		im.note(d.el, "op_defaults", "Paceline has no operation defaults: %s=%s is written into the %d configured operation(s) without one; operations not configured use the agent's default", d.name, d.value, n)
	}
}

// score reads a score as Pacemaker's char2score does: an integer or
// [+-]INFINITY, and also what cib.ParseScore refuses, a number with a
// decimal part ("1.0"), which char2score's strtoll truncates to its
// integer part (with a note). e is the element the value is in, what
// names the value in messages.
func (im *importer) score(e *Element, in, what, v string) (cib.Score, error) {
	s, err := cib.ParseScore(v)
	if err == nil {
		return s, nil
	}
	t, ok := truncateDecimal(v)
	if !ok {
		return 0, wrap(e, err)
	}
	im.noteTruncated(e, in, what, v, t)
	return cib.ParseScore(t)
}

// truncatedMeta is p's value, with a decimal part cut off (and a note)
// when the meta attribute is a number Pacemaker reads with char2score
// (priority, resource-stickiness, migration-threshold).
func (im *importer) truncatedMeta(t cib.ValueType, p pair, in string) string {
	switch t {
	case cib.ValueInt, cib.ValueScore, cib.ValueThreshold:
		if v, ok := truncateDecimal(p.value); ok {
			im.noteTruncated(p.el, in, p.name, p.value, v)
			return v
		}
	}
	return p.value
}

func (im *importer) noteTruncated(e *Element, in, what, from, to string) {
	im.note(e, in, "%s %q read as %s, as Pacemaker does (its char2score keeps the integer part of a number)", what, from, to)
}

// truncateDecimal returns the integer part of a decimal number such as
// "1.0", "-2.5" or "3.", as strtoll reads it; ok is false for anything
// else (integers included).
func truncateDecimal(v string) (string, bool) {
	t := strings.TrimSpace(v)
	whole, frac, found := strings.Cut(t, ".")
	digits := strings.TrimLeft(whole, "+-")
	if !found || digits == "" || len(whole)-len(digits) > 1 || !allDigits(digits) || !allDigits(frac) {
		return "", false
	}
	return whole, true
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
