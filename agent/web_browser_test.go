package agent

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The page renders every section of a rich snapshot (the golden one:
// standby, maintenance and unclean nodes, a promotable clone, a failed
// resource, failed actions, an aborted and a failed transition, fencing)
// in headless Chromium, under its own Content-Security-Policy, with no
// script error. The cluster test (clustertest/web_test.go) checks it live.
func TestWebPageRendersInChromium(t *testing.T) {
	path := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Skip("chromium is not installed (scripts/deps.sh installs Debian's chromium)")
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "web", "snapshot.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var snap webSnapshot
	if err := json.Unmarshal(golden, &snap); err != nil {
		t.Fatal(err)
	}
	page, err := buildWebPage()
	if err != nil {
		t.Fatal(err)
	}
	hub := newWebHub(func(context.Context) webSnapshot { return snap }, nil)
	hctx, stop := context.WithCancel(context.Background())
	defer stop()
	go hub.run(hctx)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", page.serve)
	mux.HandleFunc("GET /events", hub.serveEvents)
	mux.HandleFunc("GET /api/state", hub.serveState)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 900),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true))
	var mu sync.Mutex
	var jsErrors []string
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		if e, ok := ev.(*cdpruntime.EventExceptionThrown); ok && e.ExceptionDetails != nil {
			msg := e.ExceptionDetails.Text
			if x := e.ExceptionDetails.Exception; x != nil {
				msg += " " + x.Description
			}
			mu.Lock()
			jsErrors = append(jsErrors, msg)
			mu.Unlock()
		}
	}))
	t.Cleanup(cancelAlloc)
	t.Cleanup(cancelTab) // runs first: the tab, then the browser
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	if b := chromedp.FromContext(ctx).Browser; b != nil && b.Process() != nil {
		pid := b.Process().Pid
		t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) }) // after cancelAlloc, in case: by its PID
	}
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	const read = `JSON.stringify({
	  rows: Object.fromEntries(["nodes","resources","failures","transitions","fencing"].map(id =>
	    [id, document.querySelectorAll("#" + id + " tr:not(:has(td.empty))").length])),
	  text: document.querySelector("main").innerText,
	  conn: document.querySelector("#conn").dataset.mode,
	  title: document.title
	})`
	var got struct {
		Rows  map[string]int `json:"rows"`
		Text  string         `json:"text"`
		Conn  string         `json:"conn"`
		Title string         `json:"title"`
	}
	want := map[string]int{"nodes": 3, "resources": 4, "failures": 2, "transitions": webTransitions, "fencing": 2}
	deadline := time.Now().Add(15 * time.Second)
	for {
		s, err := chromedp.Run(sctx, chromedp.Evaluate[string](read))
		if err == nil && json.Unmarshal([]byte(s), &got) == nil && got.Conn == "live" && got.Rows["nodes"] == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("page not rendered within 15 s: %v %+v", err, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for id, n := range want {
		if got.Rows[id] != n {
			t.Errorf("section %s: %d rows, want %d", id, got.Rows[id], n)
		}
	}
	for _, s := range []string{"UNCLEAN", "standby", "maintenance", "Promoted n2", "Unpromoted n1", "FAILED n1 (start)",
		"group site", "clone db-clone", "monitor 10s", "generic error", "aborted", "1 failed", "device timed out", "Unreachable (state unknown): n2"} {
		if !strings.Contains(got.Text, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	if got.Title != "Paceline · n1" {
		t.Errorf("title %q", got.Title)
	}
	mu.Lock()
	if len(jsErrors) > 0 {
		t.Errorf("script errors: %v", jsErrors)
	}
	mu.Unlock()
	if dir := os.Getenv("PACELINE_WEB_SCREENSHOTS"); dir != "" {
		if png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100)); err == nil {
			_ = os.WriteFile(filepath.Join(dir, "golden.png"), png, 0o644)
		}
	}
}
