package lrm

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/paceline/paceline/agents/ocf"
)

// PacemakerTools are the names of Pacemaker's command-line tools that the
// paceline binary also answers to (cmd/paceline/crmshim.go): the agent
// links them into DATA-DIR/bin, which is first in OCF agents' PATH and
// their HA_SBIN_DIR.
var PacemakerTools = []string{"crm_attribute", "crm_master", "crm_node", "attrd_updater", "crm_mon", "cibadmin"}

// basePath is the PATH agents run with: they get no environment from the
// agent process but this and their OCF variables.
const basePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// OCF runs OCF agent executables found under Root/resource.d/PROVIDER/TYPE.
type OCF struct {
	Root string // OCF_ROOT; default ocf.DefaultRoot
	// Grace is how long an agent has between SIGTERM and SIGKILL at its
	// timeout; default 2 s.
	Grace time.Duration
	// Path, if set, is put before basePath in the agents' PATH (the
	// directory of the PacemakerTools links).
	Path string
	// Env is added to every agent's environment (HA_SBIN_DIR pointing at
	// the shims, PACELINE_SOCKET).
	Env []string
}

func (o *OCF) root() string { return cmp.Or(o.Root, ocf.DefaultRoot) }

// AgentPath is the executable of an OCF agent.
func (o *OCF) AgentPath(a Agent) string {
	return filepath.Join(o.root(), "resource.d", a.Provider, a.Type)
}

// Run runs one action; the context carries its timeout.
func (o *OCF) Run(ctx context.Context, req Request) Result {
	path := o.AgentPath(req.Agent)
	act := &ocf.Action{Name: req.Action, Instance: req.Rsc, Params: req.Params, Meta: req.Meta, Interval: req.Interval, Timeout: req.Timeout, CheckLevel: req.CheckLevel}
	env := append(ocf.Env(o.root(), req.Agent.Provider, req.Agent.Type, act), agentPath(o.Path), "LC_ALL=C", "HA_RSCTMP=/run/resource-agents")
	env = append(env, o.Env...)
	p := runProcess(ctx, path, []string{req.Action}, env, grace(o.Grace))
	return resultOf(p, func(code int) int { return code })
}

// LSB runs init scripts in Dir (default /etc/init.d). "monitor" runs
// "status", whose exit codes 1-3 mean stopped and 4 unknown, as the LSB
// says; other actions' codes 0-7 mean what the OCF's do.
type LSB struct {
	Dir   string
	Grace time.Duration
}

func (l *LSB) path(typ string) string { return filepath.Join(cmp.Or(l.Dir, "/etc/init.d"), typ) }

// Has reports whether an init script of that name exists.
func (l *LSB) Has(typ string) bool {
	fi, err := os.Stat(l.path(typ))
	return err == nil && fi.Mode().IsRegular()
}

// Run runs one action of an init script.
func (l *LSB) Run(ctx context.Context, req Request) Result {
	path := l.path(req.Agent.Type)
	switch req.Action {
	case ocf.MetaData:
		return lsbMetaData(path, req.Agent.Type)
	case ocf.Promote, ocf.Demote, ocf.Notify, ocf.ValidateAll:
		return Result{RC: ocf.ErrUnimplemented, Status: StatusDone, Reason: "lsb:" + req.Agent.Type + ": " + req.Action + " is not an LSB action"}
	}
	arg := req.Action
	if arg == ocf.Monitor {
		arg = "status"
	}
	if arg == ocf.Reload {
		arg = "force-reload"
	}
	env := []string{"PATH=" + basePath, "LC_ALL=C"}
	p := runProcess(ctx, path, []string{arg}, env, grace(l.Grace))
	return resultOf(p, func(code int) int {
		if arg != "status" {
			if code >= 0 && code <= 7 {
				return code
			}
			return ocf.ErrGeneric
		}
		switch code {
		case 0:
			return ocf.Success
		case 1, 2, 3:
			return ocf.NotRunning // dead with pid file, dead with lock, stopped
		}
		return ocf.ErrGeneric // 4: unknown, or beyond the LSB
	})
}

// lsbMetaData describes an init script from its LSB header.
func lsbMetaData(path, name string) Result {
	b, err := os.ReadFile(path)
	if err != nil {
		return Result{RC: ocf.ErrInstalled, Status: StatusNotInstalled, Reason: fmt.Sprintf("lsb:%s: %v", name, err)}
	}
	short, long := name, ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	inHeader := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "### BEGIN INIT INFO"):
			inHeader = true
		case strings.HasPrefix(line, "### END INIT INFO"):
			inHeader = false
		case inHeader && strings.HasPrefix(line, "# Short-Description:"):
			short = strings.TrimSpace(strings.TrimPrefix(line, "# Short-Description:"))
		case inHeader && strings.HasPrefix(line, "# Description:"):
			long = strings.TrimSpace(strings.TrimPrefix(line, "# Description:"))
		}
	}
	md := &ocf.ResourceAgent{
		Name: name, Version: "1.0",
		LongDesc: ocf.En(cmp.Or(long, short)), ShortDesc: ocf.En(short),
		Actions: []ocf.ActionDef{
			{Name: ocf.Start, Timeout: "15s"}, {Name: ocf.Stop, Timeout: "15s"},
			{Name: ocf.Monitor, Timeout: "15s", Interval: "15s"}, {Name: ocf.MetaData, Timeout: "5s"},
		},
	}
	out, err := md.XML()
	if err != nil {
		return Result{RC: ocf.ErrGeneric, Status: StatusError, Reason: err.Error()}
	}
	return Result{RC: ocf.Success, Status: StatusDone, Output: string(out)}
}

// resultOf turns a finished process into a Result, mapping its exit code.
func resultOf(p process, mapCode func(int) int) Result {
	r := Result{Status: p.status, Reason: p.reason, Output: p.output}
	switch p.status {
	case StatusDone:
		r.RC = mapCode(p.code)
		if r.RC != ocf.Success && r.RC != ocf.NotRunning && r.RC != ocf.RunningPromoted && r.Reason == "" {
			r.Reason = "exit code " + fmt.Sprint(p.code) + " (" + ocf.RCName(r.RC) + ")"
		}
	case StatusNotInstalled:
		r.RC = ocf.ErrInstalled
	default:
		r.RC = ocf.ErrGeneric
	}
	return r
}

func agentPath(extra string) string {
	if extra == "" {
		return "PATH=" + basePath
	}
	return "PATH=" + extra + ":" + basePath
}

func grace(d time.Duration) time.Duration {
	if d <= 0 {
		return 2 * time.Second
	}
	return d
}
