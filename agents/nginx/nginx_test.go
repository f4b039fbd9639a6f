package nginx_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paceline/paceline/agents/nginx"
	"github.com/paceline/paceline/agents/ocf"
)

const nginxBinary = "/usr/sbin/nginx"

// lab is one nginx configuration in a temporary directory: it listens on
// 127.0.0.1 on a free port and keeps its logs, pid file and temporary
// paths in the directory, so nothing touches the host's /var or /run.
// Every nginx it may have started is killed (by PID) at the test's end.
type lab struct {
	t    *testing.T
	ag   *nginx.Agent // default pid files go to dir/run
	dir  string
	port int
	conf string
	pid  string
}

func newLab(t *testing.T) *lab {
	t.Helper()
	if _, err := os.Stat(nginxBinary); err != nil {
		t.Skipf("needs %s (Debian: nginx-light; make deps installs it)", nginxBinary)
	}
	l := &lab{t: t, dir: t.TempDir(), port: freePort(t)}
	l.ag = nginx.New(nginx.WithPidDir(filepath.Join(l.dir, "run")))
	l.conf = filepath.Join(l.dir, "nginx.conf")
	l.pid = filepath.Join(l.dir, "nginx.pid")
	l.write("", "hello")
	t.Cleanup(l.killAll)
	return l
}

// freePort is a TCP port on 127.0.0.1 that nobody listened on a moment
// ago.
func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// write writes the configuration: main holds extra main-level
// directives, body what / answers.
func (l *lab) write(main, body string) {
	l.t.Helper()
	d := l.dir
	conf := fmt.Sprintf(`# written by the nginx agent's tests
worker_processes 1;
error_log %[1]s/error.log notice;
%[2]s
events { worker_connections 64; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    default_type text/plain;
    server {
        listen 127.0.0.1:%[3]d;
        location = /nginx_status { stub_status; }
        location = /missing { return 404; }
        location / { return 200 "%[4]s\n"; }
    }
}
`, d, main, l.port, body)
	if err := os.WriteFile(l.conf, []byte(conf), 0o644); err != nil {
		l.t.Fatal(err)
	}
}

func (l *lab) url(path string) string { return fmt.Sprintf("http://127.0.0.1:%d%s", l.port, path) }

// params are the resource's parameters: the lab's configuration and pid
// file, and more as name, value pairs.
func (l *lab) params(kv ...string) map[string]string {
	p := map[string]string{"configfile": l.conf, "pidfile": l.pid}
	for i := 0; i+1 < len(kv); i += 2 {
		p[kv[i]] = kv[i+1]
	}
	return p
}

// op runs one action in-process with a timeout, and returns its code and
// output.
func (l *lab) op(name string, params map[string]string, depth int, timeout time.Duration) (int, string) {
	l.t.Helper()
	return op(l.t, l.ag, name, params, depth, timeout)
}

// want runs an action and fails the test unless it returns rc.
func (l *lab) want(rc int, name string, params map[string]string, depth int) string {
	l.t.Helper()
	return want(l.t, l.ag, rc, name, params, depth)
}

// probe names the one-shot monitor for op.
const probe = "probe"

func op(t *testing.T, ag *nginx.Agent, name string, params map[string]string, depth int, timeout time.Duration) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	var out bytes.Buffer
	a := &ocf.Action{
		Name: name, Instance: "web", Params: params, CheckLevel: depth, Timeout: timeout,
		Out: &out, Log: slog.New(slog.NewTextHandler(t.Output(), nil)),
	}
	// A monitor is a recurring one; "probe" is the one-shot monitor.
	switch name {
	case ocf.Monitor:
		a.Interval = 10 * time.Second
	case probe:
		a.Name = ocf.Monitor
	}
	rc := ag.Run(ctx, a)
	return rc, out.String()
}

func want(t *testing.T, ag *nginx.Agent, rc int, name string, params map[string]string, depth int) string {
	t.Helper()
	got, out := op(t, ag, name, params, depth, 20*time.Second)
	if got != rc {
		t.Fatalf("%s (depth %d): rc %d (%s), want %d (%s); output:\n%s", name, depth, got, ocf.RCName(got), rc, ocf.RCName(rc), out)
	}
	return out
}

// masterPid reads the lab's pid file (0 if none).
func (l *lab) masterPid() int {
	b, err := os.ReadFile(l.pid)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

// processes lists the nginx processes this lab's configuration runs:
// masters by their title, which names the configuration file, and their
// children.
func (l *lab) processes() []int {
	ents, _ := os.ReadDir("/proc")
	var masters, out []int
	ppid := map[int]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 2 || f[0] == "Z" {
			continue
		}
		ppid[pid], _ = strconv.Atoi(f[1])
		cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if bytes.HasPrefix(cmd, []byte("nginx: master process")) && bytes.Contains(cmd, []byte(l.conf)) {
			masters = append(masters, pid)
		}
	}
	for _, m := range masters {
		out = append(out, m)
		for pid, pp := range ppid {
			if pp == m {
				out = append(out, pid)
			}
		}
	}
	return out
}

// killAll kills, by PID, every process of this lab's nginx still there.
func (l *lab) killAll() {
	for _, pid := range l.processes() {
		l.t.Logf("cleanup: killing leftover nginx process %d", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestLifecycle: start, monitor at both depths, start again, reload with
// a changed configuration, stop, and the stopped checks.
func TestLifecycle(t *testing.T) {
	l := newLab(t)
	p := l.params()
	l.want(ocf.NotRunning, ocf.Monitor, p, 0)
	l.want(ocf.Success, ocf.ValidateAll, p, 0)
	out := l.want(ocf.Success, ocf.Start, p, 0)
	if wantReady := fmt.Sprintf("accepts connections on 127.0.0.1:%d", l.port); !strings.Contains(out, wantReady) {
		t.Errorf("start output %q does not say %q", out, wantReady)
	}
	pid := l.masterPid()
	if pid == 0 {
		t.Fatalf("no pid in %s after start", l.pid)
	}
	if code, body := get(t, l.url("/")); code != 200 || body != "hello\n" {
		t.Fatalf("GET /: %d %q", code, body)
	}
	l.want(ocf.Success, ocf.Monitor, p, 0)
	deep := l.params("status_url", l.url("/nginx_status"), "status_regex", `Active connections: \d+`)
	l.want(ocf.Success, ocf.Monitor, deep, 10)

	out = l.want(ocf.Success, ocf.Start, p, 0)
	if !strings.Contains(out, "already running") || l.masterPid() != pid {
		t.Errorf("second start: %q, master %d, want the running one (%d) kept", out, l.masterPid(), pid)
	}

	l.write("", "reloaded")
	l.want(ocf.Success, ocf.Reload, p, 0)
	for deadline := time.Now().Add(5 * time.Second); ; {
		_, body := get(t, l.url("/"))
		if body == "reloaded\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after reload GET / still answers %q", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if l.masterPid() != pid {
		t.Errorf("reload changed the master: %d, was %d", l.masterPid(), pid)
	}

	out = l.want(ocf.Success, ocf.Stop, p, 0)
	if !strings.Contains(out, "gracefully") {
		t.Errorf("stop output %q: want a graceful stop", out)
	}
	if left := l.processes(); len(left) > 0 {
		t.Errorf("nginx processes left after stop: %v", left)
	}
	if _, err := os.Stat(l.pid); !os.IsNotExist(err) {
		t.Errorf("pid file after stop: %v", err)
	}
	l.want(ocf.NotRunning, ocf.Monitor, p, 0)
	l.want(ocf.NotRunning, ocf.Monitor, deep, 10)
	l.want(ocf.Success, ocf.Stop, p, 0)
	l.want(ocf.NotRunning, ocf.Reload, p, 0)
}

// TestStatusChecks: start waits for status_url; monitor depth 10 fails
// with rc 1 and the reason on a body that does not match and on a
// non-2xx answer, and is a configuration error without status_url.
func TestStatusChecks(t *testing.T) {
	l := newLab(t)
	status := l.url("/nginx_status")
	out := l.want(ocf.Success, ocf.Start, l.params("status_url", status), 0)
	if !strings.Contains(out, "serves "+status) {
		t.Errorf("start output %q: want readiness by status_url", out)
	}
	out = l.want(ocf.ErrGeneric, ocf.Monitor, l.params("status_url", status, "status_regex", "no such text"), 10)
	if !strings.Contains(out, "does not match status_regex") {
		t.Errorf("monitor output %q: want the reason", out)
	}
	out = l.want(ocf.ErrGeneric, ocf.Monitor, l.params("status_url", l.url("/missing")), 10)
	if !strings.Contains(out, "404 Not Found, want 2xx") {
		t.Errorf("monitor output %q: want the status code", out)
	}
	l.want(ocf.Success, ocf.Monitor, l.params("status_url", l.url("/"), "status_regex", "^hello"), 10)
	out = l.want(ocf.ErrConfigured, ocf.Monitor, l.params(), 10)
	if !strings.Contains(out, "needs status_url") {
		t.Errorf("monitor output %q: want the missing status_url named", out)
	}
	l.want(ocf.ErrConfigured, ocf.Monitor, l.params("status_url", status, "status_regex", "("), 10)
	l.want(ocf.Success, ocf.Monitor, l.params(), 0) // depth 0 needs none
	l.want(ocf.Success, ocf.Stop, l.params(), 0)
}

// TestBrokenConfig: a configuration nginx refuses is rc 6 with nginx's
// error, for start and validate-all; nothing runs.
func TestBrokenConfig(t *testing.T) {
	l := newLab(t)
	l.write("no_such_directive on;", "hello")
	for _, action := range []string{ocf.Start, ocf.ValidateAll} {
		out := l.want(ocf.ErrConfigured, action, l.params(), 0)
		if !strings.Contains(out, `unknown directive "no_such_directive"`) {
			t.Errorf("%s output %q: want nginx's error", action, out)
		}
	}
	l.want(ocf.NotRunning, ocf.Monitor, l.params(), 0)
	if left := l.processes(); len(left) > 0 {
		t.Errorf("nginx processes after a failed start: %v", left)
	}
}

// TestMissing: a missing binary or configuration file is rc 5 for start
// and validate-all; monitor and stop need neither.
func TestMissing(t *testing.T) {
	l := newLab(t)
	for name, p := range map[string]map[string]string{
		"binary":     l.params("binary", "/nonexistent/nginx"),
		"configfile": l.params("configfile", filepath.Join(l.dir, "missing.conf")),
	} {
		for _, action := range []string{ocf.Start, ocf.ValidateAll} {
			out := l.want(ocf.ErrInstalled, action, p, 0)
			if !strings.Contains(out, name) {
				t.Errorf("missing %s: %s output %q does not name it", name, action, out)
			}
		}
		l.want(ocf.NotRunning, ocf.Monitor, p, 0)
		l.want(ocf.Success, ocf.Stop, p, 0)
	}
}

// TestBadParameters: parameters that cannot work are rc 6 for every
// action but meta-data.
func TestBadParameters(t *testing.T) {
	l := newLab(t)
	for _, tc := range []struct {
		name string
		p    map[string]string
		want string
	}{
		{"no configfile", map[string]string{}, "configfile is required"},
		{"relative configfile", l.params("configfile", "nginx.conf"), "absolute"},
		{"relative pidfile", l.params("pidfile", "x.pid"), "absolute"},
		{"-g in options", l.params("options", "-g daemon off;"), "-g"},
		{"-s in options", l.params("options", "-s stop"), "-s"},
		{"a word in options", l.params("options", "stop"), "not an nginx option"},
		{"ftp status_url", l.params("status_url", "ftp://127.0.0.1/"), "status_url"},
	} {
		// A stop succeeds and a probe (a monitor of interval 0) finds it
		// not running: nginx is not running, and a failed stop would
		// fence the node. Both still name the problem; a recurring
		// monitor fails with rc 6.
		for action, wantRC := range map[string]int{ocf.Start: ocf.ErrConfigured, ocf.ValidateAll: ocf.ErrConfigured, ocf.Monitor: ocf.ErrConfigured, ocf.Stop: ocf.Success, probe: ocf.NotRunning} {
			rc, out := l.op(action, tc.p, 0, 5*time.Second)
			if rc != wantRC || !strings.Contains(out, tc.want) {
				t.Errorf("%s: %s: rc %d %q, want %d naming %q", tc.name, action, rc, out, wantRC, tc.want)
			}
		}
	}
	// Parameters gone bad while nginx runs: the probe still finds it and
	// the stop still stops it, by its pid file.
	l.want(ocf.Success, ocf.Start, l.params(), 0)
	bad := l.params("options", "stop")
	l.want(ocf.Success, probe, bad, 0)
	l.want(ocf.ErrConfigured, ocf.Monitor, bad, 0)
	l.want(ocf.Success, ocf.Stop, bad, 0)
	l.want(ocf.NotRunning, probe, l.params(), 0)
	l.want(ocf.Success, ocf.MetaData, nil, 0)
	l.want(ocf.ErrUnimplemented, ocf.Promote, l.params(), 0)
	// Accepted options reach nginx.
	l.want(ocf.Success, ocf.ValidateAll, l.params("options", "-q -p "+l.dir), 0)
}

// TestOwnPid: a configuration that sets its own pid file works when
// pidfile names it, and is rc 6 otherwise, saying what to set.
func TestOwnPid(t *testing.T) {
	l := newLab(t)
	own := filepath.Join(l.dir, "own.pid")
	l.write(fmt.Sprintf("pid %s;", own), "hello")
	out := l.want(ocf.ErrConfigured, ocf.Start, map[string]string{"configfile": l.conf}, 0)
	if !strings.Contains(out, "set pidfile="+own) {
		t.Errorf("start output %q: want it to say pidfile=%s", out, own)
	}
	if _, err := os.Stat(own); !os.IsNotExist(err) {
		t.Errorf("the configuration test left %s behind: %v", own, err)
	}
	l.want(ocf.ErrConfigured, ocf.ValidateAll, l.params(), 0) // pidfile names another file
	p := l.params("pidfile", own)
	l.want(ocf.Success, ocf.Start, p, 0)
	l.want(ocf.Success, ocf.Monitor, p, 0)
	l.want(ocf.Success, ocf.Stop, p, 0)
	l.want(ocf.NotRunning, ocf.Monitor, p, 0)
}

// TestDefaultPidFile: without pidfile, the pid file is nginx-INSTANCE.pid
// in a directory the agent creates.
func TestDefaultPidFile(t *testing.T) {
	l := newLab(t)
	p := map[string]string{"configfile": l.conf}
	l.want(ocf.Success, ocf.Start, p, 0)
	b, err := os.ReadFile(filepath.Join(l.dir, "run", "nginx-web.pid"))
	if err != nil || strings.TrimSpace(string(b)) == "" {
		t.Fatalf("default pid file: %q, %v", b, err)
	}
	l.want(ocf.Success, ocf.Monitor, p, 0)
	l.want(ocf.Success, ocf.Stop, p, 0)
	l.want(ocf.NotRunning, ocf.Monitor, p, 0)
}

// TestDaemonOff: the agent refuses a configuration that keeps nginx in
// the foreground (start would never return).
func TestDaemonOff(t *testing.T) {
	l := newLab(t)
	l.write("daemon off;", "hello")
	out := l.want(ocf.ErrConfigured, ocf.Start, l.params(), 0)
	if !strings.Contains(out, "daemon off") {
		t.Errorf("start output %q: want daemon off named", out)
	}
	if left := l.processes(); len(left) > 0 {
		t.Errorf("nginx processes after a refused start: %v", left)
	}
}

// TestNotNginx: a pid file naming a process that is not nginx means
// "not running", and stop sends that process nothing.
func TestNotNginx(t *testing.T) {
	l := newLab(t)
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = sleeper.Wait(); close(exited) }()
	t.Cleanup(func() { _ = sleeper.Process.Kill(); <-exited })
	if err := os.WriteFile(l.pid, []byte(strconv.Itoa(sleeper.Process.Pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := l.want(ocf.NotRunning, ocf.Monitor, l.params(), 0)
	if !strings.Contains(out, "not nginx") {
		t.Errorf("monitor output %q: want the reason", out)
	}
	l.want(ocf.Success, ocf.Stop, l.params(), 0)
	select {
	case <-exited:
		t.Fatal("stop signalled the process the pid file named")
	case <-time.After(200 * time.Millisecond): // a signal sent would have ended it by now
	}
	// A start replaces the stale pid file.
	l.want(ocf.Success, ocf.Start, l.params(), 0)
	if pid := l.masterPid(); pid == sleeper.Process.Pid || pid == 0 {
		t.Errorf("pid file after start names %d", pid)
	}
	l.want(ocf.Success, ocf.Stop, l.params(), 0)
}

// TestStopEscalates: a master that does not react (stopped with
// SIGSTOP) is killed with its workers within the stop timeout.
func TestStopEscalates(t *testing.T) {
	l := newLab(t)
	l.want(ocf.Success, ocf.Start, l.params(), 0)
	procs := l.processes()
	if len(procs) < 2 {
		t.Fatalf("want a master and a worker, found %v", procs)
	}
	if err := syscall.Kill(l.masterPid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	rc, out := l.op(ocf.Stop, l.params(), 0, 3*time.Second) // QUIT and TERM get 80% of it; the KILL step, the rest: room on a loaded machine
	if rc != ocf.Success || !strings.Contains(out, "killed") {
		t.Fatalf("stop: rc %d, output %q; want 0 and a kill", rc, out)
	}
	t.Logf("stop took %v: %s", time.Since(begin).Round(time.Millisecond), strings.TrimSpace(out))
	for _, pid := range procs {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && !strings.Contains(string(b), ") Z ") {
			t.Errorf("process %d of nginx survived stop: %s", pid, b)
		}
	}
	l.want(ocf.NotRunning, ocf.Monitor, l.params(), 0)
}

// TestMetaData: the meta-data lists every parameter, reload, and a
// second monitor of depth 10.
func TestMetaData(t *testing.T) {
	out := want(t, nginx.New(), ocf.Success, ocf.MetaData, nil, 0)
	var md ocf.ResourceAgent
	if err := xml.Unmarshal([]byte(out), &md); err != nil {
		t.Fatalf("meta-data: %v\n%s", err, out)
	}
	var params []string
	for _, p := range md.Parameters {
		params = append(params, p.Name)
	}
	if got := strings.Join(params, ","); got != "configfile,binary,pidfile,status_url,status_regex,options" {
		t.Errorf("parameters %s", got)
	}
	depths := map[string]bool{}
	for _, a := range md.Actions {
		if a.Name == ocf.Monitor {
			depths[a.Depth] = true
		}
	}
	if !depths["0"] || !depths["10"] || !md.Supports(ocf.Reload) || !md.Supports(ocf.ValidateAll) {
		t.Errorf("actions %+v: want monitors of depth 0 and 10, reload and validate-all", md.Actions)
	}
}

// TestOCFTester: resource-agents' ocf-tester passes ocf:paceline:nginx
// as `paceline ocf install` installs it.
func TestOCFTester(t *testing.T) {
	tester, err := exec.LookPath("ocf-tester")
	if err != nil {
		t.Skip("needs ocf-tester from Debian's resource-agents (make deps installs it)")
	}
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Skip("needs xmllint from libxml2-utils (make deps installs it)")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("needs the go command to build paceline")
	}
	l := newLab(t)
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
	cmd := exec.Command(tester, "-v", "-n", "web1", "-o", "configfile="+l.conf, "-o", "pidfile="+l.pid,
		filepath.Join(root, "resource.d", ocf.Provider, "nginx"))
	cmd.Env = append(os.Environ(), "OCF_ROOT="+root)
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("passed all tests")) {
		t.Fatalf("ocf-tester: %v\n%s", err, out)
	}
	t.Logf("ocf-tester output:\n%s", out)
	if left := l.processes(); len(left) > 0 {
		t.Errorf("nginx processes left after ocf-tester: %v", left)
	}
}
