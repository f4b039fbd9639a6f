package alerts

import (
	"fmt"
	"time"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/lrm"
)

// Kind is the kind of an event, as CRM_alert_kind names it.
type Kind string

// The kinds of event ("Pacemaker Administration", Writing an Alert Agent).
const (
	KindNode      Kind = "node"
	KindResource  Kind = "resource"
	KindFencing   Kind = "fencing"
	KindAttribute Kind = "attribute"
)

// selectName is the cib select kind that receives events of kind k.
func (k Kind) selectName() string {
	switch k {
	case KindNode:
		return "nodes"
	case KindResource:
		return "resources"
	case KindAttribute:
		return "attributes"
	}
	return "fencing"
}

// Event is one cluster event as alert agents see it. Which fields are
// passed depends on the kind, as in Pacemaker (see env).
type Event struct {
	Kind Kind
	// Time is when the event happened (CRM_alert_timestamp); zero means
	// when the runner was told of it.
	Time time.Time
	// Node is the node the event is about: the member that joined or was
	// lost, the node that ran the operation, the fencing target, the node
	// whose attribute changed.
	Node string
	// NodeID is the node's id (CRM_alert_nodeid), if it has one: node and
	// attribute events.
	NodeID string
	// Desc is CRM_alert_desc: member or lost; a readable result.
	Desc string
	// Task is the operation (start, monitor, ...) or fencing action.
	Task string
	// RC is the operation's or fencing's return code.
	RC int
	// Rsc, Interval, TargetRC, Status and ExecTime describe a resource
	// operation: Status is Pacemaker's op-status number (see OpStatus).
	Rsc      string
	Interval time.Duration
	TargetRC int
	Status   int
	ExecTime time.Duration
	// AttrName and AttrValue are a changed transient attribute ("" when it
	// was deleted).
	AttrName, AttrValue string
}

// Pacemaker's operation status numbers (enum pcmk_exec_status), which
// CRM_alert_status carries.
const (
	ExecDone         = 0
	ExecCancelled    = 1
	ExecTimeout      = 2
	ExecNotSupported = 3
	ExecError        = 4
	ExecErrorHard    = 5
	ExecErrorFatal   = 6
	ExecNotInstalled = 7
)

// OpStatus maps an lrm execution status to Pacemaker's op-status number.
func OpStatus(s lrm.ExecStatus) int {
	switch s {
	case lrm.StatusDone:
		return ExecDone
	case lrm.StatusCancelled:
		return ExecCancelled
	case lrm.StatusTimeout:
		return ExecTimeout
	case lrm.StatusNotInstalled:
		return ExecNotInstalled
	}
	return ExecError
}

// statusDesc is Pacemaker's pcmk_exec_status_str.
func statusDesc(status int) string {
	switch status {
	case ExecDone:
		return "Done"
	case ExecCancelled:
		return "Cancelled"
	case ExecTimeout:
		return "Timed out"
	case ExecNotSupported:
		return "Unsupported"
	case ExecError:
		return "Error"
	case ExecErrorHard:
		return "Hard error"
	case ExecErrorFatal:
		return "Fatal error"
	case ExecNotInstalled:
		return "Not installed"
	}
	return "Unrecognized status (bug?)"
}

// exitDesc is Pacemaker's crm_exit_str for the codes an OCF agent gives.
func exitDesc(rc int) string {
	switch rc {
	case ocf.Success:
		return "OK"
	case ocf.ErrGeneric:
		return "Error occurred"
	case ocf.ErrArgs:
		return "Invalid parameter"
	case ocf.ErrUnimplemented:
		return "Unimplemented"
	case ocf.ErrPerm:
		return "Insufficient privileges"
	case ocf.ErrInstalled:
		return "Not installed"
	case ocf.ErrConfigured:
		return "Not configured"
	case ocf.NotRunning:
		return "Not running"
	case ocf.RunningPromoted:
		return "Promoted"
	case ocf.FailedPromoted:
		return "Failed in promoted role"
	case ocf.Degraded:
		return "Service is active but might fail soon"
	case ocf.DegradedPromoted:
		return "Service is promoted but might fail soon"
	}
	if rc > 128 && rc < 193 {
		return "Interrupted by signal"
	}
	return "Unknown exit status"
}

// NodeEvent is a member becoming part of this node's view of the cluster
// (CRM_alert_desc "member") or leaving it, failed or gone ("lost").
func NodeEvent(node, nodeID string, member bool) Event {
	desc := "lost"
	if member {
		desc = "member"
	}
	return Event{Kind: KindNode, Node: node, NodeID: nodeID, Desc: desc}
}

// ResourceEvent is the event of one operation result of this node's
// resource manager, and whether it is alerted at all. Pacemaker's rules
// (lrmd_send_resource_alert, execd's notify-changes-only): meta-data is
// not; a recurring monitor's result is, the first time and whenever it
// changes, not when it repeats; a probe (a one-shot monitor) is not when
// it gives its expected result, "not running" (7) — so a probe that finds
// the resource running is. Every other result is alerted, success or not.
func ResourceEvent(c lrm.Completion) (Event, bool) {
	op := c.Op
	if op.Action == ocf.MetaData || c.Repeat {
		return Event{}, false
	}
	target := ocf.Success
	switch {
	case op.Interval > 0:
		target = c.Expect
	case op.Action == ocf.Monitor:
		target = ocf.NotRunning // a probe expects the resource stopped
		if op.RC == target {
			return Event{}, false
		}
	}
	status := OpStatus(op.Status)
	desc := statusDesc(status)
	if status == ExecDone {
		desc = exitDesc(op.RC)
	}
	return Event{
		Kind: KindResource, Node: c.Node, Rsc: op.Rsc, Task: op.Action, Interval: op.Interval,
		RC: op.RC, TargetRC: target, Status: status, Desc: desc,
		ExecTime: time.Duration(op.ExecMS * float64(time.Millisecond)),
	}, true
}

// Fencing is a completed fencing operation (for FencingEvent).
type Fencing struct {
	// Target is the fenced node; Action reboot, off or on.
	Target, Action string
	// Executioner is the node that fenced; Origin the node that asked,
	// and Client the requester on it; Ref the operation's id.
	Executioner, Origin, Client, Ref string
	// Status is Pacemaker's op-status number (ExecDone when the fence
	// agent ran), RC its code (0 success), Reason a failure's explanation.
	Status int
	RC     int
	Reason string
}

// FencingEvent is the event of a completed fencing operation (the fencing
// package calls it on every node that learns the result, as Pacemaker's
// controllers do). CRM_alert_desc is Pacemaker's description: "Operation
// reboot of n2 by n1 for paceline@n3: OK (ref=...)".
func FencingEvent(f Fencing) Event {
	or := func(s, dflt string) string {
		if s == "" {
			return dflt
		}
		return s
	}
	status := "OK"
	switch {
	case f.Status != ExecDone:
		status = statusDesc(f.Status)
	case f.RC != 0:
		status = statusDesc(ExecError)
	}
	if f.Reason != "" {
		status += " (" + f.Reason + ")"
	}
	desc := fmt.Sprintf("Operation %s of %s by %s for %s@%s: %s (ref=%s)", or(f.Action, "(unknown)"), or(f.Target, "no node"),
		or(f.Executioner, "the cluster"), or(f.Client, "a client"), or(f.Origin, "a node"), status, or(f.Ref, "(none)"))
	return Event{Kind: KindFencing, Node: f.Target, Task: f.Action, Desc: desc, RC: f.RC}
}

// AttributeEvent is a transient node attribute set to value ("" when it
// was deleted).
func AttributeEvent(node, nodeID, name, value string) Event {
	return Event{Kind: KindAttribute, Node: node, NodeID: nodeID, AttrName: name, AttrValue: value}
}
