package cib

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// checkBase is a two-node configuration Check has nothing to say about:
// fencing with a device, a ping tiebreak, two-node with wait-for-all,
// stickiness, and a monitored VIP.
const checkBase = `
properties:
  stonith-enabled: "true"
  two-node: "true"
  wait-for-all: "true"
  ping-targets: 192.0.2.1
resource-defaults:
  resource-stickiness: "100"
nodes:
  - name: n1
  - name: n2
primitives:
  - id: ip
    agent: ocf:paceline:vip
    params: {ip: 192.0.2.10}
    ops: [{name: monitor, interval: 10s}]
  - id: web
    agent: ocf:paceline:nginx
    ops: [{name: monitor, interval: 10s}]
fence-devices:
  - id: fence-all
    agent: fence_paceline_exec
    params: {pcmk_host_list: "n1 n2"}
`

func TestCheckBaseIsClean(t *testing.T) {
	c := mustDecode(t, checkBase)
	if fs := Check(c); len(fs) != 0 {
		t.Fatalf("findings on the clean base: %v", fs)
	}
}

func mustDecode(t *testing.T, y string) *Config {
	t.Helper()
	c, err := DecodeYAML([]byte(y))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return c
}

// TestCheckRules changes the clean base one way per case and lists the
// findings expected, as "severity rule object".
func TestCheckRules(t *testing.T) {
	threeNodes := func(c *Config) {
		c.Nodes = append(c.Nodes, Node{Name: "n3"})
		c.Properties["two-node"] = "false"
		c.FenceDevices[0].Params["pcmk_host_list"] = "n1 n2 n3"
	}
	cases := []struct {
		name   string
		change func(*Config)
		want   []string
	}{
		{"validation problem is an error", func(c *Config) {
			c.Properties["no-quorum-policy"] = "maybe"
		}, []string{"error invalid properties[no-quorum-policy]"}},
		{"stonith disabled on two nodes", func(c *Config) {
			c.Properties["stonith-enabled"] = "false"
		}, []string{"warning stonith-disabled-two-node properties[stonith-enabled]"}},
		{"two nodes without fencing or ping", func(c *Config) {
			c.Properties["stonith-enabled"] = "false"
			delete(c.Properties, "ping-targets")
		}, []string{
			"warning stonith-disabled-two-node properties[stonith-enabled]",
			"warning two-node-no-tiebreak properties[ping-targets]",
		}},
		{"two nodes without two-node", func(c *Config) {
			delete(c.Properties, "two-node")
		}, []string{"warning two-node-property properties[two-node]"}},
		{"two-node without wait-for-all", func(c *Config) {
			delete(c.Properties, "wait-for-all")
		}, []string{"warning two-node-property properties[wait-for-all]"}},
		{"two-node with three nodes", func(c *Config) {
			threeNodes(c)
			c.Properties["two-node"] = "true"
		}, []string{"warning two-node-property properties[two-node]"}},
		{"no-quorum-policy ignore with three nodes", func(c *Config) {
			threeNodes(c)
			c.Properties["no-quorum-policy"] = "ignore"
		}, []string{"warning no-quorum-ignore properties[no-quorum-policy]"}},
		{"no-quorum-policy ignore with two nodes and fencing is fine", func(c *Config) {
			c.Properties["no-quorum-policy"] = "ignore"
		}, nil},
		{"no-quorum-policy freeze without fencing", func(c *Config) {
			threeNodes(c)
			c.Properties["stonith-enabled"] = "false"
			c.Properties["no-quorum-policy"] = "freeze"
		}, []string{"warning no-quorum-unsafe properties[no-quorum-policy]"}},
		{"fencing without a device", func(c *Config) {
			c.FenceDevices = nil
		}, []string{"error stonith-no-device properties[stonith-enabled]"}},
		{"on-fail fence without stonith", func(c *Config) {
			threeNodes(c)
			c.Properties["stonith-enabled"] = "false"
			c.Primitives[1].Ops = append(c.Primitives[1].Ops, Op{Name: "stop", Timeout: Duration(20e9), OnFail: "fence"})
		}, []string{"warning on-fail-fence-no-stonith primitives[web].ops[1]"}},
		{"VIP without monitor", func(c *Config) {
			c.Primitives[0].Ops = nil
		}, []string{"warning vip-no-monitor primitives[ip]"}},
		{"IPaddr2 with only a start op", func(c *Config) {
			c.Primitives[0].Agent = "ocf:heartbeat:IPaddr2"
			c.Primitives[0].Ops = []Op{{Name: "start", Timeout: Duration(20e9)}}
		}, []string{"warning vip-no-monitor primitives[ip]"}},
		{"primitive without monitor", func(c *Config) {
			c.Primitives[1].Ops = nil
		}, []string{"warning no-monitor primitives[web]"}},
		{"promoted-max above node count", func(c *Config) {
			c.Clones = []Clone{{ID: "web-clone", Rsc: "web", Promotable: true, Meta: map[string]string{"promoted-max": "3"}}}
		}, []string{"warning promoted-max-nodes clones[web-clone].meta[promoted-max]"}},
		{"clone-max above what nodes hold", func(c *Config) {
			c.Clones = []Clone{{ID: "web-clone", Rsc: "web", Meta: map[string]string{"clone-max": "4"}}}
		}, []string{"warning promoted-max-nodes clones[web-clone].meta[clone-max]"}},
		{"stickiness zero by default", func(c *Config) {
			c.ResourceDefaults = nil
		}, []string{"warning stickiness-zero resource-defaults[resource-stickiness]"}},
		{"stickiness zero on one resource", func(c *Config) {
			c.Primitives[1].Meta = map[string]string{"resource-stickiness": "0"}
		}, []string{"warning stickiness-zero primitives[web].meta[resource-stickiness]"}},
		{"failure-timeout without migration-threshold", func(c *Config) {
			c.Primitives[1].Meta = map[string]string{"failure-timeout": "60s"}
		}, []string{"warning failure-timeout-no-threshold primitives[web].meta[failure-timeout]"}},
		{"failure-timeout with threshold INFINITY", func(c *Config) {
			c.ResourceDefaults["failure-timeout"] = "60s"
			c.ResourceDefaults["migration-threshold"] = "INFINITY"
		}, []string{"warning failure-timeout-no-threshold resource-defaults[failure-timeout]"}},
		{"failure-timeout with a group's threshold is fine", func(c *Config) {
			c.Primitives[1].Meta = map[string]string{"failure-timeout": "60s"}
			c.Groups = []Group{{ID: "g", Members: []string{"ip", "web"}, Meta: map[string]string{"migration-threshold": "3"}}}
		}, nil},
		{"location on an unknown node", func(c *Config) {
			l := NewLocation("web-on-n9", "web")
			l.Node = "n9"
			c.Constraints.Location = append(c.Constraints.Location, l)
		}, []string{"warning unknown-node constraints.location[web-on-n9]"}},
		{"fence level and host list for an unknown node", func(c *Config) {
			c.FenceLevels = []FenceLevel{{Target: "n9", Index: 1, Devices: []string{"fence-all"}}}
			c.FenceDevices[0].Params["pcmk_host_list"] = "n1,n2,n9"
		}, []string{
			"warning unknown-node fence-levels[0]",
			"warning unknown-node fence-devices[fence-all].params[pcmk_host_list]",
		}},
		{"maintenance mode", func(c *Config) {
			c.Properties["maintenance-mode"] = "true"
		}, []string{"warning not-managing properties[maintenance-mode]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustDecode(t, checkBase)
			tc.change(c)
			var got []string
			for _, f := range Check(c) {
				if f.Message == "" || !strings.Contains(f.String(), f.Object) {
					t.Errorf("finding without a message or object: %+v", f)
				}
				got = append(got, string(f.Severity)+" "+f.Rule+" "+f.Object)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings:\n got  %q\n want %q", got, tc.want)
			}
		})
	}
}

func TestCheckRuleNamesAreUnique(t *testing.T) {
	seen := map[string]bool{RuleInvalid: true}
	for _, r := range CheckRules {
		if seen[r.Name] || r.Description == "" || r.check == nil {
			t.Errorf("rule %q: duplicate name or missing description", r.Name)
		}
		seen[r.Name] = true
	}
}

func mustDecodeFile(t *testing.T, path string) *Config {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return mustDecode(t, string(b))
}

// TestCheckValidFilesHaveNoErrors runs Check on every valid test configuration: it must
// not panic, and must report no error a valid file does not have.
func TestCheckValidFilesHaveNoErrors(t *testing.T) {
	for _, name := range []string{"everything.yaml", "nginx-vip.yaml", "redis-promotable.yaml"} {
		c := mustDecodeFile(t, "testdata/valid/"+name)
		for _, f := range Check(c) {
			if f.Rule == RuleInvalid {
				t.Errorf("%s: %v", name, f)
			}
		}
	}
}

// TestDocsListEveryCheckRule keeps docs/hardening.md in step with
// CheckRules.
func TestDocsListEveryCheckRule(t *testing.T) {
	b, err := os.ReadFile("../docs/hardening.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range append([]CheckRule{{Name: RuleInvalid}}, CheckRules...) {
		if !strings.Contains(string(b), "| `"+r.Name+"` |") {
			t.Errorf("docs/hardening.md does not list check rule %q", r.Name)
		}
	}
}
