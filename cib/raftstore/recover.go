package raftstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/hashicorp/raft"
)

// Two-node clusters (shared/DESIGN.md, DC election): when one node is
// lost, raft has no majority and so no leader, and the configuration is
// read-only. Once fencing has confirmed the peer down, the survivor may
// make itself the only voter — hashicorp/raft cannot remove a voter
// without a majority, so this is its offline recovery, RecoverCluster,
// with raft stopped and started again around it. Nothing committed is
// lost: with two voters every committed entry is on both nodes. When the
// peer comes back, the survivor tells it it was removed; it discards its
// raft state and joins again, catching up from the survivor.

// RecoverAlone makes this replica the only voter of its raft cluster. The
// caller must know every other voter is down for good (fenced): a voter
// that is not would go on with a diverging configuration.
func (s *Store) RecoverAlone() error {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if s.ctx.Err() != nil {
		return ErrStopped
	}
	old := s.r()
	if old.State() == raft.Leader {
		return errors.New("recover: this node leads raft already")
	}
	f := old.GetConfiguration()
	if err := f.Error(); err != nil {
		return fmt.Errorf("recover: read raft configuration: %w", err)
	}
	self := raft.ServerID(s.opts.Name)
	found := false
	for _, srv := range f.Configuration().Servers {
		found = found || srv.ID == self
	}
	if !found {
		return errors.New("recover: this node is not in its own raft configuration")
	}
	if err := old.Shutdown().Error(); err != nil {
		return fmt.Errorf("recover: stop raft: %w", err)
	}
	conf := raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: self, Address: raft.ServerAddress(s.opts.Advertise)}}}
	// A scratch FSM: RecoverCluster replays the log into it to write a
	// snapshot with the new configuration; the live one is restored from
	// that snapshot by the new raft.
	if err := raft.RecoverCluster(s.rc, newFSM(), s.bolt, s.bolt, s.snaps, s.trans, conf); err != nil {
		return s.restart(fmt.Errorf("recover: %w", err))
	}
	s.log.Warn("raft: recovered as the only voter (the peer is confirmed down)", "node", s.opts.Name)
	return s.restart(nil)
}

// restart starts a new raft on the store's state (after RecoverAlone or a
// reset) and re-registers the observers; cause is returned as is, joined
// with a failure to start.
func (s *Store) restart(cause error) error {
	s.trans = s.newTransport()
	r, err := raft.NewRaft(s.rc, s.fsm, s.bolt, s.bolt, s.snaps, s.trans)
	if err != nil {
		return errors.Join(cause, fmt.Errorf("restart raft: %w", err))
	}
	s.raftp.Store(r)
	s.obsMu.Lock()
	for _, o := range s.obs {
		r.RegisterObserver(o)
	}
	s.obsMu.Unlock()
	return cause
}

// Rejoin discards this replica's raft state (log, snapshots) and joins the
// cluster again through leaderAddr: the survivor of a two-node split has
// removed this node while it was down. Its configuration stays readable
// meanwhile (the last committed one is kept, committed.go).
func (s *Store) Rejoin(leaderAddr string) error {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if s.ctx.Err() != nil {
		return ErrStopped
	}
	old := s.r()
	if old.State() == raft.Leader {
		return errors.New("rejoin: this node leads raft: it was not removed")
	}
	if err := old.Shutdown().Error(); err != nil {
		return fmt.Errorf("rejoin: stop raft: %w", err)
	}
	if err := s.bolt.Close(); err != nil {
		return fmt.Errorf("rejoin: close the raft log: %w", err)
	}
	for _, pat := range []string{"raft.db", "snapshots"} {
		if err := os.RemoveAll(filepath.Join(s.dir, pat)); err != nil {
			return fmt.Errorf("rejoin: remove %s: %w", pat, err)
		}
	}
	var err error
	if s.bolt, err = raftboltdb.New(raftboltdb.Options{Path: filepath.Join(s.dir, "raft.db")}); err != nil {
		return fmt.Errorf("rejoin: raft log store: %w", err)
	}
	if s.snaps, err = raft.NewFileSnapshotStoreWithLogger(s.dir, 2, newHclogAdapter(s.opts.Logger.With("component", "raft"))); err != nil {
		return fmt.Errorf("rejoin: raft snapshot store: %w", err)
	}
	if err := s.restart(nil); err != nil {
		return err
	}
	s.log.Warn("raft: state discarded (this node was removed while it was down); joining again", "via", leaderAddr)
	s.opts.Join = []string{leaderAddr}
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.joinLoop() }()
	return nil
}

// Voters lists the raft configuration's voters by name.
func (s *Store) Voters() ([]string, error) {
	f := s.r().GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, err
	}
	var out []string
	for _, srv := range f.Configuration().Servers {
		if srv.Suffrage == raft.Voter {
			out = append(out, string(srv.ID))
		}
	}
	return out, nil
}
