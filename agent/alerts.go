package agent

// Alerts (issue 7): this node runs the configured alert agents for the
// events it sees, as each Pacemaker node does — the results of its own
// resource operations (from its LRM), members joining and being lost (from
// its membership), changes of its own transient attributes, and fencing
// results (AlertFencing, for the fencing code).

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/paceline/paceline/alerts"
	"github.com/paceline/paceline/lrm"
	"github.com/paceline/paceline/messaging"
)

// alertDrain bounds how long a clean stop waits for running alerts.
const alertDrain = 10 * time.Second

// newAlerts makes this node's alert runner and hooks it to the LRM's
// results. Its agents run once runAlerts runs.
func (a *Agent) newAlerts() *alerts.Runner {
	r := alerts.New(alerts.Options{Config: a.store.Config, Version: Version, Log: a.log})
	a.lrm.OnResult(func(c lrm.Completion) {
		a.metrics.operation(c) // metrics.go
		if ev, ok := alerts.ResourceEvent(c); ok {
			r.Notify(ev)
		}
	})
	return r
}

// runAlerts runs the alert agents, and the membership watch that makes
// node and attribute events, until ctx ends.
func (a *Agent) runAlerts(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { _ = a.alerts.Run(ctx) })
	if a.ms != nil {
		events, cancel := a.ms.Subscribe()
		wg.Go(func() {
			defer cancel()
			a.watchForAlerts(ctx, events)
		})
	}
	wg.Wait()
}

// watchForAlerts turns membership events into alerts: a member seen
// joining or coming back is "member", one failed or gone "lost" (each
// once per change); a change of one of this node's transient attributes
// is an attribute event (each node alerts its own, so a change is alerted
// once in the cluster). Paceline's node id is the node's name (as the
// rules' #id).
func (a *Agent) watchForAlerts(ctx context.Context, events <-chan messaging.Event) {
	self := a.cfg.Name
	member := map[string]bool{}
	attrs := maps.Clone(a.ms.Attrs()[self])
	for {
		var ev messaging.Event
		var ok bool
		select {
		case <-ctx.Done():
			return
		case ev, ok = <-events:
			if !ok {
				return
			}
		}
		name := ev.Member.Name
		switch ev.Kind {
		case messaging.EventJoin, messaging.EventRecovered, messaging.EventFailed, messaging.EventLeave:
			up := ev.Kind == messaging.EventJoin || ev.Kind == messaging.EventRecovered
			if was, seen := member[name]; !seen || was != up {
				member[name] = up
				a.alerts.Notify(alerts.NodeEvent(name, name, up))
			}
		case messaging.EventAttrs:
			if name != self {
				continue
			}
			cur := a.ms.Attrs()[self]
			union := maps.Clone(cur)
			if union == nil {
				union = map[string]string{}
			}
			maps.Copy(union, attrs) // with the deleted ones
			for _, n := range slices.Sorted(maps.Keys(union)) {
				old, had := attrs[n]
				v, has := cur[n]
				if had != has || old != v {
					a.alerts.Notify(alerts.AttributeEvent(self, self, n, v))
				}
			}
			attrs = maps.Clone(cur)
		}
	}
}

// drainAlerts waits, boundedly, for the alerts still queued or running (a
// clean stop: the alerts of the last stops run too).
func (a *Agent) drainAlerts() {
	ctx, cancel := context.WithTimeout(context.Background(), alertDrain)
	defer cancel()
	if err := a.alerts.Drain(ctx); err != nil {
		a.log.Warn("stopping with alerts still running", "err", err)
	}
}

// AlertFencing runs the alerts of a completed fencing operation on this
// node (the fencing code calls it wherever the result is learnt, as each
// Pacemaker controller alerts the fencing results it is told of).
func (a *Agent) AlertFencing(f alerts.Fencing) {
	a.alerts.Notify(alerts.FencingEvent(f))
}
