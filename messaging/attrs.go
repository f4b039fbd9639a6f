package messaging

import (
	"encoding/json"
	"fmt"
	"maps"

	"github.com/hashicorp/memberlist"
)

// AttrValue is one transient attribute of a node.
type AttrValue struct {
	Value string `json:"v,omitempty"`
	// Version orders the owner's changes; higher wins.
	Version uint64 `json:"ver"`
	// Deleted marks a removed attribute (kept so a late older value cannot
	// bring it back).
	Deleted bool `json:"del,omitempty"`
}

// nodeAttrs are one node's attributes within one incarnation.
type nodeAttrs struct {
	Inc   uint64               `json:"inc"`
	Attrs map[string]AttrValue `json:"attrs"`
}

// attrUpdate is one gossiped change of one node's attribute.
type attrUpdate struct {
	Node string    `json:"n"`
	Inc  uint64    `json:"i"`
	Name string    `json:"k"`
	Val  AttrValue `json:"a"`
}

// First bytes of our gossip messages.
const (
	msgAttr  byte = 'a' // an attrUpdate
	msgLeave byte = 'l' // a member's name: it is leaving gracefully
)

// SetAttr sets a transient attribute of this node; every member sees it
// within a gossip round or two.
func (m *Membership) SetAttr(name, value string) error {
	return m.changeAttr(name, AttrValue{Value: value})
}

// DeleteAttr removes a transient attribute of this node.
func (m *Membership) DeleteAttr(name string) error {
	return m.changeAttr(name, AttrValue{Deleted: true})
}

func (m *Membership) changeAttr(name string, v AttrValue) error {
	if name == "" || len(name) > 128 {
		return fmt.Errorf("attribute name %q: want 1 to 128 characters", name)
	}
	if len(v.Value) > 1024 {
		return fmt.Errorf("attribute %q: value longer than 1024 bytes", name)
	}
	m.mu.Lock()
	m.ver++
	v.Version = m.ver
	own := m.attrs[m.opts.Name]
	own.Attrs[name] = v
	up := attrUpdate{Node: m.opts.Name, Inc: own.Inc, Name: name, Val: v}
	m.emit(EventAttrs, Member{Name: m.opts.Name})
	m.mu.Unlock()
	b, err := json.Marshal(up)
	if err != nil {
		return err
	}
	m.queue.QueueBroadcast(&attrBroadcast{key: m.opts.Name + "\x00" + name, msg: append([]byte{msgAttr}, b...)})
	return nil
}

// Attrs returns every node's live transient attributes: node -> name -> value.
func (m *Membership) Attrs() map[string]map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]map[string]string{}
	for node, na := range m.attrs {
		for k, v := range na.Attrs {
			if v.Deleted {
				continue
			}
			if out[node] == nil {
				out[node] = map[string]string{}
			}
			out[node][k] = v.Value
		}
	}
	return out
}

// mergeAttr applies one update if it is newer; m.mu must be held. It
// reports whether anything changed.
func (m *Membership) mergeAttr(u attrUpdate) bool {
	if u.Node == m.opts.Name {
		return false // only we write our own attributes
	}
	if why := attrProblem(u.Node, u.Name, u.Val); why != "" { // limits.go
		m.drop(why, "node", u.Node)
		return false
	}
	na := m.attrs[u.Node]
	switch {
	case na == nil && !m.trackable(u.Node, len(m.attrs)):
		m.drop("attributes of an unknown node: table full", "node", u.Node)
		return false
	case na != nil && u.Inc == na.Inc && len(na.Attrs) >= maxAttrsPerNode && !hasAttr(na, u.Name):
		m.drop("too many attributes for one node", "node", u.Node)
		return false
	case na == nil || u.Inc > na.Inc:
		na = &nodeAttrs{Inc: u.Inc, Attrs: map[string]AttrValue{}}
		m.attrs[u.Node] = na
	case u.Inc < na.Inc:
		return false // from an earlier life of that node
	}
	if old, ok := na.Attrs[u.Name]; ok && old.Version >= u.Val.Version {
		return false
	}
	na.Attrs[u.Name] = u.Val
	return true
}

// dropStaleAttrs forgets a node's attributes from before incarnation inc
// (the node restarted: its transient attributes are gone); m.mu held.
func (m *Membership) dropStaleAttrs(node string, inc uint64) {
	if na := m.attrs[node]; na != nil && node != m.opts.Name && inc > na.Inc {
		m.attrs[node] = &nodeAttrs{Inc: inc, Attrs: map[string]AttrValue{}}
	}
}

// hasAttr reports whether a node's table has the attribute already.
func hasAttr(na *nodeAttrs, name string) bool {
	_, ok := na.Attrs[name]
	return ok
}

type attrBroadcast struct {
	key string
	msg []byte
}

func (b *attrBroadcast) Invalidates(o memberlist.Broadcast) bool {
	ob, ok := o.(*attrBroadcast)
	return ok && ob.key == b.key // a newer change of the same attribute
}
func (b *attrBroadcast) Message() []byte { return b.msg }
func (b *attrBroadcast) Finished()       {}

// delegate implements memberlist.Delegate.
type delegate Membership

func (d *delegate) NodeMeta(limit int) []byte {
	b, _ := json.Marshal(d.opts.Meta)
	if len(b) > limit {
		return nil
	}
	return b
}

func (d *delegate) NotifyMsg(b []byte) {
	if len(b) < 2 {
		return
	}
	m := (*Membership)(d)
	if b[0] == msgHeartbeat || b[0] == msgLeave {
		name := string(b[1:])
		if !nameOK(name) {
			m.drop("bad node name in a heartbeat or leave", "len", len(name))
			return
		}
		if b[0] == msgHeartbeat {
			m.heard(name)
			return
		}
		m.mu.Lock()
		if m.leaving[name] || m.trackable(name, len(m.leaving)) {
			m.leaving[name] = true
		} else {
			m.drop("leave from an unknown node: table full", "node", name)
		}
		m.mu.Unlock()
		return
	}
	if b[0] != msgAttr {
		m.drop("unknown message type", "type", b[0])
		return
	}
	if len(b) > maxAttrMsg {
		m.drop("attribute message too large", "bytes", len(b))
		return
	}
	var u attrUpdate
	if err := json.Unmarshal(b[1:], &u); err != nil {
		m.drop("bad attribute message", "err", err)
		return
	}
	m.mu.Lock()
	fresh := m.mergeAttr(u)
	if fresh {
		m.emit(EventAttrs, Member{Name: u.Node})
	}
	m.mu.Unlock()
	if fresh {
		// Relay what was new to us (rumor mongering): the owner's own
		// retransmissions are few, and push/pull only runs every few seconds.
		m.queue.QueueBroadcast(&attrBroadcast{key: u.Node + "\x00" + u.Name, msg: append([]byte(nil), b...)})
	}
}

func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte {
	return d.queue.GetBroadcasts(overhead, limit)
}

// LocalState sends every node's attributes we know (anti-entropy).
func (d *delegate) LocalState(bool) []byte {
	m := (*Membership)(d)
	m.mu.Lock()
	defer m.mu.Unlock()
	all := make(map[string]nodeAttrs, len(m.attrs))
	for node, na := range m.attrs {
		all[node] = nodeAttrs{Inc: na.Inc, Attrs: maps.Clone(na.Attrs)}
	}
	b, _ := json.Marshal(all)
	return b
}

func (d *delegate) MergeRemoteState(buf []byte, _ bool) {
	m := (*Membership)(d)
	if len(buf) > maxAttrState {
		m.drop("attribute state too large", "bytes", len(buf))
		return
	}
	var all map[string]nodeAttrs
	if err := json.Unmarshal(buf, &all); err != nil {
		m.drop("bad attribute state from a peer", "err", err)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	changed := map[string]bool{}
	for node, na := range all {
		for k, v := range na.Attrs {
			if m.mergeAttr(attrUpdate{Node: node, Inc: na.Inc, Name: k, Val: v}) {
				changed[node] = true
			}
		}
	}
	for node := range changed {
		m.emit(EventAttrs, Member{Name: node})
	}
}
