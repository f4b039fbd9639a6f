package nginx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/paceline/paceline/proc"
)

// This file holds the agent's dealings with processes: nginx's command
// line, the pid file, /proc, and signals — always to a PID read from the
// pid file and checked to be an nginx process, never by name.

// master is a running nginx master process.
type master struct {
	Pid   int
	Pgrp  int    // its process group (its own PID once nginx has daemonized)
	Start uint64 // its start time (/proc/PID/stat), which tells it from a later process with its PID
}

// same reports whether m still runs: its PID is alive and was started
// when m was.
func (m *master) same() bool {
	st, err := proc.ReadStat(m.Pid)
	return err == nil && st.State != 'Z' && st.State != 'X' && st.Start == m.Start
}

// proc.Stat is what /proc/PID/stat says about a process.
// isNginx reports whether a process is an nginx of this binary: its
// command name is the binary's (the kernel keeps 15 bytes of it), or its
// title is nginx's ("nginx: master process ...").
func isNginx(pid int, st proc.Stat, binary string) bool {
	comm := filepath.Base(binary)
	if len(comm) > 15 {
		comm = comm[:15]
	}
	if st.Comm == comm {
		return true
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	return err == nil && bytes.HasPrefix(b, []byte("nginx: "))
}

// pidState is what the pid file says.
type pidState struct {
	M *master // nil: not running
	// Why explains a nil M ("no pid file", "pid 123 is not nginx", ...).
	Why string
}

// readMaster reads the pid file and checks that it names a live nginx
// process. Only an unreadable pid file is an error: a missing or empty
// one, a stale PID or a PID now used by another program all mean "not
// running". (nginx -t leaves an empty pid file behind.)
func readMaster(pidFile, binary string) (pidState, error) {
	b, err := os.ReadFile(pidFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return pidState{Why: "no pid file " + pidFile}, nil
	case err != nil:
		return pidState{}, fmt.Errorf("reading pid file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return pidState{Why: "pid file " + pidFile + " is empty"}, nil
	}
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 {
		return pidState{Why: fmt.Sprintf("pid file %s holds no PID (%.20q)", pidFile, s)}, nil
	}
	st, err := proc.ReadStat(pid)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return pidState{Why: fmt.Sprintf("pid %d (from %s) is gone", pid, pidFile)}, nil
	case err != nil:
		return pidState{}, err
	case st.State == 'Z' || st.State == 'X':
		return pidState{Why: fmt.Sprintf("pid %d (from %s) has exited", pid, pidFile)}, nil
	case !isNginx(pid, st, binary):
		return pidState{Why: fmt.Sprintf("pid %d (from %s) is %q, not nginx", pid, pidFile, st.Comm)}, nil
	}
	return pidState{M: &master{Pid: pid, Pgrp: st.Pgrp, Start: st.Start}}, nil
}

// childrenOf lists the live processes whose parent is pid (an nginx
// master's workers, cache manager and loader).
func childrenOf(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := proc.ReadStat(p); err == nil && st.Ppid == pid && st.State != 'Z' {
			out = append(out, p)
		}
	}
	return out
}

// removeStalePid removes a pid file that names no running nginx (nginx
// itself removes it on a graceful exit; not after SIGKILL).
func removeStalePid(pidFile, binary string) error {
	ps, err := readMaster(pidFile, binary)
	if err != nil {
		return err
	}
	if ps.M != nil {
		return fmt.Errorf("pid file %s: nginx still runs as pid %d", pidFile, ps.M.Pid)
	}
	if err := os.Remove(pidFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing pid file: %w", err)
	}
	return nil
}

// cmdResult is how an nginx command ended.
type cmdResult struct {
	Code   int // exit code; -1 if killed or not started
	Stdout string
	Stderr string
}

// Output caps: an nginx -T dump holds every configuration file; stderr
// holds a few messages.
const (
	maxStdout = 32 << 20
	maxStderr = 64 << 10
)

// capped is an io.Writer that keeps the first max bytes and counts the
// rest.
type capped struct {
	buf     bytes.Buffer
	max     int
	dropped int
}

func (c *capped) Write(p []byte) (int, error) {
	n := len(p)
	if room := c.max - c.buf.Len(); room < len(p) {
		c.dropped += len(p) - max(room, 0)
		p = p[:max(room, 0)]
	}
	c.buf.Write(p)
	return n, nil
}

func (c *capped) String() string {
	if c.dropped > 0 {
		return c.buf.String() + fmt.Sprintf("\n[%d bytes dropped]\n", c.dropped)
	}
	return c.buf.String()
}

// pipeGrace bounds how long the agent waits for nginx's output after the
// process it started has exited: a daemonized master whose error log is
// stderr (Debian's nginx logs there when the configuration names no
// error_log) holds the pipe open for ever.
const pipeGrace = 200 * time.Millisecond

// runNginx runs the binary with args in a process group of its own,
// from "/", with stdin from /dev/null, and waits for it to exit. At
// ctx's end the group is killed. A master that daemonizes leaves the
// group (nginx calls setsid) and lives on.
func runNginx(ctx context.Context, binary string, args ...string) (cmdResult, error) {
	if err := ctx.Err(); err != nil {
		return cmdResult{Code: -1}, fmt.Errorf("%s not run: %w", binary, err)
	}
	stdout, stderr := &capped{max: maxStdout}, &capped{max: maxStderr}
	cmd := exec.Command(binary, args...)
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = pipeGrace
	if err := cmd.Start(); err != nil {
		return cmdResult{Code: -1}, fmt.Errorf("running %s: %w", binary, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return cmdResult{Code: -1, Stdout: stdout.String(), Stderr: stderr.String()},
			fmt.Errorf("%s %s: killed: %w", binary, strings.Join(args, " "), context.Cause(ctx))
	}
	res := cmdResult{Code: cmd.ProcessState.ExitCode(), Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil, errors.Is(err, exec.ErrWaitDelay), errors.As(err, &ee):
		return res, nil
	}
	return res, fmt.Errorf("%s: %w", binary, err)
}

// signal sends sig to the master, unless it is gone (its PID may have
// been reused since the pid file was read: the start time tells).
func (m *master) signal(sig syscall.Signal) error {
	if !m.same() {
		return nil
	}
	if err := syscall.Kill(m.Pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("sending %v to nginx pid %d: %w", sig, m.Pid, err)
	}
	return nil
}

// kill ends the master and its children with SIGKILL, unless it is gone:
// each child by PID first (found by their parent, while they still have
// it), then the master's whole process group when it leads one (a
// daemonized nginx does), then the master. It returns the children it
// killed, for the caller to wait for: SIGKILL is sent at once but takes
// effect when each process next runs.
func (m *master) kill() ([]*master, error) {
	if !m.same() {
		return nil, nil
	}
	var children []*master
	for _, p := range childrenOf(m.Pid) {
		if st, err := proc.ReadStat(p); err == nil {
			children = append(children, &master{Pid: p, Pgrp: st.Pgrp, Start: st.Start})
		}
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	if m.Pgrp == m.Pid && m.Pid > 1 {
		_ = syscall.Kill(-m.Pid, syscall.SIGKILL)
	}
	if err := syscall.Kill(m.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return children, fmt.Errorf("sending SIGKILL to nginx pid %d: %w", m.Pid, err)
	}
	return children, nil
}
