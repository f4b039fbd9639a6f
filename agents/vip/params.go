package vip

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/paceline/paceline/agents/ocf"
)

// Parameter names (OCF_RESKEY_<name>).
const (
	paramIP          = "ip"
	paramNetmask     = "cidr_netmask"
	paramNIC         = "nic"
	paramLabel       = "label"
	paramBroadcast   = "broadcast"
	paramScope       = "scope"
	paramARPCount    = "arp_count"
	paramARPInterval = "arp_interval"
)

// Defaults and bounds of the announcement parameters. IPaddr2 sends 5
// rounds 200 ms apart; so do we.
const (
	defaultARPCount    = 5
	defaultARPInterval = 200 * time.Millisecond
	maxARPCount        = 1000
	minARPInterval     = time.Millisecond
	// maxARPInterval also catches an IPaddr2 setting carried over as is:
	// IPaddr2's bare arp_interval is milliseconds, ours is seconds.
	maxARPInterval = 10 * time.Second
	// ifNameMax is IFNAMSIZ-1: the kernel's limit for interface names and
	// IPv4 address labels alike.
	ifNameMax = 15
)

// config is a VIP resource's parameters, parsed and checked. What needs
// the node (the interface, a prefix length taken from it) is resolved
// later, by resolve.
type config struct {
	IP          netip.Addr
	Prefix      int        // 0: take it from the interface's subnet
	NIC         string     // "": the interface whose subnet holds IP
	Label       string     // IPv4 only; "": the kernel's default (the nic name)
	Broadcast   netip.Addr // IPv4 only; invalid: computed from the prefix
	Scope       uint8      // 0: global
	ARPCount    int
	ARPInterval time.Duration
}

// bits is the address length: 32 or 128.
func (c *config) bits() int { return c.IP.BitLen() }

// family names the IP version for messages.
func (c *config) family() string {
	if c.IP.Is4() {
		return "IPv4"
	}
	return "IPv6"
}

// paramError is a bad parameter value; its message names the parameter
// and quotes the value, so the operator sees what to fix.
func paramError(name, value, reason string) error {
	if value == "" {
		return fmt.Errorf("parameter %s %s", name, reason)
	}
	return fmt.Errorf("parameter %s=%q: %s", name, value, reason)
}

// parseConfig reads and checks every parameter, reporting every problem
// at once. Unset and empty parameters take their defaults.
func parseConfig(params map[string]string) (*config, error) {
	c := &config{ARPCount: defaultARPCount, ARPInterval: defaultARPInterval}
	var errs []error
	bad := func(name, reason string) { errs = append(errs, paramError(name, params[name], reason)) }

	if v := params[paramIP]; v == "" {
		bad(paramIP, "is required: the virtual IPv4 or IPv6 address")
	} else if ip, reason := parseIP(v); reason != "" {
		bad(paramIP, reason)
	} else {
		c.IP = ip
	}
	// The checks below that depend on the family run only once ip is
	// good; a bad ip has been reported already.
	if v := params[paramNetmask]; v != "" {
		if n, reason := parsePrefix(v, c.IP); reason != "" {
			bad(paramNetmask, reason)
		} else {
			c.Prefix = n
		}
	}
	if v := params[paramNIC]; v != "" {
		if reason := checkIfName(v); reason != "" {
			if strings.Contains(v, ":") {
				reason += `; for an IPaddr2-style alias such as eth0:1 set nic=eth0 and label=eth0:1`
			}
			bad(paramNIC, reason)
		} else {
			c.NIC = v
		}
	}
	if v := params[paramLabel]; v != "" {
		switch {
		case c.IP.Is6():
			bad(paramLabel, "labels exist for IPv4 addresses only")
		case len(v) > ifNameMax:
			bad(paramLabel, fmt.Sprintf("longer than %d characters (the kernel's limit)", ifNameMax))
		case strings.ContainsAny(v, " \t\n/"):
			bad(paramLabel, "must not contain white space or '/'")
		case c.NIC != "" && !strings.HasPrefix(v, c.NIC):
			bad(paramLabel, fmt.Sprintf("must start with the nic name %q (the kernel requires it), e.g. %s:vip", c.NIC, c.NIC))
		default:
			c.Label = v
		}
	}
	if v := params[paramBroadcast]; v != "" {
		b, err := netip.ParseAddr(v)
		switch {
		case c.IP.Is6():
			bad(paramBroadcast, "IPv6 has no broadcast address")
		case err != nil || !b.Is4():
			bad(paramBroadcast, "not an IPv4 address")
		default:
			c.Broadcast = b
		}
	}
	if v := params[paramScope]; v != "" {
		if sc, ok := parseScope(v); ok {
			c.Scope = sc
		} else {
			bad(paramScope, "want global, site, link, host, nowhere or a number 0-255")
		}
	}
	if v := params[paramARPCount]; v != "" {
		n, err := ocf.ParseInt(v)
		switch {
		case err != nil:
			bad(paramARPCount, err.Error())
		case n < 0 || n > maxARPCount:
			bad(paramARPCount, fmt.Sprintf("must be 0..%d (0: send no announcements)", maxARPCount))
		default:
			c.ARPCount = n
		}
	}
	if v := params[paramARPInterval]; v != "" {
		d, err := ocf.ParseDuration(v)
		switch {
		case err != nil:
			bad(paramARPInterval, err.Error())
		case d < minARPInterval:
			bad(paramARPInterval, fmt.Sprintf("must be at least %v", minARPInterval))
		case d > maxARPInterval:
			bad(paramARPInterval, fmt.Sprintf("%v is more than %v; a bare number is seconds here (IPaddr2's is milliseconds): write e.g. 200ms", d, maxARPInterval))
		default:
			c.ARPInterval = d
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// parseIP reads the ip parameter; it returns a reason when the value is
// not an address a host can carry as a VIP.
func parseIP(v string) (netip.Addr, string) {
	if strings.Contains(v, "/") {
		return netip.Addr{}, "give the address alone; set the prefix length with cidr_netmask"
	}
	ip, err := netip.ParseAddr(v)
	switch {
	case err != nil:
		return ip, "not an IPv4 or IPv6 address"
	case ip.Zone() != "":
		return ip, "must not carry a zone; set the interface with nic"
	case ip.Is4In6():
		return ip, "an IPv4-mapped IPv6 address; give the IPv4 address " + ip.Unmap().String()
	case ip.IsUnspecified(), ip.IsMulticast(), ip.IsLoopback(), ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return ip, "not a unicast address a host can carry"
	}
	return ip, ""
}

// parsePrefix reads cidr_netmask: a prefix length, or for IPv4 also a
// dotted netmask (255.255.255.0). ip may be invalid when the ip
// parameter was bad; then only the form is checked.
func parsePrefix(v string, ip netip.Addr) (int, string) {
	n, err := ocf.ParseInt(v)
	if err != nil {
		m, merr := netip.ParseAddr(v)
		if merr != nil || !m.Is4() {
			return 0, "not a prefix length (e.g. 24) or an IPv4 netmask (e.g. 255.255.255.0)"
		}
		if ip.Is6() {
			return 0, "a dotted netmask is for IPv4; give an IPv6 prefix length (e.g. 64)"
		}
		if n = maskLen(m.As4()); n < 0 {
			return 0, "not a contiguous netmask"
		}
	}
	max := 128
	if ip.Is4() {
		max = 32
	}
	if n < 1 || n > max {
		return 0, fmt.Sprintf("the prefix length must be 1..%d", max)
	}
	return n, ""
}

// maskLen is the prefix length of a netmask, or -1 if its ones are not
// contiguous.
func maskLen(m [4]byte) int {
	v := uint32(m[0])<<24 | uint32(m[1])<<16 | uint32(m[2])<<8 | uint32(m[3])
	n := 0
	for v&(1<<31) != 0 {
		v <<= 1
		n++
	}
	if v != 0 {
		return -1
	}
	return n
}

// checkIfName applies the kernel's rules for an interface name
// (dev_valid_name): 1..15 bytes, not "." or "..", no '/', ':' or white
// space.
func checkIfName(s string) string {
	switch {
	case len(s) > ifNameMax:
		return fmt.Sprintf("longer than %d characters (not an interface name)", ifNameMax)
	case s == "." || s == "..":
		return "not an interface name"
	case strings.ContainsAny(s, "/: \t\n"):
		return "not an interface name (it must not contain '/', ':' or white space)"
	}
	return ""
}

// parseScope reads an address scope as ip-address(8) names them
// (/etc/iproute2/rt_scopes) or as a number.
func parseScope(v string) (uint8, bool) {
	switch v {
	case "global", "universe":
		return 0, true
	case "site":
		return 200, true
	case "link":
		return 253, true
	case "host":
		return 254, true
	case "nowhere":
		return 255, true
	}
	n, err := strconv.ParseUint(v, 10, 8)
	return uint8(n), err == nil
}
