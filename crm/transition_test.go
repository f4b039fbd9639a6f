package crm

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/crm/scheduler"
	"github.com/paceline/paceline/lrm"
)

// fakeDispatcher records dispatch order and answers from a table.
type fakeDispatcher struct {
	mu      sync.Mutex
	order   []string
	started map[string]time.Time
	ended   map[string]time.Time
	rc      map[string]int
	delay   time.Duration
	delays  map[string]time.Duration // per action, overriding delay
	// after makes an action end only once another has ended (and the
	// executor has had a moment to take its result).
	after map[string]string
	// onStart runs when an action is dispatched.
	onStart func(key string)
	running int
	peak    int
}

func (f *fakeDispatcher) Dispatch(ctx context.Context, a scheduler.Action) lrm.Result {
	key := a.String()
	f.mu.Lock()
	f.order = append(f.order, key)
	f.started[key] = time.Now()
	f.running++
	f.peak = max(f.peak, f.running)
	rc, ok := f.rc[key]
	delay := f.delay
	if d, set := f.delays[key]; set {
		delay = d
	}
	dep := f.after[key]
	onStart := f.onStart
	f.mu.Unlock()
	if onStart != nil {
		onStart(key)
	}
	time.Sleep(delay)
	for dep != "" {
		f.mu.Lock()
		_, ended := f.ended[dep]
		f.mu.Unlock()
		if ended {
			time.Sleep(20 * time.Millisecond)
			break
		}
		time.Sleep(time.Millisecond)
	}
	f.mu.Lock()
	f.running--
	f.ended[key] = time.Now()
	f.mu.Unlock()
	if !ok {
		rc = ocf.Success
		if a.IsProbe() {
			rc = ocf.NotRunning
		}
	}
	return lrm.Result{RC: rc, Status: lrm.StatusDone}
}

func newFake() *fakeDispatcher {
	return &fakeDispatcher{started: map[string]time.Time{}, ended: map[string]time.Time{}, rc: map[string]int{}}
}

func plan(acts ...scheduler.Action) *scheduler.Plan {
	for i := range acts {
		acts[i].ID = i
	}
	return &scheduler.Plan{Actions: acts}
}

// Every action runs after its prerequisites; independent ones in
// parallel; pseudo and implied actions run nothing.
func TestExecuteOrderAndParallel(t *testing.T) {
	p := plan(
		scheduler.Action{Op: scheduler.OpMonitor, Rsc: "a", Node: "n1"},                                         // 0 probe
		scheduler.Action{Op: scheduler.OpMonitor, Rsc: "b", Node: "n1"},                                         // 1 probe
		scheduler.Action{Op: scheduler.OpStart, Rsc: "a", Node: "n1", After: []int{0, 1}},                       // 2
		scheduler.Action{Op: scheduler.OpStart, Rsc: "b", Node: "n2", After: []int{0, 1}},                       // 3
		scheduler.Action{Op: scheduler.OpPseudo, Label: "both running", After: []int{2, 3}},                     // 4
		scheduler.Action{Op: scheduler.OpStart, Rsc: "c", Node: "n1", After: []int{4}},                          // 5
		scheduler.Action{Op: scheduler.OpStop, Rsc: "d", Node: "n3", Implied: true},                             // 6
		scheduler.Action{Op: scheduler.OpMonitor, Rsc: "c", Node: "n1", Interval: time.Second, After: []int{5}}, // 7
	)
	f := newFake()
	f.delay = 30 * time.Millisecond
	rep := Execute(context.Background(), p, f, 0)
	if rep.Done != 8 || len(rep.Failed) != 0 || rep.Skipped != 0 || rep.Aborted || rep.Changed {
		t.Fatalf("report %+v", rep)
	}
	if len(f.order) != 6 {
		t.Fatalf("dispatched %v, want the 6 real actions", f.order)
	}
	for _, a := range p.Actions {
		for _, b := range a.After {
			pa, pb := p.Actions[b], a
			if pa.Op == scheduler.OpPseudo || pb.Op == scheduler.OpPseudo || pa.Implied {
				continue
			}
			if f.started[pb.String()].Before(f.ended[pa.String()]) {
				t.Errorf("%s started before %s ended", pb.String(), pa.String())
			}
		}
	}
	if !f.started["start c on n1"].After(f.ended["start b on n2"]) {
		t.Error("c did not wait for the pseudo action after a and b")
	}
	if f.peak < 2 {
		t.Errorf("independent actions ran one at a time (peak %d)", f.peak)
	}
	f2 := newFake()
	f2.delay = 10 * time.Millisecond
	Execute(context.Background(), p, f2, 1)
	if f2.peak != 1 {
		t.Errorf("limit 1: peak %d", f2.peak)
	}
}

// A failure stops dispatching; what depends on it is skipped, what runs
// finishes.
func TestExecuteFailureAborts(t *testing.T) {
	p := plan(
		scheduler.Action{Op: scheduler.OpStart, Rsc: "a", Node: "n1"},
		scheduler.Action{Op: scheduler.OpStart, Rsc: "b", Node: "n2"},
		scheduler.Action{Op: scheduler.OpStart, Rsc: "c", Node: "n1", After: []int{0}},
		scheduler.Action{Op: scheduler.OpStart, Rsc: "d", Node: "n2", After: []int{1}},
	)
	f := newFake()
	f.rc["start a on n1"] = ocf.ErrGeneric
	// b finishes after a has failed: d, after b, is not dispatched.
	f.after = map[string]string{"start b on n2": "start a on n1"}
	rep := Execute(context.Background(), p, f, 0)
	if !rep.Aborted || !rep.Changed || len(rep.Failed) != 1 || rep.Failed[0].Action.Rsc != "a" || rep.Done != 1 || rep.Skipped != 2 {
		t.Fatalf("report %+v, dispatched %v", rep, f.order)
	}
}

// A probe that finds a resource running aborts: the plan was made
// without knowing it.
func TestExecuteProbeFindsRunning(t *testing.T) {
	p := plan(
		scheduler.Action{Op: scheduler.OpMonitor, Rsc: "a", Node: "n2"},
		scheduler.Action{Op: scheduler.OpStart, Rsc: "a", Node: "n1", After: []int{0}},
	)
	f := newFake()
	f.rc["probe a on n2"] = ocf.Success
	rep := Execute(context.Background(), p, f, 0)
	if !rep.Aborted || !rep.Changed || len(rep.Failed) != 0 || rep.Skipped != 1 || len(f.order) != 1 {
		t.Fatalf("report %+v, dispatched %v", rep, f.order)
	}
}

// A new event (ctx) aborts: nothing more is dispatched, in-flight
// actions finish before Execute returns.
func TestExecuteAbortWaitsInFlight(t *testing.T) {
	p := plan(
		scheduler.Action{Op: scheduler.OpStart, Rsc: "a", Node: "n1"},
		scheduler.Action{Op: scheduler.OpStart, Rsc: "b", Node: "n1", After: []int{0}},
	)
	f := newFake()
	f.delay = 100 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.onStart = func(string) { cancel() } // the new event comes while a runs
	rep := Execute(ctx, p, f, 0)
	if !rep.Aborted || rep.Done != 1 || rep.Skipped != 1 || len(f.order) != 1 {
		t.Fatalf("report %+v, dispatched %v", rep, f.order)
	}
	if _, ok := f.ended["start a on n1"]; !ok {
		t.Error("Execute returned before the action in flight ended")
	}
}
