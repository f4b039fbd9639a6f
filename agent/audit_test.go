package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
)

// serveAudited serves h, wrapped by the audit, on a unix socket as the
// agent does, and returns a client for it.
func serveAudited(t *testing.T, a *Agent, h http.Handler) *http.Client {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "api.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: a.audited(h), ConnContext: peerContext, ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
}

func readAudit(t *testing.T, dir string) []api.AuditEntry {
	t.Helper()
	rep, err := readAuditTail(filepath.Join(dir, AuditFile), 100)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Skipped != 0 {
		t.Errorf("%d audit lines did not decode", rep.Skipped)
	}
	return rep.Entries
}

func TestAuditRecordsPeerCommandAndResult(t *testing.T) {
	dir := t.TempDir()
	a := &Agent{cfg: Config{Name: "n1", DataDir: dir}, log: slog.New(slog.DiscardHandler)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/commands", func(w http.ResponseWriter, r *http.Request) {
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
			writeErr(w, http.StatusBadRequest, err)
			return
		}
		noteCommand(r, req.Type, cmd, r.URL.Query().Get("dry-run") != "")
		if sp, ok := cmd.(*cib.SetProperties); ok && sp.Patch.Set["no-quorum-policy"] == "maybe" {
			writeErr(w, http.StatusUnprocessableEntity, fmt.Errorf(`property "no-quorum-policy": bad value`))
			return
		}
		writeJSON(w, http.StatusOK, api.CommandResult{Epoch: 7})
	})
	mux.HandleFunc("POST /v1/attrs", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, struct{}{}) })
	mux.HandleFunc("POST /v1/keyring", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, struct{}{}) })
	mux.HandleFunc("POST /v1/stonith/fence", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"target": "n2", "state": "done"})
	})
	hc := serveAudited(t, a, mux)
	post := func(path string, body any) int {
		b, _ := json.Marshal(body)
		resp, err := hc.Post("http://x"+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	cmd := func(c cib.Command) api.CommandRequest {
		raw, _ := json.Marshal(c)
		return api.CommandRequest{Type: c.Type().String(), Cmd: raw}
	}
	post("/v1/commands", cmd(&cib.CreatePrimitive{Primitive: cib.Primitive{ID: "fence-ish", Agent: "ocf:paceline:dummy", Params: map[string]string{"password": "hunter2"}}}))
	post("/v1/commands?dry-run=1", cmd(&cib.DeleteResource{ID: "web"}))
	post("/v1/commands", cmd(&cib.SetProperties{Patch: cib.Patch{Set: map[string]string{"no-quorum-policy": "maybe"}}}))
	post("/v1/commands", map[string]string{"type": "NoSuchCommand"})
	post("/v1/attrs", api.AttrRequest{Name: "pingd", Value: "1"})
	post("/v1/keyring", api.KeyringRequest{Action: "list"})
	post("/v1/keyring", api.KeyringRequest{Action: "install", Key: "c2VjcmV0LWtleS1zZWNyZXQta2V5LTMyYnl0ZXMhIQ=="})
	post("/v1/stonith/fence", api.FenceRequest{Target: "n2"})

	es := readAudit(t, dir)
	if len(es) != 6 {
		t.Fatalf("%d audit entries, want 6 (no attrs, no keyring list): %+v", len(es), es)
	}
	for _, e := range es {
		if e.Peer == nil || e.Peer.UID != uint32(os.Getuid()) || e.Peer.PID != int32(os.Getpid()) || e.Node != "n1" || e.Time.IsZero() {
			t.Errorf("entry without this process as peer: %+v (peer %+v)", e, e.Peer)
		}
	}
	check := func(i int, action, command, summary string, status int, epoch uint64, errPart string, dry bool) {
		t.Helper()
		e := es[i]
		if e.Action != action || e.Command != command || !strings.Contains(e.Summary, summary) || e.Status != status || e.Epoch != epoch || !strings.Contains(e.Error, errPart) || e.DryRun != dry {
			t.Errorf("entry %d: %+v\nwant action %s command %s summary ~%q status %d epoch %d error ~%q dry %v", i, e, action, command, summary, status, epoch, errPart, dry)
		}
	}
	check(0, "command", "CreatePrimitive", "primitive.id=fence-ish", 200, 7, "", false)
	check(1, "command", "DeleteResource", "id=web", 200, 7, "", true)
	check(2, "command", "SetProperties", "patch.set.no-quorum-policy=maybe", 422, 0, "bad value", false)
	check(3, "command", "", "", 400, 0, "NoSuchCommand", false)
	check(4, "keyring", "", "action=install key=sha256:", 200, 0, "", false)
	check(5, "fence", "", "target=n2 → state=done", 200, 0, "", false)
	b, _ := os.ReadFile(filepath.Join(dir, AuditFile))
	for _, secret := range []string{"hunter2", "c2VjcmV0"} {
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("the audit log holds the secret %q:\n%s", secret, b)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, AuditFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode: %v %v, want 0600", st.Mode(), err)
	}
}

func TestAuditLogTightensModeAndTails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, AuditFile)
	if err := os.WriteFile(path, []byte("not json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := appendAudit(path, api.AuditEntry{Action: "cleanup", Summary: fmt.Sprintf("rsc=r%d", i), Status: 200}); err != nil {
			t.Fatal(err)
		}
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	rep, err := readAuditTail(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Entries) != 3 || rep.Entries[0].Summary != "rsc=r2" || rep.Entries[2].Summary != "rsc=r4" {
		t.Errorf("tail 3: %+v", rep.Entries)
	}
	rep, _ = readAuditTail(path, 100)
	if rep.Skipped != 1 || len(rep.Entries) != 5 {
		t.Errorf("tail 100: %d entries, %d skipped; want 5 and 1", len(rep.Entries), rep.Skipped)
	}
	rep, err = readAuditTail(filepath.Join(dir, "missing.log"), 10)
	if err != nil || len(rep.Entries) != 0 {
		t.Errorf("missing log: %v %+v", err, rep)
	}
}

func TestSummarizeCommandHidesParamsAndCaps(t *testing.T) {
	big := map[string]string{}
	for i := range 200 {
		big[fmt.Sprintf("k%03d", i)] = "v"
	}
	cases := []struct {
		cmd  cib.Command
		want string
	}{
		{&cib.UpdateResource{ID: "db", Params: cib.Patch{Set: map[string]string{"pass": "x"}, Unset: []string{"old"}}},
			"id=db params.set.pass=*** params.unset=[1 values]"},
		{&cib.ReplaceConfig{Config: &cib.Config{Nodes: []cib.Node{{Name: "a"}}, Properties: map[string]string{"x": "y"}}},
			"config: 1 nodes, 0 primitives, 0 groups, 0 clones, 0 constraints, 0 fence devices, 1 properties"},
		{&cib.UpdateNode{Name: "a", Standby: new(bool)}, "name=a standby=false"},
		{&cib.AddRecipient{Alert: "hook", Recipient: cib.Recipient{ID: "r1", Value: "https://hooks.example/T0KEN"}},
			"alert=hook recipient.id=r1 recipient.value=***"},
		{&cib.UpdateRecipient{ID: "r1", Value: "https://hooks.example/T0KEN"}, "id=r1 value=***"},
		{&cib.CreateAlert{Alert: cib.Alert{ID: "hook", Path: "/bin/true", Recipients: []cib.Recipient{{ID: "r2", Value: "https://hooks.example/T0KEN"}}}},
			"alert.id=hook alert.path=/bin/true alert.recipients[0].id=r2 alert.recipients[0].value=***"},
	}
	for _, tc := range cases {
		if got := summarizeCommand(tc.cmd); got != tc.want {
			t.Errorf("%T: got %q, want %q", tc.cmd, got, tc.want)
		}
	}
	if got := summarizeCommand(&cib.SetProperties{Patch: cib.Patch{Set: big}}); len(got) > auditSummaryMax+len("…") {
		t.Errorf("summary of %d bytes, want at most %d", len(got), auditSummaryMax)
	}
}

func TestReadOnlyWhy(t *testing.T) {
	up := func(names ...string) func(string) bool {
		return func(n string) bool { return strings.Contains(" "+strings.Join(names, " ")+" ", " "+n+" ") }
	}
	cases := []struct {
		name    string
		voters  []string
		up      func(string) bool
		twoNode bool
		want    string
	}{
		{"two-node peer down", []string{"n1", "n2"}, up(), true,
			"configuration is read-only: raft has no majority (two-node degraded mode, peer n2 down); resource state is still managed; writes resume when n2 returns (or, with fencing, once it is fenced)"},
		{"two voters peer up: an election", []string{"n1", "n2"}, up("n2"), true, ""},
		{"alone as the only voter", []string{"n1"}, up(), false, ""},
		{"three voters one down", []string{"n1", "n2", "n3"}, up("n3"), false, ""},
		{"three voters two down", []string{"n3", "n2", "n1"}, up(), false,
			"configuration is read-only: raft has no majority (1 of 3 voters present; down: n2, n3); resource state is still managed; writes resume when a majority is back"},
		{"not a voter itself", []string{"n2", "n3"}, up(), false,
			"configuration is read-only: raft has no majority (0 of 2 voters present; down: n2, n3); resource state is still managed; writes resume when a majority is back"},
	}
	for _, tc := range cases {
		if got := readOnlyWhy("n1", tc.voters, tc.up, tc.twoNode); got != tc.want {
			t.Errorf("%s:\n got  %q\n want %q", tc.name, got, tc.want)
		}
	}
}
