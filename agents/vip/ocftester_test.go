package vip

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paceline/paceline/agents/ocf"
)

// buildAgent builds testdata/ocfmain, the agent as an OCF executable,
// into a directory that user nobody can enter (ocf-tester runs
// meta-data as nobody).
func buildAgent(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("needs the go command to build the agent executable")
	}
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "vip")
	if out, err := exec.Command(goBin, "build", "-o", bin, "./testdata/ocfmain").CombinedOutput(); err != nil {
		t.Fatalf("go build ./testdata/ocfmain: %v\n%s", err, out)
	}
	return bin
}

// execIn runs a command in a host's namespace with extra environment,
// as its own process group, killed (by PID) if it outlives timeout. It
// returns the exit code and the combined output.
func execIn(t *testing.T, h *host, env []string, timeout time.Duration, name string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.ns, name}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &ee) && ee.Exited():
		return ee.ExitCode(), string(out)
	}
	t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	return -1, ""
}

// TestOCFTester: resource-agents' ocf-tester passes the agent, run as an
// OCF executable inside a test host: meta-data valid against the DTD,
// validate-all, probes, start/stop/monitor and their idempotence,
// unsupported actions.
func TestOCFTester(t *testing.T) {
	requireRoot(t)
	for _, tool := range []string{"ocf-tester", "xmllint"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (Debian: resource-agents, libxml2-utils; make deps installs them)", tool)
		}
	}
	bin := buildAgent(t)
	l := newLab(t, "ot")
	a := l.addHost("a", "192.0.2.1/24")
	rc, out := execIn(t, a, nil, 2*time.Minute, "ocf-tester", "-v", "-n", "vip1",
		"-o", "ip="+vip4, "-o", "cidr_netmask=24", "-o", "nic=eth0", bin)
	t.Logf("ocf-tester output:\n%s", out)
	if rc != 0 || !strings.Contains(out, "passed all tests") {
		t.Fatalf("ocf-tester: exit %d", rc)
	}
	wantAddr(t, l.addr(a, vip4)) // it ends stopped
}

// TestPrivileges runs the executable with privileges taken away: without
// CAP_NET_RAW (or as nobody) start fails with ErrPerm before adding
// anything; without CAP_NET_ADMIN it fails with ErrPerm naming that;
// monitor needs no privilege; stop without CAP_NET_ADMIN is ErrPerm and
// leaves the address.
func TestPrivileges(t *testing.T) {
	requireRoot(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("needs setpriv (util-linux)")
	}
	bin := buildAgent(t)
	l := newLab(t, "pv")
	a := l.addHost("a", "192.0.2.1/24")
	env := []string{"OCF_RESKEY_ip=" + vip4, "OCF_RESKEY_arp_count=1"}
	nobody := []string{"--reuid=65534", "--regid=65534", "--clear-groups"}
	drop := func(capName string) []string {
		return []string{"--inh-caps=-" + capName, "--bounding-set=-" + capName}
	}
	run := func(priv []string, action string) (int, string) {
		return execIn(t, a, env, 30*time.Second, "setpriv", append(append(priv, bin), action)...)
	}
	for _, tc := range []struct {
		name string
		priv []string
		want string
	}{
		{"nobody", nobody, "needs CAP_NET_RAW"},
		{"no CAP_NET_RAW", drop("net_raw"), "needs CAP_NET_RAW"},
		{"no CAP_NET_ADMIN", drop("net_admin"), "needs CAP_NET_ADMIN"},
	} {
		rc, out := run(tc.priv, ocf.Start)
		if rc != ocf.ErrPerm || !strings.Contains(out, "insufficient privileges") || !strings.Contains(out, tc.want) {
			t.Errorf("%s: start: exit %d, want %d and %q; output:\n%s", tc.name, rc, ocf.ErrPerm, tc.want, out)
		}
		wantAddr(t, l.addr(a, vip4))
	}
	if rc, out := run(nobody, ocf.Monitor); rc != ocf.NotRunning {
		t.Errorf("monitor as nobody: exit %d, want %d: %s", rc, ocf.NotRunning, out)
	}
	if rc, out := run(nil, ocf.Start); rc != ocf.Success {
		t.Fatalf("start as root: exit %d: %s", rc, out)
	}
	if rc, out := run(nobody, ocf.Monitor); rc != ocf.Success {
		t.Errorf("monitor as nobody: exit %d, want %d: %s", rc, ocf.Success, out)
	}
	if rc, out := run(nobody, ocf.Stop); rc != ocf.ErrPerm || !strings.Contains(out, "needs CAP_NET_ADMIN") {
		t.Errorf("stop as nobody: exit %d, want %d naming CAP_NET_ADMIN: %s", rc, ocf.ErrPerm, out)
	}
	if len(l.addr(a, vip4)) != 1 {
		t.Errorf("a refused stop removed the address")
	}
	if rc, out := run(nil, ocf.Stop); rc != ocf.Success {
		t.Errorf("stop as root: exit %d: %s", rc, out)
	}
	wantAddr(t, l.addr(a, vip4))
}
