package agent

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/paceline/paceline/cib/raftstore"
	"github.com/paceline/paceline/pki"
)

// DefaultSocket is the API socket of a node that is not --local.
const DefaultSocket = "/run/paceline/paceline.sock"

// NodeSpec names a node and its cluster address.
type NodeSpec struct {
	Name string
	Host string
	Port int
	// GossipPort is the membership port; 0 means Port+1.
	GossipPort int
}

// GossipAddr returns host:gossip-port.
func (n NodeSpec) GossipAddr() string { return net.JoinHostPort(n.Host, strconv.Itoa(n.gossipPort())) }

func (n NodeSpec) gossipPort() int {
	if n.GossipPort > 0 {
		return n.GossipPort
	}
	return n.Port + 1
}

// Addr returns host:port.
func (n NodeSpec) Addr() string { return net.JoinHostPort(n.Host, strconv.Itoa(n.Port)) }

func (n NodeSpec) ips() []net.IP {
	if ip := net.ParseIP(n.Host); ip != nil {
		return []net.IP{ip}
	}
	return nil
}

// InitOptions are the cluster-wide choices of InitCluster.
type InitOptions struct {
	Cluster string
	Timing  string
	// Local keeps each node's data dir and API socket inside its own
	// directory, so several nodes can run on one machine.
	Local bool
	// Force overwrites an existing cluster directory.
	Force bool
}

// InitCluster writes a new cluster's files under dir: the CA (ca.crt,
// ca.key) and per node dir/NAME/ with paceline.yaml, node.crt, node.key and
// ca.crt. Up to five nodes are the initial voters; beyond five, the first
// three are, and the rest join. It returns the node config paths.
func InitCluster(dir string, o InitOptions, nodes []NodeSpec) ([]string, error) {
	if len(nodes) == 0 {
		return nil, errors.New("cluster init: no nodes")
	}
	if _, err := os.Stat(filepath.Join(dir, "ca.key")); err == nil && !o.Force {
		return nil, fmt.Errorf("cluster init: %s already holds a cluster CA; add nodes with `paceline cluster add-node`, or pass --force to start over", dir)
	}
	ca, err := pki.NewCA(o.Cluster)
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := writeFiles(dir, map[string][]byte{"ca.crt": ca.CertPEM}, map[string][]byte{"ca.key": ca.KeyPEM}); err != nil {
		return nil, err
	}
	voters := nodes
	if len(voters) > 5 {
		voters = voters[:3]
	}
	var peers []raftstore.Peer
	for _, n := range voters {
		peers = append(peers, raftstore.Peer{Name: n.Name, Address: n.Addr()})
	}
	maxVoters := min(max(len(voters), 3), 5)
	var paths []string
	for i, n := range nodes {
		nc := nodeConfig(n, o, base64.StdEncoding.EncodeToString(key), maxVoters)
		for _, other := range nodes {
			if other.Name != n.Name {
				nc.GossipJoin = append(nc.GossipJoin, other.GossipAddr())
			}
		}
		if i < len(voters) {
			nc.Peers = peers
		} else {
			for _, p := range peers {
				nc.Join = append(nc.Join, p.Address)
			}
		}
		path, err := writeNode(dir, ca, n, nc)
		if err != nil {
			return nil, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// AddNodes writes the files of nodes that join the cluster made in dir by
// InitCluster (it needs dir/ca.key). They join through the initial voters.
func AddNodes(dir string, local bool, nodes []NodeSpec) ([]string, error) {
	ca, err := pki.LoadCA(filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key"))
	if err != nil {
		return nil, fmt.Errorf("cluster add-node: %w (was %s made by cluster init?)", err, dir)
	}
	ref, err := anyNodeConfig(dir)
	if err != nil {
		return nil, err
	}
	join := ref.Join
	for _, p := range ref.Peers {
		join = append(join, p.Address)
	}
	var paths []string
	for _, n := range nodes {
		if _, err := os.Stat(filepath.Join(dir, n.Name)); err == nil {
			return nil, fmt.Errorf("cluster add-node: %s already exists", filepath.Join(dir, n.Name))
		}
		nc := nodeConfig(n, InitOptions{Cluster: ref.Cluster, Timing: ref.Timing, Local: local}, ref.EncryptKey, ref.MaxVoters)
		nc.Join = join
		nc.GossipJoin = ref.GossipJoin
		if g := gossipSelf(ref); g != "" {
			nc.GossipJoin = append(slices.Clone(ref.GossipJoin), g)
		}
		path, err := writeNode(dir, ca, n, nc)
		if err != nil {
			return nil, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

func nodeConfig(n NodeSpec, o InitOptions, key string, maxVoters int) *Config {
	c := &Config{
		Name: n.Name, Cluster: o.Cluster, Bind: n.Addr(), GossipPort: n.gossipPort(),
		DataDir: "/var/lib/paceline", APISocket: DefaultSocket,
		TLS:        TLSFiles{CA: "ca.crt", Cert: "node.crt", Key: "node.key"},
		EncryptKey: key, Timing: o.Timing, MaxVoters: maxVoters,
	}
	if o.Local {
		c.DataDir, c.APISocket = "data", "paceline.sock"
	}
	return c
}

func writeNode(dir string, ca *pki.CA, n NodeSpec, nc *Config) (string, error) {
	cert, err := ca.Issue(n.Name, n.ips())
	if err != nil {
		return "", err
	}
	y, err := nc.Marshal()
	if err != nil {
		return "", err
	}
	nd := filepath.Join(dir, n.Name)
	if err := os.MkdirAll(nd, 0o700); err != nil {
		return "", err
	}
	err = writeFiles(nd,
		map[string][]byte{"ca.crt": ca.CertPEM, "node.crt": cert.CertPEM},
		map[string][]byte{"node.key": cert.KeyPEM, "paceline.yaml": append([]byte("# Paceline node config (paceline cluster init)\n"), y...)})
	return filepath.Join(nd, "paceline.yaml"), err
}

// writeFiles writes public files 0644 and secret ones 0600.
func writeFiles(dir string, public, secret map[string][]byte) error {
	for mode, files := range map[os.FileMode]map[string][]byte{0o644: public, 0o600: secret} {
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(dir, name), b, mode); err != nil {
				return fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
			}
		}
	}
	return nil
}

// anyNodeConfig reads one node config under dir (for the shared settings).
func anyNodeConfig(dir string) (*Config, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name(), "paceline.yaml")
		if _, err := os.Stat(p); err == nil && e.IsDir() {
			return LoadConfig(p)
		}
	}
	return nil, errors.New("no node config found under " + dir)
}

// gossipSelf is the gossip address of the node whose config c is.
func gossipSelf(c *Config) string {
	host, _, err := net.SplitHostPort(c.AdvertiseAddr())
	if err != nil || c.GossipPort == 0 {
		return ""
	}
	return net.JoinHostPort(host, strconv.Itoa(c.GossipPort))
}
