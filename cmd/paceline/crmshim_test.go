package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The binary answers as Pacemaker's crm_node, crm_attribute, crm_master
// and attrd_updater (as Debian's agents call them), against a real agent.
func TestPacemakerToolShims(t *testing.T) {
	a := startAgent(t)
	run, _ := shimRunner(t, a)
	want := func(got string, code int, wantOut string, wantCode int) {
		t.Helper()
		if code != wantCode || !strings.Contains(got, wantOut) {
			t.Fatalf("got %q (exit %d), want %q (exit %d)", got, code, wantOut, wantCode)
		}
	}
	out, code := run(nil, "crm_node", "-n")
	want(out, code, "n1", 0)
	out, code = run(nil, "crm_node", "-p")
	want(out, code, "n1", 0)

	// Permanent node attributes (lifetime forever) are configuration.
	out, code = run(nil, "crm_attribute", "-N", "n1", "-n", "rack", "-v", "r1", "-l", "forever")
	want(out, code, "", 0)
	if got := a.config(t).Node("n1").Attributes["rack"]; got != "r1" {
		t.Fatalf("node attribute rack = %q, want r1", got)
	}
	out, code = run(nil, "crm_attribute", "--node", "n1", "--name", "rack", "--query", "-q")
	want(out, code, "r1", 0)
	out, code = run(nil, "crm_attribute", "-N", "n1", "-n", "nope", "-G")
	want(out, code, "value=(null)", 6)

	// Promotion scores: crm_master works on master-RESOURCE, transient.
	env := []string{"OCF_RESOURCE_INSTANCE=db:1", "OCF_RESKEY_CRM_meta_on_node=n1"}
	out, code = run(env, "crm_master", "-l", "reboot", "-v", "100")
	want(out, code, "", 0)
	out, code = run(env, "crm_master", "-l", "reboot", "-G", "--quiet")
	want(out, code, "100", 0)
	out, code = run(env, "crm_master", "-l", "reboot", "-D")
	want(out, code, "", 0)
	out, code = run(env, "crm_master", "-l", "reboot", "-G", "-q")
	want(out, code, "", 6)
	out, code = run(nil, "crm_attribute", "-N", "n9", "-n", "x", "-v", "1", "-l", "reboot")
	want(out, code, "n9 is not this node", 1)

	// attrd_updater (ocf:pacemaker:ping's way).
	out, code = run(nil, "attrd_updater", "-n", "pingd", "-U", "3", "-d", "5s")
	want(out, code, "", 0)
	out, code = run(nil, "attrd_updater", "-n", "pingd", "-Q")
	want(out, code, `value="3"`, 0)
	// Agents' cluster-wide attributes (Debian's redis keeps REPL_INFO so).
	out, code = run(nil, "crm_attribute", "--type", "crm_config", "--name", "redis_REPL_INFO", "-s", "redis_replication", "-v", "n1")
	want(out, code, "", 0)
	out, code = run(nil, "crm_attribute", "--type", "crm_config", "--name", "redis_REPL_INFO", "-s", "redis_replication", "-G", "-q")
	want(out, code, "n1", 0)
	if got := a.config(t).AgentAttributes["redis_REPL_INFO"]; got != "n1" {
		t.Fatalf("agent attribute = %q, want n1", got)
	}
	out, code = run(nil, "crm_attribute", "--type", "crm_config", "--name", "stonith-enabled", "-v", "true")
	want(out, code, "paceline property set", 1)
}

// shimRunner links the tool names to the binary in a directory and
// returns a function that runs one against the agent (stdout and stderr
// together, trimmed, and the exit code) and the directory.
func shimRunner(t *testing.T, a *testAgent) (func(env []string, tool string, args ...string) (string, int), string) {
	dir := t.TempDir()
	for _, n := range shimNames {
		if err := os.Symlink(binary, filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	return func(env []string, tool string, args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(filepath.Join(dir, tool), args...)
		cmd.Env = append([]string{"PACELINE_SOCKET=" + a.socket, "PATH=" + dir + ":/usr/bin:/bin", "HA_SBIN_DIR=" + dir}, env...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return strings.TrimSpace(out.String()), ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("%s: %v", tool, err)
		}
		return strings.TrimSpace(out.String()), 0
	}, dir
}

// crm_mon and cibadmin against a real agent: the node, the DC, a
// promotable clone (configuration only: the test agent manages nothing, so
// it is stopped) and a transient attribute; ocf-shellfuncs'
// crm_mon_no_validation (crm_mon reading `cibadmin -Q` as CIB_file) gives
// what crm_mon gives; what is not supported fails with a message naming
// it.
func TestPacemakerStatusShims(t *testing.T) {
	a := startAgent(t)
	run, dir := shimRunner(t, a)
	a.ok(t, "resource", "create", "db", "ocf:paceline:dummy", "--promotable", "op", "monitor", "interval=5s", "role=Promoted")
	if out, code := run(nil, "attrd_updater", "-n", "pingd", "-U", "5"); code != 0 {
		t.Fatalf("attrd_updater: %s (exit %d)", out, code)
	}
	has := func(what, out string, code int, wantCode int, parts ...string) {
		t.Helper()
		if code != wantCode {
			t.Fatalf("%s: exit %d, want %d:\n%s", what, code, wantCode, out)
		}
		for _, p := range parts {
			if !strings.Contains(out, p) {
				t.Fatalf("%s: no %q in:\n%s", what, p, out)
			}
		}
	}
	mon, code := run(nil, "crm_mon", "-1", "--output-as=xml")
	has("crm_mon -1 --output-as=xml", mon, code, 0,
		`<pacemaker-result api-version="2.25" request="crm_mon -1 --output-as=xml">`,
		`<current_dc present="true" version="`, `name="n1" id="n1" with_quorum="true"`,
		`<node name="n1" id="n1" online="true" standby="false"`, `is_dc="true"`,
		`<clone id="db-clone" multi_state="true" unique="false"`,
		`<resource id="db" resource_agent="ocf:paceline:dummy" role="Stopped" active="false"`,
		`<attribute name="pingd" value="5"/>`, `<status code="0" message="OK"/>`)
	if regexp.MustCompile(`role="(Promoted|Master)"`).MatchString(mon) {
		t.Fatalf("a promoted instance where nothing runs:\n%s", mon)
	}
	out, code := run(nil, "crm_mon", "-1X")
	has("crm_mon -1X", out, code, 0, `<crm_mon version="2.1.5">`, `<nodes>`, `type="member"`)
	out, code = run(nil, "crm_mon", "-1", "-r")
	has("crm_mon -1 -r", out, code, 0, "Current DC: n1 (version ", "Online: [ n1 ]", "Full List of Resources:",
		"Clone Set: db-clone [db] (promotable):", "Stopped: [ n1 ]")

	cibq, code := run(nil, "cibadmin", "-Q")
	has("cibadmin -Q", cibq, code, 0, `<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9"`, `dc-uuid="n1"`,
		`<primitive id="db" class="ocf" provider="paceline" type="dummy">`,
		`<node_state id="n1" uname="n1" in_ccm="true" crmd="online"`, `name="pingd" value="5"`)
	out, code = run(nil, "cibadmin", "--query", "--xpath", "//node_state[@crmd='online']//nvpair[@name='pingd']")
	has("cibadmin --xpath", out, code, 0, `<nvpair id="status-n1-pingd" name="pingd" value="5"/>`)
	out, code = run(nil, "cibadmin", "-Q", "-o", "nodes")
	has("cibadmin -o nodes", out, code, 0, `<nodes>`, `<node id="n1" uname="n1"`)

	out, code = run(nil, "cibadmin", "-Q", "-A", "//lrm_rsc_op | //nvpair")
	has("cibadmin -A with |", out, code, 64, "Paceline's cibadmin understands")
	out, code = run(nil, "cibadmin", "-Q", "-A", "//node_state//nvpair")
	has("cibadmin -A, one match", out, code, 0, `<nvpair id="status-n1-pingd"`)
	if strings.Contains(out, "xpath-query") {
		t.Fatalf("one match wrapped in <xpath-query>:\n%s", out)
	}
	out, code = run(nil, "cibadmin", "-Q", "-A", "//*[@uname='n1']")
	has("cibadmin -A, several matches", out, code, 0, "<xpath-query>\n  <node id=\"n1\" uname=\"n1\"/>\n  <node_state id=\"n1\"", "</xpath-query>")

	// CIB_file: both tools read that CIB, not the cluster's.
	file := filepath.Join(t.TempDir(), "cib.xml")
	if err := os.WriteFile(file, []byte(`<cib epoch="1"><configuration><nodes><node id="x1" uname="x1"/></nodes>`+
		`<resources/></configuration><status/></cib>`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code = run([]string{"CIB_file=" + file}, "cibadmin", "-Q", "-o", "nodes")
	has("cibadmin -Q -o nodes with CIB_file", out, code, 0, `<node id="x1" uname="x1"/>`)
	out, code = run([]string{"CIB_file=" + file}, "crm_mon", "-1", "--output-as=xml")
	has("crm_mon with CIB_file", out, code, 0, `<current_dc present="false"/>`, `<node name="x1" id="x1" online="false"`)
	if strings.Contains(out, `"n1"`) {
		t.Fatalf("crm_mon with CIB_file shows the live cluster:\n%s", out)
	}
	out, code = run(nil, "crm_mon", "-1", "-x", filepath.Join(dir, "no-such-cib.xml"))
	has("crm_mon -x missing file", out, code, 1, "no-such-cib.xml")

	// Debian's way: crm_mon_no_validation from ocf-shellfuncs.
	const shellfuncs = "/usr/lib/ocf/lib/heartbeat/ocf-shellfuncs"
	if _, err := os.Stat(shellfuncs); err == nil {
		cmd := exec.Command("bash", "-c", ". "+shellfuncs+" && crm_mon_no_validation -1 --output-as=xml")
		cmd.Env = []string{"PACELINE_SOCKET=" + a.socket, "PATH=" + dir + ":/usr/bin:/bin", "HA_SBIN_DIR=" + dir,
			"OCF_ROOT=/usr/lib/ocf", "SHELL=/bin/bash"}
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("crm_mon_no_validation: %v\n%s", err, b)
		}
		strip := regexp.MustCompile(`<last_update time="[^"]*"/>`)
		if got, want := strip.ReplaceAllString(string(b), ""), strip.ReplaceAllString(mon+"\n", ""); got != want {
			t.Fatalf("crm_mon from CIB_file=<(cibadmin -Q ...) differs from crm_mon:\n%s\n--- crm_mon:\n%s", got, want)
		}
	} else {
		t.Logf("no %s: crm_mon_no_validation not tried", shellfuncs)
	}

	// Refused, by name.
	out, code = run(nil, "crm_mon", "-1", "-n")
	has("crm_mon -1 -n", out, code, 64, "crm_mon: option -n is not supported")
	out, code = run(nil, "crm_mon", "--output-as=html")
	has("crm_mon --output-as=html", out, code, 64, "--output-as=html")
	out, code = run(nil, "crm_mon")
	has("crm_mon", out, code, 64, "only one-shot mode (-1)")
	out, code = run(nil, "cibadmin", "-C", "-o", "resources", "-X", "<primitive/>")
	has("cibadmin -C", out, code, 64, "--create changes the CIB")
	out, code = run(nil, "cibadmin", "-Q", "--xpath", "//node_state[last()]")
	has("cibadmin --xpath last()", out, code, 64, "Paceline's cibadmin understands")
	out, code = run(nil, "cibadmin", "-Q", "--xpath", "//nothing")
	has("cibadmin --xpath //nothing", out, code, 105, "No such device or address")
	out, code = run([]string{"CIB_shadow=test"}, "crm_mon", "-1")
	has("crm_mon with CIB_shadow", out, code, 64, "shadow CIBs are not supported")
	out, code = run([]string{"PACELINE_SOCKET=" + filepath.Join(dir, "none.sock")}, "crm_mon", "-1", "--output-as=xml")
	has("crm_mon without an agent", out, code, 1, "no local Paceline agent")
}
