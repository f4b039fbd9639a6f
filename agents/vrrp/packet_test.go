package vrrp

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"

	"pgregory.net/rapid"
)

var (
	src4  = netip.MustParseAddr("192.0.2.1")
	peer4 = netip.MustParseAddr("192.0.2.2")
	src6  = netip.MustParseAddr("fe80::1")
	peer6 = netip.MustParseAddr("fe80::2")
)

func addrs(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, x := range s {
		out[i] = netip.MustParseAddr(x)
	}
	return out
}

func pass(t testing.TB, pw string) [8]byte {
	t.Helper()
	d, err := PassData(pw)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("hex %q: %v", s, err)
	}
	return b
}

// TestChecksumVectors: packets whose checksums were computed apart from
// this code (a few lines of Python over the same bytes, RFC 1071 with
// the pseudo-headers of RFC 768 and RFC 8200 §8.1) encode to exactly
// these bytes and decode back. The v2 checksum ignores the addresses
// around the packet; the v3 one does not.
func TestChecksumVectors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		src, dst netip.Addr
		advert   Advert
		hex      string
	}{
		{"v2 pass", src4, DefaultGroup(false),
			Advert{Version: V2, VRID: 51, Priority: 100, Interval: 100, Addrs: addrs("192.0.2.50", "192.0.2.51"), AuthType: AuthPass, AuthData: pass(t, "secret12")},
			"21336402 010187e4 c0000232 c0000233 7365637265743132"},
		{"v3 ipv4 multicast", src4, DefaultGroup(false),
			Advert{Version: V3, VRID: 51, Priority: 100, Interval: 100, Addrs: addrs("192.0.2.50")},
			"31336401 006405a4 c0000232"},
		{"v3 ipv4 unicast", src4, peer4,
			Advert{Version: V3, VRID: 51, Priority: 100, Interval: 100, Addrs: addrs("192.0.2.50")},
			"31336401 006423b4 c0000232"},
		{"v3 ipv6 multicast", src6, DefaultGroup(true),
			Advert{Version: V3, VRID: 51, Priority: 100, Interval: 100, Addrs: addrs("2001:db8::50")},
			"31336401 00643e3f 20010db8000000000000000000000050"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := unhex(t, tc.hex)
			got, err := tc.advert.Marshal(tc.src, tc.dst)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Marshal = %x, want %x", got, want)
			}
			back, err := Parse(want, tc.src, tc.dst, TTL)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, tc.advert) {
				t.Errorf("Parse = %+v, want %+v", back, tc.advert)
			}
			// Other endpoints (same family): v2 still verifies, v3 not.
			other, otherDst := netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("198.51.100.8")
			if tc.src.Is6() {
				other, otherDst = netip.MustParseAddr("fe80::7"), netip.MustParseAddr("fe80::8")
			}
			_, err = Parse(want, other, otherDst, TTL)
			if r, _ := ReasonOf(err); tc.advert.Version == V2 && err != nil || tc.advert.Version == V3 && r != DropBadChecksum {
				t.Errorf("Parse from %v to %v: %v", other, otherDst, err)
			}
		})
	}
}

// genAdvert draws a valid advert of the family of src and the addresses
// that frame it.
func genAdvert(t *rapid.T) (a Advert, src, dst netip.Addr) {
	ipv6 := rapid.Bool().Draw(t, "ipv6")
	v := V3
	if !ipv6 && rapid.Bool().Draw(t, "v2") {
		v = V2
	}
	genAddr := func(label string) netip.Addr {
		if ipv6 {
			return netip.AddrFrom16([16]byte(rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, label)))
		}
		return netip.AddrFrom4([4]byte(rapid.SliceOfN(rapid.Byte(), 4, 4).Draw(t, label)))
	}
	src, dst = genAddr("src"), genAddr("dst")
	if ipv6 && (src.Is4In6() || dst.Is4In6()) {
		t.Skip("IPv4-mapped")
	}
	a = Advert{
		Version:  v,
		VRID:     rapid.Uint8Range(1, 255).Draw(t, "vrid"),
		Priority: rapid.Uint8().Draw(t, "priority"),
	}
	n := rapid.IntRange(1, MaxAddrs).Draw(t, "count")
	for i := range n {
		a.Addrs = append(a.Addrs, genAddr("addr"+string(rune('0'+i%10))))
	}
	if v == V2 {
		a.Interval = Centiseconds(rapid.IntRange(1, 255).Draw(t, "seconds")) * 100
		a.AuthType = rapid.SampledFrom([]AuthType{AuthNone, AuthPass}).Draw(t, "auth")
		a.AuthData = [8]byte(rapid.SliceOfN(rapid.Byte(), 8, 8).Draw(t, "authdata"))
	} else {
		a.Interval = Centiseconds(rapid.IntRange(1, maxIntV3).Draw(t, "centis"))
	}
	return a, src, dst
}

// TestRoundTrip: every valid advert, v2 and v3, IPv4 and IPv6, decodes
// to itself, and its checksum field is what makes it verify.
func TestRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, src, dst := genAdvert(t)
		b, err := a.Marshal(src, dst)
		if err != nil {
			t.Fatalf("Marshal %v: %v", a.String(), err)
		}
		back, err := Parse(b, src, dst, TTL)
		if err != nil {
			t.Fatalf("Parse(Marshal(%v)): %v", a.String(), err)
		}
		if !reflect.DeepEqual(back, a) {
			t.Fatalf("Parse(Marshal(a)) = %+v, want %+v", back, a)
		}
		zeroed := append([]byte(nil), b...)
		zeroed[6], zeroed[7] = 0, 0
		if got, want := checksum(zeroed, a.Version, src, dst), binary.BigEndian.Uint16(b[6:8]); got != want {
			t.Fatalf("checksum over zeroed field %#04x, packet has %#04x", got, want)
		}
	})
}

// TestAnyBitFlipDropped: flipping any one bit of a valid packet gets it
// dropped (the checksum catches what the earlier checks do not).
func TestAnyBitFlipDropped(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, src, dst := genAdvert(t)
		b, err := a.Marshal(src, dst)
		if err != nil {
			t.Fatal(err)
		}
		bit := rapid.IntRange(0, len(b)*8-1).Draw(t, "bit")
		b[bit/8] ^= 1 << (bit % 8)
		got, err := Parse(b, src, dst, TTL)
		if _, ok := ReasonOf(err); !ok {
			t.Fatalf("bit %d flipped: Parse = %+v, %v; want a drop", bit, got, err)
		}
	})
}

// TestDropReasons: one packet per reason, each dropped for exactly that
// reason (the first check it fails), counted once; every DropReason
// has a case.
func TestDropReasons(t *testing.T) {
	v2 := Advert{Version: V2, VRID: 7, Priority: 100, Interval: 100, Addrs: addrs("192.0.2.50"), AuthType: AuthPass, AuthData: pass(t, "pw")}
	v3 := Advert{Version: V3, VRID: 7, Priority: 100, Interval: 50, Addrs: addrs("192.0.2.50")}
	v36 := Advert{Version: V3, VRID: 7, Priority: 100, Interval: 50, Addrs: addrs("2001:db8::50")}
	enc := func(a Advert, src, dst netip.Addr) []byte {
		b, err := a.Marshal(src, dst)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// fix re-computes the checksum of a tampered packet, so that the
	// check under test is the one that fails.
	fix := func(b []byte, v Version, src, dst netip.Addr) []byte {
		b[6], b[7] = 0, 0
		binary.BigEndian.PutUint16(b[6:8], checksum(b, v, src, dst))
		return b
	}
	g4, g6 := DefaultGroup(false), DefaultGroup(true)
	tamper := func(a Advert, src, dst netip.Addr, f func(b []byte) []byte) []byte {
		return fix(f(enc(a, src, dst)), a.Version, src, dst)
	}
	type pkt struct {
		b        []byte
		src, dst netip.Addr
		ttl      int
	}
	parseCases := []struct {
		name string
		p    pkt
		want DropReason
	}{
		{"families differ", pkt{enc(v3, src4, g4), src4, g6, TTL}, DropBadAddress},
		{"no source", pkt{enc(v3, src4, g4), netip.Addr{}, g4, TTL}, DropBadAddress},
		{"ttl 254", pkt{enc(v3, src4, g4), src4, g4, 254}, DropBadTTL},
		{"hop limit 1", pkt{enc(v36, src6, g6), src6, g6, 1}, DropBadTTL},
		{"ttl unknown", pkt{enc(v2, src4, g4), src4, g4, -1}, DropBadTTL},
		{"empty", pkt{nil, src4, g4, TTL}, DropBadLength},
		{"7 bytes", pkt{enc(v3, src4, g4)[:7], src4, g4, TTL}, DropBadLength},
		{"version 4", pkt{tamper(v3, src4, g4, func(b []byte) []byte { b[0] = 0x41; return b }), src4, g4, TTL}, DropBadVersion},
		{"version 2 over IPv6", pkt{tamper(v36, src6, g6, func(b []byte) []byte { b[0] = 0x21; return b }), src6, g6, TTL}, DropBadVersion},
		{"type 2", pkt{tamper(v3, src4, g4, func(b []byte) []byte { b[0] = 0x32; return b }), src4, g4, TTL}, DropBadType},
		{"no addresses", pkt{tamper(v3, src4, g4, func(b []byte) []byte { b[3] = 0; return b[:8] }), src4, g4, TTL}, DropBadAddrCount},
		{"vrid 0", pkt{tamper(v3, src4, g4, func(b []byte) []byte { b[1] = 0; return b }), src4, g4, TTL}, DropWrongVRID},
		{"count 2, one address", pkt{tamper(v3, src4, g4, func(b []byte) []byte { b[3] = 2; return b }), src4, g4, TTL}, DropBadLength},
		{"v3 trailing byte", pkt{tamper(v3, src4, g4, func(b []byte) []byte { return append(b, 0, 0) }), src4, g4, TTL}, DropBadLength},
		{"v2 without auth data", pkt{tamper(v2, src4, g4, func(b []byte) []byte { return b[:12] }), src4, g4, TTL}, DropBadLength},
		{"v2 checksum", pkt{func() []byte { b := enc(v2, src4, g4); b[7]++; return b }(), src4, g4, TTL}, DropBadChecksum},
		{"v3 checksum against another destination", pkt{enc(v3, src4, g4), src4, peer4, TTL}, DropBadChecksum},
		{"v3 ipv6 checksum", pkt{enc(v36, src6, g6), peer6, g6, TTL}, DropBadChecksum},
		{"v3 interval 0", pkt{tamper(v3, src4, g4, func(b []byte) []byte { b[4], b[5] = 0xf0, 0; return b }), src4, g4, TTL}, DropBadInterval},
		{"v2 interval 0", pkt{tamper(v2, src4, g4, func(b []byte) []byte { b[5] = 0; return b }), src4, g4, TTL}, DropBadInterval},
		{"v2 auth type ah", pkt{tamper(v2, src4, g4, func(b []byte) []byte { b[4] = 2; return b }), src4, g4, TTL}, DropBadAuthType},
		{"v2 auth type 9", pkt{tamper(v2, src4, g4, func(b []byte) []byte { b[4] = 9; return b }), src4, g4, TTL}, DropBadAuthType},
	}
	seen := map[DropReason]bool{}
	var ctr Counters
	for _, tc := range parseCases {
		a, err := Parse(tc.p.b, tc.p.src, tc.p.dst, tc.p.ttl)
		r, ok := ctr.Record(err)
		if !ok || r != tc.want {
			t.Errorf("%s: Parse = %+v, %v; want drop %s", tc.name, a, err, tc.want)
		}
		var de *DropError
		if errors.As(err, &de) && (de.Detail == "" || !strings.Contains(err.Error(), tc.want.String())) {
			t.Errorf("%s: error %q lacks the reason or a detail", tc.name, err)
		}
		seen[tc.want] = true
	}

	// The reserved bits of v3's interval field are ignored (but they
	// are under the checksum).
	b := tamper(v3, src4, g4, func(b []byte) []byte { b[4] |= 0xf0; return b })
	if a, err := Parse(b, src4, g4, TTL); err != nil || a.Interval != v3.Interval {
		t.Errorf("v3 with reserved bits set: %+v, %v", a, err)
	}

	e2 := Expect{VRID: 7, Version: V2, AuthType: AuthPass, AuthData: pass(t, "pw"), Interval: 100}
	e3 := Expect{VRID: 7, Version: V3}
	with := func(a Advert, f func(*Advert)) *Advert { f(&a); return &a }
	checkCases := []struct {
		name string
		e    Expect
		a    *Advert
		want DropReason // 0: accepted
	}{
		{"v2 ok", e2, &v2, 0},
		{"v3 ok", e3, &v3, 0},
		{"v3 ipv6 ok", e3, &v36, 0},
		{"v3 ok, any version", Expect{VRID: 7}, &v3, 0},
		{"v3 auth settings ignored", Expect{VRID: 7, AuthType: AuthPass, AuthData: pass(t, "x"), Interval: 300}, &v3, 0},
		{"v2 no auth", Expect{VRID: 7, Interval: 100}, with(v2, func(a *Advert) { a.AuthType, a.AuthData = AuthNone, [8]byte{1} }), 0},
		{"wrong vrid", e2, with(v2, func(a *Advert) { a.VRID = 8 }), DropWrongVRID},
		{"v3 for a v2 instance", e2, &v3, DropBadVersion},
		{"v2 for a v3 instance", e3, &v2, DropBadVersion},
		{"no auth for pass", e2, with(v2, func(a *Advert) { a.AuthType = AuthNone }), DropAuthMismatch},
		{"wrong password", e2, with(v2, func(a *Advert) { a.AuthData = pass(t, "pW") }), DropAuthMismatch},
		{"password with trailing byte", e2, with(v2, func(a *Advert) { a.AuthData = pass(t, "pw\x00\x00\x00\x00\x00x") }), DropAuthMismatch},
		{"v2 interval", e2, with(v2, func(a *Advert) { a.Interval = 200 }), DropIntervalMismatch},
	}
	for _, tc := range checkCases {
		err := tc.e.Check(tc.a)
		r, ok := ctr.Record(err)
		switch {
		case tc.want == 0 && err != nil:
			t.Errorf("%s: Check = %v, want nil", tc.name, err)
		case tc.want != 0 && (!ok || r != tc.want):
			t.Errorf("%s: Check = %v, want drop %s", tc.name, err, tc.want)
		}
		if tc.want != 0 {
			seen[tc.want] = true
		}
		if err != nil && strings.Contains(err.Error(), "pW") {
			t.Errorf("%s: error %q shows a password", tc.name, err)
		}
	}

	for _, r := range DropReasons() {
		if !seen[r] {
			t.Errorf("no case for drop reason %s", r)
		}
	}
	want := map[DropReason]uint64{}
	for _, tc := range parseCases {
		want[tc.want]++
	}
	for _, tc := range checkCases {
		if tc.want != 0 {
			want[tc.want]++
		}
	}
	for _, dc := range ctr.Snapshot() {
		if dc.Count != want[dc.Reason] {
			t.Errorf("counter %s = %d, want %d", dc.Reason, dc.Count, want[dc.Reason])
		}
	}
}

// TestMarshalRefuses: adverts Parse would drop, or that cannot be put
// on the wire, are errors that name the problem; nothing panics.
func TestMarshalRefuses(t *testing.T) {
	ok := Advert{Version: V3, VRID: 1, Priority: 100, Interval: 100, Addrs: addrs("192.0.2.50")}
	with := func(f func(*Advert)) Advert {
		a := ok
		a.Addrs = append([]netip.Addr(nil), ok.Addrs...)
		f(&a)
		return a
	}
	many := make([]netip.Addr, 256)
	for i := range many {
		many[i] = netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})
	}
	for _, tc := range []struct {
		name     string
		a        Advert
		src, dst netip.Addr
		want     string
	}{
		{"version 1", with(func(a *Advert) { a.Version = 1 }), src4, peer4, "version 1"},
		{"vrid 0", with(func(a *Advert) { a.VRID = 0 }), src4, peer4, "VRID 0"},
		{"no addresses", with(func(a *Advert) { a.Addrs = nil }), src4, peer4, "0 addresses"},
		{"256 addresses", with(func(a *Advert) { a.Addrs = many }), src4, peer4, "256 addresses"},
		{"ipv6 address in ipv4", with(func(a *Advert) { a.Addrs = addrs("2001:db8::1") }), src4, peer4, "not IPv4"},
		{"ipv4 address in ipv6", ok, src6, peer6, "not IPv6"},
		{"invalid address", with(func(a *Advert) { a.Addrs = []netip.Addr{{}} }), src4, peer4, "not IPv4"},
		{"families differ", ok, src4, peer6, "one family"},
		{"no source", ok, netip.Addr{}, peer4, "one family"},
		{"mapped source", with(func(a *Advert) { a.Addrs = addrs("2001:db8::1") }), netip.MustParseAddr("::ffff:192.0.2.1"), peer6, "IPv4-mapped"},
		{"v3 interval 0", with(func(a *Advert) { a.Interval = 0 }), src4, peer4, "interval 0 cs"},
		{"v3 interval 4096", with(func(a *Advert) { a.Interval = 4096 }), src4, peer4, "interval 4096 cs"},
		{"v3 auth", with(func(a *Advert) { a.AuthType = AuthPass }), src4, peer4, "no authentication"},
		{"v2 ipv6", with(func(a *Advert) { a.Version = V2; a.Addrs = addrs("2001:db8::1") }), src6, peer6, "IPv4 only"},
		{"v2 half seconds", with(func(a *Advert) { a.Version = V2; a.Interval = 150 }), src4, peer4, "whole seconds"},
		{"v2 256 s", with(func(a *Advert) { a.Version = V2; a.Interval = 25600 }), src4, peer4, "whole seconds"},
		{"v2 ah", with(func(a *Advert) { a.Version = V2; a.AuthType = AuthAH }), src4, peer4, "auth type ah"},
	} {
		b, err := tc.a.Marshal(tc.src, tc.dst)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "vrid") {
			t.Errorf("%s: Marshal = %x, %v; want an error with %q", tc.name, b, err, tc.want)
		}
	}
	if _, err := PassData("123456789"); err == nil {
		t.Error("PassData accepted 9 bytes")
	}
	if d := pass(t, "ab"); d != [8]byte{'a', 'b'} {
		t.Errorf("PassData(ab) = %x", d)
	}
}

// TestAdvertString: the log form shows the fields but never the
// password.
func TestAdvertString(t *testing.T) {
	a := Advert{Version: V2, VRID: 51, Priority: 100, Interval: 100, Addrs: addrs("192.0.2.50", "192.0.2.51"), AuthType: AuthPass, AuthData: pass(t, "secret12")}
	if got, want := a.String(), "VRRPv2 vrid 51 priority 100 interval 1s addrs 192.0.2.50,192.0.2.51 auth pass"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	a3 := Advert{Version: V3, VRID: 1, Priority: 255, Interval: 5, Addrs: addrs("2001:db8::50")}
	if got, want := a3.String(), "VRRPv3 vrid 1 priority 255 interval 50ms addrs 2001:db8::50"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}

// TestCounters: concurrent adds are all counted; unknown reasons are
// ignored; errors without a reason are not counted; every reason has a
// distinct snake_case label.
func TestCounters(t *testing.T) {
	var c Counters
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				c.Add(DropBadTTL)
				c.Record(&DropError{Reason: DropBadChecksum})
			}
		})
	}
	wg.Wait()
	c.Add(0)
	c.Add(dropReasonEnd)
	if _, ok := c.Record(errors.New("other")); ok {
		t.Error("Record counted an error without a reason")
	}
	if c.Get(DropBadTTL) != 4000 || c.Get(DropBadChecksum) != 4000 || c.Get(DropBadType) != 0 || c.Get(0) != 0 {
		t.Errorf("counts %+v", c.Snapshot())
	}
	labels := map[string]bool{}
	for _, dc := range c.Snapshot() {
		l := dc.Reason.String()
		if labels[l] || strings.Trim(l, "abcdefghijklmnopqrstuvwxyz_") != "" || strings.HasPrefix(l, "drop_reason_") {
			t.Errorf("label %q duplicate or not snake_case", l)
		}
		labels[l] = true
	}
	if len(labels) != int(dropReasonEnd-1) {
		t.Errorf("%d labels, want %d", len(labels), dropReasonEnd-1)
	}
}

// FuzzParse: Parse never panics; what it accepts, Marshal encodes back
// to the same bytes (but for v3's ignored reserved bits) and decodes to
// the same advert.
func FuzzParse(f *testing.F) {
	for _, s := range []struct {
		hex  string
		ipv6 bool
	}{
		{"21336402010187e4c0000232c00002337365637265743132", false},
		{"31336401006405a4c0000232", false},
		{"3133640100643e3f20010db8000000000000000000000050", true},
	} {
		b, _ := hex.DecodeString(s.hex)
		f.Add(b, s.ipv6, uint8(TTL))
	}
	f.Fuzz(func(t *testing.T, b []byte, ipv6 bool, ttl uint8) {
		src, dst := src4, DefaultGroup(false)
		if ipv6 {
			src, dst = src6, DefaultGroup(true)
		}
		a, err := Parse(b, src, dst, int(ttl))
		if err != nil {
			if _, ok := ReasonOf(err); !ok {
				t.Fatalf("error without a drop reason: %v", err)
			}
			return
		}
		out, err := a.Marshal(src, dst)
		if err != nil {
			t.Fatalf("Parse accepted %x as %+v, Marshal refuses it: %v", b, a, err)
		}
		// Same bytes, but for v3's reserved bits (Marshal zeroes them)
		// and the checksum's "negative zero": a field of 0xffff
		// verifies like 0x0000 (RFC 1071), which is what Marshal writes.
		if a.Version == V2 || b[4]&0xf0 == 0 {
			ck, outCk := binary.BigEndian.Uint16(b[6:8]), binary.BigEndian.Uint16(out[6:8])
			if !bytes.Equal(out[:6], b[:6]) || !bytes.Equal(out[8:], b[8:]) || ck != outCk && (ck != 0xffff || outCk != 0) {
				t.Fatalf("Marshal(Parse(%x)) = %x", b, out)
			}
		}
		back, err := Parse(out, src, dst, TTL)
		if err != nil || !reflect.DeepEqual(back, a) {
			t.Fatalf("Parse(Marshal(%+v)) = %+v, %v", a, back, err)
		}
		_ = a.String()
	})
}
