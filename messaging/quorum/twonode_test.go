package quorum

import (
	"fmt"
	"testing"
	"time"
)

const delay = 2 * time.Second

// pair returns the two-node config of the tiebreak tests: a (preferred)
// and b, tiebreak-delay 2s, with or without a ping target and wait_for_all.
func pair(ping, waitForAll bool) Config {
	c := Config{Nodes: []Node{{Name: "b"}, {Name: "a"}}, TwoNode: true, WaitForAll: waitForAll, TiebreakDelay: delay}
	if ping {
		c.PingTargets = []string{"gw"}
	}
	return c
}

// side is one node's view in a two-node tiebreak case.
type side struct {
	self      string
	both      bool          // the peer is present
	notSeen   bool          // EverSeenAll is false
	wasQ      bool          // PreviouslyQuorate
	ping      Reach         // own ping result
	peerPing  Reach         // the peer's last reported ping result
	holds     bool          // holds resources
	fenced    bool          // fencing confirmed the peer off
	elapsed   time.Duration // Now - PeerLostAt
	lostAt    time.Time     // PeerLostAt, if not t0
	lostUnset bool          // PeerLostAt is zero
}

func (s side) observation() Observation {
	peer := map[string]string{"a": "b", "b": "a"}[s.self]
	obs := Observation{Self: s.self, Present: []string{s.self}, EverSeenAll: !s.notSeen, PreviouslyQuorate: s.wasQ,
		SelfReachesPing: s.ping, PeerReachesPing: s.peerPing, SelfHoldsResources: s.holds, PeerFenced: s.fenced,
		PeerLostAt: t0, Now: t0.Add(s.elapsed)}
	if s.both {
		obs.Present = append(obs.Present, peer)
	}
	if !s.lostAt.IsZero() {
		obs.PeerLostAt = s.lostAt
	}
	if s.lostUnset {
		obs.PeerLostAt = time.Time{}
	}
	return obs
}

// TestTwoNode pins the two-node rules (the table in doc.go): a is the
// preferred node, b the other; elapsed is the time since the peer was lost.
func TestTwoNode(t *testing.T) {
	const (
		R = Reachable
		U = Unreachable
	)
	lostA := "two_node: lost tiebreak, peer a preferred (lowest name)"
	for _, tc := range []struct {
		name    string
		ping    bool // a ping target is configured
		noWFA   bool // wait_for_all is off
		s       side
		quorate bool
		fence   bool
		recheck time.Duration // RecheckAt - PeerLostAt, 0 for none
		reason  string
		votes   int
	}{
		// Both present, and wait_for_all.
		{name: "a, both present", ping: true, s: side{self: "a", both: true},
			quorate: true, reason: "two_node: both nodes present, 2 of 2 votes", votes: 2},
		{name: "b, both present", ping: true, s: side{self: "b", both: true, ping: U},
			quorate: true, reason: "two_node: both nodes present, 2 of 2 votes", votes: 2},
		{name: "both present passes wait_for_all", ping: true, s: side{self: "b", both: true, notSeen: true},
			quorate: true, reason: "two_node: both nodes present, 2 of 2 votes", votes: 2},
		{name: "a alone at cold start, wait_for_all", ping: true, s: side{self: "a", notSeen: true, ping: R, holds: true},
			reason: "wait_for_all: not every node seen since start (1 of 2 nodes present)", votes: 1},
		{name: "a alone at cold start, wait_for_all, already quorate", ping: true, s: side{self: "a", notSeen: true, wasQ: true, ping: R, holds: true},
			quorate: true, reason: "two_node: won tiebreak, ping target reachable, a preferred (lowest name) and holds resources", votes: 1},
		{name: "a alone at cold start, no wait_for_all", noWFA: true, s: side{self: "a", notSeen: true, elapsed: delay},
			quorate: true, reason: "two_node: won tiebreak, no ping target, a preferred (lowest name), tiebreak-delay 2s over", votes: 1},
		{name: "b alone at cold start, no wait_for_all", noWFA: true, s: side{self: "b", notSeen: true, holds: true, elapsed: delay},
			reason: lostA + "; fencing cannot help without wait_for_all (a fenced peer could restart and win alone)", votes: 1},
		{name: "b cold start with wait_for_all never fences", ping: true, s: side{self: "b", notSeen: true, ping: R, holds: true, elapsed: delay},
			reason: "wait_for_all: not every node seen since start (1 of 2 nodes present)", votes: 1},

		// Peer lost, ping target configured: the preferred node a.
		{name: "a reaches, holds: wins at once", ping: true, s: side{self: "a", ping: R, holds: true},
			quorate: true, reason: "two_node: won tiebreak, ping target reachable, a preferred (lowest name) and holds resources", votes: 1},
		{name: "a reaches, holds nothing: waits", ping: true, s: side{self: "a", ping: R},
			recheck: delay, reason: "two_node: waiting for tiebreak-delay (2s left), a preferred (lowest name) but holds no resources", votes: 1},
		{name: "a reaches, holds nothing: 120ms left", ping: true, s: side{self: "a", ping: R, elapsed: delay - 120*time.Millisecond},
			recheck: delay, reason: "two_node: waiting for tiebreak-delay (120ms left), a preferred (lowest name) but holds no resources", votes: 1},
		{name: "a reaches, holds nothing: wins after the delay", ping: true, s: side{self: "a", ping: R, elapsed: delay},
			quorate: true, reason: "two_node: won tiebreak, ping target reachable, a preferred (lowest name), tiebreak-delay 2s over", votes: 1},
		{name: "a reaches, b reported unreachable: wins at once", ping: true, s: side{self: "a", ping: R, peerPing: U},
			quorate: true, reason: "two_node: won tiebreak, ping target reachable and peer b's was not", votes: 1},
		{name: "a reaches, b reported reachable: waits", ping: true, s: side{self: "a", ping: R, peerPing: R, elapsed: time.Second},
			recheck: delay, reason: "two_node: waiting for tiebreak-delay (1s left), a preferred (lowest name) but holds no resources", votes: 1},
		{name: "a unreachable, holds: loses", ping: true, s: side{self: "a", ping: U, holds: true, elapsed: time.Hour},
			reason: "two_node: lost tiebreak, peer b lost and ping target unreachable", votes: 1},
		{name: "a unreachable, b reported unreachable: loses", ping: true, s: side{self: "a", ping: U, peerPing: U, elapsed: time.Hour},
			reason: "two_node: lost tiebreak, peer b lost and ping target unreachable", votes: 1},
		{name: "a ping unknown: loses", ping: true, s: side{self: "a", holds: true},
			reason: "two_node: lost tiebreak, peer b lost and ping result unknown", votes: 1},
		{name: "a fenced b: wins even unreachable", ping: true, s: side{self: "a", ping: U, fenced: true},
			quorate: true, reason: "two_node: won, peer b confirmed fenced", votes: 1},
		{name: "a fenced b, no wait_for_all: wins", ping: true, noWFA: true, s: side{self: "a", ping: R, fenced: true},
			quorate: true, reason: "two_node: won, peer b confirmed fenced", votes: 1},

		// Peer lost, ping target configured: the other node b.
		{name: "b reaches, holds: fences at once", ping: true, s: side{self: "b", ping: R, holds: true},
			fence: true, reason: lostA + "; fence a to take over", votes: 1},
		{name: "b reaches, holds nothing: waits to fence", ping: true, s: side{self: "b", ping: R, elapsed: delay - time.Millisecond},
			recheck: delay, reason: lostA + "; may fence a after tiebreak-delay (1ms left)", votes: 1},
		{name: "b reaches, holds nothing: fences after the delay", ping: true, s: side{self: "b", ping: R, elapsed: delay},
			fence: true, reason: lostA + "; fence a to take over", votes: 1},
		{name: "b reaches, a reported unreachable: fences at once", ping: true, s: side{self: "b", ping: R, peerPing: U},
			fence: true, reason: lostA + "; fence a to take over", votes: 1},
		{name: "b unreachable, holds: neither wins nor fences", ping: true, s: side{self: "b", ping: U, holds: true},
			reason: "two_node: lost tiebreak, peer a lost and ping target unreachable", votes: 1},
		{name: "b unreachable, a reported unreachable", ping: true, s: side{self: "b", ping: U, peerPing: U, elapsed: time.Hour},
			reason: "two_node: lost tiebreak, peer a lost and ping target unreachable", votes: 1},
		{name: "b reaches, no wait_for_all: never fences", ping: true, noWFA: true, s: side{self: "b", ping: R, holds: true, elapsed: time.Hour},
			reason: lostA + "; fencing cannot help without wait_for_all (a fenced peer could restart and win alone)", votes: 1},
		{name: "b fenced a: wins", ping: true, s: side{self: "b", ping: R, fenced: true},
			quorate: true, reason: "two_node: won, peer a confirmed fenced", votes: 1},
		{name: "b fenced a: wins even unreachable", ping: true, s: side{self: "b", ping: U, fenced: true},
			quorate: true, reason: "two_node: won, peer a confirmed fenced", votes: 1},
		{name: "b fenced a, no wait_for_all: loses", ping: true, noWFA: true, s: side{self: "b", ping: R, fenced: true},
			reason: lostA + "; fencing cannot help without wait_for_all (a fenced peer could restart and win alone)", votes: 1},

		// Peer lost, no ping target: ping results are ignored.
		{name: "no ping: a holds", s: side{self: "a", ping: U, holds: true},
			quorate: true, reason: "two_node: won tiebreak, no ping target, a preferred (lowest name) and holds resources", votes: 1},
		{name: "no ping: a holds nothing, b reported unreachable: waits", s: side{self: "a", peerPing: U, elapsed: time.Second},
			recheck: delay, reason: "two_node: waiting for tiebreak-delay (1s left), a preferred (lowest name) but holds no resources", votes: 1},
		{name: "no ping: a after the delay", s: side{self: "a", elapsed: 3 * time.Second},
			quorate: true, reason: "two_node: won tiebreak, no ping target, a preferred (lowest name), tiebreak-delay 2s over", votes: 1},
		{name: "no ping: b holds", s: side{self: "b", holds: true},
			fence: true, reason: lostA + "; fence a to take over", votes: 1},
		{name: "no ping: b holds nothing", s: side{self: "b", elapsed: time.Second},
			recheck: delay, reason: lostA + "; may fence a after tiebreak-delay (1s left)", votes: 1},

		// Bad peer-lost times are reported, and matter only where timed.
		{name: "a: peer-lost time unknown", ping: true, s: side{self: "a", ping: R, lostUnset: true},
			reason: "two_node: not quorate, peer-lost time unknown (input error)", votes: 1},
		{name: "a: peer lost in the future", ping: true, s: side{self: "a", ping: R, lostAt: t0.Add(time.Second)},
			reason: "two_node: not quorate, peer lost 1s after now (input error)", votes: 1},
		{name: "a holds: peer-lost time not needed", ping: true, s: side{self: "a", ping: R, holds: true, lostUnset: true},
			quorate: true, reason: "two_node: won tiebreak, ping target reachable, a preferred (lowest name) and holds resources", votes: 1},
		{name: "b: peer-lost time unknown", ping: true, s: side{self: "b", ping: R, lostUnset: true},
			reason: lostA + "; peer-lost time unknown (input error)", votes: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs := tc.s.observation()
			d := Decide(pair(tc.ping, !tc.noWFA), obs)
			var recheck time.Time
			if tc.recheck != 0 {
				recheck = obs.PeerLostAt.Add(tc.recheck)
			}
			got := fmt.Sprintf("quorate=%v fence=%v recheck=%v votes=%d/%d need %d %q",
				d.Quorate, d.FencePeer, d.RecheckAt, d.Votes, d.Expected, d.Needed, d.Reason)
			want := fmt.Sprintf("quorate=%v fence=%v recheck=%v votes=%d/%d need %d %q",
				tc.quorate, tc.fence, recheck, tc.votes, 2, 2, tc.reason)
			if got != want {
				t.Fatalf("\ngot  %s\nwant %s", got, want)
			}
		})
	}
}
