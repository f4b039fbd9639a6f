package crm

import (
	"context"
	"sync"
	"time"

	"github.com/paceline/paceline/crm/scheduler"
)

// ReadViews is what the cluster reports now: every configured node's
// state and transient attributes and, for the online ones, their LRM
// histories, read in parallel (each bounded by timeout). errs[i] says why
// node i's history could not be read (HaveHistory is then false). A DC
// passes its term, which the nodes then hold orders of older terms to;
// other readers pass 0.
func ReadViews(ctx context.Context, cl Cluster, term uint64, timeout time.Duration, now time.Time) (views []NodeView, errs []error, quorate bool) {
	cfg := cl.Config()
	states, quorate := cl.Membership(now)
	attrs := cl.Attrs()
	views = make([]NodeView, len(cfg.Nodes))
	errs = make([]error, len(cfg.Nodes))
	var wg sync.WaitGroup
	for i, n := range cfg.Nodes {
		st := states[n.Name]
		if st == "" {
			st = scheduler.NodeOffline
		}
		views[i] = NodeView{Name: n.Name, State: st, Attrs: attrs[n.Name]}
		if st != scheduler.NodeOnline {
			continue
		}
		wg.Go(func() {
			hctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			h, err := cl.History(hctx, n.Name, term)
			views[i].History, views[i].HaveHistory, errs[i] = h, err == nil, err
		})
	}
	wg.Wait()
	return views, errs, quorate
}
