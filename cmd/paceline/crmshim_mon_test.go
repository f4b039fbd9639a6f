package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var updateShimGolden = flag.Bool("update", false, "rewrite the golden files of testdata/crmshim")

// shimCase is one testdata/crmshim/CASE.json: a cluster as the local
// agent reports it.
type shimCase struct {
	Comment string `json:"comment"`
	clusterSnapshot
}

func loadShimCase(t *testing.T, path string) *clusterSnapshot {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c shimCase
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &c.clusterSnapshot
}

// shimNow is when the golden outputs were "taken" (crm_mon's last_update).
var shimNow = time.Date(2024, 1, 3, 10, 6, 0, 0, time.UTC)

// checkGolden compares got with the golden file (with -update, writes it).
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *updateShimGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run ShimGolden -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -run ShimGolden -update rewrites it; review the diff):\n--- got\n%s", path, got)
	}
}

// shimOutputs are a case's CIB (cibadmin -Q) and crm_mon's XML, legacy
// XML, text and text with inactive resources, read back from that CIB as
// crm_mon reads CIB_file; by the suffix of their golden files.
func shimOutputs(t *testing.T, path string) map[string]string {
	t.Helper()
	sn := loadShimCase(t, path)
	cibText := cibDocument(sn, time.UTC).String()
	doc, err := parseXML(strings.NewReader(cibText))
	if err != nil {
		t.Fatal(err)
	}
	v, err := readMonView(doc)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		".cib.xml":        cibText,
		".mon.xml":        monXML(v, "crm_mon -1 --output-as=xml", false, shimNow, time.UTC).String(),
		".mon-legacy.xml": monXML(v, "", true, shimNow, time.UTC).String(),
		".mon.txt":        monText(v, false, shimNow, time.UTC),
		".mon-r.txt":      monText(v, true, shimNow, time.UTC),
	}
}

func shimCases(t *testing.T) []string {
	cases, err := filepath.Glob("testdata/crmshim/*.json")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	return cases
}

// Each case's outputs are golden files beside it.
func TestShimGolden(t *testing.T) {
	for _, path := range shimCases(t) {
		name := strings.TrimSuffix(path, ".json")
		t.Run(filepath.Base(name), func(t *testing.T) {
			for suffix, got := range shimOutputs(t, path) {
				checkGolden(t, name+suffix, got)
			}
		})
	}
}

// The XML is valid by Pacemaker 2.1's own schemas (pacemaker-common's
// /usr/share/pacemaker): the CIB by pacemaker-3.9.rng, crm_mon's by
// api-result-2.25.rng and, legacy, crm_mon.rng.
func TestShimXMLValidByPacemakerSchemas(t *testing.T) {
	const schemas = "/usr/share/pacemaker"
	schemaOf := map[string]string{
		".cib.xml":        schemas + "/pacemaker-" + strings.TrimPrefix(cibSchemaVersion, "pacemaker-") + ".rng",
		".mon.xml":        schemas + "/api/api-result-" + monAPIVersion + ".rng",
		".mon-legacy.xml": schemas + "/crm_mon.rng",
	}
	for _, f := range append(slices.Collect(maps.Values(schemaOf)), "/usr/bin/xmllint") {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("needs %s (packages pacemaker-common and libxml2-utils)", f)
		}
	}
	dir := t.TempDir()
	for _, path := range shimCases(t) {
		for suffix, out := range shimOutputs(t, path) {
			rng, ok := schemaOf[suffix]
			if !ok {
				continue
			}
			file := filepath.Join(dir, strings.TrimSuffix(filepath.Base(path), ".json")+suffix)
			if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			if b, err := exec.Command("xmllint", "--noout", "--relaxng", rng, file).CombinedOutput(); err != nil {
				t.Errorf("%s is not valid by %s: %v\n%s", filepath.Base(file), rng, err, b)
			}
		}
	}
}

// monFor is crm_mon's XML for a case.
func monFor(t *testing.T, path string) string {
	t.Helper()
	sn := loadShimCase(t, path)
	v, err := readMonView(cibDocument(sn, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return monXML(v, "crm_mon -1 --output-as=xml", false, shimNow, time.UTC).String()
}

// Debian's redis agent (master_is_active) and galera grep crm_mon's XML
// line by line for the promoted, healthy instance; the line must be there
// exactly when one is.
func TestShimCrmMonPromotedGrep(t *testing.T) {
	// resource-agents 4.12's redis, with OCF_RESOURCE_INSTANCE=redis.
	grep := regexp.MustCompile(`(?i)resource.*id="redis".* role="(Promoted|Master)".* active="true".* orphaned="false".* failed="false"`)
	promotedOn := func(xml string) []string {
		var nodes []string
		lines := strings.Split(xml, "\n")
		for i, l := range lines {
			if grep.MatchString(l) {
				nodes = append(nodes, regexp.MustCompile(`name="([^"]*)"`).FindStringSubmatch(lines[i+1])[1])
			}
		}
		return nodes
	}
	for _, c := range []struct {
		file string
		want []string
	}{
		{"promoted", []string{"n1"}},
		{"failover", []string{"n2"}},
		{"nodc", nil},
	} {
		out := monFor(t, "testdata/crmshim/"+c.file+".json")
		if got := promotedOn(out); strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s: the promoted, healthy redis is on %v, want %v:\n%s", c.file, got, c.want, out)
		}
	}

	// A promoted instance that failed does not count.
	sn := loadShimCase(t, "testdata/crmshim/promoted.json")
	sn.Resources.Nodes[0].Resources[0].Failed = true
	v, err := readMonView(cibDocument(sn, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	out := monXML(v, "", false, shimNow, time.UTC).String()
	if got := promotedOn(out); len(got) != 0 {
		t.Errorf("a failed promoted instance is taken as healthy on %v:\n%s", got, out)
	}
	if !strings.Contains(out, `role="Promoted" active="true" orphaned="false" blocked="false" managed="true" failed="true"`) {
		t.Errorf("the failed promoted instance is not shown failed:\n%s", out)
	}
}

// An instance's state from operation records as Pacemaker writes them.
func TestShimLRMState(t *testing.T) {
	op := func(id, task string, interval, call, rc int) *xel {
		return el("lrm_rsc_op", "id", id, "operation", task, "interval", strconv.Itoa(interval),
			"call-id", strconv.Itoa(call), "rc-code", strconv.Itoa(rc))
	}
	for _, c := range []struct {
		name   string
		ops    []*xel
		role   string
		failed bool
	}{
		{"probe found it stopped", []*xel{op("r_last_0", "monitor", 0, 1, 7)}, "Stopped", false},
		{"started, monitored", []*xel{op("r_monitor_10000", "monitor", 10000, 3, 0), op("r_last_0", "start", 0, 2, 0)}, "Started", false},
		{"promoted", []*xel{op("r_last_0", "promote", 0, 4, 0), op("r_monitor_1000", "monitor", 1000, 5, 8)}, "Promoted", false},
		{"demoted", []*xel{op("r_last_0", "demote", 0, 6, 0)}, "Unpromoted", false},
		{"probe found it promoted", []*xel{op("r_last_0", "monitor", 0, 1, 8)}, "Promoted", false},
		{"monitor failed after the start", []*xel{op("r_last_0", "start", 0, 2, 0), op("r_monitor_10000", "monitor", 10000, 3, 7), op("r_last_failure_0", "monitor", 10000, 3, 7)}, "Started", true},
		{"recovered: restarted after the failure", []*xel{op("r_last_failure_0", "monitor", 10000, 3, 7), op("r_last_0", "start", 0, 5, 0)}, "Started", false},
		{"stopped after the failure", []*xel{op("r_last_failure_0", "start", 0, 2, 1), op("r_last_0", "stop", 0, 3, 0)}, "Stopped", false},
		{"failed stop", []*xel{op("r_last_0", "stop", 0, 3, 1), op("r_last_failure_0", "stop", 0, 3, 1)}, "Started", true},
		{"notify says nothing", []*xel{op("r_last_0", "start", 0, 2, 0), op("r_post_notify_promote_0", "notify", 0, 3, 0)}, "Started", false},
	} {
		role, failed, _ := lrmState(c.ops)
		if role != c.role || failed != c.failed {
			t.Errorf("%s: role %s failed %v, want %s %v", c.name, role, failed, c.role, c.failed)
		}
	}
}

// The XPath subset finds what rabbitmq-cluster asks for, refuses what it
// does not understand, and selects in document order, each element once.
func TestShimXPath(t *testing.T) {
	doc := el("cib").add(el("status").add(
		el("node_state", "uname", "n1", "crmd", "online").add(el("transient_attributes").add(el("instance_attributes").add(
			el("nvpair", "name", "rmq-cookie", "value", "a"), el("nvpair", "name", "other", "value", "x")))),
		el("node_state", "uname", "n2", "crmd", "offline").add(el("transient_attributes").add(el("instance_attributes").add(
			el("nvpair", "name", "rmq-cookie", "value", "b"))))))
	values := func(expr string) string {
		t.Helper()
		steps, err := parseXPath(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		var out []string
		for _, e := range doc.query(steps) {
			out = append(out, cmp.Or(e.attr("value"), e.attr("uname"), e.name))
		}
		return strings.Join(out, ",")
	}
	for expr, want := range map[string]string{
		"//node_state[@crmd='online']//nvpair[@name='rmq-cookie']": "a",
		`//node_state//nvpair[@name="rmq-cookie"]`:                 "a,b",
		"/cib/status/node_state":                                   "n1,n2",
		"//*[@crmd]":                                               "n1,n2",
		"//node_state[@crmd='online' and @uname='n2']":             "",
		"//instance_attributes//nvpair | //x":                      "",
		"/cib":                                                     "cib",
		"//status//*//nvpair[@name='other']":                       "x",
	} {
		if strings.Contains(expr, "|") {
			if _, err := parseXPath(expr); err == nil {
				t.Errorf("%s: accepted", expr)
			}
			continue
		}
		if got := values(expr); got != want {
			t.Errorf("%s: %q, want %q", expr, got, want)
		}
	}
	for _, expr := range []string{"node_state", "//node_state[1]", "//node_state[@crmd!='online']", "//nvpair[contains(@name,'x')]",
		"//node_state[@crmd='online' or @uname='n2']", "//nvpair/@value", "//node_state/..", "//nvpair[@name='a]"} {
		if _, err := parseXPath(expr); err == nil {
			t.Errorf("%s: accepted", expr)
		} else if !strings.Contains(err.Error(), "Paceline's cibadmin understands") {
			t.Errorf("%s: the error does not say what is understood: %v", expr, err)
		}
	}
}

// Options as GLib reads them, and unknown ones refused by name.
func TestShimToolArgs(t *testing.T) {
	got, err := parseToolArgs([]string{"-1X", "--output-as", "xml", "-ostatus", "--xml-file=/dev/fd/63"},
		append(crmMonOpts, toolOpt{'o', "scope", true}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"one-shot": "", "as-xml": "", "output-as": "xml", "scope": "status", "xml-file": "/dev/fd/63"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-1n"}, "option -n is not supported"},
		{[]string{"--group-by-node"}, "option --group-by-node is not supported"},
		{[]string{"--output-as"}, "option --output-as needs a value"},
		{[]string{"--one-shot=yes"}, "option --one-shot takes no value"},
		{[]string{"-1", "status"}, `unexpected argument "status"`},
	} {
		_, err := parseToolArgs(c.args, crmMonOpts)
		var te toolError
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.As(err, &te) || te.code != 64 {
			t.Errorf("%v: %v, want a usage error (64) with %q", c.args, err, c.want)
		}
	}
}

// A CIB crm_mon cannot show faithfully is refused, not shown in part.
func TestShimCrmMonRefusesUnknownResources(t *testing.T) {
	for _, c := range []struct{ cib, want string }{
		{`<cib><configuration><resources><bundle id="b"/></resources></configuration></cib>`, "resource b: <bundle> resources are not supported"},
		{`<cib><configuration><resources><clone id="c"/></resources></configuration></cib>`, "clone c: want one primitive or group"},
		{`<pacemaker-result/>`, "not a CIB"},
		{`<cib/>`, "no configuration"},
	} {
		doc, err := parseXML(strings.NewReader(c.cib))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := readMonView(doc); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.cib, err, c.want)
		}
	}
	if _, err := parseXML(strings.NewReader(`<cib><configuration>`)); err == nil {
		t.Error("a truncated CIB is read")
	}
}
