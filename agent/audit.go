package agent

// The audit log: every state-changing request of the local API (a
// configuration command, cleanup, fence, quorum unblock, keyring change,
// agent action), who made it (the unix socket peer's SO_PEERCRED), when,
// what it named and what came of it, one JSON line each in
// <data-dir>/audit.log (mode 0600) and at Info in the agent's log.
//
// POST /v1/attrs is not audited: resource agents set transient attributes
// (crm_attribute, attrd_updater) many times a minute, they are not
// configuration, and they are gossiped, not stored.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
)

// AuditFile is the audit log's name in the data dir.
const AuditFile = "audit.log"

// Audit limits: how much of a request and an answer the audit reads, how
// long a summary grows, and how many entries GET /v1/audit returns.
const (
	auditBodyMax    = 1 << 20
	auditAnswerMax  = 64 << 10
	auditSummaryMax = 400
	auditTailMax    = 10000
	auditTailBytes  = 32 << 20
)

// auditActions names the audited POST routes.
var auditActions = map[string]string{
	"/v1/commands":       "command",
	"/v1/lrm/cleanup":    "cleanup",
	"/v1/stonith/fence":  "fence",
	"/v1/quorum/unblock": "quorum-unblock",
	"/v1/keyring":        "keyring",
	"/v1/lrm/exec":       "exec",
}

type peerKey struct{}

// peerContext is the API server's ConnContext: it reads the unix socket
// peer's credentials once per connection.
func peerContext(ctx context.Context, c net.Conn) context.Context {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return ctx
	}
	p, err := peerCred(uc)
	if err != nil {
		return ctx
	}
	return context.WithValue(ctx, peerKey{}, p)
}

// peerCred reads SO_PEERCRED of a unix connection and looks up the uid's
// user name.
func peerCred(uc *net.UnixConn) (*api.Peer, error) {
	raw, err := uc.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *syscall.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return nil, err
	}
	if cerr != nil {
		return nil, fmt.Errorf("SO_PEERCRED: %w", cerr)
	}
	p := &api.Peer{UID: cred.Uid, GID: cred.Gid, PID: cred.Pid}
	if u, err := user.LookupId(strconv.FormatUint(uint64(cred.Uid), 10)); err == nil {
		p.User = u.Username
	}
	return p, nil
}

// callerOf returns the API caller's credentials, or nil.
func callerOf(ctx context.Context) *api.Peer {
	p, _ := ctx.Value(peerKey{}).(*api.Peer)
	return p
}

type noteKey struct{}

// auditNote is what a handler tells the audit about its request.
type auditNote struct {
	command string
	cmd     cib.Command
	dryRun  bool
}

// noteCommand tells the audit which configuration command a request
// carries (postCommand calls it once the command decoded).
func noteCommand(r *http.Request, typ string, cmd cib.Command, dry bool) {
	if n, ok := r.Context().Value(noteKey{}).(*auditNote); ok {
		n.command, n.cmd, n.dryRun = typ, cmd, dry
	}
}

// audited wraps the API: every POST of auditActions is audited once
// answered.
func (a *Agent) audited(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		action, ok := auditActions[r.URL.Path]
		if r.Method != http.MethodPost || !ok {
			next.ServeHTTP(w, r)
			return
		}
		note := &auditNote{}
		r = r.WithContext(context.WithValue(r.Context(), noteKey{}, note))
		var body []byte
		if action != "command" && r.Body != nil { // postCommand notes its command
			// Read the start of the body now (the handler may not read it
			// all), and hand the handler all of it.
			var err error
			if body, err = io.ReadAll(io.LimitReader(r.Body, auditBodyMax+1)); err != nil {
				writeErr(w, http.StatusBadRequest, fmt.Errorf("request body: %w", err))
				return
			}
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
		}
		rec := &recorder{ResponseWriter: w, status: http.StatusOK, body: capture{limit: auditAnswerMax}}
		start := time.Now()
		next.ServeHTTP(rec, r)
		e := api.AuditEntry{Time: start.UTC(), Node: a.cfg.Name, Peer: callerOf(r.Context()), Action: action, Status: rec.status}
		if !auditRequest(&e, note, body) {
			return // a read-only request (keyring list)
		}
		auditAnswer(&e, rec.body.buf.Bytes())
		a.writeAudit(e)
	})
}

// auditRequest fills in what the request asked; false for one that changes
// nothing.
func auditRequest(e *api.AuditEntry, note *auditNote, body []byte) bool {
	if e.Action == "command" {
		e.Command, e.DryRun = note.command, note.dryRun
		if note.cmd != nil {
			e.Summary = summarizeCommand(note.cmd)
		}
		return true
	}
	var m map[string]any
	if len(body) > auditBodyMax || json.Unmarshal(body, &m) != nil {
		return true // the handler refused it; the answer says why
	}
	switch e.Action {
	case "keyring":
		action, _ := m["action"].(string)
		if action == "list" {
			return false
		}
		e.Summary = "action=" + action
		if k, ok := m["key"].(string); ok && k != "" {
			e.Summary += " key=" + keyFingerprint(k)
		}
		return true
	}
	e.Summary = summarizeJSON(m)
	return true
}

// keyFingerprint names a gossip key without revealing it: sha256: and the
// first 16 hex digits of its hash.
func keyFingerprint(b64 string) string {
	k, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "(not base64)"
	}
	h := sha256.Sum256(k)
	return "sha256:" + hex.EncodeToString(h[:8])
}

// auditAnswer fills in the result from the answer's JSON: the error, the
// new epoch, a fencing state, an agent's rc.
func auditAnswer(e *api.AuditEntry, b []byte) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if dec.Decode(&m) != nil {
		if e.Status/100 != 2 {
			e.Error = http.StatusText(e.Status)
		}
		return
	}
	if s, ok := m["error"].(string); ok && e.Status/100 != 2 {
		e.Error = s
	}
	if n, ok := m["epoch"].(json.Number); ok {
		if v, err := strconv.ParseUint(n.String(), 10, 64); err == nil {
			e.Epoch = v
		}
	}
	var out []string
	for _, k := range []string{"state", "rc", "reason", "cleaned", "errors"} {
		if v, ok := m[k]; ok {
			out = append(out, k+"="+scalar(v))
		}
	}
	if len(out) > 0 {
		e.Summary = strings.TrimSpace(e.Summary + " → " + strings.Join(out, " "))
	}
}

// summarizeCommand says what a configuration command names: ids, agents,
// keys (never parameter values, which may be secrets). A ReplaceConfig is
// summarized by its counts.
func summarizeCommand(cmd cib.Command) string {
	if rc, ok := cmd.(*cib.ReplaceConfig); ok {
		if rc.Config == nil {
			return "config=none"
		}
		c := rc.Config
		cs := c.Constraints
		return fmt.Sprintf("config: %d nodes, %d primitives, %d groups, %d clones, %d constraints, %d fence devices, %d properties",
			len(c.Nodes), len(c.Primitives), len(c.Groups), len(c.Clones), len(cs.Location)+len(cs.Colocation)+len(cs.Order), len(c.FenceDevices), len(c.Properties))
	}
	if ur, ok := cmd.(*cib.UpdateRecipient); ok && ur.Value != "" {
		masked := *ur
		masked.Value = "***" // a recipient's value: see isSecret
		cmd = &masked
	}
	b, err := json.Marshal(cmd)
	if err != nil {
		return ""
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return ""
	}
	return summarizeJSON(v)
}

// secretKeys are the maps whose values the audit never writes: resource
// and fence device parameters hold passwords.
var secretKeys = []string{"params"}

// isSecret says whether key k under name holds a secret: a secretKeys map,
// or an alert recipient's value (often a webhook address with a token in
// it).
func isSecret(name, k string) bool {
	return slices.Contains(secretKeys, k) || (k == "value" && strings.Contains(strings.ToLower(name), "recipient"))
}

// summarizeJSON flattens a decoded JSON value to "a.b=v c=[x,y]" in key
// order, values of secretKeys hidden, at most auditSummaryMax bytes.
func summarizeJSON(v any) string {
	var parts []string
	flatten("", v, 0, false, &parts)
	s := strings.Join(parts, " ")
	if len(s) > auditSummaryMax {
		s = s[:auditSummaryMax] + "…"
	}
	return s
}

func flatten(name string, v any, depth int, secret bool, out *[]string) {
	switch t := v.(type) {
	case nil:
	case map[string]any:
		if depth >= 4 {
			*out = append(*out, name+"={…}")
			return
		}
		for _, k := range slices.Sorted(maps.Keys(t)) {
			n := k
			if name != "" {
				n = name + "." + k
			}
			flatten(n, t[k], depth+1, secret || isSecret(name, k), out)
		}
	case []any:
		scalars := true
		for _, x := range t {
			switch x.(type) {
			case map[string]any, []any:
				scalars = false
			}
		}
		switch {
		case len(t) == 0:
		case scalars && !secret:
			vals := make([]string, len(t))
			for i, x := range t {
				vals[i] = scalar(x)
			}
			*out = append(*out, name+"=["+strings.Join(vals, ",")+"]")
		case scalars:
			*out = append(*out, fmt.Sprintf("%s=[%d values]", name, len(t)))
		default:
			for i, x := range t {
				flatten(name+"["+strconv.Itoa(i)+"]", x, depth+1, secret, out)
			}
		}
	default:
		if secret {
			*out = append(*out, name+"=***")
			return
		}
		*out = append(*out, name+"="+scalar(t))
	}
}

// scalar renders a JSON value short: strings quoted when they hold spaces,
// at most 64 bytes.
func scalar(v any) string {
	var s string
	switch t := v.(type) {
	case string:
		s = t
		if len(s) > 64 {
			s = s[:64] + "…"
		}
		if s == "" || strings.ContainsAny(s, " \t\n\"=") {
			s = strconv.Quote(s)
		}
		return s
	case []any, map[string]any:
		b, _ := json.Marshal(t)
		s = string(b)
	default:
		s = fmt.Sprint(t)
	}
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return s
}

// writeAudit appends one entry to the audit log and logs it. A failure to
// write is logged at Error: the request is already answered.
func (a *Agent) writeAudit(e api.AuditEntry) {
	attrs := []any{"action", e.Action, "status", e.Status}
	if e.Peer != nil {
		attrs = append(attrs, "uid", e.Peer.UID, "gid", e.Peer.GID, "pid", e.Peer.PID, "user", e.Peer.User)
	}
	if e.Command != "" {
		attrs = append(attrs, "command", e.Command)
	}
	if e.Summary != "" {
		attrs = append(attrs, "summary", e.Summary)
	}
	if e.DryRun {
		attrs = append(attrs, "dry-run", true)
	}
	if e.Epoch != 0 {
		attrs = append(attrs, "epoch", e.Epoch)
	}
	if e.Error != "" {
		attrs = append(attrs, "err", e.Error)
	}
	a.log.Info("audit", attrs...)
	if err := appendAudit(filepath.Join(a.cfg.DataDir, AuditFile), e); err != nil {
		a.log.Error("audit log", "err", err)
	}
}

// appendAudit writes one JSON line to the audit log, creating it with mode
// 0600 and tightening a looser mode it finds.
func appendAudit(path string, e api.AuditEntry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode audit entry: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if st, err := f.Stat(); err == nil && st.Mode().Perm() != 0o600 {
		if err := f.Chmod(0o600); err != nil {
			_ = f.Close()
			return fmt.Errorf("audit log %s: mode %v: %w", path, st.Mode().Perm(), err)
		}
	}
	_, werr := f.Write(append(line, '\n'))
	cerr := f.Close()
	if werr != nil {
		return fmt.Errorf("audit log %s: %w", path, werr)
	}
	if cerr != nil {
		return fmt.Errorf("audit log %s: %w", path, cerr)
	}
	return nil
}

// getAudit: GET /v1/audit?tail=N, the last N entries (default 50).
func (a *Agent) getAudit(w http.ResponseWriter, r *http.Request) {
	n := 50
	if s := r.URL.Query().Get("tail"); s != "" && s != "0" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 || v > auditTailMax {
			writeErr(w, http.StatusBadRequest, fmt.Errorf("tail %q: want 0..%d", s, auditTailMax))
			return
		}
		n = v
	}
	rep, err := readAuditTail(filepath.Join(a.cfg.DataDir, AuditFile), n)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, err)
		return
	}
	rep.Node = a.cfg.Name
	writeJSON(w, http.StatusOK, rep)
}

// readAuditTail reads the last n entries of an audit log, looking at no
// more than its last auditTailBytes. A missing log has no entries.
func readAuditTail(path string, n int) (*api.AuditReply, error) {
	rep := &api.AuditReply{Entries: []api.AuditEntry{}}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return rep, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	off := max(st.Size()-auditTailBytes, 0)
	sc := bufio.NewScanner(io.NewSectionReader(f, off, st.Size()-off))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	first := off > 0 // the first line read may be cut: drop it
	var lines [][]byte
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		lines = append(lines, slices.Clone(sc.Bytes()))
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("audit log %s: %w", path, err)
	}
	for _, l := range lines {
		var e api.AuditEntry
		if json.Unmarshal(l, &e) != nil {
			rep.Skipped++
			continue
		}
		rep.Entries = append(rep.Entries, e)
	}
	return rep, nil
}

// capture keeps the first limit bytes written to it.
type capture struct {
	buf       bytes.Buffer
	limit     int
	truncated bool
}

func (c *capture) Write(p []byte) (int, error) {
	if room := c.limit - c.buf.Len(); room < len(p) {
		c.truncated = true
		c.buf.Write(p[:max(room, 0)])
	} else {
		c.buf.Write(p)
	}
	return len(p), nil
}

// recorder passes an answer through, keeping its status and first bytes.
type recorder struct {
	http.ResponseWriter
	status int
	body   capture
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	_, _ = r.body.Write(p)
	return r.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
