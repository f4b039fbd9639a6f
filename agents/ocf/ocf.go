// Package ocf is the contract between the local resource manager and the
// resource agents built into Paceline: the OCF 1.1 return codes and
// actions, the Agent interface a built-in agent implements, the
// meta-data XML, and Main, which runs a built-in agent as an OCF
// executable (`paceline ocf vip start` with OCF_RESKEY_* in the
// environment), so that ocf-tester, or Pacemaker itself, can drive it.
//
// The OCF resource agent API: https://github.com/ClusterLabs/OCF-spec
// (ra/1.1/resource-agent-api.md).
package ocf

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Return codes of the OCF 1.1 API.
const (
	Success          = 0   // OCF_SUCCESS
	ErrGeneric       = 1   // OCF_ERR_GENERIC: a soft error, retry elsewhere
	ErrArgs          = 2   // OCF_ERR_ARGS: bad parameters for this node
	ErrUnimplemented = 3   // OCF_ERR_UNIMPLEMENTED: the action is not supported
	ErrPerm          = 4   // OCF_ERR_PERM: insufficient privileges
	ErrInstalled     = 5   // OCF_ERR_INSTALLED: a needed program is missing here
	ErrConfigured    = 6   // OCF_ERR_CONFIGURED: the configuration is wrong everywhere
	NotRunning       = 7   // OCF_NOT_RUNNING: cleanly stopped
	RunningPromoted  = 8   // OCF_RUNNING_PROMOTED
	FailedPromoted   = 9   // OCF_FAILED_PROMOTED
	Degraded         = 190 // OCF_DEGRADED: running, but not fully healthy
	DegradedPromoted = 191 // OCF_DEGRADED_PROMOTED
)

// RCName is the OCF name of a return code ("not running" for 7).
func RCName(rc int) string {
	switch rc {
	case Success:
		return "ok"
	case ErrGeneric:
		return "error"
	case ErrArgs:
		return "invalid parameter"
	case ErrUnimplemented:
		return "unimplemented feature"
	case ErrPerm:
		return "insufficient privileges"
	case ErrInstalled:
		return "not installed"
	case ErrConfigured:
		return "not configured"
	case NotRunning:
		return "not running"
	case RunningPromoted:
		return "promoted"
	case FailedPromoted:
		return "promoted (failed)"
	case Degraded:
		return "degraded"
	case DegradedPromoted:
		return "promoted (degraded)"
	}
	return fmt.Sprintf("unknown (%d)", rc)
}

// Actions an agent may be asked for.
const (
	Start       = "start"
	Stop        = "stop"
	Monitor     = "monitor"
	Promote     = "promote"
	Demote      = "demote"
	Notify      = "notify"
	Reload      = "reload"
	MetaData    = "meta-data"
	ValidateAll = "validate-all"
)

// Action is one request to a built-in agent.
type Action struct {
	// Name is the action: Start, Stop, Monitor, ...
	Name string
	// Instance is the resource's instance name (OCF_RESOURCE_INSTANCE),
	// e.g. "vip" or "web:1" for a clone instance.
	Instance string
	// Params are the resource's instance attributes (OCF_RESKEY_name).
	Params map[string]string
	// Meta are the action's and resource's meta attributes
	// (OCF_RESKEY_CRM_meta_name: interval, timeout, clone, notify_type...).
	Meta map[string]string
	// Interval is the recurring interval of a monitor (0: one-shot).
	Interval time.Duration
	// Timeout bounds the action; the context ends at it too.
	Timeout time.Duration
	// CheckLevel is a monitor's depth (OCF_CHECK_LEVEL; 0 = the basic
	// check).
	CheckLevel int
	// Attrs are the cluster's transient node attributes, for agents that
	// publish state (a ping agent's pingd, a promotion score); nil when
	// the agent runs without a cluster.
	Attrs Attrs
	// Out receives what the agent wants the operator to see (its output
	// excerpt in the op history); Log is for the agent's own logging.
	Out io.Writer
	Log *slog.Logger
}

// Param returns a parameter, or def when it is unset or empty.
func (a *Action) Param(name, def string) string {
	if v, ok := a.Params[name]; ok && v != "" {
		return v
	}
	return def
}

// Printf writes to the action's output.
func (a *Action) Printf(format string, args ...any) {
	if a.Out != nil {
		fmt.Fprintf(a.Out, format, args...)
		if len(format) == 0 || format[len(format)-1] != '\n' {
			io.WriteString(a.Out, "\n")
		}
	}
}

// Agent is a built-in resource agent. Run performs one action and returns
// its OCF return code; it must honour ctx (cancelled at the timeout) and
// never panic on bad parameters (ErrConfigured or ErrArgs, with a reason
// printed to the action's output). meta-data is answered from MetaData.
type Agent interface {
	// Name is the agent's type, e.g. "vip" (ocf:paceline:vip).
	Name() string
	// MetaData is the agent's description in the OCF meta-data format.
	MetaData() *ResourceAgent
	Run(ctx context.Context, a *Action) int
}

// Provider is the OCF provider of Paceline's built-in agents.
const Provider = "paceline"

// Attrs is the cluster's transient node attributes as an agent sees them:
// it sets and deletes its own node's, and reads every node's.
type Attrs interface {
	SetAttr(name, value string) error
	DeleteAttr(name string) error
	// Attrs is every node's attributes, by node name.
	Attrs() map[string]map[string]string
}

// InstanceName is the instance name for messages: "(no instance name)"
// when the caller gave none.
func (a *Action) InstanceName() string {
	if a.Instance == "" {
		return "(no instance name)"
	}
	return a.Instance
}
