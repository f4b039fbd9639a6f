package main

// `paceline check`: crm_verify for Paceline. It validates a configuration
// (a file or the live cluster's) and reviews it for risky settings
// (cib.Check); see docs/hardening.md for the rules and exit codes.

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/paceline/paceline/cib"
)

// checkView is the JSON of `paceline check`.
type checkView struct {
	// Source is the file checked, or "live" for the agent's configuration.
	Source   string        `json:"source"`
	Epoch    uint64        `json:"epoch"`
	Errors   int           `json:"errors"`
	Warnings int           `json:"warnings"`
	Findings []cib.Finding `json:"findings"`
}

// Exit statuses of `paceline check`, like crm_verify's: 0 valid (warnings
// allowed unless --strict), 1 errors (or warnings with --strict) or the
// configuration could not be read, 2 a usage error.
const (
	checkExitFindings = 1
)

func newCheckCmd(g *globals) *cobra.Command {
	var file string
	var strict bool
	c := leaf(g, "check [--file FILE] [--strict]", "Validate a configuration (a YAML/JSON file, - for stdin, or the live cluster's) and warn about risky settings, like crm_verify",
		func(cmd *cobra.Command, args []string) error {
			if err := wantArgs(args, 0, 0, "no arguments (use --file to check a file)"); err != nil {
				return err
			}
			view := checkView{Source: "live"}
			var cfg *cib.Config
			if file != "" {
				view.Source = file
				var data []byte
				var err error
				if file == "-" {
					data, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), maxCheckFile+1))
				} else {
					data, err = readLimited(file, maxCheckFile)
				}
				if err != nil {
					return fmt.Errorf("check: %w", err)
				}
				if len(data) > maxCheckFile {
					return fmt.Errorf("check %s: the file is larger than %d bytes", file, maxCheckFile)
				}
				cfg, err = decodeConfig(data, file)
				if err != nil {
					view.Findings = []cib.Finding{{Severity: cib.SeverityError, Rule: cib.RuleInvalid, Object: file, Message: err.Error()}}
				}
			} else {
				var err error
				if cfg, err = readConfig(cmd, g); err != nil {
					return err
				}
			}
			if cfg != nil {
				view.Epoch = cfg.Epoch
				view.Findings = cib.Check(cfg)
			}
			if view.Findings == nil {
				view.Findings = []cib.Finding{}
			}
			view.Errors, view.Warnings = cib.CheckCounts(view.Findings)
			if err := printCheck(g, view); err != nil {
				return err
			}
			if view.Errors > 0 || (strict && view.Warnings > 0) {
				return exitCode(checkExitFindings)
			}
			return nil
		})
	c.Flags().StringVar(&file, "file", "", "check this YAML or JSON file (as `paceline config import` reads it; - reads stdin) instead of the live configuration")
	c.Flags().BoolVar(&strict, "strict", false, "exit 1 on warnings too")
	return c
}

// maxCheckFile bounds the file `check` reads (a configuration of thousands
// of resources is a few megabytes).
const maxCheckFile = 64 << 20

// readLimited reads at most limit+1 bytes of a file, so the caller can
// tell that it is too large.
func readLimited(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit+1))
}

// printCheck writes the findings: JSON, or one "error: ..." or
// "warning: ..." line each and a summary.
func printCheck(g *globals, v checkView) error {
	if g.json() {
		return printJSON(g.stdout, v)
	}
	for _, f := range v.Findings {
		fmt.Fprintf(g.stdout, "%s: %s: %s\n", f.Severity, f.Object, f.Message)
	}
	what := "the live configuration"
	if v.Source != "live" {
		what = v.Source
	} else {
		what = fmt.Sprintf("%s (epoch %d)", what, v.Epoch)
	}
	switch {
	case v.Errors > 0:
		fmt.Fprintf(g.stdout, "%s is not valid: %s, %s\n", what, plural(v.Errors, "error"), plural(v.Warnings, "warning"))
	case v.Warnings > 0:
		fmt.Fprintf(g.stdout, "%s is valid, with %s\n", what, plural(v.Warnings, "warning"))
	default:
		fmt.Fprintf(g.stdout, "%s is valid: no errors or warnings\n", what)
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
