package lrm

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/proc"
)

// builtinGrace is how long a built-in agent whose context ended has to
// say what it did.
const builtinGrace = 2 * time.Second

// Builtin runs Paceline's built-in agents (ocf:paceline:TYPE) in-process:
// no fork, no exec, the same contract as their OCF executables.
type Builtin struct {
	Agents map[string]ocf.Agent // by type
	Log    *slog.Logger
	// Attrs are the cluster's transient attributes (ocf.Action.Attrs);
	// nil without a cluster.
	Attrs ocf.Attrs
}

// Has reports whether a built-in agent of that type exists.
func (b *Builtin) Has(typ string) bool { _, ok := b.Agents[typ]; return ok }

// Run runs one action. An agent that ignores its context's end is left
// to finish in the background; the result is a timeout all the same.
func (b *Builtin) Run(ctx context.Context, req Request) Result {
	ag, ok := b.Agents[req.Agent.Type]
	if !ok {
		return Result{RC: ocf.ErrInstalled, Status: StatusNotInstalled, Reason: fmt.Sprintf("no built-in agent ocf:%s:%s", ocf.Provider, req.Agent.Type)}
	}
	md := ag.MetaData()
	if req.Action == ocf.MetaData {
		x, err := md.XML()
		if err != nil {
			return Result{RC: ocf.ErrGeneric, Status: StatusError, Reason: err.Error()}
		}
		return Result{RC: ocf.Success, Status: StatusDone, Output: string(x)}
	}
	if !md.Supports(req.Action) {
		return Result{RC: ocf.ErrUnimplemented, Status: StatusDone, Reason: fmt.Sprintf("%s: action %s is not implemented", req.Agent, req.Action)}
	}
	if err := ctx.Err(); err != nil {
		return Result{RC: ocf.ErrGeneric, Status: statusOf(ctx), Reason: "not started: " + err.Error()}
	}
	out := &proc.Capture{}
	log := b.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	act := &ocf.Action{
		Name: req.Action, Instance: req.Rsc, Params: req.Params, Meta: req.Meta,
		Interval: req.Interval, Timeout: req.Timeout, CheckLevel: req.CheckLevel, Attrs: b.Attrs, Out: out,
		Log: log.With("rsc", req.Rsc, "agent", req.Agent.String(), "action", req.Action),
	}
	done := make(chan int, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				fmt.Fprintf(out, "agent panicked: %v\n", p)
				done <- -1
			}
		}()
		done <- ag.Run(ctx, act)
	}()
	result := func(rc int) Result {
		r := Result{RC: rc, Status: StatusDone, Output: out.String()}
		if rc < 0 {
			r.RC, r.Status, r.Reason = ocf.ErrGeneric, StatusError, fmt.Sprintf("%s: %s panicked", req.Agent, req.Action)
		} else if rc != ocf.Success && rc != ocf.NotRunning && rc != ocf.RunningPromoted {
			r.Reason = fmt.Sprintf("%s (rc %d)", ocf.RCName(rc), rc)
		}
		return r
	}
	select {
	case rc := <-done:
		return result(rc)
	case <-ctx.Done():
		// The agent sees its context end; what it did until it noticed
		// is what happened, so its own answer is the result, if it comes
		// within the grace.
		t := time.NewTimer(builtinGrace)
		defer t.Stop()
		select {
		case rc := <-done:
			if rc == ocf.Success || rc == ocf.NotRunning || rc == ocf.RunningPromoted {
				return result(rc)
			}
		case <-t.C:
		}
		st := statusOf(ctx)
		why := "cancelled"
		if st == StatusTimeout {
			why = "timed out"
		}
		return Result{RC: ocf.ErrGeneric, Status: st, Output: out.String(), Reason: fmt.Sprintf("%s: %s %s", req.Agent, req.Action, why)}
	}
}
