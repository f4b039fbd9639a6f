package vip

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/paceline/paceline/agents/ocf"
)

// nlink is one action's rtnetlink connection. Its socket is opened in
// the network namespace of the calling thread, so an agent run on a
// thread switched into a namespace acts in that namespace.
type nlink struct {
	h *netlink.Handle
}

func openNetlink() (*nlink, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("open rtnetlink: %w", err)
	}
	return &nlink{h: h}, nil
}

func (n *nlink) close() { n.h.Close() }

// target is where a VIP goes on this node: the interface and the prefix
// length.
type target struct {
	link   netlink.Link
	prefix int
}

func (t *target) name() string { return t.link.Attrs().Name }

// ifAddr is one address of one interface, the input of the pure choices
// below.
type ifAddr struct {
	Link   string
	Prefix netip.Prefix
}

// linkByName finds an interface; ok is false when there is none.
func (n *nlink) linkByName(name string) (l netlink.Link, ok bool, err error) {
	l, err = n.h.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) || errors.Is(err, unix.ENODEV) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("look up interface %s: %w", name, err)
	}
	return l, true, nil
}

// addrs lists the addresses of one family, of one link or (link nil) of
// all. A dump the kernel interrupted (addresses changed meanwhile) is
// read again.
func (n *nlink) addrs(link netlink.Link, ip netip.Addr) ([]netlink.Addr, error) {
	fam := netlink.FAMILY_V6
	if ip.Is4() {
		fam = netlink.FAMILY_V4
	}
	var err error
	for range 3 {
		var as []netlink.Addr
		if as, err = n.h.AddrList(link, fam); err == nil {
			return as, nil
		}
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	return nil, fmt.Errorf("list addresses: %w", err)
}

// present returns the addresses equal to ip on a link, whatever their
// prefix or label.
func (n *nlink) present(link netlink.Link, ip netip.Addr) ([]netlink.Addr, error) {
	as, err := n.addrs(link, ip)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", link.Attrs().Name, err)
	}
	var out []netlink.Addr
	for _, a := range as {
		if addrOf(a) == ip {
			out = append(out, a)
		}
	}
	return out, nil
}

// snapshot lists every address of ip's family with its interface's name.
func (n *nlink) snapshot(ip netip.Addr) ([]ifAddr, error) {
	links, err := n.h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	names := map[int]string{}
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	as, err := n.addrs(nil, ip)
	if err != nil {
		return nil, err
	}
	var out []ifAddr
	for _, a := range as {
		ones, _ := a.Mask.Size()
		if name, ok := names[a.LinkIndex]; ok {
			out = append(out, ifAddr{Link: name, Prefix: netip.PrefixFrom(addrOf(a), ones)})
		}
	}
	return out, nil
}

// resolve finds where a VIP goes, for start and validate-all: the nic
// (given, or the one interface whose subnet holds ip) and the prefix
// length (given, or that subnet's). A given nic missing here is
// ErrInstalled (this node lacks it); what no node could resolve is
// ErrConfigured.
func (n *nlink) resolve(c *config) (*target, error) {
	nic := c.NIC
	if nic == "" {
		snap, err := n.snapshot(c.IP)
		if err != nil {
			return nil, err
		}
		if nic, err = pickNIC(c.IP, snap); err != nil {
			return nil, fail(ocf.ErrConfigured, err)
		}
	}
	link, ok, err := n.linkByName(nic)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ocf.Failf(ocf.ErrInstalled, "parameter nic=%q: no such interface on this node", nic)
	}
	t := &target{link: link, prefix: c.Prefix}
	if t.prefix == 0 {
		as, err := n.addrs(link, c.IP)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", nic, err)
		}
		var own []ifAddr
		for _, a := range as {
			ones, _ := a.Mask.Size()
			own = append(own, ifAddr{Link: nic, Prefix: netip.PrefixFrom(addrOf(a), ones)})
		}
		if t.prefix, err = pickPrefix(c.IP, nic, own); err != nil {
			return nil, fail(ocf.ErrConfigured, err)
		}
	}
	if c.Label != "" && !strings.HasPrefix(c.Label, nic) {
		return nil, fail(ocf.ErrConfigured, paramError(paramLabel, c.Label,
			fmt.Sprintf("must start with the nic name %q (the kernel requires it)", nic)))
	}
	if c.Broadcast.IsValid() && !netip.PrefixFrom(c.IP, t.prefix).Masked().Contains(c.Broadcast) {
		return nil, fail(ocf.ErrConfigured, paramError(paramBroadcast, c.Broadcast.String(),
			fmt.Sprintf("not in %s", netip.PrefixFrom(c.IP, t.prefix).Masked())))
	}
	return t, nil
}

// locate finds the interfaces a VIP may be on, for stop and monitor: the
// given nic if it exists, else every interface that carries ip. It never
// fails for want of an interface: a VIP on no interface is simply not
// running.
func (n *nlink) locate(c *config) ([]netlink.Link, error) {
	if c.NIC != "" {
		l, ok, err := n.linkByName(c.NIC)
		if err != nil || !ok {
			return nil, err
		}
		return []netlink.Link{l}, nil
	}
	as, err := n.addrs(nil, c.IP)
	if err != nil {
		return nil, err
	}
	var out []netlink.Link
	var seen []int
	for _, a := range as {
		if addrOf(a) != c.IP || slices.Contains(seen, a.LinkIndex) {
			continue
		}
		seen = append(seen, a.LinkIndex)
		l, err := n.h.LinkByIndex(a.LinkIndex)
		if err != nil {
			return nil, fmt.Errorf("look up interface %d: %w", a.LinkIndex, err)
		}
		out = append(out, l)
	}
	return out, nil
}

// pickNIC chooses the interface for ip when nic is not given: the one
// whose subnet holds ip. The VIP's own address, if present, does not
// count (here and in pickPrefix): the choice must be the same on a node
// that already carries the VIP as on a fresh one.
func pickNIC(ip netip.Addr, addrs []ifAddr) (string, error) {
	var links []string
	for _, a := range addrs {
		if a.Prefix.Addr() != ip && a.Prefix.Masked().Contains(ip) && !slices.Contains(links, a.Link) {
			links = append(links, a.Link)
		}
	}
	switch len(links) {
	case 0:
		return "", paramError(paramNIC, "", fmt.Sprintf(
			"is not set and no interface has an address in a subnet holding ip %s: set nic (and cidr_netmask)", ip))
	case 1:
		return links[0], nil
	}
	slices.Sort(links)
	return "", paramError(paramNIC, "", fmt.Sprintf(
		"is not set and the subnet of ip %s is on several interfaces (%s): set nic", ip, strings.Join(links, ", ")))
}

// pickPrefix takes the prefix length for ip from nic's addresses when
// cidr_netmask is not given: the longest prefix among nic's subnets that
// hold ip.
func pickPrefix(ip netip.Addr, nic string, addrs []ifAddr) (int, error) {
	best := 0
	for _, a := range addrs {
		if a.Link == nic && a.Prefix.Addr() != ip && a.Prefix.Masked().Contains(ip) && a.Prefix.Bits() > best {
			best = a.Prefix.Bits()
		}
	}
	if best == 0 {
		return 0, paramError(paramNetmask, "", fmt.Sprintf(
			"is not set and no address on %s has a subnet holding ip %s: set cidr_netmask", nic, ip))
	}
	return best, nil
}

// ensure makes the VIP present on the target as configured: kept when it
// already is, else replaced (another prefix or label) or added. It
// reports whether it changed anything.
func (n *nlink) ensure(t *target, c *config) (changed bool, err error) {
	have, err := n.present(t.link, c.IP)
	if err != nil {
		return false, err
	}
	want := vipAddr(t, c)
	if len(have) == 1 {
		ones, _ := have[0].Mask.Size()
		if ones == t.prefix && (c.IP.Is6() || have[0].Label == want.Label) {
			return false, nil
		}
	}
	for _, a := range have {
		if err := n.h.AddrDel(t.link, &a); err != nil && !gone(err) {
			return false, fmt.Errorf("remove %s from %s to replace it: %w", a.IPNet, t.name(), needsAdmin(err))
		}
	}
	if err := n.h.AddrAdd(t.link, want); err != nil && !errors.Is(err, unix.EEXIST) {
		return false, fmt.Errorf("add %s to %s: %w", want.IPNet, t.name(), needsAdmin(err))
	}
	return true, nil
}

// vipAddr is the netlink address to add.
func vipAddr(t *target, c *config) *netlink.Addr {
	a := &netlink.Addr{IPNet: &net.IPNet{
		IP:   net.IP(c.IP.AsSlice()),
		Mask: net.CIDRMask(t.prefix, c.bits()),
	}, Scope: int(c.Scope)}
	if c.IP.Is4() {
		a.Label = c.Label
		if a.Label == "" {
			a.Label = t.name()
		}
		if c.Broadcast.IsValid() {
			a.Broadcast = net.IP(c.Broadcast.AsSlice())
		}
		return a
	}
	// Without NODAD an IPv6 address stays tentative for a second or more
	// while duplicate address detection runs, and cannot be used: a
	// failover would stall that long. The cluster, not DAD, makes sure
	// that one node holds the address.
	a.Flags = unix.IFA_F_NODAD
	return a
}

// remove deletes every copy of ip from a link; it reports how many.
func (n *nlink) remove(link netlink.Link, ip netip.Addr) (int, error) {
	have, err := n.present(link, ip)
	if err != nil {
		return 0, err
	}
	for _, a := range have {
		if err := n.h.AddrDel(link, &a); err != nil && !gone(err) {
			return 0, fmt.Errorf("remove %s from %s: %w", a.IPNet, link.Attrs().Name, needsAdmin(err))
		}
	}
	return len(have), nil
}

// needsAdmin names the missing capability when the kernel refused a
// change of addresses.
func needsAdmin(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%w (needs CAP_NET_ADMIN)", err)
	}
	return err
}

// gone reports a delete that failed because the address was already
// gone (a race with someone else removing it).
func gone(err error) bool {
	return errors.Is(err, unix.EADDRNOTAVAIL) || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENODEV)
}

// linkDown says why a link cannot carry traffic, or "" if it can. An
// unknown operational state (dummy and some virtual devices) counts as
// up, as the kernel itself treats it.
func linkDown(l netlink.Link) string {
	at := l.Attrs()
	switch {
	case at.Flags&net.FlagUp == 0:
		return fmt.Sprintf("interface %s is administratively down", at.Name)
	case at.OperState == netlink.OperDown:
		return fmt.Sprintf("interface %s has no carrier (operstate down)", at.Name)
	case at.OperState == netlink.OperLowerLayerDown:
		return fmt.Sprintf("interface %s is down (its lower layer is down)", at.Name)
	case at.OperState == netlink.OperNotPresent:
		return fmt.Sprintf("interface %s is not present", at.Name)
	}
	return ""
}

func addrOf(a netlink.Addr) netip.Addr {
	ip, _ := netip.AddrFromSlice(a.IP)
	return ip.Unmap()
}
