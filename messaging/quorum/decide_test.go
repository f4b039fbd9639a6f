package quorum

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Unix(1_000_000, 0)

// cluster returns a Config of nodes n1..nN with the given votes.
func cluster(votes ...int) Config {
	c := Config{}
	for i, v := range votes {
		c.Nodes = append(c.Nodes, Node{Name: fmt.Sprintf("n%d", i+1), Votes: v})
	}
	return c
}

// names turns 1-based node indexes into names.
func names(idx ...int) []string {
	var out []string
	for _, i := range idx {
		out = append(out, fmt.Sprintf("n%d", i))
	}
	return out
}

// TestMajority pins plain vote counting: quorate when the present votes are
// more than half the expected votes. Self is the first present node.
func TestMajority(t *testing.T) {
	for _, tc := range []struct {
		votes    []int // per node n1..nN; 0 means 1
		present  []int
		votesGot int
		expected int
		quorate  bool
	}{
		{[]int{1}, []int{1}, 1, 1, true},
		{[]int{3}, []int{1}, 3, 3, true},
		{[]int{0}, []int{1}, 1, 1, true},
		{[]int{1, 1}, []int{1, 2}, 2, 2, true},
		{[]int{1, 1}, []int{1}, 1, 2, false},
		{[]int{1, 1}, []int{2}, 1, 2, false},
		{[]int{2, 1}, []int{1}, 2, 3, true},
		{[]int{2, 1}, []int{2}, 1, 3, false},
		{[]int{0, 2}, []int{1}, 1, 3, false},
		{[]int{0, 2}, []int{2}, 2, 3, true},
		{[]int{1, 1, 1}, []int{1, 2, 3}, 3, 3, true},
		{[]int{1, 1, 1}, []int{1, 2}, 2, 3, true},
		{[]int{1, 1, 1}, []int{2, 3}, 2, 3, true},
		{[]int{1, 1, 1}, []int{1}, 1, 3, false},
		{[]int{1, 1, 1}, []int{3}, 1, 3, false},
		{[]int{3, 1, 1}, []int{1}, 3, 5, true},
		{[]int{3, 1, 1}, []int{2, 3}, 2, 5, false},
		{[]int{2, 2, 1}, []int{3, 1}, 3, 5, true},
		{[]int{2, 2, 1}, []int{1, 2}, 4, 5, true},
		{[]int{2, 2, 1}, []int{2}, 2, 5, false},
		{[]int{2, 1, 1}, []int{2, 3}, 2, 4, false}, // exactly half is not a majority
		{[]int{2, 1, 1}, []int{1, 2}, 3, 4, true},
		{[]int{2, 1, 1}, []int{1}, 2, 4, false},
		{[]int{1, 1, 1, 1}, []int{1, 2}, 2, 4, false},
		{[]int{1, 1, 1, 1}, []int{1, 2, 3}, 3, 4, true},
		{[]int{1, 1, 1, 1}, []int{1, 2, 3, 4}, 4, 4, true},
		{[]int{1, 1, 1, 1}, []int{4}, 1, 4, false},
		{[]int{2, 1, 1, 1}, []int{1, 2}, 3, 5, true},
		{[]int{2, 1, 1, 1}, []int{2, 3, 4}, 3, 5, true},
		{[]int{2, 1, 1, 1}, []int{3, 4}, 2, 5, false},
		{[]int{0, 0, 2, 0}, []int{3}, 2, 5, false},
		{[]int{0, 0, 2, 0}, []int{3, 4}, 3, 5, true},
		{[]int{1, 1, 1, 1, 1}, []int{1, 2, 3}, 3, 5, true},
		{[]int{1, 1, 1, 1, 1}, []int{4, 5}, 2, 5, false},
		{[]int{1, 1, 1, 1, 1}, []int{1, 2, 3, 4, 5}, 5, 5, true},
		{[]int{5, 1, 1, 1, 1}, []int{1}, 5, 9, true},
		{[]int{5, 1, 1, 1, 1}, []int{2, 3, 4, 5}, 4, 9, false},
		{[]int{1, 1, 1, 1, 3}, []int{5, 1}, 4, 7, true},
		{[]int{1, 1, 1, 1, 3}, []int{1, 2, 3}, 3, 7, false},
		{[]int{1, 1, 1, 1, 1, 1}, []int{1, 2, 3}, 3, 6, false},
		{[]int{1, 1, 1, 1, 1, 1}, []int{1, 2, 3, 4}, 4, 6, true},
		{[]int{2, 1, 1, 1, 1, 1}, []int{1, 2, 3}, 4, 7, true},
		{[]int{2, 1, 1, 1, 1, 1}, []int{4, 5, 6}, 3, 7, false},
		{[]int{1, 1, 1, 1, 1, 1}, []int{6}, 1, 6, false},
		{[]int{1, 1, 1, 1, 1, 1, 1}, []int{1, 2, 3, 4}, 4, 7, true},
		{[]int{1, 1, 1, 1, 1, 1, 1}, []int{5, 6, 7}, 3, 7, false},
		{[]int{1, 1, 1, 1, 1, 1, 1}, []int{1, 2, 3, 4, 5, 6, 7}, 7, 7, true},
		{[]int{3, 3, 1, 1, 1, 1, 1}, []int{1, 2}, 6, 11, true},
		{[]int{3, 3, 1, 1, 1, 1, 1}, []int{2, 3, 4, 5, 6, 7}, 8, 11, true},
		{[]int{3, 3, 1, 1, 1, 1, 1}, []int{3, 4, 5, 6, 7}, 5, 11, false},
		{[]int{10, 1, 1, 1, 1, 1, 1}, []int{2, 3, 4, 5, 6, 7}, 6, 16, false},
		{[]int{10, 1, 1, 1, 1, 1, 1}, []int{1}, 10, 16, true},
		{[]int{0, 0, 0, 0, 0, 0, 0}, []int{1, 2, 3}, 3, 7, false},
	} {
		name := fmt.Sprintf("votes%v/present%v", tc.votes, tc.present)
		t.Run(name, func(t *testing.T) {
			p := names(tc.present...)
			d := Decide(cluster(tc.votes...), Observation{Self: p[0], Present: p, Now: t0})
			needed := tc.expected/2 + 1
			if d.Quorate != tc.quorate || d.Votes != tc.votesGot || d.Expected != tc.expected || d.Needed != needed {
				t.Fatalf("got quorate=%v votes=%d expected=%d needed=%d (%s), want %v %d %d %d",
					d.Quorate, d.Votes, d.Expected, d.Needed, d.Reason, tc.quorate, tc.votesGot, tc.expected, needed)
			}
			want := fmt.Sprintf("not quorate: %d of %d votes, need %d", tc.votesGot, tc.expected, needed)
			if tc.quorate {
				want = fmt.Sprintf("quorate: %d of %d votes", tc.votesGot, tc.expected)
			}
			if d.Reason != want || !d.RecheckAt.IsZero() || d.FencePeer {
				t.Fatalf("got reason %q recheck %v fence %v, want %q and neither", d.Reason, d.RecheckAt, d.FencePeer, want)
			}
		})
	}
}

// TestDecideInputs pins what Decide makes of odd observations and of
// wait_for_all outside two_node.
func TestDecideInputs(t *testing.T) {
	three := cluster(1, 1, 1)
	wfa := three
	wfa.WaitForAll = true
	for _, tc := range []struct {
		name    string
		cfg     Config
		obs     Observation
		quorate bool
		reason  string
	}{
		{"unknown names ignored", three, Observation{Self: "n1", Present: []string{"n1", "x", "y", ""}},
			false, "not quorate: 1 of 3 votes, need 2"},
		{"duplicates count once", three, Observation{Self: "n1", Present: []string{"n1", "n1", "n1"}},
			false, "not quorate: 1 of 3 votes, need 2"},
		{"order does not matter", three, Observation{Self: "n3", Present: []string{"n3", "n1"}},
			true, "quorate: 2 of 3 votes"},
		{"self not present", three, Observation{Self: "n1", Present: []string{"n2", "n3"}},
			false, `not quorate: self "n1" is not among the present members`},
		{"nothing present", three, Observation{Self: "n1"},
			false, `not quorate: self "n1" is not among the present members`},
		{"self not configured", three, Observation{Self: "n9", Present: []string{"n9", "n1", "n2"}},
			false, `not quorate: self "n9" is not a configured node`},
		{"empty self", three, Observation{Present: []string{"n1", "n2"}},
			false, `not quorate: self "" is not a configured node`},
		{"invalid config", Config{Nodes: []Node{{Name: "n1"}, {Name: "n1", Votes: -1}}}, Observation{Self: "n1", Present: []string{"n1"}},
			false, `not quorate: invalid config: nodes[1] "n1": duplicate name (also nodes[0]); nodes[1] "n1": votes -1: want 1 to 65536 (0 means 1)`},
		{"wait_for_all holds back a majority", wfa, Observation{Self: "n1", Present: names(1, 2)},
			false, "wait_for_all: not every node seen since start (2 of 3 nodes present)"},
		{"wait_for_all passed", wfa, Observation{Self: "n1", Present: names(1, 2), EverSeenAll: true},
			true, "quorate: 2 of 3 votes"},
		{"wait_for_all: all present now", wfa, Observation{Self: "n1", Present: names(1, 2, 3)},
			true, "quorate: 3 of 3 votes"},
		{"wait_for_all: already quorate since start", wfa, Observation{Self: "n1", Present: names(1, 2), PreviouslyQuorate: true},
			true, "quorate: 2 of 3 votes"},
		{"wait_for_all passed, then majority rules", wfa, Observation{Self: "n1", Present: names(1), EverSeenAll: true},
			false, "not quorate: 1 of 3 votes, need 2"},
		{"no wait_for_all", three, Observation{Self: "n1", Present: names(1, 2)},
			true, "quorate: 2 of 3 votes"},
		{"ping and resources play no part outside two_node", three,
			Observation{Self: "n1", Present: names(1), SelfReachesPing: Reachable, SelfHoldsResources: true, PeerFenced: true},
			false, "not quorate: 1 of 3 votes, need 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.obs.Now = t0
			d := Decide(tc.cfg, tc.obs)
			if d.Quorate != tc.quorate || d.Reason != tc.reason || d.FencePeer {
				t.Fatalf("got quorate=%v fence=%v %q\nwant quorate=%v %q", d.Quorate, d.FencePeer, d.Reason, tc.quorate, tc.reason)
			}
		})
	}
}

// TestValidate: every problem of a config is reported, each naming its
// object.
func TestValidate(t *testing.T) {
	two := Config{Nodes: []Node{{Name: "a"}, {Name: "b"}}, TwoNode: true, TiebreakDelay: time.Second}
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string // one line per problem; none means valid
	}{
		{"one node", cluster(0), nil},
		{"seven nodes", cluster(1, 2, 3, 0, 1, 1, MaxVotes), nil},
		{"two_node", two, nil},
		{"two_node with explicit votes and ping", Config{Nodes: []Node{{Name: "a", Votes: 1}, {Name: "b"}}, TwoNode: true,
			WaitForAll: true, TiebreakDelay: time.Millisecond, PingTargets: []string{"10.0.0.1", "gw"}}, nil},
		{"no nodes", Config{}, []string{"nodes: want at least one node"}},
		{"bad nodes", Config{Nodes: []Node{{Name: ""}, {Name: "a", Votes: -1}, {Name: "a"}, {Name: "b", Votes: MaxVotes + 1}}},
			[]string{`nodes[0]: empty name`, `nodes[1] "a": votes -1: want 1 to 65536 (0 means 1)`,
				`nodes[2] "a": duplicate name (also nodes[1])`, `nodes[3] "b": votes 65537: want 1 to 65536 (0 means 1)`}},
		{"two_node with three nodes", Config{Nodes: []Node{{Name: "a"}, {Name: "b"}, {Name: "c"}}, TwoNode: true, TiebreakDelay: time.Second},
			[]string{"two_node: want exactly 2 nodes, have 3"}},
		{"two_node with two votes", Config{Nodes: []Node{{Name: "a", Votes: 2}, {Name: "b"}}, TwoNode: true, TiebreakDelay: time.Second},
			[]string{`two_node: nodes[0] "a" has 2 votes, want 1`}},
		{"two_node without delay", Config{Nodes: two.Nodes, TwoNode: true},
			[]string{"tiebreak-delay 0s: two_node needs more than 0, so the resource holder wins the fence race"}},
		{"negative delay", Config{Nodes: two.Nodes, TiebreakDelay: -time.Second}, []string{"tiebreak-delay -1s: want 0 or more"}},
		{"bad ping targets", Config{Nodes: two.Nodes, PingTargets: []string{"gw", "", "gw"}},
			[]string{"ping-targets[1]: empty target", `ping-targets[2] "gw": duplicate target (also ping-targets[0])`}},
		{"two_node, one node, no delay", Config{Nodes: []Node{{Name: "a"}}, TwoNode: true},
			[]string{"two_node: want exactly 2 nodes, have 1",
				"tiebreak-delay 0s: two_node needs more than 0, so the resource holder wins the fence race"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestPreferred: the preferred node is the lower name, whatever the order
// of Nodes, and there is none outside a valid two-node config.
func TestPreferred(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Nodes: []Node{{Name: "b"}, {Name: "a"}}, TwoNode: true, TiebreakDelay: time.Second}, "a"},
		{Config{Nodes: []Node{{Name: "node-10"}, {Name: "node-9"}}, TwoNode: true, TiebreakDelay: time.Second}, "node-10"},
		{Config{Nodes: []Node{{Name: "b"}, {Name: "a"}}, TiebreakDelay: time.Second}, ""},
		{Config{Nodes: []Node{{Name: "b"}, {Name: "a"}}, TwoNode: true}, ""},
	} {
		if got := tc.cfg.Preferred(); got != tc.want {
			t.Errorf("%+v: Preferred() = %q, want %q", tc.cfg, got, tc.want)
		}
	}
}
