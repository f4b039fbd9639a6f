package pacemaker

import (
	"slices"
	"strings"

	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/crm/scheduler"
)

// Outcome is where a plan leaves every resource, in the terms
// crm_simulate's "Revised Cluster Status" uses: per primitive that is not
// cloned its role and node(s), per cloned primitive its instances per
// node and role, and the nodes fenced. `paceline simulate --cib -o json`
// prints it, and the parity suite compares it with Pacemaker's.
type Outcome struct {
	Primitives []PrimitiveOutcome `json:"primitives"`
	Clones     []CloneOutcome     `json:"clones"`
	Fenced     []string           `json:"fenced"`
}

// PrimitiveOutcome is a primitive that is not cloned: Role Stopped has no
// nodes; more than one node means it is left active on several (blocked).
type PrimitiveOutcome struct {
	ID    string   `json:"id"`
	Role  string   `json:"role"`
	Nodes []string `json:"nodes,omitempty"`
}

// CloneOutcome is a cloned primitive (a member of a cloned group counts
// on its own): its active instances, by node.
type CloneOutcome struct {
	Clone     string            `json:"clone"`
	Rsc       string            `json:"rsc"`
	Instances []InstanceOutcome `json:"instances"`
}

// InstanceOutcome is one active instance.
type InstanceOutcome struct {
	Node string `json:"node"`
	Role string `json:"role"`
}

// PlanOutcome reads the Outcome of plan, made for cfg.
func PlanOutcome(cfg *cib.Config, plan *scheduler.Plan) *Outcome {
	out := &Outcome{Primitives: []PrimitiveOutcome{}, Clones: []CloneOutcome{}, Fenced: []string{}}
	prims := map[string]*PrimitiveOutcome{}
	clones := map[string]*CloneOutcome{}
	for _, p := range cfg.Primitives {
		if cl := cloneOfPrimitive(cfg, p.ID); cl != nil {
			clones[p.ID] = &CloneOutcome{Clone: cl.ID, Rsc: p.ID, Instances: []InstanceOutcome{}}
			continue
		}
		prims[p.ID] = &PrimitiveOutcome{ID: p.ID, Role: cib.RoleStopped}
	}
	for _, pl := range plan.Placements {
		if pl.Node == "" || pl.Role == cib.RoleStopped {
			continue
		}
		if c := clones[pl.Rsc]; c != nil {
			c.Instances = append(c.Instances, InstanceOutcome{Node: pl.Node, Role: pl.Role})
			continue
		}
		if p := prims[pl.Rsc]; p != nil {
			p.Role = pl.Role
			if !slices.Contains(p.Nodes, pl.Node) {
				p.Nodes = append(p.Nodes, pl.Node)
			}
		}
	}
	for _, id := range statusSortedKeys(prims) {
		p := prims[id]
		slices.Sort(p.Nodes)
		out.Primitives = append(out.Primitives, *p)
	}
	for _, id := range statusSortedKeys(clones) {
		c := clones[id]
		slices.SortFunc(c.Instances, func(a, b InstanceOutcome) int {
			return strings.Compare(a.Node+"\x00"+a.Role, b.Node+"\x00"+b.Role)
		})
		out.Clones = append(out.Clones, *c)
	}
	for _, a := range plan.Actions {
		if a.Op == scheduler.OpFence && !slices.Contains(out.Fenced, a.Node) {
			out.Fenced = append(out.Fenced, a.Node)
		}
	}
	slices.Sort(out.Fenced)
	return out
}

// cloneOfPrimitive is the clone a primitive is an instance of, directly
// or through its group.
func cloneOfPrimitive(cfg *cib.Config, id string) *cib.Clone {
	if cl := cfg.CloneOf(id); cl != nil {
		return cl
	}
	if g := cfg.GroupOf(id); g != nil {
		return cfg.CloneOf(g.ID)
	}
	return nil
}
