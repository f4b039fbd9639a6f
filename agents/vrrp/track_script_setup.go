package vrrp

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/paceline/paceline/agents/vrrp/kaconf"
)

// Tracking is what a keepalived.conf asks for around its VRRP instances
// besides VRRP itself: the vrrp_scripts they track (ScriptTracker), the
// links they track (InterfaceTracker) and their notify scripts
// (Notifier). The notifier must be given to the Router when it is made,
// the trackers need it running:
//
//	tk, err := vrrp.NewTracking(kc, log, vrrp.TrackOptions{})
//	...
//	r, err := vrrp.NewRouter(cfgs, addrs, log, vrrp.WithNotify(tk.Notify))
//	...
//	defer tk.Close() // after Run has returned: the STOP scripts run
//	err = r.Run(ctx, func() { tk.Start(ctx, r) })
type Tracking struct {
	log      *slog.Logger
	scripts  *ScriptTracker
	links    *InterfaceTracker
	notifier *Notifier

	mu      sync.Mutex
	started bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// TrackOptions tune a Tracking; the zero value is the default.
type TrackOptions struct {
	Notify     NotifyOptions
	Interfaces []InterfaceOption
}

// NewTracking prepares the scripts and tracked links of cfg. Every script
// is checked now, as keepalived checks them at start (its user exists,
// the program exists and its user may execute it, and with
// enable_script_security no one but root can change what root runs);
// every problem is in the error, naming the script and its place in the
// file.
func NewTracking(cfg *kaconf.Config, log *slog.Logger, opt TrackOptions) (*Tracking, error) {
	r := newScriptResolver(cfg.Globals, log)
	scripts, err1 := newScriptTracker(cfg, r, log)
	notifier, err2 := newNotifier(cfg, r, log, opt.Notify)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	r.warnInsecure()
	return &Tracking{log: log, scripts: scripts, notifier: notifier, links: NewInterfaceTracker(cfg, log, opt.Interfaces...)}, nil
}

// Notify is the Router's WithNotify function (Notifier.Notify).
func (t *Tracking) Notify(tr Transition) { t.notifier.Notify(tr) }

// Start runs the script and link trackers, driving target (the Router),
// until ctx ends or Close. Call it once the Router runs, from the ready
// function of Router.Run: Adjust and Fault need its instances. Calls
// after the first do nothing.
func (t *Tracking) Start(ctx context.Context, target Tracked) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.started {
		return
	}
	t.started = true
	ctx, t.cancel = context.WithCancel(ctx)
	t.wg.Go(func() {
		if err := t.scripts.Run(ctx, target); err != nil {
			t.log.Error("script tracking stopped", "err", err)
		}
	})
	t.wg.Go(func() {
		if err := t.links.Run(ctx, target); err != nil {
			t.log.Error("link tracking stopped", "err", err)
		}
	})
}

// StartFaults are the faults the instances start with (ScriptTracker's).
func (t *Tracking) StartFaults() map[string]map[string]string { return t.scripts.StartFaults() }

// Close stops the trackers and waits for them (a running script is
// killed), then for the queued notify scripts (Notifier.Close).
func (t *Tracking) Close() {
	t.mu.Lock()
	t.started = true // no Start after Close
	if t.cancel != nil {
		t.cancel()
	}
	t.mu.Unlock()
	t.wg.Wait()
	t.notifier.Close()
}
