package vrrp

import (
	"fmt"

	"github.com/paceline/paceline/agents/vrrp/kaconf"
)

// FromKeepalived turns the instances of a parsed keepalived.conf into
// the runtime's configuration. What the runtime does not do (yet) is a
// warning with the file and line of the instance, never a silent skip:
// accept/no_accept and strict mode, address scopes, no_track, and the
// repeat counts and refreshes of gratuitous ARPs (the vip agent's
// announcement rounds are used instead).
func FromKeepalived(c *kaconf.Config) ([]InstanceConfig, []kaconf.Warning) {
	var out []InstanceConfig
	var warns []kaconf.Warning
	for _, in := range c.Instances {
		warn := func(format string, args ...any) {
			warns = append(warns, kaconf.Warning{File: in.Pos.File, Line: in.Pos.Line,
				Msg: fmt.Sprintf("vrrp_instance %s: ", in.Name) + fmt.Sprintf(format, args...)})
		}
		ic := InstanceConfig{
			Name: in.Name, Interface: in.Interface, VRID: in.VRID, Version: Version(in.Version),
			IPv6: in.Family == 6, Priority: int(in.Priority), AdvertInterval: in.AdvertInterval,
			InitialMaster: in.State == kaconf.StateMaster, NoPreempt: !in.Preempt, PreemptDelay: in.PreemptDelay,
			Password: in.AuthPass, Source: in.SrcIP, Group: in.McastGroup, Peers: in.UnicastPeers,
			GARPDelay: in.GARP.MasterDelay, SyncGroup: in.SyncGroup,
		}
		conv := func(vs []kaconf.VIP) []VIP {
			var out []VIP
			for _, v := range vs {
				if v.Scope != "" && v.Scope != "global" {
					warn("virtual address %s: scope %s is not supported: added with scope global", v.Prefix, v.Scope)
				}
				if v.NoTrack {
					warn("virtual address %s: no_track is not supported (addresses removed behind the instance's back are not noticed anyway)", v.Prefix)
				}
				out = append(out, VIP{Prefix: v.Prefix, Dev: v.Dev, Label: v.Label, Broadcast: v.Broadcast})
			}
			return out
		}
		ic.VIPs, ic.Excluded = conv(in.VIPs), conv(in.ExcludedVIPs)
		if in.Strict {
			warn("strict_mode / vrrp_strict is not supported: the instance runs without it (no firewall rules are set)")
		}
		if !in.Accept {
			warn("no_accept is not supported: the master answers for its virtual addresses (as with accept)")
		}
		if in.GARP.MasterRefresh > 0 {
			warn("garp_master_refresh is not supported: no periodic gratuitous ARPs while master")
		}
		out = append(out, ic)
	}
	return out, warns
}
