package kaconf

import (
	"slices"
	"time"
)

// This file finishes the configuration once every directive is read, as
// keepalived's vrrp_complete_init does (keepalived/vrrp/vrrp.c:
// vrrp_complete_instance, check_vrid_conflicts; vrrp_sync.c:
// vrrp_sync_set_group): sync group members, each instance's defaults and
// the adjustments keepalived makes with a config error (each a Warning
// here, the adjustment made the same way), and VRID conflicts.

func (p *parser) complete() {
	p.assignGroups()
	for _, b := range p.builds {
		p.completeInstance(b)
		p.cfg.Instances = append(p.cfg.Instances, b.in)
	}
	p.checkGroupOwners()
	p.checkVRIDs()
}

// assignGroups puts each instance named in a group { } into its sync group;
// an instance can be in one sync group only.
func (p *parser) assignGroups() {
	for _, gb := range p.groupList {
		if gb.groupNode == nil {
			p.errf(gb.node, "", "%s: no group { } of instances", gb.sc)
			continue
		}
		if len(gb.g.Instances) == 0 {
			p.errf(gb.groupNode, gb.sc, "group { } is empty")
			continue
		}
		members := 0
		for _, name := range gb.g.Instances {
			b := p.byName[name]
			switch {
			case b == nil:
				p.errf(gb.groupNode, gb.sc, "group: there is no vrrp_instance %s", name)
			case b.in.SyncGroup == gb.g.Name:
				p.errf(gb.groupNode, gb.sc, "group: vrrp_instance %s is listed twice", name)
			case b.in.SyncGroup != "":
				p.errf(gb.groupNode, gb.sc, "group: vrrp_instance %s is already in vrrp_sync_group %s (an instance can be in one sync group only)", name, b.in.SyncGroup)
			default:
				b.in.SyncGroup = gb.g.Name
				members++
			}
		}
		if members == 1 {
			p.warnf(gb.groupNode, gb.sc, "the group has only one instance; this is probably not what you want")
		}
		p.cfg.SyncGroups = append(p.cfg.SyncGroups, gb.g)
	}
}

// completeInstance applies the defaults that depend on other settings and
// the global ones, in the order of vrrp_complete_instance.
func (p *parser) completeInstance(b *instBuild) {
	in, g, n, sc := b.in, &p.cfg.Globals, b.node, b.sc
	if !b.vridSeen {
		p.errf(n, sc, "virtual_router_id is not set")
	}
	in.Strict = g.Strict
	if b.strict >= 0 {
		in.Strict = b.strict == 1
	}
	if in.Family == 0 {
		in.Family = 4
	}
	in.Version = b.version
	if in.Version == 0 {
		in.Version = g.VRRPVersion
		if in.Family == 6 {
			in.Version = 3
		}
	}
	if in.Family == 6 && in.Version == 2 {
		p.errf(n, sc, "VRRP version 2 (RFC 3768) is for IPv4 only; IPv6 needs version 3")
	}
	if len(in.VIPs) == 0 && !b.vipSeen {
		if in.Version == 3 || in.Strict || in.Family == 6 {
			p.errf(n, sc, "no virtual_ipaddress; version 3, IPv6 and strict mode need at least one")
		} else {
			p.warnf(n, sc, "no virtual_ipaddress; at least one is sensible")
		}
	}

	// With no priority, the initial state decides it, and the other way
	// round.
	prio := b.priority
	if prio == 0 {
		prio = 100
		if b.state == StateMaster {
			prio = 255
		}
	}
	in.Priority = uint8(prio)
	owner := prio == 255
	derived := StateBackup
	if owner {
		derived = StateMaster
	}
	switch {
	case b.state == "":
		in.State = derived
	case in.Strict && (b.state == StateMaster) != owner:
		p.warnf(n, sc, "strict mode: state MASTER goes with priority 255 (the address owner) and only with it; state set to %s, as keepalived does", derived)
		in.State = derived
	default:
		in.State = b.state
	}

	p.completeAuth(b)

	peers := len(in.UnicastPeers) > 0
	if in.Strict && peers {
		p.errf(b.unicastNode, sc, "unicast peers are not allowed in strict mode")
	}
	if in.Interface == "" {
		switch {
		case !peers || !in.SrcIP.IsValid():
			p.errf(n, sc, "interface is not set (only a unicast instance with unicast_src_ip may go without)")
		case in.SrcIP.IsLinkLocalUnicast():
			p.errf(n, sc, "without an interface, unicast_src_ip must not be link-local")
		}
	}
	if b.unicastNode != nil && !peers {
		p.warnf(b.unicastNode, sc, "%s without unicast peers: the instance multicasts (keepalived deprecates this)", b.unicastNode.Keyword)
	}
	if in.Family == 6 && !peers && len(in.VIPs) > 0 && !in.VIPs[0].Prefix.Addr().IsLinkLocalUnicast() {
		if in.Strict {
			p.errf(n, sc, "strict mode: the first IPv6 virtual_ipaddress must be link-local (RFC 5798 section 5.2.9)")
		} else {
			p.warnf(n, sc, "the first IPv6 virtual_ipaddress should be link-local (RFC 5798 section 5.2.9)")
		}
	}
	if max := maxVIPs(in); len(in.VIPs) > max {
		p.warnf(n, sc, "%d virtual addresses do not fit in an advert (at most %d with a 1500-byte MTU); the rest are not advertised, as keepalived does", len(in.VIPs), max)
		in.ExcludedVIPs = append(slices.Clone(in.VIPs[max:]), in.ExcludedVIPs...)
		in.VIPs = in.VIPs[:max]
	}

	p.completePreempt(b, owner)

	if b.accept < 0 {
		in.Accept = owner || !in.Strict
	} else {
		in.Accept = b.accept == 1
	}
	if in.Accept && !owner && in.Strict && in.Version == 2 {
		p.warnf(n, sc, "strict mode: accept does not comply with RFC 3768 (version 2); cleared, as keepalived does")
		in.Accept = false
	}

	switch {
	case !peers && b.mcastDst.IsValid():
		in.McastGroup = b.mcastDst
	case !peers && in.Family == 4:
		in.McastGroup = g.McastGroup4
	case !peers:
		in.McastGroup = g.McastGroup6
	case b.mcastDst.IsValid():
		p.warnf(b.mcastDstNode, sc, "mcast_dst_ip is not used with unicast peers; ignored, as keepalived does")
	}

	in.AdvertInterval = p.advertInterval(b)
	p.completeTracking(b, owner)
}

// completeAuth keeps the VRRPv2 password where keepalived uses it.
func (p *parser) completeAuth(b *instBuild) {
	in, sc := b.in, b.sc
	if b.authType == "" {
		if b.authPass != "" {
			p.warnf(b.node, sc, "authentication has auth_pass but no auth_type; ignored, as keepalived does")
		}
		return
	}
	n := b.authNode
	switch {
	case in.Strict:
		p.warnf(n, sc, "strict mode does not allow authentication; ignored, as keepalived does")
	case in.Version == 3:
		p.warnf(n, sc, "VRRP version 3 has no authentication (RFC 5798); ignored, as keepalived does")
	case b.authPass == "":
		p.warnf(n, sc, "authentication without auth_pass; ignored, as keepalived does")
	case b.authType == "AH":
		p.warnf(n, sc, "auth_type AH (IPsec AH) is not supported; authentication ignored")
	default:
		in.AuthPass = b.authPass
	}
}

// completePreempt settles nopreempt and preempt_delay.
func (p *parser) completePreempt(b *instBuild, owner bool) {
	in, n, sc := b.in, b.node, b.sc
	nopreempt := b.nopreempt
	if owner && nopreempt {
		p.warnf(n, sc, "nopreempt does not work with priority 255; cleared, as keepalived does")
		nopreempt = false
	}
	if in.State == StateMaster {
		if nopreempt {
			p.warnf(n, sc, "nopreempt does not work with state MASTER; cleared, as keepalived does (use state BACKUP on every node)")
			nopreempt = false
		}
		if in.PreemptDelay > 0 {
			p.warnf(b.preemptDelay, sc, "preempt_delay does not work with state MASTER; cleared, as keepalived does")
			in.PreemptDelay = 0
		}
	}
	if in.PreemptDelay > 0 {
		switch {
		case in.Strict:
			p.warnf(b.preemptDelay, sc, "strict mode does not allow preempt_delay; cleared, as keepalived does")
			in.PreemptDelay = 0
		case nopreempt:
			p.warnf(b.preemptDelay, sc, "preempt_delay does not work with nopreempt; cleared, as keepalived does")
			in.PreemptDelay = 0
		}
	}
	in.Preempt = !nopreempt
}

// advertInterval returns advert_int as the version can carry it: whole
// seconds in VRRPv2 (RFC 3768 section 5.3.7), centiseconds below 40.96s in
// VRRPv3 (RFC 5798 section 5.2.7); keepalived rounds.
func (p *parser) advertInterval(b *instBuild) time.Duration {
	in, n, sc := b.in, b.advertNode, b.sc
	adv := b.advert
	if adv == 0 {
		return time.Second
	}
	unit := time.Second
	if in.Version == 3 {
		unit = 10 * time.Millisecond
		if adv >= 4096*unit {
			p.warnf(n, sc, "advert_int %s is too long for VRRP version 3; set to 40.95, as keepalived does", secs(adv))
			return 4095 * unit
		}
	}
	if adv%unit == 0 {
		return adv
	}
	r := max((adv+unit/2)/unit*unit, unit)
	p.warnf(n, sc, "advert_int %s rounded to %s for VRRP version %d, as keepalived does", secs(adv), secs(r), in.Version)
	return r
}

// completeTracking drops what keepalived drops: the own interface in
// track_interface, and weights in a sync group (unless
// sync_group_tracking_weight) or with priority 255.
func (p *parser) completeTracking(b *instBuild, owner bool) {
	in, sc := b.in, b.sc
	var tis []TrackInterface
	var tiNodes []*Node
	for i, ti := range in.TrackInterfaces {
		if ti.Name == in.Interface {
			p.warnf(b.tiNodes[i], sc, "track_interface %s is the instance's own interface; ignored, as keepalived does", ti.Name)
			continue
		}
		tis, tiNodes = append(tis, ti), append(tiNodes, b.tiNodes[i])
	}
	in.TrackInterfaces, b.tiNodes = tis, tiNodes

	group := ""
	if gb := p.groups[in.SyncGroup]; gb != nil && !gb.g.TrackingWeight {
		group = gb.g.Name
	}
	if group == "" && !owner {
		return
	}
	why := "with priority 255 (the address owner)"
	if group != "" {
		why = "in vrrp_sync_group " + group + " (unless sync_group_tracking_weight)"
	}
	var kept []TrackInterface
	for i, ti := range in.TrackInterfaces {
		switch {
		case ti.Weight == 0:
		case group != "":
			p.warnf(b.tiNodes[i], sc, "track_interface %s: weight ignored %s, as keepalived does", ti.Name, why)
			ti.Weight = 0
		default:
			p.warnf(b.tiNodes[i], sc, "track_interface %s: a weighted interface is not tracked %s; dropped, as keepalived does", ti.Name, why)
			continue
		}
		kept = append(kept, ti)
	}
	in.TrackInterfaces = kept
	var tss []TrackScript
	for i, ts := range in.TrackScripts {
		if ts.Weight != 0 {
			p.warnf(b.tsNodes[i], sc, "track_script %s: a weighted script is not tracked %s; dropped, as keepalived does", ts.Name, why)
			continue
		}
		tss = append(tss, ts)
	}
	in.TrackScripts = tss
}

// maxVIPs is how many addresses fit in an advert on a 1500-byte link
// (keepalived's DEFAULT_MTU): Ethernet, IP and VRRP headers (and the 8
// bytes of authentication data in version 2), at most 255 (an 8-bit count).
func maxVIPs(in *Instance) int {
	const mtu, ether, vrrpHdr = 1500, 14, 8
	if in.Family == 6 {
		return (mtu - ether - 40 - vrrpHdr) / 16
	}
	hdr := ether + 20 + vrrpHdr
	if in.Version == 2 {
		hdr += vrrpAuthLen
	}
	return min((mtu-hdr)/4, 255)
}

// checkGroupOwners warns about a sync group that mixes address owners
// (state MASTER with priority 255) and other instances, as
// vrrp_sync_set_group does.
func (p *parser) checkGroupOwners() {
	for _, gb := range p.groupList {
		state := State("")
		for _, name := range gb.g.Instances {
			b := p.byName[name]
			if b == nil || b.in.SyncGroup != gb.g.Name {
				continue
			}
			if state == StateMaster && b.in.State == StateBackup {
				p.warnf(gb.groupNode, gb.sc, "some instances are address owners (MASTER with priority 255) and some are not; this won't work")
				break
			}
			if state != StateBackup {
				state = StateBackup
				if b.in.State == StateMaster && b.in.Priority == 255 {
					state = StateMaster
				}
			}
		}
	}
}

// checkVRIDs refuses two instances that would share a virtual router: the
// same VRID and family on the same interface and multicast group, or, for
// unicast, from the same source to a common peer.
func (p *parser) checkVRIDs() {
	for i, a := range p.builds {
		for _, b := range p.builds[i+1:] {
			x, y := a.in, b.in
			if x.Family != y.Family || x.VRID != y.VRID || !a.vrid || !b.vrid {
				continue
			}
			xu, yu := len(x.UnicastPeers) > 0, len(y.UnicastPeers) > 0
			if xu != yu {
				continue
			}
			if !xu {
				if x.Interface == y.Interface && x.McastGroup == y.McastGroup {
					p.errf(b.node, b.sc, "VRID %d with IPv%d on %s is used by vrrp_instance %s too (at %s)", y.VRID, y.Family, y.Interface, x.Name, x.Pos)
				}
				continue
			}
			if x.Interface != "" && y.Interface != "" && x.Interface != y.Interface {
				continue
			}
			if !x.SrcIP.IsValid() || x.SrcIP != y.SrcIP {
				continue
			}
			for _, peer := range y.UnicastPeers {
				if slices.Contains(x.UnicastPeers, peer) {
					p.errf(b.node, b.sc, "VRID %d from %s to %s is used by vrrp_instance %s too (at %s)", y.VRID, y.SrcIP, peer, x.Name, x.Pos)
					break
				}
			}
		}
	}
}
