package vrrp

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/agents/vrrp/kaconf"
)

// agentOn is an ocf:paceline:vrrp agent on the in-memory bus, with a
// quorum gate the test opens and closes.
type agentOn struct {
	a    *Agent
	open atomic.Bool
}

func newAgentOn(t *testing.T, b *bus, h *holders, name string, src netip.Addr) *agentOn {
	ao := &agentOn{}
	ao.open.Store(true)
	ao.a = NewAgent(t.Context(), testLog(t).With("node", name),
		WithAddresser(fakeAddrs{h, name}),
		WithGate(func() (bool, string) {
			if ao.open.Load() {
				return true, ""
			}
			return false, "no lease (test)"
		}))
	ao.a.listen = func(context.Context, Config, *slog.Logger) (packetConn, error) { return b.join(src), nil }
	return ao
}

func (ao *agentOn) run(t *testing.T, action, conf string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	rc := ao.a.Run(ctx, &ocf.Action{Name: action, Instance: "vrrp-clone", Params: map[string]string{"config": conf}, Out: &out})
	return rc, out.String()
}

func writeConf(t *testing.T, prio int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "keepalived.conf")
	conf := `vrrp_instance VI_1 {
	interface eth0
	virtual_router_id 51
	priority ` + strconv.Itoa(prio) + `
	advert_int 0.05
	virtual_ipaddress {
		192.0.2.50/32
	}
}
global_defs {
	vrrp_version 3
}
`
	if err := os.WriteFile(p, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The agent runs a keepalived.conf's instances as a resource; its quorum
// gate puts them in FAULT: a master that loses quorum resigns, and the
// other node's instance takes over; once the gate opens again, the
// higher priority takes the address back. Stop releases the address.
func TestAgentQuorumGate(t *testing.T) {
	b := &bus{}
	h := &holders{held: map[string]map[string]bool{}}
	n1 := newAgentOn(t, b, h, "n1", netip.MustParseAddr("192.0.2.11"))
	n2 := newAgentOn(t, b, h, "n2", netip.MustParseAddr("192.0.2.12"))
	c1, c2 := writeConf(t, 150), writeConf(t, 100)
	if rc, out := n1.run(t, ocf.Monitor, c1); rc != ocf.NotRunning {
		t.Fatalf("probe before start: rc %d %q", rc, out)
	}
	for _, x := range []struct {
		ao   *agentOn
		conf string
	}{{n1, c1}, {n2, c2}} {
		if rc, out := x.ao.run(t, ocf.Start, x.conf); rc != ocf.Success {
			t.Fatalf("start: rc %d %q", rc, out)
		}
	}
	wantHolders(t, h, "192.0.2.50/32", "n1")
	if rc, out := n1.run(t, ocf.Monitor, c1); rc != ocf.Success || !strings.Contains(out, "VI_1: MASTER, priority 150") {
		t.Errorf("monitor: rc %d %q", rc, out)
	}

	n1.open.Store(false)
	wantHolders(t, h, "192.0.2.50/32", "n2")
	st := n1.a.Status("vrrp-clone")
	if len(st) != 1 || st[0].State != "FAULT" || len(st[0].Faults) != 1 || !strings.Contains(st[0].Faults[0], "no lease (test)") {
		t.Errorf("n1 without quorum: %+v", st)
	}
	n1.open.Store(true)
	wantHolders(t, h, "192.0.2.50/32", "n1")

	if rc, out := n1.run(t, ocf.Stop, c1); rc != ocf.Success {
		t.Fatalf("stop: rc %d %q", rc, out)
	}
	wantHolders(t, h, "192.0.2.50/32", "n2")
	if rc, _ := n1.run(t, ocf.Monitor, c1); rc != ocf.NotRunning {
		t.Errorf("monitor after stop: rc %d", rc)
	}
}

// Addresses left behind by a router that is gone (the Paceline agent
// crashed) make the probe fail, and the stop removes them.
func TestAgentLeftovers(t *testing.T) {
	b := &bus{}
	h := &holders{held: map[string]map[string]bool{}}
	n1 := newAgentOn(t, b, h, "n1", netip.MustParseAddr("192.0.2.11"))
	conf := writeConf(t, 150)
	fakeAddrs{h, "n1"}.Add(t.Context(), "eth0", VIP{Prefix: netip.MustParsePrefix("192.0.2.50/32")}, 0)
	rc, out := n1.run(t, ocf.Monitor, conf)
	if rc != ocf.ErrGeneric || !strings.Contains(out, "192.0.2.50/32 on eth0") {
		t.Errorf("probe with a leftover address: rc %d %q", rc, out)
	}
	if rc, out := n1.run(t, ocf.Stop, conf); rc != ocf.Success || !strings.Contains(out, "removed its addresses left behind") {
		t.Errorf("stop: rc %d %q", rc, out)
	}
	wantHolders(t, h, "192.0.2.50/32")
	if rc, _ := n1.run(t, ocf.Monitor, conf); rc != ocf.NotRunning {
		t.Errorf("probe after the stop: rc %d", rc)
	}
}

func TestAgentRefuses(t *testing.T) {
	a := NewAgent(nil, nil)
	var out bytes.Buffer
	if rc := a.Run(t.Context(), &ocf.Action{Name: ocf.Start, Params: map[string]string{"config": writeConf(t, 100)}, Out: &out}); rc != ocf.ErrUnimplemented || !strings.Contains(out.String(), "paceline vrrp --config") {
		t.Errorf("start without a process to run in: rc %d %q", rc, out.String())
	}
	out.Reset()
	if rc := a.Run(t.Context(), &ocf.Action{Name: ocf.ValidateAll, Params: map[string]string{}, Out: &out}); rc != ocf.ErrConfigured || !strings.Contains(out.String(), "config is required") {
		t.Errorf("validate without config: rc %d %q", rc, out.String())
	}
	out.Reset()
	if rc := a.Run(t.Context(), &ocf.Action{Name: ocf.ValidateAll, Params: map[string]string{"config": "/nonexistent/keepalived.conf"}, Out: &out}); rc != ocf.ErrConfigured {
		t.Errorf("validate with a missing file: rc %d %q", rc, out.String())
	}
}

// Loaded.Run holds an instance that tracks a weight-0 script in FAULT
// until that script's first result, as keepalived does: not even the
// address owner (priority 255) becomes master while its check fails.
func TestLoadedRunHoldsUntilFirstResult(t *testing.T) {
	b := &bus{}
	h := &holders{held: map[string]map[string]bool{}}
	p := filepath.Join(t.TempDir(), "keepalived.conf")
	conf := `vrrp_script chk {
	script "/bin/false"
	interval 1
}
vrrp_instance VI_1 {
	interface eth0
	virtual_router_id 51
	priority 255
	advert_int 1
	virtual_ipaddress {
		192.0.2.50/32
	}
	track_script {
		chk
	}
}
`
	if err := os.WriteFile(p, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Load(p, "", testLog(t), func(w kaconf.Warning) { t.Logf("warning: %s", w) })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	ready := make(chan *Router, 1)
	go func() {
		done <- l.Run(ctx, fakeAddrs{h, "n1"}, testLog(t), func(r *Router) { ready <- r },
			withListen(func(context.Context, Config, *slog.Logger) (packetConn, error) {
				return b.join(netip.MustParseAddr("192.0.2.11")), nil
			}))
	}()
	r := <-ready
	waitFor(t, 10*time.Second, "VI_1 in FAULT for chk's failure", func() bool {
		st := r.Status()[0]
		return st.State == "FAULT" && len(st.Faults) == 1 && strings.Contains(st.Faults[0], "script chk: exit")
	})
	if got := h.of("192.0.2.50/32"); len(got) != 0 || r.Status()[0].Counters.BecameMaster != 0 {
		t.Errorf("the owner became master before its check's result: held by %v, %+v", got, r.Status()[0].Counters)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
