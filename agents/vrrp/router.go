package vrrp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Router runs a set of VRRP instances: one raw socket per interface,
// family, source and group, shared by the instances on it and
// demultiplexed by VRID.
type Router struct {
	log       *slog.Logger
	addrs     Addresser
	notify    func(Transition)
	instances []*instance
	units     []*unit
	byName    map[string]*instance
	sockets   []*socket
	pending   []InstanceConfig
	// startFaults: instance -> source -> why, set before the start.
	startFaults map[string]map[string]string
	listen      func(ctx context.Context, cfg Config, log *slog.Logger) (packetConn, error)
}

// packetConn is what a socket needs of a Conn (tests may use a stand-in).
type packetConn interface {
	sender
	Receive(ctx context.Context) (Packet, error)
	Source() netip.Addr
	Close() error
}

// socket is one Conn and the instances that receive through it.
type socket struct {
	key   socketKey
	conn  packetConn
	byID  map[uint8][]*instance
	drops Counters
}

type socketKey struct {
	iface  string
	ipv6   bool
	source netip.Addr
	group  netip.Addr // zero with unicast peers
}

// RouterOption configures a Router.
type RouterOption func(*Router)

// WithNotify calls fn on every state change of every instance, from the
// instance's goroutine: fn must not block (run scripts elsewhere).
func WithNotify(fn func(Transition)) RouterOption { return func(r *Router) { r.notify = fn } }

// WithStartFaults makes instances start in FAULT for the given sources
// (instance -> source -> why), until those sources clear them: a tracked
// script with weight 0 that has not run yet.
func WithStartFaults(f map[string]map[string]string) RouterOption {
	return func(r *Router) { r.startFaults = f }
}

// withListen replaces the raw sockets (tests).
func withListen(listen func(ctx context.Context, cfg Config, log *slog.Logger) (packetConn, error)) RouterOption {
	return func(r *Router) { r.listen = listen }
}

// NewRouter checks the instances and prepares them; Run starts them.
// Instances must have distinct names, and distinct VRIDs per interface
// and family.
func NewRouter(cfgs []InstanceConfig, addrs Addresser, log *slog.Logger, opts ...RouterOption) (*Router, error) {
	r := &Router{log: log, addrs: addrs, byName: map[string]*instance{}}
	r.listen = func(ctx context.Context, cfg Config, log *slog.Logger) (packetConn, error) {
		return Listen(ctx, cfg, log)
	}
	for _, o := range opts {
		o(r)
	}
	type vridKey struct {
		iface string
		ipv6  bool
		vrid  uint8
	}
	seen := map[vridKey]string{}
	var errs []error
	for _, c := range cfgs {
		if err := c.Check(); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := r.byName[c.Name]; dup {
			errs = append(errs, fmt.Errorf("vrrp instance %s: defined twice", c.Name))
			continue
		}
		k := vridKey{c.Interface, c.IPv6, c.VRID}
		if other, dup := seen[k]; dup {
			errs = append(errs, fmt.Errorf("vrrp instance %s: virtual_router_id %d on %s is instance %s's already", c.Name, c.VRID, c.Interface, other))
			continue
		}
		seen[k] = c.Name
		r.byName[c.Name] = nil // placeholder: the instance is made by Run, once its source is known
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	r.pending = cfgs
	return r, nil
}

// Run opens the sockets, runs every instance until ctx ends, then shuts
// them down (masters send priority 0 and release their addresses) and
// closes the sockets. ready, if not nil, is called once everything runs.
func (r *Router) Run(ctx context.Context, ready func()) error {
	if err := r.open(ctx); err != nil {
		r.closeSockets()
		return err
	}
	defer r.closeSockets()
	var wg sync.WaitGroup
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, s := range r.sockets {
		wg.Go(func() { r.receive(rctx, s) })
	}
	var iwg sync.WaitGroup
	for _, u := range r.units {
		iwg.Go(func() { u.run(ctx) })
	}
	if ready != nil {
		ready()
	}
	iwg.Wait() // the instances end with ctx, after their shutdown
	cancel()
	wg.Wait()
	return nil
}

// open makes the sockets and the instances.
func (r *Router) open(ctx context.Context) error {
	for _, c := range r.pending {
		k := socketKey{iface: c.Interface, ipv6: c.IPv6, source: c.Source}
		if len(c.Peers) == 0 {
			k.group = c.Group
			if !k.group.IsValid() {
				k.group = DefaultGroup(c.IPv6)
			}
		}
		i := slices.IndexFunc(r.sockets, func(s *socket) bool { return s.key == k })
		if i < 0 {
			conn, err := r.listen(ctx, Config{Interface: c.Interface, IPv6: c.IPv6, Source: c.Source, Group: k.group, NoMulticast: len(c.Peers) > 0}, r.log)
			if err != nil {
				return fmt.Errorf("vrrp instance %s: %w", c.Name, err)
			}
			r.sockets = append(r.sockets, &socket{key: k, conn: conn, byID: map[uint8][]*instance{}})
			i = len(r.sockets) - 1
		}
		s := r.sockets[i]
		if !c.Source.IsValid() {
			c.Source = s.conn.Source()
		}
		in, err := newInstance(c, s.conn, r.addrs, r.notify, r.log)
		if err != nil {
			return err
		}
		for src, why := range r.startFaults[c.Name] {
			in.setFault(time.Now(), src, why) // in Init: no action, the start goes to FAULT
		}
		s.byID[c.VRID] = append(s.byID[c.VRID], in)
		r.instances = append(r.instances, in)
		r.byName[c.Name] = in
	}
	// One unit per sync group, in the order of its first member, and one
	// per lone instance.
	groups := map[string]*unit{}
	for _, in := range r.instances {
		g := in.cfg.SyncGroup
		switch {
		case g == "":
			r.units = append(r.units, newUnit("", []*instance{in}, r.notify, r.log))
		case groups[g] == nil:
			var members []*instance
			for _, o := range r.instances {
				if o.cfg.SyncGroup == g {
					members = append(members, o)
				}
			}
			groups[g] = newUnit(g, members, r.notify, r.log.With("sync-group", g))
			r.units = append(r.units, groups[g])
		}
	}
	return nil
}

func (r *Router) closeSockets() {
	for _, s := range r.sockets {
		if err := s.conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			r.log.Warn("closing a VRRP socket", "interface", s.key.iface, "err", err)
		}
	}
}

// receive reads one socket until ctx ends and hands each advert to the
// instances of its VRID.
func (r *Router) receive(ctx context.Context, s *socket) {
	own := s.conn.Source()
	for {
		p, err := s.conn.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			r.log.Warn("VRRP receive", "interface", s.key.iface, "err", err)
			continue
		}
		if p.Src.WithZone("") == own {
			continue // our own advert, looped back
		}
		a, err := p.Parse()
		if err != nil {
			s.drops.Record(err)
			r.log.Debug("VRRP packet dropped", "interface", s.key.iface, "from", p.Src, "err", err)
			continue
		}
		ins := s.byID[a.VRID]
		if len(ins) == 0 {
			s.drops.Add(DropWrongVRID)
			continue
		}
		for _, in := range ins {
			adv := a
			if !in.deliver(&adv, p.Src.WithZone("")) {
				r.log.Warn("VRRP instance busy: advert dropped", "instance", in.cfg.Name)
			}
		}
	}
}

// Status returns every instance's status, in configuration order.
func (r *Router) Status() []Status {
	out := make([]Status, 0, len(r.instances))
	for _, in := range r.instances {
		out = append(out, in.Status())
	}
	return out
}

// SocketDrops returns, per interface, the packets dropped before they
// reached an instance (malformed, or for no instance here).
func (r *Router) SocketDrops() map[string][]DropCount {
	out := map[string][]DropCount{}
	for _, s := range r.sockets {
		snap := s.drops.Snapshot()
		if prev, ok := out[s.key.iface]; ok {
			for i := range snap {
				snap[i].Count += prev[i].Count
			}
		}
		out[s.key.iface] = snap
	}
	return out
}

// Adjust sets a priority adjustment of an instance under a source name
// (0 removes it).
func (r *Router) Adjust(name, source string, weight int) error {
	in := r.byName[name]
	if in == nil {
		return fmt.Errorf("vrrp: no running instance %q", name)
	}
	in.Adjust(source, weight)
	return nil
}

// Fault declares (why != "") or clears a fault of an instance under a
// source name.
func (r *Router) Fault(name, source, why string) error {
	in := r.byName[name]
	if in == nil {
		return fmt.Errorf("vrrp: no running instance %q", name)
	}
	in.Fault(source, why)
	return nil
}

// FaultAll declares or clears a fault of every instance (quorum).
func (r *Router) FaultAll(source, why string) {
	for _, in := range r.instances {
		in.Fault(source, why)
	}
}
