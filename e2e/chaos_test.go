//go:build chaos

package e2e

// The fault-injection suite (make chaos; docs/chaos.md). Two clusters in
// network namespaces, each holding a VIP + dummy group, run side by side
// under a scripted storm of faults drawn from a seeded random source
// (CHAOS_SEED, printed; CHAOS_FAULTS faults in all, 200 by default):
//
//   - "3node": three nodes, no fencing: safety rests on the lease alone
//     (shared/DESIGN.md, Safety). A hung node or an agent killed while its
//     address stays up can only be made safe by fencing or a watchdog, so
//     there those two faults pick a node that does not hold the VIP.
//   - "2node": two nodes, two_node with a ping tiebreak and fencing
//     (fence_paceline_netns, as fencing_test.go, behind a gate device that
//     can be made to fail one attempt): every fault may hit any node.
//
// Checkers run throughout: the holders of the VIP sampled every 10 ms
// (two at once must never happen) and a writer that commits node
// attributes through the CLI on a random node and checks at the end that
// every acknowledged write is in every node's final configuration. After
// each fault and its undo the storm waits (bounded, CHAOS_BOUND, 60 s by
// default) until every node is quorate, a leader is known, one node holds
// the VIP and the client's pings are answered; the time it took is the
// fault's recovery time. The report goes to bin/chaos-report.{json,md}
// (CHAOS_REPORT_DIR), the agents' logs to bin/chaos-logs/.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paceline/paceline/api"
)

type faultKind string

const (
	fNodeCrash  faultKind = "node-crash"
	fAgentCrash faultKind = "agent-crash"
	fLinkCut    faultKind = "link-cut"
	fPartition  faultKind = "partition"
	fDCCrash    faultKind = "dc-crash"
	fNetem      faultKind = "netem"
	fHang       faultKind = "hang"
	fFenceFail  faultKind = "fence-fail"
)

var chaosKinds = []faultKind{fNodeCrash, fAgentCrash, fLinkCut, fPartition, fDCCrash, fNetem, fHang, fFenceFail}

// chaosFault is one fault as the report shows it.
type chaosFault struct {
	N          int       `json:"n"`
	Cluster    string    `json:"cluster"`
	Kind       faultKind `json:"kind"`
	Target     string    `json:"target"`
	At         time.Time `json:"at"`
	HoldMS     int64     `json:"hold_ms"`
	Recovered  bool      `json:"recovered"`
	RecoveryMS int64     `json:"recovery_ms"` // from the undo to recovered
	OutageMS   int64     `json:"outage_ms"`   // the client's longest stretch without a reply, fault to recovered
	Revived    []string  `json:"revived,omitempty"`
	Note       string    `json:"note,omitempty"`
}

// chaosWrite is one acknowledged configuration write.
type chaosWrite struct {
	Key, Value, Via string
	At              time.Time
}

// chaosCluster is one cluster under the storm, with its checkers'
// findings.
type chaosCluster struct {
	name   string
	n      int
	fenced bool
	seed   uint64
	bound  time.Duration
	logDir string

	c    *netCluster
	h    *holders
	pr   *prober
	rng  *rand.Rand
	gate string // the gate device's flag file: present, its next attempt fails
	glog string // what the gate device did

	mu      sync.Mutex
	pids    map[string]int    // the agent of each node
	hung    map[string]bool   // nodes SIGSTOPped now
	cut     map[string]bool   // nodes whose port the storm took down
	down    map[string]bool   // nodes crashed by the storm, not yet restarted
	current string            // the fault under way, for the holder checker's log
	logs    map[string]string // agents' output, every incarnation

	nlMu sync.Mutex // the netlink handles are shared by the checker and the storm

	samples      atomic.Int64
	dualSamples  atomic.Int64
	dualEpisodes []string

	acked                       []chaosWrite
	unsure                      []chaosWrite // outcome unknown (e.g. leadership lost while committing)
	unsureApplied               int          // of those, found in the final configuration
	rejected, unknown, unavail  int
	unknownKeys                 []string
	lost                        []string
	faults                      []chaosFault
	failures                    []string
	started, finished           time.Time
	setupDone, finalCheckPassed bool
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func TestChaos(t *testing.T) {
	RequireRoot(t)
	if _, err := exec.LookPath("tc"); err != nil {
		t.Skip("needs tc (iproute2) for netem")
	}
	seed := uint64(time.Now().UnixNano()) % 1_000_000_000
	if v := os.Getenv("CHAOS_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("CHAOS_SEED=%q: want an unsigned integer", v)
		}
		seed = s
	}
	total := envInt("CHAOS_FAULTS", 200)
	bound := time.Duration(envInt("CHAOS_BOUND", 60)) * time.Second
	dir := cmp.Or(os.Getenv("CHAOS_REPORT_DIR"), filepath.Join("..", "bin"))
	logDir := filepath.Join(dir, "chaos-logs")
	_ = os.RemoveAll(logDir)
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("chaos: CHAOS_SEED=%d CHAOS_FAULTS=%d (replay: CHAOS_SEED=%d make chaos)\n", seed, total, seed)
	t.Logf("chaos: CHAOS_SEED=%d CHAOS_FAULTS=%d", seed, total)

	n3 := total - total/2
	c3 := &chaosCluster{name: "3node", n: 3, seed: seed, bound: bound, logDir: logDir}
	c2 := &chaosCluster{name: "2node", n: 2, fenced: true, seed: seed, bound: bound, logDir: logDir}
	start := time.Now()
	t.Run("storm", func(t *testing.T) {
		t.Run("3node", func(t *testing.T) { t.Parallel(); c3.run(t, n3) })
		t.Run("2node", func(t *testing.T) { t.Parallel(); c2.run(t, total/2) })
	})
	rep := buildChaosReport(seed, total, bound, start, time.Now(), []*chaosCluster{c3, c2})
	md := rep.markdown()
	js, _ := json.MarshalIndent(rep, "", "  ")
	for name, data := range map[string][]byte{"chaos-report.json": js, "chaos-report.md": []byte(md)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Errorf("write %s: %v", name, err)
		}
	}
	fmt.Println(md)
	t.Logf("report written to %s/chaos-report.{json,md}, agent logs to %s", dir, logDir)
	if rep.DualHolderSamples > 0 {
		t.Errorf("two holders of the VIP at once in %d samples (%d episodes): see the report", rep.DualHolderSamples, rep.DualHolderEpisodes)
	}
	if rep.LostWrites > 0 {
		t.Errorf("%d acknowledged configuration writes lost: see the report", rep.LostWrites)
	}
	if rep.Unrecovered > 0 {
		t.Errorf("%d faults did not recover within %v", rep.Unrecovered, bound)
	}
	for _, cc := range []*chaosCluster{c3, c2} {
		for _, f := range cc.failures {
			t.Errorf("%s: %s", cc.name, f)
		}
	}
}

// ---------------------------------------------------------------------
// The set-up.

// chaosLab is NewLab with a namespace prefix of its own (two labs live
// in one test process).
func chaosLab(t *testing.T, tag string) *Lab {
	t.Helper()
	l := &Lab{t: t, prefix: fmt.Sprintf("pc%d%s-", os.Getpid()%100000, tag)}
	l.sw = l.prefix + "sw"
	t.Cleanup(l.cleanup)
	l.ip("netns", "add", l.sw)
	l.ip("-n", l.sw, "link", "add", "br0", "type", "bridge")
	l.ip("-n", l.sw, "link", "set", "br0", "up")
	return l
}

func (cc *chaosCluster) fail(format string, args ...any) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.failures = append(cc.failures, fmt.Sprintf(format, args...))
}

func (cc *chaosCluster) setup(t *testing.T) {
	tag := map[string]string{"3node": "a", "2node": "b"}[cc.name]
	lab := chaosLab(t, tag)
	dir, err := os.MkdirTemp("", "pl-chaos")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	c := &netCluster{lab: lab, dir: dir, procs: map[string]*Proc{}, clients: map[string]*api.Client{}}
	cc.c = c
	cc.pids, cc.hung, cc.down, cc.cut, cc.logs = map[string]int{}, map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]string{}
	args := []string{"cluster", "init", "--dir", dir, "--local", "--name", "chaos" + cc.name}
	for i := range cc.n {
		name := fmt.Sprintf("n%d", i+1)
		c.names = append(c.names, name)
		lab.AddHost(name, fmt.Sprintf("192.0.2.%d/24", i+1))
		args = append(args, fmt.Sprintf("%s=192.0.2.%d:7250", name, i+1))
	}
	lab.AddHost("client", clientAddr)
	if cc.fenced {
		lab.AddHost("ping", pingTarget+"/24")
	}
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("cluster init: %v: %s", err, out)
	}
	for _, name := range c.names {
		appendNodeConfig(t, dir, name, "resources:\n  manage: true\n")
		c.clients[name] = api.NewClient(filepath.Join(dir, name, "paceline.sock"))
		cc.startAgent(name)
	}
	want := map[string]bool{}
	for _, n := range c.names {
		want[n] = true
	}
	c.waitQuorate(t, 30*time.Second, want)
	if cc.fenced {
		cc.gate = filepath.Join(dir, "gate-fail")
		cc.glog = filepath.Join(dir, "gate.log")
		script := filepath.Join(dir, "fence_gate")
		body := fmt.Sprintf(`#!/bin/sh
# The chaos gate: a fence device that fails one attempt when %[1]s exists.
case "$1" in
off|reboot)
  if [ -e %[1]s ]; then rm -f %[1]s; echo "$(date +%%s.%%N) fail $1 $2" >> %[2]s; echo "chaos: this fence attempt fails"; exit 1; fi
  echo "$(date +%%s.%%N) pass $1 $2" >> %[2]s; exit 0;;
list) echo n1; echo n2; exit 0;;
*) exit 0;;
esac
`, cc.gate, cc.glog)
		if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
		cc.setupCLI(t, "property", "set", "two-node=true", "wait-for-all=true", "ping-targets="+pingTarget, "tiebreak-delay=500ms")
		cc.setupCLI(t, "stonith", "create", "gate", "fence_paceline_exec", "command="+script, "pcmk_host_list=n1,n2", "pcmk_off_retries=0", "pcmk_reboot_retries=0")
		cc.setupCLI(t, "stonith", "create", "switch", "fence_paceline_netns", "switch_ns="+lab.sw,
			fmt.Sprintf("pcmk_host_map=n1:%s;n2:%s", lab.port("n1"), lab.port("n2")),
			fmt.Sprintf("node_netns=n1:%s;n2:%s", lab.NS("n1"), lab.NS("n2")))
		// Both devices in one level: the gate's failure fails the whole
		// fence; off, not reboot (a reboot with two devices turns the
		// target's port back on).
		cc.setupCLI(t, "stonith", "level", "add", "1", "n1", "gate,switch")
		cc.setupCLI(t, "stonith", "level", "add", "1", "n2", "gate,switch")
		cc.setupCLI(t, "property", "set", "stonith-action=off", "stonith-enabled=true")
	}
	state := filepath.Join(dir, "dummy")
	if err := os.MkdirAll(state, 0o755); err != nil {
		t.Fatal(err)
	}
	cc.setupCLI(t, "resource", "create", "vip", "ocf:paceline:vip", "ip="+vipAddr, "cidr_netmask=24", "op", "monitor", "interval=1s", "--group", "g")
	cc.setupCLI(t, "resource", "create", "app", "ocf:paceline:dummy", "state_dir="+state, "op", "monitor", "interval=1s", "--group", "g")
	cc.h = newHolders(t, c)
	cc.pr = startProber(t, lab, "client", vipAddr)
	if ok, why := cc.waitRecovered(time.Now(), 60*time.Second, nil); !ok {
		t.Fatalf("the cluster did not come up: %s", why)
	}
	cc.setupDone = true
}

// setupCLI runs a set-up command through n1's CLI, again on failure
// (raft leadership can still move while a loaded cluster forms): a
// retried write that had committed after all answers "exists".
func (cc *chaosCluster) setupCLI(t *testing.T, args ...string) {
	t.Helper()
	var last string
	for try := range 20 {
		out, err := exec.Command(bin, append([]string{"-s", cc.sock("n1")}, args...)...).CombinedOutput()
		if err == nil || (try > 0 && strings.Contains(string(out), "exist")) {
			return
		}
		last = fmt.Sprintf("%v: %s", err, out)
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("paceline %s: %s", strings.Join(args, " "), last)
}

// startAgent starts a node's agent and notes its PID (`ip netns exec`
// execs the agent: the PID is the agent's).
func (cc *chaosCluster) startAgent(node string) {
	p := cc.c.lab.Start(node, bin, "agent", "--config", filepath.Join(cc.c.dir, node, "paceline.yaml"))
	cc.mu.Lock()
	cc.c.procs[node] = p
	cc.pids[node] = p.cmd.Process.Pid
	cc.mu.Unlock()
}

// stopAgent kills and reaps a node's agent and keeps its output.
func (cc *chaosCluster) stopAgent(node string) {
	cc.mu.Lock()
	p := cc.c.procs[node]
	cc.mu.Unlock()
	if p == nil {
		return
	}
	p.Stop(syscall.SIGKILL)
	cc.mu.Lock()
	if cc.c.procs[node] == p {
		cc.logs[node] += fmt.Sprintf("\n===== agent ended at %s =====\n", time.Now().Format(time.RFC3339Nano)) + p.Output()
		cc.c.procs[node] = nil
		cc.pids[node] = 0
	}
	cc.mu.Unlock()
}

// ---------------------------------------------------------------------
// Processes and the network of a node.

// nsPids lists the processes in a namespace (by its /run/netns inode),
// never this test process.
func nsPids(ns string) []int {
	var want unix.Stat_t
	if unix.Stat(filepath.Join("/run/netns", ns), &want) != nil {
		return nil
	}
	paths, _ := filepath.Glob("/proc/[0-9]*/ns/net")
	var out []int
	for _, p := range paths {
		var st unix.Stat_t
		if unix.Stat(p, &st) != nil || st.Ino != want.Ino || st.Dev != want.Dev {
			continue
		}
		pid, err := strconv.Atoi(strings.Split(p, "/")[2])
		if err == nil && pid != os.Getpid() {
			out = append(out, pid)
		}
	}
	return out
}

// pidAlive: the process exists and is not dying: not a zombie, not
// exiting (PF_EXITING), no SIGKILL pending. (A SIGKILLed process can take
// tens of milliseconds to die, e.g. with a thread in an fsync.)
func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 7 || f[0] == "Z" || f[0] == "X" || f[0] == "x" {
		return false
	}
	if flags, err := strconv.ParseUint(f[6], 10, 64); err != nil || flags&0x4 != 0 { // PF_EXITING
		return false
	}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(st), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "SigPnd" && k != "ShdPnd") {
			continue
		}
		if m, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64); err == nil && m&(1<<(syscall.SIGKILL-1)) != 0 {
			return false
		}
	}
	return true
}

func (cc *chaosCluster) agentAlive(node string) bool {
	cc.mu.Lock()
	pid := cc.pids[node]
	cc.mu.Unlock()
	return pidAlive(pid)
}

func (cc *chaosCluster) signalNode(node string, sig syscall.Signal) {
	for _, pid := range nsPids(cc.c.lab.NS(node)) {
		_ = syscall.Kill(pid, sig)
	}
}

func (cc *chaosCluster) ipq(args ...string) { _, _ = runIP(args...) } // no failure: best effort

func (cc *chaosCluster) addr(node string) string {
	return "192.0.2." + strings.TrimPrefix(node, "n")
}

// partition blackholes node's traffic to and from the other nodes (the
// client and the ping target still reach everyone).
func (cc *chaosCluster) partition(node string, on bool) {
	verb := "add"
	if !on {
		verb = "del"
	}
	for _, o := range cc.c.names {
		if o == node {
			continue
		}
		cc.ipq("-n", cc.c.lab.NS(node), "route", verb, "blackhole", cc.addr(o)+"/32")
		cc.ipq("-n", cc.c.lab.NS(o), "route", verb, "blackhole", cc.addr(node)+"/32")
	}
}

// netem puts 20% loss and 50 ms delay on the node's eth0 (egress) with
// tc netem, or takes it off. A kernel without sch_netem (such as this
// project's CI VMs) gets the loss from iptables' statistic match (legacy
// x_tables) in the node's namespace and the delay from a tbf queue that
// is slower than the node's traffic; the mode is in the report.
func (cc *chaosCluster) netem(node string, on bool) (mode string, err error) {
	ns := cc.c.lab.NS(node)
	run := func(args ...string) error {
		out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v: %s", args[0], err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	drop := []string{"OUTPUT", "-o", "eth0", "-m", "statistic", "--mode", "random", "--probability", "0.2", "-j", "DROP"}
	if !on {
		_ = run("tc", "qdisc", "del", "dev", "eth0", "root")
		_ = run(append([]string{"iptables-legacy", "-D"}, drop...)...)
		return "", nil
	}
	netemErr := run("tc", "qdisc", "add", "dev", "eth0", "root", "netem", "loss", "20%", "delay", "50ms")
	if netemErr == nil {
		return "tc netem loss 20% delay 50ms", nil
	}
	if err := run(append([]string{"iptables-legacy", "-A"}, drop...)...); err != nil {
		return "", fmt.Errorf("%v; fallback: %v", netemErr, err)
	}
	// Delay without netem: a token bucket slower than the node's own
	// traffic (heartbeats, gossip, raft: about 200 kbit/s egress with the
	// fast profile) queues every packet, up to 300 ms, and drops beyond:
	// a congested link rather than a fixed delay.
	if err := run("tc", "qdisc", "add", "dev", "eth0", "root", "tbf", "rate", "160kbit", "burst", "1600", "latency", "300ms"); err != nil {
		return "iptables statistic 20% egress loss, no delay (no sch_netem in this kernel; tbf: " + err.Error() + ")", nil
	}
	return "iptables statistic 20% egress loss + tbf 160 kbit/s, queueing delay up to 300 ms (no sch_netem in this kernel)", nil
}

// crashNode: every process of the node SIGKILLed by PID, its link down.
func (cc *chaosCluster) crashNode(node string) {
	cc.mu.Lock()
	cc.down[node] = true
	cc.mu.Unlock()
	cc.signalNode(node, syscall.SIGKILL)
	cc.ipq("-n", cc.c.lab.NS(node), "link", "set", "eth0", "down")
	cc.stopAgent(node) // reap it
}

// revive brings a node back as a machine after a reboot: nothing of it
// runs, its address is gone, its links are up, its agent starts.
func (cc *chaosCluster) revive(node string) {
	cc.stopAgent(node)
	cc.signalNode(node, syscall.SIGKILL)
	ns := cc.c.lab.NS(node)
	cc.ipq("-n", ns, "addr", "del", vipAddr+"/24", "dev", "eth0")
	// A reboot empties /run: the node's dummy state goes too.
	old, _ := filepath.Glob(filepath.Join(cc.c.dir, "dummy", "paceline-dummy-"+node+"-*"))
	for _, f := range old {
		_ = os.Remove(f)
	}
	cc.ipq("-n", ns, "link", "set", "eth0", "up")
	cc.c.lab.Heal(node)
	cc.startAgent(node)
	cc.mu.Lock()
	delete(cc.down, node)
	delete(cc.hung, node)
	delete(cc.cut, node)
	cc.mu.Unlock()
}

// heal brings a cut node's port back. A node fenced meanwhile (its agent
// killed) is revived instead, and one whose fence lands while its port
// comes up loses its address before the holder checker can see a dead
// node's address on a live port.
func (cc *chaosCluster) heal(node string) {
	if !cc.agentAlive(node) {
		cc.revive(node)
		return
	}
	cc.nlMu.Lock()
	defer cc.nlMu.Unlock()
	cc.c.lab.Heal(node)
	cc.mu.Lock()
	delete(cc.cut, node)
	cc.mu.Unlock()
	if !cc.agentAlive(node) {
		cc.ipq("-n", cc.c.lab.NS(node), "addr", "del", vipAddr+"/24", "dev", "eth0")
	}
}

// ---------------------------------------------------------------------
// The checkers.

// holdersNow lists the nodes whose up eth0 carries the VIP and which
// can act on it: their port on the switch is up (whether their agent
// lives or not: an address left behind by a dead agent still answers),
// or the storm cut their port and their agent lives (cut off but alive,
// it must give the address up by itself before another node takes it).
// A port the fence device took down is a powered-off machine: its
// address no longer counts, even while its killed agent is still dying.
func (cc *chaosCluster) holdersNow() []string {
	cc.nlMu.Lock()
	defer cc.nlMu.Unlock()
	var out []string
	for _, name := range cc.c.names {
		if !cc.h.hasVIP(name) {
			continue
		}
		cc.mu.Lock()
		cut := cc.cut[name]
		cc.mu.Unlock()
		if cc.h.portUp(name) || (cut && cc.agentAlive(name)) {
			out = append(out, name)
		}
	}
	return out
}

// watchHolders samples the holders every 10 ms until stop.
func (cc *chaosCluster) watchHolders() (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		inDual := false
		for {
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
			on := cc.holdersNow()
			cc.samples.Add(1)
			if len(on) > 1 {
				cc.dualSamples.Add(1)
				if !inDual {
					cc.mu.Lock()
					cc.dualEpisodes = append(cc.dualEpisodes, fmt.Sprintf("%s: %s held by %v during %s", time.Now().Format("15:04:05.000"), vipAddr, on, cc.current))
					cc.mu.Unlock()
					fmt.Printf("chaos %s: TWO HOLDERS %v during %s\n", cc.name, on, cc.current)
				}
				inDual = true
			} else {
				inDual = false
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

func (cc *chaosCluster) sock(node string) string { return cc.c.clients[node].Socket() }

// writeLoop commits node attributes (cw<seq>=<seq> on n1) through the CLI
// of a random running node until stop, noting what was acknowledged.
func (cc *chaosCluster) writeLoop() (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	rng := rand.New(rand.NewPCG(cc.seed, 99))
	wg.Go(func() {
		for seq := 1; ; seq++ {
			select {
			case <-done:
				return
			case <-time.After(250 * time.Millisecond):
			}
			cc.mu.Lock()
			var up []string
			for _, n := range cc.c.names {
				if !cc.hung[n] && !cc.down[n] && cc.pids[n] != 0 {
					up = append(up, n)
				}
			}
			cc.mu.Unlock()
			if len(up) == 0 {
				continue
			}
			via := up[rng.IntN(len(up))]
			key, val := fmt.Sprintf("cw%d", seq), strconv.Itoa(seq)
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			out, err := exec.CommandContext(ctx, bin, "-s", cc.sock(via), "node", "attribute", "n1", key+"="+val).CombinedOutput()
			cancel()
			cc.mu.Lock()
			switch s := string(out); {
			case err == nil:
				cc.acked = append(cc.acked, chaosWrite{Key: key, Value: val, Via: via, At: time.Now()})
			case strings.Contains(s, "no raft leader") || strings.Contains(s, "not quorate") || strings.Contains(s, "quorum") || strings.Contains(s, "read-only"):
				cc.rejected++
			case strings.Contains(s, "connect:") || strings.Contains(s, "no such file") || strings.Contains(s, "connection refused"):
				cc.unavail++
			default:
				cc.unknown++
				cc.unsure = append(cc.unsure, chaosWrite{Key: key, Value: val, Via: via, At: time.Now()})
				if len(cc.unknownKeys) < 50 {
					cc.unknownKeys = append(cc.unknownKeys, key+": "+strings.TrimSpace(tail(s, 2)))
				}
			}
			cc.mu.Unlock()
		}
	})
	return func() { close(done); wg.Wait() }
}

// checkWrites waits until every node has the same configuration epoch,
// then checks every acknowledged write on each node.
func (cc *chaosCluster) checkWrites() {
	var cfgs map[string]map[string]string
	var why string
	deadline := time.Now().Add(cc.bound)
	for {
		cfgs, why = map[string]map[string]string{}, ""
		epochs := map[uint64]bool{}
		for _, n := range cc.c.names {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			cfg, err := cc.c.clients[n].Config(ctx)
			cancel()
			if err != nil {
				why = fmt.Sprintf("%s: %v", n, err)
				break
			}
			epochs[cfg.Epoch] = true
			attrs := map[string]string{}
			for _, nd := range cfg.Nodes {
				if nd.Name == "n1" {
					attrs = nd.Attributes
				}
			}
			cfgs[n] = attrs
		}
		if why == "" && len(epochs) == 1 {
			break
		}
		if why == "" {
			why = fmt.Sprintf("epochs differ: %v", epochs)
		}
		if time.Now().After(deadline) {
			cc.fail("final configurations did not converge within %v: %s (checking what each has)", cc.bound, why)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	for _, w := range cc.acked {
		var missing []string
		for _, n := range cc.c.names {
			attrs, ok := cfgs[n]
			if !ok || attrs[w.Key] != w.Value {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			cc.lost = append(cc.lost, fmt.Sprintf("%s=%s (acked %s via %s) missing on %v", w.Key, w.Value, w.At.Format("15:04:05.000"), w.Via, missing))
		}
	}
	for _, w := range cc.unsure {
		if a, ok := cfgs[cc.c.names[0]]; ok && a[w.Key] == w.Value {
			cc.unsureApplied++
		}
	}
	cc.finalCheckPassed = len(cc.lost) == 0
}

// ---------------------------------------------------------------------
// Recovery.

// waitRecovered waits until every node's agent runs and is quorate with
// a leader known, one node holds the VIP and the client got a reply to
// an echo sent after from. Nodes found dead (fenced) are revived first.
func (cc *chaosCluster) waitRecovered(from time.Time, bound time.Duration, revived *[]string) (bool, string) {
	deadline := time.Now().Add(bound)
	why := ""
	for time.Now().Before(deadline) {
		why = ""
		for _, n := range cc.c.names {
			if !cc.agentAlive(n) {
				cc.revive(n)
				if revived != nil {
					*revived = append(*revived, n)
				}
			}
		}
		for _, n := range cc.c.names {
			if !cc.h.portUp(n) {
				why = n + ": port down (being fenced?)"
				break
			}
			if q, r := cc.c.quorate(n); !q {
				why = n + ": " + r
				break
			}
		}
		if why == "" && cc.c.leader() == "" {
			why = "no raft leader known"
		}
		if why == "" {
			if on := cc.holdersNow(); len(on) != 1 {
				why = "holders " + join(on)
			} else if _, ok := cc.pr.replyAfter(from); !ok {
				why = "the client gets no reply from the VIP on " + on[0]
			}
		}
		if why == "" {
			return true, ""
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false, why
}

// ---------------------------------------------------------------------
// The storm.

func (cc *chaosCluster) kinds() []faultKind {
	if cc.fenced {
		return chaosKinds
	}
	return chaosKinds[:len(chaosKinds)-1] // no fencing: no failed fence
}

func (cc *chaosCluster) run(t *testing.T, count int) {
	cc.started = time.Now()
	defer func() { cc.finished = time.Now() }()
	cc.rng = rand.New(rand.NewPCG(cc.seed, uint64(cc.n)))
	cc.setup(t)
	stopHolders := cc.watchHolders()
	stopWrites := cc.writeLoop()
	stopped := false
	stopCheckers := func() {
		if !stopped {
			stopped = true
			stopWrites()
			stopHolders()
		}
	}
	t.Cleanup(stopCheckers)
	defer cc.saveLogs(t)
	for i := range count {
		f := cc.fault(t, i+1)
		cc.mu.Lock()
		cc.faults = append(cc.faults, f)
		cc.mu.Unlock()
		status := fmt.Sprintf("recovered in %v", time.Duration(f.RecoveryMS)*time.Millisecond)
		if !f.Recovered {
			status = "NOT RECOVERED: " + f.Note
		}
		t.Logf("#%d %s %s on %s (hold %v): %s; client outage %v%s", f.N, cc.name, f.Kind, f.Target,
			time.Duration(f.HoldMS)*time.Millisecond, status, time.Duration(f.OutageMS)*time.Millisecond, revivedNote(f.Revived))
		if !f.Recovered {
			cc.fail("fault #%d (%s on %s) did not recover within %v: %s", f.N, f.Kind, f.Target, cc.bound, f.Note)
			break
		}
	}
	time.Sleep(2 * time.Second) // the writer gets a few more writes in after the storm
	stopCheckers()
	cc.checkWrites()
}

func revivedNote(r []string) string {
	if len(r) == 0 {
		return ""
	}
	return "; revived " + strings.Join(r, ",")
}

// fault draws one fault, applies it, holds it, undoes it and waits for
// recovery. Every fault takes the same number of draws from the seeded
// source, so a seed replays the same sequence of kinds, holds and picks.
func (cc *chaosCluster) fault(t *testing.T, n int) (f chaosFault) {
	kinds := cc.kinds()
	kind := kinds[cc.rng.IntN(len(kinds))]
	pick := cc.rng.IntN(1 << 20)
	hold := time.Duration(1500+cc.rng.IntN(3000)) * time.Millisecond
	gap := time.Duration(300+cc.rng.IntN(1200)) * time.Millisecond
	if kind == fNetem {
		hold += 2 * time.Second
	}
	names := cc.c.names
	target := names[pick%len(names)]
	holders := cc.holdersNow()
	switch kind {
	case fDCCrash:
		if l := cc.c.leader(); l != "" {
			target = l
		}
	case fFenceFail:
		if len(holders) == 1 {
			target = holders[0]
		}
	case fAgentCrash, fHang:
		if !cc.fenced { // without fencing only a node without the VIP: see the top
			others := slices.DeleteFunc(slices.Clone(names), func(s string) bool { return slices.Contains(holders, s) })
			if len(others) > 0 {
				target = others[pick%len(others)]
			}
		}
	}
	f = chaosFault{N: n, Cluster: cc.name, Kind: kind, Target: target, At: time.Now(), HoldMS: hold.Milliseconds()}
	cc.mu.Lock()
	cc.current = fmt.Sprintf("#%d %s on %s", n, kind, target)
	cc.mu.Unlock()
	lab := cc.c.lab
	began := time.Now()
	switch kind {
	case fNodeCrash, fDCCrash:
		cc.crashNode(target)
		time.Sleep(hold)
		cc.revive(target)
	case fAgentCrash:
		cc.mu.Lock()
		cc.down[target] = true
		cc.mu.Unlock()
		cc.stopAgent(target)
		time.Sleep(hold)
		if cc.h.portUp(target) { // not fenced: the agent alone starts again
			cc.startAgent(target)
			cc.mu.Lock()
			delete(cc.down, target)
			cc.mu.Unlock()
		} else {
			cc.revive(target)
		}
	case fFenceFail:
		if err := os.WriteFile(cc.gate, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		before, _ := os.ReadFile(cc.glog)
		cc.mu.Lock()
		cc.down[target] = true
		cc.mu.Unlock()
		cc.stopAgent(target) // the VIP stays on it: the peer must fence it
		time.Sleep(hold)
		cc.revive(target)
		defer func() {
			after, _ := os.ReadFile(cc.glog)
			f.Note = strings.TrimPrefix(f.Note+"; ", "; ") + "gate: " + strings.ReplaceAll(strings.TrimSpace(strings.TrimPrefix(string(after), string(before))), "\n", "; ")
			_ = os.Remove(cc.gate) // not consumed (no fence was needed): gone anyway
		}()
	case fLinkCut:
		cc.mu.Lock()
		cc.cut[target] = true
		cc.mu.Unlock()
		lab.Cut(target)
		time.Sleep(hold)
		cc.heal(target)
	case fPartition:
		cc.partition(target, true)
		time.Sleep(hold)
		cc.partition(target, false)
	case fNetem:
		mode, err := cc.netem(target, true)
		f.Note = mode
		if err != nil {
			f.Note = "NOT APPLIED: " + err.Error()
		}
		time.Sleep(hold)
		_, _ = cc.netem(target, false)
	case fHang:
		cc.mu.Lock()
		cc.hung[target] = true
		cc.mu.Unlock()
		cc.signalNode(target, syscall.SIGSTOP)
		time.Sleep(hold)
		cc.signalNode(target, syscall.SIGCONT)
		cc.mu.Lock()
		delete(cc.hung, target)
		cc.mu.Unlock()
	}
	undone := time.Now()
	ok, why := cc.waitRecovered(undone, cc.bound, &f.Revived)
	f.Recovered = ok
	f.RecoveryMS = time.Since(undone).Milliseconds()
	if !ok {
		f.Note = strings.TrimPrefix(f.Note+"; ", "; ") + why
	}
	_, _, _, longest := cc.pr.window(began, time.Now())
	f.OutageMS = longest.Milliseconds()
	cc.mu.Lock()
	cc.current = "the pause after " + cc.current
	cc.mu.Unlock()
	time.Sleep(gap)
	return f
}

func (cc *chaosCluster) saveLogs(t *testing.T) {
	for _, n := range cc.c.names {
		cc.stopAgent(n)
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	for n, s := range cc.logs {
		if err := os.WriteFile(filepath.Join(cc.logDir, cc.name+"-"+n+".log"), []byte(s), 0o644); err != nil {
			t.Logf("save log: %v", err)
		}
	}
}

// ---------------------------------------------------------------------
// The report.

type chaosKindStats struct {
	Kind          faultKind `json:"kind"`
	Count         int       `json:"count"`
	Unrecovered   int       `json:"unrecovered"`
	RecoveryMedMS int64     `json:"recovery_median_ms"`
	RecoveryMaxMS int64     `json:"recovery_max_ms"`
	OutageMedMS   int64     `json:"client_outage_median_ms"`
	OutageMaxMS   int64     `json:"client_outage_max_ms"`
}

type chaosClusterReport struct {
	Name               string           `json:"name"`
	Nodes              int              `json:"nodes"`
	Fencing            bool             `json:"fencing"`
	Faults             int              `json:"faults"`
	DurationS          float64          `json:"duration_s"`
	ByKind             []chaosKindStats `json:"by_kind"`
	HolderSamples      int64            `json:"holder_samples"`
	DualHolderSamples  int64            `json:"dual_holder_samples"`
	DualHolderEpisodes []string         `json:"dual_holder_episodes"`
	WritesAcked        int              `json:"writes_acked"`
	WritesRejected     int              `json:"writes_rejected_no_quorum_or_leader"`
	WritesUnknown      int              `json:"writes_outcome_unknown"`
	UnknownApplied     int              `json:"writes_outcome_unknown_applied"`
	WritesUnavailable  int              `json:"writes_agent_unreachable"`
	UnknownSamples     []string         `json:"writes_outcome_unknown_samples,omitempty"`
	LostWrites         []string         `json:"lost_writes"`
	Failures           []string         `json:"failures"`
	FaultLog           []chaosFault     `json:"fault_log"`
}

type chaosReport struct {
	Seed               uint64               `json:"seed"`
	FaultsRequested    int                  `json:"faults_requested"`
	FaultsRun          int                  `json:"faults_run"`
	RecoveryBoundS     float64              `json:"recovery_bound_s"`
	Started            time.Time            `json:"started"`
	DurationS          float64              `json:"duration_s"`
	ByKind             []chaosKindStats     `json:"by_kind"`
	DualHolderSamples  int64                `json:"dual_holder_samples"`
	DualHolderEpisodes int                  `json:"dual_holder_episodes"`
	LostWrites         int                  `json:"lost_writes"`
	WritesAcked        int                  `json:"writes_acked"`
	WritesRejected     int                  `json:"writes_rejected"`
	WritesUnknown      int                  `json:"writes_outcome_unknown"`
	Unrecovered        int                  `json:"unrecovered"`
	Clusters           []chaosClusterReport `json:"clusters"`
}

func kindStats(faults []chaosFault) []chaosKindStats {
	var out []chaosKindStats
	for _, k := range chaosKinds {
		var rec, outg []time.Duration
		s := chaosKindStats{Kind: k}
		for _, f := range faults {
			if f.Kind != k {
				continue
			}
			s.Count++
			if !f.Recovered {
				s.Unrecovered++
				continue
			}
			rec = append(rec, time.Duration(f.RecoveryMS)*time.Millisecond)
			outg = append(outg, time.Duration(f.OutageMS)*time.Millisecond)
		}
		if s.Count == 0 {
			continue
		}
		if len(rec) > 0 {
			s.RecoveryMedMS, s.RecoveryMaxMS = median(rec).Milliseconds(), slices.Max(rec).Milliseconds()
			s.OutageMedMS, s.OutageMaxMS = median(outg).Milliseconds(), slices.Max(outg).Milliseconds()
		}
		out = append(out, s)
	}
	return out
}

func buildChaosReport(seed uint64, total int, bound time.Duration, start, end time.Time, ccs []*chaosCluster) *chaosReport {
	r := &chaosReport{Seed: seed, FaultsRequested: total, RecoveryBoundS: bound.Seconds(), Started: start, DurationS: end.Sub(start).Round(time.Second).Seconds()}
	var all []chaosFault
	for _, cc := range ccs {
		cc.mu.Lock()
		cr := chaosClusterReport{
			Name: cc.name, Nodes: cc.n, Fencing: cc.fenced, Faults: len(cc.faults),
			ByKind: kindStats(cc.faults), HolderSamples: cc.samples.Load(), DualHolderSamples: cc.dualSamples.Load(),
			DualHolderEpisodes: slices.Clone(cc.dualEpisodes), WritesAcked: len(cc.acked), WritesRejected: cc.rejected,
			WritesUnknown: cc.unknown, UnknownApplied: cc.unsureApplied, WritesUnavailable: cc.unavail, UnknownSamples: slices.Clone(cc.unknownKeys),
			LostWrites: slices.Clone(cc.lost), Failures: slices.Clone(cc.failures), FaultLog: slices.Clone(cc.faults),
		}
		if !cc.finished.IsZero() {
			cr.DurationS = cc.finished.Sub(cc.started).Round(time.Second).Seconds()
		}
		if !cc.setupDone {
			cr.Failures = append(cr.Failures, "set-up did not complete")
		} else if !cc.finalCheckPassed && len(cc.lost) == 0 {
			cr.Failures = append(cr.Failures, "the final write check did not run")
		}
		cc.mu.Unlock()
		all = append(all, cr.FaultLog...)
		r.FaultsRun += cr.Faults
		r.DualHolderSamples += cr.DualHolderSamples
		r.DualHolderEpisodes += len(cr.DualHolderEpisodes)
		r.LostWrites += len(cr.LostWrites)
		r.WritesAcked += cr.WritesAcked
		r.WritesRejected += cr.WritesRejected
		r.WritesUnknown += cr.WritesUnknown
		for _, k := range cr.ByKind {
			r.Unrecovered += k.Unrecovered
		}
		r.Clusters = append(r.Clusters, cr)
	}
	r.ByKind = kindStats(all)
	return r
}

func msStr(ms int64) string { return (time.Duration(ms) * time.Millisecond).String() }

func (r *chaosReport) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Chaos report\n\n")
	fmt.Fprintf(&b, "- seed: `%d` (replay: `CHAOS_SEED=%d CHAOS_FAULTS=%d make chaos`)\n", r.Seed, r.Seed, r.FaultsRequested)
	fmt.Fprintf(&b, "- started %s, duration %v\n", r.Started.UTC().Format(time.RFC3339), time.Duration(r.DurationS)*time.Second)
	fmt.Fprintf(&b, "- faults: %d run of %d requested; recovery bound %vs; unrecovered: %d\n", r.FaultsRun, r.FaultsRequested, r.RecoveryBoundS, r.Unrecovered)
	fmt.Fprintf(&b, "- **dual holders: %d samples (%d episodes)**\n", r.DualHolderSamples, r.DualHolderEpisodes)
	fmt.Fprintf(&b, "- **lost committed changes: %d** (of %d acknowledged writes); rejected (no quorum/leader): %d; outcome unknown: %d\n\n", r.LostWrites, r.WritesAcked, r.WritesRejected, r.WritesUnknown)
	table := func(ks []chaosKindStats) {
		fmt.Fprintf(&b, "| fault | count | recovery median | recovery max | client outage median | client outage max | unrecovered |\n|---|---:|---:|---:|---:|---:|---:|\n")
		for _, k := range ks {
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %d |\n", k.Kind, k.Count, msStr(k.RecoveryMedMS), msStr(k.RecoveryMaxMS), msStr(k.OutageMedMS), msStr(k.OutageMaxMS), k.Unrecovered)
		}
		b.WriteString("\n")
	}
	b.WriteString("## All faults\n\n")
	table(r.ByKind)
	for _, c := range r.Clusters {
		fence := "no fencing (lease only)"
		if c.Fencing {
			fence = "fencing (gate + fence_paceline_netns)"
		}
		fmt.Fprintf(&b, "## %s: %d nodes, %s\n\n", c.Name, c.Nodes, fence)
		fmt.Fprintf(&b, "- faults %d, duration %vs; holder samples %d, dual-holder samples %d\n", c.Faults, c.DurationS, c.HolderSamples, c.DualHolderSamples)
		fmt.Fprintf(&b, "- writes: acknowledged %d, rejected (no quorum/leader) %d, outcome unknown %d (%d of them applied in the end), agent unreachable %d, **lost %d**\n", c.WritesAcked, c.WritesRejected, c.WritesUnknown, c.UnknownApplied, c.WritesUnavailable, len(c.LostWrites))
		revived := 0
		for _, f := range c.FaultLog {
			revived += len(f.Revived)
		}
		fmt.Fprintf(&b, "- nodes found dead after a fault's undo (fenced) and revived: %d\n\n", revived)
		table(c.ByKind)
		for _, e := range c.DualHolderEpisodes {
			fmt.Fprintf(&b, "- dual holder: %s\n", e)
		}
		for i, l := range c.LostWrites {
			if i == 20 {
				fmt.Fprintf(&b, "- ... %d more lost writes\n", len(c.LostWrites)-20)
				break
			}
			fmt.Fprintf(&b, "- lost write: %s\n", l)
		}
		for _, f := range c.Failures {
			fmt.Fprintf(&b, "- failure: %s\n", f)
		}
		modes := map[string]int{}
		for _, f := range c.FaultLog {
			if f.Kind == fNetem {
				modes[f.Note]++
			}
		}
		for _, m := range slices.Sorted(maps.Keys(modes)) {
			fmt.Fprintf(&b, "- netem applied as: %s (%d)\n", m, modes[m])
		}
		for _, f := range c.FaultLog {
			if f.Kind == fFenceFail || !f.Recovered {
				fmt.Fprintf(&b, "- #%d %s on %s: recovered %v; %s\n", f.N, f.Kind, f.Target, f.Recovered, f.Note)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
