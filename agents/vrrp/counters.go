package vrrp

import (
	"errors"
	"fmt"
	"sync/atomic"
)

// DropReason is why a received packet was not taken. Its String is the
// value of the reason label of DropMetric.
type DropReason uint8

// The drop reasons. Parse finds the packet's own faults; Expect.Check
// the ones against an instance's configuration (DropWrongVRID and
// DropBadVersion can come from either). Numbers are never reused.
const (
	DropBadAddress       DropReason = iota + 1 // source and destination missing or of different families
	DropBadTTL                                 // TTL or hop limit not 255
	DropBadVersion                             // not 2 or 3, v2 over IPv6, or not the instance's version
	DropBadType                                // not an advertisement
	DropBadAddrCount                           // no addresses
	DropBadLength                              // shorter or longer than the header and count say
	DropBadChecksum                            // the checksum does not verify
	DropBadInterval                            // advertisement interval 0
	DropBadAuthType                            // VRRPv2 auth type other than none or pass
	DropWrongVRID                              // VRID 0, or not the instance's
	DropAuthMismatch                           // VRRPv2 auth type or password not the instance's
	DropIntervalMismatch                       // VRRPv2 interval not the instance's
	dropReasonEnd
)

// DropMetric is the name under which Counters are to be exported (a
// Prometheus counter with one label, reason, valued by DropReason's
// String), and DropMetricHelp its help text.
const (
	DropMetric     = "paceline_vrrp_packets_dropped_total"
	DropMetricHelp = "VRRP packets received and dropped, by reason."
)

// DropReasons returns every reason, in order.
func DropReasons() []DropReason {
	rs := make([]DropReason, 0, dropReasonEnd-1)
	for r := DropReason(1); r < dropReasonEnd; r++ {
		rs = append(rs, r)
	}
	return rs
}

// String returns the reason as a metric label value, e.g. "bad_ttl".
func (r DropReason) String() string {
	switch r {
	case DropBadAddress:
		return "bad_address"
	case DropBadTTL:
		return "bad_ttl"
	case DropBadVersion:
		return "bad_version"
	case DropBadType:
		return "bad_type"
	case DropBadAddrCount:
		return "bad_addr_count"
	case DropBadLength:
		return "bad_length"
	case DropBadChecksum:
		return "bad_checksum"
	case DropBadInterval:
		return "bad_interval"
	case DropBadAuthType:
		return "bad_auth_type"
	case DropWrongVRID:
		return "wrong_vrid"
	case DropAuthMismatch:
		return "auth_mismatch"
	case DropIntervalMismatch:
		return "interval_mismatch"
	}
	return fmt.Sprintf("drop_reason_%d", uint8(r))
}

// DropError is the error for a packet that was dropped: why, and the
// details for a log line (never a password).
type DropError struct {
	Reason DropReason
	Detail string
}

func (e *DropError) Error() string {
	return "vrrp: packet dropped (" + e.Reason.String() + "): " + e.Detail
}

func drop(r DropReason, format string, args ...any) *DropError {
	return &DropError{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// ReasonOf returns the drop reason in err's chain, if it has one.
func ReasonOf(err error) (DropReason, bool) {
	var de *DropError
	if errors.As(err, &de) {
		return de.Reason, true
	}
	return 0, false
}

// Counters counts dropped packets per reason. The zero value is ready;
// it is safe for concurrent use. Each receiver (an instance, a socket)
// owns its own: there are no package-wide counters.
type Counters struct {
	n [dropReasonEnd]atomic.Uint64
}

// Add counts one packet dropped for r; an unknown r is ignored.
func (c *Counters) Add(r DropReason) {
	if r > 0 && r < dropReasonEnd {
		c.n[r].Add(1)
	}
}

// Record counts err's drop reason, if it has one, and returns it.
func (c *Counters) Record(err error) (DropReason, bool) {
	r, ok := ReasonOf(err)
	if ok {
		c.Add(r)
	}
	return r, ok
}

// Get returns how many packets were dropped for r.
func (c *Counters) Get(r DropReason) uint64 {
	if r > 0 && r < dropReasonEnd {
		return c.n[r].Load()
	}
	return 0
}

// Snapshot returns every reason's count, in reason order, zeros
// included (as a metrics exporter wants them).
func (c *Counters) Snapshot() []DropCount {
	out := make([]DropCount, 0, dropReasonEnd-1)
	for _, r := range DropReasons() {
		out = append(out, DropCount{Reason: r, Count: c.Get(r)})
	}
	return out
}

// DropCount is one reason's count in a Snapshot.
type DropCount struct {
	Reason DropReason
	Count  uint64
}
