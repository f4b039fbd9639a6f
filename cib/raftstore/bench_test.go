package raftstore

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/paceline/paceline/cib"
)

// bigConfig makes a configuration of nPrim primitives (every fifth group of
// five in a group) and 2*nPrim constraints: a location preference and either
// a colocation or an order per primitive.
func bigConfig(nPrim int) *cib.Config {
	c := &cib.Config{}
	for i := range 3 {
		c.Nodes = append(c.Nodes, cib.Node{Name: fmt.Sprintf("n%d", i+1)})
	}
	for i := range nPrim {
		id := fmt.Sprintf("r%05d", i)
		c.Primitives = append(c.Primitives, cib.Primitive{
			ID: id, Agent: "ocf:pacemaker:Dummy",
			Params: map[string]string{"state": "/run/" + id},
			Ops:    []cib.Op{{Name: "monitor", Interval: cib.Duration(10e9), Timeout: cib.Duration(20e9)}},
		})
		c.Constraints.Location = append(c.Constraints.Location, cib.Location{
			ID: "loc-" + id, Rsc: id, Node: fmt.Sprintf("n%d", i%3+1), Score: cib.Score(i % 100)})
		if i%2 == 0 && i+1 < nPrim {
			c.Constraints.Colocation = append(c.Constraints.Colocation, cib.Colocation{
				ID: "col-" + id, Rsc: id, WithRsc: fmt.Sprintf("r%05d", i+1), Score: 100})
		} else if i+1 < nPrim {
			c.Constraints.Order = append(c.Constraints.Order, cib.Order{
				ID: "ord-" + id, First: id, Then: fmt.Sprintf("r%05d", i+1),
				FirstAction: "start", ThenAction: "start", Kind: "optional", Symmetrical: true})
		}
	}
	for g := 0; g+5 <= nPrim/10; g += 5 {
		grp := cib.Group{ID: fmt.Sprintf("g%05d", g)}
		for k := range 5 {
			grp.Members = append(grp.Members, fmt.Sprintf("r%05d", g+k))
		}
		c.Groups = append(c.Groups, grp)
	}
	return c
}

func replaceEntry(b *testing.B, cfg *cib.Config) *raft.Log {
	data, err := cib.EncodeCommand(cib.Envelope{Origin: "bench", Cmd: &cib.ReplaceConfig{Config: cfg}})
	if err != nil {
		b.Fatal(err)
	}
	return &raft.Log{Index: 1, Type: raft.LogCommand, Data: data}
}

// BenchmarkApplyReplace10k applies (decode, copy, validate, swap) a whole
// configuration of 10,000 resources and ~20,000 constraints.
func BenchmarkApplyReplace10k(b *testing.B) {
	l := replaceEntry(b, bigConfig(10_000))
	b.ReportMetric(float64(len(l.Data)), "entry-bytes")
	for b.Loop() {
		f := newFSM()
		if r := f.Apply(l).(*applyResult); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
}

// BenchmarkApplyOneChangeOn10k is one small change on top of that.
func BenchmarkApplyOneChangeOn10k(b *testing.B) {
	f := newFSM()
	if r := f.Apply(replaceEntry(b, bigConfig(10_000))).(*applyResult); r.Err != nil {
		b.Fatal(r.Err)
	}
	i := 0
	for b.Loop() {
		i++
		data, _ := cib.EncodeCommand(cib.Envelope{Cmd: &cib.SetProperties{Patch: cib.Patch{Set: map[string]string{"cluster-name": fmt.Sprint(i)}}}})
		if r := f.Apply(&raft.Log{Index: uint64(i + 1), Type: raft.LogCommand, Data: data}).(*applyResult); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
}

// BenchmarkSnapshotRestore10k persists and restores that configuration.
func BenchmarkSnapshotRestore10k(b *testing.B) {
	f := newFSM()
	if r := f.Apply(replaceEntry(b, bigConfig(10_000))).(*applyResult); r.Err != nil {
		b.Fatal(r.Err)
	}
	var size int
	for b.Loop() {
		snap, _ := f.Snapshot()
		var s sink
		if err := snap.Persist(&s); err != nil {
			b.Fatal(err)
		}
		size = s.Len()
		g := newFSM()
		if err := g.Restore(io.NopCloser(bytes.NewReader(s.Bytes()))); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size), "snapshot-bytes")
}
