package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/spf13/cobra"

	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/cib/pacemaker"
)

func newConfigCmd(g *globals) *cobra.Command {
	show := leaf(g, "show", "Show the whole configuration, readably (-o json: cib.Config)",
		func(cmd *cobra.Command, args []string) error {
			if err := wantArgs(args, 0, 0, "no arguments"); err != nil {
				return err
			}
			return showConfig(cmd, g)
		})
	return parent(g, "config", "Show, export and import the cluster configuration",
		func(cmd *cobra.Command, _ []string) error { return showConfig(cmd, g) },
		show, newConfigExportCmd(g), newConfigImportCmd(g))
}

func showConfig(cmd *cobra.Command, g *globals) error {
	cfg, err := readConfig(cmd, g)
	if err != nil {
		return err
	}
	if g.json() {
		return printJSON(g.stdout, cfg)
	}
	printConfig(g.stdout, cfg)
	return nil
}

// printConfig writes a configuration the way `pcs config` does: nodes,
// resources, fencing, constraints, defaults, properties.
func printConfig(w io.Writer, cfg *cib.Config) {
	fmt.Fprintf(w, "Epoch: %d\n", cfg.Epoch)
	if lc := cfg.LastChange; lc != nil {
		origin := ""
		if lc.Origin != "" {
			origin = " from " + lc.Origin
		}
		fmt.Fprintf(w, "Last change: %s%s at %s\n", lc.Command, origin, lc.Time.Format("2006-01-02 15:04:05Z07:00"))
	}
	fmt.Fprintln(w, "\nNodes:")
	for _, n := range cfg.Nodes {
		var extra []string
		if n.Votes != 0 {
			extra = append(extra, fmt.Sprintf("votes=%d", n.Votes))
		}
		if n.Standby {
			extra = append(extra, "standby")
		}
		if n.Maintenance {
			extra = append(extra, "maintenance")
		}
		line := "  " + n.Name
		if len(extra) > 0 {
			line += " (" + strings.Join(extra, ", ") + ")"
		}
		fmt.Fprintln(w, line)
		if len(n.Attributes) > 0 {
			fmt.Fprintf(w, "    Attributes: %s\n", formatMap(n.Attributes))
		}
		if len(n.Utilization) > 0 {
			fmt.Fprintf(w, "    Utilization: %s\n", formatMap(n.Utilization))
		}
	}
	fmt.Fprintln(w, "\nResources:")
	iw := indentWriter{w: w, prefix: "  "}
	for _, id := range topResources(cfg) {
		printResource(iw, cfg, id)
	}
	if len(cfg.FenceDevices) > 0 || len(cfg.FenceLevels) > 0 {
		fmt.Fprintln(w, "\nStonith Devices:")
		for _, f := range cfg.FenceDevices {
			fmt.Fprintf(w, "  Resource: %s (agent=%s)\n", f.ID, f.Agent)
			if len(f.Params) > 0 {
				fmt.Fprintf(w, "    Attributes: %s\n", formatMap(f.Params))
			}
			if len(f.Meta) > 0 {
				fmt.Fprintf(w, "    Meta Attrs: %s\n", formatMap(f.Meta))
			}
		}
		if len(cfg.FenceLevels) > 0 {
			fmt.Fprintln(w, "Fencing Levels:")
			for _, l := range cfg.FenceLevels {
				fmt.Fprintf(w, "  Target: %s Level %d - %s\n", l.Target, l.Index, strings.Join(l.Devices, ","))
			}
		}
	}
	fmt.Fprintln(w)
	printConstraints(w, cfg.Constraints, constraintKinds)
	fmt.Fprintln(w, "\nResource Defaults:")
	for _, k := range sortedKeys(cfg.ResourceDefaults) {
		fmt.Fprintf(w, "  %s=%s\n", k, cfg.ResourceDefaults[k])
	}
	fmt.Fprintln(w, "\nCluster Properties:")
	for _, k := range sortedKeys(cfg.Properties) {
		fmt.Fprintf(w, "  %s=%s\n", k, cfg.Properties[k])
	}
}

func newConfigExportCmd(g *globals) *cobra.Command {
	var format, file, to string
	c := leaf(g, "export [--format yaml|json] [--to paceline|pacemaker] [--file F]", "Write the configuration as YAML (default; JSON with -o json) or JSON, or as a Pacemaker CIB (--to pacemaker), to stdout or a file",
		func(cmd *cobra.Command, args []string) error {
			if err := wantArgs(args, 0, 0, "no arguments (use --file to name the output)"); err != nil {
				return err
			}
			switch to {
			case "paceline":
				if g.json() && !cmd.Flags().Changed("format") {
					format = "json"
				}
				if format != "yaml" && format != "json" {
					return usagef("config export: bad --format %q: want yaml or json", format)
				}
			case "pacemaker":
				if cmd.Flags().Changed("format") {
					return usagef("config export: --format is for --to paceline; --to pacemaker writes a CIB (XML)")
				}
				format = "pacemaker"
			default:
				return usagef("config export: bad --to %q: want paceline or pacemaker", to)
			}
			cfg, err := readConfig(cmd, g)
			if err != nil {
				return err
			}
			data, err := encodeConfig(cfg, format)
			if err != nil {
				return err
			}
			if file == "" || file == "-" {
				_, err := g.stdout.Write(data)
				return err
			}
			if err := os.WriteFile(file, data, 0o640); err != nil {
				return fmt.Errorf("config export: %w", err)
			}
			if !g.json() {
				fmt.Fprintf(g.stderr, "Wrote the configuration (epoch %d) to %s\n", cfg.Epoch, file)
			}
			return nil
		})
	c.Flags().StringVar(&format, "format", "yaml", "yaml or json")
	c.Flags().StringVar(&to, "to", "paceline", "paceline (YAML or JSON) or pacemaker (a CIB that crm_verify accepts; see docs/pacemaker.md)")
	c.Flags().StringVar(&file, "file", "", "write to this file instead of stdout")
	return c
}

// importView is the JSON of `config import`: the agent's result and what
// the import changes.
type importView struct {
	api.CommandResult
	Changes []changeCount `json:"changes"`
	// Report is what an import from Pacemaker did not bring over as it was.
	Report *pacemaker.Report `json:"report,omitempty"`
}

func newConfigImportCmd(g *globals) *cobra.Command {
	var dry, skip bool
	var from string
	c := leaf(g, "import FILE [--from paceline|pacemaker] [--skip-unsupported] [--dry-run]", "Replace the configuration with a YAML or JSON file, or a Pacemaker CIB (--from pacemaker); - reads stdin",
		func(cmd *cobra.Command, args []string) error {
			if err := wantArgs(args, 1, 1, "FILE"); err != nil {
				return err
			}
			if from != "paceline" && from != "pacemaker" {
				return usagef("config import: bad --from %q: want paceline or pacemaker", from)
			}
			if skip && from != "pacemaker" {
				return usagef("config import: --skip-unsupported is for --from pacemaker")
			}
			var data []byte
			var err error
			if args[0] == "-" {
				data, err = io.ReadAll(cmd.InOrStdin())
			} else {
				data, err = os.ReadFile(args[0])
			}
			if err != nil {
				return fmt.Errorf("config import: %w", err)
			}
			var next *cib.Config
			var report *pacemaker.Report
			if from == "pacemaker" {
				next, report, err = pacemaker.Import(bytes.NewReader(data), pacemaker.ImportOptions{SkipUnsupported: skip})
				if !report.Empty() && (!g.json() || err != nil) {
					fmt.Fprint(g.stderr, report)
				}
			} else {
				next, err = decodeConfig(data, args[0])
			}
			if err != nil {
				return fmt.Errorf("config import %s: %w", args[0], err)
			}
			cur, err := readConfig(cmd, g)
			if err != nil {
				return err
			}
			changes := diffConfigs(cur, next)
			res, err := apply(cmd, g, &cib.ReplaceConfig{Config: next}, dry)
			if err != nil {
				return fmt.Errorf("config import %s: %w", args[0], err)
			}
			if g.json() {
				return printJSON(g.stdout, importView{CommandResult: *res, Changes: changes, Report: report})
			}
			verb := "Imported"
			if dry {
				verb = "Would import"
			}
			fmt.Fprintf(g.stdout, "%s %s:", verb, args[0])
			if len(changes) == 0 {
				fmt.Fprint(g.stdout, " no changes")
			}
			fmt.Fprintln(g.stdout)
			tw := newTable(g.stdout)
			for _, c := range changes {
				fmt.Fprintf(tw, "  %s:\t%d added\t%d removed\t%d changed\n", c.What, c.Added, c.Removed, c.Changed)
			}
			tw.Flush()
			return printResult(g, res)
		})
	c.Flags().StringVar(&from, "from", "paceline", "paceline (YAML or JSON) or pacemaker (a CIB: cibadmin -Q; see docs/pacemaker.md)")
	c.Flags().BoolVar(&skip, "skip-unsupported", false, "with --from pacemaker: leave out what Paceline does not model (listed) instead of failing")
	return dryRunFlag(c, &dry)
}

// configFormat says whether a file is JSON or YAML: by its extension, else
// by its first non-blank byte.
func configFormat(data []byte, name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return "json"
	case ".yaml", ".yml":
		return "yaml"
	}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		return "json"
	}
	return "yaml"
}

// changeCount counts the differences of one kind of object.
type changeCount struct {
	What    string `json:"what"`
	Added   int    `json:"added"`
	Removed int    `json:"removed"`
	Changed int    `json:"changed"`
}

// diffConfigs counts what replacing cur by next adds, removes and changes,
// kind by kind, matching objects by id (nodes by name, maps by key). It
// compares with what the replacement really leaves (cib.ReplaceConfig
// keeps the registered nodes the file does not list).
func diffConfigs(cur, next *cib.Config) []changeCount {
	merged := cur.Clone()
	if _, err := (&cib.ReplaceConfig{Config: next}).Apply(merged); err == nil {
		next = merged
	}
	var out []changeCount
	add := func(what string, a, b map[string]any) {
		c := changeCount{What: what}
		for k, v := range b {
			old, ok := a[k]
			switch {
			case !ok:
				c.Added++
			case !reflect.DeepEqual(old, v):
				c.Changed++
			}
		}
		for k := range a {
			if _, ok := b[k]; !ok {
				c.Removed++
			}
		}
		if c.Added+c.Removed+c.Changed > 0 {
			out = append(out, c)
		}
	}
	add("nodes", index(cur.Nodes, func(n cib.Node) string { return n.Name }), index(next.Nodes, func(n cib.Node) string { return n.Name }))
	add("primitives", index(cur.Primitives, func(p cib.Primitive) string { return p.ID }), index(next.Primitives, func(p cib.Primitive) string { return p.ID }))
	add("groups", index(cur.Groups, func(p cib.Group) string { return p.ID }), index(next.Groups, func(p cib.Group) string { return p.ID }))
	add("clones", index(cur.Clones, func(p cib.Clone) string { return p.ID }), index(next.Clones, func(p cib.Clone) string { return p.ID }))
	add("location constraints", index(cur.Constraints.Location, func(p cib.Location) string { return p.ID }), index(next.Constraints.Location, func(p cib.Location) string { return p.ID }))
	add("colocation constraints", index(cur.Constraints.Colocation, func(p cib.Colocation) string { return p.ID }), index(next.Constraints.Colocation, func(p cib.Colocation) string { return p.ID }))
	add("order constraints", index(cur.Constraints.Order, func(p cib.Order) string { return p.ID }), index(next.Constraints.Order, func(p cib.Order) string { return p.ID }))
	add("fence devices", index(cur.FenceDevices, func(p cib.FenceDevice) string { return p.ID }), index(next.FenceDevices, func(p cib.FenceDevice) string { return p.ID }))
	add("fence levels", index(cur.FenceLevels, func(l cib.FenceLevel) string { return fmt.Sprintf("%s/%d", l.Target, l.Index) }),
		index(next.FenceLevels, func(l cib.FenceLevel) string { return fmt.Sprintf("%s/%d", l.Target, l.Index) }))
	add("properties", mapAny(cur.Properties), mapAny(next.Properties))
	add("resource defaults", mapAny(cur.ResourceDefaults), mapAny(next.ResourceDefaults))
	return out
}

// index keys a list by id; the values are compared through their JSON form,
// so nil and empty maps count as equal.
func index[T any](xs []T, key func(T) string) map[string]any {
	m := make(map[string]any, len(xs))
	for _, x := range xs {
		b, _ := json.Marshal(x)
		m[key(x)] = string(b)
	}
	return m
}

func mapAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// encodeConfig writes a configuration in the given format (yaml, json or
// pacemaker).
func encodeConfig(cfg *cib.Config, format string) ([]byte, error) {
	switch format {
	case "json":
		return cib.EncodeJSON(cfg)
	case "pacemaker":
		return pacemaker.Export(cfg)
	}
	return cib.EncodeYAML(cfg)
}

// decodeConfig reads a configuration file, YAML or JSON (see configFormat).
func decodeConfig(data []byte, name string) (*cib.Config, error) {
	if configFormat(data, name) == "json" {
		return cib.DecodeJSON(data)
	}
	return cib.DecodeYAML(data)
}
