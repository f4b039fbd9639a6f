package clustertest

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
)

// An action run by hand through one node's API on another node runs on
// that node (over the cluster's mutual-TLS RPC), and its history is read
// from any node.
func TestResourceOpAndHistoryOnAnotherNode(t *testing.T) {
	c := New(t, 3, Options{})
	c.WaitRegistered(30 * time.Second)
	ctx := Ctx(t)
	state := filepath.Join(t.TempDir(), "d.state")
	if _, err := c.Nodes[0].Client.Apply(ctx, &cib.CreatePrimitive{Primitive: cib.Primitive{
		ID: "d", Agent: "ocf:paceline:dummy", Params: map[string]string{"state": state},
	}}, false); err != nil {
		t.Fatal(err)
	}
	target := c.Nodes[2].Name
	WaitFor(t, 10*time.Second, func() (bool, string) {
		cfg, err := c.Nodes[2].Client.Config(ctx)
		return err == nil && cfg.Primitive("d") != nil, "d reaches the third node"
	})
	op, err := c.Nodes[0].Client.Exec(ctx, api.ExecRequest{Rsc: "d", Action: ocf.Start, Node: target})
	if err != nil || op.RC != ocf.Success {
		t.Fatalf("start on %s through %s: %+v, %v", target, c.Nodes[0].Name, op, err)
	}
	for _, n := range c.Nodes {
		h, err := n.Client.History(ctx, "d", target)
		if err != nil || h.Node != target || len(h.Resources) != 1 || h.Resources[0].Last.Action != ocf.Start {
			t.Fatalf("history of d on %s read through %s: %+v, %v", target, n.Name, h, err)
		}
	}
	// It ran there, not on the node asked.
	if h, err := c.Nodes[0].Client.History(ctx, "d", ""); err != nil || len(h.Resources) != 0 {
		t.Fatalf("history on %s: %+v, %v", c.Nodes[0].Name, h, err)
	}
}
