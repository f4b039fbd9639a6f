package vrrp

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paceline/paceline/agents/vrrp/fsm"
	"github.com/paceline/paceline/agents/vrrp/kaconf"
)

// notifyLog is a script that appends its tag and its arguments, each in
// brackets, to a log file: "tag [a] [b]".
func notifyLog(t *testing.T, dir, name, logFile string) string {
	t.Helper()
	return writeScript(t, dir, name, `tag=$1; shift; { printf '%s' "$tag"; for a in "$@"; do printf ' [%s]' "$a"; done; echo; } >> `+logFile)
}

// wantLines checks the lines of a file.
func wantLines(t *testing.T, path string, want ...string) {
	t.Helper()
	if got := readLines(t, path); !slices.Equal(got, want) {
		t.Errorf("%s\n got %q\nwant %q", filepath.Base(path), got, want)
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// The scripts of each transition, in order: the state's own script, then
// the generic notify with its arguments and keepalived's four (INSTANCE
// or GROUP, the name, the state, the priority; 0 for a group); STOP when
// the router shuts down (a transition to INIT).
func TestNotifierArgs(t *testing.T) {
	dir := t.TempDir()
	instLog, groupLog := filepath.Join(dir, "instance"), filepath.Join(dir, "group")
	logInst, logGroup := notifyLog(t, dir, "log.sh", instLog), notifyLog(t, dir, "glog.sh", groupLog)
	cmd := func(script string, args ...string) *kaconf.Command {
		return &kaconf.Command{Args: append([]string{script}, args...)}
	}
	cfg := &kaconf.Config{
		Instances: []*kaconf.Instance{{Name: "VI_1", SyncGroup: "G", Notify: kaconf.Notify{
			Master: cmd(logInst, "master"), Backup: cmd(logInst, "backup"), Fault: cmd(logInst, "fault"),
			Stop: cmd(logInst, "stop"), Any: cmd(logInst, "notify", "my arg"),
		}}, {Name: "VI_2", SyncGroup: "G"}},
		SyncGroups: []*kaconf.SyncGroup{{Name: "G", Instances: []string{"VI_1", "VI_2"}, Notify: kaconf.Notify{
			Master: cmd(logGroup, "group-master"), Any: cmd(logGroup, "group-notify"),
		}}},
	}
	n, err := NewNotifier(cfg, testLog(t), NotifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range []Transition{
		{Instance: "VI_1", From: fsm.Init, To: fsm.Backup, Priority: 100},
		{Group: "G", From: fsm.Init, To: fsm.Backup},
		{Instance: "VI_2", From: fsm.Init, To: fsm.Backup, Priority: 100}, // no scripts
		{Instance: "VI_1", From: fsm.Backup, To: fsm.Master, Priority: 110},
		{Group: "G", From: fsm.Backup, To: fsm.Master},
		{Instance: "VI_1", From: fsm.Master, To: fsm.Fault, Priority: 110},
		{Instance: "VI_1", From: fsm.Fault, To: fsm.Init, Priority: 100},
		{Group: "G", From: fsm.Master, To: fsm.Init},
	} {
		n.Notify(tn)
	}
	n.Close()
	n.Notify(Transition{Instance: "VI_1", From: fsm.Init, To: fsm.Backup}) // after Close: dropped

	wantLines(t, instLog,
		"backup",
		"notify [my arg] [INSTANCE] [VI_1] [BACKUP] [100]",
		"master",
		"notify [my arg] [INSTANCE] [VI_1] [MASTER] [110]",
		"fault",
		"notify [my arg] [INSTANCE] [VI_1] [FAULT] [110]",
		"stop",
		"notify [my arg] [INSTANCE] [VI_1] [STOP] [100]",
	)
	wantLines(t, groupLog,
		"group-notify [GROUP] [G] [BACKUP] [0]",
		"group-master",
		"group-notify [GROUP] [G] [MASTER] [0]",
		"group-notify [GROUP] [G] [STOP] [0]",
	)
}

// Notify never waits for a script: transitions queue while one runs, and
// run in order once it is done.
func TestNotifierQueues(t *testing.T) {
	dir := t.TempDir()
	logFile, gate := filepath.Join(dir, "log"), filepath.Join(dir, "gate")
	slow := writeScript(t, dir, "slow.sh", `while [ ! -e `+gate+` ]; do sleep 0.02; done; echo "$3 $4" >> `+logFile)
	cfg := &kaconf.Config{Instances: []*kaconf.Instance{{Name: "VI_1", Notify: kaconf.Notify{Any: &kaconf.Command{Args: []string{slow}}}}}}
	n, err := NewNotifier(cfg, testLog(t), NotifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	states := []fsm.State{fsm.Backup, fsm.Master, fsm.Backup, fsm.Fault, fsm.Backup, fsm.Master}
	for i, s := range states {
		n.Notify(Transition{Instance: "VI_1", To: s, Priority: 100 + i}) // would hang here if it waited
	}
	if lines := readLines(t, logFile); len(lines) != 1 || lines[0] != "" {
		t.Errorf("scripts ran before the gate opened: %q", lines)
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	n.Close()
	wantLines(t, logFile, "BACKUP 100", "MASTER 101", "BACKUP 102", "FAULT 103", "BACKUP 104", "MASTER 105")
}

// A notify script past its timeout is killed with its process group, and
// the next one runs; notify_stop has its own, short, timeout.
func TestNotifierTimeout(t *testing.T) {
	dir := t.TempDir()
	pidFile, logFile := filepath.Join(dir, "pid"), filepath.Join(dir, "log")
	hang := writeScript(t, dir, "hang.sh", `echo $$ > `+pidFile+`; exec sleep 30`)
	after := writeScript(t, dir, "after.sh", `echo "$1" >> `+logFile)
	cfg := &kaconf.Config{Instances: []*kaconf.Instance{{Name: "VI_1", Notify: kaconf.Notify{
		Master: &kaconf.Command{Args: []string{hang}},
		Stop:   &kaconf.Command{Args: []string{hang}},
		Any:    &kaconf.Command{Args: []string{after}},
	}}}}
	n, err := NewNotifier(cfg, testLog(t), NotifyOptions{Timeout: 200 * time.Millisecond, StopTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	n.Notify(Transition{Instance: "VI_1", To: fsm.Master})
	waitFor(t, 10*time.Second, "the generic notify after the hung notify_master", func() bool {
		return slices.Equal(readLines(t, logFile), []string{"INSTANCE"})
	})
	if pid := readPID(t, pidFile); !gone(pid) {
		t.Errorf("notify_master %d still runs past its timeout", pid)
	}
	n.Notify(Transition{Instance: "VI_1", To: fsm.Init})
	n.Close()
	wantLines(t, logFile, "INSTANCE", "INSTANCE") // the generic notify after each
	if pid := readPID(t, pidFile); !gone(pid) {
		t.Errorf("notify_stop %d still runs past its timeout", pid)
	}
}

// With a Router: its transitions reach the notifier, and stopping it
// notifies STOP with the instance's priority.
func TestNotifierRouter(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "log")
	logScript := notifyLog(t, dir, "log.sh", logFile)
	cfg := &kaconf.Config{Instances: []*kaconf.Instance{{Name: "web", Notify: kaconf.Notify{
		Master: &kaconf.Command{Args: []string{logScript, "to-master"}},
		Any:    &kaconf.Command{Args: []string{logScript, "notify"}},
	}}}}
	n, err := NewNotifier(cfg, testLog(t), NotifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h := &holders{held: map[string]map[string]bool{}}
	r := startRouter(t, &bus{}, h, "r1", netip.MustParseAddr("192.0.2.11"), inst("web", 51, 150, "192.0.2.50/32"))
	wantHolders(t, h, "192.0.2.50/32", "r1")
	r.stop()
	for len(r.trans) > 0 {
		n.Notify(<-r.trans)
	}
	n.Close()
	wantLines(t, logFile,
		"notify [INSTANCE] [web] [BACKUP] [150]",
		"to-master",
		"notify [INSTANCE] [web] [MASTER] [150]",
		"notify [INSTANCE] [web] [STOP] [150]",
	)
}

// A configuration whose notify script cannot run is refused, naming it.
func TestNotifierRefuses(t *testing.T) {
	cfg := &kaconf.Config{
		Instances: []*kaconf.Instance{{Name: "VI_1", Pos: kaconf.Pos{File: "k.conf", Line: 7},
			Notify: kaconf.Notify{Master: &kaconf.Command{Args: []string{"/nonexistent/to-master.sh"}}}}},
		SyncGroups: []*kaconf.SyncGroup{{Name: "G", Pos: kaconf.Pos{File: "k.conf", Line: 20},
			Notify: kaconf.Notify{Any: &kaconf.Command{Args: []string{"/bin/true"}, User: "nosuch"}}}},
	}
	_, err := NewNotifier(cfg, testLog(t), NotifyOptions{})
	for _, want := range []string{
		"k.conf:7: vrrp_instance VI_1 notify_master: /nonexistent/to-master.sh does not exist",
		"k.conf:20: vrrp_sync_group G notify: user nosuch",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\nwant one with %q", err, want)
		}
	}
}
