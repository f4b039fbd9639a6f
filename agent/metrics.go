package agent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/paceline/paceline/agents/vrrp"
	"github.com/paceline/paceline/agents/vrrp/fsm"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/cib/raftstore"
	"github.com/paceline/paceline/crm"
	"github.com/paceline/paceline/crm/scheduler"
	"github.com/paceline/paceline/fencing"
	"github.com/paceline/paceline/lrm"
	"github.com/paceline/paceline/messaging"
)

// Prometheus metrics (docs/metrics.md lists them all). Each agent has a
// registry of its own: several agents share one test process. What is
// state (membership, quorum, DC, raft, fail counts, VRRP) is read when
// scraped, by stateCollector; what is an event (a scheduler run, a
// transition, an action, a fence, a configuration write) is counted by a
// hook the controller, the cluster adapter, the LRM, fencing and the
// store call: none of them waits on the metrics.
//
//	crm.Options.OnTransition ──► scheduler runs, transitions
//	meteredCluster.Send ───────► actions the DC dispatched
//	lrm OnResult (alerts.go) ──► operations this node ran
//	runFence (fencing.go) ─────► fencing operations this node ran
//	raftstore.Options.OnApply ─► configuration writes
//	stateCollector (scrape) ───► members, quorum, DC, raft, fail counts, VRRP

// metrics is one agent's registry and its event metrics. A nil *metrics
// counts nothing.
type metrics struct {
	a   *Agent
	reg *prometheus.Registry
	// ready is set once the agent has started: the state collector reads
	// nothing before (the quorum reads the pinger, set last).
	ready atomic.Bool

	schedRuns      prometheus.Counter
	schedDuration  prometheus.Histogram
	transitions    *prometheus.CounterVec
	transitionDur  *prometheus.HistogramVec
	actions        *prometheus.CounterVec
	actionDur      *prometheus.HistogramVec
	operations     *prometheus.CounterVec
	operationDur   *prometheus.HistogramVec
	fences         *prometheus.CounterVec
	fenceDur       *prometheus.HistogramVec
	raftApplies    *prometheus.CounterVec
	raftApplyDur   *prometheus.HistogramVec
	transitionLast prometheus.Gauge
}

// Label values of results.
const (
	resultOK        = "ok"
	resultFailed    = "failed"
	resultComplete  = "complete"
	resultAborted   = "aborted"
	resultRejected  = "rejected"
	resultError     = "error"
	resultConfirmed = "confirmed"
)

// newMetrics makes the agent's registry: the Go and process collectors,
// the state collector and the event metrics.
func newMetrics(a *Agent) (*metrics, error) {
	m := &metrics{a: a, reg: prometheus.NewRegistry()}
	// Histogram buckets, in seconds.
	fastBuckets := []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	actionBuckets := []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}
	fenceBuckets := []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300}
	m.schedRuns = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "paceline_scheduler_runs_total",
		Help: "Scheduler runs this node made as DC (each one a plan, with or without actions).",
	})
	m.schedDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "paceline_scheduler_run_duration_seconds",
		Help:    "Time from the start of a scheduler run (collecting the nodes' histories included) to its plan.",
		Buckets: fastBuckets,
	})
	m.transitions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "paceline_transitions_total",
		Help: "Transitions (plans with actions) this node executed as DC, by result: complete, or aborted (a failed action or a new event).",
	}, []string{"result"})
	m.transitionDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "paceline_transition_duration_seconds",
		Help:    "Time from the start of a transition's scheduler run to its last action's result, by result.",
		Buckets: actionBuckets,
	}, []string{"result"})
	m.transitionLast = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "paceline_transition_last_timestamp_seconds",
		Help: "When the last transition this node executed as DC started (Unix time; 0: none yet).",
	})
	m.actions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "paceline_actions_total",
		Help: "Resource actions this node dispatched as DC, by agent, operation and result.",
	}, []string{"agent", "op", "result"})
	m.actionDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "paceline_action_duration_seconds",
		Help:    "Time from the DC dispatching a resource action to its result, by agent, operation and result.",
		Buckets: actionBuckets,
	}, []string{"agent", "op", "result"})
	m.operations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "paceline_lrm_operations_total",
		Help: "Resource agent operations this node's LRM ran (recurring monitors included), by agent, operation and result.",
	}, []string{"agent", "op", "result"})
	m.operationDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "paceline_lrm_operation_duration_seconds",
		Help:    "Execution time of the resource agent operations this node's LRM ran, by agent and operation.",
		Buckets: actionBuckets,
	}, []string{"agent", "op"})
	m.fences = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "paceline_fencing_operations_total",
		Help: "Fencing operations this node executed, by action (off, reboot, on) and result (done, failed, confirmed).",
	}, []string{"action", "result"})
	m.fenceDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "paceline_fencing_duration_seconds",
		Help:    "Time a fencing operation this node executed took (fence delay included), by action and result.",
		Buckets: fenceBuckets,
	}, []string{"action", "result"})
	m.raftApplies = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "paceline_raft_applies_total",
		Help: "Configuration commands proposed on this node, by command and result (ok, rejected, error).",
	}, []string{"command", "result"})
	m.raftApplyDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "paceline_raft_apply_duration_seconds",
		Help:    "Time to validate, commit (forwarded to the leader if need be) and apply one configuration command here, by result.",
		Buckets: fastBuckets,
	}, []string{"result"})
	// Series that exist before their first event, so rates start at 0.
	for _, r := range []string{resultComplete, resultAborted} {
		m.transitions.WithLabelValues(r)
		m.transitionDur.WithLabelValues(r)
	}
	for _, r := range []string{resultOK, resultRejected, resultError} {
		m.raftApplyDur.WithLabelValues(r)
	}
	for _, act := range []string{fencing.Reboot, fencing.Off} {
		for _, r := range []string{fencing.Done, fencing.Failed} {
			m.fences.WithLabelValues(act, r)
			m.fenceDur.WithLabelValues(act, r)
		}
	}
	var errs []error
	for _, c := range append([]prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}, m.own()...) {
		if err := m.reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return m, nil
}

// own are the collectors of Paceline's own metrics (docs/metrics.md).
func (m *metrics) own() []prometheus.Collector {
	return []prometheus.Collector{
		newStateCollector(m),
		m.schedRuns, m.schedDuration, m.transitions, m.transitionDur, m.transitionLast,
		m.actions, m.actionDur, m.operations, m.operationDur,
		m.fences, m.fenceDur, m.raftApplies, m.raftApplyDur,
	}
}

// start lets the state collector read the agent (called once it runs).
func (m *metrics) start() {
	if m != nil {
		m.ready.Store(true)
	}
}

// registerMetrics adds /metrics to the observation listener.
func (a *Agent) registerMetrics(mux *http.ServeMux) {
	if a.metrics == nil {
		return
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.metrics.reg, promhttp.HandlerOpts{
		ErrorLog:            promLog{a.log},
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	}))
}

// Metrics is the agent's metrics registry (tests lint it).
func (a *Agent) Metrics() prometheus.Gatherer {
	if a.metrics == nil {
		return prometheus.NewRegistry()
	}
	return a.metrics.reg
}

// promLog passes the handler's gathering errors to the agent's log.
type promLog struct{ log *slog.Logger }

func (l promLog) Println(v ...any) { l.log.Warn("metrics", "err", fmt.Sprint(v...)) }

// transition counts a scheduler run (crm.Options.OnTransition).
func (m *metrics) transition(tr crm.Transition) {
	if m == nil {
		return
	}
	m.schedRuns.Inc()
	m.schedDuration.Observe(tr.ScheduleM / 1000)
	if tr.Actions == 0 {
		return
	}
	res := resultComplete
	if tr.Aborted {
		res = resultAborted
	}
	m.transitions.WithLabelValues(res).Inc()
	m.transitionDur.WithLabelValues(res).Observe(tr.TookMS / 1000)
	m.transitionLast.Set(float64(tr.Started.UnixNano()) / 1e9)
}

// action counts a resource action the DC dispatched and its result.
func (m *metrics) action(a scheduler.Action, r lrm.Result, took time.Duration) {
	if m == nil {
		return
	}
	agent := "unknown"
	if m.a.store != nil {
		if p := m.a.store.Config().Primitive(a.Rsc); p != nil {
			agent = p.Agent
		}
	}
	res := resultOK
	switch {
	case crm.Expected(a, r):
	case r.Status == lrm.StatusDone:
		res = resultFailed
	default:
		res = string(r.Status)
	}
	op := a.Op
	if a.IsProbe() {
		op = "probe"
	}
	m.actions.WithLabelValues(agent, op, res).Inc()
	m.actionDur.WithLabelValues(agent, op, res).Observe(took.Seconds())
}

// operation counts an operation this node's LRM ran (lrm OnResult).
func (m *metrics) operation(c lrm.Completion) {
	if m == nil || c.Op.Action == "meta-data" {
		return
	}
	res := resultOK
	switch {
	case c.Op.Status != lrm.StatusDone:
		res = string(c.Op.Status)
	case c.Op.Failed:
		res = resultFailed
	}
	op := c.Op.Action
	if op == "monitor" && c.Op.Interval == 0 {
		op = "probe"
	}
	agent := cmp.Or(c.Op.Agent, "unknown")
	m.operations.WithLabelValues(agent, op, res).Inc()
	m.operationDur.WithLabelValues(agent, op).Observe(c.Op.ExecMS / 1000)
}

// fenced counts a fencing operation this node executed (runFence).
func (m *metrics) fenced(op fencing.Op) {
	if m == nil || op.State == fencing.Pending {
		return
	}
	res := op.State
	if op.Confirmed {
		res = resultConfirmed
	}
	action := cmp.Or(op.Action, "unknown")
	m.fences.WithLabelValues(action, res).Inc()
	if !op.Completed.IsZero() {
		m.fenceDur.WithLabelValues(action, res).Observe(op.Completed.Sub(op.Started).Seconds())
	}
}

// raftApply counts a configuration command proposed here
// (raftstore.Options.OnApply).
func (m *metrics) raftApply(cmd cib.Command, took time.Duration, err error) {
	if m == nil {
		return
	}
	res := resultOK
	var rej *raftstore.RejectedError
	switch {
	case errors.As(err, &rej):
		res = resultRejected
	case err != nil:
		res = resultError
	}
	name := "unknown"
	if cmd != nil {
		name = cmd.Type().String()
	}
	m.raftApplies.WithLabelValues(name, res).Inc()
	m.raftApplyDur.WithLabelValues(res).Observe(took.Seconds())
}

// meteredCluster is the controller's cluster with the actions it sends
// counted.
type meteredCluster struct {
	crm.Cluster
	m *metrics
}

func (c meteredCluster) Send(ctx context.Context, node string, o crm.Order) lrm.Result {
	start := time.Now()
	r := c.Cluster.Send(ctx, node, o)
	c.m.action(o.Action, r, time.Since(start))
	return r
}

// stateCollector reads the agent's state when scraped.
type stateCollector struct {
	m                                                       *metrics
	buildInfo, members, nodes                               *prometheus.Desc
	quorate, votes, expected, needed                        *prometheus.Desc
	isDC, dcTerm, dcInfo                                    *prometheus.Desc
	raftLeader, raftCommit, raftApplied, raftServers, epoch *prometheus.Desc
	failCount                                               *prometheus.Desc
	gossipDropped, clusterRefused                           *prometheus.Desc
	vrrpState, vrrpPrio, vrrpDropped                        *prometheus.Desc
	vrrpCounters                                            []vrrpCounter
}

// vrrpCounter is one of a VRRP instance's counters.
type vrrpCounter struct {
	desc *prometheus.Desc
	get  func(vrrp.InstanceCounters) uint64
}

func newStateCollector(m *metrics) *stateCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	// VRRP names as agents/vrrp's WriteMetrics (paceline vrrp), plus the
	// resource running the instance; the instance's label is vrrp_instance
	// here, as instance is the scrape target's label in Prometheus.
	vl := []string{"resource", "vrrp_instance", "interface", "vrid"}
	vc := func(name, help string, get func(vrrp.InstanceCounters) uint64) vrrpCounter {
		return vrrpCounter{d(name, help, vl...), get}
	}
	return &stateCollector{
		m:           m,
		buildInfo:   d("paceline_build_info", "Always 1; the agent's version in a label.", "version"),
		members:     d("paceline_members", "Gossip members as this node sees them, by state (alive, suspect, failed, left).", "state"),
		nodes:       d("paceline_nodes", "Nodes by state as the scheduler would see them from this node (online, unclean, offline).", "state"),
		quorate:     d("paceline_quorate", "1 if this node's partition has quorum, else 0."),
		votes:       d("paceline_quorum_votes", "Votes of the configured nodes present in this node's partition."),
		expected:    d("paceline_quorum_expected_votes", "Sum of every configured node's votes."),
		needed:      d("paceline_quorum_needed_votes", "Votes needed for quorum: a strict majority of the expected votes (a two-node survivor may win the tiebreak with fewer)."),
		isDC:        d("paceline_is_dc", "1 if this node is the DC (designated coordinator), else 0."),
		dcTerm:      d("paceline_dc_term", "The raft term as this node knows it: the DC's orders carry it, and every election raises it."),
		dcInfo:      d("paceline_dc_info", "Always 1, naming the DC as this node knows it (absent while there is none).", "dc"),
		raftLeader:  d("paceline_raft_is_leader", "1 if this node is the raft leader, else 0."),
		raftCommit:  d("paceline_raft_commit_index", "The highest raft log index known committed on this node."),
		raftApplied: d("paceline_raft_applied_index", "The highest raft log index applied on this node."),
		raftServers: d("paceline_raft_servers", "Raft configuration members, by suffrage (voter, nonvoter).", "suffrage"),
		epoch:       d("paceline_config_epoch", "The configuration epoch of this node's replica (one more per change)."),
		failCount:   d("paceline_resource_failcount", "A resource's fail count on this node (all its operations), until a cleanup.", "resource", "node"),
		gossipDropped: d("paceline_gossip_dropped_messages_total",
			"Gossip messages this node dropped for breaking a limit (bad node names, oversized attributes or state; docs/hardening.md)."),
		clusterRefused: d("paceline_cluster_port_refused_connections_total",
			"Connections the cluster port refused: over its limits, or a failed TLS handshake (not a member of this cluster?)."),
		vrrpState:   d("paceline_vrrp_state", "A VRRP instance's state: 1 for the current one (INIT, BACKUP, MASTER, FAULT).", append(vl[:4:4], "state")...),
		vrrpPrio:    d("paceline_vrrp_priority", "A VRRP instance's effective priority (its base priority with track adjustments).", vl...),
		vrrpDropped: d(vrrp.DropMetric, vrrp.DropMetricHelp, append(vl[:4:4], "reason")...),
		vrrpCounters: []vrrpCounter{
			vc("paceline_vrrp_adverts_sent_total", "VRRP advertisements sent.", func(c vrrp.InstanceCounters) uint64 { return c.AdvertsSent }),
			vc("paceline_vrrp_adverts_received_total", "VRRP advertisements received and taken by the instance.", func(c vrrp.InstanceCounters) uint64 { return c.AdvertsReceived }),
			vc("paceline_vrrp_priority_zero_sent_total", "VRRP priority 0 advertisements sent (the master resigning).", func(c vrrp.InstanceCounters) uint64 { return c.PriorityZeroSent }),
			vc("paceline_vrrp_priority_zero_received_total", "VRRP priority 0 advertisements received.", func(c vrrp.InstanceCounters) uint64 { return c.PriorityZeroReceived }),
			vc("paceline_vrrp_became_master_total", "Times the VRRP instance became master.", func(c vrrp.InstanceCounters) uint64 { return c.BecameMaster }),
			vc("paceline_vrrp_send_errors_total", "VRRP advertisements that could not be sent.", func(c vrrp.InstanceCounters) uint64 { return c.SendErrors }),
			vc("paceline_vrrp_address_errors_total", "Virtual addresses that could not be added or removed.", func(c vrrp.InstanceCounters) uint64 { return c.AddressErrors }),
		},
	}
}

func (s *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{s.buildInfo, s.members, s.nodes, s.quorate, s.votes, s.expected, s.needed,
		s.isDC, s.dcTerm, s.dcInfo, s.raftLeader, s.raftCommit, s.raftApplied, s.raftServers, s.epoch,
		s.failCount, s.gossipDropped, s.clusterRefused, s.vrrpState, s.vrrpPrio, s.vrrpDropped} {
		ch <- d
	}
	for _, c := range s.vrrpCounters {
		ch <- c.desc
	}
}

func (s *stateCollector) Collect(ch chan<- prometheus.Metric) {
	put := func(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) {
		m, err := prometheus.NewConstMetric(d, t, v, labels...)
		if err != nil {
			m = prometheus.NewInvalidMetric(d, err)
		}
		ch <- m
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) { put(d, prometheus.GaugeValue, v, labels...) }
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	gauge(s.buildInfo, 1, Version)
	a := s.m.a
	if !s.m.ready.Load() {
		return
	}
	now := time.Now()

	// Membership and quorum.
	members := []messaging.Member{{Name: a.cfg.Name, State: messaging.Alive}}
	if a.ms != nil {
		members = a.ms.Members()
	}
	byState := map[messaging.State]int{}
	for _, mb := range members {
		byState[mb.State]++
	}
	for _, st := range []messaging.State{messaging.Alive, messaging.Suspect, messaging.Failed, messaging.Left} {
		gauge(s.members, float64(byState[st]), string(st))
	}
	nodes, _ := cluster{a}.Membership(now)
	nodeStates := map[scheduler.NodeState]int{}
	for _, st := range nodes {
		nodeStates[st]++
	}
	for _, st := range []scheduler.NodeState{scheduler.NodeOnline, scheduler.NodeUnclean, scheduler.NodeOffline} {
		gauge(s.nodes, float64(nodeStates[st]), string(st))
	}
	d := a.quorumOf(members, now)
	gauge(s.quorate, b2f(d.Quorate))
	gauge(s.votes, float64(d.Votes))
	gauge(s.expected, float64(d.Expected))
	gauge(s.needed, float64(d.Needed))

	// The DC and raft.
	info := a.store.Info()
	_, isDC := cluster{a}.DC()
	gauge(s.isDC, b2f(isDC))
	gauge(s.dcTerm, float64(info.Term))
	switch {
	case isDC:
		gauge(s.dcInfo, 1, a.cfg.Name)
	case info.Leader != "":
		gauge(s.dcInfo, 1, info.Leader)
	}
	gauge(s.raftLeader, b2f(a.store.IsLeader()))
	if ci, err := strconv.ParseUint(a.store.Stats()["commit_index"], 10, 64); err == nil {
		gauge(s.raftCommit, float64(ci))
	}
	gauge(s.raftApplied, float64(info.Applied))
	voters := 0
	for _, srv := range info.Servers {
		if srv.Voter {
			voters++
		}
	}
	gauge(s.raftServers, float64(voters), "voter")
	gauge(s.raftServers, float64(len(info.Servers)-voters), "nonvoter")
	gauge(s.epoch, float64(info.Epoch))
	put(s.clusterRefused, prometheus.CounterValue, float64(a.store.RefusedConns()))
	if a.ms != nil {
		put(s.gossipDropped, prometheus.CounterValue, float64(a.ms.Dropped()))
	}

	// This node's fail counts.
	if a.lrm != nil {
		for _, h := range a.lrm.Histories() {
			gauge(s.failCount, float64(h.FailCount()), h.Rsc, a.cfg.Name)
		}
	}

	// The built-in VRRP agent's instances on this node.
	if a.vrrp != nil {
		for _, st := range a.vrrp.StatusAll() {
			l := []string{st.Resource, st.Name, st.Interface, strconv.Itoa(int(st.VRID))}
			for _, state := range []fsm.State{fsm.Init, fsm.Backup, fsm.Master, fsm.Fault} {
				gauge(s.vrrpState, b2f(st.State == state.String()), append(l[:4:4], state.String())...)
			}
			gauge(s.vrrpPrio, float64(st.Priority), l...)
			for _, c := range s.vrrpCounters {
				put(c.desc, prometheus.CounterValue, float64(c.get(st.Counters)), l...)
			}
			for _, r := range vrrp.DropReasons() {
				put(s.vrrpDropped, prometheus.CounterValue, float64(st.Counters.Dropped[r.String()]), append(l[:4:4], r.String())...)
			}
		}
	}
}
