package scheduler

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/paceline/paceline/cib"
)

// Status is what the DC knows of the cluster when it schedules: which nodes
// are up, their transient attributes, and what each node's LRM says runs
// there. The controller assembles it from membership, quorum and the LRM
// histories; `paceline simulate` reads it from a file a person can write.
type Status struct {
	// Quorate says whether the partition the DC is in has quorum. Without
	// it, no-quorum-policy decides what may run.
	Quorate bool `json:"quorate" yaml:"quorate"`
	// Nodes lists what is known of each node. A configured node that is
	// missing here is offline.
	Nodes []NodeStatus `json:"nodes,omitempty" yaml:"nodes,omitempty"`
}

// NodeState is a node's membership state as the DC sees it.
type NodeState string

// The node states.
const (
	// NodeOnline is a member of the DC's partition.
	NodeOnline NodeState = "online"
	// NodeOffline is known to run nothing: it left cleanly, was fenced, or
	// was lost longer ago than node-loss-grace.
	NodeOffline NodeState = "offline"
	// NodeUnclean was lost and may still run what it ran. With
	// stonith-enabled it is fenced first; without, its resources stay
	// where they were (blocked) until the controller reports it offline.
	NodeUnclean NodeState = "unclean"
)

// NodeStatus is one node's state and what its LRM reported.
type NodeStatus struct {
	Name string `json:"name" yaml:"name"`
	// State defaults to online.
	State NodeState `json:"state,omitempty" yaml:"state,omitempty"`
	// Probed says that every resource not listed in Resources is known to
	// be stopped on this node. Without it, an unlisted resource's state
	// here is unknown and the plan probes it first.
	Probed bool `json:"probed,omitempty" yaml:"probed,omitempty"`
	// Attributes are the node's transient attributes (pingd, master-RSC
	// promotion scores, ...); they override permanent node attributes of
	// the same name in rules.
	Attributes map[string]string `json:"attributes,omitempty" yaml:"attributes,omitempty"`
	// Resources is the node's LRM state, one entry per primitive (per
	// instance for a clone with several copies on the node).
	Resources []ResourceState `json:"resources,omitempty" yaml:"resources,omitempty"`
}

// ResourceState is what a node's LRM knows of one primitive.
type ResourceState struct {
	// ID is the primitive's id (for a clone, the cloned primitive's id).
	ID string `json:"id" yaml:"id"`
	// Role is Stopped (probed, not running), Started, Unpromoted or
	// Promoted. Empty means Started. Entries on an offline node count as
	// stopped.
	Role string `json:"role,omitempty" yaml:"role,omitempty"`
	// Failed says the last operation failed (FailedOp, default monitor)
	// and the resource needs recovery here, as the op's on-fail says.
	// With role Stopped it failed and has since been stopped: nothing is
	// stopped again, but on-fail=stop, block or standby still holds.
	Failed   bool   `json:"failed,omitempty" yaml:"failed,omitempty"`
	FailedOp string `json:"failed-op,omitempty" yaml:"failed-op,omitempty"`
	// FailCount is how many times the resource failed on this node;
	// LastFailure is when it last did (for failure-timeout).
	FailCount   int       `json:"fail-count,omitempty" yaml:"fail-count,omitempty"`
	LastFailure time.Time `json:"last-failure,omitzero" yaml:"last-failure,omitempty"`
	// FailedRC is the OCF return code of the last failure here (while the
	// fail count lasts). As with Pacemaker, some codes say the resource
	// cannot run here, or anywhere, until the failure is cleaned up:
	// 2 (invalid argument), 3 (unimplemented), 4 (insufficient privileges)
	// and 5 (not installed) ban it from this node; 6 (not configured: the
	// parameters are wrong everywhere) bans it from every node.
	FailedRC int `json:"failed-rc,omitempty" yaml:"failed-rc,omitempty"`
	// Monitors are the intervals of the recurring monitors running for it
	// here, when MonitorsKnown (the live cluster always knows; a status
	// file without the field says nothing, and nothing is planned for
	// them). A configured monitor missing there is started again, as
	// Pacemaker does: a transition aborted after a start but before its
	// monitor must not leave the resource unmonitored.
	Monitors      []cib.Duration `json:"monitors,omitempty" yaml:"monitors,omitempty"`
	MonitorsKnown bool           `json:"monitors-known,omitempty" yaml:"monitors-known,omitempty"`
}

// DecodeStatusYAML reads a status file strictly: unknown fields are errors.
func DecodeStatusYAML(b []byte) (*Status, error) {
	var s Status
	d := yaml.NewDecoder(bytes.NewReader(b))
	d.KnownFields(true)
	if err := d.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return &s, nil
		}
		return nil, fmt.Errorf("status: %w", err)
	}
	return &s, nil
}

// Validate checks a status against the configuration it goes with and
// reports every problem: unnamed or repeated nodes, unknown states, roles
// and ops, and resources that are not primitives of the configuration. A
// node the configuration does not list is allowed (a member that has not
// registered yet); the scheduler treats it like any other node.
func (s *Status) Validate(c *cib.Config) error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	prims := make(map[string]bool, len(c.Primitives))
	for i := range c.Primitives {
		prims[c.Primitives[i].ID] = true
	}
	// cloneOf: a primitive -> its clone (directly, or through its group).
	cloneOf := map[string]*cib.Clone{}
	for i := range c.Clones {
		cl := &c.Clones[i]
		cloneOf[cl.Rsc] = cl
		if g := c.Group(cl.Rsc); g != nil {
			for _, m := range g.Members {
				cloneOf[m] = cl
			}
		}
	}
	seen := map[string]bool{}
	for i, n := range s.Nodes {
		where := fmt.Sprintf("nodes[%d]", i)
		if n.Name == "" {
			add("%s: node without a name", where)
			continue
		}
		where = "nodes[" + n.Name + "]"
		if seen[n.Name] {
			add("%s: listed twice", where)
		}
		seen[n.Name] = true
		switch n.State {
		case "", NodeOnline, NodeOffline, NodeUnclean:
		default:
			add("%s: unknown state %q (want online, offline or unclean)", where, n.State)
		}
		perNode := map[string]int{}
		for j, r := range n.Resources {
			rw := fmt.Sprintf("%s.resources[%d]", where, j)
			if !prims[r.ID] {
				add("%s: %q is not a primitive of the configuration", rw, r.ID)
				continue
			}
			clone := cloneOf[r.ID]
			perNode[r.ID]++
			if perNode[r.ID] > 1 && clone == nil {
				add("%s: %s is listed twice on %s but is not cloned", rw, r.ID, n.Name)
			}
			switch r.Role {
			case "", cib.RoleStarted, cib.RoleStopped:
			case cib.RoleUnpromoted, cib.RolePromoted:
				if clone == nil || !clone.Promotable {
					add("%s: role %s needs a promotable clone", rw, r.Role)
				}
			default:
				add("%s: unknown role %q (want Stopped, Started, Unpromoted or Promoted)", rw, r.Role)
			}
			switch r.FailedOp {
			case "", "start", "stop", "monitor", "promote", "demote":
			default:
				add("%s: unknown failed-op %q (want start, stop, monitor, promote or demote)", rw, r.FailedOp)
			}
			if r.FailCount < 0 {
				add("%s: negative fail-count", rw)
			}
			if r.FailedRC < 0 || r.FailedRC > 255 {
				add("%s: failed-rc %d is not an exit code (0-255)", rw, r.FailedRC)
			}
			if r.FailedOp != "" && !r.Failed {
				add("%s: failed-op without failed: true", rw)
			}
		}
	}
	if len(problems) == 0 {
		return nil
	}
	slices.Sort(problems)
	return &StatusError{Problems: problems}
}

// StatusError lists what is wrong with a status.
type StatusError struct{ Problems []string }

func (e *StatusError) Error() string {
	var b bytes.Buffer
	b.WriteString("bad status:")
	for _, p := range e.Problems {
		b.WriteString("\n  " + p)
	}
	return b.String()
}
