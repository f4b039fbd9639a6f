package kaconf

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// keepalived -t exit codes (keepalived/core/main.c: config_test_exit).
const (
	kaOK         = 0 // the configuration is fine
	kaConfigTest = 5 // configuration errors keepalived can run with
)

// keepalivedBinary finds keepalived, or skips the test.
func keepalivedBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("keepalived")
	if err != nil {
		bin = "/usr/sbin/keepalived"
		if _, err := os.Stat(bin); err != nil {
			t.Skip("keepalived is not installed")
		}
	}
	return bin
}

// keepalivedTest runs keepalived -t on a file and reports whether it
// accepts it, with what it said.
func keepalivedTest(t *testing.T, bin, path, id string) (bool, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := []string{"--config-test", "--use-file", filepath.Base(path)}
	if id != "" {
		args = append(args, "--config-id", id)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = filepath.Dir(path)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("keepalived -t %s: timed out", path)
	}
	rc := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		rc = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("keepalived -t %s: %v", path, err)
	}
	// Messages about this machine rather than the configuration:
	// interfaces and scripts that do not exist here (the test files use
	// eth0 and made-up script paths).
	environmentNoise := regexp.MustCompile(`interface \S+ .*doesn't exist|` +
		`Non-existent interface specified in configuration|` +
		`since not found/accessible|` +
		`^\s*$`)
	switch rc {
	case kaOK:
		return true, string(out)
	case kaConfigTest:
		for line := range strings.Lines(string(out)) {
			if !environmentNoise.MatchString(line) {
				return false, string(out)
			}
		}
		return true, string(out)
	}
	return false, string(out)
}

// TestKeepalivedAgrees runs keepalived -t on every test file: what
// Paceline accepts without adjusting, keepalived accepts; what keepalived
// adjusts, it reports; and each refused file says in its header what
// keepalived does with it.
func TestKeepalivedAgrees(t *testing.T) {
	if testing.Short() {
		t.Skip("runs keepalived")
	}
	bin := keepalivedBinary(t)
	probe := filepath.Join(t.TempDir(), "probe.conf")
	if err := os.WriteFile(probe, []byte(instanceConf("", "")), 0o644); err != nil {
		t.Fatal(err)
	}
	if ok, out := keepalivedTest(t, bin, probe, ""); !ok {
		t.Skipf("keepalived -t refuses a minimal configuration here:\n%s", out)
	}
	for _, c := range loadCases(t) {
		for _, id := range c.ids {
			name := strings.TrimPrefix(c.golden(id), "testdata/")
			t.Run(name, func(t *testing.T) {
				abs, err := filepath.Abs(c.path)
				if err != nil {
					t.Fatal(err)
				}
				ok, out := keepalivedTest(t, bin, abs, id)
				if ok != c.keepalived {
					t.Errorf("keepalived -t accepts: %v, want %v; it said:\n%s", ok, c.keepalived, out)
				}
			})
		}
	}
}

// TestKeepalivedSamples reads the sample configurations keepalived ships:
// one keepalived -t accepts, Paceline accepts too (with warnings for what
// it does not support).
func TestKeepalivedSamples(t *testing.T) {
	if testing.Short() {
		t.Skip("runs keepalived")
	}
	samples, _ := filepath.Glob("/usr/share/doc/keepalived/samples/keepalived.conf.*")
	if len(samples) == 0 {
		t.Skip("no keepalived samples")
	}
	bin := keepalivedBinary(t)
	for _, s := range samples {
		t.Run(filepath.Base(s), func(t *testing.T) {
			_, warns, err := ParseFile(s, Options{})
			ok, out := keepalivedTest(t, bin, s, "")
			if ok && err != nil {
				t.Errorf("keepalived -t accepts it, Paceline refuses it: %v", err)
			}
			if !ok {
				t.Logf("keepalived -t refuses it:\n%s", out)
			}
			if err != nil {
				t.Logf("Paceline refuses it: %v", err)
			}
			for _, w := range warns {
				if w.File == "" || w.Line < 1 {
					t.Errorf("warning without a position: %v", w)
				}
			}
		})
	}
}
