package fencing

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paceline/paceline/cib"
)

// Op states.
const (
	Pending = "pending"
	Done    = "done"
	Failed  = "failed"
)

// Op is one fencing operation, as the history keeps it.
type Op struct {
	ID     string `json:"id"`
	Target string `json:"target"`
	Action string `json:"action"`
	// Origin asked for it (a node, "operator", or the DC's transition);
	// Executor ran it.
	Origin   string `json:"origin"`
	Executor string `json:"executor"`
	State    string `json:"state"`
	// Level is the topology level that succeeded (or was tried last);
	// Devices are its devices.
	Level     int           `json:"level,omitempty"`
	Devices   []string      `json:"devices,omitempty"`
	Delay     time.Duration `json:"delay,omitempty"`
	Started   time.Time     `json:"started"`
	Completed time.Time     `json:"completed,omitzero"`
	Reason    string        `json:"reason,omitempty"`
	// Confirmed: an operator said the node is down (`stonith confirm`);
	// no device ran.
	Confirmed bool `json:"confirmed,omitempty"`
}

// FenceRequest asks for target to be fenced.
type FenceRequest struct {
	Target string
	// Action is off or reboot ("" means the stonith-action property).
	Action string
	Origin string
	// Delayed applies the devices' pcmk_delay_base/pcmk_delay_max (a
	// fence the cluster asks for; an operator's is never delayed), plus
	// ExtraDelay (priority-fencing-delay, which the caller works out).
	Delayed    bool
	ExtraDelay time.Duration
}

// Fencer runs fencing operations for one node and keeps their history.
type Fencer struct {
	self   string
	config func() *cib.Config
	agent  Agent
	log    *slog.Logger

	mu      sync.Mutex
	seq     int
	history []Op // oldest first, at most historyMax
	rnd     *rand.Rand
}

const historyMax = 500

// New makes a fencer for the node self.
func New(self string, config func() *cib.Config, agent Agent, log *slog.Logger) *Fencer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Fencer{self: self, config: config, agent: agent, log: log, rnd: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x9e3779b97f4a7c15))}
}

// Level is one tried level: its index and devices.
type Level struct {
	Index   int
	Devices []Device
}

// Levels are the ways to fence target, in the order they are tried: its
// topology levels by index when it has any (every device of a level is
// needed), else every device that can fence it, each a level of its own,
// in configuration order (as Pacemaker does with no topology).
func (f *Fencer) Levels(ctx context.Context, cfg *cib.Config, target string) ([]Level, error) {
	devices := map[string]cib.FenceDevice{}
	for _, d := range cfg.FenceDevices {
		devices[d.ID] = d
	}
	var levels []cib.FenceLevel
	for _, l := range cfg.FenceLevels {
		if l.Target == target {
			levels = append(levels, l)
		}
	}
	slices.SortFunc(levels, func(a, b cib.FenceLevel) int { return cmp.Compare(a.Index, b.Index) })
	var out []Level
	var errs []error
	if len(levels) > 0 {
		for _, l := range levels {
			lv := Level{Index: l.Index}
			for _, id := range l.Devices {
				d, ok := devices[id]
				if !ok {
					errs = append(errs, fmt.Errorf("level %d of %s names device %s, which does not exist", l.Index, target, id))
					lv.Devices = nil
					break
				}
				dev, err := ParseDevice(d)
				if err != nil {
					errs = append(errs, err)
					lv.Devices = nil
					break
				}
				lv.Devices = append(lv.Devices, dev)
			}
			if len(lv.Devices) > 0 {
				out = append(out, lv)
			}
		}
	} else {
		timeout := stonithTimeout(cfg)
		for i, d := range cfg.FenceDevices {
			dev, err := ParseDevice(d)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if ok, why := dev.CanFence(ctx, f.agent, target, timeout); !ok {
				errs = append(errs, errors.New(why))
				continue
			}
			out = append(out, Level{Index: i + 1, Devices: []Device{dev}})
		}
	}
	if len(out) == 0 {
		if len(errs) == 0 {
			return nil, fmt.Errorf("no fence device is configured for %s (paceline stonith create)", target)
		}
		return nil, fmt.Errorf("no fence device can fence %s: %w", target, errors.Join(errs...))
	}
	return out, nil
}

func stonithTimeout(cfg *cib.Config) time.Duration {
	if d, err := cib.ParseDuration(cfg.Property("stonith-timeout")); err == nil && d.D() > 0 {
		return d.D()
	}
	return 60 * time.Second
}

// Fence fences req.Target: level after level until one succeeds. It
// returns the operation as recorded in the history.
func (f *Fencer) Fence(ctx context.Context, req FenceRequest) Op {
	cfg := f.config()
	action := cmp.Or(req.Action, cfg.Property("stonith-action"), Reboot)
	op := f.begin(Op{Target: req.Target, Action: action, Origin: req.Origin, Executor: f.self, State: Pending, Started: time.Now()})
	fail := func(format string, args ...any) Op {
		op.State, op.Reason, op.Completed = Failed, fmt.Sprintf(format, args...), time.Now()
		f.log.Error("fencing failed", "target", op.Target, "action", op.Action, "reason", op.Reason)
		f.update(op)
		return op
	}
	if req.Target == "" {
		return fail("no target")
	}
	if action != Off && action != Reboot && action != On {
		return fail("action %q: want off, reboot or on", action)
	}
	levels, err := f.Levels(ctx, cfg, req.Target)
	if err != nil {
		return fail("%v", err)
	}
	if req.Delayed {
		op.Delay = req.ExtraDelay + levels[0].Devices[0].Delay(req.Target, f.rand())
	}
	if op.Delay > 0 {
		f.log.Info("fencing: waiting the fence delay first", "target", req.Target, "delay", op.Delay)
		f.update(op)
		t := time.NewTimer(op.Delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fail("cancelled during the fence delay: %v", context.Cause(ctx))
		case <-t.C:
		}
	}
	timeout := stonithTimeout(cfg)
	var reasons []string
	for _, l := range levels {
		op.Level, op.Devices = l.Index, deviceIDs(l.Devices)
		f.update(op)
		err := f.runLevel(ctx, l, action, req.Target, timeout)
		if err == nil {
			op.State, op.Completed = Done, time.Now()
			f.log.Warn("node fenced", "target", op.Target, "action", action, "level", l.Index, "devices", strings.Join(op.Devices, ","), "took", op.Completed.Sub(op.Started))
			f.update(op)
			return op
		}
		reasons = append(reasons, fmt.Sprintf("level %d: %v", l.Index, err))
		f.log.Warn("fencing level failed; trying the next one", "target", req.Target, "level", l.Index, "err", err)
		if ctx.Err() != nil {
			break
		}
	}
	return fail("%s", strings.Join(reasons, "; "))
}

// runLevel runs action with every device of a level. A reboot with
// several devices is done as off on all of them, then on on all (the
// on's failures do not fail the level), so the target is really down at
// some moment, as Pacemaker does.
func (f *Fencer) runLevel(ctx context.Context, l Level, action, target string, timeout time.Duration) error {
	if action == Reboot && len(l.Devices) > 1 {
		for _, d := range l.Devices {
			if err := f.runDevice(ctx, d, Off, target, timeout); err != nil {
				return err
			}
		}
		for _, d := range l.Devices {
			if err := f.runDevice(ctx, d, On, target, timeout); err != nil {
				f.log.Warn("fencing: turning the target back on failed (it is off: the fence holds)", "target", target, "device", d.ID, "err", err)
			}
		}
		return nil
	}
	for _, d := range l.Devices {
		if err := f.runDevice(ctx, d, action, target, timeout); err != nil {
			return err
		}
	}
	return nil
}

// runDevice runs one action of one device: tried again on failure up to
// its retries, all within its timeout.
func (f *Fencer) runDevice(ctx context.Context, d Device, action, target string, stonith time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, d.Timeout(action, stonith))
	defer cancel()
	var last Result
	for attempt := 0; attempt <= d.Retries(action); attempt++ {
		last = f.agent.Run(ctx, d.request(action, target))
		if last.OK() {
			f.log.Info("fence device succeeded", "device", d.ID, "action", action, "target", target, "took", last.Took)
			return nil
		}
		f.log.Warn("fence device failed", "device", d.ID, "action", action, "target", target, "attempt", attempt+1, "rc", last.RC, "reason", last.Reason, "output", tail(last.Output, 400))
		if ctx.Err() != nil {
			break
		}
	}
	why := last.Reason
	if why == "" {
		why = fmt.Sprintf("exit code %d", last.RC)
		if o := tail(last.Output, 200); o != "" {
			why += ": " + o
		}
	}
	return fmt.Errorf("%s %s %s: %s", d.ID, action, target, why)
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return s
}

func deviceIDs(ds []Device) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

// Confirm records an operator's word that target is down (`stonith
// confirm`): no device runs.
func (f *Fencer) Confirm(target, origin string) Op {
	now := time.Now()
	op := f.begin(Op{Target: target, Action: Off, Origin: origin, Executor: f.self, State: Done, Confirmed: true, Started: now, Completed: now,
		Reason: "confirmed down by an operator"})
	f.log.Warn("node confirmed down by an operator", "target", target, "origin", origin)
	return op
}

func (f *Fencer) rand() *rand.Rand {
	f.mu.Lock()
	defer f.mu.Unlock()
	// A child source, so the draw needs no lock afterwards.
	return rand.New(rand.NewPCG(f.rnd.Uint64(), f.rnd.Uint64()))
}

func (f *Fencer) begin(op Op) Op {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	op.ID = fmt.Sprintf("%s-%d-%d", f.self, op.Started.UnixMilli(), f.seq)
	f.history = append(f.history, op)
	if len(f.history) > historyMax {
		f.history = slices.Delete(f.history, 0, len(f.history)-historyMax)
	}
	return op
}

func (f *Fencer) update(op Op) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.history) - 1; i >= 0; i-- {
		if f.history[i].ID == op.ID {
			f.history[i] = op
			return
		}
	}
}

// History is this node's fencing history, oldest first.
func (f *Fencer) History() []Op {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.history)
}

// Record keeps an operation this node ran or was told of (every node
// keeps the results it learns, so any of them can show them).
func (f *Fencer) Record(op Op) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.history {
		if f.history[i].ID == op.ID {
			f.history[i] = op
			return
		}
	}
	f.history = append(f.history, op)
	if len(f.history) > historyMax {
		f.history = slices.Delete(f.history, 0, len(f.history)-historyMax)
	}
}
