package agent

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// Every metric family the agent describes is in docs/metrics.md, and
// every family the page lists is described (VRRP's included, which a
// live cluster without a VRRP instance does not serve; clustertest's
// TestMetricsFailover checks the served ones and their types).
func TestMetricsDocListsEveryFamily(t *testing.T) {
	m, err := newMetrics(&Agent{})
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *prometheus.Desc, 256)
	for _, c := range m.own() {
		c.Describe(ch)
	}
	close(ch)
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	var described []string
	for d := range ch {
		mm := fq.FindStringSubmatch(d.String())
		if mm == nil {
			t.Fatalf("cannot read the name of %s", d)
		}
		described = append(described, mm[1])
	}

	f, err := os.Open(filepath.Join("..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile("^\\|\\s*`(paceline_[a-z0-9_]+)`\\s*\\|")
	var documented []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if mm := row.FindStringSubmatch(sc.Text()); mm != nil {
			documented = append(documented, mm[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, name := range described {
		if !slices.Contains(documented, name) {
			t.Errorf("%s is not in docs/metrics.md", name)
		}
	}
	for _, name := range documented {
		if !slices.Contains(described, name) {
			t.Errorf("docs/metrics.md lists %s, which the agent does not describe", name)
		}
	}
	if len(described) < 30 {
		t.Errorf("only %d families described", len(described))
	}
}
