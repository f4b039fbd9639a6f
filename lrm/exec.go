package lrm

import (
	"context"
	"errors"
	"time"

	"github.com/paceline/paceline/proc"
)

// Output bounds: an agent's combined stdout and stderr is kept as its
// first HeadBytes and its last TailBytes (proc.Capture).
const (
	HeadBytes = proc.HeadBytes
	TailBytes = proc.TailBytes
)

// process is the outcome of running an agent executable.
type process struct {
	code   int // exit code (-1 when killed by a signal)
	status ExecStatus
	reason string
	output string
}

// runProcess runs an agent with proc.Run: in a process group of its own,
// which a timeout or cancel ends with SIGTERM, then SIGKILL after grace.
func runProcess(ctx context.Context, path string, args, env []string, grace time.Duration) process {
	r := proc.Run(ctx, proc.Cmd{Path: path, Args: args, Env: env, Grace: grace})
	p := process{code: r.Code, reason: r.Reason, output: r.Output}
	switch r.Status {
	case proc.Done:
		p.status = StatusDone
	case proc.Timeout:
		p.status = StatusTimeout
	case proc.Cancelled:
		p.status = StatusCancelled
	case proc.NotInstalled:
		p.status, p.reason = StatusNotInstalled, "agent "+r.Reason
	default:
		p.status = StatusError
	}
	return p
}

// statusOf says why a context ended: its deadline (a timeout) or a cancel.
func statusOf(ctx context.Context) ExecStatus {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return StatusTimeout
	}
	return StatusCancelled
}
