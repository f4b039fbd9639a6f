package redis

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net"
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

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/proc"
)

// store is an in-memory stand-in for the cluster's transient attributes,
// keyed by node; each node's agent sees it through nodeAttrs.
type store struct {
	mu sync.Mutex
	m  map[string]map[string]string
}

func newStore() *store { return &store{m: map[string]map[string]string{}} }

type nodeAttrs struct {
	s    *store
	node string
}

func (n nodeAttrs) SetAttr(name, value string) error {
	n.s.mu.Lock()
	defer n.s.mu.Unlock()
	if n.s.m[n.node] == nil {
		n.s.m[n.node] = map[string]string{}
	}
	n.s.m[n.node][name] = value
	return nil
}

func (n nodeAttrs) DeleteAttr(name string) error {
	n.s.mu.Lock()
	defer n.s.mu.Unlock()
	delete(n.s.m[n.node], name)
	return nil
}

func (n nodeAttrs) Attrs() map[string]map[string]string {
	n.s.mu.Lock()
	defer n.s.mu.Unlock()
	out := map[string]map[string]string{}
	for k, v := range n.s.m {
		out[k] = maps.Clone(v)
	}
	return out
}

func (s *store) get(node, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[node][name]
}

func needRedis(t *testing.T) {
	t.Helper()
	if err := isExecutable(defaultBinary); err != nil {
		t.Skipf("needs %s (Debian's redis-server): %v", defaultBinary, err)
	}
}

// freePort is a TCP port on 127.0.0.1 that nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// node is one "node" of a test cluster: an instance of the resource
// with its own port, directories and view of the attributes.
type node struct {
	t      *testing.T
	name   string
	port   int
	ag     *Agent
	params map[string]string
	attrs  ocf.Attrs
	runDir string
}

const rscID = "db"

func newNode(t *testing.T, st *store, name string, params map[string]string) *node {
	t.Helper()
	needRedis(t)
	base := t.TempDir()
	n := &node{t: t, name: name, port: freePort(t), ag: New(WithRunBase(filepath.Join(base, "run")), WithDataBase(filepath.Join(base, "data")))}
	n.params = map[string]string{paramPort: strconv.Itoa(n.port), paramBind: "127.0.0.1"}
	maps.Copy(n.params, params)
	if st != nil {
		n.attrs = nodeAttrs{s: st, node: name}
	}
	n.runDir = filepath.Join(base, "run", "redis-"+name+"-"+rscID)
	t.Cleanup(func() {
		if p, _, _ := readPid(filepath.Join(n.runDir, "redis.pid"), defaultBinary); p != nil {
			_ = syscall.Kill(p.Pid, syscall.SIGKILL)
			waitGone(context.Background(), p, time.Now().Add(5*time.Second))
		}
	})
	return n
}

func (n *node) addr() string { return "127.0.0.1:" + strconv.Itoa(n.port) }

// do runs an action; it returns the rc and the output.
func (n *node) do(action string, mod ...func(*ocf.Action)) (int, string) {
	n.t.Helper()
	var out bytes.Buffer
	a := &ocf.Action{Name: action, Instance: rscID + ":0", Params: n.params, Meta: map[string]string{"on_node": n.name},
		Timeout: 20 * time.Second, Attrs: n.attrs, Out: &out}
	for _, m := range mod {
		m(a)
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.Timeout)
	defer cancel()
	rc := n.ag.Run(ctx, a)
	return rc, out.String()
}

func (n *node) must(action string, want int) string {
	n.t.Helper()
	rc, out := n.do(action)
	if rc != want {
		n.t.Fatalf("%s %s: rc %d (%s), want %d: %s", n.name, action, rc, ocf.RCName(rc), want, out)
	}
	return out
}

func (n *node) client(pw string) *client {
	n.t.Helper()
	cl, err := dial(context.Background(), n.addr(), "", pw, 3*time.Second)
	if err != nil {
		n.t.Fatalf("%s: %v", n.name, err)
	}
	n.t.Cleanup(func() { cl.Close() })
	return cl
}

func (n *node) pid() int {
	p, why, err := readPid(filepath.Join(n.runDir, "redis.pid"), defaultBinary)
	if err != nil || p == nil {
		n.t.Fatalf("%s: no redis-server: %v %s", n.name, err, why)
	}
	return p.Pid
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func writePassword(t *testing.T, pw string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(f, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestFailover: two nodes; start waits read-only, promote takes writes,
// a second node follows, a switchover (demote A, promote B) keeps every
// acknowledged write, A follows B, stop ends both.
func TestFailover(t *testing.T) {
	const pw = `s3cret "pass" \ word`
	pwFile := writePassword(t, pw)
	st := newStore()
	params := map[string]string{paramPasswordFile: pwFile}
	a := newNode(t, st, "a", params)
	b := newNode(t, st, "b", params)
	names := namesFor(rscID)
	ctx := context.Background()

	a.must(ocf.Monitor, ocf.NotRunning)
	a.must(ocf.Start, ocf.Success)
	a.must(ocf.Start, ocf.Success) // already running
	a.must(ocf.Monitor, ocf.Success)
	ca := a.client(pw)
	if _, err := ca.str(ctx, "SET", "k", "v"); !isReplyError(err, "READONLY") {
		t.Fatalf("a waiting instance took a write: %v", err)
	}
	if got := st.get("a", names.Role); got != roleReplica {
		t.Errorf("role attribute %q, want replica", got)
	}
	if got := st.get("a", names.Score); got != strconv.Itoa(scoreBest) {
		t.Errorf("score of a lone fresh replica %q, want %d", got, scoreBest)
	}
	// The password is on no command line, and the configuration holding it is private.
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", a.pid()))
	if err != nil || bytes.Contains(cmdline, []byte("s3cret")) {
		t.Errorf("cmdline %q (%v) shows the password", cmdline, err)
	}
	if fi, err := os.Stat(filepath.Join(a.runDir, "redis.conf")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("generated configuration: %v %v, want mode 0600", fi.Mode(), err)
	}
	if _, err := dial(ctx, a.addr(), "", "wrong", time.Second); err == nil {
		t.Error("a wrong password was accepted")
	}

	a.must(ocf.Promote, ocf.Success)
	a.must(ocf.Promote, ocf.Success) // already promoted
	a.must(ocf.Monitor, ocf.RunningPromoted)
	if rc, out := a.do(ocf.Monitor, func(x *ocf.Action) { x.CheckLevel = 10 }); rc != ocf.RunningPromoted {
		t.Fatalf("deep monitor of the primary: rc %d: %s", rc, out)
	}
	if got := st.get("a", names.Role); got != rolePrimary {
		t.Errorf("role attribute %q after promote", got)
	}
	if got := st.get("a", names.Score); got != strconv.Itoa(scorePrimary) {
		t.Errorf("primary's score %q", got)
	}
	for i := range 100 {
		if _, err := ca.str(ctx, "SET", "pre"+strconv.Itoa(i), "x"); err != nil {
			t.Fatal(err)
		}
	}

	// b starts as a replica of a, which the attributes name.
	b.must(ocf.Start, ocf.Success)
	b.must(ocf.Monitor, ocf.Success)
	cb := b.client(pw)
	waitFor(t, "b to replicate a's keys", func() bool {
		v, _ := cb.str(ctx, "GET", "pre99")
		return v == "x"
	})
	if s, err := state(ctx, cb); err != nil || s.following() != a.addr() {
		t.Fatalf("b follows %q (%v), want %s", s.following(), err, a.addr())
	}
	b.must(ocf.Monitor, ocf.Success)
	if got := st.get("b", names.Score); got == "" || got == strconv.Itoa(scorePrimary) {
		t.Errorf("b's promotion score %q", got)
	}

	// Writes to a, counted, while a is demoted and b promoted.
	var acked atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		w, err := dial(ctx, a.addr(), "", pw, 30*time.Second)
		if err != nil {
			return
		}
		defer w.Close()
		for i := 0; ; i++ {
			if _, err := w.str(ctx, "SET", "w"+strconv.Itoa(i), strconv.Itoa(i)); err != nil {
				return
			}
			acked.Store(int64(i + 1))
		}
	}()
	for deadline := time.Now().Add(10 * time.Second); acked.Load() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no write was acknowledged before demote")
		}
	}
	a.must(ocf.Demote, ocf.Success)
	<-done
	a.must(ocf.Monitor, ocf.Success)
	if got := st.get("a", names.Role); got != roleReplica {
		t.Errorf("a's role attribute %q after demote", got)
	}
	b.must(ocf.Promote, ocf.Success)
	b.must(ocf.Monitor, ocf.RunningPromoted)
	for i := range int(acked.Load()) {
		v, err := cb.str(ctx, "GET", "w"+strconv.Itoa(i))
		if err != nil || v != strconv.Itoa(i) {
			t.Fatalf("acknowledged write w%d lost on the new primary (%q, %v); %d acknowledged", i, v, err, acked.Load())
		}
	}
	t.Logf("%d writes acknowledged before the switchover, all on the new primary", acked.Load())

	// a follows b at its next monitor.
	a.must(ocf.Monitor, ocf.Success)
	if _, err := cb.str(ctx, "SET", "after", "1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a to replicate from b", func() bool {
		v, _ := ca.str(ctx, "GET", "after")
		return v == "1"
	})

	a.must(ocf.Stop, ocf.Success)
	a.must(ocf.Monitor, ocf.NotRunning)
	a.must(ocf.Stop, ocf.Success)
	if got := st.get("a", names.Role) + st.get("a", names.Score); got != "" {
		t.Errorf("attributes left after stop: %q", got)
	}
	b.must(ocf.Stop, ocf.Success)
	b.must(ocf.Monitor, ocf.NotRunning)
}

// TestStandalone: without a cluster (no attributes) the instance waits
// read-only until promoted; no password needed.
func TestStandalone(t *testing.T) {
	n := newNode(t, nil, "solo", nil)
	n.must(ocf.ValidateAll, ocf.Success)
	n.must(ocf.Start, ocf.Success)
	n.must(ocf.Monitor, ocf.Success)
	n.must(ocf.Demote, ocf.Success)
	n.must(ocf.Promote, ocf.Success)
	n.must(ocf.Monitor, ocf.RunningPromoted)
	cl := n.client("")
	if _, err := cl.str(context.Background(), "SET", "k", "v"); err != nil {
		t.Fatalf("primary refused a write: %v", err)
	}
	n.must(ocf.Demote, ocf.Success)
	n.must(ocf.Monitor, ocf.Success)
	if _, err := cl.str(context.Background(), "SET", "k", "v"); !isReplyError(err, "READONLY") {
		t.Fatalf("a demoted instance took a write: %v", err)
	}
	n.must(ocf.Notify, ocf.Success)
	n.must(ocf.Stop, ocf.Success)
	n.must(ocf.Monitor, ocf.NotRunning)
}

// TestStalePid: a pid file naming a gone process, or another program,
// is "not running"; stop then succeeds.
func TestStalePid(t *testing.T) {
	n := newNode(t, nil, "stale", nil)
	if err := os.MkdirAll(n.runDir, 0o700); err != nil {
		t.Fatal(err)
	}
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = sleeper.Wait(); close(exited) }()
	t.Cleanup(func() { _ = sleeper.Process.Kill(); <-exited })
	for _, pid := range []string{"999999999", strconv.Itoa(sleeper.Process.Pid), "junk"} {
		if err := os.WriteFile(filepath.Join(n.runDir, "redis.pid"), []byte(pid+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if rc, out := n.do(ocf.Monitor); rc != ocf.NotRunning {
			t.Errorf("pid %s: monitor rc %d: %s", pid, rc, out)
		}
	}
	n.must(ocf.Stop, ocf.Success)
	select {
	case <-exited:
		t.Error("stop killed a process that is not redis")
	case <-time.After(200 * time.Millisecond): // a signal sent would have ended it by now
	}
}

// TestNotAnswering: a redis-server that is stopped (SIGSTOP) answers
// nothing: monitor 1, or 9 when this node is the primary.
func TestNotAnswering(t *testing.T) {
	st := newStore()
	n := newNode(t, st, "hung", map[string]string{paramAnnounce: "127.0.0.1"})
	n.must(ocf.Start, ocf.Success)
	pid := n.pid()
	syscall.Kill(pid, syscall.SIGSTOP)
	defer syscall.Kill(pid, syscall.SIGCONT)
	if rc, out := n.do(ocf.Monitor, func(a *ocf.Action) { a.Timeout = 5 * time.Second }); rc != ocf.ErrGeneric {
		t.Errorf("monitor of a hung replica: rc %d: %s", rc, out)
	}
	syscall.Kill(pid, syscall.SIGCONT)
	n.must(ocf.Promote, ocf.Success)
	syscall.Kill(pid, syscall.SIGSTOP)
	if rc, out := n.do(ocf.Monitor, func(a *ocf.Action) { a.Timeout = 5 * time.Second }); rc != ocf.FailedPromoted {
		t.Errorf("monitor of a hung primary: rc %d: %s", rc, out)
	}
	syscall.Kill(pid, syscall.SIGCONT)
	n.must(ocf.Stop, ocf.Success)
}

func TestBadParameters(t *testing.T) {
	needRedis(t)
	st := newStore()
	for _, tc := range []struct {
		params map[string]string
		attrs  bool
		action string
		rc     int
		want   string
	}{
		{map[string]string{paramPort: "http"}, false, ocf.Start, ocf.ErrConfigured, "port"},
		{map[string]string{paramPort: "70000"}, false, ocf.Monitor, ocf.NotRunning, "port"}, // a probe: nothing runs
		{map[string]string{paramPort: "70000"}, false, ocf.Stop, ocf.Success, "port"},       // a stop must not fail (it would fence)
		{map[string]string{paramPort: "70000"}, false, "recurring monitor", ocf.ErrConfigured, "port"},
		{map[string]string{paramBind: "localhost"}, false, ocf.Start, ocf.ErrConfigured, "bind"},
		{map[string]string{paramDir: "data"}, false, ocf.Start, ocf.ErrConfigured, "absolute"},
		{map[string]string{paramBind: "0.0.0.0"}, true, ocf.Start, ocf.ErrConfigured, "announce is required"},
		{map[string]string{paramReplUser: "repl"}, false, ocf.ValidateAll, ocf.ErrConfigured, "needs password_file"},
		{map[string]string{paramBinary: "/nonexistent/redis-server"}, false, ocf.Start, ocf.ErrInstalled, "binary"},
		{map[string]string{paramConfig: "/nonexistent/redis.conf"}, false, ocf.ValidateAll, ocf.ErrInstalled, "config"},
		{map[string]string{paramPasswordFile: "/nonexistent/pw"}, false, ocf.Start, ocf.ErrInstalled, "password_file"},
		{map[string]string{paramPasswordFile: writePassword(t, "")}, false, ocf.Start, ocf.ErrConfigured, "empty"},
	} {
		var s *store
		if tc.attrs {
			s = st
		}
		n := newNode(t, s, "bad", tc.params)
		var rc int
		var out string
		if tc.action == "recurring monitor" {
			rc, out = n.do(ocf.Monitor, func(a *ocf.Action) { a.Interval = 10 * time.Second })
		} else {
			rc, out = n.do(tc.action)
		}
		if rc != tc.rc || !strings.Contains(out, tc.want) {
			t.Errorf("%v %s: rc %d %q; want rc %d mentioning %q", tc.params, tc.action, rc, out, tc.rc, tc.want)
		}
	}
	// Parameters gone bad while redis runs: the probe reports it running
	// with them (a failure, so that it is stopped), and the stop still
	// stops it by its pid file.
	running := newNode(t, nil, "gonebad", nil)
	if rc, out := running.do(ocf.Start); rc != ocf.Success {
		t.Fatalf("start: rc %d: %s", rc, out)
	}
	pid := running.pid()
	running.params[paramBind] = "localhost"
	if rc, out := running.do(ocf.Monitor); rc != ocf.ErrGeneric || !strings.Contains(out, "runs with them") {
		t.Errorf("probe with bad parameters while redis runs: rc %d %q", rc, out)
	}
	if rc, out := running.do(ocf.Stop); rc != ocf.Success || !strings.Contains(out, "stopped") {
		t.Errorf("stop with bad parameters while redis runs: rc %d %q", rc, out)
	}
	// Gone, or a zombie of this test process (signal 0 would succeed on it).
	if st, err := proc.ReadStat(pid); err == nil && !st.Gone() {
		t.Errorf("redis-server pid %d still runs after the stop: %+v", pid, st)
	}
	// A base configuration redis refuses: rc 6 with redis's reason.
	base := filepath.Join(t.TempDir(), "base.conf")
	os.WriteFile(base, []byte("no-such-directive yes\n"), 0o644)
	n := newNode(t, nil, "badconf", map[string]string{paramConfig: base})
	if rc, out := n.do(ocf.Start); rc != ocf.ErrConfigured || !strings.Contains(out, "no-such-directive") {
		t.Errorf("bad base configuration: rc %d: %s", rc, out)
	}
}

func TestReplicaScore(t *testing.T) {
	n := namesFor("db")
	all := map[string]map[string]string{
		"a": {n.Offset: "1000"},
		"b": {n.Offset: "900"},
		"c": {n.Offset: "junk"},
	}
	if s := replicaScore(1000, all, n, "a"); s != scoreBest {
		t.Errorf("most up-to-date: %d", s)
	}
	behind := replicaScore(900, all, n, "b")
	far := replicaScore(0, all, n, "c")
	if !(scoreBest > behind && behind > far && far >= 1) {
		t.Errorf("scores not ranked by offset: best %d, 100 behind %d, 1000 behind %d", scoreBest, behind, far)
	}
	if s := replicaScore(1<<62, map[string]map[string]string{"x": {n.Offset: "0"}}, n, "y"); s != scoreBest {
		t.Errorf("ahead of all: %d", s)
	}
	if s := replicaScore(0, map[string]map[string]string{"x": {n.Offset: strconv.FormatInt(1<<62, 10)}}, n, "y"); s < 1 || s >= scoreBest {
		t.Errorf("far behind: %d", s)
	}
}

func TestPrimaryOf(t *testing.T) {
	n := namesFor("db")
	all := map[string]map[string]string{
		"a": {n.Role: rolePrimary, n.Addr: "10.0.0.1:6379"},
		"b": {n.Role: roleReplica, n.Addr: "10.0.0.2:6379"},
	}
	if node, addr, err := primaryOf(all, n, "b", "10.0.0.2:6379"); node != "a" || addr != "10.0.0.1:6379" || err != nil {
		t.Errorf("primaryOf = %q %q %v", node, addr, err)
	}
	if node, _, _ := primaryOf(all, n, "a", "10.0.0.1:6379"); node != "" {
		t.Errorf("the primary found itself: %q", node)
	}
	all["c"] = map[string]string{n.Role: rolePrimary, n.Addr: "10.0.0.3:6379"}
	if _, _, err := primaryOf(all, n, "b", ""); err == nil {
		t.Error("two primaries were not reported")
	}
}

func TestQuote(t *testing.T) {
	if got := quote(`a "b" \c` + "\n"); got != `"a \x22b\x22 \x5cc\x0a"` {
		t.Errorf("quote = %s", got)
	}
}

func TestMetaData(t *testing.T) {
	md := New().MetaData()
	for _, a := range []string{ocf.Promote, ocf.Demote, ocf.Notify, ocf.Monitor, ocf.ValidateAll} {
		if !md.Supports(a) {
			t.Errorf("meta-data lacks %s", a)
		}
	}
	roles := map[string]bool{}
	for _, a := range md.Actions {
		if a.Name == ocf.Monitor {
			roles[a.Role] = true
		}
	}
	if !roles["Promoted"] || !roles["Unpromoted"] {
		t.Errorf("monitor roles %v", roles)
	}
	if _, err := md.XML(); err != nil {
		t.Fatal(err)
	}
}

// TestOCFTester: resource-agents' ocf-tester passes ocf:paceline:redis
// as `paceline ocf install` installs it (no cluster: standalone).
func TestOCFTester(t *testing.T) {
	needRedis(t)
	tester, err := exec.LookPath("ocf-tester")
	if err != nil {
		t.Skip("needs ocf-tester from Debian's resource-agents")
	}
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Skip("needs xmllint from libxml2-utils")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("needs the go command to build paceline")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "paceline")
	if out, err := exec.Command(goBin, "build", "-o", bin, "../../cmd/paceline").CombinedOutput(); err != nil {
		t.Fatalf("building paceline: %v\n%s", err, out)
	}
	root := filepath.Join(dir, "ocf")
	if out, err := exec.Command(bin, "ocf", "install", "--root", root).CombinedOutput(); err != nil {
		t.Fatalf("paceline ocf install: %v\n%s", err, out)
	}
	// ocf-tester runs meta-data as nobody: let it reach the agent.
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	runDir := filepath.Join(dir, "run")
	t.Cleanup(func() {
		if p, _, _ := readPid(filepath.Join(runDir, "redis.pid"), defaultBinary); p != nil {
			_ = syscall.Kill(p.Pid, syscall.SIGKILL)
			waitGone(context.Background(), p, time.Now().Add(5*time.Second))
		}
	})
	cmd := exec.Command(tester, "-v", "-n", "db1",
		"-o", "port="+strconv.Itoa(freePort(t)), "-o", "bind=127.0.0.1",
		"-o", "dir="+filepath.Join(dir, "data"), "-o", "run_dir="+runDir,
		filepath.Join(root, "resource.d", ocf.Provider, "redis"))
	cmd.Env = append(os.Environ(), "OCF_ROOT="+root)
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("passed all tests")) {
		t.Fatalf("ocf-tester: %v\n%s", err, out)
	}
	t.Logf("ocf-tester output:\n%s", out)
	if p, _, _ := readPid(filepath.Join(runDir, "redis.pid"), defaultBinary); p != nil {
		t.Errorf("redis-server pid %d left after ocf-tester", p.Pid)
	}
}

// syncConf is a base configuration that holds a replica's first full
// synchronisation open for seconds: the primary waits
// repl-diskless-sync-delay before it streams the data set (Redis 7's
// default is 5 s; spelled out here), and the replica shows no
// synchronisation in progress meanwhile (master_sync_in_progress:0, link
// down), so a test can act in between.
func syncConf(t *testing.T) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "base.conf")
	if err := os.WriteFile(f, []byte("repl-diskless-sync yes\nrepl-diskless-sync-delay 3\nsave \"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// replInfo is n's INFO replication (nil when it does not answer).
func (n *node) replInfo() map[string]string {
	cl, err := dial(context.Background(), n.addr(), "", "", time.Second)
	if err != nil {
		return nil
	}
	defer cl.Close()
	s, err := cl.str(context.Background(), "INFO", "replication")
	if err != nil {
		return nil
	}
	return parseInfo(s)
}

// TestNoPromotionBeforeFirstSync: a replica that has not completed a
// synchronisation with its primary has no promotion score — once a
// post-promote notification points it at a new primary, right after a
// start as a replica of a primary, while the primary prepares the full
// synchronisation, and after the primary died before it completed — so
// the scheduler cannot promote an empty data set in place of the
// crashed primary's. Once synchronised it is promotable, also after its
// primary crashed.
func TestNoPromotionBeforeFirstSync(t *testing.T) {
	st := newStore()
	params := map[string]string{paramConfig: syncConf(t)}
	a := newNode(t, st, "a", params)
	b := newNode(t, st, "b", params)
	c := newNode(t, st, "c", params)
	names := namesFor(rscID)
	ctx := context.Background()
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range []*node{a, b, c} {
				lg, err := os.ReadFile(filepath.Join(n.runDir, "redis.log"))
				t.Logf("%s's redis.log (%v):\n%s", n.name, err, lg)
			}
		}
	})
	noScore := func(n *node, when string) {
		t.Helper()
		if got := st.get(n.name, names.Score); got != "" {
			t.Errorf("%s: %s has promotion score %q, but it never completed a synchronisation with a (promoted, it would lose a's every write); its replication: %v",
				when, n.name, got, n.replInfo())
		}
	}

	// a and b start as a cluster does, both waiting: b is promotable.
	a.must(ocf.Start, ocf.Success)
	b.must(ocf.Start, ocf.Success)
	if got := st.get("b", names.Score); got != strconv.Itoa(scoreBest) {
		t.Fatalf("b waiting on the placeholder has score %q, want %d", got, scoreBest)
	}
	a.must(ocf.Promote, ocf.Success)
	ca := a.client("")
	for i := range 1000 {
		if _, err := ca.str(ctx, "SET", "k"+strconv.Itoa(i), "x"); err != nil {
			t.Fatal(err)
		}
	}
	// The post-promote notification points b at a: its score goes at once.
	if rc, out := b.do(ocf.Notify, func(x *ocf.Action) {
		x.Meta["notify_type"], x.Meta["notify_operation"], x.Meta["notify_promote_uname"] = "post", "promote", "a"
	}); rc != ocf.Success || !strings.Contains(out, "following the new primary a") {
		t.Fatalf("post-promote notify: rc %d: %s", rc, out)
	}
	noScore(b, "after the post-promote notification")
	// c starts as a replica of the primary the attributes name.
	c.must(ocf.Start, ocf.Success)
	noScore(c, "after start")
	waitFor(t, "a to accept b's and c's synchronisation requests", func() bool {
		in := a.replInfo()
		return strings.Contains(in["slave0"], "state=wait_bgsave") && strings.Contains(in["slave1"], "state=wait_bgsave")
	})
	for _, n := range []*node{b, c} {
		n.must(ocf.Monitor, ocf.Success)
		noScore(n, "while a prepares the synchronisation")
	}

	// a dies before they have its data.
	if err := syscall.Kill(a.pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*node{b, c} {
		waitFor(t, n.name+" to lose a", func() bool {
			in := n.replInfo()
			return in != nil && in["master_sync_in_progress"] == "0" && in["master_link_status"] == "down" && a.replInfo() == nil
		})
		n.must(ocf.Monitor, ocf.Success)
		noScore(n, "after a died before the synchronisation completed")
		if in := n.replInfo(); in["master_repl_offset"] != "0" {
			t.Errorf("%s has offset %s: it received data after all", n.name, in["master_repl_offset"])
		}
	}
	c.must(ocf.Stop, ocf.Success)

	// a returns and is promoted again (the test is the scheduler); b
	// completes a synchronisation, is promotable, and stays so when a
	// dies again: promoted, it has a's writes.
	a.must(ocf.Start, ocf.Success)
	a.must(ocf.Promote, ocf.Success)
	ca = a.client("")
	if _, err := ca.str(ctx, "SET", "after", "1"); err != nil {
		t.Fatal(err)
	}
	cb := b.client("")
	waitFor(t, "b to synchronise with a", func() bool {
		v, _ := cb.str(ctx, "GET", "after")
		return v == "1"
	})
	b.must(ocf.Monitor, ocf.Success)
	if got := st.get("b", names.Score); got == "" {
		t.Error("b is synchronised but has no promotion score")
	}
	if err := syscall.Kill(a.pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b's link to go down", func() bool { return b.replInfo()["master_link_status"] == "down" })
	b.must(ocf.Monitor, ocf.Success)
	if got := st.get("b", names.Score); got == "" {
		t.Error("b synchronised with a, which died: b has no promotion score, want one")
	}
	b.must(ocf.Promote, ocf.Success)
	if v, err := cb.str(ctx, "GET", "after"); err != nil || v != "1" {
		t.Errorf("the promoted replica lacks a's write: %q %v", v, err)
	}
}

// TestSynced: the evidence that a replica has its primary's data set.
func TestSynced(t *testing.T) {
	n := namesFor("db")
	const me, up = "b", "10.0.0.1:6379"
	primary := map[string]string{n.Role: rolePrimary, n.Addr: up, n.ReplID: "P"}
	for _, tc := range []struct {
		what string
		s    replState
		own  map[string]string // b's own attributes
		a    map[string]string // a's attributes (a publishes up)
		want bool
	}{
		{"primary", replState{Role: "master", ReplID: "X"}, nil, primary, true},
		{"waiting on the placeholder", replState{Role: "slave", MasterHost: placeholderHost, MasterPort: "0", ReplID: "X"}, nil, primary, true},
		{"link up", replState{Role: "slave", MasterHost: "10.0.0.1", MasterPort: "6379", LinkUp: true, ReplID: "X"}, nil, primary, true},
		{"the primary's ID", replState{Role: "slave", MasterHost: "10.0.0.1", MasterPort: "6379", ReplID: "P"}, nil, primary, true},
		{"its own record", replState{Role: "slave", MasterHost: "10.0.0.1", MasterPort: "6379", ReplID: "Q"}, map[string]string{n.Synced: "Q"}, primary, true},
		{"never synchronised", replState{Role: "slave", MasterHost: "10.0.0.1", MasterPort: "6379", ReplID: "X"}, map[string]string{n.Synced: "Q"}, primary, false},
		{"the primary publishes no ID", replState{Role: "slave", MasterHost: "10.0.0.1", MasterPort: "6379", ReplID: "X"}, nil,
			map[string]string{n.Role: rolePrimary, n.Addr: up}, false},
		{"nobody publishes the address", replState{Role: "slave", MasterHost: "10.0.0.9", MasterPort: "6379", ReplID: "X"}, nil, primary, false},
		{"no ID at all", replState{Role: "slave", MasterHost: "10.0.0.1", MasterPort: "6379"}, map[string]string{n.Synced: ""}, primary, false},
	} {
		all := map[string]map[string]string{"a": tc.a, me: tc.own}
		got, why := synced(tc.s, all, n, me)
		if got != tc.want || (!got && why == "") {
			t.Errorf("%s: synced = %v (%q), want %v", tc.what, got, why, tc.want)
		}
	}
}
