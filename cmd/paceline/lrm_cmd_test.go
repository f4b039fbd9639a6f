package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/lrm"
)

// `paceline resource op RSC ACTION` runs an action through the agent's
// resource manager, exits with the agent's code, and `resource history`
// shows what ran, with failures and fail counts.
func TestCLIResourceOpAndHistory(t *testing.T) {
	a := startAgent(t)
	state := filepath.Join(t.TempDir(), "d1.state")
	a.ok(t, "resource", "create", "d1", "ocf:paceline:dummy", "state="+state, "op", "monitor", "interval=10s", "timeout=5s")
	a.ok(t, "resource", "create", "slow", "ocf:paceline:dummy", "state="+state+".slow", "start_delay=10s", "op", "start", "timeout=200ms")

	if r := a.run(t, "resource", "op", "d1", "monitor"); r.code != 7 || !strings.Contains(r.stdout, "not running") {
		t.Fatalf("monitor of a stopped resource: want exit 7; %s", r)
	}
	out := a.ok(t, "resource", "op", "d1", "start")
	contains(t, "start", out, "start of d1 on this node: rc=0 (ok), done")
	if _, err := os.Stat(state); err != nil {
		t.Fatalf("start did not run the agent: %v", err)
	}
	a.ok(t, "resource", "op", "d1", "monitor", "--interval", "10s")
	r := a.run(t, "resource", "op", "slow", "start")
	if r.code != 1 || !strings.Contains(r.stdout, "timeout") {
		t.Fatalf("a start past its configured 200ms timeout: %s", r)
	}

	hist := a.ok(t, "resource", "history", "d1")
	contains(t, "history", hist, "d1 (ocf:paceline:dummy) on", "last: monitor rc=0 (ok)", "start", "not running")
	var rep api.HistoryReply
	a.json(t, &rep, "resource", "history", "slow")
	if len(rep.Resources) != 1 || rep.Resources[0].FailCounts["start_0"] != 1 || rep.Resources[0].LastFailure == nil ||
		rep.Resources[0].LastFailure.Status != lrm.StatusTimeout {
		t.Fatalf("history of the timed-out start: %+v", rep)
	}
	contains(t, "history of all", a.ok(t, "resource", "history"), "d1 (ocf:paceline:dummy)", "slow (ocf:paceline:dummy)")
	// paceline status shows what runs where and the failed actions.
	contains(t, "status", a.ok(t, "status"), "Resources:", "d1", "Started "+a.node, "slow", "FAILED "+a.node+" (start)",
		"Failed resource actions:", "slow start on "+a.node)

	// Operator commands: one change each, clear errors.
	contains(t, "move", a.ok(t, "resource", "move", "d1", a.node), "cli-prefer-d1")
	contains(t, "ban", a.ok(t, "resource", "ban", "slow", a.node), "cli-ban-slow-on-"+a.node)
	a.fails(t, 1, "already banned", "resource", "ban", "slow", a.node)
	a.fails(t, 1, `unknown node "elsewhere"`, "resource", "move", "d1", "elsewhere")
	a.fails(t, 2, "want RSC NODE", "resource", "move", "d1")
	contains(t, "clear", a.ok(t, "resource", "clear", "d1"), "removed constraint cli-prefer-d1")
	a.fails(t, 1, "no move or ban", "resource", "clear", "d1")
	a.ok(t, "resource", "disable", "d1")
	if cfg := a.config(t); cfg.Primitive("d1").Meta["target-role"] != "Stopped" {
		t.Fatalf("disable: meta %v", cfg.Primitive("d1").Meta)
	}
	a.ok(t, "resource", "enable", "d1")
	if cfg := a.config(t); cfg.Primitive("d1").Meta["target-role"] != "" {
		t.Fatalf("enable: meta %v", cfg.Primitive("d1").Meta)
	}
	contains(t, "cleanup", a.ok(t, "resource", "cleanup", "slow"), "Cleaned up slow on "+a.node)
	var after api.HistoryReply
	a.json(t, &after, "resource", "history", "slow")
	if len(after.Resources) != 1 || after.Resources[0].FailCount() != 0 || after.Resources[0].LastFailure != nil {
		t.Fatalf("history after cleanup: %+v", after)
	}
	a.fails(t, 1, `unknown resource "nosuch"`, "resource", "cleanup", "nosuch")
	// explain: the live scores. d1 runs here (by hand), so it stays here
	// with the default stickiness 0 on a single node.
	contains(t, "explain", a.ok(t, "resource", "explain", "d1"), "d1: Started on "+a.node, a.node)
	a.fails(t, 1, `unknown resource "nosuch"`, "resource", "explain", "nosuch")
	// restart without a DC managing: nothing stops d1 (run by hand), so
	// it is left disabled, and the message says how to undo that.
	a.fails(t, 1, "left disabled", "resource", "restart", "d1", "--timeout", "300ms")
	if cfg := a.config(t); cfg.Primitive("d1").Meta["target-role"] != "Stopped" {
		t.Fatalf("after a failed restart: meta %v", cfg.Primitive("d1").Meta)
	}
	a.ok(t, "resource", "enable", "d1")

	a.fails(t, 1, `no primitive "nosuch"`, "resource", "op", "nosuch", "start")
	a.fails(t, 1, `unknown action "explode"`, "resource", "op", "d1", "explode")
	a.fails(t, 1, `no monitor every 1m0s`, "resource", "op", "d1", "monitor", "--interval", "1m")
	a.fails(t, 1, `no node "elsewhere"`, "resource", "history", "d1", "--node", "elsewhere")
	a.fails(t, 2, "want add ID NAME", "resource", "op", "d1")
	contains(t, "no history", a.ok(t, "resource", "history", "never"), "has run no operations of never")
}

// status --watch refreshes in place until interrupted.
func TestCLIStatusWatch(t *testing.T) {
	a := startAgent(t)
	cmd := exec.Command(binary, "-s", a.socket, "status", "--watch", "--interval", "200ms")
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(out.String(), "\033[H\033[2J") < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("status --watch ended with %v:\n%s", err, out.String())
	}
	if n := strings.Count(out.String(), "\033[H\033[2J"); n < 2 {
		t.Fatalf("refreshed %d times in 20 s at 200ms:\n%s", n, out.String())
	}
	if !strings.Contains(out.String(), "Resources:") {
		t.Fatalf("no resources section:\n%s", out.String())
	}
	if r := a.run(t, "status", "--watch", "--interval", "1ms"); r.code != 2 {
		t.Errorf("--interval 1ms: %s", r)
	}
}

// lockedBuffer is a bytes.Buffer safe for a writing process and a
// reading test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
