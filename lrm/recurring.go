package lrm

import (
	"context"
	"fmt"
	"time"

	"github.com/paceline/paceline/agents/ocf"
)

// recurring is a running recurring monitor.
type recurring struct {
	req    Request
	expect int
	cancel context.CancelFunc
}

// StartRecurring runs a monitor now and then every req.Interval after the
// previous one ended, until StopRecurring, a stop of the resource, or
// Close. expect is the code a healthy resource gives (ocf.Success, or
// ocf.RunningPromoted for a promoted instance). A result that differs
// from the previous one (the first: from expect) is recorded in the
// history, counted as a failure when it is not expect, and passed to
// Options.OnChange. Starting a monitor of the same resource and interval
// replaces the old one.
func (m *Manager) StartRecurring(req Request, expect int) error {
	if req.Action != ocf.Monitor || req.Interval <= 0 {
		return fmt.Errorf("%s: a recurring operation is a monitor with an interval > 0 (got %s every %v)", req.Rsc, req.Action, req.Interval)
	}
	if err := check(req); err != nil {
		return err
	}
	if _, err := m.runner(req.Agent); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &recurring{req: req, expect: expect, cancel: cancel}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		cancel()
		return fmt.Errorf("%s: the resource manager is shut down", req.Rsc)
	}
	if old := m.recurring[req.Key()]; old != nil {
		old.cancel()
	}
	m.recurring[req.Key()] = r
	m.wg.Add(1)
	m.mu.Unlock()
	go m.runRecurring(ctx, r)
	return nil
}

// StopRecurring cancels a recurring monitor (an action in flight is
// cancelled too); it reports whether one ran.
func (m *Manager) StopRecurring(rsc string, interval time.Duration) bool {
	key := Request{Rsc: rsc, Action: ocf.Monitor, Interval: interval}.Key()
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.recurring[key]
	if r == nil {
		return false
	}
	r.cancel()
	delete(m.recurring, key)
	return true
}

// CancelRecurring cancels every recurring monitor of a resource (before
// a promote or demote, whose role the monitors were made for).
func (m *Manager) CancelRecurring(rsc string) { m.cancelRecurring(rsc) }

// cancelRecurring cancels every recurring monitor of a resource.
func (m *Manager) cancelRecurring(rsc string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, r := range m.recurring {
		if r.req.Rsc == rsc {
			r.cancel()
			delete(m.recurring, k)
		}
	}
}

func (m *Manager) runRecurring(ctx context.Context, r *recurring) {
	defer m.wg.Done()
	prev := Result{RC: r.expect, Status: StatusDone}
	req := m.withNode(r.req)
	if req.Timeout == 0 {
		req.Timeout = ocf.DefaultTimeout
	}
	run, err := m.runner(req.Agent)
	if err != nil {
		return
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for first := true; ; first = false {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		queued := time.Now()
		release, err := m.acquire(ctx, req.Rsc)
		if err != nil {
			return
		}
		op := Op{Rsc: req.Rsc, Agent: req.Agent.String(), Action: req.Action, Interval: req.Interval, Started: time.Now()}
		op.QueueMS = ms(op.Started.Sub(queued))
		rctx, cancel := context.WithTimeout(ctx, req.Timeout)
		op.Result = run.Run(rctx, req)
		cancel()
		release()
		op.ExecMS = ms(time.Since(op.Started))
		if op.Status == StatusCancelled || ctx.Err() != nil {
			return
		}
		op.RCName = ocf.RCName(op.RC)
		changed := op.RC != prev.RC || op.Status != prev.Status
		op.Failed = failed(req, op.Result, r.expect)
		m.mu.Lock()
		op = m.recordLocked(op, changed)
		m.mu.Unlock()
		if changed {
			m.log.Info("recurring monitor result changed", "rsc", req.Rsc, "interval", req.Interval,
				"rc", op.RC, "rc-name", op.RCName, "status", op.Status, "previous-rc", prev.RC, "reason", op.Reason)
			if m.opt.OnChange != nil {
				m.opt.OnChange(Event{Node: m.opt.Node, Op: op, Expected: r.expect, Previous: prev})
			}
		}
		m.observe(Completion{Op: op, Expect: r.expect, Repeat: !changed && !first})
		prev = op.Result
		t.Reset(req.Interval)
	}
}
