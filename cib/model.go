package cib

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is the whole cluster configuration: what raft replicates. A Config
// held by the store is never modified; a change builds a new one (Apply).
type Config struct {
	// Epoch grows by one with every applied change.
	Epoch uint64 `json:"epoch" yaml:"epoch"`
	// LastChange says which command made this epoch, from where and when.
	LastChange *Change `json:"last-change,omitempty" yaml:"last-change,omitempty"`
	// Properties are cluster options (no-quorum-policy, stonith-enabled, ...);
	// see PropertyDefs for the known names, their types and defaults.
	Properties map[string]string `json:"properties,omitempty" yaml:"properties,omitempty"`
	// ResourceDefaults are meta attributes every resource inherits unless it
	// sets its own (Pacemaker's rsc_defaults), e.g. resource-stickiness.
	ResourceDefaults map[string]string `json:"resource-defaults,omitempty" yaml:"resource-defaults,omitempty"`
	Nodes            []Node            `json:"nodes,omitempty" yaml:"nodes,omitempty"`
	Primitives       []Primitive       `json:"primitives,omitempty" yaml:"primitives,omitempty"`
	Groups           []Group           `json:"groups,omitempty" yaml:"groups,omitempty"`
	Clones           []Clone           `json:"clones,omitempty" yaml:"clones,omitempty"`
	Constraints      Constraints       `json:"constraints,omitzero" yaml:"constraints,omitempty"`
	FenceDevices     []FenceDevice     `json:"fence-devices,omitempty" yaml:"fence-devices,omitempty"`
	FenceLevels      []FenceLevel      `json:"fence-levels,omitempty" yaml:"fence-levels,omitempty"`
	// Alerts are external programs run on cluster events ("Pacemaker
	// Explained", Alerts).
	Alerts []Alert `json:"alerts,omitempty" yaml:"alerts,omitempty"`
	// AgentAttributes are cluster-wide name=value pairs that resource
	// agents keep (Pacemaker's crm_config attributes outside the cluster
	// options, written by `crm_attribute --type crm_config`, e.g. Debian's
	// redis agent's REPL_INFO). Paceline does not interpret them.
	AgentAttributes map[string]string `json:"agent-attributes,omitempty" yaml:"agent-attributes,omitempty"`
}

// Change records the command that produced an epoch.
type Change struct {
	Time    time.Time `json:"time" yaml:"time"`
	Origin  string    `json:"origin,omitempty" yaml:"origin,omitempty"`
	Command string    `json:"command" yaml:"command"`
}

// Node is a cluster node's permanent configuration.
type Node struct {
	Name string `json:"name" yaml:"name"`
	// Votes is the node's quorum votes; 0 means the default, 1.
	Votes       int               `json:"votes,omitempty" yaml:"votes,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty" yaml:"attributes,omitempty"`
	Utilization map[string]int64  `json:"utilization,omitempty" yaml:"utilization,omitempty"`
	Standby     bool              `json:"standby,omitempty" yaml:"standby,omitempty"`
	Maintenance bool              `json:"maintenance,omitempty" yaml:"maintenance,omitempty"`
}

// VoteCount returns the node's votes, applying the default of 1.
func (n *Node) VoteCount() int {
	if n.Votes == 0 {
		return 1
	}
	return n.Votes
}

// Primitive is a single resource run by one agent.
type Primitive struct {
	ID string `json:"id" yaml:"id"`
	// Agent is "class:provider:type" for ocf, "class:type" otherwise
	// (lsb:nginx, systemd:redis-server); see ParseAgent.
	Agent       string            `json:"agent" yaml:"agent"`
	Params      map[string]string `json:"params,omitempty" yaml:"params,omitempty"`
	Meta        map[string]string `json:"meta,omitempty" yaml:"meta,omitempty"`
	Ops         []Op              `json:"ops,omitempty" yaml:"ops,omitempty"`
	Utilization map[string]int64  `json:"utilization,omitempty" yaml:"utilization,omitempty"`
}

// Op configures one operation of a primitive: a recurring monitor, or the
// timeout and failure handling of start, stop, promote, ...
type Op struct {
	Name     string   `json:"name" yaml:"name"`
	Interval Duration `json:"interval,omitzero" yaml:"interval,omitempty"`
	Timeout  Duration `json:"timeout,omitzero" yaml:"timeout,omitempty"`
	// Role limits a monitor to instances in that role (Promoted, Unpromoted).
	Role string `json:"role,omitempty" yaml:"role,omitempty"`
	// OnFail is what to do when the op fails: ignore, block, stop, restart,
	// standby, fence or demote; empty means Pacemaker's default for the op.
	OnFail string `json:"on-fail,omitempty" yaml:"on-fail,omitempty"`
	// CheckLevel is a monitor's depth (Pacemaker's OCF_CHECK_LEVEL: 0, 10,
	// 20, ...), passed to the agent as OCF_CHECK_LEVEL.
	CheckLevel int `json:"check-level,omitempty" yaml:"check-level,omitempty"`
}

// Group is an ordered list of primitives that run together on one node,
// started in order and stopped in reverse.
type Group struct {
	ID      string            `json:"id" yaml:"id"`
	Members []string          `json:"members" yaml:"members"`
	Meta    map[string]string `json:"meta,omitempty" yaml:"meta,omitempty"`
}

// Clone runs copies of a primitive or group on several nodes; a promotable
// clone also has a promoted role (clone-max, promoted-max, ... in Meta).
type Clone struct {
	ID string `json:"id" yaml:"id"`
	// Rsc is the id of the cloned primitive or group.
	Rsc        string            `json:"rsc" yaml:"rsc"`
	Promotable bool              `json:"promotable,omitempty" yaml:"promotable,omitempty"`
	Meta       map[string]string `json:"meta,omitempty" yaml:"meta,omitempty"`
}

// Constraints holds the three kinds of placement and ordering constraints.
type Constraints struct {
	Location   []Location   `json:"location,omitempty" yaml:"location,omitempty"`
	Colocation []Colocation `json:"colocation,omitempty" yaml:"colocation,omitempty"`
	Order      []Order      `json:"order,omitempty" yaml:"order,omitempty"`
}

// IsZero reports whether there are no constraints.
func (c Constraints) IsZero() bool {
	return len(c.Location) == 0 && len(c.Colocation) == 0 && len(c.Order) == 0
}

// Location scores a resource on a node, or on every node matching a rule.
type Location struct {
	ID  string `json:"id" yaml:"id"`
	Rsc string `json:"rsc" yaml:"rsc"`
	// Node names the node; empty when Rule is set.
	Node string `json:"node,omitempty" yaml:"node,omitempty"`
	// Score is added where the constraint applies; it defaults to INFINITY.
	Score Score `json:"score" yaml:"score"`
	// ScoreAttribute, with a rule, takes the score from this node attribute
	// (e.g. pingd) instead of Score.
	ScoreAttribute string `json:"score-attribute,omitempty" yaml:"score-attribute,omitempty"`
	// Rule is an expression on node attributes, e.g.
	// "not_defined pingd or pingd lt 1"; see ParseRule.
	Rule string `json:"rule,omitempty" yaml:"rule,omitempty"`
	// Role limits the constraint to instances in that role.
	Role string `json:"role,omitempty" yaml:"role,omitempty"`
}

// Colocation places Rsc relative to WithRsc: a positive score together, a
// negative one apart; ±INFINITY is mandatory. Score defaults to INFINITY.
type Colocation struct {
	ID          string `json:"id" yaml:"id"`
	Rsc         string `json:"rsc" yaml:"rsc"`
	WithRsc     string `json:"with-rsc" yaml:"with-rsc"`
	Score       Score  `json:"score" yaml:"score"`
	RscRole     string `json:"rsc-role,omitempty" yaml:"rsc-role,omitempty"`
	WithRscRole string `json:"with-rsc-role,omitempty" yaml:"with-rsc-role,omitempty"`
}

// Order runs ThenAction of Then after FirstAction of First. Kind is
// mandatory (default), optional or serialize; a symmetrical order also
// stops in reverse.
type Order struct {
	ID          string `json:"id" yaml:"id"`
	First       string `json:"first" yaml:"first"`
	FirstAction string `json:"first-action" yaml:"first-action"`
	Then        string `json:"then" yaml:"then"`
	ThenAction  string `json:"then-action" yaml:"then-action"`
	Kind        string `json:"kind" yaml:"kind"`
	Symmetrical bool   `json:"symmetrical" yaml:"symmetrical"`
}

// FenceDevice is a STONITH device (modelled; the fencing issue runs it).
type FenceDevice struct {
	ID string `json:"id" yaml:"id"`
	// Agent is a fence agent name such as fence_ipmilan or a built-in
	// (fence_paceline_exec).
	Agent  string            `json:"agent" yaml:"agent"`
	Params map[string]string `json:"params,omitempty" yaml:"params,omitempty"`
	Meta   map[string]string `json:"meta,omitempty" yaml:"meta,omitempty"`
}

// FenceLevel is one level of a node's fencing topology: levels are tried by
// Index, and every device of a level must succeed.
type FenceLevel struct {
	Target  string   `json:"target" yaml:"target"`
	Index   int      `json:"index" yaml:"index"`
	Devices []string `json:"devices" yaml:"devices"`
}

// Alert is an alert agent: an executable the cluster runs, once per
// recipient, on the events it selects, with the event in CRM_alert_*
// environment variables ("Pacemaker Explained", Alerts; the alerts
// package runs it).
type Alert struct {
	ID string `json:"id" yaml:"id"`
	// Path is the absolute path of the executable.
	Path        string `json:"path" yaml:"path"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	// Params are instance attributes: passed to the agent as environment
	// variables of the same names.
	Params map[string]string `json:"params,omitempty" yaml:"params,omitempty"`
	// Meta are timeout (default 30s), timestamp-format (default
	// %H:%M:%S.%06N) and enabled (default true); see AlertMetaDefs.
	Meta map[string]string `json:"meta,omitempty" yaml:"meta,omitempty"`
	// Select lists the kinds of event the alert receives: nodes,
	// resources, fencing, attributes. Empty means nodes, fencing and
	// resources (Pacemaker's default: attributes only when selected).
	Select []string `json:"select,omitempty" yaml:"select,omitempty"`
	// SelectAttributes, with attributes selected, limits attribute events
	// to these attribute names (empty: every attribute).
	SelectAttributes []string    `json:"select-attributes,omitempty" yaml:"select-attributes,omitempty"`
	Recipients       []Recipient `json:"recipients,omitempty" yaml:"recipients,omitempty"`
}

// Recipient is one recipient of an alert: the agent runs once per
// recipient with CRM_alert_recipient set to Value. Its params and meta
// override the alert's.
type Recipient struct {
	ID string `json:"id" yaml:"id"`
	// Value is whatever the agent understands: an address, a file name...
	Value       string            `json:"value" yaml:"value"`
	Description string            `json:"description,omitempty" yaml:"description,omitempty"`
	Params      map[string]string `json:"params,omitempty" yaml:"params,omitempty"`
	Meta        map[string]string `json:"meta,omitempty" yaml:"meta,omitempty"`
}

// Agent is a parsed resource agent reference.
type Agent struct {
	Class    string // ocf, lsb, systemd, service
	Provider string // ocf only: heartbeat, pacemaker, paceline, ...
	Type     string
}

// String returns the colon form, e.g. ocf:heartbeat:IPaddr2.
func (a Agent) String() string {
	if a.Provider != "" {
		return a.Class + ":" + a.Provider + ":" + a.Type
	}
	return a.Class + ":" + a.Type
}

// AgentClasses lists the resource classes Paceline runs.
var agentClasses = []string{"ocf", "lsb", "systemd", "service"}

// ParseAgent reads "ocf:provider:type" or "class:type".
func ParseAgent(s string) (Agent, error) {
	parts := strings.Split(s, ":")
	bad := func(why string) (Agent, error) {
		return Agent{}, fmt.Errorf("bad agent %q: %s", s, why)
	}
	if len(parts) < 2 || len(parts) > 3 {
		return bad("want class:provider:type (ocf) or class:type (lsb, systemd, service)")
	}
	for _, p := range parts {
		if p == "" || strings.ContainsAny(p, "/ \t\n\x00") || p == "." || p == ".." {
			return bad("empty or unsafe part")
		}
	}
	a := Agent{Class: parts[0]}
	if !slices.Contains(agentClasses, a.Class) {
		return bad("unknown class " + a.Class + " (want ocf, lsb, systemd or service)")
	}
	if a.Class == "ocf" {
		if len(parts) != 3 {
			return bad("ocf agents need a provider: ocf:provider:type")
		}
		a.Provider, a.Type = parts[1], parts[2]
		return a, nil
	}
	if len(parts) != 2 {
		return bad(a.Class + " agents have no provider: " + a.Class + ":type")
	}
	a.Type = parts[1]
	return a, nil
}

// Clone returns a deep copy.
func (c *Config) Clone() *Config {
	n := &Config{
		Epoch:            c.Epoch,
		Properties:       maps.Clone(c.Properties),
		ResourceDefaults: maps.Clone(c.ResourceDefaults),
		Nodes:            slices.Clone(c.Nodes),
		Primitives:       slices.Clone(c.Primitives),
		Groups:           slices.Clone(c.Groups),
		Clones:           slices.Clone(c.Clones),
		Constraints: Constraints{
			Location:   slices.Clone(c.Constraints.Location),
			Colocation: slices.Clone(c.Constraints.Colocation),
			Order:      slices.Clone(c.Constraints.Order),
		},
		FenceDevices: slices.Clone(c.FenceDevices),
		FenceLevels:  slices.Clone(c.FenceLevels),
		Alerts:       cloneAlerts(c.Alerts),

		AgentAttributes: maps.Clone(c.AgentAttributes),
	}
	if c.LastChange != nil {
		lc := *c.LastChange
		n.LastChange = &lc
	}
	for i := range n.Nodes {
		n.Nodes[i].Attributes = maps.Clone(n.Nodes[i].Attributes)
		n.Nodes[i].Utilization = maps.Clone(n.Nodes[i].Utilization)
	}
	for i := range n.Primitives {
		p := &n.Primitives[i]
		p.Params, p.Meta, p.Utilization = maps.Clone(p.Params), maps.Clone(p.Meta), maps.Clone(p.Utilization)
		p.Ops = slices.Clone(p.Ops)
	}
	for i := range n.Groups {
		n.Groups[i].Members = slices.Clone(n.Groups[i].Members)
		n.Groups[i].Meta = maps.Clone(n.Groups[i].Meta)
	}
	for i := range n.Clones {
		n.Clones[i].Meta = maps.Clone(n.Clones[i].Meta)
	}
	for i := range n.FenceDevices {
		n.FenceDevices[i].Params = maps.Clone(n.FenceDevices[i].Params)
		n.FenceDevices[i].Meta = maps.Clone(n.FenceDevices[i].Meta)
	}
	for i := range n.FenceLevels {
		n.FenceLevels[i].Devices = slices.Clone(n.FenceLevels[i].Devices)
	}
	return n
}

// ResourceKind says what an id names.
type ResourceKind string

// The kinds of resource.
const (
	KindPrimitive ResourceKind = "primitive"
	KindGroup     ResourceKind = "group"
	KindClone     ResourceKind = "clone"
)

// Primitive returns the primitive with this id, or nil.
func (c *Config) Primitive(id string) *Primitive {
	for i := range c.Primitives {
		if c.Primitives[i].ID == id {
			return &c.Primitives[i]
		}
	}
	return nil
}

// Group returns the group with this id, or nil.
func (c *Config) Group(id string) *Group {
	for i := range c.Groups {
		if c.Groups[i].ID == id {
			return &c.Groups[i]
		}
	}
	return nil
}

// CloneByID returns the clone with this id, or nil.
func (c *Config) CloneByID(id string) *Clone {
	for i := range c.Clones {
		if c.Clones[i].ID == id {
			return &c.Clones[i]
		}
	}
	return nil
}

// Node returns the node with this name, or nil.
func (c *Config) Node(name string) *Node {
	for i := range c.Nodes {
		if c.Nodes[i].Name == name {
			return &c.Nodes[i]
		}
	}
	return nil
}

// ResourceKindOf says whether id is a primitive, group or clone ("" if none).
func (c *Config) ResourceKindOf(id string) ResourceKind {
	switch {
	case c.Primitive(id) != nil:
		return KindPrimitive
	case c.Group(id) != nil:
		return KindGroup
	case c.CloneByID(id) != nil:
		return KindClone
	}
	return ""
}

// PrimitivesOf lists the primitives a resource id stands for: a
// primitive itself, a group's members, the primitives a clone clones
// (directly or through a group). Unknown ids give none.
func (c *Config) PrimitivesOf(id string) []string {
	switch {
	case c.Primitive(id) != nil:
		return []string{id}
	case c.Group(id) != nil:
		return slices.Clone(c.Group(id).Members)
	case c.CloneByID(id) != nil:
		return c.PrimitivesOf(c.CloneByID(id).Rsc)
	}
	return nil
}

// GroupOf returns the group a primitive belongs to, or nil.
func (c *Config) GroupOf(primitive string) *Group {
	for i := range c.Groups {
		if slices.Contains(c.Groups[i].Members, primitive) {
			return &c.Groups[i]
		}
	}
	return nil
}

// CloneOf returns the clone wrapping a primitive or group, or nil.
func (c *Config) CloneOf(id string) *Clone {
	for i := range c.Clones {
		if c.Clones[i].Rsc == id {
			return &c.Clones[i]
		}
	}
	return nil
}

// ConstraintsOf lists the ids of constraints that name resource id.
func (c *Config) ConstraintsOf(id string) []string {
	var out []string
	for _, l := range c.Constraints.Location {
		if l.Rsc == id {
			out = append(out, l.ID)
		}
	}
	for _, l := range c.Constraints.Colocation {
		if l.Rsc == id || l.WithRsc == id {
			out = append(out, l.ID)
		}
	}
	for _, o := range c.Constraints.Order {
		if o.First == id || o.Then == id {
			out = append(out, o.ID)
		}
	}
	return out
}

// UtilizationStrings renders utilization values as decimal strings, as
// Pacemaker's nvpairs carry them (nil for none).
func UtilizationStrings(m map[string]int64) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = strconv.FormatInt(v, 10)
	}
	return out
}
