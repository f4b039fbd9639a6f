// Package ping is ocf:paceline:ping, as ocf:pacemaker:ping: a clone that
// sets, on every node, a transient node attribute (`pingd` by default)
// to multiplier × the number of targets this node reaches, so that
// location rules (`not_defined pingd or pingd lt 1` → -INFINITY) keep
// resources off nodes that have lost their uplink.
//
//	host_list="192.0.2.254 gw:443"  IPv4 addresses (ICMP echo) and host:port (TCP connect)
//	name=pingd multiplier=1         the attribute and its value per reachable target
//	attempts=3 timeout=2s           per target: tries, and the wait for each
//	dampen=5s                       a changed value is set once it has held this long
//
// Actions:
//
//	start      probe, set the attribute at once, remember the instance as started
//	monitor    7 when not started; else probe and update the attribute
//	           (dampened), and 0 — also with no target reachable: the
//	           attribute carries the result, not the monitor
//	stop       delete the attribute and forget the instance
//
// The instance's state (started, the value set, a change waiting out
// its dampening) is a small file per node and instance in state_dir, so
// that the agent works the same in-process and as an OCF executable,
// where each action is a process of its own. The recurring monitor does
// the probing, as in Pacemaker: a change is set at the first monitor at
// or after dampen from the monitor that first saw it, so a monitor
// interval shorter than dampen keeps the delay close to dampen.
//
// With no cluster (the action has no Attrs: the OCF executable run by
// hand or by ocf-tester), the value is printed; the OCF executable
// (Executable) first tries the local agent's API on PACELINE_SOCKET, or
// /run/paceline/paceline.sock, and sets the attribute there.
package ping

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/paceline/paceline/agents/ocf"
)

// Agent is ocf:paceline:ping. It holds no state of its instances: that
// lives in their state files.
type Agent struct {
	exec   bool // the OCF executable: no Attrs → the local agent's API
	getenv func(string) string
	now    func() time.Time // the wall clock; dampening spans processes
	probe  prober
}

// Option configures the agent.
type Option func(*Agent)

// Executable marks the agent as run as an OCF executable, one action
// per process (agents.Builtins(nil)): an action that comes without
// Attrs then sets the attribute through the local agent's API when an
// agent answers on PACELINE_SOCKET (default /run/paceline/paceline.sock),
// and only prints it otherwise.
func Executable(on bool) Option { return func(ag *Agent) { ag.exec = on } }

// New returns the agent.
func New(opts ...Option) *Agent {
	ag := &Agent{getenv: os.Getenv, now: time.Now}
	for _, o := range opts {
		o(ag)
	}
	return ag
}

// Name is "ping".
func (*Agent) Name() string { return "ping" }

// Run performs one action.
func (ag *Agent) Run(ctx context.Context, a *ocf.Action) int {
	p, err := parseParams(a)
	switch a.Name {
	case ocf.ValidateAll:
		if err != nil {
			a.Printf("%v", err)
			return ocf.ErrConfigured
		}
		return ocf.Success
	case ocf.Stop:
		// A stop must not fail on a configuration gone bad: it cleans up
		// what it can name.
		return ag.stop(ctx, a, p)
	case ocf.Start, ocf.Monitor:
	default:
		return ocf.ErrUnimplemented
	}
	if err != nil {
		a.Printf("%v", err)
		return ocf.ErrConfigured
	}
	if a.Name == ocf.Start {
		return ag.start(ctx, a, p)
	}
	return ag.monitor(ctx, a, p)
}

func (ag *Agent) start(ctx context.Context, a *ocf.Action, p *params) int {
	s, err := ag.sinkFor(ctx, a)
	if err != nil {
		a.Printf("start: %v", err)
		return ocf.ErrGeneric
	}
	v, n, rc := ag.measure(ctx, a, p)
	if rc != ocf.Success {
		return rc
	}
	// No dampening on start: the attribute is there from the first moment.
	path := statePath(a, p)
	if err := writeState(path, state{Written: v}); err != nil {
		a.Printf("start: %v", err)
		return ocf.ErrGeneric
	}
	// An attribute already at the value is left alone: every change is an
	// event that makes the DC schedule again.
	if live, set, known := s.current(p.name); !known || !set || live != v {
		if err := s.set(a, p.name, v); err != nil {
			a.Printf("start: %v", err)
			_ = removeState(path)
			return ocf.ErrGeneric
		}
	}
	a.Printf("%s=%s: %d of %d targets reachable", p.name, v, n, len(p.targets))
	return ocf.Success
}

func (ag *Agent) monitor(ctx context.Context, a *ocf.Action, p *params) int {
	path := statePath(a, p)
	st, started, err := readState(path)
	if err != nil {
		a.Printf("monitor: %v", err)
		return ocf.ErrGeneric
	}
	if !started {
		return ocf.NotRunning
	}
	s, err := ag.sinkFor(ctx, a)
	if err != nil {
		a.Printf("monitor: %v", err)
		return ocf.ErrGeneric
	}
	v, n, rc := ag.measure(ctx, a, p)
	if rc != ocf.Success {
		return rc
	}
	next, write := st.observe(v, ag.now(), p.dampen)
	if live, set, known := s.current(p.name); !write && known && (!set || live != next.Written) {
		// The attribute was lost (the node's agent restarted) or changed
		// by hand: set the value again; this is no change to dampen.
		write = true
	}
	if write {
		if err := s.set(a, p.name, next.Written); err != nil {
			a.Printf("monitor: %v", err)
			return ocf.ErrGeneric
		}
	}
	if write || next.Written != st.Written || next.Pending != st.Pending || !next.Since.Equal(st.Since) {
		if err := writeState(path, next); err != nil {
			a.Printf("monitor: %v", err)
			return ocf.ErrGeneric
		}
	}
	switch {
	case write:
		a.Printf("%s=%s: %d of %d targets reachable", p.name, next.Written, n, len(p.targets))
		if a.Log != nil && next.Written != st.Written {
			a.Log.Info("attribute changed", "attr", p.name, "from", st.Written, "to", next.Written, "reachable", n, "targets", len(p.targets))
		}
	case next.Pending != "":
		a.Printf("%s=%s: %d of %d targets reachable; %s must hold for %v before it is set (seen since %s)",
			p.name, next.Written, n, len(p.targets), next.Pending, p.dampen, next.Since.Format(time.RFC3339Nano))
	default:
		a.Printf("%s=%s: %d of %d targets reachable", p.name, next.Written, n, len(p.targets))
	}
	return ocf.Success
}

func (ag *Agent) stop(ctx context.Context, a *ocf.Action, p *params) int {
	if s, err := ag.sinkFor(ctx, a); err != nil {
		a.Printf("stop: %v (the attribute is left)", err)
	} else if err := s.del(a, p.name); err != nil {
		a.Printf("stop: %v", err)
	}
	if !filepath.IsAbs(p.stateDir) {
		return ocf.Success // no state file was ever written there
	}
	if err := removeState(statePath(a, p)); err != nil {
		a.Printf("stop: %v", err)
		return ocf.ErrGeneric
	}
	return ocf.Success
}

// measure probes the targets: the attribute's value, and how many
// answered.
func (ag *Agent) measure(ctx context.Context, a *ocf.Action, p *params) (value string, reached, rc int) {
	n, err := ag.probe.count(ctx, p.targets, p.attempts, p.timeout)
	switch {
	case errors.Is(err, errNoICMP):
		a.Printf("%s: %v", a.Name, err)
		return "", 0, ocf.ErrPerm
	case err != nil:
		a.Printf("%s: %v", a.Name, err)
		return "", 0, ocf.ErrGeneric
	case ctx.Err() != nil:
		a.Printf("%s: cut short while probing (each target takes up to attempts × timeout = %v): %v",
			a.Name, time.Duration(p.attempts)*p.timeout, context.Cause(ctx))
		return "", 0, ocf.ErrGeneric
	}
	return strconv.FormatInt(int64(n)*int64(p.multiplier), 10), n, ocf.Success
}
