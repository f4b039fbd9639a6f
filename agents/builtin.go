// Package agents lists Paceline's built-in resource agents
// (ocf:paceline:TYPE). Each lives in its own package and implements
// agents/ocf.Agent; the local resource manager runs them in-process and
// `paceline ocf TYPE ACTION` runs them as OCF executables.
package agents

import (
	"context"

	"github.com/paceline/paceline/agents/dummy"
	"github.com/paceline/paceline/agents/nginx"
	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/agents/ping"
	"github.com/paceline/paceline/agents/redis"
	"github.com/paceline/paceline/agents/vip"
)

// Builtins returns a new set of the built-in agents, by type. bg is the
// lifetime of the process they run in, for work that may outlive an
// action (the vip agent's repeated announcements); nil for a process that
// ends with the action (`paceline ocf TYPE ACTION`).
func Builtins(bg context.Context) map[string]ocf.Agent {
	var vipOpts []vip.Option
	if bg != nil {
		vipOpts = append(vipOpts, vip.WithBackground(bg))
	}
	out := map[string]ocf.Agent{}
	for _, a := range []ocf.Agent{dummy.New(), nginx.New(), ping.New(ping.Executable(bg == nil)), redis.New(), vip.New(vipOpts...)} {
		out[a.Name()] = a
	}
	return out
}
