// Package quorum decides whether a node's partition has quorum (corosync's
// votequorum role): votes, two_node with a ping and fencing tiebreak, and
// wait_for_all. It is pure: no I/O, no clock, no goroutines. Membership,
// the ping checker, fencing and the clock live elsewhere and arrive as an
// Observation with an explicit Now.
//
//	Config (replicated) ─┐
//	                     ├─▶ Decide ─▶ Decision{Quorate, Votes/Expected/Needed,
//	Observation (local) ─┘              Reason, RecheckAt, FencePeer}
//
// # Rules, in the order Decide applies them
//
//	input error      invalid Config, Self not configured or not present ─▶ not quorate
//	wait_for_all     WaitForAll and not (EverSeenAll or every node present
//	                 or PreviouslyQuorate)                                ─▶ not quorate
//	majority         Votes > Expected/2, i.e. Votes >= Needed             ─▶ quorate
//	two_node         both present                                         ─▶ quorate
//	                 peer lost                                            ─▶ the tiebreak below
//
// Votes counts the configured nodes in Present; other names are ignored.
// Pacemaker Explained and votequorum(5) are the sources; the tiebreak is
// Paceline's, chosen for the reasons below.
//
// # The two-node tiebreak (peer lost)
//
// The preferred node is the one whose name sorts first; call it P and the
// other O. "ping ok" means no ping targets are configured, or this node's
// own latest result is Reachable.
//
//	rule  node  condition                                        Quorate  FencePeer
//	F     P     PeerFenced                                       yes      -
//	F     O     PeerFenced and WaitForAll                        yes      -
//	P     any   ping targets set and own ping not Reachable      no       no
//	W     P     holds resources                                  yes      -
//	W     P     peer last reported ping Unreachable              yes      -
//	W     P     otherwise: after tiebreak-delay                  no, yes  -
//	O     O     WaitForAll off                                   no       no
//	O     O     holds resources, or peer reported Unreachable    no       yes
//	O     O     otherwise: after tiebreak-delay                  no       no, yes
//
// # What each rule guarantees
//
// In a split each side knows only its own observation: its own ping
// result, whether it holds resources, when it lost the peer. The peer's
// current ping result is not knowable. A survivor whose peer died sees
// exactly what it would see in a split where the peer is alive and, like
// it, reaches the ping target. So no rule can let both P and O win alone
// when the other dies without letting both win a split: ping
// reachability and resource holding are not exclusive (both sides can
// reach the target when only the link between them failed; both hold
// resources in an active/active cluster; neither may hold any). Only a
// fixed asymmetry is exclusive, which is corosync's auto_tie_breaker
// (votequorum(5)). Hence:
//
//   - W: only P wins without fencing, so in a split where both nodes are
//     alive at most one side is quorate, whatever the ping results,
//     resources, delays and clock offsets. This holds with no fencing and
//     no lease. Its cost: when P dies, O stays non-quorate until fencing
//     confirms P off (rule F), or until P returns.
//   - P: a node that cannot reach its ping target is probably the isolated
//     one and neither wins nor fences. It only removes winners, so it
//     cannot break W. If the ping target is down while the peer is lost,
//     nobody wins until fencing or the peer returns.
//   - Holding resources and the peer's last reported ping change only when
//     P wins (at once instead of after tiebreak-delay) and when O may ask
//     for fencing, never who may win. The delay puts a holder first in the
//     fence race: a holding O fences at once while a non-holding P becomes
//     quorate (and as DC fences O) only after the delay, and the other way
//     round. When both or neither hold, the race is even and is fencing's
//     to break (per-node static delays, priority-fencing-delay).
//   - F: O wins only after fencing confirms P off. The fenced P can only
//     cold-start, and WaitForAll keeps it non-quorate until it sees O;
//     without WaitForAll a restarted P would win alone, so O never wins
//     then (FencePeer stays false). A restarted O never wins alone, so P
//     wins after fencing O with or without WaitForAll.
//
// So "never two quorate" needs fencing only to make O win: P's wins are
// safe without it. The DESIGN rule "the holder wins at once, the other
// waits tiebreak-delay, then wins" would let a holding O and a non-holding
// P both win after the delay when both reach the ping target; here the
// holder's precedence is kept only in the fence race, where a fence, not a
// timer, decides.
//
// # Assumptions outside this package
//
//   - Same Config on both sides (it comes from the replicated configuration).
//   - PeerFenced is set only on fencing's confirmation, and
//     PreviouslyQuorate is false when the node starts.
//   - Detection lag: a node that has not yet noticed its peer is gone still
//     sees both nodes present and is quorate, while P may already have won.
//     Majority quorum has the same gap when views are not transitive (A
//     sees B, B sees C, A does not see C: A and C may both count a
//     majority). Quorum says only who may act; the lease (the DC recovers
//     a lost node's resources only after lease + self-stop-timeout +
//     margin) and the DC's raft term keep actions exclusive (DESIGN.md,
//     Safety).
//   - A hung node cannot stop what it runs; only fencing or a watchdog
//     makes that safe.
package quorum
