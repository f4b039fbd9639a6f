// Package agents lists Paceline's built-in resource agents
// (ocf:paceline:TYPE). Each lives in its own package and implements
// agents/ocf.Agent; the local resource manager runs them in-process and
// `paceline ocf TYPE ACTION` runs them as OCF executables.
package agents

import (
	"context"
	"log/slog"

	"github.com/paceline/paceline/agents/dummy"
	"github.com/paceline/paceline/agents/nginx"
	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/agents/ping"
	"github.com/paceline/paceline/agents/redis"
	"github.com/paceline/paceline/agents/vip"
	"github.com/paceline/paceline/agents/vrrp"
)

// Option configures the built-in agents.
type Option func(*options)

type options struct {
	gate func() (bool, string)
	log  *slog.Logger
}

// WithGate tells agents that act on their own between actions (vrrp)
// whether this node may run resources now (it holds its lease) and why
// not.
func WithGate(mayRun func() (bool, string)) Option { return func(o *options) { o.gate = mayRun } }

// WithLog is where agents that run between actions (vrrp) log.
func WithLog(log *slog.Logger) Option { return func(o *options) { o.log = log } }

// Builtins returns a new set of the built-in agents, by type. bg is the
// lifetime of the process they run in, for work that may outlive an
// action (the vip agent's repeated announcements, vrrp's routers); nil
// for a process that ends with the action (`paceline ocf TYPE ACTION`).
func Builtins(bg context.Context, opts ...Option) map[string]ocf.Agent {
	var o options
	for _, f := range opts {
		f(&o)
	}
	var vipOpts []vip.Option
	if bg != nil {
		vipOpts = append(vipOpts, vip.WithBackground(bg))
	}
	var vrrpOpts []vrrp.AgentOption
	if o.gate != nil {
		vrrpOpts = append(vrrpOpts, vrrp.WithGate(o.gate))
	}
	out := map[string]ocf.Agent{}
	for _, a := range []ocf.Agent{dummy.New(), nginx.New(), ping.New(ping.Executable(bg == nil)), redis.New(), vip.New(vipOpts...),
		vrrp.NewAgent(bg, o.log, vrrpOpts...)} {
		out[a.Name()] = a
	}
	return out
}
