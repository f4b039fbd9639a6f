package vrrp

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paceline/paceline/e2e"
)

// TestListenRefuses: configurations that cannot work are errors naming
// the interface and the problem, found before any socket is opened (so
// this runs anywhere, without root, and sends nothing).
func TestListenRefuses(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Interface: "nosuchif0"}, `interface "nosuchif0"`},
		{Config{Interface: "lo", Source: netip.MustParseAddr("198.51.100.99")}, "source 198.51.100.99 is not an address of the interface"},
		{Config{Interface: "lo", Group: netip.MustParseAddr("192.0.2.1")}, "group 192.0.2.1 is not a multicast address"},
		{Config{Interface: "lo", Group: DefaultGroup(true)}, "group ff02::12 is not a multicast address of the socket's family"},
		{Config{Interface: "lo", IPv6: true}, "no IPv6 link-local address"},
	} {
		c, err := Listen(context.Background(), tc.cfg, testLog(t))
		if err == nil {
			_ = c.Close()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.cfg.Interface) {
			t.Errorf("Listen(%+v) = %v, want an error with %q", tc.cfg, err, tc.want)
		}
	}
}

// TestConn: between two namespaces, for v2 over IPv4 and v3 over IPv4
// and IPv6: a multicast advert arrives with TTL 255, the group as
// destination, the sender's source and our interface, and decodes to
// what was sent; a unicast one back arrives with our address as
// destination (and so its v3 checksum verifies against it). Multicast
// loopback is off: the first packet the sender receives is the reply,
// not its own advert.
func TestConn(t *testing.T) {
	e2e.RequireRoot(t)
	l := vrrpLab(t)
	for _, tc := range []struct {
		name  string
		ipv6  bool
		adv   Advert
		group netip.Addr
	}{
		{"v2-ipv4", false, Advert{Version: V2, VRID: 9, Priority: 150, Interval: 100, Addrs: addrs("192.0.2.90"), AuthType: AuthPass, AuthData: pass(t, "pw")}, DefaultGroup(false)},
		{"v3-ipv4", false, Advert{Version: V3, VRID: 9, Priority: 150, Interval: 20, Addrs: addrs("192.0.2.90", "192.0.2.91")}, DefaultGroup(false)},
		{"v3-ipv6", true, Advert{Version: V3, VRID: 9, Priority: 150, Interval: 20, Addrs: addrs("fe80::90", "2001:db8::90")}, DefaultGroup(true)},
		{"v3-ipv4-other-group", false, Advert{Version: V3, VRID: 9, Priority: 150, Interval: 20, Addrs: addrs("192.0.2.90")}, netip.MustParseAddr("224.0.0.19")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := listenIn(t, l, hostKA, Config{IPv6: tc.ipv6, Group: tc.group})
			b := listenIn(t, l, hostGo, Config{IPv6: tc.ipv6, Group: tc.group})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()

			if err := a.Send(&tc.adv, netip.Addr{}); err != nil {
				t.Fatal(err)
			}
			p, err := b.Receive(ctx)
			if err != nil {
				t.Fatal(err)
			}
			wantPacket(t, p, a.Source(), tc.group, b.Interface().Index, tc.adv)

			reply := tc.adv
			reply.Priority = 200
			if err := b.Send(&reply, a.Source()); err != nil {
				t.Fatal(err)
			}
			p, err = a.Receive(ctx)
			if err != nil {
				t.Fatal(err)
			}
			wantPacket(t, p, b.Source(), a.Source(), a.Interface().Index, reply)
		})
	}
}

func wantPacket(t *testing.T, p Packet, src, dst netip.Addr, ifindex int, adv Advert) {
	t.Helper()
	if p.Src.WithZone("") != src.WithZone("") || p.Dst.WithZone("") != dst.WithZone("") || p.TTL != TTL || p.IfIndex != ifindex {
		t.Errorf("packet from %v to %v TTL %d ifindex %d, want from %v to %v TTL %d ifindex %d",
			p.Src, p.Dst, p.TTL, p.IfIndex, src, dst, TTL, ifindex)
	}
	if src.IsLinkLocalUnicast() && src.Is6() && p.Src.Zone() != "eth0" {
		t.Errorf("link-local source %v without the interface as zone", p.Src)
	}
	got, err := p.Parse()
	if err != nil {
		t.Fatalf("Parse %x: %v", p.Data, err)
	}
	if !reflect.DeepEqual(got, adv) {
		t.Errorf("received %v, sent %v", got.String(), adv.String())
	}
}

// TestReceiveEnds: Receive returns the context's error when it is
// cancelled or its deadline passes while waiting, and net.ErrClosed
// when the Conn is closed under it; after a cancelled Receive the next
// one still gets packets.
func TestReceiveEnds(t *testing.T) {
	e2e.RequireRoot(t)
	l := vrrpLab(t)
	a := listenIn(t, l, hostKA, Config{})
	b := listenIn(t, l, hostGo, Config{})

	inBackground := func(ctx context.Context, c *Conn) <-chan error {
		ch := make(chan error, 1)
		go func() { _, err := c.Receive(ctx); ch <- err }()
		return ch
	}
	wait := func(ch <-chan error) error {
		select {
		case err := <-ch:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("Receive did not return within 30 s")
			return nil
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	ch := inBackground(ctx, b)
	time.Sleep(100 * time.Millisecond) // most likely inside the read by now; either way it must return
	cancel()
	if err := wait(ch); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Receive = %v, want context.Canceled", err)
	}
	if _, err := b.Receive(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Receive with a done context = %v", err)
	}

	dctx, dcancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer dcancel()
	if err := wait(inBackground(dctx, b)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Receive past its deadline = %v, want context.DeadlineExceeded", err)
	}

	adv := Advert{Version: V3, VRID: 3, Priority: 100, Interval: 100, Addrs: addrs("192.0.2.30")}
	if err := a.Send(&adv, netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	rctx, rcancel := context.WithTimeout(context.Background(), time.Minute)
	defer rcancel()
	p, err := b.Receive(rctx)
	if err != nil {
		t.Fatalf("Receive after a cancelled one: %v", err)
	}
	wantPacket(t, p, a.Source(), DefaultGroup(false), b.Interface().Index, adv)

	c := listenIn(t, l, hostGo, Config{NoMulticast: true})
	if c.Group().IsValid() {
		t.Errorf("NoMulticast conn has group %v", c.Group())
	}
	if err := c.Send(&adv, netip.Addr{}); err == nil || !strings.Contains(err.Error(), "no destination") {
		t.Errorf("Send without destination or group = %v", err)
	}
	ch = inBackground(context.Background(), c)
	time.Sleep(100 * time.Millisecond)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := wait(ch); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Receive on a closed conn = %v, want net.ErrClosed", err)
	}
}
