package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runGen(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	root := newRootCmd(&out, &out)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		t.Fatalf("paceline %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// gen man: a page per visible command, each titled with its command path,
// dated SOURCE_DATE_EPOCH (reproducible); hidden commands get none.
func TestGenMan(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000") // 2023-11-14
	dir := t.TempDir()
	runGen(t, "gen", "man", dir)
	b, err := os.ReadFile(filepath.Join(dir, "paceline-agent.1"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `.TH "PACELINE-AGENT" "1" "Nov 2023"`) {
		t.Errorf("paceline-agent.1 header:\n%s", strings.SplitN(string(b), "\n", 4)[1])
	}
	for _, p := range []string{"paceline.1", "paceline-cluster-init.1", "paceline-completion-bash.1"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("no %s: %v", p, err)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "paceline-gen*")); len(m) > 0 {
		t.Errorf("pages for the hidden gen command: %v", m)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "soon")
	var out bytes.Buffer
	root := newRootCmd(&out, &out)
	root.SetArgs([]string{"gen", "man", dir})
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "SOURCE_DATE_EPOCH") {
		t.Errorf("bad SOURCE_DATE_EPOCH: error %v", err)
	}
}

// gen completion: the three shells' scripts under their packaged names.
func TestGenCompletion(t *testing.T) {
	dir := t.TempDir()
	runGen(t, "gen", "completion", dir)
	for name, want := range map[string]string{
		"paceline.bash": "__start_paceline",
		"_paceline":     "#compdef paceline",
		"paceline.fish": "complete -c paceline",
	} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %q", name, want)
		}
	}
}
