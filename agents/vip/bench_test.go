package vip

import (
	"testing"
	"time"

	"github.com/paceline/paceline/agents/ocf"
)

// BenchmarkStart measures one start (address added, one announcement
// round) and stop in a namespace, and reports the time from entering
// Run(start) to the first gratuitous ARP written, and the whole start.
func BenchmarkStart(b *testing.B) {
	l := newLab(b, "bn")
	a := l.addHost("a", "192.0.2.1/24")
	a.logLevel = 1 << 10 // quiet: Logf output of benchmarks is always printed
	var first time.Time
	ag := New(WithSentHook(func(s Sent) {
		if first.IsZero() {
			first = s.At
		}
	}))
	p := map[string]string{"ip": vip4, "arp_count": "1"}
	var toFirst, starts time.Duration
	n := 0
	for b.Loop() {
		first = time.Time{}
		rc, out, entered, took := a.timed(b, ag, ocf.Start, p)
		if rc != ocf.Success || first.IsZero() {
			b.Fatalf("start: rc %d, %s", rc, out)
		}
		toFirst += first.Sub(entered)
		starts += took
		if rc, out := a.run(b, ag, ocf.Stop, p); rc != ocf.Success {
			b.Fatalf("stop: rc %d, %s", rc, out)
		}
		n++
	}
	b.ReportMetric(float64(toFirst.Nanoseconds())/float64(n)/1e3, "µs-to-first-garp/op")
	b.ReportMetric(float64(starts.Nanoseconds())/float64(n)/1e3, "µs-start/op")
}
