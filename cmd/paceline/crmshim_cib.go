package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/lrm"
)

// cibadmin, read-only: `cibadmin -Q` prints Paceline's configuration and
// status as a Pacemaker 2.1 CIB, which is what resource-agents' scripts
// read (ocf-shellfuncs' crm_mon_no_validation feeds it to crm_mon as
// CIB_file; rabbitmq-cluster asks it for --xpath). The CIB holds:
//   - crm_config: the cluster properties set, dc-version (the DC's
//     Paceline version as gossip says, else this node's),
//     cluster-infrastructure "paceline", and the
//     agents' own cluster-wide attributes (crm_attribute --type
//     crm_config) in a set of their own;
//   - nodes with their attributes (standby and maintenance as Pacemaker
//     keeps them: node attributes "on");
//   - resources (primitives, groups, clones; promotable clones carry
//     meta promotable=true), constraints and resource defaults. Fence
//     devices are not resources in Paceline and are left out;
//   - status: each configured node's membership, its transient
//     attributes and, for an online node, one operation record per
//     resource instance that says its state (start, promote, demote, a
//     probe that found it stopped, a stop) and its last failure. Node ids
//     are node names, as crm_node says. Paceline keeps no CIB of its own:
//     the records are the state the local agent gathers now from every
//     node (what `paceline status` shows), not every operation run. A
//     node lost and not yet known to be down (unclean) has no records:
//     Paceline does not report what it may still run, where Pacemaker's
//     CIB keeps its last known state.
//
// Writing to the CIB (-C, -M, -R, -D, -E, -B, -P, -u) is refused: change
// the configuration with paceline (or crm_attribute for attributes).

// cibSchemaVersion is the schema the CIB declares (Pacemaker 2.1.5's).
const cibSchemaVersion = "pacemaker-3.9"

// crmFeatureSet is Pacemaker 2.1.5's CRM feature set.
const crmFeatureSet = "3.16.1"

// clusterSnapshot is what the shims read from the local agent: the
// configuration, raft's view (the DC is the leader), membership with the
// transient attributes, and what runs where on every node.
type clusterSnapshot struct {
	Config    *cib.Config         `json:"config"`
	Cluster   *api.ClusterInfo    `json:"cluster"`
	Members   *api.Members        `json:"members,omitempty"` // nil without gossip
	Resources *api.ResourcesReply `json:"resources"`
}

// snapshot reads the cluster from the local agent. A node whose history
// could not be read makes it fail: the CIB would say its resources are
// stopped, which nobody knows.
func (s *shim) snapshot(ctx context.Context) (*clusterSnapshot, error) {
	ci, err := s.c.Cluster(ctx)
	if err != nil {
		return nil, fmt.Errorf("no local Paceline agent: %w", err)
	}
	cfg, err := s.c.Config(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the configuration: %w", err)
	}
	sn := &clusterSnapshot{Config: cfg, Cluster: ci}
	var ae *api.Error
	if sn.Members, err = s.c.Members(ctx); errors.As(err, &ae) && ae.Status == 404 {
		sn.Members, err = nil, nil // membership off on this node
	}
	if err != nil {
		return nil, fmt.Errorf("reading the membership: %w", err)
	}
	if sn.Resources, err = s.c.Resources(ctx); err != nil {
		return nil, fmt.Errorf("reading what runs where: %w", err)
	}
	if u := sn.Resources.Unreachable; len(u) > 0 {
		return nil, fmt.Errorf("the state of the resources on %s is unknown: their histories could not be read now",
			strings.Join(u, ", "))
	}
	return sn, nil
}

// cibDocument returns the snapshot as a CIB; times are written in loc.
func cibDocument(sn *clusterSnapshot, loc *time.Location) *xel {
	cfg := sn.Config
	doc := el("cib", "crm_feature_set", crmFeatureSet, "validate-with", cibSchemaVersion,
		"epoch", strconv.FormatUint(cfg.Epoch, 10), "num_updates", "0", "admin_epoch", "0")
	if ch := cfg.LastChange; ch != nil {
		doc.set("cib-last-written", ctime(ch.Time.In(loc))).set("update-origin", ch.Origin).
			set("update-client", "paceline").set("update-user", "")
	}
	quorate := sn.Cluster.Leader != ""
	if sn.Members != nil && sn.Members.Quorum != nil {
		quorate = sn.Members.Quorum.Quorate
	}
	doc.set("have-quorum", boolDigit(quorate))
	if dc := sn.Resources.DC; dc != "" {
		doc.set("dc-uuid", dc)
	}
	return doc.add(cibConfiguration(sn), cibStatus(sn))
}

func cibConfiguration(sn *clusterSnapshot) *xel {
	cfg := sn.Config
	props := el("cluster_property_set", "id", "cib-bootstrap-options")
	if v := dcVersion(sn); v != "" {
		props.add(nvpair("cib-bootstrap-options", "dc-version", v))
	}
	props.add(nvpair("cib-bootstrap-options", "cluster-infrastructure", "paceline"))
	for _, k := range slices.Sorted(maps.Keys(cfg.Properties)) {
		props.add(nvpair("cib-bootstrap-options", k, cfg.Properties[k]))
	}
	conf := el("configuration").add(
		el("crm_config").add(props, nvset("cluster_property_set", "agent-attributes", cfg.AgentAttributes)))
	nodes := el("nodes")
	for _, n := range cfg.Nodes {
		attrs := map[string]string{}
		maps.Copy(attrs, n.Attributes)
		for name, on := range map[string]bool{"standby": n.Standby, "maintenance": n.Maintenance} {
			if on { // Pacemaker keeps these node states as node attributes
				attrs[name] = "on"
			}
		}
		nodes.add(el("node", "id", n.Name, "uname", n.Name).add(
			nvset("instance_attributes", "nodes-"+n.Name, attrs),
			nvset("utilization", "nodes-"+n.Name+"-utilization", cib.UtilizationStrings(n.Utilization))))
	}
	conf.add(nodes, cibResources(cfg), cibConstraints(cfg))
	if len(cfg.ResourceDefaults) > 0 {
		conf.add(el("rsc_defaults").add(nvset("meta_attributes", "rsc-options", cfg.ResourceDefaults)))
	}
	return conf
}

// dcVersion is the DC's Paceline version as gossip says, else this
// node's.
func dcVersion(sn *clusterSnapshot) string {
	if sn.Members != nil {
		for _, m := range sn.Members.Members {
			if m.Name == sn.Resources.DC && m.Version != "" {
				return m.Version
			}
		}
	}
	return sn.Cluster.Version
}

// nvset is a set of name-value pairs (nil when empty), sorted by name.
func nvset(element, id string, m map[string]string) *xel {
	if len(m) == 0 {
		return nil
	}
	set := el(element, "id", cibID(id))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		set.add(nvpair(id, k, m[k]))
	}
	return set
}

func nvpair(setID, name, value string) *xel {
	return el("nvpair", "id", cibID(setID+"-"+name), "name", name, "value", value)
}

// cibID makes an XML ID of s: characters an ID cannot hold become '_'.
func cibID(s string) string {
	b := []byte(s)
	for i, c := range b {
		letter := c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
		if !letter && (i == 0 || !(c == '-' || c == '.' || ('0' <= c && c <= '9'))) {
			b[i] = '_'
		}
	}
	return string(b)
}

// cibResources lists the top-level resources, sorted by id (as `paceline
// status` lists them).
func cibResources(cfg *cib.Config) *xel {
	out := el("resources")
	for _, top := range topResources(cfg) {
		c := cfg.CloneByID(top)
		if c == nil {
			out.add(cibResource(cfg, top))
			continue
		}
		meta := maps.Clone(c.Meta)
		if c.Promotable {
			if meta == nil {
				meta = map[string]string{}
			}
			meta["promotable"] = "true"
		}
		out.add(el("clone", "id", c.ID).add(nvset("meta_attributes", c.ID+"-meta_attributes", meta), cibResource(cfg, c.Rsc)))
	}
	return out
}

// cibResource is a primitive or a group.
func cibResource(cfg *cib.Config, id string) *xel {
	if g := cfg.Group(id); g != nil {
		x := el("group", "id", g.ID).add(nvset("meta_attributes", g.ID+"-meta_attributes", g.Meta))
		for _, m := range g.Members {
			x.add(cibResource(cfg, m))
		}
		return x
	}
	p := cfg.Primitive(id)
	if p == nil {
		return nil
	}
	x := el("primitive", "id", p.ID)
	a, err := cib.ParseAgent(p.Agent)
	if err != nil { // a stored configuration is valid; keep what it says
		a = cib.Agent{Type: p.Agent}
	}
	x.set("class", a.Class)
	if a.Provider != "" {
		x.set("provider", a.Provider)
	}
	x.set("type", a.Type)
	x.add(nvset("instance_attributes", p.ID+"-instance_attributes", p.Params),
		nvset("meta_attributes", p.ID+"-meta_attributes", p.Meta),
		nvset("utilization", p.ID+"-utilization", cib.UtilizationStrings(p.Utilization)))
	if len(p.Ops) > 0 {
		ops := el("operations")
		for _, o := range p.Ops {
			iv := pcmkInterval(o.Interval.D())
			op := el("op", "id", cibID(strings.TrimSuffix(p.ID+"-"+o.Name+"-interval-"+iv+"-"+o.Role, "-")), "name", o.Name, "interval", iv)
			if o.Timeout > 0 {
				op.set("timeout", pcmkInterval(o.Timeout.D()))
			}
			if o.Role != "" {
				op.set("role", o.Role)
			}
			if o.OnFail != "" {
				op.set("on-fail", o.OnFail)
			}
			if o.CheckLevel > 0 {
				op.add(nvset("instance_attributes", op.attr("id")+"-instance_attributes",
					map[string]string{"OCF_CHECK_LEVEL": strconv.Itoa(o.CheckLevel)}))
			}
			ops.add(op)
		}
		x.add(ops)
	}
	return x
}

// pcmkInterval writes d as Pacemaker reads it: whole seconds "10s", else
// milliseconds "1500ms".
func pcmkInterval(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

func cibConstraints(cfg *cib.Config) *xel {
	out := el("constraints")
	cs := cfg.Constraints
	for _, l := range cs.Location {
		x := el("rsc_location", "id", l.ID, "rsc", l.Rsc)
		if l.Role != "" {
			x.set("role", l.Role)
		}
		r, err := cib.ParseRule(l.Rule)
		switch {
		case l.Rule == "":
			x.set("node", l.Node).set("score", l.Score.String())
		case err != nil:
			// A stored configuration was validated: this does not happen.
			// Were it to, an empty rule says it holds nowhere.
			x.add(el("rule", "id", cibID(l.ID+"-rule"), "score", l.Score.String()))
		default:
			rule := cibRule(l.ID+"-rule", r)
			if l.ScoreAttribute != "" {
				rule.set("score-attribute", l.ScoreAttribute)
			} else {
				rule.set("score", l.Score.String())
			}
			x.add(rule)
		}
		out.add(x)
	}
	for _, c := range cs.Colocation {
		x := el("rsc_colocation", "id", c.ID, "rsc", c.Rsc, "with-rsc", c.WithRsc, "score", c.Score.String())
		if c.RscRole != "" {
			x.set("rsc-role", c.RscRole)
		}
		if c.WithRscRole != "" {
			x.set("with-rsc-role", c.WithRscRole)
		}
		out.add(x)
	}
	for _, o := range cs.Order {
		kind := cmp.Or(o.Kind, cib.OrderMandatory)
		out.add(el("rsc_order", "id", o.ID, "first", o.First, "first-action", o.FirstAction, "then", o.Then,
			"then-action", o.ThenAction, "kind", strings.ToUpper(kind[:1])+kind[1:], "symmetrical", strconv.FormatBool(o.Symmetrical)))
	}
	return out
}

// cibRule writes a rule: "and" and "or" become the rule's boolean-op,
// nested ones nested rules.
func cibRule(id string, r cib.Rule) *xel {
	x := el("rule", "id", cibID(id))
	terms := []cib.Rule{r}
	switch e := r.(type) {
	case cib.AndExpr:
		x.set("boolean-op", "and")
		terms = e.Terms
	case cib.OrExpr:
		x.set("boolean-op", "or")
		terms = e.Terms
	}
	for i, t := range terms {
		tid := fmt.Sprintf("%s-expr-%d", id, i)
		switch e := t.(type) {
		case cib.AndExpr, cib.OrExpr:
			x.add(cibRule(tid, e))
		case cib.DefinedExpr:
			op := "defined"
			if e.Negate {
				op = "not_defined"
			}
			x.add(el("expression", "id", cibID(tid), "attribute", e.Attr, "operation", op))
		case cib.CompareExpr:
			ex := el("expression", "id", cibID(tid), "attribute", e.Attr, "operation", e.Op, "value", e.Value)
			if e.Type != "" {
				ex.set("type", e.Type)
			}
			x.add(ex)
		}
	}
	return x
}

// cibStatus is every configured node's state: membership, transient
// attributes and, for the nodes whose history was read, the operation
// records that say what runs there.
func cibStatus(sn *clusterSnapshot) *xel {
	out := el("status")
	var attrs map[string]map[string]string
	if sn.Members != nil {
		attrs = sn.Members.Attrs
	}
	for _, n := range sn.Resources.Nodes {
		x := el("node_state", "id", n.Name, "uname", n.Name)
		switch n.State {
		case "online":
			x.set("in_ccm", "true").set("crmd", "online").set("join", "member").set("expected", "member")
		case "unclean": // lost while a member: it may still run what it ran
			x.set("in_ccm", "false").set("crmd", "offline").set("join", "member").set("expected", "member")
		default:
			x.set("in_ccm", "false").set("crmd", "offline").set("join", "down").set("expected", "down")
		}
		if ta := nvset("instance_attributes", "status-"+n.Name, attrs[n.Name]); ta != nil {
			x.add(el("transient_attributes", "id", n.Name).add(ta))
		}
		if n.State == "online" {
			x.add(el("lrm", "id", n.Name).add(lrmResources(sn, n)))
		}
		out.add(x)
	}
	return out
}

// lrmResources writes one record per resource instance on the node for
// its state (id RSC_last_0) and, after a failure, one for the failure
// (RSC_last_failure_0). The call ids order them: a failure after the state
// record means the instance is failed now; a stop after it, that it
// failed and has been stopped.
func lrmResources(sn *clusterSnapshot, n api.NodeResource) *xel {
	out := el("lrm_resources")
	call := 0
	seen := map[string]int{}
	for _, r := range n.Resources {
		name := r.ID // the LRM's name: the primitive, :N for a second copy
		if k := seen[r.ID]; k > 0 {
			name = fmt.Sprintf("%s:%d", r.ID, k)
		}
		seen[r.ID]++
		x := el("lrm_resource", "id", name)
		agent := ""
		if p := sn.Config.Primitive(r.ID); p != nil {
			agent = p.Agent
		}
		fail := failureOf(sn.Resources.Failures, n.Name, name, r.ID)
		if fail != nil && agent == "" {
			agent = fail.Agent
		}
		if a, err := cib.ParseAgent(agent); err == nil {
			x.set("type", a.Type).set("class", a.Class)
			if a.Provider != "" {
				x.set("provider", a.Provider)
			}
		} else {
			x.set("type", "unknown").set("class", "unknown")
		}
		role := cmp.Or(r.Role, cib.RoleStarted)
		state := func() *xel {
			call++
			switch role {
			case cib.RoleStopped:
				if r.Failed {
					return opRecord(n.Name, name, "_last_0", "stop", 0, call, 0, 0)
				}
				return opRecord(n.Name, name, "_last_0", "monitor", 0, call, 7, 7)
			case cib.RolePromoted:
				return opRecord(n.Name, name, "_last_0", "promote", 0, call, 0, 0)
			case cib.RoleUnpromoted:
				return opRecord(n.Name, name, "_last_0", "demote", 0, call, 0, 0)
			}
			return opRecord(n.Name, name, "_last_0", "start", 0, call, 0, 0)
		}
		failure := func() *xel {
			call++
			target := 0
			if role == cib.RolePromoted {
				target = 8
			}
			if fail == nil { // the failure's record is gone (a failure-timeout, say): what the state says
				return opRecord(n.Name, name, "_last_failure_0", cmp.Or(r.FailedOp, "monitor"), 0, call, 1, target)
			}
			f := opRecord(n.Name, name, "_last_failure_0", fail.Action, fail.Interval, call, fail.RC, target)
			f.set("op-status", strconv.Itoa(execStatusCode(fail.Status))).
				set("last-rc-change", strconv.FormatInt(fail.Started.Unix(), 10)).
				set("exec-time", strconv.FormatInt(int64(fail.ExecMS), 10)).
				set("queue-time", strconv.FormatInt(int64(fail.QueueMS), 10))
			if fail.Reason != "" {
				f.set("exit-reason", fail.Reason)
			}
			return f
		}
		switch {
		case r.Failed && role == cib.RoleStopped:
			f := failure()
			x.add(f, state())
		case r.Failed:
			s := state()
			x.add(s, failure())
		default:
			x.add(state())
		}
		out.add(x)
	}
	return out
}

// failureOf is the last failure of an instance on a node, nil if none is
// reported.
func failureOf(fs []api.Failure, node, name, prim string) *lrm.Op {
	var byPrim *lrm.Op
	for i := range fs {
		f := &fs[i]
		if f.Node != node {
			continue
		}
		if f.Op.Rsc == name {
			return &f.Op
		}
		if id, _, _ := strings.Cut(f.Op.Rsc, ":"); id == prim && byPrim == nil {
			byPrim = &f.Op
		}
	}
	return byPrim
}

// opRecord is one lrm_rsc_op: the operation, its call id, the exit code
// it returned and the one expected (transition-key's third field).
func opRecord(node, rsc, suffix, op string, interval time.Duration, call, rc, target int) *xel {
	ms := strconv.FormatInt(interval.Milliseconds(), 10)
	key := fmt.Sprintf("%d:0:%d:00000000-0000-0000-0000-000000000000", call, target)
	return el("lrm_rsc_op", "id", rsc+suffix, "operation_key", rsc+"_"+op+"_"+ms, "operation", op,
		"crm_feature_set", crmFeatureSet, "transition-key", key, "transition-magic", fmt.Sprintf("0:%d;%s", rc, key),
		"on_node", node, "call-id", strconv.Itoa(call), "rc-code", strconv.Itoa(rc), "op-status", "0",
		"interval", ms)
}

// execStatusCode is Pacemaker's op-status (enum pcmk_exec_status) for an
// execution status.
func execStatusCode(s lrm.ExecStatus) int {
	switch s {
	case lrm.StatusCancelled:
		return 1
	case lrm.StatusTimeout:
		return 2
	case lrm.StatusError:
		return 4
	case lrm.StatusNotInstalled:
		return 7
	}
	return 0
}

// ctime is how Pacemaker writes a time for people (pcmk__epoch2str).
func ctime(t time.Time) string { return t.Format("Mon Jan _2 15:04:05 2006") }

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// cibadmin: -Q/--query with -o/--scope SECTION or -A/--xpath EXPR, of
// the live cluster or of the file CIB_file names; -l/--local,
// -s/--sync-call, -V and -t/--timeout are accepted and change nothing.
func (s *shim) cibadmin(ctx context.Context, args []string) error {
	opts, err := parseToolArgs(args, cibadminOpts)
	if err != nil {
		return err
	}
	for _, w := range []string{"create", "modify", "replace", "delete", "delete-all", "erase", "bump", "patch", "upgrade"} {
		if _, ok := opts[w]; ok {
			return toolError{64, fmt.Errorf("--%s changes the CIB: Paceline's cibadmin only queries (-Q); change the configuration with paceline", w)}
		}
	}
	for _, o := range []string{"no-children", "node-path", "xml-text", "xml-file", "xml-pipe", "md5-sum", "md5-sum-versioned", "empty", "show-access", "user", "allow-create", "no-bcast", "force"} {
		if _, ok := opts[o]; ok {
			return toolError{64, fmt.Errorf("option --%s is not supported by Paceline's cibadmin", o)}
		}
	}
	if _, ok := opts["query"]; !ok {
		return toolError{64, errors.New("no command: Paceline's cibadmin only queries (-Q)")}
	}
	scope, hasScope := opts["scope"]
	xpath, hasXPath := opts["xpath"]
	if hasScope && hasXPath {
		return toolError{64, errors.New("give --scope or --xpath, not both")}
	}
	var steps []xstep
	if hasXPath {
		if steps, err = parseXPath(xpath); err != nil {
			return toolError{64, err}
		}
	} else if hasScope {
		p, ok := cibSections[scope]
		if !ok {
			return toolError{64, fmt.Errorf("--scope %q: Paceline's CIB has the sections %s", scope,
				strings.Join(slices.Sorted(maps.Keys(cibSections)), ", "))}
		}
		steps, _ = parseXPath(p)
	}
	doc, err := s.readCIB(ctx, s.env("CIB_file")) // as Pacemaker's: CIB_file names a CIB to read instead
	if err != nil {
		return err
	}
	if steps == nil {
		fmt.Fprint(s.out, doc)
		return nil
	}
	hits := doc.query(steps)
	switch len(hits) {
	case 0:
		// As Pacemaker's cibadmin: -ENXIO from the query, CRM_EX_NOSUCH.
		return toolError{105, errors.New("Call cib_query failed: No such device or address")}
	case 1:
		fmt.Fprint(s.out, hits[0])
	default:
		fmt.Fprint(s.out, el("xpath-query").add(hits...))
	}
	return nil
}

// cibSections are the --scope sections and where they are.
var cibSections = map[string]string{
	"configuration": "/cib/configuration",
	"crm_config":    "/cib/configuration/crm_config",
	"nodes":         "/cib/configuration/nodes",
	"resources":     "/cib/configuration/resources",
	"constraints":   "/cib/configuration/constraints",
	"rsc_defaults":  "/cib/configuration/rsc_defaults",
	"status":        "/cib/status",
}

var cibadminOpts = []toolOpt{
	{'Q', "query", false}, {'o', "scope", true}, {'A', "xpath", true},
	{'l', "local", false}, {'s', "sync-call", false}, {'V', "verbose", false}, {'t', "timeout", true},
	// Known to Pacemaker's cibadmin, refused here.
	{'C', "create", false}, {'M', "modify", false}, {'R', "replace", false}, {'D', "delete", false},
	{'d', "delete-all", false}, {'E', "erase", false}, {'B', "bump", false}, {'P', "patch", false},
	{'u', "upgrade", false}, {'n', "no-children", false}, {'e', "node-path", false},
	{'X', "xml-text", true}, {'x', "xml-file", true}, {'p', "xml-pipe", false}, {'5', "md5-sum", false},
	{'6', "md5-sum-versioned", false}, {'a', "empty", false}, {'S', "show-access", false},
	{'U', "user", true}, {'c', "allow-create", false}, {'b', "no-bcast", false}, {'f', "force", false},
}
