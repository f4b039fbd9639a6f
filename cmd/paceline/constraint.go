package main

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
)

// constraintKinds are the kinds in the order `pcs constraint` lists them.
var constraintKinds = []string{"location", "colocation", "order"}

func newConstraintCmd(g *globals) *cobra.Command {
	var dry bool
	del := leaf(g, "delete ID...", "Delete constraints by id, whatever their kind",
		func(cmd *cobra.Command, args []string) error { return deleteConstraints(cmd, g, "", args, dry) })
	del.Aliases = []string{"remove"}
	list := leaf(g, "list [location|colocation|order]", "List constraints, grouped by kind",
		func(cmd *cobra.Command, args []string) error {
			if err := wantArgs(args, 0, 1, "[location|colocation|order]"); err != nil {
				return err
			}
			kinds := constraintKinds
			if len(args) == 1 {
				if !slices.Contains(constraintKinds, args[0]) {
					return usagef("constraint list: unknown kind %q: want location, colocation or order", args[0])
				}
				kinds = args[:1]
			}
			return listConstraints(cmd, g, kinds)
		})
	list.Aliases = []string{"show", "config"}
	return parent(g, "constraint", "Add, delete and list location, colocation and order constraints",
		func(cmd *cobra.Command, _ []string) error { return listConstraints(cmd, g, constraintKinds) },
		newLocationCmd(g), newColocationCmd(g), newOrderCmd(g), dryRunFlag(del, &dry), list)
}

// kindCmd builds "constraint KIND": with no words it lists that kind, with
// words it runs short (the pcs forms without "add"), and it has add, delete
// and list subcommands.
func kindCmd(g *globals, kind, use, short string, shortForm runFunc, add *cobra.Command) *cobra.Command {
	var dryDel bool
	c := leaf(g, use, short, func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return listConstraints(cmd, g, []string{kind})
		}
		if shortForm == nil {
			return unknownSub(cmd, args)
		}
		return shortForm(cmd, args)
	})
	del := leaf(g, "delete ID...", "Delete "+kind+" constraints by id",
		func(cmd *cobra.Command, args []string) error { return deleteConstraints(cmd, g, kind, args, dryDel) })
	del.Aliases = []string{"remove"}
	list := leaf(g, "list", "List "+kind+" constraints", func(cmd *cobra.Command, args []string) error {
		if err := wantArgs(args, 0, 0, "no arguments"); err != nil {
			return err
		}
		return listConstraints(cmd, g, []string{kind})
	})
	c.AddCommand(add, dryRunFlag(del, &dryDel), list)
	return c
}

func newLocationCmd(g *globals) *cobra.Command {
	var dryAdd, dryShort bool
	add := leaf(g, "add ID RESOURCE NODE SCORE [role=ROLE] | add ID RESOURCE rule [score=S|score-attribute=A] [role=R] EXPRESSION...",
		"Add a location constraint on a node, or on the nodes matching a rule",
		func(cmd *cobra.Command, args []string) error {
			l, err := parseLocationAdd(args)
			if err != nil {
				return usageError{err}
			}
			return addConstraints(cmd, g, []cib.AddConstraint{{Location: l}}, dryAdd)
		})
	c := kindCmd(g, "location", "location [RESOURCE prefers|avoids NODE[=SCORE]... | RESOURCE rule ...]",
		"Location constraints: RESOURCE prefers/avoids NODE[=SCORE], rules, add, delete, list",
		func(cmd *cobra.Command, args []string) error {
			if _, err := parseLocationShort(args, nil); err != nil {
				return usageError{err}
			}
			cfg, err := readConfig(cmd, g)
			if err != nil {
				return err
			}
			ls, err := parseLocationShort(args, takenIDs(cfg))
			if err != nil {
				return usageError{err}
			}
			adds := make([]cib.AddConstraint, len(ls))
			for i := range ls {
				adds[i] = cib.AddConstraint{Location: &ls[i]}
			}
			return addConstraints(cmd, g, adds, dryShort)
		}, dryRunFlag(add, &dryAdd))
	c.Example = "  paceline constraint location web prefers n1=100 n2=50\n" +
		"  paceline constraint location add loc-ping web rule score=-INFINITY not_defined pingd or pingd lt 1"
	return dryRunFlag(c, &dryShort)
}

func newColocationCmd(g *globals) *cobra.Command {
	var dry bool
	add := leaf(g, "add [ROLE] RESOURCE with [ROLE] WITH-RESOURCE [SCORE] [id=ID]",
		"Keep RESOURCE with (positive score) or away from (negative) WITH-RESOURCE; roles Started, Promoted, Unpromoted",
		func(cmd *cobra.Command, args []string) error {
			if _, err := parseColocationAdd(args, nil); err != nil {
				return usageError{err}
			}
			cfg, err := readConfig(cmd, g)
			if err != nil {
				return err
			}
			c, err := parseColocationAdd(args, takenIDs(cfg))
			if err != nil {
				return usageError{err}
			}
			return addConstraints(cmd, g, []cib.AddConstraint{{Colocation: c}}, dry)
		})
	return kindCmd(g, "colocation", "colocation", "Colocation constraints: add, delete, list", nil, dryRunFlag(add, &dry))
}

func newOrderCmd(g *globals) *cobra.Command {
	var dryAdd, dryShort bool
	run := func(dry *bool) runFunc {
		return func(cmd *cobra.Command, args []string) error {
			if _, err := parseOrderAdd(args, nil); err != nil {
				return usageError{err}
			}
			cfg, err := readConfig(cmd, g)
			if err != nil {
				return err
			}
			o, err := parseOrderAdd(args, takenIDs(cfg))
			if err != nil {
				return usageError{err}
			}
			return addConstraints(cmd, g, []cib.AddConstraint{{Order: o}}, *dry)
		}
	}
	add := leaf(g, "add [ACTION] FIRST then [ACTION] THEN [kind=mandatory|optional|serialize] [symmetrical=true|false] [id=ID]",
		"Order THEN after FIRST; actions start (default), stop, promote, demote", run(&dryAdd))
	c := kindCmd(g, "order", "order [[ACTION] FIRST then [ACTION] THEN [options]]",
		"Order constraints: [ACTION] FIRST then [ACTION] THEN, add, delete, list", run(&dryShort), dryRunFlag(add, &dryAdd))
	return dryRunFlag(c, &dryShort)
}

// addedView is the JSON of the constraint add commands: the agent's result
// and the constraints added, with their (possibly generated) ids.
type addedView struct {
	api.CommandResult
	Added cib.Constraints `json:"added,omitzero"`
}

// addConstraints sends AddConstraint commands in turn; if one is refused,
// the ones already added are deleted again.
func addConstraints(cmd *cobra.Command, g *globals, adds []cib.AddConstraint, dry bool) error {
	var rs []*api.CommandResult
	var added cib.Constraints
	var done []string
	for i := range adds {
		a := &adds[i]
		res, err := apply(cmd, g, a, dry)
		if err != nil {
			for _, id := range slices.Backward(done) {
				if _, derr := apply(cmd, g, &cib.DeleteConstraint{ID: id}, false); derr != nil {
					return fmt.Errorf("%w; constraint %q was added before and could not be deleted again: %v", err, id, derr)
				}
			}
			return err
		}
		rs = append(rs, res)
		kind, id := "", ""
		switch {
		case a.Location != nil:
			kind, id = "location", a.Location.ID
			added.Location = append(added.Location, *a.Location)
		case a.Colocation != nil:
			kind, id = "colocation", a.Colocation.ID
			added.Colocation = append(added.Colocation, *a.Colocation)
		case a.Order != nil:
			kind, id = "order", a.Order.ID
			added.Order = append(added.Order, *a.Order)
		}
		if !dry {
			done = append(done, id)
		}
		if !g.json() && !dry {
			fmt.Fprintf(g.stdout, "Added %s constraint '%s'\n", kind, id)
		}
	}
	res := mergeResults(rs...)
	if g.json() {
		return printJSON(g.stdout, addedView{CommandResult: *res, Added: added})
	}
	return printResult(g, res)
}

// deleteConstraints deletes constraints by id; with a kind, each must be of
// that kind.
func deleteConstraints(cmd *cobra.Command, g *globals, kind string, ids []string, dry bool) error {
	if len(ids) == 0 {
		return usagef("constraint delete: give the id of at least one constraint")
	}
	for _, id := range ids {
		if err := validID("constraint", id); err != nil {
			return usageError{err}
		}
	}
	if kind != "" {
		cfg, err := readConfig(cmd, g)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if k, _ := constraintByID(cfg, id); k != kind {
				if k == "" {
					return fmt.Errorf("unknown %s constraint %q", kind, id)
				}
				return fmt.Errorf("constraint %q is a %s constraint, not a %s constraint", id, k, kind)
			}
		}
	}
	var rs []*api.CommandResult
	for _, id := range ids {
		res, err := apply(cmd, g, &cib.DeleteConstraint{ID: id}, dry)
		if err != nil {
			return err
		}
		rs = append(rs, res)
		if !g.json() && !dry {
			fmt.Fprintf(g.stdout, "Deleted constraint '%s'\n", id)
		}
	}
	return printResult(g, mergeResults(rs...))
}

// listConstraints prints constraints of the given kinds; JSON is
// cib.Constraints (kinds not asked for are left out).
func listConstraints(cmd *cobra.Command, g *globals, kinds []string) error {
	cfg, err := readConfig(cmd, g)
	if err != nil {
		return err
	}
	var cs cib.Constraints
	for _, k := range kinds {
		switch k {
		case "location":
			cs.Location = cfg.Constraints.Location
		case "colocation":
			cs.Colocation = cfg.Constraints.Colocation
		case "order":
			cs.Order = cfg.Constraints.Order
		}
	}
	if g.json() {
		return printJSON(g.stdout, cs)
	}
	printConstraints(g.stdout, cs, kinds)
	return nil
}
