// Package vip is the built-in agent ocf:paceline:vip: a virtual IP
// address that moves between nodes, like ocf:heartbeat:IPaddr2.
//
//	start:    parse -> find nic, prefix -> open raw socket -> add address (netlink)
//	          -> announce: round 1 at once, then every arp_interval
//	          (IPv4: gratuitous ARP request + reply; IPv6: unsolicited NA)
//	stop:     remove every copy of the address from nic (absent: done)
//	monitor:  address on nic? no: 7; link down: 1; else 0
//
// Invalid parameters are rc 6, except for a stop and a probe (see
// lenient): they look for a valid ip on every interface, and with no
// valid ip there is nothing to find.
//
// The agent acts in the network namespace of the thread that calls Run:
// every socket it uses is opened there, during the action. A caller can
// run it inside a namespace from a thread locked to it. Only the
// background announcement repeats (WithBackground) outlive an action, on a
// socket already bound to the interface.
//
// Files: params.go (parameters), addr.go (netlink), announce.go (frames
// and the sending loop), metadata.go.
package vip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paceline/paceline/agents/ocf"
)

const agentName = "vip"

// Agent is the VIP resource agent. One Agent serves any number of
// resources at once. Its only state is the announcement repeats running
// in the background (WithBackground), by address.
type Agent struct {
	sent func(Sent)

	// bg, when set, is the lifetime of the process the agent runs in:
	// start returns after the first announcement round and the repeats go
	// on in the background until bg ends, or a stop or another start of
	// the same address cancels them.
	bg      context.Context
	mu      sync.Mutex
	repeats map[netip.Addr]*repeat
}

// repeat is one address's background announcement rounds.
type repeat struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// WithBackground makes start return once the address is up and the first
// announcement round is out, sending the remaining rounds in the
// background for as long as ctx lives (as IPaddr2 sends its ARPs in the
// background): resources ordered after the VIP need not wait arp_count ×
// arp_interval. Only for an agent that lives in a long-running process
// (the node agent); as an OCF executable the process ends with the action,
// so start sends every round itself.
func WithBackground(ctx context.Context) Option {
	return func(a *Agent) { a.bg = ctx }
}

// Option configures an Agent.
type Option func(*Agent)

// WithSentHook makes the agent call fn right after it writes each
// announcement frame, on the action's goroutine (or the background
// repeats', see WithBackground). Tests and benchmarks use
// it to measure the time from start to the first gratuitous ARP.
func WithSentHook(fn func(Sent)) Option { return func(a *Agent) { a.sent = fn } }

// New returns the agent.
func New(opts ...Option) *Agent {
	a := &Agent{repeats: map[netip.Addr]*repeat{}}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Name is the agent's type: ocf:paceline:vip.
func (*Agent) Name() string { return agentName }

// MetaData describes the agent's parameters and actions.
func (*Agent) MetaData() *ocf.ResourceAgent { return metaData() }

// Run performs one action and returns its OCF return code. Problems are
// printed to the action's output with the parameter or interface they
// concern.
func (a *Agent) Run(ctx context.Context, act *ocf.Action) int {
	log := act.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := ctx.Err(); err != nil {
		act.Printf("%s: %v", act.Name, err)
		return ocf.ErrGeneric
	}
	var err error
	switch act.Name {
	case ocf.Start:
		err = a.start(ctx, act, log)
	case ocf.Stop:
		err = a.stop(act, log)
	case ocf.Monitor:
		err = a.monitor(act)
	case ocf.ValidateAll:
		err = a.validate(act)
	case ocf.MetaData:
		return ocf.PrintMetaData(act, metaData())
	default:
		act.Printf("%s: action %q is not implemented", agentName, act.Name)
		return ocf.ErrUnimplemented
	}
	rc := rcOf(err)
	switch rc {
	case ocf.Success:
	case ocf.NotRunning:
		act.Printf("%v", err)
		log.Debug("not running", "rc", rc, "reason", err)
	case ocf.ErrPerm:
		act.Printf("insufficient privileges: %v", err)
		log.Error("action failed", "rc", rc, "err", err)
	default:
		act.Printf("%v", err)
		log.Error("action failed", "rc", rc, "err", err)
	}
	return rc
}

// open parses the action's parameters and opens a netlink handle (closed
// by the caller).
func open(act *ocf.Action) (*config, *nlink, error) {
	c, err := parseConfig(act.Params)
	if err != nil {
		return nil, nil, fail(ocf.ErrConfigured, err)
	}
	nl, err := openNetlink()
	if err != nil {
		return nil, nil, err
	}
	return c, nl, nil
}

// lenient is the configuration a stop or a probe works with when the
// parameters are invalid (err): a failed stop fences the node and a failed
// probe restarts the resource, so neither fails on parameters gone bad.
// With a valid ip they look for the address on every interface; without
// one (nil) no address this agent added can exist.
func lenient(act *ocf.Action, err error) *config {
	ip, reason := parseIP(act.Params[paramIP])
	if reason != "" {
		act.Printf("%v", err)
		return nil
	}
	act.Printf("%v (looking for %s on every interface all the same)", err, ip)
	return &config{IP: ip}
}

// start adds the address and announces it. The raw socket is opened
// before the address is added so that a missing privilege changes
// nothing, and so that the first frame follows the address at once.
func (a *Agent) start(ctx context.Context, act *ocf.Action, log *slog.Logger) error {
	c, nl, err := open(act)
	if err != nil {
		return err
	}
	defer nl.close()
	t, err := nl.resolve(c)
	if err != nil {
		return err
	}
	// A VIP on a dead link serves nobody; failing lets the cluster place
	// it on a node whose link works. We do not bring the link up: an
	// interface set down is someone's decision.
	if reason := linkDown(t.link); reason != "" {
		return ocf.Failf(ocf.ErrGeneric, "cannot start %s: %s", c.IP, reason)
	}
	// An earlier start's repeats for this address stop: this start
	// announces from scratch.
	a.stopRepeats(c.IP)
	var an *announcer
	if c.ARPCount > 0 && canAnnounce(t.link) {
		if an, err = openAnnouncer(ifaceOf(t.link), c.IP); err != nil {
			return err
		}
		defer func() {
			if an != nil {
				an.close()
			}
		}()
	}
	changed, err := nl.ensure(t, c)
	if err != nil {
		return err
	}
	log = log.With("ip", c.IP, "nic", t.name(), "prefix", t.prefix)
	if changed {
		log.Info("address added")
	}
	// Announce even when the address was there already: a start means
	// "serve it from here", and a neighbour may still point elsewhere.
	rounds, later := 0, 0
	if an != nil {
		now := c.ARPCount
		if a.bg != nil {
			now = 1
		}
		if rounds, err = announce(ctx, an, now, c.ARPInterval, a.sent, log); err != nil {
			return fmt.Errorf("%s/%d on %s is up, but: %w", c.IP, t.prefix, t.name(), err)
		}
		if later = c.ARPCount - now; later > 0 {
			a.startRepeats(c.IP, an, now+1, c.ARPCount, c.ARPInterval, log)
			an = nil // the repeats own it now
		}
	}
	state := "already present"
	if changed {
		state = "added"
	}
	if an == nil && c.ARPCount > 0 {
		act.Printf("%s/%d on %s: %s; no announcements: %s has no ARP or NDP neighbours", c.IP, t.prefix, t.name(), state, t.name())
		return nil
	}
	if later > 0 {
		act.Printf("%s/%d on %s: %s, announcement round 1 sent, %d more follow every %v", c.IP, t.prefix, t.name(), state, later, c.ARPInterval)
		return nil
	}
	act.Printf("%s/%d on %s: %s, %d of %d announcement rounds sent", c.IP, t.prefix, t.name(), state, rounds, c.ARPCount)
	return nil
}

// startRepeats sends rounds first to last, interval apart, the first one
// interval from now, in the background; it closes the announcer at the
// end.
func (a *Agent) startRepeats(ip netip.Addr, an *announcer, first, last int, interval time.Duration, log *slog.Logger) {
	ctx, cancel := context.WithCancel(a.bg)
	r := &repeat{cancel: cancel, done: make(chan struct{})}
	a.mu.Lock()
	a.repeats[ip] = r
	a.mu.Unlock()
	go func() {
		defer close(r.done)
		defer cancel()
		defer an.close()
		t := time.NewTimer(interval)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, _ = announceRounds(ctx, an, first, last, interval, a.sent, log)
		a.mu.Lock()
		if a.repeats[ip] == r {
			delete(a.repeats, ip)
		}
		a.mu.Unlock()
	}()
}

// stopRepeats cancels an address's background rounds and waits for them
// to end, so that nothing announces an address after its stop.
func (a *Agent) stopRepeats(ip netip.Addr) {
	a.mu.Lock()
	r := a.repeats[ip]
	delete(a.repeats, ip)
	a.mu.Unlock()
	if r != nil {
		r.cancel()
		<-r.done
	}
}

// stop removes the address from wherever locate finds it. An address
// that is not there, or an interface that does not exist, is a stopped
// VIP: stop succeeds, as it must for the cluster to recover.
func (a *Agent) stop(act *ocf.Action, log *slog.Logger) error {
	c, err := parseConfig(act.Params)
	if err != nil {
		if c = lenient(act, err); c == nil {
			return nil // no address this agent could have added
		}
	}
	a.stopRepeats(c.IP)
	nl, err := openNetlink()
	if err != nil {
		return err
	}
	defer nl.close()
	links, err := nl.locate(c)
	if err != nil {
		return err
	}
	removed := 0
	for _, l := range links {
		n, err := nl.remove(l, c.IP)
		if err != nil {
			return err
		}
		if n > 0 {
			log.Info("address removed", "ip", c.IP, "nic", l.Attrs().Name)
		}
		removed += n
	}
	if removed == 0 {
		act.Printf("%s is not present: nothing to stop", c.IP)
	}
	return nil
}

// monitor is 0 when the address is on the interface and the link is up,
// NotRunning when the address is absent, ErrGeneric (with the reason)
// when it sits on a link that is down or failed duplicate address
// detection. It needs no privileges.
func (a *Agent) monitor(act *ocf.Action) error {
	c, err := parseConfig(act.Params)
	if err != nil {
		if act.Interval > 0 {
			return fail(ocf.ErrConfigured, err)
		}
		if c = lenient(act, err); c == nil {
			return ocf.Failf(ocf.NotRunning, "no address this agent could have added")
		}
	}
	nl, err := openNetlink()
	if err != nil {
		return err
	}
	defer nl.close()
	links, err := nl.locate(c)
	if err != nil {
		return err
	}
	for _, l := range links {
		have, err := nl.present(l, c.IP)
		if err != nil {
			return err
		}
		if len(have) == 0 {
			continue
		}
		if reason := linkDown(l); reason != "" {
			return ocf.Failf(ocf.ErrGeneric, "%s is on %s, but %s", c.IP, l.Attrs().Name, reason)
		}
		if have[0].Flags&unix.IFA_F_DADFAILED != 0 {
			return ocf.Failf(ocf.ErrGeneric, "%s on %s failed duplicate address detection: another host has it", c.IP, l.Attrs().Name)
		}
		return nil
	}
	return ocf.Failf(ocf.NotRunning, "%s is not present", c.IP)
}

// validate checks the parameters and that this node can carry the
// address: nic exists, and nic and prefix length can be resolved.
func (a *Agent) validate(act *ocf.Action) error {
	c, nl, err := open(act)
	if err != nil {
		return err
	}
	defer nl.close()
	_, err = nl.resolve(c)
	return err
}

func fail(rc int, err error) error { return &ocf.Failure{RC: rc, Err: err} }

// rcOf maps an action's error to its return code: an ocf.Failure carries
// its own; a refused privilege (EPERM, EACCES from netlink or the raw
// socket) is ErrPerm; anything else is ErrGeneric.
func rcOf(err error) int {
	if _, ok := errors.AsType[*ocf.Failure](err); !ok && (errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)) {
		return ocf.ErrPerm
	}
	return ocf.RC(err)
}
