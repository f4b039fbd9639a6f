package vrrp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// DefaultGroup returns VRRP's multicast group: 224.0.0.18 for IPv4,
// ff02::12 for IPv6 (RFC 5798 §5.1.1.2, §5.1.2.2).
func DefaultGroup(ipv6 bool) netip.Addr {
	if ipv6 {
		return netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 15: 0x12})
	}
	return netip.AddrFrom4([4]byte{224, 0, 0, 18})
}

// Config says where a Conn listens and sends.
type Config struct {
	// Interface is the one link the socket is bound to
	// (SO_BINDTODEVICE): it receives only what arrives there, and sends
	// only there.
	Interface string
	// IPv6 selects ip6:112 (VRRPv3 only) instead of ip4:112.
	IPv6 bool
	// Source is the source of every advert sent, and so part of the
	// VRRPv3 checksum: it must be an address of Interface. Zero: the
	// interface's first IPv4 address (its primary, RFC 5798 §5.1.1.1),
	// or its first IPv6 link-local address (§5.1.2.1).
	Source netip.Addr
	// Group is the multicast group joined on Interface and the
	// destination of Send without one. Zero: DefaultGroup.
	Group netip.Addr
	// NoMulticast joins no group: for unicast peers only.
	NoMulticast bool
}

// Packet is one received IP packet of protocol 112, before Parse.
type Packet struct {
	Data    []byte     // the VRRP message, IP header removed
	Src     netip.Addr // IPv6 link-local sources carry the interface as zone
	Dst     netip.Addr // the group or our unicast address; zero if unknown
	TTL     int        // IPv4 TTL or IPv6 hop limit; -1 if unknown (Parse then drops it)
	IfIndex int        // the interface it arrived on; 0 if unknown
}

// Parse is Parse(p.Data, p.Src, p.Dst, p.TTL).
func (p *Packet) Parse() (Advert, error) { return Parse(p.Data, p.Src, p.Dst, p.TTL) }

// recvBufLen holds the longest valid advert (VRRPv3 over IPv6 with 255
// addresses: 4088 bytes); a longer packet is cut here, and Parse then
// drops it for its length.
const recvBufLen = 8192

// Conn is a raw IP socket for VRRP on one interface (protocol 112; root
// or CAP_NET_RAW): it sends adverts with TTL or hop limit 255 and the
// configured source, and receives packets with the TTL, destination and
// interface the kernel reports for each. The checksum is always this
// package's (Marshal, Parse), for IPv6 too: the socket does not set
// IPV6_CHECKSUM, so the kernel neither fills in nor checks it, and bad
// checksums reach Parse and its counters like any other drop.
//
// Send may be called from any goroutine; Receive from one at a time.
type Conn struct {
	log     *slog.Logger
	ifi     *net.Interface
	ipv6    bool
	src     netip.Addr
	group   netip.Addr // zero with NoMulticast
	pc      net.PacketConn
	p4      *ipv4.PacketConn
	p6      *ipv6.PacketConn
	network string
}

// Listen opens the socket described by cfg. It logs through log.
func Listen(ctx context.Context, cfg Config, log *slog.Logger) (*Conn, error) {
	network, laddr := "ip4:112", "0.0.0.0"
	if cfg.IPv6 {
		network, laddr = "ip6:112", "::"
	}
	ifi, err := net.InterfaceByName(cfg.Interface)
	if err != nil {
		return nil, fmt.Errorf("vrrp: listen %s on interface %q: %w", network, cfg.Interface, err)
	}
	src, err := source(ifi, cfg)
	if err != nil {
		return nil, fmt.Errorf("vrrp: listen %s on interface %q: %w", network, cfg.Interface, err)
	}
	var group netip.Addr
	if !cfg.NoMulticast {
		group = cfg.Group
		if !group.IsValid() {
			group = DefaultGroup(cfg.IPv6)
		}
		if !group.IsMulticast() || group.Is4() == cfg.IPv6 {
			return nil, fmt.Errorf("vrrp: listen %s on interface %q: group %v is not a multicast address of the socket's family", network, cfg.Interface, group)
		}
	}
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ifi.Name)
		}); err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("SO_BINDTODEVICE %s: %w", ifi.Name, serr)
		}
		return nil
	}}
	pc, err := lc.ListenPacket(ctx, network, laddr)
	if err != nil {
		return nil, fmt.Errorf("vrrp: listen %s on interface %q: %w", network, cfg.Interface, err)
	}
	c := &Conn{log: log, ifi: ifi, ipv6: cfg.IPv6, src: src, group: group, pc: pc, network: network}
	if cfg.IPv6 {
		err = c.setup6()
	} else {
		err = c.setup4()
	}
	if err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("vrrp: listen %s on interface %q: %w", network, cfg.Interface, err)
	}
	log.Debug("vrrp socket open", "network", network, "interface", ifi.Name, "source", src, "group", group)
	return c, nil
}

// source picks or checks the source address (see Config.Source).
func source(ifi *net.Interface, cfg Config) (netip.Addr, error) {
	addrs, err := ifi.Addrs()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("addresses: %w", err)
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(ipn.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		switch {
		case cfg.Source.IsValid():
			if ip == cfg.Source.WithZone("") {
				return ip, nil
			}
		case cfg.IPv6 && ip.Is6() && ip.IsLinkLocalUnicast():
			return ip, nil
		case !cfg.IPv6 && ip.Is4():
			return ip, nil
		}
	}
	switch {
	case cfg.Source.IsValid():
		return netip.Addr{}, fmt.Errorf("source %v is not an address of the interface", cfg.Source)
	case cfg.IPv6:
		return netip.Addr{}, errors.New("no IPv6 link-local address to send from")
	}
	return netip.Addr{}, errors.New("no IPv4 address to send from")
}

// sockopt is one socket option to set, named for errors.
type sockopt struct {
	what string
	set  func() error
}

// multicastOpts is what ipv4.PacketConn and ipv6.PacketConn share.
type multicastOpts interface {
	SetMulticastLoopback(on bool) error
	SetMulticastInterface(ifi *net.Interface) error
	JoinGroup(ifi *net.Interface, group net.Addr) error
}

func (c *Conn) setup4() error {
	p := ipv4.NewPacketConn(c.pc)
	c.p4 = p
	return c.setup(p, []sockopt{
		{"control messages (TTL, destination, interface)", func() error {
			return p.SetControlMessage(ipv4.FlagTTL|ipv4.FlagDst|ipv4.FlagInterface, true)
		}},
		{"TTL", func() error { return p.SetTTL(TTL) }},
		{"multicast TTL", func() error { return p.SetMulticastTTL(TTL) }},
		{"TOS", func() error { return p.SetTOS(tosNetControl) }},
	})
}

func (c *Conn) setup6() error {
	p := ipv6.NewPacketConn(c.pc)
	c.p6 = p
	return c.setup(p, []sockopt{
		{"control messages (hop limit, destination, interface)", func() error {
			return p.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagDst|ipv6.FlagInterface, true)
		}},
		{"hop limit", func() error { return p.SetHopLimit(TTL) }},
		{"multicast hop limit", func() error { return p.SetMulticastHopLimit(TTL) }},
		{"traffic class", func() error { return p.SetTrafficClass(tosNetControl) }},
	})
}

// tosNetControl is the IPv4 TOS and IPv6 traffic class of adverts:
// internetwork control (DSCP CS6), as keepalived's.
const tosNetControl = 0xc0

// setup sets the family's options, then the multicast ones: loopback
// off (a node does not hear its own adverts), the interface, and the
// group unless there is none.
func (c *Conn) setup(m multicastOpts, opts []sockopt) error {
	opts = append(opts,
		sockopt{"multicast loopback", func() error { return m.SetMulticastLoopback(false) }},
		sockopt{"multicast interface", func() error { return m.SetMulticastInterface(c.ifi) }})
	if c.group.IsValid() {
		opts = append(opts, sockopt{"join group " + c.group.String(), func() error {
			return m.JoinGroup(c.ifi, &net.IPAddr{IP: c.group.AsSlice()})
		}})
	}
	for _, o := range opts {
		if err := o.set(); err != nil {
			return fmt.Errorf("%s: %w", o.what, err)
		}
	}
	return nil
}

// Source returns the address adverts are sent from.
func (c *Conn) Source() netip.Addr { return c.src }

// Group returns the multicast group joined (zero with NoMulticast).
func (c *Conn) Group() netip.Addr { return c.group }

// Interface returns the interface the socket is bound to.
func (c *Conn) Interface() *net.Interface { return c.ifi }

// Send encodes the advert from Source to dst (the group when dst is
// zero) and sends it there with TTL or hop limit 255.
func (c *Conn) Send(a *Advert, dst netip.Addr) error {
	if !dst.IsValid() {
		dst = c.group
	}
	if !dst.IsValid() {
		return fmt.Errorf("vrrp: send on %s: no destination and no multicast group", c.ifi.Name)
	}
	b, err := a.Marshal(c.src, dst)
	if err != nil {
		return fmt.Errorf("vrrp: send on %s to %v: %w", c.ifi.Name, dst, err)
	}
	to := &net.IPAddr{IP: dst.AsSlice()}
	if c.ipv6 {
		if dst.IsLinkLocalUnicast() || dst.IsLinkLocalMulticast() || dst.IsInterfaceLocalMulticast() {
			// By index: Go would look a name up in the namespace of the
			// calling thread, which need not be the socket's.
			to.Zone = strconv.Itoa(c.ifi.Index)
		}
		_, err = c.p6.WriteTo(b, &ipv6.ControlMessage{HopLimit: TTL, Src: c.src.AsSlice(), IfIndex: c.ifi.Index}, to)
	} else {
		_, err = c.p4.WriteTo(b, &ipv4.ControlMessage{Src: c.src.AsSlice(), IfIndex: c.ifi.Index}, to)
	}
	if err != nil {
		return fmt.Errorf("vrrp: send on %s to %v: %w", c.ifi.Name, dst, err)
	}
	return nil
}

// Receive waits for the next packet until ctx ends (its error is then
// returned) or the Conn is closed (an error wrapping net.ErrClosed).
func (c *Conn) Receive(ctx context.Context) (Packet, error) {
	if err := ctx.Err(); err != nil {
		return Packet{}, err
	}
	deadline, hasDeadline := ctx.Deadline()
	if err := c.pc.SetReadDeadline(deadline); err != nil {
		return Packet{}, fmt.Errorf("vrrp: receive on %s: %w", c.ifi.Name, err)
	}
	// Cancellation wakes the read by moving its deadline to the past.
	// The next Receive sets its own deadline, so this one must not run
	// late: wait for it if it has started.
	woken := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(woken)
		_ = c.pc.SetReadDeadline(time.Unix(1, 0))
	})
	defer func() {
		if !stop() {
			<-woken
		}
	}()
	buf := make([]byte, recvBufLen)
	p := Packet{TTL: -1}
	var (
		n    int
		from net.Addr
		err  error
	)
	if c.ipv6 {
		var cm *ipv6.ControlMessage
		n, cm, from, err = c.p6.ReadFrom(buf)
		if cm != nil {
			p.TTL, p.IfIndex = cm.HopLimit, cm.IfIndex
			p.Dst = ipAddr(cm.Dst, "")
		}
	} else {
		var cm *ipv4.ControlMessage
		n, cm, from, err = c.p4.ReadFrom(buf)
		if cm != nil {
			p.TTL, p.IfIndex = cm.TTL, cm.IfIndex
			p.Dst = ipAddr(cm.Dst, "")
		}
	}
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if cerr := ctx.Err(); cerr != nil {
				return Packet{}, cerr
			}
			if hasDeadline {
				return Packet{}, context.DeadlineExceeded
			}
		}
		return Packet{}, fmt.Errorf("vrrp: receive on %s: %w", c.ifi.Name, err)
	}
	if ia, ok := from.(*net.IPAddr); ok {
		zone := ""
		if c.ipv6 && ia.IP.IsLinkLocalUnicast() {
			// The bound interface's name: Go names the kernel's scope
			// ID in the calling thread's namespace, maybe not the
			// socket's.
			zone = c.ifi.Name
		}
		p.Src = ipAddr(ia.IP, zone)
	}
	p.Data = append([]byte(nil), buf[:n]...)
	return p, nil
}

func ipAddr(ip net.IP, zone string) netip.Addr {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Addr{}
	}
	a = a.Unmap()
	if zone != "" && a.Is6() {
		a = a.WithZone(zone)
	}
	return a
}

// Close closes the socket; a Receive under way returns.
func (c *Conn) Close() error {
	if err := c.pc.Close(); err != nil {
		return fmt.Errorf("vrrp: close %s on %s: %w", c.network, c.ifi.Name, err)
	}
	c.log.Debug("vrrp socket closed", "network", c.network, "interface", c.ifi.Name)
	return nil
}
