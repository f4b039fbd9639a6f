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

// The two-node-redis example (examples/two-node-redis) as a test: two
// nodes (webCluster: each agent in a mount namespace of its own, so the
// one dir= is a different directory on each node), a ping target and a
// client. The example's setup.sh makes the configuration, with the lab's
// fence device (fence_paceline_netns). A writer in the client namespace
// SETs k<n> through the VIP; a checker samples both instances' ROLE every
// 20 ms and fails at any moment with two reachable masters. The primary's
// node crashes; the survivor fences it, promotes, and writes resume
// through the VIP; the old node returns as a replica of the new primary.

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

// redisRole asks host's instance (from the client) for ROLE: "master" or
// "slave" and, for a replica, the master's host, followed by " (link
// STATE)" unless the replication link is connected.
func redisRole(ns, host string) (role, master string, err error) {
	c, err := dialRedis(ns, host, 150*time.Millisecond)
	if err != nil {
		return "", "", err
	}
	defer c.Close()
	v, err := c.do(200*time.Millisecond, "ROLE")
	if err != nil {
		return "", "", err
	}
	a, ok := v.([]any)
	if !ok || len(a) == 0 {
		return "", "", fmt.Errorf("ROLE: %v", v)
	}
	role, _ = a[0].(string)
	if role == "slave" && len(a) > 3 {
		master, _ = a[1].(string)
		if st, _ := a[3].(string); st != "connected" {
			master += " (link " + st + ")"
		}
	}
	return role, master, nil
}

func nodeAddr(node string) string { return "192.0.2." + strings.TrimPrefix(node, "n") }

func TestRedisExample(t *testing.T) {
	if _, err := os.Stat("/usr/bin/redis-server"); err != nil {
		t.Skip("needs /usr/bin/redis-server (make deps)")
	}
	w := newWebCluster(t, 2)
	w.lab.AddHost("ping", "192.0.2.254/24")
	client := w.lab.NS("client")
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

	h := newHolders(t, w.netCluster)
	h.reachable = true

	// One primary, the VIP on its node, redis answering through the VIP.
	t0 := time.Now()
	var primary string
	clustertest.WaitFor(t, exampleBound, func() (bool, string) {
		var masters []string
		for _, n := range w.names {
			if r, _, err := redisRole(client, nodeAddr(n)); err == nil && r == "master" {
				masters = append(masters, n)
			}
		}
		on := h.now()
		if len(masters) != 1 || len(on) != 1 || on[0] != masters[0] {
			return false, fmt.Sprintf("masters %v, VIP on %v\n%s", masters, on, w.statusFrom("n1"))
		}
		c, err := dialRedis(client, vipAddr, 300*time.Millisecond)
		if err != nil {
			return false, "VIP: " + err.Error()
		}
		defer c.Close()
		if v, err := c.do(300*time.Millisecond, "SET", "hello", "world"); err != nil || v != "OK" {
			return false, fmt.Sprintf("SET through the VIP: %v %v", v, err)
		}
		primary = masters[0]
		return true, ""
	})
	survivor := other(primary)
	t.Logf("primary %s, the VIP there, SET through it answered, %v after setup.sh", primary, time.Since(t0).Round(time.Millisecond))
	// The replica follows it.
	clustertest.WaitFor(t, exampleBound, func() (bool, string) {
		r, m, err := redisRole(client, nodeAddr(survivor))
		return err == nil && r == "slave" && m == nodeAddr(primary), fmt.Sprintf("%s: %s of %q (%v)", survivor, r, m, err)
	})

	// The role checker: never two reachable masters.
	var samples atomic.Int64
	checkDone := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-checkDone:
				return
			case <-time.After(20 * time.Millisecond):
			}
			samples.Add(1)
			var masters []string
			for _, n := range w.names {
				if !h.portUp(n) {
					continue // fenced or cut: not reachable
				}
				if r, _, err := redisRole(client, nodeAddr(n)); err == nil && r == "master" {
					masters = append(masters, n)
				}
			}
			if len(masters) > 1 {
				t.Errorf("two reachable redis masters at once: %v", masters)
			}
		}
	})
	var checkOnce sync.Once
	stopCheck := func() int64 { checkOnce.Do(func() { close(checkDone) }); wg.Wait(); return samples.Load() }
	// The goroutines dial from the client namespace (a thread enters it,
	// possibly the process's main thread, which `ip netns pids` sees):
	// they stop before the cleanups kill that namespace's processes.
	t.Cleanup(func() { stopCheck() })

	// The writer: SET k<n> n through the VIP, one at a time; acked holds
	// every n acknowledged with OK, with the time.
	type ack struct {
		n  int
		at time.Time
	}
	var mu sync.Mutex
	var acked []ack
	var failed int
	writeDone := make(chan struct{})
	var writeOnce sync.Once
	var ww sync.WaitGroup
	stopWrite := func() { writeOnce.Do(func() { close(writeDone) }); ww.Wait() }
	t.Cleanup(stopWrite)
	ww.Go(func() {
		var c *redisConn
		for n := 1; ; n++ {
			select {
			case <-writeDone:
				if c != nil {
					c.Close()
				}
				return
			default:
			}
			if c == nil {
				var err error
				if c, err = dialRedis(client, vipAddr, 200*time.Millisecond); err != nil {
					c = nil
					mu.Lock()
					failed++
					mu.Unlock()
					time.Sleep(10 * time.Millisecond)
					continue
				}
			}
			v, err := c.do(300*time.Millisecond, "SET", "k"+strconv.Itoa(n), strconv.Itoa(n))
			mu.Lock()
			if err == nil && v == "OK" {
				acked = append(acked, ack{n, time.Now()})
			} else {
				failed++
			}
			mu.Unlock()
			if err != nil {
				c.Close()
				c = nil
				time.Sleep(5 * time.Millisecond)
			}
		}
	})
	ackedAfter := func(at time.Time) (int, time.Time) {
		mu.Lock()
		defer mu.Unlock()
		for _, a := range acked {
			if a.at.After(at) {
				return a.n, a.at
			}
		}
		return 0, time.Time{}
	}
	time.Sleep(time.Second) // writes flow

	began := w.crash(t, primary)
	done := time.Now() // n1's redis is dead: a write acknowledged after this is the new primary's
	clustertest.WaitFor(t, exampleBound, func() (bool, string) {
		n, _ := ackedAfter(done)
		return n > 0, "no write acknowledged since the crash\n" + w.statusFrom(survivor)
	})
	_, resumed := ackedAfter(done)
	var ops []fencing.Op
	j := -1
	clustertest.WaitFor(t, 5*time.Second, func() (bool, string) {
		ops = fenceHistory(t, w.netCluster, survivor)
		j = slices.IndexFunc(ops, func(op fencing.Op) bool {
			return op.Target == primary && op.State == fencing.Done && op.Started.After(began)
		})
		return j >= 0, fmt.Sprintf("%s took over without fencing %s: %+v", survivor, primary, ops)
	})
	if f := ops[j].Completed; resumed.Before(f) {
		t.Errorf("a write was acknowledged through the VIP at %v, before %s was fenced at %v", resumed, primary, f)
	}
	if r, _, err := redisRole(client, nodeAddr(survivor)); err != nil || r != "master" {
		t.Fatalf("writes resumed through the VIP but %s's redis is %q (%v)", survivor, r, err)
	}
	t.Logf("figure: two-node-redis: %s crashed: fenced by %s in %v; writes acknowledged through the VIP again after %v",
		primary, survivor, ops[j].Completed.Sub(ops[j].Started).Round(time.Millisecond), resumed.Sub(began).Round(time.Millisecond))
	time.Sleep(500 * time.Millisecond)

	// The old primary returns, as a replica of the new one.
	w.procs[primary].Stop(syscall.SIGKILL)
	killNetns(t, w.lab.NS(primary))
	_ = exec.Command("ip", "-n", w.lab.NS(primary), "addr", "del", vipAddr+"/24", "dev", "eth0").Run()
	w.lab.Heal(primary) // the fence took its port down
	w.lab.ip("-n", w.lab.NS(primary), "link", "set", "eth0", "up")
	w.startAgent(primary)
	w.waitQuorate(t, 30*time.Second, map[string]bool{"n1": true, "n2": true})
	t1 := time.Now()
	clustertest.WaitFor(t, exampleBound, func() (bool, string) {
		r, m, err := redisRole(client, nodeAddr(primary))
		return err == nil && r == "slave" && m == nodeAddr(survivor), fmt.Sprintf("%s: %s of %q (%v)", primary, r, m, err)
	})
	t.Logf("%s is back as a replica of %s after %v", primary, survivor, time.Since(t1).Round(time.Millisecond))
	time.Sleep(2 * time.Second) // keep checking for two masters a while
	stopWrite()
	n := stopCheck()
	if on := h.now(); len(on) != 1 || on[0] != survivor {
		t.Errorf("the VIP is on %v, want %s", on, survivor)
	}

	// Every acknowledged write, read back from the new primary.
	c, err := dialRedis(client, nodeAddr(survivor), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mu.Lock()
	all := slices.Clone(acked)
	mu.Unlock()
	lost := 0
	var lostBefore []int
	for i := 0; i < len(all); i += 500 {
		batch := all[i:min(i+500, len(all))]
		args := []string{"MGET"}
		for _, a := range batch {
			args = append(args, "k"+strconv.Itoa(a.n))
		}
		v, err := c.do(5*time.Second, args...)
		vals, ok := v.([]any)
		if err != nil || !ok || len(vals) != len(batch) {
			t.Fatalf("MGET from %s: %v %v", survivor, v, err)
		}
		for k, x := range vals {
			if x != strconv.Itoa(batch[k].n) {
				lost++
				lostBefore = append(lostBefore, batch[k].n)
			}
		}
	}
	if len(lostBefore) > 10 {
		lostBefore = append(lostBefore[:5:5], lostBefore[len(lostBefore)-5:]...)
	}
	t.Logf("figure: two-node-redis: writes lost per crash failover: %d of %d acknowledged (%d attempts failed meanwhile); missing (first and last) k%v; never two reachable masters over %d samples",
		lost, len(all), failed, lostBefore, n)
}

// statusFrom is `paceline status` from node's agent, or why not.
func (w *webCluster) statusFrom(node string) string {
	out, err := exec.Command(bin, "-s", w.clients[node].Socket(), "status").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("status from %s: %v: %s", node, err, out)
	}
	return string(out)
}
