package crm

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/crm/scheduler"
	"github.com/paceline/paceline/lrm"
)

// Order is one DC instruction to a node: an action of the DC's current
// transition, tagged with the DC's term.
type Order struct {
	Term uint64 `json:"term"`
	DC   string `json:"dc"`
	// Epoch is the configuration the DC planned with: the node waits
	// until its replica has it (a node that just joined may lag).
	Epoch  uint64           `json:"epoch"`
	Action scheduler.Action `json:"action"`
}

// epochWait bounds how long a node waits for its configuration replica
// to reach an order's epoch.
const epochWait = 3 * time.Second

// NodeExecutor carries out the DC's orders on this node, through its LRM.
// It refuses orders of a term older than the newest it has obeyed: an old
// DC that has not yet noticed it was replaced cannot act.
type NodeExecutor struct {
	LRM    *lrm.Manager
	Config func() *cib.Config
	// MayStart, if set, says whether this node may start or promote
	// anything now: not while it does not hold its lease (a late order of
	// a DC it can no longer hear must not start what the other side may
	// be starting too).
	MayStart func() (bool, string)

	mu   sync.Mutex
	term uint64
	dc   string
}

// Term is the newest DC term this node has obeyed, and that DC.
func (n *NodeExecutor) Term() (uint64, string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.term, n.dc
}

// Observe raises the term floor to a DC's term seen in another message
// (a history read): orders of older terms are refused from then on.
func (n *NodeExecutor) Observe(term uint64, dc string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if term > n.term {
		n.term, n.dc = term, dc
	}
}

// Handle runs one order and returns its result.
func (n *NodeExecutor) Handle(ctx context.Context, o Order) lrm.Result {
	n.mu.Lock()
	if o.Term < n.term {
		cur, dc := n.term, n.dc
		n.mu.Unlock()
		return lrm.Result{RC: ocf.ErrGeneric, Status: lrm.StatusError,
			Reason: fmt.Sprintf("refused: an order of term %d from %s, older than term %d of %s", o.Term, o.DC, cur, dc)}
	}
	n.term, n.dc = o.Term, o.DC
	n.mu.Unlock()
	a := o.Action
	name := lrmName(a)
	if (a.Op == scheduler.OpStart || a.Op == scheduler.OpPromote) && n.MayStart != nil {
		if ok, why := n.MayStart(); !ok {
			return lrm.Result{RC: ocf.ErrGeneric, Status: lrm.StatusError, Reason: "refused: this node may not start anything now: " + why}
		}
	}
	switch a.Op {
	case scheduler.OpClearFailcount:
		n.LRM.Cleanup(name, false)
		return lrm.Result{RC: ocf.Success, Status: lrm.StatusDone}
	case scheduler.OpFence:
		return lrm.Result{RC: ocf.ErrUnimplemented, Status: lrm.StatusError, Reason: "a fence is run by the DC's fencer, never sent to a node"}
	case scheduler.OpStart, scheduler.OpStop, scheduler.OpPromote, scheduler.OpDemote, scheduler.OpMonitor, scheduler.OpNotify:
	default:
		return lrm.Result{RC: ocf.ErrArgs, Status: lrm.StatusError, Reason: fmt.Sprintf("unknown operation %q", a.Op)}
	}
	cfg, err := n.waitEpoch(ctx, o.Epoch)
	if err != nil {
		return lrm.Result{RC: ocf.ErrGeneric, Status: lrm.StatusError, Reason: err.Error()}
	}
	req, err := lrm.RequestFor(cfg, name, a.Op, a.Interval)
	if err != nil {
		return lrm.Result{RC: ocf.ErrConfigured, Status: lrm.StatusError, Reason: err.Error()}
	}
	if a.Timeout > 0 {
		req.Timeout = a.Timeout
	}
	if a.Op == scheduler.OpMonitor && a.Interval > 0 {
		expect := ocf.Success
		if a.Role == cib.RolePromoted {
			expect = ocf.RunningPromoted
		}
		if err := n.LRM.StartRecurring(req, expect); err != nil {
			return lrm.Result{RC: ocf.ErrGeneric, Status: lrm.StatusError, Reason: err.Error()}
		}
		return lrm.Result{RC: ocf.Success, Status: lrm.StatusDone}
	}
	if a.Op == scheduler.OpPromote || a.Op == scheduler.OpDemote {
		// The monitors were made for the old role; the plan starts the
		// new role's.
		n.LRM.CancelRecurring(name)
	}
	if a.Op == scheduler.OpNotify && a.Notify != nil {
		// Pacemaker's OCF_RESKEY_CRM_meta_notify_* variables.
		req.Meta = maps.Clone(req.Meta)
		maps.Copy(req.Meta, a.Notify.Vars)
		req.Meta["notify_type"], req.Meta["notify_operation"] = a.Notify.Type, a.Notify.Operation
		r := n.LRM.Exec(ctx, req).Result
		if !r.OK() {
			// As Pacemaker, a failed notification fails nothing: the
			// transition goes on (the history keeps the failure).
			return lrm.Result{RC: ocf.Success, Status: lrm.StatusDone, Reason: "notify failed (ignored): " + r.Reason}
		}
		return r
	}
	return n.LRM.Exec(ctx, req).Result
}

// waitEpoch returns the configuration once it has at least epoch.
func (n *NodeExecutor) waitEpoch(ctx context.Context, epoch uint64) (*cib.Config, error) {
	deadline := time.Now().Add(epochWait)
	for {
		cfg := n.Config()
		if cfg.Epoch >= epoch {
			return cfg, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("this node's configuration is at epoch %d, the DC's order needs %d", cfg.Epoch, epoch)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
