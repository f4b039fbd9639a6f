package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/clustertest"
)

// bin is the paceline binary built once for these tests.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pl-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "paceline")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/paceline").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build paceline: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// netCluster is n agents, one per host namespace, 192.0.2.1..n.
type netCluster struct {
	lab     *Lab
	dir     string
	names   []string
	procs   map[string]*Proc
	clients map[string]*api.Client
	split   atomic.Bool // set by a test while the nodes are partitioned
}

func newNetCluster(t *testing.T, n int) *netCluster { return newNetClusterWith(t, n, "") }

// appendNodeConfig appends extra to node name's config file in dir (what
// `paceline cluster init` wrote), before its agent starts.
func appendNodeConfig(t testing.TB, dir, name, extra string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, name, "paceline.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(extra)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// newNetClusterWith appends extra to every node's config file before the
// agents start (e.g. "resources:\n  manage: true\n").
func newNetClusterWith(t *testing.T, n int, extra string) *netCluster {
	lab := NewLab(t)
	dir, err := os.MkdirTemp("", "pl-e2e")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	c := &netCluster{lab: lab, dir: dir, procs: map[string]*Proc{}, clients: map[string]*api.Client{}}
	args := []string{"cluster", "init", "--dir", dir, "--local", "--name", "e2e"}
	for i := range n {
		name := fmt.Sprintf("n%d", i+1)
		c.names = append(c.names, name)
		lab.AddHost(name, fmt.Sprintf("192.0.2.%d/24", i+1))
		args = append(args, fmt.Sprintf("%s=192.0.2.%d:7250", name, i+1))
	}
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("cluster init: %v: %s", err, out)
	}
	for _, name := range c.names {
		if extra != "" {
			appendNodeConfig(t, dir, name, extra)
		}
		c.procs[name] = lab.Start(name, bin, "agent", "--config", filepath.Join(dir, name, "paceline.yaml"))
		c.clients[name] = api.NewClient(filepath.Join(dir, name, "paceline.sock"))
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, name := range c.names {
				c.procs[name].Stop(9)
				t.Logf("%s log:\n%s", name, c.procs[name].Output())
			}
		}
	})
	return c
}

func (c *netCluster) quorum(name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	m, err := c.clients[name].Members(ctx)
	if err != nil {
		return "", err
	}
	if m.Quorum == nil {
		return "", fmt.Errorf("%s: no quorum in answer", name)
	}
	return m.Quorum.Reason, nil
}

// waitQuorum waits until every named node reports the quorum reason.
func (c *netCluster) waitQuorum(t *testing.T, timeout time.Duration, want map[string]string) {
	t.Helper()
	clustertest.WaitFor(t, timeout, func() (bool, string) {
		for name, w := range want {
			if got, err := c.quorum(name); err != nil || got != w {
				return false, fmt.Sprintf("%s: %q (err %v), want %q", name, got, err, w)
			}
		}
		return true, ""
	})
}

func TestNetnsLinkCutQuorum(t *testing.T) {
	c := newNetCluster(t, 3)
	all := "quorate: 3 of 3 votes"
	c.waitQuorum(t, 20*time.Second, map[string]string{"n1": all, "n2": all, "n3": all})

	c.lab.Cut("n3")
	start := time.Now()
	c.waitQuorum(t, 10*time.Second, map[string]string{
		"n1": "quorate: 2 of 3 votes",
		"n2": "quorate: 2 of 3 votes",
		"n3": "not quorate: 1 of 3 votes, need 2",
	})
	t.Logf("link cut: both sides decided within %v", time.Since(start))

	c.lab.Heal("n3")
	start = time.Now()
	c.waitQuorum(t, 20*time.Second, map[string]string{"n1": all, "n2": all, "n3": all})
	t.Logf("healed: all three quorate again within %v", time.Since(start))
}
