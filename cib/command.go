package cib

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// CommandType is the stable type byte of a command in the raft log. Numbers
// are never reused; a type with the Ignorable bit may be skipped by a node
// that does not know it (for additive, optional changes only).
type CommandType uint8

// Ignorable marks command types that an older node may skip.
const Ignorable CommandType = 0x80

// The command types. Append only; never renumber.
const (
	TypeReplaceConfig       CommandType = 1
	TypeCreatePrimitive     CommandType = 2
	TypeUpdateResource      CommandType = 3
	TypeDeleteResource      CommandType = 4
	TypeGroupAdd            CommandType = 5
	TypeGroupRemove         CommandType = 6
	TypeCreateClone         CommandType = 7
	TypeUnclone             CommandType = 8
	TypeAddConstraint       CommandType = 9
	TypeDeleteConstraint    CommandType = 10
	TypeSetProperties       CommandType = 11
	TypeSetResourceDefaults CommandType = 12
	TypeUpdateNode          CommandType = 13
	TypeRegisterNode        CommandType = 14
	TypeCLIConstraints      CommandType = 15
	TypeCreateAlert         CommandType = 16
	TypeUpdateAlert         CommandType = 17
	TypeDeleteAlert         CommandType = 18
	TypeAddRecipient        CommandType = 19
	TypeUpdateRecipient     CommandType = 20
	TypeRemoveRecipient     CommandType = 21
	TypeCreateFenceDevice   CommandType = 22
	TypeUpdateFenceDevice   CommandType = 23
	TypeDeleteFenceDevice   CommandType = 24
	TypeAddFenceLevel       CommandType = 25
	TypeDeleteFenceLevel    CommandType = 26
	TypeSetAgentAttributes  CommandType = 27
)

// Command is one typed change of the configuration. Apply changes c, a
// private copy, and may return notes for the operator (e.g. constraints
// removed with a resource). It must be deterministic: no clock, no
// randomness, no I/O.
type Command interface {
	Type() CommandType
	Apply(c *Config) (notes []string, err error)
}

// commandInfo is one row of the command table: its name, the newest payload
// version this build writes and reads, and a constructor.
type commandInfo struct {
	name    string
	version uint8
	new     func() Command
}

var commandTable = map[CommandType]commandInfo{
	TypeReplaceConfig:       {"ReplaceConfig", 1, func() Command { return &ReplaceConfig{} }},
	TypeCreatePrimitive:     {"CreatePrimitive", 1, func() Command { return &CreatePrimitive{} }},
	TypeUpdateResource:      {"UpdateResource", 1, func() Command { return &UpdateResource{} }},
	TypeDeleteResource:      {"DeleteResource", 1, func() Command { return &DeleteResource{} }},
	TypeGroupAdd:            {"GroupAdd", 1, func() Command { return &GroupAdd{} }},
	TypeGroupRemove:         {"GroupRemove", 1, func() Command { return &GroupRemove{} }},
	TypeCreateClone:         {"CreateClone", 1, func() Command { return &CreateClone{} }},
	TypeUnclone:             {"Unclone", 1, func() Command { return &Unclone{} }},
	TypeAddConstraint:       {"AddConstraint", 1, func() Command { return &AddConstraint{} }},
	TypeDeleteConstraint:    {"DeleteConstraint", 1, func() Command { return &DeleteConstraint{} }},
	TypeSetProperties:       {"SetProperties", 1, func() Command { return &SetProperties{} }},
	TypeSetResourceDefaults: {"SetResourceDefaults", 1, func() Command { return &SetResourceDefaults{} }},
	TypeUpdateNode:          {"UpdateNode", 1, func() Command { return &UpdateNode{} }},
	TypeRegisterNode:        {"RegisterNode", 1, func() Command { return &RegisterNode{} }},
	TypeCLIConstraints:      {"CLIConstraints", 2, func() Command { return &CLIConstraints{} }},
	TypeCreateAlert:         {"CreateAlert", 1, func() Command { return &CreateAlert{} }},
	TypeUpdateAlert:         {"UpdateAlert", 1, func() Command { return &UpdateAlert{} }},
	TypeDeleteAlert:         {"DeleteAlert", 1, func() Command { return &DeleteAlert{} }},
	TypeAddRecipient:        {"AddRecipient", 1, func() Command { return &AddRecipient{} }},
	TypeUpdateRecipient:     {"UpdateRecipient", 1, func() Command { return &UpdateRecipient{} }},
	TypeRemoveRecipient:     {"RemoveRecipient", 1, func() Command { return &RemoveRecipient{} }},
	TypeCreateFenceDevice:   {"CreateFenceDevice", 1, func() Command { return &CreateFenceDevice{} }},
	TypeUpdateFenceDevice:   {"UpdateFenceDevice", 1, func() Command { return &UpdateFenceDevice{} }},
	TypeDeleteFenceDevice:   {"DeleteFenceDevice", 1, func() Command { return &DeleteFenceDevice{} }},
	TypeAddFenceLevel:       {"AddFenceLevel", 1, func() Command { return &AddFenceLevel{} }},
	TypeDeleteFenceLevel:    {"DeleteFenceLevel", 1, func() Command { return &DeleteFenceLevel{} }},
	TypeSetAgentAttributes:  {"SetAgentAttributes", 1, func() Command { return &SetAgentAttributes{} }},
}

// String names the command type.
func (t CommandType) String() string {
	if ci, ok := commandTable[t]; ok {
		return ci.name
	}
	return fmt.Sprintf("CommandType(%d)", uint8(t))
}

// CommandByName returns an empty command of the named type ("CreatePrimitive").
func CommandByName(name string) (Command, error) {
	for _, ci := range commandTable {
		if ci.name == name {
			return ci.new(), nil
		}
	}
	return nil, fmt.Errorf("unknown command %q", name)
}

// Envelope is a command as it travels through raft: who proposed it, when
// (the proposer's clock: Apply itself never reads a clock), and the command.
type Envelope struct {
	Origin string    `json:"origin,omitempty"`
	Time   time.Time `json:"time"`
	Cmd    Command   `json:"-"`
}

type wireEnvelope struct {
	Origin string          `json:"origin,omitempty"`
	Time   time.Time       `json:"time"`
	Cmd    json.RawMessage `json:"cmd"`
}

// Errors of DecodeCommand.
var (
	// ErrUnknownCommand: a type byte this build does not know and may not skip.
	ErrUnknownCommand = errors.New("unknown command type")
	// ErrIgnorableCommand: an unknown type with the Ignorable bit set.
	ErrIgnorableCommand = errors.New("unknown ignorable command type")
)

// EncodeCommand writes an envelope as [type][version][JSON].
func EncodeCommand(e Envelope) ([]byte, error) {
	if e.Cmd == nil {
		return nil, errors.New("encode command: no command")
	}
	t := e.Cmd.Type()
	ci, ok := commandTable[t]
	if !ok {
		return nil, fmt.Errorf("encode command: %w %d", ErrUnknownCommand, t)
	}
	body, err := json.Marshal(e.Cmd)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", ci.name, err)
	}
	payload, err := json.Marshal(wireEnvelope{Origin: e.Origin, Time: e.Time, Cmd: body})
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", ci.name, err)
	}
	return append([]byte{byte(t), ci.version}, payload...), nil
}

// DecodeCommand reads what EncodeCommand wrote. Unknown types give
// ErrUnknownCommand (or ErrIgnorableCommand), newer payload versions and
// malformed payloads an error: the caller must not skip such an entry.
func DecodeCommand(b []byte) (Envelope, error) {
	if len(b) < 2 {
		return Envelope{}, fmt.Errorf("decode command: %d bytes, want at least 2", len(b))
	}
	t, v := CommandType(b[0]), b[1]
	ci, ok := commandTable[t]
	if !ok {
		if t&Ignorable != 0 {
			return Envelope{}, fmt.Errorf("decode command: %w %d", ErrIgnorableCommand, t)
		}
		return Envelope{}, fmt.Errorf("decode command: %w %d", ErrUnknownCommand, t)
	}
	if v == 0 || v > ci.version {
		return Envelope{}, fmt.Errorf("decode %s: payload version %d, this build reads up to %d", ci.name, v, ci.version)
	}
	var w wireEnvelope
	if err := json.Unmarshal(b[2:], &w); err != nil {
		return Envelope{}, fmt.Errorf("decode %s: %w", ci.name, err)
	}
	cmd := ci.new()
	if len(w.Cmd) == 0 || string(w.Cmd) == "null" {
		return Envelope{}, fmt.Errorf("decode %s: no payload", ci.name)
	}
	if err := json.Unmarshal(w.Cmd, cmd); err != nil {
		return Envelope{}, fmt.Errorf("decode %s: %w", ci.name, err)
	}
	return Envelope{Origin: w.Origin, Time: w.Time, Cmd: cmd}, nil
}

// Apply returns the configuration that results from e, leaving c untouched:
// the command runs on a copy, the copy must validate, and only then does the
// epoch grow by one. On error nothing of the command is applied.
func (c *Config) Apply(e Envelope) (*Config, []string, error) {
	if e.Cmd == nil {
		return nil, nil, errors.New("apply: no command")
	}
	next := c.Clone()
	notes, err := e.Cmd.Apply(next)
	if err != nil {
		return nil, nil, err
	}
	next.Normalize() // legacy role names etc.: the stored form is canonical
	if err := next.Validate(); err != nil {
		return nil, nil, err
	}
	next.Epoch = c.Epoch + 1
	next.LastChange = &Change{Time: e.Time.UTC(), Origin: e.Origin, Command: e.Cmd.Type().String()}
	return next, notes, nil
}

// Patch sets and unsets keys of a string map.
type Patch struct {
	Set   map[string]string `json:"set,omitempty"`
	Unset []string          `json:"unset,omitempty"`
}

// IsZero reports whether the patch changes nothing.
func (p Patch) IsZero() bool { return len(p.Set) == 0 && len(p.Unset) == 0 }

func (p Patch) apply(m map[string]string) map[string]string {
	if m == nil && len(p.Set) > 0 {
		m = map[string]string{}
	}
	maps.Copy(m, p.Set)
	for _, k := range p.Unset {
		delete(m, k)
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// ReplaceConfig replaces the whole configuration (import). The epoch and
// last-change of the replacement are ignored: the store sets them. Nodes
// are merged: those in the replacement replace the current entries of the
// same name, and registered nodes it does not list are kept (they are
// cluster members, which an import of resources must not drop).
type ReplaceConfig struct {
	Config *Config `json:"config"`
}

func (*ReplaceConfig) Type() CommandType { return TypeReplaceConfig }

func (r *ReplaceConfig) Apply(c *Config) ([]string, error) {
	if r.Config == nil {
		return nil, errors.New("replace config: no configuration")
	}
	n := r.Config.Clone()
	n.Epoch, n.LastChange = c.Epoch, c.LastChange
	for _, old := range c.Nodes {
		if n.Node(old.Name) == nil {
			n.Nodes = append(n.Nodes, old)
		}
	}
	*c = *n
	return nil, nil
}

// Placement puts a primitive into a group, at the end or before/after a
// member.
type Placement struct {
	Group  string `json:"group,omitempty"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// CreatePrimitive adds a primitive, optionally into a group (created if it
// does not exist yet) or wrapped in a clone — one change, validated as a
// whole, so a promotable primitive's Promoted-role ops are accepted.
type CreatePrimitive struct {
	Primitive Primitive `json:"primitive"`
	Placement Placement `json:"placement,omitzero"`
	// Clone, if set, clones the new primitive (its Rsc is ignored).
	Clone *CreateClone `json:"clone,omitempty"`
}

func (*CreatePrimitive) Type() CommandType { return TypeCreatePrimitive }

func (cp *CreatePrimitive) Apply(c *Config) ([]string, error) {
	id := cp.Primitive.ID
	if err := c.checkNewID(id); err != nil {
		return nil, err
	}
	p := cp.Primitive
	p.Params, p.Meta, p.Utilization = maps.Clone(p.Params), maps.Clone(p.Meta), maps.Clone(p.Utilization)
	p.Ops = slices.Clone(p.Ops)
	c.Primitives = append(c.Primitives, p)
	if cp.Clone != nil {
		if cp.Placement != (Placement{}) {
			return nil, fmt.Errorf("resource %q: a clone cannot be in a group", id)
		}
		cc := *cp.Clone
		cc.Rsc = id
		return cc.Apply(c)
	}
	if cp.Placement.Group == "" {
		if cp.Placement.Before != "" || cp.Placement.After != "" {
			return nil, fmt.Errorf("resource %q: before/after need a group", id)
		}
		return nil, nil
	}
	_, err := (&GroupAdd{Group: cp.Placement.Group, Members: []string{id},
		Before: cp.Placement.Before, After: cp.Placement.After}).Apply(c)
	return nil, err
}

// checkNewID refuses an id that any object already has.
func (c *Config) checkNewID(id string) error {
	if id == "" {
		return errors.New("an id is required")
	}
	if k := c.ResourceKindOf(id); k != "" {
		return fmt.Errorf("id %q is already used by a %s", id, k)
	}
	if c.constraintKind(id) != "" {
		return fmt.Errorf("id %q is already used by a %s constraint", id, c.constraintKind(id))
	}
	for _, f := range c.FenceDevices {
		if f.ID == id {
			return fmt.Errorf("id %q is already used by a fence device", id)
		}
	}
	if what := c.alertIDUser(id); what != "" {
		return fmt.Errorf("id %q is already used by %s", id, what)
	}
	return nil
}

func (c *Config) constraintKind(id string) string {
	for _, l := range c.Constraints.Location {
		if l.ID == id {
			return "location"
		}
	}
	for _, l := range c.Constraints.Colocation {
		if l.ID == id {
			return "colocation"
		}
	}
	for _, o := range c.Constraints.Order {
		if o.ID == id {
			return "order"
		}
	}
	return ""
}

// UpdateResource changes a resource in place: params, meta and utilization
// by patch (primitives only for params and utilization), ops replaced by
// name (every op of a named kind is replaced by the given ones), ops removed
// by name, ops added beside the others, and the agent.
type UpdateResource struct {
	ID          string   `json:"id"`
	Agent       string   `json:"agent,omitempty"`
	Params      Patch    `json:"params,omitzero"`
	Meta        Patch    `json:"meta,omitzero"`
	Utilization Patch    `json:"utilization,omitzero"`
	SetOps      []Op     `json:"set-ops,omitempty"`
	RemoveOps   []string `json:"remove-ops,omitempty"`
	AddOps      []Op     `json:"add-ops,omitempty"`
}

func (*UpdateResource) Type() CommandType { return TypeUpdateResource }

func (u *UpdateResource) Apply(c *Config) ([]string, error) {
	primitiveOnly := u.Agent != "" || !u.Params.IsZero() || !u.Utilization.IsZero() ||
		len(u.SetOps) > 0 || len(u.RemoveOps) > 0 || len(u.AddOps) > 0
	switch c.ResourceKindOf(u.ID) {
	case KindPrimitive:
		p := c.Primitive(u.ID)
		if u.Agent != "" {
			p.Agent = u.Agent
		}
		p.Params = u.Params.apply(p.Params)
		p.Meta = u.Meta.apply(p.Meta)
		util, err := patchInts(p.Utilization, u.Utilization)
		if err != nil {
			return nil, fmt.Errorf("resource %q: %w", u.ID, err)
		}
		p.Utilization = util
		for _, name := range u.RemoveOps {
			if !slices.ContainsFunc(p.Ops, func(o Op) bool { return o.Name == name }) {
				return nil, fmt.Errorf("resource %q: no %s op to remove", u.ID, name)
			}
			p.Ops = slices.DeleteFunc(p.Ops, func(o Op) bool { return o.Name == name })
		}
		replaced := map[string]bool{}
		for _, op := range u.SetOps {
			if !replaced[op.Name] {
				p.Ops = slices.DeleteFunc(p.Ops, func(o Op) bool { return o.Name == op.Name })
				replaced[op.Name] = true
			}
			p.Ops = append(p.Ops, op)
		}
		for _, op := range u.AddOps {
			if slices.Contains(p.Ops, op) {
				return nil, fmt.Errorf("resource %q: this %s op exists already", u.ID, op.Name)
			}
			p.Ops = append(p.Ops, op) // interval clashes are Validate's to name
		}
		if len(p.Ops) == 0 {
			p.Ops = nil
		}
	case KindGroup:
		if primitiveOnly {
			return nil, fmt.Errorf("group %q: only meta attributes can be updated on a group", u.ID)
		}
		g := c.Group(u.ID)
		g.Meta = u.Meta.apply(g.Meta)
	case KindClone:
		if primitiveOnly {
			return nil, fmt.Errorf("clone %q: only meta attributes can be updated on a clone", u.ID)
		}
		cl := c.CloneByID(u.ID)
		cl.Meta = u.Meta.apply(cl.Meta)
	default:
		return nil, fmt.Errorf("unknown resource %q", u.ID)
	}
	return nil, nil
}

func patchInts(m map[string]int64, p Patch) (map[string]int64, error) {
	if p.IsZero() {
		return m, nil
	}
	if m == nil {
		m = map[string]int64{}
	}
	for k, v := range p.Set {
		var n int64
		if _, err := fmt.Sscan(v, &n); err != nil || fmt.Sprint(n) != v {
			return nil, fmt.Errorf("utilization %q: %q is not an integer", k, v)
		}
		m[k] = n
	}
	for _, k := range p.Unset {
		delete(m, k)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// DeleteResource removes a primitive, group (with its members) or clone
// (with what it clones), and every constraint that names any of them, as
// pcs does. The notes list what else was removed.
type DeleteResource struct {
	ID string `json:"id"`
}

func (*DeleteResource) Type() CommandType { return TypeDeleteResource }

func (d *DeleteResource) Apply(c *Config) ([]string, error) {
	var gone []string
	switch c.ResourceKindOf(d.ID) {
	case KindPrimitive:
		gone = []string{d.ID}
	case KindGroup:
		gone = append([]string{d.ID}, c.Group(d.ID).Members...)
	case KindClone:
		inner := c.CloneByID(d.ID).Rsc
		gone = []string{d.ID, inner}
		if g := c.Group(inner); g != nil {
			gone = append(gone, g.Members...)
		}
	default:
		return nil, fmt.Errorf("unknown resource %q", d.ID)
	}
	var notes []string
	// A primitive leaving a group it does not own: the group shrinks, and an
	// emptied group goes too (with its clone, if cloned).
	if g := c.GroupOf(d.ID); g != nil && c.ResourceKindOf(d.ID) == KindPrimitive {
		g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return m == d.ID })
		if len(g.Members) == 0 {
			gone = append(gone, g.ID)
			notes = append(notes, fmt.Sprintf("removed empty group %q", g.ID))
			if cl := c.CloneOf(g.ID); cl != nil {
				gone = append(gone, cl.ID)
				notes = append(notes, fmt.Sprintf("removed clone %q of the empty group", cl.ID))
			}
		}
	}
	if cl := c.CloneOf(d.ID); cl != nil && c.ResourceKindOf(d.ID) != KindClone {
		gone = append(gone, cl.ID)
		notes = append(notes, fmt.Sprintf("removed clone %q", cl.ID))
	}
	for _, id := range gone[1:] {
		if c.ResourceKindOf(id) == KindPrimitive && id != d.ID {
			what := "member"
			if c.GroupOf(id) == nil {
				what = "cloned resource"
			}
			notes = append(notes, fmt.Sprintf("removed %s %q", what, id))
		}
	}
	notes = append(notes, c.removeResources(gone)...)
	return notes, nil
}

// removeResources deletes the named resources and the constraints naming
// them, returning a note per removed constraint.
func (c *Config) removeResources(ids []string) []string {
	has := func(id string) bool { return slices.Contains(ids, id) }
	var notes []string
	c.Primitives = slices.DeleteFunc(c.Primitives, func(p Primitive) bool { return has(p.ID) })
	c.Groups = slices.DeleteFunc(c.Groups, func(g Group) bool { return has(g.ID) })
	c.Clones = slices.DeleteFunc(c.Clones, func(cl Clone) bool { return has(cl.ID) })
	c.Constraints.Location = slices.DeleteFunc(c.Constraints.Location, func(l Location) bool {
		if has(l.Rsc) {
			notes = append(notes, fmt.Sprintf("removed location constraint %q", l.ID))
			return true
		}
		return false
	})
	c.Constraints.Colocation = slices.DeleteFunc(c.Constraints.Colocation, func(l Colocation) bool {
		if has(l.Rsc) || has(l.WithRsc) {
			notes = append(notes, fmt.Sprintf("removed colocation constraint %q", l.ID))
			return true
		}
		return false
	})
	c.Constraints.Order = slices.DeleteFunc(c.Constraints.Order, func(o Order) bool {
		if has(o.First) || has(o.Then) {
			notes = append(notes, fmt.Sprintf("removed order constraint %q", o.ID))
			return true
		}
		return false
	})
	return notes
}

// GroupAdd adds existing primitives to a group, creating the group if it
// does not exist; Before/After place them next to a member. A primitive
// already in another group is moved.
type GroupAdd struct {
	Group   string   `json:"group"`
	Members []string `json:"members"`
	Before  string   `json:"before,omitempty"`
	After   string   `json:"after,omitempty"`
}

func (*GroupAdd) Type() CommandType { return TypeGroupAdd }

func (ga *GroupAdd) Apply(c *Config) ([]string, error) {
	if len(ga.Members) == 0 {
		return nil, fmt.Errorf("group %q: no resources to add", ga.Group)
	}
	if ga.Before != "" && ga.After != "" {
		return nil, fmt.Errorf("group %q: give before or after, not both", ga.Group)
	}
	g := c.Group(ga.Group)
	var notes []string
	if g == nil {
		if err := c.checkNewID(ga.Group); err != nil {
			return nil, fmt.Errorf("group %q: %w", ga.Group, err)
		}
		c.Groups = append(c.Groups, Group{ID: ga.Group})
		g = &c.Groups[len(c.Groups)-1]
	}
	for _, m := range ga.Members {
		switch c.ResourceKindOf(m) {
		case KindPrimitive:
		case "":
			return nil, fmt.Errorf("group %q: unknown resource %q", ga.Group, m)
		default:
			return nil, fmt.Errorf("group %q: %q is a %s; a group holds primitives only", ga.Group, m, c.ResourceKindOf(m))
		}
		if slices.Contains(g.Members, m) && ga.Before == "" && ga.After == "" {
			return nil, fmt.Errorf("group %q: %q is already a member", ga.Group, m)
		}
		if cl := c.CloneOf(m); cl != nil {
			return nil, fmt.Errorf("group %q: %q is cloned by %q; a clone cannot be in a group", ga.Group, m, cl.ID)
		}
		if old := c.GroupOf(m); old != nil && old.ID != g.ID {
			old.Members = slices.DeleteFunc(old.Members, func(x string) bool { return x == m })
			notes = append(notes, fmt.Sprintf("moved %q out of group %q", m, old.ID))
			if len(old.Members) == 0 {
				ids := []string{old.ID}
				notes = append(notes, fmt.Sprintf("removed empty group %q", old.ID))
				if cl := c.CloneOf(old.ID); cl != nil {
					ids = append(ids, cl.ID)
					notes = append(notes, fmt.Sprintf("removed clone %q of the empty group", cl.ID))
				}
				notes = append(notes, c.removeResources(ids)...)
				g = c.Group(ga.Group) // the slice moved
			}
		}
	}
	g.Members = slices.DeleteFunc(g.Members, func(x string) bool { return slices.Contains(ga.Members, x) })
	at := len(g.Members)
	if ref := ga.Before + ga.After; ref != "" {
		i := slices.Index(g.Members, ref)
		if i < 0 {
			return nil, fmt.Errorf("group %q: %q is not a member", ga.Group, ref)
		}
		at = i
		if ga.After != "" {
			at = i + 1
		}
	}
	g.Members = slices.Insert(g.Members, at, ga.Members...)
	return notes, nil
}

// GroupRemove takes primitives out of a group (they stay as primitives); a
// group left empty is deleted.
type GroupRemove struct {
	Group   string   `json:"group"`
	Members []string `json:"members"`
}

func (*GroupRemove) Type() CommandType { return TypeGroupRemove }

func (gr *GroupRemove) Apply(c *Config) ([]string, error) {
	g := c.Group(gr.Group)
	if g == nil {
		return nil, fmt.Errorf("unknown group %q", gr.Group)
	}
	if len(gr.Members) == 0 {
		return nil, fmt.Errorf("group %q: no resources to remove", gr.Group)
	}
	for _, m := range gr.Members {
		if !slices.Contains(g.Members, m) {
			return nil, fmt.Errorf("group %q: %q is not a member", gr.Group, m)
		}
	}
	g.Members = slices.DeleteFunc(g.Members, func(x string) bool { return slices.Contains(gr.Members, x) })
	if len(g.Members) > 0 {
		return nil, nil
	}
	ids := []string{g.ID}
	notes := []string{fmt.Sprintf("removed empty group %q", g.ID)}
	if cl := c.CloneOf(g.ID); cl != nil {
		ids = append(ids, cl.ID)
		notes = append(notes, fmt.Sprintf("removed clone %q of the empty group", cl.ID))
	}
	return append(notes, c.removeResources(ids)...), nil
}

// CreateClone clones a primitive or group. ID defaults to RSC-clone.
type CreateClone struct {
	ID         string            `json:"id,omitempty"`
	Rsc        string            `json:"rsc"`
	Promotable bool              `json:"promotable,omitempty"`
	Meta       map[string]string `json:"meta,omitempty"`
}

func (*CreateClone) Type() CommandType { return TypeCreateClone }

func (cc *CreateClone) Apply(c *Config) ([]string, error) {
	id := cc.ID
	if id == "" {
		id = cc.Rsc + "-clone"
	}
	switch c.ResourceKindOf(cc.Rsc) {
	case KindPrimitive, KindGroup:
	case KindClone:
		return nil, fmt.Errorf("clone %q: %q is already a clone", id, cc.Rsc)
	default:
		return nil, fmt.Errorf("clone %q: unknown resource %q", id, cc.Rsc)
	}
	if g := c.GroupOf(cc.Rsc); g != nil {
		return nil, fmt.Errorf("clone %q: %q is in group %q; clone the group instead", id, cc.Rsc, g.ID)
	}
	if cl := c.CloneOf(cc.Rsc); cl != nil {
		return nil, fmt.Errorf("clone %q: %q is already cloned by %q", id, cc.Rsc, cl.ID)
	}
	if err := c.checkNewID(id); err != nil {
		return nil, fmt.Errorf("clone %q: %w", id, err)
	}
	c.Clones = append(c.Clones, Clone{ID: id, Rsc: cc.Rsc, Promotable: cc.Promotable, Meta: maps.Clone(cc.Meta)})
	return nil, nil
}

// Unclone removes a clone wrapper, keeping the primitive or group inside.
// Constraints on the clone are removed (they meant every instance).
type Unclone struct {
	ID string `json:"id"`
}

func (*Unclone) Type() CommandType { return TypeUnclone }

func (u *Unclone) Apply(c *Config) ([]string, error) {
	cl := c.CloneByID(u.ID)
	if cl == nil {
		cl = c.CloneOf(u.ID) // the inner resource's id works too, as in pcs
	}
	if cl == nil {
		return nil, fmt.Errorf("unknown clone %q", u.ID)
	}
	return c.removeResources([]string{cl.ID}), nil
}

// AddConstraint adds one constraint: exactly one of the three must be set.
type AddConstraint struct {
	Location   *Location   `json:"location,omitempty"`
	Colocation *Colocation `json:"colocation,omitempty"`
	Order      *Order      `json:"order,omitempty"`
}

func (*AddConstraint) Type() CommandType { return TypeAddConstraint }

func (a *AddConstraint) Apply(c *Config) ([]string, error) {
	n := 0
	for _, set := range []bool{a.Location != nil, a.Colocation != nil, a.Order != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, fmt.Errorf("add constraint: give exactly one of location, colocation, order (got %d)", n)
	}
	var id string
	switch {
	case a.Location != nil:
		id = a.Location.ID
		c.Constraints.Location = append(c.Constraints.Location, *a.Location)
	case a.Colocation != nil:
		id = a.Colocation.ID
		c.Constraints.Colocation = append(c.Constraints.Colocation, *a.Colocation)
	default:
		id = a.Order.ID
		c.Constraints.Order = append(c.Constraints.Order, *a.Order)
	}
	if id == "" {
		return nil, errors.New("add constraint: an id is required")
	}
	return nil, nil // duplicate ids are caught by Validate
}

// DeleteConstraint removes the constraint with this id, whatever its kind.
type DeleteConstraint struct {
	ID string `json:"id"`
}

func (*DeleteConstraint) Type() CommandType { return TypeDeleteConstraint }

func (d *DeleteConstraint) Apply(c *Config) ([]string, error) {
	n := len(c.Constraints.Location) + len(c.Constraints.Colocation) + len(c.Constraints.Order)
	c.Constraints.Location = slices.DeleteFunc(c.Constraints.Location, func(l Location) bool { return l.ID == d.ID })
	c.Constraints.Colocation = slices.DeleteFunc(c.Constraints.Colocation, func(l Colocation) bool { return l.ID == d.ID })
	c.Constraints.Order = slices.DeleteFunc(c.Constraints.Order, func(o Order) bool { return o.ID == d.ID })
	if n == len(c.Constraints.Location)+len(c.Constraints.Colocation)+len(c.Constraints.Order) {
		return nil, fmt.Errorf("unknown constraint %q", d.ID)
	}
	return nil, nil
}

// SetProperties sets and unsets cluster properties.
type SetProperties struct {
	Patch Patch `json:"patch"`
}

func (*SetProperties) Type() CommandType { return TypeSetProperties }

func (s *SetProperties) Apply(c *Config) ([]string, error) {
	if s.Patch.IsZero() {
		return nil, errors.New("set properties: nothing to change")
	}
	c.Properties = s.Patch.apply(c.Properties)
	return nil, nil
}

// SetAgentAttributes sets and unsets agents' cluster-wide attributes
// (crm_attribute --type crm_config).
type SetAgentAttributes struct {
	Patch Patch `json:"patch"`
}

func (*SetAgentAttributes) Type() CommandType { return TypeSetAgentAttributes }

func (s *SetAgentAttributes) Apply(c *Config) ([]string, error) {
	if s.Patch.IsZero() {
		return nil, errors.New("set agent attributes: nothing to change")
	}
	c.AgentAttributes = s.Patch.apply(c.AgentAttributes)
	return nil, nil
}

// SetResourceDefaults sets and unsets resource meta defaults.
type SetResourceDefaults struct {
	Patch Patch `json:"patch"`
}

func (*SetResourceDefaults) Type() CommandType { return TypeSetResourceDefaults }

func (s *SetResourceDefaults) Apply(c *Config) ([]string, error) {
	if s.Patch.IsZero() {
		return nil, errors.New("set resource defaults: nothing to change")
	}
	c.ResourceDefaults = s.Patch.apply(c.ResourceDefaults)
	return nil, nil
}

// UpdateNode changes a configured node's attributes, utilization, standby
// and maintenance flags, or votes. Nil flags are left alone.
type UpdateNode struct {
	Name        string `json:"name"`
	Attributes  Patch  `json:"attributes,omitzero"`
	Utilization Patch  `json:"utilization,omitzero"`
	Standby     *bool  `json:"standby,omitempty"`
	Maintenance *bool  `json:"maintenance,omitempty"`
	Votes       *int   `json:"votes,omitempty"`
}

func (*UpdateNode) Type() CommandType { return TypeUpdateNode }

func (u *UpdateNode) Apply(c *Config) ([]string, error) {
	n := c.Node(u.Name)
	if n == nil {
		return nil, fmt.Errorf("unknown node %q", u.Name)
	}
	n.Attributes = u.Attributes.apply(n.Attributes)
	util, err := patchInts(n.Utilization, u.Utilization)
	if err != nil {
		return nil, fmt.Errorf("node %q: %w", u.Name, err)
	}
	n.Utilization = util
	if u.Standby != nil {
		n.Standby = *u.Standby
	}
	if u.Maintenance != nil {
		n.Maintenance = *u.Maintenance
	}
	if u.Votes != nil {
		n.Votes = *u.Votes
	}
	return nil, nil
}

// RegisterNode adds a node to the configuration if it is not there yet; an
// agent proposes it for itself when it first joins. It is idempotent.
type RegisterNode struct {
	Name string `json:"name"`
}

func (*RegisterNode) Type() CommandType { return TypeRegisterNode }

func (r *RegisterNode) Apply(c *Config) ([]string, error) {
	if c.Node(r.Name) != nil {
		return nil, nil
	}
	c.Nodes = append(c.Nodes, Node{Name: r.Name})
	return nil, nil
}

// CLIConstraints sets or clears, in one change, the location constraints
// the operator commands make for a resource, named as pcs and
// crm_resource name them: `resource move RSC NODE` is cli-prefer-RSC
// (INFINITY on NODE, replacing an earlier move, and lifting a ban of
// NODE), `resource ban RSC NODE` is cli-ban-RSC-on-NODE (-INFINITY),
// `resource clear RSC` removes them all. With Promoted (payload version 2;
// RSC a promotable clone) the move or ban is of the promoted role only, as
// `pcs resource move --promoted`: the constraint has role Promoted.
type CLIConstraints struct {
	Rsc      string `json:"rsc"`
	Move     string `json:"move,omitempty"`
	Ban      string `json:"ban,omitempty"`
	Clear    bool   `json:"clear,omitempty"`
	Promoted bool   `json:"promoted,omitempty"`
}

func (*CLIConstraints) Type() CommandType { return TypeCLIConstraints }

// CLIPreferID and CLIBanID name the operator constraints of a resource.
func CLIPreferID(rsc string) string    { return "cli-prefer-" + rsc }
func CLIBanID(rsc, node string) string { return "cli-ban-" + rsc + "-on-" + node }

func (a *CLIConstraints) Apply(c *Config) ([]string, error) {
	n := 0
	for _, set := range []bool{a.Move != "", a.Ban != "", a.Clear} {
		if set {
			n++
		}
	}
	switch {
	case n != 1:
		return nil, fmt.Errorf("resource %q: give exactly one of move, ban, clear", a.Rsc)
	case c.ResourceKindOf(a.Rsc) == "":
		return nil, fmt.Errorf("unknown resource %q", a.Rsc)
	}
	for _, node := range []string{a.Move, a.Ban} {
		if node != "" && c.Node(node) == nil {
			return nil, fmt.Errorf("resource %q: unknown node %q", a.Rsc, node)
		}
	}
	role, what := "", ""
	if a.Promoted {
		switch cl := c.CloneByID(a.Rsc); {
		case a.Clear:
			return nil, fmt.Errorf("resource %q: clear removes every move and ban; it takes no promoted", a.Rsc)
		case cl == nil || !cl.Promotable:
			return nil, fmt.Errorf("resource %q: only the promoted role of a promotable clone can be moved or banned on its own (give the clone's id)", a.Rsc)
		}
		role, what = RolePromoted, " (its promoted role)"
	}
	var notes []string
	drop := func(keep func(l Location) bool) {
		c.Constraints.Location = slices.DeleteFunc(c.Constraints.Location, func(l Location) bool {
			if keep(l) {
				return false
			}
			notes = append(notes, "removed constraint "+l.ID)
			return true
		})
	}
	isCLI := func(l Location) bool {
		return l.ID == CLIPreferID(a.Rsc) || strings.HasPrefix(l.ID, "cli-ban-"+a.Rsc+"-on-")
	}
	switch {
	case a.Clear:
		drop(func(l Location) bool { return !isCLI(l) })
		if len(notes) == 0 {
			return nil, fmt.Errorf("resource %q has no move or ban to clear", a.Rsc)
		}
	case a.Move != "":
		drop(func(l Location) bool { return l.ID != CLIPreferID(a.Rsc) && l.ID != CLIBanID(a.Rsc, a.Move) })
		c.Constraints.Location = append(c.Constraints.Location, Location{ID: CLIPreferID(a.Rsc), Rsc: a.Rsc, Node: a.Move, Score: Infinity, Role: role})
		notes = append(notes, fmt.Sprintf("added constraint %s: %s%s prefers %s (INFINITY); `resource clear %s` removes it", CLIPreferID(a.Rsc), a.Rsc, what, a.Move, a.Rsc))
	default:
		id := CLIBanID(a.Rsc, a.Ban)
		if slices.ContainsFunc(c.Constraints.Location, func(l Location) bool { return l.ID == id }) {
			return nil, fmt.Errorf("resource %q is already banned from %s (%s)", a.Rsc, a.Ban, id)
		}
		c.Constraints.Location = append(c.Constraints.Location, Location{ID: id, Rsc: a.Rsc, Node: a.Ban, Score: -Infinity, Role: role})
		notes = append(notes, fmt.Sprintf("added constraint %s: %s%s avoids %s (-INFINITY); `resource clear %s` removes it", id, a.Rsc, what, a.Ban, a.Rsc))
	}
	return notes, nil
}
