package main

// End-to-end tests of the CLI: the real paceline binary, built once in
// TestMain, against a real single-node agent (paceline cluster init
// --local, then paceline agent) started by each test and stopped by its PID.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/cib/pacemaker"
)

// binary is the paceline executable TestMain built ("" if the build failed).
var binary string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "plbin")
	if err != nil {
		fmt.Fprintln(os.Stderr, "cli tests:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "paceline")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "cli tests: go build: %v\n%s", err, out)
		return 1
	}
	binary = bin
	return m.Run()
}

// result is what one run of the binary gave.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// runBinary runs paceline with args and no PACELINE_SOCKET in its env.
func runBinary(t *testing.T, args ...string) result {
	t.Helper()
	return runBinaryIn(t, "", args...)
}

// runBinaryIn runs the binary with stdin, without the caller's
// PACELINE_SOCKET.
func runBinaryIn(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "PACELINE_SOCKET=") {
			env = append(env, e)
		}
	}
	cmd.Env = env
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	r := result{stdout: so.String(), stderr: se.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run paceline %v: %v", args, err)
	}
	return r
}

// testAgent is one running single-node agent.
type testAgent struct {
	dir, socket, node string
}

// freePortPair finds a port p such that p (raft, TCP) and p+1 (gossip, TCP
// and UDP) are free on 127.0.0.1.
func freePortPair(t *testing.T) int {
	t.Helper()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port+1 > 65534 {
			continue
		}
		l2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+1))
		if err != nil {
			continue
		}
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port+1))
		l2.Close()
		if err != nil {
			continue
		}
		u.Close()
		return port
	}
	t.Fatal("no free pair of ports")
	return 0
}

// startAgent writes a one-node cluster (n1) and runs its agent until the
// test ends; it returns once the agent is leader and has registered n1.
func startAgent(t *testing.T) *testAgent {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a real agent")
	}
	dir, err := os.MkdirTemp("", "pl")
	if err == nil && len(dir) > 60 {
		// unix socket paths are limited to 108 bytes
		os.RemoveAll(dir)
		dir, err = os.MkdirTemp("/tmp", "pl")
	}
	if err != nil {
		t.Fatal(err)
	}
	port := freePortPair(t)
	if r := runBinary(t, "cluster", "init", "--dir", dir, "--local", fmt.Sprintf("n1=127.0.0.1:%d", port)); r.code != 0 {
		os.RemoveAll(dir)
		t.Fatalf("cluster init: %s", r)
	}
	// The tests create resources (a VIP on 192.0.2.100, ...) as
	// configuration only: they must never run on this host.
	if err := appendFile(filepath.Join(dir, "n1", "paceline.yaml"), "resources:\n  manage: false\n"); err != nil {
		t.Fatal(err)
	}
	a := &testAgent{dir: dir, socket: filepath.Join(dir, "n1", "paceline.sock"), node: "n1"}
	logf, err := os.Create(filepath.Join(dir, "agent.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "agent", "--config", filepath.Join(dir, "n1", "paceline.yaml"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logf.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logf.Name()); err == nil {
				t.Logf("agent log:\n%s", tail(string(b), 60))
			}
		}
		os.RemoveAll(dir)
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-done:
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("agent exited early: %v\n%s", err, tail(string(b), 40))
		default:
		}
		if a.ready(t) {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent not ready after 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ready reports whether the agent has a leader and has registered itself.
func (a *testAgent) ready(t *testing.T) bool {
	r := runBinary(t, "-s", a.socket, "cluster", "status", "-o", "json")
	if r.code != 0 {
		return false
	}
	var ci api.ClusterInfo
	if json.Unmarshal([]byte(r.stdout), &ci) != nil || ci.Leader == "" {
		return false
	}
	r = runBinary(t, "-s", a.socket, "config", "show", "-o", "json")
	var cfg cib.Config
	return r.code == 0 && json.Unmarshal([]byte(r.stdout), &cfg) == nil && cfg.Node(a.node) != nil
}

// run runs paceline against the agent.
func (a *testAgent) run(t *testing.T, args ...string) result {
	t.Helper()
	return runBinary(t, append([]string{"-s", a.socket}, args...)...)
}

// ok runs a command that must succeed and returns its stdout.
func (a *testAgent) ok(t *testing.T, args ...string) string {
	t.Helper()
	r := a.run(t, args...)
	if r.code != 0 {
		t.Fatalf("paceline %s: %s", strings.Join(args, " "), r)
	}
	return r.stdout
}

// fails runs a command that must exit with code and mention want on stderr.
func (a *testAgent) fails(t *testing.T, code int, want string, args ...string) result {
	t.Helper()
	r := a.run(t, args...)
	if r.code != code || !strings.Contains(r.stderr, want) {
		t.Fatalf("paceline %s: want exit %d and %q on stderr; got %s", strings.Join(args, " "), code, want, r)
	}
	return r
}

// json runs a command with -o json and decodes its output into v.
func (a *testAgent) json(t *testing.T, v any, args ...string) {
	t.Helper()
	out := a.ok(t, append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("paceline %s -o json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (a *testAgent) config(t *testing.T) *cib.Config {
	t.Helper()
	var c cib.Config
	a.json(t, &c, "config", "show")
	return &c
}

func contains(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Fatalf("%s: want %q in:\n%s", what, w, s)
		}
	}
}

func TestCLIResources(t *testing.T) {
	a := startAgent(t)

	// The example from the issue, flags after the words.
	a.ok(t, "resource", "create", "web-ip", "ocf:paceline:vip", "ip=192.0.2.100", "cidr_netmask=24", "op", "monitor", "interval=5s", "--group", "web")
	var res api.CommandResult
	a.json(t, &res, "resource", "create", "web-srv", "ocf:paceline:nginx", "op", "monitor", "interval=10s", "timeout=20s", "--group", "web")
	if res.Epoch == 0 {
		t.Fatalf("create -o json: no epoch in %+v", res)
	}
	a.ok(t, "resource", "create", "web-fs", "ocf:heartbeat:Dummy", "--group", "web", "--before", "web-srv", "--disabled")

	cfg := a.config(t)
	if g := cfg.Group("web"); g == nil || strings.Join(g.Members, ",") != "web-ip,web-fs,web-srv" {
		t.Fatalf("group web: %+v", cfg.Groups)
	}
	p := cfg.Primitive("web-ip")
	if p == nil || p.Params["ip"] != "192.0.2.100" || len(p.Ops) != 1 || p.Ops[0].Interval.D() != 5*time.Second {
		t.Fatalf("web-ip: %+v", p)
	}
	if cfg.Primitive("web-fs").Meta["target-role"] != "Stopped" {
		t.Fatalf("--disabled: %+v", cfg.Primitive("web-fs"))
	}

	// update: unset a param, set meta, replace the monitor
	a.ok(t, "resource", "update", "web-ip", "cidr_netmask=", "meta", "priority=5", "op", "monitor", "interval=7s", "timeout=15s")
	var v resourceView
	a.json(t, &v, "resource", "show", "web-ip")
	if v.Kind != cib.KindPrimitive || v.InGroup != "web" || v.Primitive == nil ||
		v.Primitive.Params["cidr_netmask"] != "" || v.Primitive.Meta["priority"] != "5" ||
		len(v.Primitive.Ops) != 1 || v.Primitive.Ops[0].Interval.D() != 7*time.Second {
		t.Fatalf("show web-ip after update: %+v", v)
	}
	out := a.ok(t, "resource", "show", "web-ip")
	contains(t, "show web-ip", out, "Resource: web-ip (class=ocf provider=paceline type=vip)", "Attributes: ip=192.0.2.100",
		"Meta Attrs: priority=5", "monitor interval=7s timeout=15s", "In group: web")

	// op add / op remove / op-remove
	a.ok(t, "resource", "op", "add", "web-ip", "start", "timeout=30s")
	a.ok(t, "resource", "op", "add", "web-ip", "monitor", "interval=60s", "timeout=30s")
	if ops := a.config(t).Primitive("web-ip").Ops; len(ops) != 3 {
		t.Fatalf("after op add: %+v", ops)
	}
	a.fails(t, 1, "exists already", "resource", "op", "add", "web-ip", "start", "timeout=30s")
	a.ok(t, "resource", "op", "remove", "web-ip", "start")
	a.ok(t, "resource", "op-remove", "web-ip", "monitor")
	if ops := a.config(t).Primitive("web-ip").Ops; len(ops) != 0 {
		t.Fatalf("after op remove: %+v", ops)
	}
	a.fails(t, 1, "no monitor op", "resource", "op-remove", "web-ip", "monitor")

	// meta, on a group
	a.ok(t, "resource", "meta", "web", "resource-stickiness=50")
	if m := a.config(t).Group("web").Meta; m["resource-stickiness"] != "50" {
		t.Fatalf("group meta: %+v", m)
	}

	// group remove and add --before / --after
	a.ok(t, "resource", "group", "remove", "web", "web-fs")
	a.ok(t, "resource", "group", "add", "web", "web-fs", "--before", "web-ip")
	if g := a.config(t).Group("web"); strings.Join(g.Members, ",") != "web-fs,web-ip,web-srv" {
		t.Fatalf("after group add --before: %v", g.Members)
	}
	a.ok(t, "resource", "group", "add", "web", "web-fs", "--after", "web-srv")
	if g := a.config(t).Group("web"); strings.Join(g.Members, ",") != "web-ip,web-srv,web-fs" {
		t.Fatalf("after group add --after: %v", g.Members)
	}
	contains(t, "group list", a.ok(t, "resource", "group", "list"), "web: web-ip web-srv web-fs")

	// clones: create --clone, --promotable, clone, promotable, unclone
	a.ok(t, "resource", "create", "ping", "ocf:paceline:ping", "host_list=192.0.2.1", "--clone")
	// ops in a promoted role are only valid once the clone exists: sent after it
	a.ok(t, "resource", "create", "redis", "ocf:paceline:redis", "--promotable", "op", "monitor", "interval=5s", "role=Promoted",
		"monitor", "interval=6s", "role=Unpromoted")
	a.ok(t, "resource", "create", "d1", "ocf:heartbeat:Dummy")
	a.ok(t, "resource", "clone", "d1", "clone-max=2", "--id", "d1-set")
	a.ok(t, "resource", "create", "d2", "ocf:heartbeat:Dummy")
	a.ok(t, "resource", "promotable", "d2", "promoted-max=1")
	cfg = a.config(t)
	for _, c := range []struct {
		id, rsc    string
		promotable bool
	}{{"ping-clone", "ping", false}, {"redis-clone", "redis", true}, {"d1-set", "d1", false}, {"d2-clone", "d2", true}} {
		cl := cfg.CloneByID(c.id)
		if cl == nil || cl.Rsc != c.rsc || cl.Promotable != c.promotable {
			t.Fatalf("clone %s: %+v", c.id, cfg.Clones)
		}
	}
	if ops := cfg.Primitive("redis").Ops; len(ops) != 2 || ops[0].Role != "Promoted" || ops[1].Role != "Unpromoted" {
		t.Fatalf("redis ops: %+v", ops)
	}
	if cfg.CloneByID("d1-set").Meta["clone-max"] != "2" {
		t.Fatalf("clone meta: %+v", cfg.CloneByID("d1-set"))
	}
	a.json(t, &v, "resource", "show", "redis-clone")
	if v.Kind != cib.KindClone || v.Clone == nil || !v.Clone.Promotable || v.Primitive == nil || v.Primitive.ID != "redis" {
		t.Fatalf("show redis-clone: %+v", v)
	}
	a.ok(t, "resource", "unclone", "d1-set")
	a.ok(t, "resource", "unclone", "d2") // the inner id works too
	if cfg = a.config(t); cfg.CloneByID("d1-set") != nil || cfg.CloneByID("d2-clone") != nil || cfg.Primitive("d1") == nil {
		t.Fatalf("after unclone: %+v", cfg.Clones)
	}

	// A clone that cannot be made: nothing is created (one change).
	a.ok(t, "resource", "create", "x-clone", "ocf:heartbeat:Dummy")
	a.fails(t, 1, `"x-clone" is already used`, "resource", "create", "x", "ocf:heartbeat:Dummy", "--clone")
	if a.config(t).Primitive("x") != nil {
		t.Fatal("x was left behind after its clone failed")
	}

	// list, text and JSON
	out = a.ok(t, "resource", "list")
	contains(t, "resource list", out, "* Resource Group: web", "  * web-ip", "(ocf:paceline:vip)", "* Clone Set: ping-clone [ping]",
		"* Clone Set (promotable): redis-clone [redis]", "* web-fs", "(disabled)", "* d1")
	var lv resourceListView
	a.json(t, &lv, "resource", "list")
	if len(lv.Primitives) != 8 || len(lv.Groups) != 1 || len(lv.Clones) != 2 {
		t.Fatalf("resource list -o json: %d primitives, %d groups, %d clones", len(lv.Primitives), len(lv.Groups), len(lv.Clones))
	}
	contains(t, "resource show web", a.ok(t, "resource", "show", "web"), "Group: web", "Meta Attrs: resource-stickiness=50", "  Resource: web-srv")

	// defaults
	a.ok(t, "resource", "defaults", "resource-stickiness=100", "migration-threshold=3")
	var defs map[string]string
	a.json(t, &defs, "resource", "defaults")
	if defs["resource-stickiness"] != "100" || defs["migration-threshold"] != "3" {
		t.Fatalf("defaults: %v", defs)
	}
	a.ok(t, "resource", "defaults", "update", "migration-threshold=")
	contains(t, "defaults", a.ok(t, "resource", "defaults"), "Resource Defaults:", "resource-stickiness=100")
	if _, ok := a.config(t).ResourceDefaults["migration-threshold"]; ok {
		t.Fatal("defaults: migration-threshold not unset")
	}

	// dry run changes nothing
	epoch := a.config(t).Epoch
	contains(t, "dry run", a.ok(t, "resource", "create", "dry", "ocf:heartbeat:Dummy", "--dry-run"), "Dry run")
	contains(t, "dry run", a.ok(t, "resource", "create", "dry", "ocf:heartbeat:Dummy", "--clone", "--dry-run"), "Dry run")
	if cfg := a.config(t); cfg.Epoch != epoch || cfg.Primitive("dry") != nil {
		t.Fatalf("dry run changed the configuration: epoch %d -> %d", epoch, cfg.Epoch)
	}

	// delete a group: members and constraints go, with notes
	a.ok(t, "constraint", "location", "web-srv", "prefers", "n1")
	out = a.ok(t, "resource", "delete", "web")
	contains(t, "delete web", out, "Deleted resource 'web'", "web-ip", "location-web-srv-n1-INFINITY")
	if cfg := a.config(t); cfg.Group("web") != nil || cfg.Primitive("web-ip") != nil || len(cfg.Constraints.Location) != 0 {
		t.Fatalf("after delete web: %+v", cfg)
	}

	// agent-side rejections
	a.fails(t, 1, "already used", "resource", "create", "d1", "ocf:heartbeat:Dummy")
	a.fails(t, 1, "nosuch", "resource", "update", "nosuch", "a=1")
	a.fails(t, 1, "nosuch", "resource", "delete", "nosuch")
	a.fails(t, 1, "nosuch", "resource", "show", "nosuch")
	a.fails(t, 1, "nosuch", "resource", "group", "add", "g2", "nosuch")
}

func TestCLIConstraints(t *testing.T) {
	a := startAgent(t)
	for _, id := range []string{"web", "db", "ping"} {
		a.ok(t, "resource", "create", id, "ocf:heartbeat:Dummy")
	}
	a.ok(t, "resource", "promotable", "db")

	out := a.ok(t, "constraint", "location", "web", "prefers", "n1=100")
	contains(t, "prefers", out, "location-web-n1-100")
	a.ok(t, "constraint", "location", "web", "avoids", "n1") // a second, differently scored, same node
	a.ok(t, "constraint", "location", "web", "prefers", "n1=100")
	a.ok(t, "constraint", "location", "add", "ban-ping", "ping", "n1", "-INFINITY")
	a.ok(t, "constraint", "location", "add", "db-prom", "db-clone", "n1", "50", "role=Promoted")
	a.ok(t, "constraint", "location", "add", "loc-pingd", "web", "rule", "score=-INFINITY", "not_defined", "pingd", "or", "pingd", "lt", "1")
	a.ok(t, "constraint", "location", "add", "loc-attr", "web", "rule", "score-attribute=pingd", "defined", "pingd")
	a.ok(t, "constraint", "location", "ping", "rule", "#uname", "eq", "n1")
	a.ok(t, "constraint", "colocation", "add", "web", "with", "Promoted", "db-clone")
	a.ok(t, "constraint", "colocation", "add", "ping", "with", "web", "-INFINITY", "id=apart")
	a.ok(t, "constraint", "order", "add", "promote", "db-clone", "then", "start", "web", "kind=optional")
	a.ok(t, "constraint", "order", "ping", "then", "web")
	var added addedView
	a.json(t, &added, "constraint", "order", "add", "stop", "web", "then", "stop", "ping", "kind=serialize", "id=ser")
	if len(added.Added.Order) != 1 || added.Added.Order[0].ID != "ser" || added.Epoch == 0 {
		t.Fatalf("order add -o json: %+v", added)
	}

	var cs cib.Constraints
	a.json(t, &cs, "constraint", "list")
	ids := func() []string {
		var out []string
		for _, l := range cs.Location {
			out = append(out, l.ID)
		}
		for _, c := range cs.Colocation {
			out = append(out, c.ID)
		}
		for _, o := range cs.Order {
			out = append(out, o.ID)
		}
		return out
	}
	want := "location-web-n1-100,location-web-n1--INFINITY,location-web-n1-100-1,ban-ping,db-prom,loc-pingd,loc-attr,location-ping," +
		"colocation-web-db-clone-INFINITY,apart,order-db-clone-web-optional,order-ping-web-mandatory,ser"
	if got := strings.Join(ids(), ","); got != want {
		t.Fatalf("constraint ids:\n got %s\nwant %s", got, want)
	}
	byID := map[string]cib.Location{}
	for _, l := range cs.Location {
		byID[l.ID] = l
	}
	if l := byID["loc-pingd"]; l.Rule != "not_defined pingd or pingd lt 1" || l.Score != -cib.Infinity {
		t.Fatalf("loc-pingd: %+v", l)
	}
	if l := byID["db-prom"]; l.Role != "Promoted" || l.Score != 50 {
		t.Fatalf("db-prom: %+v", l)
	}
	if c := cs.Colocation[0]; c.WithRscRole != "Promoted" || c.Score != cib.Infinity {
		t.Fatalf("colocation: %+v", c)
	}
	if o := cs.Order[0]; o.FirstAction != "promote" || o.Kind != "optional" || !o.Symmetrical {
		t.Fatalf("order: %+v", o)
	}

	out = a.ok(t, "constraint")
	contains(t, "constraint", out, "Location Constraints:", "resource 'web' prefers node 'n1' with score 100 (id: location-web-n1-100)",
		"resource 'ping' avoids node 'n1' with score -INFINITY (id: ban-ping)", "Promoted resource 'db-clone' prefers node 'n1'",
		"rule with score -INFINITY: not_defined pingd or pingd lt 1 (id: loc-pingd)",
		"Colocation Constraints:", "resource 'ping' with resource 'web' with score -INFINITY (id: apart)",
		"Order Constraints:", "promote resource 'db-clone' then start resource 'web' (kind: optional) (id: order-db-clone-web-optional)")
	out = a.ok(t, "constraint", "colocation")
	if strings.Contains(out, "Location") || !strings.Contains(out, "Colocation Constraints:") {
		t.Fatalf("constraint colocation lists other kinds:\n%s", out)
	}
	var only cib.Constraints
	a.json(t, &only, "constraint", "list", "order")
	if len(only.Order) != 3 || len(only.Location)+len(only.Colocation) != 0 {
		t.Fatalf("constraint list order -o json: %+v", only)
	}

	// delete: any kind, kind-checked
	a.ok(t, "constraint", "delete", "apart", "ser")
	a.ok(t, "constraint", "location", "delete", "ban-ping")
	a.fails(t, 1, `is a order constraint, not a location constraint`, "constraint", "location", "delete", "order-ping-web-mandatory")
	a.ok(t, "constraint", "order", "remove", "order-ping-web-mandatory")
	a.fails(t, 1, "nosuch", "constraint", "delete", "nosuch")
	cs = cib.Constraints{}
	a.json(t, &cs, "constraint", "list")
	if strings.Contains(strings.Join(ids(), ","), "apart") || len(cs.Order) != 1 || len(cs.Location) != 7 {
		t.Fatalf("after deletes: %v", ids())
	}

	// agent-side rejections: unknown resource, duplicate id
	epoch := a.config(t).Epoch
	a.fails(t, 1, "nosuch", "constraint", "location", "add", "l-x", "nosuch", "n1", "10")
	a.fails(t, 1, "db-prom", "constraint", "location", "add", "db-prom", "web", "n1", "10")
	a.fails(t, 1, "nosuch", "constraint", "colocation", "add", "web", "with", "nosuch")
	a.fails(t, 1, "nosuch", "constraint", "order", "nosuch", "then", "web")
	a.fails(t, 1, "nosuch", "constraint", "location", "nosuch", "prefers", "n1")
	if e := a.config(t).Epoch; e != epoch {
		t.Fatalf("refused constraints changed the epoch: %d -> %d", epoch, e)
	}
}

func TestCLIProperties(t *testing.T) {
	a := startAgent(t)
	a.ok(t, "property", "set", "no-quorum-policy=freeze", "cluster-name=test")
	var props map[string]string
	a.json(t, &props, "property", "list")
	if props["no-quorum-policy"] != "freeze" || props["cluster-name"] != "test" {
		t.Fatalf("property list: %v", props)
	}
	contains(t, "property", a.ok(t, "property"), "Cluster Properties:", "no-quorum-policy=freeze")
	a.ok(t, "property", "unset", "cluster-name")
	a.ok(t, "property", "set", "no-quorum-policy=")
	props = nil
	a.json(t, &props, "property", "list")
	if len(props) != 0 {
		t.Fatalf("after unset: %v", props)
	}
	a.ok(t, "property", "set", "stonith-enabled=true")
	var all []propertyView
	a.json(t, &all, "property", "list", "--all")
	found := 0
	for _, p := range all {
		switch p.Name {
		case "stonith-enabled":
			found++
			if !p.Set || p.Value != "true" || p.Default != "false" {
				t.Fatalf("stonith-enabled in --all: %+v", p)
			}
		case "no-quorum-policy":
			found++
			if p.Set || p.Value != "stop" {
				t.Fatalf("no-quorum-policy in --all: %+v", p)
			}
		}
	}
	if found != 2 || len(all) < 10 {
		t.Fatalf("property list --all: %d rows, found %d", len(all), found)
	}
	contains(t, "list --all", a.ok(t, "property", "list", "--all"), "stonith-enabled=true", "(set; default false)", "no-quorum-policy=stop", "(default)")

	// refused early, before the agent: exit 2
	a.fails(t, 2, `"no-quorum-polcy": unknown property; did you mean "no-quorum-policy"`, "property", "set", "no-quorum-polcy=stop")
	a.fails(t, 2, "no-quorum-policy", "property", "set", "no-quorum-policy=sometimes")
}

func TestCLINodes(t *testing.T) {
	a := startAgent(t)
	a.ok(t, "node", "attribute", "n1", "rack=r1", "pingd=100")
	var attrs map[string]string
	a.json(t, &attrs, "node", "attribute", "n1")
	if attrs["rack"] != "r1" || attrs["pingd"] != "100" {
		t.Fatalf("node attribute n1: %v", attrs)
	}
	contains(t, "node attribute", a.ok(t, "node", "attribute"), "Node Attributes:", "n1: pingd=100 rack=r1")
	a.ok(t, "node", "attribute", "n1", "pingd=")
	a.ok(t, "node", "utilization", "n1", "cpu=8", "memory=2048")
	a.ok(t, "node", "standby", "n1")
	a.ok(t, "node", "maintenance") // this node
	var nodes []cib.Node
	a.json(t, &nodes, "node", "list")
	if len(nodes) != 1 {
		t.Fatalf("node list: %+v", nodes)
	}
	n := nodes[0]
	if n.Name != "n1" || !n.Standby || !n.Maintenance || n.Attributes["pingd"] != "" || n.Attributes["rack"] != "r1" || n.Utilization["cpu"] != 8 {
		t.Fatalf("node n1: %+v", n)
	}
	contains(t, "node list", a.ok(t, "node", "list"), "NODE", "n1", "standby,maintenance", "rack=r1", "cpu=8 memory=2048")
	a.ok(t, "node", "unstandby", "--all")
	a.ok(t, "node", "unmaintenance", "n1")
	if n := a.config(t).Node("n1"); n.Standby || n.Maintenance {
		t.Fatalf("after unstandby/unmaintenance: %+v", n)
	}
	a.fails(t, 1, "n9", "node", "standby", "n9")
	a.fails(t, 1, "n9", "node", "attribute", "n9")
	a.fails(t, 2, "want an integer", "node", "utilization", "n1", "cpu=many")

	// Transient attributes: gossiped, set on the node itself.
	a.ok(t, "node", "attribute", "--transient", "n1", "pingd=1000", "master-db=5")
	var tr map[string]map[string]string
	a.json(t, &tr, "node", "attribute", "--transient")
	if tr["n1"]["pingd"] != "1000" || tr["n1"]["master-db"] != "5" {
		t.Fatalf("transient attributes: %v", tr)
	}
	a.ok(t, "node", "attribute", "--transient", "n1", "pingd=")
	a.json(t, &tr, "node", "attribute", "--transient", "n1")
	if _, ok := tr["n1"]["pingd"]; ok || tr["n1"]["master-db"] != "5" {
		t.Fatalf("after deleting pingd: %v", tr)
	}
	a.fails(t, 1, "set on that node itself", "node", "attribute", "--transient", "n2", "x=1")
	contains(t, "status --attrs", a.ok(t, "status", "--attrs"), "Members:", "n1", "alive", "Transient attributes:", "master-db=5")
}

func TestCLIConfigExportImport(t *testing.T) {
	a := startAgent(t)
	a.ok(t, "resource", "create", "web-ip", "ocf:paceline:vip", "ip=192.0.2.100", "op", "monitor", "interval=5s", "--group", "web")
	a.ok(t, "resource", "create", "db", "ocf:heartbeat:Dummy", "meta", "resource-stickiness=100")
	a.ok(t, "constraint", "order", "db", "then", "web")
	a.ok(t, "constraint", "colocation", "add", "web", "with", "db")
	a.ok(t, "property", "set", "no-quorum-policy=freeze")
	a.ok(t, "resource", "defaults", "resource-stickiness=10")
	a.ok(t, "node", "attribute", "n1", "rack=r1")
	before := a.config(t)

	// export to a file (yaml) and to stdout (json)
	yamlFile := filepath.Join(a.dir, "export.yaml")
	a.ok(t, "config", "export", "--file", yamlFile)
	data, err := os.ReadFile(yamlFile)
	if err != nil {
		t.Fatal(err)
	}
	contains(t, "export yaml", string(data), "web-ip", "no-quorum-policy: freeze")
	jsonOut := a.ok(t, "config", "export", "--format", "json")
	var exported cib.Config
	if err := json.Unmarshal([]byte(jsonOut), &exported); err != nil || exported.Primitive("db") == nil {
		t.Fatalf("export json: %v\n%s", err, jsonOut)
	}
	jsonFile := filepath.Join(a.dir, "export.cfg") // no extension: sniffed
	if err := os.WriteFile(jsonFile, []byte(jsonOut), 0o600); err != nil {
		t.Fatal(err)
	}

	// delete things, then a dry-run import shows the counts and changes nothing
	a.ok(t, "resource", "delete", "db")
	a.ok(t, "property", "unset", "no-quorum-policy")
	epoch := a.config(t).Epoch
	out := a.ok(t, "config", "import", yamlFile, "--dry-run")
	contains(t, "import dry run", out, "Would import", "primitives:", "1 added", "order constraints:", "properties:")
	var iv importView
	a.json(t, &iv, "config", "import", yamlFile, "--dry-run")
	if !iv.DryRun || len(iv.Changes) == 0 {
		t.Fatalf("import --dry-run -o json: %+v", iv)
	}
	if e := a.config(t).Epoch; e != epoch {
		t.Fatalf("dry-run import changed the epoch: %d -> %d", epoch, e)
	}

	// the real import restores what was exported
	contains(t, "import", a.ok(t, "config", "import", yamlFile), "Imported")
	after := a.config(t)
	if after.Epoch != epoch+1 {
		t.Fatalf("import: epoch %d, want %d", after.Epoch, epoch+1)
	}
	if x, y := comparable(before), comparable(after); x != y {
		t.Fatalf("round trip differs:\nbefore %s\nafter  %s", x, y)
	}
	// the JSON export imports too, and changes nothing
	out = a.ok(t, "config", "import", jsonFile)
	contains(t, "import json", out, "no changes")
	if x, y := comparable(before), comparable(a.config(t)); x != y {
		t.Fatalf("json round trip differs:\nbefore %s\nafter  %s", x, y)
	}

	// invalid files are refused with their message; nothing changes
	epoch = a.config(t).Epoch
	bad := filepath.Join(a.dir, "bad.yaml")
	os.WriteFile(bad, []byte("primitives:\n  - id: a\n    agent: ocf:heartbeat:Dummy\ngroups:\n  - id: g\n    members: [nosuch]\n"), 0o600)
	a.fails(t, 1, "nosuch", "config", "import", bad)
	a.fails(t, 1, "nosuch", "config", "import", bad, "--dry-run")
	garbled := filepath.Join(a.dir, "garbled.json")
	os.WriteFile(garbled, []byte(`{"primitives": [`), 0o600)
	a.fails(t, 1, "garbled.json", "config", "import", garbled)
	a.fails(t, 1, "no such file", "config", "import", filepath.Join(a.dir, "missing.yaml"))
	if e := a.config(t).Epoch; e != epoch {
		t.Fatalf("refused imports changed the epoch: %d -> %d", epoch, e)
	}

	// config show: the readable summary
	out = a.ok(t, "config", "show")
	contains(t, "config show", out, "Nodes:", "  n1", "Attributes: rack=r1", "Resources:", "Group: web", "Resource: db",
		"Order Constraints:", "Resource Defaults:", "resource-stickiness=10", "Cluster Properties:", "no-quorum-policy=freeze")
	a.fails(t, 2, "bad --format", "config", "export", "--format", "xml")
}

// The Pacemaker CIBs of cib/pacemaker's tests, relative to this package.
const (
	// debianCIB was made with Debian's pacemaker tools (crm_verify-clean).
	debianCIB = "../../cib/pacemaker/testdata/debian-cib.xml"
	// unsupportedCIB holds what Paceline does not model; app and vm1 remain.
	unsupportedCIB = "../../cib/pacemaker/testdata/import/unsupported.xml"
)

// TestCLIConfigPacemaker imports Pacemaker CIBs into a running agent
// (files and stdin, --dry-run, --skip-unsupported, the report on stderr
// and in -o json) and exports the configuration as a CIB.
func TestCLIConfigPacemaker(t *testing.T) {
	a := startAgent(t)
	epoch := a.config(t).Epoch

	// unsupported objects: refused, the report on stderr, nothing changes
	r := a.run(t, "config", "import", "--from", "pacemaker", unsupportedCIB)
	if r.code != 1 || r.stdout != "" {
		t.Fatalf("import of unsupported objects: want exit 1; got %s", r)
	}
	contains(t, "import unsupported stderr", r.stderr, "Not supported (", `<bundle "httpd-bundle">`, `<rsc_ticket "app-ticket">`,
		"Error: config import "+unsupportedCIB, "--skip-unsupported")
	// the same with -o json: the report stays on stderr, in text
	r = a.run(t, "config", "import", "--from", "pacemaker", unsupportedCIB, "-o", "json")
	if r.code != 1 || !strings.Contains(r.stderr, `<bundle "httpd-bundle">`) {
		t.Fatalf("import of unsupported objects -o json: %s", r)
	}
	if e := a.config(t).Epoch; e != epoch {
		t.Fatalf("a refused import changed the epoch: %d -> %d", epoch, e)
	}

	// --skip-unsupported --dry-run -o json: the report in the JSON, nothing
	// on stderr, nothing applied
	var iv importView
	a.json(t, &iv, "config", "import", "--from", "pacemaker", "--skip-unsupported", "--dry-run", unsupportedCIB)
	if !iv.DryRun || iv.Report == nil || len(iv.Report.Unsupported) == 0 || len(iv.Changes) == 0 {
		t.Fatalf("import --skip-unsupported --dry-run -o json: %+v", iv)
	}
	if it := iv.Report.Unsupported[0]; it.Element == "" || it.Line == 0 || it.What == "" {
		t.Errorf("a report item without element, line or what: %+v", it)
	}
	r = a.run(t, "config", "import", "--from", "pacemaker", "--skip-unsupported", "--dry-run", unsupportedCIB, "-o", "json")
	if r.code != 0 || r.stderr != "" {
		t.Errorf("-o json: the report goes in the JSON only; got %s", r)
	}
	// text --dry-run: the report on stderr, the counts on stdout
	r = a.run(t, "config", "import", "--from", "pacemaker", "--skip-unsupported", "--dry-run", unsupportedCIB)
	if r.code != 0 {
		t.Fatalf("import --skip-unsupported --dry-run: %s", r)
	}
	contains(t, "dry run stdout", r.stdout, "Would import "+unsupportedCIB, "primitives:", "Dry run:")
	contains(t, "dry run stderr", r.stderr, "Not supported (", "Notes (")
	if e := a.config(t).Epoch; e != epoch {
		t.Fatalf("a dry run changed the epoch: %d -> %d", epoch, e)
	}

	// the real import, with --skip-unsupported: what remains
	r = a.run(t, "config", "import", "--from", "pacemaker", "--skip-unsupported", unsupportedCIB)
	if r.code != 0 {
		t.Fatalf("import --skip-unsupported: %s", r)
	}
	contains(t, "import stdout", r.stdout, "Imported "+unsupportedCIB)
	contains(t, "import stderr", r.stderr, "Not supported (", `<group "mixed">`)
	cfg := a.config(t)
	if cfg.Epoch != epoch+1 || cfg.Primitive("app") == nil || cfg.Primitive("vm1") == nil || cfg.Group("mixed") != nil ||
		len(cfg.Constraints.Order)+len(cfg.Constraints.Colocation) != 0 {
		t.Fatalf("after import --skip-unsupported: %s", comparable(cfg))
	}

	// a CIB from Debian's tools, from stdin: nothing unsupported
	data, err := os.ReadFile(debianCIB)
	if err != nil {
		t.Fatal(err)
	}
	r = runBinaryIn(t, string(data), "-s", a.socket, "config", "import", "--from", "pacemaker", "-")
	if r.code != 0 || strings.Contains(r.stderr, "Not supported") {
		t.Fatalf("import - of %s: %s", debianCIB, r)
	}
	contains(t, "import - stdout", r.stdout, "Imported -:", "primitives:")
	contains(t, "import - stderr", r.stderr, "Notes (", "dc-version")
	want, _, err := pacemaker.Import(bytes.NewReader(data), pacemaker.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := a.config(t)
	if got.Primitive("redis") == nil || got.Group("web") == nil || got.CloneByID("redis-clone") == nil || len(got.FenceDevices) != 1 {
		t.Fatalf("after importing %s: %s", debianCIB, comparable(got))
	}
	// the agent keeps the node it registered; the rest is the CIB's
	got.Nodes, want.Nodes = nil, nil
	if x, y := comparable(got), comparable(want); x != y {
		t.Fatalf("the agent's configuration is not the import's:\nagent  %s\nimport %s", x, y)
	}

	// export --to pacemaker: a CIB that imports back to the same
	// configuration, on stdout and to a file
	before := a.config(t)
	xml := a.ok(t, "config", "export", "--to", "pacemaker")
	if !strings.HasPrefix(xml, "<?xml") || !strings.Contains(xml, "\n<cib ") || !strings.Contains(xml, "<configuration>") {
		t.Fatalf("export --to pacemaker:\n%s", xml)
	}
	back, rep, err := pacemaker.Import(strings.NewReader(xml), pacemaker.ImportOptions{})
	if err != nil {
		t.Fatalf("import of the export: %v\n%s", err, rep)
	}
	if x, y := comparable(back), comparable(before); x != y {
		t.Fatalf("export --to pacemaker does not import back:\nexport %s\nagent  %s", x, y)
	}
	file := filepath.Join(a.dir, "cib.xml")
	r = a.run(t, "config", "export", "--to", "pacemaker", "--file", file)
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "Wrote the configuration") {
		t.Fatalf("export --to pacemaker --file: %s", r)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != xml {
		t.Fatalf("export --file: %v; the file differs from stdout's export", err)
	}
	// and the file imports into the agent without a change
	contains(t, "re-import", a.ok(t, "config", "import", "--from", "pacemaker", file), "no changes")
	if x, y := comparable(before), comparable(a.config(t)); x != y {
		t.Fatalf("re-import changed the configuration:\nbefore %s\nafter  %s", x, y)
	}

	// bad input: an error naming the element and line; nothing changes
	epoch = a.config(t).Epoch
	malformed := filepath.Join(a.dir, "bad.xml")
	os.WriteFile(malformed, []byte("<cib><configuration><resources><primitive id=\"x\"></resources></configuration></cib>"), 0o600)
	a.fails(t, 1, "malformed XML", "config", "import", "--from", "pacemaker", malformed)
	a.fails(t, 1, `<primitive id="a">`, "config", "import", "--from", "pacemaker", "../../cib/pacemaker/testdata/bad/ocf-without-provider.xml")
	a.fails(t, 1, "no such file", "config", "import", "--from", "pacemaker", filepath.Join(a.dir, "missing.xml"))
	if e := a.config(t).Epoch; e != epoch {
		t.Fatalf("refused imports changed the epoch: %d -> %d", epoch, e)
	}
}

// comparable renders a configuration without its epoch and last change.
func comparable(c *cib.Config) string {
	n := c.Clone()
	n.Epoch, n.LastChange = 0, nil
	b, _ := json.Marshal(n)
	return string(b)
}

func TestCLIStatus(t *testing.T) {
	a := startAgent(t)
	a.ok(t, "resource", "create", "d", "ocf:heartbeat:Dummy")
	out := a.ok(t, "status")
	contains(t, "status", out, "Node: n1 (Leader)", "Leader: n1", "Epoch:", "Raft servers:", "voter, leader", "1 primitive(s)")
	var st statusView
	a.json(t, &st, "status")
	if st.Cluster == nil || st.Cluster.Node != "n1" || st.Cluster.Leader == "" || len(st.Cluster.Servers) != 1 ||
		!st.Cluster.Servers[0].Voter || st.Counts.Primitives != 1 || st.Counts.Nodes != 1 {
		t.Fatalf("status -o json: %+v", st)
	}
}

// TestCLIUsageErrors needs no agent: bad words are refused before any
// request, with exit status 2 and a message naming the problem.
func TestCLIUsageErrors(t *testing.T) {
	nowhere := filepath.Join(t.TempDir(), "none.sock")
	cases := []struct {
		args string
		want string
	}{
		{"resource create web-ip vip ip=1", "ocf:paceline:vip"},
		{"resource create x ocf:heartbeat:Dummy state", `got "state"`},
		{"resource create x ocf:heartbeat:Dummy op monitor interval=fast", `bad duration "fast"`},
		{"resource create x ocf:heartbeat:Dummy op monitor depth=1", `unknown option "depth"`},
		{"resource create x ocf:heartbeat:Dummy --before y", "need --group"},
		{"resource create x ocf:heartbeat:Dummy --group g --clone", "cannot be cloned"},
		{"resource create x", "want ID AGENT"},
		{"resource create x ocf:heartbeat:Dummy --nope", "unknown flag: --nope"},
		{"resource update x", "nothing to update"},
		{"resource frobnicate", `unknown subcommand "frobnicate"`},
		{"resource group add g", "want GROUP RESOURCE"},
		{"resource delete", "want ID"},
		{"constraint location add l1 web n1 abc", `bad score "abc"`},
		{"constraint location add l1 web n1 10 role=Leader", `unknown role "Leader"`},
		{"constraint location web likes n1", "expected prefers, avoids or rule"},
		{"constraint location add l1 web rule", "no expression"},
		{"constraint colocation add web db", `missing "with"`},
		{"constraint colocation web with db", `unknown subcommand "web"`},
		{"constraint order web db", `missing "then"`},
		{"constraint order add db then web kind=sometimes", `bad kind "sometimes"`},
		{"constraint list everything", `unknown kind "everything"`},
		{"constraint delete", "give the id"},
		{"property set quorum", `expected key=value, got "quorum"`},
		{"property unset a=b", "expected a name"},
		{"node utilization n1 cpu=lots", "want an integer"},
		{"config import", "want FILE"},
		{"config import cib.xml --from crm", `bad --from "crm"`},
		{"config import cfg.yaml --skip-unsupported", "--skip-unsupported is for --from pacemaker"},
		{"config import a.xml b.xml --from pacemaker", "want FILE"},
		{"config export --to crm", `bad --to "crm"`},
		{"config export --to pacemaker --format json", "--format is for --to paceline"},
		{"config export cib.xml --to pacemaker", "use --file"},
		{"-o yaml status", `bad --output "yaml"`},
	}
	for _, c := range cases {
		t.Run(c.args, func(t *testing.T) {
			r := runBinary(t, append([]string{"-s", nowhere}, strings.Fields(c.args)...)...)
			if r.code != 2 || !strings.Contains(r.stderr, c.want) || !strings.HasPrefix(r.stderr, "Error: ") {
				t.Fatalf("want exit 2 and %q on stderr; got %s", c.want, r)
			}
		})
	}
}

func TestCLINoAgent(t *testing.T) {
	nowhere := filepath.Join(t.TempDir(), "none.sock")
	for _, args := range [][]string{
		{"status"},
		{"resource", "list"},
		{"resource", "create", "x", "ocf:heartbeat:Dummy"},
		{"constraint", "location", "x", "prefers", "n1"},
		{"config", "export"},
	} {
		r := runBinary(t, append([]string{"--socket", nowhere}, args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, "cannot reach the paceline agent") || !strings.Contains(r.stderr, nowhere) {
			t.Fatalf("%v with no agent: %s", args, r)
		}
	}
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	return errors.Join(err, f.Close())
}
