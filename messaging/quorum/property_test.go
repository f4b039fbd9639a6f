package quorum

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// genConfig draws a valid Config of 1 to 7 nodes; a third of the two-node
// ones are two_node.
func genConfig(t *rapid.T) Config {
	n := rapid.IntRange(1, 7).Draw(t, "nodes")
	c := Config{WaitForAll: rapid.Bool().Draw(t, "wait_for_all")}
	c.TwoNode = n == 2 && rapid.IntRange(0, 2).Draw(t, "two_node") == 0
	for i := range n {
		votes := rapid.IntRange(0, 3).Draw(t, "votes")
		if c.TwoNode {
			votes = rapid.IntRange(0, 1).Draw(t, "votes")
		}
		c.Nodes = append(c.Nodes, Node{Name: fmt.Sprintf("n%d", i+1), Votes: votes})
	}
	c.Nodes = rapid.Permutation(c.Nodes).Draw(t, "order")
	c.TiebreakDelay = time.Duration(rapid.IntRange(0, 5000).Draw(t, "delay_ms")) * time.Millisecond
	if c.TwoNode && c.TiebreakDelay == 0 {
		c.TiebreakDelay = time.Millisecond
	}
	for i := range rapid.IntRange(0, 2).Draw(t, "ping_targets") {
		c.PingTargets = append(c.PingTargets, fmt.Sprintf("10.0.0.%d", i+1))
	}
	return c
}

func genReach(t *rapid.T, label string) Reach {
	return rapid.SampledFrom(reaches).Draw(t, label)
}

// genMillis draws a time offset after t0 in whole milliseconds, up to 10s.
func genMillis(t *rapid.T, label string) time.Duration {
	return time.Duration(rapid.IntRange(0, 10_000).Draw(t, label)) * time.Millisecond
}

// genObservation draws what self may see in cfg: any present set
// (sometimes without self, sometimes with unknown names), any ping,
// resource, fencing and wait_for_all state.
func genObservation(t *rapid.T, cfg Config, self string) Observation {
	var all []string
	for _, n := range cfg.Nodes {
		all = append(all, n.Name)
	}
	present := rapid.SliceOfDistinct(rapid.SampledFrom(append(all, "stranger")), rapid.ID[string]).Draw(t, "present")
	if rapid.IntRange(0, 9).Draw(t, "self_present") > 0 && !slices.Contains(present, self) {
		present = append(present, self)
	}
	obs := Observation{Self: self, Present: present, EverSeenAll: rapid.Bool().Draw(t, "ever_seen_all"),
		SelfReachesPing: genReach(t, "self_ping"), PeerReachesPing: genReach(t, "peer_ping"),
		SelfHoldsResources: rapid.Bool().Draw(t, "holds"), PeerFenced: rapid.Bool().Draw(t, "fenced"),
		PreviouslyQuorate: rapid.Bool().Draw(t, "was_quorate"),
		PeerLostAt:        t0.Add(genMillis(t, "lost")), Now: t0.Add(genMillis(t, "now"))}
	if rapid.IntRange(0, 19).Draw(t, "lost_unset") == 0 {
		obs.PeerLostAt = time.Time{}
	}
	return obs
}

// TestDecideProperties checks, over generated configs and observations:
// Decide is deterministic and ignores the order and repetition of
// Present; outside two_node a quorate partition has a strict majority and
// stays quorate when another configured node joins it; FencePeer and
// RecheckAt appear only in two_node, never with Quorate; and the decision
// does not change by time alone before RecheckAt, and does at it.
func TestDecideProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := genConfig(t)
		self := rapid.SampledFrom(append(names(1, 2, 3, 4, 5, 6, 7)[:len(cfg.Nodes)], "stranger")).Draw(t, "self")
		obs := genObservation(t, cfg, self)
		d := Decide(cfg, obs)

		again := obs
		again.Present = append(slices.Clone(obs.Present), obs.Present...)
		slices.Reverse(again.Present)
		if d2 := Decide(cfg, again); d2 != d {
			t.Fatalf("Decide depends on the order of Present:\n %+v\n %+v", d, d2)
		}
		if d.Quorate && d.FencePeer {
			t.Fatalf("quorate and asked to fence: %s", d.Reason)
		}
		if d.Expected != cfg.expected() || d.Needed != d.Expected/2+1 {
			t.Fatalf("expected %d needed %d for %+v", d.Expected, d.Needed, cfg.Nodes)
		}
		if !cfg.TwoNode {
			if d.Quorate && (d.Votes < d.Needed || 2*d.Votes <= d.Expected) {
				t.Fatalf("quorate without a majority: %s", d.Reason)
			}
			if d.FencePeer || !d.RecheckAt.IsZero() {
				t.Fatalf("fence or recheck outside two_node: %+v", d)
			}
			if d.Quorate {
				joiner := rapid.SampledFrom(cfg.Nodes).Draw(t, "joiner").Name
				more := obs
				more.Present = append(slices.Clone(obs.Present), joiner)
				if d3 := Decide(cfg, more); !d3.Quorate {
					t.Fatalf("%s joining turned quorate into %s", joiner, d3.Reason)
				}
			}
		}
		if !d.RecheckAt.IsZero() {
			if !d.RecheckAt.After(obs.Now) {
				t.Fatalf("RecheckAt %v not after now %v", d.RecheckAt, obs.Now)
			}
			before := obs
			before.Now = obs.Now.Add(d.RecheckAt.Sub(obs.Now) / 2)
			if db := Decide(cfg, before); db.Quorate != d.Quorate || db.FencePeer != d.FencePeer {
				t.Fatalf("decision changed before RecheckAt: %s -> %s", d.Reason, db.Reason)
			}
			at := obs
			at.Now = d.RecheckAt
			if da := Decide(cfg, at); da.Quorate == d.Quorate && da.FencePeer == d.FencePeer {
				t.Fatalf("decision did not change at RecheckAt: %s -> %s", d.Reason, da.Reason)
			}
		}
	})
}

// TestDecideBadConfig: any config, valid or not, gives a decision without
// panicking, and an invalid one is never quorate.
func TestDecideBadConfig(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var cfg Config
		for range rapid.IntRange(0, 4).Draw(t, "nodes") {
			cfg.Nodes = append(cfg.Nodes, Node{Name: rapid.SampledFrom([]string{"", "a", "b", "c"}).Draw(t, "name"),
				Votes: rapid.IntRange(-2, MaxVotes+2).Draw(t, "votes")})
		}
		cfg.TwoNode = rapid.Bool().Draw(t, "two_node")
		cfg.WaitForAll = rapid.Bool().Draw(t, "wait_for_all")
		cfg.TiebreakDelay = time.Duration(rapid.IntRange(-2, 2).Draw(t, "delay"))
		cfg.PingTargets = rapid.SliceOfN(rapid.SampledFrom([]string{"", "gw"}), 0, 3).Draw(t, "ping")
		obs := genObservation(t, cfg, rapid.SampledFrom([]string{"", "a", "b", "c"}).Draw(t, "self"))
		d := Decide(cfg, obs)
		if err := cfg.Validate(); err != nil && (d.Quorate || d.FencePeer) {
			t.Fatalf("invalid config (%v) decided %+v", err, d)
		}
	})
}

// TestTwoNodeSplitProperty: in every generated two-node split where both
// nodes live, each side deciding from its own generated knowledge (own
// ping, the peer's last report, resources, wait_for_all state, when it
// lost the peer on its own clock), at most one side is quorate at any
// common moment. The rule claims this for every such split; fencing is
// not involved because a live peer is never confirmed fenced.
func TestTwoNodeSplitProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := pair(rapid.Bool().Draw(t, "ping"), rapid.Bool().Draw(t, "wait_for_all"))
		cfg.TiebreakDelay = time.Duration(rapid.IntRange(1, 5000).Draw(t, "delay_ms")) * time.Millisecond
		a, b := genObservation(t, cfg, "a"), genObservation(t, cfg, "b")
		a.Present, b.Present = []string{"a"}, []string{"b"}
		a.PeerFenced, b.PeerFenced = false, false
		clockB := time.Duration(rapid.Int64Range(-1e12, 1e12).Draw(t, "clock_b"))
		a.PeerLostAt, b.PeerLostAt = t0.Add(genMillis(t, "a_lost")), t0.Add(genMillis(t, "b_lost")+clockB)
		now := max(a.PeerLostAt.Sub(t0), b.PeerLostAt.Sub(t0)-clockB) + genMillis(t, "later")
		a.Now, b.Now = t0.Add(now), t0.Add(now+clockB)
		if da, db := Decide(cfg, a), Decide(cfg, b); da.Quorate && db.Quorate {
			t.Fatalf("two winners:\n a %+v: %s\n b %+v: %s", a, da.Reason, b, db.Reason)
		}
	})
}
