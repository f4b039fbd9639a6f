package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
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

	"github.com/paceline/paceline/clustertest"
	"github.com/paceline/paceline/fencing"
)

// The two-node-redis example (examples/two-node-redis) as tests: two
// nodes (webCluster: each agent in a mount namespace of its own, so the
// one dir= is a different directory on each node), a ping target and a
// client. The example's setup.sh makes the configuration, with the lab's
// fence device (fence_paceline_netns). A writer in the client namespace
// SETs k<n> through the VIP and keeps every acknowledged n; a checker
// samples both instances' ROLE every 20 ms and fails at any moment with
// two reachable masters.
//
// TestRedisExample: the primary's node crashes; the survivor fences it,
// promotes, and writes resume through the VIP; the old node returns as
// a replica of the new primary. Then a planned move takes the primary
// back to it (`paceline resource move --promoted redis-clone NODE`: see plannedMove), which
// must lose no acknowledged write, and `resource clear` lifts the move.
// With PACELINE_REDIS_RUNS=N it makes N crash failovers, each followed
// by two planned moves (there and back, so that the crashes alternate
// between the nodes), and logs figures (make bench-redis).
//
// TestRedisExampleCrashDuringFirstSync: the primary crashes while the
// replica's first synchronisation is still under way; the replica has
// none of the data and must not be promoted.

const redisPort = "6379"

// respCmd sends one command and reads one reply: a string for simple
// strings, bulk strings and integers, []any for arrays, nil for a nil
// reply; a RESP error is returned as an error.
func respCmd(conn net.Conn, r *bufio.Reader, args ...string) (any, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return nil, err
	}
	return respRead(r)
}

func respRead(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return nil, errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return nil, err
		}
		buf := make([]byte, n+2)
		if _, err := ioReadFull(r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return nil, err
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = respRead(r); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("bad reply %q", line)
}

func ioReadFull(r *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// redisConn is a connection from the client namespace.
type redisConn struct {
	net.Conn
	r *bufio.Reader
}

func dialRedis(ns, host string, timeout time.Duration) (*redisConn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := dialIn(ns)(ctx, "tcp", net.JoinHostPort(host, redisPort))
	if err != nil {
		return nil, err
	}
	return &redisConn{Conn: c, r: bufio.NewReader(c)}, nil
}

func (c *redisConn) do(timeout time.Duration, args ...string) (any, error) {
	_ = c.SetDeadline(time.Now().Add(timeout))
	return respCmd(c.Conn, c.r, args...)
}

// redisRoleInfo is what ROLE says: "master" with its offset, or "slave"
// with its master's host, the link's state ("connected" once a
// synchronisation has completed; "connect", "connecting", "handshake",
// "sync" before) and the offset it has processed.
type redisRoleInfo struct {
	Role, Master, Link string
	Offset             int64
}

func redisRoleOf(ns, host string) (redisRoleInfo, error) {
	c, err := dialRedis(ns, host, 150*time.Millisecond)
	if err != nil {
		return redisRoleInfo{}, err
	}
	defer c.Close()
	v, err := c.do(200*time.Millisecond, "ROLE")
	if err != nil {
		return redisRoleInfo{}, err
	}
	a, ok := v.([]any)
	if !ok || len(a) == 0 {
		return redisRoleInfo{}, fmt.Errorf("ROLE: %v", v)
	}
	var ri redisRoleInfo
	ri.Role, _ = a[0].(string)
	switch {
	case ri.Role == "master" && len(a) > 1:
		s, _ := a[1].(string)
		ri.Offset, _ = strconv.ParseInt(s, 10, 64)
	case ri.Role == "slave" && len(a) > 4:
		ri.Master, _ = a[1].(string)
		ri.Link, _ = a[3].(string)
		s, _ := a[4].(string)
		ri.Offset, _ = strconv.ParseInt(s, 10, 64)
	}
	return ri, nil
}

// redisRole asks host's instance (from the client) for ROLE: "master" or
// "slave" and, for a replica, the master's host, followed by " (link
// STATE)" unless the replication link is connected.
func redisRole(ns, host string) (role, master string, err error) {
	ri, err := redisRoleOf(ns, host)
	if err != nil {
		return "", "", err
	}
	master = ri.Master
	if ri.Role == "slave" && ri.Link != "connected" {
		master += " (link " + ri.Link + ")"
	}
	return ri.Role, master, nil
}

func nodeAddr(node string) string { return "192.0.2." + strings.TrimPrefix(node, "n") }

// redisAck is one acknowledged write: k<n> = n, acknowledged at at.
type redisAck struct {
	n  int
	at time.Time
}

// redisLab is the two-node-redis example running: the cluster, its
// client namespace, the VIP's holders and the current primary.
type redisLab struct {
	*webCluster
	client  string
	h       *holders
	primary string

	mu     sync.Mutex
	acked  []redisAck
	failed int // writes not acknowledged (errors, timeouts, no connection)
	read   int // acked[:read] have been read back
}

// newRedisLab starts two nodes, runs the example's setup.sh, checks the
// export against config.yaml and waits for one primary with the VIP on
// its node and a SET through the VIP answered.
func newRedisLab(t *testing.T) *redisLab {
	if _, err := os.Stat("/usr/bin/redis-server"); err != nil {
		t.Skip("needs /usr/bin/redis-server (make deps)")
	}
	w := newWebCluster(t, 2)
	w.lab.AddHost("ping", "192.0.2.254/24")
	l := &redisLab{webCluster: w, client: w.lab.NS("client")}
	// Each node's data directory, seen there as ROOT/node/redis.
	dataDir := filepath.Join(w.root, "node", "redis")
	for _, n := range w.names {
		if err := os.MkdirAll(filepath.Join(w.root, n, "node", "redis"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// redis-server daemonizes out of the agents' process groups: every
	// process of the node namespaces is killed by PID (newWebCluster's
	// cleanup does it too; this runs first).
	t.Cleanup(func() {
		for _, n := range w.names {
			killNetns(t, w.lab.NS(n))
		}
	})

	script := filepath.Join("..", "examples", "two-node-redis", "setup.sh")
	cmd := exec.Command("sh", script)
	fenceArgs := fmt.Sprintf("switch_ns=%s pcmk_host_map=n1:%s;n2:%s node_netns=n1:%s;n2:%s",
		w.lab.sw, w.lab.port("n1"), w.lab.port("n2"), w.lab.NS("n1"), w.lab.NS("n2"))
	cmd.Env = append(os.Environ(), "PACELINE="+bin, "PACELINE_SOCKET="+w.clients["n1"].Socket(),
		"REDIS_DIR="+dataDir, "FENCE_AGENT=fence_paceline_netns", "FENCE_ARGS="+fenceArgs)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	t.Logf("%s:\n%s", script, out)
	w.checkExport(t, "two-node-redis", strings.NewReplacer(dataDir, "/var/lib/paceline/redis", w.lab.prefix, "pl-"))

	l.h = newHolders(t, w.netCluster)
	l.h.reachable = true

	// One primary, the VIP on its node, redis answering through the VIP.
	t0 := time.Now()
	clustertest.WaitFor(t, exampleBound, func() (bool, string) {
		var masters []string
		for _, n := range w.names {
			if r, _, err := redisRole(l.client, nodeAddr(n)); err == nil && r == "master" {
				masters = append(masters, n)
			}
		}
		on := l.h.now()
		if len(masters) != 1 || len(on) != 1 || on[0] != masters[0] {
			return false, fmt.Sprintf("masters %v, VIP on %v\n%s", masters, on, w.statusFrom("n1"))
		}
		c, err := dialRedis(l.client, vipAddr, 300*time.Millisecond)
		if err != nil {
			return false, "VIP: " + err.Error()
		}
		defer c.Close()
		if v, err := c.do(300*time.Millisecond, "SET", "hello", "world"); err != nil || v != "OK" {
			return false, fmt.Sprintf("SET through the VIP: %v %v", v, err)
		}
		l.primary = masters[0]
		return true, ""
	})
	t.Logf("primary %s, the VIP there, SET through it answered, %v after setup.sh", l.primary, time.Since(t0).Round(time.Millisecond))
	return l
}

// pl runs the CLI against node's agent.
func (l *redisLab) pl(t *testing.T, node string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, append([]string{"-s", l.clients[node].Socket()}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("paceline %s (on %s): %v: %s", strings.Join(args, " "), node, err, out)
	}
	return string(out)
}

// waitReplica waits until node's redis is a replica of the primary
// whose link is connected (a synchronisation completed) and which has
// processed the primary's stream up to the primary's offset when the
// link was seen connected.
func (l *redisLab) waitReplica(t *testing.T, node string) time.Duration {
	t.Helper()
	t0 := time.Now()
	var upTo int64 = -1
	clustertest.WaitFor(t, exampleBound, func() (bool, string) {
		r, err := redisRoleOf(l.client, nodeAddr(node))
		if err != nil || r.Role != "slave" || r.Master != nodeAddr(l.primary) || r.Link != "connected" {
			return false, fmt.Sprintf("%s: %+v (%v), want a replica of %s with its link connected\n%s", node, r, err, l.primary, l.statusFrom(l.primary))
		}
		if upTo < 0 {
			p, err := redisRoleOf(l.client, nodeAddr(l.primary))
			if err != nil || p.Role != "master" {
				return false, fmt.Sprintf("primary %s: %+v (%v)", l.primary, p, err)
			}
			upTo = p.Offset
		}
		return r.Offset >= upTo, fmt.Sprintf("%s: at offset %d, the primary was at %d", node, r.Offset, upTo)
	})
	return time.Since(t0)
}

// startChecker samples both instances' ROLE every 20 ms and fails the
// test at any moment with two reachable masters (a node whose switch
// port is down, fenced, is not reachable). stop returns the samples.
func (l *redisLab) startChecker(t *testing.T) (stop func() int64) {
	var samples atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			samples.Add(1)
			var masters []string
			for _, n := range l.names {
				if !l.h.portUp(n) {
					continue // fenced or cut: not reachable
				}
				if r, _, err := redisRole(l.client, nodeAddr(n)); err == nil && r == "master" {
					masters = append(masters, n)
				}
			}
			if len(masters) > 1 {
				t.Errorf("two reachable redis masters at once: %v", masters)
			}
		}
	})
	var once sync.Once
	stop = func() int64 { once.Do(func() { close(done) }); wg.Wait(); return samples.Load() }
	// The goroutines dial from the client namespace (a thread enters it,
	// possibly the process's main thread, which `ip netns pids` sees):
	// they stop before the cleanups kill that namespace's processes.
	t.Cleanup(func() { stop() })
	return stop
}

// redisWriteEvery paces the writer: at most 5,000 writes a second. As
// fast as it can, the writer (with both redis-servers and the kernel's
// forwarding between the namespaces) keeps two CPUs busy, and the
// agents' failure detection (the fast profile: 50 ms probe timeouts)
// then sees nodes fail that did not.
const redisWriteEvery = 200 * time.Microsecond

// startWriter SETs k<n> n through the VIP, one at a time, and records
// every n acknowledged with OK.
func (l *redisLab) startWriter(t *testing.T) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var c *redisConn
		defer func() {
			if c != nil {
				c.Close()
			}
		}()
		next := time.Now()
		for n := 1; ; n++ {
			select {
			case <-done:
				return
			default:
			}
			next = next.Add(redisWriteEvery)
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			} else if d < -100*time.Millisecond {
				next = time.Now() // behind after a failover: no burst to catch up
			}
			if c == nil {
				var err error
				if c, err = dialRedis(l.client, vipAddr, 200*time.Millisecond); err != nil {
					c = nil
					l.mu.Lock()
					l.failed++
					l.mu.Unlock()
					time.Sleep(10 * time.Millisecond) // pace reconnects to a VIP that is moving
					continue
				}
			}
			v, err := c.do(300*time.Millisecond, "SET", "k"+strconv.Itoa(n), strconv.Itoa(n))
			l.mu.Lock()
			if err == nil && v == "OK" {
				l.acked = append(l.acked, redisAck{n, time.Now()})
			} else {
				l.failed++
			}
			l.mu.Unlock()
			if err != nil {
				c.Close()
				c = nil
				time.Sleep(5 * time.Millisecond)
			}
		}
	})
	var once sync.Once
	stop = func() { once.Do(func() { close(done) }); wg.Wait() }
	t.Cleanup(stop)
	return stop
}

// acks is how many writes have been acknowledged.
func (l *redisLab) acks() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// ackedAfter is the first write acknowledged after at (n 0: none yet).
func (l *redisLab) ackedAfter(at time.Time) redisAck {
	l.mu.Lock()
	defer l.mu.Unlock()
	i, _ := slices.BinarySearchFunc(l.acked, at, func(a redisAck, at time.Time) int {
		if a.at.After(at) {
			return 1
		}
		return -1
	})
	if i < len(l.acked) {
		return l.acked[i]
	}
	return redisAck{}
}

// waitAcks waits until n more writes than now have been acknowledged.
func (l *redisLab) waitAcks(t *testing.T, n int) {
	t.Helper()
	want := l.acks() + n
	clustertest.WaitFor(t, exampleBound, func() (bool, string) {
		return l.acks() >= want, fmt.Sprintf("%d writes acknowledged, want %d", l.acks(), want)
	})
}

// longestPause is the longest time between two writes acknowledged one
// after the other, the later one in (from, to].
func (l *redisLab) longestPause(from, to time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var longest time.Duration
	for i := 1; i < len(l.acked); i++ {
		a := l.acked[i]
		if a.at.After(from) && !a.at.After(to) {
			longest = max(longest, a.at.Sub(l.acked[i-1].at))
		}
	}
	return longest
}

// readBack reads every write acknowledged so far and not read back yet
// from the primary (not through the VIP), and returns how many of them
// it lacks, of how many, and the first and last five missing.
func (l *redisLab) readBack(t *testing.T) (lost, of int, missing []int) {
	t.Helper()
	l.mu.Lock()
	todo := slices.Clone(l.acked[l.read:])
	l.read = len(l.acked)
	l.mu.Unlock()
	c, err := dialRedis(l.client, nodeAddr(l.primary), time.Second)
	if err != nil {
		t.Fatalf("reading back from %s: %v", l.primary, err)
	}
	defer c.Close()
	for i := 0; i < len(todo); i += 500 {
		batch := todo[i:min(i+500, len(todo))]
		args := []string{"MGET"}
		for _, a := range batch {
			args = append(args, "k"+strconv.Itoa(a.n))
		}
		v, err := c.do(5*time.Second, args...)
		vals, ok := v.([]any)
		if err != nil || !ok || len(vals) != len(batch) {
			t.Fatalf("MGET from %s: %v %v", l.primary, v, err)
		}
		for k, x := range vals {
			if x != strconv.Itoa(batch[k].n) {
				lost++
				missing = append(missing, batch[k].n)
			}
		}
	}
	if len(missing) > 10 {
		missing = append(missing[:5:5], missing[len(missing)-5:]...)
	}
	return lost, len(todo), missing
}

// crashResult is one crash failover's figures.
type crashResult struct {
	crashed, survivor string
	fenced            time.Duration // the fencing operation's duration
	resumed           time.Duration // crash -> a write acknowledged through the VIP again
}

// crashFailover crashes the primary's node (its agent and every process
// of its namespace, redis too, SIGKILLed by PID; its link down). The
// survivor must fence it before a write is acknowledged through the VIP
// again, and be the primary.
func (l *redisLab) crashFailover(t *testing.T) crashResult {
	t.Helper()
	crashed, survivor := l.primary, other(l.primary)
	began := l.crash(t, crashed)
	done := time.Now() // the crashed node's redis is dead: a write acknowledged after this is the new primary's
	clustertest.WaitFor(t, exampleBound, func() (bool, string) {
		return l.ackedAfter(done).n > 0, "no write acknowledged since the crash\n" + l.statusFrom(survivor)
	})
	resumed := l.ackedAfter(done).at
	var ops []fencing.Op
	j := -1
	clustertest.WaitFor(t, 5*time.Second, func() (bool, string) {
		ops = fenceHistory(t, l.netCluster, survivor)
		j = slices.IndexFunc(ops, func(op fencing.Op) bool {
			return op.Target == crashed && op.State == fencing.Done && op.Started.After(began)
		})
		return j >= 0, fmt.Sprintf("%s took over without fencing %s: %+v", survivor, crashed, ops)
	})
	if f := ops[j].Completed; resumed.Before(f) {
		t.Errorf("a write was acknowledged through the VIP at %v, before %s was fenced at %v", resumed, crashed, f)
	}
	if r, _, err := redisRole(l.client, nodeAddr(survivor)); err != nil || r != "master" {
		t.Fatalf("writes resumed through the VIP but %s's redis is %q (%v)", survivor, r, err)
	}
	l.primary = survivor
	return crashResult{crashed: crashed, survivor: survivor, fenced: ops[j].Completed.Sub(ops[j].Started), resumed: resumed.Sub(began)}
}

// returnNode brings a crashed node back (its agent and processes gone,
// the VIP's address removed as a reboot would, its switch port and link
// up, its agent started, its data directory kept); its redis must come
// back as a replica of the primary, connected and caught up.
func (l *redisLab) returnNode(t *testing.T, node string) time.Duration {
	t.Helper()
	l.procs[node].Stop(syscall.SIGKILL)
	killNetns(t, l.lab.NS(node))
	_ = exec.Command("ip", "-n", l.lab.NS(node), "addr", "del", vipAddr+"/24", "dev", "eth0").Run()
	l.lab.Heal(node) // the fence took its port down
	l.lab.ip("-n", l.lab.NS(node), "link", "set", "eth0", "up")
	l.startAgent(node)
	t0 := time.Now()
	l.waitQuorate(t, 30*time.Second, map[string]bool{"n1": true, "n2": true})
	l.waitReplica(t, node)
	return time.Since(t0)
}

// moveResult is one planned move's figures.
type moveResult struct {
	from, to string
	done     time.Duration // move command -> a write acknowledged by the new primary
	paused   time.Duration // the longest time without an acknowledged write meanwhile
}

// plannedMove moves the primary to the other node with the writer
// running (`paceline resource move --promoted redis-clone NODE`, as pcs's:
// cli-prefer-redis-clone with role Promoted), then lifts the move. The
// transition is Pacemaker's switchover: stop the VIP (colocated with the
// promoted instance), demote (the agent pauses writes and waits until
// the replica has the last one), promote the replica (it catches up
// first), start the VIP.
func (l *redisLab) plannedMove(t *testing.T) moveResult {
	t.Helper()
	from, to := l.primary, other(l.primary)
	t0 := time.Now()
	l.pl(t, to, "resource", "move", "--promoted", "redis-clone", to)
	var at time.Time
	clustertest.WaitFor(t, exampleBound, func() (bool, string) {
		if on := l.h.now(); len(on) != 1 || on[0] != to {
			return false, fmt.Sprintf("VIP on %v, want %s\n%s", on, to, l.statusFrom(to))
		}
		if r, m, err := redisRole(l.client, nodeAddr(to)); err != nil || r != "master" {
			return false, fmt.Sprintf("%s's redis is %s of %q (%v), want the master", to, r, m, err)
		}
		if at.IsZero() {
			at = time.Now()
		}
		a := l.ackedAfter(at)
		return a.n > 0, fmt.Sprintf("no write acknowledged through the VIP since %s's redis was the master and held it", to)
	})
	resumed := l.ackedAfter(at).at
	l.primary = to
	l.pl(t, to, "resource", "clear", "redis-clone")
	// The old primary follows the new one; the promotion stays put
	// without the move's constraint (the primary's score is above the
	// replica's).
	l.waitReplica(t, from)
	return moveResult{from: from, to: to, done: resumed.Sub(t0), paused: l.longestPause(t0, resumed)}
}

// redisRuns is PACELINE_REDIS_RUNS: how many crash failovers, each with
// its planned moves, TestRedisExample makes (1 without it).
func redisRuns(t *testing.T) int {
	v := os.Getenv("PACELINE_REDIS_RUNS")
	if v == "" {
		return 1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("PACELINE_REDIS_RUNS=%q: want a positive count", v)
	}
	return n
}

// intStats is "median M, max X over N" of counts.
func intStats(v []int) string {
	if len(v) == 0 {
		return "no runs"
	}
	s := slices.Clone(v)
	slices.Sort(s)
	m := float64(s[len(s)/2])
	if len(s)%2 == 0 {
		m = float64(s[len(s)/2-1]+s[len(s)/2]) / 2
	}
	return fmt.Sprintf("median %g, max %d over %d", m, s[len(s)-1], len(s))
}

func TestRedisExample(t *testing.T) {
	runs := redisRuns(t)
	// One planned move, to the node back from the crash; with figures,
	// there and back, so that the crashes alternate between the nodes.
	moves := 1
	if runs > 1 {
		moves = 2
	}
	l := newRedisLab(t)
	l.waitReplica(t, other(l.primary))
	stopCheck := l.startChecker(t)
	stopWrite := l.startWriter(t)
	l.waitAcks(t, 1000)

	var resumed, paused []time.Duration
	var crashLost, moveLost []int
	for run := 1; run <= runs; run++ {
		if runs > 1 {
			crashPhase() // a random phase of the monitors and heartbeats
		}
		c := l.crashFailover(t)
		back := l.returnNode(t, c.crashed)
		lost, of, missing := l.readBack(t)
		resumed = append(resumed, c.resumed)
		crashLost = append(crashLost, lost)
		t.Logf("run %d: %s crashed: fenced by %s in %v; writes acknowledged through the VIP again after %v; %s back as a replica in %v; "+
			"writes lost: %d of %d acknowledged since the last check (missing, first and last: k%v)",
			run, c.crashed, c.survivor, c.fenced.Round(time.Millisecond), c.resumed.Round(time.Millisecond), c.crashed, back.Round(time.Millisecond),
			lost, of, missing)

		for range moves {
			l.waitAcks(t, 1000)
			m := l.plannedMove(t)
			lost, of, missing := l.readBack(t)
			paused = append(paused, m.paused)
			moveLost = append(moveLost, lost)
			t.Logf("run %d: planned move %s -> %s: writes acknowledged through the VIP again after %v, paused at most %v; writes lost: %d of %d acknowledged since the last check",
				run, m.from, m.to, m.done.Round(time.Millisecond), m.paused.Round(time.Millisecond), lost, of)
			if lost > 0 {
				t.Errorf("run %d: the planned move %s -> %s lost %d acknowledged writes (first and last: k%v)", run, m.from, m.to, lost, missing)
			}
		}
		l.waitAcks(t, 1000)
	}
	stopWrite()
	samples := stopCheck()
	if on := l.h.now(); len(on) != 1 || on[0] != l.primary {
		t.Errorf("the VIP is on %v, want %s (the primary)", on, l.primary)
	}
	if lost, of, missing := l.readBack(t); lost > 0 {
		t.Errorf("%d of the last %d acknowledged writes lost with no failover (k%v)", lost, of, missing)
	}
	l.mu.Lock()
	total, failed := len(l.acked), l.failed
	l.mu.Unlock()
	t.Logf("figure: two-node-redis: crash -> writes acknowledged through the VIP again: %s", stats(resumed))
	t.Logf("figure: two-node-redis: writes lost per crash failover: %s (asynchronous replication: what the primary acknowledged and had not sent yet)", intStats(crashLost))
	t.Logf("figure: two-node-redis: writes lost per planned move: %s", intStats(moveLost))
	t.Logf("figure: two-node-redis: writes paused per planned move: %s", stats(paused))
	t.Logf("figure: two-node-redis: %d writes acknowledged in all, %d attempts failed; never two reachable masters over %d samples", total, failed, samples)
}

// TestRedisExampleCrashDuringFirstSync: the primary crashes while the
// replica's first synchronisation is still under way — right after the
// first promotion Redis holds it back for repl-diskless-sync-delay
// (5 s), and the replica then shows no synchronisation in progress,
// only a link that is not up. The replica has none of the data: it must
// not be promoted (the agent gives it no promotion score), so the
// service stays down rather than serving an empty data set — an early
// run of TestRedisExample, which crashed the primary 1 s after the
// writes began without waiting for the replica's link, lost every
// acknowledged write (25,732) so.
func TestRedisExampleCrashDuringFirstSync(t *testing.T) {
	l := newRedisLab(t)
	replica := other(l.primary)
	notYet := func() (bool, string) {
		r, err := redisRoleOf(l.client, nodeAddr(replica))
		if err == nil && r.Role == "slave" && r.Master == nodeAddr(l.primary) && r.Link == "connected" {
			t.Fatalf("%s completed its first synchronisation before the test crashed %s: nothing to test", replica, l.primary)
		}
		return err == nil && r.Role == "slave" && r.Master == nodeAddr(l.primary), fmt.Sprintf("%s: %+v (%v)", replica, r, err)
	}
	clustertest.WaitFor(t, exampleBound, notYet)
	stopCheck := l.startChecker(t)
	stopWrite := l.startWriter(t)
	l.waitAcks(t, 1000)
	if ok, why := notYet(); !ok {
		t.Fatalf("before the crash: %s", why)
	}
	crashed := l.primary
	began := l.crash(t, crashed)
	done := time.Now()
	clustertest.WaitFor(t, exampleBound, func() (bool, string) {
		ops := fenceHistory(t, l.netCluster, replica)
		return slices.ContainsFunc(ops, func(op fencing.Op) bool {
			return op.Target == crashed && op.State == fencing.Done && op.Started.After(began)
		}), fmt.Sprintf("%s has not fenced %s: %+v", replica, crashed, ops)
	})
	// Fenced: the scheduler may promote now. Watch for several of the
	// replica's monitors (1 s) that it does not.
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		r, err := redisRoleOf(l.client, nodeAddr(replica))
		if a := l.ackedAfter(done); (err == nil && r.Role == "master") || a.n > 0 {
			stopWrite()
			l.primary = replica
			clustertest.WaitFor(t, exampleBound, func() (bool, string) {
				r, err := redisRoleOf(l.client, nodeAddr(replica))
				return err == nil && r.Role == "master", fmt.Sprintf("%s: %+v (%v)", replica, r, err)
			})
			l.mu.Lock()
			before := len(l.acked)
			if a.n > 0 {
				before = slices.IndexFunc(l.acked, func(x redisAck) bool { return x.n == a.n })
			}
			l.mu.Unlock()
			lost, of, _ := l.readBack(t)
			t.Fatalf("%s was promoted (redis %+v; a write acknowledged through the VIP at %v) without ever completing a synchronisation: "+
				"%d of %d acknowledged writes lost (%d were acknowledged before the crash)\n%s",
				replica, r, a.at, lost, of, before, l.statusFrom(replica))
		}
	}
	stopWrite()
	samples := stopCheck()
	status := l.statusFrom(replica, "--attrs")
	if strings.Contains(status, "  "+replica+": master-redis=") || strings.Contains(status, "Promoted "+replica) {
		t.Errorf("%s has a promotion score or is promoted:\n%s", replica, status)
	}
	t.Logf("%s crashed during %s's first synchronisation; %s fenced it and left its redis a replica (no promotion score): "+
		"the service stays down until %s returns, rather than serving an empty data set in place of %d acknowledged writes; "+
		"never two reachable masters over %d samples\n%s",
		crashed, replica, replica, crashed, l.acks(), samples, status)
}

// statusFrom is `paceline status [args]` from node's agent, or why not.
func (w *webCluster) statusFrom(node string, args ...string) string {
	out, err := exec.Command(bin, append([]string{"-s", w.clients[node].Socket(), "status"}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("status from %s: %v: %s", node, err, out)
	}
	return string(out)
}
