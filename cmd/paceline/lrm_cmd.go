package main

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/lrm"
)

// newResourceHistoryCmd shows a node's op history of a resource.
func newResourceHistoryCmd(g *globals) *cobra.Command {
	var node string
	c := leaf(g, "history [RSC] [--node N]", "Show the operations a node ran on a resource: results, times, failures, fail counts",
		func(cmd *cobra.Command, args []string) error {
			if err := wantArgs(args, 0, 1, "[RSC]"); err != nil {
				return err
			}
			rsc := ""
			if len(args) == 1 {
				rsc = args[0]
			}
			rep, err := g.client().History(cmd.Context(), rsc, node)
			if err != nil {
				return agentError(err)
			}
			if g.json() {
				return printJSON(g.stdout, rep)
			}
			if len(rep.Resources) == 0 {
				if rsc == "" {
					fmt.Fprintf(g.stdout, "%s has run no operations\n", rep.Node)
				} else {
					fmt.Fprintf(g.stdout, "%s has run no operations of %s\n", rep.Node, rsc)
				}
				return nil
			}
			for i, h := range rep.Resources {
				if i > 0 {
					fmt.Fprintln(g.stdout)
				}
				printHistory(g, rep.Node, h)
			}
			return nil
		})
	c.Flags().StringVar(&node, "node", "", "the node whose history to show (default: this node)")
	return c
}

func printHistory(g *globals, node string, h lrm.History) {
	w := g.stdout
	fmt.Fprintf(w, "%s (%s) on %s\n", h.Rsc, h.Agent, node)
	if h.Last != nil {
		fmt.Fprintf(w, "  last: %s\n", opLine(*h.Last))
	}
	for _, m := range h.Monitors {
		fmt.Fprintf(w, "  monitor every %v: %s\n", m.Interval, opLine(m))
	}
	for _, r := range h.Recurring {
		fmt.Fprintf(w, "  recurring: monitor every %v, expecting %s\n", r.Interval, ocf.RCName(r.Expect))
	}
	if n := h.FailCount(); n > 0 {
		fmt.Fprintf(w, "  fail count: %d (%s)\n", n, formatMap(h.FailCounts))
	}
	if h.LastFailure != nil {
		fmt.Fprintf(w, "  last failure: %s\n", opLine(*h.LastFailure))
		if out := strings.TrimSpace(h.LastFailure.Output); out != "" {
			fmt.Fprintf(w, "    output: %s\n", strings.ReplaceAll(lastLines(out, 5), "\n", "\n            "))
		}
	}
	fmt.Fprintln(w, "  recent operations:")
	t := newTable(w)
	fmt.Fprintln(t, "    CALL\tTIME\tOP\tRC\tSTATUS\tEXEC\tQUEUE\tREASON")
	for _, o := range h.Recent {
		opName := o.Action
		if o.Interval > 0 {
			opName += " " + o.Interval.String()
		}
		fmt.Fprintf(t, "    %d\t%s\t%s\t%d %s\t%s\t%.1fms\t%.1fms\t%s\n", o.CallID, o.Started.Local().Format("15:04:05.000"),
			opName, o.RC, o.RCName, o.Status, o.ExecMS, o.QueueMS, o.Reason)
	}
	t.Flush()
}

// opLine is one operation in a line.
func opLine(o lrm.Op) string {
	s := fmt.Sprintf("%s rc=%d (%s) %s at %s, %.1f ms", o.Action, o.RC, o.RCName, o.Status, o.Started.Local().Format(time.DateTime), o.ExecMS)
	if o.Reason != "" {
		s += ": " + o.Reason
	}
	return s
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// resourceExec is `paceline resource op RSC ACTION`: one action run by
// hand on a node (as crm_resource --force-start), recorded in its history.
// The exit status is the agent's return code.
func resourceExec(g *globals, cmd *cobra.Command, args []string) error {
	interval, _ := cmd.Flags().GetString("interval")
	node, _ := cmd.Flags().GetString("node")
	op, err := g.client().Exec(cmd.Context(), api.ExecRequest{Rsc: args[0], Action: args[1], Interval: interval, Node: node})
	if err != nil {
		return agentError(err)
	}
	if g.json() {
		if err := printJSON(g.stdout, op); err != nil {
			return err
		}
	} else {
		where := node
		if where == "" {
			where = "this node"
		}
		fmt.Fprintf(g.stdout, "%s of %s on %s: rc=%d (%s), %s, %.1f ms\n", op.Action, op.Rsc, where, op.RC, op.RCName, op.Status, op.ExecMS)
		if op.Reason != "" {
			fmt.Fprintf(g.stdout, "  %s\n", op.Reason)
		}
		if out := strings.TrimSpace(op.Output); out != "" && op.Action != ocf.MetaData {
			fmt.Fprintf(g.stdout, "  output:\n    %s\n", strings.ReplaceAll(lastLines(out, 20), "\n", "\n    "))
		} else if op.Action == ocf.MetaData {
			fmt.Fprintln(g.stdout, op.Output)
		}
		fmt.Fprintln(g.stderr, "note: run by hand; the cluster does not plan around it (as crm_resource --force-*)")
	}
	if op.RC != 0 {
		return exitCode(op.RC)
	}
	return nil
}

// promotable says whether a primitive is cloned by a promotable clone
// (directly or through its group).
func promotable(cfg *cib.Config, id string) bool {
	cl := cfg.CloneOf(id)
	if cl == nil {
		if g := cfg.GroupOf(id); g != nil {
			cl = cfg.CloneOf(g.ID)
		}
	}
	return cl != nil && cl.Promotable
}

// printResourceStatus writes what runs where, crm_mon-style: each
// resource with its node(s) and role, then failed actions.
func printResourceStatus(g *globals, cfg *cib.Config, rs *api.ResourcesReply) {
	w := g.stdout
	where := map[string][]string{}
	for _, n := range rs.Nodes {
		for _, r := range n.Resources {
			if r.Role == cib.RoleStopped && !r.Failed {
				continue
			}
			role := cmp.Or(r.Role, cib.RoleStarted)
			if role == cib.RoleStarted && promotable(cfg, r.ID) {
				role = cib.RoleUnpromoted // as crm_mon: a promotable clone's instance that is not promoted
			}
			s := role + " " + n.Name
			if r.Failed {
				s = "FAILED " + n.Name + " (" + cmp.Or(r.FailedOp, ocf.Monitor) + ")"
			}
			if n.State != "online" {
				s += " (" + n.State + ")"
			}
			where[r.ID] = append(where[r.ID], s)
		}
	}
	fmt.Fprintf(w, "DC: %s\n", cmp.Or(rs.DC, "none"))
	fmt.Fprintln(w, "Resources:")
	if len(cfg.Primitives) == 0 {
		fmt.Fprintln(w, "  (none configured)")
	}
	var buf strings.Builder
	printResourceTreeWith(&buf, cfg, func(id string) string {
		if on := where[id]; len(on) > 0 {
			return strings.Join(on, ", ")
		}
		return "Stopped"
	})
	for _, line := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		if line != "" {
			fmt.Fprintln(w, "  "+line)
		}
	}
	if len(rs.Unreachable) > 0 {
		fmt.Fprintf(w, "Unreachable (state unknown): %s\n", strings.Join(rs.Unreachable, ", "))
	}
	if len(rs.Failures) > 0 {
		fmt.Fprintln(w, "Failed resource actions:")
		for _, f := range rs.Failures {
			o := f.Op
			name := o.Action
			if o.Interval > 0 {
				name += " " + o.Interval.String()
			}
			fmt.Fprintf(w, "  * %s %s on %s: %s (rc %d, %s) at %s, fail count %d\n", o.Rsc, name, f.Node, o.RCName, o.RC, o.Status,
				o.Started.Local().Format(time.DateTime), f.FailCount)
		}
	}
}

// Operator commands on a running cluster (pcs resource move/ban/clear/
// enable/disable/cleanup). Each is one configuration change (or, for
// cleanup, a message to the nodes), so nothing is half-applied.
func newResourceOperatorCmds(g *globals) []*cobra.Command {
	cli := func(use, short string, build func(args []string) (*cib.CLIConstraints, error)) *cobra.Command {
		return changeCmd(g, use, short, build)
	}
	var movePromoted, banPromoted bool
	move := cli("move RSC NODE", "Move a resource to NODE (constraint cli-prefer-RSC, INFINITY; `resource clear` lifts it); --promoted moves a promotable clone's promoted role",
		func(args []string) (*cib.CLIConstraints, error) {
			if len(args) != 2 {
				return nil, fmt.Errorf("resource move: want RSC NODE, got %d argument(s)", len(args))
			}
			return &cib.CLIConstraints{Rsc: args[0], Move: args[1], Promoted: movePromoted}, nil
		})
	move.Flags().BoolVar(&movePromoted, "promoted", false, "move the promoted role of a promotable clone (RSC is the clone), as pcs resource move --promoted")
	ban := cli("ban RSC NODE", "Keep a resource off NODE (constraint cli-ban-RSC-on-NODE, -INFINITY); --promoted keeps a promotable clone's promoted role off it",
		func(args []string) (*cib.CLIConstraints, error) {
			if len(args) != 2 {
				return nil, fmt.Errorf("resource ban: want RSC NODE, got %d argument(s)", len(args))
			}
			return &cib.CLIConstraints{Rsc: args[0], Ban: args[1], Promoted: banPromoted}, nil
		})
	ban.Flags().BoolVar(&banPromoted, "promoted", false, "ban the promoted role of a promotable clone (RSC is the clone)")
	clear := cli("clear RSC", "Remove the constraints `resource move` and `resource ban` made for a resource",
		func(args []string) (*cib.CLIConstraints, error) {
			if len(args) != 1 {
				return nil, fmt.Errorf("resource clear: want RSC, got %d argument(s)", len(args))
			}
			return &cib.CLIConstraints{Rsc: args[0], Clear: true}, nil
		})
	role := func(use, short string, patch cib.Patch) *cobra.Command {
		return changeCmd(g, use, short, func(args []string) (*cib.UpdateResource, error) {
			if len(args) != 1 {
				return nil, fmt.Errorf("want RSC, got %d argument(s)", len(args))
			}
			return &cib.UpdateResource{ID: args[0], Meta: patch}, nil
		})
	}
	enable := role("enable RSC", "Let a resource run (removes target-role=Stopped)", cib.Patch{Unset: []string{"target-role"}})
	disable := role("disable RSC", "Stop a resource and keep it stopped (target-role=Stopped)", cib.Patch{Set: map[string]string{"target-role": "Stopped"}})
	var node string
	cleanup := leaf(g, "cleanup RSC [--node N]", "Forget a resource's failures and fail counts (on every node, or N); the DC plans again",
		func(cmd *cobra.Command, args []string) error {
			if err := wantArgs(args, 1, 1, "RSC"); err != nil {
				return err
			}
			rep, err := g.client().Cleanup(cmd.Context(), api.CleanupRequest{Rsc: args[0], Node: node})
			if err != nil {
				return agentError(err)
			}
			if g.json() {
				return printJSON(g.stdout, rep)
			}
			fmt.Fprintf(g.stdout, "Cleaned up %s on %s\n", args[0], strings.Join(rep.Cleaned, ", "))
			if len(rep.Errors) > 0 {
				for _, n := range slices.Sorted(maps.Keys(rep.Errors)) {
					fmt.Fprintf(g.stderr, "  %s: %s\n", n, rep.Errors[n])
				}
				return fmt.Errorf("%d node(s) could not be reached", len(rep.Errors))
			}
			return nil
		})
	cleanup.Flags().StringVar(&node, "node", "", "only on this node")
	return []*cobra.Command{move, ban, clear, enable, disable, cleanup, newResourceExplainCmd(g), newResourceRestartCmd(g)}
}

// newResourceExplainCmd is `paceline resource explain RSC`: the live
// scores, and why the resource runs where it runs, or why not.
func newResourceExplainCmd(g *globals) *cobra.Command {
	return leaf(g, "explain RSC", "Why a resource runs where it runs, or why not: every node's live score and what made it",
		func(cmd *cobra.Command, args []string) error {
			if err := wantArgs(args, 1, 1, "RSC"); err != nil {
				return err
			}
			rep, err := g.client().Explain(cmd.Context(), args[0])
			if err != nil {
				return agentError(err)
			}
			if g.json() {
				return printJSON(g.stdout, rep)
			}
			w := g.stdout
			fmt.Fprintf(w, "%s (configuration epoch %d), scheduled now from every node's state:\n", rep.Rsc, rep.Epoch)
			for _, p := range rep.Placements {
				where := p.Role + " on " + p.Node
				if p.Node == "" {
					where = "Stopped"
				}
				line := fmt.Sprintf("  %s: %s", p.Name(), where)
				if p.Reason != "" {
					line += " (" + p.Reason + ")"
				}
				fmt.Fprintln(w, line)
			}
			for _, e := range rep.Explanations {
				fmt.Fprintf(w, "%s: %s\n", e.Rsc, e.Result)
				for _, n := range e.Nodes {
					fmt.Fprintf(w, "  %-12s %s\n", n.Node, n.Score)
					for _, c := range n.Contributions {
						fmt.Fprintf(w, "    %+8s  %s\n", c.Score.String(), c.Source)
					}
				}
			}
			if len(rep.Actions) > 0 {
				fmt.Fprintln(w, "The DC would still do:")
				for _, a := range rep.Actions {
					fmt.Fprintln(w, "  "+a)
				}
			}
			return nil
		})
}

// newResourceRestartCmd is `paceline resource restart RSC`, as pcs does
// it: disable (target-role=Stopped), wait until no node runs it, enable.
// If the wait fails the resource is left disabled, and the message says
// so (enable it by hand).
func newResourceRestartCmd(g *globals) *cobra.Command {
	var timeout time.Duration
	c := leaf(g, "restart RSC [--timeout D]", "Stop a resource everywhere, wait for it, and let it start again",
		func(cmd *cobra.Command, args []string) error {
			if err := wantArgs(args, 1, 1, "RSC"); err != nil {
				return err
			}
			rsc := args[0]
			cfg, err := readConfig(cmd, g)
			if err != nil {
				return err
			}
			if cfg.ResourceKindOf(rsc) == "" {
				return fmt.Errorf("unknown resource %q", rsc)
			}
			if cfg.CloneOf(rsc) == nil && cfg.Primitive(rsc) != nil && cfg.GroupOf(rsc) != nil {
				return fmt.Errorf("%s is a member of group %s: restart the group", rsc, cfg.GroupOf(rsc).ID)
			}
			prims := map[string]bool{}
			for _, p := range cfg.PrimitivesOf(rsc) {
				prims[p] = true
			}
			if _, err := apply(cmd, g, &cib.UpdateResource{ID: rsc, Meta: cib.Patch{Set: map[string]string{"target-role": "Stopped"}}}, false); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "%s disabled; waiting for it to stop\n", rsc)
			deadline := time.Now().Add(timeout)
			for {
				rs, err := g.client().Resources(cmd.Context())
				if err == nil && !runsAnywhere(rs, prims) {
					break
				}
				if time.Now().After(deadline) || cmd.Context().Err() != nil {
					return fmt.Errorf("%s did not stop within %v; it is left disabled (target-role=Stopped): `paceline resource enable %s` lets it run", rsc, timeout, rsc)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if _, err := apply(cmd, g, &cib.UpdateResource{ID: rsc, Meta: cib.Patch{Unset: []string{"target-role"}}}, false); err != nil {
				return fmt.Errorf("%s stopped but could not be enabled again (%w): `paceline resource enable %s`", rsc, err, rsc)
			}
			fmt.Fprintf(g.stdout, "%s stopped and enabled again\n", rsc)
			return nil
		})
	c.Flags().DurationVar(&timeout, "timeout", time.Minute, "how long to wait for it to stop")
	return c
}

// runsAnywhere reports whether any of the primitives runs (or may run:
// failed) on any node.
func runsAnywhere(rs *api.ResourcesReply, prims map[string]bool) bool {
	for _, n := range rs.Nodes {
		for _, r := range n.Resources {
			if prims[r.ID] && (r.Role != cib.RoleStopped || r.Failed) {
				return true
			}
		}
	}
	return len(rs.Unreachable) > 0
}
