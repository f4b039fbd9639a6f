package clustertest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paceline/paceline/agent"
	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
)

// A two-node cluster whose peer is lost has no raft majority: a write is
// refused at once with the reason (not at the apply timeout), a dry run
// and reads still work, and the refusal is audited. When the peer is back,
// writes go through again.
func TestTwoNodeDegradedConfigIsReadOnly(t *testing.T) {
	c := New(t, 2, Options{})
	n1 := c.Nodes[0]
	mustApply(t, n1, &cib.SetProperties{Patch: cib.Patch{Set: map[string]string{"two-node": "true"}}})
	WaitFor(t, 10*time.Second, func() (bool, string) {
		return c.Nodes[1].Agent.Store().Config().Property("two-node") == "true", "n2 catching up"
	})
	c.Kill(1)
	WaitFor(t, 30*time.Second, func() (bool, string) {
		return n1.Agent.Store().Info().Leader == "", "n1 still sees a raft leader"
	})
	write := &cib.SetProperties{Patch: cib.Patch{Set: map[string]string{"cluster-name": "degraded"}}}
	var err error
	WaitFor(t, 30*time.Second, func() (bool, string) {
		start := time.Now()
		_, err = n1.Client.Apply(Ctx(t), write, false)
		took := time.Since(start)
		// readOnlyWait (3 s) plus room; the apply timeout is far longer.
		return err != nil && strings.Contains(err.Error(), "read-only") && took < 8*time.Second,
			fmt.Sprintf("write while degraded: %v after %v", err, took)
	})
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable {
		t.Errorf("status: %v, want 503", err)
	}
	for _, want := range []string{"configuration is read-only: raft has no majority", "two-node degraded mode, peer n2 down", "resource state is still managed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := n1.Client.Apply(Ctx(t), write, true); err != nil {
		t.Errorf("dry run while degraded: %v", err)
	}
	bad := &cib.SetProperties{Patch: cib.Patch{Set: map[string]string{"no-quorum-policy": "maybe"}}}
	if _, err := n1.Client.Apply(Ctx(t), bad, false); err == nil || strings.Contains(err.Error(), "read-only") {
		t.Errorf("an invalid write while degraded: %v, want its validation error", err)
	}
	if _, err := n1.Client.Config(Ctx(t)); err != nil {
		t.Errorf("read while degraded: %v", err)
	}
	rep, err := n1.Client.Audit(Ctx(t), 100)
	if err != nil {
		t.Fatal(err)
	}
	var refused bool
	for _, e := range rep.Entries {
		refused = refused || (e.Command == "SetProperties" && e.Status == http.StatusServiceUnavailable && strings.Contains(e.Error, "read-only"))
	}
	if !refused {
		t.Errorf("no audit entry for the refused write: %+v", rep.Entries)
	}

	c.Start(1)
	WaitFor(t, 30*time.Second, func() (bool, string) {
		_, err := n1.Client.Apply(Ctx(t), write, false)
		return err == nil, fmt.Sprintf("write after the peer returned: %v", err)
	})
}

// Every configuration change through the API is in the node's audit log
// with this process as the peer and the new epoch.
func TestAuditLogOfConfigurationChanges(t *testing.T) {
	c := New(t, 1, Options{})
	n := c.Nodes[0]
	res, err := n.Client.Apply(Ctx(t), &cib.SetProperties{Patch: cib.Patch{Set: map[string]string{"cluster-name": "audited"}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := n.Client.Audit(Ctx(t), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Entries) == 0 {
		t.Fatal("no audit entries")
	}
	e := rep.Entries[len(rep.Entries)-1]
	if e.Command != "SetProperties" || e.Epoch != res.Epoch || e.Peer == nil || e.Peer.PID != int32(os.Getpid()) || e.Summary != "patch.set.cluster-name=audited" {
		t.Errorf("last entry %+v (peer %+v), want SetProperties at epoch %d from pid %d", e, e.Peer, res.Epoch, os.Getpid())
	}
	st, err := os.Stat(filepath.Join(n.Agent.Config().DataDir, agent.AuditFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("audit log: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
}

// The observation listener refuses garbage, oversized headers and
// oversized bodies, and goes on serving.
func TestObservationListenerRefusesBadRequests(t *testing.T) {
	c := New(t, 1, Options{HTTP: true, HTTPToken: "0123456789abcdef-token"})
	addr := c.Nodes[0].Agent.ObserveAddr()
	raw := func(req string) string {
		t.Helper()
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		go func() { _, _ = io.WriteString(conn, req) }()
		line, _ := bufio.NewReader(conn).ReadString('\n')
		return line
	}
	if got := raw("GARBAGE \x00\x01\r\n\r\n"); !strings.Contains(got, " 400 ") {
		t.Errorf("garbage: %q, want 400", got)
	}
	if got := raw("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 64<<10) + "\r\n\r\n"); !strings.Contains(got, " 431 ") {
		t.Errorf("oversized header: %q, want 431", got)
	}
	body := "token=" + strings.Repeat("a", 1<<20)
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/login", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://"+addr)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 4 {
		t.Errorf("oversized login body: %s, want a 4xx", resp.Status)
	}
	resp, err = http.Get("http://" + addr + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after the bad requests, GET /login: %s", resp.Status)
	}
}
