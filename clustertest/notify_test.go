package clustertest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paceline/paceline/cib"
)

// Clone notifications end to end: a clone with notify=true of the dummy
// agent (which logs each notification it gets) on three nodes. Its
// instances are told of the starts (post-start, naming the nodes); when n2
// comes back, n1 and n3 are told before (pre-start) and after
// (post-start) n2 starts.
func TestCloneNotifications(t *testing.T) {
	c := New(t, 3, Options{Manage: true})
	dir := t.TempDir()
	p := dummy("d", dir, time.Second, nil)
	mustApply(t, c.Nodes[0], &cib.CreatePrimitive{Primitive: p, Clone: &cib.CreateClone{ID: "d-clone", Meta: map[string]string{"notify": "true"}}})
	log := func(node string) string {
		b, _ := os.ReadFile(filepath.Join(dir, "paceline-dummy-"+node+"-d.state.notify"))
		return string(b)
	}
	WaitFor(t, 15*time.Second, func() (bool, string) {
		for _, n := range []string{"n1", "n2", "n3"} {
			if !strings.Contains(log(n), "post-start start=") {
				return false, n + " has no post-start notification: " + log(n)
			}
		}
		return true, ""
	})
	t.Logf("n1 was told: %s", strings.TrimSpace(log("n1")))

	n2 := indexOf(c, "n2")
	c.Kill(n2)
	os.Remove(filepath.Join(dir, "paceline-dummy-n2-d.state"))
	WaitFor(t, 10*time.Second, func() (bool, string) { // n1 sees n2 lost
		m, err := c.Nodes[0].Client.Members(Ctx(t))
		if err != nil {
			return false, err.Error()
		}
		for _, mb := range m.Members {
			if mb.Name == "n2" && mb.State != "alive" && mb.State != "suspect" {
				return true, ""
			}
		}
		return false, "n2 still alive for n1"
	})
	before := log("n1")
	c.Start(n2)
	WaitFor(t, 20*time.Second, func() (bool, string) {
		got := strings.TrimPrefix(log("n1"), before)
		return strings.Contains(got, "pre-start start=n2") && strings.Contains(got, "post-start start=n2"),
			"n1's notifications since n2 came back: " + got
	})
	t.Logf("n2 back; n1 was told:\n%s", strings.TrimPrefix(log("n1"), before))
}
