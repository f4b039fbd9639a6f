package raftstore

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/paceline/paceline/cib"
)

// committedFile keeps the last configuration this node applied, which
// raft had committed. hashicorp/raft does not persist the commit index: a
// node that restarts alone (a two-node cluster whose peer is down) would
// hold only its last snapshot — possibly nothing — until a leader commits
// again. With this file it starts from its last committed configuration,
// read-only until raft catches up (Store.Config serves whichever of the
// two has the higher epoch: each applied change adds one).
const committedFile = "committed.json"

// loadCommitted reads the file; a missing file is no configuration.
func loadCommitted(dir string) (*cib.Config, error) {
	b, err := os.ReadFile(filepath.Join(dir, committedFile))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var cfg cib.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", committedFile, err)
	}
	return &cfg, nil
}

// saveCommitted writes cfg atomically (temporary file, fsync, rename).
func saveCommitted(dir string, cfg *cib.Config) error {
	b, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, committedFile+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, committedFile))
}

// persistLoop writes the FSM's configuration whenever it changes, the
// newest only (a burst of changes is one write), until the store closes.
func (s *Store) persistLoop(dir string) {
	var saved uint64
	if s.boot != nil {
		saved = s.boot.Epoch // never overwrite it with an older replay
	}
	for {
		_, ch := s.fsm.state()
		if cur := s.fsm.cur.Load(); cur.Epoch > saved {
			if err := saveCommitted(dir, cur); err != nil {
				s.log.Warn("cannot save the committed configuration", "err", err)
			} else {
				saved = cur.Epoch
			}
		}
		select {
		case <-s.ctx.Done():
			return
		case <-ch:
		}
	}
}
