package vip

import (
	"bytes"
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mdlayher/arp"

	"github.com/paceline/paceline/agents/ocf"
)

const vip4, vip6 = "192.0.2.50", "2001:db8::50"

// TestStartStopMonitor: start adds the address (nic and prefix found
// from the subnet; label, broadcast as given), monitor sees it, stop
// removes it; start and stop are idempotent; start converges an address
// present with another prefix; on loopback it adds without announcing; a
// missing nic stops and monitors as "not there" but is ErrInstalled for
// start and validate-all.
func TestStartStopMonitor(t *testing.T) {
	l := newLab(t, "ss")
	a := l.addHost("a", "192.0.2.1/24")
	ag := New()
	p := map[string]string{"ip": vip4}

	a.must(t, ag, ocf.Monitor, p, ocf.NotRunning)
	a.must(t, ag, ocf.ValidateAll, p, ocf.Success)
	if out := a.must(t, ag, ocf.Start, p, ocf.Success); !strings.Contains(out, "added, 5 of 5 announcement rounds sent") {
		t.Errorf("start output %q", out)
	}
	wantAddr(t, l.addr(a, vip4), ipAddr{Family: "inet", Local: vip4, PrefixLen: 24, Label: "eth0", Broadcast: "192.0.2.255"})
	a.must(t, ag, ocf.Monitor, p, ocf.Success)
	if out := a.must(t, ag, ocf.Start, p, ocf.Success); !strings.Contains(out, "already present") {
		t.Errorf("second start output %q", out)
	}
	wantAddr(t, l.addr(a, vip4), ipAddr{Family: "inet", Local: vip4, PrefixLen: 24, Label: "eth0", Broadcast: "192.0.2.255"})
	a.must(t, ag, ocf.Stop, p, ocf.Success)
	wantAddr(t, l.addr(a, vip4))
	a.must(t, ag, ocf.Monitor, p, ocf.NotRunning)
	if out := a.must(t, ag, ocf.Stop, p, ocf.Success); !strings.Contains(out, "not present") {
		t.Errorf("second stop output %q", out)
	}

	// Everything explicit.
	px := map[string]string{"ip": vip4, "nic": "eth0", "cidr_netmask": "255.255.255.128",
		"label": "eth0:vip", "broadcast": "192.0.2.127", "arp_count": "1"}
	a.must(t, ag, ocf.ValidateAll, px, ocf.Success)
	a.must(t, ag, ocf.Start, px, ocf.Success)
	wantAddr(t, l.addr(a, vip4), ipAddr{Family: "inet", Local: vip4, PrefixLen: 25, Label: "eth0:vip", Broadcast: "192.0.2.127"})
	a.must(t, ag, ocf.Monitor, px, ocf.Success)
	// The same VIP configured as /24 again: start replaces the /25.
	a.must(t, ag, ocf.Start, p, ocf.Success)
	wantAddr(t, l.addr(a, vip4), ipAddr{Family: "inet", Local: vip4, PrefixLen: 24, Label: "eth0", Broadcast: "192.0.2.255"})
	// Stop removes it whatever its prefix.
	a.must(t, ag, ocf.Stop, px, ocf.Success)
	wantAddr(t, l.addr(a, vip4))

	// A scope, as keepalived's virtual_ipaddress ... scope link.
	ps := map[string]string{"ip": vip4, "nic": "eth0", "cidr_netmask": "32", "scope": "link", "arp_count": "0"}
	a.must(t, ag, ocf.Start, ps, ocf.Success)
	if out := l.ip("-n", a.ns, "-o", "addr", "show", "dev", "eth0"); !strings.Contains(out, vip4+"/32 scope link") {
		t.Errorf("scope link: ip addr shows %q", out)
	}
	a.must(t, ag, ocf.Stop, ps, ocf.Success)

	// On loopback there is nobody to announce to (the LVS-DR style).
	plo := map[string]string{"ip": "192.0.2.60", "nic": "lo", "cidr_netmask": "32"}
	if out := a.must(t, ag, ocf.Start, plo, ocf.Success); !strings.Contains(out, "no announcements: lo has no ARP or NDP neighbours") {
		t.Errorf("start on lo: output %q", out)
	}
	a.must(t, ag, ocf.Monitor, plo, ocf.Success)
	a.must(t, ag, ocf.Stop, plo, ocf.Success)
	a.must(t, ag, ocf.Monitor, plo, ocf.NotRunning)

	// A nic this node lacks.
	pm := map[string]string{"ip": vip4, "nic": "eth9"}
	a.must(t, ag, ocf.Monitor, pm, ocf.NotRunning)
	a.must(t, ag, ocf.Stop, pm, ocf.Success)
	for _, act := range []string{ocf.ValidateAll, ocf.Start} {
		if out := a.must(t, ag, act, pm, ocf.ErrInstalled); !strings.Contains(out, `parameter nic="eth9": no such interface`) {
			t.Errorf("%s output %q", act, out)
		}
	}
}

// TestBadParamsOnNode: what only the node can tell is refused with
// ErrConfigured and the parameter named: no interface holds ip's subnet
// (nic), several do (nic), nic's subnets do not hold ip (cidr_netmask),
// a label that does not start with the found nic, a broadcast outside
// the subnet. Nothing is added.
func TestBadParamsOnNode(t *testing.T) {
	l := newLab(t, "bp")
	a := l.addHost("a", "192.0.2.1/24", "198.51.100.1/24")
	// A second interface in 198.51.100.0/24 (a veth pair inside A: the
	// dummy module may be missing).
	l.ip("-n", a.ns, "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p")
	l.ip("-n", a.ns, "addr", "add", "198.51.100.2/24", "dev", "eth1")
	l.ip("-n", a.ns, "link", "set", "eth1", "up")
	ag := New()
	for _, tc := range []struct {
		params map[string]string
		want   string
	}{
		{map[string]string{"ip": "203.0.113.7"}, "parameter nic is not set and no interface has an address in a subnet holding ip 203.0.113.7"},
		{map[string]string{"ip": "198.51.100.50"}, "parameter nic is not set and the subnet of ip 198.51.100.50 is on several interfaces (eth0, eth1)"},
		{map[string]string{"ip": "203.0.113.7", "nic": "eth0"}, "parameter cidr_netmask is not set and no address on eth0 has a subnet holding ip 203.0.113.7"},
		{map[string]string{"ip": vip4, "label": "eth1:x"}, `parameter label="eth1:x": must start with the nic name "eth0"`},
		{map[string]string{"ip": vip4, "broadcast": "198.51.100.255"}, `parameter broadcast="198.51.100.255": not in 192.0.2.0/24`},
		{map[string]string{"ip": vip4, "cidr_netmask": "33"}, `parameter cidr_netmask="33"`},
		{map[string]string{"ip": "192.0.2"}, `parameter ip="192.0.2"`},
		{map[string]string{}, "parameter ip is required"},
	} {
		for _, act := range []string{ocf.ValidateAll, ocf.Start} {
			if out := a.must(t, ag, act, tc.params, ocf.ErrConfigured); !strings.Contains(out, tc.want) {
				t.Errorf("%s %v: output %q lacks %q", act, tc.params, out, tc.want)
			}
		}
	}
	for _, ip := range []string{"203.0.113.7", "198.51.100.50", vip4} {
		if got := l.addr(a, ip); len(got) != 0 {
			t.Errorf("%s was added: %v", ip, got)
		}
	}
}

// TestLinkDown: monitor reports a VIP on a down link as a failure with
// the reason (administratively down; no carrier when the switch port is
// cut), start refuses such a link, stop still works.
func TestLinkDown(t *testing.T) {
	l := newLab(t, "ld")
	a := l.addHost("a", "192.0.2.1/24")
	ag := New()
	p := map[string]string{"ip": vip4, "nic": "eth0", "cidr_netmask": "24", "arp_count": "1"}
	a.must(t, ag, ocf.Start, p, ocf.Success)

	l.ip("-n", a.ns, "link", "set", "eth0", "down")
	if out := a.must(t, ag, ocf.Monitor, p, ocf.ErrGeneric); !strings.Contains(out, "interface eth0 is administratively down") {
		t.Errorf("monitor output %q", out)
	}
	if out := a.must(t, ag, ocf.Start, p, ocf.ErrGeneric); !strings.Contains(out, "administratively down") {
		t.Errorf("start output %q", out)
	}
	l.ip("-n", a.ns, "link", "set", "eth0", "up")
	a.must(t, ag, ocf.Monitor, p, ocf.Success)

	// Cut the cable: the kernel notes the lost carrier asynchronously
	// (linkwatch), so poll.
	l.ip("-n", l.sw(), "link", "set", l.port(a), "down")
	deadline := time.Now().Add(5 * time.Second)
	for {
		rc, out := a.run(t, ag, ocf.Monitor, p)
		if rc == ocf.ErrGeneric && strings.Contains(out, "no carrier") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("monitor with the port cut: rc %d %q, want %d and no carrier", rc, out, ocf.ErrGeneric)
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.must(t, ag, ocf.Start, p, ocf.ErrGeneric)
	a.must(t, ag, ocf.Stop, p, ocf.Success)
	wantAddr(t, l.addr(a, vip4))
	a.must(t, ag, ocf.Monitor, p, ocf.NotRunning)
}

// TestMoveIPv4 moves a VIP from A to B while C, a client, has A's MAC
// cached for it: B's gratuitous ARP switches C's entry to B's MAC with
// no traffic from C. It logs the time from entering start to the first
// gratuitous ARP written, and to its arrival at C.
func TestMoveIPv4(t *testing.T) {
	l := newLab(t, "m4")
	a := l.addHost("a", "192.0.2.1/24")
	b := l.addHost("b", "192.0.2.2/24")
	c := l.addHost("c", "192.0.2.3/24")
	var sent []Sent
	ag := New(WithSentHook(func(s Sent) { sent = append(sent, s) }))
	p := map[string]string{"ip": vip4}

	a.must(t, ag, ocf.Start, p, ocf.Success)
	l.touch(c, vip4, a.mac)
	a.must(t, ag, ocf.Stop, p, ocf.Success)
	if mac, _ := l.neigh(c, vip4); mac != a.mac {
		t.Fatalf("C's entry is %q before the move, want A's %s", mac, a.mac)
	}

	switched := l.watchNeigh(c, vip4, b.mac)
	arrived := l.capture(c, etherTypeARP, func(f []byte) bool {
		var pk arp.Packet
		return bytes.Equal(f[6:12], mustMAC(t, b.mac)) && pk.UnmarshalBinary(f[ethHeaderLen:]) == nil &&
			pk.SenderIP == netip.MustParseAddr(vip4) && pk.TargetIP == pk.SenderIP
	})
	sent = nil
	rc, out, entered, took := b.timed(t, ag, ocf.Start, p)
	if rc != ocf.Success {
		t.Fatalf("start on B: rc %d: %s", rc, out)
	}
	l.waitNeigh(c, vip4, b.mac, 3*time.Second)

	if len(sent) != 10 {
		t.Fatalf("sent %d frames, want 5 rounds of request and reply: %+v", len(sent), sent)
	}
	for i, s := range sent {
		if want := []string{kindARPRequest, kindARPReply}[i%2]; s.Kind != want || s.Round != i/2+1 {
			t.Errorf("frame %d: %s round %d, want %s round %d", i, s.Kind, s.Round, want, i/2+1)
		}
	}
	// (That the first round does not wait for arp_interval shows in
	// received: C's entry switches while start, 5 rounds long, still runs.)
	first := sent[0].At.Sub(entered)
	seen, sw := received(t, arrived, switched, entered, took)
	t.Logf("IPv4 move: from entering start on B: first gratuitous ARP written %v, received in C %v, C's neighbour entry on B's MAC %v; whole start (5 rounds 200ms apart) %v",
		first, seen, sw, took)
}

// TestMoveIPv6 is TestMoveIPv4 for an IPv6 VIP: B's unsolicited
// neighbour advertisement (override flag set) switches C's neighbour
// cache from A's MAC to B's. The kernel sends no advertisement of its
// own for a nodad address, and C checks the checksum, so this proves the
// frame we build.
func TestMoveIPv6(t *testing.T) {
	l := newLab(t, "m6")
	a := l.addHost("a", "2001:db8::1/64")
	b := l.addHost("b", "2001:db8::2/64")
	c := l.addHost("c", "2001:db8::3/64")
	var sent []Sent
	ag := New(WithSentHook(func(s Sent) { sent = append(sent, s) }))
	p := map[string]string{"ip": vip6}

	a.must(t, ag, ocf.Monitor, p, ocf.NotRunning)
	a.must(t, ag, ocf.Start, p, ocf.Success)
	wantAddr(t, l.addr(a, vip6), ipAddr{Family: "inet6", Local: vip6, PrefixLen: 64})
	a.must(t, ag, ocf.Monitor, p, ocf.Success)
	l.touch(c, vip6, a.mac)
	a.must(t, ag, ocf.Stop, p, ocf.Success)
	wantAddr(t, l.addr(a, vip6))
	a.must(t, ag, ocf.Monitor, p, ocf.NotRunning)

	switched := l.watchNeigh(c, vip6, b.mac)
	arrived := l.capture(c, etherTypeIPv6, func(f []byte) bool {
		m := f[ethHeaderLen+ipv6HeaderLen:]
		return len(f) >= ethHeaderLen+ipv6HeaderLen+naLen && bytes.Equal(f[6:12], mustMAC(t, b.mac)) &&
			f[ethHeaderLen+6] == protoICMPv6 && m[0] == icmpv6NeighAdv &&
			netip.AddrFrom16([16]byte(m[8:24])) == netip.MustParseAddr(vip6)
	})
	sent = nil
	rc, out, entered, took := b.timed(t, ag, ocf.Start, p)
	if rc != ocf.Success {
		t.Fatalf("start on B: rc %d: %s", rc, out)
	}
	l.waitNeigh(c, vip6, b.mac, 3*time.Second)
	if len(sent) != 5 || sent[0].Kind != kindNeighAdvert {
		t.Fatalf("sent %+v, want 5 neighbour advertisements", sent)
	}
	seen, sw := received(t, arrived, switched, entered, took)
	t.Logf("IPv6 move: from entering start on B: first neighbour advertisement written %v, received in C %v, C's neighbour entry on B's MAC %v; whole start (5 rounds 200ms apart) %v",
		sent[0].At.Sub(entered), seen, sw, took)
}

// received waits for C's capture of B's first announcement and for C's
// neighbour entry to switch, and returns both as times since start was
// entered. The entry must switch while start still runs: the first
// round does it, not the repeats.
func received(t *testing.T, arrived, switched <-chan time.Time, entered time.Time, took time.Duration) (seen, sw time.Duration) {
	t.Helper()
	select {
	case at := <-arrived:
		seen = at.Sub(entered)
	case <-time.After(time.Second):
		t.Error("C captured no announcement from B")
	}
	select {
	case at := <-switched:
		sw = at.Sub(entered)
	case <-time.After(time.Second):
		t.Error("C's neighbour entry never switched to B")
	}
	if sw >= took {
		t.Errorf("C's entry switched %v after start was entered, start took %v: the first round did not do it", sw, took)
	}
	return seen, sw
}

// In-process (WithBackground), start returns once round 1 is out and the
// other rounds follow in the background; a stop cancels them, so nothing
// announces the address after it is gone.
func TestBackgroundRepeats(t *testing.T) {
	l := newLab(t, "bg")
	b := l.addHost("b", "192.0.2.2/24")
	var mu sync.Mutex
	var sent []Sent
	frames := func() int { mu.Lock(); defer mu.Unlock(); return len(sent) }
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ag := New(WithBackground(ctx), WithSentHook(func(s Sent) { mu.Lock(); sent = append(sent, s); mu.Unlock() }))
	p := map[string]string{"ip": vip4, "arp_count": "4", "arp_interval": "300ms"}

	out := b.must(t, ag, ocf.Start, p, ocf.Success)
	if n := frames(); n != 2 {
		t.Fatalf("start returned after %d frames, want round 1 only (request and reply): %s", n, out)
	}
	deadline := time.Now().Add(5 * time.Second)
	for frames() < 8 {
		if time.Now().After(deadline) {
			t.Fatalf("the background rounds did not follow: %d frames", frames())
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	for i, s := range sent {
		if s.Round != i/2+1 {
			t.Errorf("frame %d is of round %d, want %d", i, s.Round, i/2+1)
		}
	}
	mu.Unlock()

	b.must(t, ag, ocf.Start, p, ocf.Success)
	b.must(t, ag, ocf.Stop, p, ocf.Success)
	after := frames()
	time.Sleep(900 * time.Millisecond) // three intervals
	if n := frames(); n != after {
		t.Fatalf("%d frames announced the address after its stop", n-after)
	}
}
