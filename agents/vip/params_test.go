package vip

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestParseConfig pins defaults and accepted forms of every parameter.
func TestParseConfig(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]string
		want   config
	}{
		{"defaults", map[string]string{"ip": "192.0.2.50"},
			config{IP: ip("192.0.2.50"), ARPCount: 5, ARPInterval: 200 * time.Millisecond}},
		{"all v4", map[string]string{"ip": "192.0.2.50", "cidr_netmask": "24", "nic": "eth0",
			"label": "eth0:vip", "broadcast": "192.0.2.255", "arp_count": "3", "arp_interval": "0.5"},
			config{IP: ip("192.0.2.50"), Prefix: 24, NIC: "eth0", Label: "eth0:vip",
				Broadcast: ip("192.0.2.255"), ARPCount: 3, ARPInterval: 500 * time.Millisecond}},
		{"dotted netmask", map[string]string{"ip": "192.0.2.50", "cidr_netmask": "255.255.255.128"},
			config{IP: ip("192.0.2.50"), Prefix: 25, ARPCount: 5, ARPInterval: 200 * time.Millisecond}},
		{"v6", map[string]string{"ip": "2001:db8::50", "cidr_netmask": "64", "arp_count": "0", "arp_interval": "1s"},
			config{IP: ip("2001:db8::50"), Prefix: 64, ARPCount: 0, ARPInterval: time.Second}},
		{"scope", map[string]string{"ip": "192.0.2.50", "scope": "link"},
			config{IP: ip("192.0.2.50"), Scope: 253, ARPCount: 5, ARPInterval: 200 * time.Millisecond}},
		{"numeric scope", map[string]string{"ip": "192.0.2.50", "scope": "200"},
			config{IP: ip("192.0.2.50"), Scope: 200, ARPCount: 5, ARPInterval: 200 * time.Millisecond}},
		{"empty values take defaults", map[string]string{"ip": "192.0.2.50", "nic": "", "arp_count": ""},
			config{IP: ip("192.0.2.50"), ARPCount: 5, ARPInterval: 200 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseConfig(tc.params)
			if err != nil {
				t.Fatalf("parseConfig: %v", err)
			}
			if *c != tc.want {
				t.Errorf("got %+v\nwant %+v", *c, tc.want)
			}
		})
	}
}

// TestParseConfigErrors: every bad value is refused with a message that
// names the parameter (and quotes the value), and all problems are
// reported at once.
func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]string
		want   []string // substrings of the error
	}{
		{"missing ip", map[string]string{}, []string{"parameter ip is required"}},
		{"bad ip", map[string]string{"ip": "192.0.2.300"}, []string{`parameter ip="192.0.2.300": not an IPv4 or IPv6 address`}},
		{"ip with prefix", map[string]string{"ip": "192.0.2.5/24"}, []string{`parameter ip="192.0.2.5/24"`, "cidr_netmask"}},
		{"ip with zone", map[string]string{"ip": "fe80::1%eth0"}, []string{`parameter ip="fe80::1%eth0"`, "zone"}},
		{"multicast ip", map[string]string{"ip": "224.0.0.18"}, []string{`parameter ip="224.0.0.18"`, "unicast"}},
		{"mapped ip", map[string]string{"ip": "::ffff:192.0.2.5"}, []string{`parameter ip="::ffff:192.0.2.5"`, "192.0.2.5"}},
		{"netmask too long v4", map[string]string{"ip": "192.0.2.5", "cidr_netmask": "33"}, []string{`parameter cidr_netmask="33"`, "1..32"}},
		{"netmask zero", map[string]string{"ip": "2001:db8::5", "cidr_netmask": "0"}, []string{`parameter cidr_netmask="0"`, "1..128"}},
		{"netmask junk", map[string]string{"ip": "192.0.2.5", "cidr_netmask": "/24"}, []string{`parameter cidr_netmask="/24"`}},
		{"netmask holes", map[string]string{"ip": "192.0.2.5", "cidr_netmask": "255.0.255.0"}, []string{`parameter cidr_netmask="255.0.255.0": not a contiguous netmask`}},
		{"dotted netmask v6", map[string]string{"ip": "2001:db8::5", "cidr_netmask": "255.255.255.0"}, []string{`parameter cidr_netmask="255.255.255.0"`, "IPv6"}},
		{"nic alias", map[string]string{"ip": "192.0.2.5", "nic": "eth0:1"}, []string{`parameter nic="eth0:1"`, "label=eth0:1"}},
		{"nic too long", map[string]string{"ip": "192.0.2.5", "nic": "abcdefghijklmnop"}, []string{`parameter nic="abcdefghijklmnop"`}},
		{"label not nic", map[string]string{"ip": "192.0.2.5", "nic": "eth0", "label": "eth1:vip"}, []string{`parameter label="eth1:vip": must start with the nic name "eth0"`}},
		{"label too long", map[string]string{"ip": "192.0.2.5", "label": "eth0:0123456789a"}, []string{`parameter label="eth0:0123456789a"`, "15"}},
		{"label v6", map[string]string{"ip": "2001:db8::5", "label": "eth0:vip"}, []string{`parameter label="eth0:vip"`, "IPv4"}},
		{"broadcast v6", map[string]string{"ip": "2001:db8::5", "broadcast": "192.0.2.255"}, []string{`parameter broadcast="192.0.2.255"`}},
		{"broadcast junk", map[string]string{"ip": "192.0.2.5", "broadcast": "x"}, []string{`parameter broadcast="x"`}},
		{"scope junk", map[string]string{"ip": "192.0.2.5", "scope": "planet"}, []string{`parameter scope="planet"`, "global, site, link, host, nowhere"}},
		{"scope too big", map[string]string{"ip": "192.0.2.5", "scope": "256"}, []string{`parameter scope="256"`}},
		{"arp_count junk", map[string]string{"ip": "192.0.2.5", "arp_count": "five"}, []string{`parameter arp_count="five"`}},
		{"arp_count negative", map[string]string{"ip": "192.0.2.5", "arp_count": "-1"}, []string{`parameter arp_count="-1"`}},
		{"arp_interval IPaddr2 style", map[string]string{"ip": "192.0.2.5", "arp_interval": "200"}, []string{`parameter arp_interval="200"`, "200ms"}},
		{"arp_interval zero", map[string]string{"ip": "192.0.2.5", "arp_interval": "0"}, []string{`parameter arp_interval="0"`}},
		{"arp_interval junk", map[string]string{"ip": "192.0.2.5", "arp_interval": "soon"}, []string{`parameter arp_interval="soon"`}},
		{"several at once", map[string]string{"ip": "nope", "cidr_netmask": "x", "arp_count": "y"},
			[]string{`parameter ip="nope"`, `parameter cidr_netmask="x"`, `parameter arp_count="y"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseConfig(tc.params)
			if err == nil {
				t.Fatal("parseConfig accepted it")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestPickNIC: the interface whose subnet holds ip, the VIP's own
// address not counted; an error naming nic and ip if none or several.
func TestPickNIC(t *testing.T) {
	addrs := []ifAddr{
		{"lo", pfx("127.0.0.1/8")},
		{"eth0", pfx("192.0.2.1/24")},
		{"eth1", pfx("198.51.100.1/24")},
		{"eth2", pfx("198.51.100.2/24")},
		{"eth2", pfx("198.51.100.7/32")},
	}
	for _, tc := range []struct {
		ip, want, err string
	}{
		{"192.0.2.50", "eth0", ""},
		{"198.51.100.7", "", "is on several interfaces (eth1, eth2)"}, // eth2 carrying the VIP does not count
		{"198.51.100.9", "", "parameter nic is not set and the subnet of ip 198.51.100.9 is on several interfaces (eth1, eth2)"},
		{"203.0.113.5", "", "parameter nic is not set and no interface has an address in a subnet holding ip 203.0.113.5"},
	} {
		got, err := pickNIC(ip(tc.ip), addrs)
		if got != tc.want || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("pickNIC(%s) = %q, %v; want %q, %q", tc.ip, got, err, tc.want, tc.err)
		}
	}
}

// TestPickPrefix: the longest of nic's subnets that holds ip.
func TestPickPrefix(t *testing.T) {
	addrs := []ifAddr{
		{"eth0", pfx("192.0.2.1/24")},
		{"eth0", pfx("192.0.2.129/25")},
		{"eth1", pfx("192.0.2.200/28")},
	}
	for _, tc := range []struct {
		ip   string
		want int
	}{{"192.0.2.50", 24}, {"192.0.2.200", 25}, {"192.0.2.129", 24}, {"203.0.113.1", 0}} {
		got, err := pickPrefix(ip(tc.ip), "eth0", addrs)
		if got != tc.want || (err == nil) != (tc.want != 0) {
			t.Errorf("pickPrefix(%s) = %d, %v; want %d", tc.ip, got, err, tc.want)
		}
		if err != nil && !strings.Contains(err.Error(), "parameter cidr_netmask is not set") {
			t.Errorf("error %q does not name cidr_netmask", err)
		}
	}
}

func ip(s string) netip.Addr    { return netip.MustParseAddr(s) }
func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
