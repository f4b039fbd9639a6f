package vrrp

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/agents/vrrp/kaconf"
)

const agentName = "vrrp"

// Agent is the built-in agent ocf:paceline:vrrp: the VRRP instances of a
// keepalived.conf as a cluster resource, usually a clone (each node with
// its own file at the same path, as keepalived is deployed). It runs them
// in the Paceline agent's process, and Paceline's quorum gates
// mastership: while this node may not run resources (no lease: its
// partition has no quorum, or it lost the two-node tiebreak) every
// instance is in FAULT, so it is never master; a master that loses
// quorum resigns at once with a priority 0 advert and releases its
// addresses. This is what keepalived alone cannot promise: on a cut
// link, both of its sides become master.
type Agent struct {
	bg     context.Context
	mayRun func() (bool, string)
	log    *slog.Logger
	addrs  Addresser
	every  time.Duration
	// listen, when set, replaces the raw sockets (tests).
	listen  func(ctx context.Context, cfg Config, log *slog.Logger) (packetConn, error)
	mu      sync.Mutex
	running map[string]*resident
}

// resident is one resource's router, running.
type resident struct {
	r      *Router
	cancel context.CancelFunc
	done   chan struct{}
	err    error // Run's result, once done is closed
	config string
}

// AgentOption configures the agent.
type AgentOption func(*Agent)

// WithGate makes mayRun the quorum gate: polled every 10 ms, false puts
// every instance in FAULT with its reason.
func WithGate(mayRun func() (bool, string)) AgentOption {
	return func(a *Agent) { a.mayRun = mayRun }
}

// WithAddresser replaces the vip agent (tests).
func WithAddresser(ad Addresser) AgentOption { return func(a *Agent) { a.addrs = ad } }

// NewAgent makes the agent. bg is the agent process's lifetime: the
// routers run in it; nil (an OCF executable whose process ends with the
// action) refuses start, since nothing would keep the router running.
func NewAgent(bg context.Context, log *slog.Logger, opts ...AgentOption) *Agent {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Agent{bg: bg, log: log, every: 10 * time.Millisecond, running: map[string]*resident{}}
	for _, o := range opts {
		o(a)
	}
	if a.addrs == nil && bg != nil {
		a.addrs = NewVIPAddresser(bg, log)
	}
	return a
}

// Name is the agent's type.
func (*Agent) Name() string { return agentName }

// MetaData describes the agent.
func (*Agent) MetaData() *ocf.ResourceAgent {
	return &ocf.ResourceAgent{
		Name: agentName, Version: "1.0",
		LongDesc: ocf.En("Runs the VRRP instances of a keepalived.conf (global_defs, vrrp_script, vrrp_instance, vrrp_sync_group, include) " +
			"inside the Paceline agent, as `paceline vrrp --config FILE` does standalone. Run it as a clone, each node with its own file. " +
			"Paceline's quorum gates mastership: a node that may not run resources (its partition has no quorum, or it lost the two-node " +
			"tiebreak) keeps every instance in FAULT, and a master that loses quorum resigns at once. The monitor fails when the " +
			"router stopped on an error."),
		ShortDesc: ocf.En("VRRP from a keepalived.conf, gated by quorum"),
		Parameters: []ocf.Parameter{{
			Name: "config", Required: 1,
			LongDesc:  ocf.En("The keepalived.conf to run (an absolute path on each node)."),
			ShortDesc: ocf.En("keepalived.conf"),
			Content:   ocf.Content{Type: "string"},
		}, {
			Name:      "config_id",
			LongDesc:  ocf.En("Selects @ID conditional lines, as keepalived's -i (default: the node's host name up to its first dot)."),
			ShortDesc: ocf.En("Configuration id"),
			Content:   ocf.Content{Type: "string"},
		}},
		Actions: []ocf.ActionDef{
			{Name: ocf.Start, Timeout: "20s"},
			{Name: ocf.Stop, Timeout: "20s"},
			{Name: ocf.Monitor, Timeout: "20s", Interval: "10s", Depth: "0"},
			{Name: ocf.MetaData, Timeout: "5s"},
			{Name: ocf.ValidateAll, Timeout: "20s"},
		},
	}
}

// Run performs one action.
func (a *Agent) Run(ctx context.Context, act *ocf.Action) int {
	if act.Name == ocf.MetaData {
		return ocf.PrintMetaData(act, a.MetaData())
	}
	key := act.Instance
	var err error
	switch act.Name {
	case ocf.Start:
		err = a.start(ctx, act, key)
	case ocf.Stop:
		err = a.stop(ctx, act, key)
	case ocf.Monitor:
		err = a.monitor(ctx, act, key)
	case ocf.ValidateAll:
		var l *Loaded
		if l, err = a.load(act); err == nil {
			act.Printf("%d VRRP instance(s)", len(l.Instances))
		}
	default:
		act.Printf("%s: action %q is not implemented", agentName, act.Name)
		return ocf.ErrUnimplemented
	}
	rc := ocf.RC(err)
	if err != nil {
		act.Printf("%v", err)
		if rc != ocf.NotRunning {
			a.log.Error("action failed", "action", act.Name, "rc", rc, "err", err)
		}
	}
	return rc
}

// load parses and checks the configuration; warnings go to the output.
func (a *Agent) load(act *ocf.Action) (*Loaded, error) {
	path := act.Param("config", "")
	if path == "" {
		return nil, ocf.Failf(ocf.ErrConfigured, "parameter config is required (a keepalived.conf)")
	}
	l, err := Load(path, act.Param("config_id", ""), a.log, func(w kaconf.Warning) { act.Printf("warning: %s", w) })
	if err != nil {
		return nil, ocf.Failf(ocf.ErrConfigured, "%v", err)
	}
	return l, nil
}

func (a *Agent) start(ctx context.Context, act *ocf.Action, key string) error {
	if a.bg == nil {
		return ocf.Failf(ocf.ErrUnimplemented, "ocf:paceline:vrrp runs inside the Paceline agent; standalone, run `paceline vrrp --config FILE`")
	}
	a.mu.Lock()
	res := a.running[key]
	a.mu.Unlock()
	if res != nil {
		select {
		case <-res.done:
		default:
			act.Printf("VRRP from %s: running already", res.config)
			return nil
		}
	}
	l, err := a.load(act)
	if err != nil {
		return err
	}
	var opts []RouterOption
	if a.listen != nil {
		opts = append(opts, withListen(a.listen))
	}
	rctx, cancel := context.WithCancel(a.bg)
	res = &resident{cancel: cancel, done: make(chan struct{}), config: act.Param("config", "")}
	ready := make(chan *Router, 1)
	go func() {
		defer close(res.done)
		res.err = l.Run(rctx, a.addrs, a.log.With("rsc", key), func(r *Router) { ready <- r }, opts...)
	}()
	select {
	case res.r = <-ready:
	case <-res.done:
		cancel()
		return ocf.Failf(ocf.ErrGeneric, "VRRP from %s did not start: %v", res.config, res.err)
	case <-ctx.Done():
		cancel()
		<-res.done
		return ocf.Failf(ocf.ErrGeneric, "VRRP from %s: start cancelled: %v", res.config, ctx.Err())
	}
	if a.mayRun != nil {
		go a.gate(rctx, res.r)
	}
	a.mu.Lock()
	a.running[key] = res
	a.mu.Unlock()
	act.Printf("VRRP from %s: %d instance(s) running", res.config, len(l.Instances))
	return nil
}

// gate keeps the router's instances in FAULT while this node may not run
// resources.
func (a *Agent) gate(ctx context.Context, r *Router) {
	t := time.NewTicker(a.every)
	defer t.Stop()
	held := true // the start was allowed: the gate was open
	for {
		ok, why := a.mayRun()
		if ok != held {
			held = ok
			if ok {
				r.FaultAll("quorum", "")
			} else {
				r.FaultAll("quorum", "this node may not run resources: "+why)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *Agent) stop(ctx context.Context, act *ocf.Action, key string) error {
	a.mu.Lock()
	res := a.running[key]
	delete(a.running, key)
	a.mu.Unlock()
	if res == nil {
		found, cfgs := a.leftovers(ctx, act)
		for _, c := range cfgs {
			for _, v := range slices.Concat(c.VIPs, c.Excluded) {
				if err := a.addrs.Remove(ctx, cmp.Or(v.Dev, c.Interface), v); err != nil {
					return ocf.Failf(ocf.ErrGeneric, "VRRP not running, but removing %s: %v", v.Prefix, err)
				}
			}
		}
		if len(found) > 0 {
			act.Printf("VRRP not running; removed its addresses left behind: %s", strings.Join(found, ", "))
		} else {
			act.Printf("VRRP not running")
		}
		return nil
	}
	res.cancel()
	select {
	case <-res.done:
	case <-ctx.Done():
		return ocf.Failf(ocf.ErrGeneric, "VRRP from %s: the shutdown did not end in time", res.config)
	}
	act.Printf("VRRP from %s stopped", res.config)
	return nil
}

func (a *Agent) monitor(ctx context.Context, act *ocf.Action, key string) error {
	a.mu.Lock()
	res := a.running[key]
	a.mu.Unlock()
	if res == nil {
		if found, _ := a.leftovers(ctx, act); len(found) > 0 {
			return ocf.Failf(ocf.ErrGeneric, "VRRP not running, but its addresses are here: %s", strings.Join(found, ", "))
		}
		return ocf.Failf(ocf.NotRunning, "VRRP not running")
	}
	select {
	case <-res.done:
		return ocf.Failf(ocf.ErrGeneric, "VRRP from %s stopped: %v", res.config, res.err)
	default:
	}
	for _, s := range res.r.Status() {
		act.Printf("%s: %s, priority %d", s.Name, s.State, s.Priority)
	}
	return nil
}

// StatusAll is the status of the instances of every resource running
// here, each with its resource's name, by resource.
func (a *Agent) StatusAll() []Status {
	a.mu.Lock()
	keys := slices.Sorted(maps.Keys(a.running))
	a.mu.Unlock()
	var out []Status
	for _, k := range keys {
		for _, s := range a.Status(k) {
			s.Resource = k
			out = append(out, s)
		}
	}
	return out
}

// Status is the status of a running resource's instances (nil when it
// does not run here).
func (a *Agent) Status(rsc string) []Status {
	a.mu.Lock()
	res := a.running[rsc]
	a.mu.Unlock()
	if res == nil {
		return nil
	}
	return res.r.Status()
}

var _ ocf.Agent = (*Agent)(nil)

// leftovers lists the configuration's virtual addresses present on this
// node although no router of this process runs it (a Paceline agent that
// crashed and restarted): a probe reports them as a failure so that the
// cluster stops the resource here, and the stop removes them.
func (a *Agent) leftovers(ctx context.Context, act *ocf.Action) ([]string, []InstanceConfig) {
	l, err := a.load(act)
	if err != nil || a.addrs == nil {
		return nil, nil
	}
	cfgs := l.Instances
	var found []string
	for _, c := range cfgs {
		for _, v := range slices.Concat(c.VIPs, c.Excluded) {
			dev := cmp.Or(v.Dev, c.Interface)
			if ok, err := a.addrs.Present(ctx, dev, v); err == nil && ok {
				found = append(found, fmt.Sprintf("%s on %s", v.Prefix, dev))
			}
		}
	}
	return found, cfgs
}
