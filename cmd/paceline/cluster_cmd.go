package main

import "github.com/spf13/cobra"

func newClusterCmd(g *globals) *cobra.Command {
	return &cobra.Command{Use: "cluster", Short: "Create and inspect the cluster"}
}
