package lrm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
)

// dropInContent is the drop-in of a unit: the [Service] section only for
// services (other unit types have no Restart=).
func dropInContent(unit string) string {
	var b strings.Builder
	b.WriteString("# Written by Paceline: the cluster starts and stops this unit.\n")
	b.WriteString("# Removed when the cluster stops it.\n")
	b.WriteString("[Unit]\n")
	fmt.Fprintf(&b, "Description=Cluster Controlled %s\n", unit)
	fmt.Fprintf(&b, "Before=%s\n", systemdManagerUnit)
	if strings.HasSuffix(unit, ".service") {
		b.WriteString("\n[Service]\nRestart=no\n")
	}
	return b.String()
}

// DropInPath is where the runner writes a unit's drop-in.
func (s *Systemd) DropInPath(unit string) string {
	return filepath.Join(s.unitDir, unit+".d", systemdDropIn)
}

// writeDropIn puts the unit's drop-in in place and has systemd read it,
// if it is not already there. A failure is logged, not fatal: the unit
// still starts, only without the override (as in Pacemaker).
func (s *Systemd) writeDropIn(ctx context.Context, c *sddbus.Conn, rsc, unit string) {
	path := s.DropInPath(unit)
	want := dropInContent(unit)
	if got, err := os.ReadFile(path); err == nil && string(got) == want {
		return
	}
	if err := writeFileAtomic(path, []byte(want)); err != nil {
		s.log.Warn("systemd: cannot write drop-in", "resource", rsc, "unit", unit, "err", err)
		return
	}
	if err := s.daemonReload(ctx, c); err != nil {
		s.log.Warn("systemd: daemon-reload after writing drop-in failed", "resource", rsc, "unit", unit, "err", err)
	}
}

// removeDropIn removes the unit's drop-in, if any, and has systemd forget
// it.
func (s *Systemd) removeDropIn(ctx context.Context, c *sddbus.Conn, rsc, unit string) {
	path := s.DropInPath(unit)
	if err := os.Remove(path); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("systemd: cannot remove drop-in", "resource", rsc, "unit", unit, "err", err)
		}
		return
	}
	_ = os.Remove(filepath.Dir(path)) // only if empty
	if err := s.daemonReload(ctx, c); err != nil {
		s.log.Warn("systemd: daemon-reload after removing drop-in failed", "resource", rsc, "unit", unit, "err", err)
	}
}

// daemonReload returns once systemd has reloaded its units after the
// caller's change to a drop-in. A daemon-reload re-reads every unit (about
// 0.1 s on a Debian host, longer on big ones, and systemd does nothing
// else meanwhile), so concurrent callers share one: a caller waits for
// the reload under way, which may have begun before its change, then
// for the next one, which one of the waiters runs for all.
func (s *Systemd) daemonReload(ctx context.Context, c *sddbus.Conn) error {
	r := &s.reloads
	r.mu.Lock()
	r.changes++
	mine := r.changes
	for r.covered < mine {
		if r.running {
			wake := r.wake
			r.mu.Unlock()
			select {
			case <-wake:
			case <-ctx.Done():
				return ctx.Err()
			}
			r.mu.Lock()
			continue
		}
		r.running = true
		upto := r.changes
		r.mu.Unlock()
		err := c.ReloadContext(ctx)
		s.log.Debug("systemd: daemon-reload", "changes", upto, "err", err)
		r.mu.Lock()
		r.running = false
		if err == nil && upto > r.covered {
			r.covered = upto
		}
		close(r.wake)
		r.wake = make(chan struct{})
		if err != nil {
			r.mu.Unlock()
			return fmt.Errorf("daemon-reload: %w", err)
		}
	}
	r.mu.Unlock()
	return nil
}

// writeFileAtomic writes a world-readable file through a temporary name
// systemd ignores (it reads only *.conf), then renames it into place.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("drop-in dir: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".paceline-*.tmp")
	if err != nil {
		return fmt.Errorf("drop-in %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("drop-in %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("drop-in %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("drop-in %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("drop-in %s: %w", path, err)
	}
	return nil
}
