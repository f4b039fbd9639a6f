package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/cib"
)

// crm_mon, one-shot: the cluster's state in Pacemaker 2.1.5's formats, as
// far as resource-agents' scripts read them: `crm_mon -1 --output-as=xml`
// (redis, galera, pgsql: they grep the promoted <resource> element and the
// <node> elements), the legacy `--as-xml`/`-X` (the same elements under
// <crm_mon>), and the text of `crm_mon -1` and `crm_mon -1 -r`. It reads
// the CIB that cibadmin -Q writes, from the local agent or, as Pacemaker's
// crm_mon, from the file CIB_file (or -x FILE) names: ocf-shellfuncs'
// crm_mon_no_validation passes it `cibadmin -Q` that way.
//
// What it shows: the summary (stack, DC, quorum, counts, cluster
// options), the nodes, every resource with its role on each node (a
// clone's instances; Started instances of a promotable clone are
// Unpromoted), the nodes' attributes and the failed actions. The other
// sections (operation history, fencing history, tickets, bans) and
// options (-n, -A, -f, -o, -R, -b, -s, --include, interactive and daemon
// modes, HTML) are refused with an error naming the option.

// pacemakerVersion is the Pacemaker release whose output formats these
// are; the legacy XML names it as crm_mon's version.
const pacemakerVersion = "2.1.5"

// monAPIVersion is that release's XML API version (PCMK__API_VERSION).
const monAPIVersion = "2.25"

var crmMonOpts = []toolOpt{
	{'1', "one-shot", false}, {0, "output-as", true}, {'X', "as-xml", false}, {'r', "inactive", false},
	{'N', "disable-ncurses", false}, {'x', "xml-file", true}, {'V', "verbose", false},
}

// crmMon runs crm_mon; request is its command line, as the XML's
// request attribute says.
func (s *shim) crmMon(ctx context.Context, args []string, request string) error {
	opts, err := parseToolArgs(args, crmMonOpts)
	if err != nil {
		return err
	}
	_, legacy := opts["as-xml"]
	_, oneShot := opts["one-shot"]
	_, inactive := opts["inactive"]
	format := cmp.Or(opts["output-as"], "text")
	if legacy {
		format = "xml"
	}
	switch {
	case format != "xml" && format != "text":
		return toolError{64, fmt.Errorf("--output-as=%s: Paceline's crm_mon writes xml or text", format)}
	case format == "text" && !oneShot:
		return toolError{64, errors.New("only one-shot mode (-1) is supported: no interactive or daemon mode")}
	}
	file := s.env("CIB_file")
	if f, ok := opts["xml-file"]; ok {
		file = f
	}
	doc, err := s.readCIB(ctx, file)
	if err != nil {
		return err
	}
	v, err := readMonView(doc)
	if err != nil {
		return toolError{1, fmt.Errorf("%s: %w", cmp.Or(file, "the CIB"), err)}
	}
	now := time.Now()
	if format == "xml" {
		fmt.Fprint(s.out, monXML(v, request, legacy, now, time.Local))
		return nil
	}
	fmt.Fprint(s.out, monText(v, inactive, now, time.Local))
	return nil
}

// readCIB reads the CIB from file, or from the local agent if file is "".
func (s *shim) readCIB(ctx context.Context, file string) (*xel, error) {
	if sh := s.env("CIB_shadow"); sh != "" {
		return nil, toolError{64, fmt.Errorf("CIB_shadow=%s: shadow CIBs are not supported", sh)}
	}
	if file == "" {
		sn, err := s.snapshot(ctx)
		if err != nil {
			return nil, err
		}
		return cibDocument(sn, time.Local), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("CIB_file: %w", err)
	}
	doc, err := parseXML(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("CIB_file %s: %w", file, err)
	}
	return doc, nil
}

// monXML is crm_mon's XML output (legacy: --as-xml's).
func monXML(v *monView, request string, legacy bool, now time.Time, loc *time.Location) *xel {
	root := el("pacemaker-result", "api-version", monAPIVersion, "request", request)
	if legacy {
		root = el("crm_mon", "version", pacemakerVersion)
	}
	summary := el("summary").add(el("stack", "type", v.stack))
	if dc := v.node(v.dc); dc != nil {
		summary.add(el("current_dc", "present", "true", "version", v.dcVersion, "name", dc.name, "id", dc.id,
			"with_quorum", strconv.FormatBool(v.quorate), "mixed_version", "false"))
	} else {
		summary.add(el("current_dc", "present", "false"))
	}
	configured, disabled := v.instanceCounts()
	summary.add(el("last_update", "time", ctime(now.In(loc))),
		el("last_change", "time", v.written, "user", v.user, "client", v.via, "origin", v.origin),
		el("nodes_configured", "number", strconv.Itoa(len(v.nodes))),
		el("resources_configured", "number", strconv.Itoa(configured), "disabled", strconv.Itoa(disabled), "blocked", "0"),
		el("cluster_options", "stonith-enabled", boolWord(v.prop("stonith-enabled")),
			"symmetric-cluster", boolWord(v.prop("symmetric-cluster")), "no-quorum-policy", v.prop("no-quorum-policy"),
			"maintenance-mode", boolWord(v.prop("maintenance-mode")), "stop-all-resources", boolWord(v.prop("stop-all-resources")),
			"stonith-timeout-ms", msOf(v.prop("stonith-timeout")), "priority-fencing-delay-ms", msOf(v.prop("priority-fencing-delay"))))
	root.add(summary)

	nodes := el("nodes")
	for _, n := range v.nodes {
		nodes.add(el("node", "name", n.name, "id", n.id, "online", strconv.FormatBool(n.online),
			"standby", strconv.FormatBool(n.standby), "standby_onfail", "false", "maintenance", strconv.FormatBool(n.maint),
			"pending", "false", "unclean", strconv.FormatBool(n.unclean), "health", "green", "shutdown", "false",
			"expected_up", strconv.FormatBool(n.online || n.unclean), "is_dc", strconv.FormatBool(n.dc),
			"resources_running", strconv.Itoa(n.running), "type", "member"))
	}
	root.add(nodes)

	rscs := el("resources")
	for _, r := range v.rscs {
		rscs.add(v.rscXML(r)...)
	}
	root.add(rscs)

	attrs := el("node_attributes")
	for _, n := range v.nodes {
		if !n.online {
			continue
		}
		x := el("node", "name", n.name)
		for _, k := range slices.Sorted(maps.Keys(n.attrs)) {
			if shownAttr(k) {
				x.add(el("attribute", "name", k, "value", n.attrs[k]))
			}
		}
		attrs.add(x)
	}
	root.add(attrs)

	if len(v.failures) > 0 {
		fl := el("failures")
		for _, f := range v.failures {
			rc := atoi(f.attr("rc-code"))
			x := el("failure", "op_key", f.attr("operation_key"), "node", f.attr("on_node"),
				"exitstatus", ocf.RCName(rc), "exitreason", f.attr("exit-reason"), "exitcode", strconv.Itoa(rc),
				"call", f.attr("call-id"), "status", execStatusName(atoi(f.attr("op-status"))))
			if t := atoi(f.attr("last-rc-change")); t > 0 {
				x.set("last-rc-change", isoTime(time.Unix(int64(t), 0).In(loc))).
					set("queued", cmp.Or(f.attr("queue-time"), "0")).set("exec", cmp.Or(f.attr("exec-time"), "0")).
					set("interval", f.attr("interval")).set("task", f.attr("operation"))
			}
			fl.add(x)
		}
		root.add(fl)
	}
	if !legacy {
		root.add(el("status", "code", "0", "message", "OK"))
	}
	return root
}

// rscXML is a top-level resource (or a group's or clone's content).
func (v *monView) rscXML(r *monRsc) []*xel {
	switch r.kind {
	case "group":
		return []*xel{v.groupXML(r, r.id, nil)}
	case "clone":
		child := r.kids[0]
		x := el("clone", "id", r.id, "multi_state", strconv.FormatBool(r.promotable()), "unique", strconv.FormatBool(r.unique()),
			"managed", strconv.FormatBool(v.managed(r)), "disabled", strconv.FormatBool(v.disabled(r)),
			"failed", strconv.FormatBool(anyFailed(r)), "failure_ignored", "false")
		if tr := r.meta["target-role"]; tr != "" {
			x.set("target_role", tr)
		}
		for i, in := range v.instances(r) {
			if child.kind == "group" {
				x.add(v.groupXML(child, fmt.Sprintf("%s:%d", child.id, i), in.on))
				continue
			}
			x.add(v.primitiveXML(child, instanceID(r, child, i), instList(in.on[child])))
		}
		return []*xel{x}
	}
	return []*xel{v.primitiveXML(r, r.id, r.on)}
}

func (v *monView) groupXML(g *monRsc, id string, on map[*monRsc]monInst) *xel {
	x := el("group", "id", id, "number_resources", strconv.Itoa(len(g.kids)),
		"managed", strconv.FormatBool(v.managed(g)), "disabled", strconv.FormatBool(v.disabled(g)))
	for _, m := range g.kids {
		ins := m.on
		if on != nil { // a clone's instance: the member's instance on its node
			ins = instList(on[m])
		}
		x.add(v.primitiveXML(m, m.id, ins))
	}
	return x
}

// instList is an instance as a list: none for a stopped one.
func instList(in monInst) []monInst {
	if in.node == "" {
		return nil
	}
	return []monInst{in}
}

// instanceID is how crm_mon names a clone's primitive instance: the
// primitive's id for an anonymous clone, with ":N" for a unique one.
func instanceID(c, p *monRsc, i int) string {
	if c.unique() {
		return fmt.Sprintf("%s:%d", p.id, i)
	}
	return p.id
}

// primitiveXML is one <resource>: a primitive (or one instance of it) with
// the nodes it is active on.
func (v *monView) primitiveXML(p *monRsc, id string, on []monInst) *xel {
	role, failed := cib.RoleStopped, false
	for _, in := range on {
		if roleRank(in.role) > roleRank(role) {
			role = in.role
		}
		failed = failed || in.failed
	}
	x := el("resource", "id", id, "resource_agent", p.agent, "role", shownRole(p, role))
	if tr, ok := v.metaOf(p, "target-role"); ok {
		x.set("target_role", tr)
	}
	x.set("active", strconv.FormatBool(len(on) > 0)).set("orphaned", strconv.FormatBool(p.orphan)).
		set("blocked", "false").set("managed", strconv.FormatBool(v.managed(p))).
		set("failed", strconv.FormatBool(failed)).set("failure_ignored", "false").
		set("nodes_running_on", strconv.Itoa(len(on)))
	for _, in := range on {
		n := v.node(in.node)
		x.add(el("node", "name", n.name, "id", n.id, "cached", strconv.FormatBool(n.online)))
	}
	return x
}

// shownAttr: node attributes crm_mon lists (not Pacemaker's internal ones,
// nor standby and maintenance, which it shows as node states).
func shownAttr(name string) bool {
	return !strings.HasPrefix(name, "#") && name != "standby" && name != "maintenance"
}

func boolWord(s string) string { return strconv.FormatBool(isTrue(s)) }

// msOf is a duration option in milliseconds.
func msOf(s string) string {
	d, err := cib.ParseDuration(s)
	if err != nil {
		return "0"
	}
	return strconv.FormatInt(d.D().Milliseconds(), 10)
}

// isoTime is crm_time_as_string with date, time of day and time zone.
func isoTime(t time.Time) string {
	if _, off := t.Zone(); off == 0 {
		return t.Format("2006-01-02 15:04:05") + "Z"
	}
	return t.Format("2006-01-02 15:04:05 -07:00")
}

// execStatusName is pcmk_exec_status_str.
func execStatusName(code int) string {
	switch code {
	case -1:
		return "pending"
	case 0:
		return "complete"
	case 1:
		return "Cancelled"
	case 2:
		return "Timed Out"
	case 3:
		return "NOT SUPPORTED"
	case 4:
		return "Error"
	case 7:
		return "Not installed"
	}
	return "UNKNOWN!"
}
