package vip

import (
	"encoding/binary"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// What the tests observe in a host: addresses, neighbour entries,
// frames on the wire.

// ipAddr is an address as `ip -j addr` shows it.
type ipAddr struct {
	Family    string `json:"family"`
	Local     string `json:"local"`
	PrefixLen int    `json:"prefixlen"`
	Label     string `json:"label"`
	Broadcast string `json:"broadcast"`
}

// addrs lists eth0's addresses of a host.
func (l *lab) addrs(h *host) []ipAddr {
	l.t.Helper()
	var links []struct {
		AddrInfo []ipAddr `json:"addr_info"`
	}
	out := l.ip("-n", h.ns, "-j", "addr", "show", "dev", "eth0")
	if err := json.Unmarshal([]byte(out), &links); err != nil || len(links) != 1 {
		l.t.Fatalf("ip -j addr: %v: %s", err, out)
	}
	return links[0].AddrInfo
}

// addr returns the host's copies of one address.
func (l *lab) addr(h *host, ip string) []ipAddr {
	var out []ipAddr
	for _, a := range l.addrs(h) {
		if a.Local == ip {
			out = append(out, a)
		}
	}
	return out
}

// neigh is the host's neighbour entry for ip on eth0: its MAC and state
// ("" if none).
func (l *lab) neigh(h *host, ip string) (mac, state string) {
	l.t.Helper()
	var ns []struct {
		LLAddr string   `json:"lladdr"`
		State  []string `json:"state"`
	}
	out := l.ip("-n", h.ns, "-j", "neigh", "show", "to", ip, "dev", "eth0")
	if err := json.Unmarshal([]byte(out), &ns); err != nil {
		l.t.Fatalf("ip -j neigh: %v: %s", err, out)
	}
	if len(ns) == 0 {
		return "", ""
	}
	return ns[0].LLAddr, strings.Join(ns[0].State, ",")
}

// waitNeigh polls until the host's neighbour entry for ip has mac, for
// at most bound; it returns how long that took.
func (l *lab) waitNeigh(h *host, ip, mac string, bound time.Duration) time.Duration {
	l.t.Helper()
	start := time.Now()
	for {
		got, state := l.neigh(h, ip)
		if got == mac {
			return time.Since(start)
		}
		if time.Since(start) > bound {
			l.t.Fatalf("%s: neighbour %s is %q (%s) after %v, want %s", h.name, ip, got, state, bound, mac)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// touch makes the host resolve ip, as any client would on its first
// packet: it sends one UDP datagram to ip's discard port and waits for
// the neighbour entry to hold wantMAC.
func (l *lab) touch(h *host, ip, wantMAC string) {
	l.t.Helper()
	h.in(l.t, func() {
		c, err := net.Dial("udp", net.JoinHostPort(ip, "9"))
		if err != nil {
			l.t.Fatalf("%s: dial %s: %v", h.name, ip, err)
		}
		defer c.Close()
		if _, err := c.Write([]byte("who has it?")); err != nil {
			l.t.Fatalf("%s: send to %s: %v", h.name, ip, err)
		}
	})
	l.waitNeigh(h, ip, wantMAC, 3*time.Second)
}

// watchNeigh polls a host's neighbour entry for ip from a goroutine,
// through a netlink handle opened in the host's namespace, and delivers
// the time it first holds mac.
func (l *lab) watchNeigh(h *host, ip, mac string) <-chan time.Time {
	l.t.Helper()
	nsh, err := netns.GetFromName(h.ns)
	if err != nil {
		l.t.Fatalf("netns %s: %v", h.ns, err)
	}
	nh, err := netlink.NewHandleAt(nsh, unix.NETLINK_ROUTE)
	if err != nil {
		l.t.Fatalf("netlink in %s: %v", h.ns, err)
	}
	link, err := nh.LinkByName("eth0")
	if err != nil {
		l.t.Fatalf("%s: eth0: %v", h.name, err)
	}
	want := net.ParseIP(ip)
	ch := make(chan time.Time, 1)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			// A dump interrupted by a change is simply read again.
			ns, _ := nh.NeighList(link.Attrs().Index, netlink.FAMILY_ALL)
			for _, n := range ns {
				if n.IP.Equal(want) && n.HardwareAddr.String() == mac {
					ch <- time.Now()
					return
				}
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	l.t.Cleanup(func() { close(stop); <-done; nh.Close(); _ = nsh.Close() })
	return ch
}

// capture listens on a host's eth0 for frames of one EtherType and
// delivers the arrival time of the first that matches.
func (l *lab) capture(h *host, etherType int, match func([]byte) bool) <-chan time.Time {
	l.t.Helper()
	var conn *packet.Conn
	h.in(l.t, func() {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			l.t.Fatalf("%s: %v", h.name, err)
		}
		if conn, err = packet.Listen(ifi, packet.Raw, etherType, nil); err != nil {
			l.t.Fatalf("%s: capture: %v", h.name, err)
		}
	})
	ch := make(chan time.Time, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			n, _, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			if n >= ethHeaderLen && binary.BigEndian.Uint16(buf[12:14]) == uint16(etherType) && match(buf[:n]) {
				ch <- time.Now()
				return
			}
		}
	}()
	l.t.Cleanup(func() { _ = conn.Close(); <-done })
	return ch
}

// wantAddr compares a host's copies of an address with the expected ones.
func wantAddr(t *testing.T, got []ipAddr, want ...ipAddr) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("addresses %+v, want %+v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("address %+v, want %+v", got[i], want[i])
		}
	}
}

func mustMAC(t *testing.T, s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
