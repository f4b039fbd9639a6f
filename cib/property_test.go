package cib

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestGeneratedConfigsRoundTrip: every generated valid configuration
// validates and survives YAML and JSON round trips unchanged.
func TestGeneratedConfigsRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genConfig(t)
		if err := c.Validate(); err != nil {
			t.Fatalf("generated config does not validate:\n%v", err)
		}
		roundTrip(t, c)
	})
}

// text draws free text: any valid UTF-8 without NUL, to exercise quoting.
func text(t *rapid.T, label string) string {
	return rapid.StringMatching(`[^\x00]{0,12}`).Draw(t, label)
}

func someOf[E any](t *rapid.T, label string, from []E) []E {
	return rapid.SliceOfDistinct(rapid.SampledFrom(from), func(e E) string { return fmt.Sprint(e) }).Draw(t, label)
}

func nilMap[K comparable, V any](m map[K]V) map[K]V {
	if len(m) == 0 {
		return nil
	}
	return m
}

// propertyValue draws a valid value for a property or meta attribute.
func propertyValue(t *rapid.T, label string, typ ValueType, values []string) string {
	switch typ {
	case ValueBool:
		return rapid.SampledFrom([]string{"true", "false", "yes", "off", "1"}).Draw(t, label)
	case ValueInt:
		return strconv.Itoa(rapid.IntRange(-5, 100).Draw(t, label))
	case ValueCount:
		return strconv.Itoa(rapid.IntRange(0, 100).Draw(t, label))
	case ValueThreshold:
		return rapid.SampledFrom([]string{"0", "3", "INFINITY"}).Draw(t, label)
	case ValueScore:
		return rapid.SampledFrom([]string{"0", "-7", "100", "INFINITY", "-INFINITY"}).Draw(t, label)
	case ValueDuration:
		return rapid.SampledFrom([]string{"0", "10s", "2min", "PT5S", "500ms", "1h"}).Draw(t, label)
	case ValueEnum:
		return rapid.SampledFrom(values).Draw(t, label)
	}
	return text(t, label)
}

func genScore(t *rapid.T, label string) Score {
	return rapid.OneOf(rapid.Just(Score(Infinity)), rapid.Just(Score(-Infinity)),
		rapid.Custom(func(t *rapid.T) Score { return Score(rapid.Int64Range(-Infinity, Infinity).Draw(t, "n")) })).Draw(t, label)
}

var (
	genAgents = []string{"ocf:heartbeat:IPaddr2", "ocf:heartbeat:nginx", "ocf:pacemaker:ping", "lsb:cron", "systemd:redis-server", "service:ssh"}
	genRules  = []string{"defined pingd", "not_defined pingd or pingd lte 0", "#uname eq n1 and site ne \"left side\"",
		"(a gt integer 5 or b lt number 1.5) and ver gte version 2.1"}
	commonMeta = []string{"target-role", "resource-stickiness", "migration-threshold", "failure-timeout", "is-managed", "priority", "description", "requires"}
)

func genMeta(t *rapid.T, label string, names []string, promotable bool) map[string]string {
	m := map[string]string{}
	for _, name := range someOf(t, label, names) {
		def := MetaDefs[name]
		if name == "target-role" && !promotable {
			m[name] = rapid.SampledFrom([]string{"Started", "Stopped", "Unpromoted"}).Draw(t, label+"-role")
			continue
		}
		m[name] = propertyValue(t, label+"-"+name, def.Type, def.Values)
	}
	return nilMap(m)
}

func genConfig(t *rapid.T) *Config {
	c := &Config{Epoch: rapid.Uint64().Draw(t, "epoch")}
	if rapid.Bool().Draw(t, "has-change") {
		sec := rapid.Int64Range(0, 253402300799).Draw(t, "sec")
		c.LastChange = &Change{Time: time.Unix(sec, rapid.Int64Range(0, 999999999).Draw(t, "nsec")).UTC(),
			Origin: text(t, "origin"), Command: rapid.SampledFrom([]string{"CreatePrimitive", "ReplaceConfig"}).Draw(t, "cmd")}
	}
	props := map[string]string{}
	names := slices.Sorted(maps.Keys(PropertyDefs))
	names = slices.DeleteFunc(names, func(n string) bool { return n == "self-stop-timeout" })
	for _, name := range someOf(t, "properties", names) {
		def := PropertyDefs[name]
		props[name] = propertyValue(t, name, def.Type, def.Values)
	}
	c.Properties = nilMap(props)
	c.ResourceDefaults = genMeta(t, "defaults", slices.DeleteFunc(slices.Clone(commonMeta), func(n string) bool { return n == "target-role" }), true)

	nNodes := rapid.IntRange(0, 4).Draw(t, "nodes")
	var nodeNames []string
	for i := range nNodes {
		name := fmt.Sprintf("n%d", i+1)
		nodeNames = append(nodeNames, name)
		n := Node{Name: name, Votes: rapid.IntRange(0, 3).Draw(t, "votes"), Standby: rapid.Bool().Draw(t, "standby"),
			Maintenance: rapid.Bool().Draw(t, "maint")}
		attrs := map[string]string{}
		for _, k := range someOf(t, "attrs", []string{"site", "rack", "pingd", "a.b:c"}) {
			attrs[k] = text(t, "attr")
		}
		n.Attributes = nilMap(attrs)
		util := map[string]int64{}
		for _, k := range someOf(t, "util", []string{"cpu", "memory"}) {
			util[k] = rapid.Int64Range(0, 1<<40).Draw(t, "u")
		}
		n.Utilization = nilMap(util)
		c.Nodes = append(c.Nodes, n)
	}

	// Structure: primitives standalone, in groups, or cloned; groups maybe cloned.
	nPrims := rapid.IntRange(0, 8).Draw(t, "prims")
	nGroups := rapid.IntRange(0, 2).Draw(t, "groups")
	groupMembers := make([][]string, nGroups)
	var standalone []string
	for i := range nPrims {
		id := fmt.Sprintf("p%d", i)
		if g := rapid.IntRange(-1, nGroups-1).Draw(t, "where"); g >= 0 {
			groupMembers[g] = append(groupMembers[g], id)
		} else {
			standalone = append(standalone, id)
		}
	}
	promotable := map[string]bool{}
	var units [][]string // resources of each top-level unit, for acyclic orders
	addClone := func(rsc string, members []string) []string {
		if !rapid.Bool().Draw(t, "cloned") {
			return nil
		}
		cl := Clone{ID: rsc + "-clone", Rsc: rsc, Promotable: rapid.Bool().Draw(t, "promotable")}
		metaNames := []string{"clone-max", "clone-node-max", "interleave", "notify", "globally-unique", "target-role", "priority"}
		if cl.Promotable {
			metaNames = append(metaNames, "promoted-max", "promoted-node-max")
			for _, m := range append([]string{rsc, cl.ID}, members...) {
				promotable[m] = true
			}
		}
		cl.Meta = genMeta(t, "clone-meta", metaNames, cl.Promotable)
		c.Clones = append(c.Clones, cl)
		return []string{cl.ID}
	}
	for gi, m := range groupMembers {
		if len(m) == 0 {
			continue
		}
		id := fmt.Sprintf("g%d", gi)
		c.Groups = append(c.Groups, Group{ID: id, Members: m})
		units = append(units, append(append([]string{id}, m...), addClone(id, m)...))
	}
	for _, id := range standalone {
		units = append(units, append([]string{id}, addClone(id, nil)...))
	}
	for i := range c.Groups {
		c.Groups[i].Meta = genMeta(t, "group-meta", commonMeta, promotable[c.Groups[i].ID])
	}
	for i := range nPrims {
		id := fmt.Sprintf("p%d", i)
		p := Primitive{ID: id, Agent: rapid.SampledFrom(genAgents).Draw(t, "agent")}
		params := map[string]string{}
		for _, k := range someOf(t, "params", []string{"ip", "port", "config", "a-b_c.d", "ünï"}) {
			params[k] = text(t, "param")
		}
		p.Params = nilMap(params)
		p.Meta = genMeta(t, "meta", commonMeta, promotable[id])
		for j, iv := range someOf(t, "monitors", []int{5, 10, 30, 60}) {
			op := Op{Name: "monitor", Interval: Duration(time.Duration(iv) * time.Second),
				Timeout: Duration(rapid.IntRange(0, 120).Draw(t, "timeout")) * Duration(time.Second)}
			if promotable[id] && j < 2 {
				op.Role = []string{RolePromoted, RoleUnpromoted}[j]
			}
			op.OnFail = rapid.SampledFrom([]string{"", "restart", "block", "ignore"}).Draw(t, "on-fail")
			p.Ops = append(p.Ops, op)
		}
		if rapid.Bool().Draw(t, "start-op") {
			p.Ops = append(p.Ops, Op{Name: "start", Timeout: Duration(time.Minute), OnFail: "stop"})
		}
		util := map[string]int64{}
		for _, k := range someOf(t, "putil", []string{"cpu"}) {
			util[k] = rapid.Int64Range(0, 8).Draw(t, "pu")
		}
		p.Utilization = nilMap(util)
		c.Primitives = append(c.Primitives, p)
	}

	var all []string
	for _, u := range units {
		all = append(all, u...)
	}
	if len(all) > 0 {
		for i := range rapid.IntRange(0, 4).Draw(t, "locations") {
			l := Location{ID: fmt.Sprintf("loc%d", i), Rsc: rapid.SampledFrom(all).Draw(t, "loc-rsc"), Score: genScore(t, "loc-score")}
			if rapid.Bool().Draw(t, "by-node") {
				l.Node = rapid.SampledFrom(append(slices.Clone(nodeNames), "n9")).Draw(t, "loc-node")
			} else {
				l.Rule = rapid.SampledFrom(genRules).Draw(t, "rule")
				if rapid.Bool().Draw(t, "score-attr") {
					l.ScoreAttribute = "pingd"
				}
			}
			if promotable[l.Rsc] {
				l.Role = rapid.SampledFrom([]string{"", RolePromoted, RoleUnpromoted, RoleStarted}).Draw(t, "loc-role")
			}
			c.Constraints.Location = append(c.Constraints.Location, l)
		}
	}
	if len(units) >= 2 {
		for i := range rapid.IntRange(0, 4).Draw(t, "colocations") {
			a := rapid.IntRange(0, len(units)-1).Draw(t, "a")
			b := (a + rapid.IntRange(1, len(units)-1).Draw(t, "b")) % len(units)
			l := Colocation{ID: fmt.Sprintf("col%d", i), Rsc: rapid.SampledFrom(units[a]).Draw(t, "rsc"),
				WithRsc: rapid.SampledFrom(units[b]).Draw(t, "with"), Score: genScore(t, "col-score")}
			if promotable[l.WithRsc] && rapid.Bool().Draw(t, "with-role") {
				l.WithRscRole = RolePromoted
			}
			c.Constraints.Colocation = append(c.Constraints.Colocation, l)
		}
		// Orders only run from an earlier unit to a later one: no cycle.
		for i := range rapid.IntRange(0, 4).Draw(t, "orders") {
			a := rapid.IntRange(0, len(units)-2).Draw(t, "first")
			b := rapid.IntRange(a+1, len(units)-1).Draw(t, "then")
			o := NewOrder(fmt.Sprintf("ord%d", i), rapid.SampledFrom(units[a]).Draw(t, "f"), rapid.SampledFrom(units[b]).Draw(t, "t"))
			o.Kind = rapid.SampledFrom([]string{OrderMandatory, OrderOptional, OrderSerialize}).Draw(t, "kind")
			o.Symmetrical = o.Kind != OrderSerialize && rapid.Bool().Draw(t, "sym")
			c.Constraints.Order = append(c.Constraints.Order, o)
		}
	}

	var devices []string
	for i := range rapid.IntRange(0, 2).Draw(t, "fence-devices") {
		id := fmt.Sprintf("fence%d", i)
		devices = append(devices, id)
		f := FenceDevice{ID: id, Agent: rapid.SampledFrom([]string{"fence_ipmilan", "fence_xvm"}).Draw(t, "fagent")}
		params := map[string]string{}
		for _, k := range someOf(t, "fparams", []string{"ip", "username", "pcmk_host_list"}) {
			params[k] = text(t, "fparam")
		}
		f.Params = nilMap(params)
		f.Meta = genMeta(t, "fmeta", []string{"priority", "description"}, false)
		c.FenceDevices = append(c.FenceDevices, f)
	}
	if len(devices) > 0 {
		for _, target := range someOf(t, "fence-targets", append(slices.Clone(nodeNames), "n9")) {
			for _, idx := range someOf(t, "levels", []int{1, 2, 9}) {
				c.FenceLevels = append(c.FenceLevels, FenceLevel{Target: target, Index: idx,
					Devices: rapid.SliceOfNDistinct(rapid.SampledFrom(devices), 1, -1, rapid.ID[string]).Draw(t, "devs")})
			}
		}
	}
	return c
}
