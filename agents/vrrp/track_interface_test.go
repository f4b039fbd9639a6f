package vrrp

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/paceline/paceline/agents/vrrp/kaconf"
	"github.com/paceline/paceline/e2e"
)

// A link is up when it is up and running (it has a carrier), as
// keepalived's FLAGS_UP.
func TestLinkUp(t *testing.T) {
	for _, tc := range []struct {
		present bool
		flags   uint32
		up      bool
		state   string
	}{
		{true, unix.IFF_UP | unix.IFF_RUNNING | unix.IFF_BROADCAST, true, "link up"},
		{true, unix.IFF_UP, false, "no carrier"},
		{true, unix.IFF_RUNNING, false, "link down"},
		{true, 0, false, "link down"},
		{false, 0, false, "link absent"},
	} {
		if up := tc.present && linkUp(tc.flags); up != tc.up || linkState(tc.present, tc.flags) != tc.state {
			t.Errorf("present %v flags %#x: up %v %q, want %v %q", tc.present, tc.flags, up, linkState(tc.present, tc.flags), tc.up, tc.state)
		}
	}
}

// Who tracks a link, as keepalived builds it: track_interface entries,
// the own interface (not with dont_track_primary, unless the sync group
// names it), the virtual addresses' interfaces (not with no_track), then
// the sync group's entries; an unweighted entry stays unweighted, a
// weighted one takes the later weight (so an address on a link tracked
// with a weight makes it unweighted).
func TestInterfaceTracks(t *testing.T) {
	vip := func(dev string, noTrack bool) kaconf.VIP {
		return kaconf.VIP{Prefix: netip.MustParsePrefix("192.0.2.50/32"), Dev: dev, NoTrack: noTrack}
	}
	cfg := &kaconf.Config{
		Instances: []*kaconf.Instance{
			{Name: "VI_1", Interface: "eth0",
				TrackInterfaces: []kaconf.TrackInterface{{Name: "eth1", Weight: 10}, {Name: "eth2"}},
				VIPs:            []kaconf.VIP{vip("", false), vip("eth3", false), vip("eth4", true)},
				ExcludedVIPs:    []kaconf.VIP{vip("eth1", false)}},
			{Name: "VI_2", Interface: "eth0", DontTrackPrimary: true, SyncGroup: "G",
				VIPs: []kaconf.VIP{vip("", false), vip("eth5", false)}},
			{Name: "VI_3", Interface: "eth9", SyncGroup: "G",
				TrackInterfaces: []kaconf.TrackInterface{{Name: "eth2", Weight: 5}}},
			{Name: "VI_4", DontTrackPrimary: true, Interface: "eth8"},
		},
		SyncGroups: []*kaconf.SyncGroup{{Name: "G", Instances: []string{"VI_2", "VI_3"},
			TrackInterfaces: []kaconf.TrackInterface{{Name: "eth0", Weight: -10, Reverse: true}, {Name: "eth2", Weight: 7}}}},
	}
	got := fmt.Sprint(interfaceTracks(cfg))
	want := "map[eth0:[{VI_1 0 false} {VI_2 -10 true} {VI_3 -10 true}] eth1:[{VI_1 0 false}] eth2:[{VI_1 0 false} {VI_3 7 false} {VI_2 7 false}] " +
		"eth3:[{VI_1 0 false}] eth5:[{VI_2 0 false}] eth9:[{VI_3 0 false}]]"
	if got != want {
		t.Errorf("tracks\n got %s\nwant %s", got, want)
	}
}

// linkNetns makes a network namespace for a test, removed in t.Cleanup,
// and returns a handle on it and a function that runs `ip -n NS ...`.
func linkNetns(t *testing.T, suffix string) (netns.NsHandle, func(args ...string)) {
	t.Helper()
	e2e.RequireRoot(t)
	name := fmt.Sprintf("pl%d-%s", os.Getpid()%100000, suffix)
	run(t, "ip", "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	h, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h, func(args ...string) { run(t, "ip", append([]string{"-n", name}, args...)...) }
}

// runLinks runs an interface tracker until the test ends.
func runLinks(t *testing.T, tr *InterfaceTracker, target Tracked) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := tr.Run(ctx, target); err != nil {
			t.Errorf("interface tracker: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// Links going down and up, losing their carrier, appearing, being
// deleted and renamed, in a namespace of the test's, drive the
// instances as their entries say.
func TestInterfaceTracker(t *testing.T) {
	h, ip := linkNetns(t, "links")
	pair := func(a, b string) {
		ip("link", "add", a, "type", "veth", "peer", "name", b)
		ip("link", "set", a, "up")
		ip("link", "set", b, "up")
	}
	pair("d0", "p0")
	pair("d2", "p2")
	ip("link", "add", "va", "type", "veth", "peer", "name", "vb")
	ip("link", "set", "va", "up") // vb is down: va has no carrier

	cfg := &kaconf.Config{Instances: []*kaconf.Instance{
		{Name: "VI_1", Interface: "d0", TrackInterfaces: []kaconf.TrackInterface{
			{Name: "va"}, {Name: "d1", Weight: -30}, {Name: "d2", Weight: 20}}},
		{Name: "VI_2", Interface: "d0", DontTrackPrimary: true, TrackInterfaces: []kaconf.TrackInterface{
			{Name: "d2", Reverse: true}}},
	}}
	rec := newRecorder()
	runLinks(t, NewInterfaceTracker(cfg, testLog(t), WithNetns(h)), rec)

	rec.waitState(t, "VI_1", "interface va", "fault: no carrier")
	rec.waitState(t, "VI_1", "interface d1", "-30")
	rec.waitState(t, "VI_1", "interface d2", "+20")
	rec.waitState(t, "VI_2", "interface d2", "fault: link up (reverse")
	if s := rec.state("VI_1", "interface d0"); s != "+0" {
		t.Errorf("VI_1's own interface up: %s", s)
	}

	ip("link", "set", "vb", "up")
	rec.waitState(t, "VI_1", "interface va", "+0")

	ip("link", "set", "d0", "down")
	rec.waitState(t, "VI_1", "interface d0", "fault: link down")
	ip("link", "set", "d0", "up")
	rec.waitState(t, "VI_1", "interface d0", "+0")

	pair("d1", "p1")
	rec.waitState(t, "VI_1", "interface d1", "+0")

	ip("link", "set", "d2", "down")
	rec.waitState(t, "VI_1", "interface d2", "+0")
	rec.waitState(t, "VI_2", "interface d2", "+0")

	ip("link", "del", "d0") // it goes down, then away
	rec.waitState(t, "VI_1", "interface d0", "fault: link")

	ip("link", "set", "va", "name", "vx") // up, under another name
	rec.waitState(t, "VI_1", "interface va", "fault: link absent")

	for _, c := range rec.calls() {
		if slices.Contains([]string{"adjust VI_2 interface d0 +0", "clear VI_2 interface d0"}, c) || c == "fault VI_2 interface d0: link down" {
			t.Errorf("VI_2 (dont_track_primary) was driven by d0: %s", c)
		}
	}
}

// With a Router: the instance's own interface going down puts it in
// FAULT, and the backup takes the address.
func TestInterfaceTrackerRouter(t *testing.T) {
	h, ip := linkNetns(t, "linkr")
	ip("link", "add", "d0", "type", "veth", "peer", "name", "p0")
	ip("link", "set", "p0", "up")
	ip("link", "set", "d0", "up")

	r1, hs := twoRouters(t)

	cfg := &kaconf.Config{Instances: []*kaconf.Instance{{Name: "web", Interface: "d0"}}}
	tk, err := NewTracking(cfg, testLog(t), TrackOptions{Interfaces: []InterfaceOption{WithNetns(h)}})
	if err != nil {
		t.Fatal(err)
	}
	tk.Start(t.Context(), r1.r)
	t.Cleanup(tk.Close)

	ip("link", "set", "d0", "down")
	wantHolders(t, hs, "192.0.2.50/32", "r2")
	if st := r1.r.Status()[0]; st.State != "FAULT" || !slices.Equal(st.Faults, []string{"interface d0: link down"}) {
		t.Errorf("r1 with d0 down: %+v", st)
	}
	ip("link", "set", "d0", "up")
	wantHolders(t, hs, "192.0.2.50/32", "r1")
}
