package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/crm/scheduler"
)

// Status names a promotable clone's instances Promoted and Unpromoted,
// as crm_mon does; a plain clone's are Started.
func TestResourceStatusRoles(t *testing.T) {
	cfg := &cib.Config{
		Primitives: []cib.Primitive{{ID: "db", Agent: "ocf:paceline:redis"}, {ID: "ping", Agent: "ocf:paceline:ping"}},
		Clones:     []cib.Clone{{ID: "db-clone", Rsc: "db", Promotable: true}, {ID: "ping-clone", Rsc: "ping"}},
	}
	rs := &api.ResourcesReply{DC: "n1", Nodes: []api.NodeResource{
		{Name: "n1", State: "online", Resources: []scheduler.ResourceState{{ID: "db", Role: cib.RolePromoted}, {ID: "ping"}}},
		{Name: "n2", State: "online", Resources: []scheduler.ResourceState{{ID: "db"}, {ID: "ping", Role: cib.RoleStarted}}},
	}}
	var out bytes.Buffer
	printResourceStatus(&globals{stdout: &out, stderr: &out}, cfg, rs)
	for _, want := range []string{"Promoted n1", "Unpromoted n2", "Started n1", "Started n2"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "Started n2, Started") || strings.Count(out.String(), "Started") != 2 {
		t.Errorf("a promotable instance shown as Started:\n%s", out.String())
	}
}
