package ocf

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Environment variable names of the OCF API.
const (
	EnvRoot     = "OCF_ROOT"
	EnvInstance = "OCF_RESOURCE_INSTANCE"
	// EnvCheckLevel is a monitor's depth (an op attribute in Pacemaker).
	EnvCheckLevel = "OCF_CHECK_LEVEL"
	EnvType       = "OCF_RESOURCE_TYPE"
	EnvProvider   = "OCF_RESOURCE_PROVIDER"
	EnvVersionM   = "OCF_RA_VERSION_MAJOR"
	EnvVersionN   = "OCF_RA_VERSION_MINOR"
	envParam      = "OCF_RESKEY_"
	envMeta       = "OCF_RESKEY_CRM_meta_"
)

// DefaultRoot is where OCF agents are installed on Debian.
const DefaultRoot = "/usr/lib/ocf"

// DefaultTimeout bounds an action whose timeout nobody gave.
const DefaultTimeout = 20 * time.Second

// Env is the OCF environment of an action, as a cluster manager passes it
// to an agent executable: OCF_ROOT, OCF_RESOURCE_INSTANCE, type and
// provider, OCF_RESKEY_<param>, and OCF_RESKEY_CRM_meta_<meta> with
// interval and timeout in milliseconds (as Pacemaker passes them). Names
// are sorted, so the same action gives the same environment.
func Env(root, provider, typ string, a *Action) []string {
	env := []string{
		EnvRoot + "=" + root,
		EnvVersionM + "=1",
		EnvVersionN + "=1",
		EnvInstance + "=" + a.Instance,
		EnvType + "=" + typ,
	}
	if provider != "" {
		env = append(env, EnvProvider+"="+provider)
	}
	if a.CheckLevel > 0 {
		env = append(env, EnvCheckLevel+"="+strconv.Itoa(a.CheckLevel))
	}
	for _, k := range slices.Sorted(maps.Keys(a.Params)) {
		env = append(env, envParam+metaKey(k)+"="+a.Params[k])
	}
	meta := maps.Clone(a.Meta)
	if meta == nil {
		meta = map[string]string{}
	}
	meta["interval"] = strconv.FormatInt(a.Interval.Milliseconds(), 10)
	if a.Timeout > 0 {
		meta["timeout"] = strconv.FormatInt(a.Timeout.Milliseconds(), 10)
	}
	for _, k := range slices.Sorted(maps.Keys(meta)) {
		env = append(env, envMeta+metaKey(k)+"="+meta[k])
	}
	return env
}

// metaKey turns a name into an environment name: Pacemaker passes
// "clone-max" as CRM_meta_clone_max.
func metaKey(k string) string { return strings.ReplaceAll(k, "-", "_") }

// FromEnv reads an action from an OCF environment (the inverse of Env):
// OCF_RESKEY_CRM_meta_* become Meta (interval and timeout, in
// milliseconds, also Interval and Timeout), the other OCF_RESKEY_*
// Params.
func FromEnv(action string, environ []string) (*Action, error) {
	a := &Action{Name: action, Params: map[string]string{}, Meta: map[string]string{}}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		switch {
		case k == EnvInstance:
			a.Instance = v
		case k == EnvCheckLevel:
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%s=%q: want a depth such as 0 or 10", EnvCheckLevel, v)
			}
			a.CheckLevel = n
		case strings.HasPrefix(k, envMeta):
			a.Meta[k[len(envMeta):]] = v
		case strings.HasPrefix(k, envParam):
			a.Params[k[len(envParam):]] = v
		}
	}
	for _, f := range []struct {
		name string
		to   *time.Duration
	}{{"interval", &a.Interval}, {"timeout", &a.Timeout}} {
		v := a.Meta[f.name]
		if v == "" {
			continue
		}
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms < 0 {
			return nil, fmt.Errorf("%s%s=%q: want milliseconds", envMeta, f.name, v)
		}
		*f.to = time.Duration(ms) * time.Millisecond
	}
	return a, nil
}

// Main runs a built-in agent as an OCF executable: args are the command
// line after the agent's name (the action first), environ the process
// environment. Output goes to stdout, the agent's log to stderr; it
// returns the exit code.
func Main(ctx context.Context, agent Agent, args []string, environ []string, stdout, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if len(args) != 1 {
		fmt.Fprintf(stderr, "usage: %s {start|stop|monitor|meta-data|validate-all|...}\n", agent.Name())
		return ErrArgs
	}
	md := agent.MetaData()
	if args[0] == MetaData {
		b, err := md.XML()
		if err != nil {
			fmt.Fprintln(stderr, err)
			return ErrGeneric
		}
		stdout.Write(b)
		return Success
	}
	if !md.Supports(args[0]) {
		fmt.Fprintf(stderr, "%s: action %q is not implemented\n", agent.Name(), args[0])
		return ErrUnimplemented
	}
	a, err := FromEnv(args[0], environ)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", agent.Name(), err)
		return ErrArgs
	}
	if a.Timeout == 0 {
		a.Timeout = AdvisedTimeout(md, a.Name)
	}
	a.Out, a.Log = stdout, log.With("agent", agent.Name(), "rsc", a.Instance, "action", a.Name)
	ctx, cancel := context.WithTimeout(ctx, a.Timeout)
	defer cancel()
	return agent.Run(ctx, a)
}

// AdvisedTimeout is the timeout the meta-data advises for an action, or
// DefaultTimeout.
func AdvisedTimeout(md *ResourceAgent, action string) time.Duration {
	for _, d := range md.Actions {
		if d.Name == action {
			if t, err := ParseDuration(d.Timeout); err == nil && t > 0 {
				return t
			}
		}
	}
	return DefaultTimeout
}
