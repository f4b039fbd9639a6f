package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/cib/raftstore"
)

// maxBody bounds a request body (a whole imported configuration).
const maxBody = 64 << 20

func (a *Agent) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/config", a.getConfig)
	mux.HandleFunc("POST /v1/commands", a.postCommand)
	mux.HandleFunc("GET /v1/cluster", a.getCluster)
	mux.HandleFunc("GET /v1/members", a.getMembers)
	mux.HandleFunc("POST /v1/attrs", a.postAttr)
	mux.HandleFunc("POST /v1/keyring", a.postKeyring)
	mux.HandleFunc("GET /v1/lrm/history", a.getHistory)
	mux.HandleFunc("POST /v1/lrm/exec", a.postExec)
	mux.HandleFunc("GET /v1/resources", a.getResources)
	mux.HandleFunc("GET /v1/explain", a.getExplain)
	mux.HandleFunc("POST /v1/lrm/cleanup", a.postCleanup)
	mux.HandleFunc("POST /v1/stonith/fence", a.postFence)
	mux.HandleFunc("GET /v1/stonith/history", a.getFenceHistory)
	mux.HandleFunc("POST /v1/quorum/unblock", a.postQuorumUnblock)
	mux.HandleFunc("GET /v1/vrrp/status", a.getVRRPStatus)
	mux.HandleFunc("GET /v1/audit", a.getAudit)
	return a.audited(mux) // audit.go
}

func (a *Agent) getConfig(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, a.store.Config())
}

func (a *Agent) getCluster(w http.ResponseWriter, _ *http.Request) {
	inf := a.store.Info()
	ci := api.ClusterInfo{
		Node: a.cfg.Name, State: inf.State, Leader: inf.Leader, Term: inf.Term,
		Applied: inf.Applied, Epoch: inf.Epoch, Version: Version,
	}
	for _, s := range inf.Servers {
		ci.Servers = append(ci.Servers, api.Server{Name: s.Name, Address: s.Address, Voter: s.Voter, Leader: s.Name == inf.Leader})
	}
	writeJSON(w, http.StatusOK, ci)
}

func (a *Agent) postCommand(w http.ResponseWriter, r *http.Request) {
	var req api.CommandRequest
	if !readJSON(w, r, maxBody, &req) {
		return
	}
	cmd, err := cib.CommandByName(req.Type)
	if err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	if err := strictJSON(req.Cmd, cmd); err != nil {
		writeErr(w, http.StatusBadRequest, fmt.Errorf("bad %s: %w", req.Type, err))
		return
	}
	var res *raftstore.Result
	dry := r.URL.Query().Get("dry-run") != ""
	noteCommand(r, req.Type, cmd, dry)                 // audit.go
	if !dry && a.refuseReadOnly(r.Context(), w, cmd) { // readonly.go: fail fast, not at the apply timeout
		return
	}
	if dry {
		res, err = a.store.DryRun(cmd)
	} else {
		res, err = a.store.Apply(r.Context(), cmd)
	}
	var rej *raftstore.RejectedError
	switch {
	case errors.As(err, &rej):
		writeErr(w, http.StatusUnprocessableEntity, err)
		return
	case errors.Is(err, raftstore.ErrNoLeader), errors.Is(err, raftstore.ErrStopped):
		writeErr(w, http.StatusServiceUnavailable, err)
		return
	case err != nil:
		writeErr(w, http.StatusInternalServerError, err)
		return
	}
	if !dry {
		a.log.Info("configuration changed", "command", req.Type, "epoch", res.Epoch)
	}
	writeJSON(w, http.StatusOK, api.CommandResult{Epoch: res.Epoch, Index: res.Index, Notes: res.Notes, DryRun: dry})
}

// readJSON reads a request body of at most limit bytes into v, strictly;
// on failure it has answered the request with the error.
func readJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		writeErr(w, http.StatusRequestEntityTooLarge, fmt.Errorf("request body: %w", err))
		return false
	}
	if err := strictJSON(body, v); err != nil {
		writeErr(w, http.StatusBadRequest, fmt.Errorf("bad request: %w", err))
		return false
	}
	return true
}

func strictJSON(b []byte, v any) error {
	if len(b) == 0 {
		return errors.New("empty body")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after JSON value")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, api.ErrorBody{Error: err.Error()})
}

var errNoGossip = errors.New("membership is off on this node (no gossip-port in its config)")

func (a *Agent) getMembers(w http.ResponseWriter, _ *http.Request) {
	if a.ms == nil {
		writeErr(w, http.StatusNotFound, errNoGossip)
		return
	}
	members := a.ms.Members()
	out := api.Members{Node: a.cfg.Name, Attrs: a.ms.Attrs(), Health: a.ms.HealthScore(),
		Quorum: quorumView(a.decideQuorum(members, time.Now()))}
	for _, m := range members {
		out.Members = append(out.Members, api.Member{
			Name: m.Name, Addr: m.Addr, State: string(m.State), RaftAddr: m.Meta.RaftAddr,
			Votes: m.Meta.Votes, Version: m.Meta.Version, Since: m.Since.UTC().Format(time.RFC3339Nano),
		})
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *Agent) postAttr(w http.ResponseWriter, r *http.Request) {
	if a.ms == nil {
		writeErr(w, http.StatusNotFound, errNoGossip)
		return
	}
	var req api.AttrRequest
	if !readJSON(w, r, 1<<20, &req) {
		return
	}
	var err error
	if req.Delete {
		err = a.ms.DeleteAttr(req.Name)
	} else {
		err = a.ms.SetAttr(req.Name, req.Value)
	}
	if err != nil {
		writeErr(w, http.StatusUnprocessableEntity, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}
