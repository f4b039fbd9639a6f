package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/paceline/paceline/agents"
	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/agents/vrrp"
	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/lrm"
)

// newLRM makes this node's resource manager; ctx is the agent's lifetime.
// The systemd class connects to the system bus at its first action.
func (a *Agent) newLRM(ctx context.Context) *lrm.Manager {
	var sd lrm.Runner
	if s, err := lrm.NewSystemd(lrm.SystemdConfig{Logger: a.log}); err != nil {
		a.log.Warn("the systemd class is not available", "err", err)
	} else {
		sd = s
	}
	grace, _ := a.cfg.Resources.killGrace() // checked by Validate
	ocfRunner := &lrm.OCF{Root: a.cfg.Resources.OCFRoot, Grace: grace, Env: []string{"PACELINE_SOCKET=" + a.cfg.APISocket}}
	if dir, err := a.pacemakerShims(); err != nil {
		a.log.Warn("no Pacemaker tools (crm_attribute, crm_mon, ...) for OCF agents", "err", err)
	} else {
		ocfRunner.Path = dir
		ocfRunner.Env = append(ocfRunner.Env, "HA_SBIN_DIR="+dir)
	}
	builtins := agents.Builtins(ctx, agents.WithGate(a.mayStart), agents.WithLog(a.log))
	a.vrrp, _ = builtins["vrrp"].(*vrrp.Agent)
	return lrm.New(lrm.Options{
		Node:        a.cfg.Name,
		NodeAddress: a.nodeAddress(),
		MaxParallel: a.cfg.Resources.MaxParallel,
		OCF:         ocfRunner,
		LSB:         &lrm.LSB{Grace: grace},
		Systemd:     sd,
		Builtin:     &lrm.Builtin{Agents: builtins, Log: a.log, Attrs: a.attrsForAgents()},
		// A monitor's changed result goes to the DC, which plans the
		// recovery.
		OnChange: func(lrm.Event) { go a.pokeDC() },
		MayStart: a.mayStart,
		Log:      a.log,
	})
}

// LRM returns the node's resource manager.
func (a *Agent) LRM() *lrm.Manager { return a.lrm }

// errNotFound marks a request for something that does not exist (404).
var errNotFound = errors.New("not found")

// localHistory answers a history query on this node.
func (a *Agent) localHistory(rsc string) (*api.HistoryReply, error) {
	rep := &api.HistoryReply{Node: a.cfg.Name, Resources: []lrm.History{}}
	if rsc == "" {
		rep.Resources = a.lrm.Histories()
		return rep, nil
	}
	// A clone's instances are recorded as rsc:N.
	for _, h := range a.lrm.Histories() {
		if h.Rsc == rsc || len(h.Rsc) > len(rsc) && h.Rsc[:len(rsc)+1] == rsc+":" {
			rep.Resources = append(rep.Resources, h)
		}
	}
	return rep, nil
}

// localExec runs one action by hand on this node, for a configured
// resource.
func (a *Agent) localExec(ctx context.Context, req api.ExecRequest) (*lrm.Op, error) {
	var interval time.Duration
	if req.Interval != "" {
		d, err := cib.ParseDuration(req.Interval)
		if err != nil {
			return nil, fmt.Errorf("interval %q: %w", req.Interval, err)
		}
		interval = time.Duration(d)
	}
	switch req.Action {
	case ocf.Start, ocf.Stop, ocf.Monitor, ocf.Promote, ocf.Demote, ocf.Reload, ocf.ValidateAll, ocf.MetaData, ocf.Notify:
	default:
		return nil, fmt.Errorf("unknown action %q: want start, stop, monitor, promote, demote, reload, notify, validate-all or meta-data", req.Action)
	}
	r, err := lrm.RequestFor(a.store.Config(), req.Rsc, req.Action, interval)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNotFound, err)
	}
	// A hand-run monitor is one-shot: the interval only picks its
	// configured timeout and role.
	r.Interval = 0
	op := a.lrm.Exec(ctx, r)
	a.log.Info("action run by hand", "rsc", req.Rsc, "action", req.Action, "rc", op.RC, "status", op.Status)
	return &op, nil
}

// addrOf is a node's cluster address (for node RPCs), from raft's
// membership.
func (a *Agent) addrOf(node string) (string, error) {
	for _, s := range a.store.Info().Servers {
		if s.Name == node {
			return s.Address, nil
		}
	}
	// Not (or no longer) in raft: a two-node peer the survivor removed
	// while it was down (agent/tworaft.go) is still reachable by the
	// address it gossips.
	if a.ms != nil {
		for _, m := range a.ms.Members() {
			if m.Name == node && m.Meta.RaftAddr != "" {
				return m.Meta.RaftAddr, nil
			}
		}
	}
	return "", fmt.Errorf("%w: no node %q in the cluster", errNotFound, node)
}

func (a *Agent) registerLRMRPCs() {
	a.store.Handle("lrm.history", func(_ context.Context, raw json.RawMessage) (any, error) {
		var rsc string
		if err := json.Unmarshal(raw, &rsc); err != nil {
			return nil, fmt.Errorf("lrm.history: %w", err)
		}
		return a.localHistory(rsc)
	})
	a.store.Handle("lrm.cleanup", func(_ context.Context, raw json.RawMessage) (any, error) {
		var prims []string
		if err := json.Unmarshal(raw, &prims); err != nil {
			return nil, fmt.Errorf("lrm.cleanup: %w", err)
		}
		for _, p := range prims {
			a.cleanupLocal(p)
		}
		return struct{}{}, nil
	})
	a.store.Handle("lrm.exec", func(ctx context.Context, raw json.RawMessage) (any, error) {
		var req api.ExecRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, fmt.Errorf("lrm.exec: %w", err)
		}
		return a.localExec(ctx, req)
	})
}

func (a *Agent) getHistory(w http.ResponseWriter, r *http.Request) {
	rsc, node := r.URL.Query().Get("rsc"), r.URL.Query().Get("node")
	if node == "" || node == a.cfg.Name {
		rep, _ := a.localHistory(rsc)
		writeJSON(w, http.StatusOK, rep)
		return
	}
	addr, err := a.addrOf(node)
	if err != nil {
		writeErr(w, http.StatusNotFound, err)
		return
	}
	var rep api.HistoryReply
	if err := a.store.Call(r.Context(), addr, "lrm.history", rsc, &rep); err != nil {
		writeErr(w, http.StatusBadGateway, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (a *Agent) postExec(w http.ResponseWriter, r *http.Request) {
	var req api.ExecRequest
	if !readJSON(w, r, 1<<20, &req) {
		return
	}
	var op *lrm.Op
	var err error
	if req.Node == "" || req.Node == a.cfg.Name {
		op, err = a.localExec(r.Context(), req)
	} else {
		var addr string
		if addr, err = a.addrOf(req.Node); err == nil {
			op = &lrm.Op{}
			err = a.store.Call(r.Context(), addr, "lrm.exec", req, op)
		}
	}
	switch {
	case errors.Is(err, errNotFound):
		writeErr(w, http.StatusNotFound, err)
	case err != nil:
		writeErr(w, http.StatusBadRequest, err)
	default:
		writeJSON(w, http.StatusOK, op)
	}
}

// cleanupLocal forgets a resource's failures here (and of its clone
// instances, rsc:N).
func (a *Agent) cleanupLocal(rsc string) {
	for _, h := range a.lrm.Histories() {
		if h.Rsc == rsc || strings.HasPrefix(h.Rsc, rsc+":") {
			a.lrm.Cleanup(h.Rsc, false)
		}
	}
}

func (a *Agent) postCleanup(w http.ResponseWriter, r *http.Request) {
	var req api.CleanupRequest
	if !readJSON(w, r, 1<<20, &req) {
		return
	}
	cfg := a.store.Config()
	id, _, _ := strings.Cut(req.Rsc, ":")
	if cfg.ResourceKindOf(id) == "" {
		writeErr(w, http.StatusNotFound, fmt.Errorf("unknown resource %q", req.Rsc))
		return
	}
	prims := cfg.PrimitivesOf(id) // a group or clone: every primitive in it
	var nodes []string
	if req.Node != "" {
		if cfg.Node(req.Node) == nil {
			writeErr(w, http.StatusNotFound, fmt.Errorf("unknown node %q", req.Node))
			return
		}
		nodes = []string{req.Node}
	} else {
		for _, n := range cfg.Nodes {
			nodes = append(nodes, n.Name)
		}
	}
	rep := api.CleanupReply{Cleaned: []string{}}
	for _, n := range nodes {
		var err error
		if n == a.cfg.Name {
			for _, p := range prims {
				a.cleanupLocal(p)
			}
		} else if addr, aerr := a.addrOf(n); aerr != nil {
			err = aerr
		} else {
			ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
			err = a.store.Call(ctx, addr, "lrm.cleanup", prims, nil)
			cancel()
		}
		if err != nil {
			if rep.Errors == nil {
				rep.Errors = map[string]string{}
			}
			rep.Errors[n] = err.Error()
			continue
		}
		rep.Cleaned = append(rep.Cleaned, n)
	}
	a.pokeDC()
	writeJSON(w, http.StatusOK, rep)
}

// attrsForAgents gives built-in agents this node's transient attributes
// (nil without gossip: a nil *Membership must not become a non-nil
// interface).
func (a *Agent) attrsForAgents() ocf.Attrs {
	if a.ms == nil {
		return nil
	}
	return a.ms
}

// pacemakerShims makes DATA-DIR/bin with lrm.PacemakerTools (crm_attribute,
// crm_master, crm_node, attrd_updater, crm_mon, cibadmin) as links to this
// binary, which answers to those names (cmd/paceline/crmshim.go): Debian's
// OCF agents find them through HA_SBIN_DIR and PATH and run under Paceline
// as under Pacemaker.
func (a *Agent) pacemakerShims() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return "", err
	}
	dir := filepath.Join(a.cfg.DataDir, "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for _, name := range lrm.PacemakerTools {
		link := filepath.Join(dir, name)
		if cur, err := os.Readlink(link); err == nil && cur == exe {
			continue
		}
		_ = os.Remove(link)
		if err := os.Symlink(exe, link); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// nodeAddress is the host the other nodes reach this node at (its
// advertised cluster address, else the bound one).
func (a *Agent) nodeAddress() string {
	addr := a.cfg.Advertise
	if addr == "" {
		addr = a.cfg.Bind
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil || net.ParseIP(host) == nil || net.ParseIP(host).IsUnspecified() {
		return ""
	}
	return host
}
