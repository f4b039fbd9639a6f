// Package dummy is ocf:paceline:dummy, the agent tests use: it "runs"
// when its state file exists (holding "started" or "promoted"), so a test
// can kill the resource by removing the file. Delays and failures can be
// injected through parameters:
//
//	state=/path/file        the state file (default: under /run/resource-agents)
//	start_delay=2s          also stop_delay, monitor_delay, promote_delay, demote_delay
//	fail_start=1            return this code from start instead (also fail_stop, ...)
//
// It is promotable: promote and demote switch the file between the two
// roles, and monitor answers 8 when promoted.
package dummy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/paceline/paceline/agents/ocf"
)

// Agent is ocf:paceline:dummy.
type Agent struct{}

// New returns the agent.
func New() *Agent { return &Agent{} }

// Name is "dummy".
func (*Agent) Name() string { return "dummy" }

// MetaData describes the agent.
func (*Agent) MetaData() *ocf.ResourceAgent {
	md := &ocf.ResourceAgent{
		Name: "dummy", Version: "1.0",
		LongDesc:  ocf.En("A resource that does nothing but keep a state file, for tests: it runs while the file exists. Delays and failures of each action can be injected through parameters. Promotable."),
		ShortDesc: ocf.En("Test resource with a state file"),
		Parameters: []ocf.Parameter{{
			Name: "state", Unique: 1,
			LongDesc:  ocf.En("The state file; it exists while the resource runs and holds its role."),
			ShortDesc: ocf.En("State file"),
			Content:   ocf.Content{Type: "string", Default: "STATE_DIR/paceline-dummy-NODE-INSTANCE.state"},
		}, {
			Name:      "state_dir",
			LongDesc:  ocf.En("Where the default state file goes: one file per node and instance."),
			ShortDesc: ocf.En("State directory"),
			Content:   ocf.Content{Type: "string", Default: "/run/resource-agents"},
		}},
		Actions: []ocf.ActionDef{
			{Name: ocf.Start, Timeout: "20s"}, {Name: ocf.Stop, Timeout: "20s"},
			{Name: ocf.Monitor, Timeout: "20s", Interval: "10s", Depth: "0"},
			{Name: ocf.Monitor, Timeout: "20s", Interval: "11s", Depth: "0", Role: "Promoted"},
			{Name: ocf.Promote, Timeout: "20s"}, {Name: ocf.Demote, Timeout: "20s"},
			{Name: ocf.Notify, Timeout: "20s"}, {Name: ocf.Reload, Timeout: "20s"},
			{Name: ocf.MetaData, Timeout: "5s"}, {Name: ocf.ValidateAll, Timeout: "20s"},
		},
	}
	for _, a := range []string{ocf.Start, ocf.Stop, ocf.Monitor, ocf.Promote, ocf.Demote} {
		md.Parameters = append(md.Parameters,
			ocf.Parameter{Name: a + "_delay", LongDesc: ocf.En("Sleep this long (e.g. 2s, 500ms) at the start of each " + a + "."), ShortDesc: ocf.En("Delay of " + a), Content: ocf.Content{Type: "string", Default: "0"}},
			ocf.Parameter{Name: "fail_" + a, LongDesc: ocf.En("Return this OCF code from " + a + " instead of doing it."), ShortDesc: ocf.En("Injected result of " + a), Content: ocf.Content{Type: "integer"}})
	}
	return md
}

const (
	roleStarted  = "started"
	rolePromoted = "promoted"
)

// Run performs one action.
func (d *Agent) Run(ctx context.Context, a *ocf.Action) int {
	if err := d.validate(a); err != nil {
		a.Printf("%v", err)
		return ocf.ErrConfigured
	}
	if a.Name == ocf.ValidateAll {
		return ocf.Success
	}
	delay, _ := ocf.ParseDuration(a.Param(a.Name+"_delay", "0"))
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			a.Printf("%s: interrupted during its %v delay", a.Name, delay)
			return ocf.ErrGeneric
		case <-t.C:
		}
	}
	if v := a.Param("fail_"+a.Name, ""); v != "" {
		rc, _ := ocf.ParseInt(v)
		a.Printf("%s: injected result %d (fail_%s)", a.Name, rc, a.Name)
		return rc
	}
	path := statePath(a)
	role, err := readRole(path)
	if err != nil {
		a.Printf("%v", err)
		return ocf.ErrGeneric
	}
	switch a.Name {
	case ocf.Start:
		if role != "" {
			return ocf.Success
		}
		return write(a, path, roleStarted)
	case ocf.Stop:
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			a.Printf("stop: %v", err)
			return ocf.ErrGeneric
		}
		return ocf.Success
	case ocf.Monitor:
		switch role {
		case "":
			return ocf.NotRunning
		case rolePromoted:
			return ocf.RunningPromoted
		}
		return ocf.Success
	case ocf.Promote:
		if role == "" {
			a.Printf("promote: not running")
			return ocf.NotRunning
		}
		return write(a, path, rolePromoted)
	case ocf.Demote:
		if role == "" {
			a.Printf("demote: not running")
			return ocf.NotRunning
		}
		return write(a, path, roleStarted)
	case ocf.Notify:
		// Kept for tests: one line per notification, next to the state
		// file (PATH.notify): "TYPE-OPERATION start=... stop=... ...".
		line := fmt.Sprintf("%s-%s start=%s stop=%s promote=%s demote=%s active=%s\n", a.Meta["notify_type"], a.Meta["notify_operation"],
			a.Meta["notify_start_uname"], a.Meta["notify_stop_uname"], a.Meta["notify_promote_uname"], a.Meta["notify_demote_uname"], a.Meta["notify_active_uname"])
		f, err := os.OpenFile(path+".notify", os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			a.Printf("notify: %v", err)
			return ocf.ErrGeneric
		}
		_, err = f.WriteString(line)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			a.Printf("notify: %v", err)
			return ocf.ErrGeneric
		}
		return ocf.Success
	case ocf.Reload:
		return ocf.Success
	}
	return ocf.ErrUnimplemented
}

func (d *Agent) validate(a *ocf.Action) error {
	var errs []string
	for k, v := range a.Params {
		switch {
		case k == "state" || k == "state_dir":
			if !filepath.IsAbs(v) {
				errs = append(errs, fmt.Sprintf("state=%q: want an absolute path", v))
			}
		case strings.HasSuffix(k, "_delay"):
			if _, err := ocf.ParseDuration(v); err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", k, err))
			}
		case strings.HasPrefix(k, "fail_"):
			if rc, err := ocf.ParseInt(v); err != nil || rc < 0 || rc > 255 {
				errs = append(errs, fmt.Sprintf("%s=%q: want an exit code 0-255", k, v))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("dummy %s: %s", a.Instance, strings.Join(errs, "; "))
	}
	return nil
}

// statePath is the state file: the parameter, or one per node and
// instance in state_dir (so that several nodes on one machine, as in
// tests, each have their own).
func statePath(a *ocf.Action) string {
	if p := a.Param("state", ""); p != "" {
		return p
	}
	clean := strings.NewReplacer("/", "_", ":", "_")
	name := clean.Replace(a.Instance)
	if node := a.Meta["on_node"]; node != "" {
		name = clean.Replace(node) + "-" + name
	}
	return filepath.Join(a.Param("state_dir", "/run/resource-agents"), "paceline-dummy-"+name+".state")
}

func readRole(path string) (string, error) {
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("state file: %w", err)
	}
	if strings.TrimSpace(string(b)) == rolePromoted {
		return rolePromoted, nil
	}
	return roleStarted, nil
}

func write(a *ocf.Action, path, role string) int {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		a.Printf("%s: %v", a.Name, err)
		return ocf.ErrGeneric
	}
	if err := os.WriteFile(path, []byte(role+"\n"), 0o644); err != nil {
		a.Printf("%s: %v", a.Name, err)
		return ocf.ErrGeneric
	}
	return ocf.Success
}
