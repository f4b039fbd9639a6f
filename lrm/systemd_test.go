package lrm_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/lrm"
	"github.com/paceline/paceline/lrm/systemdtest"
)

func TestSystemdUnitName(t *testing.T) {
	for _, c := range []struct {
		typ, unit, err string
	}{
		{"redis-server", "redis-server.service", ""},
		{"redis-server.service", "redis-server.service", ""},
		{"sshd.socket", "sshd.socket", ""},
		{"var-lib.mount", "var-lib.mount", ""},
		{"backup.timer", "backup.timer", ""},
		{"app.target", "app.target", ""},
		{"getty@tty1", "getty@tty1.service", ""},
		{"getty@tty1.service", "getty@tty1.service", ""},
		{"postgresql@15-main", "postgresql@15-main.service", ""},
		{"redis-6.2", "redis-6.2.service", ""}, // a dot, but no unit suffix
		{"", "", "empty"},
		{"../etc/passwd", "", "not allowed"},
		{"a/b", "", "not allowed"},
		{"two words", "", "not allowed"},
		{"getty@", "", "instance"},
		{"getty@.service", "", "instance"},
		{".service", "", "not a valid"},
		{strings.Repeat("x", 300), "", "longer"},
	} {
		unit, err := lrm.SystemdUnit(c.typ)
		switch {
		case c.err == "" && (err != nil || unit != c.unit):
			t.Errorf("SystemdUnit(%q) = %q, %v; want %q", c.typ, unit, err, c.unit)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("SystemdUnit(%q) = %q, %v; want an error with %q", c.typ, unit, err, c.err)
		}
	}
}

// Without a reachable systemd, meta-data still answers, and other actions
// fail with status error and a reason naming the unit.
func TestSystemdNoBus(t *testing.T) {
	sd, err := lrm.NewSystemd(lrm.SystemdConfig{BusAddress: "unix:path=" + t.TempDir() + "/none", RuntimeUnitDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer sd.Close()
	ctx := context.Background()
	md := sd.Run(ctx, sdReq("web", ocf.MetaData))
	if !md.OK() || !strings.Contains(md.Output, `<resource-agent name="web.service"`) {
		t.Fatalf("meta-data = %+v", md)
	}
	var doc struct {
		Actions []ocf.ActionDef `xml:"actions>action"`
	}
	if err := xml.Unmarshal([]byte(md.Output), &doc); err != nil || len(doc.Actions) == 0 {
		t.Fatalf("meta-data does not parse: %v\n%s", err, md.Output)
	}
	r := sd.Run(ctx, sdReq("web", ocf.Monitor))
	if r.RC != ocf.ErrGeneric || r.Status != lrm.StatusError || !strings.Contains(r.Reason, "web.service") {
		t.Fatalf("monitor without a bus = %+v", r)
	}
	for _, a := range []string{ocf.Promote, ocf.Demote, ocf.Notify} {
		if r := sd.Run(ctx, sdReq("web", a)); r.RC != ocf.ErrUnimplemented {
			t.Errorf("%s = %+v, want unimplemented", a, r)
		}
	}
	if r := sd.Run(ctx, sdReq("../x", ocf.Start)); r.RC != ocf.ErrConfigured || r.Status != lrm.StatusError {
		t.Errorf("start of a path = %+v, want not configured", r)
	}
	if _, err := lrm.NewSystemd(lrm.SystemdConfig{PollInterval: -1, RuntimeUnitDir: "run"}); err == nil ||
		!strings.Contains(err.Error(), "negative") || !strings.Contains(err.Error(), "absolute") {
		t.Errorf("bad config accepted or not every problem named: %v", err)
	}
}

func sdReq(typ, action string) lrm.Request {
	return lrm.Request{Rsc: "r-" + typ, Agent: lrm.Agent{Class: lrm.ClassSystemd, Type: typ}, Action: action}
}

// sdRun runs one action with a timeout.
func sdRun(t *testing.T, sd *lrm.Systemd, typ, action string, timeout time.Duration) lrm.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return sd.Run(ctx, sdReq(typ, action))
}

// want checks an action's return code and status.
func sdWant(t *testing.T, sd *lrm.Systemd, typ, action string, rc int, st lrm.ExecStatus) lrm.Result {
	t.Helper()
	r := sdRun(t, sd, typ, action, 30*time.Second)
	if r.RC != rc || r.Status != st {
		t.Fatalf("%s %s = rc %d (%s) status %s, reason %q; want rc %d status %s",
			action, typ, r.RC, ocf.RCName(r.RC), r.Status, r.Reason, rc, st)
	}
	return r
}

// TestSystemd runs the systemd class against a real systemd booted in
// its own namespaces (systemdtest), one instance for all the cases.
func TestSystemd(t *testing.T) {
	inst := systemdtest.Boot(t)
	logs := &sdLog{}
	sd, err := lrm.NewSystemd(lrm.SystemdConfig{
		BusAddress: inst.BusAddress, RuntimeUnitDir: inst.UnitDir, PollInterval: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sd.Close() })

	t.Run("Lifecycle", func(t *testing.T) {
		// Restart=always: the drop-in must turn it off.
		inst.WriteUnit("pl-sleep.service", "[Unit]\nDescription=Paceline test sleeper\n[Service]\nExecStart=/bin/sleep 1000\nRestart=always\nRestartSec=100ms\n")
		sdWant(t, sd, "pl-sleep", ocf.Monitor, ocf.NotRunning, lrm.StatusDone)
		sdWant(t, sd, "pl-sleep", ocf.ValidateAll, ocf.Success, lrm.StatusDone)
		sdWant(t, sd, "pl-sleep", ocf.Start, ocf.Success, lrm.StatusDone)
		sdWant(t, sd, "pl-sleep", ocf.Monitor, ocf.Success, lrm.StatusDone)
		sdWant(t, sd, "pl-sleep.service", ocf.Start, ocf.Success, lrm.StatusDone) // again, by full name

		dropIn := sd.DropInPath("pl-sleep.service")
		b, err := os.ReadFile(dropIn)
		if err != nil || !strings.Contains(string(b), "Restart=no") {
			t.Fatalf("drop-in %s: %v\n%s", dropIn, err, b)
		}
		conn := inst.Conn()
		p, err := conn.GetServicePropertyContext(context.Background(), "pl-sleep.service", "Restart")
		if err != nil || p.Value.Value() != "no" {
			t.Fatalf("Restart of the started unit = %v, %v; want no (the drop-in)", p, err)
		}
		md := sdWant(t, sd, "pl-sleep", ocf.MetaData, ocf.Success, lrm.StatusDone)
		if !strings.Contains(md.Output, "<special tag=\"systemd\">") || !strings.Contains(md.Output, "<parameters>") {
			t.Errorf("meta-data:\n%s", md.Output)
		}

		// The service dies: systemd must not restart it, the monitor says
		// not running.
		pids := inst.UnitPIDs("pl-sleep.service")
		if len(pids) != 1 {
			t.Fatalf("processes of pl-sleep.service: %v", pids)
		}
		if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		sdWaitFor(t, 10*time.Second, "monitor to see the service dead", func() bool {
			return sdRun(t, sd, "pl-sleep", ocf.Monitor, 5*time.Second).RC == ocf.NotRunning
		})
		time.Sleep(500 * time.Millisecond) // 5 x RestartSec: a restart would have happened
		if r := sdWant(t, sd, "pl-sleep", ocf.Monitor, ocf.NotRunning, lrm.StatusDone); !strings.Contains(r.Reason, "failed") {
			t.Errorf("monitor of the killed service: reason %q does not say failed", r.Reason)
		}

		sdWant(t, sd, "pl-sleep", ocf.Start, ocf.Success, lrm.StatusDone)
		sdWant(t, sd, "pl-sleep", ocf.Stop, ocf.Success, lrm.StatusDone)
		sdWant(t, sd, "pl-sleep", ocf.Monitor, ocf.NotRunning, lrm.StatusDone)
		sdWant(t, sd, "pl-sleep", ocf.Stop, ocf.Success, lrm.StatusDone)
		if _, err := os.Stat(dropIn); !os.IsNotExist(err) {
			t.Errorf("drop-in still there after stop: %v", err)
		}
		p, err = conn.GetServicePropertyContext(context.Background(), "pl-sleep.service", "Restart")
		if err != nil || p.Value.Value() != "always" {
			t.Errorf("Restart after stop = %v, %v; want the unit's own always", p, err)
		}
		if r := sdWant(t, sd, "pl-sleep", ocf.Reload, ocf.ErrUnimplemented, lrm.StatusDone); !strings.Contains(r.Reason, "pl-sleep.service") {
			t.Errorf("reload reason %q", r.Reason)
		}
		for _, a := range []string{ocf.Promote, ocf.Demote, ocf.Notify} {
			sdWant(t, sd, "pl-sleep", a, ocf.ErrUnimplemented, lrm.StatusDone)
		}
	})

	t.Run("Reload", func(t *testing.T) {
		inst.WriteUnit("pl-reload.service", "[Service]\nExecStart=/bin/sleep 1000\nExecReload=/bin/true\n")
		sdWant(t, sd, "pl-reload", ocf.Start, ocf.Success, lrm.StatusDone)
		sdWant(t, sd, "pl-reload", ocf.Reload, ocf.Success, lrm.StatusDone)
		sdWant(t, sd, "pl-reload", ocf.Stop, ocf.Success, lrm.StatusDone)
	})

	t.Run("StartFails", func(t *testing.T) {
		inst.WriteUnit("pl-false.service", "[Service]\nType=oneshot\nExecStart=/bin/false\n")
		r := sdWant(t, sd, "pl-false", ocf.Start, ocf.ErrGeneric, lrm.StatusDone)
		for _, s := range []string{"pl-false.service", "job failed", "ActiveState=failed", "Result=exit-code"} {
			if !strings.Contains(r.Reason, s) {
				t.Errorf("reason %q lacks %q", r.Reason, s)
			}
		}
		sdWant(t, sd, "pl-false", ocf.Monitor, ocf.NotRunning, lrm.StatusDone)
		sdWant(t, sd, "pl-false", ocf.Stop, ocf.Success, lrm.StatusDone)

		inst.WriteUnit("pl-nobin.service", "[Service]\nType=exec\nExecStart=/nonexistent/daemon\n")
		if r := sdWant(t, sd, "pl-nobin", ocf.Start, ocf.ErrGeneric, lrm.StatusDone); !strings.Contains(r.Reason, "failed") {
			t.Errorf("reason %q", r.Reason)
		}

		// A oneshot that succeeds but does not stay active is not started
		// (as in Pacemaker).
		inst.WriteUnit("pl-once.service", "[Service]\nType=oneshot\nExecStart=/bin/true\n")
		if r := sdWant(t, sd, "pl-once", ocf.Start, ocf.ErrGeneric, lrm.StatusDone); !strings.Contains(r.Reason, "not active") {
			t.Errorf("reason %q", r.Reason)
		}
		inst.WriteUnit("pl-stays.service", "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n")
		sdWant(t, sd, "pl-stays", ocf.Start, ocf.Success, lrm.StatusDone)
		sdWant(t, sd, "pl-stays", ocf.Monitor, ocf.Success, lrm.StatusDone)
		sdWant(t, sd, "pl-stays", ocf.Stop, ocf.Success, lrm.StatusDone)
	})

	t.Run("NotInstalled", func(t *testing.T) {
		for _, a := range []string{ocf.Monitor, ocf.Start, ocf.ValidateAll} {
			if r := sdWant(t, sd, "pl-missing", a, ocf.ErrInstalled, lrm.StatusNotInstalled); !strings.Contains(r.Reason, "pl-missing.service") {
				t.Errorf("%s reason %q", a, r.Reason)
			}
		}
		sdWant(t, sd, "pl-missing", ocf.Stop, ocf.Success, lrm.StatusDone)
		if _, err := os.Stat(sd.DropInPath("pl-missing.service")); !os.IsNotExist(err) {
			t.Errorf("drop-in written for a missing unit: %v", err)
		}
		inst.WriteUnit("pl-broken.service", "[Service]\nType=simple\n") // no ExecStart
		if r := sdWant(t, sd, "pl-broken", ocf.Start, ocf.ErrInstalled, lrm.StatusNotInstalled); !strings.Contains(r.Reason, "could not be loaded") {
			t.Errorf("reason %q", r.Reason)
		}
		sdWant(t, sd, "pl-broken", ocf.Stop, ocf.Success, lrm.StatusDone)
		inst.Mask("pl-masked.service")
		sdWant(t, sd, "pl-masked", ocf.Monitor, ocf.NotRunning, lrm.StatusDone)
		if r := sdWant(t, sd, "pl-masked", ocf.Start, ocf.ErrInstalled, lrm.StatusNotInstalled); !strings.Contains(r.Reason, "masked") {
			t.Errorf("reason %q", r.Reason)
		}
		sdWant(t, sd, "pl-masked", ocf.ValidateAll, ocf.ErrInstalled, lrm.StatusNotInstalled)
		sdWant(t, sd, "pl-masked", ocf.Stop, ocf.Success, lrm.StatusDone)
	})

	t.Run("StartTimeout", func(t *testing.T) {
		inst.WriteUnit("pl-slow.service", "[Service]\nExecStartPre=/bin/sleep 30\nExecStart=/bin/sleep 1000\n")
		begin := time.Now()
		r := sdRun(t, sd, "pl-slow", ocf.Start, time.Second)
		took := time.Since(begin)
		if r.RC != ocf.ErrGeneric || r.Status != lrm.StatusTimeout || !strings.Contains(r.Reason, "pl-slow.service") {
			t.Fatalf("start past its timeout = %+v", r)
		}
		if took > 10*time.Second {
			t.Errorf("a start with a 1 s timeout returned after %v", took)
		}
		// A monitor meanwhile waits for the unit to settle, up to its own
		// deadline.
		if r := sdRun(t, sd, "pl-slow", ocf.Monitor, 500*time.Millisecond); r.Status != lrm.StatusTimeout || !strings.Contains(r.Reason, "activating") {
			t.Errorf("monitor of an activating unit = %+v", r)
		}
		// Cancelled rather than timed out.
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(200 * time.Millisecond); cancel() }()
		if r := sd.Run(ctx, sdReq("pl-slow", ocf.Monitor)); r.Status != lrm.StatusCancelled {
			t.Errorf("cancelled monitor = %+v", r)
		}
		// The recovery stop replaces the start job.
		sdWant(t, sd, "pl-slow", ocf.Stop, ocf.Success, lrm.StatusDone)
		sdWant(t, sd, "pl-slow", ocf.Monitor, ocf.NotRunning, lrm.StatusDone)
	})

	// Concurrent starts and stops share daemon-reloads; each must still
	// see its own drop-in in force.
	t.Run("Concurrent", func(t *testing.T) {
		var units []string
		for i := range 6 {
			u := fmt.Sprintf("pl-par%d", i)
			units = append(units, u)
			inst.WriteUnit(u+".service", "[Service]\nExecStart=/bin/sleep 1000\nRestart=on-failure\n")
		}
		restart := func(u string) any {
			p, err := inst.Conn().GetServicePropertyContext(context.Background(), u+".service", "Restart")
			if err != nil {
				t.Fatal(err)
			}
			return p.Value.Value()
		}
		for _, action := range []string{ocf.Start, ocf.Stop} {
			before := strings.Count(logs.String(), `msg="systemd: daemon-reload"`)
			var wg sync.WaitGroup
			res := make([]lrm.Result, len(units))
			for i, u := range units {
				wg.Go(func() { res[i] = sdRun(t, sd, u, action, 30*time.Second) })
			}
			wg.Wait()
			t.Logf("%d concurrent %ss: %d daemon-reloads", len(units), action, strings.Count(logs.String(), `msg="systemd: daemon-reload"`)-before)
			for i, u := range units {
				if !res[i].OK() {
					t.Errorf("%s %s = %+v", action, u, res[i])
				}
				wantRestart := map[string]string{ocf.Start: "no", ocf.Stop: "on-failure"}[action]
				if got := restart(u); got != wantRestart {
					t.Errorf("after %s, %s has Restart=%v, want %s", action, u, got, wantRestart)
				}
			}
		}
	})

	t.Run("ActionTimes", func(t *testing.T) {
		if testing.Short() {
			t.Skip("measurement")
		}
		inst.WriteUnit("pl-time.service", "[Service]\nExecStart=/bin/sleep 1000\n")
		var start, stop, mon []time.Duration
		timed := func(into *[]time.Duration, action string, rc int) {
			begin := time.Now()
			sdWant(t, sd, "pl-time", action, rc, lrm.StatusDone)
			*into = append(*into, time.Since(begin))
		}
		var again, reload []time.Duration
		for range 20 {
			timed(&start, ocf.Start, ocf.Success)
			timed(&mon, ocf.Monitor, ocf.Success)
			timed(&again, ocf.Start, ocf.Success) // drop-in in place: no daemon-reload
			timed(&stop, ocf.Stop, ocf.Success)
			timed(&mon, ocf.Monitor, ocf.NotRunning)
			begin := time.Now()
			inst.Reload()
			reload = append(reload, time.Since(begin))
		}
		t.Logf("median over 20 through D-Bus: start %v, stop %v, monitor %v (over 40), start of a running unit %v, daemon-reload alone %v",
			sdMedian(start), sdMedian(stop), sdMedian(mon), sdMedian(again), sdMedian(reload))
	})

	// Last: it restarts the bus under the runner.
	t.Run("Reconnect", func(t *testing.T) {
		inst.WriteUnit("pl-re.service", "[Service]\nExecStart=/bin/sleep 1000\n")
		sdWant(t, sd, "pl-re", ocf.Start, ocf.Success, lrm.StatusDone)
		pids := inst.UnitPIDs("dbus.service")
		if len(pids) == 0 {
			t.Fatal("no dbus-daemon")
		}
		for _, pid := range pids {
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
		}
		// dbus.socket starts the bus again on the next connection; the
		// runner notices its connection dropped and dials anew.
		var last lrm.Result
		sdWaitFor(t, 30*time.Second, "a monitor over a new connection", func() bool {
			last = sdRun(t, sd, "pl-re", ocf.Monitor, 5*time.Second)
			return last.OK()
		})
		sdWant(t, sd, "pl-re", ocf.Stop, ocf.Success, lrm.StatusDone)
		if !strings.Contains(logs.String(), "reconnecting") {
			t.Errorf("no reconnection logged:\n%s", logs.String())
		}
	})
}

// sdLog collects the runner's log lines.
type sdLog struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *sdLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *sdLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func sdMedian(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func sdWaitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
