package main

// `paceline simulate`: run the scheduler on a configuration and a status
// read from files, after what-ifs (a node goes down, an op fails), and show
// the plan — Pacemaker's crm_simulate. See docs/simulate.md.

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/cib/pacemaker"
	"github.com/paceline/paceline/crm/scheduler"
)

// simulateFlags are the flags of `paceline simulate`.
type simulateFlags struct {
	config, status, now, saveStatus string
	// cib is a Pacemaker CIB (cibadmin -Q) giving both the configuration
	// and the status; skipUnsupported leaves out what Paceline does not
	// model instead of failing.
	cib                        string
	scores, skipUnsupported    bool
	nodeDown, nodeUp, nodeFail []string
	opFail                     []string
}

func newSimulateCmd(g *globals) *cobra.Command {
	var f simulateFlags
	c := leaf(g, "simulate (--config FILE [--status FILE] | --cib FILE [--skip-unsupported]) [--node-down N] [--node-fail N] [--node-up N] [--op-fail RSC:OP@NODE] [--now TIME] [--scores] [--save-status FILE]",
		"Show what the scheduler would do with a configuration and a status (like crm_simulate)",
		func(cmd *cobra.Command, args []string) error {
			if err := wantArgs(args, 0, 0, "no arguments (name the files with --config and --status)"); err != nil {
				return err
			}
			return runSimulate(cmd, g, &f)
		})
	c.Long = `Run the scheduler on a configuration (--config, a file as config export writes
it) and a status (--status: which nodes are up, what runs where; see
docs/simulate.md), optionally changed by what-ifs first, and print the plan:
where every resource goes and the ordered actions that get it there.

--cib reads both from a Pacemaker CIB instead (cibadmin -Q, or a
crm_simulate input): its configuration section as "config import --from
pacemaker" does, and its status section (node states, transient
attributes, resource histories, have-quorum). Without --now,
failure-timeout is judged at the CIB's execution-date if it has one.

Without --status every configured node is online, probed and runs nothing,
and the partition is quorate. What-ifs are applied in this order: --node-up,
--node-down, --node-fail, then --op-fail. --save-status writes the status as
it would be once the plan has run, for the next --status.`
	fl := c.Flags()
	fl.StringVar(&f.config, "config", "", "the configuration, YAML or JSON (- reads stdin); required")
	fl.StringVar(&f.status, "status", "", "the status, YAML (- reads stdin); default: every node online and probed, nothing running, quorate")
	fl.StringVar(&f.cib, "cib", "", "a Pacemaker CIB (cibadmin -Q) with configuration and status, instead of --config and --status (- reads stdin)")
	fl.BoolVar(&f.skipUnsupported, "skip-unsupported", false, "with --cib: leave out what Paceline does not model (listed on stderr) instead of failing")
	fl.StringVar(&f.now, "now", "", "the time the scheduler judges failure-timeout against, RFC 3339 (default: now)")
	fl.BoolVar(&f.scores, "scores", false, "also print every node's allocation score for every resource, and why")
	fl.StringArrayVar(&f.nodeDown, "node-down", nil, "what-if: node N is offline (left cleanly, or fenced) and runs nothing; repeatable")
	fl.StringArrayVar(&f.nodeFail, "node-fail", nil, "what-if: node N is lost and unclean (it may still run what it ran); repeatable")
	fl.StringArrayVar(&f.nodeUp, "node-up", nil, "what-if: node N is online; repeatable")
	fl.StringArrayVar(&f.opFail, "op-fail", nil, "what-if: op OP (start, stop, monitor, promote, demote) of primitive RSC failed on NODE, e.g. web:monitor@n1; repeatable")
	fl.StringVar(&f.saveStatus, "save-status", "", "write the status after the what-ifs and the plan to this file (YAML, for the next --status)")
	return c
}

// simulateView is the JSON of `paceline simulate`.
type simulateView struct {
	// Now is the time the plan was made for.
	Now time.Time `json:"now"`
	// WhatIfs describes the what-ifs applied, in the order applied.
	WhatIfs []string `json:"what-ifs,omitempty"`
	// Status is what the scheduler was given: the status after the
	// what-ifs, every configured node listed with its state.
	Status *scheduler.Status `json:"status"`
	Plan   *scheduler.Plan   `json:"plan"`
	// SavedStatus is the file --save-status wrote.
	SavedStatus string `json:"saved-status,omitempty"`
	// With --cib: where the plan leaves every resource (per primitive,
	// per clone instance, the fenced nodes), what the configuration
	// import left out or changed, and what the status import noted.
	Outcome      *pacemaker.Outcome      `json:"outcome,omitempty"`
	ImportReport *pacemaker.Report       `json:"import-report,omitempty"`
	StatusReport *pacemaker.StatusReport `json:"status-report,omitempty"`
}

func runSimulate(cmd *cobra.Command, g *globals, f *simulateFlags) error {
	// Usage first: everything that can be judged without reading a file.
	if f.cib != "" && (f.config != "" || f.status != "") {
		return usagef("simulate: --cib gives both the configuration and the status: not with --config or --status")
	}
	if f.skipUnsupported && f.cib == "" {
		return usagef("simulate: --skip-unsupported goes with --cib")
	}
	if f.config == "" && f.cib == "" {
		return usagef("simulate: --config FILE is required, or --cib FILE (simulating the live cluster is not supported yet)")
	}
	if f.config == "-" && f.status == "-" {
		return usagef("simulate: only one of --config and --status can read stdin")
	}
	if f.saveStatus == "-" {
		return usagef("simulate: --save-status needs a file name (stdout carries the plan)")
	}
	now := time.Now().UTC().Truncate(time.Second)
	var nowSet time.Time
	if f.now != "" {
		t, err := time.Parse(time.RFC3339, f.now)
		if err != nil {
			return usagef("simulate: bad --now %q: want an RFC 3339 time such as 2026-01-01T12:00:00Z", f.now)
		}
		now, nowSet = t, t
	}
	w, err := parseWhatIfs(f)
	if err != nil {
		return err
	}

	var (
		cfg     *cib.Config
		st      *scheduler.Status
		missing = map[string]bool{}
		fromCIB *cibImport
	)
	if f.cib != "" {
		if fromCIB, err = loadSimCIB(cmd, g, f, nowSet, now); err != nil {
			return err
		}
		cfg, st, now = fromCIB.cfg, fromCIB.st, fromCIB.status.Now
	} else {
		if cfg, err = loadSimConfig(cmd, f.config); err != nil {
			return err
		}
		if f.status == "" {
			st = defaultStatus(cfg)
		} else if st, missing, err = loadSimStatus(cmd, f.status, cfg); err != nil {
			return err
		}
	}
	applied, err := w.apply(cfg, st, now)
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	// What the what-ifs made must still be a valid status.
	if err := st.Validate(cfg); err != nil {
		return fmt.Errorf("simulate: after the what-ifs: %w", err)
	}
	for _, n := range w.nodes() {
		delete(missing, n)
	}

	plan, err := scheduler.Schedule(cfg, st, scheduler.Options{Now: now, Explain: f.scores})
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}

	if f.saveStatus != "" {
		res := resultStatus(st, plan)
		if err := writeStatusFile(f.saveStatus, res, applied, now); err != nil {
			return fmt.Errorf("simulate: --save-status: %w", err)
		}
	}
	if g.json() {
		view := simulateView{Now: now, WhatIfs: applied, Status: st, Plan: plan, SavedStatus: f.saveStatus}
		if fromCIB != nil {
			view.Outcome = pacemaker.PlanOutcome(cfg, plan)
			view.ImportReport, view.StatusReport = fromCIB.config, fromCIB.status
		}
		return printJSON(g.stdout, view)
	}
	if fromCIB != nil {
		printCIBNotes(g.stdout, fromCIB)
	}
	printSimHeader(g.stdout, cfg, st, missing, applied)
	fmt.Fprintln(g.stdout)
	fmt.Fprint(g.stdout, plan.Format())
	if f.scores {
		fmt.Fprintln(g.stdout, "scores:")
		s := plan.FormatScores()
		if s == "" {
			fmt.Fprintln(g.stdout, "  (none)")
		}
		for _, line := range strings.SplitAfter(s, "\n") {
			if line != "" {
				fmt.Fprint(g.stdout, "  "+line)
			}
		}
	}
	if f.saveStatus != "" {
		fmt.Fprintf(g.stderr, "Wrote the status after the plan to %s\n", f.saveStatus)
	}
	return nil
}

// readInput reads a file, or stdin for "-".
func readInput(cmd *cobra.Command, name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(cmd.InOrStdin())
	}
	return os.ReadFile(name)
}

// cibImport is what --cib read: the configuration and status, and the
// reports of both imports.
type cibImport struct {
	cfg    *cib.Config
	st     *scheduler.Status
	config *pacemaker.Report
	status *pacemaker.StatusReport
}

// loadSimCIB reads a Pacemaker CIB: its configuration with the
// configuration importer, its status with ImportStatus. "Now" is --now
// if given, else the CIB's execution-date, else the current time (as
// crm_simulate does). What the configuration import left out with
// --skip-unsupported is listed on stderr.
func loadSimCIB(cmd *cobra.Command, g *globals, f *simulateFlags, nowSet, wall time.Time) (*cibImport, error) {
	data, err := readInput(cmd, f.cib)
	if err != nil {
		return nil, fmt.Errorf("simulate: --cib: %w", err)
	}
	cfg, rep, err := pacemaker.Import(bytes.NewReader(data), pacemaker.ImportOptions{SkipUnsupported: f.skipUnsupported})
	if err != nil {
		return nil, fmt.Errorf("simulate: --cib %s: %w", f.cib, err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("simulate: --cib %s: %w", f.cib, err)
	}
	st, srep, err := pacemaker.ImportStatus(data, cfg, pacemaker.StatusOptions{Now: nowSet, Fallback: wall})
	if err != nil {
		return nil, fmt.Errorf("simulate: --cib %s: %w", f.cib, err)
	}
	if err := st.Validate(cfg); err != nil {
		return nil, fmt.Errorf("simulate: --cib %s: %w", f.cib, err)
	}
	if rep != nil && len(rep.Unsupported) > 0 && !g.json() {
		fmt.Fprintf(g.stderr, "Left out of %s (not modelled by Paceline):\n", f.cib)
		for _, it := range rep.Unsupported {
			fmt.Fprintln(g.stderr, "  "+it.String())
		}
	}
	return &cibImport{cfg: cfg, st: st, config: rep, status: srep}, nil
}

// printCIBNotes writes what the status import says beyond the status:
// the time failure-timeout is judged at, orphans, approximations.
func printCIBNotes(w io.Writer, ci *cibImport) {
	r := ci.status
	switch r.NowSource {
	case "execution-date":
		fmt.Fprintf(w, "Time: %s (the CIB's execution-date)\n", r.Now.Format(time.RFC3339))
	case "option":
		fmt.Fprintf(w, "Time: %s (--now)\n", r.Now.Format(time.RFC3339))
	}
	for _, o := range r.Orphans {
		fmt.Fprintf(w, "Orphan: %s is %s on %s but not configured (Pacemaker would stop it; this plan cannot)\n", o.Rsc, o.Role, o.Node)
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "Note: "+n)
	}
}

// loadSimConfig reads and validates the --config file.
func loadSimConfig(cmd *cobra.Command, name string) (*cib.Config, error) {
	data, err := readInput(cmd, name)
	if err != nil {
		return nil, fmt.Errorf("simulate: --config: %w", err)
	}
	cfg, err := decodeConfig(data, name)
	if err != nil {
		return nil, fmt.Errorf("simulate: --config %s: %w", name, err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("simulate: --config %s: %w", name, err)
	}
	return cfg, nil
}

// loadSimStatus reads and validates the --status file, and lists every
// configured node, those the file leaves out as offline (as the scheduler
// would take them); missing names them.
func loadSimStatus(cmd *cobra.Command, name string, cfg *cib.Config) (*scheduler.Status, map[string]bool, error) {
	data, err := readInput(cmd, name)
	if err != nil {
		return nil, nil, fmt.Errorf("simulate: --status: %w", err)
	}
	st, err := scheduler.DecodeStatusYAML(data)
	if err != nil {
		return nil, nil, fmt.Errorf("simulate: --status %s: %w", name, err)
	}
	if err := st.Validate(cfg); err != nil {
		return nil, nil, fmt.Errorf("simulate: --status %s: %w", name, err)
	}
	var unknown []string
	for _, n := range st.Nodes {
		if cfg.Node(n.Name) == nil {
			unknown = append(unknown, fmt.Sprintf("nodes[%s]: not a node of the configuration (nodes: %s)", n.Name, nodeNames(cfg)))
		}
	}
	if len(unknown) > 0 {
		return nil, nil, fmt.Errorf("simulate: --status %s: %w", name, &scheduler.StatusError{Problems: unknown})
	}
	missing := map[string]bool{}
	byName := map[string]scheduler.NodeStatus{}
	for _, n := range st.Nodes {
		byName[n.Name] = n
	}
	nodes := make([]scheduler.NodeStatus, 0, len(cfg.Nodes))
	for _, cn := range cfg.Nodes {
		n, ok := byName[cn.Name]
		if !ok {
			n = scheduler.NodeStatus{Name: cn.Name, State: scheduler.NodeOffline}
			missing[cn.Name] = true
		}
		if n.State == "" {
			n.State = scheduler.NodeOnline
		}
		nodes = append(nodes, n)
	}
	st.Nodes = nodes
	return st, missing, nil
}

// defaultStatus is the status without --status: every configured node
// online and probed, nothing running, quorate.
func defaultStatus(cfg *cib.Config) *scheduler.Status {
	st := &scheduler.Status{Quorate: true}
	for _, n := range cfg.Nodes {
		st.Nodes = append(st.Nodes, scheduler.NodeStatus{Name: n.Name, State: scheduler.NodeOnline, Probed: true})
	}
	return st
}

func nodeNames(cfg *cib.Config) string {
	if len(cfg.Nodes) == 0 {
		return "none"
	}
	names := make([]string, len(cfg.Nodes))
	for i, n := range cfg.Nodes {
		names[i] = n.Name
	}
	return strings.Join(names, ", ")
}

// opFailure is one --op-fail: op Op of primitive Rsc failed on Node.
type opFailure struct {
	Flag, Rsc, Op, Node string
}

// failableOps are the ops a status records a failure of.
var failableOps = []string{"start", "stop", "monitor", "promote", "demote"}

// parseOpFail parses RSC:OP@NODE.
func parseOpFail(s string) (opFailure, error) {
	bad := func(why string) error {
		return usagef("simulate: bad --op-fail %q: %s", s, why)
	}
	left, node, ok := cutLast(s, "@")
	if !ok {
		return opFailure{}, bad("want RSC:OP@NODE, e.g. web:monitor@n1")
	}
	rsc, op, ok := cutLast(left, ":")
	if !ok {
		return opFailure{}, bad("want RSC:OP@NODE, e.g. web:monitor@n1")
	}
	switch {
	case rsc == "":
		return opFailure{}, bad("no resource before the ':'")
	case op == "":
		return opFailure{}, bad("no op between ':' and '@'")
	case node == "":
		return opFailure{}, bad("no node after the '@'")
	case !slices.Contains(failableOps, op):
		return opFailure{}, bad(fmt.Sprintf("unknown op %q (want %s)", op, strings.Join(failableOps, ", ")))
	}
	return opFailure{Flag: s, Rsc: rsc, Op: op, Node: node}, nil
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// whatIfs are the parsed what-if flags.
type whatIfs struct {
	up, down, fail []string
	ops            []opFailure
}

// parseWhatIfs checks the what-if flags' syntax and that no node is given
// two states.
func parseWhatIfs(f *simulateFlags) (*whatIfs, error) {
	w := &whatIfs{up: f.nodeUp, down: f.nodeDown, fail: f.nodeFail}
	state := map[string]string{}
	for _, l := range []struct {
		flag  string
		nodes []string
	}{{"--node-up", w.up}, {"--node-down", w.down}, {"--node-fail", w.fail}} {
		for _, n := range l.nodes {
			if n == "" {
				return nil, usagef("simulate: %s needs a node name", l.flag)
			}
			if prev, ok := state[n]; ok && prev != l.flag {
				return nil, usagef("simulate: node %s is given both %s and %s", n, prev, l.flag)
			}
			state[n] = l.flag
		}
	}
	for _, s := range f.opFail {
		op, err := parseOpFail(s)
		if err != nil {
			return nil, err
		}
		w.ops = append(w.ops, op)
	}
	return w, nil
}

// nodes lists the nodes whose state a what-if sets.
func (w *whatIfs) nodes() []string {
	return slices.Concat(w.up, w.down, w.fail)
}

// apply changes st (which lists every configured node) as the what-ifs
// say, and describes each change. Every node and resource named must be in
// cfg.
func (w *whatIfs) apply(cfg *cib.Config, st *scheduler.Status, now time.Time) ([]string, error) {
	var applied []string
	setState := func(flag, name string, state scheduler.NodeState, what string) error {
		ns := findNode(st, name)
		if cfg.Node(name) == nil || ns == nil {
			return fmt.Errorf("%s %s: no node %q in the configuration (nodes: %s)", flag, name, name, nodeNames(cfg))
		}
		ns.State = state
		if state == scheduler.NodeOffline {
			stopAll(ns)
		}
		applied = append(applied, "node "+name+" "+what)
		return nil
	}
	seen := map[string]bool{}
	for _, l := range []struct {
		flag  string
		nodes []string
		state scheduler.NodeState
		what  string
	}{
		{"--node-up", w.up, scheduler.NodeOnline, "up (online)"},
		{"--node-down", w.down, scheduler.NodeOffline, "down (offline)"},
		{"--node-fail", w.fail, scheduler.NodeUnclean, "failed (unclean)"},
	} {
		for _, n := range l.nodes {
			if seen[n] {
				continue
			}
			seen[n] = true
			if err := setState(l.flag, n, l.state, l.what); err != nil {
				return nil, err
			}
		}
	}
	for _, o := range w.ops {
		if err := o.apply(cfg, st, now); err != nil {
			return nil, err
		}
		applied = append(applied, fmt.Sprintf("%s %s failed on %s", o.Rsc, o.Op, o.Node))
	}
	return applied, nil
}

// stopAll makes an offline node's LRM state say what offline means: it
// runs nothing. Entries with a fail count stay, Stopped, for the history.
func stopAll(ns *scheduler.NodeStatus) {
	var kept []scheduler.ResourceState
	for _, r := range ns.Resources {
		if r.FailCount > 0 {
			kept = append(kept, scheduler.ResourceState{ID: r.ID, Role: cib.RoleStopped, FailCount: r.FailCount, LastFailure: r.LastFailure, FailedRC: r.FailedRC})
		}
	}
	ns.Resources = kept
}

// apply marks the op failed in st: the resource's entry on the node gets
// failed, failed-op, fail-count+1 and last-failure now; a resource without
// a running entry there gets one in the role the op implies.
func (o opFailure) apply(cfg *cib.Config, st *scheduler.Status, now time.Time) error {
	flag := "--op-fail " + o.Flag
	if cfg.Node(o.Node) == nil {
		return fmt.Errorf("%s: no node %q in the configuration (nodes: %s)", flag, o.Node, nodeNames(cfg))
	}
	ns := findNode(st, o.Node)
	if ns == nil {
		return fmt.Errorf("%s: node %s is not in the status", flag, o.Node)
	}
	if ns.State != scheduler.NodeOnline {
		return fmt.Errorf("%s: node %s is %s; an op can only fail on an online node", flag, o.Node, ns.State)
	}
	if cfg.Primitive(o.Rsc) == nil {
		return fmt.Errorf("%s: %s", flag, notPrimitive(cfg, o.Rsc))
	}
	if o.Op == "promote" || o.Op == "demote" {
		cl := cfg.CloneOf(o.Rsc)
		if cl == nil {
			if gr := cfg.GroupOf(o.Rsc); gr != nil {
				cl = cfg.CloneOf(gr.ID)
			}
		}
		if cl == nil || !cl.Promotable {
			return fmt.Errorf("%s: %s is not in a promotable clone; only those are promoted and demoted", flag, o.Rsc)
		}
	}
	// The entry: the first one that runs, else a Stopped one, else new.
	idx := -1
	for i, r := range ns.Resources {
		if r.ID != o.Rsc {
			continue
		}
		if r.Role != cib.RoleStopped {
			idx = i
			break
		}
		if idx < 0 {
			idx = i
		}
	}
	if idx < 0 {
		ns.Resources = append(ns.Resources, scheduler.ResourceState{ID: o.Rsc, Role: cib.RoleStopped})
		idx = len(ns.Resources) - 1
	}
	r := &ns.Resources[idx]
	if r.Role == cib.RoleStopped {
		// It was running (or being started) when the op failed.
		switch o.Op {
		case "promote":
			r.Role = cib.RoleUnpromoted
		case "demote":
			r.Role = cib.RolePromoted
		default:
			r.Role = ""
		}
	}
	r.Failed = true
	r.FailedOp = o.Op
	r.FailCount++
	r.LastFailure = now
	return nil
}

// notPrimitive says why id is not a primitive, naming what to give instead.
func notPrimitive(cfg *cib.Config, id string) string {
	switch cfg.ResourceKindOf(id) {
	case cib.KindGroup:
		return fmt.Sprintf("%s is a group: name one of its primitives (%s)", id, strings.Join(cfg.Group(id).Members, ", "))
	case cib.KindClone:
		cl := cfg.CloneByID(id)
		if gr := cfg.Group(cl.Rsc); gr != nil {
			return fmt.Sprintf("%s is a clone of group %s: name one of its primitives (%s)", id, gr.ID, strings.Join(gr.Members, ", "))
		}
		return fmt.Sprintf("%s is a clone: name the cloned primitive (%s)", id, cl.Rsc)
	}
	return fmt.Sprintf("no resource %q in the configuration", id)
}

func findNode(st *scheduler.Status, name string) *scheduler.NodeStatus {
	for i := range st.Nodes {
		if st.Nodes[i].Name == name {
			return &st.Nodes[i]
		}
	}
	return nil
}

// resultStatus is the status once plan has run on st, as crm_simulate
// shows it: fenced nodes are offline and run nothing; every other node
// runs what the plan places there and is probed (an unclean one keeps what
// it had). Fail counts stay (a clear-failcount action clears one). A
// failure stays only where nothing acted on it (on-fail block or ignore);
// one the plan stopped, restarted, demoted or fenced is gone: a status
// cannot say "stopped by on-fail=stop until a cleanup", so a later run may
// start it again where Pacemaker would wait for the cleanup.
func resultStatus(st *scheduler.Status, plan *scheduler.Plan) *scheduler.Status {
	type key struct{ rsc, node string }
	fenced := map[string]bool{}
	touched := map[key]bool{}
	cleared := map[key]bool{}
	for _, a := range plan.Actions {
		switch a.Op {
		case scheduler.OpFence:
			fenced[a.Node] = true
		case scheduler.OpStart, scheduler.OpStop, scheduler.OpPromote, scheduler.OpDemote:
			touched[key{a.Rsc, a.Node}] = true
		case scheduler.OpClearFailcount:
			cleared[key{a.Rsc, a.Node}] = true
		}
	}
	out := &scheduler.Status{Quorate: st.Quorate}
	for _, old := range st.Nodes {
		ns := scheduler.NodeStatus{Name: old.Name, State: old.State, Attributes: old.Attributes}
		if ns.State == "" {
			ns.State = scheduler.NodeOnline
		}
		if fenced[old.Name] {
			// Fencing reboots or powers it off: its resources, fail
			// counts and transient attributes are gone.
			ns.State, ns.Probed, ns.Attributes = scheduler.NodeOffline, true, nil
			out.Nodes = append(out.Nodes, ns)
			continue
		}
		ns.Probed = old.Probed || ns.State != scheduler.NodeUnclean
		for _, pl := range plan.Placements {
			if pl.Node != old.Name || pl.Role == cib.RoleStopped {
				continue
			}
			r := scheduler.ResourceState{ID: pl.Rsc, Role: pl.Role}
			if r.Role == cib.RoleStarted {
				r.Role = ""
			}
			ns.Resources = append(ns.Resources, r)
		}
		// Carry the failure history onto the new entries.
		carried := map[int]bool{}
		for _, e := range old.Resources {
			k := key{e.ID, old.Name}
			keepFailed := e.Failed && !touched[k]
			count, last, rc := e.FailCount, e.LastFailure, e.FailedRC
			if cleared[k] {
				count, last, rc = 0, time.Time{}, 0
			}
			if !keepFailed && count == 0 {
				continue
			}
			i := slices.IndexFunc(ns.Resources, func(r scheduler.ResourceState) bool { return r.ID == e.ID })
			for i >= 0 && carried[i] {
				j := slices.IndexFunc(ns.Resources[i+1:], func(r scheduler.ResourceState) bool { return r.ID == e.ID })
				if j < 0 {
					i = -1
				} else {
					i += 1 + j
				}
			}
			if i < 0 {
				ns.Resources = append(ns.Resources, scheduler.ResourceState{ID: e.ID, Role: cib.RoleStopped})
				i = len(ns.Resources) - 1
			}
			carried[i] = true
			r := &ns.Resources[i]
			r.FailCount, r.LastFailure, r.FailedRC = count, last, rc
			if keepFailed {
				r.Failed, r.FailedOp = true, e.FailedOp
			}
		}
		out.Nodes = append(out.Nodes, ns)
	}
	return out
}

// writeStatusFile writes st as a status file --status reads back.
func writeStatusFile(name string, st *scheduler.Status, applied []string, now time.Time) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# The status after `paceline simulate` ran its plan (at %s).\n", now.UTC().Format(time.RFC3339))
	if len(applied) > 0 {
		fmt.Fprintf(&b, "# What-ifs: %s.\n", strings.Join(applied, "; "))
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(st); err != nil {
		return fmt.Errorf("encode the status: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encode the status: %w", err)
	}
	return os.WriteFile(name, b.Bytes(), 0o644)
}

// printSimHeader writes the status the plan was made from: quorum, and
// each node's state and what its LRM reports.
func printSimHeader(w io.Writer, cfg *cib.Config, st *scheduler.Status, missing map[string]bool, applied []string) {
	if st.Quorate {
		fmt.Fprintln(w, "Quorum: yes")
	} else {
		fmt.Fprintf(w, "Quorum: no (no-quorum-policy: %s)\n", cfg.Property("no-quorum-policy"))
	}
	fmt.Fprintln(w, "Nodes:")
	if len(st.Nodes) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	type row struct{ name, state, rscs string }
	var rows []row
	nameW, stateW := 0, 0
	for _, n := range st.Nodes {
		state := string(n.State)
		if state == "" {
			state = string(scheduler.NodeOnline)
		}
		switch {
		case missing[n.Name]:
			state += " (not in the status)"
		case n.State != scheduler.NodeOffline && !n.Probed:
			state += ", not probed"
		}
		var rscs []string
		for _, r := range n.Resources {
			if n.State == scheduler.NodeOffline {
				r.Role = cib.RoleStopped // known to run nothing
			}
			if s := resourceStateString(r); s != "" {
				rscs = append(rscs, s)
			}
		}
		rows = append(rows, row{n.Name, state, strings.Join(rscs, ", ")})
		nameW, stateW = max(nameW, len(n.Name)), max(stateW, len(state))
	}
	for _, r := range rows {
		if r.rscs == "" {
			fmt.Fprintf(w, "  %-*s  %s\n", nameW, r.name, r.state)
		} else {
			fmt.Fprintf(w, "  %-*s  %-*s  %s\n", nameW, r.name, stateW, r.state, r.rscs)
		}
	}
	if len(applied) > 0 {
		fmt.Fprintln(w, "What-ifs:")
		for _, a := range applied {
			fmt.Fprintln(w, "  "+a)
		}
	}
}

// resourceStateString renders one LRM entry: "web", "db (Promoted)",
// "web (FAILED monitor, fail-count 1)", "web (Stopped, fail-count 2)"; ""
// for a plain Stopped entry.
func resourceStateString(r scheduler.ResourceState) string {
	var notes []string
	if r.Role != "" && r.Role != cib.RoleStarted {
		notes = append(notes, r.Role)
	}
	if r.Failed {
		op := r.FailedOp
		if op == "" {
			op = "monitor"
		}
		notes = append(notes, "FAILED "+op)
	}
	if r.FailCount > 0 {
		notes = append(notes, fmt.Sprintf("fail-count %d", r.FailCount))
	}
	if r.FailedRC != 0 && r.FailCount > 0 {
		notes = append(notes, fmt.Sprintf("rc %d (%s)", r.FailedRC, ocf.RCName(r.FailedRC)))
	}
	if r.Role == cib.RoleStopped && len(notes) == 1 {
		return ""
	}
	if len(notes) == 0 {
		return r.ID
	}
	return r.ID + " (" + strings.Join(notes, ", ") + ")"
}
