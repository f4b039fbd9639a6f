package kaconf

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"
)

// This file reads vrrp_instance blocks (keepalived/vrrp/vrrp_parser.c and,
// for addresses, vrrp_ipaddress.c: alloc_ipaddress). Settings that depend
// on others (priority from state, version from family, ...) are resolved
// once the whole file is read, in complete.go.

// instBuild is an instance being read: the Instance and what its
// directives said before defaults are applied.
type instBuild struct {
	in   *Instance
	node *Node
	sc   string // "vrrp_instance NAME", for messages

	state        State // "" until set
	priority     int   // 0 until set
	version      int   // 0 until set
	vrid         bool
	vridSeen     bool          // a virtual_router_id line, valid or not
	vipSeen      bool          // a virtual_ipaddress line, valid or not
	advert       time.Duration // 0 until set
	advertNode   *Node
	authType     string
	authPass     string
	authNode     *Node
	nopreempt    bool
	preemptDelay *Node
	accept       int // -1 until set, else 0 or 1
	strict       int // -1 until set, else 0 or 1
	familyNode   *Node
	familyWhat   string // what set the family, for messages
	unicastNode  *Node  // the first unicast keyword
	mcastDst     netip.Addr
	mcastDstNode *Node
	tsNodes      []*Node // the node of each TrackScripts entry
	tiNodes      []*Node // the node of each TrackInterfaces entry
}

// instKeywords are the vrrp_instance directives Paceline reads.
var instKeywords = map[string]func(*parser, *instBuild, *Node){
	"state":             (*parser).instState,
	"interface":         (*parser).instInterface,
	"virtual_router_id": (*parser).instVRID,
	"priority":          (*parser).instPriority,
	"advert_int":        (*parser).instAdvertInt,
	"authentication":    (*parser).instAuth,
	"nopreempt": func(p *parser, b *instBuild, n *Node) {
		if p.args(n, b.sc, 0, 0) {
			b.nopreempt = true
		}
	},
	"preempt": func(p *parser, b *instBuild, n *Node) {
		if p.args(n, b.sc, 0, 0) {
			b.nopreempt = false
		}
	},
	"preempt_delay":              (*parser).instPreemptDelay,
	"virtual_ipaddress":          func(p *parser, b *instBuild, n *Node) { p.instVIPs(b, n, false) },
	"virtual_ipaddress_excluded": func(p *parser, b *instBuild, n *Node) { p.instVIPs(b, n, true) },
	"unicast_src_ip":             (*parser).instSrcIP,
	"mcast_src_ip":               (*parser).instSrcIP,
	"unicast_peer":               (*parser).instUnicastPeer,
	"mcast_dst_ip":               (*parser).instMcastDst,
	"garp_master_delay":          func(p *parser, b *instBuild, n *Node) { p.garpDelay(n, b.sc, &b.in.GARP.MasterDelay) },
	"garp_master_repeat":         func(p *parser, b *instBuild, n *Node) { p.garpRepeat(n, b.sc, &b.in.GARP.MasterRepeat) },
	"garp_master_refresh":        func(p *parser, b *instBuild, n *Node) { p.garpRefresh(n, b.sc, &b.in.GARP.MasterRefresh) },
	"garp_master_refresh_repeat": func(p *parser, b *instBuild, n *Node) { p.garpRepeat(n, b.sc, &b.in.GARP.MasterRefreshRepeat) },
	"dont_track_primary": func(p *parser, b *instBuild, n *Node) {
		if p.args(n, b.sc, 0, 0) {
			b.in.DontTrackPrimary = true
		}
	},
	"accept": func(p *parser, b *instBuild, n *Node) {
		if p.args(n, b.sc, 0, 0) {
			b.accept = 1
		}
	},
	"no_accept": func(p *parser, b *instBuild, n *Node) {
		if p.args(n, b.sc, 0, 0) {
			b.accept = 0
		}
	},
	"strict_mode": func(p *parser, b *instBuild, n *Node) {
		if v, ok := p.flag(n, b.sc); ok {
			b.strict = boolInt(v)
		}
	},
	"version":     (*parser).instVersion,
	"native_ipv6": (*parser).instNativeIPv6,
}

// instUnsupported are the other vrrp_instance keywords of keepalived 2.2.
var instUnsupported = map[string]string{
	"use_vmac":                   "use_vmac (VMAC interfaces)",
	"use_vmac_addr":              "use_vmac_addr (VMAC interfaces)",
	"vmac_xmit_base":             "vmac_xmit_base (VMAC interfaces)",
	"garp_extra_if":              "garp_extra_if (VMAC interfaces)",
	"vmac_garp_intvl":            "vmac_garp_intvl (VMAC interfaces)",
	"use_ipvlan":                 "use_ipvlan",
	"vrf":                        "vrf",
	"unicast_fault_no_peer":      "unicast_fault_no_peer",
	"check_unicast_src":          "check_unicast_src",
	"old_unicast_checksum":       "old_unicast_checksum",
	"unicast_ttl":                "unicast_ttl",
	"track_src_ip":               "track_src_ip",
	"track_file":                 "track_file",
	"track_process":              "track_process",
	"track_bfd":                  "track_bfd (BFD)",
	"virtual_routes":             "virtual_routes",
	"virtual_rules":              "virtual_rules",
	"promote_secondaries":        "promote_secondaries",
	"linkbeat_use_polling":       "linkbeat_use_polling",
	"skip_check_adv_addr":        "skip_check_adv_addr",
	"notify_deleted":             "notify_deleted",
	"notify_master_rx_lower_pri": "notify_master_rx_lower_pri",
	"notify_priority_changes":    "notify_priority_changes (notify FIFO)",
	"lvs_sync_daemon_interface":  "lvs_sync_daemon_interface (LVS)",
	"garp_lower_prio_delay":      "garp_lower_prio_delay",
	"garp_lower_prio_repeat":     "garp_lower_prio_repeat",
	"down_timer_adverts":         "down_timer_adverts",
	"lower_prio_no_advert":       "lower_prio_no_advert",
	"higher_prio_send_advert":    "higher_prio_send_advert",
	"kernel_rx_buf_size":         "kernel_rx_buf_size",
	"debug":                      "debug",
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}

func (p *parser) vrrpInstance(n *Node) {
	name, sc, ok := p.named(n, func(name string) (Pos, bool) {
		b, ok := p.byName[name]
		if !ok {
			return Pos{}, false
		}
		return b.in.Pos, true
	})
	if !ok {
		return
	}
	b := &instBuild{
		in: &Instance{
			Name: name,
			Pos:  n.Pos(),
			// keepalived copies the global settings when it meets the
			// instance (alloc_vrrp).
			GARP: p.cfg.Globals.GARP,
		},
		node:   n,
		sc:     sc,
		accept: -1,
		strict: -1,
	}
	p.byName[name] = b
	p.builds = append(p.builds, b)
	readBlock(p, n, sc, instKeywords, b, &sharedTarget{
		scripts: &b.in.TrackScripts, scriptNodes: &b.tsNodes,
		interfaces: &b.in.TrackInterfaces, interfaceNodes: &b.tiNodes,
		notify: &b.in.Notify,
	}, instUnsupported)
}

func (p *parser) instState(b *instBuild, n *Node) {
	if !p.args(n, b.sc, 1, 1) {
		return
	}
	switch s := State(n.Args[0]); s {
	case StateMaster:
		b.state = s
	case StateBackup:
		if b.state == StateMaster {
			p.warnf(n, b.sc, "state BACKUP after state MASTER ignored, as keepalived does")
			return
		}
		b.state = s
	default:
		p.errf(n, b.sc, "state must be MASTER or BACKUP, not %q", n.Args[0])
	}
}

func (p *parser) instInterface(b *instBuild, n *Node) {
	if !p.args(n, b.sc, 1, 1) {
		return
	}
	if err := checkIfName(n.Args[0]); err != nil {
		p.errf(n, b.sc, "interface: %v", err)
		return
	}
	b.in.Interface = n.Args[0]
}

func (p *parser) instVRID(b *instBuild, n *Node) {
	b.vridSeen = true
	if !p.args(n, b.sc, 1, 1) {
		return
	}
	v, err := parseUint(n.Args[0], 1, 255)
	if err != nil {
		p.errf(n, b.sc, "virtual_router_id must be between 1 and 255: %v", err)
		return
	}
	b.in.VRID, b.vrid = uint8(v), true
}

func (p *parser) instPriority(b *instBuild, n *Node) {
	if !p.args(n, b.sc, 1, 1) {
		return
	}
	v, err := parseUint(n.Args[0], 1, 255)
	if err != nil {
		p.errf(n, b.sc, "priority must be between 1 and 255: %v", err)
		return
	}
	b.priority = v
}

func (p *parser) instAdvertInt(b *instBuild, n *Node) {
	if !p.args(n, b.sc, 1, 1) {
		return
	}
	d, err := parseSeconds(n.Args[0], 10*time.Millisecond, 255*time.Second)
	if err != nil {
		p.errf(n, b.sc, "advert_int: %v", err)
		return
	}
	b.advert, b.advertNode = d, n
}

func (p *parser) instPreemptDelay(b *instBuild, n *Node) {
	if !p.args(n, b.sc, 1, 1) {
		return
	}
	d, err := parseSeconds(n.Args[0], 0, 1000*time.Second)
	if err != nil {
		p.errf(n, b.sc, "preempt_delay: %v", err)
		return
	}
	b.in.PreemptDelay, b.preemptDelay = d, n
	if d == 0 {
		b.preemptDelay = nil
	}
}

// vrrpAuthLen is the size of the VRRPv2 authentication data (RFC 2338
// section 5.3.10): a longer auth_pass is cut.
const vrrpAuthLen = 8

func (p *parser) instAuth(b *instBuild, n *Node) {
	if !p.block(n, b.sc, 0) {
		return
	}
	sc := b.sc + ": authentication"
	for _, c := range n.Block {
		switch c.Keyword {
		case "auth_type":
			if !p.args(c, sc, 1, 1) {
				continue
			}
			if c.Args[0] != "PASS" && c.Args[0] != "AH" {
				p.errf(c, sc, "auth_type must be PASS or AH, not %q", c.Args[0])
				continue
			}
			b.authType, b.authNode = c.Args[0], c
		case "auth_pass":
			if !p.args(c, sc, 1, 1) {
				continue
			}
			pass := c.Args[0]
			if len(pass) > vrrpAuthLen {
				p.warnf(c, sc, "auth_pass is cut to its first %d characters, as keepalived does", vrrpAuthLen)
				pass = pass[:vrrpAuthLen]
			}
			b.authPass = pass
		default:
			p.other(c, sc, nil)
		}
	}
}

func (p *parser) instVersion(b *instBuild, n *Node) {
	if !p.args(n, b.sc, 1, 1) {
		return
	}
	v, err := parseInt(n.Args[0], 2, 3)
	if err != nil {
		p.errf(n, b.sc, "version must be 2 or 3: %v", err)
		return
	}
	if b.version != 0 && b.version != v {
		p.warnf(n, b.sc, "version %d conflicts with version %d set before; ignored, as keepalived does", v, b.version)
		return
	}
	b.version = v
}

func (p *parser) instNativeIPv6(b *instBuild, n *Node) {
	if !p.args(n, b.sc, 0, 0) {
		return
	}
	if !p.setFamily(b, n, 6, "native_ipv6") {
		return
	}
	b.version = 3
}

// setFamily makes the instance IPv4 or IPv6 on its first address; an
// address of the other family is an error.
func (p *parser) setFamily(b *instBuild, n *Node, fam int, what string) bool {
	if b.in.Family == 0 {
		b.in.Family, b.familyNode, b.familyWhat = fam, n, what
		return true
	}
	if b.in.Family != fam {
		p.errf(n, b.sc, "%s is IPv%d, but the instance is IPv%d (from %s at %s)", what, fam, b.in.Family, b.familyWhat, b.familyNode.Pos())
		return false
	}
	return true
}

// addr reads an address argument: keepalived drops a "/len" suffix, with
// a warning here.
func (p *parser) addr(n *Node, sc, what, s string) (netip.Addr, bool) {
	a, dropped, err := parseAddr(s)
	if err != nil {
		p.errf(n, sc, "%s: %v", what, err)
		return a, false
	}
	if dropped != "" {
		p.warnf(n, sc, "%s: %q after the address ignored", what, dropped)
	}
	return a, true
}

func (p *parser) instSrcIP(b *instBuild, n *Node) {
	if !p.args(n, b.sc, 1, 1) {
		return
	}
	a, ok := p.addr(n, b.sc, n.Keyword, n.Args[0])
	if !ok || !p.setFamily(b, n, family(a), n.Keyword+" "+n.Args[0]) {
		return
	}
	b.in.SrcIP = a
	if n.Keyword == "unicast_src_ip" && b.unicastNode == nil {
		b.unicastNode = n
	}
}

func (p *parser) instUnicastPeer(b *instBuild, n *Node) {
	if !p.block(n, b.sc, 0) {
		return
	}
	if b.unicastNode == nil {
		b.unicastNode = n
	}
	for _, e := range p.entries(n, b.sc) {
		a, ok := p.addr(e, b.sc, "unicast_peer", e.Keyword)
		if !ok || !p.setFamily(b, e, family(a), "unicast_peer "+e.Keyword) {
			continue
		}
		if len(e.Args) > 0 {
			p.warnf(e, b.sc, "unicast_peer %s: %s is not supported; ignored", e.Keyword, strings.Join(e.Args, " "))
		}
		b.in.UnicastPeers = append(b.in.UnicastPeers, a)
	}
}

func (p *parser) instMcastDst(b *instBuild, n *Node) {
	if !p.args(n, b.sc, 1, 1) {
		return
	}
	a, ok := p.addr(n, b.sc, n.Keyword, n.Args[0])
	if !ok {
		return
	}
	if a.Is4() && !a.IsMulticast() || a.Is6() && !a.IsLinkLocalMulticast() {
		p.errf(n, b.sc, "mcast_dst_ip %s is not a (link-local) multicast address", n.Args[0])
		return
	}
	if !p.setFamily(b, n, family(a), "mcast_dst_ip "+n.Args[0]) {
		return
	}
	b.mcastDst, b.mcastDstNode = a, n
}

// instVIPs reads virtual_ipaddress or virtual_ipaddress_excluded: one
// address a line, with options as for ip address add.
func (p *parser) instVIPs(b *instBuild, n *Node, excluded bool) {
	if !p.block(n, b.sc, 0) {
		return
	}
	for _, e := range p.entries(n, b.sc) {
		b.vipSeen = b.vipSeen || !excluded
		v, err := p.vip(e, b.sc)
		if err != nil {
			p.errf(e, b.sc, "%s %s: %v", n.Keyword, e.Keyword, err)
			continue
		}
		if excluded {
			b.in.ExcludedVIPs = append(b.in.ExcludedVIPs, v)
			continue
		}
		if !p.setFamily(b, e, family(v.Prefix.Addr()), "virtual_ipaddress "+e.Keyword) {
			continue
		}
		b.in.VIPs = append(b.in.VIPs, v)
	}
}

// rtScopes are the scope names of iproute2's rt_scopes file.
var rtScopes = map[string]bool{"global": true, "site": true, "link": true, "host": true, "nowhere": true}

// vip reads one address line, as keepalived's alloc_ipaddress.
func (p *parser) vip(e *Node, sc string) (VIP, error) {
	var v VIP
	pfx, err := parsePrefix(e.Keyword)
	if err != nil {
		return v, err
	}
	v.Prefix = pfx
	v6 := pfx.Addr().Is6()
	brd := ""
	opts := e.Args
	for i := 0; i < len(opts); i++ {
		opt := opts[i]
		switch opt {
		case "dev", "scope", "brd", "broadcast", "label", "peer", "preferred_lft":
			if i+1 >= len(opts) {
				return v, fmt.Errorf("%s without a value", opt)
			}
			i++
			val := opts[i]
			switch opt {
			case "dev":
				if v.Dev != "" {
					return v, fmt.Errorf("dev given twice")
				}
				if err := checkIfName(val); err != nil {
					return v, fmt.Errorf("dev: %v", err)
				}
				v.Dev = val
			case "scope":
				if _, err := parseUint(val, 0, 255); err != nil && !rtScopes[val] {
					return v, fmt.Errorf("unknown scope %q (global, site, link, host, nowhere or 0-255)", val)
				}
				if v6 {
					p.warnf(e, sc, "%s: scope is not used with IPv6 addresses; ignored, as keepalived does", e.Keyword)
					continue
				}
				v.Scope = val
				if val == "global" || val == "0" {
					v.Scope = ""
				}
			case "brd", "broadcast":
				if v6 {
					return v, fmt.Errorf("IPv6 addresses have no broadcast address")
				}
				brd = val
			case "label":
				if len(val) >= ifNameSize {
					return v, fmt.Errorf("label %q is longer than %d bytes", val, ifNameSize-1)
				}
				if v6 {
					p.warnf(e, sc, "%s: label is not used with IPv6 addresses; ignored, as keepalived does", e.Keyword)
					continue
				}
				v.Label = val
			default:
				p.warnf(e, sc, "%s: %s %s is not supported; ignored", e.Keyword, opt, val)
			}
		case "no_track":
			v.NoTrack = true
		case "home", "-nodad", "mngtmpaddr", "noprefixroute", "autojoin", "use_vmac":
			p.warnf(e, sc, "%s: %s is not supported; ignored", e.Keyword, opt)
		default:
			return v, fmt.Errorf("unknown option %q (one address a line)", opt)
		}
	}
	if brd != "" {
		b, err := broadcast(pfx, brd)
		if err != nil {
			return v, err
		}
		v.Broadcast = b
	}
	return v, nil
}

// broadcast reads brd: an IPv4 address, or "+" (all host bits set) or "-"
// (all host bits clear) for a prefix of at most /30.
func broadcast(pfx netip.Prefix, s string) (netip.Addr, error) {
	if s != "+" && s != "-" {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return netip.Addr{}, fmt.Errorf("invalid broadcast address %q", s)
		}
		return a, nil
	}
	if pfx.Bits() > 30 {
		return netip.Addr{}, fmt.Errorf("brd %s: prefix /%d is too long for a broadcast address", s, pfx.Bits())
	}
	a4 := pfx.Addr().As4()
	ip := uint32(a4[0])<<24 | uint32(a4[1])<<16 | uint32(a4[2])<<8 | uint32(a4[3])
	host := uint32(math.MaxUint32) >> pfx.Bits()
	if s == "+" {
		ip |= host
	} else {
		ip &^= host
	}
	return netip.AddrFrom4([4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)}), nil
}
