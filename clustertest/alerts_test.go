package clustertest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paceline/paceline/cib"
)

// alertScript writes the alert's whole environment to a file of its own
// in $out (an instance attribute), atomically through a rename.
const alertScript = `#!/bin/sh
f="$out/$CRM_alert_kind.$$.$CRM_alert_node_sequence.env"
env > "$f.tmp" && mv "$f.tmp" "$f"
`

// alertEnvs reads every environment the alert script wrote.
func alertEnvs(t *testing.T, dir string) []map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.env"))
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		env := map[string]string{}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), "="); ok {
				env[k] = v
			}
		}
		fh.Close()
		out = append(out, env)
	}
	return out
}

// waitAlert waits until the script has run for an event whose variables
// include want (CRM_alert_ omitted from the names), and returns its
// environment.
func waitAlert(t *testing.T, dir string, want map[string]string) map[string]string {
	t.Helper()
	var found map[string]string
	WaitFor(t, 30*time.Second, func() (bool, string) {
		envs := alertEnvs(t, dir)
		for _, env := range envs {
			match := true
			for k, v := range want {
				if env["CRM_alert_"+k] != v {
					match = false
					break
				}
			}
			if match {
				found = env
				return true, ""
			}
		}
		return false, fmt.Sprintf("no alert with %v among %d run(s)", want, len(envs))
	})
	return found
}

// Alerts in a real cluster: the node that starts a resource runs the
// alert for the start; the nodes that see a member fail run it for the
// loss, and again when it comes back; a node runs it for its own
// transient attribute.
func TestAlertsResourceAndNodeEvents(t *testing.T) {
	c := New(t, 3, Options{Manage: true})
	dir, out, state := t.TempDir(), t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "alert.sh")
	if err := os.WriteFile(path, []byte(alertScript), 0o755); err != nil {
		t.Fatal(err)
	}
	mustApply(t, c.Nodes[0], &cib.CreateAlert{Alert: cib.Alert{ID: "dump", Path: path, Params: map[string]string{"out": out}}})
	mustApply(t, c.Nodes[0], &cib.CreateAlert{Alert: cib.Alert{ID: "attrs", Path: path, Params: map[string]string{"out": out},
		Select: []string{"attributes"}, SelectAttributes: []string{"alert-test"}}})
	WaitFor(t, 10*time.Second, func() (bool, string) {
		for _, i := range c.Running() {
			if c.Nodes[i].Agent.Store().Config().Alert("attrs") == nil {
				return false, c.Nodes[i].Name + " does not have the alerts yet"
			}
		}
		return true, ""
	})

	mustApply(t, c.Nodes[0], &cib.CreatePrimitive{Primitive: dummy("d", state, time.Second, nil)})
	mustApply(t, c.Nodes[0], &cib.AddConstraint{Location: &cib.Location{ID: "d-on-n2", Rsc: "d", Node: "n2", Score: 100}})
	// (d may start on another node first, before the constraint is in.)
	env := waitAlert(t, out, map[string]string{"kind": "resource", "rsc": "d", "task": "start", "node": "n2"})
	for k, want := range map[string]string{"rc": "0", "target_rc": "0", "status": "0", "desc": "OK",
		"interval": "0", "recipient": "", "version": "dev"} {
		if got, ok := env["CRM_alert_"+k]; !ok || got != want {
			t.Errorf("start alert: CRM_alert_%s = %q (set %v), want %q", k, got, ok, want)
		}
	}
	if env["out"] != out || env["CRM_alert_node_sequence"] == "" || env["CRM_alert_timestamp"] == "" {
		t.Errorf("start alert environment: %v", env)
	}
	// Its recurring monitor's first result alerts too.
	waitAlert(t, out, map[string]string{"kind": "resource", "rsc": "d", "task": "monitor", "interval": "1000", "node": "n2"})

	n3 := indexOf(c, "n3")
	c.Kill(n3)
	lost := waitAlert(t, out, map[string]string{"kind": "node", "node": "n3", "desc": "lost"})
	if lost["CRM_alert_nodeid"] != "n3" || lost["CRM_alert_rsc"] != "" {
		t.Errorf("node alert environment: %v", lost)
	}
	c.Start(n3)
	waitAlert(t, out, map[string]string{"kind": "node", "node": "n3", "desc": "member"})

	if err := c.Nodes[0].Client.SetTransientAttr(Ctx(t), "alert-test", "42", false); err != nil {
		t.Fatal(err)
	}
	waitAlert(t, out, map[string]string{"kind": "attribute", "node": "n1", "attribute_name": "alert-test", "attribute_value": "42"})
}
