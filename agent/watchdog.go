package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/paceline/paceline/fencing"
	"github.com/paceline/paceline/messaging"
)

// Watchdog self-fencing (SBD's principle, shared/DESIGN.md Safety): a
// hardware watchdog (/dev/watchdog) resets the machine unless it is fed.
// The agent feeds it while this node may run resources — it holds its
// lease, or it runs nothing — so a node that lost its lease and cannot
// stop what it runs, or whose agent hangs (SIGSTOP, a kernel stall that
// stops user space), is reset by the hardware within the watchdog's
// timeout. The other nodes then treat it as fenced once that timeout has
// passed since they last heard it (device fence_watchdog below).

// WatchdogSettings configure the hardware watchdog (node config
// `watchdog:`).
type WatchdogSettings struct {
	// Device is the watchdog device, e.g. /dev/watchdog ("" = none).
	Device string `yaml:"device,omitempty"`
	// Timeout is the watchdog's reset timeout (set on the device; default
	// 5s). fence_watchdog waits it (plus the lease margin) before it
	// reports a lost node fenced.
	Timeout time.Duration `yaml:"timeout,omitempty"`
}

func (w WatchdogSettings) timeout() time.Duration {
	if w.Timeout > 0 {
		return w.Timeout
	}
	return 5 * time.Second
}

// The watchdog ioctls of linux/watchdog.h.
const (
	wdiocSetTimeout = 0xc0045706 // _IOWR('W', 6, int)
	wdiocKeepalive  = 0x80045705 // _IOR('W', 5, int)
)

// openWatchdog opens the device and sets its timeout (opening arms it).
func openWatchdog(w WatchdogSettings, log *slog.Logger) (*os.File, error) {
	f, err := os.OpenFile(w.Device, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("watchdog %s: %w", w.Device, err)
	}
	secs := int32(w.timeout().Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), wdiocSetTimeout, uintptr(unsafe.Pointer(&secs))); e != 0 && !errors.Is(e, unix.ENOTTY) {
		log.Warn("watchdog: cannot set its timeout; the device keeps its own", "device", w.Device, "err", e)
	}
	log.Info("watchdog armed", "device", w.Device, "timeout", w.timeout())
	return f, nil
}

// runWatchdog feeds the device every third of its timeout while
// mayRun() holds, until ctx ends; then it disarms it with the magic close
// ('V'), so a clean stop does not reset the machine, and closes it.
func runWatchdog(ctx context.Context, f *os.File, w WatchdogSettings, mayRun func() (bool, string), log *slog.Logger) error {
	feed := func() error {
		_, err := f.Write([]byte{0})
		return err
	}
	t := time.NewTicker(w.timeout() / 3)
	defer t.Stop()
	starving := false
	for {
		if ok, why := mayRun(); ok {
			if err := feed(); err != nil {
				log.Error("watchdog: feeding failed", "err", err)
			}
			if starving {
				log.Info("watchdog: fed again")
				starving = false
			}
		} else if !starving {
			log.Warn("watchdog: no longer fed: this node has no lease and still runs resources; the machine resets unless they stop in time", "reason", why, "timeout", w.timeout())
			starving = true
		}
		select {
		case <-ctx.Done():
			// Disarm: the magic close (a driver without nowayout stops).
			_, _ = f.Write([]byte{'V'})
			return f.Close()
		case <-t.C:
		}
	}
}

// watchdogMayRun: the lease is held, or this node runs nothing.
func (a *Agent) watchdogMayRun() (bool, string) {
	held, reason := a.mayStart()
	if held {
		return true, ""
	}
	for _, h := range a.lrm.Histories() {
		if h.State != nil && runningState(h.State) {
			return false, reason + "; " + h.Rsc + " still runs"
		}
	}
	return true, ""
}

// watchdogFence is the built-in device fence_watchdog: a node that uses a
// watchdog (or, without one, the software self-stop of its lease) has
// certainly stopped what it ran once it has not been heard for its lease,
// self-stop-timeout and margin — plus, with parameter watchdog_timeout,
// the hardware's reset timeout. Fencing it is waiting for that; it needs
// no hardware, and fails at once if the target is alive.
type watchdogFence struct{ a *Agent }

func (w watchdogFence) Metadata() string {
	return `<?xml version="1.0" ?>
<resource-agent name="fence_watchdog" shortdesc="Self-fencing: wait until the target has certainly reset or stopped">
<parameters>
	<parameter name="watchdog_timeout" required="0"><content type="string" default="0"/><shortdesc lang="en">The targets' hardware watchdog timeout (0: software self-stop only)</shortdesc></parameter>
</parameters>
<actions><action name="off"/><action name="reboot"/><action name="status"/><action name="monitor"/><action name="metadata"/></actions>
</resource-agent>
`
}

func (w watchdogFence) Run(ctx context.Context, req fencing.Request) fencing.Result {
	switch req.Action {
	case fencing.Monitor:
		return fencing.Result{}
	case fencing.Off, fencing.Reboot, fencing.Status:
	default:
		return fencing.Result{RC: 1, Reason: "fence_watchdog: action " + req.Action + " is not supported"}
	}
	a := w.a
	if a.ms == nil {
		return fencing.Result{RC: 1, Reason: "fence_watchdog: no membership"}
	}
	var extra time.Duration
	if v := req.Params["watchdog_timeout"]; v != "" && v != "0" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fencing.Result{RC: 1, Reason: fmt.Sprintf("fence_watchdog: watchdog_timeout=%q: want a duration", v)}
		}
		extra = d
	}
	lt := a.leaseTiming(a.store.Config())
	for {
		var target *messaging.Member
		for _, m := range a.ms.Members() {
			if m.Name == req.Target {
				target = &m
			}
		}
		if target != nil && (target.State == messaging.Alive || target.State == messaging.Suspect) {
			if req.Action == fencing.Status {
				return fencing.Result{RC: fencing.StatusOn}
			}
			return fencing.Result{RC: 1, Reason: "fence_watchdog: " + req.Target + " is alive: it cannot be self-fenced"}
		}
		var done time.Time
		if target != nil {
			done = lt.recoverableAt(*target, a.ms.LastHeard()[req.Target]).Add(extra)
		} else {
			done = a.started.Add(lt.Lease + lt.SelfStop + lt.Margin + extra) // never seen since this agent started
		}
		if req.Action == fencing.Status {
			if time.Now().After(done) {
				return fencing.Result{RC: fencing.StatusOff}
			}
			return fencing.Result{RC: fencing.StatusOn}
		}
		if !time.Now().Before(done) {
			return fencing.Result{}
		}
		select {
		case <-ctx.Done():
			return fencing.Result{RC: 1, Reason: "fence_watchdog: " + context.Cause(ctx).Error()}
		case <-time.After(min(time.Until(done), 50*time.Millisecond)):
		}
	}
}
