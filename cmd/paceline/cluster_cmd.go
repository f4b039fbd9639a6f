package main

import (
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/paceline/paceline/agent"
	"github.com/paceline/paceline/cib/raftstore"
)

// defaultPort is the cluster port (raft and node RPC); gossip uses the next.
const defaultPort = 7250

func newClusterCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "cluster", Short: "Create and inspect the cluster"}
	cmd.AddCommand(newClusterInitCmd(g), newClusterAddNodeCmd(g), newClusterStatusCmd(g))
	return cmd
}

var nodeNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

func parseNodeSpecs(args []string, port int) ([]agent.NodeSpec, error) {
	if len(args) == 0 {
		return nil, usagef("name at least one node: NAME=ADDRESS[:PORT]")
	}
	var out []agent.NodeSpec
	seenName, seenAddr := map[string]bool{}, map[string]bool{}
	for _, a := range args {
		name, addr, ok := strings.Cut(a, "=")
		if !ok || name == "" || addr == "" {
			return nil, usagef("bad node %q: want NAME=ADDRESS[:PORT], e.g. n1=192.0.2.11", a)
		}
		if !nodeNameRE.MatchString(name) {
			return nil, usagef("bad node name %q: letters, digits, '.', '-', '_' (start with a letter or digit)", name)
		}
		ns := agent.NodeSpec{Name: name, Host: addr, Port: port}
		if h, p, err := net.SplitHostPort(addr); err == nil {
			n, err := strconv.Atoi(p)
			if err != nil || n <= 0 || n > 65534 {
				return nil, usagef("bad port in %q", a)
			}
			ns.Host, ns.Port = h, n
		}
		if ns.Host == "" || strings.ContainsAny(ns.Host, " /") {
			return nil, usagef("bad address in %q", a)
		}
		key := ns.Addr()
		if seenName[name] {
			return nil, usagef("node %q named twice", name)
		}
		if seenAddr[key] {
			return nil, usagef("address %s given to two nodes", key)
		}
		seenName[name], seenAddr[key] = true, true
		out = append(out, ns)
	}
	return out, nil
}

func newClusterInitCmd(g *globals) *cobra.Command {
	var dir string
	var o agent.InitOptions
	var port int
	cmd := &cobra.Command{
		Use:   "init --dir DIR NODE=ADDRESS[:PORT] ...",
		Short: "Write node configs, a fresh gossip key and the raft TLS material for N named nodes",
		Long: `Writes DIR/ca.crt and DIR/ca.key (the cluster CA; keep the key safe, it admits nodes),
and for each node DIR/NODE/ with paceline.yaml, its certificate and key, and the CA certificate.
Copy DIR/NODE/ to /etc/paceline on that node and run: paceline agent --config /etc/paceline/paceline.yaml
Up to five nodes become the initial raft voters; with --local every node keeps its data
and API socket inside its own directory, so several can run on one machine.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				return usagef("cluster init: --dir is required")
			}
			if _, err := raftstore.TimingProfile(o.Timing); err != nil {
				return usagef("cluster init: %v", err)
			}
			nodes, err := parseNodeSpecs(args, port)
			if err != nil {
				return err
			}
			paths, err := agent.InitCluster(dir, o, nodes)
			if err != nil {
				return err
			}
			return report(g, paths, "cluster %q: %d nodes written under %s", o.Cluster, len(nodes), dir)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory to write into")
	cmd.Flags().StringVar(&o.Cluster, "name", "paceline", "cluster name")
	cmd.Flags().IntVar(&port, "port", defaultPort, "cluster port where a node gives none (gossip uses port+1)")
	cmd.Flags().StringVar(&o.Timing, "timing", "fast", "timing profile: fast or lan")
	cmd.Flags().BoolVar(&o.Local, "local", false, "keep each node's data dir and API socket in its own directory (several nodes on one machine)")
	cmd.Flags().BoolVar(&o.Force, "force", false, "overwrite an existing cluster directory")
	return cmd
}

func newClusterAddNodeCmd(g *globals) *cobra.Command {
	var dir string
	var port int
	var local bool
	cmd := &cobra.Command{
		Use:   "add-node --dir DIR NODE=ADDRESS[:PORT] ...",
		Short: "Write the config and certificate of a node that joins an existing cluster",
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				return usagef("cluster add-node: --dir is required")
			}
			nodes, err := parseNodeSpecs(args, port)
			if err != nil {
				return err
			}
			paths, err := agent.AddNodes(dir, local, nodes)
			if err != nil {
				return err
			}
			return report(g, paths, "added %d node(s) under %s", len(nodes), dir)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "the directory cluster init wrote")
	cmd.Flags().IntVar(&port, "port", defaultPort, "cluster port where a node gives none")
	cmd.Flags().BoolVar(&local, "local", false, "keep the node's data dir and API socket in its own directory")
	return cmd
}

func report(g *globals, files []string, format string, a ...any) error {
	if g.json() {
		return json.NewEncoder(g.stdout).Encode(map[string]any{"files": files})
	}
	fmt.Fprintf(g.stdout, format+"\n", a...)
	for _, f := range files {
		fmt.Fprintln(g.stdout, "  wrote", f)
	}
	fmt.Fprintln(g.stdout, "start each node with: paceline agent --config NODE_DIR/paceline.yaml")
	return nil
}

func newClusterStatusCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show raft membership as the local node sees it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ci, err := g.client().Cluster(cmd.Context())
			if err != nil {
				return err
			}
			if g.json() {
				return json.NewEncoder(g.stdout).Encode(ci)
			}
			fmt.Fprintf(g.stdout, "node %s: %s, term %d, epoch %d, leader %s\n", ci.Node, ci.State, ci.Term, ci.Epoch, orDefault(ci.Leader, "(none)"))
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tADDRESS\tROLE")
			for _, s := range ci.Servers {
				role := "voter"
				if !s.Voter {
					role = "non-voter"
				}
				if s.Leader {
					role += ", leader"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, s.Address, role)
			}
			return tw.Flush()
		},
	}
}
