package agent

import (
	"errors"
	"net/http"
	"time"

	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/messaging"
	"github.com/paceline/paceline/messaging/quorum"
)

// defaultTiebreakDelay applies when the tiebreak-delay property is unset.
const defaultTiebreakDelay = time.Second

// quorumConfig builds the quorum rules from the cluster configuration:
// every configured node with its votes, and the two-node options.
func quorumConfig(cfg *cib.Config) quorum.Config {
	qc := quorum.Config{
		TwoNode:       cfg.Property("two-node") == "true",
		WaitForAll:    cfg.Property("wait-for-all") == "true",
		TiebreakDelay: defaultTiebreakDelay,
		PingTargets:   pingTargets(cfg.Property("ping-targets")),
	}
	if d, err := cib.ParseDuration(cfg.Property("tiebreak-delay")); err == nil && d > 0 {
		qc.TiebreakDelay = d.D()
	}
	for _, n := range cfg.Nodes {
		qc.Nodes = append(qc.Nodes, quorum.Node{Name: n.Name, Votes: n.VoteCount()})
	}
	return qc
}

// decideQuorum observes membership now and decides. It remembers the last
// decision, so wait_for_all only holds back the first quorum.
func (a *Agent) decideQuorum(members []messaging.Member, now time.Time) quorum.Decision {
	d := a.quorumOf(members, now)
	a.wasQuorate.Store(d.Quorate)
	return d
}

// quorumOf decides quorum for a view of the members, remembering nothing.
func (a *Agent) quorumOf(members []messaging.Member, now time.Time) quorum.Decision {
	cfg := a.store.Config()
	qc := quorumConfig(cfg)
	obs := quorum.Observation{
		Self: a.cfg.Name, Now: now, PreviouslyQuorate: a.wasQuorate.Load(),
		EverSeenAll: true, SelfReachesPing: quorum.Reach(a.ping.reach.Load()),
	}
	seen := map[string]bool{}
	for _, m := range members {
		seen[m.Name] = true // listed at all: seen alive at least once
		if m.State == messaging.Alive || m.State == messaging.Suspect {
			obs.Present = append(obs.Present, m.Name)
		} else if m.Name != a.cfg.Name && (obs.PeerLostAt.IsZero() || m.Since.After(obs.PeerLostAt)) {
			obs.PeerLostAt = m.Since
		}
	}
	for _, n := range cfg.Nodes {
		if !seen[n.Name] {
			obs.EverSeenAll = false
		}
	}
	if a.quorumUnblocked.Load() {
		obs.EverSeenAll = true // `paceline quorum unblock`: the operator knows the peer is down
	}
	if qc.TwoNode && obs.PeerLostAt.IsZero() && !seen[peerOf(cfg, a.cfg.Name)] {
		obs.PeerLostAt = a.started // never seen since start: lost since then
	}
	if qc.TwoNode && !obs.PeerLostAt.IsZero() && a.ms != nil {
		// A ping result from before the peer went quiet says nothing of
		// who is cut off now: only a check started after its last
		// heartbeat counts (pinger.watchPeer asks for one at once).
		if last, ok := a.ms.LastHeard()[peerOf(cfg, a.cfg.Name)]; ok && !a.ping.freshSince(last) {
			obs.SelfReachesPing = quorum.ReachUnknown
		}
	}
	if qc.TwoNode && a.lrm != nil {
		// The holder of the resources wins a split at once (the other side
		// waits tiebreak-delay, or is fenced first).
		for _, h := range a.lrm.Histories() {
			if h.State != nil && runningState(h.State) {
				obs.SelfHoldsResources = true
				break
			}
		}
	}
	if a.fence != nil && qc.TwoNode {
		heard := map[string]time.Time{}
		if a.ms != nil {
			heard = a.ms.LastHeard()
		}
		for _, m := range members {
			if m.Name != a.cfg.Name && m.State != messaging.Alive && m.State != messaging.Suspect && a.fence.isFenced(m, heard[m.Name]) {
				obs.PeerFenced = true
			}
		}
		if !seen[peerOf(cfg, a.cfg.Name)] && a.fence.fencedEver(peerOf(cfg, a.cfg.Name)) {
			obs.PeerFenced = true
		}
	}
	return quorum.Decide(qc, obs)
}

func quorumView(d quorum.Decision) *api.Quorum {
	return &api.Quorum{Quorate: d.Quorate, Votes: d.Votes, Expected: d.Expected, Needed: d.Needed, Reason: d.Reason}
}

// peerOf is the other node of a two-node cluster.
func peerOf(cfg *cib.Config, self string) string {
	for _, n := range cfg.Nodes {
		if n.Name != self {
			return n.Name
		}
	}
	return ""
}

// postQuorumUnblock: `paceline quorum unblock` lifts wait_for_all on this
// node (pcs quorum unblock): the operator knows the missing node is down.
// It holds until the agent restarts.
func (a *Agent) postQuorumUnblock(w http.ResponseWriter, _ *http.Request) {
	if a.store.Config().Property("wait-for-all") != "true" {
		writeErr(w, http.StatusBadRequest, errors.New("wait-for-all is not set: nothing to unblock"))
		return
	}
	a.quorumUnblocked.Store(true)
	a.log.Warn("quorum: wait_for_all lifted by an operator")
	writeJSON(w, http.StatusOK, struct{}{})
}
