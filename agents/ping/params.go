package ping

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/paceline/paceline/agents/ocf"
)

// Defaults of the parameters, as ocf:pacemaker:ping's.
const (
	defaultName       = "pingd"
	defaultMultiplier = 1
	defaultAttempts   = 3
	defaultTimeout    = 2 * time.Second
	defaultDampen     = 5 * time.Second
	defaultStateDir   = "/run/resource-agents"
)

// target is one entry of host_list: an IPv4 address (ICMP echo) or
// host:port (TCP connect).
type target struct {
	spec string // as given
	ip   net.IP // the ICMP target; nil for a TCP one
}

func (t target) tcp() bool { return t.ip == nil }

// params are an action's parameters, checked.
type params struct {
	name       string
	multiplier int
	targets    []target
	attempts   int
	timeout    time.Duration // per attempt
	dampen     time.Duration
	stateDir   string
}

// parseParams reads and checks the parameters, naming every problem.
// The parameters come back also with an error (what could be read, the
// defaults for the rest), for a stop to clean up with.
func parseParams(a *ocf.Action) (*params, error) {
	p := &params{
		name:     a.Param("name", defaultName),
		stateDir: a.Param("state_dir", defaultStateDir),
	}
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if len(p.name) > 128 || strings.ContainsAny(p.name, " \t\n=") {
		bad("name=%q: want an attribute name of up to 128 characters without spaces or '='", p.name)
	}
	if !filepath.IsAbs(p.stateDir) {
		bad("state_dir=%q: want an absolute path", p.stateDir)
	}
	intParam := func(key string, def, min int) int {
		v := a.Param(key, "")
		if v == "" {
			return def
		}
		n, err := ocf.ParseInt(v)
		if err != nil || n < min {
			bad("%s=%q: want an integer of at least %d", key, v, min)
			return def
		}
		return n
	}
	p.multiplier = intParam("multiplier", defaultMultiplier, -1<<30)
	p.attempts = intParam("attempts", defaultAttempts, 1)
	durParam := func(key string, def time.Duration, zeroOK bool) time.Duration {
		v := a.Param(key, "")
		if v == "" {
			return def
		}
		d, err := ocf.ParseDuration(v)
		if err != nil || (d == 0 && !zeroOK) {
			bad("%s=%q: want a duration such as 2s, 500ms or a number of seconds", key, v)
			return def
		}
		return d
	}
	p.timeout = durParam("timeout", defaultTimeout, false)
	p.dampen = durParam("dampen", defaultDampen, true)
	specs := strings.FieldsFunc(a.Param("host_list", ""), func(r rune) bool { return r == ' ' || r == ',' || r == '\t' || r == '\n' })
	for _, spec := range specs {
		t, err := parseTarget(spec)
		if err != nil {
			bad("host_list: %v", err)
			continue
		}
		p.targets = append(p.targets, t)
	}
	if len(specs) == 0 {
		bad("host_list is required: the IPv4 addresses (ICMP echo) or host:port (TCP connect) to probe, space separated")
	}
	if len(errs) > 0 {
		return p, fmt.Errorf("ping %s: %s", a.Instance, strings.Join(errs, "; "))
	}
	return p, nil
}

// parseTarget reads one host_list entry.
func parseTarget(spec string) (target, error) {
	if ip := net.ParseIP(spec); ip != nil {
		if ip.To4() == nil {
			return target{}, fmt.Errorf("%q: only IPv4 addresses are probed by ICMP echo; give [address]:port for a TCP probe", spec)
		}
		return target{spec: spec, ip: ip.To4()}, nil
	}
	host, port, err := net.SplitHostPort(spec)
	if err != nil || host == "" {
		return target{}, fmt.Errorf("%q: want an IPv4 address (ICMP echo) or host:port (TCP connect)", spec)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return target{}, fmt.Errorf("%q: port %q: want 1 to 65535", spec, port)
	}
	return target{spec: spec}, nil
}
