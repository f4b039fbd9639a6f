package main

// Output: aligned text for people, and -o json for programs (the api/cib
// structures themselves, indented).

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
)

// printJSON writes v as indented JSON with a final newline.
func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// formatMap renders a map as "k=v k2=v2", sorted by key; values with
// spaces are quoted.
func formatMap[V any](m map[string]V) string {
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		v := fmt.Sprint(m[k])
		if v == "" || strings.ContainsAny(v, " \t\"'") {
			v = strconv.Quote(v)
		}
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, " ")
}

// newTable returns a tabwriter that aligns columns two spaces apart.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// printResult reports an applied command: JSON, or the agent's notes (one
// a line) for people; dry runs say so.
func printResult(g *globals, res *api.CommandResult) error {
	if g.json() {
		return printJSON(g.stdout, res)
	}
	for _, n := range res.Notes {
		fmt.Fprintln(g.stdout, "Note:", n)
	}
	if res.DryRun {
		fmt.Fprintf(g.stdout, "Dry run: the change is valid at epoch %d; nothing was applied\n", res.Epoch)
	}
	return nil
}

// mergeResults folds the results of commands sent in sequence into one: the
// last epoch and every note.
func mergeResults(rs ...*api.CommandResult) *api.CommandResult {
	out := &api.CommandResult{}
	for _, r := range rs {
		if r == nil {
			continue
		}
		out.Epoch, out.Index, out.DryRun = r.Epoch, r.Index, r.DryRun
		out.Notes = append(out.Notes, r.Notes...)
	}
	return out
}

// opString renders an op as pcs does: "monitor interval=5s timeout=20s".
func opString(o cib.Op) string {
	parts := []string{o.Name}
	if !o.Interval.IsZero() {
		parts = append(parts, "interval="+o.Interval.String())
	}
	if !o.Timeout.IsZero() {
		parts = append(parts, "timeout="+o.Timeout.String())
	}
	if o.Role != "" {
		parts = append(parts, "role="+o.Role)
	}
	if o.OnFail != "" {
		parts = append(parts, "on-fail="+o.OnFail)
	}
	if o.CheckLevel > 0 {
		parts = append(parts, fmt.Sprintf("OCF_CHECK_LEVEL=%d", o.CheckLevel))
	}
	return strings.Join(parts, " ")
}

// agentParts renders an agent as pcs does: "class=ocf provider=heartbeat
// type=IPaddr2".
func agentParts(agent string) string {
	a, err := cib.ParseAgent(agent)
	if err != nil {
		return "agent=" + agent
	}
	if a.Provider != "" {
		return fmt.Sprintf("class=%s provider=%s type=%s", a.Class, a.Provider, a.Type)
	}
	return fmt.Sprintf("class=%s type=%s", a.Class, a.Type)
}

// indentWriter prefixes every line written through it.
type indentWriter struct {
	w      io.Writer
	prefix string
}

func (iw indentWriter) line(format string, a ...any) {
	fmt.Fprintf(iw.w, iw.prefix+format+"\n", a...)
}

func (iw indentWriter) in() indentWriter {
	return indentWriter{iw.w, iw.prefix + "  "}
}

// printResource writes a primitive, group or clone in the style of
// `pcs resource config`, members nested.
func printResource(iw indentWriter, cfg *cib.Config, id string) {
	switch cfg.ResourceKindOf(id) {
	case cib.KindPrimitive:
		p := cfg.Primitive(id)
		iw.line("Resource: %s (%s)", p.ID, agentParts(p.Agent))
		in := iw.in()
		if len(p.Params) > 0 {
			in.line("Attributes: %s", formatMap(p.Params))
		}
		if len(p.Meta) > 0 {
			in.line("Meta Attrs: %s", formatMap(p.Meta))
		}
		if len(p.Utilization) > 0 {
			in.line("Utilization: %s", formatMap(p.Utilization))
		}
		if len(p.Ops) > 0 {
			in.line("Operations:")
			for _, o := range p.Ops {
				in.in().line("%s", opString(o))
			}
		}
	case cib.KindGroup:
		gr := cfg.Group(id)
		iw.line("Group: %s", gr.ID)
		in := iw.in()
		if len(gr.Meta) > 0 {
			in.line("Meta Attrs: %s", formatMap(gr.Meta))
		}
		for _, m := range gr.Members {
			printResource(in, cfg, m)
		}
	case cib.KindClone:
		cl := cfg.CloneByID(id)
		kind := "Clone"
		if cl.Promotable {
			kind = "Clone (promotable)"
		}
		iw.line("%s: %s", kind, cl.ID)
		in := iw.in()
		if len(cl.Meta) > 0 {
			in.line("Meta Attrs: %s", formatMap(cl.Meta))
		}
		printResource(in, cfg, cl.Rsc)
	default:
		iw.line("Resource: %s (missing)", id)
	}
}

// topResources lists the resources not inside a group or clone, sorted.
func topResources(cfg *cib.Config) []string {
	var ids []string
	for _, p := range cfg.Primitives {
		if cfg.GroupOf(p.ID) == nil && cfg.CloneOf(p.ID) == nil {
			ids = append(ids, p.ID)
		}
	}
	for _, g := range cfg.Groups {
		if cfg.CloneOf(g.ID) == nil {
			ids = append(ids, g.ID)
		}
	}
	for _, c := range cfg.Clones {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	return ids
}

// stateNote summarizes a resource's target-role and is-managed meta.
func stateNote(meta map[string]string) string {
	var parts []string
	switch r := meta["target-role"]; r {
	case "":
	case "Stopped":
		parts = append(parts, "disabled")
	default:
		parts = append(parts, "target-role="+r)
	}
	if meta["is-managed"] == "false" {
		parts = append(parts, "unmanaged")
	}
	if len(parts) == 0 {
		return ""
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// printResourceTree writes the resources as a tree, like `pcs status
// resources` but from the configuration: agent and target-role. Primitive
// lines are aligned on their agent column.
func printResourceTree(w io.Writer, cfg *cib.Config) { printResourceTreeWith(w, cfg, nil) }

// printResourceTreeWith is printResourceTree with, when state is given,
// each primitive's runtime state after its agent (`paceline status`).
func printResourceTreeWith(w io.Writer, cfg *cib.Config, state func(id string) string) {
	type line struct{ head, agent, note string }
	var lines []line
	var walk func(id, indent string)
	walk = func(id, indent string) {
		switch cfg.ResourceKindOf(id) {
		case cib.KindPrimitive:
			p := cfg.Primitive(id)
			note := stateNote(p.Meta)
			if state != nil {
				note = strings.TrimSpace(state(p.ID) + " " + note)
			}
			lines = append(lines, line{indent + "* " + p.ID, "(" + p.Agent + ")", note})
		case cib.KindGroup:
			gr := cfg.Group(id)
			lines = append(lines, line{head: indent + "* Resource Group: " + gr.ID, note: stateNote(gr.Meta)})
			for _, m := range gr.Members {
				walk(m, indent+"  ")
			}
		case cib.KindClone:
			cl := cfg.CloneByID(id)
			set := "Clone Set"
			if cl.Promotable {
				set = "Clone Set (promotable)"
			}
			lines = append(lines, line{head: fmt.Sprintf("%s* %s: %s [%s]", indent, set, cl.ID, cl.Rsc), note: stateNote(cl.Meta)})
			walk(cl.Rsc, indent+"  ")
		}
	}
	for _, id := range topResources(cfg) {
		walk(id, "")
	}
	width := 0
	for _, l := range lines {
		if l.agent != "" {
			width = max(width, len(l.head))
		}
	}
	for _, l := range lines {
		s := l.head
		if l.agent != "" {
			s = fmt.Sprintf("%-*s  %s", width, l.head, l.agent)
		}
		if l.note != "" {
			s += " " + l.note
		}
		fmt.Fprintln(w, s)
	}
}

// printConstraints renders constraints grouped by kind, like `pcs
// constraint`; every kind asked for gets its heading.
func printConstraints(w io.Writer, cs cib.Constraints, kinds []string) {
	for _, kind := range kinds {
		switch kind {
		case "location":
			fmt.Fprintln(w, "Location Constraints:")
			for _, l := range cs.Location {
				fmt.Fprintf(w, "  %s\n", locationString(l))
			}
		case "colocation":
			fmt.Fprintln(w, "Colocation Constraints:")
			for _, c := range cs.Colocation {
				fmt.Fprintf(w, "  %s\n", colocationString(c))
			}
		case "order":
			fmt.Fprintln(w, "Order Constraints:")
			for _, o := range cs.Order {
				fmt.Fprintf(w, "  %s\n", orderString(o))
			}
		}
	}
}

func roleWord(r string) string {
	if r == "" {
		return ""
	}
	return r + " "
}

func locationString(l cib.Location) string {
	rsc := fmt.Sprintf("%sresource '%s'", roleWord(l.Role), l.Rsc)
	if l.Rule != "" {
		score := "score " + l.Score.String()
		if l.ScoreAttribute != "" {
			score = "score from attribute '" + l.ScoreAttribute + "'"
		}
		return fmt.Sprintf("%s: rule with %s: %s (id: %s)", rsc, score, l.Rule, l.ID)
	}
	verb := "prefers"
	if l.Score < 0 {
		verb = "avoids"
	}
	return fmt.Sprintf("%s %s node '%s' with score %s (id: %s)", rsc, verb, l.Node, l.Score, l.ID)
}

func colocationString(c cib.Colocation) string {
	return fmt.Sprintf("%sresource '%s' with %sresource '%s' with score %s (id: %s)",
		roleWord(c.RscRole), c.Rsc, roleWord(c.WithRscRole), c.WithRsc, c.Score, c.ID)
}

func orderString(o cib.Order) string {
	opts := []string{"kind: " + o.Kind}
	if !o.Symmetrical {
		opts = append(opts, "not symmetrical")
	}
	return fmt.Sprintf("%s resource '%s' then %s resource '%s' (%s) (id: %s)",
		o.FirstAction, o.First, o.ThenAction, o.Then, strings.Join(opts, ", "), o.ID)
}

// constraintByID finds a constraint of any kind and renders it.
func constraintByID(cfg *cib.Config, id string) (kind, text string) {
	for _, l := range cfg.Constraints.Location {
		if l.ID == id {
			return "location", locationString(l)
		}
	}
	for _, c := range cfg.Constraints.Colocation {
		if c.ID == id {
			return "colocation", colocationString(c)
		}
	}
	for _, o := range cfg.Constraints.Order {
		if o.ID == id {
			return "order", orderString(o)
		}
	}
	return "", ""
}
