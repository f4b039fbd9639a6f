package messaging

import (
	"bytes"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// lockedBuf collects logs from several goroutines.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type testCluster struct {
	t      testing.TB
	timing Timing
	net    int
	key    []byte
	nodes  []*Membership
	addrs  []string
	logs   *lockedBuf
}

// freeGossipPort finds a port free for both TCP and UDP on host.
func freeGossipPort(t testing.TB, host string) int {
	for range 50 {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		pc, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err == nil {
			pc.Close()
			return port
		}
	}
	t.Fatal("no free gossip port")
	return 0
}

func newTestCluster(t testing.TB, n int) *testCluster {
	fast, _ := TimingProfile("fast")
	return newTimedCluster(t, n, fast)
}

func newTimedCluster(t testing.TB, n int, timing Timing) *testCluster {
	c := &testCluster{t: t, timing: timing, net: 2 + rand.IntN(250), key: bytes.Repeat([]byte{7}, 32), logs: &lockedBuf{}}
	for i := range n {
		host := fmt.Sprintf("127.0.%d.%d", c.net, i+1)
		c.addrs = append(c.addrs, net.JoinHostPort(host, strconv.Itoa(freeGossipPort(t, host))))
		c.nodes = append(c.nodes, nil)
		c.start(i, c.key)
	}
	for i := 1; i < n; i++ {
		if _, err := c.nodes[i].Join([]string{c.addrs[0]}); err != nil {
			t.Fatal(err)
		}
	}
	c.waitAll(func(mb []Member) bool { return countState(mb, Alive) == n }, "all alive")
	t.Cleanup(func() {
		for _, m := range c.nodes {
			if m != nil {
				_ = m.Shutdown()
			}
		}
		if t.Failed() {
			t.Log(c.logs.String())
		}
	})
	return c
}

func (c *testCluster) start(i int, keys ...[]byte) *Membership {
	m, err := Start(Options{Name: "n" + strconv.Itoa(i+1), Bind: c.addrs[i], Keys: keys, Timing: c.timing,
		Logger: slog.New(slog.NewTextHandler(c.logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Meta:   Meta{Votes: 1, RaftAddr: "raft-" + strconv.Itoa(i)}})
	if err != nil {
		c.t.Fatal(err)
	}
	c.nodes[i] = m
	return m
}

func countState(mb []Member, s State) int {
	n := 0
	for _, m := range mb {
		if m.State == s {
			n++
		}
	}
	return n
}

func stateOf(mb []Member, name string) State {
	for _, m := range mb {
		if m.Name == name {
			return m.State
		}
	}
	return ""
}

// waitAll waits until cond holds on every running node's member list.
func (c *testCluster) waitAll(cond func([]Member) bool, what string) {
	c.t.Helper()
	// Suspicion may last up to memberlist's SuspicionMaxTimeoutMult (6)
	// times its minimum when few confirmations arrive (lan profile, many
	// nodes): bound by that, not by the floor.
	deadline := time.Now().Add(max(10*time.Second, 7*c.timing.DetectionFloor(len(c.nodes))))
	for {
		ok := true
		for _, m := range c.nodes {
			if m != nil && !cond(m.Members()) {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			for _, m := range c.nodes {
				if m != nil {
					c.t.Logf("%s sees %+v", m.Name(), m.Members())
				}
			}
			c.t.Fatalf("not reached: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFailureLeaveAndRejoin(t *testing.T) {
	c := newTestCluster(t, 5)
	events, stop := c.nodes[0].Subscribe()
	defer stop()

	// A crash (no leave): every other member sees it failed.
	start := time.Now()
	_ = c.nodes[4].Shutdown()
	c.nodes[4] = nil
	c.waitAll(func(mb []Member) bool { return stateOf(mb, "n5") == Failed }, "n5 failed everywhere")
	took := time.Since(start)
	t.Logf("crash of n5 seen as failed by all 4 others after %v", took)
	if took > 5*time.Second {
		t.Fatalf("detection took %v, want < 5s with the fast profile", took)
	}

	// A graceful leave is told apart.
	if err := c.nodes[3].Leave(time.Second); err != nil {
		t.Fatal(err)
	}
	c.nodes[3] = nil
	c.waitAll(func(mb []Member) bool { return stateOf(mb, "n4") == Left }, "n4 left everywhere")

	// n5 restarts and rejoins.
	c.start(4, c.key)
	if _, err := c.nodes[4].Join([]string{c.addrs[0]}); err != nil {
		t.Fatal(err)
	}
	c.waitAll(func(mb []Member) bool { return stateOf(mb, "n5") == Alive }, "n5 alive again")

	var kinds []EventKind
	timeout := time.After(2 * time.Second)
	for !slices.Contains(kinds, EventRecovered) {
		select {
		case ev := <-events:
			if ev.Member.Name == "n5" || ev.Member.Name == "n4" {
				kinds = append(kinds, ev.Kind)
			}
		case <-timeout:
			t.Fatalf("events seen for n4/n5: %v; want failed, leave, recovered", kinds)
		}
	}
	for _, k := range []EventKind{EventFailed, EventLeave, EventRecovered} {
		if !slices.Contains(kinds, k) {
			t.Fatalf("events %v lack %s", kinds, k)
		}
	}
	if m := c.nodes[0].Members(); stateOf(m, "n4") != Left {
		t.Fatalf("n4 should stay left: %+v", m)
	}
}

func TestWrongKeyIsRefused(t *testing.T) {
	c := newTestCluster(t, 3)
	host := fmt.Sprintf("127.0.%d.9", c.net)
	c.addrs = append(c.addrs, net.JoinHostPort(host, strconv.Itoa(freeGossipPort(t, host))))
	c.nodes = append(c.nodes, nil)
	intruder := c.start(3, bytes.Repeat([]byte{9}, 32))
	if n, err := intruder.Join([]string{c.addrs[0]}); err == nil {
		t.Fatalf("joined %d members with the wrong key", n)
	}
	time.Sleep(300 * time.Millisecond)
	for _, m := range c.nodes[:3] {
		if st := stateOf(m.Members(), "n4"); st != "" {
			t.Fatalf("%s lists the intruder as %s", m.Name(), st)
		}
	}
	if !bytes.Contains([]byte(c.logs.String()), []byte("decrypt")) {
		t.Logf("logs: %s", c.logs.String())
		t.Fatal("no log line names the decryption failure")
	}
}

func TestKeyRotationLosesNoMember(t *testing.T) {
	c := newTestCluster(t, 3)
	newKey := bytes.Repeat([]byte{3}, 32)
	for _, step := range []struct {
		name string
		do   func(m *Membership) error
	}{
		{"install", func(m *Membership) error { return m.InstallKey(newKey) }},
		{"use", func(m *Membership) error { return m.UseKey(newKey) }},
		{"remove old", func(m *Membership) error { return m.RemoveKey(c.key) }},
	} {
		for _, m := range c.nodes {
			if err := step.do(m); err != nil {
				t.Fatalf("%s on %s: %v", step.name, m.Name(), err)
			}
		}
		time.Sleep(300 * time.Millisecond) // several probe rounds under the new ring
		c.waitAll(func(mb []Member) bool { return countState(mb, Alive) == 3 }, "all alive after "+step.name)
	}
	if k := c.nodes[0].Keys(); len(k) != 1 || !bytes.Equal(k[0], newKey) {
		t.Fatalf("keys after rotation: %d keys", len(k))
	}
	// A node with only the old key is now refused.
	host := fmt.Sprintf("127.0.%d.9", c.net)
	c.addrs = append(c.addrs, net.JoinHostPort(host, strconv.Itoa(freeGossipPort(t, host))))
	c.nodes = append(c.nodes, nil)
	if _, err := c.start(3, c.key).Join([]string{c.addrs[0]}); err == nil {
		t.Fatal("a node with the removed key joined")
	}
}

func TestTransientAttributes(t *testing.T) {
	c := newTestCluster(t, 3)
	attrOn := func(m *Membership, node, name string) (string, bool) {
		v, ok := m.Attrs()[node][name]
		return v, ok
	}
	waitAttr := func(node, name, want string, present bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for _, m := range c.nodes {
			for {
				v, ok := attrOn(m, node, name)
				if ok == present && v == want {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s sees %s.%s = %q (%v), want %q (%v)", m.Name(), node, name, v, ok, want, present)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
	}
	if err := c.nodes[0].SetAttr("pingd", "1000"); err != nil {
		t.Fatal(err)
	}
	waitAttr("n1", "pingd", "1000", true)
	for i := range 20 {
		_ = c.nodes[0].SetAttr("pingd", strconv.Itoa(i))
	}
	waitAttr("n1", "pingd", "19", true)
	_ = c.nodes[0].DeleteAttr("pingd")
	waitAttr("n1", "pingd", "", false)

	// A late, older message never overwrites a newer value.
	_ = c.nodes[1].SetAttr("master-redis", "10")
	waitAttr("n2", "master-redis", "10", true)
	m := c.nodes[2]
	m.mu.Lock()
	inc := m.attrs["n2"].Inc
	changed := m.mergeAttr(attrUpdate{Node: "n2", Inc: inc, Name: "master-redis", Val: AttrValue{Value: "stale", Version: 0}})
	changedOld := m.mergeAttr(attrUpdate{Node: "n2", Inc: inc - 1, Name: "master-redis", Val: AttrValue{Value: "old-life", Version: 99}})
	m.mu.Unlock()
	if changed || changedOld {
		t.Fatal("a stale attribute update was applied")
	}
	if v, _ := attrOn(m, "n2", "master-redis"); v != "10" {
		t.Fatalf("value after stale updates: %q", v)
	}
	// Nobody may set another node's attributes through gossip.
	m.mu.Lock()
	forged := m.mergeAttr(attrUpdate{Node: "n3", Inc: m.attrs["n3"].Inc + 1, Name: "x", Val: AttrValue{Value: "y", Version: 1}})
	m.mu.Unlock()
	if forged {
		t.Fatal("a node accepted an update of its own attributes from outside")
	}

	// A restarted node's transient attributes are gone everywhere.
	_ = c.nodes[1].Shutdown()
	c.start(1, c.key)
	if _, err := c.nodes[1].Join([]string{c.addrs[0]}); err != nil {
		t.Fatal(err)
	}
	waitAttr("n2", "master-redis", "", false)
}

func TestTimingProfiles(t *testing.T) {
	for _, name := range []string{"fast", "lan"} {
		tm, err := TimingProfile(name)
		if err != nil || tm.Validate() != nil {
			t.Fatalf("%s: %v %v", name, err, tm.Validate())
		}
	}
	fast, _ := TimingProfile("fast")
	if got := fast.DetectionFloor(3); got != 150*time.Millisecond {
		t.Fatalf("fast floor at 3 nodes: %v, want 150ms", got)
	}
	if got := fast.DetectionFloor(1000); got != 350*time.Millisecond {
		t.Fatalf("fast floor at 1000 nodes: %v, want 350ms", got)
	}
	if _, err := TimingProfile("warp"); err == nil {
		t.Fatal("unknown profile accepted")
	}
	bad := fast.Override(Timing{ProbeTimeout: time.Second})
	if bad.Validate() == nil {
		t.Fatal("probe-timeout over probe-interval accepted")
	}
}

// Heartbeats: every member hears every other one every heartbeat
// interval; a member that stops is no longer heard.
func TestHeartbeats(t *testing.T) {
	c := newTestCluster(t, 3)
	fresh := func(m *Membership, name string, within time.Duration) bool {
		at, ok := m.LastHeard()[name]
		return ok && time.Since(at) < within
	}
	deadline := time.Now().Add(5 * time.Second)
	for !(fresh(c.nodes[0], "n2", 100*time.Millisecond) && fresh(c.nodes[0], "n3", 100*time.Millisecond) && fresh(c.nodes[2], "n1", 100*time.Millisecond)) {
		if time.Now().After(deadline) {
			t.Fatalf("heartbeats not heard: %v / %v", c.nodes[0].LastHeard(), c.nodes[2].LastHeard())
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = c.nodes[1].Shutdown()
	time.Sleep(time.Second)
	if fresh(c.nodes[0], "n2", 500*time.Millisecond) {
		t.Errorf("n2 still heard a second after it stopped")
	}
	if !fresh(c.nodes[0], "n3", 500*time.Millisecond) {
		t.Errorf("n3 no longer heard")
	}
}
