package vip

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/mdlayher/arp"

	"github.com/paceline/paceline/agents/ocf"
)

const ipaddr2 = "/usr/lib/ocf/resource.d/heartbeat/IPaddr2"

// The figure, paired in one run: from the moment a start begins
// on B to the first gratuitous ARP for the address arriving at C, for
// this agent (in-process, as the node agent runs it) and for Debian's
// ocf:heartbeat:IPaddr2 (an OCF executable, as Pacemaker runs it),
// alternating, five moves each. Both must announce (that is asserted);
// the times are logged, never asserted.
func TestFirstAnnouncementVsIPaddr2(t *testing.T) {
	if _, err := os.Stat(ipaddr2); err != nil {
		t.Skip("needs Debian's resource-agents (make deps installs it)")
	}
	l := newLab(t, "cmp")
	b := l.addHost("b", "192.0.2.2/24")
	c := l.addHost("c", "192.0.2.3/24")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ag := New(WithBackground(ctx))
	p := map[string]string{"ip": vip4, "cidr_netmask": "24", "nic": "eth0"}
	fromB := func() <-chan time.Time {
		return l.capture(c, etherTypeARP, func(f []byte) bool {
			var pk arp.Packet
			return bytes.Equal(f[6:12], mustMAC(t, b.mac)) && pk.UnmarshalBinary(f[ethHeaderLen:]) == nil &&
				pk.SenderIP == netip.MustParseAddr(vip4)
		})
	}
	wait := func(ch <-chan time.Time, from time.Time, who string) time.Duration {
		select {
		case at := <-ch:
			return at.Sub(from)
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: C received no gratuitous ARP for %s from B", who, vip4)
			return 0
		}
	}
	ipaddr := func(action string) (time.Time, time.Duration) {
		cmd := exec.Command("ip", "netns", "exec", b.ns, ipaddr2, action)
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "OCF_ROOT=/usr/lib/ocf", "OCF_RESOURCE_INSTANCE=vipcmp",
			"OCF_RESKEY_ip=" + vip4, "OCF_RESKEY_cidr_netmask=24", "OCF_RESKEY_nic=eth0", "HA_RSCTMP=" + t.TempDir()}
		// Output to a file, not a pipe: IPaddr2's background send_arp
		// would hold a pipe open after the agent has exited.
		out, err := os.CreateTemp(t.TempDir(), "out")
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		cmd.Stdout, cmd.Stderr = out, out
		start := time.Now()
		if err := cmd.Run(); err != nil {
			b, _ := os.ReadFile(out.Name())
			t.Fatalf("IPaddr2 %s: %v\n%s", action, err, b)
		}
		return start, time.Since(start)
	}
	var ours, theirs, oursStart, theirsStart []time.Duration
	for range 5 {
		ch := fromB()
		rc, out, entered, took := b.timed(t, ag, ocf.Start, p)
		if rc != ocf.Success {
			t.Fatalf("start: rc %d: %s", rc, out)
		}
		ours = append(ours, wait(ch, entered, "vip"))
		oursStart = append(oursStart, took)
		b.must(t, ag, ocf.Stop, p, ocf.Success) // ends our repeats

		ch = fromB()
		started, took2 := ipaddr(ocf.Start)
		theirs = append(theirs, wait(ch, started, "IPaddr2"))
		theirsStart = append(theirsStart, took2)
		ipaddr(ocf.Stop)
		time.Sleep(1100 * time.Millisecond) // IPaddr2's background ARPs end

	}
	med := func(d []time.Duration) time.Duration { s := slices.Clone(d); slices.Sort(s); return s[len(s)/2] }
	t.Logf("first gratuitous ARP received by C after start began, median of 5: vip %v (in-process), IPaddr2 %v (exec): ratio IPaddr2/vip %.0f",
		med(ours), med(theirs), float64(med(theirs))/float64(med(ours)))
	t.Logf("whole start action, median of 5: vip %v (in-process, later rounds in the background), IPaddr2 %v (exec)", med(oursStart), med(theirsStart))
	t.Logf("all: vip %v; IPaddr2 %v", ours, theirs)
}
