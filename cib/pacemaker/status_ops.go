package pacemaker

// The replay of one resource's operations on one node: unpack_rsc_op,
// remap_operation, update_resource_state, unpack_rsc_op_failure and
// check_operation_expiry of Pacemaker 2.1.5's lib/pengine/unpack.c.

import (
	"time"

	"github.com/paceline/paceline/cib"
)

// replay runs ops (sorted) for primitive p (nil: an orphan) on node n.
func (r *statusReader) replay(n *statusNode, p *cib.Primitive, ops []*statusOp) statusHistory {
	h := statusHistory{histRole: roleUnknown}
	managed := r.stopOrphans
	var failTO time.Duration
	if p != nil {
		managed = r.managed(p)
		if d, err := cib.ParseDuration(r.meta(p, "failure-timeout")); err == nil {
			failTO = d.D()
		}
	}
	for _, o := range ops {
		if o.task == "notify" || o.task == "meta-data" {
			continue
		}
		expired := o.status != execNotInstalled && r.opExpired(n, p, o, failTO)
		rc, status, target := o.rc, o.status, o.targetRC
		masked := o.maskedProbeFailure()
		r.remap(o, &h, managed, masked, &rc, &status, target)

		if expired && masked && o.rc != o.targetRC {
			if h.histRole <= roleStopped {
				h.histRole = roleUnknown
			}
			continue
		}
		if expired && rc != target {
			if o.interval == 0 || (n.online && n.state != "unclean") {
				continue // an expired failure is ignored
			}
		}
		if masked {
			// "not running" here, and banned from here.
			h.update(o, target)
			h.hard(statusHardRC(o.rc, rcNotInstalled), o.lastChange)
			continue
		}
		switch status {
		case execCancelled:
			continue
		case execPending:
			switch o.task {
			case "start":
				if h.histRole < roleStarted {
					h.histRole = roleStarted
				}
			case "promote":
				h.histRole = rolePromoted
			}
			continue
		case execDone:
			h.update(o, rc)
			continue
		case execNotInstalled:
			fs := r.opOnFail(p, o)
			if fs == failIgnore {
				// A missing agent cannot be ignored.
				fs = failMigrate
				h.failResponse = failMigrate
			}
			h.hard(rcNotInstalled, o.lastChange)
			h.failure(o, rc, fs)
			continue
		case execNoFenceDevice, execNoSecrets:
			status = execErrorHard
		}
		fs := r.opOnFail(p, o)
		if fs == failIgnore {
			// "Pretending failed op succeeded".
			h.update(o, target)
			continue
		}
		h.failure(o, rc, fs)
		switch status {
		case execErrorHard:
			h.hard(statusHardRC(rc, rcInvalidParam), o.lastChange)
		case execErrorFatal:
			h.hard(rcNotConfigured, o.lastChange)
		}
	}
	return h
}

// statusHardRC is rc when it is a hard error code, else def.
func statusHardRC(rc, def int) int {
	switch rc {
	case rcInvalidParam, rcUnimplemented, rcInsufficientPriv, rcNotInstalled, rcNotConfigured:
		return rc
	}
	return def
}

// hard records a hard (ban here) or fatal (ban everywhere) error; a fatal
// one outranks a hard one.
func (h *statusHistory) hard(rc int, at time.Time) {
	if h.hardRC == rcNotConfigured && rc != rcNotConfigured {
		return
	}
	h.hardRC = rc
	h.hardAt = statusLater(h.hardAt, at)
}

// remap is remap_operation: informational monitor codes become normal
// ones, and done/error become done or error against the expected result;
// codes that say more than "failed" become hard or fatal errors.
func (r *statusReader) remap(o *statusOp, h *statusHistory, managed, masked bool, rc, status *int, target int) {
	if o.task == "monitor" {
		switch *rc {
		case rcDegraded:
			*rc = rcOK
		case rcDegradedPromoted:
			*rc = rcRunningPromoted
		}
	}
	if masked {
		*status, *rc = execDone, rcNotRunning
	}
	if *status != execDone && *status != execError {
		return
	}
	*status = execDone
	probe := o.probe()
	if target < 0 || target != *rc {
		*status = execError
	}
	switch *rc {
	case rcOK:
		if probe && target == rcNotRunning {
			*status = execDone // a probe found it active
		}
	case rcNotRunning:
		if probe || target == *rc || !managed {
			*status = execDone
			h.histRole = roleStopped
			h.failResponse = failIgnore
			h.failedOp = ""
			h.stopRole = false
		}
	case rcRunningPromoted:
		if probe && *rc != target {
			*status = execDone
		}
		h.histRole = rolePromoted
	case rcFailedPromoted, rcDegradedPromoted:
		h.histRole = rolePromoted
		*status = execError
	case rcNotConfigured:
		*status = execErrorFatal
	case rcUnimplemented:
		if o.interval == 0 {
			*status = execErrorHard
		} else {
			*status = execNotSupported
		}
	case rcNotInstalled, rcInvalidParam, rcInsufficientPriv:
		*status = execErrorHard
	default:
		if *status == execDone {
			*status = execError
		}
	}
}

// update is update_resource_state: what a successful (or forgiven) op
// says of the role, and the failures it clears.
func (h *statusHistory) update(o *statusOp, rc int) {
	clear := false
	switch {
	case rc == rcNotInstalled || o.maskedProbeFailure():
		h.histRole = roleStopped
	case rc == rcNotRunning:
		clear = true
	case o.task == "monitor":
		if h.lastFail != nil && h.lastFail.key == o.key {
			clear = true
		}
		if h.histRole < roleStarted {
			h.histRole = roleStarted
		}
	case o.task == "start", o.task == "migrate_from":
		h.histRole = roleStarted
		clear = true
	case o.task == "stop":
		h.histRole = roleStopped
		clear = true
	case o.task == "promote":
		h.histRole = rolePromoted
		clear = true
	case o.task == "demote":
		if h.failResponse == failDemote {
			clear = true
		}
		h.histRole = roleUnpromoted
	case o.task == "migrate_to":
		// A partial migration: the source still counts it running
		// until its stop (Paceline does not migrate; the stop or the
		// next start settles it).
		if h.histRole < roleStarted {
			h.histRole = roleStarted
		}
	default:
		if h.histRole < roleStarted {
			h.histRole = roleStarted
		}
	}
	if clear {
		switch h.failResponse {
		case failStop, failFence, failMigrate, failStandby:
			// These hold until the failure is cleaned up.
		default:
			h.failResponse, h.failedOp, h.stopRole = failIgnore, "", false
		}
	}
}

// failure is unpack_rsc_op_failure: the op failed with on-fail fs.
func (h *statusHistory) failure(o *statusOp, rc int, fs failResponse) {
	h.lastFail = o
	if fs > h.failResponse {
		h.failResponse = fs
		h.failedOp = statusFailedOp(o.task)
	}
	switch o.task {
	case "promote":
		h.histRole = rolePromoted
	case "demote":
		switch {
		case fs == failBlock:
			h.histRole = rolePromoted
		case rc == rcNotRunning:
			h.histRole = roleStopped
		default:
			h.histRole = roleUnpromoted
		}
	}
	if o.probe() && rc == rcNotInstalled {
		h.histRole = roleStopped
	} else if h.histRole < roleStarted {
		h.histRole = roleStarted
	}
	if fs == failStop {
		h.stopRole = true
	}
}

// statusFailedOp is the op name the scheduler's status knows a failure
// by: a probe is a monitor; a migration is its start or stop.
func statusFailedOp(task string) string {
	switch task {
	case "start", "stop", "monitor", "promote", "demote":
		return task
	case "migrate_from":
		return "start"
	case "migrate_to":
		return "stop"
	}
	return "monitor"
}

// opOnFail is the on-fail of the configured op matching o (name and
// interval), else Pacemaker's default: a stop fences with stonith-enabled
// and blocks without; everything else restarts.
func (r *statusReader) opOnFail(p *cib.Primitive, o *statusOp) failResponse {
	name := o.task
	if p != nil {
		for _, op := range p.Ops {
			if op.Name != name || op.Interval.D() != o.interval || op.OnFail == "" {
				continue
			}
			switch op.OnFail {
			case "ignore":
				return failIgnore
			case "block":
				return failBlock
			case "stop":
				return failStop
			case "standby":
				return failStandby
			case "demote":
				return failDemote
			case "fence":
				if r.stonith {
					return failFence
				}
				return failStop
			default:
				return failRecover
			}
		}
	}
	if name == "stop" {
		if r.stonith {
			return failFence
		}
		return failBlock
	}
	return failRecover
}

// opExpired is check_operation_expiry: the op is older than the
// resource's failure-timeout and the resource's fail count here has
// expired too (or there is none). Probes that found a definite state
// never expire.
func (r *statusReader) opExpired(n *statusNode, p *cib.Primitive, o *statusOp, failTO time.Duration) bool {
	if p == nil || failTO <= 0 || !o.hasLastChanged || r.now.IsZero() {
		return false
	}
	if r.now.Before(o.lastChange.Add(failTO)) {
		return false
	}
	if n.fails == nil {
		n.fails = r.failCounts(n)
	}
	if f, ok := n.fails[p.ID]; ok && f.count > 0 {
		unexpired := !(!f.last.IsZero() && r.now.After(f.last.Add(failTO)))
		if unexpired {
			return false
		}
	}
	if o.probe() {
		switch o.rc {
		case rcOK, rcNotRunning, rcRunningPromoted, rcDegraded, rcDegradedPromoted:
			return false
		}
	}
	return true
}
