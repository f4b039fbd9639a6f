package main

import (
	"strings"
	"testing"
	"time"

	"github.com/paceline/paceline/fencing"
)

// Status shows, per target, the fences that failed or are pending since
// its last success; describeFence says what happened in one line.
func TestUnsettledFencing(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	ops := []fencing.Op{
		{ID: "1", Target: "n2", Action: "reboot", State: fencing.Failed, Started: at(0), Completed: at(1), Reason: "level 1: ipmi reboot n2: exit code 1"},
		{ID: "2", Target: "n2", Action: "reboot", State: fencing.Done, Started: at(2), Completed: at(3), Executor: "n1", Origin: "n1"},
		{ID: "3", Target: "n3", Action: "reboot", State: fencing.Failed, Started: at(4), Completed: at(5), Reason: "no fence device can fence n3"},
		{ID: "4", Target: "n3", Action: "reboot", State: fencing.Pending, Started: at(6)},
	}
	got := unsettledFencing(ops)
	if len(got) != 2 || got[0].ID != "3" || got[1].ID != "4" {
		t.Fatalf("got %+v, want ops 3 and 4", got)
	}
	if s := describeFence(got[0]); !strings.Contains(s, "reboot of n3 failed") || !strings.Contains(s, "no fence device can fence n3") {
		t.Errorf("failed: %q", s)
	}
	if s := describeFence(got[1]); !strings.Contains(s, "reboot of n3 pending") {
		t.Errorf("pending: %q", s)
	}
	if s := describeFence(ops[1]); !strings.Contains(s, "reboot of n2 successful: executor n1") || !strings.Contains(s, "took 1s") {
		t.Errorf("done: %q", s)
	}
}

// stonith create/update/level/delete through the CLI against a real
// agent: bad input is refused with the problem named, nothing applied.
func TestStonithCLI(t *testing.T) {
	a := startAgent(t)
	a.ok(t, "stonith", "create", "pdu", "fence_apc", "ip=192.0.2.9", "pcmk_host_map=n1:1;n2:2", "pcmk_off_timeout=20s")
	a.ok(t, "stonith", "create", "ipmi", "fence_ipmilan", "ip=192.0.2.10", "pcmk_host_list=n1")
	a.ok(t, "stonith", "level", "add", "1", "n1", "ipmi")
	a.ok(t, "stonith", "level", "add", "2", "n1", "pdu")
	a.ok(t, "stonith", "update", "pdu", "login=admin", "pcmk_off_timeout=")
	out := a.ok(t, "stonith", "list")
	for _, want := range []string{"pdu (fence_apc)", "login=admin", "n1 level 1: ipmi", "n1 level 2: pdu", "stonith-enabled is false"} {
		if !strings.Contains(out, want) {
			t.Errorf("stonith list lacks %q:\n%s", want, out)
		}
	}
	a.fails(t, 2, "pcmk_host_map", "stonith", "create", "bad", "fence_apc", "pcmk_host_map=n1=1")
	a.fails(t, 2, "plain names", "stonith", "create", "bad", "stonith:fence_apc")
	a.fails(t, 1, `unknown fence device "nope"`, "stonith", "level", "add", "3", "n1", "nope")
	a.fails(t, 1, "already has a fence level 1", "stonith", "level", "add", "1", "n1", "pdu")
	r := a.run(t, "stonith", "delete", "ipmi")
	if r.code != 0 || !strings.Contains(r.stdout+r.stderr, "removed level 1 of n1") {
		t.Fatalf("delete ipmi: %s", r)
	}
	cfg := a.config(t)
	if len(cfg.FenceDevices) != 1 || len(cfg.FenceLevels) != 1 || cfg.FenceDevices[0].Params["pcmk_off_timeout"] != "" {
		t.Fatalf("after the changes: %+v %+v", cfg.FenceDevices, cfg.FenceLevels)
	}
	a.fails(t, 1, "no other node", "stonith", "fence", "n1")
}
