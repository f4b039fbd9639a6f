// Package agents lists Paceline's built-in resource agents
// (ocf:paceline:TYPE). Each lives in its own package and implements
// agents/ocf.Agent; the local resource manager runs them in-process and
// `paceline ocf TYPE ACTION` runs them as OCF executables.
package agents

import (
	"github.com/paceline/paceline/agents/dummy"
	"github.com/paceline/paceline/agents/ocf"
)

// Builtins returns a new set of the built-in agents, by type.
func Builtins() map[string]ocf.Agent {
	out := map[string]ocf.Agent{}
	for _, a := range []ocf.Agent{dummy.New()} {
		out[a.Name()] = a
	}
	return out
}
