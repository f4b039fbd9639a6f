package vrrp

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paceline/paceline/agents/vrrp/kaconf"
	"github.com/paceline/paceline/proc"
)

// recorder is a Tracked that keeps every call and each (instance,
// source)'s current adjustment and fault.
type recorder struct {
	mu     sync.Mutex
	log    []string
	adjust map[string]int
	fault  map[string]string
}

func newRecorder() *recorder {
	return &recorder{adjust: map[string]int{}, fault: map[string]string{}}
}

func (r *recorder) Adjust(instance, source string, weight int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, fmt.Sprintf("adjust %s %s %+d", instance, source, weight))
	r.adjust[instance+"/"+source] = weight
	return nil
}

func (r *recorder) Fault(instance, source, why string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if why == "" {
		r.log = append(r.log, fmt.Sprintf("clear %s %s", instance, source))
	} else {
		r.log = append(r.log, fmt.Sprintf("fault %s %s: %s", instance, source, why))
	}
	r.fault[instance+"/"+source] = why
	return nil
}

func (r *recorder) calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.log)
}

// state is an (instance, source)'s effect now: "0", "+10", "fault: why".
func (r *recorder) state(instance, source string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if why := r.fault[instance+"/"+source]; why != "" {
		return "fault: " + why
	}
	return fmt.Sprintf("%+d", r.adjust[instance+"/"+source])
}

// waitState waits until an (instance, source)'s state starts with want.
func (r *recorder) waitState(t *testing.T, instance, source, want string) {
	t.Helper()
	waitFor(t, 10*time.Second, fmt.Sprintf("%s %s %q (now %q)", instance, source, want, r.state(instance, source)), func() bool {
		return strings.HasPrefix(r.state(instance, source), want)
	})
}

// writeScript writes an executable shell script into dir.
func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// vscript is a vrrp_script as kaconf gives it, with short timings.
func vscript(name string, args ...string) *kaconf.Script {
	return &kaconf.Script{Name: name, Command: kaconf.Command{Args: args},
		Interval: 50 * time.Millisecond, Timeout: 5 * time.Second, Rise: 1, Fall: 1}
}

// trackScripts runs the scripts of cfg with a recorder as the target
// until stop or the end of the test.
func trackScripts(t *testing.T, cfg *kaconf.Config) (rec *recorder, stop func()) {
	t.Helper()
	tr, err := NewScriptTracker(cfg, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	rec = newRecorder()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := tr.Run(ctx, rec); err != nil {
			t.Errorf("script tracker: %v", err)
		}
	}()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return rec, stop
}

// twoRouters starts r1 (priority 150) and r2 (100) with the instance
// "web" on the in-memory bus, and waits for r1 to hold its address.
func twoRouters(t *testing.T) (*testRouter, *holders) {
	b := &bus{}
	h := &holders{held: map[string]map[string]bool{}}
	r1 := startRouter(t, b, h, "r1", netip.MustParseAddr("192.0.2.11"), inst("web", 51, 150, "192.0.2.50/32"))
	startRouter(t, b, h, "r2", netip.MustParseAddr("192.0.2.12"), inst("web", 51, 100, "192.0.2.50/32"))
	wantHolders(t, h, "192.0.2.50/32", "r1")
	return r1, h
}

// The script state machine, as keepalived's vrrp_script_child_thread: a
// script starts unknown and one result decides; then rise successes in a
// row bring it up and fall failures in a row down; init_fail starts it
// down, rise successes from up. Each row gives the results (+ success,
// - failure) and the state after each (u up, d down), upper case where
// it changed.
func TestScriptState(t *testing.T) {
	for _, tc := range []struct {
		rise, fall int
		initFail   bool
		results    string
		want       string
	}{
		{1, 1, false, "+-+-", "UDUD"},
		{1, 1, false, "-", "D"},
		{3, 2, false, "+", "U"},       // unknown: one success is enough
		{3, 2, false, "-+++", "DddU"}, // then rise 3
		{3, 2, false, "-++-+++", "DdddddU"},
		{3, 2, false, "+-+-", "Uuuu"}, // fall 2 needs two in a row
		{3, 2, false, "+--", "UuD"},
		{2, 3, false, "+---", "UuuD"},
		{2, 3, false, "+--+---", "UuuuuuD"},
		{2, 1, true, "++", "dU"}, // init_fail: down, rise 2
		{1, 1, true, "-+", "dU"},
		{2, 2, true, "+-++", "dddU"},
	} {
		name := fmt.Sprintf("rise%d fall%d initfail=%v %s", tc.rise, tc.fall, tc.initFail, tc.results)
		st := newScriptState(&kaconf.Script{Rise: tc.rise, Fall: tc.fall, InitFail: tc.initFail})
		if st.up() || st.known != tc.initFail {
			t.Errorf("%s: starts up=%v known=%v", name, st.up(), st.known)
		}
		var got strings.Builder
		for _, r := range tc.results {
			changed := st.record(r == '+')
			c := "d"
			if st.up() {
				c = "u"
			}
			if changed {
				c = strings.ToUpper(c)
			}
			got.WriteString(c)
		}
		if got.String() != tc.want {
			t.Errorf("%s: %s, want %s", name, got.String(), tc.want)
		}
	}
}

// Weights as keepalived applies them (process_script_update_priority): a
// positive weight is added while up, a negative one while down, reverse
// flips the sign; weight 0 is a fault while down, or with reverse while
// up.
func TestTrackEntryEffect(t *testing.T) {
	for _, tc := range []struct {
		weight  int
		reverse bool
		up      bool
		adjust  int
		fault   bool
	}{
		{10, false, true, 10, false},
		{10, false, false, 0, false},
		{-20, false, true, 0, false},
		{-20, false, false, -20, false},
		{10, true, true, -10, false},
		{10, true, false, 0, false},
		{-20, true, true, 0, false},
		{-20, true, false, 20, false},
		{0, false, true, 0, false},
		{0, false, false, 0, true},
		{0, true, true, 0, true},
		{0, true, false, 0, false},
	} {
		adj, fault := trackEntry{weight: tc.weight, reverse: tc.reverse}.effect(tc.up)
		if adj != tc.adjust || fault != tc.fault {
			t.Errorf("weight %d reverse %v up %v: adjust %d fault %v, want %d %v", tc.weight, tc.reverse, tc.up, adj, fault, tc.adjust, tc.fault)
		}
	}
}

// Who tracks a script: the instances' entries, then their sync group's
// for each member; a group entry overrides a weighted instance entry,
// not an unweighted one (add_vrrp_to_track_script).
func TestScriptTracks(t *testing.T) {
	cfg := &kaconf.Config{
		Instances: []*kaconf.Instance{
			{Name: "VI_1", SyncGroup: "G", TrackScripts: []kaconf.TrackScript{{Name: "a", Weight: 5}, {Name: "b"}}},
			{Name: "VI_2", SyncGroup: "G", TrackScripts: []kaconf.TrackScript{{Name: "c", Weight: -3, Reverse: true}}},
			{Name: "VI_3"},
		},
		SyncGroups: []*kaconf.SyncGroup{{Name: "G", Instances: []string{"VI_1", "VI_2"},
			TrackScripts: []kaconf.TrackScript{{Name: "a", Weight: 7, Reverse: true}, {Name: "b", Weight: 9}}}},
	}
	got := fmt.Sprint(scriptTracks(cfg))
	want := "map[a:[{VI_1 7 true} {VI_2 7 true}] b:[{VI_1 0 false} {VI_2 9 false}] c:[{VI_2 -3 true}]]"
	if got != want {
		t.Errorf("tracks\n got %s\nwant %s", got, want)
	}
}

// Scripts' exit codes drive the instances with each kind of weight. The
// scripts exit with the code in a file the test rewrites.
func TestScriptTrackerWeights(t *testing.T) {
	dir := t.TempDir()
	code := filepath.Join(dir, "code")
	setCode := func(c int) {
		if err := os.WriteFile(code, []byte(strconv.Itoa(c)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	setCode(0)
	chk := writeScript(t, dir, "chk.sh", `echo "checked"; exit $(cat `+code+`)`)
	cfg := &kaconf.Config{Instances: []*kaconf.Instance{{Name: "VI_1", TrackScripts: []kaconf.TrackScript{
		{Name: "pos", Weight: 10}, {Name: "neg", Weight: -20}, {Name: "zero"},
		{Name: "zero_rev", Reverse: true}, {Name: "pos_rev", Weight: 10, Reverse: true},
	}}}}
	for _, ts := range cfg.Instances[0].TrackScripts {
		cfg.Scripts = append(cfg.Scripts, vscript(ts.Name, chk))
	}
	rec, _ := trackScripts(t, cfg)

	rec.waitState(t, "VI_1", "script pos", "+10")
	rec.waitState(t, "VI_1", "script pos_rev", "-10")
	rec.waitState(t, "VI_1", "script zero_rev", "fault: succeeded (reverse")
	for _, src := range []string{"neg", "zero"} {
		if s := rec.state("VI_1", "script "+src); s != "+0" {
			t.Errorf("script %s succeeding: %s", src, s)
		}
	}

	setCode(3)
	rec.waitState(t, "VI_1", "script zero", `fault: exited with status 3: "checked"`)
	rec.waitState(t, "VI_1", "script neg", "-20")
	rec.waitState(t, "VI_1", "script pos", "+0")
	rec.waitState(t, "VI_1", "script pos_rev", "+0")
	rec.waitState(t, "VI_1", "script zero_rev", "+0")

	setCode(0)
	rec.waitState(t, "VI_1", "script zero", "+0")
	rec.waitState(t, "VI_1", "script neg", "+0")
	rec.waitState(t, "VI_1", "script pos", "+10")
}

// rise and fall count results in a row; the script follows a plan of
// exit codes, one per run, then keeps the last.
func TestScriptTrackerRiseFall(t *testing.T) {
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan")
	runs := filepath.Join(dir, "runs")
	if err := os.WriteFile(plan, []byte("1\n0\n0\n1\n0\n1\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	chk := writeScript(t, dir, "plan.sh", `n=$(cat `+runs+` 2>/dev/null || echo 0)
echo $((n+1)) > `+runs+`
c=$(sed -n "$((n+1))p" `+plan+`)
[ -n "$c" ] || c=$(tail -n 1 `+plan+`)
exit $c`)
	s := vscript("chk", chk)
	s.Rise, s.Fall = 2, 2
	cfg := &kaconf.Config{Scripts: []*kaconf.Script{s},
		Instances: []*kaconf.Instance{{Name: "VI_1", TrackScripts: []kaconf.TrackScript{{Name: "chk"}}}}}
	rec, stop := trackScripts(t, cfg)
	waitFor(t, 10*time.Second, "9 runs", func() bool {
		b, _ := os.ReadFile(runs)
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return n >= 9
	})
	stop()
	want := []string{
		"fault VI_1 script chk: exited with status 1",                       // run 1: the first result decides
		"clear VI_1 script chk",                                             // runs 2, 3: rise 2
		"fault VI_1 script chk: exited with status 1 (2 failures in a row)", // runs 6, 7: fall 2 (run 4 alone did not)
	}
	if got := rec.calls(); !slices.Equal(got, want) {
		t.Errorf("calls\n got %q\nwant %q", got, want)
	}
}

// A script that outlives its timeout is killed with its process group
// and counts as a failure; stopping the tracker kills a running script.
func TestScriptTrackerTimeout(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	chk := writeScript(t, dir, "hang.sh", `echo $$ > `+pidFile+`; exec sleep 30`)
	s := vscript("hang", chk)
	s.Timeout = 200 * time.Millisecond
	cfg := &kaconf.Config{Scripts: []*kaconf.Script{s},
		Instances: []*kaconf.Instance{{Name: "VI_1", TrackScripts: []kaconf.TrackScript{{Name: "hang"}}}}}
	rec, stop := trackScripts(t, cfg)
	rec.waitState(t, "VI_1", "script hang", "fault: timed out after 200ms")
	first := readPID(t, pidFile)
	waitFor(t, 10*time.Second, "the timed-out script gone", func() bool { return gone(first) })

	waitFor(t, 10*time.Second, "another run", func() bool { return readPID(t, pidFile) != first })
	stop()
	if pid := readPID(t, pidFile); !gone(pid) {
		t.Errorf("script %d still runs after the tracker stopped", pid)
	}
}

func readPID(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// gone says whether no process pid exists (proc.Run reaps its children).
func gone(pid int) bool {
	return pid > 0 && errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// init_fail starts a script failed: the instance is in fault until rise
// successes; without it, the first success is enough and nothing is
// declared before the first result.
func TestScriptTrackerInitFail(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	chk := writeScript(t, dir, "ok.sh", `echo x >> `+runs)
	initFail, plain := vscript("init_fail", chk), vscript("plain", chk)
	initFail.InitFail, initFail.Rise, plain.Rise = true, 2, 2
	cfg := &kaconf.Config{Scripts: []*kaconf.Script{initFail, plain},
		Instances: []*kaconf.Instance{{Name: "VI_1", TrackScripts: []kaconf.TrackScript{{Name: "init_fail"}, {Name: "plain", Weight: 5}}}}}
	rec, stop := trackScripts(t, cfg)
	waitFor(t, 10*time.Second, "init_fail cleared", func() bool {
		return slices.Contains(rec.calls(), "clear VI_1 script init_fail")
	})
	rec.waitState(t, "VI_1", "script plain", "+5")
	stop()
	var fromInitFail []string
	for _, c := range rec.calls() {
		if strings.Contains(c, "init_fail") {
			fromInitFail = append(fromInitFail, c)
		}
	}
	want := []string{"fault VI_1 script init_fail: init_fail: failed until it succeeds", "clear VI_1 script init_fail"}
	if !slices.Equal(fromInitFail, want) {
		t.Errorf("init_fail calls %q, want %q", fromInitFail, want)
	}
	if b, _ := os.ReadFile(runs); strings.Count(string(b), "x") < 2 {
		t.Errorf("init_fail cleared after %d runs of the two scripts, want rise 2", strings.Count(string(b), "x"))
	}
}

// Scripts run as the user their line names, else script_user, with that
// user's group as their only group (keepalived's set_script_env).
func TestScriptTrackerUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: runs scripts as nobody")
	}
	if _, err := user.Lookup("nobody"); err != nil {
		t.Skip("no user nobody")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	ids := nobody.Uid + " " + nobody.Gid + " " + nobody.Gid
	check := []string{"/bin/sh", "-c", `test "$(id -u) $(id -g) $(id -G)" = "$0"`, ids}
	own, global := vscript("own", check...), vscript("global", check...)
	own.Command.User = "nobody"
	cfg := &kaconf.Config{Globals: kaconf.Globals{ScriptUser: "nobody"}, Scripts: []*kaconf.Script{own, global},
		Instances: []*kaconf.Instance{{Name: "VI_1", TrackScripts: []kaconf.TrackScript{{Name: "own", Weight: 5}, {Name: "global", Weight: 7}}}}}
	rec, _ := trackScripts(t, cfg)
	rec.waitState(t, "VI_1", "script own", "+5")
	rec.waitState(t, "VI_1", "script global", "+7")
}

// enable_script_security refuses a script that runs as root and that a
// group other than root may change; without it that is a warning.
func TestScriptSecurity(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: gives the script to another group")
	}
	nogroup, err := user.LookupGroupId("65534")
	if err != nil {
		t.Skip("no group 65534")
	}
	dir := t.TempDir()
	chk := writeScript(t, dir, "chk.sh", "exit 0")
	if err := os.Chown(chk, 0, 65534); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(chk, 0o775); err != nil {
		t.Fatal(err)
	}
	cfg := &kaconf.Config{Globals: kaconf.Globals{ScriptUser: "root", EnableScriptSecurity: true},
		Scripts:   []*kaconf.Script{vscript("chk", chk)},
		Instances: []*kaconf.Instance{{Name: "VI_1", TrackScripts: []kaconf.TrackScript{{Name: "chk"}}}}}
	_, err = NewScriptTracker(cfg, testLog(t))
	want := "vrrp_script chk: enable_script_security: refusing to run " + chk + " as root: " + chk + " is writable by group " + nogroup.Name + " (mode 0775)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v\nwant one with %q", err, want)
	}

	cfg.Globals.EnableScriptSecurity = false
	if _, err := NewScriptTracker(cfg, testLog(t)); err != nil {
		t.Errorf("without enable_script_security: %v", err)
	}

	// A root-owned script only root may change is run.
	if err := os.Chown(chk, 0, 0); err != nil {
		t.Fatal(err)
	}
	cfg.Globals.EnableScriptSecurity = true
	if _, err := NewScriptTracker(cfg, testLog(t)); err != nil {
		t.Errorf("a safe script: %v", err)
	}
}

// The scripts' users as keepalived settles them (get_default_script_user)
// and what it refuses to run.
func TestScriptResolver(t *testing.T) {
	plain := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	users := map[string]*user.User{
		"root":              {Username: "root", Uid: "0", Gid: "0"},
		"keepalived_script": {Username: "keepalived_script", Uid: "990", Gid: "990"},
		"web":               {Username: "web", Uid: "1000", Gid: "1000"},
	}
	for _, tc := range []struct {
		name      string
		g         kaconf.Globals
		cmd       kaconf.Command
		noKAUser  bool
		wantUser  string
		wantError string
	}{
		{name: "keepalived_script exists", cmd: kaconf.Command{Args: []string{"/bin/true"}}, wantUser: "keepalived_script 990:990"},
		{name: "no keepalived_script: this process's user", noKAUser: true, cmd: kaconf.Command{Args: []string{"/bin/true"}}, wantUser: "root 0:0"},
		{name: "script_user", g: kaconf.Globals{ScriptUser: "web"}, cmd: kaconf.Command{Args: []string{"/bin/true"}}, wantUser: "web 1000:1000"},
		{name: "script_user and group", g: kaconf.Globals{ScriptUser: "web", ScriptGroup: "root"}, cmd: kaconf.Command{Args: []string{"/bin/true"}}, wantUser: "web:root 1000:0"},
		{name: "the line's user first", g: kaconf.Globals{ScriptUser: "web"}, cmd: kaconf.Command{Args: []string{"/bin/true"}, User: "root"}, wantUser: "root 0:0"},
		{name: "security without a default user", noKAUser: true, g: kaconf.Globals{EnableScriptSecurity: true},
			cmd: kaconf.Command{Args: []string{"/bin/true"}}, wantError: "enable_script_security is set, script_user is not and user keepalived_script does not exist"},
		{name: "security, the line's user", noKAUser: true, g: kaconf.Globals{EnableScriptSecurity: true},
			cmd: kaconf.Command{Args: []string{"/bin/true"}, User: "root"}, wantUser: "root 0:0"},
		{name: "unknown user", cmd: kaconf.Command{Args: []string{"/bin/true"}, User: "nosuch"}, wantError: "user nosuch: user: unknown user nosuch"},
		{name: "unknown script_user", g: kaconf.Globals{ScriptUser: "nosuch"}, cmd: kaconf.Command{Args: []string{"/bin/true"}}, wantError: "script_user: user nosuch"},
		{name: "missing program", noKAUser: true, cmd: kaconf.Command{Args: []string{"/nonexistent/chk"}}, wantError: "/nonexistent/chk does not exist"},
		{name: "not executable", noKAUser: true, cmd: kaconf.Command{Args: []string{plain}}, wantError: plain + " is not executable by root"},
		{name: "bare name from PATH", noKAUser: true, cmd: kaconf.Command{Args: []string{"sh"}}, wantUser: "root 0:0"},
		{name: "bare name not in PATH", noKAUser: true, cmd: kaconf.Command{Args: []string{"no-such-program"}}, wantError: "no-such-program: not found in PATH"},
	} {
		r := newScriptResolver(tc.g, testLog(t))
		r.uid, r.gid = 0, 0
		r.lookPath = func(string) (string, error) { return "/usr/bin/setpriv", nil }
		r.lookupUser = func(name string) (*user.User, error) {
			if u := users[name]; u != nil && !(tc.noKAUser && name == "keepalived_script") {
				return u, nil
			}
			return nil, user.UnknownUserError(name)
		}
		r.lookupGroup = func(name string) (*user.Group, error) {
			if u := users[name]; u != nil {
				return &user.Group{Name: name, Gid: u.Gid}, nil
			}
			return nil, user.UnknownGroupError(name)
		}
		sc, err := r.resolve("vrrp_script chk", &tc.cmd)
		switch {
		case tc.wantError != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantError) {
				t.Errorf("%s: error %v, want one with %q", tc.name, err, tc.wantError)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		default:
			if got := fmt.Sprintf("%s %d:%d", sc.user.name, sc.user.uid, sc.user.gid); got != tc.wantUser {
				t.Errorf("%s: user %s, want %s", tc.name, got, tc.wantUser)
			}
			if wantPriv := sc.user.uid != 0 || sc.user.gid != 0; (sc.setpriv != "") != wantPriv {
				t.Errorf("%s: setpriv %q", tc.name, sc.setpriv)
			}
			if !filepath.IsAbs(sc.path) {
				t.Errorf("%s: path %s is not absolute", tc.name, sc.path)
			}
		}
	}
}

// The command proc.Run executes: the program and its arguments, without a
// shell; through setpriv for another user.
func TestScriptCmd(t *testing.T) {
	sc := &scriptCmd{path: "/etc/keepalived/notify.sh", args: []string{"my arg"}}
	c := sc.cmd(time.Second, "INSTANCE", "VI_1", "MASTER", "100")
	if c.Path != sc.path || !slices.Equal(c.Args, []string{"my arg", "INSTANCE", "VI_1", "MASTER", "100"}) {
		t.Errorf("as ourselves: %+v", c)
	}
	sc.user, sc.setpriv = scriptUser{name: "nobody", uid: 65534, gid: 65534}, "/usr/bin/setpriv"
	c = sc.cmd(time.Second)
	want := []string{"--reuid=65534", "--regid=65534", "--groups=65534", "--", "/etc/keepalived/notify.sh", "my arg"}
	if c.Path != "/usr/bin/setpriv" || !slices.Equal(c.Args, want) {
		t.Errorf("as nobody: %+v", c)
	}
}

// With a Router: an instance tracking a failing script goes to FAULT and
// the backup takes the address; a weighted script moves the priority.
func TestTrackingRouter(t *testing.T) {
	r1, h := twoRouters(t)

	dir := t.TempDir()
	code, weight := filepath.Join(dir, "code"), filepath.Join(dir, "weight")
	for _, f := range []string{code, weight} {
		if err := os.WriteFile(f, []byte("0"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	chk := writeScript(t, dir, "chk.sh", `exit $(cat "$1")`)
	cfg := &kaconf.Config{
		Scripts: []*kaconf.Script{vscript("chk_code", chk, code), vscript("chk_weight", chk, weight)},
		Instances: []*kaconf.Instance{{Name: "web", TrackScripts: []kaconf.TrackScript{
			{Name: "chk_code"}, {Name: "chk_weight", Weight: -60}}}},
	}
	tk, err := NewTracking(cfg, testLog(t), TrackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// As Loaded.Run does with WithStartFaults: chk_code (weight 0) holds
	// web in FAULT until its first result.
	for inst, srcs := range tk.StartFaults() {
		for src, why := range srcs {
			r1.r.Fault(inst, src, why)
		}
	}
	tk.Start(t.Context(), r1.r)
	t.Cleanup(tk.Close)

	if err := os.WriteFile(code, []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantHolders(t, h, "192.0.2.50/32", "r2")
	if st := r1.r.Status()[0]; st.State != "FAULT" || !slices.Equal(st.Faults, []string{"script chk_code: exited with status 1"}) {
		t.Errorf("r1 with chk_code failing: %+v", st)
	}
	if err := os.WriteFile(code, []byte("0"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantHolders(t, h, "192.0.2.50/32", "r1")

	if err := os.WriteFile(weight, []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantHolders(t, h, "192.0.2.50/32", "r2")
	if st := r1.r.Status()[0]; st.Priority != 90 || !slices.Equal(st.Adjustments, []string{"script chk_weight -60"}) {
		t.Errorf("r1 with chk_weight failing: %+v", st)
	}
}

// A keepalived.conf as kaconf reads it: the script's quoted arguments,
// the defaults (timeout = interval), the notify line's user, and an
// instance and its sync group tracking the same script (the instance's
// unweighted entry stays as it is).
func TestTrackingFromConf(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: a notify script runs as nobody")
	}
	dir := t.TempDir()
	chk := writeScript(t, dir, "chk.sh", "exit 0")
	conf := `global_defs {
    script_user root
    enable_script_security
}
vrrp_script chk {
    script "` + chk + ` 'my arg'"
    interval 2
    weight -20
    rise 2
    fall 3
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        192.0.2.50
    }
    track_script {
        chk weight 0
    }
    notify "/bin/echo x" nobody
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    priority 100
    virtual_ipaddress {
        192.0.2.51
    }
}
vrrp_sync_group G {
    group {
        VI_1
        VI_2
    }
    track_script {
        chk weight 0 reverse
    }
}
`
	kc, warns, err := kaconf.ParseReader("k.conf", strings.NewReader(conf), kaconf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warns {
		t.Logf("warning: %s", w)
	}
	tk, err := NewTracking(kc, testLog(t), TrackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tk.Close)
	s := tk.scripts.scripts[0]
	if s.cmd.path != chk || !slices.Equal(s.cmd.args, []string{"my arg"}) || s.cmd.user.name != "root" || s.cfg.Timeout != 2*time.Second {
		t.Errorf("vrrp_script chk: %+v, timeout %v", s.cmd, s.cfg.Timeout)
	}
	if got := fmt.Sprint(s.entries); got != "[{VI_1 0 false} {VI_2 0 true}]" {
		t.Errorf("chk's trackers %s", got)
	}
	n := tk.notifier.scripts[notifyKey{name: "VI_1"}].generic
	if n.path != "/bin/echo" || !slices.Equal(n.args, []string{"x"}) || n.user.name != "nobody" || n.setpriv == "" {
		t.Errorf("VI_1's notify: %+v", n)
	}
}

// How a run went, as a fault's reason says it.
func TestScriptOutcome(t *testing.T) {
	sc := &scriptCmd{path: "/etc/keepalived/chk.sh"}
	for _, tc := range []struct {
		res  proc.Result
		ok   bool
		why  string
		done bool
	}{
		{proc.Result{Status: proc.Done}, true, "succeeded", true},
		{proc.Result{Status: proc.Done, Code: 2, Output: "checking\nnginx: not running\n\n"}, false, `exited with status 2: "nginx: not running"`, true},
		{proc.Result{Status: proc.Timeout, Code: -1}, false, "timed out after 3s; killed with its process group", true},
		{proc.Result{Status: proc.Cancelled, Code: -1}, false, "cancelled", false},
		{proc.Result{Status: proc.Error, Code: -1, Reason: "/etc/keepalived/chk.sh: killed by signal killed"}, false, "/etc/keepalived/chk.sh: killed by signal killed", true},
		{proc.Result{Status: proc.NotInstalled, Code: -1, Reason: "/etc/keepalived/chk.sh does not exist"}, false, "/etc/keepalived/chk.sh does not exist", true},
	} {
		ok, why, done := sc.outcome(tc.res, 3*time.Second)
		if ok != tc.ok || why != tc.why || done != tc.done {
			t.Errorf("%+v: %v %q %v, want %v %q %v", tc.res, ok, why, done, tc.ok, tc.why, tc.done)
		}
	}
}
