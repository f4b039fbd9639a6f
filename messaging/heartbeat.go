package messaging

import (
	"net"
	"time"

	"github.com/hashicorp/memberlist"
)

// msgHeartbeat carries the sender's name: a member tells every other
// member, every heartbeat interval, that it is there. Receivers note the
// time on their own monotonic clock; the controller's leases are built on
// these times (shared/DESIGN.md, Safety), not on failure detection.
const msgHeartbeat byte = 'h'

// HeartbeatInterval is how often a member sends its heartbeat: half the
// probe interval, at least 10 ms (fast profile: 25 ms; lan: 500 ms). A
// lease of four probe intervals spans eight heartbeats.
func (t Timing) HeartbeatInterval() time.Duration {
	return max(t.ProbeInterval/2, 10*time.Millisecond)
}

// heartbeats sends this member's heartbeat to every other known member
// (alive or suspect, and failed ones too: a heartbeat that gets through is
// how a healed link shows first).
func (m *Membership) heartbeats() {
	t := time.NewTicker(m.opts.Timing.HeartbeatInterval())
	defer t.Stop()
	msg := append([]byte{msgHeartbeat}, m.opts.Name...)
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
		// Copies from our own table: memberlist's *Node values change
		// under its lock while we would read them.
		for _, n := range m.peerNodes() {
			_ = m.ml.SendBestEffort(n, msg)
		}
	}
}

// heard notes a heartbeat.
func (m *Membership) heard(name string) {
	now := time.Now()
	m.mu.Lock()
	if _, ok := m.lastHeard[name]; ok || m.trackable(name, len(m.lastHeard)) { // limits.go
		m.lastHeard[name] = now
	} else {
		m.drop("heartbeat from an unknown node: table full", "node", name)
	}
	m.mu.Unlock()
}

// LastHeard is when this member last heard each other member's
// heartbeat (monotonic clock readings of this process).
func (m *Membership) LastHeard() map[string]time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]time.Time, len(m.lastHeard))
	for k, v := range m.lastHeard {
		out[k] = v
	}
	return out
}

// peerNodes are the other members, as memberlist addresses them.
func (m *Membership) peerNodes() []*memberlist.Node {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*memberlist.Node
	for _, mb := range m.members {
		if mb.Name == m.opts.Name || mb.State == Left {
			continue
		}
		host, port, err := splitHostPort(mb.Addr)
		if err != nil {
			continue
		}
		ip := net.ParseIP(host)
		if ip == nil {
			continue
		}
		out = append(out, &memberlist.Node{Name: mb.Name, Addr: ip, Port: uint16(port)})
	}
	return out
}
