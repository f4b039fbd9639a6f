package main

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/crm/scheduler"
	"github.com/paceline/paceline/crm/scheduler/schedgen"
)

// The digests Pacemaker 2.1.5's crm_simulate wrote into the operation
// histories of a simulated transition, for these parameters.
func TestOpDigestMatchesPacemaker(t *testing.T) {
	for _, c := range []struct {
		params map[string]string
		want   string
	}{
		{map[string]string{"state": "/run/paceline/rsc0"}, "8f45a7bfe1de7ecd239f8fb9abf2c12a"},
		{map[string]string{"state": "/run/paceline/rsc0", "CRM_meta_timeout": "20000"}, "53a19a40b0779be0b7f1cb4949f3e03e"},
		{nil, "f2317cad3d54cec5d7d7aa7d0bf35cf8"},
		{map[string]string{"CRM_meta_timeout": "20000"}, "4811cef7f7f94e3a35a70be7916cb2fd"},
	} {
		if got := opDigest(c.params); got != c.want {
			t.Errorf("opDigest(%v) = %s, want %s", c.params, got, c.want)
		}
	}
}

func TestPcmkEscape(t *testing.T) {
	for in, want := range map[string]string{
		`a<b>&"c'`: "a&lt;b&gt;&amp;&quot;c&apos;",
		"x\ty\nz":  `x    y\nz`,
		"\x01":     `\001`,
		"é<":       "é<", // escaping stops at two non-ASCII bytes
	} {
		if got := pcmkEscape(in); got != want {
			t.Errorf("pcmkEscape(%q) = %q, want %q", in, got, want)
		}
	}
}

// testConfig has what the generator does not make: a promotable clone of
// a group, a rule with "and" and "or", a score attribute, a role location,
// a standby node and utilization.
func testConfig(t *testing.T) *cib.Config {
	t.Helper()
	mon := func(iv time.Duration, role string) cib.Op {
		return cib.Op{Name: "monitor", Interval: cib.Duration(iv), Timeout: cib.Duration(20 * time.Second), Role: role}
	}
	c := &cib.Config{
		Properties:       map[string]string{"no-quorum-policy": "freeze", "node-loss-grace": "10s"},
		ResourceDefaults: map[string]string{"resource-stickiness": "100"},
		Nodes: []cib.Node{
			{Name: "a", Attributes: map[string]string{"rack": "r1", "pingd": "1"}},
			{Name: "b", Standby: true, Utilization: map[string]int64{"cpu": 4}},
		},
		Primitives: []cib.Primitive{
			{ID: "web", Agent: "ocf:heartbeat:apache", Params: map[string]string{"config": `/etc/"x".conf`},
				Ops: []cib.Op{mon(10*time.Second, "")}, Utilization: map[string]int64{"cpu": 1}},
			{ID: "db-1", Agent: "ocf:paceline:dummy", Ops: []cib.Op{mon(10*time.Second, cib.RolePromoted), mon(11*time.Second, cib.RoleUnpromoted)}},
			{ID: "db-2", Agent: "ocf:paceline:dummy"},
		},
		Groups: []cib.Group{{ID: "db", Members: []string{"db-1", "db-2"}}},
		Clones: []cib.Clone{{ID: "db-clone", Rsc: "db", Promotable: true, Meta: map[string]string{"promoted-max": "1"}}},
	}
	l1 := cib.NewLocation("l1", "web")
	l1.Rule, l1.Score = "rack eq r1 and (not_defined pingd or pingd lt integer 1)", 200
	l2 := cib.NewLocation("l2", "web")
	l2.Rule, l2.ScoreAttribute = "defined pingd", "pingd"
	l3 := cib.NewLocation("l3", "db-clone")
	l3.Node, l3.Score, l3.Role = "a", 50, cib.RolePromoted
	o := cib.NewOrder("o1", "db-clone", "web")
	o.FirstAction, o.ThenAction, o.Kind, o.Symmetrical = "promote", "start", cib.OrderOptional, false
	col := cib.NewColocation("c1", "web", "db-clone")
	col.WithRscRole = cib.RolePromoted
	c.Constraints = cib.Constraints{Location: []cib.Location{l1, l2, l3}, Colocation: []cib.Colocation{col}, Order: []cib.Order{o}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPacemakerCIB(t *testing.T) {
	c := testConfig(t)
	st := &scheduler.Status{Quorate: true, Nodes: []scheduler.NodeStatus{
		{Name: "a", Probed: true, Attributes: map[string]string{"master-db-1": "10"},
			Resources: []scheduler.ResourceState{{ID: "web"}, {ID: "db-1", Role: cib.RolePromoted}, {ID: "db-2", Role: cib.RolePromoted}}},
		{Name: "b", State: scheduler.NodeUnclean},
		{Name: "c"}, // not configured
	}}
	if err := st.Validate(c); err != nil {
		t.Fatal(err)
	}
	b, err := pacemakerCIB(c, st, schedgen.Now)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		`have-quorum="1"`,
		`name="no-quorum-policy" value="freeze"`,
		`name="stonith-enabled" value="false"`,
		`<node id="3" uname="c">`,
		`name="standby" value="on"`,
		`<utilization id="nodes-2-utilization">`,
		`<rule id="l1-rule" score="200" boolean-op="and">`,
		`<rule id="l1-rule-1" boolean-op="or">`,
		`operation="lt" value="1" type="integer"`,
		`<rule id="l2-rule" score-attribute="pingd">`,
		`operation="defined"`,
		`<rsc_location id="l3" rsc="db-clone" role="Promoted" node="a" score="50">`,
		`first-action="promote" then="web" then-action="start" kind="Optional" symmetrical="false"`,
		`with-rsc-role="Promoted"`,
		`name="promotable" value="true"`,
		`interval="11s" timeout="20s" role="Unpromoted"`,
		`uname="b" in_ccm="false" crmd="offline" join="member" expected="member"`,
		`operation_key="db-1_promote_0"`,
		`operation_key="db-1_monitor_10000" operation="monitor" transition-key="4:0:8:`,
		`name="master-db-1" value="10"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the CIB lacks %s", want)
		}
	}
	if strings.Contains(s, "node-loss-grace") {
		t.Error("the CIB has Paceline's own property node-loss-grace")
	}
	checkIDsUnique(t, b)

	// crm_verify checks the CIB against Pacemaker's schema, where it is
	// installed.
	if _, err := exec.LookPath("crm_verify"); err == nil {
		f := filepath.Join(t.TempDir(), "cib.xml")
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("crm_verify", "-x", f).CombinedOutput(); err != nil {
			t.Errorf("crm_verify: %v\n%s", err, out)
		}
	}
}

// checkIDsUnique fails when two elements share an id attribute, other than
// the node ids Pacemaker repeats on purpose (node, node_state, lrm).
func checkIDsUnique(t *testing.T, b []byte) {
	t.Helper()
	seen := map[string]string{}
	d := xml.NewDecoder(strings.NewReader(string(b)))
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("the CIB is not well-formed: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "node", "node_state", "lrm", "transient_attributes", "lrm_resource", "lrm_rsc_op":
			continue
		}
		for _, a := range se.Attr {
			if a.Name.Local != "id" {
				continue
			}
			if prev, dup := seen[a.Value]; dup {
				t.Errorf("id %q on both %s and %s", a.Value, prev, se.Name.Local)
			}
			seen[a.Value] = se.Name.Local
		}
	}
}

func TestPacemakerCIBRefuses(t *testing.T) {
	c := testConfig(t)
	failed := &scheduler.Status{Nodes: []scheduler.NodeStatus{{Name: "a",
		Resources: []scheduler.ResourceState{{ID: "web", Failed: true}}}}}
	if _, err := pacemakerCIB(c, failed, schedgen.Now); err == nil || !strings.Contains(err.Error(), "not translated") {
		t.Errorf("a failed resource: got %v, want a refusal", err)
	}
	fenced := c.Clone()
	fenced.Properties["stonith-enabled"] = "true"
	if _, err := pacemakerCIB(fenced, &scheduler.Status{}, schedgen.Now); err == nil {
		t.Error("stonith-enabled=true: no error")
	}
}

// The generated inputs translate, for both situations.
func TestPacemakerCIBGenerated(t *testing.T) {
	cfg := schedgen.Cluster(3, 100, 100, 1)
	for _, situation := range []string{schedgen.Cold, schedgen.NodeFail} {
		st, err := schedgen.Status(cfg, situation)
		if err != nil {
			t.Fatal(err)
		}
		b, err := pacemakerCIB(cfg, st, schedgen.Now)
		if err != nil {
			t.Fatalf("%s: %v", situation, err)
		}
		checkIDsUnique(t, b)
	}
}
