package clustertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/paceline/paceline/cib"
)

// webToken is the observation listener's token in these tests.
const webToken = "web-view-test-token-0123456789"

// The web view's token login over plain HTTP, on a real agent: the page
// sends a stranger to the form, a wrong token is refused, the right one
// sets the cookie that opens the page, the snapshot and the event stream.
func TestWebViewToken(t *testing.T) {
	c := New(t, 1, Options{HTTP: true, HTTPToken: webToken})
	base := "http://" + c.Nodes[0].Agent.ObserveAddr()
	cl := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, cookie *http.Cookie) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := get("/", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("GET / without the token: %s to %q, want 303 to /login", resp.Status, resp.Header.Get("Location"))
	}
	for _, path := range []string{"/api/state", "/events"} {
		resp := get(path, nil)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without the token: %s, want 401", path, resp.Status)
		}
	}
	login := func(token string) *http.Response {
		t.Helper()
		resp, err := cl.PostForm(base+"/login", url.Values{"token": {token}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := login("not-the-token-0123456789"); resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Fatalf("login with a wrong token: %s, %d cookies; want 401 and none", resp.Status, len(resp.Cookies()))
	}
	resp = login(webToken)
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.HttpOnly && ck.SameSite == http.SameSiteStrictMode {
			cookie = ck
		}
	}
	if resp.StatusCode != http.StatusSeeOther || cookie == nil {
		t.Fatalf("login with the token: %s with cookies %v; want 303 and an HttpOnly SameSite=Strict cookie", resp.Status, resp.Cookies())
	}
	resp = get("/", cookie)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `id="nodes"`) {
		t.Fatalf("GET / with the cookie: %s, want the page", resp.Status)
	}
	resp = get("/api/state", cookie)
	var snap struct {
		Node  string `json:"node"`
		Nodes []struct {
			Name, State string
		} `json:"nodes"`
	}
	err := json.NewDecoder(resp.Body).Decode(&snap)
	resp.Body.Close()
	if err != nil || snap.Node != "n1" {
		t.Fatalf("GET /api/state with the cookie: %s %v %+v", resp.Status, err, snap)
	}
	resp = get("/events", cookie)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /events with the cookie: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
}

// chromium finds Debian's Chromium, or skips: scripts/deps.sh installs it
// (make test runs it first), so only a machine set up by hand lacks it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("web view browser test skipped: chromium is not installed (scripts/deps.sh installs Debian's chromium)")
	return ""
}

// browser starts headless Chromium for the test and returns a tab's
// context; Chromium is ended by its PID when the test ends.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 900),
		// No traffic but the test's: this machine has no other network.
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		cancelTab()
		cancelAlloc()
		t.Fatalf("starting %s: %v", path, err)
	}
	pid := 0
	if b := chromedp.FromContext(ctx).Browser; b != nil && b.Process() != nil {
		pid = b.Process().Pid
	}
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // chromedp ends the browser and waits for it
		if pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL) // in case it did not: by its PID, never by name
		}
	})
	return ctx
}

// do runs browser steps within 20 s; on failure it names the step and
// shows where the browser is and what it shows.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		at, _ := chromedp.Run(dctx, chromedp.Evaluate[string](`location.href + "\n" + document.documentElement.outerHTML.slice(0, 2000)`))
		t.Fatalf("%s: %v\nbrowser at %s", what, err, at)
	}
}

// pageView is what the test reads off the page's DOM.
type pageView struct {
	Conn    string            `json:"conn"`    // live, poll, down
	Quorate string            `json:"quorate"` // "true" when the page shows quorum
	DC      string            `json:"dc"`
	Nodes   map[string]string `json:"nodes"` // node -> its state as shown
	RscOn   map[string]string `json:"rscOn"` // resource -> the nodes it runs on, as shown
	Text    string            `json:"text"`  // the nodes and resources tables' text
}

// readPage reads the DOM: the data attributes the page sets beside the
// text it shows, and that text.
const readPage = `JSON.stringify({
  conn: document.querySelector("#conn").dataset.mode,
  quorate: document.querySelector("#quorum").dataset.quorate,
  dc: document.querySelector("#dc").dataset.dc,
  nodes: Object.fromEntries([...document.querySelectorAll("#nodes tr[data-node]")].map(e => [e.dataset.node, e.dataset.state])),
  rscOn: Object.fromEntries([...document.querySelectorAll("#resources tr[data-rsc]")].map(e => [e.dataset.rsc, e.dataset.on])),
  text: document.querySelector("#nodes").innerText + "\n" + document.querySelector("#resources").innerText
})`

func (v pageView) String() string {
	return fmt.Sprintf("conn=%s quorate=%s dc=%s nodes=%v resources=%v", v.Conn, v.Quorate, v.DC, v.Nodes, v.RscOn)
}

// waitPage polls the page's DOM every 20 ms until cond holds.
func waitPage(t *testing.T, ctx context.Context, bound time.Duration, cond func(pageView) (bool, string)) pageView {
	t.Helper()
	deadline := time.Now().Add(bound)
	var v pageView
	why := "page not read yet"
	for time.Now().Before(deadline) {
		ectx, cancel := context.WithTimeout(ctx, 5*time.Second)
		s, err := chromedp.Run(ectx, chromedp.Evaluate[string](readPage))
		cancel()
		if err == nil {
			v = pageView{}
			if err := json.Unmarshal([]byte(s), &v); err == nil {
				var ok bool
				if ok, why = cond(v); ok {
					return v
				}
			}
		} else if errors.Is(err, context.Canceled) {
			t.Fatal(err)
		} else {
			why = "reading the page: " + err.Error()
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("page not as expected within %v: %s (page: %v)", bound, why, v)
	return v
}

// The web view in real Chromium on a 3-node cluster: after logging in
// with the token, the page shows the three nodes online, quorum, the DC
// and a resource on its node; when that node is killed, the page — served
// by a node that stays — shows it offline and the resource started on
// another node, updated live over server-sent events.
func TestWebViewBrowser(t *testing.T) {
	ctx := browser(t)
	c := New(t, 3, Options{Manage: true, HTTP: true, HTTPToken: webToken})
	dir := t.TempDir()
	mustApply(t, c.Nodes[0], &cib.CreatePrimitive{Primitive: dummy("d", dir, 200*time.Millisecond, nil)})
	mustApply(t, c.Nodes[0], &cib.AddConstraint{Location: &cib.Location{ID: "d-prefers-n2", Rsc: "d", Node: "n2", Score: 100}})
	waitRunsOn(t, c, dir, "d", "n2", 15*time.Second)
	// The page comes from a node that stays (n2 holds d and goes) and,
	// to show that any node serves the view, is not the DC if it can be.
	leader := c.Nodes[c.WaitLeader(10*time.Second)].Name
	viewer := c.Nodes[indexOf(c, "n1")]
	if leader == "n1" {
		viewer = c.Nodes[indexOf(c, "n3")]
	}
	base := "http://" + viewer.Agent.ObserveAddr()
	t.Logf("page served by %s; DC %s", viewer.Name, leader)

	// Log in through the form, as a person would.
	do(t, ctx, "GET / without the token shows the login form", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("token")))
	do(t, ctx, "a wrong token shows an error", chromedp.SetValue(chromedp.ID("token"), "not-the-token-0123456789"),
		chromedp.Submit(chromedp.ID("token")), chromedp.WaitVisible(chromedp.CSS(".err")))
	do(t, ctx, "the token opens the page", chromedp.SetValue(chromedp.ID("token"), webToken),
		chromedp.Submit(chromedp.ID("token")), chromedp.WaitVisible(chromedp.ID("conn")))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if loc != base+"/" {
		t.Fatalf("after login the browser is at %s, want %s/", loc, base)
	}

	v := waitPage(t, ctx, 20*time.Second, func(v pageView) (bool, string) {
		switch {
		case v.Conn != "live":
			return false, "event stream not live"
		case len(v.Nodes) != 3 || v.Nodes["n1"] != "online" || v.Nodes["n2"] != "online" || v.Nodes["n3"] != "online":
			return false, "want n1, n2, n3 online"
		case v.Quorate != "true":
			return false, "want quorum shown"
		case v.DC == "" || v.DC != viewer.Agent.Store().Info().Leader:
			return false, "want the DC, " + viewer.Agent.Store().Info().Leader // it may have moved since
		case v.RscOn["d"] != "n2":
			return false, "want d on n2"
		case !strings.Contains(v.Text, "Started n2"):
			return false, "want the text Started n2"
		}
		return true, ""
	})
	t.Logf("page before the failure: %v", v)
	dcBefore := v.DC
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch("api/state").then(r => r.text()).then(t => t.length)`, chromedp.EvalAwaitPromise)); err == nil {
		t.Logf("snapshot size: %d bytes of JSON", n)
	}
	screenshot(t, ctx, "before")

	n2 := indexOf(c, "n2")
	t0 := time.Now()
	c.Kill(n2)
	os.Remove(filepath.Join(dir, "paceline-dummy-n2-d.state")) // the machine is gone, and d with it
	var lostAt time.Duration
	v = waitPage(t, ctx, 30*time.Second, func(v pageView) (bool, string) {
		if lostAt == 0 && v.Nodes["n2"] != "online" {
			lostAt = time.Since(t0)
		}
		on := v.RscOn["d"]
		switch {
		case v.Nodes["n2"] != "offline" || v.Nodes[viewer.Name] != "online":
			return false, "want n2 offline, " + viewer.Name + " online"
		case on == "" || on == "n2" || strings.Contains(on, " "):
			return false, "want d on one other node"
		case !strings.Contains(v.Text, "Started "+on):
			return false, "want the text Started " + on
		}
		return true, ""
	})
	took := time.Since(t0)
	if on := runsOn(dir, "d", c.Nodes); len(on) != 1 || on[0] != v.RscOn["d"] {
		t.Errorf("the page shows d on %s, but it runs on %v", v.RscOn["d"], on)
	}
	t.Logf("web view update latency: n2 killed -> page shows n2 not online after %v, d started on %s after %v (DC was %s; detection, lease, recovery and the page's 250 ms poll)",
		lostAt.Round(time.Millisecond), v.RscOn["d"], took.Round(time.Millisecond), dcBefore)
	t.Logf("page after the failure: %v", v)
	screenshot(t, ctx, "after")
}

// screenshot saves the page as PNG to $PACELINE_WEB_SCREENSHOTS/NAME.png
// when that is set (for a person to look at).
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("PACELINE_WEB_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Logf("screenshot: %v", err)
	}
}
