package quorum

import (
	"fmt"
	"testing"
	"time"
)

var reaches = []Reach{ReachUnknown, Reachable, Unreachable}

// split is a two-node split in which both nodes stay alive. Each side
// decides alone from its own view: its own ping result, the peer's last
// reported one, its resources, when it last saw the peer (lostAt, on its
// own clock, whose offset from real time is clock).
type split struct {
	ping, waitForAll bool
	a, b             side
	lostA, lostB     time.Duration // when a lost b, when b lost a, after t0 (real time)
	clockB           time.Duration // b's clock offset; a's clock is real time
}

func (s split) String() string {
	return fmt.Sprintf("ping=%v wait_for_all=%v lost a:+%v b:+%v\n a: %+v\n b: %+v", s.ping, s.waitForAll, s.lostA, s.lostB, s.a, s.b)
}

// at returns both sides' decisions at real time t0+now.
func (s split) at(now time.Duration) (Decision, Decision) {
	cfg := pair(s.ping, s.waitForAll)
	a, b := s.a.observation(), s.b.observation()
	a.PeerLostAt, a.Now = t0.Add(s.lostA), t0.Add(now)
	b.PeerLostAt, b.Now = t0.Add(s.lostB+s.clockB), t0.Add(now+s.clockB)
	return Decide(cfg, a), Decide(cfg, b)
}

// splits enumerates every combination of what each side may see: ping
// results, reported peer results, resources, wait_for_all state, and the
// two sides losing each other at different moments on different clocks.
func splits(yield func(split) bool) {
	bools := []bool{false, true}
	for _, ping := range bools {
		for _, wfa := range bools {
			for _, pa := range reaches {
				for _, pb := range reaches {
					for _, ppa := range reaches {
						for _, ppb := range reaches {
							for _, ha := range bools {
								for _, hb := range bools {
									for _, seen := range []struct{ a, b bool }{{true, true}, {true, false}, {false, true}, {false, false}} {
										for _, wasQ := range []struct{ a, b bool }{{true, true}, {false, false}, {true, false}} {
											for _, lost := range [][2]time.Duration{{0, 0}, {0, delay / 2}, {delay / 2, 0}} {
												s := split{ping: ping, waitForAll: wfa, lostA: lost[0], lostB: lost[1], clockB: time.Hour,
													a: side{self: "a", ping: pa, peerPing: ppa, holds: ha, notSeen: !seen.a, wasQ: wasQ.a},
													b: side{self: "b", ping: pb, peerPing: ppb, holds: hb, notSeen: !seen.b, wasQ: wasQ.b}}
												if !yield(s) {
													return
												}
											}
										}
									}
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestNeverTwoWinners: in every two-node split where both nodes live,
// each side deciding alone from its own knowledge, at most one side is
// quorate at every time step, from when both have lost the other until
// well past tiebreak-delay. (Before a side notices the loss it still sees
// both nodes present; that detection lag is the lease's to cover, see
// doc.go.)
func TestNeverTwoWinners(t *testing.T) {
	n, wins := 0, map[string]int{}
	for s := range splits {
		n++
		for now := max(s.lostA, s.lostB); now <= s.lostA+3*delay; now += delay / 4 {
			da, db := s.at(now)
			if da.Quorate && db.Quorate {
				t.Fatalf("two winners at +%v in split %v\n a: %s\n b: %s", now, s, da.Reason, db.Reason)
			}
			if da.Quorate {
				wins["a"]++
			}
			if db.Quorate {
				wins["b"]++
			}
			if da.FencePeer && db.FencePeer {
				t.Fatalf("both sides asked to fence at +%v in split %v", now, s)
			}
		}
	}
	if n < 1000 || wins["a"] == 0 || wins["b"] != 0 {
		t.Fatalf("%d splits, wins %v: want many splits, a winning some, b none without fencing", n, wins)
	}
	t.Logf("%d splits checked, a quorate at %d steps", n, wins["a"])
}

// TestNeverTwoWinnersAfterFencing: once fencing has confirmed one node
// off, that node can come back only by a cold start, still cut off from
// the survivor; the survivor (PeerFenced) and the restarted node are never
// both quorate.
func TestNeverTwoWinnersAfterFencing(t *testing.T) {
	for _, ping := range []bool{false, true} {
		for _, wfa := range []bool{false, true} {
			for _, survivor := range []string{"a", "b"} {
				restarted := map[string]string{"a": "b", "b": "a"}[survivor]
				for _, sp := range reaches {
					for _, rp := range reaches {
						for _, holds := range []bool{false, true} {
							cfg := pair(ping, wfa)
							s := side{self: survivor, ping: sp, holds: holds, fenced: true}.observation()
							// The restarted node has seen nobody and was never quorate; it
							// times the tiebreak from its start.
							r := side{self: restarted, ping: rp, notSeen: true}.observation()
							for now := time.Duration(0); now <= 3*delay; now += delay / 4 {
								s.Now, r.Now = t0.Add(now), t0.Add(now)
								ds, dr := Decide(cfg, s), Decide(cfg, r)
								if ds.Quorate && dr.Quorate {
									t.Fatalf("ping=%v wait_for_all=%v: survivor %s and restarted %s both quorate at +%v:\n %s\n %s",
										ping, wfa, survivor, restarted, now, ds.Reason, dr.Reason)
								}
								if dr.FencePeer {
									t.Fatalf("restarted %s asks to fence the survivor: %s", restarted, dr.Reason)
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestSurvivorWins: when one node really dies, the survivor that reaches
// the ping target becomes quorate: a by itself within tiebreak-delay, b
// once fencing has confirmed a off (with wait_for_all), having been asked
// to fence within tiebreak-delay.
func TestSurvivorWins(t *testing.T) {
	for _, holds := range []bool{false, true} {
		cfg := pair(true, true)
		a := side{self: "a", ping: Reachable, holds: holds, elapsed: delay}.observation()
		if d := Decide(cfg, a); !d.Quorate {
			t.Errorf("a, holds=%v, after the delay: %s", holds, d.Reason)
		}
		b := side{self: "b", ping: Reachable, holds: holds, elapsed: delay}.observation()
		if d := Decide(cfg, b); d.Quorate || !d.FencePeer {
			t.Errorf("b, holds=%v, after the delay: want a fence request, got %s", holds, d.Reason)
		}
		b.PeerFenced = true
		if d := Decide(cfg, b); !d.Quorate {
			t.Errorf("b, holds=%v, peer fenced: %s", holds, d.Reason)
		}
	}
}
