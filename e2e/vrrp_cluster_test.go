package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paceline/paceline/agents/vrrp"
	"github.com/paceline/paceline/clustertest"
)

// addrsOf lists the addresses on eth0 in a namespace (read with a netlink
// socket opened there; nothing is sent).
type addrsOf []string

func (addrsOf) Close() error { return nil }

func eth0Addrs(ns string) ([]string, error) {
	return InNetns(ns, func() (addrsOf, error) {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return nil, err
		}
		as, err := ifi.Addrs()
		if err != nil {
			return nil, err
		}
		var out addrsOf
		for _, a := range as {
			ip, _, _ := strings.Cut(a.String(), "/")
			out = append(out, ip)
		}
		return out, nil
	})
}

// vipHolders watches which of some namespaces hold an address, every
// 20 ms, and remembers the most that held it at once.
type vipHolders struct {
	lab   *Lab
	ip    string
	hosts []string

	mu   sync.Mutex
	now  []string
	most int
	// mostAt describes the sample with the most holders.
	mostAt string
}

func watchVIP(t *testing.T, lab *Lab, ip string, hosts ...string) *vipHolders {
	h := &vipHolders{lab: lab, ip: ip, hosts: hosts}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			var held []string
			for _, host := range hosts {
				as, err := eth0Addrs(lab.NS(host))
				if err == nil && slicesContains(as, ip) {
					held = append(held, host)
				}
			}
			h.mu.Lock()
			h.now = held
			if len(held) > h.most {
				h.most, h.mostAt = len(held), fmt.Sprintf("%s held by %v at %s", ip, held, time.Now().Format("15:04:05.000"))
			}
			h.mu.Unlock()
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	t.Cleanup(func() { close(done); wg.Wait() })
	return h
}

func slicesContains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func (h *vipHolders) held() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.now...)
}

func (h *vipHolders) maxHeld() (int, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.most, h.mostAt
}

// waitHeld waits until exactly want hold the address.
func (h *vipHolders) waitHeld(t *testing.T, bound time.Duration, want ...string) {
	t.Helper()
	clustertest.WaitFor(t, bound, func() (bool, string) {
		got := h.held()
		return strings.Join(got, ",") == strings.Join(want, ","), fmt.Sprintf("%s held by %v, want %v", h.ip, got, want)
	})
}

// clusterVRRP is `paceline vrrp status --cluster -o json` on a node.
func clusterVRRP(t *testing.T, w *webCluster, node string) []vrrp.Status {
	t.Helper()
	out, err := exec.Command(bin, "-s", w.clients[node].Socket(), "-o", "json", "vrrp", "status", "--cluster").Output()
	if err != nil {
		t.Fatalf("paceline vrrp status --cluster on %s: %v", node, err)
	}
	var st struct {
		Instances []vrrp.Status `json:"instances"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("paceline vrrp status --cluster on %s: %v: %s", node, err, out)
	}
	return st.Instances
}

// vrrpConf is a keepalived.conf with one VRRPv3 instance at 0.1 s
// adverts.
func vrrpConf(vrid, prio int, vip string) string {
	return fmt.Sprintf(`global_defs {
	router_id split-%[2]d
	vrrp_version 3
}
vrrp_instance VI_split {
	interface eth0
	virtual_router_id %[1]d
	priority %[2]d
	advert_int 0.1
	virtual_ipaddress {
		%[3]s/24 dev eth0
	}
}
`, vrid, prio, vip)
}

// Split brain, side by side. Two Paceline nodes in a two-node cluster
// with a ping target run a keepalived.conf as a cloned ocf:paceline:vrrp
// (VIP 192.0.2.60); two plain keepalived 2.2.7 nodes run the same kind of
// file (VIP 192.0.2.61). The link between the nodes of each pair is cut
// at the same moment, while every node keeps its own link and reaches the
// ping target: keepalived's backup makes itself master, so two hosts
// carry .61 at once; Paceline's backup n2 lost the two-node tiebreak
// (n1 is preferred and holds resources; n2 may not win alone without
// fencing), so it may not run resources and its instance is out of the
// election: only the quorate side carries .60. A sampler checks every
// 20 ms, throughout, that .60 is never on both.
func TestVRRPSplitBrain(t *testing.T) {
	RequireRoot(t)
	if _, err := os.Stat("/usr/sbin/keepalived"); err != nil {
		t.Skip("needs keepalived (make deps installs it)")
	}
	w := newWebCluster(t, 2)
	lab := w.lab
	lab.AddHost("ping", "192.0.2.254/24")
	lab.AddHost("k1", "192.0.2.21/24")
	lab.AddHost("k2", "192.0.2.22/24")
	for i, node := range []string{"n1", "n2"} {
		if err := os.WriteFile(filepath.Join(w.root, node, "node", "keepalived.conf"), []byte(vrrpConf(60, 150-50*i, "192.0.2.60")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	kdir := t.TempDir()
	for i, node := range []string{"k1", "k2"} {
		if err := os.MkdirAll(filepath.Join(kdir, node), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(kdir, node, "keepalived.conf"), []byte(vrrpConf(61, 150-50*i, "192.0.2.61")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pace := watchVIP(t, lab, "192.0.2.60", "n1", "n2")
	ka := watchVIP(t, lab, "192.0.2.61", "k1", "k2")

	w.cli(t, "property", "set", "two-node=true", "ping-targets=192.0.2.254", "tiebreak-delay=500ms")
	w.waitQuorate(t, 10*time.Second, map[string]bool{"n1": true, "n2": true})
	w.cli(t, "resource", "create", "vrrp", "ocf:paceline:vrrp", "config="+filepath.Join(w.root, "node", "keepalived.conf"),
		"op", "monitor", "interval=2s", "--clone")
	for _, node := range []string{"k1", "k2"} {
		k := startKeepalived(t, lab, kdir, node)
		t.Cleanup(func() {
			k.kill()
			if t.Failed() {
				t.Logf("keepalived on %s:\n%s", node, tail(k.log.String(), 30))
			}
		})
	}
	pace.waitHeld(t, 30*time.Second, "n1")
	ka.waitHeld(t, 30*time.Second, "k1")
	t.Logf("before the cut: 192.0.2.60 on %v (Paceline), 192.0.2.61 on %v (keepalived)", pace.held(), ka.held())
	clustertest.WaitFor(t, 10*time.Second, func() (bool, string) {
		s1, s2 := clusterVRRP(t, w, "n1"), clusterVRRP(t, w, "n2")
		ok := len(s1) == 1 && s1[0].State == "MASTER" && len(s2) == 1 && s2[0].State == "BACKUP" && s2[0].Master == "192.0.2.1"
		return ok, fmt.Sprintf("paceline vrrp status --cluster: n1 %+v, n2 %+v", s1, s2)
	})

	// The link between the nodes of each pair is cut (their bridge ports
	// isolated from one another); each still reaches the ping target and
	// keeps its own link up.
	lab.isolatePorts(true, "n1", "n2", "k1", "k2")
	cut := time.Now()
	ka.waitHeld(t, 10*time.Second, "k1", "k2")
	t.Logf("link cut: keepalived has two masters after %v: 192.0.2.61 on %v", time.Since(cut).Round(time.Millisecond), ka.held())
	time.Sleep(2 * time.Second) // well past Paceline's lease and VRRP's master down interval
	if got := pace.held(); strings.Join(got, ",") != "n1" {
		t.Errorf("Paceline with the link cut: 192.0.2.60 on %v, want only n1 (the quorate side)", got)
	}
	q1, r1 := w.quorate("n1")
	q2, r2 := w.quorate("n2")
	t.Logf("link cut, %v later: 192.0.2.60 on %v (Paceline: n1 quorate %v %q; n2 quorate %v %q), 192.0.2.61 on %v (keepalived)",
		time.Since(cut).Round(time.Millisecond), pace.held(), q1, r1, q2, r2, ka.held())
	lab.isolatePorts(false, "n1", "n2", "k1", "k2")
	pace.waitHeld(t, 30*time.Second, "n1")
	ka.waitHeld(t, 30*time.Second, "k1")
	w.waitQuorate(t, 30*time.Second, map[string]bool{"n1": true, "n2": true})

	if most, at := pace.maxHeld(); most > 1 {
		t.Errorf("Paceline: two VRRP masters at once: %s", at)
	}
	most, at := ka.maxHeld()
	if most < 2 {
		t.Errorf("keepalived never had two masters (the comparison did not happen)")
	}
	t.Logf("most holders at once: Paceline 1; keepalived %d (%s)", most, at)
}
