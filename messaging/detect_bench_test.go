package messaging

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// benchDetection kills one member of an n-node cluster per iteration (no
// leave) and measures until every survivor sees it failed; it reports the
// median and the maximum. Run: go test -run '^$' -bench Detection ./messaging
func benchDetection(b *testing.B, profile string, n int) {
	timing, err := TimingProfile(profile)
	if err != nil {
		b.Fatal(err)
	}
	var took []time.Duration
	for b.Loop() {
		c := newTimedCluster(b, n, timing)
		victim := 1 + rand.IntN(n-1)
		name := c.nodes[victim].Name()
		start := time.Now()
		_ = c.nodes[victim].Shutdown()
		c.nodes[victim] = nil
		c.waitAll(func(mb []Member) bool { return stateOf(mb, name) == Failed }, name+" failed everywhere")
		took = append(took, time.Since(start))
		for i, m := range c.nodes {
			if m != nil {
				_ = m.Shutdown()
				c.nodes[i] = nil
			}
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Milliseconds()), "median-ms")
	b.ReportMetric(float64(took[len(took)-1].Milliseconds()), "max-ms")
	b.ReportMetric(float64(timing.DetectionFloor(n).Milliseconds()), "floor-ms")
}

func BenchmarkDetectionFast3(b *testing.B)  { benchDetection(b, "fast", 3) }
func BenchmarkDetectionFast32(b *testing.B) { benchDetection(b, "fast", 32) }
func BenchmarkDetectionLAN3(b *testing.B)   { benchDetection(b, "lan", 3) }
func BenchmarkDetectionLAN32(b *testing.B)  { benchDetection(b, "lan", 32) }
