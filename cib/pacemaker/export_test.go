package pacemaker

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/paceline/paceline/cib"
)

// roundTripInputs are configurations to export and import back: the
// model's own examples and everything the import cases read.
func roundTripInputs(t *testing.T) map[string]*cib.Config {
	t.Helper()
	out := map[string]*cib.Config{}
	yamls, _ := filepath.Glob("../testdata/valid/*.yaml")
	for _, f := range yamls {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := cib.DecodeYAML(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if p := c.Primitive("d2"); filepath.Base(f) == "everything.yaml" && p != nil {
			// Its promotable clone holds an lsb resource, which Pacemaker
			// cannot promote: Export refuses it (TestExportRefuses).
			p.Agent = "ocf:heartbeat:Dummy"
		}
		out[filepath.Base(f)] = c
	}
	xmls, _ := filepath.Glob("testdata/import/*.xml")
	for _, f := range append(xmls, "testdata/debian-cib.xml") {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := Import(bytes.NewReader(data), ImportOptions{SkipUnsupported: true})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = c
	}
	if len(yamls) == 0 || len(xmls) == 0 {
		t.Fatal("no round-trip inputs")
	}
	return out
}

// canonical is c as an export and import give it back: no epoch or last
// change (an import sets neither), stonith-enabled written out (its
// default differs), rules in their canonical form, and the resources in
// the CIB's order: top-level primitives, then groups and clones with
// their members.
func canonical(t *testing.T, in *cib.Config) *cib.Config {
	t.Helper()
	c := in.Clone()
	c.Epoch, c.LastChange = 0, nil
	if c.Properties == nil {
		c.Properties = map[string]string{}
	}
	c.Properties["stonith-enabled"] = in.Property("stonith-enabled")
	for i := range c.Constraints.Location {
		l := &c.Constraints.Location[i]
		if l.Rule == "" {
			continue
		}
		r, err := cib.ParseRule(l.Rule)
		if err != nil {
			t.Fatal(err)
		}
		l.Rule = r.String()
		if l.ScoreAttribute != "" {
			l.Score = cib.Infinity
		}
	}
	var prims []cib.Primitive
	var groups []cib.Group
	addGroup := func(g *cib.Group) {
		groups = append(groups, *g)
		for _, m := range g.Members {
			prims = append(prims, *in.Primitive(m))
		}
	}
	for _, p := range in.Primitives {
		if in.GroupOf(p.ID) == nil && in.CloneOf(p.ID) == nil {
			prims = append(prims, p)
		}
	}
	for i := range in.Groups {
		if in.CloneOf(in.Groups[i].ID) == nil {
			addGroup(&in.Groups[i])
		}
	}
	for _, cl := range in.Clones {
		if g := in.Group(cl.Rsc); g != nil {
			addGroup(g)
		} else {
			prims = append(prims, *in.Primitive(cl.Rsc))
		}
	}
	c.Primitives, c.Groups = prims, groups
	c = c.Clone() // no sharing with in
	c.Normalize()
	return c
}

// TestRoundTrip checks import(export(c)) == c (in canonical form) and that
// a second round changes nothing.
func TestRoundTrip(t *testing.T) {
	for name, c := range roundTripInputs(t) {
		t.Run(name, func(t *testing.T) {
			x, err := Export(c)
			if err != nil {
				t.Fatal(err)
			}
			back, rep, err := Import(bytes.NewReader(x), ImportOptions{})
			if err != nil {
				t.Fatalf("import of the export: %v\n%s\n%s", err, rep, x)
			}
			// A note on a fence device's agent (external/sbd) is about the
			// configuration itself, which the export keeps as it is.
			notes := slices.DeleteFunc(slices.Clone(rep.Notes), func(it Item) bool {
				return it.Element == "primitive" && strings.Contains(it.What, "is not a fence-agents name")
			})
			if len(rep.Unsupported) > 0 || len(notes) > 0 {
				t.Errorf("the export of a Paceline configuration should import without a report:\n%s", rep)
			}
			want := canonical(t, c)
			if !reflect.DeepEqual(back, want) {
				a, _ := cib.EncodeYAML(back)
				b, _ := cib.EncodeYAML(want)
				t.Fatalf("round trip differs:\n--- got\n%s\n--- want\n%s", a, b)
			}
			x1, err := Export(want)
			if err != nil {
				t.Fatal(err)
			}
			x2, err := Export(back)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(x1, x2) {
				t.Errorf("a second export differs:\n%s\nvs\n%s", x1, x2)
			}
		})
	}
}

// needTool skips the test when a Pacemaker command is missing.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not found: install Debian's pacemaker-cli-utils (scripts/deps.sh does) to run this test", name)
	}
	return p
}

// crmVerify runs crm_verify -x on a CIB; it fails the test on any warning
// or error.
func crmVerify(t *testing.T, cibXML []byte) {
	t.Helper()
	bin := needTool(t, "crm_verify")
	f := filepath.Join(t.TempDir(), "cib.xml")
	if err := os.WriteFile(f, cibXML, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-x", f, "-V").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("crm_verify -x: %v\n%s\n%s", err, out, cibXML)
	}
}

// online makes an exported CIB a running cluster: quorate, every node
// online. Without it crm_verify warns about the cluster (nodes unseen, no
// quorum), not the configuration.
func online(t *testing.T, c *cib.Config, x []byte) []byte {
	t.Helper()
	s := strings.Replace(string(x), "<cib ", `<cib have-quorum="1" `, 1)
	var states strings.Builder
	for _, n := range c.Nodes {
		states.WriteString(`<node_state id="` + n.Name + `" uname="` + n.Name + `" in_ccm="true" crmd="online" join="member" expected="member"/>`)
	}
	return []byte(strings.Replace(s, "<status/>", "<status>"+states.String()+"</status>", 1))
}

// TestExportCRMVerify checks that Pacemaker 2.1.5's crm_verify accepts
// every export, without a warning.
func TestExportCRMVerify(t *testing.T) {
	needTool(t, "crm_verify")
	for name, c := range roundTripInputs(t) {
		t.Run(name, func(t *testing.T) {
			if c.Property("stonith-enabled") != "false" && len(c.FenceDevices) == 0 {
				// Pacemaker starts nothing with stonith enabled and no
				// device, and crm_verify says so (docs/pacemaker.md).
				c = c.Clone()
				setMap(&c.Properties, "stonith-enabled", "false")
			}
			x, err := Export(c)
			if err != nil {
				t.Fatal(err)
			}
			crmVerify(t, online(t, c, x))
		})
	}
}

// TestDebianCIB builds a CIB with Debian's cibadmin and crm_attribute
// (testdata/make-debian-cib.sh), checks that crm_verify accepts it and
// that it is the one kept in testdata/debian-cib.xml (up to the epoch), and
// imports it.
func TestDebianCIB(t *testing.T) {
	needTool(t, "cibadmin")
	needTool(t, "crm_attribute")
	out := filepath.Join(t.TempDir(), "cib.xml")
	if b, err := exec.Command("sh", "testdata/make-debian-cib.sh", out).CombinedOutput(); err != nil {
		t.Fatalf("make-debian-cib.sh: %v\n%s", err, b)
	}
	made, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	crmVerify(t, made)
	kept, err := os.ReadFile("testdata/debian-cib.xml")
	if err != nil {
		t.Fatal(err)
	}
	c1, _, err := Import(bytes.NewReader(made), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c2, _, err := Import(bytes.NewReader(kept), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c1, c2) {
		t.Errorf("the tools made a CIB that imports differently from testdata/debian-cib.xml: regenerate it (sh testdata/make-debian-cib.sh testdata/debian-cib.xml)")
	}
}

// TestImportDebianCIB imports the kept CIB made by Debian's tools and
// checks what it holds, object by object.
func TestImportDebianCIB(t *testing.T) {
	data, err := os.ReadFile("testdata/debian-cib.xml")
	if err != nil {
		t.Fatal(err)
	}
	c, rep, err := Import(bytes.NewReader(data), ImportOptions{})
	if err != nil {
		t.Fatalf("%v\n%s", err, rep)
	}
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, want %#v", what, got, want)
		}
	}
	check("properties", c.Properties, map[string]string{"stonith-enabled": "true", "no-quorum-policy": "freeze",
		"cluster-name": "demo", "placement-strategy": "utilization"})
	check("agent attributes", c.AgentAttributes, map[string]string{"REPL_INFO": "n1"})
	check("resource defaults", c.ResourceDefaults, map[string]string{"resource-stickiness": "100", "migration-threshold": "3"})
	check("nodes", len(c.Nodes), 3)
	check("n3 standby", c.Node("n3").Standby, true)
	check("n1 attributes", c.Node("n1").Attributes, map[string]string{"rack": "r1"})
	check("n2 utilization", c.Node("n2").Utilization, map[string]int64{"cpu": 8})
	check("group", c.Group("web").Members, []string{"web-ip", "web-server"})
	check("web-server ops", c.Primitive("web-server").Ops, []cib.Op{{Name: "monitor", Interval: cib.Duration(30e9), Timeout: cib.Duration(30e9), OnFail: "restart", CheckLevel: 10}})
	check("web-server agent", c.Primitive("web-server").Agent, "systemd:nginx")
	check("redis-clone", *c.CloneByID("redis-clone"), cib.Clone{ID: "redis-clone", Rsc: "redis", Promotable: true,
		Meta: map[string]string{"promoted-max": "1", "notify": "true"}})
	check("redis roles", []string{c.Primitive("redis").Ops[0].Role, c.Primitive("redis").Ops[1].Role}, []string{"Promoted", "Unpromoted"})
	check("fence device", c.FenceDevices, []cib.FenceDevice{{ID: "fence-ipmi", Agent: "fence_ipmilan",
		Params: map[string]string{"ip": "192.0.2.100", "pcmk_host_list": "n1 n2 n3"}}})
	check("fence levels", c.FenceLevels, []cib.FenceLevel{{Target: "n1", Index: 1, Devices: []string{"fence-ipmi"}}})
	check("locations", c.Constraints.Location, []cib.Location{
		{ID: "web-prefers-n1", Rsc: "web", Node: "n1", Score: 50},
		{ID: "web-on-connected", Rsc: "web", Score: -cib.Infinity, Rule: "not_defined pingd or pingd lte integer 0"},
		{ID: "redis-pingd", Rsc: "redis-clone", Score: cib.Infinity, ScoreAttribute: "pingd", Rule: "#uname ne n3", Role: "Promoted"},
	})
	check("colocations", c.Constraints.Colocation, []cib.Colocation{{ID: "web-with-redis", Rsc: "web", WithRsc: "redis-clone", Score: cib.Infinity, WithRscRole: "Promoted"}})
	check("orders", c.Constraints.Order, []cib.Order{
		{ID: "redis-then-web", First: "redis-clone", FirstAction: "promote", Then: "web", ThenAction: "start", Kind: "optional", Symmetrical: true},
		{ID: "ping-then-redis", First: "ping-clone", FirstAction: "start", Then: "redis-clone", ThenAction: "start", Kind: "mandatory"},
	})
}

// TestExportRefuses checks what Export will not write.
func TestExportRefuses(t *testing.T) {
	data, err := os.ReadFile("../testdata/valid/everything.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := cib.DecodeYAML(data)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Export(c)
	if err == nil || !strings.Contains(err.Error(), `promotable clone "g1-clone": Pacemaker promotes only ocf resources, and "d2" is lsb:nginx`) {
		t.Errorf("an lsb resource in a promotable clone: got %v", err)
	}
	c.Constraints.Order = append(c.Constraints.Order, cib.Order{ID: "loop", First: "d1", Then: "d1", FirstAction: "start", ThenAction: "start", Kind: "mandatory"})
	if _, err := Export(c); err == nil || !strings.Contains(err.Error(), "not valid") {
		t.Errorf("an invalid configuration: got %v", err)
	}
	if _, err := Export(nil); err == nil {
		t.Error("no configuration: no error")
	}
}
