package e2e

// VRRP end to end (issue 10): the `paceline vrrp` binary TestMain builds
// and Debian's keepalived 2.2.7 on the hosts n1 (192.0.2.1) and n2
// (192.0.2.2) of one bridge, each with its own keepalived.conf, pid files
// and status socket in the test's directory, killed by PID at the end. A
// client host (192.0.2.100) listens to the adverts on the bridge (a raw
// VRRP socket in the group 224.0.0.18) and, for the figures, pings the
// VIP every 10 ms. Assertions are on behaviour — which host holds an
// address (ip -n NS addr), each side's state (`paceline vrrp status -o
// json`, keepalived's "Entering ... STATE" lines), the adverts heard —
// with generous bounds, never on timings:
//
//   - TestVRRPInterop: paceline against keepalived, VRRPv2 with auth PASS
//     and VRRPv3, multicast and unicast peers, either one the higher
//     priority: the higher becomes master; a crashed master's VIP moves to
//     the backup; the master preempts when it returns; a clean stop hands
//     over with a priority 0 advert.
//   - TestVRRPWrongPassword: adverts with the wrong PASS password are
//     ignored and counted on both sides.
//   - TestVRRPPreemptLikeKeepalived: preempt, nopreempt and preempt_delay:
//     one scenario with keepalived on both sides, then with paceline in
//     either place and in both: the same outcome.
//   - TestVRRPSeeds: the seeds' set-ups (testdata/vrrp/), checked by
//     `paceline vrrp --check` and `keepalived -t`, run by paceline vrrp
//     on both nodes, with failovers.
//   - TestVRRPFigures (make bench-vrrp): takeover after a master crash,
//     RSS and CPU, paceline vrrp and keepalived side by side.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paceline/paceline/agents/vrrp"
)

const (
	implPaceline   = "paceline"
	implKeepalived = "keepalived"
	// vrrpBound bounds each election and failover at advert_int 1 (a few
	// seconds each): generous, for a loaded machine; no timing assertion.
	vrrpBound = 45 * time.Second
)

// vrrpHosts are the two VRRP nodes.
var vrrpHosts = []struct{ name, addr string }{{"n1", "192.0.2.1"}, {"n2", "192.0.2.2"}}

// ---------------------------------------------------------------------
// The lab: two nodes, each running paceline vrrp or keepalived, and the
// client.

type vrrpLab struct {
	lab   *Lab
	dir   string // DIR/NODE: a node's files
	names []string
	nodes map[string]*vrrpNode
	watch *advertWatch
}

// vrrpNode is a node and the VRRP daemon it runs: paceline vrrp or
// keepalived, from DIR/NODE/keepalived.conf.
type vrrpNode struct {
	l          *vrrpLab
	name, addr string
	impl       string
	dir        string
	// proc is the daemon now (or last) running; procs every one started,
	// for their logs.
	proc  *kaProc
	procs []*kaProc
}

// newVRRPLab makes n1 (running impl1), n2 (impl2) and the client, which
// starts listening to the adverts on the bridge.
func newVRRPLab(t *testing.T, impl1, impl2 string) *vrrpLab {
	t.Helper()
	needFiles(t, "make deps installs keepalived", "/usr/sbin/keepalived")
	lab := NewLab(t)
	dir := sitesRoot(t, "pl-vrrp") // short (status sockets), and passable for nginx's workers
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	l := &vrrpLab{lab: lab, dir: dir, nodes: map[string]*vrrpNode{}}
	for i, h := range vrrpHosts {
		lab.AddHost(h.name, h.addr+"/24")
		impl := impl1
		if i == 1 {
			impl = impl2
		}
		n := &vrrpNode{l: l, name: h.name, addr: h.addr, impl: impl, dir: filepath.Join(dir, h.name)}
		if err := os.MkdirAll(n.dir, 0o755); err != nil {
			t.Fatal(err)
		}
		l.names = append(l.names, h.name)
		l.nodes[h.name] = n
	}
	lab.AddHost("client", clientAddr)
	// Whatever else runs in the namespaces (nginx, redis, scripts), by
	// PID; after the daemons' own cleanups (last in, first out).
	t.Cleanup(func() {
		for _, n := range append(slices.Clone(l.names), "client") {
			killNetns(t, lab.NS(n))
		}
	})
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, name := range l.names {
			n := l.nodes[name]
			for i, p := range n.procs {
				p.kill()
				t.Logf("%s, run %d of %d, log (end):\n%s", n, i+1, len(n.procs), tail(p.log.String(), 40))
			}
		}
	})
	l.watch = watchAdverts(t, lab, "client")
	return l
}

func (l *vrrpLab) other(n *vrrpNode) *vrrpNode {
	for _, name := range l.names {
		if name != n.name {
			return l.nodes[name]
		}
	}
	return nil
}

func (n *vrrpNode) String() string { return n.name + " (" + n.impl + ")" }
func (n *vrrpNode) ns() string     { return n.l.lab.NS(n.name) }
func (n *vrrpNode) conf() string   { return filepath.Join(n.dir, "keepalived.conf") }
func (n *vrrpNode) sock() string   { return filepath.Join(n.dir, "vrrp.sock") }

func (n *vrrpNode) writeConf(t *testing.T, text string) {
	t.Helper()
	if err := os.WriteFile(n.conf(), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// start runs the node's daemon in its namespace. keepalived is started
// as the other e2e tests start it; paceline vrrp likewise: its own
// process group, its console log stamped line by line, killed by PID at
// test end.
func (n *vrrpNode) start(t *testing.T) {
	t.Helper()
	if n.impl == implKeepalived {
		n.proc = startKeepalived(t, n.l.lab, n.l.dir, n.name)
	} else {
		// ip netns exec execs paceline: the PID is paceline's.
		cmd := exec.Command("ip", "netns", "exec", n.ns(), bin, "vrrp", "--config", n.conf(),
			"--status-socket", n.sock(), "--config-id", n.name)
		p := &kaProc{cmd: cmd, log: &stampedLog{}}
		cmd.Stdout, cmd.Stderr = p.log, p.log
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.WaitDelay = time.Second // a script it started may hold the pipe
		if err := cmd.Start(); err != nil {
			t.Fatalf("start paceline vrrp in %s: %v", n.name, err)
		}
		t.Cleanup(p.kill)
		n.proc = p
	}
	n.procs = append(n.procs, n.proc)
}

// crash: the node dies as the other e2e tests' nodes do: its daemon's
// process group and every other process of its namespace SIGKILLed by
// PID, then its link down. It returns when the crash began.
func (n *vrrpNode) crash(t *testing.T) time.Time {
	began, _ := crash(n.l.lab, n.name, func() {
		n.proc.kill()
		killNetns(t, n.ns())
	})
	return began
}

// reboot brings a crashed node's link back up without the addresses it
// held; the caller starts its daemons.
func (n *vrrpNode) reboot(vips ...string) {
	for _, v := range vips {
		_ = exec.Command("ip", "-n", n.ns(), "addr", "del", v+"/24", "dev", "eth0").Run()
	}
	reboot(n.l.lab, n.name) // vipAddr, and the link
}

// terminate stops the daemon cleanly: SIGTERM to its PID (keepalived's
// parent passes it on to its VRRP child), as systemctl stop would. A
// master resigns with a priority 0 advert. It returns when the signal
// was sent.
func (n *vrrpNode) terminate(t *testing.T) time.Time {
	t.Helper()
	p := n.proc
	at := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Errorf("%s ignored SIGTERM for 20 s: SIGKILL", n)
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	p.killed = true
	return at
}

// status is `paceline vrrp status -o json` on a paceline node.
func (n *vrrpNode) status() ([]vrrp.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "vrrp", "status", "--status-socket", n.sock(), "-o", "json")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("paceline vrrp status on %s: %v: %s", n.name, err, bytes.TrimSpace(stderr.Bytes()))
	}
	var st struct {
		Instances []vrrp.Status `json:"instances"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return nil, fmt.Errorf("paceline vrrp status -o json on %s: %v: %s", n.name, err, out)
	}
	return st.Instances, nil
}

// instance is one instance's status on a paceline node.
func (n *vrrpNode) instance(name string) (vrrp.Status, error) {
	st, err := n.status()
	if err != nil {
		return vrrp.Status{}, err
	}
	for _, s := range st {
		if s.Name == name {
			return s, nil
		}
	}
	return vrrp.Status{}, fmt.Errorf("%s: no instance %s in paceline vrrp status", n.name, name)
}

// state is an instance's state: paceline vrrp's status, or the last
// "(NAME) Entering ... STATE" line of the keepalived running now.
func (n *vrrpNode) state(inst string) string {
	if n.proc == nil {
		return "not started"
	}
	if n.impl == implPaceline {
		s, err := n.instance(inst)
		if err != nil {
			return err.Error()
		}
		return s.State
	}
	state := "no state logged"
	key := "(" + inst + ") Entering "
	for _, line := range stampedLines(n.proc.log, key) {
		if f := strings.Fields(line.text[strings.Index(line.text, key)+len(key):]); len(f) > 0 {
			state = f[0]
		}
	}
	return state
}

// stampedLines are a log's lines that contain s.
func stampedLines(l *stampedLog, s string) []stampedLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []stampedLine
	for _, line := range l.lines {
		if strings.Contains(line.text, s) {
			out = append(out, line)
		}
	}
	return out
}

// logged are the lines with s that every daemon the node ran logged.
func (n *vrrpNode) logged(s string) []string {
	var out []string
	for _, p := range n.procs {
		for _, line := range stampedLines(p.log, s) {
			out = append(out, line.at.Format("15:04:05.000")+" "+line.text)
		}
	}
	return out
}

// holds says whether the node has the address on eth0, the link up.
func (n *vrrpNode) holds(vip string) bool {
	out, err := exec.Command("ip", "-n", n.ns(), "-o", "-4", "addr", "show", "dev", "eth0", "up").Output()
	return err == nil && strings.Contains(string(out), " inet "+vip+"/")
}

// holders lists the nodes holding the address.
func (l *vrrpLab) holders(vip string) string {
	var on []string
	for _, name := range l.names {
		if l.nodes[name].holds(vip) {
			on = append(on, name)
		}
	}
	return join(on)
}

// describe: each node's addresses, paceline's status, the last lines of
// its log.
func (l *vrrpLab) describe() string {
	var b strings.Builder
	for _, name := range l.names {
		n := l.nodes[name]
		out, _ := exec.Command("ip", "-n", n.ns(), "-br", "-4", "addr", "show", "dev", "eth0").CombinedOutput()
		fmt.Fprintf(&b, "%s: %s", n, out)
		if n.proc == nil {
			continue
		}
		if n.impl == implPaceline {
			if st, err := n.status(); err != nil {
				fmt.Fprintf(&b, "  %v\n", err)
			} else {
				for _, s := range st {
					fmt.Fprintf(&b, "  %s: %s (%s), priority %d, master %q, adjustments %v, faults %v, counters %+v\n",
						s.Name, s.State, s.Reason, s.Priority, s.Master, s.Adjustments, s.Faults, s.Counters)
				}
			}
		}
		fmt.Fprintf(&b, "%s\n", tail(n.proc.log.String(), 10))
	}
	return b.String()
}

// pollUntil checks cond every 100 ms until it holds or bound passes; it
// returns whether it held and what cond said last.
func pollUntil(bound time.Duration, cond func() (bool, string)) (bool, string) {
	deadline := time.Now().Add(bound)
	for {
		ok, why := cond()
		if ok || time.Now().After(deadline) {
			return ok, why
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// eventually fails the test unless cond holds within bound.
func (l *vrrpLab) eventually(t *testing.T, bound time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	if ok, why := pollUntil(bound, cond); !ok {
		t.Fatalf("%s: not within %v: %s\n%s", what, bound, why, l.describe())
	}
}

// roles checks that master holds vip and is MASTER of inst, and that
// each backup is BACKUP without vip (a paceline backup hearing master).
func (l *vrrpLab) roles(inst, vip string, master *vrrpNode, backups ...*vrrpNode) (bool, string) {
	if !master.holds(vip) {
		return false, fmt.Sprintf("%s does not hold %s (holders: %s)", master, vip, l.holders(vip))
	}
	if s := master.state(inst); s != "MASTER" {
		return false, fmt.Sprintf("%s %s: %s", master, inst, s)
	}
	for _, b := range backups {
		if b.holds(vip) {
			return false, fmt.Sprintf("%s holds %s too", b, vip)
		}
		if s := b.state(inst); s != "BACKUP" {
			return false, fmt.Sprintf("%s %s: %s", b, inst, s)
		}
		if b.impl == implPaceline {
			if s, err := b.instance(inst); err != nil || s.Master != master.addr {
				return false, fmt.Sprintf("%s %s hears master %q (%v), want %s", b, inst, s.Master, err, master.addr)
			}
		}
	}
	return true, ""
}

// waitRoles waits until roles holds.
func (l *vrrpLab) waitRoles(t *testing.T, what, inst, vip string, master *vrrpNode, backups ...*vrrpNode) {
	t.Helper()
	l.eventually(t, vrrpBound, what, func() (bool, string) { return l.roles(inst, vip, master, backups...) })
	t.Logf("%s: %s", what, l.summary(inst, vip))
}

// summary: each running node's state of inst, and who holds vip.
func (l *vrrpLab) summary(inst, vip string) string {
	var parts []string
	for _, name := range l.names {
		n := l.nodes[name]
		s := n.String() + " " + inst + " "
		switch {
		case n.proc == nil || n.proc.killed:
			s += "down"
		default:
			s += n.state(inst)
		}
		if n.holds(vip) {
			s += ", holds " + vip
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// logKeyLines logs what each node's daemons said about inst: keepalived's
// lines naming it, paceline's state changes.
func (l *vrrpLab) logKeyLines(t *testing.T, inst string) {
	for _, name := range l.names {
		n := l.nodes[name]
		key := "(" + inst + ")"
		if n.impl == implPaceline {
			key = "instance=" + inst
		}
		for _, line := range n.logged(key) {
			t.Logf("%s: %s", n, line)
		}
	}
}

// ---------------------------------------------------------------------
// keepalived.conf for the lab.

// kaSpec is a node's keepalived.conf: count instances VI_1..VI_count,
// VRIDs 51.., each with one address (192.0.2.50 when alone, else
// 192.0.2.61..), state BACKUP.
type kaSpec struct {
	version int
	advert  string // advert_int
	pass    string // auth PASS (v2), "" for none
	prio    int
	unicast bool     // unicast_src_ip, unicast_peer the other node
	extra   []string // more lines in each instance
	count   int      // 0: 1
}

func (c kaSpec) withPriority(p int) kaSpec { c.prio = p; return c }

// vip is the address of instance i (from 1).
func (c kaSpec) vip(i int) string {
	if c.count <= 1 {
		return vipAddr
	}
	return fmt.Sprintf("192.0.2.%d", 60+i)
}

func (c kaSpec) render(n *vrrpNode) string {
	var b strings.Builder
	fmt.Fprintf(&b, "! vrrp_test.go: %s\nglobal_defs {\n\trouter_id %s\n\tvrrp_version %d\n}\n", n, n.name, c.version)
	for i := 1; i <= max(c.count, 1); i++ {
		fmt.Fprintf(&b, "vrrp_instance VI_%d {\n\tstate BACKUP\n\tinterface eth0\n\tvirtual_router_id %d\n\tpriority %d\n\tadvert_int %s\n",
			i, 50+i, c.prio, c.advert)
		if c.pass != "" {
			fmt.Fprintf(&b, "\tauthentication {\n\t\tauth_type PASS\n\t\tauth_pass %s\n\t}\n", c.pass)
		}
		if c.unicast {
			fmt.Fprintf(&b, "\tunicast_src_ip %s\n\tunicast_peer {\n\t\t%s\n\t}\n", n.addr, n.l.other(n).addr)
		}
		for _, x := range c.extra {
			fmt.Fprintf(&b, "\t%s\n", x)
		}
		fmt.Fprintf(&b, "\tvirtual_ipaddress {\n\t\t%s/24 dev eth0\n\t}\n}\n", c.vip(i))
	}
	return b.String()
}

// ---------------------------------------------------------------------
// Adverts on the wire, as a host on the bridge hears them.

type advertWatch struct {
	mu   sync.Mutex
	seen []heardAdvert
}

type heardAdvert struct {
	at  time.Time
	src netip.Addr
	adv vrrp.Advert
	err error // the packet does not parse
}

// watchAdverts records every VRRP packet sent to 224.0.0.18 that host
// receives, until the test ends.
func watchAdverts(t *testing.T, lab *Lab, host string) *advertWatch {
	t.Helper()
	conn, err := InNetns(lab.NS(host), func() (*vrrp.Conn, error) {
		return vrrp.Listen(context.Background(), vrrp.Config{Interface: "eth0"}, slog.New(slog.DiscardHandler))
	})
	if err != nil {
		t.Fatalf("VRRP socket in %s: %v", host, err)
	}
	w := &advertWatch{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			p, err := conn.Receive(ctx)
			if err != nil {
				if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
					return
				}
				time.Sleep(10 * time.Millisecond)
				continue
			}
			h := heardAdvert{at: time.Now(), src: p.Src}
			h.adv, h.err = p.Parse()
			w.mu.Lock()
			w.seen = append(w.seen, h)
			w.mu.Unlock()
		}
	})
	t.Cleanup(func() { cancel(); _ = conn.Close(); wg.Wait() })
	return w
}

// since returns the adverts heard after from (from src, unless "").
func (w *advertWatch) since(from time.Time, src string) []heardAdvert {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []heardAdvert
	for _, h := range w.seen {
		if h.at.After(from) && (src == "" || h.src.String() == src) {
			out = append(out, h)
		}
	}
	return out
}

// checkAdverts fails the test unless every advert heard after from
// parses and is of the configuration's version and authentication.
func (w *advertWatch) checkAdverts(t *testing.T, from time.Time, c kaSpec) int {
	t.Helper()
	heard := w.since(from, "")
	var want [8]byte
	if c.pass != "" {
		want, _ = vrrp.PassData(c.pass)
	}
	for _, h := range heard {
		switch {
		case h.err != nil:
			t.Errorf("advert from %s does not parse: %v", h.src, h.err)
		case int(h.adv.Version) != c.version:
			t.Errorf("advert from %s: %s, want version %d", h.src, h.adv.String(), c.version)
		case c.pass != "" && (h.adv.AuthType != vrrp.AuthPass || h.adv.AuthData != want):
			t.Errorf("advert from %s: %s: not auth PASS with the configured password", h.src, h.adv.String())
		}
	}
	return len(heard)
}

// ---------------------------------------------------------------------
// Interoperation.

// TestVRRPInterop: paceline vrrp on n1 and keepalived on n2, one VIP,
// VRRPv2 with auth PASS and VRRPv3, multicast and unicast peers, and
// either side the higher priority (150 against 100). Each time:
//
//  1. both start as BACKUP: the higher priority becomes MASTER and holds
//     the VIP, the other BACKUP (a paceline backup names the master);
//  2. the master crashes (SIGKILL by PID, link down): the backup becomes
//     MASTER and holds the VIP;
//  3. it returns without the VIP: it preempts, the other is BACKUP again;
//  4. it stops cleanly (SIGTERM): the backup takes over, and the client
//     heard the master's priority 0 advert (multicast), a paceline backup
//     counted one;
//
// every multicast advert heard was of the configured version (and
// password); with unicast peers none was multicast at all.
func TestVRRPInterop(t *testing.T) {
	versions := []struct {
		name    string
		version int
		pass    string
	}{{"v2-pass", 2, "s3cr3t"}, {"v3", 3, ""}}
	for _, v := range versions {
		for _, unicast := range []bool{false, true} {
			cast := "multicast"
			if unicast {
				cast = "unicast"
			}
			for _, master := range []string{implPaceline, implKeepalived} {
				t.Run(v.name+"/"+cast+"/"+master+"-master", func(t *testing.T) {
					interop(t, kaSpec{version: v.version, advert: "1", pass: v.pass, unicast: unicast}, master)
				})
			}
		}
	}
}

func interop(t *testing.T, c kaSpec, masterImpl string) {
	l := newVRRPLab(t, implPaceline, implKeepalived)
	hi, lo := l.nodes["n1"], l.nodes["n2"]
	if masterImpl == implKeepalived {
		hi, lo = lo, hi
	}
	hi.writeConf(t, c.withPriority(150).render(hi))
	lo.writeConf(t, c.withPriority(100).render(lo))
	began := time.Now()
	lo.start(t)
	hi.start(t)
	l.waitRoles(t, "elected", "VI_1", vipAddr, hi, lo)

	hi.crash(t)
	l.waitRoles(t, hi.name+" crashed (SIGKILL, link down)", "VI_1", vipAddr, lo)

	hi.reboot()
	hi.start(t)
	l.waitRoles(t, hi.name+" back: it preempts", "VI_1", vipAddr, hi, lo)

	stopped := hi.terminate(t)
	l.waitRoles(t, hi.name+" stopped (SIGTERM)", "VI_1", vipAddr, lo)
	if !c.unicast {
		var zero heardAdvert
		if ok, _ := pollUntil(10*time.Second, func() (bool, string) {
			for _, h := range l.watch.since(stopped, hi.addr) {
				if h.err == nil && h.adv.Priority == 0 {
					zero = h
					return true, ""
				}
			}
			return false, ""
		}); ok {
			t.Logf("heard from %s after its SIGTERM: %s", hi, zero.adv.String())
		} else {
			t.Errorf("no priority 0 advert from %s heard after its SIGTERM", hi)
		}
	}
	if lo.impl == implPaceline {
		if s, err := lo.instance("VI_1"); err != nil || s.Counters.PriorityZeroReceived == 0 {
			t.Errorf("paceline vrrp on %s counted no priority 0 advert: %+v %v", lo.name, s.Counters, err)
		} else {
			t.Logf("%s counted %d priority 0 advert(s) received", lo, s.Counters.PriorityZeroReceived)
		}
	}

	n := l.watch.checkAdverts(t, began, c)
	if c.unicast && n > 0 {
		t.Errorf("unicast peers: %d adverts were multicast", n)
	}
	t.Logf("the client heard %d multicast adverts", n)
	l.logKeyLines(t, "VI_1")
}

// TestVRRPWrongPassword: paceline vrrp (priority 150) and keepalived
// (100) with different VRRPv2 PASS passwords ignore each other's adverts:
// both are MASTER and hold the VIP; paceline counts them as auth_mismatch
// (status -o json and --metrics), keepalived logs "received an invalid
// passwd!" and takes none.
func TestVRRPWrongPassword(t *testing.T) {
	l := newVRRPLab(t, implPaceline, implKeepalived)
	pl, ka := l.nodes["n1"], l.nodes["n2"]
	c := kaSpec{version: 2, advert: "1"}
	c.pass = "right12"
	pl.writeConf(t, c.withPriority(150).render(pl))
	c.pass = "wrong34"
	ka.writeConf(t, c.withPriority(100).render(ka))
	ka.start(t)
	pl.start(t)
	l.eventually(t, vrrpBound, "both MASTER, each ignoring the other", func() (bool, string) {
		for _, n := range []*vrrpNode{pl, ka} {
			if !n.holds(vipAddr) || n.state("VI_1") != "MASTER" {
				return false, l.summary("VI_1", vipAddr)
			}
		}
		// Three of each: it goes on.
		s, err := pl.instance("VI_1")
		if err != nil || s.Counters.Dropped["auth_mismatch"] < 3 {
			return false, fmt.Sprintf("paceline's counters: %+v %v", s.Counters, err)
		}
		if n := len(stampedLines(ka.proc.log, "(VI_1) received an invalid passwd!")); n < 3 {
			return false, fmt.Sprintf("keepalived logged %d invalid passwords", n)
		}
		return true, ""
	})
	t.Logf("%s", l.summary("VI_1", vipAddr))
	s, err := pl.instance("VI_1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Counters.AdvertsReceived != 0 {
		t.Errorf("paceline took %d of keepalived's adverts", s.Counters.AdvertsReceived)
	}
	t.Logf("paceline vrrp status -o json: counters %+v", s.Counters)
	out, err := exec.Command(bin, "vrrp", "status", "--status-socket", pl.sock(), "--metrics").CombinedOutput()
	if err != nil {
		t.Fatalf("paceline vrrp status --metrics: %v: %s", err, out)
	}
	prefix := `paceline_vrrp_packets_dropped_total{instance="VI_1",interface="eth0",vrid="51",reason="auth_mismatch"} `
	found := false
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			found = true
			if n, err := strconv.Atoi(v); err != nil || n == 0 {
				t.Errorf("--metrics: %s", line)
			}
			t.Logf("paceline vrrp status --metrics: %s", line)
		}
	}
	if !found {
		t.Errorf("--metrics has no %s...:\n%s", prefix, out)
	}
	if b := stampedLines(ka.proc.log, "Entering BACKUP STATE"); len(b) > 1 {
		t.Errorf("keepalived went back to BACKUP: %v", b[1:])
	}
	for _, line := range ka.logged("invalid passwd") {
		t.Logf("keepalived: %s", line)
		break
	}
	t.Logf("keepalived logged %d invalid password lines", len(ka.logged("invalid passwd")))
}

// ---------------------------------------------------------------------
// Preemption, as keepalived does it.

// preemptOutcome is what a preemption scenario came to: who held the VIP
// at the probe and at the end, and how often the holder changed.
type preemptOutcome struct {
	early, final string
	moves        int
}

func (o preemptOutcome) String() string {
	return fmt.Sprintf("holder %s at the probe, %s at the end, %d move(s)", o.early, o.final, o.moves)
}

// TestVRRPPreemptLikeKeepalived: n2 (priority 100) runs alone and holds
// the VIP, then n1 (150) starts, both configured BACKUP with one of
// preempt (the default), nopreempt and preempt_delay 3, VRRPv3 advert_int
// 0.1. Who holds the VIP is watched from n1's start: at the probe (1.5 s:
// four master down intervals, well short of the 3 s delay) and until the
// end of the scenario's window (or n1 held it for 1 s after the probe). The scenario runs with keepalived on both nodes first, then
// with paceline vrrp on n1, on n2, and on both: each outcome must be
// keepalived's: preempt: n1 takes over at once; nopreempt: n2 keeps it;
// preempt_delay: n2 keeps it for the delay, then n1 takes over.
func TestVRRPPreemptLikeKeepalived(t *testing.T) {
	modes := []struct {
		name   string
		extra  []string
		window time.Duration
		want   preemptOutcome
	}{
		{"preempt", nil, 5 * time.Second, preemptOutcome{"n1", "n1", 1}},
		{"nopreempt", []string{"nopreempt"}, 5 * time.Second, preemptOutcome{"n2", "n2", 0}},
		{"preempt_delay", []string{"preempt_delay 3"}, 12 * time.Second, preemptOutcome{"n2", "n1", 1}},
	}
	pairs := [][2]string{
		{implKeepalived, implKeepalived},
		{implPaceline, implKeepalived},
		{implKeepalived, implPaceline},
		{implPaceline, implPaceline},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			var ref *preemptOutcome
			for _, p := range pairs {
				t.Run("n1-"+p[0]+"/n2-"+p[1], func(t *testing.T) {
					got := preemptScenario(t, p[0], p[1], kaSpec{version: 3, advert: "0.1", extra: m.extra}, m.window)
					t.Logf("%s: %v", m.name, got)
					if p[0] == implKeepalived && p[1] == implKeepalived {
						ref = &got
						if got != m.want {
							t.Errorf("keepalived on both nodes: %v; this test expected %v", got, m.want)
						}
						return
					}
					want, of := m.want, "this test's expectation"
					if ref != nil {
						want, of = *ref, "keepalived on both nodes"
					}
					if got != want {
						t.Errorf("%s: %v; %s: %v", m.name, got, of, want)
					}
				})
			}
		})
	}
}

func preemptScenario(t *testing.T, impl1, impl2 string, c kaSpec, window time.Duration) preemptOutcome {
	const probe = 1500 * time.Millisecond
	l := newVRRPLab(t, impl1, impl2)
	hi, lo := l.nodes["n1"], l.nodes["n2"]
	hi.writeConf(t, c.withPriority(150).render(hi))
	lo.writeConf(t, c.withPriority(100).render(lo))
	lo.start(t)
	l.waitRoles(t, lo.name+" alone", "VI_1", vipAddr, lo)
	hi.start(t)
	started := time.Now()
	// The watch is the scenario itself: its window is a negative check
	// too (with nopreempt nothing may move in it). Moves count changes
	// between single holders: a sample between the two nodes' address
	// changes (none, or both) is no move.
	o := preemptOutcome{final: lo.name}
	since := started
	for {
		el := time.Since(started)
		on := l.holders(vipAddr)
		if on == hi.name || on == lo.name {
			if on != o.final {
				o.moves++
				t.Logf("%s moved from %s to %s %v after %s started", vipAddr, o.final, on, el.Round(100*time.Millisecond), hi)
				o.final, since = on, time.Now()
			}
		}
		if o.early == "" && el >= probe {
			o.early = o.final
			t.Logf("probe, %v after %s started: %s", el.Round(100*time.Millisecond), hi, l.summary("VI_1", vipAddr))
		}
		if el >= window || (o.early != "" && o.final == hi.name && time.Since(since) >= time.Second) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	master, backup := hi, lo
	if o.final == lo.name {
		master, backup = lo, hi
	}
	l.waitRoles(t, "the end", "VI_1", vipAddr, master, backup)
	l.logKeyLines(t, "VI_1")
	return o
}

// ---------------------------------------------------------------------
// The seeds' set-ups.

// TestVRRPSeeds runs the set-ups of testdata/vrrp/ with paceline vrrp on
// both nodes, each checked first by `paceline vrrp --check` and
// `keepalived -t`.
func TestVRRPSeeds(t *testing.T) {
	t.Run("nginx", seedNginx)
	t.Run("active-active", seedActiveActive)
	t.Run("redis", seedRedis)
}

// useSeed gives each node the set-up's file for it, included from a
// keepalived.conf that defines $DIR (the node's directory) and $SCRIPTS
// (a copy of testdata/vrrp/*.sh in the test's directory, which only root
// can write, as enable_script_security wants wherever the checkout is),
// and checks it with paceline vrrp --check and, in the node's namespace
// (it looks for the interfaces), keepalived -t: both must accept it.
func (l *vrrpLab) useSeed(t *testing.T, seed string) {
	t.Helper()
	testdata, err := filepath.Abs(filepath.Join("testdata", "vrrp"))
	if err != nil {
		t.Fatal(err)
	}
	scripts := filepath.Join(l.dir, "scripts")
	if err := os.MkdirAll(scripts, 0o755); err != nil {
		t.Fatal(err)
	}
	sh, _ := filepath.Glob(filepath.Join(testdata, "*.sh"))
	for _, f := range sh {
		b, err := os.ReadFile(f)
		if err == nil {
			err = os.WriteFile(filepath.Join(scripts, filepath.Base(f)), b, 0o755)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range l.names {
		n := l.nodes[name]
		src := filepath.Join(testdata, seed, name+".conf")
		if _, err := os.Stat(src); err != nil {
			t.Fatal(err) // keepalived -t passes a missing file
		}
		n.writeConf(t, fmt.Sprintf("! vrrp_test.go: the set-up %s/%s.conf with this test's directories\n$DIR=%s\n$SCRIPTS=%s\ninclude %s\n",
			seed, name, n.dir, scripts, src))
		out, err := exec.Command(bin, "vrrp", "--check", "-f", n.conf()).CombinedOutput()
		if err != nil {
			t.Fatalf("paceline vrrp --check -f %s (%s/%s.conf): %v\n%s", n.conf(), seed, name, err, out)
		}
		t.Logf("paceline vrrp --check, %s/%s.conf:\n%s", seed, name, bytes.TrimSpace(out))
		out, err = exec.Command("ip", "netns", "exec", n.ns(), "keepalived", "-t", "-l", "-f", n.conf()).CombinedOutput()
		if err != nil {
			t.Fatalf("keepalived -t -f %s (%s/%s.conf): %v\n%s", n.conf(), seed, name, err, out)
		}
		t.Logf("keepalived -t, %s/%s.conf: exit 0 %s", seed, name, bytes.TrimSpace(out))
	}
}

// startNginx starts nginx in the node's namespace (it forks into the
// background), serving "served by NODE" (writeNginxSite).
func (n *vrrpNode) startNginx(t *testing.T) {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", n.ns(), "nginx", "-c", filepath.Join(n.dir, "nginx.conf"),
		"-g", "pid "+filepath.Join(n.dir, "nginx.pid")+";")
	cmd.WaitDelay = 5 * time.Second // the daemon's copies of the output pipe
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nginx on %s: %v: %s", n.name, err, out)
	}
}

// stopNginx stops the node's nginx by the PID in its pid file and waits
// until it is gone (it removes the file).
func (n *vrrpNode) stopNginx(t *testing.T) {
	t.Helper()
	pidFile := filepath.Join(n.dir, "nginx.pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		t.Fatalf("nginx pid file %s: %q", pidFile, b)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatalf("stop nginx on %s (pid %d): %v", n.name, pid, err)
	}
	n.l.eventually(t, 20*time.Second, "nginx on "+n.name+" stopped", func() (bool, string) {
		_, err := os.Stat(pidFile)
		return errors.Is(err, os.ErrNotExist), "its pid file is still there"
	})
}

// seedNginx, set-up (a): nginx on both nodes, the VIP on n1 (150) with
// chk_nginx (weight -60). The client fetches http://VIP/ and names the
// node that answers. n1 crashes: n2 serves; n1 returns and preempts. Then
// n1's nginx stops: chk_nginx fails, n1's priority drops to 90 and n2
// (100) takes the VIP; nginx back: n1 takes it back.
func seedNginx(t *testing.T) {
	needFiles(t, "make deps installs nginx-light and curl", "/usr/sbin/nginx", "/usr/bin/curl")
	l := newVRRPLab(t, implPaceline, implPaceline)
	l.useSeed(t, "nginx")
	n1, n2 := l.nodes["n1"], l.nodes["n2"]
	web := newWebClient(l.lab, func(*testing.T) string { return l.describe() })
	for _, n := range []*vrrpNode{n1, n2} {
		writeNginxSite(t, n.dir, n.dir, n.name)
		n.startNginx(t)
		n.start(t)
	}
	const inst = "VI_web"
	l.waitRoles(t, "started", inst, vipAddr, n1, n2)
	web.waitServed(t, vipAddr, vrrpBound, "", "n1")

	n1.crash(t)
	l.waitRoles(t, "n1 crashed", inst, vipAddr, n2)
	web.waitServed(t, vipAddr, vrrpBound, "n1", "n2")
	t.Logf("http://%s/ served by n2", vipAddr)

	n1.reboot()
	n1.startNginx(t)
	n1.start(t)
	l.waitRoles(t, "n1 back: it preempts", inst, vipAddr, n1, n2)
	web.waitServed(t, vipAddr, vrrpBound, "", "n1")
	t.Logf("http://%s/ served by n1", vipAddr)

	// The check script: track scripts must be wired into paceline vrrp.
	n1.stopNginx(t)
	if ok, why := pollUntil(vrrpBound, func() (bool, string) { return l.roles(inst, vipAddr, n2, n1) }); !ok {
		t.Fatalf("n1's nginx stopped, chk_nginx failing there: the VIP did not move to n2 within %v (%s). "+
			"Does paceline vrrp run track scripts (vrrp_script / track_script)?\n%s", vrrpBound, why, l.describe())
	}
	t.Logf("n1's nginx stopped: %s", l.summary(inst, vipAddr))
	if s, err := n1.instance(inst); err != nil || s.Priority != 90 || !slices.ContainsFunc(s.Adjustments, func(a string) bool { return strings.Contains(a, "chk_nginx") }) {
		t.Errorf("n1 with chk_nginx failing: priority %d, adjustments %v (%v); want 90 with chk_nginx's -60", s.Priority, s.Adjustments, err)
	} else {
		t.Logf("n1: priority %d (base %d), adjustments %v", s.Priority, s.BasePriority, s.Adjustments)
	}
	web.waitServed(t, vipAddr, vrrpBound, "n1", "n2")
	t.Logf("http://%s/ served by n2", vipAddr)

	n1.startNginx(t)
	l.waitRoles(t, "n1's nginx back: chk_nginx rises, n1 preempts", inst, vipAddr, n1, n2)
	if s, err := n1.instance(inst); err != nil || s.Priority != 150 {
		t.Errorf("n1 with chk_nginx passing again: priority %d (%v), want 150", s.Priority, err)
	}
	web.waitServed(t, vipAddr, vrrpBound, "", "n1")
	l.logKeyLines(t, inst)
}

// notifyLog is the notify.log of a node (the set-ups' scripts write it).
func (n *vrrpNode) notifyLog() string {
	b, _ := os.ReadFile(filepath.Join(n.dir, "notify.log"))
	return string(b)
}

// notifyWant is a line a node's notify.log must get after an offset.
type notifyWant struct {
	n    *vrrpNode
	from int
	line string
	why  string
}

// expectNotify notes that n's notify.log must get a line containing line,
// after what it holds now.
func expectNotify(ws []notifyWant, n *vrrpNode, line, why string) []notifyWant {
	return append(ws, notifyWant{n, len(n.notifyLog()), line, why})
}

// checkNotify waits (one bound for all) until every expected line is
// there; it reports each missing one.
func checkNotify(t *testing.T, ws []notifyWant) {
	t.Helper()
	missing := func() []notifyWant {
		var out []notifyWant
		for _, w := range ws {
			s := w.n.notifyLog()
			if w.from > len(s) || !strings.Contains(s[w.from:], w.line) {
				out = append(out, w)
			}
		}
		return out
	}
	ok, _ := pollUntil(vrrpBound, func() (bool, string) { return len(missing()) == 0, "" })
	if ok {
		return
	}
	for _, w := range missing() {
		t.Errorf("%s: no %q in its notify.log (%s). Does paceline vrrp run notify scripts?", w.n, w.line, w.why)
	}
	for _, name := range []string{"n1", "n2"} {
		n := ws[0].n.l.nodes[name]
		t.Logf("%s notify.log:\n%s", n, n.notifyLog())
	}
}

// seedActiveActive, set-up (b): VI_51 MASTER on n1, VI_52 on n2, each
// reported to notify.sh. n1 crashes: n2 holds both addresses; n1
// returns: it takes VI_51 back (preempt), n2 keeps VI_52. The notify
// script got every state change with keepalived's arguments.
func seedActiveActive(t *testing.T) {
	l := newVRRPLab(t, implPaceline, implPaceline)
	l.useSeed(t, "active-active")
	n1, n2 := l.nodes["n1"], l.nodes["n2"]
	n1.start(t)
	n2.start(t)
	const vip51, vip52 = "192.0.2.51", "192.0.2.52"
	l.waitRoles(t, "started", "VI_51", vip51, n1, n2)
	l.waitRoles(t, "started", "VI_52", vip52, n2, n1)
	ws := []notifyWant{
		{n1, 0, "INSTANCE VI_51 MASTER", "started"},
		{n2, 0, "INSTANCE VI_51 BACKUP", "started"},
		{n2, 0, "INSTANCE VI_52 MASTER", "started"},
		{n1, 0, "INSTANCE VI_52 BACKUP", "started"},
	}

	ws = expectNotify(ws, n2, "INSTANCE VI_51 MASTER", "after n1 crashed")
	n1.crash(t)
	l.waitRoles(t, "n1 crashed", "VI_51", vip51, n2)
	l.waitRoles(t, "n1 crashed", "VI_52", vip52, n2)

	ws = expectNotify(ws, n1, "INSTANCE VI_51 MASTER", "after n1 came back")
	ws = expectNotify(ws, n1, "INSTANCE VI_52 BACKUP", "after n1 came back")
	ws = expectNotify(ws, n2, "INSTANCE VI_51 BACKUP", "after n1 came back")
	n1.reboot(vip51, vip52)
	n1.start(t)
	l.waitRoles(t, "n1 back: it takes VI_51 back", "VI_51", vip51, n1, n2)
	l.waitRoles(t, "n1 back: n2 keeps VI_52", "VI_52", vip52, n2, n1)

	checkNotify(t, ws)
	for _, n := range []*vrrpNode{n1, n2} {
		t.Logf("%s notify.log:\n%s", n, n.notifyLog())
	}
	l.logKeyLines(t, "VI_51")
	l.logKeyLines(t, "VI_52")
}

// nsRedisCLI runs redis-cli in a namespace and returns its output.
func nsRedisCLI(ns string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, "redis-cli"}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// startRedis starts redis-server in the node's namespace (no
// persistence: a crashed node comes back empty), killed by PID at test
// end, and waits until it answers.
func (n *vrrpNode) startRedis(t *testing.T) {
	t.Helper()
	d := filepath.Join(n.dir, "redis")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", n.ns(), "redis-server", "--port", "6379", "--bind", "0.0.0.0",
		"--protected-mode", "no", "--save", "", "--appendonly", "no", "--dir", d, "--daemonize", "no",
		"--logfile", filepath.Join(d, "redis.log"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("redis-server on %s: %v", n.name, err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	n.l.eventually(t, 20*time.Second, "redis on "+n.name, func() (bool, string) {
		out, err := nsRedisCLI(n.ns(), "-p", "6379", "ping")
		return err == nil && out == "PONG", out
	})
}

// redisRepl is the node's redis role (master, slave), master host and
// link status, from INFO replication.
func (n *vrrpNode) redisRepl() (role, host, link string) {
	out, _ := nsRedisCLI(n.ns(), "-p", "6379", "info", "replication")
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		k, v, _ := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		switch k {
		case "role":
			role = v
		case "master_host":
			host = v
		case "master_link_status":
			link = v
		}
	}
	return role, host, link
}

// waitReplica waits until n's redis replicates from master's, connected.
func (l *vrrpLab) waitReplica(n, master *vrrpNode) (bool, string) {
	return pollUntil(vrrpBound, func() (bool, string) {
		role, host, link := n.redisRepl()
		return role == "slave" && host == master.addr && link == "up",
			fmt.Sprintf("%s's redis: role %q, master %q, link %q", n.name, role, host, link)
	})
}

// seedRedis, set-up (c): redis on both nodes, the VIP with nopreempt;
// notify_master makes a node's redis the master, notify_backup a replica
// of the other's. n1 starts first (master), then n2 (backup: its redis
// replicates n1's). The client writes through the VIP; n1 crashes: n2
// becomes master, its redis too, with the data, writable through the VIP.
// n1 returns (its redis empty): it stays backup (nopreempt) and its
// redis replicates n2's.
func seedRedis(t *testing.T) {
	needFiles(t, "make deps installs redis-server", "/usr/bin/redis-server", "/usr/bin/redis-cli")
	l := newVRRPLab(t, implPaceline, implPaceline)
	l.useSeed(t, "redis")
	n1, n2 := l.nodes["n1"], l.nodes["n2"]
	client := l.lab.NS("client")
	const inst = "VI_redis"
	for _, n := range []*vrrpNode{n1, n2} {
		n.startRedis(t)
	}
	n1.start(t)
	l.waitRoles(t, "n1 alone", inst, vipAddr, n1)
	n2.start(t)
	l.waitRoles(t, "n2 started", inst, vipAddr, n1, n2)

	// What follows the VRRP states needs the notify scripts to run.
	notify := true
	noNotify := func(format string, args ...any) {
		t.Errorf(format+". Does paceline vrrp run notify_master / notify_backup scripts?\nn1 notify.log: %q\nn2 notify.log: %q",
			append(args, n1.notifyLog(), n2.notifyLog())...)
		t.Logf("the redis checks that depend on the notify scripts are left out from here on (failed above)")
		notify = false
	}
	if ok, why := l.waitReplica(n2, n1); !ok {
		noNotify("n2 is BACKUP but notify_backup did not make its redis a replica of n1's within %v: %s", vrrpBound, why)
	}
	if notify {
		if out, err := nsRedisCLI(client, "-h", vipAddr, "set", "k1", "before the crash"); err != nil || out != "OK" {
			t.Fatalf("SET through %s: %q %v", vipAddr, out, err)
		}
		l.eventually(t, vrrpBound, "k1 replicated to n2", func() (bool, string) {
			out, _ := nsRedisCLI(n2.ns(), "-p", "6379", "get", "k1")
			return out == "before the crash", out
		})
		t.Logf("k1 written through %s (n1), replicated to n2", vipAddr)
	}

	n1.crash(t)
	l.waitRoles(t, "n1 crashed", inst, vipAddr, n2)
	if notify {
		if ok, why := pollUntil(vrrpBound, func() (bool, string) {
			role, _, _ := n2.redisRepl()
			return role == "master", "n2's redis is " + role
		}); !ok {
			noNotify("n2 is MASTER but notify_master did not make its redis a master within %v: %s", vrrpBound, why)
		}
	}
	if notify {
		if out, err := nsRedisCLI(client, "-h", vipAddr, "get", "k1"); err != nil || out != "before the crash" {
			t.Errorf("GET k1 through %s after the failover: %q %v", vipAddr, out, err)
		}
		if out, err := nsRedisCLI(client, "-h", vipAddr, "set", "k2", "after the crash"); err != nil || out != "OK" {
			t.Errorf("SET k2 through %s after the failover: %q %v", vipAddr, out, err)
		}
		t.Logf("through %s (n2): k1 read, k2 written", vipAddr)
	}

	n1.reboot()
	n1.startRedis(t)
	n1.start(t)
	l.waitRoles(t, "n1 back (nopreempt)", inst, vipAddr, n2, n1)
	// nopreempt: n1 must not take the VIP back. A negative check: twice
	// the master down interval (advert_int 1) with n2 holding it.
	if ok, why := pollUntil(8*time.Second, func() (bool, string) {
		ok, why := l.roles(inst, vipAddr, n2, n1)
		return !ok, why
	}); ok {
		t.Errorf("nopreempt: n2 lost the VIP after n1 came back: %s\n%s", why, l.describe())
	}
	if notify {
		if ok, why := l.waitReplica(n1, n2); !ok {
			noNotify("n1 came back as BACKUP but notify_backup did not make its redis a replica of n2's: %s", why)
		}
	}
	if notify {
		l.eventually(t, vrrpBound, "n1's redis has k2 (written on n2)", func() (bool, string) {
			out, _ := nsRedisCLI(n1.ns(), "-p", "6379", "get", "k2")
			return out == "after the crash", out
		})
		t.Logf("n1's redis replicates n2's: it has k2")
	}
	for _, n := range []*vrrpNode{n1, n2} {
		t.Logf("%s notify.log:\n%s", n, n.notifyLog())
	}
	l.logKeyLines(t, inst)
}

// ---------------------------------------------------------------------
// Figures.

// TestVRRPFigures (make bench-vrrp; skipped unless PACELINE_VRRP_RUNS is
// set): figures of paceline vrrp and keepalived side by side, logged as
// "figure:" lines, never asserted.
//
//   - Takeover after a master crash: n1 (150) master, n2 (100) backup,
//     one VIP; RUNS times, n1's daemon is SIGKILLed (process group) and
//     its link cut at a random phase of the adverts, and the time from
//     then until n2 holds the VIP (sampled every 5 ms) and until the
//     client's echoes (every 10 ms) are answered again is taken; n1
//     reboots and takes the VIP back before the next run. VRRPv2 (auth
//     PASS) and VRRPv3 at advert_int 1, VRRPv3 at 0.1.
//   - Memory: RSS and PSS of each daemon (all of keepalived's processes:
//     its parent and VRRP child) with one instance, master and backup.
//   - CPU: utime+stime over 30 s of each daemon with 10 instances at
//     advert_int 0.1 (VRRPv3), master and backup.
func TestVRRPFigures(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("PACELINE_VRRP_RUNS"))
	if runs <= 0 {
		t.Skip("figures only: set PACELINE_VRRP_RUNS (make bench-vrrp)")
	}
	RequireRoot(t)
	variants := []struct {
		name string
		c    kaSpec
	}{
		{"VRRPv2 (auth PASS) advert_int 1", kaSpec{version: 2, advert: "1", pass: "b3nch"}},
		{"VRRPv3 advert_int 1", kaSpec{version: 3, advert: "1"}},
		{"VRRPv3 advert_int 0.1", kaSpec{version: 3, advert: "0.1"}},
	}
	var figures []string
	figure := func(format string, args ...any) {
		s := fmt.Sprintf("figure: "+format, args...)
		t.Log(s)
		figures = append(figures, s)
	}
	for _, v := range variants {
		got := map[string]*crashFigures{}
		for _, impl := range []string{implKeepalived, implPaceline} {
			t.Run(fmt.Sprintf("takeover/v%d-advert_int-%s/%s", v.c.version, v.c.advert, impl), func(t *testing.T) {
				got[impl] = vrrpTakeovers(t, impl, v.c, runs)
			})
		}
		ka, pl := got[implKeepalived], got[implPaceline]
		if ka == nil || pl == nil {
			continue
		}
		figure("takeover after a master crash (SIGKILL + link down), %s: crash -> the backup holds the VIP: keepalived %s; paceline vrrp %s; paceline/keepalived median %s, max %s",
			v.name, stats(ka.hold), stats(pl.hold), ratio(pl.hold, ka.hold, median), ratio(pl.hold, ka.hold, maxOf))
		figure("takeover after a master crash (SIGKILL + link down), %s: crash -> the client's echoes answered: keepalived %s; paceline vrrp %s; paceline/keepalived median %s, max %s",
			v.name, stats(ka.answer), stats(pl.answer), ratio(pl.answer, ka.answer, median), ratio(pl.answer, ka.answer, maxOf))
	}
	use := map[string]*vrrpUse{}
	for _, impl := range []string{implKeepalived, implPaceline} {
		t.Run("resources/"+impl, func(t *testing.T) { use[impl] = vrrpResources(t, impl) })
	}
	if ka, pl := use[implKeepalived], use[implPaceline]; ka != nil && pl != nil {
		figure("memory with one instance: paceline vrrp: master %s, backup %s; keepalived: master %s, backup %s",
			pl.one[0], pl.one[1], ka.one[0], ka.one[1])
		figure("memory with 10 instances at advert_int 0.1: paceline vrrp: master %s, backup %s; keepalived: master %s, backup %s",
			pl.ten[0], pl.ten[1], ka.ten[0], ka.ten[1])
		figure("CPU with 10 instances at advert_int 0.1 (VRRPv3), over %v: paceline vrrp: master %s, backup %s; keepalived: master %s, backup %s",
			cpuWindow, pl.cpu[0], pl.cpu[1], ka.cpu[0], ka.cpu[1])
	}
	t.Logf("all figures (noisy: 2 shared CPUs):\n%s", strings.Join(figures, "\n"))
}

// vrrpTakeovers crashes impl's master runs times.
func vrrpTakeovers(t *testing.T, impl string, c kaSpec, runs int) *crashFigures {
	l := newVRRPLab(t, impl, impl)
	n1, n2 := l.nodes["n1"], l.nodes["n2"]
	n1.writeConf(t, c.withPriority(150).render(n1))
	n2.writeConf(t, c.withPriority(100).render(n2))
	p := startProber(t, l.lab, "client", vipAddr)
	n2.start(t)
	n1.start(t)
	l.waitRoles(t, "started", "VI_1", vipAddr, n1, n2)
	h := newHolders(t, &netCluster{lab: l.lab, names: l.names})
	f := &crashFigures{}
	const bound = 30 * time.Second
	for i := range runs {
		l.waitRoles(t, fmt.Sprintf("run %d", i+1), "VI_1", vipAddr, n1, n2)
		crashPhase()
		if _, ok := p.waitReply(time.Now(), 10*time.Second); !ok {
			t.Fatalf("the client gets no reply from %s on n1", vipAddr)
		}
		began, done := crash(l.lab, "n1", n1.proc.kill)
		next, hold, answer := measureCrash(t, h, p, "n1", began, done, bound)
		f.add(answer, hold)
		t.Logf("run %d (%s): n1 crashed: the address on %s after %v; the client answered after %v",
			i+1, impl, next, hold.Round(time.Millisecond), answer.Round(time.Millisecond))
		reboot(l.lab, "n1")
		n1.start(t)
		l.waitRoles(t, "n1 back", "VI_1", vipAddr, n1, n2)
		time.Sleep(time.Second) // the neighbour locktime (1 s) before the address moves again
	}
	return f
}

// cpuWindow is how long the CPU figure measures.
const cpuWindow = 30 * time.Second

// vrrpUse is a daemon's memory and CPU figures, master then backup.
type vrrpUse struct {
	one, ten, cpu [2]string
}

// procGroup sums up a process group: its processes, their RSS and PSS
// (KiB) and their CPU time (utime+stime, clock ticks).
type procGroup struct {
	procs     int
	rss, pss  int64
	cpuTicks  int64
	commNames []string
}

func (g procGroup) String() string {
	return fmt.Sprintf("RSS %.1f MiB (PSS %.1f MiB, %d process(es): %s)", float64(g.rss)/1024, float64(g.pss)/1024, g.procs, strings.Join(g.commNames, "+"))
}

// procGroupOf reads /proc for the processes of process group pgid.
func procGroupOf(pgid int) (procGroup, error) {
	var g procGroup
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return g, err
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		// After the command: state ppid pgrp ... utime (14th field of
		// the line) stime (15th).
		f := strings.Fields(s[i+1:])
		if len(f) < 13 || f[2] != strconv.Itoa(pgid) {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		g.procs++
		g.cpuTicks += ut + st
		g.commNames = append(g.commNames, s[strings.IndexByte(s, '(')+1:i])
		g.rss += procKiB(fmt.Sprintf("/proc/%d/status", pid), "VmRSS:")
		g.pss += procKiB(fmt.Sprintf("/proc/%d/smaps_rollup", pid), "Pss:")
	}
	if g.procs == 0 {
		return g, fmt.Errorf("no process in group %d", pgid)
	}
	return g, nil
}

// procKiB reads "Name:   123 kB" from a /proc file.
func procKiB(path, name string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}

// vrrpResources measures impl on both nodes: memory with one instance
// (VRRPv3 advert_int 1), then memory and CPU with 10 instances at
// advert_int 0.1.
func vrrpResources(t *testing.T, impl string) *vrrpUse {
	l := newVRRPLab(t, impl, impl)
	n1, n2 := l.nodes["n1"], l.nodes["n2"]
	u := &vrrpUse{}
	measure := func(c kaSpec, into *[2]string) (pg [2]int) {
		n1.writeConf(t, c.withPriority(150).render(n1))
		n2.writeConf(t, c.withPriority(100).render(n2))
		n2.start(t)
		n1.start(t)
		for i := 1; i <= max(c.count, 1); i++ {
			l.waitRoles(t, "started", fmt.Sprintf("VI_%d", i), c.vip(i), n1, n2)
		}
		time.Sleep(5 * time.Second) // steady state before measuring
		for i, n := range []*vrrpNode{n1, n2} {
			pg[i] = n.proc.cmd.Process.Pid
			g, err := procGroupOf(pg[i])
			if err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			into[i] = g.String()
			t.Logf("%s, %d instance(s) at advert_int %s: %s", n, max(c.count, 1), c.advert, g)
		}
		return pg
	}
	measure(kaSpec{version: 3, advert: "1"}, &u.one)
	n1.terminate(t)
	n2.terminate(t)
	ten := kaSpec{version: 3, advert: "0.1", count: 10}
	pg := measure(ten, &u.ten)
	var before [2]procGroup
	for i := range pg {
		before[i], _ = procGroupOf(pg[i])
	}
	time.Sleep(cpuWindow) // the measurement window
	for i, n := range []*vrrpNode{n1, n2} {
		after, err := procGroupOf(pg[i])
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		// Clock ticks are USER_HZ, 100 a second on Linux.
		cpu := time.Duration(after.cpuTicks-before[i].cpuTicks) * 10 * time.Millisecond
		u.cpu[i] = fmt.Sprintf("%v CPU (%.2f%% of a core)", cpu, 100*cpu.Seconds()/cpuWindow.Seconds())
		t.Logf("%s, 10 instances at advert_int 0.1: %s over %v", n, u.cpu[i], cpuWindow)
	}
	// The figures hold for a steady state: nothing moved meanwhile.
	for i := 1; i <= 10; i++ {
		if ok, why := l.roles(fmt.Sprintf("VI_%d", i), ten.vip(i), n1, n2); !ok {
			t.Errorf("VI_%d moved during the CPU window: %s", i, why)
		}
	}
	return u
}
