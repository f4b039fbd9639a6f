package crm

import (
	"context"
	"strings"
	"testing"

	"github.com/paceline/paceline/crm/scheduler"
	"github.com/paceline/paceline/lrm"
)

// A node refuses orders of a term older than one it has seen, in an
// order or in a DC's history read.
func TestNodeExecutorTermFloor(t *testing.T) {
	n := &NodeExecutor{}
	n.Observe(5, "n2")
	r := n.Handle(context.Background(), Order{Term: 4, DC: "n1", Action: scheduler.Action{Op: scheduler.OpStart, Rsc: "a", Node: "n3"}})
	if r.Status != lrm.StatusError || !strings.Contains(r.Reason, "older than term 5 of n2") {
		t.Fatalf("an order of term 4 after term 5 was seen: %+v", r)
	}
	n.Observe(3, "n1") // an older term never lowers the floor
	if term, dc := n.Term(); term != 5 || dc != "n2" {
		t.Fatalf("term floor %d of %s, want 5 of n2", term, dc)
	}
	// MayStart refuses starts (and promotes), before anything runs.
	n.MayStart = func() (bool, string) { return false, "no lease" }
	r = n.Handle(context.Background(), Order{Term: 5, DC: "n2", Action: scheduler.Action{Op: scheduler.OpPromote, Rsc: "a", Node: "n3"}})
	if r.Status != lrm.StatusError || !strings.Contains(r.Reason, "no lease") {
		t.Fatalf("a promote without the lease: %+v", r)
	}
}
