// Package logbridge carries the text logs of libraries that do not speak
// log/slog (hashicorp/raft's hclog, memberlist's log.Logger) into slog, at
// the level their "[LEVEL]" tag names.
package logbridge

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
)

// Writer is an io.Writer that logs each line it is given to L, stripping a
// leading "[LEVEL]" tag and an optional "prefix: " (e.g. "raft: ").
type Writer struct {
	L      *slog.Logger
	Prefix string
}

var levels = []struct {
	tag   string
	level slog.Level
}{
	{"[TRACE]", slog.LevelDebug - 4}, {"[DEBUG]", slog.LevelDebug}, {"[INFO]", slog.LevelInfo},
	{"[WARN]", slog.LevelWarn}, {"[ERR]", slog.LevelError}, {"[ERROR]", slog.LevelError},
}

func (w Writer) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimSpace(p), []byte("\n")) {
		s := string(line)
		level := slog.LevelInfo
		// memberlist prefixes a timestamp; the tag may follow it.
		if i := strings.Index(s, "["); i >= 0 {
			for _, l := range levels {
				if strings.HasPrefix(s[i:], l.tag) {
					level, s = l.level, s[i+len(l.tag):]
					break
				}
			}
		}
		s = strings.TrimPrefix(strings.TrimSpace(s), w.Prefix)
		w.L.Log(context.Background(), level, s)
	}
	return len(p), nil
}
