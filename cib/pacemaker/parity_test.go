package pacemaker

// The parity suite: Pacemaker's own scheduler regression inputs
// (testdata/parity, from ClusterLabs/pacemaker at Pacemaker-2.1.5; see the
// README there) imported, simulated, and compared with the placement
// Pacemaker's summary shows after the transition. Every case must agree,
// or be explained in testdata/parity/DIFFERENCES.md under its own
// "### name" heading; a case listed there that agrees is an error too, so
// the list stays true.

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/paceline/paceline/crm/scheduler"
)

var (
	parityVerbose = flag.Bool("parity.v", false, "print every parity case's result")
	parityDump    = flag.String("parity.case", "", "print the status, notes and plan of this parity case")
)

// parityNow is the time failure-timeout is judged at for inputs without an
// execution-date. crm_simulate uses the current time there; every
// timestamp in those inputs is older than Pacemaker 2.1.5's release, so
// its release date judges them as the summaries were judged, and keeps
// the test deterministic.
var parityNow = time.Date(2022, 12, 6, 0, 0, 0, 0, time.UTC)

const parityDir = "testdata/parity"

// parityResult is one case's outcome.
type parityResult struct {
	name  string
	err   string   // the case could not run
	diffs []string // where it disagrees
	dump  string   // with -parity.case
}

func runParityCase(name string) parityResult {
	res := parityResult{name: name}
	data, err := os.ReadFile(filepath.Join(parityDir, name+".xml"))
	if err != nil {
		res.err = err.Error()
		return res
	}
	summary, err := os.ReadFile(filepath.Join(parityDir, name+".summary"))
	if err != nil {
		res.err = err.Error()
		return res
	}
	cfg, _, err := Import(bytes.NewReader(data), ImportOptions{SkipUnsupported: true})
	if err != nil {
		res.err = "import: " + err.Error()
		return res
	}
	st, rep, err := ImportStatus(data, cfg, StatusOptions{Fallback: parityNow})
	if err != nil {
		res.err = "status: " + err.Error()
		return res
	}
	if err := st.Validate(cfg); err != nil {
		res.err = "status: " + err.Error()
		return res
	}
	plan, err := scheduler.Schedule(cfg, st, scheduler.Options{Now: rep.Now, Explain: *parityDump == name})
	if err != nil {
		res.err = "schedule: " + err.Error()
		return res
	}
	want, err := expectedPlacement(string(summary), cfg)
	if err != nil {
		res.err = "summary: " + err.Error()
		return res
	}
	res.diffs = want.diff(outcomeSet(PlanOutcome(cfg, plan)))
	if *parityDump == name {
		stYAML, _ := yaml.Marshal(st)
		res.dump = fmt.Sprintf("now %s (%s)\nnotes:\n  %s\norphans: %v\nstatus:\n%s\n%s", rep.Now, rep.NowSource,
			strings.Join(rep.Notes, "\n  "), rep.Orphans, stYAML, plan.Format()+plan.FormatScores())
	}
	return res
}

// outcomeSet puts an Outcome in the form expectedPlacement gives.
func outcomeSet(o *Outcome) *placementSet {
	p := &placementSet{Prims: map[string]string{}, Fenced: o.Fenced}
	for _, pr := range o.Primitives {
		p.Prims[pr.ID] = primString(pr.Role, pr.Nodes)
	}
	for _, c := range o.Clones {
		var l []string
		for _, in := range c.Instances {
			l = append(l, in.Node+"="+in.Role)
		}
		slices.Sort(l)
		p.Prims[c.Rsc] = strings.Join(l, " ")
		if len(l) == 0 {
			p.Prims[c.Rsc] = "Stopped"
		}
	}
	if p.Fenced == nil {
		p.Fenced = []string{}
	}
	return p
}

// parityDifferences reads the case names DIFFERENCES.md explains.
func parityDifferences(t *testing.T) map[string]bool {
	f, err := os.Open(filepath.Join(parityDir, "DIFFERENCES.md"))
	if err != nil {
		t.Fatalf("parity: %v", err)
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name, ok := strings.CutPrefix(sc.Text(), "### "); ok {
			out[strings.TrimSpace(name)] = true
		}
	}
	return out
}

func parityCases(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join(parityDir, "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("parity: no cases in %s (%v)", parityDir, err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".xml"))
	}
	slices.Sort(names)
	return names
}

func TestParity(t *testing.T) {
	known := parityDifferences(t)
	agree, ran := 0, 0
	var report strings.Builder
	for _, name := range parityCases(t) {
		res := runParityCase(name)
		if res.dump != "" {
			t.Logf("%s:\n%s", name, res.dump)
		}
		switch {
		case res.err != "":
			fmt.Fprintf(&report, "%-40s NOT RUN: %s\n", name, res.err)
			if !known[name] {
				t.Errorf("%s: could not run: %s", name, res.err)
			}
			continue
		case len(res.diffs) == 0:
			ran++
			agree++
			fmt.Fprintf(&report, "%-40s agree\n", name)
			if known[name] {
				t.Errorf("%s: agrees with Pacemaker but DIFFERENCES.md explains a difference: remove it there", name)
			}
		default:
			ran++
			fmt.Fprintf(&report, "%-40s DIFFER:\n    %s\n", name, strings.Join(res.diffs, "\n    "))
			if !known[name] {
				t.Errorf("%s: disagrees with Pacemaker (explain it in DIFFERENCES.md or fix it):\n    %s", name, strings.Join(res.diffs, "\n    "))
			}
		}
	}
	if *parityVerbose {
		t.Logf("\n%s", report.String())
	}
	t.Logf("parity: %d of %d cases agree with Pacemaker 2.1.5 (%d cases in the suite)", agree, ran, len(parityCases(t)))
}
