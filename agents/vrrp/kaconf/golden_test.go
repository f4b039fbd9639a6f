package kaconf

import (
	"bufio"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata")

// A case is a testdata/<dir>/*.conf file:
//
//	valid     Paceline reads it (warnings allowed); keepalived -t accepts it
//	adjusted  Paceline reads it with warnings for what keepalived adjusts;
//	          keepalived -t reports configuration errors
//	invalid   Paceline refuses it; a "# keepalived: accepts|rejects" line
//	          says what keepalived -t does
//
// A "# config-ids: a b" line reads the file once per config ID (the @ID
// lines); each reading has its golden file <name>[.<id>].golden: the dump
// of the Config, the warnings and the errors. go test -update rewrites
// them.
type testCase struct {
	dir, path string
	ids       []string // config IDs; one "" when none
	// keepalived is true when keepalived -t accepts the file.
	keepalived bool
}

func (c testCase) golden(id string) string {
	base := strings.TrimSuffix(c.path, ".conf")
	if id != "" {
		base += "." + id
	}
	return base + ".golden"
}

func loadCases(t *testing.T) []testCase {
	t.Helper()
	var cases []testCase
	for _, dir := range []string{"valid", "adjusted", "invalid"} {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*.conf"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no cases in testdata/%s: %v", dir, err)
		}
		for _, f := range files {
			c := testCase{dir: dir, path: f, ids: []string{""}, keepalived: dir == "valid"}
			header, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			sawKeepalived := false
			sc := bufio.NewScanner(header)
			for sc.Scan() {
				line := sc.Text()
				if ids, ok := strings.CutPrefix(line, "# config-ids:"); ok {
					c.ids = strings.Fields(ids)
				}
				if v, ok := strings.CutPrefix(line, "# keepalived:"); ok {
					sawKeepalived = true
					c.keepalived = strings.HasPrefix(strings.TrimSpace(v), "accepts")
				}
			}
			header.Close()
			if dir == "invalid" && !sawKeepalived {
				t.Fatalf("%s: no \"# keepalived: accepts|rejects\" line", f)
			}
			cases = append(cases, c)
		}
	}
	return cases
}

func TestGolden(t *testing.T) {
	for _, c := range loadCases(t) {
		for _, id := range c.ids {
			name := strings.TrimPrefix(c.golden(id), "testdata/")
			t.Run(name, func(t *testing.T) {
				cfg, warns, err := ParseFile(c.path, Options{ConfigID: id})
				switch c.dir {
				case "valid":
					if err != nil {
						t.Errorf("refused: %v", err)
					}
				case "adjusted":
					if err != nil || len(warns) == 0 {
						t.Errorf("want warnings and no error; got %d warnings, error %v", len(warns), err)
					}
				case "invalid":
					checkPositions(t, err)
				}
				got := dump(cfg, warns, err)
				cfg2, warns2, err2 := ParseFile(c.path, Options{ConfigID: id})
				if again := dump(cfg2, warns2, err2); again != got {
					t.Errorf("a second reading differs:\n%s\nfirst:\n%s", again, got)
				}
				compareGolden(t, c.golden(id), got)
			})
		}
	}
}

// checkPositions requires an error made of *Error values, each with a file
// and a line.
func checkPositions(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("accepted, want an error")
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var pe *Error
		if !errors.As(e, &pe) || pe.File == "" || pe.Line < 1 {
			t.Errorf("error without a position: %v", e)
		}
	}
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s--- want\n%s", path, got, want)
	}
}
