package pacemaker

// A node's resource history (lrm_resource / lrm_rsc_op) replayed as
// Pacemaker 2.1.5's unpack_lrm_resource and unpack_rsc_op do: the ops in
// call-id order, each result remapped against the expected one (from the
// transition key), failures kept with the most severe on-fail, successes
// clearing what they clear.

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/crm/scheduler"
)

// OCF return codes as the status records them.
const (
	rcOK               = 0
	rcInvalidParam     = 2
	rcUnimplemented    = 3
	rcInsufficientPriv = 4
	rcNotInstalled     = 5
	rcNotConfigured    = 6
	rcNotRunning       = 7
	rcRunningPromoted  = 8
	rcFailedPromoted   = 9
	rcDegraded         = 190
	rcDegradedPromoted = 191
)

// Execution statuses (op-status), Pacemaker's enum pcmk_exec_status.
const (
	execPending       = -1
	execDone          = 0
	execCancelled     = 1
	execTimeout       = 2
	execNotSupported  = 3
	execError         = 4
	execErrorHard     = 5
	execErrorFatal    = 6
	execNotInstalled  = 7
	execNotConnected  = 8
	execInvalid       = 9
	execNoFenceDevice = 10
	execNoSecrets     = 11
)

// histRole is a role while replaying; roleUnknown is "no history tells".
type histRole int

const (
	roleUnknown histRole = iota
	roleStopped
	roleStarted
	roleUnpromoted
	rolePromoted
)

// failResponse is Pacemaker's action_fail_response, ranked by severity as
// cmp_on_fail ranks it.
type failResponse int

const (
	failIgnore failResponse = iota
	failDemote
	failRecover
	failMigrate // ban from the node (a missing agent with on-fail=ignore)
	failBlock
	failStop
	failStandby
	failFence
)

// statusOp is one parsed lrm_rsc_op.
type statusOp struct {
	id, task, key  string
	callID, rc     int
	status         int
	interval       time.Duration
	lastChange     time.Time
	targetRC       int // -1 when the transition key does not say
	pos            int
	isLastFailure  bool
	hasLastChanged bool
}

func (o *statusOp) probe() bool { return o.task == "monitor" && o.interval == 0 }

// maskedProbeFailure: a probe that found the agent missing or its
// parameters invalid means "not running here" (pcmk_xe_mask_probe_failure).
func (o *statusOp) maskedProbeFailure() bool {
	return o.probe() && (o.rc == rcNotInstalled || o.rc == rcInvalidParam || o.status == execNotInstalled)
}

// statusHistory is the state one lrm_resource replays to.
type statusHistory struct {
	histRole     histRole
	failResponse failResponse
	failedOp     string // the op whose on-fail is failResponse
	lastFail     *statusOp
	hardRC       int // worst hard (2-5) or fatal (6) code seen: bans the node or everywhere
	hardAt       time.Time
	stopRole     bool // on-fail=stop: keep stopped
}

// nodeHistory reads the node's lrm_resources into resource states (one
// per primitive; per instance for clones), applies fail counts from the
// node's attributes, and marks the node unclean when, with fencing, it is
// offline but its history says something runs there (process_rsc_state).
func (r *statusReader) nodeHistory(n *statusNode) ([]scheduler.ResourceState, error) {
	var out []scheduler.ResourceState
	fails := r.failCounts(n)
	withFail := map[string]bool{}
	for _, lrm := range n.xml.LRM {
		for _, rl := range lrm.Resources {
			for i := range rl.List {
				lr := &rl.List[i]
				rs, ok, err := r.lrmResource(n, lr)
				if err != nil {
					return nil, err
				}
				if !ok {
					continue
				}
				if f, has := fails[rs.ID]; has && !withFail[rs.ID] {
					withFail[rs.ID] = true
					rs.FailCount, rs.LastFailure = max(rs.FailCount, f.count), statusLater(rs.LastFailure, f.last)
				}
				out = append(out, rs)
			}
		}
	}
	// Fail counts of primitives without history here.
	for _, id := range statusSortedKeys(fails) {
		if withFail[id] {
			continue
		}
		f := fails[id]
		out = append(out, scheduler.ResourceState{ID: id, Role: cib.RoleStopped, FailCount: f.count, LastFailure: f.last})
	}
	if n.state != scheduler.NodeOnline {
		// What an offline or unclean node's LRM said is kept (the
		// scheduler counts it stopped on an offline node, and implies
		// its stop from the fence on an unclean one); failures there
		// are no one's to recover (process_rsc_state ignores on-fail
		// on an unclean node).
		for i := range out {
			if n.state == scheduler.NodeUnclean {
				out[i].Failed, out[i].FailedOp = false, ""
			}
		}
	}
	slices.SortStableFunc(out, func(a, b scheduler.ResourceState) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func statusLater(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// statusFailCount is a primitive's fail count on a node and its last failure.
type statusFailCount struct {
	count int
	last  time.Time
}

// statusFailAttr matches fail-count-RSC, fail-count-RSC:N, with #OP_INTERVAL
// (Pacemaker 1.1.17+) or without (older), and the same for last-failure.
var statusFailAttr = regexp.MustCompile(`^(fail-count|last-failure)-(.+?)(:[0-9]+)?(#.+_[0-9]+)?$`)

// failCounts sums, per primitive, the node's fail-count attributes, and
// takes the newest last-failure (pe_get_failcount). Names of unknown
// resources are left alone (an orphan's).
func (r *statusReader) failCounts(n *statusNode) map[string]statusFailCount {
	out := map[string]statusFailCount{}
	for _, name := range statusSortedKeys(n.attrs) {
		m := statusFailAttr.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		rsc := m[2]
		if r.primsByID[rsc] == nil {
			continue
		}
		if m[3] != "" && r.cloneOf[rsc] == nil {
			continue // an instance number on a resource that is not cloned
		}
		v := n.attrs[name]
		f := out[rsc]
		switch m[1] {
		case "fail-count":
			s, err := cib.ParseScore(v)
			if err != nil || s <= 0 {
				continue
			}
			f.count = int(min(int64(f.count)+int64(s), cib.Infinity))
		case "last-failure":
			t, err := statusEpoch(v)
			if err != nil {
				continue
			}
			f.last = statusLater(f.last, t)
		}
		out[rsc] = f
	}
	for id, f := range out {
		if f.count == 0 {
			delete(out, id)
		}
	}
	return out
}

// primitiveFor maps an lrm_resource id to a configured primitive: the id
// itself, or for a clone instance ("db:1") the cloned primitive.
func (r *statusReader) primitiveFor(id string) *cib.Primitive {
	if p := r.primsByID[id]; p != nil {
		return p
	}
	base, num, ok := statusCutInstance(id)
	if !ok || num == "" {
		return nil
	}
	if p := r.primsByID[base]; p != nil && r.cloneOf[base] != nil {
		return p
	}
	return nil
}

// statusCutInstance splits "db:12" into "db" and "12"; ok is false without a
// numeric instance suffix.
func statusCutInstance(id string) (base, num string, ok bool) {
	i := strings.LastIndexByte(id, ':')
	if i <= 0 || i == len(id)-1 {
		return id, "", false
	}
	if _, err := strconv.Atoi(id[i+1:]); err != nil {
		return id, "", false
	}
	return id[:i], id[i+1:], true
}

// lrmResource replays one lrm_resource; ok is false when it gives no
// state for the scheduler (no ops, an orphan, a fence device).
func (r *statusReader) lrmResource(n *statusNode, lr *stLRMResource) (scheduler.ResourceState, bool, error) {
	where := fmt.Sprintf("status: node %s: <lrm_resource id=%q>", n.name, lr.ID)
	if lr.ID == "" {
		return scheduler.ResourceState{}, false, fmt.Errorf("status: node %s: <lrm_resource> without an id", n.name)
	}
	ops, err := statusParseOps(lr)
	if err != nil {
		return scheduler.ResourceState{}, false, fmt.Errorf("%s: %w", where, err)
	}
	if len(ops) == 0 {
		return scheduler.ResourceState{}, false, nil
	}
	p := r.primitiveFor(lr.ID)
	if p == nil {
		// An orphan or a fence device: replay it for its role only.
		h := r.replay(n, nil, ops)
		o := Orphan{Rsc: lr.ID, Node: n.name, Role: h.histRole.name()}
		if h.histRole == roleUnknown {
			return scheduler.ResourceState{}, false, nil
		}
		isDev := r.fenceDevs[lr.ID] || lr.Class == "stonith"
		if h.histRole > roleStopped {
			if isDev {
				r.rep.FenceDevices = append(r.rep.FenceDevices, o)
			} else {
				r.rep.Orphans = append(r.rep.Orphans, o)
				if r.stopOrphans {
					r.note("orphan %s is active on %s: Pacemaker stops it; it is not in the configuration, so the plan cannot", lr.ID, n.name)
				} else {
					r.note("orphan %s is active on %s: stop-orphan-resources=false leaves it running", lr.ID, n.name)
				}
			}
			r.activeOnDownNode(n, lr.ID, isDev || r.stopOrphans)
		}
		return scheduler.ResourceState{}, false, nil
	}
	h := r.replay(n, p, ops)
	if h.histRole == roleUnknown && h.hardRC == 0 {
		return scheduler.ResourceState{}, false, nil
	}
	if h.histRole > roleStopped {
		r.activeOnDownNode(n, p.ID, r.managed(p))
	}
	return r.resourceState(n, p, h), true, nil
}

// activeOnDownNode: a managed resource believed to run on a node that is
// down means, with fencing, that the node must be fenced.
func (r *statusReader) activeOnDownNode(n *statusNode, rsc string, managed bool) {
	if n.online || n.maint || !managed || !r.stonith || n.state == scheduler.NodeUnclean {
		return
	}
	n.state = scheduler.NodeUnclean
	r.note("node %s: %s is thought to be active there but the node is down: unclean (fenced)", n.name, rsc)
}

// resourceState turns a replayed history into the scheduler's entry.
func (r *statusReader) resourceState(n *statusNode, p *cib.Primitive, h statusHistory) scheduler.ResourceState {
	rs := scheduler.ResourceState{ID: p.ID}
	promotable := r.cloneOf[p.ID] != nil && r.cloneOf[p.ID].Promotable
	switch h.histRole {
	case roleUnknown, roleStopped:
		rs.Role = cib.RoleStopped
	case roleStarted:
		rs.Role = cib.RoleStarted
	case roleUnpromoted:
		rs.Role = cib.RoleUnpromoted
	case rolePromoted:
		rs.Role = cib.RolePromoted
	}
	if !promotable && (rs.Role == cib.RoleUnpromoted || rs.Role == cib.RolePromoted) {
		rs.Role = cib.RoleStarted
	}
	if promotable && rs.Role == cib.RoleStarted {
		rs.Role = cib.RoleUnpromoted
	}
	if h.failResponse != failIgnore && h.failResponse != failMigrate && n.state != scheduler.NodeUnclean {
		if h.histRole > roleStopped || h.stopRole {
			rs.Failed, rs.FailedOp = true, h.failedOp
		}
	}
	if h.hardRC != 0 {
		// The scheduler bans for a hard or fatal code while a fail count
		// lasts; Pacemaker bans for the history entry itself, so a hard
		// error without a fail count gets one.
		rs.FailedRC = h.hardRC
		if rs.FailCount == 0 {
			rs.FailCount, rs.LastFailure = 1, h.hardAt
		}
	}
	return rs
}

func (ro histRole) name() string {
	switch ro {
	case roleStopped:
		return cib.RoleStopped
	case roleStarted:
		return cib.RoleStarted
	case roleUnpromoted:
		return cib.RoleUnpromoted
	case rolePromoted:
		return cib.RolePromoted
	}
	return "Unknown"
}

// statusParseOps reads the lrm_rsc_op entries and sorts them as
// sort_op_by_callid does: by call-id, pending (-1) last, equal call-ids
// by last-rc-change; ties keep the reverse of document order (Pacemaker
// builds its list by prepending and sorts it stably).
func statusParseOps(lr *stLRMResource) ([]*statusOp, error) {
	var ops []*statusOp
	for i := range lr.Ops {
		x := &lr.Ops[i]
		o := &statusOp{id: x.ID, task: x.Operation, key: statusOr(x.OperationKey, x.ID), pos: i, targetRC: -1}
		bad := func(attr, v string) error {
			return fmt.Errorf("<lrm_rsc_op id=%q>: bad %s %q", x.ID, attr, v)
		}
		if x.Operation == "" {
			return nil, fmt.Errorf("<lrm_rsc_op id=%q>: no operation", x.ID)
		}
		var err error
		if o.callID, err = statusAtoi(x.CallID, -1); err != nil {
			return nil, bad("call-id", x.CallID)
		}
		if o.rc, err = statusAtoi(x.RCCode, 0); err != nil {
			return nil, bad("rc-code", x.RCCode)
		}
		if o.status, err = statusAtoi(x.OpStatus, 0); err != nil {
			return nil, bad("op-status", x.OpStatus)
		}
		ms, err := statusAtoi(x.Interval, 0)
		if err != nil || ms < 0 {
			return nil, bad("interval", x.Interval)
		}
		o.interval = time.Duration(ms) * time.Millisecond
		if x.LastRCChange != "" {
			t, err := statusEpoch(x.LastRCChange)
			if err != nil {
				return nil, bad("last-rc-change", x.LastRCChange)
			}
			o.lastChange, o.hasLastChanged = t, true
		}
		if k := x.TransitionKey; k != "" {
			parts := strings.SplitN(k, ":", 4)
			if len(parts) == 4 {
				if t, err := strconv.Atoi(parts[2]); err == nil {
					o.targetRC = t
				}
			}
		}
		o.isLastFailure = strings.HasSuffix(x.ID, "_last_failure_0")
		if o.status < execPending || o.status > execNoSecrets {
			continue // CRM_CHECK in unpack_rsc_op: skipped
		}
		ops = append(ops, o)
	}
	slices.Reverse(ops)
	slices.SortStableFunc(ops, func(a, b *statusOp) int {
		switch {
		case a.callID == -1 && b.callID == -1:
			return 0
		case a.callID == -1:
			return 1
		case b.callID == -1:
			return -1
		case a.callID != b.callID:
			return a.callID - b.callID
		case a.hasLastChanged && b.hasLastChanged:
			return a.lastChange.Compare(b.lastChange)
		}
		return 0
	})
	return ops, nil
}

// statusAtoi parses an integer attribute; empty gives def.
func statusAtoi(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	return strconv.Atoi(strings.TrimSpace(s))
}
