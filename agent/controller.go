package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/crm"
	"github.com/paceline/paceline/crm/scheduler"
	"github.com/paceline/paceline/fencing"
	"github.com/paceline/paceline/lrm"
	"github.com/paceline/paceline/messaging"
)

// orderMargin is how long past an action's timeout the DC waits for its
// node's answer.
const orderMargin = 5 * time.Second

// cluster is the controller's view of this node and the cluster.
type cluster struct{ a *Agent }

var _ crm.Cluster = cluster{}

func (c cluster) Self() string        { return c.a.cfg.Name }
func (c cluster) Config() *cib.Config { return c.a.store.Config() }

// DC: the raft leader; in a two-node cluster that lost a node (raft has
// no majority, so no leader), the node that won the tiebreak and so has
// quorum alone, for its partition, on its last committed configuration
// (shared/DESIGN.md, DC election). Its term is raft's current one, which
// only grows — except that a node whose raft state was discarded on
// rejoining (removed while it was down) starts again from term 0, while
// its executor may already have obeyed the peer's orders of a later term
// and would refuse its own DC's as older (seen in `make chaos`: the VIP
// stayed down while the fenced peer was). So the term is at least the
// newest one this node's executor has obeyed.
func (c cluster) DC() (uint64, bool) {
	info := c.a.store.Info()
	if c.a.store.IsLeader() {
		return c.aboveFloor(info.Term), true
	}
	if info.Leader != "" || c.a.ms == nil || c.a.store.Config().Property("two-node") != "true" {
		return 0, false
	}
	members := c.a.ms.Members()
	if d := c.a.quorumOf(members, time.Now()); !d.Quorate {
		return 0, false
	}
	for _, m := range members {
		if m.Name != c.a.cfg.Name && (m.State == messaging.Alive || m.State == messaging.Suspect) {
			return 0, false // the peer is there: raft will elect a leader
		}
	}
	return c.aboveFloor(info.Term), true
}

// aboveFloor raises a DC term that raft has set back below the newest term
// this node's executor obeyed: to that term when it was this node's own,
// and one above it when it was another DC's, so that no two DCs ever give
// orders of one term.
func (c cluster) aboveFloor(term uint64) uint64 {
	if c.a.node == nil {
		return term
	}
	floor, dc := c.a.node.Term()
	switch {
	case floor < term:
		return term
	case dc == c.a.cfg.Name:
		return floor
	default:
		return floor + 1
	}
}

// Membership maps gossip states to the scheduler's: alive and suspect are
// online; a failed member is unclean until its lease has certainly run out
// and it has had self-stop-timeout to stop (lease.go), then offline; a
// member that left, or was never seen, is offline.
func (c cluster) Membership(now time.Time) (map[string]scheduler.NodeState, bool) {
	lt := c.a.leaseTiming(c.a.store.Config())
	var heard map[string]time.Time
	if c.a.ms != nil {
		heard = c.a.ms.LastHeard()
	}
	out := map[string]scheduler.NodeState{c.a.cfg.Name: scheduler.NodeOnline}
	var members []messaging.Member
	if c.a.ms != nil {
		members = c.a.ms.Members()
	} else {
		members = []messaging.Member{{Name: c.a.cfg.Name, State: messaging.Alive}}
	}
	stonith := c.a.store.Config().Property("stonith-enabled") == "true"
	for _, m := range members {
		if m.Name == c.a.cfg.Name {
			continue
		}
		switch m.State {
		case messaging.Alive, messaging.Suspect:
			out[m.Name] = scheduler.NodeOnline
		case messaging.Failed, messaging.Left:
			// A member that left (its agent stopped) is treated as one that
			// failed: it stopped its resources on the way out, but only its
			// lease running out proves it — or, with stonith-enabled, only
			// a fence (a hung node's lease proves nothing).
			switch {
			case c.a.fence.isFenced(m, heard[m.Name]):
				out[m.Name] = scheduler.NodeOffline
			case stonith || now.Before(lt.recoverableAt(m, heard[m.Name])):
				out[m.Name] = scheduler.NodeUnclean
			default:
				out[m.Name] = scheduler.NodeOffline
			}
		default:
			out[m.Name] = scheduler.NodeOffline
		}
	}
	return out, c.a.decideQuorum(members, now).Quorate
}

// NextMembershipChange is the earliest time a failed member becomes
// offline (recoverableAt), if one is still unclean.
func (c cluster) NextMembershipChange(now time.Time) time.Time {
	if c.a.ms == nil || c.a.store.Config().Property("stonith-enabled") == "true" {
		return time.Time{} // with fencing, only a fence makes a lost node offline
	}
	lt := c.a.leaseTiming(c.a.store.Config())
	heard := c.a.ms.LastHeard()
	var next time.Time
	for _, m := range c.a.ms.Members() {
		if m.Name == c.a.cfg.Name || (m.State != messaging.Failed && m.State != messaging.Left) {
			continue
		}
		if at := lt.recoverableAt(m, heard[m.Name]); at.After(now) && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	return next
}

func (c cluster) Attrs() map[string]map[string]string {
	if c.a.ms == nil {
		return nil
	}
	return c.a.ms.Attrs()
}

// whileAlive returns a context that ends with ctx, or as soon as the
// membership declares node failed or gone: a call to a node that died
// (or was cut off) mid-way must not hold the DC.
func (c cluster) whileAlive(ctx context.Context, node string) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	if c.a.ms == nil {
		return ctx, func() { cancel(nil) }
	}
	go func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			for _, m := range c.a.ms.Members() {
				if m.Name == node && m.State != messaging.Alive && m.State != messaging.Suspect {
					cancel(fmt.Errorf("node %s is %s", node, m.State))
					return
				}
			}
		}
	}()
	return ctx, func() { cancel(nil) }
}

func (c cluster) History(ctx context.Context, node string, term uint64) ([]lrm.History, error) {
	if node == c.a.cfg.Name {
		if term > 0 {
			c.a.node.Observe(term, c.a.cfg.Name)
		}
		return c.a.lrm.Histories(), nil
	}
	ctx, cancel := c.whileAlive(ctx, node)
	defer cancel()
	addr, err := c.a.addrOf(node)
	if err != nil {
		return nil, err
	}
	var rep api.HistoryReply
	if err := c.a.store.Call(ctx, addr, "crm.history", crm.Order{Term: term, DC: c.a.cfg.Name}, &rep); err != nil {
		return nil, err
	}
	return rep.Resources, nil
}

func (c cluster) Send(ctx context.Context, node string, o crm.Order) lrm.Result {
	if node == c.a.cfg.Name {
		return c.a.node.Handle(ctx, o)
	}
	addr, err := c.a.addrOf(node)
	if err != nil {
		return lrm.Result{RC: ocf.ErrGeneric, Status: lrm.StatusError, Reason: err.Error()}
	}
	// Bounded by the action's timeout (and the node's remaining alive):
	// the node's LRM ends the action by then.
	timeout := o.Action.Timeout
	if timeout <= 0 {
		timeout = ocf.DefaultTimeout
	}
	ctx, cancelT := context.WithTimeout(ctx, timeout+orderMargin)
	defer cancelT()
	ctx, cancel := c.whileAlive(ctx, node)
	defer cancel()
	var r lrm.Result
	if err := c.a.store.Call(ctx, addr, "crm.order", o, &r); err != nil {
		if cause := context.Cause(ctx); cause != nil {
			err = cause
		}
		return lrm.Result{RC: ocf.ErrGeneric, Status: lrm.StatusError, Reason: fmt.Sprintf("sending %s to %s: %v", o.Action.String(), node, err)}
	}
	return r
}

// Fence has a lost or failed node fenced, on this node unless it is the
// target (then another one), and reports the result as an action's.
func (c cluster) Fence(ctx context.Context, o crm.FenceOrder) lrm.Result {
	op, err := c.a.fenceVia(ctx, fenceOrder{Target: o.Target, Origin: o.Origin, Delayed: true, ExtraDelay: o.ExtraDelay})
	switch {
	case err != nil:
		return lrm.Result{RC: ocf.ErrGeneric, Status: lrm.StatusError, Reason: err.Error()}
	case op.State != fencing.Done:
		return lrm.Result{RC: ocf.ErrGeneric, Status: lrm.StatusError, Reason: "fencing " + o.Target + " failed: " + op.Reason}
	}
	return lrm.Result{RC: ocf.Success, Status: lrm.StatusDone}
}

// startController wires the controller: node RPCs for the DC's orders and
// pokes, and the events that poke it.
func (a *Agent) startController(ctx context.Context) {
	a.store.Handle("crm.order", func(ctx context.Context, raw json.RawMessage) (any, error) {
		var o crm.Order
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, fmt.Errorf("crm.order: %w", err)
		}
		// The action's own timeout bounds it, not the RPC's.
		r := a.node.Handle(context.WithoutCancel(ctx), o)
		return r, nil
	})
	a.store.Handle("crm.history", func(_ context.Context, raw json.RawMessage) (any, error) {
		var o crm.Order // only Term and DC are set
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, fmt.Errorf("crm.history: %w", err)
		}
		if o.Term > 0 {
			a.node.Observe(o.Term, o.DC)
		}
		return a.localHistory("")
	})
	a.store.Handle("crm.poke", func(context.Context, json.RawMessage) (any, error) {
		a.ctl.Poke()
		return struct{}{}, nil
	})
	if a.ms != nil {
		events, cancel := a.ms.Subscribe()
		go func() {
			defer cancel()
			for {
				select {
				case <-ctx.Done():
					return
				case _, ok := <-events:
					if !ok {
						return
					}
					a.ctl.Poke()
				}
			}
		}()
	}
	a.registerFencing()
	a.registerTwoNodeRaft()
	a.store.OnLeaderChange(ctx, a.ctl.Wake)
	if a.cfg.Resources.Managed() {
		go a.ctl.Run(ctx)
		go a.watchQuorum(ctx)
		go a.watchFencePeer(ctx)
		go a.watchTwoNodeRaft(ctx)
	}
}

// Controller returns the node's controller.
func (a *Agent) Controller() *crm.Controller { return a.ctl }

// pokeDC tells the DC something changed here (a monitor result).
func (a *Agent) pokeDC() {
	if _, dc := (cluster{a}).DC(); dc {
		a.ctl.Poke()
		return
	}
	leader := a.store.Info().Leader
	addr, err := a.addrOf(leader)
	if err != nil {
		a.log.Warn("cannot tell the DC of a change", "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(a.ctx, 2*time.Second)
	defer cancel()
	if err := a.store.Call(ctx, addr, "crm.poke", struct{}{}, nil); err != nil {
		a.log.Warn("cannot tell the DC of a change", "dc", leader, "err", err)
	}
}

// gatherStatus reads every online node's history now and builds the
// scheduler's status, with the failed operations and unreachable nodes.
func (a *Agent) gatherStatus(ctx context.Context) (*scheduler.Status, api.ResourcesReply) {
	views, errs, quorate := crm.ReadViews(ctx, cluster{a}, 0, 2*time.Second, time.Now())
	rep := api.ResourcesReply{DC: a.store.Info().Leader}
	for i, v := range views {
		if errs[i] != nil {
			rep.Unreachable = append(rep.Unreachable, v.Name)
		}
		for _, x := range v.History {
			if x.LastFailure != nil && x.FailCount() > 0 {
				rep.Failures = append(rep.Failures, api.Failure{Node: v.Name, Op: *x.LastFailure, FailCount: x.FailCount()})
			}
		}
	}
	st := crm.BuildStatus(quorate, views)
	for _, n := range st.Nodes {
		rep.Nodes = append(rep.Nodes, api.NodeResource{Name: n.Name, State: string(n.State), Resources: n.Resources})
	}
	slices.Sort(rep.Unreachable)
	slices.SortFunc(rep.Failures, func(x, y api.Failure) int { return strings.Compare(x.Node+x.Op.Rsc, y.Node+y.Op.Rsc) })
	return st, rep
}

// getResources answers GET /v1/resources: every online node's history,
// read now, as the scheduler's status.
func (a *Agent) getResources(w http.ResponseWriter, r *http.Request) {
	_, rep := a.gatherStatus(r.Context())
	writeJSON(w, http.StatusOK, rep)
}

// getExplain answers GET /v1/explain?rsc=ID: the scheduler run on the
// cluster as it is now, with every node's score for the resource (or the
// group or clone it is in), where it is or why not, and what the DC would
// still do with it.
func (a *Agent) getExplain(w http.ResponseWriter, r *http.Request) {
	rsc := r.URL.Query().Get("rsc")
	cfg := a.store.Config()
	if cfg.ResourceKindOf(rsc) == "" {
		writeErr(w, http.StatusNotFound, fmt.Errorf("unknown resource %q", rsc))
		return
	}
	// The resource and what holds it.
	ids := map[string]bool{rsc: true}
	if g := cfg.GroupOf(rsc); g != nil {
		ids[g.ID] = true
	}
	for id := range maps.Clone(ids) {
		if c := cfg.CloneOf(id); c != nil {
			ids[c.ID] = true
		}
	}
	prims := map[string]bool{}
	for _, p := range cfg.PrimitivesOf(rsc) {
		prims[p] = true
	}
	st, _ := a.gatherStatus(r.Context())
	plan, err := scheduler.Schedule(cfg, st, scheduler.Options{Now: time.Now(), Explain: true})
	if err != nil {
		writeErr(w, http.StatusInternalServerError, fmt.Errorf("scheduler: %w", err))
		return
	}
	rep := api.ExplainReply{Rsc: rsc, Epoch: cfg.Epoch}
	for _, e := range plan.Explanations {
		if ids[e.Rsc] {
			rep.Explanations = append(rep.Explanations, e)
		}
	}
	for _, p := range plan.Placements {
		if prims[p.Rsc] {
			rep.Placements = append(rep.Placements, p)
		}
	}
	for _, act := range plan.Actions {
		if prims[act.Rsc] {
			rep.Actions = append(rep.Actions, act.String())
		}
	}
	writeJSON(w, http.StatusOK, rep)
}
