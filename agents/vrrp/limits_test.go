package vrrp

import (
	"errors"
	"net/netip"
	"testing"
)

// The receive path's limits (docs/hardening.md): a read fills at most
// recvBufLen bytes, and Parse accepts only the exact length the address
// count implies, so an oversized or padded packet is dropped as
// bad-length, and garbage of any size never panics (FuzzParse).
func TestParseRefusesOversizedPackets(t *testing.T) {
	dst := netip.MustParseAddr("224.0.0.18")
	a := Advert{Version: V3, VRID: 7, Priority: 100, Interval: 100, Addrs: addrs("192.0.2.10")}
	b, err := a.Marshal(src4, dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(b, src4, dst, TTL); err != nil {
		t.Fatalf("the good advert: %v", err)
	}
	for _, n := range []int{len(b) + 1, recvBufLen} {
		big := make([]byte, n)
		copy(big, b)
		_, err := Parse(big, src4, dst, TTL)
		var de *DropError
		if !errors.As(err, &de) || de.Reason != DropBadLength {
			t.Errorf("%d bytes: %v, want a bad-length drop", n, err)
		}
	}
	// The largest packet a count allows still fits the receive buffer.
	if full := headerLen + 255*16; full > recvBufLen {
		t.Errorf("a full IPv6 advert (%d bytes) does not fit recvBufLen %d", full, recvBufLen)
	}
}
