package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/paceline/paceline/agent"
)

func newAgentCmd(g *globals) *cobra.Command {
	var configPath, level string
	cmd := &cobra.Command{
		Use:   "agent --config FILE",
		Short: "Run the node agent (bootstraps or joins the cluster, serves the local API)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configPath == "" {
				return usagef("agent: --config FILE is required (write one with: paceline cluster init)")
			}
			cfg, err := agent.LoadConfig(configPath)
			if err != nil {
				return err
			}
			if level != "" {
				cfg.LogLevel = level
			}
			var lv slog.Level
			if err := lv.UnmarshalText([]byte(orDefault(cfg.LogLevel, "info"))); err != nil {
				return usagef("agent: bad log level %q", cfg.LogLevel)
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lv}))
			agent.Version = version
			if err := agent.Run(cmd.Context(), *cfg, log); err != nil {
				return fmt.Errorf("agent %s: %w", cfg.Name, err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&configPath, "config", "c", "", "node config file (paceline.yaml)")
	cmd.Flags().StringVar(&level, "log-level", "", "override the config's log level: debug, info, warn, error")
	return cmd
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
