package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/paceline/paceline/alerts"
	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/fencing"
	"github.com/paceline/paceline/messaging"
)

// fenceState is what this node knows of fencing: its fencer (which runs
// the devices when this node is the executor, and keeps the history) and
// the nodes known fenced — a failed member fenced while it was gone is
// offline at once (stonith-enabled: never before).
type fenceState struct {
	fencer *fencing.Fencer
	mu     sync.Mutex
	fenced map[string]time.Time // node -> when its fence (or an operator's confirm) succeeded
	alert  func(fencing.Op)     // runs the fencing alerts on this node
	told   map[string]bool      // operations alerted here
}

// firstNews reports whether the outcome of operation id is new here.
func (f *fenceState) firstNews(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.told[id] {
		return false
	}
	if len(f.told) > 1000 {
		clear(f.told)
	}
	f.told[id] = true
	return true
}

func (a *Agent) newFenceState() *fenceState {
	return &fenceState{
		fencer: fencing.New(a.cfg.Name, a.store.Config, &fencing.Runner{Builtins: a.fenceBuiltins()}, a.log.With("component", "fencing")),
		fenced: map[string]time.Time{},
		told:   map[string]bool{},
		alert: func(op fencing.Op) {
			st, rc := alerts.ExecDone, 0
			if op.State != fencing.Done {
				st, rc = alerts.ExecError, 1
			}
			a.AlertFencing(alerts.Fencing{Target: op.Target, Action: op.Action, Executioner: op.Executor, Origin: op.Origin,
				Ref: op.ID, Status: st, RC: rc, Reason: op.Reason})
		},
	}
}

// markFenced records a successful fence of a node (run here or told by
// another node) and keeps it in the history.
func (f *fenceState) markFenced(op fencing.Op) {
	f.fencer.Record(op)
	if op.State != fencing.Pending && f.alert != nil && f.firstNews(op.ID) {
		f.alert(op) // once per node and operation
	}
	if op.State != fencing.Done {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if op.Completed.After(f.fenced[op.Target]) {
		f.fenced[op.Target] = op.Completed
	}
}

// isFenced reports whether m, a member that is not alive, was fenced in
// its current absence: the fence came no earlier than the last time it
// was heard before it was lost — or than the moment gossip declared it
// lost (m.Since), whichever is earlier. (A node coming back is heard by
// heartbeat a moment before gossip calls it alive again; that must not
// undo its fence, or the survivor would fence it again as it boots.)
// A fence from before gossip last saw it join (m.Joined) was of an
// earlier life: a node that came back and died again before any of its
// heartbeats got through must be fenced again.
func (f *fenceState) isFenced(m messaging.Member, lastHeard time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	at, ok := f.fenced[m.Name]
	if !ok || (!m.Joined.IsZero() && m.Joined.After(at)) {
		return false
	}
	ref := lastHeard
	if !m.Since.IsZero() && (ref.IsZero() || m.Since.Before(ref)) {
		ref = m.Since
	}
	return !at.Before(ref)
}

// fencedEver reports a recorded fence of node (in this agent's life).
func (f *fenceState) fencedEver(node string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.fenced[node]
	return ok
}

// fenceOrder is the node RPC that asks a node to run a fence.
type fenceOrder struct {
	Target     string        `json:"target"`
	Action     string        `json:"action,omitempty"`
	Origin     string        `json:"origin"`
	Delayed    bool          `json:"delayed,omitempty"`
	ExtraDelay time.Duration `json:"extra-delay,omitempty"`
	Confirm    bool          `json:"confirm,omitempty"`
}

// registerFencing adds the fencing node RPCs.
func (a *Agent) registerFencing() {
	a.store.Handle("fencing.fence", func(ctx context.Context, raw json.RawMessage) (any, error) {
		var o fenceOrder
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, fmt.Errorf("fencing.fence: %w", err)
		}
		return a.runFence(context.WithoutCancel(ctx), o), nil
	})
	a.store.Handle("fencing.record", func(_ context.Context, raw json.RawMessage) (any, error) {
		var op fencing.Op
		if err := json.Unmarshal(raw, &op); err != nil {
			return nil, fmt.Errorf("fencing.record: %w", err)
		}
		a.fence.markFenced(op)
		a.ctl.Poke()
		return struct{}{}, nil
	})
	a.store.Handle("fencing.history", func(context.Context, json.RawMessage) (any, error) {
		return a.fence.fencer.History(), nil
	})
}

// runFence runs a fence on this node (never of itself), records it, and
// tells every other reachable member, so that whichever node is DC next
// knows the victim is down.
func (a *Agent) runFence(ctx context.Context, o fenceOrder) fencing.Op {
	var op fencing.Op
	switch {
	case o.Target == a.cfg.Name:
		now := time.Now()
		op = fencing.Op{ID: fmt.Sprintf("%s-self-%d", a.cfg.Name, now.UnixNano()), Target: o.Target, Action: o.Action, Origin: o.Origin, Executor: a.cfg.Name,
			State: fencing.Failed, Started: now, Completed: now, Reason: "a node does not fence itself: ask another node"}
	case o.Confirm:
		op = a.fence.fencer.Confirm(o.Target, o.Origin)
	default:
		op = a.fence.fencer.Fence(ctx, fencing.FenceRequest{Target: o.Target, Action: o.Action, Origin: o.Origin, Delayed: o.Delayed, ExtraDelay: o.ExtraDelay})
	}
	a.metrics.fenced(op) // metrics.go: counted where it ran
	a.fence.markFenced(op)
	a.broadcastFence(op)
	a.ctl.Poke()
	return op
}

// broadcastFence tells the other alive members of a fencing result (best
// effort, in parallel, 2 s each).
func (a *Agent) broadcastFence(op fencing.Op) {
	if a.ms == nil {
		return
	}
	var wg sync.WaitGroup
	for _, m := range a.ms.Members() {
		if m.Name == a.cfg.Name || (m.State != messaging.Alive && m.State != messaging.Suspect) {
			continue
		}
		addr, err := a.addrOf(m.Name)
		if err != nil {
			continue
		}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(a.ctx, 2*time.Second)
			defer cancel()
			if err := a.store.Call(ctx, addr, "fencing.record", op, nil); err != nil {
				a.log.Debug("cannot tell a node of a fencing result", "node", m.Name, "err", err)
			}
		})
	}
	wg.Wait()
}

// fenceVia runs a fence on the best executor: this node unless it is the
// target, else another alive member.
func (a *Agent) fenceVia(ctx context.Context, o fenceOrder) (fencing.Op, error) {
	if o.Target != a.cfg.Name {
		return a.runFence(ctx, o), nil
	}
	if a.ms == nil {
		return fencing.Op{}, fmt.Errorf("no other node can fence %s", o.Target)
	}
	var others []string
	for _, m := range a.ms.Members() {
		if m.Name != a.cfg.Name && m.State == messaging.Alive {
			others = append(others, m.Name)
		}
	}
	slices.Sort(others)
	if len(others) == 0 {
		return fencing.Op{}, fmt.Errorf("no other node is alive to fence %s", o.Target)
	}
	addr, err := a.addrOf(others[0])
	if err != nil {
		return fencing.Op{}, err
	}
	var op fencing.Op
	if err := a.store.Call(ctx, addr, "fencing.fence", o, &op); err != nil {
		return fencing.Op{}, fmt.Errorf("asking %s to fence %s: %w", others[0], o.Target, err)
	}
	a.fence.markFenced(op)
	return op, nil
}

// fenceHistory merges every reachable node's fencing history (newest
// last), for status and `stonith history`.
func (a *Agent) fenceHistory(ctx context.Context) []fencing.Op {
	byID := map[string]fencing.Op{}
	for _, op := range a.fence.fencer.History() {
		byID[op.ID] = op
	}
	for _, ops := range askAlivePeers[[]fencing.Op](ctx, a, "fencing.history", 2*time.Second) {
		for _, op := range ops {
			if cur, ok := byID[op.ID]; !ok || (cur.State == fencing.Pending && op.State != fencing.Pending) {
				byID[op.ID] = op
			}
		}
	}
	out := make([]fencing.Op, 0, len(byID))
	for _, op := range byID {
		out = append(out, op)
	}
	slices.SortFunc(out, func(x, y fencing.Op) int { return x.Started.Compare(y.Started) })
	return out
}

// postFence: `paceline stonith fence|confirm NODE`.
func (a *Agent) postFence(w http.ResponseWriter, r *http.Request) {
	var req api.FenceRequest
	if !readJSON(w, r, 1<<16, &req) {
		return
	}
	if a.store.Config().Node(req.Target) == nil {
		writeErr(w, http.StatusNotFound, fmt.Errorf("unknown node %q", req.Target))
		return
	}
	if req.Action != "" && req.Action != fencing.Off && req.Action != fencing.Reboot {
		writeErr(w, http.StatusBadRequest, fmt.Errorf("action %q: want off or reboot", req.Action))
		return
	}
	if req.Confirm && req.Target == a.cfg.Name {
		writeErr(w, http.StatusBadRequest, fmt.Errorf("%s is this node, which is up: confirm a node that is down from another node", req.Target))
		return
	}
	op, err := a.fenceVia(r.Context(), fenceOrder{Target: req.Target, Action: req.Action, Origin: "operator on " + a.cfg.Name, Confirm: req.Confirm})
	if err != nil {
		writeErr(w, http.StatusServiceUnavailable, err)
		return
	}
	writeJSON(w, http.StatusOK, op)
}

func (a *Agent) getFenceHistory(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.fenceHistory(r.Context()))
}

// watchFencePeer carries out the two-node rule that a node which lost the
// tiebreak may fence its peer to take over (quorum.Decision.FencePeer):
// with stonith-enabled it fences the peer (with the fence delays, so the
// two sides of a split do not shoot at once), after which it is quorate
// ("peer confirmed fenced"). One fence at a time; a failed one is tried
// again after a second.
func (a *Agent) watchFencePeer(ctx context.Context) {
	if a.ms == nil {
		return
	}
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	var next time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cfg := a.store.Config()
		if cfg.Property("stonith-enabled") != "true" || time.Now().Before(next) {
			continue
		}
		d := a.quorumOf(a.ms.Members(), time.Now())
		if !d.FencePeer {
			continue
		}
		peer := peerOf(cfg, a.cfg.Name)
		a.log.Warn("two-node: lost the tiebreak; fencing the peer to take over", "peer", peer, "reason", d.Reason)
		op := a.runFence(ctx, fenceOrder{Target: peer, Origin: a.cfg.Name + " (two-node tiebreak)", Delayed: true})
		if op.State != fencing.Done {
			next = time.Now().Add(time.Second)
		}
	}
}

// fenceBuiltins are fencing's built-ins plus fence_watchdog, which needs
// this node's view of the membership.
func (a *Agent) fenceBuiltins() map[string]fencing.Builtin {
	b := fencing.Builtins()
	b["fence_watchdog"] = watchdogFence{a}
	return b
}
