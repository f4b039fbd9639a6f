package vrrp

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// bus is an in-memory multicast network: every packet sent by one
// member reaches every other member, encoded and parsed as on the wire
// (TTL 255).
type bus struct {
	mu      sync.Mutex
	members []*busConn
}

type busConn struct {
	b      *bus
	src    netip.Addr
	group  netip.Addr
	in     chan Packet
	closed chan struct{}
	once   sync.Once
	// cut: packets from or to this member are lost.
	cut bool
}

func (b *bus) join(src netip.Addr) *busConn {
	c := &busConn{b: b, src: src, group: DefaultGroup(false), in: make(chan Packet, 256), closed: make(chan struct{})}
	b.mu.Lock()
	b.members = append(b.members, c)
	b.mu.Unlock()
	return c
}

func (c *busConn) Send(a *Advert, dst netip.Addr) error {
	if !dst.IsValid() {
		dst = c.group
	}
	data, err := a.Marshal(c.src, dst)
	if err != nil {
		return err
	}
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	if c.cut {
		return nil
	}
	for _, m := range c.b.members {
		if m == c || m.cut || (dst != c.group && dst != m.src) {
			continue
		}
		select {
		case m.in <- Packet{Data: data, Src: c.src, Dst: dst, TTL: 255}:
		case <-m.closed:
		}
	}
	return nil
}

func (c *busConn) Receive(ctx context.Context) (Packet, error) {
	select {
	case p := <-c.in:
		return p, nil
	case <-ctx.Done():
		return Packet{}, ctx.Err()
	case <-c.closed:
		return Packet{}, net.ErrClosed
	}
}

func (c *busConn) Source() netip.Addr { return c.src }

func (c *busConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

func (b *bus) setCut(src netip.Addr, cut bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.members {
		if m.src == src {
			m.cut = cut
		}
	}
}

// holders records which router holds which address.
type holders struct {
	mu   sync.Mutex
	held map[string]map[string]bool // address -> routers
}

type fakeAddrs struct {
	h    *holders
	name string
}

func (f fakeAddrs) Add(_ context.Context, dev string, v VIP, _ time.Duration) error {
	f.h.mu.Lock()
	defer f.h.mu.Unlock()
	k := v.Prefix.String()
	if f.h.held[k] == nil {
		f.h.held[k] = map[string]bool{}
	}
	f.h.held[k][f.name] = true
	return nil
}

func (f fakeAddrs) Remove(_ context.Context, dev string, v VIP) error {
	f.h.mu.Lock()
	defer f.h.mu.Unlock()
	delete(f.h.held[v.Prefix.String()], f.name)
	return nil
}

func (f fakeAddrs) Present(_ context.Context, dev string, v VIP) (bool, error) {
	f.h.mu.Lock()
	defer f.h.mu.Unlock()
	return f.h.held[v.Prefix.String()][f.name], nil
}

func (h *holders) of(addr string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for r := range h.held[addr] {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

type testRouter struct {
	name   string
	src    netip.Addr
	r      *Router
	cancel context.CancelFunc
	done   chan struct{}
	trans  chan Transition
}

func startRouter(t *testing.T, b *bus, h *holders, name string, src netip.Addr, cfgs ...InstanceConfig) *testRouter {
	t.Helper()
	tr := &testRouter{name: name, src: src, done: make(chan struct{}), trans: make(chan Transition, 64)}
	r, err := NewRouter(cfgs, fakeAddrs{h, name}, testLog(t).With("router", name), WithNotify(func(tn Transition) {
		select {
		case tr.trans <- tn:
		default:
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	r.listen = func(context.Context, Config, *slog.Logger) (packetConn, error) { return b.join(src), nil }
	tr.r = r
	ctx, cancel := context.WithCancel(t.Context())
	tr.cancel = cancel
	ready := make(chan struct{})
	go func() {
		defer close(tr.done)
		if err := r.Run(ctx, func() { close(ready) }); err != nil {
			t.Errorf("router %s: %v", name, err)
		}
	}()
	<-ready
	t.Cleanup(tr.stop)
	return tr
}

func (tr *testRouter) stop() {
	tr.cancel()
	<-tr.done
}

func inst(name string, vrid uint8, prio int, vip string) InstanceConfig {
	return InstanceConfig{Name: name, Interface: "eth0", VRID: vrid, Version: V3, Priority: prio,
		AdvertInterval: 50 * time.Millisecond, VIPs: []VIP{{Prefix: netip.MustParsePrefix(vip)}}}
}

func wantHolders(t *testing.T, h *holders, addr string, want ...string) {
	t.Helper()
	waitFor(t, 5*time.Second, fmt.Sprintf("%s held by %v", addr, want), func() bool {
		return slices.Equal(h.of(addr), want)
	})
}

// Routers on one network elect the highest priority, which alone holds
// the address; when it stops (priority 0) the next takes over at once;
// when the link of the master is cut, the backup takes over after the
// master down interval (both hold it: the split brain that plain VRRP
// cannot avoid); when it heals, the higher priority wins again.
func TestRouterElection(t *testing.T) {
	b := &bus{}
	h := &holders{held: map[string]map[string]bool{}}
	a1, a2, a3 := netip.MustParseAddr("192.0.2.11"), netip.MustParseAddr("192.0.2.12"), netip.MustParseAddr("192.0.2.13")
	r1 := startRouter(t, b, h, "r1", a1, inst("web", 51, 150, "192.0.2.50/32"))
	r2 := startRouter(t, b, h, "r2", a2, inst("web", 51, 100, "192.0.2.50/32"))
	r3 := startRouter(t, b, h, "r3", a3, inst("web", 51, 50, "192.0.2.50/32"))
	wantHolders(t, h, "192.0.2.50/32", "r1")

	st := r2.r.Status()[0]
	if st.State != "BACKUP" || st.Master != a1.String() || st.MasterPriority != 150 {
		t.Errorf("r2's status: %+v", st)
	}

	r1.stop()
	wantHolders(t, h, "192.0.2.50/32", "r2")
	if st := r3.r.Status()[0]; st.Counters.PriorityZeroReceived == 0 {
		t.Errorf("r3 heard no priority 0 advert: %+v", st.Counters)
	}

	b.setCut(a2, true)
	wantHolders(t, h, "192.0.2.50/32", "r2", "r3")
	b.setCut(a2, false)
	wantHolders(t, h, "192.0.2.50/32", "r2")
}

// Faults and priority adjustments: a master in fault releases the
// address at once (priority 0) and a backup takes it; a master whose
// priority drops below a backup's is preempted.
func TestRouterFaultAndAdjust(t *testing.T) {
	b := &bus{}
	h := &holders{held: map[string]map[string]bool{}}
	r1 := startRouter(t, b, h, "r1", netip.MustParseAddr("192.0.2.11"), inst("web", 51, 150, "192.0.2.50/32"))
	startRouter(t, b, h, "r2", netip.MustParseAddr("192.0.2.12"), inst("web", 51, 100, "192.0.2.50/32"))
	wantHolders(t, h, "192.0.2.50/32", "r1")

	if err := r1.r.Fault("web", "quorum", "this partition has no quorum"); err != nil {
		t.Fatal(err)
	}
	wantHolders(t, h, "192.0.2.50/32", "r2")
	st := r1.r.Status()[0]
	if st.State != "FAULT" || !slices.Equal(st.Faults, []string{"quorum: this partition has no quorum"}) {
		t.Errorf("r1's status in fault: %+v", st)
	}
	r1.r.Fault("web", "quorum", "")
	wantHolders(t, h, "192.0.2.50/32", "r1")

	r1.r.Adjust("web", "chk_nginx", -60)
	wantHolders(t, h, "192.0.2.50/32", "r2")
	if st := r1.r.Status()[0]; st.Priority != 90 || !slices.Equal(st.Adjustments, []string{"chk_nginx -60"}) {
		t.Errorf("r1's status after -60: %+v", st)
	}
	r1.r.Adjust("web", "chk_nginx", 0)
	wantHolders(t, h, "192.0.2.50/32", "r1")

	// Notifications saw the transitions.
	var seen []string
	for len(r1.trans) > 0 {
		tn := <-r1.trans
		seen = append(seen, tn.To.String())
	}
	if want := []string{"BACKUP", "MASTER", "FAULT", "BACKUP", "MASTER", "BACKUP", "MASTER"}; !slices.Equal(seen, want) {
		t.Errorf("r1's transitions %v, want %v", seen, want)
	}
}

// VRRPv2 with a password: a router with the wrong password is not heard
// (its adverts are counted as dropped), so both become master.
func TestRouterPassword(t *testing.T) {
	b := &bus{}
	h := &holders{held: map[string]map[string]bool{}}
	c1 := inst("web", 51, 150, "192.0.2.50/32")
	c1.Version, c1.AdvertInterval, c1.Password = V2, time.Second, "secret"
	c2 := c1
	c2.Priority = 100
	c3 := c1
	c3.Priority, c3.Password = 50, "wrong"
	startRouter(t, b, h, "r1", netip.MustParseAddr("192.0.2.11"), c1)
	r2 := startRouter(t, b, h, "r2", netip.MustParseAddr("192.0.2.12"), c2)
	r3 := startRouter(t, b, h, "r3", netip.MustParseAddr("192.0.2.13"), c3)
	wantHolders(t, h, "192.0.2.50/32", "r1", "r3")
	if st := r2.r.Status()[0]; st.State != "BACKUP" {
		t.Errorf("r2 with the right password: %+v", st)
	}
	waitFor(t, 5*time.Second, "r3 counts r1's adverts as auth_mismatch", func() bool {
		return r3.r.Status()[0].Counters.Dropped["auth_mismatch"] > 0
	})
}

func TestNewRouterRefuses(t *testing.T) {
	good := inst("web", 51, 100, "192.0.2.50/32")
	dupName, dupVRID, v6 := good, good, good
	dupVRID.Name = "other"
	v6.Name, v6.VRID, v6.VIPs = "v6", 52, []VIP{{Prefix: netip.MustParsePrefix("2001:db8::1/128")}}
	for _, tc := range []struct {
		cfgs []InstanceConfig
		want string
	}{
		{[]InstanceConfig{good, dupName}, "defined twice"},
		{[]InstanceConfig{good, dupVRID}, "virtual_router_id 51 on eth0 is instance web's already"},
		{[]InstanceConfig{v6}, "2001:db8::1/128 is not of the instance's family"},
		{[]InstanceConfig{{Name: "x", Interface: "eth0", VRID: 1, Version: V3, Priority: 100, AdvertInterval: time.Second}}, "no virtual_ipaddress"},
	} {
		_, err := NewRouter(tc.cfgs, nil, testLog(t))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one naming %q", err, tc.want)
		}
	}
}

// A sync group's members change state together: a fault of one takes
// the other out too, and a member preempted on one router takes the
// other member to backup, so that the other router holds both.
func TestRouterSyncGroup(t *testing.T) {
	b := &bus{}
	h := &holders{held: map[string]map[string]bool{}}
	pair := func(prio int) []InstanceConfig {
		i1, i2 := inst("VI_1", 51, prio, "192.0.2.51/32"), inst("VI_2", 52, prio, "192.0.2.52/32")
		i1.SyncGroup, i2.SyncGroup = "G", "G"
		return []InstanceConfig{i1, i2}
	}
	r1 := startRouter(t, b, h, "r1", netip.MustParseAddr("192.0.2.11"), pair(150)...)
	r2 := startRouter(t, b, h, "r2", netip.MustParseAddr("192.0.2.12"), pair(100)...)
	wantHolders(t, h, "192.0.2.51/32", "r1")
	wantHolders(t, h, "192.0.2.52/32", "r1")

	r1.r.Fault("VI_1", "script chk", "exit status 1")
	wantHolders(t, h, "192.0.2.51/32", "r2")
	wantHolders(t, h, "192.0.2.52/32", "r2")
	st := r1.r.Status()
	if st[1].State != "FAULT" || !slices.Equal(st[1].Faults, []string{"sync group G: VI_1 is in fault"}) {
		t.Errorf("r1's VI_2 with VI_1 in fault: %+v", st[1])
	}
	r1.r.Fault("VI_1", "script chk", "")
	wantHolders(t, h, "192.0.2.51/32", "r1")
	wantHolders(t, h, "192.0.2.52/32", "r1")

	// r2's VI_1 alone outranking r1's changes nothing: a sync group
	// becomes master only when all its members want to (as keepalived;
	// weights belong on the group's track_script), and r2's VI_2 still
	// hears r1's. Once both outrank r1's, r2 takes both.
	r2.r.Adjust("VI_1", "script up", 100)
	waitFor(t, 5*time.Second, "r2's VI_1 held back, wanting master", func() bool {
		return r2.r.Status()[0].Priority == 200
	})
	time.Sleep(500 * time.Millisecond) // a few master down intervals (175 ms): nothing may move
	wantHolders(t, h, "192.0.2.51/32", "r1")
	r2.r.Adjust("VI_2", "script up", 100)
	wantHolders(t, h, "192.0.2.51/32", "r2")
	wantHolders(t, h, "192.0.2.52/32", "r2")

	var groups []string
	for len(r1.trans) > 0 {
		if tn := <-r1.trans; tn.Group != "" {
			groups = append(groups, tn.To.String())
		}
	}
	if want := []string{"BACKUP", "MASTER", "FAULT", "BACKUP", "MASTER", "BACKUP"}; !slices.Equal(groups, want) {
		t.Errorf("r1's group transitions %v, want %v", groups, want)
	}
}
