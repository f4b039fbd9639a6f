package scheduler_test

import (
	"fmt"
	"testing"

	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/crm/scheduler"
	"github.com/paceline/paceline/crm/scheduler/schedgen"
)

// BenchmarkSchedule schedules generated clusters of growing size in two
// situations: a cold start (every node online, nothing probed: probes
// everywhere, then every start), and a steady cluster (what the cold start
// planned, running) whose busiest node goes offline. Building the inputs,
// including the cold-start run the steady status comes from, is not timed.
// Besides time and allocations it reports the plan's size: actions/op (all
// actions) and starts/op.
//
//	go test ./crm/scheduler -run XXX -bench Schedule -benchtime 3x
//	go run ./tools/schedbench -nodes 16 -resources 1000 -constraints 1000 -situation nodefail -out /tmp/sb
func BenchmarkSchedule(b *testing.B) {
	sizes := []struct{ nodes, resources, constraints int }{
		{3, 100, 100},
		{16, 1000, 1000},
		{32, 1000, 1000}, // the node-failure target size
		{32, 5000, 5000},
		{100, 10000, 10000},
	}
	for _, sz := range sizes {
		b.Run(fmt.Sprintf("%dn-%dr-%dc", sz.nodes, sz.resources, sz.constraints), func(b *testing.B) {
			cfg := genCluster(sz.nodes, sz.resources, sz.constraints, 1)
			if err := cfg.Validate(); err != nil {
				b.Fatalf("generated config does not validate:\n%v", err)
			}
			opt := scheduler.Options{Now: schedgen.Now}
			b.Run(schedgen.Cold, func(b *testing.B) {
				benchSchedule(b, cfg, coldStatus(cfg), opt)
			})
			b.Run(schedgen.NodeFail, func(b *testing.B) {
				cold, err := scheduler.Schedule(cfg, coldStatus(cfg), opt)
				if err != nil {
					b.Fatalf("cold start: %v", err)
				}
				steady := steadyStatus(cfg, cold)
				benchSchedule(b, cfg, withNodeState(steady, schedgen.BusiestNode(steady), scheduler.NodeOffline), opt)
			})
		})
	}
}

func benchSchedule(b *testing.B, cfg *cib.Config, st *scheduler.Status, opt scheduler.Options) {
	if err := st.Validate(cfg); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var plan *scheduler.Plan
	for b.Loop() {
		var err error
		if plan, err = scheduler.Schedule(cfg, st, opt); err != nil {
			b.Fatal(err)
		}
	}
	starts := 0
	for i := range plan.Actions {
		if plan.Actions[i].Op == scheduler.OpStart {
			starts++
		}
	}
	b.ReportMetric(float64(len(plan.Actions)), "actions/op")
	b.ReportMetric(float64(starts), "starts/op")
}
