package messaging

import (
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// bareMembership is a Membership without memberlist: the delegate's
// decoders run on it directly.
func bareMembership() *Membership {
	m := &Membership{
		opts: Options{Name: "n1"}, log: slog.New(slog.DiscardHandler),
		members: map[string]*Member{"n2": {Name: "n2", State: Alive}}, leaving: map[string]bool{},
		lastHeard: map[string]time.Time{}, attrs: map[string]*nodeAttrs{}, subs: map[int]chan Event{},
	}
	m.queue = &memberlist.TransmitLimitedQueue{NumNodes: func() int { return 2 }, RetransmitMult: 1}
	return m
}

func attrMsg(t *testing.T, u attrUpdate) []byte {
	t.Helper()
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte{msgAttr}, b...)
}

// Every gossip decoder refuses garbage and oversized input: it is dropped
// and counted, nothing is kept, and nothing panics.
func TestGossipDecodersRefuseBadInput(t *testing.T) {
	cases := []struct {
		name string
		msg  []byte
	}{
		{"unknown type", []byte("zzz")},
		{"attribute not JSON", []byte("a{not json")},
		{"attribute message too large", append([]byte{msgAttr}, make([]byte, maxAttrMsg)...)},
		{"attribute value too long", attrMsg(t, attrUpdate{Node: "n2", Inc: 1, Name: "x", Val: AttrValue{Value: strings.Repeat("v", maxAttrValue+1), Version: 1}})},
		{"attribute name empty", attrMsg(t, attrUpdate{Node: "n2", Inc: 1, Name: "", Val: AttrValue{Value: "1", Version: 1}})},
		{"attribute node name with a control character", attrMsg(t, attrUpdate{Node: "n2\n", Inc: 1, Name: "x", Val: AttrValue{Value: "1", Version: 1}})},
		{"heartbeat name too long", append([]byte{msgHeartbeat}, strings.Repeat("n", maxNodeName+1)...)},
		{"leave name not UTF-8", []byte{msgLeave, 0xff, 0xfe}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := bareMembership()
			(*delegate)(m).NotifyMsg(tc.msg)
			if m.Dropped() != 1 {
				t.Errorf("dropped %d, want 1", m.Dropped())
			}
			if len(m.attrs) != 0 || len(m.lastHeard) != 0 || len(m.leaving) != 0 {
				t.Errorf("kept something: attrs %v heard %v leaving %v", m.attrs, m.lastHeard, m.leaving)
			}
		})
	}
	m := bareMembership()
	(*delegate)(m).MergeRemoteState(make([]byte, maxAttrState+1), false)
	(*delegate)(m).MergeRemoteState([]byte("{garbage"), false)
	if m.Dropped() != 2 || len(m.attrs) != 0 {
		t.Errorf("push/pull state: dropped %d (want 2), attrs %v", m.Dropped(), m.attrs)
	}
	if got := decodeMeta([]byte(`{"raft":"` + strings.Repeat("x", maxMeta) + `"}`)); got != (Meta{}) {
		t.Errorf("oversized meta decoded: %+v", got)
	}
}

// A flood of names that are not members fills the tables only to
// maxTrackedNodes; members are always kept; a node keeps at most
// maxAttrsPerNode attributes.
func TestGossipTablesAreBounded(t *testing.T) {
	m := bareMembership()
	d := (*delegate)(m)
	for i := range maxTrackedNodes + 100 {
		name := "ghost" + strconv.Itoa(i)
		d.NotifyMsg(append([]byte{msgHeartbeat}, name...))
		d.NotifyMsg(append([]byte{msgLeave}, name...))
		d.NotifyMsg(attrMsg(t, attrUpdate{Node: name, Inc: 1, Name: "x", Val: AttrValue{Value: "1", Version: 1}}))
	}
	if len(m.lastHeard) != maxTrackedNodes || len(m.leaving) != maxTrackedNodes || len(m.attrs) != maxTrackedNodes {
		t.Errorf("tables: heard %d, leaving %d, attrs %d; want %d each", len(m.lastHeard), len(m.leaving), len(m.attrs), maxTrackedNodes)
	}
	if m.Dropped() != 300 {
		t.Errorf("dropped %d, want 300", m.Dropped())
	}
	d.NotifyMsg(append([]byte{msgHeartbeat}, "n2"...))
	if _, ok := m.lastHeard["n2"]; !ok {
		t.Error("a member's heartbeat was dropped with the table full")
	}
	for i := range maxAttrsPerNode + 10 {
		d.NotifyMsg(attrMsg(t, attrUpdate{Node: "n2", Inc: 1, Name: "a" + strconv.Itoa(i), Val: AttrValue{Value: "1", Version: uint64(i + 1)}}))
	}
	if n := len(m.attrs["n2"].Attrs); n != maxAttrsPerNode {
		t.Errorf("n2 has %d attributes, want %d", n, maxAttrsPerNode)
	}
	// An existing attribute still updates with the table full.
	d.NotifyMsg(attrMsg(t, attrUpdate{Node: "n2", Inc: 1, Name: "a0", Val: AttrValue{Value: "2", Version: 10000}}))
	if v := m.attrs["n2"].Attrs["a0"].Value; v != "2" {
		t.Errorf("a0 = %q, want 2", v)
	}
}

func FuzzNotifyMsg(f *testing.F) {
	f.Add([]byte("hn2"))
	f.Add([]byte(`a{"n":"n2","i":1,"k":"x","a":{"v":"1","ver":1}}`))
	f.Add([]byte("l\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m := bareMembership()
		(*delegate)(m).NotifyMsg(b)
		(*delegate)(m).MergeRemoteState(b, false)
	})
}
