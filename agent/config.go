package agent

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/paceline/paceline/cib/raftstore"
	"github.com/paceline/paceline/messaging"
)

// Config is a node's own configuration file (paceline.yaml), written by
// `paceline cluster init`. It is local to the node; the cluster
// configuration lives in raft.
type Config struct {
	// Name is this node's name: its raft id and its name in the cluster
	// configuration.
	Name string `yaml:"name"`
	// Cluster names the cluster.
	Cluster string `yaml:"cluster"`
	// DataDir holds raft state (log, snapshots).
	DataDir string `yaml:"data-dir"`
	// Bind is host:port of the cluster port (raft and node RPC, mutual TLS).
	Bind string `yaml:"bind"`
	// Advertise is the host:port peers dial; defaults to Bind.
	Advertise string `yaml:"advertise,omitempty"`
	// GossipPort is the membership (memberlist) port on the bind address;
	// 0 turns membership off.
	GossipPort int `yaml:"gossip-port,omitempty"`
	// GossipJoin lists other members' gossip addresses (host:port) to
	// contact at start.
	GossipJoin []string `yaml:"gossip-join,omitempty"`
	// APISocket is the local API's unix socket; APISocketGroup, if set,
	// makes it group-accessible (mode 0660) to that group, else 0600.
	APISocket      string `yaml:"api-socket"`
	APISocketGroup string `yaml:"api-socket-group,omitempty"`
	// Peers are the initial voters, the same list on every initial node.
	Peers []raftstore.Peer `yaml:"peers,omitempty"`
	// Join lists members' cluster addresses to ask for admission (nodes
	// added after the initial ones).
	Join []string `yaml:"join,omitempty"`
	// MaxVoters caps raft voters (3 to 5, default 3); later nodes are
	// non-voters.
	MaxVoters int `yaml:"max-voters,omitempty"`
	// TLS names the PEM files of the cluster CA and this node's
	// certificate and key, relative to the config file's directory.
	TLS TLSFiles `yaml:"tls"`
	// EncryptKey is the base64 gossip encryption key.
	EncryptKey string `yaml:"encrypt-key,omitempty"`
	// Timing is the timing profile: fast (default) or lan.
	Timing string `yaml:"timing,omitempty"`
	// GossipTiming overrides single membership timings of the profile
	// (probe-interval, probe-timeout, gossip-interval, suspicion-mult,
	// push-pull-interval).
	GossipTiming messaging.Timing `yaml:"gossip-timing,omitempty"`
	// LogLevel is debug, info (default), warn or error.
	LogLevel string `yaml:"log-level,omitempty"`
	// Resources tune this node's resource manager.
	Resources ResourceSettings `yaml:"resources,omitempty"`
	// Watchdog is a hardware watchdog fed while this node may run
	// resources (watchdog.go).
	Watchdog WatchdogSettings `yaml:"watchdog,omitempty"`
	// HTTP is the opt-in TCP listener for Prometheus metrics and the web
	// view (observe.go); off unless http.listen is set.
	HTTP HTTPSettings `yaml:"http,omitempty"`
}

// HTTPSettings configure the observation listener: read-only, never the
// configuration API (that stays on the unix socket).
type HTTPSettings struct {
	// Listen is host:port, for example 127.0.0.1:9650; empty turns the
	// listener off.
	Listen string `yaml:"listen,omitempty"`
	// TokenFile names a file holding a bearer token: when set, every
	// request must carry it (Authorization: Bearer, or the web view's
	// login). Relative to the config file's directory.
	TokenFile string `yaml:"token-file,omitempty"`
	// MetricsPublic leaves /metrics open when a token is set (a Prometheus
	// that scrapes without credentials); the web view still needs the token.
	MetricsPublic bool `yaml:"metrics-public,omitempty"`
}

// ResourceSettings tune the node's resource manager (lrm).
type ResourceSettings struct {
	// Manage runs the controller (on by default): while this node is the
	// DC it schedules and runs the configured resources, and it stops its
	// own when its lease runs out. `manage: false` keeps a node to the
	// configuration: it never schedules (it still runs actions a DC or an
	// operator asks for) — for a cluster that only stores configuration,
	// or whose resources must not run on this machine.
	Manage *bool `yaml:"manage,omitempty"`
	// MaxParallel bounds the agent actions running at once on this node
	// (default twice the CPUs, as Pacemaker's node-action-limit).
	MaxParallel int `yaml:"max-parallel,omitempty"`
	// OCFRoot is where OCF agents are installed (default /usr/lib/ocf).
	OCFRoot string `yaml:"ocf-root,omitempty"`
	// KillGrace is how long a timed-out agent has between SIGTERM and
	// SIGKILL (default 2s).
	KillGrace string `yaml:"kill-grace,omitempty"`
}

// TLSFiles are the paths of the node's TLS material.
type TLSFiles struct {
	CA   string `yaml:"ca"`
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// LoadConfig reads and checks a node config file; relative paths in it are
// taken from the file's directory.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("node config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("node config %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	for _, p := range []*string{&c.DataDir, &c.APISocket, &c.TLS.CA, &c.TLS.Cert, &c.TLS.Key, &c.HTTP.TokenFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("node config %s: %w", path, err)
	}
	return &c, nil
}

// Validate reports every problem of the node config.
func (c *Config) Validate() error {
	var errs []error
	need := func(v, name string) {
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is required", name))
		}
	}
	need(c.Name, "name")
	need(c.DataDir, "data-dir")
	need(c.Bind, "bind")
	need(c.APISocket, "api-socket")
	need(c.TLS.CA, "tls.ca")
	need(c.TLS.Cert, "tls.cert")
	need(c.TLS.Key, "tls.key")
	for _, a := range []struct{ name, v string }{{"bind", c.Bind}, {"advertise", c.Advertise}, {"http.listen", c.HTTP.Listen}} {
		if a.v == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(a.v); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: want host:port", a.name, a.v))
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 || (n == 0 && a.name != "http.listen") {
			errs = append(errs, fmt.Errorf("%s %q: bad port", a.name, a.v))
		}
	}
	if c.Advertise == "" && c.Bind != "" {
		if host, _, err := net.SplitHostPort(c.Bind); err == nil {
			if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
				errs = append(errs, fmt.Errorf("bind %q is a wildcard address: set advertise", c.Bind))
			}
		}
	}
	if c.Resources.MaxParallel < 0 {
		errs = append(errs, fmt.Errorf("resources.max-parallel %d: want a positive number (or unset for the default)", c.Resources.MaxParallel))
	}
	if c.Resources.OCFRoot != "" && !filepath.IsAbs(c.Resources.OCFRoot) {
		errs = append(errs, fmt.Errorf("resources.ocf-root %q: want an absolute path", c.Resources.OCFRoot))
	}
	if _, err := c.Resources.killGrace(); err != nil {
		errs = append(errs, err)
	}
	if c.GossipPort < 0 || c.GossipPort > 65535 {
		errs = append(errs, fmt.Errorf("gossip-port %d: out of range", c.GossipPort))
	}
	if c.GossipPort > 0 {
		if _, err := c.GossipKeys(); err != nil {
			errs = append(errs, err)
		}
		if t, err := messaging.TimingProfile(c.Timing); err == nil {
			if err := t.Override(c.GossipTiming).Validate(); err != nil {
				errs = append(errs, fmt.Errorf("gossip-timing: %w", err))
			}
		}
	}
	if c.MaxVoters != 0 && (c.MaxVoters < 3 || c.MaxVoters > 5) {
		errs = append(errs, fmt.Errorf("max-voters %d: want 3 to 5", c.MaxVoters))
	}
	if _, err := raftstore.TimingProfile(c.Timing); err != nil {
		errs = append(errs, fmt.Errorf("timing: %w", err))
	}
	seen := map[string]bool{}
	for i, p := range c.Peers {
		if p.Name == "" || p.Address == "" {
			errs = append(errs, fmt.Errorf("peers[%d]: name and address required", i))
		}
		if seen[p.Name] {
			errs = append(errs, fmt.Errorf("peers[%d]: duplicate name %q", i, p.Name))
		}
		seen[p.Name] = true
	}
	if len(c.Peers) > 0 && !seen[c.Name] && len(c.Join) == 0 {
		errs = append(errs, fmt.Errorf("node %q is not among peers and has no join addresses", c.Name))
	}
	switch c.LogLevel {
	case "", "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	return errors.Join(errs...)
}

// AdvertiseAddr returns the cluster address peers dial.
func (c *Config) AdvertiseAddr() string {
	if c.Advertise != "" {
		return c.Advertise
	}
	return c.Bind
}

// Marshal encodes the config as YAML.
func (c *Config) Marshal() ([]byte, error) { return yaml.Marshal(c) }

// GossipKeys decodes encrypt-key (base64 of 16, 24 or 32 bytes).
func (c *Config) GossipKeys() ([][]byte, error) {
	if c.EncryptKey == "" {
		return nil, errors.New("encrypt-key is required with a gossip-port (paceline cluster init writes one)")
	}
	k, err := base64.StdEncoding.DecodeString(c.EncryptKey)
	if err != nil || (len(k) != 16 && len(k) != 24 && len(k) != 32) {
		return nil, errors.New("encrypt-key: want base64 of a 16, 24 or 32-byte key")
	}
	return [][]byte{k}, nil
}

// killGrace parses kill-grace (0 when unset: the default).
func (r ResourceSettings) killGrace() (time.Duration, error) {
	if r.KillGrace == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(r.KillGrace)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("resources.kill-grace %q: want a positive duration such as 2s", r.KillGrace)
	}
	return d, nil
}

// Managed reports whether the controller runs (resources.manage, default
// true).
func (r ResourceSettings) Managed() bool { return r.Manage == nil || *r.Manage }
