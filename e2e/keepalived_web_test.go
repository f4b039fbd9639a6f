package e2e

// keepalived + nginx, the set-up keepalived users run, next to Paceline's
// web examples in TestExampleFigures (make bench-web): the same lab (three
// nodes at 192.0.2.1-3 and a client at 192.0.2.100 on one bridge, Debian's
// nginx on every node serving a page that names it), the VIP 192.0.2.50
// moved by keepalived 2.2.7 with a check script, its master crashed the
// way the examples' nodes are (every process of its namespace SIGKILLed by
// PID, its link down), and the time until the client gets HTTP 200 through
// the VIP from another node. Also, per run, where the time went: for
// keepalived when the backup entered MASTER state (its console log), for
// Paceline when the survivors declared the node failed (membership) and
// when the new holder ran each start (its operation history).

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// kaWebVariant is one keepalived set-up measured.
type kaWebVariant struct {
	name    string // the subtest's name
	version int    // VRRP version
	advert  string // advert_int, seconds
}

// kaWebVariants: keepalived's default (VRRPv2, one advert a second) and
// the fastest it is commonly tuned to (VRRPv3, 100 ms).
var kaWebVariants = []kaWebVariant{
	{"keepalived-v2-advert_int-1", 2, "1"},
	{"keepalived-v3-advert_int-0.1", 3, "0.1"},
}

// kaWebConf is node's keepalived.conf: the classic one. nginx runs on
// every node all the time; chk_nginx (curl on the loopback, which is the
// node's own in its namespace: a pid check would see every node's nginx,
// the nodes sharing one PID namespace) puts the instance in FAULT after 2
// failures a second apart and takes it out after 2 successes. n1 is
// configured MASTER (150), n2 and n3 BACKUP (100, 50); preemption is on
// (no nopreempt), so n1 takes the VIP back when it returns (keepalived
// 2.2.7 starts it as BACKUP all the same, its priority being below 255:
// it discards n2's lower-priority adverts and becomes master when its
// master-down timer expires). VRRPv2 gets the usual PASS authentication
// (VRRPv3 has none).
func kaWebConf(v kaWebVariant, node string) string {
	state := "BACKUP"
	if node == "n1" {
		state = "MASTER"
	}
	global, auth := "", ""
	if v.version == 3 {
		global = "\tvrrp_version 3\n"
	} else {
		auth = "\tauthentication {\n\t\tauth_type PASS\n\t\tauth_pass w3b5ecr7\n\t}\n"
	}
	return fmt.Sprintf(`global_defs {
	router_id web-%[1]s
	script_user root
	enable_script_security
%[2]s}
vrrp_script chk_nginx {
	script "/usr/bin/curl -sf -o /dev/null http://127.0.0.1/"
	interval 1
	timeout 1
	fall 2
	rise 2
}
vrrp_instance VI_web {
	state %[3]s
	interface eth0
	virtual_router_id 51
	priority %[4]d
	advert_int %[5]s
%[6]s	virtual_ipaddress {
		%[7]s/24 dev eth0
	}
	track_script {
		chk_nginx
	}
}
`, node, global, state, kaPriority[node], v.advert, auth, vipAddr)
}

// kaWeb is the keepalived lab: nodes n1-n3, each with nginx (daemonized,
// as systemd runs it) and keepalived, and the client.
type kaWeb struct {
	*webClient
	lab   *Lab
	dir   string // DIR/NODE: the node's site, keepalived.conf and pid files
	names []string
	ka    map[string]*kaProc
}

func newKaWeb(t *testing.T, v kaWebVariant) *kaWeb {
	t.Helper()
	needFiles(t, "make deps installs keepalived, nginx-light and curl", "/usr/sbin/keepalived", "/usr/sbin/nginx", "/usr/bin/curl")
	lab := NewLab(t)
	dir := sitesRoot(t, "pl-kaweb")
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	k := &kaWeb{lab: lab, dir: dir, names: []string{"n1", "n2", "n3"}, ka: map[string]*kaProc{}}
	for i, n := range k.names {
		lab.AddHost(n, fmt.Sprintf("192.0.2.%d/24", i+1))
	}
	lab.AddHost("client", exampleClientAddr)
	// nginx daemons (and check scripts) by PID; runs after each
	// keepalived's own cleanup (last in, first out).
	t.Cleanup(func() {
		for _, n := range append(slices.Clone(k.names), "client") {
			killNetns(t, lab.NS(n))
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range k.names {
				if k.ka[n] != nil {
					k.ka[n].kill()
					t.Logf("%s keepalived:\n%s", n, tail(k.ka[n].log.String(), 40))
				}
			}
		}
	})
	k.webClient = newWebClient(lab, k.describe)
	for _, n := range k.names {
		d := filepath.Join(dir, n)
		writeNginxSite(t, d, d, n)
		if err := os.WriteFile(filepath.Join(d, "keepalived.conf"), []byte(kaWebConf(v, n)), 0o644); err != nil {
			t.Fatal(err)
		}
		k.start(t, n)
	}
	return k
}

// start starts nginx, which forks into the background, then keepalived.
func (k *kaWeb) start(t *testing.T, node string) {
	t.Helper()
	d := filepath.Join(k.dir, node)
	cmd := exec.Command("ip", "netns", "exec", k.lab.NS(node), "nginx", "-c", filepath.Join(d, "nginx.conf"),
		"-g", "pid "+filepath.Join(d, "nginx.pid")+";")
	cmd.WaitDelay = 5 * time.Second // the daemon's copies of the output pipe
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nginx on %s: %v: %s", node, err, out)
	}
	k.ka[node] = startKeepalived(t, k.lab, k.dir, node)
}

// crash: as webCluster.crash — keepalived's process group, then every
// process of the namespace (nginx, a check script) SIGKILLed by PID, and
// the link down.
func (k *kaWeb) crash(t *testing.T, node string) time.Time {
	began, _ := crash(k.lab, node, func() {
		k.ka[node].kill()
		killNetns(t, k.lab.NS(node))
	})
	return began
}

// describe: each node's addresses on eth0 and keepalived's last lines.
func (k *kaWeb) describe(*testing.T) string {
	var b strings.Builder
	for _, n := range k.names {
		out, _ := exec.Command("ip", "-n", k.lab.NS(n), "-br", "addr", "show", "eth0").CombinedOutput()
		fmt.Fprintf(&b, "%s: %s", n, out)
		if k.ka[n] != nil {
			fmt.Fprintf(&b, "%s\n", tail(k.ka[n].log.String(), 8))
		}
	}
	return b.String()
}

// kaWebTimes are a keepalived variant's runs: crash -> HTTP 200, and
// its two parts.
type kaWebTimes struct {
	answer, master, afterMaster []time.Duration
}

// kaWebFigures crashes keepalived's master (n1, the highest priority)
// runs times; after each it reboots, n1 takes the VIP back (preemption)
// and the next run waits for that.
func kaWebFigures(t *testing.T, v kaWebVariant, runs int) kaWebTimes {
	k := newKaWeb(t, v)
	const master = "n1"
	var f kaWebTimes
	t0 := time.Now()
	k.waitServed(t, vipAddr, exampleBound, "", master)
	t.Logf("%s: 3 nodes started -> http://%s/ answers 200 from %s after %v", v.name, vipAddr, master, time.Since(t0).Round(time.Millisecond))
	for i := range runs {
		k.waitServed(t, vipAddr, exampleBound, "", master)
		// A random phase of the adverts (every 100 ms or 1 s since n1
		// became master): the master-down timer runs from the last one.
		crashPhase()
		began := k.crash(t, master)
		next, at := k.waitServed(t, vipAddr, exampleBound, master, "")
		line, ok := k.ka[next].log.first(began, "Entering MASTER STATE")
		if !ok {
			t.Fatalf("run %d: %s answers but its keepalived logged no MASTER state since the crash\n%s", i+1, next, k.describe(t))
		}
		f.answer = append(f.answer, at.Sub(began))
		f.master = append(f.master, line.at.Sub(began))
		f.afterMaster = append(f.afterMaster, at.Sub(line.at))
		t.Logf("run %d: %s crashed: %s entered MASTER state after %v; http://%s/ answers 200 from it after %v (%v later)",
			i+1, master, next, line.at.Sub(began).Round(time.Millisecond), vipAddr, at.Sub(began).Round(time.Millisecond),
			at.Sub(line.at).Round(time.Millisecond))

		reboot(k.lab, master)
		back := time.Now()
		k.start(t, master)
		_, at = k.waitServed(t, vipAddr, exampleBound, "", master)
		t.Logf("run %d: %s back: it serves the VIP again after %v", i+1, master, at.Sub(back).Round(time.Millisecond))
		// The neighbour locktime (1 s) before the address moves again.
		time.Sleep(time.Second)
	}
	t.Logf("figure: %s + nginx (chk_nginx): crash -> HTTP 200 through the VIP from another node, %d runs: median %v, max %v",
		v.name, runs, median(f.answer).Round(time.Millisecond), maxOf(f.answer).Round(time.Millisecond))
	t.Logf("figure: %s: where the time goes: crash -> backup in MASTER state (VRRP master-down timer): median %v, max %v; MASTER -> HTTP 200: median %v, max %v",
		v.name, median(f.master).Round(time.Millisecond), maxOf(f.master).Round(time.Millisecond),
		median(f.afterMaster).Round(time.Millisecond), maxOf(f.afterMaster).Round(time.Millisecond))
	return f
}

// paceSteps are the parts of Paceline's failovers, each with its
// duration in every run, in the order first added.
type paceSteps struct {
	names []string
	runs  map[string][]time.Duration
}

func (s *paceSteps) add(name string, d time.Duration) {
	if s.runs == nil {
		s.runs = map[string][]time.Duration{}
	}
	if _, ok := s.runs[name]; !ok {
		s.names = append(s.names, name)
	}
	s.runs[name] = append(s.runs[name], d)
}

func (s *paceSteps) String() string {
	var parts []string
	for _, n := range s.names {
		d := s.runs[n]
		parts = append(parts, fmt.Sprintf("%s: median %v, max %v", n, median(d).Round(time.Millisecond), maxOf(d).Round(time.Millisecond)))
	}
	return strings.Join(parts, "; ")
}

// failoverSteps says where a Paceline failover from crashed to next spent
// its time: when the first survivor declared crashed failed (membership's
// since), and when next began and ended each start of rscs (its operation
// history), relative to the crash at began; answered is the HTTP 200.
// The steps go into s; the returned line is for the run's log.
func (w *webCluster) failoverSteps(t *testing.T, crashed, next string, began, answered time.Time, rscs []string, s *paceSteps) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	var lost time.Time
	var each []string // every survivor's, for the log
	for _, n := range w.names {
		if n == crashed {
			continue
		}
		m, err := w.clients[n].Members(ctx)
		if err != nil {
			t.Errorf("members from %s: %v", n, err)
			return ""
		}
		for _, mb := range m.Members {
			if mb.Name != crashed || mb.State != "failed" {
				continue
			}
			at, err := time.Parse(time.RFC3339Nano, mb.Since)
			if err != nil {
				t.Errorf("%s: %s failed since %q: %v", n, crashed, mb.Since, err)
				return ""
			}
			each = append(each, fmt.Sprintf("%s after %v", n, ms(at.Sub(began))))
			if lost.IsZero() || at.Before(lost) {
				lost = at
			}
		}
	}
	if lost.IsZero() {
		t.Errorf("no survivor holds %s failed", crashed)
		return ""
	}
	line := "declared failed by " + strings.Join(each, ", ")
	starts := make([]span, len(rscs))
	for i, rsc := range rscs {
		h, err := w.clients[next].History(ctx, rsc, next)
		if err != nil {
			t.Errorf("history of %s on %s: %v", rsc, next, err)
			return line
		}
		for _, r := range h.Resources {
			for _, op := range r.Recent {
				if op.Action == "start" && op.Started.After(began) {
					starts[i] = span{op.Started, op.Started.Add(time.Duration(op.ExecMS * float64(time.Millisecond)))}
				}
			}
		}
		if starts[i].from.IsZero() {
			t.Errorf("%s ran no start of %s since the crash", next, rsc)
			return line
		}
		line += fmt.Sprintf("; %s start %v-%v", rsc, ms(starts[i].from.Sub(began)), ms(starts[i].to.Sub(began)))
	}
	s.add("crash -> declared failed", lost.Sub(began))
	s.add("declared failed -> first start", starts[0].from.Sub(lost))
	for i, rsc := range rscs {
		s.add(rsc+" start", starts[i].to.Sub(starts[i].from))
	}
	s.add("last start done -> HTTP 200", answered.Sub(starts[len(starts)-1].to))
	return line
}
