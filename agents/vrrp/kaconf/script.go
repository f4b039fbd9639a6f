package kaconf

import (
	"math"
	"strings"
	"time"
)

// This file reads vrrp_script blocks (keepalived/vrrp/vrrp_parser.c:
// vrrp_vscript_*_handler; defaults from vrrp_data.c: alloc_vrrp_script).

// scriptKeywords are the vrrp_script directives.
var scriptKeywords = map[string]func(*parser, scriptBuild, *Node){
	"script": func(p *parser, s scriptBuild, n *Node) {
		sc := s.sc
		if n.HasBlock {
			p.errf(n, sc, "script takes no { } block")
			return
		}
		cmd, rest, err := parseCommand(n, false)
		if err != nil {
			p.errf(n, sc, "script: %v", err)
			return
		}
		if len(rest) > 0 {
			p.warnf(n, sc, "script: words after the command are ignored, as keepalived does: %s; quote the command to give it arguments: script %q",
				strings.Join(rest, " "), strings.Join(append(cmd.Args, rest...), " "))
		}
		s.Command.Args = cmd.Args
	},
	"interval": func(p *parser, s scriptBuild, n *Node) {
		p.scriptSeconds(n, s.sc, &s.Interval)
	},
	"timeout": func(p *parser, s scriptBuild, n *Node) {
		p.scriptSeconds(n, s.sc, &s.Timeout)
	},
	"weight": func(p *parser, s scriptBuild, n *Node) {
		sc := s.sc
		if !p.args(n, sc, 1, 2) {
			return
		}
		w, err := parseInt(n.Args[0], -253, 253)
		if err != nil {
			p.errf(n, sc, "weight must be between -253 and 253: %v", err)
			return
		}
		s.Weight = w
		if len(n.Args) > 1 {
			if n.Args[1] == "reverse" {
				s.Reverse = true
			} else {
				p.warnf(n, sc, "weight: unknown option %q ignored (reverse)", n.Args[1])
			}
		}
	},
	"rise": func(p *parser, s scriptBuild, n *Node) {
		p.scriptCount(n, s.sc, &s.Rise)
	},
	"fall": func(p *parser, s scriptBuild, n *Node) {
		p.scriptCount(n, s.sc, &s.Fall)
	},
	"user": func(p *parser, s scriptBuild, n *Node) {
		if user, group, ok := p.userGroup(n, s.sc); ok {
			s.Command.User, s.Command.Group = user, group
		}
	},
	"init_fail": func(p *parser, s scriptBuild, n *Node) {
		if p.args(n, s.sc, 0, 0) {
			s.InitFail = true
		}
	},
}

// scriptBuild is a script being read, with its name for messages.
type scriptBuild struct {
	*Script
	sc string
}

func (p *parser) vrrpScript(n *Node) {
	name, sc, ok := p.named(n, func(name string) (Pos, bool) {
		s, ok := p.scripts[name]
		if !ok {
			return Pos{}, false
		}
		return s.Pos, true
	})
	if !ok {
		return
	}
	s := &Script{Name: name, Pos: n.Pos(), Interval: time.Second, Rise: 1, Fall: 1}
	p.scripts[name] = s
	readBlock(p, n, sc, scriptKeywords, scriptBuild{s, sc}, nil, nil)
	if len(s.Command.Args) == 0 {
		p.errf(n, "", "%s: no script given", sc)
		return
	}
	if s.Timeout == 0 {
		// keepalived waits one interval for a script without a timeout
		// (vrrp_scheduler.c).
		s.Timeout = s.Interval
	}
	p.cfg.Scripts = append(p.cfg.Scripts, s)
}

// scriptSeconds reads interval or timeout: whole seconds; keepalived turns
// 0 into 1.
func (p *parser) scriptSeconds(n *Node, sc string, dst *time.Duration) {
	if !p.args(n, sc, 1, 1) {
		return
	}
	d, err := parseWholeSeconds(n.Args[0], 0, math.MaxUint32/1000000)
	if err != nil {
		p.errf(n, sc, "%s must be whole seconds: %v", n.Keyword, err)
		return
	}
	if d == 0 {
		p.warnf(n, sc, "%s must be greater than 0; set to 1, as keepalived does", n.Keyword)
		d = time.Second
	}
	*dst = d
}

// scriptCount reads rise or fall: at least 1.
func (p *parser) scriptCount(n *Node, sc string, dst *int) {
	if !p.args(n, sc, 1, 1) {
		return
	}
	v, err := parseUint(n.Args[0], 1, math.MaxInt32)
	if err != nil {
		p.errf(n, sc, "%s must be at least 1: %v", n.Keyword, err)
		return
	}
	*dst = v
}
