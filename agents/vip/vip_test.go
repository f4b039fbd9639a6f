package vip

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/paceline/paceline/agents/ocf"
)

// TestMetaDataValid: the meta-data validates against resource-agents'
// ra-api-1.dtd, as ocf-tester and Pacemaker read it, and lists the
// actions and parameters the agent implements.
func TestMetaDataValid(t *testing.T) {
	a := New()
	var out bytes.Buffer
	if rc := a.Run(t.Context(), &ocf.Action{Name: ocf.MetaData, Out: &out}); rc != ocf.Success {
		t.Fatalf("meta-data rc %d", rc)
	}
	for _, want := range []string{`<resource-agent name="vip"`, `name="ip" unique="1" required="1"`,
		`name="monitor" timeout="20s" interval="10s"`, `name="validate-all"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("meta-data lacks %s", want)
		}
	}
	for _, act := range []string{ocf.Start, ocf.Stop, ocf.Monitor, ocf.MetaData, ocf.ValidateAll} {
		if !a.MetaData().Supports(act) {
			t.Errorf("meta-data does not list %s", act)
		}
	}
	const dtd = "/usr/share/resource-agents/ra-api-1.dtd"
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Skip("xmllint not installed (Debian: libxml2-utils; make deps installs it)")
	}
	cmd := exec.Command("xmllint", "--noout", "--dtdvalid", dtd, "-")
	cmd.Stdin = &out
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xmllint --dtdvalid %s: %v\n%s", dtd, err, b)
	}
}

// TestRunRefusals: unknown actions are unimplemented, bad parameters are
// ErrConfigured with the parameter named (a stop and a probe do not fail
// on them), a cancelled action does nothing; no root is needed here.
func TestRunRefusals(t *testing.T) {
	a := New()
	// A monitor is a recurring one; "probe" is the one-shot monitor.
	run := func(ctx context.Context, action string, params map[string]string) (int, string) {
		var out bytes.Buffer
		act := &ocf.Action{Name: action, Params: params, Out: &out, Interval: 10 * time.Second}
		if action == "probe" {
			act.Name, act.Interval = ocf.Monitor, 0
		}
		rc := a.Run(ctx, act)
		return rc, out.String()
	}
	if rc, _ := run(t.Context(), "reload", map[string]string{"ip": "192.0.2.50"}); rc != ocf.ErrUnimplemented {
		t.Errorf("reload: rc %d, want %d", rc, ocf.ErrUnimplemented)
	}
	// A stop succeeds and a probe finds the address absent (192.0.2.50 is
	// not on this host; with a valid ip they look for it on every
	// interface, read-only here): a failed stop would fence the node.
	// Both still name the problem.
	wantRC := map[string]int{ocf.Start: ocf.ErrConfigured, ocf.Monitor: ocf.ErrConfigured, ocf.ValidateAll: ocf.ErrConfigured,
		ocf.Stop: ocf.Success, "probe": ocf.NotRunning}
	for action, want := range wantRC {
		for _, tc := range []struct {
			params map[string]string
			want   string
		}{
			{map[string]string{}, "parameter ip is required"},
			{map[string]string{"ip": "192.0.2.256"}, `parameter ip="192.0.2.256"`},
			{map[string]string{"ip": "192.0.2.50", "cidr_netmask": "40"}, `parameter cidr_netmask="40"`},
			{map[string]string{"ip": "192.0.2.50", "nic": "eth0", "label": "eth1:x"}, `parameter label="eth1:x"`},
		} {
			rc, out := run(t.Context(), action, tc.params)
			if rc != want || !strings.Contains(out, tc.want) {
				t.Errorf("%s %v: rc %d %q; want %d and %q", action, tc.params, rc, out, want, tc.want)
			}
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if rc, _ := run(ctx, ocf.Start, map[string]string{"ip": "192.0.2.50"}); rc != ocf.ErrGeneric {
		t.Errorf("start with a cancelled context: rc %d, want %d", rc, ocf.ErrGeneric)
	}
}
