package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// The web view's live updates. One poller per agent, running only while
// a page is connected, rebuilds the snapshot every webHub.every and wakes
// the event streams, which send it when its bytes changed; every stream
// sends the same bytes, so N open pages cost the cluster what one does. GET /api/state
// (the page's fallback, polling) reuses a fresh snapshot the same way.
//
//	page ──GET /events──▶ serveEvents ─┐ wait for change or keep-alive
//	page ──GET /api/state▶ serveState ─┤
//	                                   ▼
//	              webHub: state (JSON) + changed ◀── run: build every 250 ms
//	                                                 while streams > 0

// Defaults of the live updates.
const (
	webEvery      = 250 * time.Millisecond // how often the poller rebuilds
	webKeepAlive  = 15 * time.Second       // comment lines on a quiet stream
	webMaxStreams = 32                     // concurrent event streams; 503 beyond
	webBuildLimit = 5 * time.Second        // one snapshot's reads, at most
)

// webHub holds the latest snapshot and the streams waiting on it.
type webHub struct {
	build     func(context.Context) webSnapshot
	every     time.Duration
	keepAlive time.Duration
	max       int
	log       *slog.Logger

	buildMu sync.Mutex // one build at a time (the poller, or /api/state)
	wake    chan struct{}

	mu      sync.Mutex
	streams int
	state   []byte        // the latest snapshot's JSON, nil before the first
	at      time.Time     // when it was built
	changed chan struct{} // closed at each build, then replaced
}

func newWebHub(build func(context.Context) webSnapshot, log *slog.Logger) *webHub {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &webHub{build: build, every: webEvery, keepAlive: webKeepAlive, max: webMaxStreams, log: log,
		wake: make(chan struct{}, 1), changed: make(chan struct{})}
}

// run rebuilds the snapshot every h.every while a stream is open, until
// ctx ends. The agent starts it with the observation listener.
func (h *webHub) run(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		h.mu.Lock()
		idle := h.streams == 0
		h.mu.Unlock()
		if idle {
			select {
			case <-ctx.Done():
				return
			case <-h.wake:
			}
		} else {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
		h.refresh(ctx)
		t.Reset(h.every)
	}
}

// refresh builds a snapshot now and publishes it.
func (h *webHub) refresh(ctx context.Context) {
	h.buildMu.Lock()
	defer h.buildMu.Unlock()
	h.refreshLocked(ctx)
}

func (h *webHub) refreshLocked(ctx context.Context) {
	bctx, cancel := context.WithTimeout(ctx, webBuildLimit)
	snap := h.build(bctx)
	cancel()
	if ctx.Err() != nil {
		return
	}
	b, err := json.Marshal(snap)
	if err != nil {
		h.log.Error("web view: encoding the snapshot", "err", err)
		return
	}
	h.publish(b, time.Now())
}

// publish stores a snapshot and wakes the streams, which send it if it
// changed.
func (h *webHub) publish(b []byte, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.at = at
	if !bytes.Equal(b, h.state) {
		h.state = b
	}
	close(h.changed)
	h.changed = make(chan struct{})
}

// latest returns the snapshot, when it was built, and a channel closed at
// the next build.
func (h *webHub) latest() ([]byte, time.Time, chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.state, h.at, h.changed
}

// current returns a snapshot at most h.every old, building one if need be
// (one build at a time: a request that waited for another's takes it).
func (h *webHub) current(ctx context.Context) []byte {
	fresh := func() []byte {
		b, at, _ := h.latest()
		if b != nil && time.Since(at) <= h.every {
			return b
		}
		return nil
	}
	if b := fresh(); b != nil {
		return b
	}
	h.buildMu.Lock()
	defer h.buildMu.Unlock()
	if b := fresh(); b != nil {
		return b
	}
	h.refreshLocked(ctx)
	b, _, _ := h.latest()
	return b
}

// subscribe counts a new stream, or reports that there are too many.
func (h *webHub) subscribe() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.streams >= h.max {
		return false
	}
	h.streams++
	select {
	case h.wake <- struct{}{}:
	default:
	}
	return true
}

func (h *webHub) unsubscribe() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.streams--
}

// serveState answers GET /api/state: the snapshot as JSON.
func (h *webHub) serveState(w http.ResponseWriter, r *http.Request) {
	b := h.current(r.Context())
	if b == nil {
		http.Error(w, "503: no snapshot yet", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

// serveEvents answers GET /events: server-sent events, one "state" event
// with the snapshot at once and another each time it changes, and a
// comment line every keep-alive so proxies and the page know the stream
// lives. Beyond h.max streams it answers 503 (the page then polls).
func (h *webHub) serveEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	if !h.subscribe() {
		w.Header().Set("Retry-After", "10")
		http.Error(w, fmt.Sprintf("503: already %d event streams; poll /api/state", h.max), http.StatusServiceUnavailable)
		return
	}
	defer h.unsubscribe()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: do not buffer
	w.WriteHeader(http.StatusOK)
	// retry: how long the browser waits before reconnecting.
	if _, err := fmt.Fprint(w, "retry: 2000\n\n"); err != nil {
		return
	}
	if rc.Flush() != nil {
		return
	}
	ka := time.NewTicker(h.keepAlive)
	defer ka.Stop()
	// A snapshot older than one poll is from before this stream (the
	// poller idles without streams): wait for the next.
	opened := time.Now().Add(-h.every)
	var sent []byte
	for {
		state, at, changed := h.latest()
		if state != nil && at.After(opened) && !bytes.Equal(state, sent) {
			// JSON has no raw newlines: one data line.
			if _, err := fmt.Fprintf(w, "event: state\ndata: %s\n\n", state); err != nil {
				return
			}
			if rc.Flush() != nil {
				return
			}
			sent = state
		}
		select {
		case <-r.Context().Done():
			return
		case <-changed:
		case <-ka.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			if rc.Flush() != nil {
				return
			}
		}
	}
}
