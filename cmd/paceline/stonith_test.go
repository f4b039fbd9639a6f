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
