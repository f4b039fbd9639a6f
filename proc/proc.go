// Package proc runs the programs Paceline calls — resource agents, fence
// agents, alert scripts — in a process group of their own, with bounded
// output and a deadline that ends the whole group: SIGTERM, then SIGKILL
// after a grace period.
package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Output bounds: a process's combined stdout and stderr is kept as its
// first HeadBytes and its last TailBytes; what lies between is counted and
// dropped, so a process that prints megabytes costs no more memory than
// one that prints a line.
const (
	HeadBytes = 16 << 10
	TailBytes = 16 << 10
)

// Capture is an io.Writer that keeps the head and tail of what it is
// given. It is safe for concurrent use (stdout and stderr may share it).
type Capture struct {
	mu      sync.Mutex
	head    []byte
	tail    []byte // a ring of TailBytes once full
	pos     int    // next write position in tail when full
	full    bool
	dropped int64
}

func (c *Capture) Write(p []byte) (int, error) {
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
func (c *Capture) String() string {
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

// Status says how a run ended, apart from its exit code.
type Status int

const (
	// Done: the program ran and exited with Code.
	Done Status = iota
	// Timeout: the context's deadline ended it (its group was killed).
	Timeout
	// Cancelled: the context was cancelled (its group was killed).
	Cancelled
	// Error: killed by a signal, or the wait failed.
	Error
	// NotInstalled: it could not be started (missing, not executable).
	NotInstalled
)

// Cmd is what to run.
type Cmd struct {
	Path string
	Args []string
	Env  []string
	// Stdin, if set, is the program's standard input.
	Stdin io.Reader
	// Grace is how long the group has after SIGTERM before SIGKILL.
	Grace time.Duration
}

// Result is the outcome of a run.
type Result struct {
	Code   int // exit code (-1 when killed by a signal or not started)
	Status Status
	Reason string
	Output string
}

// Run runs c in a process group of its own, and waits for it until ctx
// ends. At ctx's end the whole group gets SIGTERM, and SIGKILL after
// c.Grace (or at once if the program is still there), so a program that
// hangs is killed together with its children. A child left behind holding
// the output pipes delays the result by at most a second.
func Run(ctx context.Context, c Cmd) Result {
	const pipeGrace = time.Second
	path := c.Path
	out := &Capture{}
	cmd := exec.Command(path, c.Args...)
	cmd.Env = c.Env
	cmd.Dir = "/"
	cmd.Stdin = c.Stdin
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = pipeGrace
	if err := ctx.Err(); err != nil {
		return Result{Code: -1, Status: statusOf(ctx), Reason: "not started: " + err.Error()}
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
		t := time.NewTimer(c.Grace)
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
	p := Result{Code: cmd.ProcessState.ExitCode(), Output: out.String(), Status: Done}
	if killed {
		p.Status = statusOf(ctx)
		p.Reason = fmt.Sprintf("%s: killed with its process group (%v)", path, context.Cause(ctx))
		if p.Status == Timeout {
			p.Reason = fmt.Sprintf("%s: timed out; killed with its process group", path)
		}
		return p
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil, errors.Is(err, exec.ErrWaitDelay):
	case errors.As(err, &exitErr):
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			p.Status = Error
			p.Reason = fmt.Sprintf("%s: killed by signal %v", path, ws.Signal())
		}
	default:
		p.Status = Error
		p.Reason = fmt.Sprintf("%s: %v", path, err)
	}
	return p
}

// statusOf says why a context ended: its deadline (a timeout) or a cancel.
func statusOf(ctx context.Context) Status {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return Timeout
	}
	return Cancelled
}

// startFailure explains why a program could not be started.
func startFailure(path string, err error) Result {
	p := Result{Code: -1, Status: NotInstalled}
	fi, serr := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		p.Reason = fmt.Sprintf("%s does not exist", path)
	case serr == nil && fi.IsDir():
		p.Reason = fmt.Sprintf("%s is a directory", path)
	case errors.Is(err, fs.ErrPermission):
		p.Reason = fmt.Sprintf("%s is not executable (permission denied)", path)
	default:
		p.Reason = fmt.Sprintf("%s cannot be run: %v", path, err)
	}
	return p
}
