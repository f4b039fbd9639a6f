package agent

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The feeder writes to the device while the node may run resources, stops
// when it may not, and disarms it (the magic 'V') when it ends. A regular
// file stands in for /dev/watchdog: the real device would reset this
// shared machine when the test stops feeding it.
func TestWatchdogFeeder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "watchdog")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	w := WatchdogSettings{Device: path, Timeout: 300 * time.Millisecond}
	f, err := openWatchdog(w, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var ok atomic.Bool
	ok.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runWatchdog(ctx, f, w, func() (bool, string) { return ok.Load(), "test" }, slog.New(slog.DiscardHandler))
	}()
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	waitGrow := func(from int64) int64 {
		deadline := time.Now().Add(5 * time.Second)
		for size() <= from {
			if time.Now().After(deadline) {
				t.Fatalf("not fed: still %d bytes", from)
			}
			time.Sleep(10 * time.Millisecond)
		}
		return size()
	}
	n := waitGrow(0)
	n = waitGrow(n)
	ok.Store(false)
	time.Sleep(300 * time.Millisecond) // a feed decided before the flip may still land
	starved := size()
	time.Sleep(500 * time.Millisecond) // over one timeout: nothing fed
	if got := size(); got != starved {
		t.Fatalf("fed while the node may not run resources: %d -> %d bytes", starved, got)
	}
	ok.Store(true)
	waitGrow(starved)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 || b[len(b)-1] != 'V' {
		t.Fatalf("not disarmed with the magic close: %q %v", b, err)
	}
}

func TestWatchdogMissingDevice(t *testing.T) {
	_, err := openWatchdog(WatchdogSettings{Device: "/nonexistent/watchdog"}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/watchdog") {
		t.Fatalf("want an error naming the device, got %v", err)
	}
}
