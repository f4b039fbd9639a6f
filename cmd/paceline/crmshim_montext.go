package main

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/cib"
)

// monText is crm_mon -1's text; inactive (-r) lists stopped resources too.
func monText(v *monView, inactive bool, now time.Time, loc *time.Location) string {
	var b strings.Builder
	item := func(depth int, format string, args ...any) {
		b.WriteString(strings.Repeat("  ", depth) + "* " + fmt.Sprintf(format, args...) + "\n")
	}
	b.WriteString("Cluster Summary:\n")
	item(1, "Stack: %s", v.stack)
	if v.dc != "" {
		q := "with"
		if !v.quorate {
			q = "WITHOUT"
		}
		item(1, "Current DC: %s (version %s) - partition %s quorum", v.dc, v.dcVersion, q)
	} else {
		item(1, "Current DC: NONE")
	}
	item(1, "Last updated: %s", ctime(now.In(loc)))
	if change := v.written; change != "" {
		if v.user != "" {
			change += " by " + v.user
		}
		if v.via != "" {
			change += " via " + v.via
		}
		if v.origin != "" {
			change += " on " + v.origin
		}
		item(1, "Last change:  %s", change)
	}
	item(1, "%d nodes configured", len(v.nodes))
	configured, disabled := v.instanceCounts()
	if disabled > 0 {
		item(1, "%d resource instances configured (%d DISABLED)", configured, disabled)
	} else {
		item(1, "%d resource instances configured", configured)
	}
	if isTrue(v.prop("maintenance-mode")) {
		b.WriteString("\n              *** Resource management is DISABLED ***\n")
		b.WriteString("  The cluster will not attempt to start, stop or recover services\n")
	}

	b.WriteString("\nNode List:\n")
	var online, offline []string
	for _, n := range v.nodes {
		switch {
		case n.unclean:
			item(1, "Node %s: UNCLEAN (offline)", n.name)
		case n.online && n.standby:
			item(1, "Node %s: standby", n.name)
		case n.online && n.maint:
			item(1, "Node %s: maintenance", n.name)
		case n.online:
			online = append(online, n.name)
		default:
			offline = append(offline, n.name)
		}
	}
	if len(online) > 0 {
		item(1, "Online: [ %s ]", strings.Join(online, " "))
	}
	if len(offline) > 0 {
		item(1, "OFFLINE: [ %s ]", strings.Join(offline, " "))
	}

	if inactive {
		b.WriteString("\nFull List of Resources:\n")
	} else {
		b.WriteString("\nActive Resources:\n")
	}
	var lines []string
	for _, r := range v.rscs {
		lines = append(lines, v.rscText(r, inactive)...)
	}
	switch {
	case len(lines) > 0:
		for _, l := range lines {
			b.WriteString("  " + l + "\n")
		}
	case inactive:
		item(1, "No resources")
	default:
		item(1, "No active resources")
	}

	if len(v.failures) > 0 {
		b.WriteString("\nFailed Resource Actions:\n")
		for _, f := range v.failures {
			item(1, "%s", failureText(f, loc))
		}
	}
	return b.String()
}

// rscText is a resource's lines ("* ..." with nesting), none when it is
// inactive and inactive resources are not asked for.
func (v *monView) rscText(r *monRsc, inactive bool) []string {
	active := false
	r.walk(func(x *monRsc) { active = active || len(x.on) > 0 })
	if !active && !inactive {
		return nil
	}
	flags := func(r *monRsc, extra ...string) string {
		if !v.managed(r) {
			extra = append(extra, "unmanaged")
		}
		if v.disabled(r) {
			extra = append(extra, "disabled")
		}
		if len(extra) == 0 {
			return ""
		}
		return " (" + strings.Join(extra, ", ") + ")"
	}
	switch r.kind {
	case "group":
		out := []string{"* Resource Group: " + r.id + flags(r) + ":"}
		for _, m := range r.kids {
			out = append(out, "  "+v.primitiveText(m, m.on))
		}
		return out
	case "clone":
		var attrs []string
		if r.promotable() {
			attrs = append(attrs, "promotable")
		}
		if r.unique() {
			attrs = append(attrs, "unique")
		}
		child := r.kids[0]
		out := []string{"* Clone Set: " + r.id + " [" + child.id + "]" + flags(r, attrs...) + ":"}
		var promoted, started, running []string
		for _, in := range v.instances(r) {
			if in.node == "" {
				continue
			}
			running = append(running, in.node)
			failed, top := false, cib.RoleStopped
			for _, x := range in.on {
				failed = failed || x.failed
				if roleRank(x.role) > roleRank(top) {
					top = x.role
				}
			}
			switch {
			case failed || child.kind == "group" || !v.managed(child):
				for p, x := range sortedInstances(in.on) {
					out = append(out, "  "+v.primitiveText(p, []monInst{x}))
				}
			case top == cib.RolePromoted:
				promoted = append(promoted, in.node)
			default:
				started = append(started, in.node)
			}
		}
		if len(promoted) > 0 {
			out = append(out, "  * Promoted: [ "+strings.Join(promoted, " ")+" ]")
		}
		if len(started) > 0 {
			word := "Started"
			if r.promotable() {
				word = "Unpromoted"
			}
			out = append(out, "  * "+word+": [ "+strings.Join(started, " ")+" ]")
		}
		if inactive {
			var stopped []string
			for _, n := range v.nodes {
				if !slices.Contains(running, n.name) {
					stopped = append(stopped, n.name)
				}
			}
			slices.Sort(stopped)
			state := "Stopped"
			if v.disabled(r) {
				state = "Stopped (disabled)"
			}
			if len(stopped) > 0 && len(running) < v.cloneMax(r) {
				out = append(out, "  * "+state+": [ "+strings.Join(stopped, " ")+" ]")
			}
		}
		return out
	}
	return []string{v.primitiveText(r, r.on)}
}

// sortedInstances yields a clone instance's primitives in configured
// order.
func sortedInstances(on map[*monRsc]monInst) func(func(*monRsc, monInst) bool) {
	return func(yield func(*monRsc, monInst) bool) {
		ps := slices.Collect(maps.Keys(on))
		slices.SortFunc(ps, func(a, b *monRsc) int { return strings.Compare(a.id, b.id) })
		for _, p := range ps {
			if !yield(p, on[p]) {
				return
			}
		}
	}
}

// primitiveText is "* ID\t(AGENT):\t STATE", as Pacemaker writes a
// primitive.
func (v *monView) primitiveText(p *monRsc, on []monInst) string {
	var states []string
	for _, in := range on {
		role := shownRole(p, in.role)
		switch {
		case in.failed && role == cib.RolePromoted:
			states = append(states, "FAILED Promoted "+in.node)
		case in.failed:
			states = append(states, "FAILED "+in.node)
		default:
			states = append(states, role+" "+in.node)
		}
		if n := v.node(in.node); n != nil && n.unclean {
			states[len(states)-1] += " (UNCLEAN)"
		}
	}
	state := strings.Join(states, ", ")
	if len(on) == 0 {
		state = "Stopped"
		if v.disabled(p) {
			state += " (disabled)"
		}
	}
	if !v.managed(p) {
		state += " (unmanaged)"
	}
	if p.orphan {
		state += " (ORPHANED)"
	}
	return "* " + p.id + "\t(" + p.agent + "):\t " + state
}

// failureText is a failed action as Pacemaker 2.1.5 writes it for people:
// "RSC 10s-interval monitor on NODE returned 'not running' at TIME after 12ms".
func failureText(f *xel, loc *time.Location) string {
	key := f.attr("operation_key")
	op, ms := f.attr("operation"), atoi(f.attr("interval"))
	rsc := strings.TrimSuffix(key, "_"+op+"_"+f.attr("interval"))
	s := rsc + " "
	if ms > 0 {
		s += readableMS(ms) + "-interval "
	}
	if op == ocf.Monitor && ms <= 0 {
		op = "probe"
	}
	s += op + " on " + f.attr("on_node")
	status := atoi(f.attr("op-status"))
	if status == 0 {
		s += " returned '" + ocf.RCName(atoi(f.attr("rc-code"))) + "'"
		if r := f.attr("exit-reason"); r != "" {
			s += " (" + r + ")"
		}
	} else {
		s += " could not be executed (" + execStatusName(status)
		if r := f.attr("exit-reason"); r != "" {
			s += ": " + r
		}
		s += ")"
	}
	if t := atoi(f.attr("last-rc-change")); t > 0 {
		s += " at " + ctime(time.Unix(int64(t), 0).In(loc))
	}
	if e := atoi(f.attr("exec-time")); e > 0 {
		s += " after " + readableMS(e)
	}
	return s
}

// readableMS writes milliseconds as pcmk__readable_interval does:
// "1m30s", "1.5s", "500ms".
func readableMS(ms int) string {
	if ms < 1000 {
		return strconv.Itoa(ms) + "ms"
	}
	var s string
	for _, u := range []struct {
		ms   int
		unit string
	}{{86400000, "d"}, {3600000, "h"}, {60000, "m"}} {
		if ms >= u.ms {
			s += strconv.Itoa(ms/u.ms) + u.unit
			ms %= u.ms
		}
	}
	switch {
	case ms == 0:
	case ms%1000 == 0:
		s += strconv.Itoa(ms/1000) + "s"
	default:
		s += strings.TrimRight(strings.TrimRight(fmt.Sprintf("%d.%03d", ms/1000, ms%1000), "0"), ".") + "s"
	}
	return s
}
