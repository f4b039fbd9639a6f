package cib

// Check: the risky-settings review behind `paceline check`, after what
// Pacemaker's crm_verify and pcs warn about. Validate says whether a
// configuration can be applied; Check also says whether it is wise.

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Severity says how bad a Finding is.
type Severity string

// The severities of a Finding. An error makes the configuration invalid
// (the store refuses it) or leaves resources unable to run or recover; a
// warning is a valid but risky setting.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Finding is one thing Check reports: a rule, the object it is about (a
// validation path such as primitives[web-ip] or properties[stonith-enabled])
// and a message that says what to do.
type Finding struct {
	Severity Severity `json:"severity"`
	// Rule is the stable name of the check (see CheckRules).
	Rule    string `json:"rule"`
	Object  string `json:"object"`
	Message string `json:"message"`
}

// String renders the finding as "severity: object: message (rule)".
func (f Finding) String() string {
	return fmt.Sprintf("%s: %s: %s (%s)", f.Severity, f.Object, f.Message, f.Rule)
}

// RuleInvalid is the rule of every Validate problem Check reports.
const RuleInvalid = "invalid"

// CheckRule is one risky-settings rule: its name, a sentence for the
// documentation, and the function that applies it.
type CheckRule struct {
	Name        string
	Description string
	check       func(*checker)
}

// CheckRules lists the rules Check applies after Validate, in the order of
// its output. It is a read-only table.
var CheckRules = []CheckRule{
	{"stonith-disabled-two-node", "stonith-enabled=false on a two-node cluster: a hung peer cannot be made safe", (*checker).stonithTwoNode},
	{"two-node-no-tiebreak", "two nodes with neither fencing nor ping-targets: a split is decided by delay alone", (*checker).twoNodeTiebreak},
	{"two-node-property", "two-node=true with a node count other than two, or two nodes without two-node / wait-for-all", (*checker).twoNodeProperty},
	{"no-quorum-ignore", "no-quorum-policy=ignore with three or more nodes", (*checker).noQuorumIgnore},
	{"no-quorum-unsafe", "no-quorum-policy freeze or ignore without fencing gives up the never-two-holders guarantee", (*checker).noQuorumUnsafe},
	{"stonith-no-device", "stonith-enabled=true with no fence device: lost nodes are never fenced, so their resources are never recovered", (*checker).stonithNoDevice},
	{"on-fail-fence-no-stonith", "an op with on-fail=fence while stonith-enabled=false", (*checker).onFailFence},
	{"vip-no-monitor", "a virtual IP (ocf:paceline:vip, ocf:heartbeat:IPaddr2, ...) without a recurring monitor", (*checker).vipMonitor},
	{"no-monitor", "a primitive without a recurring monitor: failures are never noticed", (*checker).noMonitor},
	{"promoted-max-nodes", "a promotable clone's promoted-max (or a clone's clone-max) above what the nodes can hold", (*checker).cloneCounts},
	{"stickiness-zero", "resource-stickiness 0 with more than one node: resources may move back when a node returns", (*checker).stickiness},
	{"failure-timeout-no-threshold", "failure-timeout without a finite migration-threshold: repeated failures never move the resource", (*checker).failureTimeout},
	{"unknown-node", "a location constraint, fence level or fence device host list naming a node not in the configuration", (*checker).unknownNodes},
	{"not-managing", "maintenance-mode or stop-all-resources is on", (*checker).notManaging},
}

// Check validates c and reviews it for risky settings. It returns every
// Validate problem as an error finding (rule "invalid"), then the findings
// of CheckRules in table order, each in configuration order; nil when there
// is nothing to say. It is pure: same configuration, same findings.
func Check(c *Config) []Finding {
	var out []Finding
	if err := c.Validate(); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			for _, p := range ve.Problems {
				out = append(out, Finding{Severity: SeverityError, Rule: RuleInvalid, Object: p.Path, Message: p.Message})
			}
		} else {
			out = append(out, Finding{Severity: SeverityError, Rule: RuleInvalid, Object: "config", Message: err.Error()})
		}
	}
	k := &checker{c: c, nodes: len(c.Nodes)}
	k.stonith, _ = ParseBool(c.Property("stonith-enabled"))
	for _, r := range CheckRules {
		k.rule = r.Name
		r.check(k)
	}
	return append(out, k.out...)
}

// checker carries what the rules share.
type checker struct {
	c       *Config
	nodes   int
	stonith bool
	rule    string
	out     []Finding
}

func (k *checker) add(sev Severity, object, format string, args ...any) {
	k.out = append(k.out, Finding{Severity: sev, Rule: k.rule, Object: object, Message: fmt.Sprintf(format, args...)})
}

func (k *checker) warn(object, format string, args ...any) {
	k.add(SeverityWarning, object, format, args...)
}

// propBool reads a boolean property, false when unset or malformed
// (Validate reports the latter).
func (k *checker) propBool(name string) bool {
	b, _ := ParseBool(k.c.Property(name))
	return b
}

// nodeNames lists the configured nodes, for messages.
func (k *checker) nodeNames() string {
	names := make([]string, len(k.c.Nodes))
	for i, n := range k.c.Nodes {
		names[i] = n.Name
	}
	return strings.Join(names, ", ")
}

func (k *checker) stonithTwoNode() {
	if k.nodes == 2 && !k.stonith {
		k.warn("properties[stonith-enabled]", "stonith is disabled on a two-node cluster (%s): a hung or cut-off peer cannot be made safe, and both nodes may run the same resource; configure a fence device and set stonith-enabled=true", k.nodeNames())
	}
}

func (k *checker) twoNodeTiebreak() {
	if k.nodes == 2 && !k.stonith && strings.TrimSpace(k.c.Property("ping-targets")) == "" {
		k.warn("properties[ping-targets]", "two nodes with neither fencing nor ping-targets: when the link between them fails, the split is decided by tiebreak-delay alone and the node that cannot reach clients may win; set ping-targets (a gateway) or enable fencing")
	}
}

func (k *checker) twoNodeProperty() {
	two := k.propBool("two-node")
	switch {
	case two && k.nodes != 2 && k.nodes != 0:
		k.warn("properties[two-node]", "two-node=true but %d nodes are configured: the two-node tiebreak applies only to exactly two nodes", k.nodes)
	case !two && k.nodes == 2:
		k.warn("properties[two-node]", "two nodes without two-node=true: losing either node loses quorum, and no-quorum-policy=%s applies to the survivor", k.c.Property("no-quorum-policy"))
	case two && k.nodes == 2 && !k.propBool("wait-for-all"):
		k.warn("properties[wait-for-all]", "two-node=true without wait-for-all=true: a node that starts alone (peer unreachable, not down) takes quorum and starts everything; set wait-for-all=true as corosync does")
	}
}

func (k *checker) noQuorumIgnore() {
	if k.nodes >= 3 && k.c.Property("no-quorum-policy") == "ignore" {
		k.warn("properties[no-quorum-policy]", "no-quorum-policy=ignore with %d nodes: a minority partition keeps running and starting resources; use stop (the default) or freeze", k.nodes)
	}
}

func (k *checker) noQuorumUnsafe() {
	p := k.c.Property("no-quorum-policy")
	if k.stonith || (p != "freeze" && p != "ignore") || (p == "ignore" && k.nodes >= 3) {
		return // the ignore case with 3+ nodes has its own rule
	}
	k.warn("properties[no-quorum-policy]", "no-quorum-policy=%s without fencing: a partition that lost quorum keeps its resources, so the other side may run them too (no never-two-holders guarantee)", p)
}

func (k *checker) stonithNoDevice() {
	if k.stonith && len(k.c.FenceDevices) == 0 {
		k.add(SeverityError, "properties[stonith-enabled]", "stonith-enabled=true but no fence device is configured: a lost node can never be fenced, so its resources are never recovered; add a fence device or set stonith-enabled=false")
	}
}

func (k *checker) onFailFence() {
	if k.stonith {
		return
	}
	for i, p := range k.c.Primitives {
		for j, op := range p.Ops {
			if op.OnFail == "fence" {
				k.warn(elem("primitives", p.ID, i)+".ops["+strconv.Itoa(j)+"]", "on-fail=fence on %s but stonith-enabled=false: the failure cannot be handled as asked", op.Name)
			}
		}
	}
}

// vipAgents are the agents that hold a virtual IP address.
var vipAgents = []string{"ocf:paceline:vip", "ocf:heartbeat:IPaddr2", "ocf:heartbeat:IPaddr", "ocf:heartbeat:IPv6addr"}

func isVIP(agent string) bool { return slices.Contains(vipAgents, agent) }

func hasMonitor(p *Primitive) bool {
	return slices.ContainsFunc(p.Ops, func(op Op) bool { return op.Name == "monitor" && op.Interval > 0 })
}

func (k *checker) vipMonitor() {
	for i := range k.c.Primitives {
		p := &k.c.Primitives[i]
		if isVIP(p.Agent) && !hasMonitor(p) {
			k.warn(elem("primitives", p.ID, i), "virtual IP %s (%s) has no recurring monitor: if the address is removed behind the cluster's back, clients lose it and nothing moves it; add op monitor interval=10s", p.ID, p.Agent)
		}
	}
}

func (k *checker) noMonitor() {
	for i := range k.c.Primitives {
		p := &k.c.Primitives[i]
		if !isVIP(p.Agent) && !hasMonitor(p) {
			k.warn(elem("primitives", p.ID, i), "primitive %s has no recurring monitor: the cluster notices its failure only at the next probe; add op monitor interval=...", p.ID)
		}
	}
}

// metaCount reads a count meta attribute, with a default when unset or
// malformed.
func metaCount(m map[string]string, name string, def int) int {
	if n, err := strconv.Atoi(m[name]); err == nil {
		return n
	}
	return def
}

func (k *checker) cloneCounts() {
	if k.nodes == 0 {
		return
	}
	for i, cl := range k.c.Clones {
		path := elem("clones", cl.ID, i)
		perNode := metaCount(cl.Meta, "clone-node-max", 1)
		if cm := metaCount(cl.Meta, "clone-max", k.nodes); cm > k.nodes*perNode {
			k.warn(path+".meta[clone-max]", "clone-max=%d but %d nodes with clone-node-max=%d hold at most %d copies", cm, k.nodes, perNode, k.nodes*perNode)
		}
		if !cl.Promotable {
			continue
		}
		pn := metaCount(cl.Meta, "promoted-node-max", 1)
		if pm := metaCount(cl.Meta, "promoted-max", 1); pm > k.nodes*pn {
			k.warn(path+".meta[promoted-max]", "promoted-max=%d on promotable clone %s but only %d nodes are configured (promoted-node-max=%d): some promoted copies can never run", pm, cl.ID, k.nodes, pn)
		}
	}
}

// topResource is a resource not inside a group or clone, with its path.
type topResource struct {
	id, path string
	meta     map[string]string
	clone    bool
}

func (k *checker) topResources() []topResource {
	inside := map[string]bool{}
	for _, g := range k.c.Groups {
		for _, m := range g.Members {
			inside[m] = true
		}
	}
	for _, cl := range k.c.Clones {
		inside[cl.Rsc] = true
	}
	var out []topResource
	for i, p := range k.c.Primitives {
		if !inside[p.ID] {
			out = append(out, topResource{p.ID, elem("primitives", p.ID, i), p.Meta, false})
		}
	}
	for i, g := range k.c.Groups {
		if !inside[g.ID] {
			out = append(out, topResource{g.ID, elem("groups", g.ID, i), g.Meta, false})
		}
	}
	for i, cl := range k.c.Clones {
		out = append(out, topResource{cl.ID, elem("clones", cl.ID, i), cl.Meta, true})
	}
	return out
}

func (k *checker) stickiness() {
	if k.nodes < 2 {
		return
	}
	def, err := ParseScore(metaOr(k.c.ResourceDefaults, "resource-stickiness", "0"))
	if err != nil {
		return
	}
	var byDefault []string
	for _, r := range k.topResources() {
		if r.clone {
			continue // clones run everywhere; moving back is rarely the question
		}
		v, own := r.meta["resource-stickiness"]
		if !own {
			if def == 0 {
				byDefault = append(byDefault, r.id)
			}
			continue
		}
		if s, err := ParseScore(v); err == nil && s == 0 {
			k.warn(r.path+".meta[resource-stickiness]", "resource-stickiness=0 on %s with %d nodes: it may move back (a second outage) when a preferred node returns", r.id, k.nodes)
		}
	}
	if len(byDefault) > 0 {
		k.warn("resource-defaults[resource-stickiness]", "resource-stickiness is 0 by default with %d nodes: %s may move back (a second outage) when a preferred node returns; set resource-defaults resource-stickiness=100", k.nodes, strings.Join(byDefault, ", "))
	}
}

func metaOr(m map[string]string, name, def string) string {
	if v, ok := m[name]; ok {
		return v
	}
	return def
}

// noThreshold reports whether a migration-threshold value means "never
// move": unset, INFINITY or malformed (Validate reports the latter).
func noThreshold(v string, set bool) bool {
	if !set {
		return true
	}
	s, err := ParseScore(v)
	return err != nil || s >= Infinity
}

func (k *checker) failureTimeout() {
	parentOf := map[string]string{}          // member -> group, cloned resource -> clone
	metaOf := map[string]map[string]string{} // resource id -> meta
	type res struct{ id, path string }
	var all []res
	for i, p := range k.c.Primitives {
		metaOf[p.ID] = p.Meta
		all = append(all, res{p.ID, elem("primitives", p.ID, i)})
	}
	for i, g := range k.c.Groups {
		metaOf[g.ID] = g.Meta
		all = append(all, res{g.ID, elem("groups", g.ID, i)})
		for _, m := range g.Members {
			parentOf[m] = g.ID
		}
	}
	for i, cl := range k.c.Clones {
		metaOf[cl.ID] = cl.Meta
		all = append(all, res{cl.ID, elem("clones", cl.ID, i)})
		parentOf[cl.Rsc] = cl.ID
	}
	// threshold is the migration-threshold a resource gets: its own, its
	// group's, its clone's, then resource-defaults.
	threshold := func(id string) (string, bool) {
		for depth := 0; depth < 3 && id != ""; depth++ {
			if v, ok := metaOf[id]["migration-threshold"]; ok {
				return v, true
			}
			id = parentOf[id]
		}
		v, ok := k.c.ResourceDefaults["migration-threshold"]
		return v, ok
	}
	positive := func(v string) bool {
		d, err := ParseDuration(v)
		return err == nil && d > 0
	}
	if ft, ok := k.c.ResourceDefaults["failure-timeout"]; ok && positive(ft) {
		if v, set := k.c.ResourceDefaults["migration-threshold"]; noThreshold(v, set) {
			k.warn("resource-defaults[failure-timeout]", "failure-timeout=%s in resource-defaults without a finite migration-threshold: repeated failures never move a resource, so the expiry only lifts start-failure bans; set migration-threshold (e.g. 3)", ft)
		}
	}
	for _, r := range all {
		ft, ok := metaOf[r.id]["failure-timeout"]
		if !ok || !positive(ft) {
			continue
		}
		if v, set := threshold(r.id); noThreshold(v, set) {
			k.warn(r.path+".meta[failure-timeout]", "failure-timeout=%s on %s without a finite migration-threshold: repeated failures never move it, so the expiry only lifts start-failure bans; set migration-threshold (e.g. 3)", ft, r.id)
		}
	}
}

func (k *checker) unknownNodes() {
	if k.nodes == 0 {
		return // a file without nodes: they register when they join
	}
	known := func(n string) bool {
		return slices.ContainsFunc(k.c.Nodes, func(x Node) bool { return strings.EqualFold(x.Name, n) })
	}
	for i, l := range k.c.Constraints.Location {
		if l.Node != "" && !known(l.Node) {
			k.warn(elem("constraints.location", l.ID, i), "location constraint %s names node %q, which is not in the configuration (nodes: %s)", l.ID, l.Node, k.nodeNames())
		}
	}
	for i, l := range k.c.FenceLevels {
		if !known(l.Target) {
			k.warn("fence-levels["+strconv.Itoa(i)+"]", "fence level %d targets node %q, which is not in the configuration", l.Index, l.Target)
		}
	}
	for i, f := range k.c.FenceDevices {
		for _, h := range strings.FieldsFunc(f.Params["pcmk_host_list"], func(r rune) bool { return r == ' ' || r == ',' || r == ';' }) {
			if !known(h) {
				k.warn(elem("fence-devices", f.ID, i)+".params[pcmk_host_list]", "fence device %s lists host %q, which is not in the configuration", f.ID, h)
			}
		}
		for _, pair := range strings.FieldsFunc(f.Params["pcmk_host_map"], func(r rune) bool { return r == ' ' || r == ',' || r == ';' }) {
			h, _, _ := strings.Cut(pair, ":")
			if h != "" && !known(h) {
				k.warn(elem("fence-devices", f.ID, i)+".params[pcmk_host_map]", "fence device %s maps host %q, which is not in the configuration", f.ID, h)
			}
		}
	}
}

func (k *checker) notManaging() {
	if k.propBool("maintenance-mode") {
		k.warn("properties[maintenance-mode]", "maintenance-mode=true: the cluster neither starts, stops nor monitors any resource")
	}
	if k.propBool("stop-all-resources") {
		k.warn("properties[stop-all-resources]", "stop-all-resources=true: every resource is stopped")
	}
}

// CheckCounts returns how many findings are errors and warnings.
func CheckCounts(fs []Finding) (errs, warns int) {
	for _, f := range fs {
		if f.Severity == SeverityError {
			errs++
		} else {
			warns++
		}
	}
	return errs, warns
}
