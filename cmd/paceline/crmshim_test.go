package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The binary answers as Pacemaker's crm_node, crm_attribute, crm_master
// and attrd_updater (as Debian's agents call them), against a real agent.
func TestPacemakerToolShims(t *testing.T) {
	a := startAgent(t)
	dir := t.TempDir()
	for _, n := range shimNames {
		if err := os.Symlink(binary, filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	run := func(env []string, tool string, args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(filepath.Join(dir, tool), args...)
		cmd.Env = append([]string{"PACELINE_SOCKET=" + a.socket, "PATH=/usr/bin:/bin"}, env...)
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
	}
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
