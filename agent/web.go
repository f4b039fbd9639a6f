package agent

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The read-only web view (docs/web.md): one self-contained page, embedded
// in the binary, that shows the cluster as this node sees it and updates
// live over server-sent events (webevents.go) from snapshots of the
// node's own API reads (webstate.go). Routes, on the observation listener:
//
//	GET  /           the page (web/index.html with web/app.css and web/app.js inlined)
//	GET  /events     server-sent events: the snapshot, again on each change
//	GET  /api/state  the snapshot as JSON (the page polls it when events fail)
//	GET  /login      with http.token-file: the form that asks for the token
//	POST /login      checks the token, sets the cookie, back to /

//go:embed web
var webFiles embed.FS // read-only: the page's sources

// webPage is the page as served, built once per listener.
type webPage struct {
	raw, gz []byte
	csp     string
}

// buildWebPage inlines the stylesheet and script into the page, and makes
// the Content-Security-Policy that allows exactly that script.
func buildWebPage() (webPage, error) {
	var p webPage
	read := func(name string) (string, error) {
		b, err := webFiles.ReadFile("web/" + name)
		if err != nil {
			return "", fmt.Errorf("web view: %w", err)
		}
		return string(b), nil
	}
	page, err := read("index.html")
	if err != nil {
		return p, err
	}
	css, err := read("app.css")
	if err != nil {
		return p, err
	}
	js, err := read("app.js")
	if err != nil {
		return p, err
	}
	if !strings.Contains(page, "/*CSS*/") || !strings.Contains(page, "/*JS*/") {
		return p, fmt.Errorf("web view: web/index.html lacks the /*CSS*/ or /*JS*/ mark")
	}
	page = strings.Replace(page, "/*CSS*/", css, 1)
	page = strings.Replace(page, "/*JS*/", js, 1)
	p.raw = []byte(page)
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(p.raw)
	if err := zw.Close(); err != nil {
		return p, fmt.Errorf("web view: gzip: %w", err)
	}
	p.gz = buf.Bytes()
	sum := sha256.Sum256([]byte(js))
	p.csp = "default-src 'none'; script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
		"style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	return p, nil
}

// registerWeb adds the web view to the observation listener. token is
// http.token-file's ("" when the view is open; observe.go's requireToken
// already guards every route but /login).
func (a *Agent) registerWeb(mux *http.ServeMux, token string) error {
	page, err := buildWebPage()
	if err != nil {
		return err
	}
	hub := newWebHub(a.webState, a.log)
	go hub.run(a.ctx) // ends with the agent
	mux.HandleFunc("GET /{$}", page.serve)
	mux.HandleFunc("GET /api/state", hub.serveState)
	mux.HandleFunc("GET /events", hub.serveEvents)
	l := &webLogin{token: token}
	mux.HandleFunc("GET /login", l.form)
	mux.HandleFunc("POST /login", l.post)
	return nil
}

// securityHeaders keep the page to itself: no framing, no sniffing, no
// referrer to other sites, nothing cached.
func securityHeaders(w http.ResponseWriter, csp string) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin") // not no-referrer: a form post would then say Origin: null
	h.Set("Cache-Control", "no-store")
}

func (p webPage) serve(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w, p.csp)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Vary", "Accept-Encoding")
	body := p.raw
	if acceptsGzip(r) {
		w.Header().Set("Content-Encoding", "gzip")
		body = p.gz
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	_, _ = w.Write(body)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// Login: failed attempts are limited (a token has at least 16 characters,
// so guessing is hopeless anyway; this keeps a guesser from busying the
// node).
const (
	loginFailures = 10          // failed logins allowed per window
	loginWindow   = time.Minute // the window
	loginMaxBody  = 4 << 10     // the form's body
)

// webLogin is the token login of the web view.
type webLogin struct {
	token string

	mu       sync.Mutex
	failures int
	window   time.Time // start of the current window
}

const loginCSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// form answers GET /login: the form, or / when no token is needed.
func (l *webLogin) form(w http.ResponseWriter, r *http.Request) {
	if l.token == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	l.page(w, http.StatusOK, "")
}

func (l *webLogin) page(w http.ResponseWriter, status int, msg string) {
	securityHeaders(w, loginCSP)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	b, err := webFiles.ReadFile("web/login.html")
	if err != nil {
		return
	}
	if msg != "" {
		msg = `<p class="err" role="alert">` + html.EscapeString(msg) + `</p>`
	}
	_, _ = w.Write(bytes.Replace(b, []byte("<!--MSG-->"), []byte(msg), 1))
}

// post answers POST /login: a right token sets the cookie that
// requireToken accepts (HttpOnly, SameSite=Strict) and goes back to /.
func (l *webLogin) post(w http.ResponseWriter, r *http.Request) {
	if l.token == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if !sameOrigin(r) {
		http.Error(w, "403: cross-origin login", http.StatusForbidden)
		return
	}
	if !l.allow(time.Now()) {
		w.Header().Set("Retry-After", "60")
		l.page(w, http.StatusTooManyRequests, "Too many failed logins: wait a minute.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, loginMaxBody)
	if err := r.ParseForm(); err != nil {
		l.page(w, http.StatusBadRequest, "Bad form.")
		return
	}
	got := strings.TrimSpace(r.PostForm.Get("token"))
	if subtle.ConstantTimeCompare([]byte(got), []byte(l.token)) != 1 {
		l.fail(time.Now())
		l.page(w, http.StatusUnauthorized, "Wrong token.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: l.token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// allow reports whether another login may be tried now.
func (l *webLogin) allow(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.window) >= loginWindow {
		l.window, l.failures = now, 0
	}
	return l.failures < loginFailures
}

func (l *webLogin) fail(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.window) >= loginWindow {
		l.window, l.failures = now, 0
	}
	l.failures++
}

// sameOrigin rejects a form posted from another site: a browser names the
// page's origin in Origin (or at least Referer); a request without either
// is not from a browser's cross-site form.
func sameOrigin(r *http.Request) bool {
	from := r.Header.Get("Origin")
	if from == "" {
		from = r.Header.Get("Referer")
	}
	if from == "" {
		return true
	}
	u, err := url.Parse(from)
	return err == nil && u.Host == r.Host
}
