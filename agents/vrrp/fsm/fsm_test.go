package fsm

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func ms(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

func mustNew(t *testing.T, cfg Config) *Machine {
	t.Helper()
	if cfg.Version == 0 {
		cfg.Version = 3
	}
	if cfg.AdvertInterval == 0 {
		cfg.AdvertInterval = time.Second
	}
	if !cfg.Addr.IsValid() {
		cfg.Addr = netip.MustParseAddr("192.0.2.10")
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// show formats actions for comparison: "send 100", "BACKUP->MASTER".
func show(acts []Action) string {
	var s []string
	for _, a := range acts {
		if a.Kind == Send {
			s = append(s, fmt.Sprintf("send %d", a.Priority))
		} else {
			s = append(s, fmt.Sprintf("%s->%s", a.From, a.To))
		}
	}
	return strings.Join(s, ", ")
}

func want(t *testing.T, what string, acts []Action, w string) {
	t.Helper()
	if got := show(acts); got != w {
		t.Errorf("%s: actions %q, want %q (%v)", what, got, w, acts)
	}
}

func wantDeadline(t *testing.T, m *Machine, d time.Duration) {
	t.Helper()
	if got := m.Deadline(); !got.Equal(at(d)) {
		t.Errorf("deadline %v, want %v", got.Sub(t0), d)
	}
}

var (
	peerLow  = netip.MustParseAddr("192.0.2.5")
	peerHigh = netip.MustParseAddr("192.0.2.20")
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Version: 4, Priority: 100, AdvertInterval: time.Second}, "version 4"},
		{Config{Version: 3, Priority: 0, AdvertInterval: time.Second}, "priority 0"},
		{Config{Version: 3, Priority: 256, AdvertInterval: time.Second}, "priority 256"},
		{Config{Version: 3, Priority: 100}, "advert interval 0s"},
		{Config{Version: 2, Priority: 100, AdvertInterval: 1500 * time.Millisecond}, "whole seconds"},
		{Config{Version: 3, Priority: 100, AdvertInterval: 15 * time.Millisecond}, "centiseconds"},
		{Config{Version: 3, Priority: 100, AdvertInterval: 41 * time.Second}, "40.95s"},
		{Config{Version: 3, Priority: 100, AdvertInterval: time.Second, PreemptDelay: -1}, "negative"},
	} {
		if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one naming %q", tc.cfg, err, tc.want)
		}
	}
}

// The address owner is master at once and advertises every interval.
func TestOwner(t *testing.T) {
	m := mustNew(t, Config{Priority: 255})
	want(t, "start", m.Start(t0), "send 255, INIT->MASTER")
	wantDeadline(t, m, time.Second)
	want(t, "early tick", m.Tick(at(ms(999))), "")
	want(t, "tick", m.Tick(at(time.Second)), "send 255")
	wantDeadline(t, m, 2*time.Second)
	// Its priority is never adjusted.
	want(t, "set priority", m.SetPriority(at(time.Second), 50), "")
	if m.Priority() != 255 {
		t.Errorf("owner's priority %d", m.Priority())
	}
}

// A backup with no master takes over after Master_Down_Interval:
// 3 x interval + skew, skew = (256-priority)/256 of the interval in v3
// and of a second in v2.
func TestBackupTakesOver(t *testing.T) {
	for _, tc := range []struct {
		version  int
		interval time.Duration
		prio     int
		down     time.Duration
	}{
		{3, time.Second, 100, 3*time.Second + ms(609.375)},
		{3, 100 * time.Millisecond, 100, 300*time.Millisecond + ms(60.9375)},
		{3, 100 * time.Millisecond, 254, 300*time.Millisecond + ms(0.78125)},
		{2, time.Second, 100, 3*time.Second + ms(609.375)},
		{2, 3 * time.Second, 200, 9*time.Second + ms(218.75)}, // v2: skew in seconds whatever the interval
	} {
		m := mustNew(t, Config{Version: tc.version, AdvertInterval: tc.interval, Priority: tc.prio})
		want(t, "start", m.Start(t0), "INIT->BACKUP")
		wantDeadline(t, m, tc.down)
		want(t, "early tick", m.Tick(at(tc.down-1)), "")
		want(t, fmt.Sprintf("v%d %v prio %d: down", tc.version, tc.interval, tc.prio), m.Tick(at(tc.down)), "send "+fmt.Sprint(tc.prio)+", BACKUP->MASTER")
		if m.State() != Master {
			t.Errorf("state %v", m.State())
		}
	}
}

// keepalived 2.2.7's `state MASTER` below 255 waits the whole master
// down interval, as any backup (measured against it in e2e/vrrp_test.go).
func TestInitialMaster(t *testing.T) {
	m := mustNew(t, Config{Priority: 100, InitialMaster: true, AdvertInterval: 100 * time.Millisecond})
	m.Start(t0)
	wantDeadline(t, m, 300*time.Millisecond+ms(60.9375))
}

// A backup hearing an equal or higher master restarts its down timer; a
// lower one (with preempt) is ignored, so the down timer runs out and the
// backup preempts it.
func TestBackupPreempts(t *testing.T) {
	m := mustNew(t, Config{Priority: 100})
	m.Start(t0)
	down := 3*time.Second + ms(609.375)
	want(t, "higher", m.Receive(at(time.Second), Advert{From: peerHigh, Priority: 150, Interval: time.Second}), "")
	wantDeadline(t, m, time.Second+down)
	want(t, "equal", m.Receive(at(2*time.Second), Advert{From: peerLow, Priority: 100, Interval: time.Second}), "")
	wantDeadline(t, m, 2*time.Second+down)
	want(t, "lower", m.Receive(at(3*time.Second), Advert{From: peerLow, Priority: 50, Interval: time.Second}), "")
	wantDeadline(t, m, 2*time.Second+down)
	acts := m.Tick(at(2*time.Second + down))
	want(t, "down", acts, "send 100, BACKUP->MASTER")
	if !strings.Contains(acts[1].Reason, "preempting 192.0.2.5 (priority 50 < 100)") {
		t.Errorf("reason %q", acts[1].Reason)
	}
}

// nopreempt: a lower master is accepted as master.
func TestNoPreempt(t *testing.T) {
	m := mustNew(t, Config{Priority: 200, NoPreempt: true})
	m.Start(t0)
	down := 3*time.Second + ms(218.75)
	for i := 1; i <= 10; i++ {
		m.Receive(at(time.Duration(i)*time.Second), Advert{From: peerLow, Priority: 50, Interval: time.Second})
	}
	wantDeadline(t, m, 10*time.Second+down)
	want(t, "tick", m.Tick(at(10*time.Second+down-1)), "")
}

// preempt_delay: a lower master is accepted for the delay after it is
// first heard, then ignored; a higher one stops the delay.
func TestPreemptDelay(t *testing.T) {
	m := mustNew(t, Config{Priority: 200, PreemptDelay: 5 * time.Second})
	m.Start(t0)
	down := 3*time.Second + ms(218.75)
	low := Advert{From: peerLow, Priority: 50, Interval: time.Second}
	for i := 1; i <= 5; i++ { // heard at 1 s: accepted until 6 s
		m.Receive(at(time.Duration(i)*time.Second), low)
	}
	wantDeadline(t, m, 5*time.Second+down)
	m.Receive(at(6*time.Second), low) // the delay is over: ignored
	wantDeadline(t, m, 5*time.Second+down)
	want(t, "preempt", m.Tick(at(5*time.Second+down)), "send 200, BACKUP->MASTER")

	// A higher master in between clears the delay: the next lower
	// master starts a new one.
	m = mustNew(t, Config{Priority: 200, PreemptDelay: 5 * time.Second})
	m.Start(t0)
	m.Receive(at(time.Second), low)
	m.Receive(at(2*time.Second), Advert{From: peerHigh, Priority: 250, Interval: time.Second})
	m.Receive(at(6500*time.Millisecond), low) // a new delay, to 11.5 s
	wantDeadline(t, m, 6500*time.Millisecond+down)
	m.Receive(at(11*time.Second), low)
	wantDeadline(t, m, 11*time.Second+down)
	m.Receive(at(12*time.Second), low)
	wantDeadline(t, m, 11*time.Second+down)
}

// A backup hearing priority 0 takes over after its skew time.
func TestBackupHearsStop(t *testing.T) {
	m := mustNew(t, Config{Priority: 100})
	m.Start(t0)
	m.Receive(at(time.Second), Advert{From: peerHigh, Priority: 0, Interval: time.Second})
	wantDeadline(t, m, time.Second+ms(609.375))
	acts := m.Tick(at(time.Second + ms(609.375)))
	if len(acts) != 2 || acts[1].Reason != "master 192.0.2.20 resigned (priority 0)" {
		t.Errorf("take over after a priority 0 advert: %v", acts)
	}
}

// v3: a backup learns the master's interval from its adverts.
func TestLearnsInterval(t *testing.T) {
	m := mustNew(t, Config{Priority: 100, AdvertInterval: time.Second})
	m.Start(t0)
	m.Receive(at(time.Second), Advert{From: peerHigh, Priority: 150, Interval: 100 * time.Millisecond})
	if m.MasterInterval() != 100*time.Millisecond {
		t.Errorf("master interval %v", m.MasterInterval())
	}
	wantDeadline(t, m, time.Second+300*time.Millisecond+ms(60.9375))
	// v2 keeps its own (the codec layer drops mismatched intervals).
	m = mustNew(t, Config{Version: 2, Priority: 100})
	m.Start(t0)
	m.Receive(at(time.Second), Advert{From: peerHigh, Priority: 150, Interval: 2 * time.Second})
	if m.MasterInterval() != time.Second {
		t.Errorf("v2 master interval %v", m.MasterInterval())
	}
}

func master(t *testing.T, cfg Config) *Machine {
	t.Helper()
	m := mustNew(t, cfg)
	m.Start(t0)
	m.Tick(m.Deadline())
	if m.State() != Master {
		t.Fatalf("state %v", m.State())
	}
	return m
}

func TestMasterReceives(t *testing.T) {
	now := at(10 * time.Second)
	for _, tc := range []struct {
		name string
		a    Advert
		cfg  Config
		want string
	}{
		{"higher", Advert{From: peerLow, Priority: 150}, Config{}, "MASTER->BACKUP"},
		{"equal, higher address", Advert{From: peerHigh, Priority: 100}, Config{}, "MASTER->BACKUP"},
		{"equal, lower address", Advert{From: peerLow, Priority: 100}, Config{}, "send 100"},
		{"equal, own address", Advert{From: netip.MustParseAddr("192.0.2.10"), Priority: 100}, Config{}, ""},
		{"lower", Advert{From: peerHigh, Priority: 50}, Config{}, "send 100"},
		{"lower, lower_prio_no_advert", Advert{From: peerHigh, Priority: 50}, Config{LowerPrioNoAdvert: true}, ""},
		{"stop", Advert{From: peerHigh, Priority: 0}, Config{}, "send 100"},
	} {
		cfg := tc.cfg
		cfg.Priority = 100
		m := master(t, cfg)
		want(t, tc.name, m.Receive(now, tc.a), tc.want)
	}
	// After stepping down, the down timer runs from the advert.
	m := master(t, Config{Priority: 100})
	m.Receive(now, Advert{From: peerLow, Priority: 150, Interval: 200 * time.Millisecond})
	if a, p, ok := m.Master(); !ok || a != peerLow || p != 150 {
		t.Errorf("master %v %d %v", a, p, ok)
	}
	if got, w := m.Deadline(), now.Add(600*time.Millisecond+ms(200*156.0/256)); !got.Equal(w) {
		t.Errorf("deadline %v, want %v", got.Sub(t0), w.Sub(t0))
	}
}

func TestShutdown(t *testing.T) {
	m := master(t, Config{Priority: 100})
	want(t, "master stops", m.Shutdown(at(10*time.Second)), "send 0, MASTER->INIT")
	if !m.Deadline().IsZero() {
		t.Errorf("deadline %v after shutdown", m.Deadline())
	}
	m = mustNew(t, Config{Priority: 100})
	m.Start(t0)
	want(t, "backup stops", m.Shutdown(at(time.Second)), "BACKUP->INIT")
	want(t, "stopped twice", m.Shutdown(at(time.Second)), "")
	// It can start again.
	want(t, "restart", m.Start(at(2*time.Second)), "INIT->BACKUP")
}

// A fault takes the router out of the election: a master gives up with
// priority 0; when it clears the router is a backup again.
func TestFault(t *testing.T) {
	m := master(t, Config{Priority: 100})
	want(t, "fault", m.SetFault(at(10*time.Second), true, "no quorum"), "send 0, MASTER->FAULT")
	want(t, "fault again", m.SetFault(at(10*time.Second), true, "no quorum"), "")
	want(t, "tick in fault", m.Tick(at(time.Hour)), "")
	want(t, "advert in fault", m.Receive(at(11*time.Second), Advert{From: peerLow, Priority: 50, Interval: 500 * time.Millisecond}), "")
	want(t, "clear", m.SetFault(at(12*time.Second), false, "quorum"), "FAULT->BACKUP")
	// The interval heard while in fault is the master's.
	wantDeadline(t, m, 12*time.Second+1500*time.Millisecond+ms(500*156.0/256))

	// A fault declared before the start: the router starts in Fault.
	m = mustNew(t, Config{Priority: 100})
	m.SetFault(t0, true, "interface down")
	want(t, "start in fault", m.Start(t0), "INIT->FAULT")
	want(t, "clear", m.SetFault(at(time.Second), false, "interface up"), "FAULT->BACKUP")
}

func TestSetPriority(t *testing.T) {
	m := master(t, Config{Priority: 100})
	want(t, "master lowers", m.SetPriority(at(10*time.Second), 80), "send 80")
	want(t, "unchanged", m.SetPriority(at(10*time.Second), 80), "")
	m.SetPriority(at(10*time.Second), 300)
	if m.Priority() != 254 {
		t.Errorf("priority %d, want clamped to 254", m.Priority())
	}
	m.SetPriority(at(10*time.Second), -20)
	if m.Priority() != 1 {
		t.Errorf("priority %d, want clamped to 1", m.Priority())
	}
	// A backup that now outranks the master ignores its adverts and
	// takes over when its down timer runs out.
	b := mustNew(t, Config{Priority: 100})
	b.Start(t0)
	b.Receive(at(time.Second), Advert{From: peerHigh, Priority: 120, Interval: time.Second})
	want(t, "backup raises", b.SetPriority(at(1500*time.Millisecond), 130), "")
	b.Receive(at(2*time.Second), Advert{From: peerHigh, Priority: 120, Interval: time.Second})
	down := 3*time.Second + ms(126.0/256*1000)
	if got := b.Deadline(); !got.Equal(at(time.Second + 3*time.Second + ms(609.375))) {
		t.Errorf("deadline %v: the lower master's advert must not restart it (down now %v)", got.Sub(t0), down)
	}
}

// sim is a perfect multicast network of machines: every advert reaches
// every other running machine at once.
type sim struct {
	ms      []*Machine
	running []bool
	now     time.Time
	t       *testing.T
	// masterAt records, per machine, when it last became master.
	log []string
}

func (s *sim) apply(i int, acts []Action) {
	for _, a := range acts {
		switch a.Kind {
		case Send:
			for j, m := range s.ms {
				if j != i && s.running[j] {
					s.apply(j, m.Receive(s.now, Advert{From: s.ms[i].cfg.Addr, Priority: a.Priority, Interval: s.ms[i].cfg.AdvertInterval}))
				}
			}
		case Transition:
			s.log = append(s.log, fmt.Sprintf("%v r%d %s", s.now.Sub(t0), i, a))
		}
	}
}

// run advances time to until, firing timers in order.
func (s *sim) run(until time.Time) {
	for {
		next, who := time.Time{}, -1
		for i, m := range s.ms {
			if d := m.Deadline(); s.running[i] && !d.IsZero() && (who < 0 || d.Before(next)) {
				next, who = d, i
			}
		}
		if who < 0 || next.After(until) {
			s.now = until
			return
		}
		s.now = next
		s.apply(who, s.ms[who].Tick(s.now))
	}
}

func (s *sim) masters() []int {
	var out []int
	for i, m := range s.ms {
		if s.running[i] && m.State() == Master {
			out = append(out, i)
		}
	}
	return out
}

// Three routers on one network elect the highest priority; when it
// stops, the next takes over; when it returns it preempts (or not, with
// nopreempt).
func TestElection(t *testing.T) {
	for _, tc := range []struct {
		name      string
		prios     []int
		noPreempt bool
		first     int // master after the start
		second    int // after the first stops
		third     int // after it returns
	}{
		{"preempt", []int{150, 100, 50}, false, 0, 1, 0},
		{"nopreempt", []int{150, 100, 50}, true, 0, 1, 1},
		// Equal priorities: the first to time out is master and stays.
		// When it stops, the other two time out at the same instant; on
		// this zero-delay network the first one's advert arrives before
		// the other's timer is handled (a collision of two masters is
		// TestMasterReceives' "equal, higher address").
		{"equal priorities", []int{100, 100, 100}, false, 0, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &sim{now: t0, t: t}
			for i, p := range tc.prios {
				s.ms = append(s.ms, mustNew(t, Config{Priority: p, NoPreempt: tc.noPreempt, AdvertInterval: 100 * time.Millisecond,
					Addr: netip.AddrFrom4([4]byte{192, 0, 2, byte(10 + i)})}))
				s.running = append(s.running, true)
			}
			for i, m := range s.ms {
				s.apply(i, m.Start(s.now))
				s.now = s.now.Add(7 * time.Millisecond)
			}
			check := func(want int) {
				t.Helper()
				s.run(s.now.Add(2 * time.Second))
				if got := s.masters(); !slices.Equal(got, []int{want}) {
					t.Fatalf("masters %v, want [%d]; transitions:\n%s", got, want, strings.Join(s.log, "\n"))
				}
			}
			check(tc.first)
			s.apply(tc.first, s.ms[tc.first].Shutdown(s.now))
			s.running[tc.first] = false
			check(tc.second)
			s.running[tc.first] = true
			s.apply(tc.first, s.ms[tc.first].Start(s.now))
			check(tc.third)
		})
	}
}

// Property: whatever happens (stops, starts, faults, priority changes),
// once things have been quiet for a few master down intervals exactly
// one running router without a fault is master; with preemption, it is
// one of the highest priority.
func TestPropOneMaster(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(2, 4).Draw(rt, "routers")
		noPreempt := rapid.Bool().Draw(rt, "nopreempt")
		s := &sim{now: t0}
		faulty := make([]bool, n)
		for i := range n {
			cfg := Config{Version: 3, Priority: rapid.IntRange(1, 255).Draw(rt, "priority"), NoPreempt: noPreempt,
				AdvertInterval: 100 * time.Millisecond, Addr: netip.AddrFrom4([4]byte{192, 0, 2, byte(10 + i)}),
				InitialMaster: rapid.Bool().Draw(rt, "initial-master")}
			m, err := New(cfg)
			if err != nil {
				rt.Fatal(err)
			}
			s.ms = append(s.ms, m)
			s.running = append(s.running, true)
			s.apply(i, m.Start(s.now))
		}
		steps := rapid.IntRange(0, 12).Draw(rt, "steps")
		for range steps {
			s.run(s.now.Add(time.Duration(rapid.IntRange(0, 1500).Draw(rt, "wait-ms")) * time.Millisecond))
			i := rapid.IntRange(0, n-1).Draw(rt, "router")
			m := s.ms[i]
			switch rapid.IntRange(0, 3).Draw(rt, "event") {
			case 0:
				if s.running[i] {
					s.apply(i, m.Shutdown(s.now))
					s.running[i] = false
				} else {
					s.running[i] = true
					s.apply(i, m.Start(s.now))
				}
			case 1:
				faulty[i] = !faulty[i]
				s.apply(i, m.SetFault(s.now, faulty[i], "test"))
			case 2:
				s.apply(i, m.SetPriority(s.now, rapid.IntRange(1, 254).Draw(rt, "new-priority")))
			}
		}
		s.run(s.now.Add(3 * time.Second))
		eligible, best := 0, 0
		for i, m := range s.ms {
			if s.running[i] && !faulty[i] {
				eligible++
				best = max(best, m.Priority())
			}
		}
		got := s.masters()
		switch {
		case eligible == 0 && len(got) != 0:
			rt.Fatalf("masters %v with no eligible router\n%s", got, strings.Join(s.log, "\n"))
		case eligible > 0 && len(got) != 1:
			rt.Fatalf("masters %v, want one of %d eligible routers\n%s", got, eligible, strings.Join(s.log, "\n"))
		case eligible > 0 && !noPreempt && s.ms[got[0]].Priority() != best:
			rt.Fatalf("master r%d has priority %d, the best is %d\n%s", got[0], s.ms[got[0]].Priority(), best, strings.Join(s.log, "\n"))
		}
	})
}

// A held backup does not become master when its down timer runs out: it
// wants to, and waits another interval; a master heard clears the wish.
// ForceMaster and ForceBackup move a sync group's members.
func TestHoldAndForce(t *testing.T) {
	m := mustNew(t, Config{Priority: 100})
	m.Start(t0)
	m.SetHold(true)
	down := 3*time.Second + ms(609.375)
	want(t, "held", m.Tick(at(down)), "")
	if !m.WantsMaster() || m.State() != Backup {
		t.Fatalf("held backup: wants %v, state %v", m.WantsMaster(), m.State())
	}
	wantDeadline(t, m, 2*down)
	m.Receive(at(down+time.Second), Advert{From: peerHigh, Priority: 150, Interval: time.Second})
	if m.WantsMaster() {
		t.Error("still wants master after hearing one")
	}
	m.SetHold(false)
	want(t, "released", m.Tick(at(2*down+time.Second)), "send 100, BACKUP->MASTER")
	if !m.WantsMaster() {
		t.Error("a master wants master")
	}
	want(t, "force backup", m.ForceBackup(at(10*time.Second), "sync group"), "MASTER->BACKUP")
	wantDeadline(t, m, 10*time.Second+down)
	want(t, "force backup again", m.ForceBackup(at(10*time.Second), "sync group"), "")
	want(t, "force master", m.ForceMaster(at(11*time.Second), "sync group"), "send 100, BACKUP->MASTER")
	want(t, "force master again", m.ForceMaster(at(11*time.Second), "sync group"), "")
	m.SetFault(at(12*time.Second), true, "x")
	want(t, "force master in fault", m.ForceMaster(at(13*time.Second), "sync group"), "")
}
