package main

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
)

func newNodeCmd(g *globals) *cobra.Command {
	list := leaf(g, "list", "List the configured nodes", func(cmd *cobra.Command, args []string) error {
		if err := wantArgs(args, 0, 0, "no arguments"); err != nil {
			return err
		}
		return listNodes(cmd, g)
	})
	return parent(g, "node", "Node attributes, utilization, standby and maintenance",
		func(cmd *cobra.Command, _ []string) error { return listNodes(cmd, g) },
		list,
		newNodeMapCmd(g, "attribute", false),
		newNodeMapCmd(g, "utilization", true),
		newNodeFlagCmd(g, "standby", "Put nodes in standby: they run no resources", func(u *cib.UpdateNode, on bool) { u.Standby = &on }, true),
		newNodeFlagCmd(g, "unstandby", "Take nodes out of standby", func(u *cib.UpdateNode, on bool) { u.Standby = &on }, false),
		newNodeFlagCmd(g, "maintenance", "Put nodes in maintenance: their resources are left alone", func(u *cib.UpdateNode, on bool) { u.Maintenance = &on }, true),
		newNodeFlagCmd(g, "unmaintenance", "Take nodes out of maintenance", func(u *cib.UpdateNode, on bool) { u.Maintenance = &on }, false),
	)
}

func listNodes(cmd *cobra.Command, g *globals) error {
	cfg, err := readConfig(cmd, g)
	if err != nil {
		return err
	}
	if g.json() {
		if cfg.Nodes == nil {
			return printJSON(g.stdout, []cib.Node{})
		}
		return printJSON(g.stdout, cfg.Nodes)
	}
	if len(cfg.Nodes) == 0 {
		fmt.Fprintln(g.stdout, "No nodes configured")
		return nil
	}
	tw := newTable(g.stdout)
	fmt.Fprintln(tw, "NODE\tVOTES\tSTATE\tATTRIBUTES\tUTILIZATION")
	nodes := slices.SortedFunc(slices.Values(cfg.Nodes), func(a, b cib.Node) int { return strings.Compare(a.Name, b.Name) })
	for _, n := range nodes {
		var state []string
		if n.Standby {
			state = append(state, "standby")
		}
		if n.Maintenance {
			state = append(state, "maintenance")
		}
		if len(state) == 0 {
			state = append(state, "-")
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", n.Name, n.VoteCount(), strings.Join(state, ","), orDash(formatMap(n.Attributes)), orDash(formatMap(n.Utilization)))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// newNodeMapCmd builds `node attribute` and `node utilization`: with no
// words it shows every node's map, with NODE that node's, and with NODE
// key=value ... it sets (and key= unsets).
func newNodeMapCmd(g *globals, what string, integers bool) *cobra.Command {
	var dry, transient bool
	c := leaf(g, what+" [NODE [key=value ...]]", fmt.Sprintf("Show, set (key=value) or unset (key=) node %ss", what),
		func(cmd *cobra.Command, args []string) error {
			if transient {
				return transientAttrs(cmd, g, args)
			}
			if len(args) >= 2 {
				u, err := parseNodePatch(what, args, integers)
				if err != nil {
					return usageError{err}
				}
				return applyAndPrint(cmd, g, u, dry)
			}
			cfg, err := readConfig(cmd, g)
			if err != nil {
				return err
			}
			get := func(n *cib.Node) map[string]string {
				if !integers {
					return n.Attributes
				}
				m := map[string]string{}
				for k, v := range n.Utilization {
					m[k] = strconv.FormatInt(v, 10)
				}
				return m
			}
			title := "Node Attributes"
			if integers {
				title = "Node Utilization"
			}
			if len(args) == 1 {
				n := cfg.Node(args[0])
				if n == nil {
					return fmt.Errorf("unknown node %q", args[0])
				}
				if g.json() {
					if integers {
						return printJSON(g.stdout, nonNilInts(n.Utilization))
					}
					if n.Attributes == nil {
						return printJSON(g.stdout, map[string]string{})
					}
					return printJSON(g.stdout, n.Attributes)
				}
				m := get(n)
				if len(m) == 0 {
					fmt.Fprintf(g.stdout, "Node %s: no %ss\n", n.Name, what)
					return nil
				}
				fmt.Fprintf(g.stdout, "%s:\n  %s: %s\n", title, n.Name, formatMap(m))
				return nil
			}
			if g.json() {
				out := map[string]any{}
				for i := range cfg.Nodes {
					n := &cfg.Nodes[i]
					if integers {
						out[n.Name] = nonNilInts(n.Utilization)
					} else if n.Attributes != nil {
						out[n.Name] = n.Attributes
					} else {
						out[n.Name] = map[string]string{}
					}
				}
				return printJSON(g.stdout, out)
			}
			fmt.Fprintf(g.stdout, "%s:\n", title)
			for i := range cfg.Nodes {
				n := &cfg.Nodes[i]
				if m := get(n); len(m) > 0 {
					fmt.Fprintf(g.stdout, "  %s: %s\n", n.Name, formatMap(m))
				}
			}
			return nil
		})
	if what == "attribute" {
		c.Flags().BoolVar(&transient, "transient", false, "transient attributes (gossiped, cleared when the node restarts): set on this node only")
	}
	return dryRunFlag(c, &dry)
}

func nonNilInts(m map[string]int64) map[string]int64 {
	if m == nil {
		return map[string]int64{}
	}
	return m
}

// newNodeFlagCmd builds standby/unstandby/maintenance/unmaintenance: on the
// named nodes, every node with --all, or this node when none is named.
func newNodeFlagCmd(g *globals, name, short string, set func(*cib.UpdateNode, bool), on bool) *cobra.Command {
	var all, dry bool
	c := leaf(g, name+" [NODE...] [--all]", short+" (no NODE: this node)", func(cmd *cobra.Command, args []string) error {
		if all && len(args) > 0 {
			return usagef("node %s: give nodes or --all, not both", name)
		}
		for _, a := range args {
			if a == "" || strings.Contains(a, "=") {
				return usagef("node %s: expected a node name, got %q", name, a)
			}
		}
		nodes := args
		switch {
		case all:
			cfg, err := readConfig(cmd, g)
			if err != nil {
				return err
			}
			for _, n := range cfg.Nodes {
				nodes = append(nodes, n.Name)
			}
		case len(nodes) == 0:
			ci, err := g.client().Cluster(cmd.Context())
			if err != nil {
				return agentError(err)
			}
			nodes = []string{ci.Node}
		}
		var rs []*api.CommandResult
		for _, n := range nodes {
			u := &cib.UpdateNode{Name: n}
			set(u, on)
			res, err := apply(cmd, g, u, dry)
			if err != nil {
				return err
			}
			rs = append(rs, res)
		}
		return printResult(g, mergeResults(rs...))
	})
	c.Flags().BoolVar(&all, "all", false, "every configured node")
	return dryRunFlag(c, &dry)
}

// transientAttrs shows every node's transient attributes, or sets this
// node's: they are owned by the node they describe, so they are set
// through that node's own agent.
func transientAttrs(cmd *cobra.Command, g *globals, args []string) error {
	m, err := g.client().Members(cmd.Context())
	if err != nil {
		return agentError(err)
	}
	if len(args) >= 2 {
		if args[0] != m.Node {
			return fmt.Errorf("transient attributes of node %q are set on that node itself (this agent is %q; use its --socket)", args[0], m.Node)
		}
		pairs := map[string]string{}
		for _, kv := range args[1:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return usagef("bad attribute %q: want key=value, or key= to delete", kv)
			}
			pairs[k] = v
		}
		for _, k := range slices.Sorted(maps.Keys(pairs)) {
			if err := g.client().SetTransientAttr(cmd.Context(), k, pairs[k], pairs[k] == ""); err != nil {
				return agentError(err)
			}
		}
		return nil
	}
	attrs := m.Attrs
	if len(args) == 1 {
		attrs = map[string]map[string]string{args[0]: m.Attrs[args[0]]}
	}
	if g.json() {
		return printJSON(g.stdout, attrs)
	}
	for _, node := range slices.Sorted(maps.Keys(attrs)) {
		fmt.Fprintf(g.stdout, "  %s: %s\n", node, formatMap(attrs[node]))
	}
	return nil
}
