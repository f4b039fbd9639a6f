package main

import "github.com/spf13/cobra"

func newAgentCmd(g *globals) *cobra.Command {
	return &cobra.Command{Use: "agent", Short: "Run the node agent"}
}
