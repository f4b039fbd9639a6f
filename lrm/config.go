package lrm

import (
	"cmp"
	"fmt"
	"maps"
	"strconv"
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
	// Inherited from the outside in: the clone's, the group's, its own.
	g := cfg.GroupOf(id)
	c := cfg.CloneOf(id)
	if c == nil && g != nil {
		c = cfg.CloneOf(g.ID)
	}
	if c != nil {
		cloneMeta(cfg, c, rsc, meta)
	}
	if g != nil {
		maps.Copy(meta, g.Meta)
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

// cloneMeta adds what Pacemaker tells an instance of a clone
// (OCF_RESKEY_CRM_meta_*): the clone's meta attributes, with its options
// filled in with their defaults — clone_max (the number of nodes),
// clone_node_max, notify, globally_unique, and for a promotable clone
// promotable, promoted_max and promoted_node_max with the old names
// master_max and master_node_max — and clone, the instance number.
// Agents such as ocf:heartbeat:redis decide from them whether they run
// as a promotable clone.
func cloneMeta(cfg *cib.Config, c *cib.Clone, rsc string, meta map[string]string) {
	maps.Copy(meta, c.Meta)
	def := func(k, v string) {
		if meta[k] == "" {
			meta[k] = v
		}
	}
	def("clone-max", strconv.Itoa(len(cfg.Nodes)))
	def("clone-node-max", "1")
	def("notify", "false")
	def("globally-unique", "false")
	_, inst, _ := strings.Cut(rsc, ":")
	meta["clone"] = cmp.Or(inst, "0")
	if c.Promotable || meta["promotable"] == "true" {
		meta["promotable"] = "true"
		def("promoted-max", cmp.Or(meta["master-max"], "1"))
		def("promoted-node-max", cmp.Or(meta["master-node-max"], "1"))
		def("master-max", meta["promoted-max"])
		def("master-node-max", meta["promoted-node-max"])
	}
}
