package lrm

import (
	"testing"

	"github.com/paceline/paceline/cib"
)

// A clone's instances get the clone's options as Pacemaker passes them
// (CRM_meta_*), with their defaults, so agents such as ocf:heartbeat:redis
// know they run as a promotable clone; inner meta wins over outer.
func TestRequestForCloneMeta(t *testing.T) {
	cfg := &cib.Config{
		Nodes:            []cib.Node{{Name: "n1"}, {Name: "n2"}, {Name: "n3"}},
		ResourceDefaults: map[string]string{"resource-stickiness": "1"},
		Primitives: []cib.Primitive{
			{ID: "redis", Agent: "ocf:heartbeat:redis"},
			{ID: "ip", Agent: "ocf:paceline:vip", Meta: map[string]string{"target-role": "Started"}},
			{ID: "web", Agent: "ocf:heartbeat:nginx"},
		},
		Groups: []cib.Group{{ID: "g", Members: []string{"ip", "web"}, Meta: map[string]string{"target-role": "Stopped"}}},
		Clones: []cib.Clone{
			{ID: "redis-clone", Rsc: "redis", Promotable: true, Meta: map[string]string{"notify": "true"}},
			{ID: "g-clone", Rsc: "g", Meta: map[string]string{"clone-max": "2"}},
		},
	}
	req, err := RequestFor(cfg, "redis:1", "start", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"promotable": "true", "notify": "true", "clone-max": "3", "clone-node-max": "1", "promoted-max": "1",
		"master-max": "1", "promoted-node-max": "1", "clone": "1", "globally-unique": "false", "resource-stickiness": "1"}
	for k, v := range want {
		if req.Meta[k] != v {
			t.Errorf("redis:1 meta %s = %q, want %q (all: %v)", k, req.Meta[k], v, req.Meta)
		}
	}
	req, err = RequestFor(cfg, "ip", "start", 0)
	if err != nil {
		t.Fatal(err)
	}
	if req.Meta["clone-max"] != "2" || req.Meta["clone"] != "0" || req.Meta["target-role"] != "Started" || req.Meta["promotable"] != "" {
		t.Errorf("ip (in a cloned group): %v", req.Meta)
	}
}
