package vrrp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/paceline/paceline/agents/vrrp/fsm"
	"github.com/paceline/paceline/agents/vrrp/kaconf"
	"github.com/paceline/paceline/proc"
)

// This file runs the notify scripts of instances and sync groups on
// their state changes (keepalived/vrrp/vrrp_notify.c:
// send_instance_notifies, send_group_notifies, notify_script_exec,
// notify_shutdown).

// Notify timeouts. keepalived never kills notify_master, notify_backup or
// notify_fault, nor the generic notify on those states; Paceline runs an
// instance's scripts one after the other, so it must bound them. On STOP
// keepalived gives the scripts one second, then kills their process
// group (system_call_script with child_killed_thread).
const (
	DefaultNotifyTimeout = 30 * time.Second
	DefaultStopTimeout   = time.Second
)

// maxQueued bounds the runs waiting per instance or group; beyond it
// transitions are dropped with a warning (a script that hangs until its
// timeout at every flap).
const maxQueued = 64

// NotifyOptions tune a Notifier; zero values are the defaults.
type NotifyOptions struct {
	// Timeout bounds the scripts of MASTER, BACKUP and FAULT
	// (DefaultNotifyTimeout), StopTimeout those of STOP
	// (DefaultStopTimeout).
	Timeout, StopTimeout time.Duration
}

// Notifier runs the notify scripts of the instances and sync groups of a
// keepalived.conf. Its Notify method is the Router's WithNotify function:
// it never blocks, it queues. Each instance and each group has its own
// queue, run in order in a goroutine of its own while it has work: on a
// change to MASTER, BACKUP or FAULT, the state's script (notify_master,
// notify_backup, notify_fault) and then the generic notify script with
// four more arguments, "INSTANCE" or "GROUP", the name, the state and the
// priority (0 for a group); when the router shuts down (the state STOP),
// notify_stop and then the generic notify. Every run is bounded by its
// timeout, runs as its user, and its output is logged (the head and tail
// proc keeps).
type Notifier struct {
	log     *slog.Logger
	opt     NotifyOptions
	scripts map[notifyKey]*notifyScripts

	mu     sync.Mutex
	queues map[notifyKey]*notifyQueue
	closed bool
	wg     sync.WaitGroup
}

// notifyKey is an instance or a sync group.
type notifyKey struct {
	group bool
	name  string
}

// kind is the generic notify script's first argument.
func (k notifyKey) kind() string {
	if k.group {
		return "GROUP"
	}
	return "INSTANCE"
}

// logger is log with the instance or group.
func (k notifyKey) logger(log *slog.Logger, state string) *slog.Logger {
	if k.group {
		return log.With("sync-group", k.name, "state", state)
	}
	return log.With("instance", k.name, "state", state)
}

// notifyScripts are the scripts of one instance or group (nil: none).
type notifyScripts struct {
	master, backup, fault, stop, generic *scriptCmd
}

// notifyQueue holds the runs waiting for one instance or group; running
// says a goroutine works through it.
type notifyQueue struct {
	pending []notifyJob
	running bool
}

// notifyJob is one transition to notify.
type notifyJob struct {
	state string // MASTER, BACKUP, FAULT or STOP
	prio  int
	// specific is the state's own script (nil: none).
	specific *scriptCmd
}

// NewNotifier prepares the notify scripts of cfg: it settles each one's
// user and checks it as keepalived does (see scriptResolver.check);
// every problem is in the error.
func NewNotifier(cfg *kaconf.Config, log *slog.Logger, opt NotifyOptions) (*Notifier, error) {
	r := newScriptResolver(cfg.Globals, log)
	n, err := newNotifier(cfg, r, log, opt)
	if err != nil {
		return nil, err
	}
	r.warnInsecure()
	return n, nil
}

func newNotifier(cfg *kaconf.Config, r *scriptResolver, log *slog.Logger, opt NotifyOptions) (*Notifier, error) {
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultNotifyTimeout
	}
	if opt.StopTimeout <= 0 {
		opt.StopTimeout = DefaultStopTimeout
	}
	n := &Notifier{log: log, opt: opt, scripts: map[notifyKey]*notifyScripts{}, queues: map[notifyKey]*notifyQueue{}}
	var errs []error
	add := func(k notifyKey, what string, pos kaconf.Pos, nt *kaconf.Notify) {
		s := &notifyScripts{}
		for _, c := range []struct {
			keyword string
			cmd     *kaconf.Command
			dst     **scriptCmd
		}{
			{"notify_master", nt.Master, &s.master},
			{"notify_backup", nt.Backup, &s.backup},
			{"notify_fault", nt.Fault, &s.fault},
			{"notify_stop", nt.Stop, &s.stop},
			{"notify", nt.Any, &s.generic},
		} {
			if c.cmd == nil {
				continue
			}
			sc, err := r.resolve(what+" "+c.keyword, c.cmd)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s%w", at(pos), err))
				continue
			}
			*c.dst = sc
		}
		if *s != (notifyScripts{}) {
			n.scripts[k] = s
		}
	}
	for _, in := range cfg.Instances {
		add(notifyKey{name: in.Name}, "vrrp_instance "+in.Name, in.Pos, &in.Notify)
	}
	for _, g := range cfg.SyncGroups {
		add(notifyKey{group: true, name: g.Name}, "vrrp_sync_group "+g.Name, g.Pos, &g.Notify)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return n, nil
}

// notifyState is keepalived's name of the state entered; leaving for
// INIT is the router shutting down: STOP.
func notifyState(s fsm.State) string {
	if s == fsm.Init {
		return "STOP"
	}
	return s.String()
}

// Notify queues the scripts of a transition. It never blocks: it is the
// Router's WithNotify function.
func (n *Notifier) Notify(t Transition) {
	k, prio := notifyKey{name: t.Instance}, t.Priority
	if t.Instance == "" {
		k, prio = notifyKey{group: true, name: t.Group}, 0
	}
	s := n.scripts[k]
	if s == nil {
		return
	}
	j := notifyJob{state: notifyState(t.To), prio: prio}
	switch t.To {
	case fsm.Master:
		j.specific = s.master
	case fsm.Backup:
		j.specific = s.backup
	case fsm.Fault:
		j.specific = s.fault
	case fsm.Init:
		j.specific = s.stop
	}
	if j.specific == nil && s.generic == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		k.logger(n.log, j.state).Warn("notify scripts not run: the notifier is closed")
		return
	}
	q := n.queues[k]
	if q == nil {
		q = &notifyQueue{}
		n.queues[k] = q
	}
	if len(q.pending) >= maxQueued {
		k.logger(n.log, j.state).Warn("notify scripts not run: too many waiting", "waiting", len(q.pending))
		return
	}
	q.pending = append(q.pending, j)
	if !q.running {
		q.running = true
		n.wg.Go(func() { n.drain(k, q) })
	}
}

// drain runs a queue's jobs in order until it is empty.
func (n *Notifier) drain(k notifyKey, q *notifyQueue) {
	for {
		n.mu.Lock()
		if len(q.pending) == 0 {
			q.running = false
			n.mu.Unlock()
			return
		}
		j := q.pending[0]
		q.pending = q.pending[1:]
		n.mu.Unlock()
		timeout, grace := n.opt.Timeout, scriptGrace
		if j.state == "STOP" {
			timeout, grace = n.opt.StopTimeout, 0
		}
		log := k.logger(n.log, j.state)
		if j.specific != nil {
			n.run(log, j.specific, timeout, grace)
		}
		if generic := n.scripts[k].generic; generic != nil {
			n.run(log, generic, timeout, grace, k.kind(), k.name, j.state, strconv.Itoa(j.prio))
		}
	}
}

// run runs one script and logs how it went with its output.
func (n *Notifier) run(log *slog.Logger, sc *scriptCmd, timeout, grace time.Duration, extra ...string) {
	// Not the router's context: the STOP scripts run after it ended.
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	res := proc.Run(ctx, sc.cmd(grace, extra...))
	ok, why, _ := sc.outcome(res, timeout)
	log = log.With("script", sc.what, "path", sc.path, "user", sc.user.name, "took", time.Since(start).Round(time.Millisecond), "output", res.Output)
	if ok {
		log.Info("notify script ran")
		return
	}
	log.Warn("notify script failed", "result", why)
}

// Close waits for the queued scripts to run (each bounded by its
// timeout); later transitions are not notified. Call it once the Router
// has returned from Run, so that the STOP scripts run.
func (n *Notifier) Close() {
	n.mu.Lock()
	n.closed = true
	n.mu.Unlock()
	n.wg.Wait()
}
