package agent

import (
	"strings"
	"testing"
)

// The resources section of a node config: bad values are named.
func TestResourceSettingsValidate(t *testing.T) {
	base := Config{Name: "n1", DataDir: "/d", Bind: "127.0.0.1:7000", APISocket: "/s", TLS: TLSFiles{CA: "a", Cert: "b", Key: "c"}}
	if err := base.Validate(); err != nil {
		t.Fatalf("base config: %v", err)
	}
	for _, c := range []struct {
		r    ResourceSettings
		want string
	}{
		{ResourceSettings{MaxParallel: -1}, "resources.max-parallel -1"},
		{ResourceSettings{OCFRoot: "usr/lib/ocf"}, `resources.ocf-root "usr/lib/ocf"`},
		{ResourceSettings{KillGrace: "soon"}, `resources.kill-grace "soon"`},
		{ResourceSettings{KillGrace: "-1s"}, `resources.kill-grace "-1s"`},
	} {
		cfg := base
		cfg.Resources = c.r
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one naming %s", c.r, err, c.want)
		}
	}
	ok := base
	ok.Resources = ResourceSettings{MaxParallel: 4, OCFRoot: "/opt/ocf", KillGrace: "500ms"}
	if err := ok.Validate(); err != nil {
		t.Errorf("good settings refused: %v", err)
	}
}
