package nginx

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/paceline/paceline/agents/ocf"
)

// Parameter names.
const (
	paramConfigFile  = "configfile"
	paramBinary      = "binary"
	paramPidFile     = "pidfile"
	paramStatusURL   = "status_url"
	paramStatusRegex = "status_regex"
	paramOptions     = "options"
)

// Defaults.
const (
	defaultBinary = "/usr/sbin/nginx"
	// defaultPidDir holds the default pid files, one per node and
	// instance; the agent creates it.
	defaultPidDir = "/run/paceline"
)

// config is one resource's parameters, checked.
type config struct {
	ConfigFile string
	Binary     string
	// PidFile is where the master's pid is; PidFileSet says the operator
	// named it (pidfile=) rather than taking the default.
	PidFile    string
	PidFileSet bool
	// StatusURL is empty when unset; StatusRegex nil when unset.
	StatusURL   string
	StatusRegex *regexp.Regexp
	// Options are the extra nginx arguments (options= split on spaces).
	Options []string
}

// parseConfig reads and checks an action's parameters. It names every
// problem it finds; each is a configuration error (rc 6), and the config
// is returned as far as it could be read — whether the
// binary and the configuration file exist on this node is checked where
// they are needed.
func parseConfig(a *ocf.Action, pidDir string) (*config, error) {
	c := &config{
		ConfigFile: a.Param(paramConfigFile, ""),
		Binary:     a.Param(paramBinary, defaultBinary),
		PidFile:    a.Param(paramPidFile, ""),
		StatusURL:  a.Param(paramStatusURL, ""),
	}
	var errs []string
	switch {
	case c.ConfigFile == "":
		errs = append(errs, "parameter configfile is required (e.g. /etc/nginx/nginx.conf)")
	case !filepath.IsAbs(c.ConfigFile):
		errs = append(errs, fmt.Sprintf("configfile=%q: want an absolute path", c.ConfigFile))
	}
	if !filepath.IsAbs(c.Binary) {
		errs = append(errs, fmt.Sprintf("binary=%q: want an absolute path", c.Binary))
	}
	if c.PidFile != "" {
		c.PidFileSet = true
		if err := checkPidPath(c.PidFile); err != nil {
			errs = append(errs, fmt.Sprintf("pidfile=%q: %v", c.PidFile, err))
		}
	} else {
		c.PidFile = defaultPidFile(a, pidDir)
	}
	if c.StatusURL != "" {
		if err := checkStatusURL(c.StatusURL); err != nil {
			errs = append(errs, fmt.Sprintf("status_url=%q: %v", c.StatusURL, err))
		}
	}
	if re := a.Param(paramStatusRegex, ""); re != "" {
		r, err := regexp.Compile(re)
		if err != nil {
			errs = append(errs, fmt.Sprintf("status_regex=%q: %v", re, err))
		}
		c.StatusRegex = r
	}
	opts, err := parseOptions(a.Param(paramOptions, ""))
	if err != nil {
		errs = append(errs, fmt.Sprintf("options=%q: %v", a.Param(paramOptions, ""), err))
	}
	c.Options = opts
	if len(errs) > 0 {
		return c, fmt.Errorf("nginx %s: %s", a.InstanceName(), strings.Join(errs, "; "))
	}
	return c, nil
}

// findable says whether a configuration parseConfig rejected still names
// the pid file and binary that a stop or a probe needs to find nginx.
func (c *config) findable() bool {
	return filepath.IsAbs(c.Binary) && checkPidPath(c.PidFile) == nil
}

// checkPidPath accepts an absolute path that can be written into an
// nginx directive without surprises.
func checkPidPath(p string) error {
	if !filepath.IsAbs(p) {
		return fmt.Errorf("want an absolute path")
	}
	if strings.HasSuffix(p, "/") {
		return fmt.Errorf("want a file, not a directory")
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f || r == '"' || r == '\\' {
			return fmt.Errorf("control characters, quotes and backslashes are not allowed")
		}
	}
	return nil
}

func checkStatusURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("want an http:// or https:// URL")
	}
	if u.Host == "" {
		return fmt.Errorf("no host")
	}
	return nil
}

// defaultPidFile is the pid file used when pidfile is unset: one per
// node and instance in dir (/run/paceline but in tests), so that several
// nodes sharing one machine (as in tests, each in its own network
// namespace) do not see each other's nginx. The node comes from the
// CRM_meta_on_node meta attribute that Pacemaker and Paceline pass;
// without it (a hand-run `paceline ocf nginx`) the name is the
// instance's alone.
func defaultPidFile(a *ocf.Action, dir string) string {
	name := a.Instance
	if name == "" {
		name = "default"
	}
	if node := a.Meta["on_node"]; node != "" {
		name = node + "-" + name
	}
	return filepath.Join(dir, "nginx-"+safeName(name)+".pid")
}

// safeName keeps letters, digits, '.', '-' and '_' and turns the rest
// (a clone's ':', a '/') into '_'.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}

// parseOptions splits options on spaces (no shell, no quoting) and
// checks them the way nginx reads its command line: flags may be
// combined ("-q"), and -p and -e take a value, attached ("-p/srv") or
// as the next word. The agent owns -c, -g, -s, -t, -T and the
// information flags (-v, -V, -h, -?), so they are refused.
func parseOptions(s string) ([]string, error) {
	words := strings.Fields(s)
	for i := 0; i < len(words); i++ {
		w := words[i]
		if len(w) < 2 || w[0] != '-' {
			return nil, fmt.Errorf("%q is not an nginx option", w)
		}
	flags:
		for j := 1; j < len(w); j++ {
			switch w[j] {
			case 'q':
			case 'p', 'e':
				if j+1 < len(w) {
					break flags // the value is attached
				}
				if i+1 >= len(words) {
					return nil, fmt.Errorf("-%c needs a value", w[j])
				}
				i++
				break flags
			case 'c':
				return nil, fmt.Errorf("-c: give the configuration file as configfile")
			case 'g':
				return nil, fmt.Errorf("-g: put global directives in the configuration file (the agent passes its own -g for the pid file)")
			case 's', 't', 'T', 'v', 'V', 'h', '?':
				return nil, fmt.Errorf("-%c: the agent runs nginx itself; only -p, -e and -q are accepted", w[j])
			default:
				return nil, fmt.Errorf("-%c: not an nginx option this agent accepts (-p, -e, -q)", w[j])
			}
		}
	}
	return words, nil
}
