package kaconf

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeFiles creates files (path: content) under dir; a path ending in
// "*" is made executable (without the star).
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		mode := os.FileMode(0o644)
		if n, ok := strings.CutSuffix(name, "*"); ok {
			name, mode = n, 0o755
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
}

// treeKeywords reads main.conf in dir and returns "keyword@file:line" for
// every top-level directive, file relative to dir.
func treeKeywords(t *testing.T, dir string) ([]string, []Warning, error) {
	t.Helper()
	nodes, warns, err := ReadTree(filepath.Join(dir, "main.conf"), Options{})
	var out []string
	for _, n := range nodes {
		rel, _ := filepath.Rel(dir, n.File)
		out = append(out, fmt.Sprintf("%s@%s:%d", n.Keyword, rel, n.Line))
	}
	return out, warns, err
}

func TestInclude(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string
		warn  string // a warning must contain it
		err   string
	}{
		{name: "glob in order, relative to the including file",
			files: map[string]string{
				"main.conf":         "m1\ninclude conf.d/*.conf\nm2\n",
				"conf.d/b.conf":     "b1\n",
				"conf.d/a.conf":     "\na1\ninclude sub/*.conf\na2\n",
				"conf.d/sub/x.conf": "x1\n",
				"conf.d/.h.conf":    "hidden\n",
				"conf.d/c.txt":      "txt\n",
			},
			want: []string{"m1@main.conf:1", "a1@conf.d/a.conf:2", "x1@conf.d/sub/x.conf:1", "a2@conf.d/a.conf:4", "b1@conf.d/b.conf:1", "m2@main.conf:3"}},
		{name: "explicit dot matches hidden files",
			files: map[string]string{"main.conf": "include d/.*.conf\n", "d/.h.conf": "hidden\n"},
			want:  []string{"hidden@d/.h.conf:1"}},
		{name: "brace alternatives in their order",
			files: map[string]string{"main.conf": "include {z,a}.inc\n", "a.inc": "a\n", "z.inc": "z\n"},
			want:  []string{"z@z.inc:1", "a@a.inc:1"}},
		{name: "nested braces and bracket negation",
			files: map[string]string{"main.conf": "include d/{x{1,2},y}[\\!3].inc\n", "d/x13.inc": "no\n", "d/x14.inc": "x14\n", "d/x24.inc": "x24\n", "d/y5.inc": "y5\n"},
			want:  []string{"x14@d/x14.inc:1", "x24@d/x24.inc:1", "y5@d/y5.inc:1"}},
		{name: "a brace alternative that matches nothing",
			files: map[string]string{"main.conf": "include {a,b}.inc\n", "a.inc": "a\n"},
			want:  []string{"a@a.inc:1"}, warn: "main.conf:1: include {a,b}.inc: nothing matches"},
		{name: "includeb: every alternative must match",
			files: map[string]string{"main.conf": "includeb {a,b}.inc\n", "a.inc": "a\n"},
			err:   "main.conf:1: includeb {a,b}.inc: nothing matches"},
		{name: "the same file twice is no loop",
			files: map[string]string{"main.conf": "include a.inc\ninclude a.inc\n", "a.inc": "a\n"},
			want:  []string{"a@a.inc:1", "a@a.inc:1"}},
		{name: "include inside a block",
			files: map[string]string{"main.conf": "vrrp_instance X {\ninclude body.inc\n}\n", "body.inc": "priority 1\n"},
			want:  []string{"vrrp_instance@main.conf:1"}},
		{name: "a block opened in an included file",
			files: map[string]string{"main.conf": "include open.inc\npriority 1\n}\n", "open.inc": "vrrp_instance X {\n"},
			want:  []string{"vrrp_instance@open.inc:1"}},
		{name: "missing file",
			files: map[string]string{"main.conf": "\ninclude nothere.conf\n"},
			err:   "main.conf:2: include nothere.conf: no such file"},
		{name: "wildcard without match",
			files: map[string]string{"main.conf": "include conf.d/*.conf\nk\n"},
			want:  []string{"k@main.conf:2"}, warn: "main.conf:1: include conf.d/*.conf: no file matches; nothing included"},
		{name: "includew: the wildcard must match",
			files: map[string]string{"main.conf": "includew conf.d/*.conf\n"},
			err:   "main.conf:1: includew conf.d/*.conf: no file matches"},
		{name: "a directory is skipped",
			files: map[string]string{"main.conf": "include d/*\n", "d/sub/x": "", "d/a": "a\n"},
			want:  []string{"a@d/a:1"}, warn: "is a directory; skipped"},
		{name: "includer: a directory is an error",
			files: map[string]string{"main.conf": "includer d/*\n", "d/sub/x": ""},
			err:   "is a directory"},
		{name: "an executable file is skipped",
			files: map[string]string{"main.conf": "include d/*\n", "d/run.sh*": "x\n", "d/a": "a\n"},
			want:  []string{"a@d/a:1"}, warn: "is executable (keepalived skips executable files); skipped"},
		{name: "loop",
			files: map[string]string{"main.conf": "include a.inc\n", "a.inc": "include b.inc\n", "b.inc": "include a.inc\n"},
			err:   "b.inc:1: include loop: "},
		{name: "include without a name is a keyword",
			files: map[string]string{"main.conf": "includea   \n"},
			want:  []string{"includea@main.conf:1"}},
		{name: "bad pattern",
			files: map[string]string{"main.conf": "include [x*\n"},
			err:   "bad pattern"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			got, warns, err := treeKeywords(t, dir)
			if checkOutcome(t, err, tc.err, warns, tc.warn) && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestIncludeLoopThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"main.conf": "include link.inc\n"})
	if err := os.Symlink("main.conf", filepath.Join(dir, "link.inc")); err != nil {
		t.Skip(err)
	}
	_, _, err := treeKeywords(t, dir)
	if err == nil || !strings.Contains(err.Error(), "include loop") {
		t.Fatalf("error %v, want an include loop", err)
	}
}

func TestIncludeDepth(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"main.conf": "include f0.inc\n"}
	for i := range maxIncludeDepth + 1 {
		files[fmt.Sprintf("f%d.inc", i)] = fmt.Sprintf("include f%d.inc\n", i+1)
	}
	writeFiles(t, dir, files)
	_, _, err := treeKeywords(t, dir)
	if err == nil || !strings.Contains(err.Error(), "includes nested deeper than") {
		t.Fatalf("error %v, want too deep", err)
	}
}

// TestPWD checks ${_PWD}: the directory of the file being read.
func TestPWD(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"main.conf":    "k ${_PWD}\ninclude sub/a.inc\n",
		"sub/a.inc":    "k ${_PWD}\n",
		"unused/x.inc": "",
	})
	nodes, _, err := ReadTree(filepath.Join(dir, "main.conf"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	want := []string{abs, filepath.Join(abs, "sub")}
	for i, n := range nodes {
		if n.Args[0] != want[i] {
			t.Errorf("${_PWD} in %s = %q, want %q", n.File, n.Args[0], want[i])
		}
	}
}

func TestExpandBraces(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"a", []string{"a"}},
		{"{a,b}c", []string{"ac", "bc"}},
		{"x{a,b{1,2}}y{3,4}", []string{"xay3", "xay4", "xb1y3", "xb1y4", "xb2y3", "xb2y4"}},
		{"{a}", []string{"a"}},
		{"{,a}", []string{"", "a"}},
		{"{a,b", []string{"{a,b"}},
		{`\{a,b}`, []string{`\{a,b}`}},
	} {
		got, err := expandBraces(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("expandBraces(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := expandBraces(strings.Repeat("{a,b}", 11)); err == nil {
		t.Error("2^11 alternatives accepted")
	}
}
