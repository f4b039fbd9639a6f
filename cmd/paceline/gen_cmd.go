package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newGenCmd is the hidden `paceline gen`: the files a package ships that
// are made from the command tree itself (make man, make install,
// scripts/build-deb.sh), so they never drift from the binary.
func newGenCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:    "gen",
		Short:  "Generate man pages and shell completion files from the command tree (packaging)",
		Hidden: true,
	}
	c.AddCommand(newGenManCmd(g), newGenCompletionCmd(g))
	return c
}

// newGenManCmd writes one man page (section 1) per command.
func newGenManCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "man DIR",
		Short: "Write a man page per command (paceline.1, paceline-resource-create.1, ...) into DIR",
		Long: "Writes a section 1 man page per command into DIR. The date in the pages is\n" +
			"SOURCE_DATE_EPOCH's when it is set (reproducible builds), else today's.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			date, err := sourceDate()
			if err != nil {
				return err
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("man pages: %w", err)
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true
			hdr := &doc.GenManHeader{
				Section: "1", Date: &date, // Title: each page its command path (PACELINE-AGENT)
				Source: "Paceline " + version, Manual: "Paceline Manual",
			}
			if err := doc.GenManTree(root, hdr, dir); err != nil {
				return fmt.Errorf("man pages in %s: %w", dir, err)
			}
			n, err := filepath.Glob(filepath.Join(dir, "*.1"))
			if err != nil {
				return fmt.Errorf("man pages in %s: %w", dir, err)
			}
			fmt.Fprintf(g.stdout, "wrote %d man pages into %s\n", len(n), dir)
			return nil
		},
	}
}

// newGenCompletionCmd writes the bash, zsh and fish completion scripts
// (what `paceline completion SHELL` prints) under their usual names.
func newGenCompletionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "completion DIR",
		Short: "Write DIR/paceline.bash, DIR/_paceline (zsh) and DIR/paceline.fish",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("completions: %w", err)
			}
			root := cmd.Root()
			for _, f := range []struct {
				name string
				gen  func(string) error
			}{
				{"paceline.bash", func(p string) error { return root.GenBashCompletionFileV2(p, true) }},
				{"_paceline", root.GenZshCompletionFile},
				{"paceline.fish", func(p string) error { return root.GenFishCompletionFile(p, true) }},
			} {
				p := filepath.Join(dir, f.name)
				if err := f.gen(p); err != nil {
					return fmt.Errorf("completion %s: %w", p, err)
				}
				fmt.Fprintln(g.stdout, "wrote", p)
			}
			return nil
		},
	}
}

// sourceDate is SOURCE_DATE_EPOCH (reproducible-builds.org) in UTC, or now.
func sourceDate() (time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Now().UTC(), nil
	}
	secs, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, usagef("SOURCE_DATE_EPOCH %q: want seconds since 1970", v)
	}
	return time.Unix(secs, 0).UTC(), nil
}
