package crm

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/crm/scheduler"
	"github.com/paceline/paceline/lrm"
)

// Dispatcher carries out one action of a transition on its node (the DC
// sends it there, tagged with its term) and returns its result.
type Dispatcher interface {
	Dispatch(ctx context.Context, a scheduler.Action) lrm.Result
}

// Report is how a transition went.
type Report struct {
	// Done counts the actions completed as expected (pseudo actions
	// included); Failed lists the actions whose result was not expected;
	// Skipped counts those never dispatched (their prerequisites failed,
	// or the transition was aborted).
	Done    int
	Failed  []ActionResult
	Skipped int
	// Aborted says the transition stopped dispatching early: a failure, a
	// probe that found something unexpected, or ctx (a new event).
	Aborted bool
	// Changed says a probe found a resource running, or a result changed
	// what the DC knows: it must schedule again.
	Changed bool
	Took    time.Duration
}

// ActionResult is one action and its result.
type ActionResult struct {
	Action scheduler.Action
	Result lrm.Result
}

// expected reports whether a result is what the action should give, and
// whether it changes what the DC knows (a probe finding it running).
func expected(a scheduler.Action, r lrm.Result) (ok, changed bool) {
	if r.Status != lrm.StatusDone {
		return false, true
	}
	if a.IsProbe() {
		switch r.RC {
		case ocf.NotRunning, ocf.ErrInstalled:
			return true, false
		case ocf.Success, ocf.RunningPromoted:
			return true, true // found running: plan again from here
		}
		return false, true
	}
	return r.RC == ocf.Success, r.RC != ocf.Success
}

// Execute runs a plan's action graph: every action whose prerequisites
// have all completed as expected is dispatched at once, in parallel (up
// to limit at a time, 0: no limit). Pseudo actions and stops implied by a
// fence complete when their prerequisites do. After the first unexpected
// result, or when ctx ends (a new event), nothing more is dispatched; the
// actions in flight finish and are reported. Execute returns when nothing
// is in flight.
func Execute(ctx context.Context, plan *scheduler.Plan, d Dispatcher, limit int) Report {
	start := time.Now()
	n := len(plan.Actions)
	waiting := make([]int, n) // prerequisites not yet done
	next := make([][]int, n)
	for _, a := range plan.Actions {
		waiting[a.ID] = len(a.After)
		for _, b := range a.After {
			next[b] = append(next[b], a.ID)
		}
	}
	var (
		rep      Report
		mu       sync.Mutex
		wg       sync.WaitGroup
		stopping bool
		inflight int
		queue    []int
		wake     = make(chan struct{}, 1)
	)
	for i := range n {
		if waiting[i] == 0 {
			queue = append(queue, i)
		}
	}
	signal := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	// complete marks an action done and queues what it unblocks; called
	// with mu held.
	complete := func(id int) {
		rep.Done++
		for _, m := range next[id] {
			if waiting[m]--; waiting[m] == 0 {
				queue = append(queue, m)
			}
		}
	}
	for {
		mu.Lock()
		if ctx.Err() != nil && !stopping {
			stopping, rep.Aborted = true, true
		}
		for !stopping && len(queue) > 0 && (limit <= 0 || inflight < limit) {
			id := queue[0]
			queue = queue[1:]
			a := plan.Actions[id]
			if a.Op == scheduler.OpPseudo || a.Implied {
				complete(id)
				continue
			}
			inflight++
			wg.Add(1)
			go func() {
				defer wg.Done()
				// An action in flight finishes even when the transition
				// is aborted: cancelling it half-way would leave its
				// resource in a state nobody recorded. Its own timeout
				// bounds it.
				r := d.Dispatch(context.WithoutCancel(ctx), a)
				ok, changed := expected(a, r)
				mu.Lock()
				inflight--
				rep.Changed = rep.Changed || changed
				switch {
				case ok && !(a.IsProbe() && changed):
					complete(id)
				case ok:
					// A probe found it running: the rest of the plan was
					// made without knowing; finish what runs, plan again.
					rep.Done++
					stopping, rep.Aborted, rep.Changed = true, true, true
				default:
					rep.Failed = append(rep.Failed, ActionResult{Action: a, Result: r})
					stopping, rep.Aborted, rep.Changed = true, true, true
				}
				mu.Unlock()
				signal()
			}()
		}
		idle := inflight == 0 && (stopping || len(queue) == 0)
		done := ctx.Done()
		if stopping {
			done = nil // only the actions in flight are waited for
		}
		mu.Unlock()
		if idle {
			break
		}
		select {
		case <-wake:
		case <-done:
		}
	}
	wg.Wait()
	rep.Skipped = n - rep.Done - len(rep.Failed)
	rep.Took = time.Since(start)
	return rep
}

// lrmName is the name the LRM knows a plan action's resource by: the
// primitive, with ":N" for a second or later copy of a clone on one node.
func lrmName(a scheduler.Action) string {
	if a.Instance > 0 {
		return fmt.Sprintf("%s:%d", a.Rsc, a.Instance)
	}
	return a.Rsc
}
