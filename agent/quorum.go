package agent

import (
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
	return quorum.Decide(qc, obs)
}

func quorumView(d quorum.Decision) *api.Quorum {
	return &api.Quorum{Quorate: d.Quorate, Votes: d.Votes, Expected: d.Expected, Needed: d.Needed, Reason: d.Reason}
}
