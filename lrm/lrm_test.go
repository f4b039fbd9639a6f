package lrm_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"

	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/paceline/paceline/agents"
	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/lrm"
)

// debianRoot is where Debian's resource-agents install (make deps).
const debianRoot = "/usr/lib/ocf"

func needDebianAgents(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(debianRoot, "resource.d/heartbeat/Dummy")); err != nil {
		t.Skip("needs Debian's resource-agents (make deps installs it): ", err)
	}
}

func newManager(t *testing.T, opt lrm.Options) *lrm.Manager {
	t.Helper()
	if opt.Builtin == nil {
		opt.Builtin = &lrm.Builtin{Agents: agents.Builtins(context.Background())}
	}
	m := lrm.New(opt)
	t.Cleanup(m.Close)
	return m
}

// testRoot makes an OCF root with agents (shell scripts) of provider
// "test".
func testRoot(t *testing.T, scripts map[string]string) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "resource.d", "test")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func req(rsc, agent, action string, params map[string]string) lrm.Request {
	a, err := lrm.ParseAgent(agent)
	if err != nil {
		panic(err)
	}
	return lrm.Request{Rsc: rsc, Agent: a, Action: action, Params: params}
}

func wantRC(t *testing.T, op lrm.Op, rc int, st lrm.ExecStatus) {
	t.Helper()
	if op.RC != rc || op.Status != st {
		t.Fatalf("%s %s: rc %d (%s) status %s, want rc %d status %s; reason %q output %q",
			op.Rsc, op.Action, op.RC, op.RCName, op.Status, rc, st, op.Reason, op.Output)
	}
}

// Debian's ocf:heartbeat:Dummy through a life cycle, with the codes the
// OCF API gives (as shared/TESTING.md lists them for a hand run).
func TestDebianDummyLifeCycle(t *testing.T) {
	needDebianAgents(t)
	m := newManager(t, lrm.Options{Node: "n1"})
	ctx := context.Background()
	params := map[string]string{"state": filepath.Join(t.TempDir(), "d.state")}
	steps := []struct {
		action string
		rc     int
	}{
		{ocf.Monitor, ocf.NotRunning}, {ocf.Start, ocf.Success}, {ocf.Monitor, ocf.Success},
		{ocf.Start, ocf.Success}, {ocf.Stop, ocf.Success}, {ocf.Monitor, ocf.NotRunning},
		{ocf.Stop, ocf.Success}, {ocf.ValidateAll, ocf.Success},
	}
	for _, s := range steps {
		wantRC(t, m.Exec(ctx, req("d1", "ocf:heartbeat:Dummy", s.action, params)), s.rc, lrm.StatusDone)
	}
	md := m.Exec(ctx, req("d1", "ocf:heartbeat:Dummy", ocf.MetaData, nil))
	wantRC(t, md, ocf.Success, lrm.StatusDone)
	if !strings.Contains(md.Output, `<resource-agent name="Dummy"`) {
		t.Errorf("meta-data output does not describe Dummy: %.200q", md.Output)
	}
	h, ok := m.History("d1")
	if !ok || h.Last == nil || h.Last.Action != ocf.ValidateAll || len(h.Recent) != len(steps) || h.FailCount() != 0 {
		t.Fatalf("history: %+v", h)
	}
	for i := 1; i < len(h.Recent); i++ {
		if h.Recent[i].CallID <= h.Recent[i-1].CallID {
			t.Errorf("call IDs not increasing: %d then %d", h.Recent[i-1].CallID, h.Recent[i].CallID)
		}
	}
}

// An agent that hangs is killed at its timeout together with the children
// it started, also when it ignores SIGTERM.
func TestHangingAgentKilledWithChildren(t *testing.T) {
	for _, ignoreTerm := range []bool{false, true} {
		t.Run(fmt.Sprintf("ignore-term=%v", ignoreTerm), func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "child.pid")
			trap := ""
			if ignoreTerm {
				trap = "trap '' TERM\n"
			}
			root := testRoot(t, map[string]string{"hang": trap + "sleep 1000 &\necho $! > " + pidFile + "\necho started child\nsleep 1000\n"})
			m := newManager(t, lrm.Options{OCF: &lrm.OCF{Root: root, Grace: 300 * time.Millisecond}})
			r := req("h", "ocf:test:hang", ocf.Start, nil)
			r.Timeout = 500 * time.Millisecond
			start := time.Now()
			op := m.Exec(context.Background(), r)
			took := time.Since(start)
			wantRC(t, op, ocf.ErrGeneric, lrm.StatusTimeout)
			if took > 10*time.Second {
				t.Errorf("the timed-out action took %v", took)
			}
			if !strings.Contains(op.Output, "started child") {
				t.Errorf("output before the kill is lost: %q", op.Output)
			}
			b, err := os.ReadFile(pidFile)
			if err != nil {
				t.Fatal(err)
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			waitGone(t, pid)
			h, _ := m.History("h")
			if h.FailCounts["start_0"] != 1 || h.LastFailure == nil || h.LastFailure.Status != lrm.StatusTimeout {
				t.Errorf("a timed-out start is a failure: %+v", h)
			}
		})
	}
}

// waitGone waits until pid no longer exists (a zombie reaped by init
// counts as gone once it is reaped).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); err != nil {
			return
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && strings.Contains(string(b), ") Z ") {
			return // killed; waiting for its parent to reap it
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("child %d of the killed agent still runs", pid)
}

// An agent that prints megabytes costs a bounded buffer; the head and the
// tail of its output survive.
func TestOutputBounded(t *testing.T) {
	root := testRoot(t, map[string]string{"chatty": "echo FIRST-LINE\nhead -c 8000000 /dev/zero | tr '\\0' x\necho\necho LAST-LINE\nexit 0\n"})
	m := newManager(t, lrm.Options{OCF: &lrm.OCF{Root: root}})
	op := m.Exec(context.Background(), req("c", "ocf:test:chatty", ocf.Start, nil))
	wantRC(t, op, ocf.Success, lrm.StatusDone)
	if n := len(op.Output); n > lrm.HeadBytes+lrm.TailBytes+200 {
		t.Errorf("kept %d bytes of output, want at most %d", n, lrm.HeadBytes+lrm.TailBytes+200)
	}
	for _, s := range []string{"FIRST-LINE", "LAST-LINE", "bytes of output dropped"} {
		if !strings.Contains(op.Output, s) {
			t.Errorf("output lacks %q", s)
		}
	}
	h, _ := m.History("c")
	if len(h.Last.Output) > 2100 || !strings.Contains(h.Last.Output, "LAST-LINE") {
		t.Errorf("history keeps %d bytes, ending %q", len(h.Last.Output), h.Last.Output[max(0, len(h.Last.Output)-40):])
	}
}

// A missing or non-executable agent, an unknown class or action: clear
// errors, no panic.
func TestBadAgents(t *testing.T) {
	root := testRoot(t, map[string]string{"ok": "exit 0\n"})
	noexec := filepath.Join(root, "resource.d", "test", "noexec")
	if err := os.WriteFile(noexec, []byte("#!/bin/sh\nexit 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := newManager(t, lrm.Options{OCF: &lrm.OCF{Root: root}})
	ctx := context.Background()
	cases := []struct {
		r      lrm.Request
		rc     int
		st     lrm.ExecStatus
		reason string
	}{
		{req("a", "ocf:test:missing", ocf.Start, nil), ocf.ErrInstalled, lrm.StatusNotInstalled, "does not exist"},
		{req("b", "ocf:test:noexec", ocf.Start, nil), ocf.ErrInstalled, lrm.StatusNotInstalled, "not executable"},
		{req("c", "systemd:foo", ocf.Start, nil), ocf.ErrInstalled, lrm.StatusNotInstalled, "systemd class is not available"},
		{lrm.Request{Rsc: "d", Agent: lrm.Agent{Class: "upstart", Type: "x"}, Action: ocf.Start}, ocf.ErrInstalled, lrm.StatusNotInstalled, "unknown agent class"},
		{req("e", "ocf:test:ok", "explode", nil), ocf.ErrArgs, lrm.StatusError, `unknown action "explode"`},
		{req("", "ocf:test:ok", ocf.Start, nil), ocf.ErrArgs, lrm.StatusError, "without a resource name"},
		{req("f", "ocf:paceline:nosuch", ocf.Start, nil), ocf.ErrInstalled, lrm.StatusNotInstalled, "does not exist"},
	}
	for _, c := range cases {
		op := m.Exec(ctx, c.r)
		if op.RC != c.rc || op.Status != c.st || !strings.Contains(op.Reason, c.reason) {
			t.Errorf("%s %s: rc %d status %s reason %q; want rc %d status %s reason containing %q",
				c.r.Agent, c.r.Action, op.RC, op.Status, op.Reason, c.rc, c.st, c.reason)
		}
	}
	for _, bad := range []string{"ocf:heartbeat", "ocf:../x:y", "lsb:", "nagios:x", "ocf:a:b:c"} {
		if _, err := lrm.ParseAgent(bad); err == nil {
			t.Errorf("ParseAgent(%q) accepted", bad)
		}
	}
}

// The lsb class against an init script the test writes: status 3 is
// "not running", 1 and 2 too; 4 is an error.
func TestLSBClass(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "running")
	script := `#!/bin/sh
### BEGIN INIT INFO
# Provides:          testsvc
# Short-Description: a test service
# Description:       an init script written by the LRM test
### END INIT INFO
case "$1" in
  start) touch ` + state + `; exit 0 ;;
  stop) rm -f ` + state + `; exit 0 ;;
  status) [ -f ` + state + ` ] && exit 0; [ -f ` + state + `.crashed ] && exit 1; [ -f ` + state + `.weird ] && exit 4; exit 3 ;;
  force-reload) exit 0 ;;
  *) echo "usage: $0 start|stop|status"; exit 2 ;;
esac
`
	if err := os.WriteFile(filepath.Join(dir, "testsvc"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	m := newManager(t, lrm.Options{LSB: &lrm.LSB{Dir: dir}})
	ctx := context.Background()
	do := func(action string) lrm.Op { return m.Exec(ctx, req("svc", "lsb:testsvc", action, nil)) }
	wantRC(t, do(ocf.Monitor), ocf.NotRunning, lrm.StatusDone)
	wantRC(t, do(ocf.Start), ocf.Success, lrm.StatusDone)
	wantRC(t, do(ocf.Monitor), ocf.Success, lrm.StatusDone)
	wantRC(t, do(ocf.Reload), ocf.Success, lrm.StatusDone)
	wantRC(t, do(ocf.Stop), ocf.Success, lrm.StatusDone)
	os.WriteFile(state+".crashed", nil, 0o644)
	wantRC(t, do(ocf.Monitor), ocf.NotRunning, lrm.StatusDone)
	os.Remove(state + ".crashed")
	os.WriteFile(state+".weird", nil, 0o644)
	if op := do(ocf.Monitor); op.RC != ocf.ErrGeneric || !op.Failed {
		t.Errorf("status 4: rc %d failed %v, want an error", op.RC, op.Failed)
	}
	wantRC(t, do(ocf.Promote), ocf.ErrUnimplemented, lrm.StatusDone)
	md := do(ocf.MetaData)
	if !strings.Contains(md.Output, "a test service") {
		t.Errorf("meta-data from the LSB header: %q", md.Output)
	}
	wantRC(t, m.Exec(ctx, req("x", "lsb:nosuch", ocf.Start, nil)), ocf.ErrInstalled, lrm.StatusNotInstalled)
}

// One action at a time per resource, several resources in parallel up to
// the limit.
func TestSerialPerResourceParallelAcross(t *testing.T) {
	dir := t.TempDir()
	// Each run records its start and end; a run takes 200 ms.
	root := testRoot(t, map[string]string{"slow": `echo "$OCF_RESOURCE_INSTANCE start $(date +%s%N)" >> ` + dir + `/log
sleep 0.2
echo "$OCF_RESOURCE_INSTANCE end $(date +%s%N)" >> ` + dir + `/log
exit 0
`})
	m := newManager(t, lrm.Options{OCF: &lrm.OCF{Root: root}, MaxParallel: 3})
	var wg sync.WaitGroup
	for _, rsc := range []string{"a", "a", "a", "b", "c", "d", "e"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wantRC(t, m.Exec(context.Background(), req(rsc, "ocf:test:slow", ocf.Start, nil)), ocf.Success, lrm.StatusDone)
		}()
	}
	wg.Wait()
	b, _ := os.ReadFile(filepath.Join(dir, "log"))
	running := map[string]int{}
	total, peak := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if f[1] == "start" {
			running[f[0]]++
			total++
		} else {
			running[f[0]]--
			total--
		}
		if running[f[0]] > 1 {
			t.Errorf("two actions of %s at once", f[0])
		}
		peak = max(peak, total)
	}
	if peak > 3 || peak < 2 {
		t.Errorf("peak concurrency %d, want 2-3 (limit 3)", peak)
	}
	h, _ := m.History("a")
	if len(h.Recent) != 3 {
		t.Errorf("a ran %d times, want 3", len(h.Recent))
	}
}

// A recurring monitor reports a change once (not every interval), counts
// the failure, and a stop cancels it.
func TestRecurringMonitorReportsChanges(t *testing.T) {
	state := filepath.Join(t.TempDir(), "d.state")
	var events []lrm.Event
	var mu sync.Mutex
	m := newManager(t, lrm.Options{Node: "n1", OnChange: func(e lrm.Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}})
	ctx := context.Background()
	params := map[string]string{"state": state}
	wantRC(t, m.Exec(ctx, req("d", "ocf:paceline:dummy", ocf.Start, params)), ocf.Success, lrm.StatusDone)
	mon := req("d", "ocf:paceline:dummy", ocf.Monitor, params)
	mon.Interval = 20 * time.Millisecond
	if err := m.StartRecurring(mon, ocf.Success); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	mu.Lock()
	if len(events) != 0 {
		t.Errorf("a healthy resource reported %d events", len(events))
	}
	mu.Unlock()
	os.Remove(state) // the resource "dies"
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(events) >= 1 })
	time.Sleep(150 * time.Millisecond) // several more monitors, same result
	mu.Lock()
	if len(events) != 1 || events[0].Op.RC != ocf.NotRunning || events[0].Expected != ocf.Success || !events[0].Op.Failed || events[0].Node != "n1" {
		t.Errorf("events: %+v", events)
	}
	mu.Unlock()
	h, _ := m.History("d")
	if h.FailCounts["monitor_20"] != 1 || len(h.Recurring) != 1 || len(h.Monitors) != 1 {
		t.Errorf("history after the failure: fail counts %v recurring %v monitors %d", h.FailCounts, h.Recurring, len(h.Monitors))
	}
	wantRC(t, m.Exec(ctx, req("d", "ocf:paceline:dummy", ocf.Stop, params)), ocf.Success, lrm.StatusDone)
	h, _ = m.History("d")
	if len(h.Recurring) != 0 {
		t.Errorf("a stop leaves recurring monitors: %v", h.Recurring)
	}
	m.Cleanup("d", false)
	if h, _ = m.History("d"); h.FailCount() != 0 || h.LastFailure != nil {
		t.Errorf("cleanup leaves failures: %+v", h)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Built-in agents run in-process with the same contract: delays honour
// the timeout, injected failures are reported, bad parameters are
// configuration errors.
func TestBuiltinDummy(t *testing.T) {
	m := newManager(t, lrm.Options{})
	ctx := context.Background()
	state := filepath.Join(t.TempDir(), "s")
	r := req("b", "ocf:paceline:dummy", ocf.Start, map[string]string{"state": state, "start_delay": "5s"})
	r.Timeout = 100 * time.Millisecond
	wantRC(t, m.Exec(ctx, r), ocf.ErrGeneric, lrm.StatusTimeout)
	wantRC(t, m.Exec(ctx, req("b", "ocf:paceline:dummy", ocf.Start, map[string]string{"state": state, "fail_start": "6"})), ocf.ErrConfigured, lrm.StatusDone)
	op := m.Exec(ctx, req("b", "ocf:paceline:dummy", ocf.Start, map[string]string{"state": "relative"}))
	if op.RC != ocf.ErrConfigured || !strings.Contains(op.Output, "absolute path") {
		t.Errorf("bad state parameter: rc %d output %q", op.RC, op.Output)
	}
	wantRC(t, m.Exec(ctx, req("b", "ocf:paceline:dummy", ocf.Start, map[string]string{"state": state})), ocf.Success, lrm.StatusDone)
	wantRC(t, m.Exec(ctx, req("b", "ocf:paceline:dummy", ocf.Promote, map[string]string{"state": state})), ocf.Success, lrm.StatusDone)
	wantRC(t, m.Exec(ctx, req("b", "ocf:paceline:dummy", ocf.Monitor, map[string]string{"state": state})), ocf.RunningPromoted, lrm.StatusDone)
}

// The OCF environment reaches an agent: instance, parameters, meta
// attributes with interval and timeout in milliseconds.
func TestOCFEnvironment(t *testing.T) {
	out := filepath.Join(t.TempDir(), "env")
	root := testRoot(t, map[string]string{"env": "env | grep -E '^(OCF_|PATH=)' | sort > " + out + "\nexit 0\n"})
	m := newManager(t, lrm.Options{OCF: &lrm.OCF{Root: root}})
	r := req("web:1", "ocf:test:env", ocf.Monitor, map[string]string{"ip": "192.0.2.10"})
	r.Interval, r.Timeout = 10*time.Second, 30*time.Second
	r.Meta = map[string]string{"clone-max": "2"}
	if err := m.StartRecurring(r, ocf.Success); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { b, _ := os.ReadFile(out); return len(b) > 0 })
	b, _ := os.ReadFile(out)
	for _, want := range []string{
		"OCF_RESOURCE_INSTANCE=web:1", "OCF_RESKEY_ip=192.0.2.10", "OCF_RESKEY_CRM_meta_interval=10000",
		"OCF_RESKEY_CRM_meta_timeout=30000", "OCF_RESKEY_CRM_meta_clone_max=2", "OCF_ROOT=" + root, "OCF_RESOURCE_TYPE=env",
	} {
		if !strings.Contains(string(b), want+"\n") {
			t.Errorf("environment lacks %s:\n%s", want, b)
		}
	}
}

// The cost of fork and exec alone, without the manager: a plain
// exec.Command of the same trivial agent. Compared with ocf-sh-exit0 in
// BenchmarkExec it gives the manager's own overhead per action.
func BenchmarkRawExec(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "true")
	os.WriteFile(path, []byte("#!/bin/sh\nexit 0\n"), 0o755)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := exec.Command(path, "monitor").Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Actions per second through the manager, for the figures.
func BenchmarkExec(b *testing.B) {
	ctx := context.Background()
	for _, c := range []struct{ name, agent string }{
		{"builtin-dummy", "ocf:paceline:dummy"}, {"ocf-heartbeat-Dummy", "ocf:heartbeat:Dummy"}, {"ocf-sh-exit0", "ocf:test:true"},
	} {
		b.Run(c.name, func(b *testing.B) {
			if c.agent == "ocf:heartbeat:Dummy" {
				if _, err := os.Stat(filepath.Join(debianRoot, "resource.d/heartbeat/Dummy")); err != nil {
					b.Skip("needs Debian's resource-agents")
				}
			}
			root := debianRoot
			if c.agent == "ocf:test:true" {
				root = b.TempDir()
				os.MkdirAll(filepath.Join(root, "resource.d", "test"), 0o755)
				os.WriteFile(filepath.Join(root, "resource.d", "test", "true"), []byte("#!/bin/sh\nexit 0\n"), 0o755)
			}
			m := lrm.New(lrm.Options{OCF: &lrm.OCF{Root: root}, Builtin: &lrm.Builtin{Agents: agents.Builtins(context.Background())}})
			defer m.Close()
			params := map[string]string{"state": filepath.Join(b.TempDir(), "s")}
			var n atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := n.Add(1)
				r := req(fmt.Sprintf("r%d", i), c.agent, ocf.Monitor, params)
				for pb.Next() {
					if op := m.Exec(ctx, r); op.Status != lrm.StatusDone {
						b.Fatalf("%+v", op)
					}
				}
			})
		})
	}
}

// CancelStarts ends a start in flight at once; the cancelled start is
// the resource's state (maybe half done), so a stop follows it.
func TestCancelStarts(t *testing.T) {
	m := newManager(t, lrm.Options{})
	state := filepath.Join(t.TempDir(), "s")
	done := make(chan lrm.Op, 1)
	go func() {
		done <- m.Exec(context.Background(), req("c", "ocf:paceline:dummy", ocf.Start, map[string]string{"state": state, "start_delay": "10s"}))
	}()
	time.Sleep(100 * time.Millisecond)
	if n := m.CancelStarts(); n != 1 {
		t.Fatalf("cancelled %d starts, want 1", n)
	}
	select {
	case op := <-done:
		if op.Status == lrm.StatusDone && op.RC == ocf.Success {
			t.Fatalf("the cancelled start succeeded: %+v", op)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the cancelled start did not end")
	}
	h, _ := m.History("c")
	if h.State == nil || h.State.Action != ocf.Start {
		t.Fatalf("state after a cancelled start: %+v", h.State)
	}
	if n := m.CancelStarts(); n != 0 {
		t.Errorf("%d starts still tracked", n)
	}
}
