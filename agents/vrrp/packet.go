package vrrp

import (
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Protocol is VRRP's IP protocol number (RFC 5798 §5.1.1.3, RFC 3768
// §5.2.4).
const Protocol = 112

// TTL is the IPv4 TTL and IPv6 hop limit every advertisement is sent
// with, and the only one a receiver accepts (RFC 5798 §5.1.1.3, §5.1.2.3
// and §7.1; RFC 3768 §5.2.3 and §7.1): a packet that crossed a router
// cannot be from this link.
const TTL = 255

// MaxAddrs is the most addresses one advertisement carries: its count
// field is one byte.
const MaxAddrs = 255

// Version is the VRRP version of an advertisement.
type Version uint8

// The versions this package speaks.
const (
	V2 Version = 2 // RFC 3768, IPv4 only; what keepalived sends by default
	V3 Version = 3 // RFC 5798, IPv4 and IPv6
)

// String returns "VRRPv2" or "VRRPv3".
func (v Version) String() string { return "VRRPv" + strconv.Itoa(int(v)) }

// Centiseconds is an advertisement interval in hundredths of a second,
// the unit of VRRPv3's Max Advertise Interval (RFC 5798 §5.2.7).
type Centiseconds uint16

// Duration returns the interval as a time.Duration.
func (c Centiseconds) Duration() time.Duration { return time.Duration(c) * 10 * time.Millisecond }

// AuthType is a VRRPv2 authentication type (RFC 3768 §5.3.6, from RFC
// 2338 §5.3.6, as keepalived's auth_type). VRRPv3 has none.
type AuthType uint8

// The authentication types. RFC 3768 reserves 1 and 2 for RFC 2338
// compatibility; keepalived still offers both. This codec sends and
// accepts AuthNone and AuthPass. keepalived's AH adverts travel as IP
// protocol 51 with an IPsec header: a protocol-112 advert that claims
// AuthAH is malformed, and Parse drops it.
const (
	AuthNone AuthType = 0 // no authentication; the data is ignored
	AuthPass AuthType = 1 // a clear-text password of up to 8 bytes (keepalived's PASS)
	AuthAH   AuthType = 2 // IPsec AH (keepalived's AH): not supported
)

// String returns "none", "pass", "ah" or "auth-N".
func (t AuthType) String() string {
	switch t {
	case AuthNone:
		return "none"
	case AuthPass:
		return "pass"
	case AuthAH:
		return "ah"
	}
	return "auth-" + strconv.Itoa(int(t))
}

// Wire layout (RFC 3768 §5.1, RFC 5798 §5.1):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version| Type  | Virtual Rtr ID|   Priority    | Count IPvX Addr|
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	v3: |(rsvd)|  Max Adver Int (12)  |          Checksum             |
//	v2: |  Auth Type    |   Adver Int   |          Checksum             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                  IPvX address(es), Count of them              |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	v2 only: |        Authentication Data (8 bytes)                  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	headerLen    = 8
	authLen      = 8 // VRRPv2's Authentication Data, always present
	typeAdvert   = 1 // the only VRRP packet type (RFC 5798 §5.2.2)
	maxIntV3     = 0x0fff
	intMaskV3    = 0x0fff
	centisPerSec = 100
)

// Advert is one VRRP advertisement, decoded.
type Advert struct {
	Version  Version
	VRID     uint8 // the virtual router, 1-255
	Priority uint8 // 0: the master resigns; 255: the address owner
	// Interval is the advertisement interval in centiseconds. VRRPv3
	// carries it as such (Max Advertise Interval, 1-4095). VRRPv2
	// carries whole seconds (Adver Int, 1-255): Parse multiplies by
	// 100, Marshal refuses a v2 interval that is not whole seconds.
	Interval Centiseconds
	// Addrs are the virtual router's addresses, 1-255 of them, all of
	// the family of the packet (IPv6 only with VRRPv3). They carry no
	// zone.
	Addrs []netip.Addr
	// AuthType and AuthData are VRRPv2's authentication (zero in v3).
	// AuthData is sent and decoded as it is whatever AuthType says;
	// Expect.Check compares it only for AuthPass. It is a secret:
	// String never shows it.
	AuthType AuthType
	AuthData [authLen]byte
}

// PassData returns a VRRPv2 password as Authentication Data: its bytes,
// zero-padded to 8, as keepalived's auth_pass. Longer passwords are an
// error (keepalived would cut them to 8 bytes).
func PassData(password string) ([authLen]byte, error) {
	var d [authLen]byte
	if len(password) > authLen {
		return d, fmt.Errorf("vrrp: auth password: %d bytes, at most %d", len(password), authLen)
	}
	copy(d[:], password)
	return d, nil
}

// String describes the advert for logs; it never shows AuthData.
func (a *Advert) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s vrid %d priority %d interval %s addrs ", a.Version, a.VRID, a.Priority, a.Interval.Duration())
	for i, x := range a.Addrs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(x.String())
	}
	if a.Version == V2 {
		b.WriteString(" auth ")
		b.WriteString(a.AuthType.String())
	}
	return b.String()
}

// family is 4 or 6: the address family of a packet between src and dst
// (an IPv4-mapped IPv6 address counts as IPv6, as on the wire), or 0
// when they are missing or of different families.
func family(src, dst netip.Addr) int {
	f := func(a netip.Addr) int {
		switch {
		case a.Is4():
			return 4
		case a.Is6():
			return 6
		}
		return 0
	}
	if fs := f(src); fs == f(dst) {
		return fs
	}
	return 0
}

func addrLen(fam int) int {
	if fam == 4 {
		return 4
	}
	return 16
}

// Marshal encodes the advert as sent from src to dst, with the checksum
// each version defines: VRRPv2's covers the VRRP message only (RFC 3768
// §5.3.8), VRRPv3's also an IPv4 or IPv6 pseudo-header holding src and
// dst (RFC 5798 §5.2.8), so a v3 advert is encoded once per destination.
// src and dst set the family; every address must be of it.
func (a *Advert) Marshal(src, dst netip.Addr) ([]byte, error) {
	if err := a.validate(src, dst); err != nil {
		return nil, fmt.Errorf("vrrp: advert vrid %d: %w", a.VRID, err)
	}
	fam := family(src, dst)
	n := headerLen + len(a.Addrs)*addrLen(fam)
	if a.Version == V2 {
		n += authLen
	}
	b := make([]byte, n)
	b[0] = byte(a.Version)<<4 | typeAdvert
	b[1] = a.VRID
	b[2] = a.Priority
	b[3] = byte(len(a.Addrs))
	if a.Version == V2 {
		b[4] = byte(a.AuthType)
		b[5] = byte(a.Interval / centisPerSec)
	} else {
		binary.BigEndian.PutUint16(b[4:6], uint16(a.Interval))
	}
	off := headerLen
	for _, x := range a.Addrs {
		off += copy(b[off:], x.AsSlice())
	}
	if a.Version == V2 {
		copy(b[off:], a.AuthData[:])
	}
	binary.BigEndian.PutUint16(b[6:8], checksum(b, a.Version, src, dst))
	return b, nil
}

// validate checks that Marshal can encode the advert so that Parse
// accepts it back.
func (a *Advert) validate(src, dst netip.Addr) error {
	fam := family(src, dst)
	if fam == 0 {
		return fmt.Errorf("source %v and destination %v: need two addresses of one family", src, dst)
	}
	if src.Is4In6() || dst.Is4In6() {
		return fmt.Errorf("source %v or destination %v is IPv4-mapped IPv6: unmap it", src, dst)
	}
	switch a.Version {
	case V2:
		if fam != 4 {
			return errors.New("VRRPv2 is IPv4 only (RFC 3768)")
		}
		if a.Interval == 0 || a.Interval%centisPerSec != 0 || a.Interval/centisPerSec > 255 {
			return fmt.Errorf("interval %s: VRRPv2 sends whole seconds, 1-255", a.Interval.Duration())
		}
		if a.AuthType != AuthNone && a.AuthType != AuthPass {
			return fmt.Errorf("auth type %s: only none and pass are supported", a.AuthType)
		}
	case V3:
		if a.Interval == 0 || a.Interval > maxIntV3 {
			return fmt.Errorf("interval %d cs: VRRPv3 sends 1-%d centiseconds", a.Interval, maxIntV3)
		}
		if a.AuthType != AuthNone || a.AuthData != [authLen]byte{} {
			return errors.New("VRRPv3 has no authentication (RFC 5798 §9)")
		}
	default:
		return fmt.Errorf("version %d: want 2 or 3", a.Version)
	}
	if a.VRID == 0 {
		return errors.New("VRID 0: want 1-255")
	}
	if len(a.Addrs) == 0 || len(a.Addrs) > MaxAddrs {
		return fmt.Errorf("%d addresses: want 1-%d", len(a.Addrs), MaxAddrs)
	}
	for _, x := range a.Addrs {
		if (fam == 4) != x.Is4() || !x.IsValid() {
			return fmt.Errorf("address %v is not IPv%d like the packet's source %v", x, fam, src)
		}
	}
	return nil
}

// Parse decodes and validates one advertisement: b is the VRRP message
// (after the IP header), src and dst the IP header's addresses (they
// set the family and enter VRRPv3's checksum), ttl the IPv4 TTL or IPv6
// hop limit it arrived with. It checks what RFC 5798 §7.1 and RFC 3768
// §7.1 ask of every receiver, in this order: the TTL (255), the version
// (2 or 3; 2 only over IPv4), the type (advertisement), the address
// count (1-255) and the VRID (not 0), the exact length the count
// implies (nothing missing, nothing after), the checksum, the interval
// (not 0) and, in v2, the authentication type (none or pass). What
// depends on the configuration (VRID, version, password, v2 interval)
// is Expect.Check's. A refused packet gets a *DropError naming the
// first check it failed; Parse never panics, whatever b holds.
func Parse(b []byte, src, dst netip.Addr, ttl int) (Advert, error) {
	fam := family(src, dst)
	if fam == 0 {
		return Advert{}, drop(DropBadAddress, "source %v and destination %v are not two addresses of one family", src, dst)
	}
	if ttl != TTL {
		return Advert{}, drop(DropBadTTL, "TTL or hop limit %d, want %d", ttl, TTL)
	}
	if len(b) < headerLen {
		return Advert{}, drop(DropBadLength, "%d bytes, shorter than the %d-byte header", len(b), headerLen)
	}
	v := Version(b[0] >> 4)
	switch {
	case v != V2 && v != V3:
		return Advert{}, drop(DropBadVersion, "version %d, want 2 or 3", v)
	case v == V2 && fam == 6:
		return Advert{}, drop(DropBadVersion, "VRRPv2 over IPv6: VRRPv2 is IPv4 only")
	}
	if t := b[0] & 0x0f; t != typeAdvert {
		return Advert{}, drop(DropBadType, "type %d, want %d (advertisement)", t, typeAdvert)
	}
	count := int(b[3])
	if count == 0 {
		return Advert{}, drop(DropBadAddrCount, "no addresses, want at least 1 (RFC 5798 §5.2.5)")
	}
	if b[1] == 0 {
		return Advert{}, drop(DropWrongVRID, "VRID 0: no virtual router has it (1-255)")
	}
	want := headerLen + count*addrLen(fam)
	if v == V2 {
		want += authLen
	}
	if len(b) != want {
		return Advert{}, drop(DropBadLength, "%d bytes, want %d for %s with %d IPv%d addresses", len(b), want, v, count, fam)
	}
	if c := checksum(b, v, src, dst); c != 0 {
		return Advert{}, drop(DropBadChecksum, "%s checksum 0x%04x does not verify (sums to 0x%04x)", v, binary.BigEndian.Uint16(b[6:8]), ^c)
	}
	a := Advert{Version: v, VRID: b[1], Priority: b[2], Addrs: make([]netip.Addr, count)}
	if v == V2 {
		a.AuthType = AuthType(b[4])
		a.Interval = Centiseconds(b[5]) * centisPerSec
		copy(a.AuthData[:], b[want-authLen:])
	} else {
		// The 4 reserved bits are ignored on reception (RFC 5798 §5.2.6).
		a.Interval = Centiseconds(binary.BigEndian.Uint16(b[4:6]) & intMaskV3)
	}
	if a.Interval == 0 {
		return Advert{}, drop(DropBadInterval, "advertisement interval 0")
	}
	if v == V2 && a.AuthType != AuthNone && a.AuthType != AuthPass {
		return Advert{}, drop(DropBadAuthType, "auth type %s on protocol %d: want none or pass", a.AuthType, Protocol)
	}
	off := headerLen
	for i := range a.Addrs {
		if fam == 4 {
			a.Addrs[i] = netip.AddrFrom4([4]byte(b[off : off+4]))
		} else {
			a.Addrs[i] = netip.AddrFrom16([16]byte(b[off : off+16]))
		}
		off += addrLen(fam)
	}
	return a, nil
}

// checksum returns the Internet checksum (RFC 1071) of b as version v
// defines it: v2 over b alone, v3 over the pseudo-header of src and dst
// (RFC 768 for IPv4, RFC 8200 §8.1 for IPv6, next header 112) and b.
// Over a message with its checksum field set it returns 0 when that
// field is right; with the field zero, the value to put there.
func checksum(b []byte, v Version, src, dst netip.Addr) uint16 {
	var sum uint32
	if v == V3 {
		if src.Is4() {
			s, d := src.As4(), dst.As4()
			sum = sum16(sum, s[:])
			sum = sum16(sum, d[:])
			sum += Protocol + uint32(len(b))
		} else {
			s, d := src.As16(), dst.As16()
			sum = sum16(sum, s[:])
			sum = sum16(sum, d[:])
			// 32-bit upper-layer length, 3 zero bytes, next header.
			sum += uint32(len(b)>>16) + uint32(len(b)&0xffff) + Protocol
		}
	}
	// The checksum field is summed as it is: zero when computing, the
	// sender's value when verifying.
	sum = sum16(sum, b)
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// sum16 adds b to sum as big-endian 16-bit words, an odd last byte
// padded with zero.
func sum16(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
		if sum > 0xffff {
			sum = sum>>16 + sum&0xffff
		}
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

// Expect is what one virtual router accepts beyond what Parse checks:
// the receive checks of RFC 5798 §7.1 and RFC 3768 §7.1 that need its
// configuration. Version and Interval at zero check nothing; AuthType
// is always compared for v2 (zero: no authentication configured).
type Expect struct {
	VRID    uint8   // the advert's VRID must be this
	Version Version // when set, the advert's version must be this
	// AuthType is the configured VRRPv2 authentication: a v2 advert's
	// type must equal it, and with AuthPass its data must equal
	// AuthData (compared in constant time). Not checked for v3.
	AuthType AuthType
	AuthData [authLen]byte
	// Interval, when set, must equal a v2 advert's interval (RFC 3768
	// §7.1, as keepalived). A v3 backup adopts the master's interval
	// instead (RFC 5798 §6.4.2), so v3 adverts are not checked.
	Interval Centiseconds
}

// Check returns nil when this virtual router takes the advert, else a
// *DropError: DropWrongVRID, DropBadVersion, DropAuthMismatch or
// DropIntervalMismatch, in that order.
func (e Expect) Check(a *Advert) error {
	if a.VRID != e.VRID {
		return drop(DropWrongVRID, "VRID %d, want %d", a.VRID, e.VRID)
	}
	if e.Version != 0 && a.Version != e.Version {
		return drop(DropBadVersion, "%s, want %s", a.Version, e.Version)
	}
	if a.Version != V2 {
		return nil
	}
	if a.AuthType != e.AuthType {
		return drop(DropAuthMismatch, "vrid %d: auth type %s, want %s", a.VRID, a.AuthType, e.AuthType)
	}
	if e.AuthType == AuthPass && subtle.ConstantTimeCompare(a.AuthData[:], e.AuthData[:]) != 1 {
		return drop(DropAuthMismatch, "vrid %d: wrong password", a.VRID)
	}
	if e.Interval != 0 && a.Interval != e.Interval {
		return drop(DropIntervalMismatch, "vrid %d: interval %s, want %s", a.VRID, a.Interval.Duration(), e.Interval.Duration())
	}
	return nil
}
