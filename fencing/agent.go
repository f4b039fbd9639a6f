// Package fencing is Paceline's fencer (Pacemaker's stonithd): it runs
// fence devices — Debian's fence-agents through their stdin API, and
// built-ins — along a node's topology of levels, with retries, timeouts
// and delays, and keeps a history of what it did. See README.md.
package fencing

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/paceline/paceline/proc"
)

// The actions of the fence-agents API.
const (
	Off      = "off"
	On       = "on"
	Reboot   = "reboot"
	Status   = "status"
	Monitor  = "monitor"
	List     = "list"
	Metadata = "metadata"
)

// Exit codes of the status action: 0 on, 2 off, anything else an error.
const (
	StatusOn  = 0
	StatusOff = 2
)

// Request is one action of one device.
type Request struct {
	Device string // the device's id (for logs)
	Agent  string // fence_ipmilan, or a built-in such as fence_paceline_exec
	Action string
	// Target is the node acted on ("" for list, monitor, metadata); Port
	// is its name on the device (pcmk_host_map), Target by default.
	Target, Port string
	// Params are the device's parameters, without the pcmk_* ones.
	Params map[string]string
	// HostArg is the parameter that carries Port (pcmk_host_argument,
	// default "port"; "none" passes none).
	HostArg string
}

// Result is what an agent answered.
type Result struct {
	RC     int    `json:"rc"`
	Output string `json:"output,omitempty"`
	// Reason says why it did not run or was killed ("" when it exited).
	Reason string        `json:"reason,omitempty"`
	Took   time.Duration `json:"took"`
}

// OK reports a successful run (for status: the target is on).
func (r Result) OK() bool { return r.Reason == "" && r.RC == 0 }

// Agent runs fence-agent actions.
type Agent interface {
	Run(ctx context.Context, req Request) Result
}

// Builtin is a fence agent inside the paceline binary.
type Builtin interface {
	Agent
	// Metadata is the agent's XML description.
	Metadata() string
}

// Runner runs built-ins in-process and every other agent as an
// executable found in Dirs, speaking the stdin API.
type Runner struct {
	// Dirs are searched for agents by name (default /usr/sbin, /sbin,
	// /usr/local/sbin).
	Dirs     []string
	Builtins map[string]Builtin
	// Grace after SIGTERM when an agent times out (default 2 s).
	Grace time.Duration
}

// Run runs one action, bounded by ctx.
func (r *Runner) Run(ctx context.Context, req Request) Result {
	start := time.Now()
	if b, ok := r.Builtins[req.Agent]; ok {
		if req.Action == Metadata {
			return Result{Output: b.Metadata(), Took: time.Since(start)}
		}
		res := b.Run(ctx, req)
		res.Took = time.Since(start)
		return res
	}
	path, err := r.find(req.Agent)
	if err != nil {
		return Result{RC: 1, Reason: err.Error(), Took: time.Since(start)}
	}
	grace := r.Grace
	if grace <= 0 {
		grace = 2 * time.Second
	}
	p := proc.Run(ctx, proc.Cmd{Path: path, Env: []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"},
		Stdin: strings.NewReader(StdinLines(req)), Grace: grace})
	res := Result{RC: p.Code, Output: p.Output, Took: time.Since(start)}
	if p.Status != proc.Done {
		res.Reason = p.Reason
		if res.RC == 0 {
			res.RC = 1
		}
	}
	return res
}

// find resolves an agent name to an executable; names are plain fence_*
// words, never paths.
func (r *Runner) find(agent string) (string, error) {
	if !ValidAgentName(agent) {
		return "", fmt.Errorf("fence agent %q: want a name such as fence_ipmilan", agent)
	}
	dirs := r.Dirs
	if len(dirs) == 0 {
		dirs = []string{"/usr/sbin", "/sbin", "/usr/local/sbin"}
	}
	for _, d := range dirs {
		p := filepath.Join(d, agent)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("fence agent %s is not installed (looked in %s; Debian's fence-agents package has most)", agent, strings.Join(dirs, ", "))
}

// ValidAgentName: fence_ followed by letters, digits, _ or -.
func ValidAgentName(s string) bool {
	if !strings.HasPrefix(s, "fence_") || len(s) == len("fence_") {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// StdinLines is what a fence agent reads on stdin: action=, the target
// (nodename= and the host argument, port= by default), then the device's
// parameters, one key=value per line, in a stable order. Values with a
// newline are refused by the configuration, never written here.
func StdinLines(req Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "action=%s\n", req.Action)
	if req.Target != "" {
		fmt.Fprintf(&b, "nodename=%s\n", req.Target)
		arg := req.HostArg
		if arg == "" {
			arg = "port"
		}
		if arg != "none" {
			fmt.Fprintf(&b, "%s=%s\n", arg, cmp.Or(req.Port, req.Target))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(req.Params)) {
		if k == "action" || k == "nodename" || strings.ContainsAny(req.Params[k], "\n\r") {
			continue
		}
		fmt.Fprintf(&b, "%s=%s\n", k, req.Params[k])
	}
	return b.String()
}

// ParseList reads a list action's output: one port per line, optionally
// "port,alias"; both names count.
func ParseList(out string) []string {
	var names []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, f := range strings.Split(line, ",") {
			if f = strings.TrimSpace(f); f != "" {
				names = append(names, f)
			}
		}
	}
	return names
}
