package kaconf

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

// instanceConf wraps directives into an instance VI that is valid without
// them; top comes before it.
func instanceConf(top, body string) string {
	return top + `
vrrp_instance VI {
    interface eth0
    virtual_router_id 1
    virtual_ipaddress {
        192.0.2.1/24
    }
` + body + "\n}\n"
}

type directiveCase struct {
	name      string
	top, body string // instanceConf's arguments
	conf      string // the whole configuration instead
	check     func(*Config) any
	want      any
	warn      string // a warning must contain it ("" : no warning)
	err       string // the error must contain it
}

func runDirectiveCases(t *testing.T, cases []directiveCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conf := tc.conf
			if conf == "" {
				conf = instanceConf(tc.top, tc.body)
			}
			c, warns, err := ParseReader("t.conf", strings.NewReader(conf), Options{ConfigID: "n1"})
			if !checkOutcome(t, err, tc.err, warns, tc.warn) {
				return
			}
			if tc.check != nil {
				if got := tc.check(c); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("got %#v, want %#v", got, tc.want)
				}
			}
		})
	}
}

// checkOutcome checks an error against wantErr (a part of it; "": no
// error) and the warnings against wantWarn (a part of them, one a line;
// "": none). It reports whether there is a result to check.
func checkOutcome(t *testing.T, err error, wantErr string, warns []Warning, wantWarn string) bool {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("error %v, want %q", err, wantErr)
		}
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	var ws []string
	for _, w := range warns {
		ws = append(ws, w.String())
	}
	if all := strings.Join(ws, "\n"); wantWarn == "" && all != "" || !strings.Contains(all, wantWarn) {
		t.Errorf("warnings:\n%s\nwant %q", all, wantWarn)
	}
	return true
}

func vi(c *Config) *Instance { return c.Instance("VI") }

func TestInstanceDirectives(t *testing.T) {
	runDirectiveCases(t, []directiveCase{
		{name: "defaults", check: func(c *Config) any {
			in := vi(c)
			return []any{in.Version, in.Family, in.State, in.Priority, in.AdvertInterval, in.Preempt, in.Accept, in.Strict, in.McastGroup, in.GARP}
		}, want: []any{2, 4, StateBackup, uint8(100), time.Second, true, true, false, netip.MustParseAddr("224.0.0.18"), defaultGARP()}},
		{name: "state MASTER makes priority 255", body: "state MASTER", check: func(c *Config) any { return vi(c).Priority }, want: uint8(255)},
		{name: "priority 255 makes state MASTER", body: "priority 255", check: func(c *Config) any { return vi(c).State }, want: StateMaster},
		{name: "state and priority", body: "state MASTER\npriority 150", check: func(c *Config) any { return []any{vi(c).State, vi(c).Priority} }, want: []any{StateMaster, uint8(150)}},
		{name: "BACKUP after MASTER", body: "state MASTER\nstate BACKUP", check: func(c *Config) any { return vi(c).State }, want: StateMaster, warn: "state BACKUP after state MASTER ignored"},
		{name: "bad state", body: "state master", err: `t.conf:8: vrrp_instance VI: state must be MASTER or BACKUP, not "master"`},
		{name: "priority range", body: "priority 256", err: "t.conf:8: vrrp_instance VI: priority must be between 1 and 255"},
		{name: "priority not a number", body: "priority high", err: `invalid number "high"`},
		{name: "priority missing", body: "priority", err: "priority needs 1 argument"},
		{name: "extra words", body: "priority 120 130", check: func(c *Config) any { return vi(c).Priority }, want: uint8(120), warn: "t.conf:8: vrrp_instance VI: priority: extra words ignored: 130"},
		{name: "directive with a block", body: "priority 120 {\n}", err: "priority takes no { } block"},
		{name: "vrid range", conf: "vrrp_instance VI {\ninterface eth0\nvirtual_router_id 0\nvirtual_ipaddress {\n192.0.2.1\n}\n}\n", err: "virtual_router_id must be between 1 and 255"},
		{name: "vrid missing", conf: "vrrp_instance VI {\ninterface eth0\nvirtual_ipaddress {\n192.0.2.1\n}\n}\n", err: "t.conf:1: vrrp_instance VI: virtual_router_id is not set"},
		{name: "instance without name", conf: "vrrp_instance {\n}\n", err: "vrrp_instance needs 1 argument"},
		{name: "instance with two names", conf: "vrrp_instance A B {\n}\n", err: "unexpected words before its block: B"},
		{name: "interface name too long", body: "interface abcdefghijklmnop", err: "longer than 15 bytes"},
		{name: "no interface", conf: "vrrp_instance VI {\nvirtual_router_id 1\nvirtual_ipaddress {\n192.0.2.1\n}\n}\n", err: "interface is not set"},
		{name: "unicast without interface", conf: "vrrp_instance VI {\nvirtual_router_id 1\nunicast_src_ip 192.0.2.2\nunicast_peer {\n192.0.2.3\n}\nvirtual_ipaddress {\n192.0.2.1\n}\n}\n",
			check: func(c *Config) any { return vi(c).Interface }, want: ""},
		{name: "advert_int", body: "advert_int 3", check: func(c *Config) any { return vi(c).AdvertInterval }, want: 3 * time.Second},
		{name: "advert_int v2 rounds", body: "advert_int 0.4", check: func(c *Config) any { return vi(c).AdvertInterval }, want: time.Second, warn: "advert_int 0.4 rounded to 1 for VRRP version 2"},
		{name: "advert_int v3 fraction", body: "version 3\nadvert_int 0.35", check: func(c *Config) any { return vi(c).AdvertInterval }, want: 350 * time.Millisecond},
		{name: "advert_int v3 rounds", body: "version 3\nadvert_int 0.355", check: func(c *Config) any { return vi(c).AdvertInterval }, want: 360 * time.Millisecond, warn: "rounded to 0.36"},
		{name: "advert_int v3 too long", body: "version 3\nadvert_int 41", check: func(c *Config) any { return vi(c).AdvertInterval }, want: 40950 * time.Millisecond, warn: "too long"},
		{name: "advert_int too small", body: "advert_int 0.001", err: "outside [0.01, 255]"},
		{name: "advert_int too many decimals", body: "version 3\nadvert_int 0.1234567", err: "more than 6 decimal places"},
		{name: "global version", top: "global_defs {\nvrrp_version 3\n}", check: func(c *Config) any { return vi(c).Version }, want: 3},
		{name: "instance version wins", top: "global_defs {\nvrrp_version 3\n}", body: "version 2", check: func(c *Config) any { return vi(c).Version }, want: 2},
		{name: "version conflict", body: "version 3\nversion 2", check: func(c *Config) any { return vi(c).Version }, want: 3, warn: "version 2 conflicts with version 3"},
		{name: "bad version", body: "version 4", err: "version must be 2 or 3"},
		{name: "auth PASS", body: "authentication {\nauth_type PASS\nauth_pass secret\n}", check: func(c *Config) any { return vi(c).AuthPass }, want: "secret"},
		{name: "auth AH", body: "authentication {\nauth_type AH\nauth_pass secret\n}", check: func(c *Config) any { return vi(c).AuthPass }, want: "", warn: "auth_type AH (IPsec AH) is not supported"},
		{name: "auth v3", body: "version 3\nauthentication {\nauth_type PASS\nauth_pass secret\n}", check: func(c *Config) any { return vi(c).AuthPass }, want: "", warn: "VRRP version 3 has no authentication"},
		{name: "auth without pass", body: "authentication {\nauth_type PASS\n}", check: func(c *Config) any { return vi(c).AuthPass }, want: "", warn: "without auth_pass"},
		{name: "auth pass cut", body: "authentication {\nauth_type PASS\nauth_pass 123456789\n}", check: func(c *Config) any { return vi(c).AuthPass }, want: "12345678", warn: "cut to its first 8"},
		{name: "auth bad type", body: "authentication {\nauth_type NONE\n}", err: "auth_type must be PASS or AH"},
		{name: "auth without block", body: "authentication", err: "authentication needs a { } block"},
		{name: "auth unknown", body: "authentication {\nauth_typ PASS\n}", warn: `vrrp_instance VI: authentication: unknown keyword "auth_typ"; ignored`},
		{name: "nopreempt", body: "nopreempt", check: func(c *Config) any { return vi(c).Preempt }, want: false},
		{name: "preempt after nopreempt", body: "nopreempt\npreempt", check: func(c *Config) any { return vi(c).Preempt }, want: true},
		{name: "nopreempt with MASTER", body: "state MASTER\npriority 150\nnopreempt", check: func(c *Config) any { return vi(c).Preempt }, want: true, warn: "nopreempt does not work with state MASTER"},
		{name: "nopreempt with 255", body: "priority 255\nnopreempt", check: func(c *Config) any { return vi(c).Preempt }, want: true, warn: "nopreempt does not work with priority 255"},
		{name: "preempt_delay", body: "preempt_delay 1.5", check: func(c *Config) any { return vi(c).PreemptDelay }, want: 1500 * time.Millisecond},
		{name: "preempt_delay with nopreempt", body: "nopreempt\npreempt_delay 3", check: func(c *Config) any { return vi(c).PreemptDelay }, want: time.Duration(0), warn: "preempt_delay does not work with nopreempt"},
		{name: "preempt_delay range", body: "preempt_delay 1001", err: "outside [0, 1000]"},
		{name: "vip options", body: "virtual_ipaddress {\n192.0.2.2/24 dev eth1 label eth1:x scope link brd 192.0.2.255 no_track\n192.0.2.3\n}",
			check: func(c *Config) any { return vi(c).VIPs[1:] },
			want: []VIP{
				{Prefix: netip.MustParsePrefix("192.0.2.2/24"), Dev: "eth1", Label: "eth1:x", Scope: "link", Broadcast: netip.MustParseAddr("192.0.2.255"), NoTrack: true},
				{Prefix: netip.MustParsePrefix("192.0.2.3/32")},
			}},
		{name: "vip brd on /32", body: "virtual_ipaddress {\n192.0.2.3 brd -\n}", err: "prefix /32 is too long for a broadcast address"},
		{name: "vip brd plus", body: "virtual_ipaddress {\n192.0.2.130/25 brd +\n10.1.2.3/8 brd -\n}",
			check: func(c *Config) any { return []netip.Addr{vi(c).VIPs[1].Broadcast, vi(c).VIPs[2].Broadcast} },
			want:  []netip.Addr{netip.MustParseAddr("192.0.2.255"), netip.MustParseAddr("10.0.0.0")}},
		{name: "vip scope global is the default", body: "virtual_ipaddress {\n192.0.2.2 scope global\n192.0.2.3 scope 200\n}",
			check: func(c *Config) any { return []string{vi(c).VIPs[1].Scope, vi(c).VIPs[2].Scope} }, want: []string{"", "200"}},
		{name: "vip bad scope", body: "virtual_ipaddress {\n192.0.2.2 scope planet\n}", err: `unknown scope "planet"`},
		{name: "vip option without value", body: "virtual_ipaddress {\n192.0.2.2 dev\n}", err: "dev without a value"},
		{name: "vip two per line", body: "virtual_ipaddress {\n192.0.2.2 192.0.2.3\n}", err: `t.conf:9: vrrp_instance VI: virtual_ipaddress 192.0.2.2: unknown option "192.0.2.3" (one address a line)`},
		{name: "vip bad prefix", body: "virtual_ipaddress {\n192.0.2.2/33\n}", err: "invalid prefix length"},
		{name: "vip zone", body: "virtual_ipaddress {\nfe80::1%eth0\n}", err: "invalid IP address"},
		{name: "vip unsupported option", body: "virtual_ipaddress {\n192.0.2.2 home\n}", warn: "192.0.2.2: home is not supported; ignored"},
		{name: "vip ipv6 label", conf: "vrrp_instance VI {\ninterface eth0\nvirtual_router_id 1\nvirtual_ipaddress {\nfe80::1/64 label eth0:1 scope link\n}\n}\n",
			check: func(c *Config) any { return vi(c).VIPs[0] }, want: VIP{Prefix: netip.MustParsePrefix("fe80::1/64")}, warn: "label is not used with IPv6"},
		{name: "vip ipv6 brd", conf: "vrrp_instance VI {\ninterface eth0\nvirtual_router_id 1\nvirtual_ipaddress {\nfe80::1/64 brd +\n}\n}\n", err: "IPv6 addresses have no broadcast"},
		{name: "vip families", body: "virtual_ipaddress {\n2001:db8::1\n}", err: "virtual_ipaddress 2001:db8::1 is IPv6, but the instance is IPv4 (from virtual_ipaddress 192.0.2.1/24 at t.conf:6)"},
		{name: "excluded may mix", body: "virtual_ipaddress_excluded {\n2001:db8::1\n192.0.2.9\n}", check: func(c *Config) any { return len(vi(c).ExcludedVIPs) }, want: 2},
		{name: "ipv6 gets version 3", conf: "vrrp_instance VI {\ninterface eth0\nvirtual_router_id 1\nvirtual_ipaddress {\nfe80::1/64\n}\n}\n",
			check: func(c *Config) any { return []any{vi(c).Version, vi(c).Family, vi(c).McastGroup} }, want: []any{3, 6, netip.MustParseAddr("ff02::12")}},
		{name: "ipv6 first vip not link-local", conf: "vrrp_instance VI {\ninterface eth0\nvirtual_router_id 1\nvirtual_ipaddress {\n2001:db8::1/64\n}\n}\n", warn: "should be link-local"},
		{name: "native_ipv6 on ipv4", body: "native_ipv6", err: "native_ipv6 is IPv6, but the instance is IPv4"},
		{name: "no vips v2", conf: "vrrp_instance VI {\ninterface eth0\nvirtual_router_id 1\n}\n", warn: "no virtual_ipaddress; at least one is sensible"},
		{name: "no vips v3", conf: "vrrp_instance VI {\ninterface eth0\nvirtual_router_id 1\nversion 3\n}\n", err: "no virtual_ipaddress; version 3"},
		{name: "unicast", body: "unicast_src_ip 192.0.2.2\nunicast_peer {\n192.0.2.3\n192.0.2.4 min_ttl 64\n}",
			check: func(c *Config) any { return []any{vi(c).SrcIP, vi(c).UnicastPeers, vi(c).McastGroup} },
			want:  []any{netip.MustParseAddr("192.0.2.2"), []netip.Addr{netip.MustParseAddr("192.0.2.3"), netip.MustParseAddr("192.0.2.4")}, netip.Addr{}},
			warn:  "unicast_peer 192.0.2.4: min_ttl 64 is not supported"},
		{name: "unicast_src_ip without peers", body: "unicast_src_ip 192.0.2.2", check: func(c *Config) any { return vi(c).McastGroup }, want: netip.MustParseAddr("224.0.0.18"), warn: "unicast_src_ip without unicast peers: the instance multicasts"},
		{name: "peer with prefix", body: "unicast_peer {\n192.0.2.3/24\n}", warn: `unicast_peer: "/24" after the address ignored`},
		{name: "peer family", body: "unicast_peer {\n2001:db8::3\n}", err: "unicast_peer 2001:db8::3 is IPv6"},
		{name: "mcast_src_ip", body: "mcast_src_ip 192.0.2.2", check: func(c *Config) any { return vi(c).SrcIP }, want: netip.MustParseAddr("192.0.2.2")},
		{name: "mcast_dst_ip", body: "mcast_dst_ip 224.0.0.99", check: func(c *Config) any { return vi(c).McastGroup }, want: netip.MustParseAddr("224.0.0.99")},
		{name: "mcast_dst_ip not multicast", body: "mcast_dst_ip 192.0.2.2", err: "not a (link-local) multicast address"},
		{name: "global mcast group", top: "global_defs {\nvrrp_mcast_group4 224.0.0.50\n}", check: func(c *Config) any { return vi(c).McastGroup }, want: netip.MustParseAddr("224.0.0.50")},
		{name: "track_interface", body: "track_interface {\neth1\neth2 weight -20 reverse\n}",
			check: func(c *Config) any { return vi(c).TrackInterfaces },
			want:  []TrackInterface{{Name: "eth1"}, {Name: "eth2", Weight: -20, Reverse: true}}},
		{name: "track_interface own", body: "track_interface {\neth0\n}", check: func(c *Config) any { return len(vi(c).TrackInterfaces) }, want: 0, warn: "own interface"},
		{name: "track_interface duplicate", body: "track_interface {\neth1\neth1 weight 3\n}", check: func(c *Config) any { return vi(c).TrackInterfaces }, want: []TrackInterface{{Name: "eth1"}}, warn: "given twice"},
		{name: "track_interface bad option", body: "track_interface {\neth1 wait 3\n}", err: `track_interface eth1: unknown option "wait"`},
		{name: "track_interface weight range", body: "track_interface {\neth1 weight 300\n}", err: "weight must be between -253 and 253"},
		{name: "track_interface weight 254", body: "track_interface {\neth1 weight -254\n}", check: func(c *Config) any { return vi(c).TrackInterfaces[0].Weight }, want: -253, warn: "weight -254 is set to -253"},
		{name: "track_script weights", top: "vrrp_script s1 {\nscript /bin/true\nweight -10\n}\nvrrp_script s2 {\nscript /bin/true\nweight 5 reverse\n}",
			body:  "track_script {\ns1\ns2 weight 7 noreverse\n}",
			check: func(c *Config) any { return vi(c).TrackScripts },
			want:  []TrackScript{{Name: "s1", Weight: -10}, {Name: "s2", Weight: 7}}},
		{name: "track_script weight without value", top: "vrrp_script s1 {\nscript /bin/true\n}", body: "track_script {\ns1 weight\n}", err: "weight without a value"},
		{name: "track_script unknown", body: "track_script {\nnope\n}", err: "t.conf:9: vrrp_instance VI: track_script nope: there is no vrrp_script nope"},
		{name: "track_script defined later", conf: instanceConf("", "track_script {\ns\n}") + "vrrp_script s {\nscript /bin/true\n}\n", err: "vrrp_script s is defined below, at t.conf:12"},
		{name: "notify commands", body: `notify_master "/x.sh master 'a b'" ka_user ka_group
notify_backup /x.sh
notify_fault "/x.sh fault"
notify_stop '/x.sh stop'
notify "/x.sh \"q\""`,
			check: func(c *Config) any { return vi(c).Notify },
			want: Notify{
				Master: &Command{Args: []string{"/x.sh", "master", "a b"}, User: "ka_user", Group: "ka_group"},
				Backup: &Command{Args: []string{"/x.sh"}},
				Fault:  &Command{Args: []string{"/x.sh", "fault"}},
				Stop:   &Command{Args: []string{"/x.sh", "stop"}},
				// keepalived reads the command twice: the quotes go in the second reading
				Any: &Command{Args: []string{"/x.sh", "q"}},
			}},
		{name: "notify twice", body: "notify_master /a.sh\nnotify_master /b.sh", check: func(c *Config) any { return vi(c).Notify.Master.Args }, want: []string{"/a.sh"}, warn: "notify_master given again; the first one is kept"},
		{name: "notify unquoted argument", body: "notify_master /x.sh --force", err: `"--force" is taken as the user or group`},
		{name: "notify empty", body: `notify_master ""`, err: "no command given"},
		{name: "notify unterminated single quote", body: `notify_master "/x.sh 'a"`, err: "missing terminating '"},
		{name: "garp", top: "global_defs {\nvrrp_garp_master_delay 2\nvrrp_garp_master_refresh 60\n}", body: "garp_master_repeat 3\ngarp_master_refresh_repeat 2",
			check: func(c *Config) any { return vi(c).GARP },
			want:  GARP{MasterDelay: 2 * time.Second, MasterRepeat: 3, MasterRefresh: time.Minute, MasterRefreshRepeat: 2}},
		{name: "garp globals after the instance do not count", conf: instanceConf("", "") + "global_defs {\nvrrp_garp_master_delay 2\n}\n",
			check: func(c *Config) any { return []time.Duration{vi(c).GARP.MasterDelay, c.Globals.GARP.MasterDelay} }, want: []time.Duration{5 * time.Second, 2 * time.Second}},
		{name: "vrrp_min_garp", top: "global_defs {\nvrrp_garp_master_refresh_repeat 3\nvrrp_min_garp\n}",
			check: func(c *Config) any { return vi(c).GARP }, want: GARP{MasterRepeat: 1, MasterRefreshRepeat: 3}},
		{name: "dont_track_primary", body: "dont_track_primary", check: func(c *Config) any { return vi(c).DontTrackPrimary }, want: true},
		{name: "no_accept", body: "no_accept", check: func(c *Config) any { return vi(c).Accept }, want: false},
		{name: "strict", top: "global_defs {\nvrrp_strict\n}", body: "state BACKUP",
			check: func(c *Config) any { return []any{vi(c).Strict, vi(c).Accept} }, want: []any{true, false}},
		{name: "strict owner accepts", top: "global_defs {\nvrrp_strict\n}", body: "priority 255",
			check: func(c *Config) any { return []any{vi(c).Strict, vi(c).Accept, vi(c).State} }, want: []any{true, true, StateMaster}},
		{name: "strict_mode off", top: "global_defs {\nvrrp_strict\n}", body: "strict_mode off", check: func(c *Config) any { return vi(c).Strict }, want: false},
		{name: "strict_mode bad", body: "strict_mode maybe", err: `"maybe" is not one of on|off`},
		{name: "strict MASTER below 255", body: "strict_mode\nstate MASTER\npriority 100", check: func(c *Config) any { return vi(c).State }, want: StateBackup, warn: "strict mode: state MASTER goes with priority 255"},
		{name: "strict auth", body: "strict_mode\nauthentication {\nauth_type PASS\nauth_pass x\n}", check: func(c *Config) any { return vi(c).AuthPass }, want: "", warn: "strict mode does not allow authentication"},
		{name: "strict unicast", body: "strict_mode\nunicast_peer {\n192.0.2.3\n}", err: "unicast peers are not allowed in strict mode"},
		{name: "strict accept v2", body: "strict_mode\naccept", check: func(c *Config) any { return vi(c).Accept }, want: false, warn: "accept does not comply with RFC 3768"},
		{name: "strict preempt_delay", body: "strict_mode\npreempt_delay 5", check: func(c *Config) any { return vi(c).PreemptDelay }, want: time.Duration(0), warn: "strict mode does not allow preempt_delay"},
		{name: "smtp_alert off is quiet", body: "smtp_alert off"},
		{name: "unsupported", body: "use_vmac vrrp1\ntrack_file {\nf1\n}", warn: "t.conf:9: vrrp_instance VI: track_file is not supported; block skipped"},
		{name: "unknown", body: "priorty 100", warn: `t.conf:8: vrrp_instance VI: unknown keyword "priorty"; ignored`},
		{name: "duplicate name", conf: instanceConf("", "") + "vrrp_instance VI {\n}\n", err: "t.conf:10: vrrp_instance VI is already defined at t.conf:2"},
		{name: "too many vips", body: "virtual_ipaddress {\n" + manyVIPs(300) + "}",
			check: func(c *Config) any { return []int{len(vi(c).VIPs), len(vi(c).ExcludedVIPs)} }, want: []int{255, 46}, warn: "301 virtual addresses do not fit"},
	})
}

func manyVIPs(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(netip.AddrFrom4([4]byte{10, 0, byte(i / 250), byte(1 + i%250)}).String() + "\n")
	}
	return b.String()
}

func TestScriptDirectives(t *testing.T) {
	script := func(body string) string {
		return "vrrp_script s {\n" + body + "\n}\n"
	}
	s := func(c *Config) *Script { return c.Script("s") }
	runDirectiveCases(t, []directiveCase{
		{name: "defaults", conf: script("script /bin/true"), check: func(c *Config) any { return *s(c) },
			want: Script{Name: "s", Pos: Pos{"t.conf", 1}, Command: Command{Args: []string{"/bin/true"}}, Interval: time.Second, Timeout: time.Second, Rise: 1, Fall: 1}},
		{name: "all", conf: script("script \"/bin/check 'a b'\"\ninterval 5\ntimeout 2\nweight -30 reverse\nrise 3\nfall 4\nuser nobody nogroup\ninit_fail"),
			check: func(c *Config) any { return *s(c) },
			want: Script{Name: "s", Pos: Pos{"t.conf", 1}, Command: Command{Args: []string{"/bin/check", "a b"}, User: "nobody", Group: "nogroup"},
				Interval: 5 * time.Second, Timeout: 2 * time.Second, Weight: -30, Reverse: true, Rise: 3, Fall: 4, InitFail: true}},
		{name: "timeout follows interval", conf: script("script /bin/true\ninterval 4"), check: func(c *Config) any { return s(c).Timeout }, want: 4 * time.Second},
		{name: "unquoted arguments", conf: script("script /usr/bin/pgrep nginx"), check: func(c *Config) any { return s(c).Command.Args }, want: []string{"/usr/bin/pgrep"},
			warn: `script: words after the command are ignored, as keepalived does: nginx; quote the command to give it arguments: script "/usr/bin/pgrep nginx"`},
		{name: "interval 0", conf: script("script /bin/true\ninterval 0"), check: func(c *Config) any { return s(c).Interval }, want: time.Second, warn: "interval must be greater than 0"},
		{name: "interval fraction", conf: script("script /bin/true\ninterval 1.5"), err: "interval must be whole seconds"},
		{name: "weight range", conf: script("script /bin/true\nweight 254"), err: "weight must be between -253 and 253"},
		{name: "rise 0", conf: script("script /bin/true\nrise 0"), err: "rise must be at least 1"},
		{name: "bad user", conf: script("script /bin/true\nuser 'x y'"), err: "is not a valid user or group name"},
		{name: "no script", conf: script("interval 1"), err: "t.conf:1: vrrp_script s: no script given"},
		{name: "duplicate", conf: script("script /bin/true") + script("script /bin/false"), err: "t.conf:4: vrrp_script s is already defined at t.conf:1"},
		{name: "unknown", conf: script("script /bin/true\nfalls 3"), warn: `vrrp_script s: unknown keyword "falls"; ignored`},
	})
}

func TestGlobalDirectives(t *testing.T) {
	g := func(body string) string { return "global_defs {\n" + body + "\n}\n" }
	runDirectiveCases(t, []directiveCase{
		{name: "all", conf: g("router_id r1\nvrrp_version 3\nvrrp_mcast_group4 224.0.0.19\nvrrp_mcast_group6 ff02::13\nvrrp_garp_interval 0.001\nvrrp_gna_interval 0.002\nscript_user ka ka_group\nenable_script_security\nvrrp_strict"),
			check: func(c *Config) any { return c.Globals },
			want: Globals{RouterID: "r1", VRRPVersion: 3, McastGroup4: netip.MustParseAddr("224.0.0.19"), McastGroup6: netip.MustParseAddr("ff02::13"),
				GARP: defaultGARP(), GARPInterval: time.Millisecond, GNAInterval: 2 * time.Millisecond, ScriptUser: "ka", ScriptGroup: "ka_group",
				EnableScriptSecurity: true, Strict: true}},
		{name: "mcast4 not multicast", conf: g("vrrp_mcast_group4 192.0.2.1"), err: "is not a multicast address"},
		{name: "mcast4 is v6", conf: g("vrrp_mcast_group4 ff02::1"), err: "is not an IPv4 address"},
		{name: "mcast6 not link-local", conf: g("vrrp_mcast_group6 ff05::12"), warn: "should be a link-local multicast address"},
		{name: "garp repeat 0", conf: g("vrrp_garp_master_repeat 0"), check: func(c *Config) any { return c.Globals.GARP.MasterRepeat }, want: 1, warn: "must be greater than 0"},
		{name: "vrrp_version", conf: g("vrrp_version 1"), err: "vrrp_version must be 2 or 3"},
		{name: "unsupported", conf: g("notification_email {\na@b\n}\nenable_snmp_vrrp\ndynamic_interfaces"),
			warn: "t.conf:2: global_defs: notification_email (email alerts) is not supported; block skipped\nt.conf:5: global_defs: enable_snmp_vrrp (SNMP) is not supported; ignored\nt.conf:6: global_defs: dynamic_interfaces is not supported; ignored"},
		{name: "top-level unsupported", conf: "virtual_server 192.0.2.1 80 {\nreal_server 192.0.2.2 80 {\n}\n}\nnet_namespace blue\n",
			warn: "t.conf:1: virtual_server (LVS) is not supported; block skipped\nt.conf:5: net_namespace is not supported; ignored"},
		{name: "top-level unknown", conf: "vrrp_instanse X {\n}\nfoo\n", warn: "t.conf:1: unknown keyword \"vrrp_instanse\"; block skipped\nt.conf:3: unknown keyword \"foo\"; ignored"},
		{name: "global_defs without block", conf: "global_defs\n", err: "global_defs needs a { } block"},
	})
}

func TestSyncGroupDirectives(t *testing.T) {
	two := `
vrrp_script s {
    script /bin/true
    weight -10
}
vrrp_instance A {
    interface eth0
    virtual_router_id 1
    virtual_ipaddress {
        192.0.2.1
    }
    track_script {
        s
    }
    track_interface {
        eth1 weight 5
    }
}
vrrp_instance B {
    interface eth0
    virtual_router_id 2
    virtual_ipaddress {
        192.0.2.2
    }
}
`
	runDirectiveCases(t, []directiveCase{
		{name: "members", conf: two + "vrrp_sync_group G {\ngroup { A B }\nnotify_master \"/g.sh m\"\ntrack_script {\ns weight -5\n}\nsync_group_tracking_weight\n}\n",
			check: func(c *Config) any {
				return []any{c.SyncGroups[0].Instances, c.Instance("A").SyncGroup, c.Instance("B").SyncGroup, c.SyncGroups[0].Notify.Master.Args, c.SyncGroups[0].TrackScripts, c.Instance("A").TrackScripts}
			},
			want: []any{[]string{"A", "B"}, "G", "G", []string{"/g.sh", "m"}, []TrackScript{{Name: "s", Weight: -5}}, []TrackScript{{Name: "s", Weight: -10}}}},
		{name: "weights dropped in a group", conf: two + "vrrp_sync_group G {\ngroup {\nA\nB\n}\n}\n",
			check: func(c *Config) any { return []any{c.Instance("A").TrackScripts, c.Instance("A").TrackInterfaces} },
			want:  []any{[]TrackScript(nil), []TrackInterface{{Name: "eth1"}}},
			warn:  "vrrp_instance A: track_script s: a weighted script is not tracked in vrrp_sync_group G"},
		{name: "global_tracking", conf: two + "vrrp_sync_group G {\ngroup {\nA\nB\n}\nglobal_tracking\n}\n",
			check: func(c *Config) any { return c.SyncGroups[0].TrackingWeight }, want: true, warn: "global_tracking is deprecated"},
		{name: "one member", conf: two + "vrrp_sync_group G {\ngroup {\nA\n}\n}\n", warn: "the group has only one instance"},
		{name: "unknown member", conf: two + "vrrp_sync_group G {\ngroup {\nA\nC\n}\n}\n", err: "t.conf:27: vrrp_sync_group G: group: there is no vrrp_instance C"},
		{name: "member twice", conf: two + "vrrp_sync_group G {\ngroup {\nA\nA\n}\n}\n", err: "vrrp_instance A is listed twice"},
		{name: "two groups", conf: two + "vrrp_sync_group G {\ngroup {\nA\nB\n}\n}\nvrrp_sync_group H {\ngroup {\nA\n}\n}\n", err: "vrrp_instance A is already in vrrp_sync_group G"},
		{name: "no group", conf: two + "vrrp_sync_group G {\n}\n", err: "vrrp_sync_group G: no group { } of instances"},
		{name: "empty group", conf: two + "vrrp_sync_group G {\ngroup {\n}\n}\n", err: "group { } is empty"},
		{name: "group twice", conf: two + "vrrp_sync_group G {\ngroup {\nA\n}\ngroup {\nB\n}\n}\n", err: "group given twice"},
		{name: "duplicate group", conf: two + "vrrp_sync_group G {\ngroup {\nA\n}\n}\nvrrp_sync_group G {\ngroup {\nB\n}\n}\n", err: "vrrp_sync_group G is already defined"},
		{name: "mixed owners", conf: `
vrrp_instance A {
    interface eth0
    virtual_router_id 1
    priority 255
    virtual_ipaddress {
        192.0.2.1
    }
}
vrrp_instance B {
    interface eth0
    virtual_router_id 2
    virtual_ipaddress {
        192.0.2.2
    }
}
vrrp_sync_group G {
    group {
        A
        B
    }
}
`, warn: "some instances are address owners"},
	})
}

func TestVRIDConflicts(t *testing.T) {
	inst := func(name, vrid, body string) string {
		return "vrrp_instance " + name + " {\nvirtual_router_id " + vrid + "\nvirtual_ipaddress {\n192.0.2.1\n}\n" + body + "\n}\n"
	}
	runDirectiveCases(t, []directiveCase{
		{name: "same interface", conf: inst("A", "5", "interface eth0") + inst("B", "5", "interface eth0"), err: "VRID 5 with IPv4 on eth0 is used by vrrp_instance A too"},
		{name: "other interface", conf: inst("A", "5", "interface eth0") + inst("B", "5", "interface eth1")},
		{name: "other group", conf: inst("A", "5", "interface eth0") + inst("B", "5", "interface eth0\nmcast_dst_ip 224.0.0.100")},
		{name: "other family", conf: inst("A", "5", "interface eth0") + "vrrp_instance B {\nvirtual_router_id 5\ninterface eth0\nvirtual_ipaddress {\nfe80::1/64\n}\n}\n"},
		{name: "unicast and multicast", conf: inst("A", "5", "interface eth0") + inst("B", "5", "interface eth0\nunicast_peer {\n192.0.2.9\n}")},
		{name: "unicast same peer", conf: inst("A", "5", "interface eth0\nunicast_src_ip 192.0.2.8\nunicast_peer {\n192.0.2.9\n}") + inst("B", "5", "interface eth0\nunicast_src_ip 192.0.2.8\nunicast_peer {\n192.0.2.9\n}"),
			err: "VRID 5 from 192.0.2.8 to 192.0.2.9 is used by vrrp_instance A too"},
		{name: "unicast other peers", conf: inst("A", "5", "interface eth0\nunicast_src_ip 192.0.2.8\nunicast_peer {\n192.0.2.9\n}") + inst("B", "5", "interface eth0\nunicast_src_ip 192.0.2.8\nunicast_peer {\n192.0.2.10\n}")},
	})
}
