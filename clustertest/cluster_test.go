package clustertest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/paceline/paceline/agent"
	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/pki"
)

func create(t *testing.T, n *Node, id string) *api.CommandResult {
	t.Helper()
	res, err := n.Client.Apply(Ctx(t), &cib.CreatePrimitive{Primitive: cib.Primitive{ID: id, Agent: "ocf:pacemaker:Dummy"}}, false)
	if err != nil {
		t.Fatalf("create %s through %s: %v", id, n.Name, err)
	}
	return res
}

// waitHas waits until every running node's local read shows all ids.
func (c *Cluster) waitHas(t *testing.T, ids ...string) {
	t.Helper()
	WaitFor(t, 10*time.Second, func() (bool, string) {
		for _, i := range c.Running() {
			cfg, err := c.Nodes[i].Client.Config(Ctx(t))
			if err != nil {
				return false, err.Error()
			}
			for _, id := range ids {
				if cfg.Primitive(id) == nil {
					return false, fmt.Sprintf("%s lacks %s (epoch %d)", c.Nodes[i].Name, id, cfg.Epoch)
				}
			}
		}
		return true, ""
	})
}

func TestChangeThroughAnyNodeVisibleOnAll(t *testing.T) {
	c := New(t, 3, Options{})
	var ids []string
	for i, n := range c.Nodes {
		id := "r" + strconv.Itoa(i)
		res := create(t, n, id)
		// Read-your-writes: the answering node has applied it already.
		cfg, err := n.Client.Config(Ctx(t))
		if err != nil || cfg.Primitive(id) == nil || cfg.Epoch < res.Epoch {
			t.Fatalf("%s does not show its own write %s at epoch %d: %v", n.Name, id, res.Epoch, err)
		}
		ids = append(ids, id)
	}
	c.waitHas(t, ids...)
	epochs := map[uint64]bool{}
	for _, n := range c.Nodes {
		epochs[n.Agent.Store().Config().Epoch] = true
	}
	if len(epochs) != 1 {
		t.Fatalf("nodes disagree on the epoch: %v", epochs)
	}
}

func TestRejectedChangeAppliesNothingAnywhere(t *testing.T) {
	c := New(t, 3, Options{})
	create(t, c.Nodes[0], "db")
	c.waitHas(t, "db")
	before := c.Nodes[2].Agent.Store().Config().Epoch
	_, err := c.Nodes[2].Client.Apply(Ctx(t), &cib.AddConstraint{Order: &cib.Order{
		ID: "web-after-db", First: "db", Then: "web", FirstAction: "start", ThenAction: "start", Kind: "mandatory"}}, false)
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status != 422 {
		t.Fatalf("order on an unknown resource: want a 422 rejection, got %v", err)
	}
	_, err = c.Nodes[1].Client.Apply(Ctx(t), &cib.CreatePrimitive{Primitive: cib.Primitive{ID: "db", Agent: "ocf:pacemaker:Dummy"}}, false)
	if err == nil {
		t.Fatal("a duplicate id was accepted")
	}
	time.Sleep(200 * time.Millisecond) // give a wrongly applied change time to show
	for _, n := range c.Nodes {
		cfg := n.Agent.Store().Config()
		if cfg.Epoch != before || len(cfg.Constraints.Order) != 0 || len(cfg.Primitives) != 1 {
			t.Fatalf("%s changed after rejected commands: epoch %d (was %d), %d orders, %d primitives",
				n.Name, cfg.Epoch, before, len(cfg.Constraints.Order), len(cfg.Primitives))
		}
	}
}

func TestLeaderKilledNewLeaderWritesGoOn(t *testing.T) {
	c := New(t, 3, Options{})
	create(t, c.Nodes[0], "before")
	old := c.WaitLeader(5 * time.Second)
	oldName := c.Nodes[old].Name
	c.Kill(old)
	start := time.Now()
	nl := c.WaitLeader(10 * time.Second)
	t.Logf("new leader %s elected %v after %s was killed", c.Nodes[nl].Name, time.Since(start), oldName)
	if nl == old {
		t.Fatal("the killed node is still leader")
	}
	written := []string{"before"}
	for _, i := range c.Running() {
		create(t, c.Nodes[i], "after-"+c.Nodes[i].Name)
		written = append(written, "after-"+c.Nodes[i].Name)
	}
	c.waitHas(t, written...)
	// The old leader comes back as a follower and catches up.
	c.Start(old)
	c.waitHas(t, written...)
}

func TestRestartedNodeCatchesUpFromLog(t *testing.T) {
	c := New(t, 3, Options{})
	leader := c.WaitLeader(5 * time.Second)
	f := (leader + 1) % 3
	c.Kill(f)
	var ids []string
	for i := range 10 {
		id := "x" + strconv.Itoa(i)
		create(t, c.Nodes[leader], id)
		ids = append(ids, id)
	}
	c.Start(f)
	c.waitHas(t, ids...)
	// No snapshot was taken (raft's threshold is 8192 entries): the
	// follower can only have caught up by replaying the log.
	if got := c.Nodes[f].Agent.Store().Stats()["last_snapshot_index"]; got != "0" {
		t.Fatalf("follower has snapshot index %s; want 0 (caught up from the log)", got)
	}
}

func TestRestartedNodeCatchesUpFromSnapshot(t *testing.T) {
	c := New(t, 3, Options{Agent: agent.Options{SnapshotThreshold: 16, TrailingLogs: 4}})
	leader := c.WaitLeader(5 * time.Second)
	f := (leader + 1) % 3
	c.Kill(f)
	var ids []string
	for i := range 40 {
		id := "s" + strconv.Itoa(i)
		create(t, c.Nodes[leader], id)
		ids = append(ids, id)
	}
	if err := c.Nodes[leader].Agent.Store().Snapshot(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	c.Start(f)
	c.waitHas(t, ids...)
	// The log it missed was compacted away: it can only have caught up
	// through an installed snapshot.
	if got := c.Nodes[f].Agent.Store().Stats()["last_snapshot_index"]; got == "0" || got == "" {
		t.Fatalf("follower caught up without a snapshot (last_snapshot_index %q)", got)
	}
	create(t, c.Nodes[f], "after-snapshot")
	c.waitHas(t, "after-snapshot")
}

func TestEverythingSurvivesFullRestart(t *testing.T) {
	c := New(t, 3, Options{})
	create(t, c.Nodes[1], "keep-me")
	res, err := c.Nodes[2].Client.Apply(Ctx(t), &cib.SetProperties{Patch: cib.Patch{Set: map[string]string{"stonith-enabled": "true"}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	c.waitHas(t, "keep-me")
	want := res.Epoch // the last change: every node must reach it
	WaitFor(t, 5*time.Second, func() (bool, string) {
		for _, n := range c.Nodes {
			if e := n.Agent.Store().Config().Epoch; e != want {
				return false, fmt.Sprintf("%s at epoch %d, want %d", n.Name, e, want)
			}
		}
		return true, ""
	})
	c.StopAll()
	for i := range c.Nodes {
		c.Start(i)
	}
	c.WaitLeader(10 * time.Second)
	c.waitHas(t, "keep-me")
	for _, n := range c.Nodes {
		WaitFor(t, 5*time.Second, func() (bool, string) {
			cfg := n.Agent.Store().Config()
			return cfg.Epoch >= want && cfg.Properties["stonith-enabled"] == "true",
				fmt.Sprintf("%s: epoch %d, properties %v", n.Name, cfg.Epoch, cfg.Properties)
		})
	}
	create(t, c.Nodes[0], "after-restart")
	c.waitHas(t, "after-restart")
}

func TestFourthAndFifthJoinAsNonVoters(t *testing.T) {
	c := New(t, 3, Options{})
	create(t, c.Nodes[0], "early")
	n4, n5 := c.AddNode(), c.AddNode()
	WaitFor(t, 15*time.Second, func() (bool, string) {
		inf := c.Nodes[0].Agent.Store().Info()
		voters, non := 0, map[string]bool{}
		for _, s := range inf.Servers {
			if s.Voter {
				voters++
			} else {
				non[s.Name] = true
			}
		}
		return voters == 3 && non["n4"] && non["n5"] && len(inf.Servers) == 5,
			fmt.Sprintf("servers %+v", inf.Servers)
	})
	c.waitHas(t, "early")
	create(t, n4, "via-n4")
	create(t, n5, "via-n5")
	c.waitHas(t, "via-n4", "via-n5")
	// The new nodes registered themselves in the configuration.
	WaitFor(t, 5*time.Second, func() (bool, string) {
		cfg := c.Nodes[0].Agent.Store().Config()
		return cfg.Node("n4") != nil && cfg.Node("n5") != nil, fmt.Sprintf("nodes %+v", cfg.Nodes)
	})
}

func TestNodeWithoutClusterCredentialsIsRefused(t *testing.T) {
	c := New(t, 3, Options{})
	create(t, c.Nodes[0], "secret")
	target := c.Nodes[0].Agent.Config().Bind

	// A node from another cluster (own CA) pointed at this one cannot join.
	other, err := agent.InitCluster(c.Path("other"), agent.InitOptions{Cluster: "other", Local: true, Timing: "fast"},
		[]agent.NodeSpec{{Name: "intruder", Host: fmt.Sprintf("127.0.%d.%d", c.net, 99), Port: freePort(t, fmt.Sprintf("127.0.%d.99", c.net))}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := agent.LoadConfig(other[0])
	if err != nil {
		t.Fatal(err)
	}
	cfg.Peers, cfg.Join = nil, []string{target}
	intruder, err := agent.Start(*cfg, nil, agent.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer intruder.Stop()
	time.Sleep(2 * time.Second) // the join loop retries every second
	for _, s := range c.Nodes[0].Agent.Store().Info().Servers {
		if s.Name == "intruder" {
			t.Fatal("a node with a foreign certificate was admitted")
		}
	}
	if got := intruder.Store().Config(); got.Primitive("secret") != nil || got.Epoch != 0 {
		t.Fatalf("the intruder read the configuration: epoch %d", got.Epoch)
	}

	// A TLS client with a foreign certificate fails the handshake, and so
	// does one with no certificate.
	foreign, err := pki.LoadTLSConfig(cfg.TLS.CA, cfg.TLS.Cert, cfg.TLS.Key)
	if err != nil {
		t.Fatal(err)
	}
	foreign.InsecureSkipVerify = true // even not checking the server does not help
	for name, tc := range map[string]*tls.Config{
		"foreign certificate": foreign,
		"no certificate":      {InsecureSkipVerify: true, MinVersion: tls.VersionTLS13},
	} {
		if readsAnything(t, target, tc) {
			t.Errorf("%s: the cluster port answered", name)
		}
	}
	// Plain TCP gets nothing either.
	conn, err := net.DialTimeout("tcp", target, time.Second)
	if err == nil {
		_, _ = conn.Write([]byte("R\x00\x00\x00"))
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		buf := make([]byte, 64)
		n, _ := conn.Read(buf)
		conn.Close()
		if n > 0 && buf[0] != 0x15 { // a TLS alert record is all it may get
			t.Errorf("plain TCP got %d bytes back: %q", n, buf[:n])
		}
	}
}

// readsAnything dials the cluster port with tc and reports whether an
// RPC got any answer.
func readsAnything(t *testing.T, addr string, tc *tls.Config) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	d := tls.Dialer{Config: tc}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	// TLS 1.3: a refused client certificate shows on the first read.
	if _, err := conn.Write([]byte("C{\"op\":\"join\",\"name\":\"x\",\"addr\":\"127.0.0.1:1\"}\n")); err != nil {
		return false
	}
	buf := make([]byte, 256)
	n, err := conn.Read(buf)
	return err == nil && n > 0
}

func TestMembershipAndTransientAttributesThroughTheAPI(t *testing.T) {
	c := New(t, 3, Options{})
	WaitFor(t, 10*time.Second, func() (bool, string) {
		for _, n := range c.Nodes {
			m, err := n.Client.Members(Ctx(t))
			if err != nil {
				return false, err.Error()
			}
			alive := 0
			for _, mb := range m.Members {
				if mb.State == "alive" && mb.RaftAddr != "" {
					alive++
				}
			}
			if alive != 3 {
				return false, fmt.Sprintf("%s sees %+v", n.Name, m.Members)
			}
		}
		return true, ""
	})
	if err := c.Nodes[1].Client.SetTransientAttr(Ctx(t), "pingd", "1000", false); err != nil {
		t.Fatal(err)
	}
	WaitFor(t, 5*time.Second, func() (bool, string) {
		for _, n := range c.Nodes {
			m, err := n.Client.Members(Ctx(t))
			if err != nil || m.Attrs["n2"]["pingd"] != "1000" {
				return false, fmt.Sprintf("%s: attrs %v err %v", n.Name, m.Attrs, err)
			}
		}
		return true, ""
	})
	// A crashed node is seen failed by the others.
	c.Kill(2)
	WaitFor(t, 5*time.Second, func() (bool, string) {
		m, err := c.Nodes[0].Client.Members(Ctx(t))
		if err != nil {
			return false, err.Error()
		}
		for _, mb := range m.Members {
			if mb.Name == "n3" {
				return mb.State == "failed", "n3 is " + mb.State
			}
		}
		return false, "n3 not listed"
	})
	quorumOf := func(n *Node) string {
		m, err := n.Client.Members(Ctx(t))
		if err != nil || m.Quorum == nil {
			return fmt.Sprintf("error %v", err)
		}
		return m.Quorum.Reason
	}
	if q := quorumOf(c.Nodes[0]); q != "quorate: 2 of 3 votes" {
		t.Fatalf("n1 with n3 down: %q", q)
	}
	c.Kill(1)
	WaitFor(t, 5*time.Second, func() (bool, string) {
		q := quorumOf(c.Nodes[0])
		return q == "not quorate: 1 of 3 votes, need 2", q
	})
}

func TestKeyRotationAcrossRunningCluster(t *testing.T) {
	c := New(t, 3, Options{})
	allAlive := func(why string) {
		t.Helper()
		WaitFor(t, 10*time.Second, func() (bool, string) {
			for _, n := range c.Nodes {
				m, err := n.Client.Members(Ctx(t))
				if err != nil {
					return false, err.Error()
				}
				for _, mb := range m.Members {
					if mb.State != "alive" {
						return false, fmt.Sprintf("%s: %s sees %s %s", why, n.Name, mb.Name, mb.State)
					}
				}
				if len(m.Members) != 3 {
					return false, fmt.Sprintf("%s: %s sees %d members", why, n.Name, len(m.Members))
				}
			}
			return true, ""
		})
	}
	allAlive("before")
	cfg, _ := agent.LoadConfig(c.Nodes[0].ConfigPath)
	oldKey := cfg.EncryptKey
	newKey := "bmV3LWtleS1uZXcta2V5LW5ldy1rZXktbmV3LWtleSE=" // 32 bytes
	for _, step := range []struct{ action, key string }{{"install", newKey}, {"use", newKey}, {"remove", oldKey}} {
		res, err := c.Nodes[1].Client.Keyring(Ctx(t), step.action, step.key)
		if err != nil {
			t.Fatalf("%s: %v", step.action, err)
		}
		if len(res) != 3 {
			t.Fatalf("%s answered by %d members: %+v", step.action, len(res), res)
		}
		for _, r := range res {
			if r.Error != "" {
				t.Fatalf("%s on %s: %s", step.action, r.Node, r.Error)
			}
		}
		time.Sleep(200 * time.Millisecond)
		allAlive("after " + step.action)
	}
	res, err := c.Nodes[0].Client.Keyring(Ctx(t), "list", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if len(r.Keys) != 1 || r.Primary != newKey {
			t.Fatalf("%s holds %v (primary %s), want only the new key", r.Node, r.Keys, r.Primary)
		}
	}
	// The rotated keyring survives a restart: the node rejoins with it.
	c.Kill(2)
	c.Start(2)
	allAlive("after restarting n3")
}
