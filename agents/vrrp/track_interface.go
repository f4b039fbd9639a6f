package vrrp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/paceline/paceline/agents/vrrp/kaconf"
)

// This file tracks the links that instances depend on, as keepalived
// does from netlink (keepalived/core/keepalived_netlink.c:
// process_if_status_change; vrrp.c: vrrp_complete_instance,
// sync_group_tracking_init). A link is up when it is administratively up
// and running (IFF_UP and IFF_RUNNING: it has a carrier); a link that is
// absent or deleted is down.

// linkUp is keepalived's FLAGS_UP (vrrp_if.h).
func linkUp(flags uint32) bool {
	const want = unix.IFF_UP | unix.IFF_RUNNING
	return flags&want == want
}

// linkState explains a link's state, for a fault's reason.
func linkState(present bool, flags uint32) string {
	switch {
	case !present:
		return "link absent"
	case flags&unix.IFF_UP == 0:
		return "link down"
	case flags&unix.IFF_RUNNING == 0:
		return "no carrier"
	}
	return "link up"
}

// resubscribe is the pause before the link subscription is opened again
// after it failed (a netlink buffer overrun ends it).
const resubscribe = time.Second

// InterfaceTracker follows the links that instances track, through a
// netlink subscription, and drives those instances: an instance's own
// interface (unless dont_track_primary) and those of its virtual
// addresses (unless no_track) put it in fault while down; a
// track_interface entry, of the instance or of its sync group, as its
// weight says (see trackEntry.effect).
type InterfaceTracker struct {
	log *slog.Logger
	// ns is the network namespace whose links are followed.
	ns netns.NsHandle
	// names are the tracked links, sorted; entries their trackers.
	names   []string
	entries map[string][]trackEntry
}

// InterfaceOption configures an InterfaceTracker.
type InterfaceOption func(*InterfaceTracker)

// WithNetns follows the links of another network namespace than the
// current one (tests). The handle must stay open while the tracker runs.
func WithNetns(ns netns.NsHandle) InterfaceOption {
	return func(t *InterfaceTracker) { t.ns = ns }
}

// NewInterfaceTracker finds the links the instances of cfg track.
func NewInterfaceTracker(cfg *kaconf.Config, log *slog.Logger, opts ...InterfaceOption) *InterfaceTracker {
	t := &InterfaceTracker{log: log, ns: netns.None(), entries: interfaceTracks(cfg)}
	for _, o := range opts {
		o(t)
	}
	for name := range t.entries {
		t.names = append(t.names, name)
	}
	slices.Sort(t.names)
	return t
}

// interfaceTracks lists, per link, the instances tracking it, as
// keepalived builds them: each instance's track_interface entries, its
// own interface (weight 0, unless dont_track_primary), the interfaces of
// its virtual addresses (weight 0, unless no_track, and not its own with
// dont_track_primary), then each sync group's entries for every member.
// An entry met twice keeps the first if that is unweighted, else takes
// the later one (mergeEntry): so a virtual address on a link tracked
// with a weight makes it unweighted, as in keepalived.
func interfaceTracks(cfg *kaconf.Config) map[string][]trackEntry {
	out := map[string][]trackEntry{}
	add := func(link string, e trackEntry) { out[link] = mergeEntry(out[link], e) }
	for _, in := range cfg.Instances {
		for _, ti := range in.TrackInterfaces {
			add(ti.Name, trackEntry{instance: in.Name, weight: ti.Weight, reverse: ti.Reverse})
		}
		if in.Interface != "" && !in.DontTrackPrimary {
			add(in.Interface, trackEntry{instance: in.Name})
		}
		for _, v := range slices.Concat(in.VIPs, in.ExcludedVIPs) {
			dev := v.Dev
			if dev == "" {
				dev = in.Interface
			}
			if dev == "" || v.NoTrack || (in.DontTrackPrimary && dev == in.Interface) {
				continue
			}
			add(dev, trackEntry{instance: in.Name})
		}
	}
	for _, g := range cfg.SyncGroups {
		for _, ti := range g.TrackInterfaces {
			for _, name := range g.Instances {
				add(ti.Name, trackEntry{instance: name, weight: ti.Weight, reverse: ti.Reverse})
			}
		}
	}
	return out
}

// Run follows the links until ctx ends: it subscribes to link changes,
// reads each tracked link's state, applies it, then applies every change.
// If the subscription fails (a netlink buffer overrun ends it), it opens
// a new one and reads the states again. It returns once its goroutines
// have ended.
func (t *InterfaceTracker) Run(ctx context.Context, target Tracked) error {
	if len(t.names) == 0 {
		return nil
	}
	drivers := map[string]*driver{}
	for _, name := range t.names {
		drivers[name] = newDriver(target, "interface "+name, t.entries[name], t.log.With("interface", name))
	}
	for {
		err := t.follow(ctx, drivers)
		if ctx.Err() != nil {
			return nil
		}
		t.log.Warn("link tracking: subscription lost; subscribing again", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(resubscribe):
		}
	}
}

// follow runs one subscription until ctx ends or it fails.
func (t *InterfaceTracker) follow(ctx context.Context, drivers map[string]*driver) error {
	updates := make(chan netlink.LinkUpdate, 64)
	done := make(chan struct{})
	errs := make(chan error, 1)
	ns := t.ns
	err := netlink.LinkSubscribeWithOptions(updates, done, netlink.LinkSubscribeOptions{
		Namespace: &ns,
		ErrorCallback: func(err error) {
			select {
			case errs <- err:
			default:
			}
		},
	})
	if err != nil {
		close(done)
		return fmt.Errorf("subscribe to link changes: %w", err)
	}
	// The subscription's goroutine ends once done closes its socket and
	// it has handed over what it read: drain until it closes updates.
	defer func() {
		close(done)
		for range updates {
		}
	}()

	// The states now; changes from here on are in updates, and applying
	// one already seen is harmless.
	h, err := netlink.NewHandleAt(t.ns)
	if err != nil {
		return fmt.Errorf("netlink handle: %w", err)
	}
	state := map[string]uint32{} // present links by name: flags
	index := map[int]string{}    // tracked links by index: name
	links, err := h.LinkList()
	h.Close()
	if err != nil {
		return fmt.Errorf("list links: %w", err)
	}
	for _, l := range links {
		a := l.Attrs()
		if _, ok := drivers[a.Name]; ok {
			state[a.Name], index[a.Index] = uint32(a.RawFlags), a.Name
		}
	}
	for _, name := range t.names {
		flags, present := state[name]
		t.apply(drivers[name], name, present, flags, true)
	}
	var last error // the netlink error last reported
	for {
		select {
		case <-ctx.Done():
			return nil
		case last = <-errs:
			t.log.Debug("link tracking: netlink error", "err", last)
		case u, ok := <-updates:
			if ok {
				t.update(drivers, state, index, u)
				continue
			}
			select {
			case last = <-errs:
			default:
			}
			if last == nil {
				last = errors.New("the subscription ended")
			}
			return last
		}
	}
}

// update applies one link message: a link renamed away from a tracked
// name leaves that name absent, a deleted link is absent.
func (t *InterfaceTracker) update(drivers map[string]*driver, state map[string]uint32, index map[int]string, u netlink.LinkUpdate) {
	a := u.Link.Attrs()
	if old, ok := index[a.Index]; ok && old != a.Name {
		delete(index, a.Index)
		t.set(drivers[old], state, old, false, 0)
	}
	d := drivers[a.Name]
	if d == nil {
		return
	}
	if u.Header.Type == unix.RTM_DELLINK {
		delete(index, a.Index)
		t.set(d, state, a.Name, false, 0)
		return
	}
	index[a.Index] = a.Name
	t.set(d, state, a.Name, true, u.IfInfomsg.Flags)
}

// set records a link's state, and applies it when the link went up or
// down.
func (t *InterfaceTracker) set(d *driver, state map[string]uint32, name string, present bool, flags uint32) {
	prev, was := state[name]
	if present {
		state[name] = flags
	} else {
		delete(state, name)
	}
	if (was && linkUp(prev)) != (present && linkUp(flags)) {
		t.apply(d, name, present, flags, false)
	}
}

// apply drives the link's instances; first marks the initial state.
func (t *InterfaceTracker) apply(d *driver, name string, present bool, flags uint32, first bool) {
	up := present && linkUp(flags)
	why := linkState(present, flags)
	switch {
	case !first:
		t.log.Info("Netlink reports "+name+" "+map[bool]string{true: "up", false: "down"}[up], "interface", name, "state", why)
	case !up:
		t.log.Info("tracked interface "+name+" is down", "interface", name, "state", why)
	}
	if up {
		why += " (reverse: the instance is down while the link is up)"
	}
	d.set(up, why)
}
