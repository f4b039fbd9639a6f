package agent

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/messaging"
)

// keyringFile keeps this node's gossip keys across restarts once they were
// rotated (the config's encrypt-key is only the first key).
const keyringFile = "keyring.json"

type keyringState struct {
	Keys []string `json:"keys"` // base64, the primary first
}

// loadKeyring returns the persisted keys, or the config's key.
func (a *Agent) loadKeyring() ([][]byte, error) {
	b, err := os.ReadFile(filepath.Join(a.cfg.DataDir, keyringFile))
	if errors.Is(err, os.ErrNotExist) {
		return a.cfg.GossipKeys()
	}
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	var st keyringState
	if err := json.Unmarshal(b, &st); err != nil || len(st.Keys) == 0 {
		return nil, fmt.Errorf("keyring %s: unreadable or empty", filepath.Join(a.cfg.DataDir, keyringFile))
	}
	var keys [][]byte
	for _, k := range st.Keys {
		raw, err := base64.StdEncoding.DecodeString(k)
		if err != nil {
			return nil, fmt.Errorf("keyring %s: %w", keyringFile, err)
		}
		keys = append(keys, raw)
	}
	return keys, nil
}

func (a *Agent) saveKeyring() error {
	st := keyringState{Keys: encodeKeys(a.ms.Keys())}
	b, _ := json.Marshal(st)
	tmp := filepath.Join(a.cfg.DataDir, keyringFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	return os.Rename(tmp, filepath.Join(a.cfg.DataDir, keyringFile))
}

func encodeKeys(keys [][]byte) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, base64.StdEncoding.EncodeToString(k))
	}
	return out
}

// keyringLocal runs one keyring action on this node.
func (a *Agent) keyringLocal(req api.KeyringRequest) (api.KeyringResult, error) {
	res := api.KeyringResult{Node: a.cfg.Name}
	if req.Action != "list" {
		key, err := base64.StdEncoding.DecodeString(req.Key)
		if err != nil || (len(key) != 16 && len(key) != 24 && len(key) != 32) {
			return res, errors.New("key: want base64 of a 16, 24 or 32-byte key")
		}
		switch req.Action {
		case "install":
			err = a.ms.InstallKey(key)
		case "use":
			err = a.ms.UseKey(key)
		case "remove":
			err = a.ms.RemoveKey(key)
		default:
			return res, fmt.Errorf("unknown keyring action %q (want list, install, use or remove)", req.Action)
		}
		if err != nil {
			return res, err
		}
		if err := a.saveKeyring(); err != nil {
			return res, err
		}
		a.log.Info("gossip keyring changed", "action", req.Action)
	}
	keys := encodeKeys(a.ms.Keys())
	res.Keys = keys
	if len(keys) > 0 {
		res.Primary = keys[0]
	}
	return res, nil
}

// handleKeyringRPC answers the "keyring" node RPC.
func (a *Agent) handleKeyringRPC(_ context.Context, raw json.RawMessage) (any, error) {
	var req api.KeyringRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, err
	}
	return a.keyringLocal(req)
}

// postKeyring runs a keyring action on every alive member, this one
// included, and answers with each node's result.
func (a *Agent) postKeyring(w http.ResponseWriter, r *http.Request) {
	if a.ms == nil {
		writeErr(w, http.StatusNotFound, errNoGossip)
		return
	}
	var req api.KeyringRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeErr(w, http.StatusBadRequest, fmt.Errorf("bad request: %w", err))
		return
	}
	if req.Action == "use" || req.Action == "remove" || req.Action == "install" {
		if _, err := base64.StdEncoding.DecodeString(req.Key); err != nil || req.Key == "" {
			writeErr(w, http.StatusBadRequest, errors.New("key: want base64"))
			return
		}
	} else if req.Action != "list" {
		writeErr(w, http.StatusBadRequest, fmt.Errorf("unknown keyring action %q (want list, install, use or remove)", req.Action))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	var mu sync.Mutex
	var out []api.KeyringResult
	var wg sync.WaitGroup
	for _, m := range a.ms.Members() {
		if m.State != messaging.Alive && m.State != messaging.Suspect {
			continue
		}
		wg.Go(func() {
			var res api.KeyringResult
			var err error
			if m.Name == a.cfg.Name {
				res, err = a.keyringLocal(req)
			} else {
				err = a.store.Call(ctx, m.Meta.RaftAddr, "keyring", req, &res)
			}
			res.Node = m.Name
			if err != nil {
				res.Error = err.Error()
			}
			mu.Lock()
			out = append(out, res)
			mu.Unlock()
		})
	}
	wg.Wait()
	sortResults(out)
	writeJSON(w, http.StatusOK, out)
}

func sortResults(rs []api.KeyringResult) {
	slices.SortFunc(rs, func(x, y api.KeyringResult) int { return strings.Compare(x.Node, y.Node) })
}
