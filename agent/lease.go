package agent

import (
	"time"

	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/messaging"
)

// leaseTiming is the lease of shared/DESIGN.md (Safety), from the gossip
// timing and the cluster properties.
type leaseTiming struct {
	// Lease: a node runs resources only while it has heard, within the
	// lease, from enough members to be quorate (3 probe intervals: 150 ms
	// with the fast profile, 3 s with lan).
	Lease time.Duration
	// SelfStop bounds how long a node whose lease ran out takes to stop
	// its resources (property self-stop-timeout; by default one probe
	// interval: 50 ms with the fast profile, 1 s with lan). The node
	// checks its lease every leaseCheckTick (10 ms fast, 100 ms lan) and
	// stops addresses first, in under a millisecond each.
	SelfStop time.Duration
	// Margin covers heartbeat spacing and clock-rate drift.
	Margin time.Duration
	// Grace, when the node-loss-grace property is set, is the least wait
	// after a member is declared failed.
	Grace time.Duration
}

func (a *Agent) leaseTiming(cfg *cib.Config) leaseTiming {
	t, _ := messaging.TimingProfile(a.cfg.Timing)
	t = t.Override(a.cfg.GossipTiming)
	lt := leaseTiming{Lease: 3 * t.ProbeInterval, SelfStop: t.ProbeInterval, Margin: 2*t.HeartbeatInterval() + 10*time.Millisecond}
	if d, err := cib.ParseDuration(cfg.Property("self-stop-timeout")); err == nil && d > 0 {
		lt.SelfStop = d.D()
	}
	if d, err := cib.ParseDuration(cfg.Property("node-loss-grace")); err == nil && d > 0 {
		lt.Grace = d.D()
	}
	return lt
}

// leaseHeld reports whether this node may keep running resources: the
// members it has heard from within the lease, with itself, are quorate.
func (a *Agent) leaseHeld(now time.Time, lease time.Duration) (bool, string) {
	heard := a.ms.LastHeard()
	var view []messaging.Member
	for _, m := range a.ms.Members() {
		if m.Name != a.cfg.Name {
			at, ok := heard[m.Name]
			switch {
			case ok && now.Sub(at) <= lease:
				m.State = messaging.Alive
			default:
				m.State = messaging.Failed
				if ok {
					m.Since = at
				}
			}
		}
		view = append(view, m)
	}
	d := a.quorumOf(view, now)
	if d.FencePeer && a.store.Config().Property("stonith-enabled") == "true" {
		// Two-node: this node fences its peer to take over. It keeps
		// what it runs meanwhile: the peer cannot start any of it
		// without fencing this node first.
		return true, d.Reason
	}
	return d.Quorate, d.Reason
}

// recoverableAt is when the DC may treat a failed member as offline: its
// lease has certainly run out (counted from the last heartbeat this node
// heard from it, which is no earlier than the last one it heard from us,
// give or take the margin) and it has had self-stop-timeout to stop.
func (lt leaseTiming) recoverableAt(m messaging.Member, lastHeard time.Time) time.Time {
	from := m.Since
	if !lastHeard.IsZero() {
		from = lastHeard // its lease is counted from what it last heard, as ours from it
	}
	at := from.Add(lt.Lease + lt.SelfStop + lt.Margin)
	if g := m.Since.Add(lt.Grace); g.After(at) {
		at = g
	}
	return at
}

// mayStart says whether this node may start or promote a resource now:
// only while it holds its lease (without gossip, a single node always may).
func (a *Agent) mayStart() (bool, string) {
	if a.ms == nil {
		return true, ""
	}
	held, reason := a.leaseHeld(time.Now(), a.leaseTiming(a.store.Config()).Lease)
	if !held {
		return false, "no lease (" + reason + ")"
	}
	return true, ""
}

// heartbeatInterval is the gossip heartbeat spacing of this node's profile.
func (a *Agent) heartbeatInterval() time.Duration {
	t, _ := messaging.TimingProfile(a.cfg.Timing)
	return t.Override(a.cfg.GossipTiming).HeartbeatInterval()
}
