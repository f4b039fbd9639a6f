package raftstore

import (
	"bytes"
	"context"
	"log/slog"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// newHclogAdapter returns an hclog.Logger (what raft wants) that writes
// each line into slog at the matching level.
func newHclogAdapter(l *slog.Logger) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:            "raft",
		Level:           hclog.Info,
		Output:          slogWriter{l},
		DisableTime:     true,
		IncludeLocation: false,
	})
}

type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimSpace(p), []byte("\n")) {
		s := strings.TrimSpace(string(line))
		level := slog.LevelInfo
		for tag, lv := range map[string]slog.Level{
			"[TRACE]": slog.LevelDebug - 4, "[DEBUG]": slog.LevelDebug, "[INFO]": slog.LevelInfo,
			"[WARN]": slog.LevelWarn, "[ERROR]": slog.LevelError,
		} {
			if strings.HasPrefix(s, tag) {
				level, s = lv, strings.TrimSpace(strings.TrimPrefix(s, tag))
				break
			}
		}
		s = strings.TrimPrefix(s, "raft: ")
		w.l.Log(context.Background(), level, s)
	}
	return len(p), nil
}
