package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/paceline/paceline/cib"
)

func newPropertyCmd(g *globals) *cobra.Command {
	var dryServer, dryUnset, all bool
	set := leaf(g, "set key=value ...", "Set cluster properties; key= (empty) unsets",
		func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("property set: give key=value ...")
			}
			p, err := parsePatch("property set", args)
			if err != nil {
				return usageError{err}
			}
			if err := checkProperties(p); err != nil {
				return usageError{err}
			}
			return applyAndPrint(cmd, g, &cib.SetProperties{Patch: p}, dryServer)
		})
	unset := leaf(g, "unset key ...", "Unset cluster properties (back to their defaults)",
		func(cmd *cobra.Command, args []string) error {
			keys, err := parseKeys("property unset", args)
			if err != nil {
				return usageError{err}
			}
			p := cib.Patch{Unset: keys}
			if err := checkProperties(p); err != nil {
				return usageError{err}
			}
			return applyAndPrint(cmd, g, &cib.SetProperties{Patch: p}, dryUnset)
		})
	list := leaf(g, "list [--all]", "List the cluster properties that are set; --all adds every known one with its default",
		func(cmd *cobra.Command, args []string) error {
			if err := wantArgs(args, 0, 0, "no arguments"); err != nil {
				return err
			}
			return listProperties(cmd, g, all)
		})
	list.Aliases = []string{"show", "config"}
	list.Flags().BoolVar(&all, "all", false, "also list properties left at their defaults")
	return parent(g, "property", "Set, unset and list cluster properties",
		func(cmd *cobra.Command, _ []string) error { return listProperties(cmd, g, false) },
		dryRunFlag(set, &dryServer), dryRunFlag(unset, &dryUnset), list)
}

// propertyView is one row of `property list --all -o json`.
type propertyView struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	Default string `json:"default,omitempty"`
	Set     bool   `json:"set"`
	Type    string `json:"type,omitempty"`
	Doc     string `json:"description,omitempty"`
}

func listProperties(cmd *cobra.Command, g *globals, all bool) error {
	cfg, err := readConfig(cmd, g)
	if err != nil {
		return err
	}
	if !all {
		return printMapSection(g, "Cluster Properties", "No properties set", cfg.Properties)
	}
	var rows []propertyView
	seen := map[string]bool{}
	for _, d := range propertyDefaults() {
		v, set := cfg.Properties[d.Name]
		if !set {
			v = d.Default
		}
		rows = append(rows, propertyView{Name: d.Name, Value: v, Default: d.Default, Set: set, Type: d.Type, Doc: d.Doc})
		seen[d.Name] = true
	}
	for _, k := range sortedKeys(cfg.Properties) {
		if !seen[k] {
			rows = append(rows, propertyView{Name: k, Value: cfg.Properties[k], Set: true})
		}
	}
	if g.json() {
		if rows == nil {
			rows = []propertyView{}
		}
		return printJSON(g.stdout, rows)
	}
	fmt.Fprintln(g.stdout, "Cluster Properties:")
	tw := newTable(g.stdout)
	for _, r := range rows {
		mark := "(default)"
		if r.Set {
			mark = "(set)"
			if r.Default != "" && r.Value != r.Default {
				mark = fmt.Sprintf("(set; default %s)", r.Default)
			}
		}
		fmt.Fprintf(tw, "  %s=%s\t%s\n", r.Name, r.Value, mark)
	}
	return tw.Flush()
}

// propDef is a known property as `property list --all` shows it.
type propDef struct{ Name, Default, Type, Doc string }

// propertyDefaults lists the known properties from cib.PropertyDefs, by name.
func propertyDefaults() []propDef {
	var out []propDef
	for _, name := range sortedKeys(cib.PropertyDefs) {
		d := cib.PropertyDefs[name]
		t := d.Type.String()
		if d.Type == cib.ValueEnum {
			t = strings.Join(d.Values, "|")
		}
		out = append(out, propDef{Name: name, Default: d.Default, Type: t, Doc: d.Description})
	}
	return out
}

// checkProperties validates the names and values to set early, with
// cib.ValidateProperty; the agent validates again. Unset names are left to
// the agent, so a stray unknown property can still be removed.
func checkProperties(p cib.Patch) error {
	var errs []error
	for _, k := range sortedKeys(p.Set) {
		if err := cib.ValidateProperty(k, p.Set[k]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
