package fencing

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/paceline/paceline/proc"
)

// Builtins are the fence agents inside the binary.
func Builtins() map[string]Builtin {
	return map[string]Builtin{
		"fence_paceline_exec":  execAgent{},
		"fence_paceline_netns": netnsAgent{},
	}
}

// execAgent (fence_paceline_exec) runs a configured command as
// `COMMAND ACTION PORT`, with PACELINE_FENCE_ACTION, _TARGET and _PORT in
// its environment: exit 0 is success (for status: 0 on, 2 off); list
// prints one name per line. It is how a site wires its own fencing
// (a PDU's CLI, an ssh to a management board) without writing an agent.
type execAgent struct{}

func (execAgent) Metadata() string {
	return metadataXML("fence_paceline_exec", "Fence by running a configured command",
		`	<parameter name="command" required="1"><content type="string"/><shortdesc lang="en">Absolute path of the program, run as COMMAND ACTION PORT</shortdesc></parameter>
`)
}

func (execAgent) Run(ctx context.Context, req Request) Result {
	cmd := req.Params["command"]
	if cmd == "" || !filepath.IsAbs(cmd) {
		return Result{RC: 1, Reason: fmt.Sprintf("fence_paceline_exec: command=%q: want the absolute path of a program", cmd)}
	}
	if req.Action == Monitor {
		req.Action = Status // a device is healthy when its command answers
		if req.Target == "" {
			return Result{} // nothing to ask without a target: the path was checked
		}
	}
	port := req.Port
	if port == "" {
		port = req.Target
	}
	p := proc.Run(ctx, proc.Cmd{Path: cmd, Args: []string{req.Action, port}, Grace: time.Second,
		Env: []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", "PACELINE_FENCE_ACTION=" + req.Action, "PACELINE_FENCE_TARGET=" + req.Target, "PACELINE_FENCE_PORT=" + port}})
	r := Result{RC: p.Code, Output: p.Output}
	if p.Status != proc.Done {
		r.Reason = p.Reason
		if r.RC == 0 {
			r.RC = 1
		}
	}
	return r
}

// netnsAgent (fence_paceline_netns) is the test device of the end-to-end
// harness: a "power switch" for nodes that are network namespaces on one
// bridge. Off takes the node's port on the bridge down (to the cluster and
// its clients the node is gone, as if its power were cut) and, when
// node_netns maps the node to its namespace, SIGKILLs every process in
// that namespace (by PID: those whose /proc/PID/ns/net is the
// namespace's), so a hung node cannot come back and act; on brings the
// port up; status says which. Parameter switch_ns names the bridge's
// namespace; pcmk_host_map maps nodes to ports.
type netnsAgent struct{}

func (netnsAgent) Metadata() string {
	return metadataXML("fence_paceline_netns", "Test device: cut a network-namespace node's port on its bridge",
		`	<parameter name="switch_ns" required="1"><content type="string"/><shortdesc lang="en">Network namespace that holds the bridge</shortdesc></parameter>
	<parameter name="node_netns" required="0"><content type="string"/><shortdesc lang="en">node:namespace pairs: off also kills every process of the node's namespace</shortdesc></parameter>
`)
}

func (netnsAgent) Run(ctx context.Context, req Request) Result {
	ns := req.Params["switch_ns"]
	if ns == "" || strings.ContainsAny(ns, "/ ") {
		return Result{RC: 1, Reason: fmt.Sprintf("fence_paceline_netns: switch_ns=%q: want a network namespace name", ns)}
	}
	h, err := netns.GetFromName(ns)
	if err != nil {
		return Result{RC: 1, Reason: fmt.Sprintf("fence_paceline_netns: namespace %s: %v", ns, err)}
	}
	defer h.Close()
	nl, err := netlink.NewHandleAt(h, unix.NETLINK_ROUTE)
	if err != nil {
		return Result{RC: 1, Reason: fmt.Sprintf("fence_paceline_netns: netlink in %s: %v", ns, err)}
	}
	defer nl.Close()
	switch req.Action {
	case Monitor:
		return Result{}
	case List:
		links, err := nl.LinkList()
		if err != nil {
			return Result{RC: 1, Reason: err.Error()}
		}
		var b strings.Builder
		for _, l := range links {
			if l.Type() == "veth" {
				b.WriteString(l.Attrs().Name + "\n")
			}
		}
		return Result{Output: b.String()}
	}
	link, err := nl.LinkByName(req.Port)
	if err != nil {
		return Result{RC: 1, Reason: fmt.Sprintf("fence_paceline_netns: port %s in %s: %v", req.Port, ns, err)}
	}
	switch req.Action {
	case Off, Reboot:
		// Reboot: the node is cut off and stays so — a namespace cannot
		// reboot; the harness decides when it comes back (action on).
		if err = nl.LinkSetDown(link); err == nil {
			err = killNetns(req.Params["node_netns"], req.Target)
		}
	case On:
		err = nl.LinkSetUp(link)
	case Status:
		if link.Attrs().Flags&unix.IFF_UP != 0 {
			return Result{RC: StatusOn, Output: "Status: ON\n"}
		}
		return Result{RC: StatusOff, Output: "Status: OFF\n"}
	default:
		return Result{RC: 1, Reason: fmt.Sprintf("fence_paceline_netns: action %s is not supported", req.Action)}
	}
	if err != nil {
		return Result{RC: 1, Reason: fmt.Sprintf("fence_paceline_netns: %s %s: %v", req.Action, req.Port, err)}
	}
	return Result{}
}

// metadataXML is a fence agent's meta-data in fence-agents' format.
func metadataXML(name, short, params string) string {
	return fmt.Sprintf(`<?xml version="1.0" ?>
<resource-agent name="%s" shortdesc="%s">
<longdesc>%s</longdesc>
<parameters>
	<parameter name="action" required="0"><content type="string" default="reboot"/><shortdesc lang="en">Fencing action</shortdesc></parameter>
	<parameter name="port" required="0"><content type="string"/><shortdesc lang="en">The target's name on the device</shortdesc></parameter>
%s</parameters>
<actions>
	<action name="on"/>
	<action name="off"/>
	<action name="reboot"/>
	<action name="status"/>
	<action name="list"/>
	<action name="monitor"/>
	<action name="metadata"/>
</actions>
</resource-agent>
`, name, short, short, params)
}

// killNetns SIGKILLs every process whose network namespace is target's
// in the node_netns map ("n1:ns1;n2:ns2"); no entry, nothing to do.
func killNetns(nodeNetns, target string) error {
	var ns string
	for _, pair := range splitList(nodeNetns) {
		if n, name, ok := strings.Cut(pair, ":"); ok && n == target {
			ns = name
		}
	}
	if ns == "" {
		return nil
	}
	if strings.ContainsAny(ns, "/") {
		return fmt.Errorf("node_netns: %q is not a namespace name", ns)
	}
	var want unix.Stat_t
	if err := unix.Stat(filepath.Join("/run/netns", ns), &want); err != nil {
		return fmt.Errorf("namespace %s: %w", ns, err)
	}
	self := os.Getpid()
	for range 3 { // processes forked meanwhile are caught by the next pass
		pids, err := filepath.Glob("/proc/[0-9]*/ns/net")
		if err != nil {
			return err
		}
		found := 0
		for _, p := range pids {
			var st unix.Stat_t
			if unix.Stat(p, &st) != nil || st.Ino != want.Ino || st.Dev != want.Dev {
				continue
			}
			pid, err := strconv.Atoi(strings.Split(p, "/")[2])
			if err != nil || pid == self {
				continue
			}
			found++
			_ = unix.Kill(pid, unix.SIGKILL)
		}
		if found == 0 {
			break
		}
	}
	return nil
}
