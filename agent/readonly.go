package agent

// Read-only configuration: when raft has no leader and this node cannot see
// a majority of its voters — a two-node cluster with its peer lost (the
// degraded mode of shared/DESIGN.md), or a minority partition — no write
// can commit. A write then waits a few seconds (readOnlyWait) for that to
// change and is refused, saying why, rather than after the apply timeout. Resources are still managed from the last
// committed configuration (cib/raftstore/committed.go).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/messaging"
)

// unseenGrace is how long after start a voter gossip has not seen yet
// counts as present (the agent may still be joining).
const unseenGrace = 5 * time.Second

// readOnlyWait is how long a write waits for the configuration to become
// writable before it is refused: a peer that is coming back, or raft's
// recovery after a fence, makes it writable within about a second (the
// fast refusal once broke e2e's TestNetnsTwoNodeFenceHungNode, whose
// write raced the fenced peer's return); a peer that stays away costs the
// writer these seconds, not the apply timeout.
const readOnlyWait = 3 * time.Second

// refuseReadOnly answers a valid write with 503 and the reason when the
// configuration is read-only and stays so for readOnlyWait; it reports
// whether it did. An invalid command falls through, to be rejected as
// such.
func (a *Agent) refuseReadOnly(ctx context.Context, w http.ResponseWriter, cmd cib.Command) bool {
	why := a.readOnlyReason(time.Now())
	if why == "" {
		return false
	}
	if _, err := a.store.DryRun(cmd); err != nil {
		return false
	}
	deadline := time.NewTimer(readOnlyWait)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for why != "" {
		select {
		case <-ctx.Done():
			writeErr(w, http.StatusServiceUnavailable, errors.New(why))
			return true
		case <-deadline.C:
			writeErr(w, http.StatusServiceUnavailable, errors.New(why))
			return true
		case <-tick.C:
			why = a.readOnlyReason(time.Now())
		}
	}
	return false
}

// readOnlyReason says why configuration writes cannot commit now, or ""
// when they can (or may: an election in progress, no gossip to tell).
func (a *Agent) readOnlyReason(now time.Time) string {
	if a.ms == nil {
		return ""
	}
	if info := a.store.Info(); info.Leader != "" {
		return ""
	}
	voters, err := a.store.Voters()
	if err != nil || len(voters) == 0 {
		return ""
	}
	states := map[string]messaging.State{}
	for _, m := range a.ms.Members() {
		states[m.Name] = m.State
	}
	cfg := a.store.Config()
	twoNode := cfg.Property("two-node") == "true" && len(cfg.Nodes) == 2
	return readOnlyWhy(a.cfg.Name, voters, func(n string) bool {
		st, seen := states[n]
		if !seen {
			return now.Sub(a.started) < unseenGrace
		}
		return st == messaging.Alive || st == messaging.Suspect
	}, twoNode)
}

// readOnlyWhy is the decision: with fewer than a majority of voters up
// (self counts as up) raft cannot elect a leader, so the configuration is
// read-only; the message names the missing voters.
func readOnlyWhy(self string, voters []string, up func(string) bool, twoNode bool) string {
	var down []string
	present := 0
	for _, v := range slices.Sorted(slices.Values(voters)) {
		if v == self || up(v) {
			present++
		} else {
			down = append(down, v)
		}
	}
	if present > len(voters)/2 || len(down) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("configuration is read-only: raft has no majority (")
	if twoNode && len(voters) == 2 {
		fmt.Fprintf(&b, "two-node degraded mode, peer %s down); resource state is still managed; writes resume when %s returns (or, with fencing, once it is fenced)", down[0], down[0])
		return b.String()
	}
	fmt.Fprintf(&b, "%d of %d voters present; down: %s); resource state is still managed; writes resume when a majority is back", present, len(voters), strings.Join(down, ", "))
	return b.String()
}
