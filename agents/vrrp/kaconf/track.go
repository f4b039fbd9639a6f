package kaconf

import (
	"slices"
	"strings"
)

// This file reads the directives vrrp_instance and vrrp_sync_group share:
// track_script and track_interface (keepalived/vrrp/vrrp_track.c:
// alloc_track_script, alloc_track_if), whose lines are
// NAME [weight W [reverse]], and the notify scripts and smtp_alert.

// sharedTarget is where an instance or a sync group keeps what the shared
// directives read; the nodes are those of the entries, for later messages.
type sharedTarget struct {
	scripts        *[]TrackScript
	scriptNodes    *[]*Node
	interfaces     *[]TrackInterface
	interfaceNodes *[]*Node
	notify         *Notify
}

// shared reads n if it is a shared directive, and reports whether it was.
func (p *parser) shared(n *Node, sc string, t sharedTarget) bool {
	switch n.Keyword {
	case "track_script":
		p.trackScripts(n, sc, t)
	case "track_interface":
		p.trackInterfaces(n, sc, t)
	case "smtp_alert":
		if on, ok := p.flag(n, sc); ok && on {
			p.warnf(n, sc, "smtp_alert (email alerts) is not supported; ignored")
		}
	default:
		field, ok := notifyKeywords[n.Keyword]
		if !ok {
			return false
		}
		p.command(n, sc, field(t.notify))
	}
	return true
}

// trackLine is one line of a track block.
type trackLine struct {
	node     *Node
	weighted bool   // "weight W" given
	weight   int    // W
	reverse  string // the word after W ("" when none)
}

// trackLines reads the lines of a track_script or track_interface block:
// NAME [weight W [one of reverseWords]], each name once (have reports the
// names read before). keepalived still reads W = +/-254 and makes it
// +/-253.
func (p *parser) trackLines(n *Node, sc string, have func(string) bool, reverseWords ...string) []trackLine {
	if !p.block(n, sc, 0) {
		return nil
	}
	var out []trackLine
	seen := map[string]bool{}
	for _, e := range p.entries(n, sc) {
		what := n.Keyword + " " + e.Keyword
		if seen[e.Keyword] || have(e.Keyword) {
			p.warnf(e, sc, "%s given twice; the second is ignored, as keepalived does", what)
			continue
		}
		seen[e.Keyword] = true
		l := trackLine{node: e}
		if len(e.Args) == 0 {
			out = append(out, l)
			continue
		}
		if e.Args[0] != "weight" {
			p.errf(e, sc, "%s: unknown option %q (weight W [%s])", what, e.Args[0], strings.Join(reverseWords, "|"))
			continue
		}
		if len(e.Args) < 2 {
			p.errf(e, sc, "%s: weight without a value", what)
			continue
		}
		w, err := parseInt(e.Args[1], -254, 254)
		if err != nil {
			p.errf(e, sc, "%s: weight must be between -253 and 253: %v", what, err)
			continue
		}
		if w == 254 || w == -254 {
			p.warnf(e, sc, "%s: weight %d is set to %d, as keepalived does", what, w, w/254*253)
			w = w / 254 * 253
		}
		l.weighted, l.weight = true, w
		if len(e.Args) > 2 {
			l.reverse = e.Args[2]
			if !slices.Contains(reverseWords, l.reverse) {
				p.warnf(e, sc, "%s: unknown weight option %q ignored (%s)", what, l.reverse, strings.Join(reverseWords, " or "))
				l.reverse = ""
			}
		}
		if len(e.Args) > 3 {
			p.warnf(e, sc, "%s: extra words ignored: %s", what, strings.Join(e.Args[3:], " "))
		}
		out = append(out, l)
	}
	return out
}

// trackScripts reads a track_script block. A script must be defined above,
// as keepalived looks it up when it reads the line; an entry without a
// weight takes the script's.
func (p *parser) trackScripts(n *Node, sc string, t sharedTarget) {
	have := func(name string) bool {
		for _, ts := range *t.scripts {
			if ts.Name == name {
				return true
			}
		}
		return false
	}
	for _, l := range p.trackLines(n, sc, have, "reverse", "noreverse") {
		name := l.node.Keyword
		s := p.scripts[name]
		if s == nil {
			if pos, ok := p.allScripts[name]; ok {
				p.errf(l.node, sc, "track_script %s: vrrp_script %s is defined below, at %s, and keepalived ignores a script it has not read yet; move the vrrp_script block up", name, name, pos)
			} else {
				p.errf(l.node, sc, "track_script %s: there is no vrrp_script %s", name, name)
			}
			continue
		}
		ts := TrackScript{Name: name, Weight: s.Weight, Reverse: s.Reverse}
		if l.weighted {
			ts.Weight = l.weight
			if l.reverse != "" {
				ts.Reverse = l.reverse == "reverse"
			}
		}
		*t.scripts, *t.scriptNodes = append(*t.scripts, ts), append(*t.scriptNodes, l.node)
	}
}

// trackInterfaces reads a track_interface block.
func (p *parser) trackInterfaces(n *Node, sc string, t sharedTarget) {
	have := func(name string) bool {
		for _, ti := range *t.interfaces {
			if ti.Name == name {
				return true
			}
		}
		return false
	}
	for _, l := range p.trackLines(n, sc, have, "reverse") {
		name := l.node.Keyword
		if err := checkIfName(name); err != nil {
			p.errf(l.node, sc, "track_interface: %v", err)
			continue
		}
		ti := TrackInterface{Name: name, Weight: l.weight, Reverse: l.reverse == "reverse"}
		*t.interfaces, *t.interfaceNodes = append(*t.interfaces, ti), append(*t.interfaceNodes, l.node)
	}
}
