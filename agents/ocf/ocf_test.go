package ocf_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/paceline/paceline/agents/dummy"
	"github.com/paceline/paceline/agents/ocf"
)

// Env and FromEnv are each other's inverse for what an agent reads.
func TestEnvRoundTrip(t *testing.T) {
	a := &ocf.Action{
		Name: ocf.Monitor, Instance: "web:1",
		Params:   map[string]string{"ip": "192.0.2.1", "cidr_netmask": "24"},
		Meta:     map[string]string{"clone-max": "3"},
		Interval: 10 * time.Second, Timeout: 20 * time.Second, CheckLevel: 10,
	}
	env := ocf.Env("/usr/lib/ocf", "paceline", "vip", a)
	b, err := ocf.FromEnv(ocf.Monitor, env)
	if err != nil {
		t.Fatal(err)
	}
	if b.Instance != a.Instance || !maps.Equal(b.Params, a.Params) || b.Interval != a.Interval || b.Timeout != a.Timeout || b.Meta["clone_max"] != "3" || b.CheckLevel != 10 {
		t.Fatalf("round trip: %+v from %q", b, env)
	}
	if _, err := ocf.FromEnv(ocf.Start, []string{"OCF_RESKEY_CRM_meta_timeout=soon"}); err == nil {
		t.Error("a bad timeout was accepted")
	}
	if _, err := ocf.FromEnv(ocf.Monitor, []string{"OCF_CHECK_LEVEL=deep"}); err == nil {
		t.Error("a bad OCF_CHECK_LEVEL was accepted")
	}
}

func TestParsers(t *testing.T) {
	for in, want := range map[string]time.Duration{"2": 2 * time.Second, "0.5": 500 * time.Millisecond, "200ms": 200 * time.Millisecond, "1m": time.Minute} {
		if got, err := ocf.ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "-1", "1h-"} {
		if _, err := ocf.ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"", "-", "1.5", "99999999999"} {
		if _, err := ocf.ParseInt(bad); err == nil {
			t.Errorf("ParseInt(%q) accepted", bad)
		}
	}
	if v, err := ocf.ParseBool("yes"); err != nil || !v {
		t.Error("ParseBool(yes)")
	}
	if _, err := ocf.ParseBool("maybe"); err == nil {
		t.Error("ParseBool(maybe) accepted")
	}
}

// Main: meta-data is well-formed, an unknown action is unimplemented, a
// missing action is a usage error, and the return code is the agent's.
func TestMain(t *testing.T) {
	ag := dummy.New()
	var out, errb bytes.Buffer
	if rc := ocf.Main(context.Background(), ag, []string{ocf.MetaData}, nil, &out, &errb); rc != 0 {
		t.Fatalf("meta-data rc %d: %s", rc, errb.String())
	}
	var md ocf.ResourceAgent
	if err := xml.Unmarshal(out.Bytes(), &md); err != nil || md.Name != "dummy" || !md.Supports(ocf.Promote) {
		t.Fatalf("meta-data %v: %+v", err, md)
	}
	if rc := ocf.Main(context.Background(), ag, []string{"migrate_to"}, nil, &out, &errb); rc != ocf.ErrUnimplemented {
		t.Errorf("unknown action: rc %d", rc)
	}
	if rc := ocf.Main(context.Background(), ag, nil, nil, &out, &errb); rc != ocf.ErrArgs || !strings.Contains(errb.String(), "usage") {
		t.Errorf("no action: rc %d %q", rc, errb.String())
	}
	state := t.TempDir() + "/s"
	env := []string{"OCF_RESKEY_state=" + state, "OCF_RESOURCE_INSTANCE=d"}
	for _, step := range []struct {
		action string
		rc     int
	}{{ocf.Monitor, ocf.NotRunning}, {ocf.Start, 0}, {ocf.Monitor, 0}, {ocf.Stop, 0}} {
		if rc := ocf.Main(context.Background(), ag, []string{step.action}, env, &out, &errb); rc != step.rc {
			t.Errorf("%s: rc %d, want %d", step.action, rc, step.rc)
		}
	}
	md2 := ag.MetaData()
	if err := md2.Check(map[string]string{"fail_start": "x"}); err == nil || !strings.Contains(err.Error(), "fail_start") {
		t.Errorf("Check: %v", err)
	}
}
