package agent

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paceline/paceline/cib"
)

var updateWeb = flag.Bool("update", false, "rewrite testdata/web/*.golden.json")

// The snapshot the page renders, from a recorded input: nodes sorted with
// standby, maintenance, DC and unclean states; a promotable clone's
// started instance shown as Unpromoted; a failed-then-stopped resource
// kept, a plain stopped one dropped; transitions and fencing newest first
// and cut to the latest; a transition's long action list cut.
func TestWebSnapshotGolden(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "web", "snapshot.in.json"))
	if err != nil {
		t.Fatal(err)
	}
	var in webInput
	if err := json.Unmarshal(raw, &in); err != nil {
		t.Fatalf("snapshot.in.json: %v", err)
	}
	var rawCfg struct {
		Config json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(raw, &rawCfg); err != nil {
		t.Fatal(err)
	}
	if in.Config, err = cib.DecodeJSON(rawCfg.Config); err != nil {
		t.Fatalf("snapshot.in.json config: %v", err)
	}
	got, err := json.MarshalIndent(buildWebSnapshot(in), "", " ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "web", "snapshot.golden.json")
	if *updateWeb {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test ./agent -run TestWebSnapshotGolden -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("snapshot differs from %s (-update rewrites it):\n%s", golden, got)
	}
	// Same input, same bytes: the event stream relies on it.
	again, _ := json.MarshalIndent(buildWebSnapshot(in), "", " ")
	if !bytes.Equal(append(again, '\n'), got) {
		t.Error("two snapshots of one input differ")
	}
}

// An empty input still gives lists, not nulls, for the page to walk.
func TestWebSnapshotEmpty(t *testing.T) {
	b, err := json.Marshal(buildWebSnapshot(webInput{Self: "n1"}))
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); !strings.Contains(s, `"nodes":[]`) || !strings.Contains(s, `"resources":[]`) {
		t.Errorf("empty snapshot %s: want empty nodes and resources lists", s)
	}
}

// testHub is a hub whose snapshot names a counter's value.
func testHub(t *testing.T, max int) (*webHub, *atomic.Int64) {
	t.Helper()
	var v atomic.Int64
	h := newWebHub(func(context.Context) webSnapshot {
		return webSnapshot{Node: "n1", Epoch: uint64(v.Load())}
	}, nil)
	h.every, h.keepAlive, h.max = 10*time.Millisecond, 50*time.Millisecond, max
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go h.run(ctx)
	return h, &v
}

// sseReader reads server-sent events: data lines and comments.
type sseReader struct{ r *bufio.Reader }

// next returns the next event's data, or the comment text.
func (s sseReader) next(t *testing.T) (event, data string) {
	t.Helper()
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("event stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && (event != "" || data != ""):
			return event, data
		case strings.HasPrefix(line, ":"):
			return "comment", strings.TrimSpace(line[1:])
		case strings.HasPrefix(line, "event: "):
			event = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data += line[len("data: "):]
		}
	}
}

func openEvents(t *testing.T, url string) (*http.Response, sseReader) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp, sseReader{bufio.NewReader(resp.Body)}
}

// The event stream: the snapshot at once, again when it changes (and not
// while it stays the same), keep-alive comments in between.
func TestWebEventsOnChange(t *testing.T) {
	h, v := testHub(t, 4)
	srv := httptest.NewServer(http.HandlerFunc(h.serveEvents))
	t.Cleanup(srv.Close) // after the streams' cancels (cleanups run last first)
	resp, sse := openEvents(t, srv.URL)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /events: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	ev, data := sse.next(t)
	if ev != "state" || !strings.Contains(data, `"epoch":0`) {
		t.Fatalf("first event %q %s: want the state with epoch 0", ev, data)
	}
	// Unchanged: only keep-alives (polls run every 10 ms meanwhile).
	if ev, data = sse.next(t); ev != "comment" || data != "keep-alive" {
		t.Fatalf("unchanged state: got %q %s, want a keep-alive comment", ev, data)
	}
	v.Store(7)
	for {
		ev, data = sse.next(t)
		if ev != "comment" {
			break
		}
	}
	if ev != "state" || !strings.Contains(data, `"epoch":7`) {
		t.Fatalf("after the change: %q %s, want the state with epoch 7", ev, data)
	}
}

// Beyond the stream limit the answer is 503 (the page then polls); a
// closed stream frees its place.
func TestWebEventsLimit(t *testing.T) {
	h, _ := testHub(t, 2)
	srv := httptest.NewServer(http.HandlerFunc(h.serveEvents))
	t.Cleanup(srv.Close) // after the streams' cancels (cleanups run last first)
	var bodies []io.Closer
	for range 2 {
		resp, sse := openEvents(t, srv.URL)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("stream within the limit: %s", resp.Status)
		}
		sse.next(t)
		bodies = append(bodies, resp.Body)
	}
	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third stream with a limit of 2: %s (Retry-After %q), want 503 with Retry-After", resp.Status, resp.Header.Get("Retry-After"))
	}
	bodies[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.mu.Lock()
		n := h.streams
		h.mu.Unlock()
		if n < 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed stream still counts after 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if resp, _ := openEvents(t, srv.URL); resp.StatusCode != http.StatusOK {
		t.Fatalf("stream after one closed: %s", resp.Status)
	}
}

// GET /api/state builds a snapshot when none is fresh, and reuses a fresh
// one.
func TestWebState(t *testing.T) {
	var builds atomic.Int64
	h := newWebHub(func(context.Context) webSnapshot {
		builds.Add(1)
		return webSnapshot{Node: "n1"}
	}, nil)
	h.every = time.Hour
	srv := httptest.NewServer(http.HandlerFunc(h.serveState))
	t.Cleanup(srv.Close) // after the streams' cancels (cleanups run last first)
	for range 3 {
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		var s webSnapshot
		err = json.NewDecoder(resp.Body).Decode(&s)
		resp.Body.Close()
		if err != nil || s.Node != "n1" {
			t.Fatalf("GET /api/state: %v %+v", err, s)
		}
	}
	if n := builds.Load(); n != 1 {
		t.Errorf("%d builds for 3 requests within the freshness bound, want 1", n)
	}
}

// The page: one document with its script and style inlined, nothing
// loaded from elsewhere, and a CSP that allows exactly its script.
func TestWebPage(t *testing.T) {
	p, err := buildWebPage()
	if err != nil {
		t.Fatal(err)
	}
	page := string(p.raw)
	for _, bad := range []string{"/*JS*/", "/*CSS*/", "http://", "https://", "src=", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q: it must be self-contained", bad)
		}
	}
	start := strings.LastIndex(page, "<script>") + len("<script>")
	end := strings.LastIndex(page, "</script>")
	sum := sha256.Sum256([]byte(page[start:end]))
	if h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(p.csp, h) {
		t.Errorf("CSP %q does not allow the inline script (%s)", p.csp, h)
	}
	zr, err := gzip.NewReader(bytes.NewReader(p.gz))
	if err != nil {
		t.Fatal(err)
	}
	unz, _ := io.ReadAll(zr)
	if !bytes.Equal(unz, p.raw) {
		t.Error("the gzipped page differs from the page")
	}
	t.Logf("page weight: %d bytes, %d gzipped", len(p.raw), len(p.gz))

	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate")
	p.serve(rec, req)
	if rec.Header().Get("Content-Encoding") != "gzip" || rec.Body.Len() != len(p.gz) {
		t.Errorf("Accept-Encoding gzip: got encoding %q, %d bytes", rec.Header().Get("Content-Encoding"), rec.Body.Len())
	}
}

// The token login behind requireToken: the page sends an unknown visitor
// to the form; a wrong token is refused, the right one sets an HttpOnly,
// SameSite=Strict cookie that opens the page and the API; a post from
// another site is refused; failed logins are limited.
func TestWebLogin(t *testing.T) {
	const token = "s3cret-token-0123456789"
	mux := http.NewServeMux()
	l := &webLogin{token: token}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "the page") })
	mux.HandleFunc("GET /api/state", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "{}") })
	mux.HandleFunc("GET /login", l.form)
	mux.HandleFunc("POST /login", l.post)
	srv := httptest.NewServer(requireToken(token, false, mux))
	t.Cleanup(srv.Close) // after the streams' cancels (cleanups run last first)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	resp, err := noRedirect.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("GET / without the token: %s to %q, want 303 to /login", resp.Status, resp.Header.Get("Location"))
	}
	resp, err = noRedirect.Get(srv.URL + "/api/state")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /api/state without the token: %s, want 401", resp.Status)
	}
	resp, err = noRedirect.Get(srv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `name="token"`) {
		t.Fatalf("GET /login: %s, want the form", resp.Status)
	}

	post := func(tok, origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/login", strings.NewReader(url.Values{"token": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post("wrong-token-0123456789", srv.URL); resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Fatalf("wrong token: %s with %d cookies, want 401 and none", resp.Status, len(resp.Cookies()))
	}
	if resp := post(token, "http://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("right token from another origin: %s, want 403", resp.Status)
	}
	resp = post(token, srv.URL)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("right token: %s to %q, want 303 to /", resp.Status, resp.Header.Get("Location"))
	}
	var c *http.Cookie
	for _, x := range resp.Cookies() {
		if x.Name == tokenCookie {
			c = x
		}
	}
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
		t.Fatalf("cookie %+v: want %s, HttpOnly, SameSite=Strict, Path /", c, tokenCookie)
	}
	for _, path := range []string{"/", "/api/state"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.AddCookie(c)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s with the cookie: %s, want 200", path, resp.Status)
		}
	}

	for range loginFailures {
		post("wrong-token-0123456789", "")
	}
	if resp := post(token, ""); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("login after %d failures within %v: %s, want 429", loginFailures, loginWindow, resp.Status)
	}
}

// Without a token file the view is open: /login just goes to the page.
func TestWebLoginOpen(t *testing.T) {
	l := &webLogin{}
	rec := httptest.NewRecorder()
	l.form(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" {
		t.Errorf("GET /login without a token: %d to %q, want 303 to /", rec.Code, rec.Header().Get("Location"))
	}
}
