package messaging

// Limits on what gossip peers send (docs/hardening.md). memberlist itself
// bounds a user message and a push/pull state to 20 MiB, push/pulls to 128
// at once and its incoming packet queue to 1024 (HandoffQueueDepth, beyond
// which it drops); within those, these bound what Paceline keeps. A message
// or entry over a limit is dropped, counted (Dropped) and logged — the
// first and then every power of two, so a flood cannot flood the log.

import (
	"sync/atomic"
	"unicode/utf8"

	"github.com/hashicorp/memberlist"
)

// The limits.
const (
	// maxNodeName bounds a node name in a heartbeat, a leave or an
	// attribute (a DNS name).
	maxNodeName = 253
	// maxAttrName and maxAttrValue bound one transient attribute, as
	// SetAttr does for our own.
	maxAttrName  = 128
	maxAttrValue = 1024
	// maxAttrMsg bounds one gossiped attribute change (its JSON with the
	// names and value at their limits fits easily).
	maxAttrMsg = 4096
	// maxAttrState bounds a peer's push/pull attribute state.
	maxAttrState = 16 << 20
	// maxAttrsPerNode bounds the attributes kept for one node.
	maxAttrsPerNode = 512
	// maxTrackedNodes bounds the nodes kept in the attribute, heartbeat
	// and leave tables (names not in the member table count against it).
	maxTrackedNodes = 1024
	// maxMeta is memberlist's own bound on node metadata.
	maxMeta = memberlist.MetaMaxSize
)

// dropCounter counts gossip input refused by the limits.
type dropCounter struct{ n atomic.Uint64 }

// drop counts one refused message or entry and logs it the first time and
// every power of two after.
func (m *Membership) drop(why string, args ...any) {
	n := m.dropped.n.Add(1)
	if n&(n-1) == 0 {
		m.log.Warn("gossip: dropped input over the limits", append([]any{"why", why, "dropped-total", n}, args...)...)
	}
}

// Dropped returns how many gossip messages or entries this node refused
// because they were malformed or over the limits.
func (m *Membership) Dropped() uint64 { return m.dropped.n.Load() }

// nameOK reports whether s can be a node name: 1 to maxNodeName bytes of
// UTF-8 without control characters.
func nameOK(s string) bool {
	if s == "" || len(s) > maxNodeName || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// attrProblem says what is wrong with a gossiped attribute, or "".
func attrProblem(node, name string, v AttrValue) string {
	switch {
	case !nameOK(node):
		return "bad node name"
	case name == "" || len(name) > maxAttrName:
		return "attribute name not 1 to 128 bytes"
	case len(v.Value) > maxAttrValue:
		return "attribute value over 1024 bytes"
	}
	return ""
}

// trackable reports whether a name may get an entry in a table of
// len n: members always; others while the table is under maxTrackedNodes.
// m.mu must be held.
func (m *Membership) trackable(name string, n int) bool {
	if _, ok := m.members[name]; ok {
		return true
	}
	return n < maxTrackedNodes
}
