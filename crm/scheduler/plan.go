package scheduler

import (
	"fmt"
	"strings"
	"time"

	"github.com/paceline/paceline/cib"
)

// Options are the inputs of a scheduler run that are not configuration or
// status.
type Options struct {
	// Now is the time failure-timeout expiry is judged against. The
	// scheduler reads no clock.
	Now time.Time
	// Explain fills Plan.Explanations with every node's allocation score
	// and its contributions. It costs time and memory at scale.
	Explain bool
}

// Plan is the scheduler's answer: where everything should run, and the
// actions, with their order, that get it there.
type Plan struct {
	// Placements has one entry per primitive, or per instance of a clone,
	// in configuration order.
	Placements []Placement `json:"placements"`
	// Actions are in an order that respects every prerequisite; an action
	// may run once all of its After actions have completed.
	Actions []Action `json:"actions"`
	// Explanations, with Options.Explain, has one entry per allocated
	// resource (a primitive, group or clone), in allocation order.
	Explanations []Explanation `json:"explanations,omitempty"`
	// Warnings are things the plan had to work around (a resource active
	// on several nodes, a stop that failed without fencing, ...).
	Warnings []string `json:"warnings,omitempty"`
	// Recheck, if set, is when the next failure-timeout runs out: a fail
	// count that holds now stops counting then, and the plan may differ.
	Recheck time.Time `json:"recheck,omitzero"`
}

// Placement is where one primitive, or one clone instance, will be.
type Placement struct {
	// Rsc is the primitive's id.
	Rsc string `json:"rsc"`
	// Clone is the id of the clone this is an instance of, and Instance its
	// number (0, 1, ...); empty and 0 for a primitive that is not cloned.
	Clone    string `json:"clone,omitempty"`
	Instance int    `json:"instance"`
	// Node is empty when it will be stopped.
	Node string `json:"node,omitempty"`
	// Role is Stopped, Started, Unpromoted or Promoted.
	Role string `json:"role"`
	// Reason says why it is stopped, or why it is where it is when that is
	// not simply the best score (blocked, unmanaged, frozen).
	Reason string `json:"reason,omitempty"`
}

// Name is the primitive's id, with ":N" for a clone instance (ping:0).
func (p *Placement) Name() string {
	if p.Clone == "" {
		return p.Rsc
	}
	return fmt.Sprintf("%s:%d", p.Rsc, p.Instance)
}

// The operations of an Action.
const (
	OpStart          = "start"
	OpStop           = "stop"
	OpMonitor        = "monitor" // Interval 0 is a probe
	OpPromote        = "promote"
	OpDemote         = "demote"
	OpFence          = "fence"
	OpClearFailcount = "clear-failcount"
	OpPseudo         = "pseudo" // an ordering point with nothing to run
	OpNotify         = "notify" // a clone notification (meta notify=true)
)

// Action is one step of a transition.
type Action struct {
	// ID is the action's index in Plan.Actions.
	ID int    `json:"id"`
	Op string `json:"op"`
	// Rsc is the primitive (empty for fence), Node where the action runs
	// (for fence: the victim).
	Rsc  string `json:"rsc,omitempty"`
	Node string `json:"node,omitempty"`
	// Instance numbers a second or later copy of a clone on one node.
	Instance int `json:"instance,omitempty"`
	// Interval is a recurring monitor's period; 0 with op monitor is a
	// probe.
	Interval time.Duration `json:"interval,omitempty"`
	// Role is the role a recurring monitor checks (Promoted, Unpromoted).
	Role string `json:"role,omitempty"`
	// Timeout is the op's configured timeout (0: the executor's default).
	Timeout time.Duration `json:"timeout,omitempty"`
	// Implied marks a stop that fencing the node performs: the executor
	// completes it when the fence succeeds, and runs nothing.
	Implied bool `json:"implied,omitempty"`
	// Label names a pseudo action (e.g. "web-group running").
	Label string `json:"label,omitempty"`
	// Notify is a notification's content (Op notify).
	Notify *Notify `json:"notify,omitempty"`
	// After lists the IDs of the actions that must complete first.
	After []int `json:"after,omitempty"`
	// Reason says why the action is there.
	Reason string `json:"reason,omitempty"`
}

// Notify is what a clone notification tells an instance, as Pacemaker's
// OCF_RESKEY_CRM_meta_notify_* variables: the type (pre or post), the
// operation notified (start, stop, promote, demote), and Vars such as
// notify_start_uname (space-separated node names) and
// notify_start_resource (instance names).
type Notify struct {
	Type      string            `json:"type"`
	Operation string            `json:"operation"`
	Vars      map[string]string `json:"vars,omitempty"`
}

// IsProbe reports whether the action is a probe (a one-shot monitor).
func (a *Action) IsProbe() bool { return a.Op == OpMonitor && a.Interval == 0 }

// String names the action as the plan prints it: "start web on n1",
// "monitor web 10s on n1", "probe web on n2", "fence n3".
func (a *Action) String() string {
	rsc := a.Rsc
	if a.Instance > 0 {
		rsc = fmt.Sprintf("%s#%d", rsc, a.Instance)
	}
	switch {
	case a.Op == OpFence:
		return "fence " + a.Node
	case a.Op == OpPseudo:
		return a.Label
	case a.Op == OpNotify && a.Notify != nil:
		return "notify " + a.Notify.Type + "-" + a.Notify.Operation + " " + rsc + " on " + a.Node
	case a.IsProbe():
		return "probe " + rsc + " on " + a.Node
	case a.Op == OpMonitor:
		s := "monitor " + rsc + " " + cib.Duration(a.Interval).String()
		if a.Role != "" {
			s += " " + a.Role
		}
		return s + " on " + a.Node
	case a.Implied:
		return a.Op + " " + rsc + " on " + a.Node + " (implied by fencing)"
	}
	return a.Op + " " + rsc + " on " + a.Node
}

// Explanation says why one resource is placed where it is.
type Explanation struct {
	// Rsc is the allocated resource: a primitive, group or clone.
	Rsc string `json:"rsc"`
	// Nodes has every node's final score, best first.
	Nodes []NodeScore `json:"nodes"`
	// Result is the decision in words: "runs on n1: highest score
	// (1100)", "stopped: no node may run it (n1: standby, ...)".
	Result string `json:"result"`
}

// NodeScore is one node's allocation score for a resource and what made it.
type NodeScore struct {
	Node          string         `json:"node"`
	Score         cib.Score      `json:"score"`
	Contributions []Contribution `json:"contributions,omitempty"`
}

// Contribution is one term of a node's score: a constraint, stickiness, a
// fail count, a node that cannot run resources, ...
type Contribution struct {
	Source string    `json:"source"`
	Score  cib.Score `json:"score"`
}

// Format prints a plan as text: placements, then actions in order, each
// with the actions it waits for. The scenario corpus compares this text.
func (p *Plan) Format() string {
	var b strings.Builder
	b.WriteString("placement:\n")
	w := 0
	for _, pl := range p.Placements {
		w = max(w, len(pl.Name()))
	}
	for _, pl := range p.Placements {
		fmt.Fprintf(&b, "  %-*s  ", w, pl.Name())
		if pl.Node == "" {
			b.WriteString("Stopped")
		} else {
			b.WriteString(pl.Node + " " + pl.Role)
		}
		if pl.Reason != "" {
			b.WriteString("  (" + pl.Reason + ")")
		}
		b.WriteByte('\n')
	}
	b.WriteString("actions:\n")
	if len(p.Actions) == 0 {
		b.WriteString("  (none)\n")
	}
	for i := range p.Actions {
		a := &p.Actions[i]
		fmt.Fprintf(&b, "  %d. %s", i+1, a.String())
		if len(a.After) > 0 {
			b.WriteString("  <- ")
			for j, id := range a.After {
				if j > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "%d", id+1)
			}
		}
		b.WriteByte('\n')
	}
	for _, wn := range p.Warnings {
		b.WriteString("warning: " + wn + "\n")
	}
	return b.String()
}

// FormatScores prints the explanations: each resource's node scores with
// their contributions, and the decision.
func (p *Plan) FormatScores() string {
	var b strings.Builder
	for _, e := range p.Explanations {
		fmt.Fprintf(&b, "%s: %s\n", e.Rsc, e.Result)
		for _, ns := range e.Nodes {
			fmt.Fprintf(&b, "  %-12s %9s", ns.Node, ns.Score)
			for i, c := range ns.Contributions {
				sep := " = "
				if i > 0 {
					sep = ", "
				}
				fmt.Fprintf(&b, "%s%s %s", sep, c.Score, c.Source)
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}
