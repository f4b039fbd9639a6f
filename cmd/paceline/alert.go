package main

// `paceline alert`: alert agents and their recipients, as pcs's `pcs
// alert` (create, update, delete, recipient add|update|remove, config).

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
)

// alertFlags are the select flags of alert create and update.
type alertFlags struct {
	selectKinds, selectAttrs string
}

func (f *alertFlags) add(c *cobra.Command) *cobra.Command {
	c.Flags().StringVar(&f.selectKinds, "select", "",
		"the kinds of event the alert receives, comma-separated: nodes, resources, fencing, attributes (default nodes,resources,fencing; with update, --select= restores it)")
	c.Flags().StringVar(&f.selectAttrs, "select-attributes", "",
		"with --select attributes: only these attribute names, comma-separated (default all)")
	return c
}

func newAlertCmd(g *globals) *cobra.Command {
	var dryCreate, dryUpdate, dryDelete bool
	var fc, fu alertFlags
	create := leaf(g, "create ID PATH [description=TEXT] [options key=value ...] [meta key=value ...]",
		"Create an alert: PATH (absolute) runs on the events it selects, once per recipient",
		func(cmd *cobra.Command, args []string) error {
			ca, err := parseAlertCreate(args, fc, cmd.Flags().Changed("select"), cmd.Flags().Changed("select-attributes"))
			if err != nil {
				return usageError{err}
			}
			return applyAndPrint(cmd, g, ca, dryCreate)
		})
	create.Example = "  paceline alert create file /usr/local/bin/alert_file.sh options debug_exec_order=false meta timeout=15s --select nodes,resources"
	update := leaf(g, "update ID [path=PATH] [description=TEXT] [options key=value ...] [meta key=value ...]",
		"Change an alert; key= (empty) unsets an option or meta attribute",
		func(cmd *cobra.Command, args []string) error {
			ua, err := parseAlertUpdate(args, fu, cmd.Flags().Changed("select"), cmd.Flags().Changed("select-attributes"))
			if err != nil {
				return usageError{err}
			}
			return applyAndPrint(cmd, g, ua, dryUpdate)
		})
	del := leaf(g, "delete ID...", "Delete alerts, with their recipients",
		func(cmd *cobra.Command, args []string) error {
			ids, err := parseIDs("alert", args)
			if err != nil {
				return usageError{err}
			}
			if len(ids) == 0 {
				return usagef("%s: give the id of at least one alert", cmd.CommandPath())
			}
			cmds := make([]cib.Command, len(ids))
			for i, id := range ids {
				cmds[i] = &cib.DeleteAlert{ID: id}
			}
			return applyEach(cmd, g, cmds, dryDelete, "Deleted alert '%s'\n", ids)
		})
	del.Aliases = []string{"remove"}
	list := leaf(g, "list", "List alerts and their recipients (-o json: the configuration's alerts)",
		func(cmd *cobra.Command, args []string) error {
			if err := wantArgs(args, 0, 0, "no arguments"); err != nil {
				return err
			}
			return listAlerts(cmd, g)
		})
	list.Aliases = []string{"show", "config"}
	return parent(g, "alert", "Create, change and list alert agents and their recipients",
		func(cmd *cobra.Command, _ []string) error { return listAlerts(cmd, g) },
		dryRunFlag(fc.add(create), &dryCreate), dryRunFlag(fu.add(update), &dryUpdate), dryRunFlag(del, &dryDelete),
		newAlertRecipientCmd(g), list)
}

func newAlertRecipientCmd(g *globals) *cobra.Command {
	var dryAdd, dryRemove bool
	add := leaf(g, "add ALERT-ID [RECIPIENT-ID] value=VALUE [description=TEXT] [options key=value ...] [meta key=value ...]",
		"Add a recipient to an alert (its id defaults to ALERT-ID-recipient)",
		func(cmd *cobra.Command, args []string) error {
			if _, err := parseRecipientAdd(args, nil); err != nil {
				return usageError{err}
			}
			var taken func(string) bool
			if len(args) > 1 && strings.Contains(args[1], "=") { // an id to generate
				cfg, err := readConfig(cmd, g)
				if err != nil {
					return err
				}
				taken = takenAlertIDs(cfg)
			}
			ar, err := parseRecipientAdd(args, taken)
			if err != nil {
				return usageError{err}
			}
			res, err := apply(cmd, g, ar, dryAdd)
			if err != nil {
				return err
			}
			if !g.json() && !dryAdd && ar.Recipient.ID != args[1] {
				fmt.Fprintf(g.stdout, "Added recipient '%s'\n", ar.Recipient.ID)
			}
			return printResult(g, res)
		})
	update := changeCmd(g, "update RECIPIENT-ID [value=VALUE] [description=TEXT] [options key=value ...] [meta key=value ...]",
		"Change a recipient; key= (empty) unsets an option or meta attribute", parseRecipientUpdate)
	remove := leaf(g, "remove RECIPIENT-ID...", "Remove recipients from their alerts",
		func(cmd *cobra.Command, args []string) error {
			ids, err := parseIDs("recipient", args)
			if err != nil {
				return usageError{err}
			}
			if len(ids) == 0 {
				return usagef("%s: give the id of at least one recipient", cmd.CommandPath())
			}
			cmds := make([]cib.Command, len(ids))
			for i, id := range ids {
				cmds[i] = &cib.RemoveRecipient{ID: id}
			}
			return applyEach(cmd, g, cmds, dryRemove, "Removed recipient '%s'\n", ids)
		})
	remove.Aliases = []string{"delete"}
	return parent(g, "recipient", "Add, change and remove the recipients of an alert", nil,
		dryRunFlag(add, &dryAdd), update, dryRunFlag(remove, &dryRemove))
}

// applyEach sends commands in turn, saying done (a format with the id) for
// each, and stops at the first refused.
func applyEach(cmd *cobra.Command, g *globals, cmds []cib.Command, dry bool, done string, ids []string) error {
	var rs []*api.CommandResult
	for i, c := range cmds {
		res, err := apply(cmd, g, c, dry)
		if err != nil {
			return err
		}
		rs = append(rs, res)
		if !g.json() && !dry {
			fmt.Fprintf(g.stdout, done, ids[i])
		}
	}
	return printResult(g, mergeResults(rs...))
}

// takenAlertIDs reports whether an id is used by any object of cfg,
// alerts and recipients included.
func takenAlertIDs(cfg *cib.Config) func(string) bool {
	taken := takenIDs(cfg)
	return func(id string) bool {
		if taken(id) || cfg.Alert(id) != nil {
			return true
		}
		_, r := cfg.Recipient(id)
		return r != nil
	}
}

// alertWords are an alert or recipient command's words: key=value words
// first (path, description, value, id), then the "options" and "meta"
// sections.
type alertWords struct {
	top, options, meta []string
}

// splitAlertWords cuts words at the keywords options and meta.
func splitAlertWords(words []string) (alertWords, error) {
	var w alertWords
	cur := &w.top
	for _, x := range words {
		switch x {
		case "options":
			cur = &w.options
			continue
		case "meta":
			cur = &w.meta
			continue
		}
		if !strings.Contains(x, "=") {
			return w, fmt.Errorf("expected key=value, options or meta, got %q", x)
		}
		*cur = append(*cur, x)
	}
	return w, nil
}

// parseSelect reads a comma-separated list: the kinds cib knows are
// checked there, with the whole configuration.
func parseSelect(s string) []string {
	out := []string{}
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// alertPath checks an agent path early: absolute, as cib requires.
func alertPath(p string) error {
	if !filepath.IsAbs(p) {
		return fmt.Errorf("path %q is not absolute: give the alert agent's full path, e.g. /usr/local/bin/alert.sh", p)
	}
	return nil
}

// parseAlertCreate reads "ID PATH [description=TEXT] [options ...] [meta
// ...]" with the select flags (set: given on the command line).
func parseAlertCreate(words []string, f alertFlags, selectSet, attrsSet bool) (*cib.CreateAlert, error) {
	if len(words) < 2 || strings.Contains(words[0], "=") || strings.Contains(words[1], "=") {
		return nil, fmt.Errorf("alert create: want ID PATH [description=TEXT] [options ...] [meta ...]")
	}
	id := words[0]
	if err := validID("alert", id); err != nil {
		return nil, err
	}
	a := cib.Alert{ID: id, Path: words[1]}
	if err := alertPath(a.Path); err != nil {
		return nil, fmt.Errorf("alert %q: %w", id, err)
	}
	w, err := splitAlertWords(words[2:])
	if err != nil {
		return nil, fmt.Errorf("alert %q: %w", id, err)
	}
	top, err := options("alert "+id, w.top, "description")
	if err != nil {
		return nil, err
	}
	a.Description = top["description"]
	if a.Params, err = parseSetMap("options", w.options); err != nil {
		return nil, fmt.Errorf("alert %q: %w", id, err)
	}
	if a.Meta, err = parseSetMap("meta", w.meta); err != nil {
		return nil, fmt.Errorf("alert %q: %w", id, err)
	}
	if selectSet {
		a.Select = parseSelect(f.selectKinds)
	}
	if attrsSet {
		a.SelectAttributes = parseSelect(f.selectAttrs)
	}
	return &cib.CreateAlert{Alert: a}, nil
}

// parseAlertUpdate reads "ID [path=PATH] [description=TEXT] [options ...]
// [meta ...]"; key= unsets, description= clears.
func parseAlertUpdate(words []string, f alertFlags, selectSet, attrsSet bool) (*cib.UpdateAlert, error) {
	if len(words) == 0 || strings.Contains(words[0], "=") {
		return nil, fmt.Errorf("alert update: give the alert id")
	}
	u := &cib.UpdateAlert{ID: words[0]}
	if err := validID("alert", u.ID); err != nil {
		return nil, err
	}
	w, err := splitAlertWords(words[1:])
	if err != nil {
		return nil, fmt.Errorf("alert %q: %w", u.ID, err)
	}
	ps, err := parsePairs("alert "+u.ID, w.top)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		switch p.key {
		case "path":
			if err := alertPath(p.value); err != nil {
				return nil, fmt.Errorf("alert %q: %w", u.ID, err)
			}
			u.Path = p.value
		case "description":
			u.Description = &p.value
		default:
			return nil, fmt.Errorf("alert %q: unknown option %q: want path, description, or options/meta sections", u.ID, p.key)
		}
	}
	if u.Params, err = parsePatch("options", w.options); err != nil {
		return nil, fmt.Errorf("alert %q: %w", u.ID, err)
	}
	if u.Meta, err = parsePatch("meta", w.meta); err != nil {
		return nil, fmt.Errorf("alert %q: %w", u.ID, err)
	}
	if selectSet {
		s := parseSelect(f.selectKinds)
		u.Select = &s
	}
	if attrsSet {
		s := parseSelect(f.selectAttrs)
		u.SelectAttributes = &s
	}
	if len(ps) == 0 && u.Params.IsZero() && u.Meta.IsZero() && !selectSet && !attrsSet {
		return nil, fmt.Errorf("alert %q: nothing to update", u.ID)
	}
	return u, nil
}

// parseRecipientAdd reads "ALERT-ID [RECIPIENT-ID] value=VALUE
// [description=TEXT] [id=ID] [options ...] [meta ...]". Without an id, it
// is ALERT-ID-recipient (-1, -2, ... when taken, as pcs names it); taken
// nil only checks the words.
func parseRecipientAdd(words []string, taken func(string) bool) (*cib.AddRecipient, error) {
	if len(words) < 2 || strings.Contains(words[0], "=") {
		return nil, fmt.Errorf("alert recipient add: want ALERT-ID [RECIPIENT-ID] value=VALUE [options ...] [meta ...]")
	}
	ar := &cib.AddRecipient{Alert: words[0]}
	if err := validID("alert", ar.Alert); err != nil {
		return nil, err
	}
	rest := words[1:]
	if !strings.Contains(rest[0], "=") && rest[0] != "options" && rest[0] != "meta" {
		ar.Recipient.ID = rest[0]
		rest = rest[1:]
	}
	w, err := splitAlertWords(rest)
	if err != nil {
		return nil, fmt.Errorf("alert %q: recipient: %w", ar.Alert, err)
	}
	top, err := options("recipient", w.top, "value", "description", "id")
	if err != nil {
		return nil, err
	}
	if id, ok := top["id"]; ok {
		if ar.Recipient.ID != "" {
			return nil, fmt.Errorf("recipient %q: give its id once", ar.Recipient.ID)
		}
		ar.Recipient.ID = id
	}
	ar.Recipient.Value, ar.Recipient.Description = top["value"], top["description"]
	if ar.Recipient.Value == "" {
		return nil, fmt.Errorf("alert %q: a recipient needs value=VALUE", ar.Alert)
	}
	if ar.Recipient.ID == "" {
		ar.Recipient.ID = uniqueID(ar.Alert+"-recipient", taken)
	}
	if err := validID("recipient", ar.Recipient.ID); err != nil {
		return nil, err
	}
	if ar.Recipient.Params, err = parseSetMap("options", w.options); err != nil {
		return nil, fmt.Errorf("recipient %q: %w", ar.Recipient.ID, err)
	}
	if ar.Recipient.Meta, err = parseSetMap("meta", w.meta); err != nil {
		return nil, fmt.Errorf("recipient %q: %w", ar.Recipient.ID, err)
	}
	return ar, nil
}

// parseRecipientUpdate reads "RECIPIENT-ID [value=VALUE]
// [description=TEXT] [options ...] [meta ...]".
func parseRecipientUpdate(words []string) (*cib.UpdateRecipient, error) {
	if len(words) == 0 || strings.Contains(words[0], "=") {
		return nil, fmt.Errorf("alert recipient update: give the recipient id")
	}
	u := &cib.UpdateRecipient{ID: words[0]}
	if err := validID("recipient", u.ID); err != nil {
		return nil, err
	}
	w, err := splitAlertWords(words[1:])
	if err != nil {
		return nil, fmt.Errorf("recipient %q: %w", u.ID, err)
	}
	ps, err := parsePairs("recipient "+u.ID, w.top)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		switch p.key {
		case "value":
			if p.value == "" {
				return nil, fmt.Errorf("recipient %q: value cannot be empty", u.ID)
			}
			u.Value = p.value
		case "description":
			u.Description = &p.value
		default:
			return nil, fmt.Errorf("recipient %q: unknown option %q: want value, description, or options/meta sections", u.ID, p.key)
		}
	}
	if u.Params, err = parsePatch("options", w.options); err != nil {
		return nil, fmt.Errorf("recipient %q: %w", u.ID, err)
	}
	if u.Meta, err = parsePatch("meta", w.meta); err != nil {
		return nil, fmt.Errorf("recipient %q: %w", u.ID, err)
	}
	if len(ps) == 0 && u.Params.IsZero() && u.Meta.IsZero() {
		return nil, fmt.Errorf("recipient %q: nothing to update", u.ID)
	}
	return u, nil
}

// listAlerts prints the alerts as pcs's `alert config` does; JSON is the
// configuration's alerts ([] when none).
func listAlerts(cmd *cobra.Command, g *globals) error {
	cfg, err := readConfig(cmd, g)
	if err != nil {
		return err
	}
	if g.json() {
		return printJSON(g.stdout, append([]cib.Alert{}, cfg.Alerts...))
	}
	printAlerts(g.stdout, cfg.Alerts)
	return nil
}

func printAlerts(w io.Writer, as []cib.Alert) {
	if len(as) == 0 {
		fmt.Fprintln(w, "No alerts defined")
		return
	}
	iw := indentWriter{w: w}
	iw.line("Alerts:")
	for _, a := range as {
		ai := iw.in()
		ai.line("Alert: %s (path=%s)", a.ID, a.Path)
		d := ai.in()
		if a.Description != "" {
			d.line("Description: %s", a.Description)
		}
		sel := a.Select
		if len(sel) == 0 {
			sel = slices.DeleteFunc([]string{cib.SelectNodes, cib.SelectResources, cib.SelectFencing, cib.SelectAttributes},
				func(k string) bool { return !a.Selects(k) })
		}
		s := strings.Join(sel, " ")
		if len(a.SelectAttributes) > 0 {
			s += " (attributes " + strings.Join(a.SelectAttributes, " ") + ")"
		}
		d.line("Select: %s", s)
		if len(a.Params) > 0 {
			d.line("Options: %s", formatMap(a.Params))
		}
		if len(a.Meta) > 0 {
			d.line("Meta options: %s", formatMap(a.Meta))
		}
		if len(a.Recipients) == 0 {
			continue
		}
		d.line("Recipients:")
		for _, r := range a.Recipients {
			ri := d.in()
			ri.line("Recipient: %s (value=%s)", r.ID, r.Value)
			rd := ri.in()
			if r.Description != "" {
				rd.line("Description: %s", r.Description)
			}
			if len(r.Params) > 0 {
				rd.line("Options: %s", formatMap(r.Params))
			}
			if len(r.Meta) > 0 {
				rd.line("Meta options: %s", formatMap(r.Meta))
			}
		}
	}
}
