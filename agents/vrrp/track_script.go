package vrrp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/paceline/paceline/agents/vrrp/kaconf"
	"github.com/paceline/paceline/proc"
)

// This file runs keepalived's vrrp_scripts for the instances that track
// them (keepalived/vrrp/vrrp_scheduler.c: vrrp_script_thread,
// vrrp_script_child_thread; vrrp_track.c: process_script_update_priority).

// Tracked is what the trackers drive: a Router (tests use a recorder).
type Tracked interface {
	// Adjust sets an instance's priority adjustment under a source name
	// (0 removes it).
	Adjust(instance, source string, weight int) error
	// Fault declares (why != "") or clears an instance's fault under a
	// source name.
	Fault(instance, source, why string) error
}

var _ Tracked = (*Router)(nil)

// scriptGrace is how long a timed-out script's process group has between
// SIGTERM and SIGKILL (keepalived's vrrp_script_child_thread: 2 s).
const scriptGrace = 2 * time.Second

// trackEntry is one instance tracking a script or an interface, with the
// entry's weight and reverse.
type trackEntry struct {
	instance string
	weight   int
	reverse  bool
}

// effect is what the tracked object being up (a script succeeding, a
// link up) or down does to the instance (vrrp_track.c:
// process_script_update_priority, initialise_track_script_state,
// keepalived_netlink.c: process_if_status_change). Weight 0: the instance
// is in fault while the object is down, or with reverse while it is up.
// Otherwise a positive weight is added while it is up, a negative one
// while it is down, and reverse flips the sign of what is added.
func (e trackEntry) effect(up bool) (adjust int, fault bool) {
	sign := 1
	if e.reverse {
		sign = -1
	}
	switch {
	case e.weight == 0:
		return 0, up == e.reverse
	case up && e.weight > 0, !up && e.weight < 0:
		return e.weight * sign, false
	}
	return 0, false
}

// mergeEntry adds e to an instance's list of entries for one object, or,
// when the instance tracks it already (from its own block and its sync
// group's), lets the later entry's weight and reverse win unless the
// earlier one is unweighted (vrrp.c: add_vrrp_to_track_script,
// add_vrrp_to_interface).
func mergeEntry(list []trackEntry, e trackEntry) []trackEntry {
	for i := range list {
		if list[i].instance == e.instance {
			if list[i].weight != 0 {
				list[i].weight, list[i].reverse = e.weight, e.reverse
			}
			return list
		}
	}
	return append(list, e)
}

// driver sends the effects of one tracked object (a source: "script
// chk", "interface eth1") to the instances tracking it, only what
// changed.
type driver struct {
	target  Tracked
	source  string
	entries []trackEntry
	log     *slog.Logger
	adjust  map[string]int
	fault   map[string]bool
	// heldUntilFirst: the instances start in FAULT for weight-0 entries
	// (StartFaults), so the first state is sent to them even when it is
	// "no fault".
	heldUntilFirst bool
	sent           map[string]bool
}

func newDriver(target Tracked, source string, entries []trackEntry, log *slog.Logger) *driver {
	return &driver{target: target, source: source, entries: entries, log: log, adjust: map[string]int{}, fault: map[string]bool{}}
}

// set applies the object's state (why explains it, for a fault).
func (d *driver) set(up bool, why string) {
	for _, e := range d.entries {
		adj, fault := e.effect(up)
		if adj != d.adjust[e.instance] {
			d.adjust[e.instance] = adj
			if err := d.target.Adjust(e.instance, d.source, adj); err != nil {
				d.log.Warn("priority not adjusted", "instance", e.instance, "source", d.source, "err", err)
			}
		}
		first := d.heldUntilFirst && e.weight == 0 && !d.sent[e.instance]
		if fault != d.fault[e.instance] || first {
			if d.sent == nil {
				d.sent = map[string]bool{}
			}
			d.sent[e.instance] = true
			d.fault[e.instance] = fault
			reason := ""
			if fault {
				reason = why
			}
			if err := d.target.Fault(e.instance, d.source, reason); err != nil {
				d.log.Warn("fault not set", "instance", e.instance, "source", d.source, "err", err)
			}
		}
	}
}

// scriptState is keepalived's state of a vrrp_script: result counts from
// 0 up to rise+fall-1; the script is up once result reaches rise. Each
// success counts up towards rise while it is down, and puts it at
// rise+fall-1 while it is up; each failure counts down towards rise
// while it is up and puts it at 0 while it is down. So rise successes in
// a row bring it up and fall failures in a row bring it down
// (vrrp_scheduler.c: vrrp_script_child_thread).
type scriptState struct {
	rise, fall int
	result     int
	// known is false until the first result (keepalived's
	// SCRIPT_INIT_STATE_INIT): then one result, either way, decides.
	known bool
}

// newScriptState starts a script as keepalived does (vrrp_init_script):
// unknown, one success from up; with init_fail known and down, rise
// successes from up.
func newScriptState(s *kaconf.Script) scriptState {
	rise, fall := max(s.Rise, 1), max(s.Fall, 1)
	if s.InitFail {
		return scriptState{rise: rise, fall: fall, known: true}
	}
	return scriptState{rise: rise, fall: fall, result: rise - 1}
}

// up says whether the script is up (false while unknown).
func (s *scriptState) up() bool { return s.known && s.result >= s.rise }

// record counts one result; changed says whether the script's state
// (unknown, up, down) changed.
func (s *scriptState) record(ok bool) (changed bool) {
	was, wasUp := s.known, s.up()
	switch {
	case ok && s.result < s.rise-1:
		s.result++
	case ok:
		s.result = s.rise + s.fall - 1
	case s.result > s.rise:
		s.result--
	default:
		s.result = 0
	}
	s.known = true
	return !was || s.up() != wasUp
}

// ScriptTracker runs the vrrp_scripts that instances track, each every
// interval and bounded by its timeout, and drives those instances: a
// weighted entry adjusts the priority, an unweighted one puts the
// instance in fault (see trackEntry.effect). Instances in a sync group
// also track the group's track_script entries.
type ScriptTracker struct {
	log     *slog.Logger
	scripts []*trackedScript
}

// trackedScript is one vrrp_script and its trackers.
type trackedScript struct {
	cfg     *kaconf.Script
	cmd     *scriptCmd
	entries []trackEntry
}

// NewScriptTracker prepares the scripts of cfg that some instance tracks:
// it settles each one's user and checks it as keepalived does (see
// scriptResolver.check); every problem is in the error.
func NewScriptTracker(cfg *kaconf.Config, log *slog.Logger) (*ScriptTracker, error) {
	r := newScriptResolver(cfg.Globals, log)
	t, err := newScriptTracker(cfg, r, log)
	if err != nil {
		return nil, err
	}
	r.warnInsecure()
	return t, nil
}

func newScriptTracker(cfg *kaconf.Config, r *scriptResolver, log *slog.Logger) (*ScriptTracker, error) {
	t := &ScriptTracker{log: log}
	tracks := scriptTracks(cfg)
	var errs []error
	for _, s := range cfg.Scripts {
		entries := tracks[s.Name]
		if len(entries) == 0 {
			log.Warn("Warning - script "+s.Name+" is not used", "script", s.Name, "at", s.Pos.String())
			continue
		}
		cmd, err := r.resolve("vrrp_script "+s.Name, &s.Command)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s%w", at(s.Pos), err))
			continue
		}
		if s.Interval <= 0 || s.Timeout <= 0 {
			errs = append(errs, fmt.Errorf("%svrrp_script %s: interval %v and timeout %v must be positive", at(s.Pos), s.Name, s.Interval, s.Timeout))
			continue
		}
		t.scripts = append(t.scripts, &trackedScript{cfg: s, cmd: cmd, entries: entries})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return t, nil
}

// scriptTracks lists, per vrrp_script, the instances tracking it: each
// instance's track_script entries, then each sync group's for every
// member (vrrp.c: sync_group_tracking_init), in the file's order.
func scriptTracks(cfg *kaconf.Config) map[string][]trackEntry {
	out := map[string][]trackEntry{}
	for _, in := range cfg.Instances {
		for _, ts := range in.TrackScripts {
			out[ts.Name] = mergeEntry(out[ts.Name], trackEntry{instance: in.Name, weight: ts.Weight, reverse: ts.Reverse})
		}
	}
	for _, g := range cfg.SyncGroups {
		for _, ts := range g.TrackScripts {
			for _, name := range g.Instances {
				out[ts.Name] = mergeEntry(out[ts.Name], trackEntry{instance: name, weight: ts.Weight, reverse: ts.Reverse})
			}
		}
	}
	return out
}

// StartFaults are the faults the instances start with, by instance and
// source: as keepalived (vrrp_init_state), an instance that tracks a
// script with weight 0 stays in FAULT until that script's first result,
// so that not even the address owner becomes master before its check has
// run once. Give them to the Router (WithStartFaults).
func (t *ScriptTracker) StartFaults() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, s := range t.scripts {
		for _, e := range s.entries {
			if e.weight != 0 {
				continue
			}
			if out[e.instance] == nil {
				out[e.instance] = map[string]string{}
			}
			out[e.instance]["script "+s.cfg.Name] = "no result of vrrp_script " + s.cfg.Name + " yet"
		}
	}
	return out
}

// Run runs the scripts, each in a goroutine of its own, until ctx ends;
// it returns once they all have (a running script is killed).
func (t *ScriptTracker) Run(ctx context.Context, target Tracked) error {
	var wg sync.WaitGroup
	for _, s := range t.scripts {
		wg.Go(func() { t.loop(ctx, target, s) })
	}
	wg.Wait()
	return nil
}

// loop runs one script: at once, then every interval from the start of
// the previous run; a run that outlasts its interval makes the runs due
// meanwhile be skipped, as keepalived does.
func (t *ScriptTracker) loop(ctx context.Context, target Tracked, s *trackedScript) {
	source := "script " + s.cfg.Name
	log := t.log.With("script", s.cfg.Name)
	d := newDriver(target, source, s.entries, log)
	d.heldUntilFirst = true // weight 0 entries start in FAULT (StartFaults): the first result is always sent
	st := newScriptState(s.cfg)
	if st.known { // init_fail
		d.set(st.up(), "init_fail: failed until it succeeds")
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	lastCode, fails := 0, 0 // keepalived logs a first status 0 as no change
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		start := time.Now()
		rctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
		res := proc.Run(rctx, s.cmd.cmd(scriptGrace))
		cancel()
		ok, why, done := s.cmd.outcome(res, s.cfg.Timeout)
		if !done {
			return
		}
		log.Debug("vrrp_script ran", "ok", ok, "result", why, "took", time.Since(start), "output", res.Output)
		if res.Status == proc.Done && res.Code != lastCode {
			log.Info(fmt.Sprintf("Script `%s` now returning %d", s.cfg.Name, res.Code))
			lastCode = res.Code
		}
		fails++
		if ok {
			fails = 0
		}
		if st.record(ok) {
			t.changed(d, s, st.up(), why, fails, res.Output, log)
		}
		next := start.Add(s.cfg.Interval)
		if now := time.Now(); !now.Before(next) {
			log.Info("Track script "+s.cfg.Name+" is already running, expect idle - skipping run", "took", now.Sub(start), "interval", s.cfg.Interval)
			next = next.Add((now.Sub(next)/s.cfg.Interval + 1) * s.cfg.Interval)
		}
		timer.Reset(time.Until(next))
	}
}

// changed reports the script's new state and drives its instances.
func (t *ScriptTracker) changed(d *driver, s *trackedScript, up bool, why string, fails int, output string, log *slog.Logger) {
	word := "failed"
	if up {
		word = "succeeded"
	}
	log.Info(fmt.Sprintf("VRRP_Script(%s) %s", s.cfg.Name, word), "result", why, "rise", s.cfg.Rise, "fall", s.cfg.Fall, "output", output)
	reason := why
	switch {
	case up:
		reason = why + " (reverse: the instance is down while the script succeeds)"
	case fails > 1:
		reason = fmt.Sprintf("%s (%d failures in a row)", why, fails)
	}
	d.set(up, reason)
}
