package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/paceline/paceline/agents"
	"github.com/paceline/paceline/agents/ocf"
)

// newOCFCmd runs the built-in agents as OCF executables, and installs the
// wrappers that let other tools (ocf-tester, Pacemaker) find them.
func newOCFCmd(g *globals) *cobra.Command {
	builtins := agents.Builtins(nil)
	names := slices.Sorted(maps.Keys(builtins))
	c := &cobra.Command{
		Use:   "ocf TYPE ACTION",
		Short: "Run a built-in agent (ocf:paceline:TYPE) as an OCF executable, with OCF_RESKEY_* from the environment",
		Long: "Run a built-in agent as an OCF resource agent executable: the action is the argument, the\n" +
			"parameters come from OCF_RESKEY_* environment variables, the exit status is the OCF return code.\n" +
			"Built-in agents: " + strings.Join(names, ", ") + ".\n\n" +
			"  OCF_RESKEY_state=/tmp/d.state paceline ocf dummy start; echo $?",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
				return cmd.Help()
			}
			if len(args) == 0 {
				return usagef("want TYPE ACTION (TYPE one of %s), or install", strings.Join(names, ", "))
			}
			ag, ok := builtins[args[0]]
			if !ok {
				return usagef("no built-in agent %q: want one of %s", args[0], strings.Join(names, ", "))
			}
			rc := ocf.Main(cmd.Context(), ag, args[1:], os.Environ(), g.stdout, g.stderr)
			if rc != 0 {
				return exitCode(rc)
			}
			return nil
		},
	}
	c.AddCommand(newOCFInstallCmd(g, names))
	return c
}

// newOCFInstallCmd writes $OCF_ROOT/resource.d/paceline/TYPE wrappers.
func newOCFInstallCmd(g *globals, names []string) *cobra.Command {
	var root, binary string
	c := &cobra.Command{
		Use:   "install",
		Short: "Install the built-in agents as OCF executables under OCF_ROOT/resource.d/paceline/",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if binary == "" {
				exe, err := os.Executable()
				if err != nil {
					return fmt.Errorf("finding this binary (give --binary): %w", err)
				}
				binary = exe
			}
			if !filepath.IsAbs(binary) {
				return usagef("--binary %q: want an absolute path", binary)
			}
			dir := filepath.Join(root, "resource.d", ocf.Provider)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("creating %s: %w", dir, err)
			}
			for _, n := range names {
				path := filepath.Join(dir, n)
				script := fmt.Sprintf("#!/bin/sh\n# ocf:%s:%s, built into Paceline.\nexec %s ocf %s \"$@\"\n", ocf.Provider, n, shellQuote(binary), n)
				tmp := path + ".tmp"
				if err := os.WriteFile(tmp, []byte(script), 0o755); err != nil {
					return fmt.Errorf("writing %s: %w", tmp, err)
				}
				if err := os.Rename(tmp, path); err != nil {
					return fmt.Errorf("installing %s: %w", path, err)
				}
				fmt.Fprintln(g.stdout, "installed", path)
			}
			return nil
		},
	}
	c.Flags().StringVar(&root, "root", ocf.DefaultRoot, "OCF_ROOT to install under")
	c.Flags().StringVar(&binary, "binary", "", "the paceline binary the wrappers run (default: this one)")
	return c
}

// shellQuote quotes a path for a /bin/sh script.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
