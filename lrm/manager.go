package lrm

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"runtime"
	"sync"
	"time"

	"github.com/paceline/paceline/agents/ocf"
)

// Options configure a Manager.
type Options struct {
	// Node is this node's name (in events and history).
	Node string
	// NodeAddress is the address the other nodes reach this node at
	// (passed to agents as CRM_meta_on_node_address, a Paceline
	// addition: e.g. the address a replica announces).
	NodeAddress string
	// MaxParallel bounds the actions running at once on this node;
	// default twice the number of CPUs (Pacemaker's node-action-limit).
	MaxParallel int
	OCF         *OCF     // the ocf class; default &OCF{}
	LSB         *LSB     // the lsb class; default &LSB{}
	Builtin     *Builtin // ocf:paceline:* agents run in-process
	// Systemd is the systemd class (nil: systemd resources fail as not
	// installed, with a reason).
	Systemd Runner
	// HistoryDepth is how many recent operations are kept per resource
	// (default 20), besides the last one of each kind.
	HistoryDepth int
	// OutputBytes bounds the output excerpt kept in the history per
	// operation (default 2048; the result returned to the caller has up
	// to HeadBytes+TailBytes).
	OutputBytes int
	// OnChange receives a recurring monitor's result whenever it differs
	// from the previous one (the first is compared with the expected
	// code). It is called from the monitor's goroutine and must not block
	// for long.
	OnChange func(Event)
	// MayStart, if set, is asked right before a start or promote runs
	// (after its turn in the queue came): a node that lost its lease
	// must not start anything, whoever asked.
	MayStart func() (bool, string)
	Log      *slog.Logger
}

// Event is a recurring monitor's changed result.
type Event struct {
	Node     string
	Op       Op
	Expected int // the return code the monitor was started to expect
	Previous Result
}

// Completion is one recorded operation result, as OnResult observers
// receive it.
type Completion struct {
	Node string
	Op   Op
	// Expect is the code a recurring monitor was started to expect (0 for
	// every other operation).
	Expect int
	// Repeat marks a recurring monitor's result that equals the previous
	// one (never its first): Pacemaker's executor does not report those to
	// its controller (lrmd_opt_notify_changes_only).
	Repeat bool
}

// Manager runs the actions of this node's resources: one at a time per
// resource, at most MaxParallel at once, each bounded by its timeout.
type Manager struct {
	opt   Options
	log   *slog.Logger
	slots chan struct{}

	mu        sync.Mutex
	onResult  func(Completion)         // see OnResult
	locks     map[string]chan struct{} // per resource
	hist      map[string]*History
	recurring map[string]*recurring        // by Request.Key()
	inflight  map[int64]context.CancelFunc // starts and promotes running
	starts    int64
	callID    int64
	closed    bool
	wg        sync.WaitGroup
}

// New makes a Manager.
func New(opt Options) *Manager {
	if opt.MaxParallel <= 0 {
		opt.MaxParallel = 2 * runtime.NumCPU()
	}
	if opt.OCF == nil {
		opt.OCF = &OCF{}
	}
	if opt.LSB == nil {
		opt.LSB = &LSB{}
	}
	if opt.Builtin == nil {
		opt.Builtin = &Builtin{}
	}
	if opt.HistoryDepth <= 0 {
		opt.HistoryDepth = 20
	}
	if opt.OutputBytes <= 0 {
		opt.OutputBytes = 2048
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{
		opt: opt, log: log.With("node", opt.Node),
		slots:     make(chan struct{}, opt.MaxParallel),
		locks:     map[string]chan struct{}{},
		hist:      map[string]*History{},
		recurring: map[string]*recurring{},
		inflight:  map[int64]context.CancelFunc{},
	}
}

// OnResult sets an observer of every operation result the manager
// records, and of every recurring monitor result (alerts hook here). It is
// called after the result is recorded, from the operation's goroutine,
// and must not block. It changes nothing the manager does.
func (m *Manager) OnResult(fn func(Completion)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.onResult = fn
}

// observe passes a result to the OnResult observer, if any.
func (m *Manager) observe(c Completion) {
	m.mu.Lock()
	fn := m.onResult
	m.mu.Unlock()
	if fn != nil {
		c.Node = m.opt.Node
		fn(c)
	}
}

// runner picks the class that runs an agent.
func (m *Manager) runner(a Agent) (Runner, error) {
	if a.Class != "" && (!safeName(a.Type) || a.Class == ClassOCF && !safeName(a.Provider)) {
		return nil, fmt.Errorf("agent %q: the provider and type must be plain names", a)
	}
	switch a.Class {
	case ClassOCF:
		if a.Provider == ocf.Provider && m.opt.Builtin.Has(a.Type) {
			return m.opt.Builtin, nil
		}
		return m.opt.OCF, nil
	case ClassLSB:
		return m.opt.LSB, nil
	case ClassService:
		if m.opt.LSB.Has(a.Type) || m.opt.Systemd == nil {
			return m.opt.LSB, nil
		}
		return m.opt.Systemd, nil
	case ClassSystemd:
		if m.opt.Systemd == nil {
			return nil, fmt.Errorf("%s: the systemd class is not available on this node", a)
		}
		return m.opt.Systemd, nil
	}
	return nil, fmt.Errorf("%s: unknown agent class %q (want ocf, lsb, systemd or service)", a, a.Class)
}

// knownAction reports whether an action is one the manager runs.
func knownAction(a string) bool {
	switch a {
	case ocf.Start, ocf.Stop, ocf.Monitor, ocf.Promote, ocf.Demote, ocf.Notify, ocf.Reload, ocf.MetaData, ocf.ValidateAll:
		return true
	}
	return false
}

// check validates a request before it is queued.
func check(req Request) error {
	switch {
	case req.Rsc == "":
		return fmt.Errorf("request without a resource name")
	case !knownAction(req.Action):
		return fmt.Errorf("%s: unknown action %q", req.Rsc, req.Action)
	case req.Interval < 0 || req.Timeout < 0:
		return fmt.Errorf("%s: negative interval or timeout", req.Rsc)
	case req.Interval > 0 && req.Action != ocf.Monitor:
		return fmt.Errorf("%s: only monitors recur (%s with interval %v)", req.Rsc, req.Action, req.Interval)
	}
	return nil
}

// Exec runs one action and records it in the resource's history. It waits
// for the resource's earlier actions and for a free slot; ctx bounds the
// wait and the action (which also ends at req.Timeout, default 20 s). A
// stop first cancels the resource's recurring monitors, as Pacemaker's
// executor does.
func (m *Manager) Exec(ctx context.Context, req Request) Op {
	queued := time.Now()
	op := Op{Rsc: req.Rsc, Agent: req.Agent.String(), Action: req.Action, Interval: req.Interval, Started: queued}
	fail := func(st ExecStatus, rc int, reason string) Op {
		op.Result = Result{RC: rc, Status: st, Reason: reason}
		return m.record(op, req)
	}
	if err := check(req); err != nil {
		return fail(StatusError, ocf.ErrArgs, err.Error())
	}
	run, err := m.runner(req.Agent)
	if err != nil {
		return fail(StatusNotInstalled, ocf.ErrInstalled, err.Error())
	}
	if req.Timeout == 0 {
		req.Timeout = ocf.DefaultTimeout
	}
	req = m.withNode(req)
	if req.Action == ocf.Stop {
		m.cancelRecurring(req.Rsc)
	}
	release, err := m.acquire(ctx, req.Rsc)
	if err != nil {
		return fail(StatusCancelled, ocf.ErrGeneric, fmt.Sprintf("%s: %s not run: %v", req.Rsc, req.Action, err))
	}
	defer release()
	if (req.Action == ocf.Start || req.Action == ocf.Promote) && m.opt.MayStart != nil {
		if ok, why := m.opt.MayStart(); !ok {
			return fail(StatusError, ocf.ErrGeneric, fmt.Sprintf("%s: %s refused: %s", req.Rsc, req.Action, why))
		}
	}
	op.Started = time.Now()
	op.QueueMS = ms(op.Started.Sub(queued))
	rctx, cancel := context.WithTimeout(ctx, req.Timeout)
	if req.Action == ocf.Start || req.Action == ocf.Promote {
		defer m.track(cancel)()
	}
	op.Result = run.Run(rctx, req)
	cancel()
	op.ExecMS = ms(time.Since(op.Started))
	return m.record(op, req)
}

// withNode adds the node's name to the meta attributes
// (OCF_RESKEY_CRM_meta_on_node, as Pacemaker passes it).
func (m *Manager) withNode(req Request) Request {
	if m.opt.Node == "" {
		return req
	}
	meta := maps.Clone(req.Meta)
	if meta == nil {
		meta = map[string]string{}
	}
	meta["on_node"] = m.opt.Node
	if m.opt.NodeAddress != "" {
		meta["on_node_address"] = m.opt.NodeAddress
	}
	req.Meta = meta
	return req
}

// track registers the cancel of a start or promote in flight, for
// CancelStarts; the returned func unregisters it.
func (m *Manager) track(cancel context.CancelFunc) func() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.starts++
	id := m.starts
	m.inflight[id] = cancel
	return func() {
		m.mu.Lock()
		delete(m.inflight, id)
		m.mu.Unlock()
	}
}

// CancelStarts cancels every start and promote in flight (their agents
// are killed as at a timeout), so that a node that lost its lease does
// not finish starting what the others may be starting; the cancelled
// operations are recorded as failed, so a stop follows. It returns how
// many it cancelled.
func (m *Manager) CancelStarts() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, cancel := range m.inflight {
		cancel()
	}
	return len(m.inflight)
}

// acquire takes the resource's lock, then a slot.
func (m *Manager) acquire(ctx context.Context, rsc string) (func(), error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, fmt.Errorf("the resource manager is shut down")
	}
	l := m.locks[rsc]
	if l == nil {
		l = make(chan struct{}, 1)
		m.locks[rsc] = l
	}
	m.mu.Unlock()
	select {
	case l <- struct{}{}:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	select {
	case m.slots <- struct{}{}:
	case <-ctx.Done():
		<-l
		return nil, context.Cause(ctx)
	}
	return func() { <-m.slots; <-l }, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Close cancels every recurring monitor and waits for them to end, and
// closes the systemd class's bus connection. Exec calls after Close fail.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	for k, r := range m.recurring {
		r.cancel()
		delete(m.recurring, k)
	}
	m.mu.Unlock()
	m.wg.Wait()
	if c, ok := m.opt.Systemd.(interface{ Close() error }); ok {
		_ = c.Close()
	}
}
