package main

// `paceline audit`: the local agent's audit log (docs/hardening.md).

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/paceline/paceline/api"
)

func newAuditCmd(g *globals) *cobra.Command {
	var tail int
	c := leaf(g, "audit [--tail N]", "Show the local agent's audit log: who changed what, when, and the result (newest last)",
		func(cmd *cobra.Command, args []string) error {
			if err := wantArgs(args, 0, 0, "no arguments"); err != nil {
				return err
			}
			if tail < 0 {
				return usagef("audit: bad --tail %d: want 0 or more", tail)
			}
			rep, err := g.client().Audit(cmd.Context(), tail)
			if err != nil {
				return agentError(err)
			}
			if g.json() {
				return printJSON(g.stdout, rep)
			}
			printAudit(g, rep)
			return nil
		})
	c.Flags().IntVar(&tail, "tail", 50, "show the last N entries")
	return c
}

// printAudit writes one line per entry: time, who, what, result.
func printAudit(g *globals, rep *api.AuditReply) {
	if len(rep.Entries) == 0 {
		fmt.Fprintf(g.stdout, "No audit entries on %s\n", rep.Node)
	}
	tw := newTable(g.stdout)
	for _, e := range rep.Entries {
		who := "?"
		if p := e.Peer; p != nil {
			who = p.User
			if who == "" {
				who = "uid " + strconv.FormatUint(uint64(p.UID), 10)
			}
			who += " (pid " + strconv.Itoa(int(p.PID)) + ")"
		}
		what := e.Action
		if e.Command != "" {
			what = e.Command
		}
		if e.DryRun {
			what += " (dry run)"
		}
		result := "ok"
		switch {
		case e.Error != "":
			result = fmt.Sprintf("refused (%d): %s", e.Status, e.Error)
		case e.Epoch != 0 && !e.DryRun:
			result = fmt.Sprintf("epoch %d", e.Epoch)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Time.Local().Format("2006-01-02 15:04:05"), who, what, e.Summary, result)
	}
	tw.Flush()
	if rep.Skipped > 0 {
		fmt.Fprintf(g.stderr, "Warning: %d lines of the audit log did not decode\n", rep.Skipped)
	}
}
