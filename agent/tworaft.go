package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/paceline/paceline/messaging"
)

// Two-node raft (cib/raftstore/recover.go): a survivor whose peer is
// confirmed down (fenced, or confirmed by an operator) makes itself the
// only raft voter, so the configuration is writable again; when the peer
// is back, the survivor tells it it was removed, and it joins again.

// noLeaderFor is how long raft must have had no leader before a survivor
// recovers alone (several election timeouts: the peer is really gone).
const noLeaderFor = 2 * time.Second

// watchTwoNodeRaft runs the survivor's side: recover alone, and tell a
// returning peer to rejoin.
func (a *Agent) watchTwoNodeRaft(ctx context.Context) {
	if a.ms == nil {
		return
	}
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	var leaderless time.Time
	var told time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cfg := a.store.Config()
		if cfg.Property("two-node") != "true" || len(cfg.Nodes) != 2 {
			continue
		}
		peer := peerOf(cfg, a.cfg.Name)
		info := a.store.Info()
		voters, err := a.store.Voters()
		if err != nil {
			continue
		}
		switch {
		case info.Leader == "" && slices.Contains(voters, peer) && len(voters) == 2:
			if leaderless.IsZero() {
				leaderless = time.Now()
			}
			if time.Since(leaderless) < noLeaderFor || !a.peerConfirmedDown(peer) {
				continue
			}
			a.log.Warn("two-node: the peer is confirmed down and raft has no leader: making this node the only voter", "peer", peer)
			if err := a.store.RecoverAlone(); err != nil {
				a.log.Error("two-node: raft recovery failed", "err", err)
			}
			leaderless = time.Time{}
		case a.store.IsLeader() && !slices.Contains(voters, peer) && a.alive(peer) && time.Since(told) > 2*time.Second:
			leaderless, told = time.Time{}, time.Now()
			a.tellRemoved(ctx, peer)
		default:
			leaderless = time.Time{}
		}
	}
}

// peerConfirmedDown: fenced (or confirmed by an operator) since it was
// last heard, and not alive now.
func (a *Agent) peerConfirmedDown(peer string) bool {
	heard := a.ms.LastHeard()
	for _, m := range a.ms.Members() {
		if m.Name == peer {
			return m.State != messaging.Alive && m.State != messaging.Suspect && a.fence.isFenced(m, heard[peer])
		}
	}
	return a.fence.fencedEver(peer) // not seen since this agent started
}

func (a *Agent) alive(node string) bool {
	for _, m := range a.ms.Members() {
		if m.Name == node {
			return m.State == messaging.Alive
		}
	}
	return false
}

// removedNotice tells a node that the sender leads raft without it.
type removedNotice struct {
	Leader string `json:"leader"`
	Addr   string `json:"addr"`
	Term   uint64 `json:"term"`
}

func (a *Agent) tellRemoved(ctx context.Context, peer string) {
	addr, err := a.addrOf(peer)
	if err != nil {
		return
	}
	info := a.store.Info()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	a.log.Warn("two-node: the peer is back but no longer a raft voter: telling it to rejoin", "peer", peer)
	if err := a.store.Call(ctx, addr, "raft.removed", removedNotice{Leader: a.cfg.Name, Addr: a.store.Addr(), Term: info.Term}, nil); err != nil {
		a.log.Warn("two-node: cannot tell the peer to rejoin", "peer", peer, "err", err)
	}
}

// registerTwoNodeRaft adds the RPC a returning node is told on: it
// discards its raft state and rejoins through the sender — only if it has
// no leader itself and the sender is a voter of its (stale) configuration.
func (a *Agent) registerTwoNodeRaft() {
	a.store.Handle("raft.removed", func(_ context.Context, raw json.RawMessage) (any, error) {
		var n removedNotice
		if err := json.Unmarshal(raw, &n); err != nil {
			return nil, fmt.Errorf("raft.removed: %w", err)
		}
		info := a.store.Info()
		voters, err := a.store.Voters()
		switch {
		case err != nil:
			return nil, fmt.Errorf("raft.removed: %w", err)
		case info.Leader != "" && info.Leader != n.Leader:
			return nil, fmt.Errorf("raft.removed: refused: this node follows leader %s", info.Leader)
		case a.store.IsLeader():
			return nil, fmt.Errorf("raft.removed: refused: this node leads raft")
		case !slices.Contains(voters, n.Leader):
			return nil, fmt.Errorf("raft.removed: refused: %s is not in this node's raft configuration", n.Leader)
		case info.Term > n.Term:
			return nil, fmt.Errorf("raft.removed: refused: this node's term %d is newer than %s's %d", info.Term, n.Leader, n.Term)
		}
		if !slices.Contains(voters, a.cfg.Name) {
			return nil, fmt.Errorf("raft.removed: refused: this node is not a voter of its own configuration")
		}
		go func() {
			if err := a.store.Rejoin(n.Addr); err != nil {
				a.log.Error("two-node: rejoining raft failed", "err", err)
			}
		}()
		return struct{}{}, nil
	})
}
