package vrrp

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paceline/paceline/agents/vrrp/fsm"
)

// VIP is one virtual address of an instance, as keepalived's
// virtual_ipaddress lines give it.
type VIP struct {
	// Prefix is the address with its prefix length (keepalived's default
	// without one: /32, /128).
	Prefix netip.Prefix
	// Dev is the interface it goes on ("" : the instance's).
	Dev string
	// Label is an IPv4 address label (eth0:vip).
	Label string
	// Broadcast is an IPv4 broadcast address (zero: none).
	Broadcast netip.Addr
	// Scope is the address scope as ip-address(8) names it ("": global).
	Scope string
}

func (v VIP) String() string {
	s := v.Prefix.String()
	if v.Dev != "" {
		s += " dev " + v.Dev
	}
	if v.Label != "" {
		s += " label " + v.Label
	}
	return s
}

// InstanceConfig is one VRRP instance (keepalived's vrrp_instance),
// checked by Check.
type InstanceConfig struct {
	Name      string
	Interface string
	VRID      uint8
	Version   Version
	// IPv6: the instance's adverts and addresses are IPv6 (v3 only).
	IPv6 bool
	// Priority is the base priority, 1-255 (255: the address owner).
	Priority       int
	AdvertInterval time.Duration
	// InitialMaster is keepalived's `state MASTER`.
	InitialMaster bool
	NoPreempt     bool
	PreemptDelay  time.Duration
	// Password is VRRPv2's auth_pass ("" : no authentication).
	Password string
	// Source is the adverts' source address (unicast_src_ip or
	// mcast_src_ip); zero: the interface's primary address.
	Source netip.Addr
	// Group is the multicast group (zero: 224.0.0.18 or ff02::12).
	Group netip.Addr
	// Peers, when set, are the unicast destinations: no multicast.
	Peers []netip.Addr
	// VIPs are advertised and held by the master; Excluded are held by
	// the master but not advertised (virtual_ipaddress_excluded).
	VIPs     []VIP
	Excluded []VIP
	// GARPDelay is when the second round of gratuitous ARPs / unsolicited
	// neighbour adverts follows the first (garp_master_delay; 0: none).
	GARPDelay time.Duration
	// LowerPrioNoAdvert: a master does not answer a lower-priority advert.
	LowerPrioNoAdvert bool
	// SyncGroup names the vrrp_sync_group whose members change state
	// together ("" : none).
	SyncGroup string
}

// Check reports what makes the configuration unusable, naming the
// instance.
func (c *InstanceConfig) Check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("vrrp instance %s: %s", c.Name, fmt.Sprintf(format, args...))
	}
	switch {
	case c.Name == "":
		return fmt.Errorf("vrrp instance without a name")
	case c.Interface == "":
		return bad("no interface")
	case c.VRID == 0:
		return bad("virtual_router_id 0: want 1-255")
	case c.Version != V2 && c.Version != V3:
		return bad("version %d: want 2 or 3", c.Version)
	case c.IPv6 && c.Version != V3:
		return bad("IPv6 needs VRRP version 3")
	case c.Version == V3 && c.Password != "":
		return bad("authentication exists in VRRP version 2 only")
	case len(c.VIPs) == 0:
		return bad("no virtual_ipaddress")
	case len(c.VIPs) > 255:
		return bad("%d virtual addresses: an advert carries at most 255", len(c.VIPs))
	}
	if _, err := PassData(c.Password); err != nil {
		return bad("%v", err)
	}
	for _, v := range c.VIPs {
		if v.Prefix.Addr().Is6() != c.IPv6 {
			return bad("virtual address %s is not of the instance's family (use a separate instance per family)", v.Prefix)
		}
	}
	for _, p := range c.Peers {
		if p.Is6() != c.IPv6 {
			return bad("unicast peer %s is not of the instance's family", p)
		}
	}
	fc := c.fsmConfig()
	return fc.Check()
}

func (c *InstanceConfig) fsmConfig() fsm.Config {
	return fsm.Config{
		Version: int(c.Version), Priority: c.Priority, AdvertInterval: c.AdvertInterval,
		Addr: c.Source, NoPreempt: c.NoPreempt, PreemptDelay: c.PreemptDelay,
		InitialMaster: c.InitialMaster, LowerPrioNoAdvert: c.LowerPrioNoAdvert,
	}
}

// Addresser adds and removes an instance's virtual addresses, and
// announces them (gratuitous ARP, unsolicited neighbour adverts).
type Addresser interface {
	// Add adds the address on dev and announces it now and, when
	// again > 0, once more after that delay.
	Add(ctx context.Context, dev string, v VIP, again time.Duration) error
	// Remove removes it from dev; an absent address is no error.
	Remove(ctx context.Context, dev string, v VIP) error
	// Present says whether it is on dev.
	Present(ctx context.Context, dev string, v VIP) (bool, error)
}

// Transition is a state change of an instance, or of a sync group (Group
// set, Instance empty), for notify scripts and logs.
type Transition struct {
	Group    string
	Instance string
	From, To fsm.State
	Reason   string
	Priority int
	At       time.Time
}

// Status is an instance as `paceline vrrp status` shows it.
type Status struct {
	// Resource is the ocf:paceline:vrrp resource running the instance
	// (empty for a standalone paceline vrrp).
	Resource  string    `json:"resource,omitempty"`
	Name      string    `json:"name"`
	Interface string    `json:"interface"`
	VRID      uint8     `json:"vrid"`
	Version   int       `json:"version"`
	State     string    `json:"state"`
	Since     time.Time `json:"since"`
	Reason    string    `json:"reason,omitempty"`
	// Priority is the effective priority; BasePriority the configured one.
	Priority     int `json:"priority"`
	BasePriority int `json:"base-priority"`
	// Adjustments explain the difference (track scripts, interfaces).
	Adjustments []string `json:"adjustments,omitempty"`
	// Faults are what holds the instance in FAULT.
	Faults []string `json:"faults,omitempty"`
	// Master is the current master's address when this instance is
	// backup (and has heard it), and its priority.
	Master         string           `json:"master,omitempty"`
	MasterPriority int              `json:"master-priority,omitempty"`
	VIPs           []string         `json:"vips"`
	Counters       InstanceCounters `json:"counters"`
}

// InstanceCounters count an instance's traffic and elections.
type InstanceCounters struct {
	AdvertsSent          uint64 `json:"adverts-sent"`
	AdvertsReceived      uint64 `json:"adverts-received"`
	PriorityZeroSent     uint64 `json:"priority-zero-sent"`
	PriorityZeroReceived uint64 `json:"priority-zero-received"`
	BecameMaster         uint64 `json:"became-master"`
	SendErrors           uint64 `json:"send-errors"`
	AddressErrors        uint64 `json:"address-errors"`
	// Dropped counts adverts for this instance refused by its checks
	// (authentication, version, v2 interval), by reason.
	Dropped map[string]uint64 `json:"dropped,omitempty"`
}

// sender sends an advert to dst (zero: the group).
type sender interface {
	Send(a *Advert, dst netip.Addr) error
}

// instance is one VRRP instance: its state machine, its adverts and its
// addresses. Only its unit's goroutine touches the machine; others talk
// to it through the unit's events.
type instance struct {
	cfg    InstanceConfig
	log    *slog.Logger
	m      *fsm.Machine
	expect Expect
	advert Advert
	out    sender
	addrs  Addresser
	unit   *unit
	// notify is called (in the unit's goroutine; it must not block) on
	// each state change.
	notify func(Transition)

	drops    Counters
	sent     atomic.Uint64
	received atomic.Uint64
	zeroSent atomic.Uint64
	zeroRecv atomic.Uint64
	masters  atomic.Uint64
	sendErrs atomic.Uint64
	addrErrs atomic.Uint64

	mu     sync.Mutex
	status Status
	// adjust and faults are the instance's priority adjustments and
	// faults by source (a track script's name, "quorum", ...).
	adjust map[string]int
	faults map[string]string
}

// unit is what one goroutine runs: a sync group's instances, which
// change state together (keepalived's vrrp_sync_group), or one instance.
type unit struct {
	group   string // "" for a lone instance
	members []*instance
	events  chan event
	// done is closed when run returns: events are no longer read.
	done chan struct{}
	log  *slog.Logger
	// notify gets the group's own transitions.
	notify func(Transition)
	state  fsm.State // the group's
}

// event is something for a unit's goroutine, about one of its instances.
type event struct {
	in     *instance
	kind   eventKind
	advert *Advert
	from   netip.Addr
	// adjust or fault change, under a source name.
	source string
	weight int
	fault  string
	done   chan struct{}
}

type eventKind uint8

const (
	evAdvert eventKind = iota + 1
	evAdjust
	evFault
	// evSync: nothing changes; done is closed when the events before it
	// are handled.
	evSync
)

func newInstance(cfg InstanceConfig, out sender, addrs Addresser, notify func(Transition), log *slog.Logger) (*instance, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	m, err := fsm.New(cfg.fsmConfig())
	if err != nil {
		return nil, fmt.Errorf("vrrp instance %s: %w", cfg.Name, err)
	}
	in := &instance{
		cfg: cfg, log: log.With("instance", cfg.Name), m: m, out: out, addrs: addrs, notify: notify,
		adjust: map[string]int{}, faults: map[string]string{},
	}
	in.expect = Expect{VRID: cfg.VRID, Version: cfg.Version}
	in.advert = Advert{Version: cfg.Version, VRID: cfg.VRID, Interval: Centiseconds(cfg.AdvertInterval / (10 * time.Millisecond))}
	if cfg.Version == V2 {
		in.expect.Interval = in.advert.Interval
		if cfg.Password != "" {
			d, _ := PassData(cfg.Password)
			in.expect.AuthType, in.expect.AuthData = AuthPass, d
			in.advert.AuthType, in.advert.AuthData = AuthPass, d
		}
	}
	for _, v := range cfg.VIPs {
		in.advert.Addrs = append(in.advert.Addrs, v.Prefix.Addr())
	}
	in.status = Status{Name: cfg.Name, Interface: cfg.Interface, VRID: cfg.VRID, Version: int(cfg.Version),
		State: fsm.Init.String(), Priority: cfg.Priority, BasePriority: cfg.Priority}
	for _, v := range slices.Concat(cfg.VIPs, cfg.Excluded) {
		in.status.VIPs = append(in.status.VIPs, v.String())
	}
	return in, nil
}

func newUnit(group string, members []*instance, notify func(Transition), log *slog.Logger) *unit {
	u := &unit{group: group, members: members, events: make(chan event, 64*len(members)), done: make(chan struct{}), log: log, notify: notify}
	for _, in := range members {
		in.unit = u
	}
	return u
}

// deliver hands a received advert to the instance; false when its queue
// is full (the advert is dropped, as a busy router's would be).
func (in *instance) deliver(a *Advert, from netip.Addr) bool {
	select {
	case in.unit.events <- event{in: in, kind: evAdvert, advert: a, from: from}:
		return true
	default:
		return false
	}
}

// Adjust sets the priority adjustment of a source (a track script or
// interface with a weight); 0 removes it.
func (in *instance) Adjust(source string, weight int) {
	in.post(event{kind: evAdjust, source: source, weight: weight})
}

// Fault declares (why != "") or clears (why == "") a fault of a source.
func (in *instance) Fault(source, why string) {
	in.post(event{kind: evFault, source: source, fault: why})
}

// post queues an event unless the unit has stopped.
func (in *instance) post(ev event) {
	ev.in = in
	select {
	case in.unit.events <- ev:
	case <-in.unit.done:
	}
}

// sync waits until the events sent before it are handled, or ctx ends.
func (in *instance) sync(ctx context.Context) {
	done := make(chan struct{})
	select {
	case in.unit.events <- event{in: in, kind: evSync, done: done}:
	case <-ctx.Done():
		return
	case <-in.unit.done:
		return
	}
	select {
	case <-done:
	case <-ctx.Done():
	case <-in.unit.done:
	}
}

// run drives the unit's instances until ctx ends; then it shuts them
// down: a master sends priority 0 and releases its addresses (within a
// short bound of its own, ctx being done).
func (u *unit) run(ctx context.Context) {
	defer close(u.done)
	now := time.Now()
	for _, in := range u.members {
		u.act(ctx, in, in.m.Start(now))
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := time.Time{}
		for _, in := range u.members {
			if d := in.m.Deadline(); !d.IsZero() && (next.IsZero() || d.Before(next)) {
				next = d
			}
		}
		if next.IsZero() {
			timer.Reset(time.Hour)
		} else {
			timer.Reset(time.Until(next))
		}
		select {
		case <-ctx.Done():
			stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			now := time.Now()
			for _, in := range u.members {
				u.act(stop, in, in.m.Shutdown(now))
			}
			cancel()
			return
		case <-timer.C:
			now := time.Now()
			for _, in := range u.members {
				if d := in.m.Deadline(); d.IsZero() || now.Before(d) {
					continue
				}
				// A sync group's member becomes master only when every
				// other member wants to (keepalived prefers backup to
				// thrashing): it is held until then.
				in.m.SetHold(u.holds(in))
				u.act(ctx, in, in.m.Tick(now))
			}
		case ev := <-u.events:
			u.handle(ctx, ev)
		}
	}
}

// holds says whether a member must not become master yet: another
// member of its group does not want to.
func (u *unit) holds(in *instance) bool {
	for _, o := range u.members {
		if o != in && !o.m.WantsMaster() {
			return true
		}
	}
	return false
}

func (u *unit) handle(ctx context.Context, ev event) {
	in, now := ev.in, time.Now()
	switch ev.kind {
	case evAdvert:
		if err := in.expect.Check(ev.advert); err != nil {
			in.drops.Record(err)
			in.log.Debug("advert dropped", "from", ev.from, "err", err)
			return
		}
		in.received.Add(1)
		if ev.advert.Priority == fsm.PriorityStop {
			in.zeroRecv.Add(1)
		}
		u.act(ctx, in, in.m.Receive(now, fsm.Advert{From: ev.from, Priority: int(ev.advert.Priority), Interval: ev.advert.Interval.Duration()}))
	case evAdjust:
		in.mu.Lock()
		if ev.weight == 0 {
			delete(in.adjust, ev.source)
		} else {
			in.adjust[ev.source] = ev.weight
		}
		p := in.cfg.Priority
		for _, w := range in.adjust {
			p += w
		}
		in.mu.Unlock()
		u.act(ctx, in, in.m.SetPriority(now, p))
	case evFault:
		u.act(ctx, in, in.setFault(now, ev.source, ev.fault))
	case evSync:
	}
	if ev.done != nil {
		close(ev.done)
	}
}

// setFault records a fault source (why != "") or clears it, and tells
// the machine whether any fault is left.
func (in *instance) setFault(now time.Time, source, why string) []fsm.Action {
	in.mu.Lock()
	if why == "" {
		delete(in.faults, source)
	} else {
		in.faults[source] = why
	}
	var all []string
	for src, f := range in.faults {
		all = append(all, src+": "+f)
	}
	in.mu.Unlock()
	slices.Sort(all)
	if len(all) == 0 {
		return in.m.SetFault(now, false, "no fault left ("+source+" cleared)")
	}
	return in.m.SetFault(now, true, all[0])
}

// act carries out one member's actions, then keeps its sync group
// together: a member that became master takes the others with it, one
// that fell back to backup or into fault takes them there too.
func (u *unit) act(ctx context.Context, in *instance, acts []fsm.Action) {
	in.act(ctx, acts)
	if u.group == "" {
		return
	}
	now := time.Now()
	for _, a := range acts {
		if a.Kind != fsm.Transition {
			continue
		}
		why := fmt.Sprintf("sync group %s: %s %s", u.group, in.cfg.Name, strings.ToLower(a.To.String()))
		for _, o := range u.members {
			if o == in {
				continue
			}
			switch {
			case a.To == fsm.Master:
				o.act(ctx, o.m.ForceMaster(now, why))
			case a.To == fsm.Backup && a.From == fsm.Master:
				o.act(ctx, o.m.ForceBackup(now, why))
			case a.To == fsm.Fault:
				o.act(ctx, o.setFault(now, "sync group "+u.group, in.cfg.Name+" is in fault"))
			case a.From == fsm.Fault:
				o.act(ctx, o.setFault(now, "sync group "+u.group, ""))
			}
			o.publish()
		}
	}
	u.groupState(now)
}

// groupState notes the group's state (MASTER when every member is,
// FAULT when any is, BACKUP otherwise) and reports its changes.
func (u *unit) groupState(now time.Time) {
	st := fsm.Master
	for _, in := range u.members {
		switch s := in.m.State(); {
		case s == fsm.Fault:
			st = fsm.Fault
		case s != fsm.Master && st != fsm.Fault:
			st = s
		}
	}
	if st == u.state {
		return
	}
	from := u.state
	u.state = st
	u.log.Info("VRRP_Group("+u.group+") "+st.String(), "from", from.String())
	if u.notify != nil {
		u.notify(Transition{Group: u.group, From: from, To: st, At: now})
	}
}

// act carries out the machine's actions in order.
func (in *instance) act(ctx context.Context, acts []fsm.Action) {
	for _, a := range acts {
		switch a.Kind {
		case fsm.Send:
			in.send(a.Priority)
		case fsm.Transition:
			in.transition(ctx, a)
		}
	}
	in.publish()
}

func (in *instance) send(prio int) {
	adv := in.advert
	adv.Priority = uint8(prio)
	dsts := in.cfg.Peers
	if len(dsts) == 0 {
		dsts = []netip.Addr{{}} // the group
	}
	for _, dst := range dsts {
		if err := in.out.Send(&adv, dst); err != nil {
			in.sendErrs.Add(1)
			in.log.Warn("advert not sent", "to", dst, "err", err)
			continue
		}
		in.sent.Add(1)
		if prio == fsm.PriorityStop {
			in.zeroSent.Add(1)
		}
	}
}

func (in *instance) transition(ctx context.Context, a fsm.Action) {
	lvl := slog.LevelInfo
	if a.To == fsm.Fault {
		lvl = slog.LevelWarn
	}
	// keepalived's words, which its users grep for.
	in.log.Log(ctx, lvl, "Entering "+a.To.String()+" STATE", "from", a.From.String(), "reason", a.Reason, "priority", in.m.Priority())
	switch {
	case a.To == fsm.Master:
		in.masters.Add(1)
		for _, v := range slices.Concat(in.cfg.VIPs, in.cfg.Excluded) {
			if err := in.addrs.Add(ctx, in.dev(v), v, in.cfg.GARPDelay); err != nil {
				in.addrErrs.Add(1)
				in.log.Error("virtual address not added", "vip", v, "err", err)
			}
		}
	case a.From == fsm.Master:
		for _, v := range slices.Concat(in.cfg.VIPs, in.cfg.Excluded) {
			if err := in.addrs.Remove(ctx, in.dev(v), v); err != nil {
				in.addrErrs.Add(1)
				in.log.Error("virtual address not removed", "vip", v, "err", err)
			}
		}
	}
	now := time.Now()
	in.mu.Lock()
	in.status.Since, in.status.Reason = now, a.Reason
	in.mu.Unlock()
	if in.notify != nil {
		in.notify(Transition{Instance: in.cfg.Name, From: a.From, To: a.To, Reason: a.Reason, Priority: in.m.Priority(), At: now})
	}
}

func (in *instance) dev(v VIP) string {
	if v.Dev != "" {
		return v.Dev
	}
	return in.cfg.Interface
}

// publish copies the machine's state into the status (the machine is
// read in the instance's goroutine only).
func (in *instance) publish() {
	master, mprio, ok := in.m.Master()
	in.mu.Lock()
	defer in.mu.Unlock()
	s := &in.status
	s.State, s.Priority = in.m.State().String(), in.m.Priority()
	s.Master, s.MasterPriority = "", 0
	if ok {
		s.Master, s.MasterPriority = master.String(), mprio
	}
	s.Adjustments = s.Adjustments[:0]
	for src, w := range in.adjust {
		s.Adjustments = append(s.Adjustments, fmt.Sprintf("%s %+d", src, w))
	}
	slices.Sort(s.Adjustments)
	s.Faults = s.Faults[:0]
	for src, f := range in.faults {
		s.Faults = append(s.Faults, src+": "+f)
	}
	slices.Sort(s.Faults)
}

// Status returns a snapshot of the instance.
func (in *instance) Status() Status {
	in.mu.Lock()
	s := in.status
	s.Adjustments = slices.Clone(s.Adjustments)
	s.Faults = slices.Clone(s.Faults)
	s.VIPs = slices.Clone(s.VIPs)
	in.mu.Unlock()
	s.Counters = InstanceCounters{
		AdvertsSent: in.sent.Load(), AdvertsReceived: in.received.Load(),
		PriorityZeroSent: in.zeroSent.Load(), PriorityZeroReceived: in.zeroRecv.Load(),
		BecameMaster: in.masters.Load(), SendErrors: in.sendErrs.Load(), AddressErrors: in.addrErrs.Load(),
	}
	for _, d := range in.drops.Snapshot() {
		if d.Count > 0 {
			if s.Counters.Dropped == nil {
				s.Counters.Dropped = map[string]uint64{}
			}
			s.Counters.Dropped[d.Reason.String()] = d.Count
		}
	}
	return s
}
