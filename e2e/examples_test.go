package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
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

	"github.com/paceline/paceline/api"
)

// The examples/ folder's web examples, run as tests: a cluster in network
// namespaces is set up by the example's own setup.sh, the node serving
// the site crashes (its agent and every process of its namespace
// SIGKILLed by PID, its link down), and the site answers HTTP 200 through
// the VIP from another node, as a client namespace (192.0.2.100) sees it.
//
// The nodes share this machine's filesystem, but a resource's parameters
// are the same on every node. So each node's agent runs in a mount
// namespace of its own (unshare --mount, private) in which ROOT/node is
// that node's directory ROOT/nN/node (nginx.conf, page "served by nN")
// and /run/paceline a fresh tmpfs (the nginx agent's pid files): the one
// configfile=ROOT/node/nginx.conf is a different file on each node.
// Nothing is mounted on the host (checked at the end with findmnt).

const (
	exampleClientAddr = "192.0.2.100/24"
	// exampleDefaultConf is the examples' default NGINX_CONF: the
	// exported configuration is compared with config.yaml after the
	// test's path is replaced by it.
	exampleDefaultConf = "/etc/nginx/paceline-web.conf"
	exampleBound       = 30 * time.Second
)

// webCluster is a netCluster whose agents run in private mount
// namespaces, with an nginx directory per node and a client host.
type webCluster struct {
	*netCluster
	*webClient
	root string // ROOT: ROOT/nN/node per node, seen by each as ROOT/node
	conf string // ROOT/node/nginx.conf
	// debian: the mounts Debian's agents need too (debian_agents_test.go):
	// a fresh /run/resource-agents, and ROOT/hosts as /etc/hosts.
	debian bool
}

func newWebCluster(t *testing.T, n int) *webCluster { return newWebClusterWith(t, n, false) }

func newWebClusterWith(t *testing.T, n int, debian bool) *webCluster {
	needFiles(t, "make deps installs nginx-light and util-linux", "/usr/sbin/nginx", "/usr/bin/unshare", "/usr/bin/findmnt")
	lab := NewLab(t)
	root := sitesRoot(t, "pl-example")
	t.Cleanup(func() {
		// Runs after every process is gone (cleanups run last-in first-out).
		out, _ := exec.Command("findmnt", "-rn", "-o", "TARGET").Output()
		for _, m := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(m, root) || m == "/run/paceline" || m == "/run/resource-agents" || m == "/etc/hosts" {
				t.Errorf("mount left on the host: %s", m)
			}
		}
		_ = os.RemoveAll(root)
	})
	// The mount point of each agent's own /run/paceline (the nginx
	// agent's default pid directory), made if no agent made it yet.
	for _, d := range []string{"/run/paceline", "/run/resource-agents"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c := &netCluster{lab: lab, dir: root, procs: map[string]*Proc{}, clients: map[string]*api.Client{}}
	w := &webCluster{netCluster: c, root: root, conf: filepath.Join(root, "node", "nginx.conf"), debian: debian}
	args := []string{"cluster", "init", "--dir", root, "--local", "--name", "example"}
	hosts := "127.0.0.1 localhost\n"
	for i := range n {
		name := fmt.Sprintf("n%d", i+1)
		c.names = append(c.names, name)
		lab.AddHost(name, fmt.Sprintf("192.0.2.%d/24", i+1))
		args = append(args, fmt.Sprintf("%s=192.0.2.%d:7250", name, i+1))
		hosts += fmt.Sprintf("192.0.2.%d %s\n", i+1, name)
	}
	lab.AddHost("client", exampleClientAddr)
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("cluster init: %v: %s", err, out)
	}
	if err := os.MkdirAll(filepath.Join(root, "node"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "hosts"), []byte(hosts), 0o644); err != nil {
		t.Fatal(err)
	}
	// Every process of every namespace, by PID: the agents, and the nginx
	// daemons, which leave the agents' process groups.
	t.Cleanup(func() {
		for _, name := range append(append([]string{}, c.names...), "client") {
			killNetns(t, lab.NS(name))
		}
	})
	for _, name := range c.names {
		w.nodeFiles(t, name)
		appendNodeConfig(t, root, name, "resources:\n  manage: true\n")
		c.clients[name] = api.NewClient(filepath.Join(root, name, "paceline.sock"))
		w.startAgent(name)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, name := range c.names {
				c.procs[name].Stop(syscall.SIGKILL)
				t.Logf("%s log:\n%s", name, tail(c.procs[name].Output(), 60))
			}
		}
	})
	w.webClient = newWebClient(lab, func(t *testing.T) string { return w.cliOut(t, "status") })
	all := fmt.Sprintf("quorate: %d of %d votes", n, n)
	want := map[string]string{}
	for _, name := range c.names {
		want[name] = all
	}
	c.waitQuorum(t, 20*time.Second, want)
	return w
}

// needFiles skips the test unless every file exists; hint says how to
// get them.
func needFiles(t *testing.T, hint string, files ...string) {
	t.Helper()
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("needs %s (%s)", f, hint)
		}
	}
}

// sitesRoot makes a temporary directory for nginx sites (writeNginxSite)
// below it, which nginx's workers (nobody) can pass through. The caller
// removes it.
func sitesRoot(t *testing.T, prefix string) string {
	t.Helper()
	root, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o711); err != nil {
		t.Fatal(err)
	}
	return root
}

// nodeFiles writes ROOT/NODE/node: nginx.conf and a page naming the node.
func (w *webCluster) nodeFiles(t *testing.T, node string) {
	writeNginxSite(t, filepath.Join(w.root, node, "node"), filepath.Join(w.root, "node"), node)
}

// writeNginxSite writes, in d, nginx.conf and html/index.html ("served by
// NODE") for nginx on port 80 of every address, with its logs and
// temporary files in d, which nginx sees as common; no pid directive (the
// starter sets it).
func writeNginxSite(t *testing.T, d, common, node string) {
	t.Helper()
	for _, sub := range []string{"html", "tmp"} {
		if err := os.MkdirAll(filepath.Join(d, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(d, "html", "index.html"), []byte("served by "+node+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`# nginx of node %[1]s (seen there as %[2]s)
worker_processes 1;
error_log %[2]s/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path %[2]s/tmp/body;
  proxy_temp_path %[2]s/tmp/proxy;
  fastcgi_temp_path %[2]s/tmp/fastcgi;
  uwsgi_temp_path %[2]s/tmp/uwsgi;
  scgi_temp_path %[2]s/tmp/scgi;
  server {
    listen 80;
    root %[2]s/html;
    default_type text/plain;
    location = /nginx_status { stub_status; allow 127.0.0.1; deny all; }
  }
}
`, node, common)
	if err := os.WriteFile(filepath.Join(d, "nginx.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
}

// startAgent starts a node's agent in its network namespace and a private
// mount namespace: ROOT/node is ROOT/NODE/node there, /run/paceline a
// fresh tmpfs. ip netns exec, unshare and sh all exec, so the process
// recorded is the agent.
func (w *webCluster) startAgent(node string) {
	mounts := `mount --bind "$1" "$2" && mount -t tmpfs -o mode=0755 tmpfs /run/paceline && `
	if w.debian {
		mounts += `mount -t tmpfs -o mode=1755 tmpfs /run/resource-agents && mount --bind "$5" /etc/hosts && `
	}
	w.procs[node] = w.lab.Start(node, "unshare", "--mount", "--propagation", "private", "sh", "-c", mounts+`exec "$3" agent --config "$4"`, "sh",
		filepath.Join(w.root, node, "node"), filepath.Join(w.root, "node"), bin, filepath.Join(w.root, node, "paceline.yaml"),
		filepath.Join(w.root, "hosts"))
}

// killNetns SIGKILLs every process in a network namespace (ip netns
// pids), by PID, until none is left (5 s at most) — never this test
// process itself, which `ip netns pids` lists while one of its threads
// is in the namespace opening a socket (InNetns).
func killNetns(t *testing.T, ns string) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := exec.Command("ip", "netns", "pids", ns).Output()
		if err != nil || len(bytes.TrimSpace(out)) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes left in %s: %s", ns, out)
			return
		}
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dialIn dials from a network namespace: the socket is made by a thread
// that enters the namespace and goes back, and stays in it.
func dialIn(nsName string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return InNetns(nsName, func() (net.Conn, error) { return (&net.Dialer{}).DialContext(ctx, network, addr) })
	}
}

// webClient is the client host (192.0.2.100) fetching the site through a
// VIP: a request over a fresh connection each time, 300 ms at most.
type webClient struct {
	http *http.Client
	// describe says what a test shows when the site does not answer.
	describe func(t *testing.T) string
}

func newWebClient(lab *Lab, describe func(t *testing.T) string) *webClient {
	return &webClient{
		http: &http.Client{
			Transport: &http.Transport{DialContext: dialIn(lab.NS("client")), DisableKeepAlives: true},
			Timeout:   300 * time.Millisecond,
		},
		describe: describe,
	}
}

// served fetches http://VIP/ from the client: the node named in the page
// when the answer is 200, else "".
func (w *webClient) served(vip string) string {
	resp, err := w.http.Get("http://" + vip + "/")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	return strings.TrimPrefix(strings.TrimSpace(string(body)), "served by ")
}

// waitServed sends a request to http://VIP/ every 20 ms until a node
// other than not answers 200 (and, with want, that node), at most bound;
// it returns the node and when its answer arrived. The requests overlap:
// one sent while the address still led to a crashed node waits out its
// 300 ms, and the next, 20 ms later, may already be answered — the time is
// that of the first answer, to within 20 ms.
func (w *webClient) waitServed(t *testing.T, vip string, bound time.Duration, not, want string) (string, time.Time) {
	t.Helper()
	type answer struct {
		node string
		at   time.Time
	}
	got := make(chan answer, 1)
	var last atomic.Value // the node named in the last answer, "" for none
	last.Store("")
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(bound)
	for {
		wg.Go(func() {
			n := w.served(vip)
			last.Store(n)
			if n != "" && n != not && (want == "" || n == want) {
				select {
				case got <- answer{n, time.Now()}:
				default: // an earlier answer is in
				}
			}
		})
		select {
		case a := <-got:
			return a.node, a.at
		case <-deadline:
			wg.Wait()
			t.Fatalf("http://%s/: no HTTP 200 from a node other than %q (want %q) within %v; last answer from %q\n%s",
				vip, not, want, bound, last.Load(), w.describe(t))
		case <-tick.C:
		}
	}
}

// crash: the node dies. Its agent and every process of its namespace
// (nginx) are SIGKILLed by PID, and its link goes down.
func (w *webCluster) crash(t *testing.T, node string) time.Time {
	began, _ := crash(w.lab, node, func() {
		w.procs[node].Stop(syscall.SIGKILL)
		killNetns(t, w.lab.NS(node))
	})
	return began
}

// revive: the node reboots (the addresses it held are gone), its link comes
// up and its agent starts; it returns once all nodes are quorate.
func (w *webCluster) revive(t *testing.T, node string, vips ...string) {
	for _, v := range vips {
		_ = exec.Command("ip", "-n", w.lab.NS(node), "addr", "del", v+"/24", "dev", "eth0").Run()
	}
	w.lab.ip("-n", w.lab.NS(node), "link", "set", "eth0", "up")
	w.startAgent(node)
	all := fmt.Sprintf("quorate: %d of %d votes", len(w.names), len(w.names))
	want := map[string]string{}
	for _, name := range w.names {
		want[name] = all
	}
	w.waitQuorum(t, 20*time.Second, want)
}

// setup runs examples/NAME/setup.sh against n1's agent, with the
// example's own variables and this test's nginx configuration, and checks
// the exported configuration against examples/NAME/config.yaml (written
// instead with PACELINE_UPDATE_EXAMPLES=1).
func (w *webCluster) setup(t *testing.T, name string) {
	t.Helper()
	script := filepath.Join("..", "examples", name, "setup.sh")
	cmd := exec.Command("sh", script)
	cmd.Env = append(os.Environ(), "PACELINE="+bin, "PACELINE_SOCKET="+w.clients["n1"].Socket(), "NGINX_CONF="+w.conf)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	t.Logf("%s:\n%s", script, out)

	w.checkExport(t, name, strings.NewReplacer(w.conf, exampleDefaultConf))
}

// normalizeExport drops the top-level keys that belong to a cluster, not
// to an example: epoch, last-change, nodes.
func normalizeExport(s string) string {
	var b strings.Builder
	skip := false
	for _, line := range strings.SplitAfter(s, "\n") {
		if line != "" && line[0] != ' ' && line[0] != '-' && line[0] != '\n' {
			key, _, _ := strings.Cut(line, ":")
			skip = key == "epoch" || key == "last-change" || key == "nodes"
		}
		if !skip {
			b.WriteString(line)
		}
	}
	return b.String()
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if !strings.HasPrefix(line, "#") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// three-node-web: the group (VIP + nginx) starts on its preferred node
// n1; n1 crashes and another node answers through the VIP; n1 returns
// and, with resource-stickiness 100 over the preference of 50, the group
// stays where it is (no failback).
func TestExampleThreeNodeWeb(t *testing.T) {
	const vip = "192.0.2.50"
	w := newWebCluster(t, 3)
	w.setup(t, "three-node-web")
	t0 := time.Now()
	first, at := w.waitServed(t, vip, exampleBound, "", "n1")
	t.Logf("http://%s/ answers 200 from %s, %v after setup.sh", vip, first, at.Sub(t0))

	began := w.crash(t, first)
	next, at := w.waitServed(t, vip, exampleBound, first, "")
	t.Logf("figure: three-node-web: %s crashed: http://%s/ answers 200 from %s after %v", first, vip, next, at.Sub(began))

	w.revive(t, first, vip)
	time.Sleep(3 * time.Second)
	if got := w.served(vip); got != next {
		t.Errorf("%s back: http://%s/ is served by %q, want %s (stickiness: no failback)", first, vip, got, next)
	} else {
		t.Logf("%s is back; the group stays on %s (stickiness 100 > preference 50)", first, next)
	}
}

// active-active-web: each VIP answers from its home node (A: n1, B: n2);
// n1 crashes and both answer from n2; n1 returns and A goes back to it
// (stickiness 0, keepalived's preemption).
func TestExampleActiveActiveWeb(t *testing.T) {
	const a, b = "192.0.2.51", "192.0.2.52"
	w := newWebCluster(t, 3)
	w.setup(t, "active-active-web")
	t0 := time.Now()
	_, atA := w.waitServed(t, a, exampleBound, "", "n1")
	_, atB := w.waitServed(t, b, exampleBound, "", "n2")
	t.Logf("http://%s/ from n1 after %v, http://%s/ from n2 after %v", a, atA.Sub(t0), b, atB.Sub(t0))

	// B lives on n2 throughout: sample it while A moves away and back.
	stop := w.sample(b)
	began := w.crash(t, "n1")
	_, atA = w.waitServed(t, a, exampleBound, "n1", "n2")
	_, atB = w.waitServed(t, b, exampleBound, "n1", "n2")
	t.Logf("figure: active-active-web: n1 crashed: http://%s/ answers 200 from n2 after %v; http://%s/ from n2 (checked after %v)",
		a, atA.Sub(began), b, atB.Sub(began))

	w.revive(t, "n1", a)
	t1 := time.Now()
	_, atA = w.waitServed(t, a, exampleBound, "", "n1")
	time.Sleep(time.Second)
	n, missed := stop()
	t.Logf("n1 is back: http://%s/ fails back to n1 after %v; http://%s/ answered by n2 in %d of %d samples meanwhile", a, atA.Sub(t1), b, n-missed, n)
	if missed > 0 {
		t.Errorf("http://%s/ (at home on n2) did not answer from n2 in %d of %d samples while n1 crashed and returned", b, missed, n)
	}
}

// sample fetches http://VIP/ every 20 ms until stop, which returns how
// many samples were taken and how many did not get 200 from the node
// that answered the first.
func (w *webClient) sample(vip string) (stop func() (n, missed int)) {
	done := make(chan struct{})
	res := make(chan [2]int)
	go func() {
		first, n, missed := "", 0, 0
		for {
			select {
			case <-done:
				res <- [2]int{n, missed}
				return
			case <-time.After(20 * time.Millisecond):
			}
			got := w.served(vip)
			if first == "" {
				first = got
			}
			n++
			if got == "" || got != first {
				missed++
			}
		}
	}()
	return func() (int, int) { close(done); r := <-res; return r[0], r[1] }
}

// TestExampleFigures (make bench-web): PACELINE_EXAMPLE_RUNS crashes per
// web example of the node serving a VIP, each until HTTP 200 through it
// again from another node; the node returns between runs. Then as many
// crashes of keepalived's master in the same kind of lab, keepalived +
// nginx with a check script, VRRPv2 at advert_int 1 and VRRPv3 at 0.1
// (keepalived_web_test.go). Median and max logged, where each spends its
// time, and the ratios Paceline/keepalived.
func TestExampleFigures(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("PACELINE_EXAMPLE_RUNS"))
	if runs <= 0 {
		t.Skip("set PACELINE_EXAMPLE_RUNS=N to crash each web example's serving node N times")
	}
	examples := []struct {
		name, vip string
		rscs      []string // started on the new node, in order
	}{
		{"three-node-web", "192.0.2.50", []string{"web-ip", "web-server"}},
		{"active-active-web", "192.0.2.51", []string{"web-ip-a"}}, // nginx runs everywhere
	}
	pace := map[string][]time.Duration{}
	for _, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			w := newWebCluster(t, 3)
			w.setup(t, ex.name)
			var took []time.Duration
			var steps paceSteps
			for i := range runs {
				holder, _ := w.waitServed(t, ex.vip, exampleBound, "", "")
				time.Sleep(time.Duration(i%5) * 200 * time.Millisecond) // spread the crash over the heartbeat phase
				dc := w.leader() == holder
				began := w.crash(t, holder)
				next, at := w.waitServed(t, ex.vip, exampleBound, holder, "")
				took = append(took, at.Sub(began))
				where := w.failoverSteps(t, holder, next, began, at, ex.rscs, &steps)
				t.Logf("run %d: %s crashed (the DC: %v): http://%s/ answers 200 from %s after %v: %s",
					i+1, holder, dc, ex.vip, next, at.Sub(began).Round(time.Millisecond), where)
				w.revive(t, holder, "192.0.2.50", "192.0.2.51", "192.0.2.52")
				time.Sleep(time.Second) // a failback, if any, settles (neighbour locktime)
			}
			pace[ex.name] = took
			t.Logf("figure: %s: crash -> HTTP 200 through the VIP from another node, %d runs: median %v, max %v",
				ex.name, runs, median(took).Round(time.Millisecond), maxOf(took).Round(time.Millisecond))
			t.Logf("figure: %s: where the time goes: %s", ex.name, &steps)
		})
	}
	ka := map[string][]time.Duration{}
	for _, v := range kaWebVariants {
		t.Run(v.name, func(t *testing.T) { ka[v.name] = kaWebFigures(t, v, runs).answer })
	}
	for _, ex := range examples {
		for _, v := range kaWebVariants {
			if p, k := pace[ex.name], ka[v.name]; len(p) > 0 && len(k) > 0 {
				t.Logf("figure: paceline %s / %s, crash -> HTTP 200: median %s, max %s",
					ex.name, v.name, ratio(p, k, median), ratio(p, k, maxOf))
			}
		}
	}
}

// checkExport compares `paceline config export`, with rep applied, with
// examples/NAME/config.yaml (written instead with PACELINE_UPDATE_EXAMPLES=1).
func (w *webCluster) checkExport(t *testing.T, name string, rep *strings.Replacer) {
	t.Helper()
	got := normalizeExport(rep.Replace(w.cliOut(t, "config", "export")))
	file := filepath.Join("..", "examples", name, "config.yaml")
	if os.Getenv("PACELINE_UPDATE_EXAMPLES") != "" {
		head := fmt.Sprintf("# The configuration examples/%s/setup.sh makes, as `paceline config export`\n"+
			"# prints it without the cluster's own epoch, last-change and nodes.\n"+
			"# Load it instead of running setup.sh with: paceline config import config.yaml\n", name)
		if err := os.WriteFile(file, []byte(head+got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if s := stripComments(string(want)); s != got {
		t.Errorf("%s is out of step with setup.sh (PACELINE_UPDATE_EXAMPLES=1 rewrites it); the export:\n%s", file, got)
	}
}
