package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/paceline/paceline/cib"
)

func newResourceCmd(g *globals) *cobra.Command {
	c := parent(g, "resource", "Create, change and show resources", resourceList(g),
		newResourceCreateCmd(g),
		newResourceUpdateCmd(g),
		newResourceMetaCmd(g),
		newResourceOpCmd(g),
		newResourceOpRemoveCmd(g),
		newResourceHistoryCmd(g),
		newResourceDeleteCmd(g),
		newResourceShowCmd(g),
		leaf(g, "list", "List resources as a tree: groups, clones, agents, target-role", resourceList(g)),
		newResourceGroupCmd(g),
		newResourceCloneCmd(g, false),
		newResourceCloneCmd(g, true),
		newResourceUncloneCmd(g),
		newResourceDefaultsCmd(g),
	)
	c.AddCommand(newResourceOperatorCmds(g)...)
	return c
}

func newResourceCreateCmd(g *globals) *cobra.Command {
	var o createOpts
	var dry bool
	c := leaf(g, "create ID AGENT [key=value ...] [meta key=value ...] [op NAME key=value ... ] [utilization key=value ...]",
		"Create a primitive resource", func(cmd *cobra.Command, args []string) error {
			cp, cc, err := parseCreate(args, o)
			if err != nil {
				return usageError{err}
			}
			return createResource(cmd, g, cp, cc, dry)
		})
	c.Example = "  paceline resource create web-ip ocf:paceline:vip ip=192.0.2.100 cidr_netmask=24 op monitor interval=5s --group web"
	f := c.Flags()
	f.StringVar(&o.Group, "group", "", "put the resource into this group (created if needed)")
	f.StringVar(&o.Before, "before", "", "with --group: place it before this member")
	f.StringVar(&o.After, "after", "", "with --group: place it after this member")
	f.BoolVar(&o.Clone, "clone", false, "clone the resource")
	f.BoolVar(&o.Promotable, "promotable", false, "make it a promotable clone")
	f.BoolVar(&o.Disabled, "disabled", false, "create it stopped (meta target-role=Stopped)")
	return dryRunFlag(c, &dry)
}

// createResource sends one CreatePrimitive, carrying the clone if asked:
// the agent applies and validates it as one change.
func createResource(cmd *cobra.Command, g *globals, cp *cib.CreatePrimitive, cc *cib.CreateClone, dry bool) error {
	cp.Clone = cc
	res, err := apply(cmd, g, cp, dry)
	if err != nil {
		return err
	}
	return printResult(g, res)
}

func newResourceUpdateCmd(g *globals) *cobra.Command {
	var dry bool
	c := leaf(g, "update ID [key=value ...] [meta key=value ...] [op NAME key=value ...] [utilization key=value ...]",
		"Change a resource; key= (empty) unsets, op NAME replaces the ops of that name", func(cmd *cobra.Command, args []string) error {
			u, err := parseUpdate(args)
			if err != nil {
				return usageError{err}
			}
			return applyAndPrint(cmd, g, u, dry)
		})
	return dryRunFlag(c, &dry)
}

func newResourceMetaCmd(g *globals) *cobra.Command {
	return changeCmd(g, "meta ID key=value ...",
		"Set (key=value) or unset (key=) meta attributes of a resource, group or clone", parseMeta)
}

func newResourceOpCmd(g *globals) *cobra.Command {
	add := changeCmd(g, "add ID NAME [key=value ...]", "Add an operation, keeping the others of its name", parseOpAdd)
	remove := changeCmd(g, "remove ID NAME", "Remove every operation of this name from a resource", parseOpRemove)
	remove.Aliases = []string{"delete"}
	c := leaf(g, "op {add|remove|RSC ACTION}", "Add or remove resource operations; or run one action (start, stop, monitor, ...) of RSC by hand on this node",
		func(cmd *cobra.Command, args []string) error {
			if len(args) == 2 {
				return resourceExec(g, cmd, args)
			}
			return usagef("%s: want add ID NAME, remove ID NAME, or RSC ACTION (start, stop, monitor, promote, demote, reload, validate-all, meta-data)", cmd.CommandPath())
		})
	c.Flags().String("interval", "", "with monitor: the configured monitor whose timeout and role apply (it runs once)")
	c.Flags().String("node", "", "run it on this node of the cluster (default: this node)")
	c.AddCommand(add, remove)
	return c
}

func newResourceOpRemoveCmd(g *globals) *cobra.Command {
	return changeCmd(g, "op-remove ID NAME",
		"Remove every operation of this name from a resource (as resource op remove)", parseOpRemove)
}

func newResourceDeleteCmd(g *globals) *cobra.Command {
	var dry bool
	c := leaf(g, "delete ID", "Delete a resource, group (with its members) or clone, and the constraints naming them",
		func(cmd *cobra.Command, args []string) error {
			if err := wantArgs(args, 1, 1, "ID"); err != nil {
				return err
			}
			if err := validID("resource", args[0]); err != nil {
				return usageError{err}
			}
			res, err := apply(cmd, g, &cib.DeleteResource{ID: args[0]}, dry)
			if err != nil {
				return err
			}
			if !g.json() && !dry {
				fmt.Fprintf(g.stdout, "Deleted resource '%s'\n", args[0])
			}
			return printResult(g, res)
		})
	c.Aliases = []string{"remove"}
	return dryRunFlag(c, &dry)
}

// resourceView is the JSON of `resource show`: the object, what it holds
// and what holds it, and the constraints naming any of them.
type resourceView struct {
	ID   string           `json:"id"`
	Kind cib.ResourceKind `json:"kind"`
	// Clone is set for a clone; Group for a group or a cloned group;
	// Primitive for a primitive or a cloned primitive.
	Clone     *cib.Clone     `json:"clone,omitempty"`
	Group     *cib.Group     `json:"group,omitempty"`
	Primitive *cib.Primitive `json:"primitive,omitempty"`
	// Members are the primitives of the group.
	Members []cib.Primitive `json:"members,omitempty"`
	// InGroup and ClonedBy say what holds a primitive or group.
	InGroup     string          `json:"in-group,omitempty"`
	ClonedBy    string          `json:"cloned-by,omitempty"`
	Constraints cib.Constraints `json:"constraints,omitzero"`
}

func buildResourceView(cfg *cib.Config, id string) (*resourceView, error) {
	v := &resourceView{ID: id, Kind: cfg.ResourceKindOf(id)}
	inner := id
	switch v.Kind {
	case "":
		return nil, fmt.Errorf("unknown resource %q", id)
	case cib.KindClone:
		v.Clone = cfg.CloneByID(id)
		inner = v.Clone.Rsc
	}
	if p := cfg.Primitive(inner); p != nil {
		v.Primitive = p
	}
	if gr := cfg.Group(inner); gr != nil {
		v.Group = gr
		for _, m := range gr.Members {
			if p := cfg.Primitive(m); p != nil {
				v.Members = append(v.Members, *p)
			}
		}
	}
	if v.Kind != cib.KindClone {
		if gr := cfg.GroupOf(id); gr != nil {
			v.InGroup = gr.ID
		}
		holder := id
		if v.InGroup != "" {
			holder = v.InGroup
		}
		if cl := cfg.CloneOf(holder); cl != nil {
			v.ClonedBy = cl.ID
		}
	}
	mine := func(ids ...string) bool {
		return slices.ContainsFunc(ids, func(x string) bool { return x == id || isInside(cfg, id, x) })
	}
	for _, l := range cfg.Constraints.Location {
		if mine(l.Rsc) {
			v.Constraints.Location = append(v.Constraints.Location, l)
		}
	}
	for _, c := range cfg.Constraints.Colocation {
		if mine(c.Rsc, c.WithRsc) {
			v.Constraints.Colocation = append(v.Constraints.Colocation, c)
		}
	}
	for _, o := range cfg.Constraints.Order {
		if mine(o.First, o.Then) {
			v.Constraints.Order = append(v.Constraints.Order, o)
		}
	}
	return v, nil
}

// isInside reports whether x is held by resource id (a clone's inner
// resource, a group's member, or a member of a cloned group).
func isInside(cfg *cib.Config, id, x string) bool {
	if cl := cfg.CloneByID(id); cl != nil {
		return cl.Rsc == x || isInside(cfg, cl.Rsc, x)
	}
	if gr := cfg.Group(id); gr != nil {
		return slices.Contains(gr.Members, x)
	}
	return false
}

func newResourceShowCmd(g *globals) *cobra.Command {
	c := leaf(g, "show ID", "Show a resource: its settings, members and constraints",
		func(cmd *cobra.Command, args []string) error {
			if err := wantArgs(args, 1, 1, "ID"); err != nil {
				return err
			}
			cfg, err := readConfig(cmd, g)
			if err != nil {
				return err
			}
			v, err := buildResourceView(cfg, args[0])
			if err != nil {
				return err
			}
			if g.json() {
				return printJSON(g.stdout, v)
			}
			iw := indentWriter{w: g.stdout}
			printResource(iw, cfg, v.ID)
			if v.InGroup != "" {
				iw.in().line("In group: %s", v.InGroup)
			}
			if v.ClonedBy != "" {
				iw.in().line("Cloned by: %s", v.ClonedBy)
			}
			if !v.Constraints.IsZero() {
				iw.in().line("Constraints:")
				for _, l := range v.Constraints.Location {
					iw.in().in().line("location: %s", locationString(l))
				}
				for _, c := range v.Constraints.Colocation {
					iw.in().in().line("colocation: %s", colocationString(c))
				}
				for _, o := range v.Constraints.Order {
					iw.in().in().line("order: %s", orderString(o))
				}
			}
			return nil
		})
	c.Aliases = []string{"config"}
	return c
}

// resourceListView is the JSON of `resource list`.
type resourceListView struct {
	Primitives []cib.Primitive `json:"primitives"`
	Groups     []cib.Group     `json:"groups"`
	Clones     []cib.Clone     `json:"clones"`
}

func resourceList(g *globals) runFunc {
	return func(cmd *cobra.Command, args []string) error {
		if err := wantArgs(args, 0, 0, "no arguments"); err != nil {
			return err
		}
		cfg, err := readConfig(cmd, g)
		if err != nil {
			return err
		}
		if g.json() {
			v := resourceListView{Primitives: cfg.Primitives, Groups: cfg.Groups, Clones: cfg.Clones}
			if v.Primitives == nil {
				v.Primitives = []cib.Primitive{}
			}
			if v.Groups == nil {
				v.Groups = []cib.Group{}
			}
			if v.Clones == nil {
				v.Clones = []cib.Clone{}
			}
			return printJSON(g.stdout, v)
		}
		if len(cfg.Primitives) == 0 {
			fmt.Fprintln(g.stdout, "No resources configured")
			return nil
		}
		printResourceTree(g.stdout, cfg)
		return nil
	}
}

func newResourceGroupCmd(g *globals) *cobra.Command {
	var before, after string
	var dryAdd bool
	add := leaf(g, "add GROUP RESOURCE... [--before R | --after R]", "Add resources to a group (created if needed), or move them within it",
		func(cmd *cobra.Command, args []string) error {
			ga, err := parseGroupAdd(args, before, after)
			if err != nil {
				return usageError{err}
			}
			return applyAndPrint(cmd, g, ga, dryAdd)
		})
	add.Flags().StringVar(&before, "before", "", "place the resources before this member")
	add.Flags().StringVar(&after, "after", "", "place the resources after this member")
	remove := changeCmd(g, "remove GROUP RESOURCE...", "Take resources out of a group; an emptied group is deleted", parseGroupRemove)
	remove.Aliases = []string{"delete"}
	list := leaf(g, "list", "List groups and their members", func(cmd *cobra.Command, args []string) error {
		if err := wantArgs(args, 0, 0, "no arguments"); err != nil {
			return err
		}
		cfg, err := readConfig(cmd, g)
		if err != nil {
			return err
		}
		if g.json() {
			if cfg.Groups == nil {
				return printJSON(g.stdout, []cib.Group{})
			}
			return printJSON(g.stdout, cfg.Groups)
		}
		for _, gr := range cfg.Groups {
			fmt.Fprintf(g.stdout, "%s: %s\n", gr.ID, strings.Join(gr.Members, " "))
		}
		return nil
	})
	return parent(g, "group", "Manage resource groups", nil, dryRunFlag(add, &dryAdd), remove, list)
}

func newResourceCloneCmd(g *globals, promotable bool) *cobra.Command {
	var id string
	var dry bool
	use, short := "clone RESOURCE [CLONE-ID] [meta] [key=value ...]", "Clone a resource or group (clone-max, interleave, ... as key=value)"
	if promotable {
		use, short = "promotable RESOURCE [CLONE-ID] [meta] [key=value ...]", "Make a promotable clone of a resource or group (promoted-max, ...)"
	}
	c := leaf(g, use, short, func(cmd *cobra.Command, args []string) error {
		cc, err := parseClone(args, id, promotable)
		if err != nil {
			return usageError{err}
		}
		return applyAndPrint(cmd, g, cc, dry)
	})
	c.Flags().StringVar(&id, "id", "", "the clone's id (default RESOURCE-clone)")
	return dryRunFlag(c, &dry)
}

func newResourceUncloneCmd(g *globals) *cobra.Command {
	var dry bool
	c := leaf(g, "unclone ID", "Remove a clone, keeping the resource it cloned (ID: the clone or the cloned resource)",
		func(cmd *cobra.Command, args []string) error {
			if err := wantArgs(args, 1, 1, "ID"); err != nil {
				return err
			}
			if err := validID("clone", args[0]); err != nil {
				return usageError{err}
			}
			return applyAndPrint(cmd, g, &cib.Unclone{ID: args[0]}, dry)
		})
	return dryRunFlag(c, &dry)
}

func newResourceDefaultsCmd(g *globals) *cobra.Command {
	var dry bool
	c := leaf(g, "defaults [key=value ...]", "Show resource meta defaults, or set (key=value) and unset (key=) them",
		func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 && (args[0] == "update" || args[0] == "set") {
				args = args[1:]
				if len(args) == 0 {
					return usagef("resource defaults update: give key=value ...")
				}
			}
			if len(args) == 0 {
				cfg, err := readConfig(cmd, g)
				if err != nil {
					return err
				}
				return printMapSection(g, "Resource Defaults", "No defaults set", cfg.ResourceDefaults)
			}
			p, err := parsePatch("resource defaults", args)
			if err != nil {
				return usageError{err}
			}
			return applyAndPrint(cmd, g, &cib.SetResourceDefaults{Patch: p}, dry)
		})
	return dryRunFlag(c, &dry)
}

// printMapSection prints a string map under a title, or as a JSON object.
func printMapSection(g *globals, title, empty string, m map[string]string) error {
	if g.json() {
		if m == nil {
			m = map[string]string{}
		}
		return printJSON(g.stdout, m)
	}
	if len(m) == 0 {
		fmt.Fprintln(g.stdout, empty)
		return nil
	}
	fmt.Fprintf(g.stdout, "%s:\n", title)
	for _, k := range sortedKeys(m) {
		fmt.Fprintf(g.stdout, "  %s=%s\n", k, m[k])
	}
	return nil
}
