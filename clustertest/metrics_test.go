package clustertest

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/paceline/paceline/cib"
)

// scrape is one GET /metrics of a node's observation listener.
type scrape struct {
	status int
	text   string
	fams   map[string]*dto.MetricFamily
}

func doScrape(t *testing.T, n *Node, token string) scrape {
	t.Helper()
	req, err := http.NewRequestWithContext(Ctx(t), http.MethodGet, "http://"+n.Agent.ObserveAddr()+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape %s: %v", n.Name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("scrape %s: %v", n.Name, err)
	}
	s := scrape{status: resp.StatusCode, text: string(b)}
	if resp.StatusCode == http.StatusOK {
		p := expfmt.NewTextParser(model.LegacyValidation)
		if s.fams, err = p.TextToMetricFamilies(strings.NewReader(s.text)); err != nil {
			t.Fatalf("scrape %s: %v", n.Name, err)
		}
	}
	return s
}

// value sums the samples of family name whose labels include want: a
// counter's or gauge's value, a histogram's count.
func (s scrape) value(name string, want ...string) float64 {
	f := s.fams[name]
	if f == nil {
		return -1
	}
	var sum float64
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, lp := range m.Label {
			labels[lp.GetName()] = lp.GetValue()
		}
		ok := true
		for i := 0; i+1 < len(want); i += 2 {
			ok = ok && labels[want[i]] == want[i+1]
		}
		if !ok {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

// lines are the scrape's sample lines of the given families.
func (s scrape) lines(names ...string) string {
	var out []string
	for l := range strings.Lines(s.text) {
		for _, n := range names {
			if strings.HasPrefix(l, n+"{") || strings.HasPrefix(l, n+" ") {
				out = append(out, strings.TrimSpace(l))
			}
		}
	}
	return strings.Join(out, "\n")
}

const dummyAgent = "ocf:paceline:dummy"

// The metrics scraped from the DC during a failover: a resource created
// and started shows as a transition and a start action; killing its node
// shows as a failed member and another transition with a start, while
// the partition stays quorate. The live registry passes the client
// library's linter, and docs/metrics.md lists exactly the families served.
func TestMetricsFailover(t *testing.T) {
	c := New(t, 3, Options{Manage: true, HTTP: true})
	dir := t.TempDir()
	dc := findDC(t, c)
	holder := (dc + 1) % len(c.Nodes)
	hname := c.Nodes[holder].Name
	before := doScrape(t, c.Nodes[dc], "")

	mustApply(t, c.Nodes[0], &cib.CreatePrimitive{Primitive: dummy("d", dir, 200*time.Millisecond, nil)})
	mustApply(t, c.Nodes[0], &cib.AddConstraint{Location: &cib.Location{ID: "d-prefers", Rsc: "d", Node: hname, Score: 100}})
	waitRunsOn(t, c, dir, "d", hname, 15*time.Second)
	var created scrape
	WaitFor(t, 10*time.Second, func() (bool, string) {
		time.Sleep(50 * time.Millisecond) // no need to scrape at WaitFor's pace
		dc = findDC(t, c)
		created = doScrape(t, c.Nodes[dc], "")
		got := created.value("paceline_actions_total", "agent", dummyAgent, "op", "start", "result", "ok")
		return got >= 1, fmt.Sprintf("start actions of %s on the DC %s: %v", dummyAgent, c.Nodes[dc].Name, got)
	})
	if dc == holder {
		t.Fatalf("the DC moved to %s, where d runs: this test kills the holder, not the DC", hname)
	}
	if b, a := before.value("paceline_transitions_total"), created.value("paceline_transitions_total"); a <= b {
		t.Errorf("transitions did not grow with the resource's creation: %v -> %v", b, a)
	}
	t.Logf("DC %s after creating d on %s:\n%s", c.Nodes[dc].Name, hname, created.lines("paceline_transitions_total", "paceline_actions_total"))

	// A monitor failure on the holder: its fail count shows there, the
	// DC recovers d in place.
	_ = os.Remove(filepath.Join(dir, "paceline-dummy-"+hname+"-d.state"))
	WaitFor(t, 15*time.Second, func() (bool, string) {
		time.Sleep(50 * time.Millisecond)
		s := doScrape(t, c.Nodes[holder], "")
		fc := s.value("paceline_resource_failcount", "resource", "d", "node", hname)
		failed := s.value("paceline_lrm_operations_total", "agent", dummyAgent, "op", "monitor", "result", "failed")
		_, err := os.Stat(filepath.Join(dir, "paceline-dummy-"+hname+"-d.state"))
		return fc == 1 && failed >= 1 && err == nil, fmt.Sprintf("%s: fail count of d %v, failed monitors %v, d running again: %v", hname, fc, failed, err == nil)
	})
	t.Logf("%s after a monitor failure:\n%s", hname, doScrape(t, c.Nodes[holder], "").lines("paceline_resource_failcount", "paceline_lrm_operations_total"))
	created = doScrape(t, c.Nodes[dc], "")

	t0 := time.Now()
	c.Kill(holder)
	_ = os.Remove(filepath.Join(dir, "paceline-dummy-"+hname+"-d.state")) // the machine is gone, its resources with it
	WaitFor(t, 20*time.Second, func() (bool, string) {
		on := runsOn(dir, "d", c.Nodes)
		return len(on) == 1 && on[0] != hname, "d runs on " + formatList(on)
	})
	t.Logf("%s killed -> d running elsewhere: %v", hname, time.Since(t0))

	var after scrape
	WaitFor(t, 10*time.Second, func() (bool, string) {
		time.Sleep(50 * time.Millisecond) // no need to scrape at WaitFor's pace
		after = doScrape(t, c.Nodes[dc], "")
		lost := after.value("paceline_members", "state", "failed") + after.value("paceline_members", "state", "left")
		starts := after.value("paceline_actions_total", "agent", dummyAgent, "op", "start")
		before := created.value("paceline_actions_total", "agent", dummyAgent, "op", "start")
		return lost == 1 && starts > before, fmt.Sprintf("members lost %v, starts %v (before the kill %v)", lost, starts, before)
	})
	for _, chk := range []struct {
		what      string
		got, want float64
	}{
		{"paceline_is_dc", after.value("paceline_is_dc"), 1},
		{"paceline_quorate", after.value("paceline_quorate"), 1},
		{"paceline_quorum_votes", after.value("paceline_quorum_votes"), 2},
		{"paceline_quorum_expected_votes", after.value("paceline_quorum_expected_votes"), 3},
		{`paceline_members{state="alive"}`, after.value("paceline_members", "state", "alive"), 2},
	} {
		if chk.got != chk.want {
			t.Errorf("after the failover, %s = %v, want %v", chk.what, chk.got, chk.want)
		}
	}
	if b, a := created.value("paceline_transitions_total"), after.value("paceline_transitions_total"); a <= b {
		t.Errorf("transitions did not grow with the failover: %v -> %v", b, a)
	}
	t.Logf("DC %s after the failover:\n%s", c.Nodes[dc].Name, after.lines("paceline_is_dc", "paceline_quorate", "paceline_quorum_votes",
		"paceline_members", "paceline_nodes", "paceline_transitions_total", "paceline_actions_total", "paceline_dc_term", "paceline_raft_commit_index"))

	t.Run("lint", func(t *testing.T) {
		problems, err := testutil.GatherAndLint(c.Nodes[dc].Agent.Metrics())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
	})
	t.Run("doc", func(t *testing.T) {
		checkMetricsDoc(t, after)
	})
	t.Run("promtool", func(t *testing.T) {
		// Prometheus' own checker, where Debian's prometheus package is
		// installed (the client library's linter above always runs).
		path, err := exec.LookPath("promtool")
		if err != nil {
			t.Skip("promtool not installed (Debian: prometheus)")
		}
		cmd := exec.CommandContext(Ctx(t), path, "check", "metrics")
		cmd.Stdin = strings.NewReader(after.text)
		out, err := cmd.CombinedOutput()
		if err != nil || len(strings.TrimSpace(string(out))) > 0 {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	})
}

// findDC waits until exactly one running node says it is the DC, and
// every running node names it, and returns its index.
func findDC(t *testing.T, c *Cluster) int {
	t.Helper()
	dc := -1
	WaitFor(t, 10*time.Second, func() (bool, string) {
		dc = -1
		named := map[string]bool{}
		for _, i := range c.Running() {
			s := doScrape(t, c.Nodes[i], "")
			if s.value("paceline_is_dc") == 1 {
				if dc >= 0 {
					return false, "two nodes say they are the DC"
				}
				dc = i
			}
			for _, m := range s.fams["paceline_dc_info"].GetMetric() {
				for _, lp := range m.GetLabel() {
					named[lp.GetValue()] = true
				}
			}
		}
		if dc < 0 || len(named) != 1 || !named[c.Nodes[dc].Name] {
			return false, fmt.Sprintf("DC index %d, named by the nodes: %v", dc, named)
		}
		return true, ""
	})
	return dc
}

// docRow is one metric of docs/metrics.md's tables.
type docRow struct{ name, typ string }

// metricsDoc reads the metric tables of docs/metrics.md: rows whose first
// cell is a backquoted paceline_ name and second its type.
func metricsDoc(t *testing.T) []docRow {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile("^\\|\\s*`(paceline_[a-z0-9_]+)`\\s*\\|\\s*(counter|gauge|histogram)\\s*\\|")
	var rows []docRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := row.FindStringSubmatch(sc.Text()); m != nil {
			rows = append(rows, docRow{m[1], m[2]})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) < 20 {
		t.Fatalf("docs/metrics.md: only %d metric rows found", len(rows))
	}
	return rows
}

// checkMetricsDoc: every family the DC serves is documented, with its
// type, and every documented one is served — but VRRP's, which exist only
// while a VRRP instance runs here (that needs raw sockets: netns tests).
func checkMetricsDoc(t *testing.T, s scrape) {
	documented := map[string]string{}
	for _, r := range metricsDoc(t) {
		if _, dup := documented[r.name]; dup {
			t.Errorf("docs/metrics.md lists %s twice", r.name)
		}
		documented[r.name] = r.typ
	}
	var served []string
	for name, f := range s.fams {
		if !strings.HasPrefix(name, "paceline_") {
			continue
		}
		served = append(served, name)
		typ := strings.ToLower(f.GetType().String())
		switch doc, ok := documented[name]; {
		case !ok:
			t.Errorf("%s (%s) is served but not in docs/metrics.md", name, typ)
		case doc != typ:
			t.Errorf("%s is a %s, docs/metrics.md says %s", name, typ, doc)
		}
	}
	var names []string
	for name := range documented {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !slices.Contains(served, name) && !strings.HasPrefix(name, "paceline_vrrp_") {
			t.Errorf("docs/metrics.md lists %s, which the DC does not serve", name)
		}
	}
}

// With http.token-file set, /metrics answers 401 without the token and
// 200 with it as a bearer token.
func TestMetricsToken(t *testing.T) {
	const token = "metrics-test-token-0123456789"
	c := New(t, 1, Options{HTTP: true, HTTPToken: token})
	n := c.Nodes[0]
	if s := doScrape(t, n, ""); s.status != http.StatusUnauthorized {
		t.Errorf("without the token: status %d, want 401", s.status)
	}
	if s := doScrape(t, n, "wrong-token-0123456789"); s.status != http.StatusUnauthorized {
		t.Errorf("with a wrong token: status %d, want 401", s.status)
	}
	s := doScrape(t, n, token)
	if s.status != http.StatusOK {
		t.Fatalf("with the token: status %d, want 200", s.status)
	}
	if v := s.value("paceline_build_info"); v != 1 {
		t.Errorf("paceline_build_info = %v, want 1", v)
	}
	if v := s.value("paceline_quorate"); v != 1 {
		t.Errorf("a one-node cluster: paceline_quorate = %v, want 1", v)
	}
}
