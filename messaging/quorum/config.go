package quorum

import (
	"errors"
	"fmt"
	"time"
)

// MaxVotes is the most votes one node may carry; it keeps every sum of
// votes far from overflow.
const MaxVotes = 1 << 16

// Node is one configured cluster node and its votes.
type Node struct {
	// Name is the node's unique, non-empty name, as membership reports it.
	Name string
	// Votes is the node's quorum votes; 0 means 1.
	Votes int
}

// votes returns n's votes with the default applied.
func (n Node) votes() int {
	if n.Votes == 0 {
		return 1
	}
	return n.Votes
}

// Config is the quorum configuration of a cluster (corosync's votequorum
// options). It is the same on every node: it comes from the replicated
// configuration, and Decide's guarantees hold only between nodes that
// decide with the same Config. Defaults (such as turning WaitForAll on for
// two-node clusters, or deriving TiebreakDelay from the timing profile) are
// the caller's business: Config holds resolved values.
type Config struct {
	// Nodes lists every configured node, in any order.
	Nodes []Node
	// TwoNode enables the two-node rules: with exactly two nodes of one
	// vote each, the survivor of a peer loss may stay quorate if it wins
	// the tiebreak (see the package documentation).
	TwoNode bool
	// WaitForAll keeps a node that has just started non-quorate until it
	// has seen every configured node alive at least once. The two-node
	// fencing path (Decision.FencePeer) is offered only with WaitForAll.
	WaitForAll bool
	// TiebreakDelay is how long a two-node tiebreak waits before the
	// preferred node that holds no resources wins, or before the other
	// node may fence. It must be more than 0 with TwoNode.
	TiebreakDelay time.Duration
	// PingTargets names the tiebreak's ping targets, for the record: the
	// reachability itself arrives in Observation.SelfReachesPing. With no
	// targets, ping plays no part in the tiebreak.
	PingTargets []string
}

// Validate checks c and reports every problem, each naming its object.
func (c Config) Validate() error {
	var errs []error
	if len(c.Nodes) == 0 {
		errs = append(errs, errors.New("nodes: want at least one node"))
	}
	seen := make(map[string]int, len(c.Nodes))
	for i, n := range c.Nodes {
		if n.Name == "" {
			errs = append(errs, fmt.Errorf("nodes[%d]: empty name", i))
		} else if j, dup := seen[n.Name]; dup {
			errs = append(errs, fmt.Errorf("nodes[%d] %q: duplicate name (also nodes[%d])", i, n.Name, j))
		} else {
			seen[n.Name] = i
		}
		if n.Votes < 0 || n.Votes > MaxVotes {
			errs = append(errs, fmt.Errorf("nodes[%d] %q: votes %d: want 1 to %d (0 means 1)", i, n.Name, n.Votes, MaxVotes))
		}
	}
	if c.TwoNode {
		if len(c.Nodes) != 2 {
			errs = append(errs, fmt.Errorf("two_node: want exactly 2 nodes, have %d", len(c.Nodes)))
		}
		for i, n := range c.Nodes {
			if n.votes() != 1 {
				errs = append(errs, fmt.Errorf("two_node: nodes[%d] %q has %d votes, want 1", i, n.Name, n.Votes))
			}
		}
		if c.TiebreakDelay == 0 {
			errs = append(errs, errors.New("tiebreak-delay 0s: two_node needs more than 0, so the resource holder wins the fence race"))
		}
	}
	if c.TiebreakDelay < 0 {
		errs = append(errs, fmt.Errorf("tiebreak-delay %v: want 0 or more", c.TiebreakDelay))
	}
	targets := make(map[string]int, len(c.PingTargets))
	for i, p := range c.PingTargets {
		if p == "" {
			errs = append(errs, fmt.Errorf("ping-targets[%d]: empty target", i))
		} else if j, dup := targets[p]; dup {
			errs = append(errs, fmt.Errorf("ping-targets[%d] %q: duplicate target (also ping-targets[%d])", i, p, j))
		} else {
			targets[p] = i
		}
	}
	return errors.Join(errs...)
}

// expected returns the sum of the configured votes.
func (c Config) expected() int {
	sum := 0
	for _, n := range c.Nodes {
		sum += n.votes()
	}
	return sum
}

// node returns the configured node called name.
func (c Config) node(name string) (Node, bool) {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return Node{}, false
}

// peerOf returns the other node of a two-node Config.
func (c Config) peerOf(self string) string {
	for _, n := range c.Nodes {
		if n.Name != self {
			return n.Name
		}
	}
	return ""
}

// Preferred returns the node that wins a two-node tiebreak without
// fencing: the one whose name sorts first (byte order). It returns "" for a
// Config that is not a valid two-node configuration.
func (c Config) Preferred() string {
	if !c.TwoNode || c.Validate() != nil {
		return ""
	}
	return min(c.Nodes[0].Name, c.Nodes[1].Name)
}
