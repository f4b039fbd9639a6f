package ping

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/api"
)

// Every probe in these tests goes to 127.0.0.1 and nowhere else.

// memAttrs is an in-memory ocf.Attrs of one node, recording every change:
// a stand-in for the gossiped attributes, which are not under test here.
type memAttrs struct {
	mu      sync.Mutex
	node    string
	vals    map[string]string
	changes []string // "name=value", or "-name" for a delete
}

func newMemAttrs(node string) *memAttrs { return &memAttrs{node: node, vals: map[string]string{}} }

func (m *memAttrs) SetAttr(name, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.vals[name] = value
	m.changes = append(m.changes, name+"="+value)
	return nil
}

func (m *memAttrs) DeleteAttr(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.vals, name)
	m.changes = append(m.changes, "-"+name)
	return nil
}

func (m *memAttrs) Attrs() map[string]map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return map[string]map[string]string{m.node: maps.Clone(m.vals), "other": {"pingd": "7"}}
}

func (m *memAttrs) get(name string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.vals[name]
	return v, ok
}

func (m *memAttrs) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.changes)
}

// rig runs actions of one instance against an agent, with its own
// state directory, attribute store and clock.
type rig struct {
	t      *testing.T
	ag     *Agent
	attrs  *memAttrs
	params map[string]string
	clock  time.Time
	out    bytes.Buffer
}

func newRig(t *testing.T, params map[string]string) *rig {
	r := &rig{t: t, attrs: newMemAttrs("n1"), clock: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	r.ag = New()
	r.ag.now = func() time.Time { return r.clock }
	r.params = map[string]string{"state_dir": t.TempDir()}
	maps.Copy(r.params, params)
	return r
}

func (r *rig) run(action string) int {
	r.t.Helper()
	r.out.Reset()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a := &ocf.Action{
		Name: action, Instance: "ping:0", Params: r.params,
		Meta: map[string]string{"on_node": "n1"}, Timeout: 20 * time.Second,
		Attrs: r.attrs, Out: &r.out,
	}
	return r.ag.Run(ctx, a)
}

func (r *rig) want(action string, rc int) {
	r.t.Helper()
	if got := r.run(action); got != rc {
		r.t.Fatalf("%s: rc %d (%s), want %d (%s); output: %s", action, got, ocf.RCName(got), rc, ocf.RCName(rc), r.out.String())
	}
}

func (r *rig) wantAttr(name, value string) {
	r.t.Helper()
	got, ok := r.attrs.get(name)
	if value == "" && ok {
		r.t.Fatalf("attribute %s=%q, want it deleted", name, got)
	}
	if value != "" && got != value {
		r.t.Fatalf("attribute %s=%q (set %v), want %q", name, got, ok, value)
	}
}

// openPort is a TCP listener on 127.0.0.1 (reachable); it is closed at
// test end.
func openPort(t *testing.T) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, ln.Addr().String()
}

// closedPort is a port on 127.0.0.1 nobody listens on (unreachable).
func closedPort(t *testing.T) string {
	ln, addr := openPort(t)
	ln.Close()
	return addr
}

// relisten opens a listener on addr again (after it was closed).
func relisten(t *testing.T, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening on %s again: %v", addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		params map[string]string
		rc     int
		why    string
	}{
		{map[string]string{"host_list": "127.0.0.1"}, ocf.Success, ""},
		{map[string]string{"host_list": "127.0.0.1 127.0.0.1:22,localhost:80", "multiplier": "1000", "attempts": "1", "timeout": "500ms", "dampen": "0", "name": "net"}, ocf.Success, ""},
		{map[string]string{"host_list": "127.0.0.1", "timeout": "3", "dampen": "2.5"}, ocf.Success, ""},
		{map[string]string{}, ocf.ErrConfigured, "host_list is required"},
		{map[string]string{"host_list": " , "}, ocf.ErrConfigured, "host_list is required"},
		{map[string]string{"host_list": "gateway"}, ocf.ErrConfigured, `"gateway": want an IPv4 address`},
		{map[string]string{"host_list": "::1"}, ocf.ErrConfigured, "only IPv4"},
		{map[string]string{"host_list": "127.0.0.1:0"}, ocf.ErrConfigured, "want 1 to 65535"},
		{map[string]string{"host_list": "127.0.0.1", "multiplier": "x"}, ocf.ErrConfigured, "multiplier"},
		{map[string]string{"host_list": "127.0.0.1", "attempts": "0"}, ocf.ErrConfigured, "attempts"},
		{map[string]string{"host_list": "127.0.0.1", "timeout": "0"}, ocf.ErrConfigured, "timeout"},
		{map[string]string{"host_list": "127.0.0.1", "dampen": "soon"}, ocf.ErrConfigured, "dampen"},
		{map[string]string{"host_list": "127.0.0.1", "name": "a b"}, ocf.ErrConfigured, "name"},
		{map[string]string{"host_list": "127.0.0.1", "state_dir": "run"}, ocf.ErrConfigured, "state_dir"},
	} {
		r := newRig(t, tc.params)
		got := r.run(ocf.ValidateAll)
		if got != tc.rc || !strings.Contains(r.out.String(), tc.why) {
			t.Errorf("validate-all %v: rc %d %q, want %d naming %q", tc.params, got, r.out.String(), tc.rc, tc.why)
		}
		if tc.rc != ocf.Success {
			if got := r.run(ocf.Start); got != ocf.ErrConfigured {
				t.Errorf("start %v: rc %d, want %d", tc.params, got, ocf.ErrConfigured)
			}
		}
	}
	// Unsupported actions.
	r := newRig(t, map[string]string{"host_list": "127.0.0.1"})
	r.want(ocf.Promote, ocf.ErrUnimplemented)
}

// Real TCP probes: a listener the test opens counts, a closed port does
// not; the value is multiplier × reachable targets, under the given name.
func TestTCPTargets(t *testing.T) {
	_, up1 := openPort(t)
	_, up2 := openPort(t)
	down := closedPort(t)
	r := newRig(t, map[string]string{
		"host_list": up1 + " " + down + " " + up2, "multiplier": "100", "name": "uplink", "attempts": "2", "timeout": "1s",
	})
	r.want(ocf.Monitor, ocf.NotRunning)
	r.want(ocf.Start, ocf.Success)
	r.wantAttr("uplink", "200")
	if !strings.Contains(r.out.String(), "2 of 3 targets reachable") {
		t.Errorf("start output %q", r.out.String())
	}
	r.wantAttr("pingd", "")
	r.want(ocf.Monitor, ocf.Success)
	r.wantAttr("uplink", "200")
	r.want(ocf.Start, ocf.Success) // started again: still fine
	r.want(ocf.Stop, ocf.Success)
	r.wantAttr("uplink", "")
}

// ICMP echo to 127.0.0.1, through a raw socket as root.
func TestICMPLoopback(t *testing.T) {
	r := newRig(t, map[string]string{"host_list": "127.0.0.1", "multiplier": "5"})
	rc := r.run(ocf.Start)
	if rc == ocf.ErrPerm && os.Geteuid() != 0 {
		t.Skipf("needs root or an unprivileged ping socket: %s", r.out.String())
	}
	if rc != ocf.Success {
		t.Fatalf("start: rc %d: %s", rc, r.out.String())
	}
	r.wantAttr("pingd", "5")
	r.want(ocf.Monitor, ocf.Success)
	r.wantAttr("pingd", "5")
	r.want(ocf.Stop, ocf.Success)
}

// The monitor succeeds while started even with nothing reachable: the
// attribute says 0.
func TestNothingReachable(t *testing.T) {
	r := newRig(t, map[string]string{"host_list": closedPort(t), "dampen": "0", "attempts": "1"})
	r.want(ocf.Start, ocf.Success)
	r.wantAttr("pingd", "0")
	r.want(ocf.Monitor, ocf.Success)
	r.wantAttr("pingd", "0")
}

// Dampening: a changed value is set only once it has held for dampen;
// a blip shorter than that sets nothing.
func TestDampen(t *testing.T) {
	ln, addr := openPort(t)
	r := newRig(t, map[string]string{"host_list": addr, "dampen": "5s", "attempts": "1"})
	r.want(ocf.Start, ocf.Success) // no dampening on start
	r.wantAttr("pingd", "1")
	sets := r.attrs.count()

	// A blip: unreachable for 3 s, then back.
	ln.Close()
	r.want(ocf.Monitor, ocf.Success)
	r.wantAttr("pingd", "1")
	if !strings.Contains(r.out.String(), "0 must hold for 5s") {
		t.Errorf("monitor output %q: want the pending change named", r.out.String())
	}
	r.clock = r.clock.Add(3 * time.Second)
	r.want(ocf.Monitor, ocf.Success)
	r.wantAttr("pingd", "1")
	ln = relisten(t, addr)
	r.clock = r.clock.Add(3 * time.Second)
	r.want(ocf.Monitor, ocf.Success)
	r.wantAttr("pingd", "1")
	if n := r.attrs.count(); n != sets {
		t.Fatalf("a blip shorter than dampen set the attribute: %v", r.attrs.changes)
	}

	// A lasting change: set at the first monitor at or after 5 s.
	ln.Close()
	r.want(ocf.Monitor, ocf.Success) // first seen here
	for _, step := range []time.Duration{2 * time.Second, 2 * time.Second, 999 * time.Millisecond} {
		r.clock = r.clock.Add(step)
		r.want(ocf.Monitor, ocf.Success)
		r.wantAttr("pingd", "1")
	}
	r.clock = r.clock.Add(time.Millisecond)
	r.want(ocf.Monitor, ocf.Success)
	r.wantAttr("pingd", "0")
	if n := r.attrs.count(); n != sets+1 {
		t.Fatalf("changes %v: want exactly one more", r.attrs.changes)
	}
	r.want(ocf.Monitor, ocf.Success) // unchanged: nothing set
	if n := r.attrs.count(); n != sets+1 {
		t.Fatalf("an unchanged value was set again: %v", r.attrs.changes)
	}

	// dampen=0: a change is set at the monitor that sees it.
	relisten(t, addr)
	r.params["dampen"] = "0"
	r.want(ocf.Monitor, ocf.Success)
	r.wantAttr("pingd", "1")
}

// Stop deletes the attribute and forgets the instance; a lost attribute
// is set again by the next monitor.
func TestStopAndRepair(t *testing.T) {
	_, addr := openPort(t)
	r := newRig(t, map[string]string{"host_list": addr, "name": "reach", "multiplier": "10"})
	r.want(ocf.Start, ocf.Success)
	r.wantAttr("reach", "10")

	// The node's agent restarted: its transient attributes are gone.
	r.attrs.DeleteAttr("reach")
	r.want(ocf.Monitor, ocf.Success)
	r.wantAttr("reach", "10")

	r.want(ocf.Stop, ocf.Success)
	r.wantAttr("reach", "")
	if m, _ := filepath.Glob(filepath.Join(r.params["state_dir"], "*")); len(m) != 0 {
		t.Errorf("state left after stop: %v", m)
	}
	r.want(ocf.Monitor, ocf.NotRunning)
	r.want(ocf.Stop, ocf.Success) // stopped again: still fine
	if c := r.attrs.changes; c[len(c)-1] != "-reach" {
		t.Errorf("changes %v: want the last a delete", c)
	}
	// A stop with a configuration gone bad still cleans up.
	r.want(ocf.Start, ocf.Success)
	r.params["attempts"] = "many"
	r.want(ocf.Monitor, ocf.ErrConfigured)
	r.want(ocf.Stop, ocf.Success)
	r.wantAttr("reach", "")
	delete(r.params, "attempts")
	r.want(ocf.Monitor, ocf.NotRunning)
}

// Instances on different nodes sharing a state directory (nodes on one
// machine in tests) keep apart.
func TestInstancesApart(t *testing.T) {
	_, addr := openPort(t)
	r := newRig(t, map[string]string{"host_list": addr})
	r.want(ocf.Start, ocf.Success)
	a := &ocf.Action{Name: ocf.Monitor, Instance: "ping:0", Params: r.params, Meta: map[string]string{"on_node": "n2"}}
	if rc := r.ag.Run(context.Background(), a); rc != ocf.NotRunning {
		t.Fatalf("the same instance on n2: rc %d, want %d", rc, ocf.NotRunning)
	}
}

// Without a cluster the value is printed; the OCF executable sets it
// through the local agent's API when one answers on PACELINE_SOCKET.
func TestNoCluster(t *testing.T) {
	_, addr := openPort(t)
	params := map[string]string{"host_list": addr, "state_dir": t.TempDir(), "multiplier": "3"}
	run := func(ag *Agent, action string) (int, string) {
		var out bytes.Buffer
		rc := ag.Run(context.Background(), &ocf.Action{Name: action, Instance: "p", Params: params, Meta: map[string]string{}, Out: &out})
		return rc, out.String()
	}
	in := New()
	if rc, out := run(in, ocf.Start); rc != ocf.Success || !strings.Contains(out, "pingd=3 (no cluster") {
		t.Fatalf("start without a cluster: rc %d, output %q", rc, out)
	}
	if rc, _ := run(in, ocf.Stop); rc != ocf.Success {
		t.Fatalf("stop without a cluster: rc %d", rc)
	}

	dir := t.TempDir()
	sock := filepath.Join(dir, "agent.sock")
	env := map[string]string{EnvSocket: sock}
	ex := New(Executable(true))
	ex.getenv = func(k string) string { return env[k] }
	// No agent on the socket: printed.
	if rc, out := run(ex, ocf.Start); rc != ocf.Success || !strings.Contains(out, "no cluster") {
		t.Fatalf("start with no agent on %s: rc %d, output %q", sock, rc, out)
	}
	if rc, _ := run(ex, ocf.Stop); rc != ocf.Success {
		t.Fatal("stop with no agent")
	}

	// An agent's API on the socket (a stand-in serving the two
	// endpoints the agent uses).
	var mu sync.Mutex
	var reqs []api.AttrRequest
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/members", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(api.Members{Node: "n1"})
	})
	mux.HandleFunc("POST /v1/attrs", func(w http.ResponseWriter, r *http.Request) {
		var ar api.AttrRequest
		if err := json.NewDecoder(r.Body).Decode(&ar); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		reqs = append(reqs, ar)
		mu.Unlock()
		w.Write([]byte("{}"))
	})
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	if rc, out := run(ex, ocf.Start); rc != ocf.Success || strings.Contains(out, "no cluster") {
		t.Fatalf("start with an agent on %s: rc %d, output %q", sock, rc, out)
	}
	if rc, _ := run(ex, ocf.Stop); rc != ocf.Success {
		t.Fatal("stop with an agent")
	}
	mu.Lock()
	defer mu.Unlock()
	want := []api.AttrRequest{{Name: "pingd", Value: "3"}, {Name: "pingd", Delete: true}}
	if len(reqs) != len(want) || reqs[0] != want[0] || reqs[1] != want[1] {
		t.Fatalf("API requests %+v, want %+v", reqs, want)
	}
}

func TestObserve(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	s := state{Written: "2"}
	steps := []struct {
		v     string
		at    float64
		write string // "" = nothing set
	}{
		{"2", 0, ""},
		{"1", 1, ""},  // pending 1 since 1
		{"0", 2, ""},  // another value: pending 0 since 2
		{"0", 6, ""},  // held 4 s
		{"0", 7, "0"}, // held 5 s
		{"0", 8, ""},
		{"1", 9, ""},
		{"0", 10, ""}, // back before dampen: cancelled
		{"1", 11, ""},
		{"1", 5, ""}, // the clock stepped back: the wait starts again
		{"1", 10, "1"},
	}
	for i, st := range steps {
		var w bool
		s, w = s.observe(st.v, at(st.at), 5*time.Second)
		if w != (st.write != "") || (w && s.Written != st.write) {
			t.Fatalf("step %d %+v: write %v, state %+v", i, st, w, s)
		}
	}
	if s, w := (state{}).observe("3", t0, time.Hour); !w || s.Written != "3" {
		t.Errorf("nothing set yet: want the value set at once, got %v %+v", w, s)
	}
}

// The timeout cuts a probe of an unanswering target short; the monitor
// then fails rather than set a value it did not measure.
func TestCutShort(t *testing.T) {
	r := newRig(t, map[string]string{"host_list": closedPort(t), "attempts": "1"})
	r.want(ocf.Start, ocf.Success)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	rc := r.ag.Run(ctx, &ocf.Action{Name: ocf.Monitor, Instance: "ping:0", Params: r.params, Meta: map[string]string{"on_node": "n1"}, Attrs: r.attrs, Out: &out})
	if rc != ocf.ErrGeneric || !strings.Contains(out.String(), "cut short") {
		t.Fatalf("monitor with its context done: rc %d, output %q", rc, out.String())
	}
}

// ocf-tester (Debian's resource-agents) passes ocf:paceline:ping run as
// an OCF executable (`paceline ocf install`'s wrapper) with
// host_list=127.0.0.1.
func TestOCFTester(t *testing.T) {
	tester, err := exec.LookPath("ocf-tester")
	if err != nil {
		t.Skip("needs ocf-tester from Debian's resource-agents (make deps installs it)")
	}
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Skip("needs xmllint from libxml2-utils (make deps installs it)")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: ICMP echo through a raw socket")
	}
	bin, dir := buildPaceline(t)
	root := filepath.Join(dir, "ocf")
	if out, err := exec.Command(bin, "ocf", "install", "--root", root).CombinedOutput(); err != nil {
		t.Fatalf("paceline ocf install: %v\n%s", err, out)
	}
	state := filepath.Join(dir, "state")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tester, "-v", "-n", "ping1", "-o", "host_list=127.0.0.1", "-o", "state_dir="+state,
		filepath.Join(root, "resource.d/paceline/ping"))
	// No agent answers there: the attribute is printed, never set on a
	// cluster that happens to run on this machine.
	cmd.Env = append(os.Environ(), "OCF_ROOT="+root, EnvSocket+"="+filepath.Join(dir, "no-agent.sock"))
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	if err != nil || !strings.Contains(string(out), "passed all tests") {
		t.Fatalf("ocf-tester: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "pingd=1 (no cluster") {
		t.Errorf("ocf-tester's output does not show the value the agent would set:\n%s", out)
	}
	if m, _ := filepath.Glob(filepath.Join(state, "*")); len(m) != 0 {
		t.Errorf("state left after ocf-tester (it ends stopped): %v", m)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	t.Logf("ocf-tester: %s", lines[len(lines)-1])
}

// buildPaceline builds the paceline binary into a directory user nobody
// can enter (ocf-tester runs meta-data as nobody).
func buildPaceline(t *testing.T) (bin, dir string) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command to build paceline")
	}
	dir = t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin = filepath.Join(dir, "paceline")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/paceline").CombinedOutput(); err != nil {
		t.Fatalf("building paceline: %v\n%s", err, out)
	}
	return bin, dir
}

// ICMP echo both ways, in a network namespace the test makes: its own
// address (on one end of a veth pair) answers, another address of its
// subnet (nobody there: the other end has no address) does not. The
// agent runs as the OCF executable inside the namespace.
func TestICMPNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates a network namespace")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2's ip")
	}
	bin, dir := buildPaceline(t)
	ns := "plping" + strconv.Itoa(os.Getpid()%100000)
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	ip("netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	ip("-n", ns, "link", "set", "lo", "up")
	ip("-n", ns, "link", "add", "va", "type", "veth", "peer", "name", "vb")
	ip("-n", ns, "addr", "add", "192.0.2.1/24", "dev", "va")
	ip("-n", ns, "link", "set", "va", "up")
	ip("-n", ns, "link", "set", "vb", "up")
	run := func(action string) (int, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, bin, "ocf", "ping", action)
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"), "OCF_RESOURCE_INSTANCE=p1",
			"OCF_RESKEY_host_list=192.0.2.1 192.0.2.2", "OCF_RESKEY_multiplier=10",
			"OCF_RESKEY_attempts=2", "OCF_RESKEY_timeout=300ms",
			"OCF_RESKEY_state_dir=" + filepath.Join(dir, "state"),
			EnvSocket + "=" + filepath.Join(dir, "no-agent.sock"),
		}
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0, string(out)
		case errors.As(err, &ee) && ee.Exited():
			return ee.ExitCode(), string(out)
		}
		t.Fatalf("paceline ocf ping %s: %v: %s", action, err, out)
		return 0, ""
	}
	t0 := time.Now()
	rc, out := run(ocf.Start)
	if rc != ocf.Success || !strings.Contains(out, "pingd=10 (no cluster") || !strings.Contains(out, "1 of 2 targets reachable") {
		t.Fatalf("start: rc %d, output %q: want pingd=10, 1 of 2 targets", rc, out)
	}
	if d := time.Since(t0); d < 600*time.Millisecond {
		t.Errorf("start took %v: the unanswered target should have had 2 attempts of 300ms", d)
	}
	if rc, out := run(ocf.Stop); rc != ocf.Success {
		t.Fatalf("stop: rc %d: %s", rc, out)
	}
}
