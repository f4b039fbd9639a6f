package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A node of a two-node cluster that runs alone has no raft majority: the
// CLI's write is refused at once with the reason and exit status 1, and
// the refusal is in `paceline audit`. (The peer, n2, is never started.)
func TestCLIWriteRefusedWhileReadOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real agent")
	}
	dir, err := os.MkdirTemp("/tmp", "plro")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	p1, p2 := freePortPair(t), freePortPair(t)
	if r := runBinary(t, "cluster", "init", "--dir", dir, "--local", fmt.Sprintf("n1=127.0.0.1:%d", p1), fmt.Sprintf("n2=127.0.0.1:%d", p2)); r.code != 0 {
		t.Fatalf("cluster init: %s", r)
	}
	conf := filepath.Join(dir, "n1", "paceline.yaml")
	if err := appendFile(conf, "resources:\n  manage: false\n"); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "agent.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(binary, "agent", "--config", conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("agent log:\n%s", tail(string(b), 40))
		}
	}()
	a := &testAgent{dir: dir, socket: filepath.Join(dir, "n1", "paceline.sock"), node: "n1"}
	deadline := time.Now().Add(30 * time.Second)
	for a.run(t, "config", "show", "-o", "json").code != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the agent's socket never answered")
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(6 * time.Second) // past unseenGrace: n2 counts as down
	start := time.Now()
	r := a.run(t, "property", "set", "cluster-name=alone")
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("the refusal took %v: want it after the agent's few seconds' wait, not the apply timeout", took)
	}
	want := "Error: configuration is read-only: raft has no majority (1 of 2 voters present; down: n2); resource state is still managed"
	if r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Fatalf("want exit 1 and %q; got %s", want, r)
	}
	out := a.ok(t, "audit", "--tail", "5")
	if !strings.Contains(out, "SetProperties") || !strings.Contains(out, "refused (503): configuration is read-only") {
		t.Errorf("paceline audit does not show the refusal:\n%s", out)
	}
	if r := a.run(t, "property", "set", "cluster-name=alone", "--dry-run"); r.code != 0 {
		t.Errorf("a dry run while read-only: %s", r)
	}
	// check reads the live configuration, which stays readable.
	if r := a.run(t, "check"); r.code != 0 || !strings.Contains(r.stdout, "the live configuration (epoch 0) is valid") {
		t.Errorf("check of the live configuration: %s", r)
	}
	t.Logf("paceline audit:\n%s", out)
}
