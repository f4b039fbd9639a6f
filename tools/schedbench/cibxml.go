package main

// This file writes a generated configuration and status as a Pacemaker CIB
// (cib.xml), so that Pacemaker's crm_simulate can schedule the same input
// as `paceline simulate`. It targets Pacemaker 2.1.5 (schema
// pacemaker-3.9); newer versions read it too.
//
// What the CIB says, and what it leaves out:
//   - Every primitive becomes ocf:heartbeat:Dummy whatever its agent
//     (crm_simulate runs no agent), with the primitive's params, meta
//     attributes, utilization and ops.
//   - stonith-enabled is always false and no fence device is written: a
//     configuration that enables fencing or has fence devices is refused.
//     Paceline's own cluster properties (node-loss-grace, two-node, ...)
//     have no Pacemaker counterpart and are left out.
//   - Node votes are left out (have-quorum says whether the partition is
//     quorate). Standby and maintenance become node attributes.
//   - Status: an online node is a member; an offline one left cleanly; an
//     unclean one was lost while a member. What a node's LRM reported
//     becomes its operation history: a start (or a promote) and the
//     recurring monitors for a running resource, a probe that found it not
//     running for a stopped one and, on a probed node, for every primitive
//     not listed. Each record carries the operation digest Pacemaker
//     computes, so that crm_simulate does not see changed parameters.
//     Failures and fail counts are not expressed: a status with them is
//     refused.

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/crm/scheduler"
)

// cibSchema is the schema the CIB declares; Pacemaker 2.1.5 knows it.
const cibSchema = "pacemaker-3.9"

// transitionUUID stands in for the DC's transition UUID in operation
// histories; Pacemaker only needs a 36-character token there.
const transitionUUID = "00000000-0000-0000-0000-000000000000"

// defaultOpTimeout is Pacemaker's default operation timeout, used in a
// recurring monitor's digest when the op sets none.
const defaultOpTimeout = 20 * time.Second

// pacelineOnlyProperties are cluster properties Pacemaker does not have.
var pacelineOnlyProperties = map[string]bool{
	"node-loss-grace":   true,
	"self-stop-timeout": true,
	"two-node":          true,
	"wait-for-all":      true,
	"ping-targets":      true,
	"tiebreak-delay":    true,
}

// OCF exit codes the operation histories use.
const (
	ocfOK              = 0
	ocfNotRunning      = 7
	ocfRunningPromoted = 8
)

// The XML elements. Attributes with omitempty are optional in the schema.

type xCIB struct {
	XMLName       xml.Name       `xml:"cib"`
	ValidateWith  string         `xml:"validate-with,attr"`
	Epoch         uint64         `xml:"epoch,attr"`
	NumUpdates    int            `xml:"num_updates,attr"`
	AdminEpoch    int            `xml:"admin_epoch,attr"`
	HaveQuorum    string         `xml:"have-quorum,attr"`
	Configuration xConfiguration `xml:"configuration"`
	Status        xStatus        `xml:"status"`
}

type xConfiguration struct {
	CRMConfig   []xNVSet     `xml:"crm_config>cluster_property_set"`
	Nodes       []xNode      `xml:"nodes>node"`
	Resources   xList        `xml:"resources"`
	Constraints xConstraints `xml:"constraints"`
	RscDefaults []xNVSet     `xml:"rsc_defaults>meta_attributes,omitempty"`
}

// xList holds elements of different kinds in order; each item's XMLName
// names its element.
type xList struct {
	Items []any
}

// xNVSet is a set of name-value pairs; the field holding it names the
// element (cluster_property_set, instance_attributes, meta_attributes,
// utilization).
type xNVSet struct {
	ID    string    `xml:"id,attr"`
	Pairs []xNVPair `xml:"nvpair"`
}

type xNVPair struct {
	ID    string `xml:"id,attr"`
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type xNode struct {
	ID          string  `xml:"id,attr"`
	Uname       string  `xml:"uname,attr"`
	Attributes  *xNVSet `xml:"instance_attributes,omitempty"`
	Utilization *xNVSet `xml:"utilization,omitempty"`
}

type xPrimitive struct {
	XMLName     xml.Name `xml:"primitive"`
	ID          string   `xml:"id,attr"`
	Class       string   `xml:"class,attr"`
	Provider    string   `xml:"provider,attr"`
	Type        string   `xml:"type,attr"`
	Params      *xNVSet  `xml:"instance_attributes,omitempty"`
	Meta        *xNVSet  `xml:"meta_attributes,omitempty"`
	Utilization *xNVSet  `xml:"utilization,omitempty"`
	Ops         []xOp    `xml:"operations>op,omitempty"`
}

type xOp struct {
	ID       string `xml:"id,attr"`
	Name     string `xml:"name,attr"`
	Interval string `xml:"interval,attr"`
	Timeout  string `xml:"timeout,attr,omitempty"`
	Role     string `xml:"role,attr,omitempty"`
	OnFail   string `xml:"on-fail,attr,omitempty"`
}

type xGroup struct {
	XMLName xml.Name     `xml:"group"`
	ID      string       `xml:"id,attr"`
	Meta    *xNVSet      `xml:"meta_attributes,omitempty"`
	Members []xPrimitive `xml:"primitive"`
}

type xClone struct {
	XMLName xml.Name `xml:"clone"`
	ID      string   `xml:"id,attr"`
	Meta    *xNVSet  `xml:"meta_attributes,omitempty"`
	Child   any      // *xPrimitive or *xGroup
}

type xConstraints struct {
	Locations   []xLocation   `xml:"rsc_location"`
	Colocations []xColocation `xml:"rsc_colocation"`
	Orders      []xOrder      `xml:"rsc_order"`
}

type xLocation struct {
	ID    string `xml:"id,attr"`
	Rsc   string `xml:"rsc,attr"`
	Role  string `xml:"role,attr,omitempty"`
	Node  string `xml:"node,attr,omitempty"`
	Score string `xml:"score,attr,omitempty"`
	Rule  *xRule `xml:"rule,omitempty"`
}

type xRule struct {
	XMLName        xml.Name `xml:"rule"`
	ID             string   `xml:"id,attr"`
	Score          string   `xml:"score,attr,omitempty"`
	ScoreAttribute string   `xml:"score-attribute,attr,omitempty"`
	BooleanOp      string   `xml:"boolean-op,attr,omitempty"`
	Items          []any    // *xExpression or *xRule
}

type xExpression struct {
	XMLName   xml.Name `xml:"expression"`
	ID        string   `xml:"id,attr"`
	Attribute string   `xml:"attribute,attr"`
	Operation string   `xml:"operation,attr"`
	Value     *string  `xml:"value,attr,omitempty"`
	Type      string   `xml:"type,attr,omitempty"`
}

type xColocation struct {
	ID          string `xml:"id,attr"`
	Rsc         string `xml:"rsc,attr"`
	WithRsc     string `xml:"with-rsc,attr"`
	Score       string `xml:"score,attr"`
	RscRole     string `xml:"rsc-role,attr,omitempty"`
	WithRscRole string `xml:"with-rsc-role,attr,omitempty"`
}

type xOrder struct {
	ID          string `xml:"id,attr"`
	First       string `xml:"first,attr"`
	FirstAction string `xml:"first-action,attr"`
	Then        string `xml:"then,attr"`
	ThenAction  string `xml:"then-action,attr"`
	Kind        string `xml:"kind,attr"`
	Symmetrical bool   `xml:"symmetrical,attr"`
}

type xStatus struct {
	Nodes []xNodeState `xml:"node_state"`
}

type xNodeState struct {
	ID        string      `xml:"id,attr"`
	Uname     string      `xml:"uname,attr"`
	InCCM     bool        `xml:"in_ccm,attr"`
	Crmd      string      `xml:"crmd,attr"`
	Join      string      `xml:"join,attr"`
	Expected  string      `xml:"expected,attr"`
	Transient *xTransient `xml:"transient_attributes,omitempty"`
	LRM       *xLRM       `xml:"lrm,omitempty"`
}

type xTransient struct {
	ID    string `xml:"id,attr"`
	Attrs xNVSet `xml:"instance_attributes"`
}

type xLRM struct {
	ID        string         `xml:"id,attr"`
	Resources []xLRMResource `xml:"lrm_resources>lrm_resource"`
}

type xLRMResource struct {
	ID       string   `xml:"id,attr"`
	Class    string   `xml:"class,attr"`
	Provider string   `xml:"provider,attr"`
	Type     string   `xml:"type,attr"`
	Ops      []xLRMOp `xml:"lrm_rsc_op"`
}

type xLRMOp struct {
	ID              string `xml:"id,attr"`
	OperationKey    string `xml:"operation_key,attr"`
	Operation       string `xml:"operation,attr"`
	TransitionKey   string `xml:"transition-key,attr"`
	TransitionMagic string `xml:"transition-magic,attr"`
	CallID          int    `xml:"call-id,attr"`
	RCCode          int    `xml:"rc-code,attr"`
	OpStatus        int    `xml:"op-status,attr"`
	Interval        int64  `xml:"interval,attr"`
	LastRCChange    int64  `xml:"last-rc-change,attr"`
	ExecTime        int    `xml:"exec-time,attr"`
	QueueTime       int    `xml:"queue-time,attr"`
	OpDigest        string `xml:"op-digest,attr"`
}

// pacemakerCIB returns cfg and st as a Pacemaker CIB; now dates the
// operation histories (an hour before it).
func pacemakerCIB(cfg *cib.Config, st *scheduler.Status, now time.Time) ([]byte, error) {
	w := &cibWriter{cfg: cfg, ids: map[string]bool{}, nodeID: map[string]string{}}
	doc, err := w.document(st, now)
	if err != nil {
		return nil, fmt.Errorf("pacemaker CIB: %w", err)
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("pacemaker CIB: encoding: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

type cibWriter struct {
	cfg *cib.Config
	// ids holds every id written, so derived ones stay unique.
	ids map[string]bool
	// nodeID maps a node name to its Pacemaker node id.
	nodeID map[string]string
	nodes  []xNode
}

func (w *cibWriter) document(st *scheduler.Status, now time.Time) (*xCIB, error) {
	cfg := w.cfg
	if len(cfg.FenceDevices) > 0 || len(cfg.FenceLevels) > 0 {
		return nil, errors.New("fence devices and levels are not translated")
	}
	if v, err := strconv.ParseBool(cfg.Property("stonith-enabled")); err != nil || v {
		return nil, fmt.Errorf("stonith-enabled=%q: only a configuration without fencing is translated", cfg.Property("stonith-enabled"))
	}
	doc := &xCIB{ValidateWith: cibSchema, Epoch: max(cfg.Epoch, 1), HaveQuorum: "0"}
	if st.Quorate {
		doc.HaveQuorum = "1"
	}
	// Resources and constraints first: their ids are the configuration's
	// own, and derived ids must not take them.
	for _, id := range w.configIDs() {
		if err := checkXMLID(id); err != nil {
			return nil, err
		}
		w.ids[id] = true
	}
	c := &doc.Configuration

	props := maps.Clone(cfg.Properties)
	if props == nil {
		props = map[string]string{}
	}
	props["stonith-enabled"] = "false"
	for name := range pacelineOnlyProperties {
		delete(props, name)
	}
	c.CRMConfig = []xNVSet{*w.nvset("cib-bootstrap-options", props)}

	for _, n := range cfg.Nodes {
		w.addNode(n)
	}
	res, err := w.resources()
	if err != nil {
		return nil, err
	}
	c.Resources = res
	if c.Constraints, err = w.constraints(); err != nil {
		return nil, err
	}
	if len(cfg.ResourceDefaults) > 0 {
		c.RscDefaults = []xNVSet{*w.nvset("rsc-options", cfg.ResourceDefaults)}
	}

	for _, ns := range st.Nodes {
		x, err := w.nodeState(ns, now)
		if err != nil {
			return nil, fmt.Errorf("status of node %s: %w", ns.Name, err)
		}
		doc.Status.Nodes = append(doc.Status.Nodes, x)
	}
	// nodeState may add nodes the configuration lacks.
	c.Nodes = w.nodes
	return doc, nil
}

// configIDs lists the ids the configuration itself names.
func (w *cibWriter) configIDs() []string {
	cfg := w.cfg
	var ids []string
	for _, p := range cfg.Primitives {
		ids = append(ids, p.ID)
	}
	for _, g := range cfg.Groups {
		ids = append(ids, g.ID)
	}
	for _, cl := range cfg.Clones {
		ids = append(ids, cl.ID)
	}
	for _, l := range cfg.Constraints.Location {
		ids = append(ids, l.ID)
	}
	for _, l := range cfg.Constraints.Colocation {
		ids = append(ids, l.ID)
	}
	for _, o := range cfg.Constraints.Order {
		ids = append(ids, o.ID)
	}
	return ids
}

// checkXMLID reports an id the CIB schema would refuse (an XML ID: a
// letter or underscore, then letters, digits, '.', '-' or '_').
func checkXMLID(id string) error {
	if id == "" {
		return errors.New("empty id")
	}
	for i, r := range id {
		letter := r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
		if letter || (i > 0 && (r == '-' || r == '.' || ('0' <= r && r <= '9'))) {
			continue
		}
		return fmt.Errorf("id %q is not a valid XML ID, as the CIB schema requires", id)
	}
	return nil
}

// newID returns an unused id made from base: its characters that an XML ID
// cannot hold become '_', and a counter is added on a clash.
func (w *cibWriter) newID(base string) string {
	var b strings.Builder
	for i, r := range base {
		ok := r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') ||
			(i > 0 && (r == '-' || r == '.' || ('0' <= r && r <= '9')))
		if !ok {
			if i == 0 {
				b.WriteByte('_')
				if r == '-' || r == '.' || ('0' <= r && r <= '9') {
					b.WriteRune(r)
				}
				continue
			}
			r = '_'
		}
		b.WriteRune(r)
	}
	id := b.String()
	if id == "" {
		id = "_"
	}
	for n := 1; w.ids[id]; n++ {
		id = fmt.Sprintf("%s-%d", b.String(), n)
	}
	w.ids[id] = true
	return id
}

// nvset returns a set of pairs with id setID (made unique), pairs sorted by
// name; nil for an empty map.
func (w *cibWriter) nvset(setID string, m map[string]string) *xNVSet {
	if len(m) == 0 {
		return nil
	}
	s := &xNVSet{ID: w.newID(setID)}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		s.Pairs = append(s.Pairs, xNVPair{ID: w.newID(s.ID + "-" + k), Name: k, Value: m[k]})
	}
	return s
}

// addNode adds a node to the node list with the next node id.
func (w *cibWriter) addNode(n cib.Node) {
	id := strconv.Itoa(len(w.nodes) + 1)
	w.nodeID[n.Name] = id
	attrs := maps.Clone(n.Attributes)
	if attrs == nil {
		attrs = map[string]string{}
	}
	if n.Standby {
		attrs["standby"] = "on"
	}
	if n.Maintenance {
		attrs["maintenance"] = "on"
	}
	w.nodes = append(w.nodes, xNode{
		ID: id, Uname: n.Name,
		Attributes:  w.nvset("nodes-"+id, attrs),
		Utilization: w.nvset("nodes-"+id+"-utilization", cib.UtilizationStrings(n.Utilization)),
	})
}

// resources lists the top-level resources in the order of the
// configuration's primitives: a group or clone where its first primitive
// is.
func (w *cibWriter) resources() (xList, error) {
	cfg := w.cfg
	var out xList
	done := map[string]bool{}
	for _, p := range cfg.Primitives {
		top, child := p.ID, any(nil)
		if g := cfg.GroupOf(p.ID); g != nil {
			top = g.ID
		}
		if cl := cfg.CloneOf(top); cl != nil {
			top = cl.ID
		}
		if done[top] {
			continue
		}
		done[top] = true
		switch cfg.ResourceKindOf(top) {
		case cib.KindPrimitive:
			child = w.primitive(&p)
		case cib.KindGroup:
			g, err := w.group(cfg.Group(top))
			if err != nil {
				return out, err
			}
			child = g
		case cib.KindClone:
			cl, err := w.clone(cfg.CloneByID(top))
			if err != nil {
				return out, err
			}
			child = cl
		}
		out.Items = append(out.Items, child)
	}
	return out, nil
}

func (w *cibWriter) primitive(p *cib.Primitive) *xPrimitive {
	x := &xPrimitive{
		ID: p.ID, Class: "ocf", Provider: "heartbeat", Type: "Dummy",
		Params:      w.nvset(p.ID+"-instance_attributes", p.Params),
		Meta:        w.nvset(p.ID+"-meta_attributes", p.Meta),
		Utilization: w.nvset(p.ID+"-utilization", cib.UtilizationStrings(p.Utilization)),
	}
	for _, op := range p.Ops {
		iv := time.Duration(op.Interval)
		base := p.ID + "-" + op.Name + "-interval-" + pcmkDuration(iv)
		if op.Role != "" {
			base += "-" + op.Role
		}
		xo := xOp{ID: w.newID(base), Name: op.Name, Interval: pcmkDuration(iv), Role: op.Role, OnFail: op.OnFail}
		if op.Timeout > 0 {
			xo.Timeout = pcmkDuration(time.Duration(op.Timeout))
		}
		x.Ops = append(x.Ops, xo)
	}
	return x
}

func (w *cibWriter) group(g *cib.Group) (*xGroup, error) {
	x := &xGroup{ID: g.ID, Meta: w.nvset(g.ID+"-meta_attributes", g.Meta)}
	for _, m := range g.Members {
		p := w.cfg.Primitive(m)
		if p == nil {
			return nil, fmt.Errorf("group %s: member %s is not a primitive", g.ID, m)
		}
		x.Members = append(x.Members, *w.primitive(p))
	}
	return x, nil
}

func (w *cibWriter) clone(cl *cib.Clone) (*xClone, error) {
	meta := maps.Clone(cl.Meta)
	if cl.Promotable {
		if meta == nil {
			meta = map[string]string{}
		}
		meta["promotable"] = "true"
	}
	x := &xClone{ID: cl.ID, Meta: w.nvset(cl.ID+"-meta_attributes", meta)}
	switch w.cfg.ResourceKindOf(cl.Rsc) {
	case cib.KindPrimitive:
		x.Child = w.primitive(w.cfg.Primitive(cl.Rsc))
	case cib.KindGroup:
		g, err := w.group(w.cfg.Group(cl.Rsc))
		if err != nil {
			return nil, err
		}
		x.Child = g
	default:
		return nil, fmt.Errorf("clone %s: %s is neither a primitive nor a group", cl.ID, cl.Rsc)
	}
	return x, nil
}

// pcmkDuration writes d in a form Pacemaker reads: whole seconds as "10s",
// anything else in milliseconds.
func pcmkDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

func (w *cibWriter) constraints() (xConstraints, error) {
	cs := &w.cfg.Constraints
	var out xConstraints
	for _, l := range cs.Location {
		x := xLocation{ID: l.ID, Rsc: l.Rsc, Role: l.Role}
		if l.Rule == "" {
			x.Node, x.Score = l.Node, l.Score.String()
		} else {
			r, err := cib.ParseRule(l.Rule)
			if err != nil {
				return out, fmt.Errorf("location %s: %w", l.ID, err)
			}
			x.Rule = w.rule(l.ID+"-rule", r)
			if l.ScoreAttribute != "" {
				x.Rule.ScoreAttribute = l.ScoreAttribute
			} else {
				x.Rule.Score = l.Score.String()
			}
		}
		out.Locations = append(out.Locations, x)
	}
	for _, l := range cs.Colocation {
		out.Colocations = append(out.Colocations, xColocation{ID: l.ID, Rsc: l.Rsc, WithRsc: l.WithRsc,
			Score: l.Score.String(), RscRole: l.RscRole, WithRscRole: l.WithRscRole})
	}
	for _, o := range cs.Order {
		kind, err := orderKind(o.Kind)
		if err != nil {
			return out, fmt.Errorf("order %s: %w", o.ID, err)
		}
		out.Orders = append(out.Orders, xOrder{ID: o.ID, First: o.First, FirstAction: o.FirstAction,
			Then: o.Then, ThenAction: o.ThenAction, Kind: kind, Symmetrical: o.Symmetrical})
	}
	return out, nil
}

// orderKind returns Pacemaker's spelling of an order kind.
func orderKind(k string) (string, error) {
	switch strings.ToLower(k) {
	case cib.OrderMandatory, "":
		return "Mandatory", nil
	case cib.OrderOptional:
		return "Optional", nil
	case cib.OrderSerialize:
		return "Serialize", nil
	}
	return "", fmt.Errorf("unknown kind %q", k)
}

// rule returns r as a rule element with id base (made unique); an "and" or
// "or" becomes the rule's boolean-op, nested ones nested rules.
func (w *cibWriter) rule(base string, r cib.Rule) *xRule {
	x := &xRule{ID: w.newID(base)}
	var terms []cib.Rule
	switch e := r.(type) {
	case cib.AndExpr:
		x.BooleanOp, terms = "and", e.Terms
	case cib.OrExpr:
		x.BooleanOp, terms = "or", e.Terms
	default:
		terms = []cib.Rule{r}
	}
	for _, t := range terms {
		switch e := t.(type) {
		case cib.AndExpr, cib.OrExpr:
			x.Items = append(x.Items, w.rule(x.ID, e))
		case cib.DefinedExpr:
			op := "defined"
			if e.Negate {
				op = "not_defined"
			}
			x.Items = append(x.Items, &xExpression{ID: w.newID(x.ID + "-expr"), Attribute: e.Attr, Operation: op})
		case cib.CompareExpr:
			v := e.Value
			x.Items = append(x.Items, &xExpression{ID: w.newID(x.ID + "-expr"), Attribute: e.Attr,
				Operation: e.Op, Value: &v, Type: e.Type})
		}
	}
	return x
}

// nodeState returns one node's membership, transient attributes and
// operation history.
func (w *cibWriter) nodeState(ns scheduler.NodeStatus, now time.Time) (xNodeState, error) {
	id, ok := w.nodeID[ns.Name]
	if !ok {
		// A member the configuration does not list: Pacemaker needs it in
		// the node list too.
		w.addNode(cib.Node{Name: ns.Name})
		id = w.nodeID[ns.Name]
	}
	x := xNodeState{ID: id, Uname: ns.Name}
	switch ns.State {
	case scheduler.NodeOnline, "":
		x.InCCM, x.Crmd, x.Join, x.Expected = true, "online", "member", "member"
	case scheduler.NodeOffline:
		x.InCCM, x.Crmd, x.Join, x.Expected = false, "offline", "down", "down"
	case scheduler.NodeUnclean:
		x.InCCM, x.Crmd, x.Join, x.Expected = false, "offline", "member", "member"
	default:
		return x, fmt.Errorf("unknown state %q", ns.State)
	}
	if attrs := w.nvset("status-"+id, ns.Attributes); attrs != nil {
		x.Transient = &xTransient{ID: id, Attrs: *attrs}
	}
	if !ns.Probed && len(ns.Resources) == 0 {
		return x, nil
	}
	h := &history{when: now.Add(-time.Hour).Unix()}
	listed := map[string]bool{}
	for _, r := range ns.Resources {
		if r.Failed || r.FailCount > 0 {
			return x, fmt.Errorf("%s: failures and fail counts are not translated", r.ID)
		}
		if listed[r.ID] {
			return x, fmt.Errorf("%s: several instances on one node are not translated (Pacemaker's clones here are anonymous)", r.ID)
		}
		listed[r.ID] = true
		p := w.cfg.Primitive(r.ID)
		if p == nil {
			return x, fmt.Errorf("%s is not a primitive of the configuration", r.ID)
		}
		h.add(p, r.Role)
	}
	if ns.Probed {
		for i := range w.cfg.Primitives {
			if p := &w.cfg.Primitives[i]; !listed[p.ID] {
				h.add(p, cib.RoleStopped)
			}
		}
	}
	x.LRM = &xLRM{ID: id, Resources: h.resources}
	return x, nil
}

// history builds one node's operation history; call ids grow from 1.
type history struct {
	resources []xLRMResource
	callID    int
	when      int64
}

// add records what left primitive p in role (Stopped, Started, Unpromoted
// or Promoted; "" is Started): the last non-recurring operation and the
// recurring monitors of that role.
func (h *history) add(p *cib.Primitive, role string) {
	r := xLRMResource{ID: p.ID, Class: "ocf", Provider: "heartbeat", Type: "Dummy"}
	switch role {
	case cib.RoleStopped:
		r.Ops = append(r.Ops, h.op(p, "monitor", 0, ocfNotRunning, 0))
	case cib.RolePromoted:
		r.Ops = append(r.Ops, h.op(p, "promote", 0, ocfOK, 0))
		for _, op := range monitors(p, role) {
			r.Ops = append(r.Ops, h.op(p, "monitor", time.Duration(op.Interval), ocfRunningPromoted, time.Duration(op.Timeout)))
		}
	default:
		r.Ops = append(r.Ops, h.op(p, "start", 0, ocfOK, 0))
		for _, op := range monitors(p, role) {
			r.Ops = append(r.Ops, h.op(p, "monitor", time.Duration(op.Interval), ocfOK, time.Duration(op.Timeout)))
		}
	}
	h.resources = append(h.resources, r)
}

// monitors returns the recurring monitors of p that run in role: the
// Promoted ones for Promoted, the role-less and Started ones otherwise,
// and the Unpromoted ones too for Unpromoted.
func monitors(p *cib.Primitive, role string) []cib.Op {
	var out []cib.Op
	for _, op := range p.Ops {
		if op.Name != "monitor" || op.Interval <= 0 {
			continue
		}
		var runs bool
		switch op.Role {
		case "", cib.RoleStarted:
			runs = role != cib.RolePromoted
		default:
			runs = op.Role == role
		}
		if runs {
			out = append(out, op)
		}
	}
	return out
}

// op returns one operation record: the last non-recurring operation
// (interval 0) or a recurring one, with the exit code rc it was expected
// to and did return.
func (h *history) op(p *cib.Primitive, task string, interval time.Duration, rc int, timeout time.Duration) xLRMOp {
	h.callID++
	ms := interval.Milliseconds()
	id := fmt.Sprintf("%s_%s_%d", p.ID, task, ms)
	if ms == 0 {
		id = p.ID + "_last_0"
	}
	key := fmt.Sprintf("%d:0:%d:%s", h.callID, rc, transitionUUID)
	params := maps.Clone(p.Params)
	if ms > 0 {
		if params == nil {
			params = map[string]string{}
		}
		if timeout <= 0 {
			timeout = defaultOpTimeout
		}
		params["CRM_meta_timeout"] = strconv.FormatInt(timeout.Milliseconds(), 10)
	}
	return xLRMOp{
		ID: id, OperationKey: fmt.Sprintf("%s_%s_%d", p.ID, task, ms), Operation: task,
		TransitionKey: key, TransitionMagic: fmt.Sprintf("0:%d;%s", rc, key),
		CallID: h.callID, RCCode: rc, Interval: ms, LastRCChange: h.when,
		OpDigest: opDigest(params),
	}
}

// opDigest is Pacemaker's digest of an operation's parameters
// (calculate_operation_digest): the MD5 of " <parameters NAME="VALUE".../>\n",
// attributes sorted by name, values escaped as crm_xml_escape does.
// Recurring operations include CRM_meta_timeout among the parameters.
func opDigest(params map[string]string) string {
	var b strings.Builder
	b.WriteString(" <parameters")
	for _, k := range slices.Sorted(maps.Keys(params)) {
		b.WriteString(" " + k + "=\"" + pcmkEscape(params[k]) + "\"")
	}
	b.WriteString("/>\n")
	sum := md5.Sum([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// pcmkEscape escapes an attribute value as Pacemaker 2.1's crm_xml_escape,
// quirks included: it stops escaping at the first pair of non-ASCII bytes,
// and writes other bytes outside printable ASCII as a backslash and the
// octal of the signed char.
func pcmkEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c&0x80 != 0 && i+1 < len(s) && s[i+1]&0x80 != 0 {
			b.WriteString(s[i:])
			break
		}
		switch c {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		case '&':
			b.WriteString("&amp;")
		case '\t':
			b.WriteString("    ")
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if c < ' ' || c > '~' {
				fmt.Fprintf(&b, "\\%.3o", uint32(int32(int8(c))))
			} else {
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}
