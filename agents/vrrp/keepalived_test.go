package vrrp

import (
	"context"
	"flag"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paceline/paceline/e2e"
)

var capture = flag.Bool("capture", false, "rewrite testdata/keepalived-*.txt with the adverts TestKeepalived captures (needs root and keepalived 2.2.7)")

// kaCase is one keepalived configuration: what its adverts must decode
// to, and the Expect of a peer configured like it.
type kaCase struct {
	name   string
	ipv6   bool
	conf   string
	want   Advert
	expect Expect
}

func keepalivedCases(t *testing.T) []kaCase {
	return []kaCase{{
		name: "v2-pass",
		conf: `global_defs {
    vrrp_version 2
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass secret12
    }
    virtual_ipaddress {
        192.0.2.50/24
        192.0.2.51/24
    }
}
`,
		want: Advert{Version: V2, VRID: 51, Priority: 100, Interval: 100, Addrs: addrs("192.0.2.50", "192.0.2.51"),
			AuthType: AuthPass, AuthData: pass(t, "secret12")},
		expect: Expect{VRID: 51, Version: V2, AuthType: AuthPass, AuthData: pass(t, "secret12"), Interval: 100},
	}, {
		name: "v3-ipv4",
		conf: `global_defs {
    vrrp_version 3
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 52
    priority 100
    advert_int 0.5
    virtual_ipaddress {
        192.0.2.60/24
    }
}
`,
		want:   Advert{Version: V3, VRID: 52, Priority: 100, Interval: 50, Addrs: addrs("192.0.2.60")},
		expect: Expect{VRID: 52, Version: V3},
	}, {
		name: "v3-ipv6",
		ipv6: true,
		conf: `global_defs {
    vrrp_version 3
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 53
    priority 100
    advert_int 0.5
    virtual_ipaddress {
        fe80::60/64
        2001:db8::60/64
    }
}
`,
		want:   Advert{Version: V3, VRID: 53, Priority: 100, Interval: 50, Addrs: addrs("fe80::60", "2001:db8::60")},
		expect: Expect{VRID: 53, Version: V3},
	}}
}

// TestKeepalived runs keepalived 2.2.7 in one namespace with each
// configuration (VRRPv2 with auth PASS, VRRPv3 over IPv4 and IPv6) and
// our Conn in the other:
//
//   - its adverts, once it is master, decode to its configuration
//     (golden packets; -capture saves one under testdata/);
//   - v2: ours with a higher priority but the wrong password are
//     ignored: it logs "received an invalid passwd", goes on sending as
//     master and keeps its addresses;
//   - ours with a higher priority (and the right password) make it
//     enter BACKUP and drop its addresses.
func TestKeepalived(t *testing.T) {
	e2e.RequireRoot(t)
	if _, err := os.Stat(keepalivedBin); err != nil {
		t.Skipf("needs keepalived at %s (Debian's keepalived package; CI has it): %v", keepalivedBin, err)
	}
	l := vrrpLab(t)
	for _, tc := range keepalivedCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			conn := listenIn(t, l, hostGo, Config{IPv6: tc.ipv6})
			k := startKeepalived(t, l, hostKA, tc.conf)
			master := k.waitLog(t, 0, "(VI_1) Entering MASTER STATE")
			waitFor(t, time.Minute, "keepalived's addresses "+addrList(tc.want.Addrs), func() bool {
				return len(addrsOf(t, l, hostKA, tc.want.Addrs)) == len(tc.want.Addrs)
			})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()

			// Golden: its adverts decode to its configuration.
			p, got := receiveAdvert(ctx, t, conn, tc.ipv6)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("keepalived's advert %x decodes to %+v\nwant %+v", p.Data, got, tc.want)
			}
			if err := tc.expect.Check(&got); err != nil {
				t.Errorf("a peer configured like keepalived drops its advert: %v", err)
			}
			if p.Dst != DefaultGroup(tc.ipv6) {
				t.Errorf("keepalived's advert went to %v", p.Dst)
			}
			t.Logf("keepalived's advert from %v: %v (%x)", p.Src, got.String(), p.Data)
			if *capture {
				g := golden{src: p.Src, dst: p.Dst, ttl: p.TTL, packet: p.Data, want: tc.want}
				comment := "Captured from keepalived 2.2.7 (Debian 12) in a test namespace by\n" +
					"`go test ./agents/vrrp -run TestKeepalived -capture` (root); its configuration:\n\n" + tc.conf
				if err := os.WriteFile("testdata/keepalived-"+tc.name+".txt", g.format(comment), 0o644); err != nil {
					t.Fatal(err)
				}
			}

			ours := tc.want
			ours.Priority = 200
			if tc.want.Version == V2 {
				wrong := ours
				wrong.AuthData = pass(t, "wrongpw")
				stop := sendEvery(t, conn, &wrong)
				at := k.waitLog(t, master, "received an invalid passwd")
				// Still master: it goes on advertising, and keeps its
				// addresses.
				for range 3 {
					receiveAdvert(ctx, t, conn, tc.ipv6)
				}
				stop()
				if b := k.lines(master, "Entering BACKUP STATE"); len(b) > 0 {
					t.Errorf("keepalived took a wrong password: %q", b)
				}
				if have := addrsOf(t, l, hostKA, tc.want.Addrs); len(have) != len(tc.want.Addrs) {
					t.Errorf("keepalived has only %v of its addresses after our wrong password", have)
				}
				t.Logf("wrong password: keepalived logged %q", k.lines(master, "invalid passwd")[0])
				master = at
			}

			stop := sendEvery(t, conn, &ours)
			k.waitLog(t, master, "(VI_1) Entering BACKUP STATE")
			waitFor(t, time.Minute, "keepalived dropping its addresses", func() bool {
				return len(addrsOf(t, l, hostKA, tc.want.Addrs)) == 0
			})
			stop()
			for _, ln := range k.lines(0, "(VI_1)") {
				t.Logf("keepalived: %s", ln)
			}
		})
	}
}

// receiveAdvert returns the next packet and its advert; keepalived's
// adverts are all this lab carries, so a drop fails the test.
func receiveAdvert(ctx context.Context, t *testing.T, c *Conn, ipv6 bool) (Packet, Advert) {
	t.Helper()
	p, err := c.Receive(ctx)
	if err != nil {
		t.Fatalf("receive keepalived's advert: %v", err)
	}
	a, err := p.Parse()
	if err != nil {
		t.Fatalf("keepalived's packet from %v to %v (TTL %d) %x dropped: %v", p.Src, p.Dst, p.TTL, p.Data, err)
	}
	want := netip.MustParseAddr(addrKA)
	if ipv6 && !p.Src.IsLinkLocalUnicast() || !ipv6 && p.Src != want {
		t.Errorf("keepalived's advert from %v", p.Src)
	}
	return p, a
}

// sendEvery sends the advert now and then every interval from c until
// the returned stop is called (or the test ends).
func sendEvery(t *testing.T, c *Conn, a *Advert) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(a.Interval.Duration())
		defer tick.Stop()
		for {
			if err := c.Send(a, netip.Addr{}); err != nil {
				t.Errorf("send %v: %v", a.String(), err)
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	stop = func() { cancel(); wg.Wait() }
	t.Cleanup(stop)
	return stop
}

// addrsOf returns which of addrs the host's eth0 has.
func addrsOf(t *testing.T, l *e2e.Lab, host string, addrs []netip.Addr) []netip.Addr {
	var have []netip.Addr
	for _, line := range strings.Split(run(t, "ip", "-n", l.NS(host), "-o", "addr", "show", "dev", "eth0"), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		if p, err := netip.ParsePrefix(f[3]); err == nil && slices.Contains(addrs, p.Addr()) {
			have = append(have, p.Addr())
		}
	}
	return have
}

func addrList(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}
