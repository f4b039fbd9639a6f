package proc

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestRunStdinAndExitCode(t *testing.T) {
	r := Run(context.Background(), Cmd{Path: "/bin/sh", Args: []string{"-c", "read a; read b; echo got $a $b; exit 3"}, Stdin: strings.NewReader("x=1\ny=2\n")})
	if r.Status != Done || r.Code != 3 || !strings.Contains(r.Output, "got x=1 y=2") {
		t.Fatalf("got %+v", r)
	}
}

// A timeout ends the whole group, a child that ignores SIGTERM too.
func TestRunTimeoutKillsGroup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := Run(ctx, Cmd{Path: "/bin/sh", Args: []string{"-c", "trap '' TERM; sleep 30 & wait"}, Grace: 100 * time.Millisecond})
	if r.Status != Timeout || !strings.Contains(r.Reason, "timed out") {
		t.Fatalf("got %+v", r)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %v: the group was not killed", d)
	}
}

func TestRunNotInstalled(t *testing.T) {
	r := Run(context.Background(), Cmd{Path: "/nonexistent/agent"})
	if r.Status != NotInstalled || !strings.Contains(r.Reason, "does not exist") {
		t.Fatalf("got %+v", r)
	}
	if r = Run(context.Background(), Cmd{Path: "/tmp"}); r.Status != NotInstalled || !strings.Contains(r.Reason, "directory") {
		t.Fatalf("got %+v", r)
	}
}

func TestCaptureKeepsHeadAndTail(t *testing.T) {
	var c Capture
	big := strings.Repeat("a", HeadBytes) + strings.Repeat("b", 100000) + strings.Repeat("c", TailBytes)
	for i := 0; i < len(big); i += 4096 {
		_, _ = c.Write([]byte(big[i:min(i+4096, len(big))]))
	}
	s := c.String()
	if !strings.HasPrefix(s, strings.Repeat("a", HeadBytes)) || !strings.HasSuffix(s, strings.Repeat("c", TailBytes)) || !strings.Contains(s, "100000 bytes of output dropped") {
		t.Fatalf("kept %d bytes: head/tail/marker wrong", len(s))
	}
}
