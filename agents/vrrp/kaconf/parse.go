package kaconf

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"
)

// Parse reads the keepalived configuration at path with the config ID
// keepalived uses by default: the host name up to its first dot. The
// warnings name every directive that was ignored and every value that was
// adjusted; the error joins every problem found, each an *Error with its
// file and line.
func Parse(path string) (*Config, []Warning, error) {
	host, _ := os.Hostname()
	id, _, _ := strings.Cut(host, ".")
	return ParseFile(path, Options{ConfigID: id})
}

// ParseFile is Parse with explicit options.
func ParseFile(path string, opt Options) (*Config, []Warning, error) {
	tree, warns, err := ReadTree(path, opt)
	if err != nil {
		return nil, warns, err
	}
	return fromTree(tree, warns)
}

// ParseReader is ParseFile for a configuration in r; name is shown in
// positions and relative includes are found from its directory.
func ParseReader(name string, r io.Reader, opt Options) (*Config, []Warning, error) {
	tree, warns, err := ReadTreeFrom(name, r, opt)
	if err != nil {
		return nil, warns, err
	}
	return fromTree(tree, warns)
}

// parser turns a tree into a Config. Like keepalived it reads the
// directives in order (a track_script names a vrrp_script defined above
// it; an instance takes the global gratuitous ARP settings defined above
// it), then completes each instance and checks the whole (complete.go).
type parser struct {
	cfg   *Config
	warns []Warning
	errs  []error

	scripts    map[string]*Script
	allScripts map[string]Pos // every vrrp_script of the file, to explain order errors
	builds     []*instBuild
	byName     map[string]*instBuild
	groups     map[string]*groupBuild
	groupList  []*groupBuild
}

func fromTree(tree []*Node, warns []Warning) (*Config, []Warning, error) {
	p := &parser{
		cfg: &Config{Globals: Globals{
			VRRPVersion: 2,
			McastGroup4: netip.MustParseAddr("224.0.0.18"),
			McastGroup6: netip.MustParseAddr("ff02::12"),
			GARP:        defaultGARP(),
		}},
		warns:      warns,
		scripts:    map[string]*Script{},
		allScripts: map[string]Pos{},
		byName:     map[string]*instBuild{},
		groups:     map[string]*groupBuild{},
	}
	for _, n := range tree {
		if n.Keyword == "vrrp_script" && len(n.Args) > 0 {
			if _, ok := p.allScripts[n.Args[0]]; !ok {
				p.allScripts[n.Args[0]] = n.Pos()
			}
		}
	}
	for _, n := range tree {
		p.top(n)
	}
	p.complete()
	if len(p.errs) > 0 {
		return nil, p.warns, errors.Join(p.errs...)
	}
	return p.cfg, p.warns, nil
}

// defaultGARP is keepalived's (vrrp.h): VRRP_GARP_DELAY 5s, VRRP_GARP_REP
// 5, VRRP_GARP_REFRESH 0, VRRP_GARP_REFRESH_REP 1.
func defaultGARP() GARP {
	return GARP{MasterDelay: 5 * time.Second, MasterRepeat: 5, MasterRefreshRepeat: 1}
}

// topKeywords are the top-level directives Paceline reads.
var topKeywords = map[string]func(*parser, *Node){
	"global_defs":     (*parser).globalDefs,
	"vrrp_script":     (*parser).vrrpScript,
	"vrrp_instance":   (*parser).vrrpInstance,
	"vrrp_sync_group": (*parser).vrrpSyncGroup,
}

// topUnsupported are the other top-level keywords of keepalived 2.2
// (install_keyword_root), with what they are about.
var topUnsupported = map[string]string{
	"virtual_server":           "virtual_server (LVS)",
	"virtual_server_group":     "virtual_server_group (LVS)",
	"SSL":                      "SSL (LVS checkers)",
	"bfd_instance":             "bfd_instance (BFD)",
	"static_ipaddress":         "static_ipaddress",
	"static_routes":            "static_routes",
	"static_rules":             "static_rules",
	"track_group":              "track_group",
	"garp_group":               "garp_group",
	"linkbeat_interfaces":      "linkbeat_interfaces",
	"interface_up_down_delays": "interface_up_down_delays",
	"track_file":               "track_file",
	"vrrp_track_file":          "vrrp_track_file",
	"vrrp_track_process":       "vrrp_track_process",
	"net_namespace":            "net_namespace",
	"net_namespace_ipvs":       "net_namespace_ipvs (LVS)",
	"namespace_with_ipsets":    "namespace_with_ipsets",
	"use_pid_dir":              "use_pid_dir",
	"instance":                 "instance",
	"child_wait_time":          "child_wait_time",
	"linkbeat_use_polling":     "linkbeat_use_polling",
}

func (p *parser) top(n *Node) {
	if h, ok := topKeywords[n.Keyword]; ok {
		h(p, n)
		return
	}
	p.other(n, "", topUnsupported)
}

// other reports a directive Paceline does not read: one keepalived knows
// (its label is in unsupported) or an unknown one. Its block goes with it.
func (p *parser) other(n *Node, sc string, unsupported map[string]string) {
	what := "ignored"
	if n.HasBlock {
		what = "block skipped"
	}
	if label, ok := unsupported[n.Keyword]; ok {
		if label == "" {
			label = n.Keyword
		}
		p.warnf(n, sc, "%s is not supported; %s", label, what)
		return
	}
	p.warnf(n, sc, "unknown keyword %q; %s", n.Keyword, what)
}

// named checks a block with a name (vrrp_instance NAME { ... }) whose name
// must not be defined before; defined returns where it was. sc names the
// block in messages: "vrrp_instance NAME".
func (p *parser) named(n *Node, defined func(name string) (Pos, bool)) (name, sc string, ok bool) {
	if !p.block(n, "", 1) {
		return "", "", false
	}
	name = n.Args[0]
	sc = n.Keyword + " " + name
	if pos, dup := defined(name); dup {
		p.errf(n, "", "%s is already defined at %s", sc, pos)
		return "", "", false
	}
	return name, sc, true
}

// readBlock hands each directive of a block to its handler in keywords,
// else to the directives instances and sync groups share (unless shared is
// nil), else reports it as unsupported or unknown.
func readBlock[T any](p *parser, n *Node, sc string, keywords map[string]func(*parser, T, *Node), target T, shared *sharedTarget, unsupported map[string]string) {
	for _, c := range n.Block {
		if h, ok := keywords[c.Keyword]; ok {
			h(p, target, c)
			continue
		}
		if shared != nil && p.shared(c, sc, *shared) {
			continue
		}
		p.other(c, sc, unsupported)
	}
}

func message(sc, format string, args ...any) string {
	m := fmt.Sprintf(format, args...)
	if sc != "" {
		m = sc + ": " + m
	}
	return m
}

// errf records an error at a directive; sc names the block it is in
// ("vrrp_instance VI_1"), or is "".
func (p *parser) errf(n *Node, sc, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: n.File, Line: n.Line, Msg: message(sc, format, args...)})
}

// warnf records a warning at a directive.
func (p *parser) warnf(n *Node, sc, format string, args ...any) {
	p.warns = append(p.warns, Warning{File: n.File, Line: n.Line, Msg: message(sc, format, args...)})
}

// args checks a directive without a block: at least min arguments (else an
// error) and at most max (more are ignored, with a warning; max < 0: any
// number). It reports whether the directive can be read.
func (p *parser) args(n *Node, sc string, min, max int) bool {
	if n.HasBlock {
		p.errf(n, sc, "%s takes no { } block", n.Keyword)
		return false
	}
	if len(n.Args) < min {
		p.errf(n, sc, "%s needs %d argument(s)", n.Keyword, min)
		return false
	}
	if max >= 0 && len(n.Args) > max {
		p.warnf(n, sc, "%s: extra words ignored: %s", n.Keyword, strings.Join(n.Args[max:], " "))
	}
	return true
}

// block checks a directive that needs a { } block and takes nargs
// arguments.
func (p *parser) block(n *Node, sc string, nargs int) bool {
	if !n.HasBlock {
		p.errf(n, sc, "%s needs a { } block", describe(n))
		return false
	}
	if len(n.Args) < nargs {
		p.errf(n, sc, "%s needs %d argument(s)", n.Keyword, nargs)
		return false
	}
	if len(n.Args) > nargs {
		p.errf(n, sc, "%s: unexpected words before its block: %s", n.Keyword, strings.Join(n.Args[nargs:], " "))
		return false
	}
	return true
}

// entries checks the lines of a value block (virtual_ipaddress, track_script,
// ...): each is one entry and has no block of its own.
func (p *parser) entries(n *Node, sc string) []*Node {
	var out []*Node
	for _, e := range n.Block {
		if e.HasBlock {
			p.errf(e, sc, "%s: unexpected { } block in entry %s", n.Keyword, e.Keyword)
			continue
		}
		out = append(out, e)
	}
	return out
}

// flag reads an optional <BOOL> argument that defaults to true.
func (p *parser) flag(n *Node, sc string) (bool, bool) {
	if !p.args(n, sc, 0, 1) {
		return false, false
	}
	if len(n.Args) == 0 {
		return true, true
	}
	v, err := parseBool(n.Args[0])
	if err != nil {
		p.errf(n, sc, "%s: %v", n.Keyword, err)
		return false, false
	}
	return v, true
}

// command reads a notify directive into *dst, keeping the first one as
// keepalived does.
func (p *parser) command(n *Node, sc string, dst **Command) {
	if n.HasBlock {
		p.errf(n, sc, "%s takes no { } block", n.Keyword)
		return
	}
	if *dst != nil {
		p.warnf(n, sc, "%s given again; the first one is kept, as keepalived does", n.Keyword)
		return
	}
	cmd, _, err := parseCommand(n, true)
	if err != nil {
		p.errf(n, sc, "%s: %v", n.Keyword, err)
		return
	}
	*dst = cmd
}

// notifyKeywords are the notify directives of instances and sync groups.
var notifyKeywords = map[string]func(*Notify) **Command{
	"notify_master": func(nt *Notify) **Command { return &nt.Master },
	"notify_backup": func(nt *Notify) **Command { return &nt.Backup },
	"notify_fault":  func(nt *Notify) **Command { return &nt.Fault },
	"notify_stop":   func(nt *Notify) **Command { return &nt.Stop },
	"notify":        func(nt *Notify) **Command { return &nt.Any },
}
