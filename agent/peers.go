package agent

import (
	"context"
	"sync"
	"time"

	"github.com/paceline/paceline/messaging"
)

// askAlivePeers calls method on every other alive member at once, each call
// bounded by timeout, and returns the answers by node name. A node that
// does not answer is left out (logged at debug): these reads show what the
// reachable nodes know (fencing history, transitions).
func askAlivePeers[T any](ctx context.Context, a *Agent, method string, timeout time.Duration) map[string]T {
	out := map[string]T{}
	if a.ms == nil {
		return out
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, m := range a.ms.Members() {
		if m.Name == a.cfg.Name || m.State != messaging.Alive {
			continue
		}
		addr, err := a.addrOf(m.Name)
		if err != nil {
			continue
		}
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			var v T
			if err := a.store.Call(cctx, addr, method, struct{}{}, &v); err != nil {
				a.log.Debug("peer call", "method", method, "peer", m.Name, "err", err)
				return
			}
			mu.Lock()
			out[m.Name] = v
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}
