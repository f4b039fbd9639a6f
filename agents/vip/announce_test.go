package vip

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mdlayher/arp"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"
)

var testMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}

// TestGARPFrames: a broadcast request and reply, sender IP = target IP =
// the VIP, sender MAC ours; the reply's target MAC equals its sender's
// (what Linux's arp_is_garp wants), the request's is zero.
func TestGARPFrames(t *testing.T) {
	fs, err := garpFrames(testMAC, ip("192.0.2.50"))
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 {
		t.Fatalf("got %d frames, want 2", len(fs))
	}
	for i, want := range []struct {
		kind string
		op   arp.Operation
		tha  net.HardwareAddr
	}{{kindARPRequest, arp.OperationRequest, make(net.HardwareAddr, 6)}, {kindARPReply, arp.OperationReply, testMAC}} {
		f := fs[i]
		if f.kind != want.kind || !bytes.Equal(f.dst, broadcastMAC()) {
			t.Errorf("frame %d: kind %s to %v", i, f.kind, f.dst)
		}
		if len(f.b) != ethMinLen {
			t.Errorf("frame %d: %d bytes, want %d (padded)", i, len(f.b), ethMinLen)
		}
		if !bytes.Equal(f.b[0:6], broadcastMAC()) || !bytes.Equal(f.b[6:12], testMAC) || binary.BigEndian.Uint16(f.b[12:14]) != etherTypeARP {
			t.Errorf("frame %d: bad Ethernet header % x", i, f.b[:14])
		}
		var p arp.Packet
		if err := p.UnmarshalBinary(f.b[ethHeaderLen:]); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if p.Operation != want.op || p.SenderIP != ip("192.0.2.50") || p.TargetIP != p.SenderIP ||
			!bytes.Equal(p.SenderHardwareAddr, testMAC) || !bytes.Equal(p.TargetHardwareAddr, want.tha) {
			t.Errorf("frame %d: %+v", i, p)
		}
	}
}

// TestNAFrame checks the unsolicited neighbour advertisement field by
// field, and its checksum against golang.org/x/net/icmp, an independent
// implementation of the pseudo-header sum.
func TestNAFrame(t *testing.T) {
	vip := ip("2001:db8::50")
	fs, err := naFrame(testMAC, vip)
	if err != nil {
		t.Fatal(err)
	}
	f := fs[0]
	b := f.b
	if !bytes.Equal(f.dst, allNodesMAC()) || !bytes.Equal(b[0:6], allNodesMAC()) || !bytes.Equal(b[6:12], testMAC) ||
		binary.BigEndian.Uint16(b[12:14]) != etherTypeIPv6 {
		t.Fatalf("bad Ethernet header % x", b[:14])
	}
	h, err := ipv6.ParseHeader(b[ethHeaderLen:])
	if err != nil {
		t.Fatal(err)
	}
	if h.Version != 6 || h.NextHeader != 58 || h.HopLimit != 255 || h.PayloadLen != naLen ||
		!h.Src.Equal(net.IP(vip.AsSlice())) || !h.Dst.Equal(net.ParseIP("ff02::1")) {
		t.Fatalf("bad IPv6 header %+v", h)
	}
	m := b[ethHeaderLen+ipv6HeaderLen:]
	if len(m) != naLen || m[0] != 136 || m[1] != 0 || m[4] != 0x20 || m[5]|m[6]|m[7] != 0 {
		t.Fatalf("bad NA header % x", m[:8])
	}
	if !bytes.Equal(m[8:24], vip.AsSlice()) || m[24] != 2 || m[25] != 1 || !bytes.Equal(m[26:32], testMAC) {
		t.Fatalf("bad target or option % x", m[8:])
	}

	// The same message marshalled by x/net/icmp, which computes the
	// checksum itself over the pseudo-header.
	ref := icmp.Message{Type: ipv6.ICMPTypeNeighborAdvertisement, Body: &icmp.RawBody{Data: m[4:]}}
	want, err := ref.Marshal(icmp.IPv6PseudoHeader(h.Src, h.Dst))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m, want) {
		t.Errorf("NA differs from x/net/icmp's:\n got % x\nwant % x", m, want)
	}
	// And the RFC 1071 property: summed with its checksum in place, a
	// message checks to zero.
	if c := icmpv6Checksum(vip, allNodes(), m); c != 0 {
		t.Errorf("checksum over the finished message = %#04x, want 0", c)
	}
	// x/net/icmp parses it back as an NA.
	if msg, err := icmp.ParseMessage(58, m); err != nil || msg.Type != ipv6.ICMPTypeNeighborAdvertisement {
		t.Errorf("ParseMessage: %v, %v", msg, err)
	}
}

// TestICMPv6ChecksumOddLength covers the odd trailing byte of RFC 1071.
func TestICMPv6ChecksumOddLength(t *testing.T) {
	src, dst := ip("2001:db8::1"), ip("2001:db8::2")
	msg := []byte{128, 0, 0, 0, 0, 1, 0, 1, 0xab} // echo request, one byte of data
	binary.BigEndian.PutUint16(msg[2:], icmpv6Checksum(src, dst, msg))
	ref := icmp.Message{Type: ipv6.ICMPTypeEchoRequest, Body: &icmp.Echo{ID: 1, Seq: 1, Data: []byte{0xab}}}
	want, err := ref.Marshal(icmp.IPv6PseudoHeader(net.IP(src.AsSlice()), net.IP(dst.AsSlice())))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(msg, want) {
		t.Errorf("got % x, want % x", msg, want)
	}
}

// fakeConn records when each frame was written; fail makes writes fail.
type fakeConn struct {
	at   []time.Duration
	t0   time.Time
	fail func(n int) bool
}

func (c *fakeConn) WriteTo(b []byte, _ net.Addr) (int, error) {
	n := len(c.at)
	c.at = append(c.at, time.Since(c.t0))
	if c.fail != nil && c.fail(n) {
		return 0, errors.New("no buffer space")
	}
	return len(b), nil
}
func (c *fakeConn) Close() error { return nil }

// TestAnnounceTiming runs the sending loop in virtual time: the first
// round at once, then one per interval; rounds that would end too close
// to the deadline are skipped, and a cancelled action stops the loop,
// both without error.
func TestAnnounceTiming(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	run := func(t *testing.T, timeout, cancelAt time.Duration, fail func(int) bool) (*fakeConn, int, error) {
		c := &fakeConn{t0: time.Now(), fail: fail}
		an := &announcer{conn: c, frames: []frame{{kind: kindARPRequest, dst: broadcastMAC()}, {kind: kindARPReply, dst: broadcastMAC()}}}
		ctx, cancel := context.WithTimeout(t.Context(), timeout)
		defer cancel()
		if cancelAt > 0 {
			time.AfterFunc(cancelAt, cancel)
		}
		n, err := announce(ctx, an, 5, 200*time.Millisecond, nil, log)
		return c, n, err
	}
	ms := time.Millisecond
	for _, tc := range []struct {
		name              string
		timeout, cancelAt time.Duration
		fail              func(int) bool
		rounds            int
		writes            []time.Duration
		err               string
	}{
		{name: "all rounds", timeout: 20 * time.Second, rounds: 5,
			writes: []time.Duration{0, 0, 200 * ms, 200 * ms, 400 * ms, 400 * ms, 600 * ms, 600 * ms, 800 * ms, 800 * ms}},
		{name: "deadline", timeout: time.Second, rounds: 4,
			writes: []time.Duration{0, 0, 200 * ms, 200 * ms, 400 * ms, 400 * ms, 600 * ms, 600 * ms}},
		{name: "cancelled", timeout: 20 * time.Second, cancelAt: 300 * ms, rounds: 2,
			writes: []time.Duration{0, 0, 200 * ms, 200 * ms}},
		{name: "first round fails", timeout: 20 * time.Second, fail: func(n int) bool { return n < 2 }, rounds: 4,
			writes: []time.Duration{0, 0, 200 * ms, 200 * ms, 400 * ms, 400 * ms, 600 * ms, 600 * ms, 800 * ms, 800 * ms}},
		{name: "all fail", timeout: 20 * time.Second, fail: func(int) bool { return true }, rounds: 0,
			writes: []time.Duration{0, 0, 200 * ms, 200 * ms, 400 * ms, 400 * ms, 600 * ms, 600 * ms, 800 * ms, 800 * ms},
			err:    "no announcement could be sent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, n, err := run(t, tc.timeout, tc.cancelAt, tc.fail)
				if n != tc.rounds || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
					t.Errorf("announce = %d, %v; want %d, %q", n, err, tc.rounds, tc.err)
				}
				if !slices.Equal(c.at, tc.writes) {
					t.Errorf("writes at %v, want %v", c.at, tc.writes)
				}
			})
		})
	}
}
