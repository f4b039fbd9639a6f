package main

// Pure, pcs-style argument parsing: each function turns the positional words
// of one command into the cib command (or value) it means, or an error that
// names the bad word. Nothing here talks to the agent; ids that must be
// unique are checked against a taken function the caller builds from the
// current configuration.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/paceline/paceline/cib"
)

// builtinAgents are the types Paceline ships as ocf:paceline:TYPE.
var builtinAgents = []string{"dummy", "nginx", "ping", "redis", "vip", "vrrp"}

// opNames are the operations a resource may configure (as cib's validator
// knows them); checking them here names a misplaced word early.
var opNames = []string{"start", "stop", "monitor", "promote", "demote", "notify", "reload", "reload-agent",
	"migrate_to", "migrate_from", "meta-data", "validate-all"}

// opOptions are the keys an op accepts after its name.
var opOptions = []string{"interval", "timeout", "on-fail", "role", "OCF_CHECK_LEVEL"}

// onFailValues are the values of an op's on-fail.
var onFailValues = []string{"ignore", "block", "stop", "restart", "standby", "fence", "demote"}

// orderActions are the actions an order constraint can name.
var orderActions = []string{"start", "stop", "promote", "demote"}

// orderKinds are the kinds of order constraint.
var orderKinds = []string{"mandatory", "optional", "serialize"}

// validID checks an id the way Pacemaker's XML ids are checked: a letter or
// '_' first, then letters, digits, '_', '-' or '.'.
func validID(what, id string) error {
	if id == "" {
		return fmt.Errorf("%s id is empty", what)
	}
	for i, r := range id {
		letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if letter || (i > 0 && (r == '-' || r == '.' || (r >= '0' && r <= '9'))) {
			continue
		}
		if i == 0 {
			return fmt.Errorf("bad %s id %q: it must start with a letter or '_'", what, id)
		}
		return fmt.Errorf("bad %s id %q: %q is not allowed (use letters, digits, '_', '-', '.')", what, id, r)
	}
	return nil
}

// sanitizeID turns a generated id into a valid one, as pcs does: characters
// that an id may not hold become '-', and a bad first character gets a '_'.
func sanitizeID(id string) string {
	b := []rune(id)
	for i, r := range b {
		ok := r == '_' || r == '-' || r == '.' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			b[i] = '-'
		}
	}
	s := string(b)
	if s == "" || validID("", s) != nil {
		s = "_" + s
	}
	return s
}

// uniqueID returns id, or id-1, id-2, ... the first one not taken.
func uniqueID(id string, taken func(string) bool) string {
	id = sanitizeID(id)
	if taken == nil || !taken(id) {
		return id
	}
	for n := 1; ; n++ {
		c := id + "-" + strconv.Itoa(n)
		if !taken(c) {
			return c
		}
	}
}

// parseAgent reads an agent reference. A bare type is refused with a hint,
// since a guessed class or provider would run the wrong program.
func parseAgent(s string) (string, error) {
	if !strings.Contains(s, ":") {
		if s == "" {
			return "", fmt.Errorf("agent is empty: give class:provider:type, e.g. ocf:heartbeat:IPaddr2")
		}
		if slices.Contains(builtinAgents, strings.ToLower(s)) {
			return "", fmt.Errorf("agent %q: give its class and provider, e.g. ocf:paceline:%s (built in) or ocf:heartbeat:%s", s, strings.ToLower(s), s)
		}
		return "", fmt.Errorf("agent %q: give its class and provider, e.g. ocf:heartbeat:%s or ocf:paceline:%s", s, s, s)
	}
	a, err := cib.ParseAgent(s)
	if err != nil {
		return "", err
	}
	return a.String(), nil
}

// pair is one key=value word.
type pair struct{ key, value string }

// parsePair splits a key=value word of a section ("meta", "op monitor", ...).
func parsePair(section, w string) (pair, error) {
	k, v, ok := strings.Cut(w, "=")
	if !ok {
		return pair{}, fmt.Errorf("%s: expected key=value, got %q", section, w)
	}
	if k == "" {
		return pair{}, fmt.Errorf("%s: %q has no name before '='", section, w)
	}
	return pair{k, v}, nil
}

// parsePairs reads key=value words, refusing a key given twice.
func parsePairs(section string, words []string) ([]pair, error) {
	var out []pair
	for _, w := range words {
		p, err := parsePair(section, w)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(out, func(o pair) bool { return o.key == p.key }) {
			return nil, fmt.Errorf("%s: %q is given twice", section, p.key)
		}
		out = append(out, p)
	}
	return out, nil
}

// parseSetMap reads key=value words that must all have a value (create).
func parseSetMap(section string, words []string) (map[string]string, error) {
	ps, err := parsePairs(section, words)
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	m := map[string]string{}
	for _, p := range ps {
		if p.value == "" {
			return nil, fmt.Errorf("%s: %q has an empty value (leave it out to keep the default)", section, p.key)
		}
		m[p.key] = p.value
	}
	return m, nil
}

// parsePatch reads key=value words where "key=" unsets key, as in pcs.
func parsePatch(section string, words []string) (cib.Patch, error) {
	ps, err := parsePairs(section, words)
	if err != nil {
		return cib.Patch{}, err
	}
	var p cib.Patch
	for _, kv := range ps {
		if kv.value == "" {
			p.Unset = append(p.Unset, kv.key)
			continue
		}
		if p.Set == nil {
			p.Set = map[string]string{}
		}
		p.Set[kv.key] = kv.value
	}
	return p, nil
}

// parseIntPatch is parsePatch for integer values (utilization).
func parseIntPatch(section string, words []string) (cib.Patch, error) {
	p, err := parsePatch(section, words)
	if err != nil {
		return p, err
	}
	for _, k := range sortedKeys(p.Set) {
		if _, err := strconv.ParseInt(p.Set[k], 10, 64); err != nil {
			return cib.Patch{}, fmt.Errorf("%s: %s=%s: want an integer", section, k, p.Set[k])
		}
	}
	return p, nil
}

// parseIntMap reads key=integer words (utilization of a new primitive).
func parseIntMap(section string, words []string) (map[string]int64, error) {
	m, err := parseSetMap(section, words)
	if err != nil || m == nil {
		return nil, err
	}
	out := make(map[string]int64, len(m))
	for _, k := range sortedKeys(m) {
		n, err := strconv.ParseInt(m[k], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %s=%s: want an integer", section, k, m[k])
		}
		out[k] = n
	}
	return out, nil
}

// parseKeys reads bare names (property unset): no '=' allowed.
func parseKeys(section string, words []string) ([]string, error) {
	if len(words) == 0 {
		return nil, fmt.Errorf("%s: give at least one name", section)
	}
	var out []string
	for _, w := range words {
		if w == "" || strings.Contains(w, "=") {
			return nil, fmt.Errorf("%s: expected a name, got %q", section, w)
		}
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out, nil
}

// opWords is one "op NAME key=value ..." clause before it is parsed.
type opWords struct {
	name  string
	words []string
}

// sections are the parts of a resource create/update command line:
// instance attributes first, then "meta", "op" and "utilization" clauses.
type sections struct {
	params, meta, util []string
	ops                []opWords
}

// splitSections cuts words at the keywords meta, op and utilization. After
// "op", every word without '=' starts a new operation (pcs: "op monitor
// interval=10s start timeout=60s").
func splitSections(words []string) (sections, error) {
	var s sections
	cur := "params"
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch w {
		case "meta", "utilization":
			cur = w
			continue
		case "op":
			if i+1 >= len(words) || strings.Contains(words[i+1], "=") || isSectionWord(words[i+1]) {
				next := "nothing"
				if i+1 < len(words) {
					next = strconv.Quote(words[i+1])
				}
				return s, fmt.Errorf("op: expected an operation name (monitor, start, stop, ...), got %s", next)
			}
			cur = "op"
			s.ops = append(s.ops, opWords{name: words[i+1]})
			i++
			continue
		}
		switch cur {
		case "params":
			if !strings.Contains(w, "=") {
				return s, fmt.Errorf("expected key=value or one of meta, op, utilization, got %q%s", w, flagHint(w))
			}
			s.params = append(s.params, w)
		case "meta":
			s.meta = append(s.meta, w)
		case "utilization":
			s.util = append(s.util, w)
		case "op":
			if !strings.Contains(w, "=") {
				s.ops = append(s.ops, opWords{name: w})
				continue
			}
			last := &s.ops[len(s.ops)-1]
			last.words = append(last.words, w)
		}
	}
	return s, nil
}

// flagHint points pcs habits ("... clone", "... group G") to our flags.
func flagHint(w string) string {
	switch w {
	case "clone", "promotable", "group", "disabled":
		return fmt.Sprintf(" (use --%s)", w)
	}
	return ""
}

func isSectionWord(w string) bool { return w == "meta" || w == "op" || w == "utilization" }

// parseOp reads the options of one op clause.
func parseOp(o opWords) (cib.Op, error) {
	section := "op " + o.name
	if !slices.Contains(opNames, o.name) {
		return cib.Op{}, fmt.Errorf("op: unknown operation %q: want one of %s%s", o.name, strings.Join(opNames, ", "), flagHint(o.name))
	}
	ps, err := parsePairs(section, o.words)
	if err != nil {
		return cib.Op{}, err
	}
	op := cib.Op{Name: o.name}
	for _, p := range ps {
		if p.value == "" {
			return cib.Op{}, fmt.Errorf("%s: %q has an empty value", section, p.key)
		}
		switch p.key {
		case "interval", "timeout":
			d, err := cib.ParseDuration(p.value)
			if err != nil {
				return cib.Op{}, fmt.Errorf("%s: %s: %w", section, p.key, err)
			}
			if p.key == "interval" {
				op.Interval = d
			} else {
				op.Timeout = d
			}
		case "on-fail":
			if !slices.Contains(onFailValues, p.value) {
				return cib.Op{}, fmt.Errorf("%s: bad on-fail %q: want one of %s", section, p.value, strings.Join(onFailValues, ", "))
			}
			op.OnFail = p.value
		case "OCF_CHECK_LEVEL", "check-level":
			n, err := strconv.Atoi(p.value)
			if err != nil || n < 0 || n > 100 {
				return cib.Op{}, fmt.Errorf("%s: OCF_CHECK_LEVEL %q: want a depth from 0 to 100 (0, 10, 20, ...)", section, p.value)
			}
			op.CheckLevel = n
		case "role":
			r, err := parseRole(p.value, "Started", "Stopped", "Promoted", "Unpromoted")
			if err != nil {
				return cib.Op{}, fmt.Errorf("%s: %w", section, err)
			}
			op.Role = r
		default:
			return cib.Op{}, fmt.Errorf("%s: unknown option %q: want %s", section, p.key, strings.Join(opOptions, ", "))
		}
	}
	return op, nil
}

// parseRole canonicalizes a role name among the allowed ones; the old names
// Master and Slave mean Promoted and Unpromoted.
func parseRole(s string, allowed ...string) (string, error) {
	r := s
	switch strings.ToLower(s) {
	case "master":
		r = "Promoted"
	case "slave":
		r = "Unpromoted"
	}
	for _, a := range allowed {
		if strings.EqualFold(a, r) {
			return a, nil
		}
	}
	return "", fmt.Errorf("unknown role %q: want %s", s, strings.Join(allowed, ", "))
}

func isRole(s string) bool {
	_, err := parseRole(s, "Started", "Promoted", "Unpromoted")
	return err == nil
}

// createOpts are the flags of resource create.
type createOpts struct {
	Group, Before, After string
	Clone, Promotable    bool
	Disabled             bool
}

// parseCreate reads "ID AGENT [k=v ...] [meta ...] [op ...] [utilization
// ...]" with its flags. The second command is the clone to create after the
// primitive (nil unless --clone or --promotable).
func parseCreate(words []string, o createOpts) (*cib.CreatePrimitive, *cib.CreateClone, error) {
	if len(words) < 2 {
		return nil, nil, fmt.Errorf("resource create: want ID AGENT [key=value ...], got %d argument(s)", len(words))
	}
	id := words[0]
	if err := validID("resource", id); err != nil {
		return nil, nil, err
	}
	agent, err := parseAgent(words[1])
	if err != nil {
		return nil, nil, err
	}
	if o.Clone && o.Promotable {
		return nil, nil, fmt.Errorf("resource %q: give --clone or --promotable, not both", id)
	}
	if o.Group != "" && (o.Clone || o.Promotable) {
		return nil, nil, fmt.Errorf("resource %q: a resource in a group cannot be cloned; clone the group instead", id)
	}
	if o.Before != "" && o.After != "" {
		return nil, nil, fmt.Errorf("resource %q: give --before or --after, not both", id)
	}
	if (o.Before != "" || o.After != "") && o.Group == "" {
		return nil, nil, fmt.Errorf("resource %q: --before and --after need --group", id)
	}
	if o.Group != "" {
		if err := validID("group", o.Group); err != nil {
			return nil, nil, err
		}
		if o.Group == id {
			return nil, nil, fmt.Errorf("resource %q: the group must have another id", id)
		}
	}
	s, err := splitSections(words[2:])
	if err != nil {
		return nil, nil, fmt.Errorf("resource %q: %w", id, err)
	}
	p := cib.Primitive{ID: id, Agent: agent}
	if p.Params, err = parseSetMap("attributes", s.params); err != nil {
		return nil, nil, fmt.Errorf("resource %q: %w", id, err)
	}
	if p.Meta, err = parseSetMap("meta", s.meta); err != nil {
		return nil, nil, fmt.Errorf("resource %q: %w", id, err)
	}
	if p.Utilization, err = parseIntMap("utilization", s.util); err != nil {
		return nil, nil, fmt.Errorf("resource %q: %w", id, err)
	}
	for _, ow := range s.ops {
		op, err := parseOp(ow)
		if err != nil {
			return nil, nil, fmt.Errorf("resource %q: %w", id, err)
		}
		p.Ops = append(p.Ops, op)
	}
	if o.Disabled {
		if r, ok := p.Meta["target-role"]; ok && r != "Stopped" {
			return nil, nil, fmt.Errorf("resource %q: --disabled conflicts with meta target-role=%s", id, r)
		}
		if p.Meta == nil {
			p.Meta = map[string]string{}
		}
		p.Meta["target-role"] = "Stopped"
	}
	cp := &cib.CreatePrimitive{Primitive: p, Placement: cib.Placement{Group: o.Group, Before: o.Before, After: o.After}}
	var cc *cib.CreateClone
	if o.Clone || o.Promotable {
		cc = &cib.CreateClone{Rsc: id, Promotable: o.Promotable}
	}
	return cp, cc, nil
}

// parseUpdate reads "ID [k=v ...] [meta ...] [op NAME ...] [utilization
// ...]"; an empty value unsets the key, and each op clause replaces the ops
// of its name.
func parseUpdate(words []string) (*cib.UpdateResource, error) {
	if len(words) == 0 {
		return nil, fmt.Errorf("resource update: give the resource id")
	}
	id := words[0]
	if err := validID("resource", id); err != nil {
		return nil, err
	}
	s, err := splitSections(words[1:])
	if err != nil {
		return nil, fmt.Errorf("resource %q: %w", id, err)
	}
	u := &cib.UpdateResource{ID: id}
	if u.Params, err = parsePatch("attributes", s.params); err != nil {
		return nil, fmt.Errorf("resource %q: %w", id, err)
	}
	if u.Meta, err = parsePatch("meta", s.meta); err != nil {
		return nil, fmt.Errorf("resource %q: %w", id, err)
	}
	if u.Utilization, err = parseIntPatch("utilization", s.util); err != nil {
		return nil, fmt.Errorf("resource %q: %w", id, err)
	}
	for _, ow := range s.ops {
		op, err := parseOp(ow)
		if err != nil {
			return nil, fmt.Errorf("resource %q: %w", id, err)
		}
		u.SetOps = append(u.SetOps, op)
	}
	if u.Params.IsZero() && u.Meta.IsZero() && u.Utilization.IsZero() && len(u.SetOps) == 0 {
		return nil, fmt.Errorf("resource %q: nothing to update: give key=value, meta, op or utilization", id)
	}
	return u, nil
}

// parseMeta reads "ID k=v ..." (resource meta): meta attributes only.
func parseMeta(words []string) (*cib.UpdateResource, error) {
	if len(words) < 2 {
		return nil, fmt.Errorf("resource meta: want ID key=value ..., got %d argument(s)", len(words))
	}
	if err := validID("resource", words[0]); err != nil {
		return nil, err
	}
	p, err := parsePatch("meta", words[1:])
	if err != nil {
		return nil, fmt.Errorf("resource %q: %w", words[0], err)
	}
	return &cib.UpdateResource{ID: words[0], Meta: p}, nil
}

// parseOpAdd reads "ID NAME k=v ..." (resource op add): the op is added to
// existing ones of its name, which the caller passes in.
func parseOpAdd(words []string) (*cib.UpdateResource, error) {
	if len(words) < 2 {
		return nil, fmt.Errorf("resource op add: want ID NAME [key=value ...], got %d argument(s)", len(words))
	}
	id := words[0]
	if err := validID("resource", id); err != nil {
		return nil, err
	}
	op, err := parseOp(opWords{name: words[1], words: words[2:]})
	if err != nil {
		return nil, fmt.Errorf("resource %q: %w", id, err)
	}
	// The agent appends it to the resource's current ops in one change:
	// no read-modify-write here that a concurrent writer could undo.
	return &cib.UpdateResource{ID: id, AddOps: []cib.Op{op}}, nil
}

// parseOpRemove reads "ID NAME" (resource op remove).
func parseOpRemove(words []string) (*cib.UpdateResource, error) {
	if len(words) != 2 {
		return nil, fmt.Errorf("resource op remove: want ID NAME, got %d argument(s)", len(words))
	}
	if err := validID("resource", words[0]); err != nil {
		return nil, err
	}
	return &cib.UpdateResource{ID: words[0], RemoveOps: []string{words[1]}}, nil
}

// parseGroupAdd reads "GROUP RSC..." with --before/--after.
func parseGroupAdd(words []string, before, after string) (*cib.GroupAdd, error) {
	if len(words) < 2 {
		return nil, fmt.Errorf("resource group add: want GROUP RESOURCE..., got %d argument(s)", len(words))
	}
	if err := validID("group", words[0]); err != nil {
		return nil, err
	}
	if before != "" && after != "" {
		return nil, fmt.Errorf("group %q: give --before or --after, not both", words[0])
	}
	members, err := parseIDs("resource", words[1:])
	if err != nil {
		return nil, fmt.Errorf("group %q: %w", words[0], err)
	}
	if slices.Contains(members, words[0]) {
		return nil, fmt.Errorf("group %q: a group cannot contain itself", words[0])
	}
	if ref := before + after; ref != "" && slices.Contains(members, ref) {
		return nil, fmt.Errorf("group %q: %q is being added; place it next to another member", words[0], ref)
	}
	return &cib.GroupAdd{Group: words[0], Members: members, Before: before, After: after}, nil
}

// parseGroupRemove reads "GROUP RSC...".
func parseGroupRemove(words []string) (*cib.GroupRemove, error) {
	if len(words) < 2 {
		return nil, fmt.Errorf("resource group remove: want GROUP RESOURCE..., got %d argument(s)", len(words))
	}
	if err := validID("group", words[0]); err != nil {
		return nil, err
	}
	members, err := parseIDs("resource", words[1:])
	if err != nil {
		return nil, fmt.Errorf("group %q: %w", words[0], err)
	}
	return &cib.GroupRemove{Group: words[0], Members: members}, nil
}

// parseIDs checks a list of ids, refusing repeats.
func parseIDs(what string, words []string) ([]string, error) {
	var out []string
	for _, w := range words {
		if err := validID(what, w); err != nil {
			return nil, err
		}
		if slices.Contains(out, w) {
			return nil, fmt.Errorf("%s %q is given twice", what, w)
		}
		out = append(out, w)
	}
	return out, nil
}

// parseClone reads "RSC [CLONE-ID] [meta] [k=v ...]" (resource clone and
// resource promotable); --id is the other way to name the clone.
func parseClone(words []string, id string, promotable bool) (*cib.CreateClone, error) {
	verb := "clone"
	if promotable {
		verb = "promotable"
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("resource %s: give the resource to clone", verb)
	}
	rsc := words[0]
	if err := validID("resource", rsc); err != nil {
		return nil, err
	}
	rest := words[1:]
	if len(rest) > 0 && rest[0] != "meta" && !strings.Contains(rest[0], "=") {
		if id != "" {
			return nil, fmt.Errorf("resource %s %s: give the clone id as %q or --id, not both", verb, rsc, rest[0])
		}
		id, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 && rest[0] == "meta" {
		rest = rest[1:]
	}
	if id != "" {
		if err := validID("clone", id); err != nil {
			return nil, err
		}
	}
	meta, err := parseSetMap("meta", rest)
	if err != nil {
		return nil, fmt.Errorf("clone of %q: %w", rsc, err)
	}
	if promotable {
		if v, ok := meta["promotable"]; ok && v != "true" {
			return nil, fmt.Errorf("clone of %q: promotable=%s contradicts resource promotable", rsc, v)
		}
		delete(meta, "promotable")
	} else if v, ok := meta["promotable"]; ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("clone of %q: bad promotable=%s: want true or false", rsc, v)
		}
		promotable = b
		delete(meta, "promotable")
	}
	if len(meta) == 0 {
		meta = nil
	}
	return &cib.CreateClone{ID: id, Rsc: rsc, Promotable: promotable, Meta: meta}, nil
}

// parseScoreWord reads a score, naming the word on error.
func parseScoreWord(w string) (cib.Score, error) {
	s, err := cib.ParseScore(w)
	if err != nil {
		return 0, fmt.Errorf("bad score %q: want an integer or INFINITY, -INFINITY", w)
	}
	return s, nil
}

// options reads trailing key=value words whose keys must be among allowed.
func options(section string, words []string, allowed ...string) (map[string]string, error) {
	ps, err := parsePairs(section, words)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, p := range ps {
		if !slices.Contains(allowed, p.key) {
			return nil, fmt.Errorf("%s: unknown option %q: want %s", section, p.key, strings.Join(allowed, ", "))
		}
		if p.value == "" {
			return nil, fmt.Errorf("%s: %q has an empty value", section, p.key)
		}
		m[p.key] = p.value
	}
	return m, nil
}

// parseLocationAdd reads "ID RSC NODE SCORE [role=ROLE]" or
// "ID RSC rule [score=S | score-attribute=A] [role=R] EXPRESSION...".
func parseLocationAdd(words []string) (*cib.Location, error) {
	if len(words) >= 3 && words[2] == "rule" {
		if err := validID("constraint", words[0]); err != nil {
			return nil, err
		}
		return parseLocationRule(words[0], words[1], words[3:])
	}
	if len(words) < 4 {
		return nil, fmt.Errorf("constraint location add: want ID RESOURCE NODE SCORE [role=ROLE] or ID RESOURCE rule EXPRESSION, got %d argument(s)", len(words))
	}
	id, rsc, node := words[0], words[1], words[2]
	if err := validID("constraint", id); err != nil {
		return nil, err
	}
	if err := validID("resource", rsc); err != nil {
		return nil, err
	}
	if node == "" || strings.Contains(node, "=") {
		return nil, fmt.Errorf("constraint %q: bad node name %q", id, node)
	}
	score, err := parseScoreWord(words[3])
	if err != nil {
		return nil, fmt.Errorf("constraint %q: %w", id, err)
	}
	opts, err := options("constraint "+strconv.Quote(id), words[4:], "role")
	if err != nil {
		return nil, err
	}
	l := &cib.Location{ID: id, Rsc: rsc, Node: node, Score: score}
	if r, ok := opts["role"]; ok {
		if l.Role, err = parseRole(r, "Started", "Promoted", "Unpromoted"); err != nil {
			return nil, fmt.Errorf("constraint %q: %w", id, err)
		}
	}
	return l, nil
}

// parseLocationRule reads the part after "rule": options, then the
// expression words, joined by spaces.
func parseLocationRule(id, rsc string, words []string) (*cib.Location, error) {
	if err := validID("resource", rsc); err != nil {
		return nil, err
	}
	what := "constraint " + strconv.Quote(id)
	l := &cib.Location{ID: id, Rsc: rsc, Score: cib.Infinity}
	hasScore := false
	i := 0
	for ; i < len(words); i++ {
		k, v, ok := strings.Cut(words[i], "=")
		if !ok || !slices.Contains([]string{"score", "score-attribute", "role", "id"}, k) {
			break
		}
		if v == "" {
			return nil, fmt.Errorf("%s: rule option %q has an empty value", what, k)
		}
		switch k {
		case "score":
			s, err := parseScoreWord(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
			l.Score, hasScore = s, true
		case "score-attribute":
			l.ScoreAttribute = v
		case "role":
			r, err := parseRole(v, "Started", "Promoted", "Unpromoted")
			if err != nil {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
			l.Role = r
		case "id":
			return nil, fmt.Errorf("%s: give the constraint id before the resource, not as id=", what)
		}
	}
	if hasScore && l.ScoreAttribute != "" {
		return nil, fmt.Errorf("%s: give score or score-attribute, not both", what)
	}
	if l.ScoreAttribute != "" {
		l.Score = 0
	}
	expr := strings.TrimSpace(strings.Join(words[i:], " "))
	if expr == "" {
		return nil, fmt.Errorf("%s: the rule has no expression (e.g. \"not_defined pingd or pingd lt 1\")", what)
	}
	if _, err := cib.ParseRule(expr); err != nil {
		return nil, fmt.Errorf("%s: bad rule: %w", what, err)
	}
	l.Rule = expr
	return l, nil
}

// parseLocationShort reads the pcs shortcuts "RSC prefers NODE[=SCORE] ..."
// and "RSC avoids NODE[=SCORE] ...", and "RSC rule ..." with a generated id.
// Ids are generated as pcs does (location-RSC-NODE-SCORE), made unique.
func parseLocationShort(words []string, taken func(string) bool) ([]cib.Location, error) {
	if len(words) < 2 {
		return nil, fmt.Errorf("constraint location: want RESOURCE prefers|avoids NODE[=SCORE]... or RESOURCE rule EXPRESSION, got %d argument(s)", len(words))
	}
	rsc, verb := words[0], words[1]
	if err := validID("resource", rsc); err != nil {
		return nil, err
	}
	if verb == "rule" {
		l, err := parseLocationRule("", rsc, words[2:])
		if err != nil {
			return nil, err
		}
		l.ID = uniqueID("location-"+rsc, taken)
		return []cib.Location{*l}, nil
	}
	if verb != "prefers" && verb != "avoids" {
		return nil, fmt.Errorf("constraint location %s: expected prefers, avoids or rule, got %q", rsc, verb)
	}
	if len(words) < 3 {
		return nil, fmt.Errorf("constraint location %s %s: give at least one node", rsc, verb)
	}
	var out []cib.Location
	used := map[string]bool{}
	isTaken := func(id string) bool { return used[id] || (taken != nil && taken(id)) }
	for _, w := range words[2:] {
		node, sc, hasScore := strings.Cut(w, "=")
		if node == "" {
			return nil, fmt.Errorf("constraint location %s %s: %q has no node name", rsc, verb, w)
		}
		score := cib.Score(cib.Infinity)
		if hasScore {
			s, err := parseScoreWord(sc)
			if err != nil {
				return nil, fmt.Errorf("constraint location %s %s %s: %w", rsc, verb, node, err)
			}
			if verb == "avoids" && s < 0 {
				return nil, fmt.Errorf("constraint location %s avoids %s: give a positive score; avoids negates it", rsc, node)
			}
			score = s
		}
		if verb == "avoids" {
			score = -score
		}
		if slices.ContainsFunc(out, func(l cib.Location) bool { return l.Node == node }) {
			return nil, fmt.Errorf("constraint location %s %s: node %q is given twice", rsc, verb, node)
		}
		id := uniqueID(fmt.Sprintf("location-%s-%s-%s", rsc, node, score), isTaken)
		used[id] = true
		out = append(out, cib.Location{ID: id, Rsc: rsc, Node: node, Score: score})
	}
	return out, nil
}

// parseColocationAdd reads "[ROLE] RSC with [ROLE] WITH-RSC [SCORE]
// [score=S] [id=ID]". The id defaults to colocation-RSC-WITH-SCORE.
func parseColocationAdd(words []string, taken func(string) bool) (*cib.Colocation, error) {
	c := &cib.Colocation{Score: cib.Infinity}
	rest := words
	takeRole := func(dst *string) error {
		if len(rest) >= 2 && rest[1] != "with" && isRole(rest[0]) {
			r, err := parseRole(rest[0], "Started", "Promoted", "Unpromoted")
			if err != nil {
				return err
			}
			*dst, rest = r, rest[1:]
		}
		return nil
	}
	if err := takeRole(&c.RscRole); err != nil {
		return nil, err
	}
	if len(rest) == 0 {
		return nil, fmt.Errorf("constraint colocation add: want [ROLE] RESOURCE with [ROLE] WITH-RESOURCE [SCORE] [id=ID]")
	}
	c.Rsc, rest = rest[0], rest[1:]
	if err := validID("resource", c.Rsc); err != nil {
		return nil, err
	}
	if len(rest) == 0 || rest[0] != "with" {
		got := "nothing"
		if len(rest) > 0 {
			got = strconv.Quote(rest[0])
		}
		return nil, fmt.Errorf("constraint colocation add %s: missing \"with\" after the resource, got %s", c.Rsc, got)
	}
	rest = rest[1:]
	if err := takeRole(&c.WithRscRole); err != nil {
		return nil, err
	}
	if len(rest) == 0 {
		return nil, fmt.Errorf("constraint colocation add %s with: give the resource to colocate with", c.Rsc)
	}
	c.WithRsc, rest = rest[0], rest[1:]
	if err := validID("resource", c.WithRsc); err != nil {
		return nil, err
	}
	if c.WithRsc == c.Rsc {
		return nil, fmt.Errorf("constraint colocation add: %q cannot be colocated with itself", c.Rsc)
	}
	what := fmt.Sprintf("colocation of %s with %s", c.Rsc, c.WithRsc)
	hasScore := false
	if len(rest) > 0 && !strings.Contains(rest[0], "=") {
		s, err := parseScoreWord(rest[0])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		c.Score, hasScore, rest = s, true, rest[1:]
	}
	opts, err := options(what, rest, "id", "score")
	if err != nil {
		return nil, err
	}
	if v, ok := opts["score"]; ok {
		if hasScore {
			return nil, fmt.Errorf("%s: the score is given twice", what)
		}
		if c.Score, err = parseScoreWord(v); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	}
	if id, ok := opts["id"]; ok {
		if err := validID("constraint", id); err != nil {
			return nil, err
		}
		c.ID = id
	} else {
		c.ID = uniqueID(fmt.Sprintf("colocation-%s-%s-%s", c.Rsc, c.WithRsc, c.Score), taken)
	}
	return c, nil
}

// parseOrderAdd reads "[ACTION] FIRST then [ACTION] THEN [kind=K]
// [symmetrical=B] [id=ID]". Actions default to start, as in pcs; the id
// defaults to order-FIRST-THEN-KIND.
func parseOrderAdd(words []string, taken func(string) bool) (*cib.Order, error) {
	o := &cib.Order{FirstAction: "start", ThenAction: "start", Kind: "mandatory"}
	rest := words
	takeAction := func(dst *string) {
		if len(rest) >= 2 && rest[1] != "then" && slices.Contains(orderActions, strings.ToLower(rest[0])) {
			*dst, rest = strings.ToLower(rest[0]), rest[1:]
		}
	}
	takeAction(&o.FirstAction)
	if len(rest) == 0 {
		return nil, fmt.Errorf("constraint order: want [ACTION] FIRST then [ACTION] THEN [kind=...] [symmetrical=...] [id=ID]")
	}
	o.First, rest = rest[0], rest[1:]
	if err := validID("resource", o.First); err != nil {
		return nil, err
	}
	if len(rest) == 0 || rest[0] != "then" {
		got := "nothing"
		if len(rest) > 0 {
			got = strconv.Quote(rest[0])
		}
		return nil, fmt.Errorf("constraint order %s: missing \"then\" after the first resource, got %s", o.First, got)
	}
	rest = rest[1:]
	takeAction(&o.ThenAction)
	if len(rest) == 0 {
		return nil, fmt.Errorf("constraint order %s then: give the resource to order after %s", o.First, o.First)
	}
	o.Then, rest = rest[0], rest[1:]
	if err := validID("resource", o.Then); err != nil {
		return nil, err
	}
	if o.Then == o.First {
		return nil, fmt.Errorf("constraint order: %q cannot be ordered after itself", o.First)
	}
	what := fmt.Sprintf("order %s then %s", o.First, o.Then)
	opts, err := options(what, rest, "kind", "symmetrical", "id")
	if err != nil {
		return nil, err
	}
	if k, ok := opts["kind"]; ok {
		if !slices.Contains(orderKinds, strings.ToLower(k)) {
			return nil, fmt.Errorf("%s: bad kind %q: want mandatory, optional or serialize", what, k)
		}
		o.Kind = strings.ToLower(k)
	}
	o.Symmetrical = o.Kind != "serialize"
	if s, ok := opts["symmetrical"]; ok {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("%s: bad symmetrical %q: want true or false", what, s)
		}
		o.Symmetrical = b
	}
	if id, ok := opts["id"]; ok {
		if err := validID("constraint", id); err != nil {
			return nil, err
		}
		o.ID = id
	} else {
		o.ID = uniqueID(fmt.Sprintf("order-%s-%s-%s", o.First, o.Then, o.Kind), taken)
	}
	return o, nil
}

// parseNodePatch reads "NODE k=v ..." (node attribute, node utilization);
// with integers set, values must be integers.
func parseNodePatch(section string, words []string, integers bool) (*cib.UpdateNode, error) {
	if len(words) < 2 {
		return nil, fmt.Errorf("node %s: want NODE key=value ..., got %d argument(s)", section, len(words))
	}
	node := words[0]
	if node == "" || strings.Contains(node, "=") {
		return nil, fmt.Errorf("node %s: expected a node name first, got %q", section, node)
	}
	var p cib.Patch
	var err error
	if integers {
		p, err = parseIntPatch(section, words[1:])
	} else {
		p, err = parsePatch(section, words[1:])
	}
	if err != nil {
		return nil, fmt.Errorf("node %q: %w", node, err)
	}
	u := &cib.UpdateNode{Name: node}
	if integers {
		u.Utilization = p
	} else {
		u.Attributes = p
	}
	return u, nil
}
