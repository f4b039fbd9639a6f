// Package clustertest runs clusters of real node agents inside one test
// process: real raft over mutual TLS on 127.0.0.x addresses, each node with
// its own data dir and API socket. Nodes can be killed (stopped without
// leaving), restarted from their data dir, and added.
package clustertest

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paceline/paceline/agent"
	"github.com/paceline/paceline/api"
)

// Options tune a test cluster.
type Options struct {
	// Agent is passed to every agent (e.g. small snapshot thresholds).
	Agent agent.Options
	// LogLevel of the agents' logs, written to the test log (default Info).
	LogLevel slog.Level
	// Manage turns the controller on in every agent (resources.manage).
	Manage bool
	// HTTP opens every agent's observation listener (metrics, web view)
	// on its 127.0.x.y address, port 0: Agent.ObserveAddr tells where.
	// HTTPToken, if set, is written to a token file they all require.
	HTTP      bool
	HTTPToken string
}

// Cluster is a set of in-process agents.
type Cluster struct {
	t     testing.TB
	Dir   string
	opts  Options
	net   int // 127.0.net.x
	Nodes []*Node
	quiet *atomic.Bool // set after the test: logs then go nowhere
}

// Node is one agent of the cluster; Agent is nil while it is stopped.
type Node struct {
	Name       string
	ConfigPath string
	Agent      *agent.Agent
	Client     *api.Client
}

// New writes the files of an n-node cluster (all initial voters, up to
// five) and starts every node; it returns once a leader is known to all.
func New(t testing.TB, n int, opts Options) *Cluster {
	t.Helper()
	dir, err := os.MkdirTemp("", "plct") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{t: t, Dir: dir, opts: opts, net: 2 + rand.IntN(250), quiet: new(atomic.Bool)}
	t.Cleanup(func() {
		c.StopAll()
		c.quiet.Store(true)
		_ = os.RemoveAll(dir)
	})
	var specs []agent.NodeSpec
	for i := range n {
		specs = append(specs, c.spec(i))
	}
	paths, err := agent.InitCluster(dir, agent.InitOptions{Cluster: "test", Timing: "fast", Local: true}, specs)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range paths {
		c.Nodes = append(c.Nodes, c.node(specs[i].Name, p))
	}
	for i := range c.Nodes {
		c.Start(i)
	}
	c.WaitLeader(10 * time.Second)
	c.WaitRegistered(10 * time.Second)
	return c
}

// WaitRegistered waits until every running node sees every node of the
// cluster registered in the configuration (agents register themselves).
func (c *Cluster) WaitRegistered(timeout time.Duration) {
	c.t.Helper()
	WaitFor(c.t, timeout, func() (bool, string) {
		for _, i := range c.Running() {
			cfg := c.Nodes[i].Agent.Store().Config()
			for _, n := range c.Nodes {
				if cfg.Node(n.Name) == nil {
					return false, fmt.Sprintf("%s does not see node %s registered", c.Nodes[i].Name, n.Name)
				}
			}
		}
		return true, ""
	})
}

func (c *Cluster) spec(i int) agent.NodeSpec {
	host := fmt.Sprintf("127.0.%d.%d", c.net, i+1)
	return agent.NodeSpec{Name: "n" + strconv.Itoa(i+1), Host: host, Port: freePort(c.t, host), GossipPort: FreeGossipPort(c.t, host)}
}

func (c *Cluster) node(name, path string) *Node {
	cfg, err := agent.LoadConfig(path)
	if err != nil {
		c.t.Fatal(err)
	}
	return &Node{Name: name, ConfigPath: path, Client: api.NewClient(cfg.APISocket)}
}

// freePort finds a free TCP port on host.
func freePort(t testing.TB, host string) int {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatalf("free port on %s: %v", host, err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// FreeGossipPort finds a port free for both TCP and UDP on host.
func FreeGossipPort(t testing.TB, host string) int {
	for range 50 {
		p := freePort(t, host)
		pc, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err == nil {
			pc.Close()
			return p
		}
	}
	t.Fatalf("no free gossip port on %s", host)
	return 0
}

// Start starts node i from its config and data dir.
func (c *Cluster) Start(i int) {
	c.t.Helper()
	nd := c.Nodes[i]
	if nd.Agent != nil {
		c.t.Fatalf("node %s already running", nd.Name)
	}
	cfg, err := agent.LoadConfig(nd.ConfigPath)
	if err != nil {
		c.t.Fatal(err)
	}
	manage := c.opts.Manage
	cfg.Resources.Manage = &manage
	if c.opts.HTTP {
		host, _, _ := net.SplitHostPort(cfg.Bind)
		cfg.HTTP.Listen = net.JoinHostPort(host, "0")
		if c.opts.HTTPToken != "" {
			cfg.HTTP.TokenFile = filepath.Join(c.Dir, "http-token")
			if err := os.WriteFile(cfg.HTTP.TokenFile, []byte(c.opts.HTTPToken+"\n"), 0o600); err != nil {
				c.t.Fatal(err)
			}
		}
	}
	log := slog.New(slog.NewTextHandler(testWriter{c.t, c.quiet}, &slog.HandlerOptions{Level: c.logLevel()}))
	a, err := agent.Start(*cfg, log, c.opts.Agent)
	if err != nil {
		c.t.Fatalf("start %s: %v", nd.Name, err)
	}
	nd.Agent = a
}

func (c *Cluster) logLevel() slog.Level {
	// Info by default: a failing test then shows what the controllers did
	// (go test prints a passing test's log only with -v).
	return c.opts.LogLevel
}

// Kill stops node i without leaving the cluster: to the others it is a
// crash. Its data dir stays for a restart.
func (c *Cluster) Kill(i int) {
	if a := c.Nodes[i].Agent; a != nil {
		a.Stop()
		c.Nodes[i].Agent = nil
	}
}

// StopAll kills every running node.
func (c *Cluster) StopAll() {
	for i := range c.Nodes {
		c.Kill(i)
	}
}

// AddNode writes a joining node's files (cluster add-node) and starts it.
func (c *Cluster) AddNode() *Node {
	c.t.Helper()
	spec := c.spec(len(c.Nodes))
	paths, err := agent.AddNodes(c.Dir, true, []agent.NodeSpec{spec})
	if err != nil {
		c.t.Fatal(err)
	}
	nd := c.node(spec.Name, paths[0])
	c.Nodes = append(c.Nodes, nd)
	c.Start(len(c.Nodes) - 1)
	return nd
}

// Running returns the indexes of the running nodes.
func (c *Cluster) Running() []int {
	var out []int
	for i, n := range c.Nodes {
		if n.Agent != nil {
			out = append(out, i)
		}
	}
	return out
}

// WaitLeader waits until every running node knows the same leader, and
// returns that leader's index.
func (c *Cluster) WaitLeader(timeout time.Duration) int {
	c.t.Helper()
	leader := -1
	WaitFor(c.t, timeout, func() (bool, string) {
		names := map[string]bool{}
		for _, i := range c.Running() {
			inf := c.Nodes[i].Agent.Store().Info()
			names[inf.Leader] = true
		}
		if len(names) != 1 || names[""] {
			return false, fmt.Sprintf("leaders seen: %v", names)
		}
		for _, i := range c.Running() {
			if c.Nodes[i].Agent.Store().IsLeader() {
				leader = i
				return true, ""
			}
		}
		return false, "the named leader is not among the running nodes"
	})
	return leader
}

// WaitFor polls cond every 10 ms until it holds or timeout passes, then
// fails the test with cond's last explanation.
func WaitFor(t testing.TB, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not reached within %v: %s", timeout, why)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Ctx returns a context for one API call, cancelled at test end.
func Ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// testWriter sends agent logs to the test log.
type testWriter struct {
	t     testing.TB
	quiet *atomic.Bool
}

func (w testWriter) Write(p []byte) (int, error) {
	if w.quiet.Load() {
		return len(p), nil
	}
	w.t.Log(string(p[:len(p)-min(1, len(p))]))
	return len(p), nil
}

// Path joins elements under the cluster dir.
func (c *Cluster) Path(elem ...string) string {
	return filepath.Join(append([]string{c.Dir}, elem...)...)
}
