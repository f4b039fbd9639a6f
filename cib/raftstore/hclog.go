package raftstore

import (
	"log/slog"

	"github.com/hashicorp/go-hclog"

	"github.com/paceline/paceline/logbridge"
)

// newHclogAdapter returns an hclog.Logger (what raft wants) that writes
// each line into slog at the matching level.
func newHclogAdapter(l *slog.Logger) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:        "raft",
		Level:       hclog.Info,
		Output:      logbridge.Writer{L: l, Prefix: "raft: "},
		DisableTime: true,
	})
}
