package ping

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/paceline/paceline/agents/ocf"
)

// state is what a started instance remembers between actions, in its
// state file: the file exists while the instance is started (as
// ocf:pacemaker:ping's pseudo-resource file), and it carries the
// dampening of the attribute from one monitor to the next — also when
// each action is a process of its own (the OCF executable).
type state struct {
	// Written is the value last set.
	Written string `json:"written"`
	// Pending is a value the probes gave that differs from Written and
	// is not set yet: it must hold for the dampen time first.
	Pending string `json:"pending,omitempty"`
	// Since is when the probes first gave Pending (wall clock: the file
	// outlives processes).
	Since time.Time `json:"since,omitzero"`
}

// observe is the dampening, as attrd's: given the value just measured
// at now, it returns the next state and whether its Written value is to
// be set now. A value that differs from the one set is set only once
// the probes have given it continuously for dampen (0: at once); a
// different value meanwhile starts the wait again, and the value set
// coming back cancels it. With nothing set yet (a damaged state file),
// the value is set at once.
func (s state) observe(v string, now time.Time, dampen time.Duration) (state, bool) {
	if s.Written == "" {
		return state{Written: v}, true
	}
	if v == s.Written {
		return state{Written: s.Written}, false
	}
	// A clock stepped back must not stretch the wait without end.
	if v != s.Pending || s.Since.IsZero() || now.Before(s.Since) {
		s.Pending, s.Since = v, now
	}
	if now.Sub(s.Since) >= dampen {
		return state{Written: v}, true
	}
	return s, false
}

// statePath is the instance's state file: one per node and instance in
// state_dir (several nodes on one machine, as in tests, each get their
// own), as ocf:paceline:dummy's.
func statePath(a *ocf.Action, p *params) string {
	clean := strings.NewReplacer("/", "_", ":", "_")
	name := clean.Replace(a.Instance)
	if name == "" {
		name = "default"
	}
	if node := a.Meta["on_node"]; node != "" {
		name = clean.Replace(node) + "-" + name
	}
	return filepath.Join(p.stateDir, "paceline-ping-"+name+".state")
}

// readState reads the state file; ok is false when the instance is not
// started (no file).
func readState(path string) (st state, ok bool, err error) {
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return state{}, false, nil
	case err != nil:
		return state{}, false, fmt.Errorf("state file: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		// A damaged file still says "started"; the next monitor sets the
		// attribute again.
		return state{}, true, nil
	}
	return st, true, nil
}

// writeState replaces the state file (atomically: a monitor cut short
// leaves the old one).
func writeState(path string, st state) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("state file: %w", err)
	}
	return nil
}

// removeState forgets the instance (it is stopped).
func removeState(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("state file: %w", err)
	}
	return nil
}
