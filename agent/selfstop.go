package agent

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/lrm"
	"github.com/paceline/paceline/messaging"
)

// leaseCheckTick is how often a node checks its own lease (and a two-node
// peer's heartbeats): a fifth of the probe interval or of the
// self-stop-timeout, whichever is shorter, between 10 ms and 100 ms — 10 ms
// with the fast profile, 100 ms with lan's defaults — so the check's delay
// stays a small part of the self-stop budget the other nodes wait for
// (recoverableAt). A fixed 10 ms tick was most of an idle lan node's
// wake-ups.
func (a *Agent) leaseCheckTick(cfg *cib.Config) time.Duration {
	t, _ := messaging.TimingProfile(a.cfg.Timing)
	d := min(t.Override(a.cfg.GossipTiming).ProbeInterval, a.leaseTiming(cfg).SelfStop) / 5
	return min(max(d, 10*time.Millisecond), 100*time.Millisecond)
}

// watchQuorum makes a node whose lease runs out — it has not heard, within
// the lease, from enough members to be quorate — apply no-quorum-policy by
// itself, without waiting for any DC (shared/DESIGN.md, Safety): with
// stop, it stops every resource it runs — addresses first, since a
// second holder of an address is what clients notice, then the rest — so
// that the quorate side, which waits node-loss-grace before it recovers
// them, never finds them running twice. With demote, promoted instances
// are demoted; freeze and ignore keep everything.
func (a *Agent) watchQuorum(ctx context.Context) {
	if a.ms == nil {
		return
	}
	tick := a.leaseCheckTick(a.store.Config())
	t := time.NewTicker(tick)
	defer t.Stop()
	was := false // no lease yet at start: nothing to report until one was held
	var acted time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cfg := a.store.Config()
		if d := a.leaseCheckTick(cfg); d != tick { // self-stop-timeout changed
			tick = d
			t.Reset(tick)
		}
		held, reason := a.leaseHeld(time.Now(), a.leaseTiming(cfg).Lease)
		if held {
			if !was && !acted.IsZero() {
				// Back from a lapse in which it stopped what it ran: the
				// DC must know now, not at its next periodic re-plan.
				a.log.Info("lease held again")
				go a.pokeDC()
				acted = time.Time{}
			}
			was = true
			continue
		}
		// Without its lease it keeps applying the policy: a DC of the
		// other side cannot tell this node anything until it is back.
		policy := cfg.Property("no-quorum-policy")
		if was {
			a.log.Warn("lease lost (no quorum heard from): applying no-quorum-policy on this node", "policy", policy, "reason", reason)
		} else if time.Since(acted) < 200*time.Millisecond {
			continue // again every 200 ms: what did not stop, and what a start in flight left running
		}
		first := was
		was, acted = false, time.Now()
		switch policy {
		case "stop", "suicide":
			a.selfStop(ctx, cfg, false)
		case "demote":
			a.selfStop(ctx, cfg, true)
		}
		if first {
			go a.pokeDC() // if a DC can still be reached, it learns at once
		}
	}
}

// selfStop stops (or with demoteOnly demotes) what this node runs.
func (a *Agent) selfStop(ctx context.Context, cfg *cib.Config, demoteOnly bool) {
	// Starts and promotes in flight end first (their agents are killed),
	// so they cannot finish after the stop, or after the others took over.
	if n := a.lrm.CancelStarts(); n > 0 {
		a.log.Warn("no lease: cancelled starts and promotes in flight", "count", n)
		// Their results are recorded as they end; the stops below queue
		// behind them.
	}
	var vips, rest []lrm.Request
	for _, h := range a.lrm.Histories() {
		if h.State == nil || !runningState(h.State) {
			continue
		}
		action := ocf.Stop
		if demoteOnly {
			if h.State.Action != ocf.Promote || h.State.RC != ocf.Success {
				continue
			}
			action = ocf.Demote
		}
		req, err := lrm.RequestFor(cfg, h.Rsc, action, 0)
		if err != nil {
			// Not configured any more, yet running: stop it with the
			// agent it ran with.
			ag, perr := lrm.ParseAgent(h.Agent)
			if perr != nil {
				continue
			}
			req = lrm.Request{Rsc: h.Rsc, Agent: ag, Action: action}
		}
		if strings.HasSuffix(h.Agent, ":vip") || strings.HasSuffix(h.Agent, ":IPaddr2") || strings.HasSuffix(h.Agent, ":IPaddr") {
			vips = append(vips, req)
		} else {
			rest = append(rest, req)
		}
	}
	for _, batch := range [][]lrm.Request{vips, rest} {
		var wg sync.WaitGroup
		for _, req := range batch {
			wg.Go(func() {
				op := a.lrm.Exec(ctx, req)
				a.log.Warn("no quorum: "+req.Action+" of a local resource", "rsc", req.Rsc, "rc", op.RC, "status", op.Status, "ms", op.ExecMS)
			})
		}
		wg.Wait()
	}
}

// runningState reports whether a state operation left the resource
// running (or possibly running: a failed stop).
func runningState(op *lrm.Op) bool {
	switch op.Action {
	case ocf.Start, ocf.Promote, ocf.Demote:
		return true
	case ocf.Stop:
		return op.Status != lrm.StatusDone || op.RC != ocf.Success
	case ocf.Monitor:
		return slices.Contains([]int{ocf.Success, ocf.RunningPromoted, ocf.Degraded, ocf.DegradedPromoted}, op.RC)
	}
	return false
}
