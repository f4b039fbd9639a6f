package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/paceline/paceline/api"
)

// systemd's notify protocol (sd_notify(3), through go-systemd's daemon
// package) for an agent run as paceline.service (Type=notify,
// NotifyAccess=main, WatchdogSec=):
//
//	Start returned (store open, API listening)  -> READY=1, STATUS=...
//	every probe period: health probe answers     -> WATCHDOG=1 (+ STATUS= if it changed)
//	                    probe fails or hangs     -> nothing (systemd's watchdog fires
//	                                                 after WatchdogSec and restarts us)
//	clean stop begins                            -> STOPPING=1, STATUS=stopping ...
//
// The probe goes through the agent's own API socket (the HTTP server
// answers, raft's main loop answers GetConfiguration, the membership
// answers) and reads the controller's last transition, so a wedged agent
// stops feeding the watchdog; a detached ticker would feed it forever. At
// most one probe is in flight: one stuck behind a wedged loop is not
// joined by more. Without NOTIFY_SOCKET nothing is sent and no probe
// runs. NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID are taken out of
// the environment once read (sd_notify(3)'s unset_environment): what the
// agent starts (agents, their daemons, scripts) must not speak for it.

// probeEvery bounds the probe period without a watchdog (STATUS=
// updates only) and with a long one.
const probeEvery = 5 * time.Second

// sdNotifier sends one agent's notifications.
type sdNotifier struct {
	send func(state string) error
	// watchdog is WATCHDOG_USEC (0: no watchdog for this process).
	watchdog time.Duration
	// probe checks that the agent answers and returns its STATUS= text.
	probe func(ctx context.Context) (string, error)
	log   *slog.Logger
}

// period is how often the notifier probes: half of WATCHDOG_USEC
// (sd_watchdog_enabled(3) advises pinging at half the timeout), at most
// probeEvery.
func (n *sdNotifier) period() time.Duration {
	if n.watchdog > 0 && n.watchdog/2 < probeEvery {
		return max(n.watchdog/2, time.Millisecond)
	}
	return probeEvery
}

// notify sends one message, logging (not returning) a failure: systemd
// going away must not stop the agent.
func (n *sdNotifier) notify(state string) {
	if err := n.send(state); err != nil {
		n.log.Warn("sd_notify", "state", firstLine(state), "err", err)
	}
}

// run sends READY=1, then probes every period and feeds the watchdog
// while the probe succeeds, until ctx ends.
func (n *sdNotifier) run(ctx context.Context, ready string) {
	n.notify(daemon.SdNotifyReady + "\nSTATUS=" + ready)
	if n.watchdog > 0 {
		n.log.Info("systemd watchdog armed", "timeout", n.watchdog, "ping-every", n.period())
	}
	type result struct {
		status string
		err    error
	}
	var inflight chan result // the probe running now, nil when none
	lastStatus, failing := ready, false
	t := time.NewTicker(n.period())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if inflight == nil {
			ch := make(chan result, 1)
			pctx, cancel := context.WithTimeout(ctx, n.period())
			go func() {
				defer cancel()
				s, err := n.probe(pctx)
				ch <- result{s, err}
			}()
			inflight = ch
		}
		var r result
		select {
		case <-ctx.Done():
			return
		case r = <-inflight:
			inflight = nil
		case <-time.After(n.period()):
			r.err = fmt.Errorf("health probe still running after %v", n.period())
		}
		if r.err != nil {
			if !failing {
				n.log.Error("agent does not answer its health probe: systemd's watchdog is no longer fed", "err", r.err)
				failing = true
			}
			continue
		}
		if failing {
			n.log.Info("agent answers its health probe again")
			failing = false
		}
		msg := ""
		if n.watchdog > 0 {
			msg = daemon.SdNotifyWatchdog
		}
		if r.status != lastStatus {
			msg = strings.TrimPrefix(msg+"\nSTATUS="+r.status, "\n")
			lastStatus = r.status
		}
		if msg != "" {
			n.notify(msg)
		}
	}
}

// systemdNotifier is the running notifier of an agent. Its methods do
// nothing on nil (no NOTIFY_SOCKET).
type systemdNotifier struct {
	n      *sdNotifier
	cancel context.CancelFunc
	done   chan struct{}
}

// notifySystemd starts the notifier for a started agent: nil (and nothing
// sent) without NOTIFY_SOCKET. Its probe loop ends with ctx, or with
// stopping or close.
func (a *Agent) notifySystemd(ctx context.Context) *systemdNotifier {
	ready := fmt.Sprintf("node %s started (cluster %s); waiting for the first health probe", a.cfg.Name, orDash(a.cfg.Cluster))
	c := api.NewClient(a.cfg.APISocket) // one client: its connection is reused probe after probe
	return startNotifier(ctx, a.log, func(ctx context.Context) (string, error) { return a.healthProbe(ctx, c) }, ready)
}

func startNotifier(ctx context.Context, log *slog.Logger, probe func(context.Context) (string, error), ready string) *systemdNotifier {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return nil
	}
	wd, err := daemon.SdWatchdogEnabled(true) // true: unsets WATCHDOG_USEC and WATCHDOG_PID
	if err != nil {
		log.Warn("systemd watchdog: bad WATCHDOG_USEC/WATCHDOG_PID; not feeding it", "err", err)
		wd = 0
	}
	if err := os.Unsetenv("NOTIFY_SOCKET"); err != nil {
		log.Warn("sd_notify: cannot hide NOTIFY_SOCKET from child processes", "err", err)
	}
	n := &sdNotifier{send: func(state string) error { return sdNotify(addr, state) }, watchdog: wd, probe: probe, log: log}
	ctx, cancel := context.WithCancel(ctx)
	s := &systemdNotifier{n: n, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		n.run(ctx, ready)
	}()
	return s
}

// stopping ends the probe loop and tells systemd a clean stop began, with
// what happens meanwhile as its status. The watchdog is no longer fed:
// systemd does not watch a stopping unit; TimeoutStopSec bounds the stop.
func (s *systemdNotifier) stopping(status string) {
	if s == nil {
		return
	}
	s.close()
	s.n.notify(daemon.SdNotifyStopping + "\nSTATUS=" + status)
}

// close ends the probe loop without a message (a failing agent just
// exits: systemd sees the failure and restarts it).
func (s *systemdNotifier) close() {
	if s == nil {
		return
	}
	s.cancel()
	<-s.done
}

// healthProbe asks the agent's own API what a status line needs: the
// HTTP server, raft's main loop (GetConfiguration) and the membership
// must answer within ctx; the controller's last transition is read in
// process.
func (a *Agent) healthProbe(ctx context.Context, c *api.Client) (string, error) {
	ci, err := c.Cluster(ctx)
	if err != nil {
		return "", fmt.Errorf("api %s: cluster: %w", a.cfg.APISocket, err)
	}
	quorum := "no membership"
	if a.ms != nil {
		m, err := c.Members(ctx)
		if err != nil {
			return "", fmt.Errorf("api %s: members: %w", a.cfg.APISocket, err)
		}
		if m.Quorum != nil {
			quorum = m.Quorum.Reason
		}
	}
	select {
	case <-a.store.Fatal():
		return "", fmt.Errorf("configuration store stopped: %w", a.store.FatalErr())
	default:
	}
	st := statusLine(ci, quorum, a.ctl.Last().Seq)
	return st, nil
}

// statusLine is the STATUS= text: what an operator sees in systemctl
// status.
func statusLine(ci *api.ClusterInfo, quorum string, transitions int) string {
	role := "raft " + strings.ToLower(ci.State)
	if ci.Leader != "" && ci.Leader != ci.Node {
		role += " of " + ci.Leader
	}
	dc := ci.Leader == ci.Node && ci.Node != ""
	if dc {
		role = "DC (raft leader)"
	}
	s := fmt.Sprintf("%s; %s; %d raft members, term %d, epoch %d", quorum, role, len(ci.Servers), ci.Term, ci.Epoch)
	if dc && transitions > 0 {
		s += fmt.Sprintf("; transition %d", transitions)
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// sdNotify sends a state to the service manager's socket, as go-systemd's
// daemon.SdNotify does, but to an address read once (the environment
// variable is gone by then; see above).
func sdNotify(addr, state string) error {
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("sd_notify %s: %w", addr, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("sd_notify %s: %w", addr, err)
	}
	return nil
}
