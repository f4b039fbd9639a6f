package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// runCheck runs the CLI in this process and returns its output and
// error.
func runCheck(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd(&out, &errOut)
	root.SetArgs(args)
	err := root.Execute()
	return out.String() + errOut.String(), err
}

func TestCheckCommand(t *testing.T) {
	cases := []struct {
		args     []string
		exit     int // 0: no error
		contains []string
	}{
		{[]string{"check", "--file", "testdata/check/clean.yaml"}, 0, []string{"is valid: no errors or warnings"}},
		{[]string{"check", "--file", "testdata/check/risky.yaml"}, 0, []string{
			"warning: properties[stonith-enabled]: stonith is disabled on a two-node cluster (n1, n2)",
			"warning: primitives[ip]: virtual IP ip (ocf:paceline:vip) has no recurring monitor",
			"is valid, with 2 warnings"}},
		{[]string{"check", "--file", "testdata/check/risky.yaml", "--strict"}, 1, []string{"with 2 warnings"}},
		{[]string{"check", "--file", "testdata/check/invalid.json"}, 1, []string{
			"error: properties[no-quorum-policy]:", "is not valid: 1 error"}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, err := runCheck(t, tc.args...)
			code := 0
			var ec exitCode
			if errors.As(err, &ec) {
				code = int(ec)
			} else if err != nil {
				t.Fatalf("error: %v\n%s", err, out)
			}
			if code != tc.exit {
				t.Errorf("exit %d, want %d\n%s", code, tc.exit, out)
			}
			for _, s := range tc.contains {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
		})
	}
}

func TestCheckCommandJSON(t *testing.T) {
	out, err := runCheck(t, "check", "-o", "json", "--file", "testdata/check/risky.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var v checkView
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if v.Errors != 0 || v.Warnings != 2 || len(v.Findings) != 2 || v.Findings[0].Rule != "stonith-disabled-two-node" {
		t.Errorf("unexpected view: %+v", v)
	}
}

func TestCheckCommandUsage(t *testing.T) {
	if _, err := runCheck(t, "check", "extra"); !errors.As(err, new(usageError)) {
		t.Errorf("extra argument: got %v, want a usage error", err)
	}
	if _, err := runCheck(t, "check", "--file", "testdata/check/missing.yaml"); err == nil || errors.As(err, new(exitCode)) {
		t.Errorf("missing file: got %v, want an error naming the file", err)
	}
}
