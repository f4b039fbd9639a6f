package vip

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// EtherTypes and sizes of the frames we build.
const (
	etherTypeARP  = 0x0806
	etherTypeIPv6 = 0x86dd
	ethHeaderLen  = 14
	ethMinLen     = 60 // without the FCS; shorter frames are padded
	ipv6HeaderLen = 40
	// naLen is an ICMPv6 neighbour advertisement (RFC 4861 4.4: 24
	// bytes) with one target link-layer address option (8 bytes).
	naLen           = 24 + 8
	protoICMPv6     = 58
	icmpv6NeighAdv  = 136
	naFlagOverride  = 0x20 // the O bit: replace the cached link-layer address
	optTargetLLAddr = 2
	ndHopLimit      = 255 // RFC 4861 7.1.2: receivers drop anything else
	// deadlineMargin is kept free before an action's deadline: repeats
	// that would reach into it are skipped, so that start returns before
	// its caller gives up on it.
	deadlineMargin  = 250 * time.Millisecond
	kindARPRequest  = "arp-request"
	kindARPReply    = "arp-reply"
	kindNeighAdvert = "neighbor-advert"
)

// Sent describes one announcement frame the agent has written.
type Sent struct {
	Kind  string    // "arp-request", "arp-reply" or "neighbor-advert"
	Round int       // 1 for the first round
	At    time.Time // when the write returned
}

// frame is one announcement, ready for the wire.
type frame struct {
	kind string
	dst  net.HardwareAddr
	b    []byte
}

func broadcastMAC() net.HardwareAddr { return net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff} }

// allNodesMAC is the Ethernet multicast address of ff02::1 (RFC 2464 7).
func allNodesMAC() net.HardwareAddr { return net.HardwareAddr{0x33, 0x33, 0, 0, 0, 1} }

// allNodes is ff02::1, the link-local all-nodes multicast address.
func allNodes() netip.Addr { return netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 15: 1}) }

// garpFrames builds the gratuitous ARP pair for ip: a request and a
// reply, both with sender IP = target IP = ip, broadcast. Neighbours
// differ in which one they heed (Linux takes both; some stacks and
// switches only replies, others only requests), so like arping -U and
// -A together we send both. The request's target hardware address is
// zero (RFC 5227 2.1.1); the reply's is our own, as arping -A sends it
// and as Linux requires to treat a reply as gratuitous (arp_is_garp),
// which lets it replace an entry updated less than locktime ago.
func garpFrames(mac net.HardwareAddr, ip netip.Addr) ([]frame, error) {
	req, err := arp.NewPacket(arp.OperationRequest, mac, ip, make(net.HardwareAddr, len(mac)), ip)
	if err != nil {
		return nil, fmt.Errorf("gratuitous ARP request for %s: %w", ip, err)
	}
	rep, err := arp.NewPacket(arp.OperationReply, mac, ip, mac, ip)
	if err != nil {
		return nil, fmt.Errorf("gratuitous ARP reply for %s: %w", ip, err)
	}
	var out []frame
	for _, p := range []struct {
		kind string
		pkt  *arp.Packet
	}{{kindARPRequest, req}, {kindARPReply, rep}} {
		body, err := p.pkt.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("%s for %s: %w", p.kind, ip, err)
		}
		b := ethHeader(broadcastMAC(), mac, etherTypeARP, body)
		for len(b) < ethMinLen {
			b = append(b, 0)
		}
		out = append(out, frame{kind: p.kind, dst: broadcastMAC(), b: b})
	}
	return out, nil
}

// naFrame builds an unsolicited neighbour advertisement for ip (RFC 4861
// 7.2.6): to all nodes, solicited flag clear, override flag set so that
// neighbours replace the link-layer address they cached, with the target
// link-layer address option carrying our MAC.
func naFrame(mac net.HardwareAddr, ip netip.Addr) ([]frame, error) {
	if len(mac) != 6 {
		return nil, fmt.Errorf("neighbor advert for %s: link-layer address %v is not Ethernet", ip, mac)
	}
	pkt := make([]byte, ipv6HeaderLen+naLen)
	h := pkt[:ipv6HeaderLen]
	h[0] = 6 << 4 // version 6, traffic class and flow label 0
	binary.BigEndian.PutUint16(h[4:6], naLen)
	h[6] = protoICMPv6
	h[7] = ndHopLimit
	src, dst := ip.As16(), allNodes().As16()
	copy(h[8:24], src[:])
	copy(h[24:40], dst[:])

	m := pkt[ipv6HeaderLen:]
	m[0] = icmpv6NeighAdv
	m[4] = naFlagOverride // R and S clear; then 29 reserved bits
	copy(m[8:24], src[:]) // the target is the VIP itself
	m[24] = optTargetLLAddr
	m[25] = 1 // option length in units of 8 bytes
	copy(m[26:32], mac)
	binary.BigEndian.PutUint16(m[2:4], icmpv6Checksum(ip, allNodes(), m))
	return []frame{{kind: kindNeighAdvert, dst: allNodesMAC(), b: ethHeader(allNodesMAC(), mac, etherTypeIPv6, pkt)}}, nil
}

// icmpv6Checksum is the ICMPv6 checksum of msg (its checksum field zero)
// over the IPv6 pseudo-header of RFC 8200 8.1: source, destination,
// upper-layer length, three zero bytes and next header 58. The sum is the
// one's complement sum of RFC 1071.
func icmpv6Checksum(src, dst netip.Addr, msg []byte) uint16 {
	var sum uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(b[i])<<8 | uint32(b[i+1])
		}
		if len(b)%2 == 1 {
			sum += uint32(b[len(b)-1]) << 8
		}
	}
	s, d := src.As16(), dst.As16()
	add(s[:])
	add(d[:])
	n := uint32(len(msg))
	sum += n>>16 + n&0xffff + protoICMPv6
	add(msg)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

func ethHeader(dst, src net.HardwareAddr, etherType uint16, payload []byte) []byte {
	b := make([]byte, ethHeaderLen, ethHeaderLen+len(payload))
	copy(b[0:6], dst)
	copy(b[6:12], src)
	binary.BigEndian.PutUint16(b[12:14], etherType)
	return append(b, payload...)
}

// announcer writes one VIP's announcements on one interface.
type announcer struct {
	conn   frameWriter
	frames []frame
}

// frameWriter is what the announcer needs of a *packet.Conn; tests of
// the sending loop give it a fake.
type frameWriter interface {
	WriteTo(b []byte, addr net.Addr) (int, error)
	Close() error
}

// canAnnounce reports whether neighbours on a link learn addresses from
// ARP or NDP: not on loopback, NOARP (point-to-point, tun) or other
// non-Ethernet links, where there is nobody to tell.
func canAnnounce(l netlink.Link) bool {
	at := l.Attrs()
	return at.Flags&(net.FlagLoopback|net.FlagPointToPoint) == 0 &&
		at.RawFlags&unix.IFF_NOARP == 0 && len(at.HardwareAddr) == 6
}

// ifaceOf is the net.Interface that packet.Listen wants.
func ifaceOf(l netlink.Link) *net.Interface {
	at := l.Attrs()
	return &net.Interface{Index: at.Index, MTU: at.MTU, Name: at.Name, HardwareAddr: at.HardwareAddr, Flags: at.Flags}
}

// openAnnouncer builds the frames and opens the raw socket that sends
// them. It runs before the address is added: a node without CAP_NET_RAW
// fails here, having changed nothing, and the first frame leaves right
// after the address is added.
func openAnnouncer(ifi *net.Interface, ip netip.Addr) (*announcer, error) {
	var (
		frames []frame
		err    error
		proto  = etherTypeIPv6
	)
	if ip.Is4() {
		frames, err = garpFrames(ifi.HardwareAddr, ip)
		proto = etherTypeARP
	} else {
		frames, err = naFrame(ifi.HardwareAddr, ip)
	}
	if err != nil {
		return nil, err
	}
	// The socket only sends. Bound to an EtherType, it would also queue
	// every ARP or IPv6 frame that arrives; a filter that accepts nothing
	// keeps its receive queue empty.
	drop, err := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: 0}})
	if err != nil {
		return nil, fmt.Errorf("assemble drop filter: %w", err)
	}
	conn, err := packet.Listen(ifi, packet.Raw, proto, &packet.Config{Filter: drop})
	if err != nil {
		return nil, fmt.Errorf("open raw socket on %s for announcements: %w (needs CAP_NET_RAW)", ifi.Name, err)
	}
	return &announcer{conn: conn, frames: frames}, nil
}

// close releases the socket without making the action wait: the kernel
// ends an AF_PACKET socket only after an RCU grace period
// (synchronize_net in packet_release), which took 10-12 ms per start
// here, more than the rest of a one-round start. The goroutine does
// nothing else and ends with the close.
func (an *announcer) close() {
	go func() { _ = an.conn.Close() }()
}

// round writes every frame of one round, calling sent after each write.
func (an *announcer) round(r int, sent func(Sent)) error {
	var errs []error
	for _, f := range an.frames {
		if _, err := an.conn.WriteTo(f.b, &packet.Addr{HardwareAddr: f.dst}); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.kind, err))
			continue
		}
		if sent != nil {
			sent(Sent{Kind: f.kind, Round: r, At: time.Now()})
		}
	}
	return errors.Join(errs...)
}

// announce sends count rounds: the first at once, the next ones interval
// apart. It stops early, without error, when ctx ends or when the next
// round would come too close to ctx's deadline, because the address is
// up and at least one round is out: a start must not time out over
// repeats. It returns the rounds sent, and an error only when no round
// got out at all.
func announce(ctx context.Context, an *announcer, count int, interval time.Duration, sent func(Sent), log *slog.Logger) (int, error) {
	return announceRounds(ctx, an, 1, count, interval, sent, log)
}

// announceRounds sends rounds first to last (numbered so), the first at
// once; see announce.
func announceRounds(ctx context.Context, an *announcer, first, last int, interval time.Duration, sent func(Sent), log *slog.Logger) (int, error) {
	count := last - first + 1
	var ok int
	var lastErr error
rounds:
	for r := first; r <= last; r++ {
		if r > first {
			if dl, has := ctx.Deadline(); has && time.Until(dl) < interval+deadlineMargin {
				log.Warn("announcements cut short by the action's deadline", "sent", ok, "wanted", count)
				break
			}
			t := time.NewTimer(interval)
			select {
			case <-ctx.Done():
				t.Stop()
				log.Warn("announcements cut short: action ended", "sent", ok, "wanted", count, "err", ctx.Err())
				break rounds
			case <-t.C:
			}
		}
		if err := an.round(r, sent); err != nil {
			lastErr = err
			log.Warn("announcement round failed", "round", r, "err", err)
			continue
		}
		ok++
	}
	if ok == 0 && lastErr != nil {
		return 0, fmt.Errorf("no announcement could be sent: %w", lastErr)
	}
	return ok, nil
}
