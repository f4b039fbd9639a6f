package lrm

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/cib"
)

// Agent classes.
const (
	ClassOCF     = "ocf"
	ClassLSB     = "lsb"
	ClassSystemd = "systemd"
)

// Agent names a resource agent: class, provider (ocf only) and type, as in
// "ocf:heartbeat:Dummy", "lsb:nginx" or "systemd:redis-server" (the
// configuration's own type).
type Agent = cib.Agent

// ClassService is Pacemaker's "service" class: an LSB init script if one
// exists, else a systemd unit.
const ClassService = "service"

// ParseAgent reads "ocf:PROVIDER:TYPE" or "CLASS:TYPE".
func ParseAgent(s string) (Agent, error) { return cib.ParseAgent(s) }

// safeName: a provider or type is a file name, never a path.
func safeName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\x00")
}

// Request is one action on one resource.
type Request struct {
	// Rsc is the resource's instance name (OCF_RESOURCE_INSTANCE): the
	// primitive's ID, with ":N" for a clone instance.
	Rsc   string
	Agent Agent
	// Action is start, stop, monitor, promote, demote, notify, reload,
	// meta-data or validate-all.
	Action   string
	Interval time.Duration // a recurring monitor's interval (0: one-shot)
	Timeout  time.Duration // 0: the agent's advised timeout, else 20 s
	Params   map[string]string
	Meta     map[string]string
	// CheckLevel is a monitor's depth (OCF_CHECK_LEVEL).
	CheckLevel int
}

// Key names a request's operation as Pacemaker does: RSC_ACTION_INTERVALMS.
func (r Request) Key() string {
	return fmt.Sprintf("%s_%s_%d", r.Rsc, r.Action, r.Interval.Milliseconds())
}

// ExecStatus says how an execution ended, apart from its return code (as
// Pacemaker's op-status).
type ExecStatus string

const (
	// StatusDone: the agent ran and returned RC.
	StatusDone ExecStatus = "done"
	// StatusTimeout: the agent was killed at its timeout (RC is
	// ocf.ErrGeneric).
	StatusTimeout ExecStatus = "timeout"
	// StatusNotInstalled: the agent could not be found or executed (RC
	// is ocf.ErrInstalled).
	StatusNotInstalled ExecStatus = "not-installed"
	// StatusError: the request could not be carried out (Reason says
	// why; RC is ocf.ErrArgs or ocf.ErrConfigured for a bad request,
	// else ocf.ErrGeneric).
	StatusError ExecStatus = "error"
	// StatusCancelled: cancelled before or while running (a recurring
	// monitor stopped, the manager shut down).
	StatusCancelled ExecStatus = "cancelled"
)

// Result is what one execution gave. Return codes are OCF's for every
// class (an LSB status of 3 is ocf.NotRunning).
type Result struct {
	RC     int        `json:"rc"`
	Status ExecStatus `json:"status"`
	// Reason explains a status other than done, or a failure, in words.
	Reason string `json:"reason,omitempty"`
	// Output is an excerpt of what the agent printed (bounded).
	Output string `json:"output,omitempty"`
}

// OK reports whether the result is the expected success of its action:
// 0, or for a monitor also "not running" is a valid answer (the caller
// decides whether it was expected).
func (r Result) OK() bool { return r.Status == StatusDone && r.RC == ocf.Success }

// Runner runs one action of one agent class, with no queueing: the
// Manager serialises per resource and bounds concurrency. Run must end by
// the request's timeout (the context carries it), kill whatever it
// started, and report rather than return errors.
type Runner interface {
	Run(ctx context.Context, req Request) Result
}
