package main

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/fencing"
)

// addConfigCommands registers the configuration verbs: resource, constraint,
// property, node, config, status.
func addConfigCommands(root *cobra.Command, g *globals) {
	// A flag cobra cannot parse is a usage error (exit 2), like a bad word.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newResourceCmd(g),
		newConstraintCmd(g),
		newPropertyCmd(g),
		newNodeCmd(g),
		newConfigCmd(g),
		newStatusCmd(g),
		newStonithCmd(g),
		newQuorumCmd(g),
	)
}

// runFunc runs a command on its positional words, flags already parsed.
type runFunc func(cmd *cobra.Command, args []string) error

// negativeWord matches arguments that look like flags but are values:
// negative scores such as -INFINITY or -100.
var negativeWord = regexp.MustCompile(`^-(\d+|(?i:inf|infinity))$`)

// leaf builds a command that parses its own flags (see splitFlags), so that
// pcs-style words such as -INFINITY stay arguments while flags may still
// come anywhere: "resource create ... op monitor interval=5s --group web".
func leaf(g *globals, use, short string, run runFunc) *cobra.Command {
	return &cobra.Command{
		Use:                use,
		Short:              short,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, raw []string) error {
			args, err := splitFlags(cmd, raw)
			if err != nil {
				return usageError{err}
			}
			if help, _ := cmd.Flags().GetBool("help"); help {
				return cmd.Help()
			}
			if g.output != "text" && g.output != "json" {
				return usagef("bad --output %q: want text or json", g.output)
			}
			return run(cmd, args)
		},
	}
}

// splitFlags separates flags from words and parses the flags with the
// command's flag set (its own and inherited ones). Negative numbers and
// -INFINITY are words, and "--" ends the flags.
func splitFlags(cmd *cobra.Command, raw []string) ([]string, error) {
	cmd.InheritedFlags() // merges the persistent flags into cmd.Flags()
	fs := cmd.Flags()
	var flags, words []string
	for i := 0; i < len(raw); i++ {
		a := raw[i]
		switch {
		case a == "--":
			words = append(words, raw[i+1:]...)
			i = len(raw)
		case len(a) < 2 || a[0] != '-' || negativeWord.MatchString(a):
			words = append(words, a)
		default:
			flags = append(flags, a)
			takesValue := false
			if name, ok := strings.CutPrefix(a, "--"); ok {
				if !strings.Contains(name, "=") {
					f := fs.Lookup(name)
					takesValue = f != nil && f.NoOptDefVal == ""
				}
			} else if len(a) == 2 {
				f := fs.ShorthandLookup(a[1:])
				takesValue = f != nil && f.NoOptDefVal == ""
			}
			if takesValue && i+1 < len(raw) {
				flags = append(flags, raw[i+1])
				i++
			}
		}
	}
	if err := fs.Parse(flags); err != nil {
		return nil, err
	}
	return words, nil
}

// parent builds a command that only holds subcommands; with no arguments
// it runs dflt (e.g. "paceline resource" lists resources), if given.
func parent(g *globals, use, short string, dflt runFunc, subs ...*cobra.Command) *cobra.Command {
	c := leaf(g, use, short, func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 && dflt != nil {
			return dflt(cmd, args)
		}
		return unknownSub(cmd, args)
	})
	c.AddCommand(subs...)
	return c
}

// unknownSub is the usage error for a missing or unknown subcommand.
func unknownSub(cmd *cobra.Command, args []string) error {
	var names []string
	for _, s := range cmd.Commands() {
		if s.IsAvailableCommand() {
			names = append(names, s.Name())
		}
	}
	if len(args) == 0 {
		return usagef("%s: give a subcommand: %s", cmd.CommandPath(), strings.Join(names, ", "))
	}
	return usagef("%s: unknown subcommand %q: want %s", cmd.CommandPath(), args[0], strings.Join(names, ", "))
}

// wantArgs checks the number of words: between lo and hi (hi < 0: any).
func wantArgs(args []string, lo, hi int, form string) error {
	if len(args) < lo || (hi >= 0 && len(args) > hi) {
		return usagef("want %s, got %d argument(s)", form, len(args))
	}
	return nil
}

// agentError explains a failure to reach the agent.
func agentError(err error) error {
	if errors.Is(err, api.ErrNoAgent) {
		return fmt.Errorf("%w (is `paceline agent` running? the socket is set by --socket or PACELINE_SOCKET)", err)
	}
	return err
}

// apply sends one command to the agent.
func apply(cmd *cobra.Command, g *globals, c cib.Command, dryRun bool) (*api.CommandResult, error) {
	res, err := g.client().Apply(cmd.Context(), c, dryRun)
	if err != nil {
		return nil, agentError(err)
	}
	return res, nil
}

// applyAndPrint sends one command and reports its result.
func applyAndPrint(cmd *cobra.Command, g *globals, c cib.Command, dryRun bool) error {
	res, err := apply(cmd, g, c, dryRun)
	if err != nil {
		return err
	}
	return printResult(g, res)
}

// readConfig reads the agent's configuration.
func readConfig(cmd *cobra.Command, g *globals) (*cib.Config, error) {
	cfg, err := g.client().Config(cmd.Context())
	if err != nil {
		return nil, agentError(err)
	}
	return cfg, nil
}

// takenIDs reports whether an id is used by any object of cfg: resources,
// constraints and fence devices share one id space.
func takenIDs(cfg *cib.Config) func(string) bool {
	ids := map[string]bool{}
	for _, p := range cfg.Primitives {
		ids[p.ID] = true
	}
	for _, gr := range cfg.Groups {
		ids[gr.ID] = true
	}
	for _, c := range cfg.Clones {
		ids[c.ID] = true
	}
	for _, l := range cfg.Constraints.Location {
		ids[l.ID] = true
	}
	for _, c := range cfg.Constraints.Colocation {
		ids[c.ID] = true
	}
	for _, o := range cfg.Constraints.Order {
		ids[o.ID] = true
	}
	for _, f := range cfg.FenceDevices {
		ids[f.ID] = true
	}
	return func(id string) bool { return ids[id] }
}

// dryRunFlag adds --dry-run to a command that changes the configuration.
// changeCmd is a leaf command that parses its words into one change and
// applies it (with --dry-run, only checks it).
func changeCmd[C cib.Command](g *globals, use, short string, parse func([]string) (C, error)) *cobra.Command {
	var dry bool
	c := leaf(g, use, short, func(cmd *cobra.Command, args []string) error {
		u, err := parse(args)
		if err != nil {
			return usageError{err}
		}
		return applyAndPrint(cmd, g, u, dry)
	})
	return dryRunFlag(c, &dry)
}

func dryRunFlag(c *cobra.Command, dry *bool) *cobra.Command {
	c.Flags().BoolVar(dry, "dry-run", false, "only check the change with the agent; apply nothing")
	return c
}

// newStatusCmd is `paceline status`: this node, raft and configuration
// counts. (It grows into crm_mon later.)
func newStatusCmd(g *globals) *cobra.Command {
	var attrs, watch bool
	var every time.Duration
	c := leaf(g, "status", "Show the cluster's state: nodes, quorum, DC, raft, and each resource with its node(s), role and failures",
		func(cmd *cobra.Command, args []string) error {
			if err := wantArgs(args, 0, 0, "no arguments"); err != nil {
				return err
			}
			if !watch {
				return showStatus(cmd, g, attrs)
			}
			if every < 100*time.Millisecond {
				return usagef("--interval %v: want at least 100ms", every)
			}
			// Refresh in place until interrupted (crm_mon's default mode).
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				if !g.json() {
					fmt.Fprint(g.stdout, "\033[H\033[2J")
				}
				if err := showStatus(cmd, g, attrs); err != nil {
					fmt.Fprintln(g.stdout, "Error:", err)
				}
				if !g.json() {
					fmt.Fprintf(g.stdout, "\n(every %v; Ctrl-C ends)\n", every)
				}
				select {
				case <-cmd.Context().Done():
					return nil
				case <-t.C:
				}
			}
		})
	c.Flags().BoolVar(&attrs, "attrs", false, "also show transient node attributes")
	c.Flags().BoolVarP(&watch, "watch", "w", false, "refresh in place until interrupted")
	c.Flags().DurationVar(&every, "interval", time.Second, "with --watch: how often")
	return c
}

// showStatus prints the status once.
func showStatus(cmd *cobra.Command, g *globals, attrs bool) error {
	ci, err := g.client().Cluster(cmd.Context())
	if err != nil {
		return agentError(err)
	}
	cfg, err := readConfig(cmd, g)
	if err != nil {
		return err
	}
	st := statusView{Cluster: ci, Counts: countConfig(cfg), attrs: attrs}
	var ae *api.Error
	if st.Members, err = g.client().Members(cmd.Context()); errors.As(err, &ae) && ae.Status == 404 {
		err = nil // membership off on this node
	}
	if err != nil {
		return agentError(err)
	}
	if rs, err := g.client().Resources(cmd.Context()); err == nil {
		st.Resources = rs
	}
	if ops, err := g.client().FenceHistory(cmd.Context()); err == nil {
		st.Fencing = unsettledFencing(ops)
	}
	if g.json() {
		if !attrs && st.Members != nil {
			st.Members.Attrs = nil
		}
		return printJSON(g.stdout, st)
	}
	printStatus(g, st)
	if st.Resources != nil {
		printResourceStatus(g, cfg, st.Resources)
	}
	if len(st.Fencing) > 0 {
		fmt.Fprintln(g.stdout, "Fencing (failed or pending, not yet followed by a success):")
		for _, op := range st.Fencing {
			fmt.Fprintln(g.stdout, "  * "+describeFence(op))
		}
	}
	return nil
}

// unsettledFencing keeps, per target, the fencing operations after its
// last success that failed or are under way (crm_mon's "Failed Fencing
// Actions" and "Pending Fencing Actions").
func unsettledFencing(ops []fencing.Op) []fencing.Op {
	lastOK := map[string]time.Time{}
	for _, op := range ops {
		if op.State == fencing.Done && op.Started.After(lastOK[op.Target]) {
			lastOK[op.Target] = op.Started
		}
	}
	var out []fencing.Op
	for _, op := range ops {
		if op.State != fencing.Done && op.Started.After(lastOK[op.Target]) {
			out = append(out, op)
		}
	}
	return out
}

// statusView is the JSON of `paceline status`.
type statusView struct {
	Cluster *api.ClusterInfo `json:"cluster"`
	Members *api.Members     `json:"members,omitempty"` // nil without gossip
	Counts  configCounts     `json:"counts"`
	// Resources is what runs where, gathered from the nodes' histories.
	Resources *api.ResourcesReply `json:"resources,omitempty"`
	// Fencing lists fencing operations that failed or are pending, per
	// target since its last successful fence.
	Fencing []fencing.Op `json:"fencing,omitempty"`
	attrs   bool         // show transient attributes (--attrs)
}

// configCounts counts the objects of a configuration.
type configCounts struct {
	Nodes        int `json:"nodes"`
	Primitives   int `json:"primitives"`
	Groups       int `json:"groups"`
	Clones       int `json:"clones"`
	Constraints  int `json:"constraints"`
	FenceDevices int `json:"fence-devices"`
}

func countConfig(cfg *cib.Config) configCounts {
	return configCounts{
		Nodes:        len(cfg.Nodes),
		Primitives:   len(cfg.Primitives),
		Groups:       len(cfg.Groups),
		Clones:       len(cfg.Clones),
		Constraints:  len(cfg.Constraints.Location) + len(cfg.Constraints.Colocation) + len(cfg.Constraints.Order),
		FenceDevices: len(cfg.FenceDevices),
	}
}

func printStatus(g *globals, st statusView) {
	ci, n := st.Cluster, st.Counts
	w := g.stdout
	leader := ci.Leader
	if leader == "" {
		leader = "none"
	}
	fmt.Fprintf(w, "Node: %s (%s)\n", ci.Node, ci.State)
	fmt.Fprintf(w, "Leader: %s\n", leader)
	fmt.Fprintf(w, "Term: %d  Applied index: %d  Epoch: %d\n", ci.Term, ci.Applied, ci.Epoch)
	if ci.Version != "" {
		fmt.Fprintf(w, "Version: %s\n", ci.Version)
	}
	if m := st.Members; m != nil {
		if q := m.Quorum; q != nil {
			fmt.Fprintf(w, "Quorum: %s\n", q.Reason)
		}
		fmt.Fprintln(w, "Members:")
		tw := newTable(w)
		for _, mb := range m.Members {
			fmt.Fprintf(tw, "  %s\t%s\t%s\tvotes %d\n", mb.Name, mb.Addr, mb.State, mb.Votes)
		}
		tw.Flush()
		if st.attrs {
			fmt.Fprintln(w, "Transient attributes:")
			for _, node := range slices.Sorted(maps.Keys(m.Attrs)) {
				for _, k := range slices.Sorted(maps.Keys(m.Attrs[node])) {
					fmt.Fprintf(w, "  %s: %s=%s\n", node, k, m.Attrs[node][k])
				}
			}
		}
	}
	fmt.Fprintln(w, "Raft servers:")
	tw := newTable(w)
	servers := slices.Clone(ci.Servers)
	slices.SortFunc(servers, func(a, b api.Server) int { return strings.Compare(a.Name, b.Name) })
	for _, s := range servers {
		role := "voter"
		if !s.Voter {
			role = "non-voter"
		}
		if s.Leader {
			role += ", leader"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Name, s.Address, role)
	}
	tw.Flush()
	fmt.Fprintf(w, "Configuration: %d node(s), %d primitive(s), %d group(s), %d clone(s), %d constraint(s), %d fence device(s)\n",
		n.Nodes, n.Primitives, n.Groups, n.Clones, n.Constraints, n.FenceDevices)
}
