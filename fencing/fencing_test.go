package fencing

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paceline/paceline/cib"
)

// script writes an executable shell script that logs "NAME ACTION PORT"
// to log and exits with rc.
func script(t *testing.T, dir, name, log string, rc int) string {
	t.Helper()
	p := filepath.Join(dir, name)
	body := "#!/bin/sh\necho \"" + name + " $1 $2\" >> " + log + "\nexit " + strings.TrimSpace(string(rune('0'+rc))) + "\n"
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Fields(strings.ReplaceAll(strings.TrimSpace(string(b)), " ", "_"))
}

func execDevice(id, cmd string, extra ...string) cib.FenceDevice {
	p := map[string]string{"command": cmd, "pcmk_host_list": "n1 n2", "pcmk_off_retries": "0", "pcmk_reboot_retries": "0"}
	for i := 0; i+1 < len(extra); i += 2 {
		p[extra[i]] = extra[i+1]
	}
	return cib.FenceDevice{ID: id, Agent: "fence_paceline_exec", Params: p}
}

func newFencer(cfg *cib.Config) *Fencer {
	return New("n3", func() *cib.Config { return cfg }, &Runner{Builtins: Builtins()}, nil)
}

// Topology: level 1 fails -> level 2 is used; every device of a level is
// needed (a level whose second device fails fails).
func TestTopologyLevels(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	cfg := &cib.Config{
		Properties: map[string]string{"stonith-action": "off"},
		FenceDevices: []cib.FenceDevice{
			execDevice("ipmi", script(t, dir, "ipmi", log, 1)),
			execDevice("pdu1", script(t, dir, "pdu1", log, 0)),
			execDevice("pdu2", script(t, dir, "pdu2", log, 0)),
			execDevice("bad", script(t, dir, "bad", log, 1)),
		},
		FenceLevels: []cib.FenceLevel{
			{Target: "n1", Index: 2, Devices: []string{"pdu1", "pdu2"}},
			{Target: "n1", Index: 1, Devices: []string{"ipmi"}},
			{Target: "n2", Index: 1, Devices: []string{"pdu1", "bad"}},
		},
	}
	f := newFencer(cfg)
	op := f.Fence(context.Background(), FenceRequest{Target: "n1", Origin: "test"})
	if op.State != Done || op.Level != 2 || !slices.Equal(op.Devices, []string{"pdu1", "pdu2"}) {
		t.Fatalf("n1: %+v", op)
	}
	if got, want := lines(t, log), []string{"ipmi_off_n1", "pdu1_off_n1", "pdu2_off_n1"}; !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
	op = f.Fence(context.Background(), FenceRequest{Target: "n2", Origin: "test"})
	if op.State != Failed || !strings.Contains(op.Reason, "bad off n2") {
		t.Fatalf("n2: a level with a failing device must fail: %+v", op)
	}
	h := f.History()
	if len(h) != 2 || h[0].Target != "n1" || h[1].State != Failed {
		t.Fatalf("history %+v", h)
	}
}

// A reboot with several devices in a level is off on all, then on on all.
func TestRebootWithTwoDevices(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	cfg := &cib.Config{
		FenceDevices: []cib.FenceDevice{execDevice("psu1", script(t, dir, "psu1", log, 0)), execDevice("psu2", script(t, dir, "psu2", log, 0))},
		FenceLevels:  []cib.FenceLevel{{Target: "n1", Index: 1, Devices: []string{"psu1", "psu2"}}},
	}
	op := newFencer(cfg).Fence(context.Background(), FenceRequest{Target: "n1", Action: Reboot})
	if op.State != Done {
		t.Fatalf("%+v", op)
	}
	if got, want := lines(t, log), []string{"psu1_off_n1", "psu2_off_n1", "psu1_on_n1", "psu2_on_n1"}; !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
}

// Without topology, every device that can fence the target is tried in
// configuration order; host lists and maps decide which can.
func TestNoTopologyHostListsAndMaps(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	cfg := &cib.Config{
		Properties: map[string]string{"stonith-action": "off"},
		FenceDevices: []cib.FenceDevice{
			execDevice("other", script(t, dir, "other", log, 0), "pcmk_host_list", "n7"),
			execDevice("first", script(t, dir, "first", log, 1)),
			execDevice("mapped", script(t, dir, "mapped", log, 0), "pcmk_host_list", "", "pcmk_host_map", "n1:plug4;n2:plug5"),
		},
	}
	op := newFencer(cfg).Fence(context.Background(), FenceRequest{Target: "n1"})
	if op.State != Done || !slices.Equal(op.Devices, []string{"mapped"}) {
		t.Fatalf("%+v", op)
	}
	if got, want := lines(t, log), []string{"first_off_n1", "mapped_off_plug4"}; !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
	op = newFencer(cfg).Fence(context.Background(), FenceRequest{Target: "n9"})
	if op.State != Failed || !strings.Contains(op.Reason, "n9 is not in") {
		t.Fatalf("n9: %+v", op)
	}
}

// Retries: a device that fails twice then succeeds is tried again within
// its timeout; a device that hangs is ended by its timeout.
func TestRetriesAndTimeout(t *testing.T) {
	dir := t.TempDir()
	count := filepath.Join(dir, "count")
	flaky := filepath.Join(dir, "flaky")
	body := "#!/bin/sh\necho x >> " + count + "\n[ $(wc -l < " + count + ") -ge 3 ]\n"
	if err := os.WriteFile(flaky, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	hang := filepath.Join(dir, "hang")
	if err := os.WriteFile(hang, []byte("#!/bin/sh\nexec sleep 60\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := &cib.Config{Properties: map[string]string{"stonith-action": "off"}, FenceDevices: []cib.FenceDevice{
		execDevice("flaky", flaky, "pcmk_off_retries", "2"),
	}}
	if op := newFencer(cfg).Fence(context.Background(), FenceRequest{Target: "n1"}); op.State != Done {
		t.Fatalf("flaky with 2 retries: %+v", op)
	}
	cfg.FenceDevices = []cib.FenceDevice{execDevice("hang", hang, "pcmk_off_timeout", "300ms")}
	start := time.Now()
	op := newFencer(cfg).Fence(context.Background(), FenceRequest{Target: "n1"})
	if op.State != Failed || !strings.Contains(op.Reason, "timed out") {
		t.Fatalf("hang: %+v", op)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("a 300ms timeout took %v", d)
	}
}

// Delays apply to a fence the cluster asks for, not to an operator's.
func TestDelays(t *testing.T) {
	d, err := ParseDevice(cib.FenceDevice{ID: "d", Agent: "fence_x", Params: map[string]string{"pcmk_delay_base": "n1:2s;n2:0s", "pcmk_delay_max": "3s"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Delay("n1", nil); got != 2*time.Second {
		t.Fatalf("n1 static delay %v", got)
	}
	f := newFencer(&cib.Config{})
	for range 50 {
		if got := d.Delay("n2", f.rand()); got < 0 || got > 3*time.Second {
			t.Fatalf("random delay %v out of [0,3s]", got)
		}
	}
	dir := t.TempDir()
	cfg := &cib.Config{Properties: map[string]string{"stonith-action": "off"}, FenceDevices: []cib.FenceDevice{
		execDevice("dev", script(t, dir, "dev", filepath.Join(dir, "log"), 0), "pcmk_delay_base", "400ms"),
	}}
	start := time.Now()
	op := newFencer(cfg).Fence(context.Background(), FenceRequest{Target: "n1", Delayed: true})
	if op.State != Done || op.Delay != 400*time.Millisecond || time.Since(start) < 400*time.Millisecond {
		t.Fatalf("delayed: %+v after %v", op, time.Since(start))
	}
	op = newFencer(cfg).Fence(context.Background(), FenceRequest{Target: "n1"})
	if op.State != Done || op.Delay != 0 {
		t.Fatalf("operator's: %+v", op)
	}
}

func TestParseDeviceErrors(t *testing.T) {
	for k, v := range map[string]string{
		"pcmk_host_map":    "n1=plug1",
		"pcmk_host_check":  "maybe",
		"pcmk_delay_max":   "soon",
		"pcmk_off_timeout": "-1s",
		"pcmk_off_retries": "many",
		"ipaddr":           "a\nb",
	} {
		_, err := ParseDevice(cib.FenceDevice{ID: "d", Agent: "fence_x", Params: map[string]string{k: v}})
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%q: want an error naming it, got %v", k, v, err)
		}
	}
}

func TestStdinLines(t *testing.T) {
	got := StdinLines(Request{Action: Off, Target: "n1", Port: "plug4", Params: map[string]string{"ipaddr": "192.0.2.9", "login": "admin"}})
	want := "action=off\nnodename=n1\nport=plug4\nipaddr=192.0.2.9\nlogin=admin\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	got = StdinLines(Request{Action: Status, Target: "n1", HostArg: "plug"})
	if got != "action=status\nnodename=n1\nplug=n1\n" {
		t.Fatalf("plug: %q", got)
	}
	if ParseList("p1,alias1\n\np2\n"); !slices.Equal(ParseList("p1,alias1\n\np2\n"), []string{"p1", "alias1", "p2"}) {
		t.Fatal("ParseList")
	}
	r := &Runner{}
	if res := r.Run(context.Background(), Request{Agent: "../../bin/sh", Action: Status}); res.OK() || !strings.Contains(res.Reason, "want a name") {
		t.Fatalf("a path as agent name: %+v", res)
	}
}

// Debian's fence-agents work unchanged through the stdin API: fence_dummy
// (from the fence-agents package) answers metadata, and off/on/status on
// its status file.
func TestDebianFenceDummy(t *testing.T) {
	if _, err := os.Stat("/usr/sbin/fence_dummy"); err != nil {
		t.Skip("needs Debian's fence-agents (make deps installs it)")
	}
	r := &Runner{Builtins: Builtins()}
	ctx := context.Background()
	md := r.Run(ctx, Request{Agent: "fence_dummy", Action: Metadata})
	if !md.OK() || !strings.Contains(md.Output, `<resource-agent name="fence_dummy"`) {
		t.Fatalf("metadata: %+v", md)
	}
	statusFile := filepath.Join(t.TempDir(), "status")
	cfg := &cib.Config{FenceDevices: []cib.FenceDevice{{ID: "dummy", Agent: "fence_dummy",
		Params: map[string]string{"status_file": statusFile, "pcmk_host_list": "n1", "pcmk_host_argument": "none"}}}}
	dev, err := ParseDevice(cfg.FenceDevices[0])
	if err != nil {
		t.Fatal(err)
	}
	if st := r.Run(ctx, dev.request(On, "n1")); !st.OK() {
		t.Fatalf("on: %+v", st)
	}
	if st := r.Run(ctx, dev.request(Status, "n1")); st.RC != StatusOn {
		t.Fatalf("status after on: %+v", st)
	}
	op := New("n2", func() *cib.Config { return cfg }, r, nil).Fence(ctx, FenceRequest{Target: "n1", Action: Off})
	if op.State != Done {
		t.Fatalf("off: %+v", op)
	}
	if st := r.Run(ctx, dev.request(Status, "n1")); st.RC != StatusOff {
		t.Fatalf("status after off: %+v", st)
	}
}

// The test device cuts a namespace node's port on its bridge.
func TestNetnsDevice(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates a network namespace (CI runs as root)")
	}
	sw := fmt.Sprintf("plf%d-sw", os.Getpid()%100000)
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	ip("netns", "add", sw)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", sw).Run() })
	node := strings.TrimSuffix(sw, "sw") + "n1"
	ip("netns", "add", node)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", node).Run() })
	ip("-n", sw, "link", "add", "v0", "type", "veth", "peer", "name", "eth0", "netns", node)
	ip("-n", sw, "link", "set", "v0", "up")
	// A process of the node: the fence must kill it.
	sleeper := exec.Command("ip", "netns", "exec", node, "sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- sleeper.Wait() }()
	t.Cleanup(func() { _ = sleeper.Process.Kill() })
	cfg := &cib.Config{FenceDevices: []cib.FenceDevice{{ID: "switch", Agent: "fence_paceline_netns",
		Params: map[string]string{"switch_ns": sw, "pcmk_host_map": "n1:v0", "node_netns": "n1:" + node}}}}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		out, _ := exec.Command("ip", "netns", "pids", node).Output()
		if len(strings.TrimSpace(string(out))) > 0 {
			break // the sleeper runs in the namespace
		}
		if time.Now().After(deadline) {
			t.Fatal("the node's process never entered its namespace")
		}
	}
	r := &Runner{Builtins: Builtins()}
	dev, _ := ParseDevice(cfg.FenceDevices[0])
	ctx := context.Background()
	if st := r.Run(ctx, dev.request(Status, "n1")); st.RC != StatusOn {
		t.Fatalf("status before: %+v", st)
	}
	if l := r.Run(ctx, Request{Agent: "fence_paceline_netns", Action: List, Params: dev.Params}); !slices.Contains(ParseList(l.Output), "v0") {
		t.Fatalf("list: %+v", l)
	}
	op := New("n2", func() *cib.Config { return cfg }, r, nil).Fence(ctx, FenceRequest{Target: "n1", Action: Off})
	if op.State != Done {
		t.Fatalf("off: %+v", op)
	}
	if st := r.Run(ctx, dev.request(Status, "n1")); st.RC != StatusOff {
		t.Fatalf("status after off: %+v", st)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the node's process survived its fence")
	}
	if st := r.Run(ctx, dev.request(Status, "n9")); st.OK() || !strings.Contains(st.Reason, "n9") {
		t.Fatalf("unknown port: %+v", st)
	}
}
