package quorum

import (
	"fmt"
	"time"
)

// twoNode applies the two_node rules (the table in doc.go) to a valid
// two-node cfg once wait_for_all has passed; d carries the vote counts.
func twoNode(cfg Config, obs Observation, d Decision, bothPresent bool) Decision {
	if bothPresent {
		d.Quorate = true
		d.Reason = fmt.Sprintf("two_node: both nodes present, %d of %d votes", d.Votes, d.Expected)
		return d
	}
	self, peer := obs.Self, cfg.peerOf(obs.Self)
	preferred := cfg.Preferred() == self
	// Rule F: a peer confirmed off can come back only by a cold start. The
	// other node, restarted, never wins alone; the preferred node,
	// restarted, is held back only by wait_for_all.
	if obs.PeerFenced && (preferred || cfg.WaitForAll) {
		d.Quorate = true
		d.Reason = fmt.Sprintf("two_node: won, peer %s confirmed fenced", peer)
		return d
	}
	ping := len(cfg.PingTargets) > 0
	// Rule P: a node that does not reach its ping target is probably the
	// isolated one; it neither wins nor fences.
	if ping && obs.SelfReachesPing != Reachable {
		if obs.SelfReachesPing == Unreachable {
			d.Reason = fmt.Sprintf("two_node: lost tiebreak, peer %s lost and ping target unreachable", peer)
		} else {
			d.Reason = fmt.Sprintf("two_node: lost tiebreak, peer %s lost and ping result unknown", peer)
		}
		return d
	}
	pingFact := "no ping target"
	if ping {
		pingFact = "ping target reachable"
	}
	// The peer told us, before it was lost, that it could not reach the
	// ping target: whatever it decides alone now, it neither wins nor
	// fences by rule P unless that changed, so there is no reason to wait.
	peerVetoed := ping && obs.PeerReachesPing == Unreachable

	if preferred {
		// Rule W: only the preferred node wins without fencing.
		switch {
		case obs.SelfHoldsResources:
			d.Quorate = true
			d.Reason = fmt.Sprintf("two_node: won tiebreak, %s, %s preferred (lowest name) and holds resources", pingFact, self)
			return d
		case peerVetoed:
			d.Quorate = true
			d.Reason = fmt.Sprintf("two_node: won tiebreak, %s and peer %s's was not", pingFact, peer)
			return d
		}
		end, bad := delayEnd(cfg, obs)
		switch {
		case bad != "":
			d.Reason = "two_node: not quorate, " + bad
		case obs.Now.Before(end):
			d.RecheckAt = end
			d.Reason = fmt.Sprintf("two_node: waiting for tiebreak-delay (%v left), %s preferred (lowest name) but holds no resources", end.Sub(obs.Now), self)
		default:
			d.Quorate = true
			d.Reason = fmt.Sprintf("two_node: won tiebreak, %s, %s preferred (lowest name), tiebreak-delay %v over", pingFact, self, cfg.TiebreakDelay)
		}
		return d
	}

	// Rule O: the other node never wins alone; with wait_for_all it may
	// fence the preferred node, at once if it holds resources (so the
	// holder wins the fence race), else after tiebreak-delay.
	lost := fmt.Sprintf("two_node: lost tiebreak, peer %s preferred (lowest name)", peer)
	if !cfg.WaitForAll {
		d.Reason = lost + "; fencing cannot help without wait_for_all (a fenced peer could restart and win alone)"
		return d
	}
	if obs.SelfHoldsResources || peerVetoed {
		d.FencePeer = true
		d.Reason = fmt.Sprintf("%s; fence %s to take over", lost, peer)
		return d
	}
	end, bad := delayEnd(cfg, obs)
	switch {
	case bad != "":
		d.Reason = lost + "; " + bad
	case obs.Now.Before(end):
		d.RecheckAt = end
		d.Reason = fmt.Sprintf("%s; may fence %s after tiebreak-delay (%v left)", lost, peer, end.Sub(obs.Now))
	default:
		d.FencePeer = true
		d.Reason = fmt.Sprintf("%s; fence %s to take over", lost, peer)
	}
	return d
}

// delayEnd returns when tiebreak-delay ends, or why it cannot be timed.
func delayEnd(cfg Config, obs Observation) (time.Time, string) {
	switch {
	case obs.PeerLostAt.IsZero():
		return time.Time{}, "peer-lost time unknown (input error)"
	case obs.PeerLostAt.After(obs.Now):
		return time.Time{}, fmt.Sprintf("peer lost %v after now (input error)", obs.PeerLostAt.Sub(obs.Now))
	}
	return obs.PeerLostAt.Add(cfg.TiebreakDelay), ""
}
