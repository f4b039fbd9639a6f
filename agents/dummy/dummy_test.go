package dummy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// ocf-tester (from Debian's resource-agents) passes against
// ocf:paceline:dummy run as an OCF executable (`paceline ocf dummy`),
// including its promote and demote checks.
func TestOCFTester(t *testing.T) {
	tester, err := exec.LookPath("ocf-tester")
	if err != nil {
		t.Skip("needs ocf-tester from Debian's resource-agents (make deps installs it)")
	}
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Skip("needs xmllint from libxml2-utils (make deps installs it)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "paceline")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/paceline").CombinedOutput(); err != nil {
		t.Fatalf("building paceline: %v\n%s", err, out)
	}
	root := filepath.Join(dir, "ocf")
	if out, err := exec.Command(bin, "ocf", "install", "--root", root).CombinedOutput(); err != nil {
		t.Fatalf("paceline ocf install: %v\n%s", err, out)
	}
	// ocf-tester also runs the agent as user nobody: the state file's
	// directory must be writable for that check.
	stateDir := filepath.Join(dir, "state")
	if err := os.Mkdir(stateDir, 0o1777); err != nil {
		t.Fatal(err)
	}
	// t.TempDir's directories are private: let nobody reach the agent.
	for _, d := range []string{stateDir, dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755|os.ModeSticky); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(stateDir, 0o777|os.ModeSticky)
	cmd := exec.Command(tester, "-v", "-n", "d1", "-o", "state="+filepath.Join(stateDir, "d1.state"), filepath.Join(root, "resource.d/paceline/dummy"))
	cmd.Env = append(os.Environ(), "OCF_ROOT="+root)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ocf-tester failed: %v\n%s", err, out)
	}
	t.Logf("ocf-tester: %s", lastLine(out))
}

func lastLine(b []byte) string {
	s := string(b)
	for len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' {
			return s[i+1:]
		}
	}
	return s
}
