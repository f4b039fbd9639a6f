// Package fsm is the VRRP router state machine of RFC 5798 (section 6.4),
// with keepalived's additions that its users rely on: nopreempt,
// preempt_delay, a master that answers a lower-priority advert with its
// own, and a FAULT state (a tracked interface or script down, or, under Paceline, no
// quorum) in which the router is never master.
//
// A Machine does no I/O and reads no clock: it is given the time with each
// event and returns the actions to take, in order. The caller sends the
// adverts, adds and removes the virtual addresses, and calls Tick at
// Deadline. That makes every rule testable to the microsecond.
package fsm

import (
	"fmt"
	"net/netip"
	"time"
)

// State is a VRRP router's state.
type State uint8

// The states. Fault is keepalived's: the router takes no part in the
// election (it sends nothing and holds no address) until it recovers.
const (
	Init State = iota
	Backup
	Master
	Fault
)

func (s State) String() string {
	switch s {
	case Init:
		return "INIT"
	case Backup:
		return "BACKUP"
	case Master:
		return "MASTER"
	case Fault:
		return "FAULT"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Priorities with a meaning of their own (RFC 5798 5.2.4).
const (
	// PriorityStop is advertised by a master that stops: the backups take
	// over after their skew time instead of the master down interval.
	PriorityStop = 0
	// PriorityOwner is the priority of the router that owns the virtual
	// addresses: it becomes master at once and is never preempted.
	PriorityOwner = 255
)

// Config is what the machine needs of an instance's configuration.
type Config struct {
	// Version is 2 or 3. It decides the skew time's unit (v2: 1/256 s per
	// priority step, v3: the master's interval / 256) and whether a
	// master's interval is learned from its adverts (v3 only; v2 drops an
	// advert whose interval differs, before it reaches the machine).
	Version int
	// Priority is the base priority, 1-255.
	Priority int
	// AdvertInterval is this router's advert interval.
	AdvertInterval time.Duration
	// Addr is this router's primary address, compared with a peer's when
	// their priorities are equal (the higher address wins).
	Addr netip.Addr
	// NoPreempt: a higher-priority backup does not take over from a
	// lower-priority master (keepalived's nopreempt).
	NoPreempt bool
	// PreemptDelay: a higher-priority backup lets a lower-priority master
	// be for this long after it first hears it before preempting
	// (keepalived's preempt_delay).
	PreemptDelay time.Duration
	// InitialMaster is keepalived's `state MASTER`. Below priority 255 it
	// starts as any backup does (as keepalived 2.2.7 does); kept for the
	// status and for sync groups.
	InitialMaster bool
	// DownAdverts is how many adverts may be missed before the master is
	// declared down (RFC: 3; keepalived's down_timer_adverts).
	DownAdverts int
	// LowerPrioNoAdvert: a master does not answer a lower-priority advert
	// with an advert of its own (keepalived's lower_prio_no_advert).
	LowerPrioNoAdvert bool
}

// Check reports what makes c unusable.
func (c *Config) Check() error {
	switch {
	case c.Version != 2 && c.Version != 3:
		return fmt.Errorf("version %d: want 2 or 3", c.Version)
	case c.Priority < 1 || c.Priority > PriorityOwner:
		return fmt.Errorf("priority %d: want 1-255", c.Priority)
	case c.AdvertInterval <= 0:
		return fmt.Errorf("advert interval %v: want more than 0", c.AdvertInterval)
	case c.Version == 2 && c.AdvertInterval%time.Second != 0:
		return fmt.Errorf("advert interval %v: VRRPv2 counts whole seconds", c.AdvertInterval)
	case c.Version == 3 && (c.AdvertInterval%(10*time.Millisecond) != 0 || c.AdvertInterval > 4095*10*time.Millisecond):
		return fmt.Errorf("advert interval %v: VRRPv3 counts centiseconds, at most 40.95s", c.AdvertInterval)
	case c.DownAdverts < 0:
		return fmt.Errorf("down adverts %d: want 1 or more (0 for the RFC's 3)", c.DownAdverts)
	case c.PreemptDelay < 0:
		return fmt.Errorf("preempt delay %v: negative", c.PreemptDelay)
	}
	return nil
}

// Advert is what the machine reads of a received advertisement, already
// checked by the codec and for this instance (VRID, authentication,
// addresses).
type Advert struct {
	From     netip.Addr
	Priority int
	// Interval is the sender's advert interval (v3); 0 keeps the current.
	Interval time.Duration
}

// ActionKind says what an Action asks of the caller.
type ActionKind uint8

// The actions.
const (
	// Send an advertisement now with Action.Priority.
	Send ActionKind = iota + 1
	// Transition: the state changed from Action.From to Action.To for
	// Action.Reason. Becoming Master means: add the virtual addresses and
	// announce them (gratuitous ARP, unsolicited NA); leaving it means:
	// remove them. A Send before it in the same list goes out first, so
	// that an old master hears of the new one before the announcement.
	Transition
)

// Action is one thing to do.
type Action struct {
	Kind     ActionKind
	Priority int   // Send
	From, To State // Transition
	Reason   string
}

func (a Action) String() string {
	if a.Kind == Send {
		return fmt.Sprintf("send priority %d", a.Priority)
	}
	return fmt.Sprintf("%s -> %s (%s)", a.From, a.To, a.Reason)
}

// Machine is one VRRP instance's state machine. It is not safe for
// concurrent use: one goroutine drives it.
type Machine struct {
	cfg   Config
	state State
	// prio is the effective priority: the base with track adjustments.
	prio int
	// masterInterval is Master_Adver_Interval: the current master's
	// advert interval (ours while we are master or know of none).
	masterInterval time.Duration
	// timer is the master down timer (Backup) or the advert timer
	// (Master); zero when stopped.
	timer time.Time
	// preemptAt: in Backup with a preempt delay, when a lower-priority
	// master may be preempted (zero: no lower master heard yet).
	preemptAt time.Time
	// fault: a fault is declared (tracked interface or script, quorum).
	fault bool
	// master is the last master heard from, and its priority.
	master         netip.Addr
	masterPriority int
	// hold keeps a backup from becoming master when its down timer runs
	// out (a sync group whose other members do not want to yet); wants
	// records that it ran out while held, until a master is heard again.
	hold, wants bool
	// resigned is the master whose priority 0 advert this backup heard
	// last (zero once another advert is taken).
	resigned netip.Addr
}

// New makes a machine in Init; Start begins the election.
func New(cfg Config) (*Machine, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if cfg.DownAdverts == 0 {
		cfg.DownAdverts = 3
	}
	return &Machine{cfg: cfg, prio: cfg.Priority, masterInterval: cfg.AdvertInterval}, nil
}

// State is the current state.
func (m *Machine) State() State { return m.state }

// Priority is the effective priority.
func (m *Machine) Priority() int { return m.prio }

// MasterInterval is the current Master_Adver_Interval.
func (m *Machine) MasterInterval() time.Duration { return m.masterInterval }

// Master is the address and priority of the last master heard (or the
// lower-priority router this backup is about to preempt); ok is false
// when none was heard since the start or since this router was master.
func (m *Machine) Master() (addr netip.Addr, priority int, ok bool) {
	return m.master, m.masterPriority, m.master.IsValid()
}

// Deadline is when Tick must next be called; zero when no timer runs
// (Init, Fault).
func (m *Machine) Deadline() time.Time { return m.timer }

// skew is Skew_Time for a priority distance d from 256.
func (m *Machine) skew(d int) time.Duration {
	if m.cfg.Version == 2 {
		return time.Duration(d) * time.Second / 256
	}
	return time.Duration(d) * m.masterInterval / 256
}

// downInterval is Master_Down_Interval.
func (m *Machine) downInterval() time.Duration {
	return time.Duration(m.cfg.DownAdverts)*m.masterInterval + m.skew(256-m.prio)
}

// Start leaves Init: the address owner becomes master at once, any other
// router a backup waiting for a master (or to become one). A router with a
// fault declared goes to Fault instead.
func (m *Machine) Start(now time.Time) []Action {
	if m.state != Init {
		return nil
	}
	m.masterInterval = m.cfg.AdvertInterval
	if m.fault {
		return m.enter(Fault, "a fault is declared", nil)
	}
	if m.prio == PriorityOwner {
		return m.becomeMaster(now, "address owner (priority 255)", nil)
	}
	// keepalived 2.2.7 starts `state MASTER` below priority 255 as any
	// backup, with the whole master down interval (vrrp_init_state; its
	// one-interval wait is for sync groups only): measured in
	// e2e/vrrp_test.go, and so here.
	acts := m.enter(Backup, "started", nil)
	m.timer = now.Add(m.downInterval())
	return acts
}

// Shutdown returns to Init. A master sends a priority 0 advert first, so
// that a backup takes over after its skew time.
func (m *Machine) Shutdown(now time.Time) []Action {
	var acts []Action
	if m.state == Master {
		acts = append(acts, Action{Kind: Send, Priority: PriorityStop})
	}
	if m.state == Init {
		return acts
	}
	return m.enter(Init, "shut down", acts)
}

// Tick fires the timer if it is due: a master sends its advert; a backup
// whose master down timer ran out becomes master.
func (m *Machine) Tick(now time.Time) []Action {
	if m.timer.IsZero() || now.Before(m.timer) {
		return nil
	}
	switch m.state {
	case Master:
		m.timer = now.Add(m.cfg.AdvertInterval)
		return []Action{{Kind: Send, Priority: m.prio}}
	case Backup:
		if m.hold {
			// Held back (a sync group): want to, and wait another
			// interval; a master heard meanwhile clears the wish.
			m.wants = true
			m.timer = now.Add(m.downInterval())
			return nil
		}
		why := "no advert from a master within the master down interval"
		if m.resigned.IsValid() {
			why = fmt.Sprintf("master %s resigned (priority 0)", m.resigned)
		}
		if m.master.IsValid() && m.masterPriority < m.prio && !m.cfg.NoPreempt {
			why = fmt.Sprintf("preempting %s (priority %d < %d)", m.master, m.masterPriority, m.prio)
		}
		return m.becomeMaster(now, why, nil)
	}
	return nil
}

// Receive handles an advert for this instance.
func (m *Machine) Receive(now time.Time, a Advert) []Action {
	switch m.state {
	case Backup:
		return m.backupReceive(now, a)
	case Master:
		return m.masterReceive(now, a)
	case Fault:
		// Take note of the master's interval, for when the fault clears.
		if a.Priority != PriorityStop && m.cfg.Version == 3 && a.Interval > 0 {
			m.masterInterval = a.Interval
		}
	}
	return nil
}

func (m *Machine) backupReceive(now time.Time, a Advert) []Action {
	if a.Priority == PriorityStop {
		// The master stops: take over after the skew time.
		m.timer = now.Add(m.skew(256 - m.prio))
		m.resigned = a.From
		return nil
	}
	m.resigned = netip.Addr{}
	delaying := m.cfg.PreemptDelay > 0 && (m.preemptAt.IsZero() || now.Before(m.preemptAt))
	if !m.cfg.NoPreempt && a.Priority < m.prio && !delaying {
		// A lower-priority master: ignore it; the down timer keeps
		// running and this router takes over when it fires.
		m.master, m.masterPriority = a.From, a.Priority
		return nil
	}
	if m.cfg.Version == 3 && a.Interval > 0 {
		m.masterInterval = a.Interval
	}
	m.timer = now.Add(m.downInterval())
	m.master, m.masterPriority = a.From, a.Priority
	m.wants = false
	if m.cfg.PreemptDelay > 0 {
		switch {
		case a.Priority >= m.prio:
			m.preemptAt = time.Time{}
		case m.preemptAt.IsZero():
			m.preemptAt = now.Add(m.cfg.PreemptDelay)
		}
	}
	return nil
}

func (m *Machine) masterReceive(now time.Time, a Advert) []Action {
	if a.Priority == PriorityStop {
		// Another master stops: say at once who is master now.
		m.timer = now.Add(m.cfg.AdvertInterval)
		return []Action{{Kind: Send, Priority: m.prio}}
	}
	cmp := a.From.Compare(m.cfg.Addr)
	if a.Priority > m.prio || (a.Priority == m.prio && cmp > 0) {
		if m.cfg.Version == 3 && a.Interval > 0 {
			m.masterInterval = a.Interval
		}
		why := fmt.Sprintf("%s has priority %d > %d", a.From, a.Priority, m.prio)
		if a.Priority == m.prio {
			why = fmt.Sprintf("%s has the same priority %d and a higher address", a.From, a.Priority)
		}
		acts := m.enter(Backup, why, nil)
		m.master, m.masterPriority = a.From, a.Priority
		m.timer = now.Add(m.downInterval())
		return acts
	}
	if a.Priority == m.prio && cmp == 0 {
		// Our own address: a looped-back advert or a misconfiguration.
		return nil
	}
	// A lower-priority router thinks it is master (a healed partition):
	// keepalived answers at once to end the election sooner.
	if m.cfg.LowerPrioNoAdvert {
		return nil
	}
	m.timer = now.Add(m.cfg.AdvertInterval)
	return []Action{{Kind: Send, Priority: m.prio}}
}

// SetPriority changes the effective priority (track scripts and
// interfaces with weights). It is kept within 1-254; the address owner's
// 255 is never adjusted. A master advertises the change at once; a backup
// that now outranks the master preempts it when its down timer fires (it
// ignores the master's adverts from now on).
func (m *Machine) SetPriority(now time.Time, p int) []Action {
	if m.cfg.Priority == PriorityOwner {
		return nil
	}
	p = min(max(p, 1), PriorityOwner-1)
	if p == m.prio {
		return nil
	}
	m.prio = p
	if m.state == Master {
		m.timer = now.Add(m.cfg.AdvertInterval)
		return []Action{{Kind: Send, Priority: m.prio}}
	}
	return nil
}

// SetFault declares (true) or clears (false) a fault. A master gives up
// with a priority 0 advert; a router in Fault returns to Backup when the
// fault clears.
func (m *Machine) SetFault(now time.Time, fault bool, why string) []Action {
	if fault == m.fault {
		return nil
	}
	m.fault = fault
	switch {
	case m.state == Init:
		return nil
	case fault && m.state == Master:
		return m.enter(Fault, why, []Action{{Kind: Send, Priority: PriorityStop}})
	case fault:
		return m.enter(Fault, why, nil)
	case m.state == Fault:
		acts := m.enter(Backup, why, nil)
		m.timer = now.Add(m.downInterval())
		return acts
	}
	return nil
}

// SetHold keeps (true) or lets (false) a backup become master when its
// master down timer runs out: a sync group holds a member back until
// every member wants to be master.
func (m *Machine) SetHold(hold bool) { m.hold = hold }

// WantsMaster says whether the router is master, or a backup whose down
// timer ran out while it was held back and that has heard no master since.
func (m *Machine) WantsMaster() bool {
	return m.state == Master || (m.state == Backup && m.wants)
}

// ForceMaster makes a backup master at once (its sync group became
// master). Other states are left alone.
func (m *Machine) ForceMaster(now time.Time, why string) []Action {
	if m.state != Backup {
		return nil
	}
	return m.becomeMaster(now, why, nil)
}

// ForceBackup makes a master a backup at once, without a priority 0
// advert (its sync group became backup): it waits the master down
// interval like any backup. Other states are left alone.
func (m *Machine) ForceBackup(now time.Time, why string) []Action {
	if m.state != Master {
		return nil
	}
	acts := m.enter(Backup, why, nil)
	m.timer = now.Add(m.downInterval())
	return acts
}

// becomeMaster sends the first advert, then changes state.
func (m *Machine) becomeMaster(now time.Time, why string, acts []Action) []Action {
	acts = append(acts, Action{Kind: Send, Priority: m.prio})
	acts = m.enter(Master, why, acts)
	m.timer = now.Add(m.cfg.AdvertInterval)
	m.masterInterval = m.cfg.AdvertInterval
	m.master, m.masterPriority = netip.Addr{}, 0
	return acts
}

// enter changes state and stops the timer; the caller starts the new one.
func (m *Machine) enter(to State, why string, acts []Action) []Action {
	from := m.state
	m.state = to
	m.timer = time.Time{}
	m.wants = false
	m.resigned = netip.Addr{}
	if to != Backup {
		m.preemptAt = time.Time{}
	}
	if to == Init || to == Fault {
		m.masterInterval = m.cfg.AdvertInterval
	}
	return append(acts, Action{Kind: Transition, From: from, To: to, Reason: why})
}
