package redis

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/paceline/paceline/agents/ocf"
)

// Parameter names.
const (
	paramConfig       = "config"
	paramPort         = "port"
	paramBind         = "bind"
	paramAnnounce     = "announce"
	paramDir          = "dir"
	paramPasswordFile = "password_file"
	paramReplUser     = "replication_user"
	paramBinary       = "binary"
	paramRunDir       = "run_dir"
)

// Defaults.
const (
	defaultPort   = 6379
	defaultBinary = "/usr/bin/redis-server"
	// defaultRunBase holds one run directory per node and instance (the
	// generated configuration, pid file and log); the agent creates it.
	defaultRunBase = "/run/paceline"
	// defaultDataBase holds one data directory per instance.
	defaultDataBase = "/var/lib/paceline"
)

// config is one resource's parameters, checked.
type config struct {
	Rsc      string // the resource's id without a clone's ":N"
	Node     string // this node's name (CRM_meta_on_node); "" when unknown
	Base     string // the operator's configuration file to include; "" for none
	Port     int
	Bind     string // the listen address
	BindSet  bool   // bind was given (protected-mode is then turned off)
	Announce string // where other nodes reach this instance; "" when unknown
	Dir      string
	PassFile string // "" for no password
	ReplUser string
	Binary   string
	RunDir   string
}

// ConfFile is the generated configuration; PidFile and LogFile are where
// it tells redis-server to write.
func (c *config) ConfFile() string { return filepath.Join(c.RunDir, "redis.conf") }
func (c *config) PidFile() string  { return filepath.Join(c.RunDir, "redis.pid") }
func (c *config) LogFile() string  { return filepath.Join(c.RunDir, "redis.log") }

// localAddr is where the agent itself talks to the instance: the bind
// address, or loopback for a wildcard bind.
func (c *config) localAddr() string {
	host := c.Bind
	switch host {
	case "0.0.0.0", "":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, strconv.Itoa(c.Port))
}

// announceAddr is host:port for other nodes; "" when unknown.
func (c *config) announceAddr() string {
	if c.Announce == "" {
		return ""
	}
	return net.JoinHostPort(c.Announce, strconv.Itoa(c.Port))
}

// parseConfig reads and checks an action's parameters. It names every
// problem it finds; each is a configuration error (rc 6). Whether the
// binary, the base configuration and the password file exist on this
// node is checked where they are needed (rc 5).
func parseConfig(a *ocf.Action, runBase, dataBase string) (*config, error) {
	rsc := a.Instance
	if i := strings.LastIndexByte(rsc, ':'); i > 0 {
		if _, err := strconv.Atoi(rsc[i+1:]); err == nil {
			rsc = rsc[:i]
		}
	}
	c := &config{
		Rsc:      rsc,
		Node:     a.Meta["on_node"],
		Base:     a.Param(paramConfig, ""),
		Bind:     a.Param(paramBind, ""),
		Announce: a.Param(paramAnnounce, ""),
		Dir:      a.Param(paramDir, ""),
		PassFile: a.Param(paramPasswordFile, ""),
		ReplUser: a.Param(paramReplUser, ""),
		Binary:   a.Param(paramBinary, defaultBinary),
		RunDir:   a.Param(paramRunDir, ""),
	}
	var errs []string
	if rsc == "" {
		errs = append(errs, "no resource instance name (OCF_RESOURCE_INSTANCE)")
	}
	port, err := strconv.Atoi(a.Param(paramPort, strconv.Itoa(defaultPort)))
	if err != nil || port < 1 || port > 65535 {
		errs = append(errs, fmt.Sprintf("port=%q: want a TCP port 1-65535", a.Param(paramPort, "")))
	}
	c.Port = port
	for _, p := range []struct{ name, v string }{{paramBind, c.Bind}, {paramAnnounce, c.Announce}} {
		if p.v != "" && net.ParseIP(p.v) == nil {
			errs = append(errs, fmt.Sprintf("%s=%q: want an IP address", p.name, p.v))
		}
	}
	c.BindSet = c.Bind != ""
	if c.Announce == "" && c.Bind != "" && !net.ParseIP(c.Bind).IsUnspecified() {
		c.Announce = c.Bind
	}
	if c.Announce == "" {
		// The node's own cluster address, which Paceline's LRM passes
		// (CRM_meta_on_node_address): one configuration for every node.
		c.Announce = a.Meta["on_node_address"]
	}
	if c.Bind == "" {
		c.Bind = c.Announce
		if c.Bind == "" {
			c.Bind = "0.0.0.0"
		}
	}
	if a.Attrs != nil && c.Announce == "" {
		errs = append(errs, "announce is required in a cluster (the address other nodes reach this instance at), and this node passed none; bind= a specific address also serves")
	}
	for _, p := range []struct{ name, v string }{{paramConfig, c.Base}, {paramDir, c.Dir}, {paramPasswordFile, c.PassFile}, {paramBinary, c.Binary}, {paramRunDir, c.RunDir}} {
		if p.v == "" {
			continue
		}
		if err := checkPath(p.v); err != nil {
			errs = append(errs, fmt.Sprintf("%s=%q: %v", p.name, p.v, err))
		}
	}
	if c.ReplUser != "" {
		if strings.ContainsAny(c.ReplUser, " \t\r\n\"'\\") {
			errs = append(errs, fmt.Sprintf("replication_user=%q: no spaces, quotes or backslashes", c.ReplUser))
		}
		if c.PassFile == "" {
			errs = append(errs, "replication_user needs password_file (the user's password)")
		}
	}
	name := safeName(rsc)
	if c.Dir == "" {
		c.Dir = filepath.Join(dataBase, "redis-"+name)
	}
	if c.RunDir == "" {
		if c.Node != "" {
			name = safeName(c.Node) + "-" + name
		}
		c.RunDir = filepath.Join(runBase, "redis-"+name)
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("redis %s: %s", a.InstanceName(), strings.Join(errs, "; "))
	}
	return c, nil
}

// findable says whether a configuration parseConfig rejected still names
// the pid file and binary that a stop or a probe needs to find the
// redis-server this agent started.
func (c *config) findable() bool {
	return c.Rsc != "" && checkPath(c.RunDir) == nil && checkPath(c.Binary) == nil
}

// checkPath accepts an absolute path that can go into a redis
// configuration line in double quotes.
func checkPath(p string) error {
	if !filepath.IsAbs(p) {
		return errors.New("want an absolute path")
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f || r == '"' || r == '\\' {
			return errors.New("control characters, quotes and backslashes are not allowed")
		}
	}
	return nil
}

// safeName keeps letters, digits, '.', '-' and '_' and turns the rest
// into '_'.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}

// password reads password_file: its first line, without the line end.
// "" when no file is configured. A missing file is ErrInstalled, an
// empty password ErrConfigured. The error never holds the password.
func (c *config) password() (string, error) {
	if c.PassFile == "" {
		return "", nil
	}
	b, err := os.ReadFile(c.PassFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", ocf.Failf(ocf.ErrInstalled, "password_file %s does not exist", c.PassFile)
	case err != nil:
		return "", ocf.Failf(ocf.ErrInstalled, "password_file: %v", err)
	}
	pw, _, _ := strings.Cut(string(b), "\n")
	pw = strings.TrimSuffix(pw, "\r")
	if pw == "" {
		return "", ocf.Failf(ocf.ErrConfigured, "password_file %s: the first line is empty", c.PassFile)
	}
	if strings.ContainsRune(pw, 0) {
		return "", ocf.Failf(ocf.ErrConfigured, "password_file %s: the password holds a NUL byte", c.PassFile)
	}
	return pw, nil
}
