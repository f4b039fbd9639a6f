// Package crm is the controller: on the DC it turns events into scheduler
// runs and plans into LRM actions on the right nodes; on every node it
// carries out the DC's instructions. This file assembles the scheduler's
// status from what the nodes report; it is pure.
package crm

import (
	"maps"
	"slices"
	"strings"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/crm/scheduler"
	"github.com/paceline/paceline/lrm"
)

// NodeView is what the DC knows of one node when it schedules.
type NodeView struct {
	Name  string
	State scheduler.NodeState
	// Attrs are the node's transient attributes.
	Attrs map[string]string
	// History is the node's LRM history, when it could be collected
	// (HaveHistory); an online node without it is probed.
	History     []lrm.History
	HaveHistory bool
}

// BuildStatus assembles the scheduler's status: each node's state and
// attributes, and from its LRM history what runs there in which role,
// what failed and the fail counts. A resource with no history on an
// online node is left unknown, so the plan probes it.
func BuildStatus(quorate bool, nodes []NodeView) *scheduler.Status {
	st := &scheduler.Status{Quorate: quorate}
	for _, n := range nodes {
		ns := scheduler.NodeStatus{Name: n.Name, State: n.State, Attributes: maps.Clone(n.Attrs)}
		if n.HaveHistory {
			for _, h := range n.History {
				if rs, ok := resourceState(h); ok {
					ns.Resources = append(ns.Resources, rs)
				}
			}
			slices.SortStableFunc(ns.Resources, func(a, b scheduler.ResourceState) int { return strings.Compare(a.ID, b.ID) })
		}
		st.Nodes = append(st.Nodes, ns)
	}
	return st
}

// primitiveOf is the primitive a history belongs to: "web:1" is an
// instance of web.
func primitiveOf(rsc string) string {
	id, _, _ := strings.Cut(rsc, ":")
	return id
}

// stateRoles is the role a start, stop, promote or demote leaves a
// resource in when it succeeds, and when it fails (a failed stop or
// demote may have left it as it was); ok is false for other actions.
func stateRoles(action string) (done, failed string, ok bool) {
	switch action {
	case ocf.Start:
		return cib.RoleStarted, cib.RoleStarted, true
	case ocf.Stop:
		return cib.RoleStopped, cib.RoleStarted, true
	case ocf.Promote:
		return cib.RolePromoted, cib.RolePromoted, true
	case ocf.Demote:
		return cib.RoleUnpromoted, cib.RolePromoted, true
	}
	return "", "", false
}

// resourceState reads one resource's state from its history: the last
// state operation (start, stop, promote, demote, probe), overridden by a
// recurring monitor whose newer result says something else. ok is false
// when nothing tells the state.
func resourceState(h lrm.History) (scheduler.ResourceState, bool) {
	rs := scheduler.ResourceState{ID: primitiveOf(h.Rsc), FailCount: h.FailCount(), MonitorsKnown: true}
	for _, r := range h.Recurring {
		rs.Monitors = append(rs.Monitors, cib.Duration(r.Interval))
	}
	if h.LastFailure != nil && rs.FailCount > 0 {
		rs.LastFailure, rs.FailedRC = h.LastFailure.Started, h.LastFailure.RC
	}
	op := h.State
	if op == nil {
		return rs, false
	}
	// The newest recurring monitor result after it, if it is a failure
	// (a result back to the expected one confirms the state).
	var newest *lrm.Op
	for i := range h.Monitors {
		if m := &h.Monitors[i]; m.CallID > op.CallID && (newest == nil || m.CallID > newest.CallID) {
			newest = m
		}
	}
	if newest != nil && newest.Failed {
		op = newest
	}
	fail := func(role, failedOp string) {
		rs.Role, rs.Failed, rs.FailedOp = role, true, failedOp
	}
	ok := op.Status == lrm.StatusDone
	if done, failed, isState := stateRoles(op.Action); isState {
		if ok && op.RC == ocf.Success {
			rs.Role = done
		} else {
			fail(failed, op.Action)
		}
		return rs, true
	}
	if op.Action != ocf.Monitor {
		return rs, false
	}
	probe := op.Interval == 0
	switch {
	case !ok:
		fail(cib.RoleStarted, ocf.Monitor)
	case op.RC == ocf.Success || op.RC == ocf.Degraded:
		rs.Role = cib.RoleStarted
	case op.RC == ocf.RunningPromoted || op.RC == ocf.DegradedPromoted:
		rs.Role = cib.RolePromoted
	case op.RC == ocf.NotRunning && probe:
		rs.Role = cib.RoleStopped
	case op.RC == ocf.ErrInstalled && probe:
		// As Pacemaker: an agent missing here means the resource does
		// not run here (and cannot start here: the start will fail).
		rs.Role = cib.RoleStopped
	case op.RC == ocf.FailedPromoted:
		fail(cib.RolePromoted, ocf.Monitor)
	default:
		// A recurring monitor found it dead (7) or failing: recover
		// with a stop (idempotent) and a start, as Pacemaker does.
		fail(cib.RoleStarted, ocf.Monitor)
	}
	return rs, true
}
