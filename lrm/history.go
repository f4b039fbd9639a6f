package lrm

import (
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/paceline/paceline/agents/ocf"
)

// Op is one recorded operation.
type Op struct {
	CallID   int64         `json:"call-id"`
	Rsc      string        `json:"rsc"`
	Agent    string        `json:"agent"`
	Action   string        `json:"action"`
	Interval time.Duration `json:"interval"`
	Result
	RCName  string    `json:"rc-name"`
	Started time.Time `json:"started"`
	ExecMS  float64   `json:"exec-ms"`
	QueueMS float64   `json:"queue-ms"`
	// Failed: the result is a failure of its action (it counts in the
	// fail count of its operation).
	Failed bool `json:"failed,omitempty"`
}

// OpKey names an operation as fail counts do: ACTION_INTERVALMS.
func (o Op) OpKey() string {
	return o.Action + "_" + strconv.FormatInt(o.Interval.Milliseconds(), 10)
}

// History is what this node knows of one resource.
type History struct {
	Rsc   string `json:"rsc"`
	Agent string `json:"agent"`
	// Last is the last operation other than a recurring monitor and
	// meta-data (Pacemaker's last_0): what the resource's state follows.
	Last *Op `json:"last,omitempty"`
	// State is the last operation that tells what state the resource is
	// in: a start, stop, promote, demote or one-shot monitor (a probe).
	State *Op `json:"state,omitempty"`
	// LastFailure is the last failed operation, until a cleanup.
	LastFailure *Op `json:"last-failure,omitempty"`
	// Monitors is the last result of each recurring monitor, by interval.
	Monitors []Op `json:"monitors,omitempty"`
	// Recent are the last operations, oldest first.
	Recent []Op `json:"recent"`
	// FailCounts per operation (start_0, monitor_10000), until a cleanup.
	FailCounts map[string]int `json:"fail-counts,omitempty"`
	// Recurring lists the recurring monitors that run now.
	Recurring []Recurring `json:"recurring,omitempty"`
}

// Recurring describes a running recurring monitor.
type Recurring struct {
	Interval time.Duration `json:"interval"`
	Expect   int           `json:"expect"`
}

// FailCount is the resource's total fail count.
func (h *History) FailCount() int {
	n := 0
	for _, c := range h.FailCounts {
		n += c
	}
	return n
}

// failed reports whether a result is a failure of its action: anything
// but success for start, stop, promote, demote, notify and reload; for a
// one-shot monitor (a probe) anything but running, promoted or not
// running; for a recurring monitor anything but the expected code.
func failed(req Request, r Result, expect int) bool {
	if r.Status == StatusCancelled {
		return false
	}
	if r.Status != StatusDone {
		return true
	}
	switch req.Action {
	case ocf.Monitor:
		if req.Interval > 0 {
			return r.RC != expect
		}
		return r.RC != ocf.Success && r.RC != ocf.NotRunning && r.RC != ocf.RunningPromoted
	case ocf.MetaData, ocf.ValidateAll, ocf.Notify:
		// A notification's result fails nothing (Pacemaker ignores it):
		// no fail count, no recovery.
		return false
	}
	return r.RC != ocf.Success
}

// record stores an operation and returns it with its call ID. Recurring
// monitors are recorded by recordMonitor.
func (m *Manager) record(op Op, req Request) Op {
	op.RCName = ocf.RCName(op.RC)
	op.Failed = failed(req, op.Result, ocf.Success)
	m.mu.Lock()
	op = m.recordLocked(op, true)
	m.mu.Unlock()
	m.observe(Completion{Op: op})
	return op
}

// recordLocked stores an operation; a recurring monitor's unchanged
// result updates its last result only (recent lists changes).
func (m *Manager) recordLocked(op Op, recent bool) Op {
	m.callID++
	op.CallID = m.callID
	if op.Action == ocf.MetaData {
		return op
	}
	h := m.hist[op.Rsc]
	if h == nil {
		h = &History{Rsc: op.Rsc, FailCounts: map[string]int{}}
		m.hist[op.Rsc] = h
	}
	h.Agent = op.Agent
	kept := op
	kept.Output = excerpt(op.Output, m.opt.OutputBytes)
	if op.Interval > 0 {
		i := slices.IndexFunc(h.Monitors, func(o Op) bool { return o.Interval == op.Interval })
		if i < 0 {
			h.Monitors = append(h.Monitors, kept)
			slices.SortFunc(h.Monitors, func(a, b Op) int { return int(a.Interval - b.Interval) })
		} else {
			h.Monitors[i] = kept
		}
	} else {
		k := kept
		h.Last = &k
		switch op.Action {
		case ocf.Start, ocf.Stop, ocf.Promote, ocf.Demote, ocf.Monitor:
			// A cancelled start or promote may have done part of its
			// work: it is the state (a failed one). A cancelled stop,
			// demote or probe tells nothing.
			if op.Status != StatusCancelled || op.Action == ocf.Start || op.Action == ocf.Promote {
				s := kept
				h.State = &s
			}
		}
	}
	// A failure counts once: a recurring monitor that keeps failing is
	// recorded failed each time, but counted when its result changed.
	if op.Failed && recent {
		k := kept
		h.LastFailure = &k
		h.FailCounts[op.OpKey()]++
	}
	if !recent {
		return op
	}
	h.Recent = append(h.Recent, kept)
	if over := len(h.Recent) - m.opt.HistoryDepth; over > 0 {
		h.Recent = slices.Delete(h.Recent, 0, over)
	}
	return op
}

// excerpt keeps the last n bytes of an agent's output: its end says most
// about a failure.
func excerpt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "[...]" + s[len(s)-n:]
}

// History returns a copy of what is known of one resource (ok false if
// nothing).
func (m *Manager) History(rsc string) (History, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.hist[rsc]
	if h == nil {
		return History{}, false
	}
	return m.copyLocked(h), true
}

// Histories returns every resource's history, sorted by name.
func (m *Manager) Histories() []History {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]History, 0, len(m.hist))
	for _, k := range slices.Sorted(maps.Keys(m.hist)) {
		out = append(out, m.copyLocked(m.hist[k]))
	}
	return out
}

func (m *Manager) copyLocked(h *History) History {
	c := *h
	c.Monitors = slices.Clone(h.Monitors)
	c.Recent = slices.Clone(h.Recent)
	c.FailCounts = maps.Clone(h.FailCounts)
	if h.Last != nil {
		l := *h.Last
		c.Last = &l
	}
	if h.LastFailure != nil {
		l := *h.LastFailure
		c.LastFailure = &l
	}
	if h.State != nil {
		l := *h.State
		c.State = &l
	}
	c.Recurring = nil
	for _, r := range m.recurring {
		if r.req.Rsc == h.Rsc {
			c.Recurring = append(c.Recurring, Recurring{Interval: r.req.Interval, Expect: r.expect})
		}
	}
	slices.SortFunc(c.Recurring, func(a, b Recurring) int { return int(a.Interval - b.Interval) })
	return c
}

// Cleanup forgets a resource's failures: its fail counts and last
// failure (`paceline resource cleanup`). With forget, the whole history
// goes, so that the next probe decides what the resource's state is.
func (m *Manager) Cleanup(rsc string, forget bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.hist[rsc]
	if h == nil {
		return
	}
	if forget {
		delete(m.hist, rsc)
		return
	}
	h.FailCounts = map[string]int{}
	h.LastFailure = nil
}
