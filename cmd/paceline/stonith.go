package main

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/fencing"
)

// newStonithCmd: fence devices and fencing (pcs stonith).
func newStonithCmd(g *globals) *cobra.Command {
	off := false
	fence := leaf(g, "fence NODE [--off]", "Fence a node now (its fence devices, level by level; no fence delay)", func(cmd *cobra.Command, args []string) error {
		if err := wantArgs(args, 1, 1, "NODE"); err != nil {
			return err
		}
		req := api.FenceRequest{Target: args[0]}
		if off {
			req.Action = fencing.Off
		}
		return runFence(cmd, g, req)
	})
	fence.Flags().BoolVar(&off, "off", false, "power the node off (default: the stonith-action property, reboot)")
	confirm := leaf(g, "confirm NODE", "Tell the cluster that a node is down (you have checked: it is powered off): its resources are recovered", func(cmd *cobra.Command, args []string) error {
		if err := wantArgs(args, 1, 1, "NODE"); err != nil {
			return err
		}
		return runFence(cmd, g, api.FenceRequest{Target: args[0], Confirm: true})
	})
	history := leaf(g, "history [NODE]", "Show what was fenced, by whom and how it ended (every reachable node's history)", func(cmd *cobra.Command, args []string) error {
		if err := wantArgs(args, 0, 1, "[NODE]"); err != nil {
			return err
		}
		ops, err := g.client().FenceHistory(cmd.Context())
		if err != nil {
			return agentError(err)
		}
		if len(args) == 1 {
			var keep []fencing.Op
			for _, op := range ops {
				if op.Target == args[0] {
					keep = append(keep, op)
				}
			}
			ops = keep
		}
		if g.json() {
			if ops == nil {
				ops = []fencing.Op{}
			}
			return printJSON(g.stdout, ops)
		}
		if len(ops) == 0 {
			fmt.Fprintln(g.stdout, "No fencing operations")
			return nil
		}
		for _, op := range ops {
			fmt.Fprintln(g.stdout, describeFence(op))
		}
		return nil
	})
	create := changeCmd(g, "create ID AGENT [key=value...] [meta key=value...]",
		"Add a fence device (AGENT: a fence-agents name such as fence_ipmilan, or fence_paceline_exec)", parseStonithCreate)
	update := changeCmd(g, "update ID [key=value...] [meta key=value...]",
		"Change a fence device's parameters (key= removes one)", parseStonithUpdate)
	del := changeCmd(g, "delete ID", "Remove a fence device (and it from every fencing level)", func(args []string) (*cib.DeleteFenceDevice, error) {
		if len(args) != 1 {
			return nil, fmt.Errorf("stonith delete: want ID, got %d argument(s)", len(args))
		}
		return &cib.DeleteFenceDevice{ID: args[0]}, nil
	})
	list := leaf(g, "list", "List the fence devices and fencing levels", func(cmd *cobra.Command, args []string) error {
		if err := wantArgs(args, 0, 0, "no arguments"); err != nil {
			return err
		}
		return listStonith(cmd, g)
	})
	levelAdd := changeCmd(g, "add LEVEL NODE DEVICE[,DEVICE...]", "Add a fencing level: NODE is fenced at LEVEL (1-9, tried in order) by all of the devices",
		func(args []string) (*cib.AddFenceLevel, error) {
			if len(args) < 3 {
				return nil, fmt.Errorf("stonith level add: want LEVEL NODE DEVICE[,DEVICE...], got %d argument(s)", len(args))
			}
			n, err := strconv.Atoi(args[0])
			if err != nil {
				return nil, fmt.Errorf("stonith level add: level %q: want a number from 1 to 9", args[0])
			}
			var devs []string
			for _, a := range args[2:] {
				for _, d := range strings.Split(a, ",") {
					if d != "" {
						devs = append(devs, d)
					}
				}
			}
			return &cib.AddFenceLevel{Level: cib.FenceLevel{Target: args[1], Index: n, Devices: devs}}, nil
		})
	levelDel := changeCmd(g, "delete NODE [LEVEL]", "Remove a node's fencing level (without LEVEL: all of them)",
		func(args []string) (*cib.DeleteFenceLevel, error) {
			if len(args) < 1 || len(args) > 2 {
				return nil, fmt.Errorf("stonith level delete: want NODE [LEVEL], got %d argument(s)", len(args))
			}
			d := &cib.DeleteFenceLevel{Target: args[0]}
			if len(args) == 2 {
				n, err := strconv.Atoi(args[1])
				if err != nil || n < 1 {
					return nil, fmt.Errorf("stonith level delete: level %q: want a number from 1 to 9", args[1])
				}
				d.Index = n
			}
			return d, nil
		})
	level := parent(g, "level", "Fencing topology: levels of devices per node", func(cmd *cobra.Command, _ []string) error { return listStonith(cmd, g) }, levelAdd, levelDel)
	return parent(g, "stonith", "Fence devices and fencing (STONITH)", func(cmd *cobra.Command, _ []string) error { return listStonith(cmd, g) },
		create, update, del, list, level, fence, confirm, history)
}

func parseStonithCreate(args []string) (*cib.CreateFenceDevice, error) {
	if len(args) < 2 {
		return nil, fmt.Errorf("stonith create: want ID AGENT [key=value...], got %d argument(s)", len(args))
	}
	if err := validID("fence device", args[0]); err != nil {
		return nil, err
	}
	if strings.Contains(args[1], ":") {
		return nil, fmt.Errorf("stonith create: agent %q: fence agents are plain names such as fence_ipmilan (no class: prefix)", args[1])
	}
	params, meta, err := stonithSections(args[2:])
	if err != nil {
		return nil, err
	}
	d := cib.FenceDevice{ID: args[0], Agent: args[1], Params: params, Meta: meta}
	if _, err := fencing.ParseDevice(d); err != nil {
		return nil, err
	}
	return &cib.CreateFenceDevice{Device: d}, nil
}

func parseStonithUpdate(args []string) (*cib.UpdateFenceDevice, error) {
	if len(args) < 2 {
		return nil, fmt.Errorf("stonith update: want ID key=value..., got %d argument(s)", len(args))
	}
	s, err := splitSections(args[1:])
	if err != nil {
		return nil, err
	}
	if len(s.ops) > 0 || len(s.util) > 0 {
		return nil, fmt.Errorf("stonith update: a fence device has parameters and meta attributes only")
	}
	u := &cib.UpdateFenceDevice{ID: args[0]}
	if u.Params, err = parsePatch("parameters", s.params); err != nil {
		return nil, err
	}
	if u.Meta, err = parsePatch("meta", s.meta); err != nil {
		return nil, err
	}
	if _, err := fencing.ParseDevice(cib.FenceDevice{ID: u.ID, Params: u.Params.Set}); err != nil {
		return nil, err
	}
	return u, nil
}

// stonithSections reads a device's key=value words and its meta clause.
func stonithSections(words []string) (params, meta map[string]string, err error) {
	s, err := splitSections(words)
	if err != nil {
		return nil, nil, err
	}
	if len(s.ops) > 0 || len(s.util) > 0 {
		return nil, nil, fmt.Errorf("stonith create: a fence device has parameters and meta attributes only")
	}
	if params, err = parseSetMap("parameters", s.params); err != nil {
		return nil, nil, err
	}
	if meta, err = parseSetMap("meta", s.meta); err != nil {
		return nil, nil, err
	}
	return params, meta, nil
}

func listStonith(cmd *cobra.Command, g *globals) error {
	cfg, err := readConfig(cmd, g)
	if err != nil {
		return err
	}
	if g.json() {
		return printJSON(g.stdout, struct {
			Devices []cib.FenceDevice `json:"fence-devices"`
			Levels  []cib.FenceLevel  `json:"fence-levels"`
		}{append([]cib.FenceDevice{}, cfg.FenceDevices...), append([]cib.FenceLevel{}, cfg.FenceLevels...)})
	}
	if len(cfg.FenceDevices) == 0 {
		fmt.Fprintln(g.stdout, "No fence devices configured")
	}
	for _, f := range cfg.FenceDevices {
		fmt.Fprintf(g.stdout, "%s (%s)", f.ID, f.Agent)
		if len(f.Params) > 0 {
			fmt.Fprintf(g.stdout, ": %s", formatMap(f.Params))
		}
		if len(f.Meta) > 0 {
			fmt.Fprintf(g.stdout, " meta %s", formatMap(f.Meta))
		}
		fmt.Fprintln(g.stdout)
	}
	if len(cfg.FenceLevels) > 0 {
		fmt.Fprintln(g.stdout, "Fencing levels:")
		levels := slices.Clone(cfg.FenceLevels)
		slices.SortFunc(levels, func(a, b cib.FenceLevel) int {
			return cmp.Or(strings.Compare(a.Target, b.Target), cmp.Compare(a.Index, b.Index))
		})
		for _, l := range levels {
			fmt.Fprintf(g.stdout, "  %s level %d: %s\n", l.Target, l.Index, strings.Join(l.Devices, " + "))
		}
	}
	if cfg.Property("stonith-enabled") != "true" {
		fmt.Fprintln(g.stdout, "(stonith-enabled is false: lost nodes are not fenced)")
	}
	return nil
}

func runFence(cmd *cobra.Command, g *globals, req api.FenceRequest) error {
	op, err := g.client().Fence(cmd.Context(), req)
	if err != nil {
		return agentError(err)
	}
	if g.json() {
		if err := printJSON(g.stdout, op); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(g.stdout, describeFence(*op))
	}
	if op.State != fencing.Done {
		return fmt.Errorf("fencing %s failed", req.Target)
	}
	return nil
}

// describeFence is one history line, like stonith_admin --history.
func describeFence(op fencing.Op) string {
	var b strings.Builder
	switch {
	case op.Confirmed:
		fmt.Fprintf(&b, "%s was confirmed down by %s", op.Target, op.Origin)
	case op.State == fencing.Done:
		fmt.Fprintf(&b, "%s of %s successful", op.Action, op.Target)
	case op.State == fencing.Failed:
		fmt.Fprintf(&b, "%s of %s failed", op.Action, op.Target)
	default:
		fmt.Fprintf(&b, "%s of %s pending", op.Action, op.Target)
	}
	if !op.Confirmed {
		fmt.Fprintf(&b, ": executor %s, asked by %s", op.Executor, op.Origin)
		if len(op.Devices) > 0 {
			fmt.Fprintf(&b, ", level %d (%s)", op.Level, strings.Join(op.Devices, ", "))
		}
	}
	when := op.Completed
	if when.IsZero() {
		when = op.Started
	}
	fmt.Fprintf(&b, ", at %s", when.Local().Format(time.DateTime))
	if !op.Completed.IsZero() && !op.Confirmed {
		fmt.Fprintf(&b, " (took %v", op.Completed.Sub(op.Started).Round(time.Millisecond))
		if op.Delay > 0 {
			fmt.Fprintf(&b, ", incl. a fence delay of %v", op.Delay)
		}
		b.WriteString(")")
	}
	if op.State == fencing.Failed && op.Reason != "" {
		fmt.Fprintf(&b, ": %s", op.Reason)
	}
	return b.String()
}

// newQuorumCmd: pcs quorum unblock.
func newQuorumCmd(g *globals) *cobra.Command {
	unblock := leaf(g, "unblock", "Stop waiting for every node at start (wait-for-all) on this node: only when you know the missing node is down", func(cmd *cobra.Command, args []string) error {
		if err := wantArgs(args, 0, 0, "no arguments"); err != nil {
			return err
		}
		if err := g.client().QuorumUnblock(cmd.Context()); err != nil {
			return agentError(err)
		}
		fmt.Fprintln(g.stdout, "wait_for_all lifted on this node")
		return nil
	})
	return parent(g, "quorum", "Quorum overrides", nil, unblock)
}
