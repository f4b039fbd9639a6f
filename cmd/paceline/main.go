// Command paceline is Paceline's one binary: the node agent
// (`paceline agent`) and the pcs-like CLI that talks to it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/paceline/paceline/agent"
	"github.com/paceline/paceline/api"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// globals are the flags every CLI command shares.
type globals struct {
	socket string
	output string // "text" or "json"
	stdout io.Writer
	stderr io.Writer
}

func (g *globals) client() *api.Client { return api.NewClient(g.socket) }

// json reports whether -o json was asked for.
func (g *globals) json() bool { return g.output == "json" }

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "paceline",
		Short:         "Paceline: a high-availability cluster manager",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if g.output != "text" && g.output != "json" {
				return fmt.Errorf("bad --output %q: want text or json", g.output)
			}
			return nil
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	sock := os.Getenv("PACELINE_SOCKET")
	if sock == "" {
		sock = agent.DefaultSocket
	}
	root.PersistentFlags().StringVarP(&g.socket, "socket", "s", sock, "the local agent's API socket (env PACELINE_SOCKET)")
	root.PersistentFlags().StringVarP(&g.output, "output", "o", "text", "output format: text or json")
	root.AddCommand(
		newAgentCmd(g),
		newClusterCmd(g),
		newKeyCmd(g),
		newSimulateCmd(g),
		newOCFCmd(g),
		newAlertCmd(g), // alert.go
		newVRRPCmd(g),  // vrrp_cmd.go
		newGenCmd(g),   // gen_cmd.go: man pages, completion files (hidden)
		newCheckCmd(g), // check.go
		newAuditCmd(g), // audit.go
	)
	addConfigCommands(root, g)
	return root
}

func main() {
	if isShim(os.Args[0]) {
		shimMain() // called as one of lrm.PacemakerTools (crm_attribute, crm_mon, cibadmin, ...)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd(os.Stdout, os.Stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		var ec exitCode
		if errors.As(err, &ec) {
			os.Exit(int(ec)) // an OCF agent's return code: nothing to print
		}
		// A validation error lists one problem per line: indent the rest.
		fmt.Fprintln(os.Stderr, "Error:", strings.ReplaceAll(err.Error(), "\n", "\n  "))
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// exitCode is a command's result that is only an exit status (an OCF
// agent's return code from `paceline ocf`).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// usageError marks errors in how a command was called (exit status 2).
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

// usagef returns a usageError.
func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }
