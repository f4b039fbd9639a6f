package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/lrm"
)

// Pacemaker's command-line tools as far as Debian's resource-agents
// scripts use them, backed by Paceline: the paceline binary answers to the
// names in lrm.PacemakerTools (crm_attribute, crm_master, crm_node,
// attrd_updater, crm_mon, cibadmin; the LRM puts links by those names
// first in OCF agents' PATH and HA_SBIN_DIR). Transient attributes
// (lifetime reboot) are the gossiped ones of the local agent; permanent
// node attributes (lifetime forever) are node attributes in the
// configuration. crm_mon and cibadmin (crmshim_mon.go, crmshim_cib.go)
// show the cluster's state as the local agent gathers it now.

// shimNames are the tool names the binary answers to.
var shimNames = lrm.PacemakerTools

// isShim reports whether the binary was called as one of the tools.
func isShim(argv0 string) bool { return slices.Contains(shimNames, filepath.Base(argv0)) }

// runShim runs a tool; it returns the exit code.
func runShim(ctx context.Context, argv []string, env func(string) string, stdout, stderr io.Writer) int {
	name := filepath.Base(argv[0])
	sock := env("PACELINE_SOCKET")
	if sock == "" {
		sock = "/run/paceline/paceline.sock"
	}
	s := &shim{name: name, c: api.NewClient(sock), env: env, out: stdout}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var err error
	switch name {
	case "crm_node":
		err = s.node(ctx, argv[1:])
	case "attrd_updater":
		err = s.attrd(ctx, argv[1:])
	case "crm_mon":
		err = s.crmMon(ctx, argv[1:], strings.Join(append([]string{name}, argv[1:]...), " "))
	case "cibadmin":
		err = s.cibadmin(ctx, argv[1:])
	default:
		err = s.attribute(ctx, argv[1:], name == "crm_master")
	}
	var ec exitCode
	var te toolError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ec):
		return int(ec)
	case errors.As(err, &te):
		fmt.Fprintf(stderr, "%s: %v\n", name, te.err)
		return te.code
	default:
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
}

type shim struct {
	name string
	c    *api.Client
	env  func(string) string
	out  io.Writer
}

// shimArgs splits Pacemaker-style options: -x VALUE, --long VALUE,
// --long=VALUE and flags (those in flags take no value).
func shimArgs(args []string, flags []string) (map[string]string, error) {
	out := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return nil, fmt.Errorf("unexpected argument %q", a)
		}
		k, v, hasV := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if slices.Contains(flags, k) {
			out[k] = "1"
			continue
		}
		if !hasV {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("option %s needs a value", a)
			}
			i++
			v = args[i]
		}
		out[k] = v
	}
	return out, nil
}

// toolError is a failure with the exit code Pacemaker's tool gives for
// it (64 for a usage error, CRM_EX_USAGE).
type toolError struct {
	code int
	err  error
}

func (e toolError) Error() string { return e.err.Error() }
func (e toolError) Unwrap() error { return e.err }

// toolOpt is one option of a tool: its short letter (0 if none), long
// name, and whether it takes a value.
type toolOpt struct {
	short byte
	long  string
	value bool
}

// parseToolArgs reads options as GLib and getopt do: -x, clustered flags
// (-1X), -x VALUE or -xVALUE, --long, --long=VALUE or --long VALUE. The
// result maps long names to values ("" for flags). An option not in opts
// or an argument that is not an option is a usage error naming it.
func parseToolArgs(args []string, opts []toolOpt) (map[string]string, error) {
	out := map[string]string{}
	usage := func(format string, a ...any) error { return toolError{64, fmt.Errorf(format, a...)} }
	for i := 0; i < len(args); i++ {
		a := args[i]
		value := func(name string) (string, error) {
			if i+1 >= len(args) {
				return "", usage("option %s needs a value", name)
			}
			i++
			return args[i], nil
		}
		switch {
		case strings.HasPrefix(a, "--") && len(a) > 2:
			name, v, hasV := strings.Cut(a[2:], "=")
			j := slices.IndexFunc(opts, func(o toolOpt) bool { return o.long == name })
			if j < 0 {
				return nil, usage("option --%s is not supported", name)
			}
			switch {
			case !opts[j].value && hasV:
				return nil, usage("option --%s takes no value", name)
			case opts[j].value && !hasV:
				var err error
				if v, err = value(a); err != nil {
					return nil, err
				}
			}
			out[name] = v
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for k := 1; k < len(a); k++ {
				j := slices.IndexFunc(opts, func(o toolOpt) bool { return o.short != 0 && o.short == a[k] })
				if j < 0 {
					return nil, usage("option -%c is not supported", a[k])
				}
				o := opts[j]
				if !o.value {
					out[o.long] = ""
					continue
				}
				v := a[k+1:]
				if v == "" {
					var err error
					if v, err = value("-" + string(a[k])); err != nil {
						return nil, err
					}
				}
				out[o.long] = v
				break
			}
		default:
			return nil, usage("unexpected argument %q", a)
		}
	}
	return out, nil
}

func first(m map[string]string, keys ...string) (string, bool) {
	for _, k := range keys {
		if v, ok := m[k]; ok {
			return v, true
		}
	}
	return "", false
}

// localNode is this node's name, as the agent knows it.
func (s *shim) localNode(ctx context.Context) (string, error) {
	if n := s.env("OCF_RESKEY_CRM_meta_on_node"); n != "" {
		return n, nil
	}
	ci, err := s.c.Cluster(ctx)
	if err != nil {
		return "", fmt.Errorf("no local Paceline agent: %w", err)
	}
	return ci.Node, nil
}

// crm_node: -n (this node's name), -l (nodes: "id name state"), -p
// (members of this partition), -q (1 when quorate).
func (s *shim) node(ctx context.Context, args []string) error {
	opts, err := shimArgs(args, []string{"n", "name", "l", "list", "p", "partition", "q", "quorum", "i", "cluster-id"})
	if err != nil {
		return err
	}
	switch {
	case opts["n"] != "" || opts["name"] != "" || len(opts) == 0:
		n, err := s.localNode(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(s.out, n)
		return nil
	case opts["i"] != "" || opts["cluster-id"] != "":
		n, err := s.localNode(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(s.out, n) // node ids are names in Paceline
		return nil
	}
	m, err := s.c.Members(ctx)
	if err != nil {
		return fmt.Errorf("no local Paceline agent: %w", err)
	}
	switch {
	case opts["l"] != "" || opts["list"] != "":
		for _, mb := range m.Members {
			state := "lost"
			if mb.State == "alive" || mb.State == "suspect" {
				state = "member"
			}
			fmt.Fprintf(s.out, "%s %s %s\n", mb.Name, mb.Name, state)
		}
	case opts["p"] != "" || opts["partition"] != "":
		var names []string
		for _, mb := range m.Members {
			if mb.State == "alive" || mb.State == "suspect" {
				names = append(names, mb.Name)
			}
		}
		fmt.Fprintln(s.out, strings.Join(names, " "))
	case opts["q"] != "" || opts["quorum"] != "":
		if m.Quorum != nil && m.Quorum.Quorate {
			fmt.Fprintln(s.out, "1")
		} else {
			fmt.Fprintln(s.out, "0")
			return exitCode(1)
		}
	}
	return nil
}

// crm_attribute / crm_master: -N node, -n name, -v value, -D, -G/--query,
// -q, -l/--lifetime reboot|forever (-t status means reboot, nodes
// forever), -d default. crm_master (or crm_attribute -p) works on
// master-RESOURCE, the resource being OCF_RESOURCE_INSTANCE without its
// clone suffix, with lifetime reboot unless told otherwise.
func (s *shim) attribute(ctx context.Context, args []string, master bool) error {
	opts, err := shimArgs(args, []string{"D", "delete", "G", "query", "q", "quiet", "p", "promotion", "Q"})
	if err != nil {
		return err
	}
	master = master || opts["p"] != "" || opts["promotion"] != ""
	name, _ := first(opts, "n", "name", "attr-name")
	lifetime, _ := first(opts, "l", "lifetime")
	if t, ok := first(opts, "t", "type"); ok {
		switch t {
		case "status":
			lifetime = "reboot"
		case "nodes":
			lifetime = "forever"
		case "crm_config":
			lifetime = "cluster"
		default:
			return fmt.Errorf("--type %q: want status, nodes or crm_config", t)
		}
	}
	if master {
		rsc := s.env("OCF_RESOURCE_INSTANCE")
		if r, ok := first(opts, "r", "resource"); ok {
			rsc = r
		}
		rsc, _, _ = strings.Cut(rsc, ":")
		if rsc == "" {
			return errors.New("no resource: run from an agent (OCF_RESOURCE_INSTANCE) or give -r RESOURCE")
		}
		name = "master-" + rsc
		if lifetime == "" {
			lifetime = "reboot"
		}
	}
	if name == "" {
		return errors.New("no attribute name (-n NAME)")
	}
	if lifetime == "" {
		lifetime = "forever" // crm_attribute's default for node attributes
	}
	if lifetime != "reboot" && lifetime != "forever" && lifetime != "cluster" {
		return fmt.Errorf("--lifetime %q: want reboot or forever", lifetime)
	}
	node, ok := first(opts, "N", "node")
	local, err := s.localNode(ctx)
	if err != nil {
		return err
	}
	if !ok {
		node = local
	}
	quiet := opts["q"] != "" || opts["quiet"] != "" || opts["Q"] != ""
	value, set := first(opts, "v", "update", "value")
	switch {
	case set:
		return s.set(ctx, node, local, name, value, lifetime, false)
	case opts["D"] != "" || opts["delete"] != "":
		return s.set(ctx, node, local, name, "", lifetime, true)
	default: // -G, --query, or nothing: query
		v, found, err := s.get(ctx, node, name, lifetime)
		if err != nil {
			return err
		}
		if !found {
			if d, ok := first(opts, "d", "default"); ok {
				v, found = d, true
			}
		}
		if !found {
			if !quiet {
				fmt.Fprintf(s.out, "scope=%s  name=%s value=(null)\n", scope(lifetime), name)
			}
			return exitCode(6) // CRM_EX_NOSUCH, as crm_attribute
		}
		if quiet {
			fmt.Fprintln(s.out, v)
		} else {
			fmt.Fprintf(s.out, "scope=%s  name=%s value=%s\n", scope(lifetime), name, v)
		}
		return nil
	}
}

func scope(lifetime string) string {
	switch lifetime {
	case "reboot":
		return "status"
	case "cluster":
		return "crm_config"
	}
	return "nodes"
}

func (s *shim) set(ctx context.Context, node, local, name, value, lifetime string, del bool) error {
	if lifetime == "cluster" {
		// Cluster options are the operator's (`paceline property set`);
		// anything else is an agent's own cluster-wide attribute.
		if _, ok := cib.PropertyDefs[name]; ok {
			return fmt.Errorf("%s is a cluster property: set it with `paceline property set`", name)
		}
		p := cib.Patch{}
		if del {
			p.Unset = []string{name}
		} else {
			p.Set = map[string]string{name: value}
		}
		_, err := s.c.Apply(ctx, &cib.SetAgentAttributes{Patch: p}, false)
		return err
	}
	if lifetime == "reboot" {
		if node != local {
			return fmt.Errorf("transient attributes are set by the node they belong to: %s is not this node (%s)", node, local)
		}
		return s.c.SetTransientAttr(ctx, name, value, del)
	}
	p := cib.Patch{}
	if del {
		p.Unset = []string{name}
	} else {
		p.Set = map[string]string{name: value}
	}
	_, err := s.c.Apply(ctx, &cib.UpdateNode{Name: node, Attributes: p}, false)
	return err
}

func (s *shim) get(ctx context.Context, node, name, lifetime string) (string, bool, error) {
	if lifetime == "reboot" {
		m, err := s.c.Members(ctx)
		if err != nil {
			return "", false, fmt.Errorf("no local Paceline agent: %w", err)
		}
		v, ok := m.Attrs[node][name]
		return v, ok, nil
	}
	cfg, err := s.c.Config(ctx)
	if err != nil {
		return "", false, fmt.Errorf("no local Paceline agent: %w", err)
	}
	if lifetime == "cluster" {
		if v, ok := cfg.Properties[name]; ok {
			return v, true, nil
		}
		v, ok := cfg.AgentAttributes[name]
		return v, ok, nil
	}
	n := cfg.Node(node)
	if n == nil {
		return "", false, fmt.Errorf("unknown node %q", node)
	}
	v, ok := n.Attributes[name]
	return v, ok, nil
}

// attrd_updater: -n NAME, -U/--update VALUE, -D/--delete, -Q/--query,
// -N node (query), -d dampen (ignored: Paceline writes at once), -q.
func (s *shim) attrd(ctx context.Context, args []string) error {
	opts, err := shimArgs(args, []string{"D", "delete", "Q", "query", "q", "quiet", "A", "all", "R", "refresh"})
	if err != nil {
		return err
	}
	name, _ := first(opts, "n", "name")
	if name == "" {
		return errors.New("no attribute name (-n NAME)")
	}
	local, err := s.localNode(ctx)
	if err != nil {
		return err
	}
	if v, ok := first(opts, "U", "update", "v", "B", "update-both"); ok {
		return s.c.SetTransientAttr(ctx, name, v, false)
	}
	if opts["D"] != "" || opts["delete"] != "" {
		return s.c.SetTransientAttr(ctx, name, "", true)
	}
	node := local
	if n, ok := first(opts, "N", "node"); ok {
		node = n
	}
	v, ok, err := s.get(ctx, node, name, "reboot")
	if err != nil {
		return err
	}
	if !ok {
		return exitCode(6)
	}
	fmt.Fprintf(s.out, "name=\"%s\" host=\"%s\" value=\"%s\"\n", name, node, v)
	return nil
}

// shimMain is main for the tool names (called before cobra).
func shimMain() {
	os.Exit(runShim(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr))
}
