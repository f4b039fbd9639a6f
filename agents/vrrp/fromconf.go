package vrrp

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/paceline/paceline/agents/vrrp/kaconf"
)

// FromKeepalived turns the instances of a parsed keepalived.conf into
// the runtime's configuration. What the runtime does not do (yet) is a
// warning with the file and line of the instance, never a silent skip:
// accept/no_accept and strict mode, and the repeat counts and refreshes of gratuitous ARPs (the vip agent's
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
				out = append(out, VIP{Prefix: v.Prefix, Dev: v.Dev, Label: v.Label, Broadcast: v.Broadcast, Scope: v.Scope})
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

// Loaded is a keepalived.conf read and checked: everything that can be
// checked before running it has been (the syntax, the instances, the
// scripts and their users).
type Loaded struct {
	Conf      *kaconf.Config
	Instances []InstanceConfig
}

// Load reads and checks a keepalived.conf; warn gets every warning
// (file:line) of the parser and of what the runtime does not carry out.
func Load(path, configID string, log *slog.Logger, warn func(kaconf.Warning)) (*Loaded, error) {
	kc, warns, err := kaconf.ParseFile(path, kaconf.Options{ConfigID: configID})
	for _, w := range warns {
		warn(w)
	}
	if err != nil {
		return nil, err
	}
	cfgs, more := FromKeepalived(kc)
	for _, w := range more {
		warn(w)
	}
	if len(cfgs) == 0 {
		return nil, fmt.Errorf("%s: no vrrp_instance to run", path)
	}
	if _, err := NewRouter(cfgs, nil, log); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	tk, err := NewTracking(kc, log, TrackOptions{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	tk.Close()
	return &Loaded{Conf: kc, Instances: cfgs}, nil
}

// Run runs a loaded configuration until ctx ends: the Router, its track
// scripts and interfaces, and its notify scripts. ready, if not nil, is
// called with the running Router. When ctx ends, the masters resign and
// release their addresses, and the notify scripts queued (STOP) run
// before Run returns.
func (l *Loaded) Run(ctx context.Context, addrs Addresser, log *slog.Logger, ready func(*Router), opts ...RouterOption) error {
	tk, err := NewTracking(l.Conf, log, TrackOptions{})
	if err != nil {
		return err
	}
	defer tk.Close()
	r, err := NewRouter(l.Instances, addrs, log, append([]RouterOption{WithNotify(tk.Notify), WithStartFaults(tk.StartFaults())}, opts...)...)
	if err != nil {
		return err
	}
	return r.Run(ctx, func() {
		tk.Start(ctx, r)
		if ready != nil {
			ready(r)
		}
	})
}
