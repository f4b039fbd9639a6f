package agent

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/crm"
	"github.com/paceline/paceline/fencing"
	"github.com/paceline/paceline/messaging"
)

// The web view's snapshot: the cluster as the answering node sees it, made
// from what its own API handlers use (members and quorum as GET
// /v1/members, what runs where as GET /v1/resources, fencing as GET
// /v1/stonith/history), so any node can serve it, not only the DC.

// Sizes of the snapshot's lists: the page shows the latest few.
const (
	webTransitions = 10
	webFencing     = 10
	webTransOps    = 12 // a transition's actions listed by name
)

// webSnapshot is the JSON the page renders (GET /api/state and each event
// of GET /events). Nothing in it changes unless the cluster does: the
// event stream sends it again only when its bytes differ.
type webSnapshot struct {
	// Node is the node that answered, and Version its agent's.
	Node    string `json:"node"`
	Version string `json:"version"`
	// DC is the designated coordinator as this node knows it ("" if none);
	// Term is raft's, Epoch the configuration's.
	DC    string `json:"dc"`
	Term  uint64 `json:"term"`
	Epoch uint64 `json:"epoch"`
	// Quorum is this node's partition's (nil without membership).
	Quorum *api.Quorum `json:"quorum,omitempty"`
	// MaintenanceMode is the cluster property: nothing is managed.
	MaintenanceMode bool `json:"maintenance-mode,omitempty"`
	// Nodes are the configured nodes, sorted by name.
	Nodes []webNode `json:"nodes"`
	// Resources are the configured primitives, sorted by id, with where
	// they run.
	Resources []webResource `json:"resources"`
	// Unreachable lists online nodes whose history could not be read.
	Unreachable []string     `json:"unreachable,omitempty"`
	Failures    []webFailure `json:"failures,omitempty"`
	// Transitions are the latest the DCs ran, newest first.
	Transitions []webTransition `json:"transitions,omitempty"`
	// Fencing is the latest fencing operations, newest first.
	Fencing []fencing.Op `json:"fencing,omitempty"`
}

// webNode is one configured node.
type webNode struct {
	Name string `json:"name"`
	// State is the scheduler's: online, offline or unclean.
	State string `json:"state"`
	// Member is the gossip state (alive, suspect, failed, left), "" if
	// never seen.
	Member      string `json:"member,omitempty"`
	Standby     bool   `json:"standby,omitempty"`
	Maintenance bool   `json:"maintenance,omitempty"`
	DC          bool   `json:"dc,omitempty"`
	// Resources are what runs (or failed) there, sorted by id.
	Resources []webPlacement `json:"resources,omitempty"`
}

// webPlacement is a resource's role on a node.
type webPlacement struct {
	Rsc  string `json:"rsc,omitempty"`
	Node string `json:"node,omitempty"`
	// Role is Started, Promoted, Unpromoted or Stopped (failed, then
	// stopped).
	Role     string `json:"role"`
	Failed   bool   `json:"failed,omitempty"`
	FailedOp string `json:"failed-op,omitempty"`
}

// webResource is one configured primitive and where it runs.
type webResource struct {
	ID    string `json:"id"`
	Agent string `json:"agent"`
	// Group and Clone hold it, if any.
	Group string `json:"group,omitempty"`
	Clone string `json:"clone,omitempty"`
	// On lists its nodes and roles; empty: stopped everywhere.
	On []webPlacement `json:"on,omitempty"`
}

// webFailure is a resource's last failed operation on a node.
type webFailure struct {
	Node      string    `json:"node"`
	Rsc       string    `json:"rsc"`
	Op        string    `json:"op"`
	RC        int       `json:"rc"`
	RCName    string    `json:"rc-name,omitempty"`
	Status    string    `json:"status,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	At        time.Time `json:"at"`
	FailCount int       `json:"fail-count"`
}

// webTransition is a transition and the node that ran it as DC.
type webTransition struct {
	DC string `json:"dc"`
	crm.Transition
}

// webInput is what a snapshot is made of; buildWebSnapshot is pure (its
// tests read one from testdata/web).
type webInput struct {
	Self        string             `json:"self"`
	Version     string             `json:"version"`
	Info        api.ClusterInfo    `json:"info"`    // Leader, Term, Epoch
	SelfDC      bool               `json:"self-dc"` // this node is the DC (two-node: without a raft leader)
	Config      *cib.Config        `json:"config"`
	Members     []messaging.Member `json:"members"` // nil without membership
	Quorum      *api.Quorum        `json:"quorum"`
	Resources   api.ResourcesReply `json:"resources"`
	Fencing     []fencing.Op       `json:"fencing"`
	Transitions []webTransition    `json:"transitions"`
}

// buildWebSnapshot arranges the inputs for the page: sorted, roles named
// as crm_mon names them, lists cut to their latest entries.
func buildWebSnapshot(in webInput) webSnapshot {
	cfg := in.Config
	if cfg == nil {
		cfg = &cib.Config{}
	}
	s := webSnapshot{Node: in.Self, Version: in.Version, DC: in.Info.Leader, Term: in.Info.Term, Epoch: in.Info.Epoch,
		Quorum: in.Quorum, MaintenanceMode: cfg.Property("maintenance-mode") == "true",
		Nodes: []webNode{}, Resources: []webResource{}}
	if s.DC == "" && in.SelfDC {
		s.DC = in.Self
	}
	member := map[string]string{}
	for _, m := range in.Members {
		member[m.Name] = string(m.State)
	}
	state := map[string]api.NodeResource{}
	for _, n := range in.Resources.Nodes {
		state[n.Name] = n
	}
	where := map[string][]webPlacement{}
	for _, n := range cfg.Nodes {
		st := state[n.Name]
		wn := webNode{Name: n.Name, State: cmp.Or(st.State, "offline"), Member: member[n.Name],
			Standby: n.Standby, Maintenance: n.Maintenance, DC: n.Name == s.DC}
		for _, r := range st.Resources {
			if r.Role == cib.RoleStopped && !r.Failed {
				continue
			}
			role := cmp.Or(r.Role, cib.RoleStarted)
			if role == cib.RoleStarted && promotableRsc(cfg, r.ID) {
				role = cib.RoleUnpromoted // as crm_mon: a promotable clone's instance that is not promoted
			}
			p := webPlacement{Rsc: r.ID, Role: role, Failed: r.Failed, FailedOp: r.FailedOp}
			wn.Resources = append(wn.Resources, p)
			p.Rsc, p.Node = "", n.Name
			where[r.ID] = append(where[r.ID], p)
		}
		slices.SortStableFunc(wn.Resources, func(x, y webPlacement) int { return strings.Compare(x.Rsc, y.Rsc) })
		s.Nodes = append(s.Nodes, wn)
	}
	slices.SortFunc(s.Nodes, func(x, y webNode) int { return strings.Compare(x.Name, y.Name) })
	for _, p := range cfg.Primitives {
		r := webResource{ID: p.ID, Agent: p.Agent, On: where[p.ID]}
		if g := cfg.GroupOf(p.ID); g != nil {
			r.Group = g.ID
		}
		if c := cfg.CloneOf(cmp.Or(r.Group, p.ID)); c != nil {
			r.Clone = c.ID
		}
		slices.SortFunc(r.On, func(x, y webPlacement) int { return strings.Compare(x.Node, y.Node) })
		s.Resources = append(s.Resources, r)
	}
	slices.SortFunc(s.Resources, func(x, y webResource) int { return strings.Compare(x.ID, y.ID) })
	s.Unreachable = slices.Sorted(slices.Values(in.Resources.Unreachable))
	for _, f := range in.Resources.Failures {
		op := f.Op.Action
		if f.Op.Interval > 0 {
			op += " " + f.Op.Interval.String()
		}
		s.Failures = append(s.Failures, webFailure{Node: f.Node, Rsc: f.Op.Rsc, Op: op, RC: f.Op.RC, RCName: f.Op.RCName,
			Status: string(f.Op.Status), Reason: f.Op.Reason, At: f.Op.Started.UTC(), FailCount: f.FailCount})
	}
	slices.SortFunc(s.Failures, func(x, y webFailure) int {
		return cmp.Or(strings.Compare(x.Node, y.Node), strings.Compare(x.Rsc, y.Rsc), strings.Compare(x.Op, y.Op))
	})
	tr := slices.Clone(in.Transitions)
	slices.SortStableFunc(tr, func(x, y webTransition) int {
		return cmp.Or(y.Started.Compare(x.Started), strings.Compare(x.DC, y.DC), y.Seq-x.Seq)
	})
	for i := range tr[:min(len(tr), webTransitions)] {
		t := tr[i]
		t.Started = t.Started.UTC()
		if len(t.Ops) > webTransOps {
			t.Ops = append(slices.Clip(t.Ops[:webTransOps]), "…")
		}
		s.Transitions = append(s.Transitions, t)
	}
	fo := slices.Clone(in.Fencing)
	slices.SortStableFunc(fo, func(x, y fencing.Op) int { return cmp.Or(y.Started.Compare(x.Started), strings.Compare(x.ID, y.ID)) })
	s.Fencing = fo[:min(len(fo), webFencing)]
	if len(s.Fencing) == 0 {
		s.Fencing = nil
	}
	return s
}

// promotableRsc says whether a primitive is in a promotable clone.
func promotableRsc(cfg *cib.Config, id string) bool {
	cl := cfg.CloneOf(id)
	if cl == nil {
		if g := cfg.GroupOf(id); g != nil {
			cl = cfg.CloneOf(g.ID)
		}
	}
	return cl != nil && cl.Promotable
}

// webState gathers this node's view now: the reads that need other nodes
// (their histories, fencing histories and transitions) run side by side,
// each bounded as in the API handlers.
func (a *Agent) webState(ctx context.Context) webSnapshot {
	inf := a.store.Info()
	in := webInput{Self: a.cfg.Name, Version: Version, Config: a.store.Config(),
		Info: api.ClusterInfo{Leader: inf.Leader, Term: inf.Term, Epoch: inf.Epoch}}
	_, in.SelfDC = cluster{a}.DC()
	if a.ms != nil {
		in.Members = a.ms.Members()
		in.Quorum = quorumView(a.quorumOf(in.Members, time.Now()))
	}
	var wg sync.WaitGroup
	wg.Go(func() { _, in.Resources = a.gatherStatus(ctx) })
	wg.Go(func() { in.Fencing = a.fenceHistory(ctx) })
	wg.Go(func() { in.Transitions = a.recentTransitions(ctx) })
	wg.Wait()
	return buildWebSnapshot(in)
}

// transitionsRPC is the node RPC that returns a node's recent transitions
// (those it ran as DC).
const transitionsRPC = "crm.transitions"

// registerWebRPCs answers other nodes' web views: the transitions this
// node ran while it was the DC. Every node answers, whether or not its own
// observation listener is on.
func (a *Agent) registerWebRPCs() {
	a.store.Handle(transitionsRPC, func(context.Context, json.RawMessage) (any, error) {
		return a.ctl.Recent(), nil
	})
}

// recentTransitions gathers the transitions every alive node ran as DC
// (the DC moves; each node keeps its own).
func (a *Agent) recentTransitions(ctx context.Context) []webTransition {
	var out []webTransition
	for _, t := range a.ctl.Recent() {
		out = append(out, webTransition{DC: a.cfg.Name, Transition: t})
	}
	for name, ts := range askAlivePeers[[]crm.Transition](ctx, a, transitionsRPC, 2*time.Second) {
		for _, t := range ts {
			out = append(out, webTransition{DC: name, Transition: t})
		}
	}
	return out
}
