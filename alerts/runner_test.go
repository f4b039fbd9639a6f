package alerts

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paceline/paceline/agents"
	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/lrm"
	"github.com/paceline/paceline/proc"
)

// envScript writes its whole environment to $out/SEQ.env (atomically,
// through a rename): out is an instance attribute, so it also shows that
// params arrive as environment variables.
const envScript = `#!/bin/sh
f="$out/$CRM_alert_node_sequence.env"
env > "$f.tmp" && mv "$f.tmp" "$f"
`

// script writes an executable shell script into dir.
func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// at is the fixed clock of the tests: 2026-03-04 05:06:07.123456789 UTC.
var at = time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)

// harness is a running Runner on a fixed configuration, with its results.
type harness struct {
	r   *Runner
	mu  sync.Mutex
	res []Result
}

func start(t *testing.T, cfg *cib.Config, opt Options) *harness {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test config: %v", err)
	}
	h := &harness{}
	opt.Config = func() *cib.Config { return cfg }
	opt.Version = "test-1"
	opt.Now = func() time.Time { return at }
	opt.Done = func(r Result) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.res = append(h.res, r)
	}
	h.r = New(opt)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = h.r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return h
}

// drain waits (boundedly) until every queued alert has run.
func (h *harness) drain(t *testing.T) []Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := h.r.Drain(ctx); err != nil {
		t.Fatalf("alerts still running: %v", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	out := slices.Clone(h.res)
	slices.SortFunc(out, func(a, b Result) int { return int(a.Seq) - int(b.Seq) })
	return out
}

// readEnvs reads the files envScript wrote, by sequence number.
func readEnvs(t *testing.T, dir string) map[int]map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.env"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]map[string]string{}
	for _, f := range files {
		seq, err := strconv.Atoi(strings.TrimSuffix(filepath.Base(f), ".env"))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		b, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		env := map[string]string{}
		sc := bufio.NewScanner(b)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), "="); ok {
				env[k] = v
			}
		}
		b.Close()
		out[seq] = env
	}
	return out
}

// alertVars keeps the CRM_ variables, the params and PATH of an
// environment (the shell adds PWD and such).
func alertVars(env map[string]string, params ...string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		if strings.HasPrefix(k, "CRM_") || k == "PATH" || slices.Contains(params, k) {
			out[k] = v
		}
	}
	return out
}

func diffEnv(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if g, ok := got[k]; !ok || g != want[k] {
			t.Errorf("%s: %s = %q (set %v), want %q", what, k, g, ok, want[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected %s=%q", what, k, got[k])
		}
	}
}

// A resource event reaches one run per recipient, each with Pacemaker's
// whole environment: the event, the recipient, the timestamp in the
// configured format, the sequence, and the params (the recipient's over
// the alert's) — and nothing else.
func TestRunnerResourceEnvironment(t *testing.T) {
	dir := t.TempDir()
	out := t.TempDir()
	cfg := &cib.Config{Alerts: []cib.Alert{{ID: "dump", Path: script(t, dir, "dump.sh", envScript),
		Params: map[string]string{"out": out, "level": "info"},
		Meta:   map[string]string{"timestamp-format": "%Y-%m-%d %H:%M:%S.%03N"},
		Recipients: []cib.Recipient{
			{ID: "r1", Value: "ops@example.com"},
			{ID: "r2", Value: "/var/log/x", Params: map[string]string{"level": "debug"}, Meta: map[string]string{"timestamp-format": "%s|%6N|%:z"}},
			{ID: "r3", Value: "off", Meta: map[string]string{"enabled": "false"}},
		}}}}
	h := start(t, cfg, Options{})
	ev, ok := ResourceEvent(lrm.Completion{Node: "n1", Op: lrm.Op{Rsc: "web", Action: "start",
		Result: lrm.Result{RC: 0, Status: lrm.StatusDone}, ExecMS: 12.7}})
	if !ok {
		t.Fatal("a start is not alerted")
	}
	h.r.Notify(ev)
	res := h.drain(t)
	if len(res) != 2 || res[0].Recipient != "r1" || res[1].Recipient != "r2" {
		t.Fatalf("runs: %+v", res)
	}
	envs := readEnvs(t, out)
	common := map[string]string{
		"PATH": basePath, "out": out,
		"CRM_alert_kind": "resource", "CRM_alert_version": "test-1",
		"CRM_alert_timestamp_epoch": "1772600767", "CRM_alert_timestamp_usec": "123456",
		"CRM_alert_node": "n1", "CRM_alert_rsc": "web", "CRM_alert_task": "start", "CRM_alert_interval": "0",
		"CRM_alert_target_rc": "0", "CRM_alert_status": "0", "CRM_alert_rc": "0", "CRM_alert_exec_time": "12",
		"CRM_alert_desc": "OK",
	}
	want1 := maps.Clone(common)
	maps.Copy(want1, map[string]string{"level": "info", "CRM_alert_recipient": "ops@example.com",
		"CRM_alert_node_sequence": "1", "CRM_alert_timestamp": "2026-03-04 05:06:07.123"})
	want2 := maps.Clone(common)
	maps.Copy(want2, map[string]string{"level": "debug", "CRM_alert_recipient": "/var/log/x",
		"CRM_alert_node_sequence": "2", "CRM_alert_timestamp": "1772600767|123456|+00:00"})
	diffEnv(t, "r1", alertVars(envs[1], "out", "level"), want1)
	diffEnv(t, "r2", alertVars(envs[2], "out", "level"), want2)
	if len(envs) != 2 {
		t.Errorf("%d runs wrote files, want 2", len(envs))
	}
}

// Node, fencing and attribute events carry their own variables; an alert
// without recipients runs once with an empty CRM_alert_recipient;
// attributes reach only alerts that select them (and the names they
// select); the sequence grows by one per run.
func TestRunnerEventKinds(t *testing.T) {
	dir := t.TempDir()
	outAll, outAttr := t.TempDir(), t.TempDir()
	path := script(t, dir, "dump.sh", envScript)
	cfg := &cib.Config{Alerts: []cib.Alert{
		{ID: "all", Path: path, Params: map[string]string{"out": outAll}},
		{ID: "attr", Path: path, Params: map[string]string{"out": outAttr}, Select: []string{"attributes"}, SelectAttributes: []string{"pingd"}},
		{ID: "off", Path: path, Params: map[string]string{"out": outAll}, Meta: map[string]string{"enabled": "false"}},
	}}
	h := start(t, cfg, Options{})
	h.r.Notify(NodeEvent("n2", "n2", false))
	h.drain(t)
	h.r.Notify(FencingEvent(Fencing{Target: "n2", Action: "reboot", Executioner: "n1", Origin: "n3", Client: "paceline", Ref: "f1"}))
	h.drain(t)
	h.r.Notify(AttributeEvent("n1", "n1", "standby", "on")) // not selected by name: no run
	h.r.Notify(AttributeEvent("n1", "n1", "pingd", "100"))
	res := h.drain(t)
	if len(res) != 3 {
		t.Fatalf("runs: %+v", res)
	}
	base := map[string]string{"PATH": basePath, "CRM_alert_version": "test-1", "CRM_alert_recipient": "",
		"CRM_alert_timestamp": "05:06:07.123456", "CRM_alert_timestamp_epoch": "1772600767", "CRM_alert_timestamp_usec": "123456"}
	with := func(m map[string]string) map[string]string { out := maps.Clone(base); maps.Copy(out, m); return out }
	all := readEnvs(t, outAll)
	diffEnv(t, "node", alertVars(all[1]), with(map[string]string{"CRM_alert_kind": "node", "CRM_alert_node": "n2",
		"CRM_alert_nodeid": "n2", "CRM_alert_desc": "lost", "CRM_alert_node_sequence": "1"}))
	diffEnv(t, "fencing", alertVars(all[2]), with(map[string]string{"CRM_alert_kind": "fencing", "CRM_alert_node": "n2",
		"CRM_alert_task": "reboot", "CRM_alert_rc": "0", "CRM_alert_node_sequence": "2",
		"CRM_alert_desc": "Operation reboot of n2 by n1 for paceline@n3: OK (ref=f1)"}))
	if len(all) != 2 {
		t.Errorf("alert 'all' ran %d times, want 2 (it does not select attributes; 'off' is disabled)", len(all))
	}
	attr := readEnvs(t, outAttr)
	diffEnv(t, "attribute", alertVars(attr[3]), with(map[string]string{"CRM_alert_kind": "attribute", "CRM_alert_node": "n1",
		"CRM_alert_nodeid": "n1", "CRM_alert_attribute_name": "pingd", "CRM_alert_attribute_value": "100", "CRM_alert_node_sequence": "3"}))
	if len(attr) != 1 {
		t.Errorf("alert 'attr' ran %d times, want 1", len(attr))
	}
}

// A failed fencing and a member's return read as Pacemaker writes them.
func TestEventDescriptions(t *testing.T) {
	f := FencingEvent(Fencing{Target: "n2", Action: "off", Status: ExecTimeout, RC: 1, Reason: "no answer"})
	if want := "Operation off of n2 by the cluster for a client@a node: Timed out (no answer) (ref=(none))"; f.Desc != want || f.RC != 1 {
		t.Errorf("fencing desc %q rc %d, want %q", f.Desc, f.RC, want)
	}
	if f := FencingEvent(Fencing{Target: "n2", Action: "reboot", RC: -62}); !strings.Contains(f.Desc, ": Error (ref") {
		t.Errorf("failed fencing desc %q", f.Desc)
	}
	if n := NodeEvent("n3", "", true); n.Desc != "member" || n.Kind != KindNode {
		t.Errorf("node event %+v", n)
	}
}

// The resource rules: which operation results alert, with which target
// code, status and description.
func TestResourceEventRules(t *testing.T) {
	op := func(action string, interval time.Duration, rc int, st lrm.ExecStatus) lrm.Op {
		return lrm.Op{Rsc: "db", Action: action, Interval: interval, Result: lrm.Result{RC: rc, Status: st}}
	}
	for _, tt := range []struct {
		name     string
		c        lrm.Completion
		alert    bool
		target   int
		status   int
		desc     string
		interval string
	}{
		{"start ok", lrm.Completion{Op: op("start", 0, 0, lrm.StatusDone)}, true, 0, 0, "OK", "0"},
		{"start failed", lrm.Completion{Op: op("start", 0, 1, lrm.StatusDone)}, true, 0, 0, "Error occurred", "0"},
		{"stop timed out", lrm.Completion{Op: op("stop", 0, 1, lrm.StatusTimeout)}, true, 0, 2, "Timed out", "0"},
		{"not installed", lrm.Completion{Op: op("start", 0, 5, lrm.StatusNotInstalled)}, true, 0, 7, "Not installed", "0"},
		{"promote cancelled", lrm.Completion{Op: op("promote", 0, 1, lrm.StatusCancelled)}, true, 0, 1, "Cancelled", "0"},
		{"meta-data", lrm.Completion{Op: op("meta-data", 0, 0, lrm.StatusDone)}, false, 0, 0, "", ""},
		{"probe: stopped as expected", lrm.Completion{Op: op("monitor", 0, 7, lrm.StatusDone)}, false, 0, 0, "", ""},
		{"probe: found running", lrm.Completion{Op: op("monitor", 0, 0, lrm.StatusDone)}, true, 7, 0, "OK", "0"},
		{"probe: failed", lrm.Completion{Op: op("monitor", 0, 1, lrm.StatusDone)}, true, 7, 0, "Error occurred", "0"},
		{"monitor: first result", lrm.Completion{Op: op("monitor", 10*time.Second, 0, lrm.StatusDone)}, true, 0, 0, "OK", "10000"},
		{"monitor: repeated success", lrm.Completion{Op: op("monitor", 10*time.Second, 0, lrm.StatusDone), Repeat: true}, false, 0, 0, "", ""},
		{"monitor: repeated failure", lrm.Completion{Op: op("monitor", 10*time.Second, 7, lrm.StatusDone), Repeat: true}, false, 0, 0, "", ""},
		{"monitor: changed to not running", lrm.Completion{Op: op("monitor", 10*time.Second, 7, lrm.StatusDone)}, true, 0, 0, "Not running", "10000"},
		{"promoted monitor: first result", lrm.Completion{Op: op("monitor", 5*time.Second, 8, lrm.StatusDone), Expect: 8}, true, 8, 0, "Promoted", "5000"},
	} {
		ev, ok := ResourceEvent(tt.c)
		if ok != tt.alert {
			t.Errorf("%s: alerted %v, want %v", tt.name, ok, tt.alert)
			continue
		}
		if !ok {
			continue
		}
		if ev.TargetRC != tt.target || ev.Status != tt.status || ev.Desc != tt.desc || fmt.Sprint(ev.Interval.Milliseconds()) != tt.interval {
			t.Errorf("%s: target %d status %d desc %q interval %v; want %d %d %q %s", tt.name, ev.TargetRC, ev.Status, ev.Desc, ev.Interval, tt.target, tt.status, tt.desc, tt.interval)
		}
	}
}

// The monitor rule end to end, with a real resource manager: a start
// alerts, a recurring monitor alerts its first result and its change, not
// the results that repeat.
func TestRunnerMonitorRuleWithLRM(t *testing.T) {
	cfg := &cib.Config{Alerts: []cib.Alert{{ID: "true", Path: "/bin/true"}}}
	h := start(t, cfg, Options{})
	state := t.TempDir()
	m := lrm.New(lrm.Options{Node: "n1", Builtin: &lrm.Builtin{Agents: agents.Builtins(context.Background())}})
	results := make(chan lrm.Completion, 1024)
	m.OnResult(func(c lrm.Completion) {
		if ev, ok := ResourceEvent(c); ok {
			h.r.Notify(ev)
		}
		select {
		case results <- c:
		default: // the observer must not block
		}
	})
	defer m.Close()
	req := lrm.Request{Rsc: "d", Agent: cib.Agent{Class: "ocf", Provider: "paceline", Type: "dummy"}, Action: ocf.Start,
		Params: map[string]string{"state_dir": state}}
	if op := m.Exec(context.Background(), req); !op.OK() {
		t.Fatalf("start: %+v", op)
	}
	mon := req
	mon.Action, mon.Interval = ocf.Monitor, 10*time.Millisecond
	if err := m.StartRecurring(mon, ocf.Success); err != nil {
		t.Fatal(err)
	}
	// wait reads completions until one satisfies ok (bounded).
	wait := func(what string, ok func(lrm.Completion) bool) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case c := <-results:
				if ok(c) {
					return
				}
			case <-deadline:
				t.Fatalf("no %s within 20s", what)
			}
		}
	}
	n := 0
	wait("three monitor results", func(c lrm.Completion) bool { n++; return c.Op.Interval > 0 && n >= 4 })
	files, _ := filepath.Glob(filepath.Join(state, "*.state"))
	if len(files) != 1 {
		t.Fatalf("state files %v", files)
	}
	if err := os.Remove(files[0]); err != nil {
		t.Fatal(err)
	}
	wait("a repeated 'not running'", func(c lrm.Completion) bool { return c.Op.RC == ocf.NotRunning && c.Repeat })
	m.StopRecurring("d", mon.Interval)
	var got []string
	for _, r := range h.drain(t) {
		got = append(got, envOf(r.Env, "CRM_alert_task")+"/"+envOf(r.Env, "CRM_alert_interval")+"/"+envOf(r.Env, "CRM_alert_rc"))
	}
	if want := []string{"start/0/0", "monitor/10/0", "monitor/10/7"}; !slices.Equal(got, want) {
		t.Errorf("alerts %v, want %v", got, want)
	}
}

func envOf(env []string, name string) string {
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, name+"="); ok {
			return v
		}
	}
	return ""
}

// An agent that outlives its timeout is killed with its whole process
// group, a child that ignores SIGTERM too; the result says timeout.
func TestRunnerTimeoutKillsGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	path := script(t, dir, "hang.sh", `#!/bin/sh
trap '' TERM
sleep 60 &
echo $! > "$pidfile"
wait
`)
	cfg := &cib.Config{Alerts: []cib.Alert{{ID: "hang", Path: path, Params: map[string]string{"pidfile": pidFile},
		Meta: map[string]string{"timeout": "300ms"}}}}
	h := start(t, cfg, Options{Grace: 100 * time.Millisecond})
	began := time.Now()
	h.r.Notify(NodeEvent("n2", "n2", true))
	res := h.drain(t)
	if len(res) != 1 || res[0].Status != proc.Timeout || res[0].Timeout != 300*time.Millisecond {
		t.Fatalf("results %+v", res)
	}
	if took := time.Since(began); took > 15*time.Second {
		t.Errorf("the hung agent held the runner %v", took)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("the agent's child %d survived its group's kill", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive reports whether a process exists and is not a zombie.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z")
}

// At most MaxParallel agents run at once; the others wait their turn,
// and every one runs.
func TestRunnerBoundsParallelism(t *testing.T) {
	dir := t.TempDir()
	// Each run holds a lock directory while it runs; a second run at once
	// would find it taken and record that.
	path := script(t, dir, "one.sh", `#!/bin/sh
if mkdir "$dir/lock" 2>/dev/null; then
  sleep 0.05
  rmdir "$dir/lock"
else
  touch "$dir/overlap"
fi
touch "$dir/ran.$CRM_alert_node_sequence"
`)
	cfg := &cib.Config{Alerts: []cib.Alert{{ID: "one", Path: path, Params: map[string]string{"dir": dir}}}}
	h := start(t, cfg, Options{MaxParallel: 1})
	for range 5 {
		h.r.Notify(NodeEvent("n2", "n2", true))
	}
	if res := h.drain(t); len(res) != 5 {
		t.Fatalf("%d runs, want 5", len(res))
	}
	if _, err := os.Stat(filepath.Join(dir, "overlap")); err == nil {
		t.Error("two runs overlapped with MaxParallel 1")
	}
	if ran, _ := filepath.Glob(filepath.Join(dir, "ran.*")); len(ran) != 5 {
		t.Errorf("ran %v", ran)
	}
}

// A full queue drops runs instead of blocking the caller; a failing agent
// and a missing one are reported, not fatal.
func TestRunnerQueueFullAndFailures(t *testing.T) {
	cfg := &cib.Config{Alerts: []cib.Alert{{ID: "fail", Path: "/bin/false"}, {ID: "gone", Path: "/nonexistent/alert.sh"}}}
	r := New(Options{Config: func() *cib.Config { return cfg }, QueueSize: 3})
	for range 4 {
		r.Notify(NodeEvent("n2", "", true)) // two runs each; the runner is not running
	}
	if got := len(r.queue); got != 3 {
		t.Fatalf("queued %d, want 3 (the queue's size)", got)
	}
	var mu sync.Mutex
	var res []Result
	r.opt.Done = func(x Result) { mu.Lock(); res = append(res, x); mu.Unlock() }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	dctx, dcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer dcancel()
	if err := r.Drain(dctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	if len(res) != 3 {
		t.Fatalf("results %+v", res)
	}
	for _, x := range res {
		switch x.Alert {
		case "fail":
			if x.Status != proc.Done || x.Code != 1 {
				t.Errorf("fail: %+v", x.Result)
			}
		case "gone":
			if x.Status != proc.NotInstalled {
				t.Errorf("gone: %+v", x.Result)
			}
		}
	}
}

// Run's end drops what is queued, and Drain then returns.
func TestRunnerStopDropsQueued(t *testing.T) {
	cfg := &cib.Config{Alerts: []cib.Alert{{ID: "a", Path: "/bin/true"}}}
	r := New(Options{Config: func() *cib.Config { return cfg }})
	r.Notify(NodeEvent("n2", "", true))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer dcancel()
	if err := r.Drain(dctx); err != nil {
		t.Fatalf("Drain after Run ended: %v", err)
	}
}
