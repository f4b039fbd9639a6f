package crm

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/crm/scheduler"
	"github.com/paceline/paceline/lrm"
)

// Cluster is what the controller needs of its node and the cluster; the
// agent implements it over raft, membership and node RPC.
type Cluster interface {
	// Self is this node's name.
	Self() string
	// Config is the local replica of the configuration.
	Config() *cib.Config
	// DC reports whether this node is the DC now, and its term.
	DC() (term uint64, ok bool)
	// Membership is each configured node's state as this node sees it
	// now, and whether this partition is quorate.
	Membership(now time.Time) (map[string]scheduler.NodeState, bool)
	// NextMembershipChange is when a node's state next changes with no
	// event (an unclean node becomes offline once its lease has run
	// out), or zero: the DC wakes then, to the millisecond.
	NextMembershipChange(now time.Time) time.Time
	// Attrs are the nodes' transient attributes.
	Attrs() map[string]map[string]string
	// History reads a node's LRM history. A DC passes its term (0 for a
	// mere reader): the node then refuses orders of older terms, even
	// before the DC sends it any.
	History(ctx context.Context, node string, term uint64) ([]lrm.History, error)
	// Send delivers an order to a node and returns its result.
	Send(ctx context.Context, node string, o Order) lrm.Result
	// Fence has a node fenced (by a node other than the target) and
	// returns the outcome as an action result.
	Fence(ctx context.Context, o FenceOrder) lrm.Result
}

// FenceOrder asks for a node to be fenced for a transition.
type FenceOrder struct {
	Target string
	Origin string // the DC
	// ExtraDelay is priority-fencing-delay when the target runs the more
	// important resources (two-node: it should win a fence race).
	ExtraDelay time.Duration
}

// Options tune the controller.
type Options struct {
	// Debounce gathers a burst of events into one scheduler run
	// (default 20 ms).
	Debounce time.Duration
	// Tick is how often the DC looks for changes nobody announced: a lost
	// node's grace running out, failure-timeout expiry (default 100 ms).
	Tick time.Duration
	// Recheck is the longest the DC goes without scheduling (default 15 s).
	Recheck time.Duration
	// HistoryTimeout bounds collecting one node's history (default 2 s).
	HistoryTimeout time.Duration
	Log            *slog.Logger
	// OnTransition, if set, is told of every scheduler run this node
	// makes as DC, once it has ended (Actions 0: nothing to do). It is
	// called from the controller's loop and must not block (metrics).
	OnTransition func(Transition)
}

// Controller runs on every node; while its node is the DC it schedules
// and executes transitions.
type Controller struct {
	cl    Cluster
	opt   Options
	log   *slog.Logger
	pokes chan struct{}
	// wakes are timed pokes (a lost node's lease running out, a
	// failure-timeout expiring): nothing to gather, so no debounce.
	wakes chan struct{}

	mu   sync.Mutex
	last Transition
	// recent are the last transitions this node ran as DC, oldest first
	// (at most recentTransitions): the web view lists them.
	recent []Transition
	seq    int
	// known is each node's last collected LRM history, and sent what the
	// DC has started or promoted there since: what an unclean node may
	// still be running.
	known map[string][]lrm.History
	sent  map[string]map[string]string // node -> resource -> start or promote
	// wake is the next timed wake (a lost node's lease running out, a
	// failure-timeout expiring).
	wake time.Time
	// failStreak counts how many transitions in a row each action failed.
	failStreak map[string]int
}

// Transition describes the DC's last transition (for status and tests).
type Transition struct {
	Seq       int       `json:"seq"`
	Term      uint64    `json:"term"`
	Started   time.Time `json:"started"`
	Actions   int       `json:"actions"`
	Done      int       `json:"done"`
	Failed    []string  `json:"failed,omitempty"`
	Aborted   bool      `json:"aborted,omitempty"`
	TookMS    float64   `json:"took-ms"`
	Warnings  []string  `json:"warnings,omitempty"`
	ScheduleM float64   `json:"schedule-ms"`
	// Ops are the plan's actions (rsc_op_interval on node).
	Ops []string `json:"ops,omitempty"`
}

// New makes a controller.
func New(cl Cluster, opt Options) *Controller {
	if opt.Debounce <= 0 {
		opt.Debounce = 20 * time.Millisecond
	}
	if opt.Tick <= 0 {
		opt.Tick = 100 * time.Millisecond
	}
	if opt.Recheck <= 0 {
		opt.Recheck = 15 * time.Second
	}
	if opt.HistoryTimeout <= 0 {
		opt.HistoryTimeout = 2 * time.Second
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Controller{cl: cl, opt: opt, log: log, pokes: make(chan struct{}, 1), wakes: make(chan struct{}, 1), known: map[string][]lrm.History{}, sent: map[string]map[string]string{},
		failStreak: map[string]int{}}
}

// Poke tells the controller something changed; if this node is the DC it
// schedules again soon (a transition in progress is aborted).
func (c *Controller) Poke() {
	select {
	case c.pokes <- struct{}{}:
	default:
	}
}

// Wake is a poke that needs no debounce (this node just became the DC:
// nothing to gather, a lost DC's resources wait).
func (c *Controller) Wake() {
	select {
	case c.wakes <- struct{}{}:
	default:
	}
}

// Last returns the last transition's description.
func (c *Controller) Last() Transition {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// recentTransitions is how many transitions Recent keeps.
const recentTransitions = 20

// Recent returns the last transitions this node ran as DC, oldest first.
func (c *Controller) Recent() []Transition {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.recent)
}

// snapshot is what, when it changes, makes the DC schedule without being
// poked.
type snapshot struct {
	epoch   uint64
	quorate bool
	nodes   string
	attrs   string
}

func (c *Controller) snap(now time.Time) snapshot {
	nodes, q := c.cl.Membership(now)
	return snapshot{epoch: c.cl.Config().Epoch, quorate: q, nodes: fmt.Sprint(sortedMap(nodes)), attrs: fmt.Sprint(c.cl.Attrs())}
}

func sortedMap[V any](m map[string]V) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, fmt.Sprint(k, "=", m[k]))
	}
	return out
}

// Run is the controller's loop, until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	tick := time.NewTicker(c.opt.Tick)
	defer tick.Stop()
	var last snapshot
	var lastRun time.Time
	var lastTerm uint64
	wasDC := false
	for {
		poked, woken := false, false
		select {
		case <-ctx.Done():
			return
		case <-c.pokes:
			poked = true
		case <-c.wakes:
			poked, woken = true, true
		case <-tick.C:
		}
		term, dc := c.cl.DC()
		if !dc || term != lastTerm {
			// What an earlier term's DC knew may be stale now (another DC
			// acted in between): start from nothing.
			c.forget()
			lastTerm = term
		}
		if !dc {
			wasDC = false
			continue
		}
		now := time.Now()
		c.wakeAt(c.cl.NextMembershipChange(now), now)
		s := c.snap(now)
		if !poked && wasDC && s == last && now.Sub(lastRun) < c.opt.Recheck {
			continue
		}
		if !wasDC {
			c.log.Info("this node is the DC", "term", term)
		}
		wasDC = true
		if !woken {
			// Gather the rest of a burst.
			t := time.NewTimer(c.opt.Debounce)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		select {
		case <-c.pokes:
		default:
		}
		select {
		case <-c.wakes:
		default:
		}
		last, lastRun = c.snap(time.Now()), time.Now()
		again := c.transition(ctx, term)
		if again {
			c.Poke()
		}
	}
}

// transition runs the scheduler on the cluster as it is now and executes
// the plan. It reports whether to schedule again at once.
func (c *Controller) transition(ctx context.Context, term uint64) bool {
	started := time.Now()
	cfg := c.cl.Config()
	views, errs, quorate := ReadViews(ctx, c.cl, term, c.opt.HistoryTimeout, started)
	c.mu.Lock()
	for i, v := range views {
		switch {
		case v.State == scheduler.NodeOffline:
			delete(c.known, v.Name) // it runs nothing
			delete(c.sent, v.Name)
		case v.State == scheduler.NodeOnline && errs[i] == nil:
			c.known[v.Name] = v.History
			delete(c.sent, v.Name)
		default:
			// Unclean, or online but unreachable: what it ran, as last
			// collected, may still run there. A DC that does not know
			// does not schedule at all.
			if errs[i] != nil {
				c.log.Warn("cannot read a node's history", "node", v.Name, "err", errs[i])
			}
			h, ok := c.lastKnown(v.Name)
			if !ok {
				c.mu.Unlock()
				if v.State == scheduler.NodeUnclean && cfg.Property("stonith-enabled") == "true" && quorate {
					// Nothing is known of what it ran, so nothing may be
					// started anywhere before it is fenced: fence first,
					// on its own, then schedule.
					c.log.Warn("fencing a lost node whose resources this DC does not know", "node", v.Name)
					r := c.cl.Fence(ctx, FenceOrder{Target: v.Name, Origin: c.cl.Self(), ExtraDelay: c.priorityDelay(v.Name)})
					if !r.OK() {
						c.log.Error("fencing failed; trying again in 1 s", "node", v.Name, "reason", r.Reason)
						time.AfterFunc(time.Second, c.Poke)
						return false
					}
					return true
				}
				c.log.Info("waiting: a node's resources are unknown to this DC; trying again in 500 ms", "node", v.Name, "state", v.State)
				time.AfterFunc(500*time.Millisecond, c.Poke)
				return false
			}
			views[i].History, views[i].HaveHistory = h, true
		}
	}
	c.mu.Unlock()
	status := BuildStatus(quorate, views)
	plan, err := scheduler.Schedule(cfg, status, scheduler.Options{Now: started})
	scheduled := time.Now()
	if err != nil {
		c.log.Error("the scheduler failed", "err", err)
		return false
	}
	c.wakeAt(plan.Recheck, started)
	c.mu.Lock()
	c.seq++
	tr := Transition{Seq: c.seq, Term: term, Started: started, Actions: len(plan.Actions), Warnings: plan.Warnings,
		ScheduleM: float64(scheduled.Sub(started).Microseconds()) / 1000}
	c.mu.Unlock()
	if len(plan.Actions) == 0 {
		c.record(tr, started)
		return false
	}
	for _, act := range plan.Actions {
		tr.Ops = append(tr.Ops, act.String())
	}
	c.log.Info("transition", "seq", tr.Seq, "term", term, "actions", len(plan.Actions), "epoch", cfg.Epoch)
	// A poke during the transition aborts it: the rest of the graph is
	// not dispatched, and the scheduler runs again.
	ectx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	var abortedByEvent atomic.Bool
	go func() {
		select {
		case <-c.pokes:
			abortedByEvent.Store(true)
			cancel()
		case <-done:
		}
	}()
	rep := Execute(ectx, plan, dispatcher{c: c, term: term, epoch: cfg.Epoch}, 0)
	close(done)
	cancel()
	tr.Done, tr.Aborted = rep.Done, rep.Aborted
	for _, f := range rep.Failed {
		tr.Failed = append(tr.Failed, fmt.Sprintf("%s: rc %d (%s) %s", f.Action.String(), f.Result.RC, f.Result.Status, f.Result.Reason))
		c.log.Warn("action failed", "action", f.Action.String(), "rc", f.Result.RC, "status", f.Result.Status, "reason", f.Result.Reason)
	}
	c.record(tr, started)
	if len(rep.Failed) > 0 {
		// Do not spin on an action that keeps failing: the fail count it
		// added will move the resource, or it fails again a bit later —
		// each time it fails again, twice as much later (up to 10 s).
		c.mu.Lock()
		streak := 0
		for _, f := range rep.Failed {
			k := f.Action.String()
			c.failStreak[k]++
			streak = max(streak, c.failStreak[k])
		}
		c.mu.Unlock()
		t := time.NewTimer(min(200*time.Millisecond<<min(streak-1, 6), 10*time.Second))
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	if len(rep.Failed) == 0 && !rep.Aborted {
		c.mu.Lock()
		clear(c.failStreak)
		c.mu.Unlock()
	}
	return rep.Changed || rep.Aborted || abortedByEvent.Load()
}

// wakeAt wakes the controller at next (a lost node's lease running out,
// the plan's recheck time: the next failure-timeout running out), unless
// an earlier wake is already set: a lost node's resources are recovered
// the moment it may be, and a resource banned by its fail count may
// return at once rather than at the next periodic recheck.
func (c *Controller) wakeAt(next, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if next.IsZero() || (c.wake.After(now) && !next.Before(c.wake)) {
		return
	}
	c.wake = next
	time.AfterFunc(time.Until(next)+time.Millisecond, c.Wake)
}

func (c *Controller) record(tr Transition, started time.Time) {
	tr.TookMS = float64(time.Since(started).Microseconds()) / 1000
	c.mu.Lock()
	c.last = tr
	if tr.Actions > 0 { // a run with nothing to do is no transition worth listing
		if len(c.recent) == recentTransitions {
			c.recent = slices.Delete(c.recent, 0, 1)
		}
		c.recent = append(c.recent, tr)
	}
	c.mu.Unlock()
	if c.opt.OnTransition != nil {
		c.opt.OnTransition(tr)
	}
}

// forget drops what the DC knew of the nodes.
func (c *Controller) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.known)
	clear(c.sent)
}

// lastKnown is what a node may run as far as the DC knows: its last
// collected history, plus a started resource for everything the DC has
// started or promoted there since (an unclean node may have done it).
// Called with c.mu held.
func (c *Controller) lastKnown(node string) ([]lrm.History, bool) {
	h, ok := c.known[node]
	if !ok {
		return nil, false
	}
	out := slices.Clone(h)
	for _, rsc := range slices.Sorted(maps.Keys(c.sent[node])) {
		// The most it may be running as: promoted once a promote (or a
		// demote, which may not have happened) was sent.
		st := lrm.Op{CallID: 1 << 62, Rsc: rsc, Action: c.sent[node][rsc], Result: lrm.Result{Status: lrm.StatusDone}}
		i := slices.IndexFunc(out, func(x lrm.History) bool { return x.Rsc == rsc })
		if i < 0 {
			out = append(out, lrm.History{Rsc: rsc, State: &st})
			continue
		}
		x := out[i]
		x.State, x.Monitors = &st, nil
		out[i] = x
	}
	return out, true
}

// priorityDelay is priority-fencing-delay when target runs resources of a
// higher total priority than this node (Pacemaker's rule, for two-node
// clusters: in a split, the side with the more important resources
// shoots first and wins), else 0.
func (c *Controller) priorityDelay(target string) time.Duration {
	cfg := c.cl.Config()
	d, err := cib.ParseDuration(cfg.Property("priority-fencing-delay"))
	if err != nil || d.D() <= 0 || cfg.Property("two-node") != "true" {
		return 0
	}
	prio := map[string]int{}
	for _, p := range cfg.Primitives {
		v := p.Meta["priority"]
		if g := cfg.GroupOf(p.ID); v == "" && g != nil {
			v = g.Meta["priority"]
		}
		if v == "" {
			v = cfg.ResourceDefaults["priority"]
		}
		if n, err := strconv.Atoi(v); err == nil {
			prio[p.ID] = n
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	total := func(node string) int {
		h, _ := c.lastKnown(node)
		sum := 0
		for _, x := range h {
			if x.State != nil && x.State.Action != ocf.Stop && x.State.Action != "probe" && x.State.Result.Status == lrm.StatusDone && x.State.RC == ocf.Success {
				sum += prio[primitiveOf(x.Rsc)]
			}
		}
		return sum
	}
	if total(target) > total(c.cl.Self()) {
		return d.D()
	}
	return 0
}

// dispatcher sends a transition's actions to their nodes.
type dispatcher struct {
	c     *Controller
	term  uint64
	epoch uint64
}

func (d dispatcher) Dispatch(ctx context.Context, a scheduler.Action) lrm.Result {
	// Still the DC of this term? A DC that paused while another took over
	// must not send what it planned before.
	if term, dc := d.c.cl.DC(); !dc || term != d.term {
		return lrm.Result{RC: ocf.ErrGeneric, Status: lrm.StatusError, Reason: fmt.Sprintf("not sent: this node is no longer the DC of term %d", d.term)}
	}
	if a.Op == scheduler.OpFence {
		d.c.log.Warn("fencing a node", "node", a.Node, "reason", a.Reason)
		return d.c.cl.Fence(ctx, FenceOrder{Target: a.Node, Origin: d.c.cl.Self(), ExtraDelay: d.c.priorityDelay(a.Node)})
	}
	if a.Op == scheduler.OpStart || a.Op == scheduler.OpPromote || a.Op == scheduler.OpDemote {
		d.c.mu.Lock()
		if d.c.sent[a.Node] == nil {
			d.c.sent[a.Node] = map[string]string{}
		}
		if a.Op == scheduler.OpStart {
			if d.c.sent[a.Node][lrmName(a)] == "" {
				d.c.sent[a.Node][lrmName(a)] = ocf.Start
			}
		} else {
			d.c.sent[a.Node][lrmName(a)] = ocf.Promote
		}
		d.c.mu.Unlock()
	}
	return d.c.cl.Send(ctx, a.Node, Order{Term: d.term, DC: d.c.cl.Self(), Epoch: d.epoch, Action: a})
}
