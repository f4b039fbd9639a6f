package quorum

import (
	"fmt"
	"strings"
	"time"
)

// Reach is a ping result as this node knows it.
type Reach int8

// Ping results. The zero value is ReachUnknown.
const (
	// ReachUnknown means no result: nothing measured yet, or, for the
	// peer, nothing reported.
	ReachUnknown Reach = iota
	// Reachable means the ping target(s) answered, by the checker's rule.
	Reachable
	// Unreachable means the ping target(s) did not answer.
	Unreachable
)

// String returns "unknown", "reachable" or "unreachable".
func (r Reach) String() string {
	switch r {
	case Reachable:
		return "reachable"
	case Unreachable:
		return "unreachable"
	}
	return "unknown"
}

// Observation is what one node knows at Now. Each node decides from its
// own Observation alone: in a split, nothing in it comes from the other
// side after the split.
type Observation struct {
	// Self is this node's name.
	Self string
	// Present lists the members alive in this node's partition, including
	// Self. Names that are not configured are ignored; duplicates count once.
	Present []string
	// EverSeenAll reports that every configured node has been seen alive
	// at least once since this node started (wait_for_all).
	EverSeenAll bool
	// SelfReachesPing is this node's own latest ping result. It is ignored
	// when Config.PingTargets is empty.
	SelfReachesPing Reach
	// PeerReachesPing is the last ping result the two-node peer reported
	// before it was lost (a gossiped attribute). In a split it is stale,
	// so Decide uses it only to act sooner where this node would win, or
	// may fence, after the delay anyway; never to let a node win that
	// otherwise could not.
	PeerReachesPing Reach
	// SelfHoldsResources reports that this node runs at least one resource.
	SelfHoldsResources bool
	// PeerLostAt is when the two-node peer was last seen alive, or when
	// this node started if it has not seen the peer since; it times
	// tiebreak-delay. It is on the same monotonic clock as Now.
	PeerLostAt time.Time
	// PeerFenced reports that fencing has confirmed the two-node peer off
	// since PeerLostAt. The caller clears it when the peer returns.
	PeerFenced bool
	// PreviouslyQuorate is this node's last Decision.Quorate since it
	// started; it must be false at start. A node that has been quorate
	// has passed wait_for_all (votequorum(5): wait_for_all gates only the
	// first quorum).
	PreviouslyQuorate bool
	// Now is the time of the observation.
	Now time.Time
}

// Decision is Decide's verdict with its reason.
type Decision struct {
	// Quorate reports that this node's partition has quorum: it may run
	// resources. Decide guarantees that two nodes deciding with the same
	// Config about disjoint partitions are never both quorate (see the
	// package documentation for the exact assumptions).
	Quorate bool
	// Votes is the votes of the configured nodes present.
	Votes int
	// Expected is the sum of every configured node's votes.
	Expected int
	// Needed is the strict majority of Expected: Expected/2 + 1. A
	// two-node survivor may be quorate with fewer, by the tiebreak.
	Needed int
	// Reason says why, for logs and explain.
	Reason string
	// RecheckAt is when the decision may change by time alone (the end of
	// tiebreak-delay), or zero if only a new observation can change it.
	RecheckAt time.Time
	// FencePeer reports that this node lost the two-node tiebreak but
	// wins once fencing confirms the peer off: the caller may fence the
	// peer and decide again with Observation.PeerFenced set. It is never
	// set with Quorate.
	FencePeer bool
}

// Decide reports whether obs.Self's partition is quorate under cfg. It is
// pure: the same inputs give the same Decision, whatever the order of
// obs.Present. Bad input (an invalid cfg, a Self that is not configured or
// not present) gives a non-quorate Decision whose Reason names the problem.
func Decide(cfg Config, obs Observation) Decision {
	if err := cfg.Validate(); err != nil {
		return Decision{Reason: "not quorate: invalid config: " + strings.ReplaceAll(err.Error(), "\n", "; ")}
	}
	d := Decision{Expected: cfg.expected()}
	d.Needed = d.Expected/2 + 1
	if _, ok := cfg.node(obs.Self); !ok {
		d.Reason = fmt.Sprintf("not quorate: self %q is not a configured node", obs.Self)
		return d
	}
	present := make(map[string]bool, len(obs.Present))
	for _, name := range obs.Present {
		present[name] = true
	}
	if !present[obs.Self] {
		d.Reason = fmt.Sprintf("not quorate: self %q is not among the present members", obs.Self)
		return d
	}
	nodes := 0
	for _, n := range cfg.Nodes {
		if present[n.Name] {
			d.Votes += n.votes()
			nodes++
		}
	}
	allPresent := nodes == len(cfg.Nodes)
	if cfg.WaitForAll && !obs.EverSeenAll && !allPresent && !obs.PreviouslyQuorate {
		d.Reason = fmt.Sprintf("wait_for_all: not every node seen since start (%d of %d nodes present)", nodes, len(cfg.Nodes))
		return d
	}
	if cfg.TwoNode {
		return twoNode(cfg, obs, d, allPresent)
	}
	if d.Votes >= d.Needed { // the same as Votes > Expected/2
		d.Quorate = true
		d.Reason = fmt.Sprintf("quorate: %d of %d votes", d.Votes, d.Expected)
	} else {
		d.Reason = fmt.Sprintf("not quorate: %d of %d votes, need %d", d.Votes, d.Expected, d.Needed)
	}
	return d
}
