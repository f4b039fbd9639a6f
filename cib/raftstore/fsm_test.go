package raftstore

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/paceline/paceline/cib"
)

func entry(t *testing.T, idx uint64, cmd cib.Command) *raft.Log {
	t.Helper()
	b, err := cib.EncodeCommand(cib.Envelope{Origin: "n1", Time: time.Unix(1700000000, 0), Cmd: cmd})
	if err != nil {
		t.Fatal(err)
	}
	return &raft.Log{Index: idx, Type: raft.LogCommand, Data: b}
}

func TestFSMAppliesAndRejects(t *testing.T) {
	f := newFSM()
	r := f.Apply(entry(t, 1, &cib.CreatePrimitive{Primitive: cib.Primitive{ID: "a", Agent: "ocf:pacemaker:Dummy"}})).(*applyResult)
	if r.Err != nil || r.Epoch != 1 {
		t.Fatalf("first apply: %+v", r)
	}
	r = f.Apply(entry(t, 2, &cib.CreatePrimitive{Primitive: cib.Primitive{ID: "a", Agent: "ocf:pacemaker:Dummy"}})).(*applyResult)
	if r.Err == nil || r.Epoch != 1 || f.cur.Load().Epoch != 1 {
		t.Fatalf("duplicate id: want rejection at epoch 1, got %+v (epoch %d)", r, f.cur.Load().Epoch)
	}
	if applied, _ := f.state(); applied != 2 {
		t.Fatalf("applied index %d, want 2 (a rejected entry is still consumed)", applied)
	}
	if lc := f.cur.Load().LastChange; lc == nil || lc.Origin != "n1" || !lc.Time.Equal(time.Unix(1700000000, 0)) {
		t.Fatalf("last change %+v: want the command's own origin and time", lc)
	}
}

func TestFSMStopsOnUnreadableEntry(t *testing.T) {
	f := newFSM()
	r := f.Apply(&raft.Log{Index: 7, Type: raft.LogCommand, Data: []byte{0x42, 1, '{', '}'}}).(*applyResult)
	if !errors.Is(r.Err, cib.ErrUnknownCommand) {
		t.Fatalf("unknown type: got %v", r.Err)
	}
	select {
	case <-f.fatalCh:
	default:
		t.Fatal("fatal channel not closed")
	}
	if f.fatal == nil || !bytes.Contains([]byte(f.fatal.Error()), []byte("index 7")) {
		t.Fatalf("fatal error must name the index: %v", f.fatal)
	}
	// Nothing after it is applied: skipping would let replicas diverge.
	r = f.Apply(entry(t, 8, &cib.RegisterNode{Name: "n1"})).(*applyResult)
	if r.Err == nil || f.cur.Load().Epoch != 0 {
		t.Fatalf("an entry after the fatal one was applied: %+v", r)
	}
}

func TestFSMSkipsIgnorableEntry(t *testing.T) {
	f := newFSM()
	r := f.Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: []byte{0x80 | 0x33, 1, '{', '}'}}).(*applyResult)
	if r.Err != nil || f.fatal != nil {
		t.Fatalf("ignorable unknown type must be skipped: %+v, fatal %v", r, f.fatal)
	}
}

type sink struct{ bytes.Buffer }

func (s *sink) ID() string    { return "test" }
func (s *sink) Cancel() error { return nil }
func (s *sink) Close() error  { return nil }

func TestFSMSnapshotRestore(t *testing.T) {
	f := newFSM()
	f.Apply(entry(t, 1, &cib.CreatePrimitive{Primitive: cib.Primitive{ID: "a", Agent: "ocf:pacemaker:Dummy", Params: map[string]string{"k": "v"}}}))
	f.Apply(entry(t, 2, &cib.SetProperties{Patch: cib.Patch{Set: map[string]string{"stonith-enabled": "true"}}}))
	snap, _ := f.Snapshot()
	var s sink
	if err := snap.Persist(&s); err != nil {
		t.Fatal(err)
	}
	g := newFSM()
	if err := g.Restore(io.NopCloser(&s)); err != nil {
		t.Fatal(err)
	}
	got, want := g.cur.Load(), f.cur.Load()
	if got.Epoch != want.Epoch || got.Primitive("a") == nil || got.Primitive("a").Params["k"] != "v" || got.Properties["stonith-enabled"] != "true" {
		t.Fatalf("restored %+v, want %+v", got, want)
	}
	if err := g.Restore(io.NopCloser(bytes.NewReader([]byte("{not json")))); err == nil {
		t.Fatal("a corrupt snapshot restored without error")
	}
}
