package alerts

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/proc"
)

// Options configure a Runner.
type Options struct {
	// Config returns the current configuration: its alerts are read at
	// each event.
	Config func() *cib.Config
	// Version is CRM_alert_version (the agent's version).
	Version string
	// MaxParallel bounds the alert agents running at once (default 8);
	// QueueSize the runs waiting for a turn (default 1024), beyond which
	// runs are dropped with a warning rather than piling up.
	MaxParallel, QueueSize int
	// Grace is how long a timed-out agent's process group has between
	// SIGTERM and SIGKILL (default 2 s).
	Grace time.Duration
	// Now is the clock for the events' timestamps (default time.Now).
	Now func() time.Time
	// Done, if set, receives every finished run (tests, metrics); it is
	// called from a worker and must not block.
	Done func(Result)
	Log  *slog.Logger
}

// Result is one finished run.
type Result struct {
	Run
	// Seq is its CRM_alert_node_sequence.
	Seq uint64
	proc.Result
}

// job is a queued run.
type job struct {
	run Run
	seq uint64
}

// Runner runs the alert agents of the events this node sees: Notify
// plans and queues them at once, without waiting; Run's workers execute
// them, asynchronously, at most MaxParallel at once, each without a shell
// and bounded by its timeout (then SIGTERM and SIGKILL of its process
// group, as the lrm does with resource agents).
type Runner struct {
	opt   Options
	log   *slog.Logger
	queue chan job

	mu      sync.Mutex
	seq     uint64          // the last CRM_alert_node_sequence given
	pending int             // queued or running
	idle    []chan struct{} // Drain's waiters, closed when pending is 0
}

// New makes a Runner; its runs start once Run is called.
func New(opt Options) *Runner {
	if opt.MaxParallel <= 0 {
		opt.MaxParallel = 8
	}
	if opt.QueueSize <= 0 {
		opt.QueueSize = 1024
	}
	if opt.Grace <= 0 {
		opt.Grace = 2 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Config == nil {
		opt.Config = func() *cib.Config { return nil }
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{opt: opt, log: log, queue: make(chan job, opt.QueueSize)}
}

// Notify runs the alerts of one event: it plans the runs under the current
// configuration (see Plan) and queues them, each with the next sequence
// number. It never blocks.
func (r *Runner) Notify(ev Event) {
	cfg := r.opt.Config()
	if cfg == nil || len(cfg.Alerts) == 0 {
		return
	}
	at := ev.Time
	if at.IsZero() {
		at = r.opt.Now()
	}
	runs := Plan(cfg, ev, r.opt.Version, at)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, run := range runs {
		r.seq++
		select {
		case r.queue <- job{run: run, seq: r.seq}:
			r.pending++
		default:
			r.log.Warn("alert dropped: too many alerts queued", "alert", run.Alert, "recipient", run.Recipient,
				"kind", run.Kind, "queued", cap(r.queue))
		}
	}
}

// Run executes queued alerts until ctx ends; then the agents still running
// are killed (SIGTERM, then SIGKILL after the grace) and the queued ones
// dropped. It returns once every worker has stopped.
func (r *Runner) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range r.opt.MaxParallel {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-r.queue:
					if ctx.Err() != nil {
						r.log.Debug("alert not run: shutting down", "alert", j.run.Alert, "recipient", j.run.Recipient, "kind", j.run.Kind)
						r.finished()
						return
					}
					r.exec(ctx, j)
				}
			}
		})
	}
	wg.Wait()
	for {
		select {
		case j := <-r.queue:
			r.log.Debug("alert not run: shutting down", "alert", j.run.Alert, "recipient", j.run.Recipient, "kind", j.run.Kind)
			r.finished()
		default:
			return nil
		}
	}
}

// exec runs one alert agent and logs how it went: its output at debug, a
// failure or timeout at warn.
func (r *Runner) exec(ctx context.Context, j job) {
	defer r.finished()
	run := j.run
	env := append(run.Env[:len(run.Env):len(run.Env)], "CRM_alert_node_sequence="+strconv.FormatUint(j.seq, 10))
	log := r.log.With("alert", run.Alert, "recipient", run.Recipient, "kind", run.Kind, "seq", j.seq)
	log.Debug("running alert agent", "path", run.Path)
	rctx, cancel := context.WithTimeout(ctx, run.Timeout)
	start := time.Now()
	res := proc.Run(rctx, proc.Cmd{Path: run.Path, Env: env, Grace: r.opt.Grace})
	cancel()
	took := time.Since(start)
	switch {
	case res.Status == proc.Done && res.Code == 0:
		log.Debug("alert agent done", "took", took, "output", res.Output)
	case res.Status == proc.Done:
		log.Warn("alert agent failed", "rc", res.Code, "took", took, "output", res.Output)
	case res.Status == proc.Timeout:
		log.Warn("alert agent timed out; killed with its process group", "timeout", run.Timeout, "output", res.Output)
	case res.Status == proc.Cancelled:
		log.Info("alert agent stopped: shutting down", "output", res.Output)
	default:
		log.Warn("alert agent did not complete", "reason", res.Reason, "output", res.Output)
	}
	if r.opt.Done != nil {
		r.opt.Done(Result{Run: run, Seq: j.seq, Result: res})
	}
}

// finished counts one queued run as done, waking Drain at zero.
func (r *Runner) finished() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending--
	if r.pending == 0 {
		for _, ch := range r.idle {
			close(ch)
		}
		r.idle = nil
	}
}

// Drain waits until no alert is queued or running, or ctx ends (its error
// is returned then). A clean shutdown drains, as Pacemaker's executor
// does, so that the alerts of the last stops still run.
func (r *Runner) Drain(ctx context.Context) error {
	r.mu.Lock()
	if r.pending == 0 {
		r.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	r.idle = append(r.idle, ch)
	r.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
