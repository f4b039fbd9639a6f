package lrm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Output bounds: an agent's combined stdout and stderr is kept as its
// first HeadBytes and its last TailBytes; what lies between is counted and
// dropped, so an agent that prints megabytes costs no more memory than
// one that prints a line.
const (
	HeadBytes = 16 << 10
	TailBytes = 16 << 10
)

// capture is an io.Writer that keeps the head and tail of what it is
// given. It is safe for concurrent use (stdout and stderr may share it).
type capture struct {
	mu      sync.Mutex
	head    []byte
	tail    []byte // a ring of TailBytes once full
	pos     int    // next write position in tail when full
	full    bool
	dropped int64
}

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(p)
	if room := HeadBytes - len(c.head); room > 0 {
		k := min(room, len(p))
		c.head = append(c.head, p[:k]...)
		p = p[k:]
	}
	for len(p) > 0 {
		if !c.full {
			room := TailBytes - len(c.tail)
			k := min(room, len(p))
			c.tail = append(c.tail, p[:k]...)
			p = p[k:]
			if len(c.tail) == TailBytes {
				c.full = true
			}
			continue
		}
		// Overwrite the oldest bytes of the ring.
		k := min(TailBytes-c.pos, len(p))
		c.dropped += int64(k)
		copy(c.tail[c.pos:], p[:k])
		c.pos = (c.pos + k) % TailBytes
		p = p[k:]
	}
	return n, nil
}

// String is the kept output: the head, a marker with the number of bytes
// dropped, and the tail.
func (c *capture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	b.Write(c.head)
	if c.dropped > 0 {
		fmt.Fprintf(&b, "\n[... %d bytes of output dropped ...]\n", c.dropped)
	}
	if c.full {
		b.Write(c.tail[c.pos:])
		b.Write(c.tail[:c.pos])
	} else {
		b.Write(c.tail)
	}
	return b.String()
}

// process is the outcome of running an agent executable.
type process struct {
	code   int // exit code (-1 when killed by a signal)
	status ExecStatus
	reason string
	output string
}

// runProcess runs path with args and env in a process group of its own,
// and waits for it until ctx ends. At ctx's end the whole group gets
// SIGTERM, and SIGKILL after grace (or at once if the agent is still
// there), so an agent that hangs is killed together with its children. A
// child the agent leaves behind holding the output pipes delays the
// result by at most pipeGrace.
func runProcess(ctx context.Context, path string, args, env []string, grace time.Duration) process {
	const pipeGrace = time.Second
	out := &capture{}
	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = pipeGrace
	if err := ctx.Err(); err != nil {
		return process{code: -1, status: statusOf(ctx), reason: "not started: " + err.Error()}
	}
	if err := cmd.Start(); err != nil {
		return startFailure(path, err)
	}
	pgid := cmd.Process.Pid
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	killed := false
	select {
	case err = <-done:
	case <-ctx.Done():
		killed = true
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		t := time.NewTimer(grace)
		select {
		case err = <-done:
			t.Stop()
		case <-t.C:
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			err = <-done
		}
		// Children that ignored SIGTERM go too.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
	p := process{code: cmd.ProcessState.ExitCode(), output: out.String(), status: StatusDone}
	if killed {
		p.status = statusOf(ctx)
		p.reason = fmt.Sprintf("%s: killed with its process group (%v)", path, context.Cause(ctx))
		if p.status == StatusTimeout {
			p.reason = fmt.Sprintf("%s: timed out; killed with its process group", path)
		}
		return p
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil, errors.Is(err, exec.ErrWaitDelay):
	case errors.As(err, &exitErr):
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			p.status = StatusError
			p.reason = fmt.Sprintf("%s: killed by signal %v", path, ws.Signal())
		}
	default:
		p.status = StatusError
		p.reason = fmt.Sprintf("%s: %v", path, err)
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

// startFailure explains why an agent could not be started.
func startFailure(path string, err error) process {
	p := process{code: -1, status: StatusNotInstalled}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		p.reason = fmt.Sprintf("agent %s does not exist", path)
	case errors.Is(err, fs.ErrPermission):
		p.reason = fmt.Sprintf("agent %s is not executable (permission denied)", path)
	default:
		if fi, serr := os.Stat(path); serr == nil && fi.IsDir() {
			p.reason = fmt.Sprintf("agent %s is a directory", path)
		} else {
			p.reason = fmt.Sprintf("agent %s cannot be run: %v", path, err)
		}
	}
	return p
}
