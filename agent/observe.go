package agent

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/net/netutil"
)

// The observation listener (http.listen in the node config) serves what an
// operator watches: /metrics for Prometheus (metrics.go) and the read-only
// web view (web.go). It never serves the configuration API: writes go
// through the unix socket only, whose permissions say who may write.

// The observation listener's limits: a request body (the web view's login
// form is the only one), and connections served at once (each open web
// view holds one for its event stream).
const (
	observeMaxBody  = 64 << 10
	observeMaxConns = 256
)

// observer is the running observation listener.
type observer struct {
	ln  net.Listener
	srv *http.Server
}

// startObserver opens http.listen when set. Its routes come from
// registerMetrics and registerWeb.
func (a *Agent) startObserver() error {
	if a.cfg.HTTP.Listen == "" {
		return nil
	}
	token, err := readToken(a.cfg.HTTP.TokenFile)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	a.registerMetrics(mux)
	if err := a.registerWeb(mux, token); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", a.cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http.listen: %w", err)
	}
	h := http.Handler(mux)
	if token != "" {
		h = requireToken(token, a.cfg.HTTP.MetricsPublic, mux)
	}
	// Limits (docs/hardening.md): request bodies, connections at once (more
	// wait in the kernel's backlog), idle keep-alives.
	h = http.MaxBytesHandler(h, observeMaxBody)
	ln = netutil.LimitListener(ln, observeMaxConns)
	a.obs = &observer{ln: ln, srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 16 << 10, IdleTimeout: 2 * time.Minute}}
	go func() {
		if err := a.obs.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("http listener stopped", "err", err)
		}
	}()
	a.log.Info("http listener", "addr", ln.Addr().String(), "token", token != "")
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && token == "" && !tcp.IP.IsLoopback() {
		a.log.Warn("http listener without http.token-file on a non-loopback address: whoever reaches it sees the cluster (docs/web.md)", "addr", ln.Addr().String())
	}
	return nil
}

// ObserveAddr is the observation listener's address ("" when off): tests
// listen on port 0.
func (a *Agent) ObserveAddr() string {
	if a.obs == nil {
		return ""
	}
	return a.obs.ln.Addr().String()
}

func (a *Agent) stopObserver() {
	if a.obs == nil {
		return
	}
	_ = a.obs.srv.Close() // also ends the web view's event streams
}

// readToken reads a bearer token file: one line, at least 16 characters.
func readToken(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("http.token-file: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if len(t) < 16 || strings.ContainsAny(t, " \t\r\n") {
		return "", fmt.Errorf("http.token-file %s: want one token of at least 16 characters without spaces", path)
	}
	return t, nil
}

// tokenCookie carries the token for the web view's page and event stream
// once the login form was answered (web.go).
const tokenCookie = "paceline_token"

// requireToken lets a request through with the token in an Authorization
// bearer header or the token cookie; /metrics too when metricsPublic.
func requireToken(token string, metricsPublic bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if metricsPublic && r.URL.Path == "/metrics" {
			next.ServeHTTP(w, r)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			if c, err := r.Cookie(tokenCookie); err == nil {
				got, ok = c.Value, true
			}
		}
		if ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1 {
			next.ServeHTTP(w, r)
			return
		}
		switch {
		case r.URL.Path == "/login":
			// The web view's login page asks for the token and sets the
			// cookie when it is right (web.go checks it).
			next.ServeHTTP(w, r)
			return
		case r.URL.Path == "/" && r.Method == http.MethodGet:
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="paceline"`)
		http.Error(w, "401 unauthorized: this listener needs the token of http.token-file", http.StatusUnauthorized)
	})
}
