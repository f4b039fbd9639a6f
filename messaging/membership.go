package messaging

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/paceline/paceline/logbridge"
)

// Meta is what a node tells the others about itself (memberlist node meta).
type Meta struct {
	RaftAddr string `json:"raft,omitempty"`
	Votes    int    `json:"votes,omitempty"`
	Version  string `json:"version,omitempty"`
	// Incarnation is fresh at every start of the node: attributes of an
	// older incarnation are dropped.
	Incarnation uint64 `json:"inc"`
}

// State is a member's liveness as this node sees it.
type State string

// Member states.
const (
	Alive   State = "alive"
	Suspect State = "suspect"
	Failed  State = "failed"
	Left    State = "left"
)

// Member is one node as this node sees it.
type Member struct {
	Name  string    `json:"name"`
	Addr  string    `json:"addr"`
	State State     `json:"state"`
	Meta  Meta      `json:"meta"`
	Since time.Time `json:"since"` // when State last changed
	// Joined is when gossip last saw it join or come back: when its
	// current (or, once lost, its last) life began here.
	Joined time.Time `json:"joined,omitzero"`
}

// EventKind says what happened to a member.
type EventKind string

// Event kinds.
const (
	EventJoin      EventKind = "join"
	EventLeave     EventKind = "leave"  // graceful
	EventFailed    EventKind = "failed" // stopped answering
	EventRecovered EventKind = "recovered"
	EventUpdate    EventKind = "update" // metadata changed
	EventAttrs     EventKind = "attrs"  // a transient attribute changed
)

// Event is one membership change, delivered to subscribers.
type Event struct {
	Kind   EventKind
	Member Member
	At     time.Time
}

// Options configure a Membership.
type Options struct {
	Name string
	// Bind is host:port for gossip (UDP and TCP); Advertise what others
	// dial (defaults to Bind).
	Bind, Advertise string
	// Keys are 16, 24 or 32-byte AES keys, the first the primary (used to
	// send); all are tried on receipt. Empty means no encryption (tests only).
	Keys   [][]byte
	Timing Timing
	Meta   Meta
	Logger *slog.Logger
}

// Membership runs this node's memberlist and keeps the member table and
// the transient attributes.
type Membership struct {
	opts  Options
	log   *slog.Logger
	ml    *memberlist.Memberlist
	queue *memberlist.TransmitLimitedQueue
	ring  *memberlist.Keyring

	mu      sync.Mutex
	members map[string]*Member
	leaving map[string]bool // members that announced a graceful leave
	// lastHeard is when each other member's heartbeat last arrived.
	lastHeard map[string]time.Time
	attrs     map[string]*nodeAttrs // by node name
	ver       uint64                // last version of our own attributes
	subs      map[int]chan Event
	nextSub   int

	dropped dropCounter // gossip input refused by the limits (limits.go)

	stop     chan struct{} // closed by Shutdown: ends the reconnect loop
	stopOnce sync.Once
	loops    sync.WaitGroup
}

// Start joins nothing yet: it opens the gossip port and runs memberlist.
// Call Join to contact others.
func Start(opts Options) (*Membership, error) {
	if opts.Name == "" || opts.Bind == "" {
		return nil, errors.New("messaging: name and bind address are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Timing == (Timing{}) {
		opts.Timing, _ = TimingProfile("fast")
	}
	if err := opts.Timing.Validate(); err != nil {
		return nil, fmt.Errorf("messaging timing: %w", err)
	}
	if opts.Meta.Incarnation == 0 {
		opts.Meta.Incarnation = uint64(time.Now().UnixNano())
	}
	m := &Membership{
		opts: opts, log: opts.Logger.With("component", "membership"),
		stop:    make(chan struct{}),
		members: map[string]*Member{}, leaving: map[string]bool{}, lastHeard: map[string]time.Time{}, attrs: map[string]*nodeAttrs{}, subs: map[int]chan Event{},
	}
	m.attrs[opts.Name] = &nodeAttrs{Inc: opts.Meta.Incarnation, Attrs: map[string]AttrValue{}}

	host, port, err := splitHostPort(opts.Bind)
	if err != nil {
		return nil, fmt.Errorf("gossip bind %q: %w", opts.Bind, err)
	}
	c := memberlist.DefaultLANConfig()
	c.Name = opts.Name
	c.BindAddr, c.BindPort = host, port
	c.AdvertiseAddr, c.AdvertisePort = host, port
	if opts.Advertise != "" {
		if c.AdvertiseAddr, c.AdvertisePort, err = splitHostPort(opts.Advertise); err != nil {
			return nil, fmt.Errorf("gossip advertise %q: %w", opts.Advertise, err)
		}
	}
	t := opts.Timing
	c.ProbeInterval, c.ProbeTimeout, c.GossipInterval = t.ProbeInterval, t.ProbeTimeout, t.GossipInterval
	c.SuspicionMult, c.PushPullInterval = t.SuspicionMult, t.PushPull
	// No LZW: our packets are small (a heartbeat is a few bytes, 40 a
	// second in the fast profile), and memberlist's compression allocates
	// a fresh LZW writer and its tables per packet: it was most of an idle
	// node's allocations (scripts/bench-idle.sh). Receivers still accept
	// compressed packets from nodes that send them.
	c.EnableCompression = false
	if len(opts.Keys) > 0 {
		ring, err := memberlist.NewKeyring(opts.Keys, opts.Keys[0])
		if err != nil {
			return nil, fmt.Errorf("gossip keyring: %w", err)
		}
		c.Keyring, m.ring = ring, ring
		c.GossipVerifyIncoming, c.GossipVerifyOutgoing = true, true
	}
	c.Delegate = (*delegate)(m)
	c.Events = (*events)(m)
	c.Logger = log.New(logbridge.Writer{L: opts.Logger.With("component", "memberlist"), Prefix: "memberlist: "}, "", 0)
	m.queue = &memberlist.TransmitLimitedQueue{NumNodes: func() int { return m.ml.NumMembers() }, RetransmitMult: 3}
	if m.ml, err = memberlist.Create(c); err != nil {
		return nil, fmt.Errorf("gossip on %s: %w", opts.Bind, err)
	}
	m.loops.Go(m.reconnect)
	m.loops.Go(m.heartbeats)
	return m, nil
}

// reconnect tries one failed member (not one that left) per round, picked
// at random: after a partition heals, two sides that declared each other
// dead do not probe each other any more, so without this they would stay
// apart. One member a round, as Serf does, so that a flapping cluster is
// not made busier by everyone reconnecting to everyone.
func (m *Membership) reconnect() {
	every := max(20*m.opts.Timing.ProbeInterval, time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
		var addrs []string
		m.mu.Lock()
		for _, mb := range m.members {
			if mb.State == Failed && mb.Name != m.opts.Name {
				addrs = append(addrs, mb.Addr)
			}
		}
		m.mu.Unlock()
		if len(addrs) == 0 {
			continue
		}
		a := addrs[rand.IntN(len(addrs))]
		if _, err := m.ml.Join([]string{a}); err == nil {
			m.log.Debug("reconnected to a failed member", "addr", a)
		}
	}
}

func splitHostPort(s string) (string, int, error) {
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	return h, n, nil
}

// Join contacts the given gossip addresses; it succeeds if any answered.
func (m *Membership) Join(addrs []string) (int, error) {
	n, err := m.ml.Join(addrs)
	if err != nil && n == 0 {
		return 0, fmt.Errorf("join %v: %w", addrs, err)
	}
	return n, nil
}

// Leave tells the others this node is leaving, then stops. memberlist's
// own leave reaches the others through the same callback as a death (the
// state it passes is not updated), so the node first tells every alive
// member its intent directly (TCP, in parallel, within the timeout):
// members that heard it report a leave, not a failure.
func (m *Membership) Leave(timeout time.Duration) error {
	msg := append([]byte{msgLeave}, m.opts.Name...)
	var wg sync.WaitGroup
	for _, n := range m.ml.Members() {
		if n.Name == m.opts.Name {
			continue
		}
		wg.Go(func() {
			if err := m.ml.SendReliable(n, msg); err != nil {
				m.log.Debug("leave intent not delivered", "peer", n.Name, "err", err)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout / 2):
	}
	err := m.ml.Leave(timeout)
	return errors.Join(err, m.Shutdown())
}

// Shutdown stops gossip without a goodbye: the others see a failure.
func (m *Membership) Shutdown() error {
	m.stopOnce.Do(func() { close(m.stop) })
	m.loops.Wait()
	err := m.ml.Shutdown()
	m.mu.Lock()
	for id, ch := range m.subs {
		close(ch)
		delete(m.subs, id)
	}
	m.mu.Unlock()
	return err
}

// Name returns this node's name.
func (m *Membership) Name() string { return m.opts.Name }

// Members lists every node seen, sorted by name, with suspect states as
// memberlist has them now.
func (m *Membership) Members() []Member {
	live := map[string]memberlist.NodeStateType{}
	for _, n := range m.ml.Members() {
		live[n.Name] = n.State
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Member, 0, len(m.members))
	for _, name := range slices.Sorted(maps.Keys(m.members)) {
		mb := *m.members[name]
		if st, ok := live[name]; ok && st == memberlist.StateSuspect && mb.State == Alive {
			mb.State = Suspect
		}
		out = append(out, mb)
	}
	return out
}

// HealthScore is memberlist's awareness (0 is healthy, up to 7).
func (m *Membership) HealthScore() int { return m.ml.GetHealthScore() }

// Subscribe returns a channel of events and a function to stop them. The
// channel is buffered; a subscriber that falls more than 1024 events
// behind loses events (logged) and should re-read Members and Attrs.
func (m *Membership) Subscribe() (<-chan Event, func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := m.nextSub
	m.nextSub++
	ch := make(chan Event, 1024)
	m.subs[id] = ch
	return ch, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if c, ok := m.subs[id]; ok {
			close(c)
			delete(m.subs, id)
		}
	}
}

// emit sends an event to every subscriber; m.mu must be held.
func (m *Membership) emit(kind EventKind, mb Member) {
	ev := Event{Kind: kind, Member: mb, At: time.Now()}
	for _, ch := range m.subs {
		select {
		case ch <- ev:
		default:
			m.log.Warn("event subscriber is behind; event dropped", "event", kind, "node", mb.Name)
		}
	}
}

// events implements memberlist.EventDelegate. memberlist calls it from its
// own goroutines; it must not block.
type events Membership

func (e *events) NotifyJoin(n *memberlist.Node) {
	m := (*Membership)(e)
	meta := decodeMeta(n.Meta)
	m.mu.Lock()
	defer m.mu.Unlock()
	kind := EventJoin
	if old, ok := m.members[n.Name]; ok && (old.State == Failed || old.State == Suspect) {
		kind = EventRecovered
	}
	now := time.Now()
	mb := &Member{Name: n.Name, Addr: n.Address(), State: Alive, Meta: meta, Since: now, Joined: now}
	m.members[n.Name] = mb
	delete(m.leaving, n.Name) // a new life: an old leave intent no longer holds
	m.dropStaleAttrs(n.Name, meta.Incarnation)
	m.log.Info("member "+string(kind), "peer", n.Name, "addr", mb.Addr)
	m.emit(kind, *mb)
}

func (e *events) NotifyLeave(n *memberlist.Node) {
	m := (*Membership)(e)
	m.mu.Lock()
	defer m.mu.Unlock()
	mb, ok := m.members[n.Name]
	if !ok {
		mb = &Member{Name: n.Name, Addr: n.Address(), Meta: decodeMeta(n.Meta)}
		m.members[n.Name] = mb
	}
	kind, state := EventFailed, Failed
	if m.leaving[n.Name] {
		kind, state = EventLeave, Left
		delete(m.leaving, n.Name)
	}
	mb.State, mb.Since = state, time.Now()
	if kind == EventFailed {
		m.log.Warn("member failed", "peer", n.Name, "addr", mb.Addr)
	} else {
		m.log.Info("member left", "peer", n.Name)
	}
	m.emit(kind, *mb)
}

func (e *events) NotifyUpdate(n *memberlist.Node) {
	m := (*Membership)(e)
	meta := decodeMeta(n.Meta)
	m.mu.Lock()
	defer m.mu.Unlock()
	mb, ok := m.members[n.Name]
	if !ok {
		mb = &Member{Name: n.Name, State: Alive, Since: time.Now()}
		m.members[n.Name] = mb
	}
	mb.Addr, mb.Meta = n.Address(), meta
	m.dropStaleAttrs(n.Name, meta.Incarnation)
	m.emit(EventUpdate, *mb)
}

func decodeMeta(b []byte) Meta {
	var meta Meta
	if len(b) > maxMeta { // limits.go
		return meta
	}
	_ = json.Unmarshal(b, &meta) // a peer's bad meta reads as empty
	return meta
}

// Keys lists the gossip keys in the keyring, the primary first.
func (m *Membership) Keys() [][]byte {
	if m.ring == nil {
		return nil
	}
	return m.ring.GetKeys()
}

// InstallKey adds a key that this node accepts (but does not send with).
func (m *Membership) InstallKey(k []byte) error {
	if m.ring == nil {
		return errors.New("gossip encryption is off on this node")
	}
	return m.ring.AddKey(k)
}

// UseKey makes an installed key the one this node sends with.
func (m *Membership) UseKey(k []byte) error {
	if m.ring == nil {
		return errors.New("gossip encryption is off on this node")
	}
	return m.ring.UseKey(k)
}

// RemoveKey drops a key that is not the primary.
func (m *Membership) RemoveKey(k []byte) error {
	if m.ring == nil {
		return errors.New("gossip encryption is off on this node")
	}
	return m.ring.RemoveKey(k)
}
