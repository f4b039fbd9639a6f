package raftstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"

	"github.com/paceline/paceline/cib"
)

// applyResult is what FSM.Apply returns for one log entry.
type applyResult struct {
	Epoch uint64
	Notes []string
	Err   error
}

// fsm applies configuration commands. The current configuration is an
// immutable *cib.Config swapped atomically, so reads are lock-free and a
// snapshot is a pointer copy.
type fsm struct {
	cur atomic.Pointer[cib.Config]

	mu      sync.Mutex
	applied uint64        // raft index of the last applied entry
	changed chan struct{} // closed and replaced after every apply
	fatal   error         // set once: an entry could not be decoded
	fatalCh chan struct{} // closed when fatal is set
}

func newFSM() *fsm {
	f := &fsm{changed: make(chan struct{}), fatalCh: make(chan struct{})}
	f.cur.Store(&cib.Config{})
	return f
}

// Apply implements raft.FSM. It is deterministic: the command's own time
// and origin ride in the entry, and cib.Config.Apply does no I/O.
func (f *fsm) Apply(l *raft.Log) any {
	res := f.apply(l)
	f.mu.Lock()
	f.applied = l.Index
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
	return res
}

func (f *fsm) apply(l *raft.Log) *applyResult {
	if l.Type != raft.LogCommand {
		return nil
	}
	f.mu.Lock()
	fatal := f.fatal
	f.mu.Unlock()
	if fatal != nil {
		return &applyResult{Err: fatal}
	}
	env, err := cib.DecodeCommand(l.Data)
	if errors.Is(err, cib.ErrIgnorableCommand) {
		return &applyResult{Epoch: f.cur.Load().Epoch, Notes: []string{"skipped: " + err.Error()}}
	}
	if err != nil {
		// Never skip an entry we cannot read: every node would diverge.
		fatal := fmt.Errorf("raft log index %d: %w; the store stops", l.Index, err)
		f.mu.Lock()
		f.fatal = fatal
		close(f.fatalCh)
		f.mu.Unlock()
		return &applyResult{Err: fatal}
	}
	cur := f.cur.Load()
	next, notes, err := cur.Apply(env)
	if err != nil {
		return &applyResult{Epoch: cur.Epoch, Err: err}
	}
	f.cur.Store(next)
	return &applyResult{Epoch: next.Epoch, Notes: notes}
}

// state returns the applied index and the channel closed at the next apply.
func (f *fsm) state() (uint64, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applied, f.changed
}

// Snapshot implements raft.FSM: the configuration is immutable, so the
// snapshot is the current pointer; Persist does the encoding.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	return &snapshot{cfg: f.cur.Load()}, nil
}

// Restore implements raft.FSM: decode a new configuration and swap it in.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var cfg cib.Config
	if err := json.NewDecoder(rc).Decode(&cfg); err != nil {
		return fmt.Errorf("restore configuration snapshot: %w", err)
	}
	f.cur.Store(&cfg)
	f.mu.Lock()
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
	return nil
}

type snapshot struct{ cfg *cib.Config }

func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	if err := json.NewEncoder(sink).Encode(s.cfg); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("persist configuration snapshot (epoch %d): %w", s.cfg.Epoch, err)
	}
	return sink.Close()
}

func (s *snapshot) Release() {}
