package pacemaker

// Reading crm_simulate's summary (cts/scheduler/summary/*.summary): the
// "Revised Cluster Status" (where every resource ended up) and the fences
// of the "Transition Summary", as placements the parity test compares.

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/paceline/paceline/cib"
)

// placementSet is a final placement in comparable form: per primitive
// that is not cloned, "Role node..." or "Stopped"; per cloned primitive
// the active instances as "node=Role" (sorted, with repeats), or
// "Stopped"; and the fenced nodes.
type placementSet struct {
	Prims  map[string]string
	Fenced []string
}

// summaryRsc is one resource line of the revised status.
type summaryRsc struct {
	id    string // as printed (db:1 for an instance)
	clone string // the clone it is listed under
	role  string // Started, Stopped, Promoted, Unpromoted
	nodes []string
}

// summaryCloneRow is a "Role: [ nodes ]" row of a clone set.
type summaryCloneRow struct {
	clone, child string
	role         string
	nodes        []string
}

var (
	sumPrimRe  = regexp.MustCompile(`^(\S+)\s+\(([^)]*)\):\s*(.*)$`)
	sumGroupRe = regexp.MustCompile(`^Resource Group: (\S+?)(?: \([^)]*\))?:$`)
	sumCloneRe = regexp.MustCompile(`^Clone Set: (\S+) \[(\S+)\]((?: \([^)]*\))*):$`)
	sumRowRe   = regexp.MustCompile(`^(Started|Stopped|Promoted|Unpromoted|Master|Slave)(?: \([^)]*\))?: \[(.*)\]$`)
	sumFenceRe = regexp.MustCompile(`^\* Fence \([a-z]+\) (\S+)`)
)

// parseSummary reads the revised status and the fences of a summary.
func parseSummary(text string) (rscs []summaryRsc, rows []summaryCloneRow, fenced []string, err error) {
	lines := strings.Split(text, "\n")
	inTransition, inRevised, inResources := false, false, false
	type frame struct {
		indent       int
		group, clone string
	}
	var stack []frame
	for _, raw := range lines {
		line := strings.ReplaceAll(raw, "\t", " ")
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "Transition Summary:"):
			inTransition, inRevised = true, false
			continue
		case strings.HasPrefix(line, "Revised Cluster Status:"):
			inTransition, inRevised = false, true
			continue
		case line != "" && !strings.HasPrefix(line, " "):
			inTransition, inRevised = false, false
			continue
		}
		if inTransition {
			if m := sumFenceRe.FindStringSubmatch(trimmed); m != nil && !slices.Contains(fenced, m[1]) {
				fenced = append(fenced, m[1])
			}
			continue
		}
		if !inRevised || trimmed == "" {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if strings.HasPrefix(trimmed, "* Full List of Resources:") {
			inResources, stack = true, nil
			continue
		}
		if strings.HasPrefix(trimmed, "* Node List:") {
			inResources = false
			continue
		}
		if !inResources || !strings.HasPrefix(trimmed, "* ") {
			continue
		}
		body := strings.TrimPrefix(trimmed, "* ")
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		cur := frame{indent: indent}
		if len(stack) > 0 {
			cur.group, cur.clone = stack[len(stack)-1].group, stack[len(stack)-1].clone
		}
		if m := sumGroupRe.FindStringSubmatch(body); m != nil {
			cur.group = m[1]
			stack = append(stack, cur)
			continue
		}
		if m := sumCloneRe.FindStringSubmatch(body); m != nil {
			cur.clone, cur.group = m[1]+"\x00"+m[2], ""
			stack = append(stack, cur)
			continue
		}
		if m := sumRowRe.FindStringSubmatch(body); m != nil {
			if cur.clone == "" {
				return nil, nil, nil, fmt.Errorf("role row outside a clone: %q", trimmed)
			}
			cl, child, _ := strings.Cut(cur.clone, "\x00")
			rows = append(rows, summaryCloneRow{clone: cl, child: child, role: normRole(m[1]), nodes: strings.Fields(m[2])})
			continue
		}
		if m := sumPrimRe.FindStringSubmatch(body); m != nil {
			role, nodes := parseSummaryState(m[3])
			cl, _, _ := strings.Cut(cur.clone, "\x00")
			rscs = append(rscs, summaryRsc{id: m[1], clone: cl, role: role, nodes: nodes})
			continue
		}
		return nil, nil, nil, fmt.Errorf("unrecognised resource line %q", trimmed)
	}
	return rscs, rows, fenced, nil
}

// normRole maps the summary's role words to Paceline's.
func normRole(s string) string {
	switch s {
	case "Master":
		return cib.RolePromoted
	case "Slave":
		return cib.RoleUnpromoted
	case "FAILED", "Starting", "Migrating", "Monitoring", "Stopping":
		return cib.RoleStarted
	case "Promoting", "Demoting":
		return cib.RolePromoted
	}
	return s
}

var sumParenRe = regexp.MustCompile(`\([^)]*\)`)

// parseSummaryState reads "Started node1 (unmanaged)", "FAILED node1
// (blocked)", "Stopped (disabled)", "ORPHANED Stopped", "Started [ n1 n2 ]".
func parseSummaryState(s string) (string, []string) {
	s = sumParenRe.ReplaceAllString(s, " ")
	f := strings.Fields(strings.NewReplacer("[", " ", "]", " ").Replace(s))
	if len(f) > 0 && f[0] == "ORPHANED" {
		f = f[1:]
	}
	if len(f) == 0 {
		return cib.RoleStopped, nil
	}
	role := normRole(f[0])
	f = f[1:]
	if len(f) > 0 && f[0] != normRole(f[0]) || len(f) > 0 && slices.Contains([]string{"Started", "Promoted", "Unpromoted"}, f[0]) {
		role = normRole(f[0]) // FAILED Promoted node1
		f = f[1:]
	}
	if role == cib.RoleStopped {
		return role, nil
	}
	return role, f
}

// expectedPlacement turns a summary into a placementSet for cfg: only
// primitives of the configuration count (fence devices and orphans are
// left out).
func expectedPlacement(text string, cfg *cib.Config) (*placementSet, error) {
	rscs, rows, fenced, err := parseSummary(text)
	if err != nil {
		return nil, err
	}
	out := newPlacementSet(cfg)
	clones := map[string][]string{}
	for _, r := range rscs {
		id, _, _ := statusCutInstance(r.id)
		if cfg.Primitive(r.id) != nil {
			id = r.id
		}
		if cfg.Primitive(id) == nil {
			continue
		}
		if cfg.CloneOf(id) != nil || (cfg.GroupOf(id) != nil && cfg.CloneOf(cfg.GroupOf(id).ID) != nil) {
			if r.role != cib.RoleStopped {
				for _, n := range r.nodes {
					clones[id] = append(clones[id], n+"="+cloneRole(cfg, id, r.role))
				}
			}
			continue
		}
		out.Prims[id] = primString(r.role, r.nodes)
	}
	for _, row := range rows {
		if row.role == cib.RoleStopped {
			continue
		}
		members := []string{row.child}
		if g := cfg.Group(row.child); g != nil {
			members = g.Members
		}
		for _, m := range members {
			if cfg.Primitive(m) == nil {
				continue
			}
			for _, n := range row.nodes {
				clones[m] = append(clones[m], n+"="+cloneRole(cfg, m, row.role))
			}
		}
	}
	for id, l := range clones {
		slices.Sort(l)
		out.Prims[id] = strings.Join(l, " ")
	}
	slices.Sort(fenced)
	out.Fenced = fenced
	return out, nil
}

// newPlacementSet has every primitive of cfg stopped.
func newPlacementSet(cfg *cib.Config) *placementSet {
	p := &placementSet{Prims: map[string]string{}}
	for _, pr := range cfg.Primitives {
		p.Prims[pr.ID] = cib.RoleStopped
	}
	return p
}

// cloneRole: a promotable clone's started instance is unpromoted.
func cloneRole(cfg *cib.Config, prim, role string) string {
	cl := cfg.CloneOf(prim)
	if cl == nil {
		if g := cfg.GroupOf(prim); g != nil {
			cl = cfg.CloneOf(g.ID)
		}
	}
	if cl != nil && cl.Promotable && role == cib.RoleStarted {
		return cib.RoleUnpromoted
	}
	return role
}

func primString(role string, nodes []string) string {
	if role == cib.RoleStopped || len(nodes) == 0 {
		return cib.RoleStopped
	}
	n := slices.Clone(nodes)
	slices.Sort(n)
	return role + " " + strings.Join(n, " ")
}

// diff lists where got differs from want, one line each, sorted.
func (want *placementSet) diff(got *placementSet) []string {
	var out []string
	for _, id := range statusSortedKeys(want.Prims) {
		if g := got.Prims[id]; g != want.Prims[id] {
			out = append(out, fmt.Sprintf("%s: pacemaker %q, paceline %q", id, want.Prims[id], g))
		}
	}
	if !slices.Equal(want.Fenced, got.Fenced) {
		out = append(out, fmt.Sprintf("fenced: pacemaker %v, paceline %v", want.Fenced, got.Fenced))
	}
	return out
}
