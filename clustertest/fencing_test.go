package clustertest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/fencing"
)

// fenceScript is a fence_paceline_exec command that logs "ACTION PORT" to
// log and exits with the code in rcFile (0 when the file is missing).
func fenceScript(t *testing.T, dir string) (cmd, log, rcFile string) {
	t.Helper()
	cmd, log, rcFile = filepath.Join(dir, "fence.sh"), filepath.Join(dir, "fence.log"), filepath.Join(dir, "fence.rc")
	// A successful fence also records when it ended (ns since the epoch),
	// to be compared with when the resource started elsewhere.
	body := "#!/bin/sh\necho \"$1 $2\" >> " + log + "\nrc=0\n[ -f " + rcFile + " ] && rc=$(cat " + rcFile + ")\n" +
		"[ \"$rc\" = 0 ] && echo \"$2 $(date +%s%N)\" >> " + log + ".done\nexit $rc\n"
	if err := os.WriteFile(cmd, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return cmd, log, rcFile
}

// withFencing turns stonith on with one fence_paceline_exec device.
func withFencing(t *testing.T, n *Node, cmd string) {
	t.Helper()
	cfg, err := n.Client.Config(Ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.Clone()
	cfg.FenceDevices = []cib.FenceDevice{{ID: "fence-exec", Agent: "fence_paceline_exec",
		Params: map[string]string{"command": cmd, "pcmk_host_list": "n1 n2 n3", "pcmk_off_retries": "0", "pcmk_reboot_retries": "0", "pcmk_reboot_timeout": "5s"}}}
	if cfg.Properties == nil {
		cfg.Properties = map[string]string{}
	}
	cfg.Properties["stonith-enabled"] = "true"
	mustApply(t, n, &cib.ReplaceConfig{Config: cfg})
}

// With stonith-enabled, a lost node is fenced before its resources are
// recovered; a fence that fails leaves them where they were (blocked),
// is retried, and shows in the history; an operator's `stonith confirm`
// then lets them be recovered.
func TestControllerFencesBeforeRecovery(t *testing.T) {
	c := New(t, 3, Options{Manage: true})
	dir := t.TempDir()
	cmd, log, rcFile := fenceScript(t, dir)
	withFencing(t, c.Nodes[0], cmd)
	alertOut := t.TempDir()
	alertPath := filepath.Join(dir, "alert.sh")
	if err := os.WriteFile(alertPath, []byte(alertScript), 0o755); err != nil {
		t.Fatal(err)
	}
	mustApply(t, c.Nodes[0], &cib.CreateAlert{Alert: cib.Alert{ID: "fence-alert", Path: alertPath, Params: map[string]string{"out": alertOut}, Select: []string{"fencing"}}})
	mustApply(t, c.Nodes[0], &cib.CreatePrimitive{Primitive: dummy("d", dir, 200*time.Millisecond, nil)})
	mustApply(t, c.Nodes[0], &cib.AddConstraint{Location: &cib.Location{ID: "d-prefers-n2", Rsc: "d", Node: "n2", Score: 100}})
	waitRunsOn(t, c, dir, "d", "n2", 15*time.Second)

	// n2 dies; the fence succeeds; only then does d start elsewhere.
	n2 := indexOf(c, "n2")
	t0 := time.Now()
	c.Kill(n2)
	os.Remove(filepath.Join(dir, "paceline-dummy-n2-d.state"))
	other := runsOnOther(t, c, dir)
	fenced, _ := os.ReadFile(log)
	if !strings.Contains(string(fenced), "reboot n2") {
		t.Fatalf("d recovered on %s, but n2 was not fenced first (fence log %q)", other, fenced)
	}
	// And in that order: the fence had ended when d started.
	done, _ := os.ReadFile(log + ".done")
	var endNS int64
	if _, err := fmt.Sscanf(string(done), "n2 %d", &endNS); err != nil {
		t.Fatalf("no end of n2's fence recorded (%q): %v", done, err)
	}
	// The start's time from the LRM history (not the state file's mtime:
	// file times come from a coarse clock, a tick behind).
	h, err := c.Nodes[indexOf(c, other)].Client.History(Ctx(t), "d", other)
	if err != nil || len(h.Resources) != 1 || h.Resources[0].State == nil || h.Resources[0].State.Action != "start" {
		t.Fatalf("d's history on %s: %+v %v", other, h, err)
	}
	if started := h.Resources[0].State.Started; !started.After(time.Unix(0, endNS)) {
		t.Fatalf("d started on %s at %v, before n2's fence ended at %v", other, started, time.Unix(0, endNS))
	}
	t.Logf("n2 killed -> fenced -> d on %s after %v", other, time.Since(t0))
	env := waitAlert(t, alertOut, map[string]string{"kind": "fencing", "node": "n2", "rc": "0"})
	t.Logf("fencing alert: task %s, desc %q", env["CRM_alert_task"], env["CRM_alert_desc"])
	ops, err := c.Nodes[indexOf(c, other)].Client.FenceHistory(Ctx(t))
	if err != nil || len(ops) == 0 || ops[len(ops)-1].Target != "n2" || ops[len(ops)-1].State != fencing.Done {
		t.Fatalf("fence history: %+v %v", ops, err)
	}
	c.Start(n2)
	waitRunsOn(t, c, dir, "d", "n2", 15*time.Second)

	// Now the device fails: d stays blocked on the lost n2 (never started
	// elsewhere while n2 may run it), the fence is retried.
	if err := os.WriteFile(rcFile, []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(log, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c.Kill(n2)
	os.Remove(filepath.Join(dir, "paceline-dummy-n2-d.state"))
	WaitFor(t, 30*time.Second, func() (bool, string) {
		b, _ := os.ReadFile(log)
		return strings.Count(string(b), "reboot n2") >= 2, "fence attempts: " + string(b)
	})
	if on := runsOn(dir, "d", c.Nodes); len(on) != 0 {
		t.Fatalf("d started on %v while n2 could not be fenced", on)
	}
	survivor := c.Nodes[indexOf(c, other)]
	ops, err = survivor.Client.FenceHistory(Ctx(t))
	if err != nil || !slices.ContainsFunc(ops, func(op fencing.Op) bool { return op.Target == "n2" && op.State == fencing.Failed }) {
		t.Fatalf("a failed fence must show in the history: %+v %v", ops, err)
	}

	// The operator checked: n2 is off.
	op, err := survivor.Client.Fence(Ctx(t), api.FenceRequest{Target: "n2", Confirm: true})
	if err != nil || op.State != fencing.Done || !op.Confirmed {
		t.Fatalf("confirm: %+v %v", op, err)
	}
	runsOnOther(t, c, dir)
}

// A node that restarts alone (its two-node peer is down: no raft leader,
// nothing is committed anew) starts from its last committed
// configuration, not from an empty one or an old snapshot.
func TestRestartAloneKeepsCommittedConfig(t *testing.T) {
	c := New(t, 2, Options{})
	c.WaitRegistered(10 * time.Second)
	for i := range 5 {
		mustApply(t, c.Nodes[0], &cib.SetProperties{Patch: cib.Patch{Set: map[string]string{"cluster-name": fmt.Sprintf("c%d", i)}}})
	}
	want := c.Nodes[0].Agent.Store().Config().Epoch
	WaitFor(t, 10*time.Second, func() (bool, string) {
		got := c.Nodes[1].Agent.Store().Config().Epoch
		return got == want, fmt.Sprintf("n2 at epoch %d, want %d", got, want)
	})
	c.StopAll()
	c.Start(1)
	cfg := c.Nodes[1].Agent.Store().Config()
	if cfg.Epoch != want || cfg.Property("cluster-name") != "c4" || len(cfg.Nodes) != 2 {
		t.Fatalf("restarted alone: epoch %d (want %d), cluster-name %q, %d nodes", cfg.Epoch, want, cfg.Property("cluster-name"), len(cfg.Nodes))
	}
}

// Two nodes, one lost: once fencing confirmed it down, the survivor makes
// itself the only raft voter and the configuration is writable again;
// when the peer returns it is told it was removed, discards its raft
// state, joins again and catches up. No committed change is lost.
func TestTwoNodeRaftRecoveryKeepsCommitted(t *testing.T) {
	c := New(t, 2, Options{Manage: true})
	c.WaitRegistered(10 * time.Second)
	dir := t.TempDir()
	cmd, log, _ := fenceScript(t, dir)
	withFencing(t, c.Nodes[0], cmd)
	mustApply(t, c.Nodes[0], &cib.SetProperties{Patch: cib.Patch{Set: map[string]string{"two-node": "true", "tiebreak-delay": "200ms"}}})
	for i := range 3 {
		mustApply(t, c.Nodes[i%2], &cib.SetProperties{Patch: cib.Patch{Set: map[string]string{"cluster-name": fmt.Sprintf("c%d", i)}}})
	}
	n1, n2 := c.Nodes[0], c.Nodes[1]
	WaitFor(t, 10*time.Second, func() (bool, string) {
		return n2.Agent.Store().Config().Epoch == n1.Agent.Store().Config().Epoch, "n2 catching up"
	})
	before := n1.Agent.Store().Config().Epoch

	c.Kill(1)
	WaitFor(t, 30*time.Second, func() (bool, string) {
		voters, _ := n1.Agent.Store().Voters()
		return n1.Agent.Store().IsLeader() && len(voters) == 1, fmt.Sprintf("n1 leader %v, voters %v", n1.Agent.Store().IsLeader(), voters)
	})
	if b, _ := os.ReadFile(log); !strings.Contains(string(b), " n2") {
		t.Fatalf("n1 recovered raft alone without fencing n2 first (fence log %q)", b)
	}
	if got := n1.Agent.Store().Config().Epoch; got != before {
		t.Fatalf("after recovery n1 is at epoch %d, want %d (nothing lost, nothing new)", got, before)
	}
	for i := 3; i < 5; i++ {
		mustApply(t, n1, &cib.SetProperties{Patch: cib.Patch{Set: map[string]string{"cluster-name": fmt.Sprintf("c%d", i)}}})
	}
	want := n1.Agent.Store().Config().Epoch

	c.Start(1)
	n2 = c.Nodes[1]
	WaitFor(t, 30*time.Second, func() (bool, string) {
		voters, _ := n1.Agent.Store().Voters()
		got := n2.Agent.Store().Config()
		return len(voters) == 2 && got.Epoch >= want && got.Property("cluster-name") == "c4",
			fmt.Sprintf("voters %v; n2 at epoch %d (want %d), cluster-name %q", voters, got.Epoch, want, got.Property("cluster-name"))
	})
	// Both write again, through either node.
	mustApply(t, n2, &cib.SetProperties{Patch: cib.Patch{Set: map[string]string{"cluster-name": "c5"}}})
	WaitFor(t, 10*time.Second, func() (bool, string) {
		return n1.Agent.Store().Config().Property("cluster-name") == "c5", "n1 has not seen c5"
	})
}

// fence_watchdog: without a power switch, a lost node counts as fenced
// once it has certainly stopped by itself (its lease, self-stop-timeout,
// margin, and the given hardware watchdog timeout): with stonith-enabled
// its resources come back after that wait, never before.
func TestWatchdogFenceDevice(t *testing.T) {
	c := New(t, 3, Options{Manage: true})
	dir := t.TempDir()
	cfg, err := c.Nodes[0].Client.Config(Ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.Clone()
	cfg.FenceDevices = []cib.FenceDevice{{ID: "self", Agent: "fence_watchdog", Params: map[string]string{"watchdog_timeout": "1s", "pcmk_host_check": "none"}}}
	cfg.Properties = map[string]string{"stonith-enabled": "true"}
	mustApply(t, c.Nodes[0], &cib.ReplaceConfig{Config: cfg})
	mustApply(t, c.Nodes[0], &cib.CreatePrimitive{Primitive: dummy("d", dir, 200*time.Millisecond, nil)})
	mustApply(t, c.Nodes[0], &cib.AddConstraint{Location: &cib.Location{ID: "d-prefers-n2", Rsc: "d", Node: "n2", Score: 100}})
	waitRunsOn(t, c, dir, "d", "n2", 15*time.Second)
	t0 := time.Now()
	c.Kill(indexOf(c, "n2"))
	os.Remove(filepath.Join(dir, "paceline-dummy-n2-d.state"))
	other := runsOnOther(t, c, dir)
	took := time.Since(t0)
	if took < time.Second {
		t.Fatalf("d recovered on %s after %v: before the 1 s watchdog timeout", other, took)
	}
	ops, err := c.Nodes[indexOf(c, other)].Client.FenceHistory(Ctx(t))
	if err != nil || !slices.ContainsFunc(ops, func(op fencing.Op) bool {
		return op.Target == "n2" && op.State == fencing.Done && op.Devices[0] == "self"
	}) {
		t.Fatalf("no watchdog fence of n2 in the history: %+v %v", ops, err)
	}
	t.Logf("n2 lost -> self-fenced by its watchdog (1 s) -> d on %s after %v", other, took)
}

// on-fail=fence: a monitor that fails on n2 has n2 fenced (the harness
// then stops n2, as the device's power-off would), and the resource runs
// elsewhere.
func TestOnFailFence(t *testing.T) {
	c := New(t, 3, Options{Manage: true})
	dir := t.TempDir()
	cmd, log, _ := fenceScript(t, dir)
	withFencing(t, c.Nodes[0], cmd)
	p := dummy("d", dir, 200*time.Millisecond, nil)
	p.Ops[0].OnFail = "fence"
	mustApply(t, c.Nodes[0], &cib.CreatePrimitive{Primitive: p})
	mustApply(t, c.Nodes[0], &cib.AddConstraint{Location: &cib.Location{ID: "d-prefers-n2", Rsc: "d", Node: "n2", Score: 100}})
	waitRunsOn(t, c, dir, "d", "n2", 15*time.Second)
	os.Remove(filepath.Join(dir, "paceline-dummy-n2-d.state")) // d dies on n2: its monitor fails
	WaitFor(t, 15*time.Second, func() (bool, string) {
		b, _ := os.ReadFile(log)
		return strings.Contains(string(b), "reboot n2"), "fence log: " + string(b)
	})
	c.Kill(indexOf(c, "n2"))
	other := runsOnOther(t, c, dir)
	t.Logf("d's monitor failed on n2 (on-fail=fence): n2 fenced, d on %s", other)
}
