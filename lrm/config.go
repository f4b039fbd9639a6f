package lrm

import (
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/cib"
)

// RequestFor builds the request for one action of a configured primitive
// (or one clone instance of it, "rsc:N"): its agent and parameters, its
// meta attributes (with the resource defaults under them), and the
// timeout of the configured operation of that name (and interval, for a
// monitor), else the agent's default.
func RequestFor(cfg *cib.Config, rsc, action string, interval time.Duration) (Request, error) {
	id, _, _ := strings.Cut(rsc, ":")
	p := cfg.Primitive(id)
	if p == nil {
		return Request{}, fmt.Errorf("no primitive %q in the configuration (epoch %d)", id, cfg.Epoch)
	}
	agent, err := ParseAgent(p.Agent)
	if err != nil {
		return Request{}, fmt.Errorf("primitive %s: %w", id, err)
	}
	meta := maps.Clone(cfg.ResourceDefaults)
	if meta == nil {
		meta = map[string]string{}
	}
	maps.Copy(meta, p.Meta)
	req := Request{Rsc: rsc, Agent: agent, Action: action, Interval: interval, Params: maps.Clone(p.Params), Meta: meta}
	for _, op := range p.Ops {
		if op.Name != action || (action == ocf.Monitor && time.Duration(op.Interval) != interval) {
			continue
		}
		req.Timeout = time.Duration(op.Timeout)
		req.CheckLevel = op.CheckLevel
		if op.Role != "" {
			req.Meta["role"] = op.Role
		}
		break
	}
	if action == ocf.Monitor && interval > 0 && req.Timeout == 0 && !hasMonitor(p, interval) {
		return Request{}, fmt.Errorf("primitive %s has no monitor every %v", id, interval)
	}
	return req, nil
}

func hasMonitor(p *cib.Primitive, interval time.Duration) bool {
	for _, op := range p.Ops {
		if op.Name == ocf.Monitor && time.Duration(op.Interval) == interval {
			return true
		}
	}
	return false
}
