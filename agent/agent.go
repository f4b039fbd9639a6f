// Package agent is the node agent: it runs this node's replica of the
// cluster configuration (cib/raftstore) and serves the local API on a unix
// socket. Later roles (membership, controller, LRM) hang off it.
package agent

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paceline/paceline/agents/vrrp"
	"github.com/paceline/paceline/alerts"
	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/cib/raftstore"
	"github.com/paceline/paceline/crm"
	"github.com/paceline/paceline/lrm"
	"github.com/paceline/paceline/messaging"
	"github.com/paceline/paceline/pki"
)

// Version is the agent's version, reported by the API.
var Version = "dev"

// Agent is one node's agent.
type Agent struct {
	cfg   Config
	log   *slog.Logger
	store *raftstore.Store
	ms    *messaging.Membership // nil when gossip-port is 0
	lrm   *lrm.Manager
	node  *crm.NodeExecutor
	ctl   *crm.Controller
	fence *fenceState

	alerts *alerts.Runner // runs the configured alert agents (alerts.go)
	vrrp   *vrrp.Agent    // the built-in ocf:paceline:vrrp (vrrp.go)

	wasQuorate      atomic.Bool // the last quorum decision (for wait_for_all)
	quorumUnblocked atomic.Bool // `paceline quorum unblock`: wait_for_all lifted
	ping            *pinger
	ln              net.Listener
	srv             *http.Server
	obs             *observer // the opt-in metrics and web listener (observe.go)
	metrics         *metrics  // Prometheus registry and event counters (metrics.go)

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	// started is when the agent started: a two-node peer never seen since
	// counts as lost from then (quorum unblock, tiebreak-delay).
	started time.Time
}

// Options tune an agent beyond its config file (tests).
type Options struct {
	// SnapshotThreshold and TrailingLogs override raft's (tests force
	// snapshots with small values).
	SnapshotThreshold, TrailingLogs uint64
}

// Start opens the configuration store and the local API. The agent runs
// until Stop; Run wraps Start and Stop around a context.
func Start(cfg Config, log *slog.Logger, opt Options) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("node", cfg.Name)
	tlsConf, err := pki.LoadTLSConfig(cfg.TLS.CA, cfg.TLS.Cert, cfg.TLS.Key)
	if err != nil {
		return nil, err
	}
	timing, _ := raftstore.TimingProfile(cfg.Timing)
	a := &Agent{cfg: cfg, log: log, started: time.Now()}
	if a.metrics, err = newMetrics(a); err != nil {
		return nil, err
	}
	a.store, err = raftstore.Open(raftstore.Options{
		Name: cfg.Name, DataDir: cfg.DataDir, Bind: cfg.Bind, Advertise: cfg.AdvertiseAddr(),
		TLS: tlsConf, Bootstrap: cfg.Peers, Join: cfg.Join, MaxVoters: cfg.MaxVoters,
		Timing: timing, SnapshotThreshold: opt.SnapshotThreshold, TrailingLogs: opt.TrailingLogs,
		Logger: log, OnApply: a.metrics.raftApply,
	})
	if err != nil {
		return nil, err
	}
	if cfg.GossipPort > 0 {
		if a.ms, err = a.startMembership(); err != nil {
			a.store.Close()
			return nil, err
		}
		a.store.Handle("keyring", a.handleKeyringRPC)
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.lrm = a.newLRM(a.ctx)
	a.alerts = a.newAlerts() // alerts.go
	a.node = &crm.NodeExecutor{LRM: a.lrm, Config: a.store.Config, MayStart: a.mayStart}
	a.ctl = crm.New(meteredCluster{cluster{a}, a.metrics}, crm.Options{Log: log, OnTransition: a.metrics.transition})
	a.fence = a.newFenceState()
	a.registerLRMRPCs()
	a.registerWebRPCs() // web view: this node's transitions as DC (webstate.go)
	var wd *os.File
	if cfg.Watchdog.Device != "" {
		if wd, err = openWatchdog(cfg.Watchdog, log); err != nil {
			a.cancel()
			a.lrm.Close()
			a.stopMembership(false)
			a.store.Close()
			return nil, err
		}
	}
	// Before the listeners: the web view's and the metrics' quorum reads
	// the pinger as soon as a request comes.
	a.ping = &pinger{a: a, kick: make(chan struct{}, 1)}
	undo := func() {
		a.cancel()
		a.lrm.Close()
		a.stopMembership(false)
		a.store.Close()
		if wd != nil {
			_, _ = wd.Write([]byte{'V'}) // magic close: the watchdog stops
			_ = wd.Close()
		}
	}
	if err := a.listen(); err != nil {
		undo()
		return nil, err
	}
	if err := a.startObserver(); err != nil {
		_ = a.ln.Close()
		undo()
		return nil, err
	}
	a.srv = &http.Server{Handler: a.routes(), ReadHeaderTimeout: 10 * time.Second, ConnContext: peerContext} // peerContext: audit.go
	go func() {
		if err := a.srv.Serve(a.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("api server stopped", "err", err)
		}
	}()
	a.metrics.start() // the state collector may read the agent from now
	a.done = make(chan struct{})
	go func() {
		defer close(a.done)
		var wg sync.WaitGroup
		wg.Go(func() { a.runAlerts(a.ctx) }) // alerts.go
		if wd != nil {
			wg.Go(func() { _ = runWatchdog(a.ctx, wd, cfg.Watchdog, a.watchdogMayRun, log) })
		}
		if a.ms != nil {
			wg.Go(func() { a.joinGossip(a.ctx) })
			wg.Go(func() { a.ping.run(a.ctx) })
		}
		a.startController(a.ctx)
		a.registerSelf(a.ctx)
		wg.Wait()
	}()
	log.Info("agent started", "bind", cfg.Bind, "socket", cfg.APISocket)
	return a, nil
}

// listen opens the API socket: mode 0600, or 0660 for APISocketGroup, in
// a directory checked safe (socket.go).
func (a *Agent) listen() error {
	ln, err := openAPISocket(a.cfg.APISocket, a.cfg.APISocketGroup, a.log)
	if err != nil {
		return err
	}
	a.ln = ln
	return nil
}

// Run starts the agent, registers this node in the configuration once a
// leader is known, and runs until ctx ends or the store stops on a fatal
// error.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	a, err := Start(cfg, log, Options{})
	if err != nil {
		return err
	}
	defer a.Stop()
	sd := a.notifySystemd(ctx) // sdnotify.go: READY=1, STATUS=, WATCHDOG=1; nothing without NOTIFY_SOCKET
	defer sd.close()
	select {
	case <-ctx.Done():
		a.log.Info("stopping")
		sd.stopping("stopping: this node's resources first, then leaving the cluster")
		if a.cfg.Resources.Managed() {
			// A clean stop takes this node's resources down first (the
			// others recover them once its lease has run out).
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			a.selfStop(sctx, a.store.Config(), false)
			cancel()
		}
		a.drainAlerts() // alerts.go
		a.stopMembership(true)
		return nil
	case <-a.store.Fatal():
		return a.store.FatalErr()
	}
}

// Store returns the node's configuration replica.
func (a *Agent) Store() *raftstore.Store { return a.store }

// Config returns the node config.
func (a *Agent) Config() Config { return a.cfg }

// Stop ends the API and the store. To the other nodes it looks like a
// crash; the node resumes from its data dir when started again.
func (a *Agent) Stop() {
	a.cancel()
	<-a.done
	a.stopObserver()
	if a.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = a.srv.Shutdown(ctx)
		cancel()
	}
	if a.ln != nil {
		_ = os.Remove(a.cfg.APISocket)
	}
	a.lrm.Close()
	a.stopMembership(false)
	a.store.Close()
}

// Membership returns the node's membership, or nil without gossip.
func (a *Agent) Membership() *messaging.Membership { return a.ms }

func (a *Agent) startMembership() (*messaging.Membership, error) {
	keys, err := a.loadKeyring()
	if err != nil {
		return nil, err
	}
	t, err := messaging.TimingProfile(a.cfg.Timing)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(a.cfg.Bind)
	advHost, _, _ := net.SplitHostPort(a.cfg.AdvertiseAddr())
	port := strconv.Itoa(a.cfg.GossipPort)
	return messaging.Start(messaging.Options{
		Name: a.cfg.Name, Bind: net.JoinHostPort(host, port), Advertise: net.JoinHostPort(advHost, port),
		Keys: keys, Timing: t.Override(a.cfg.GossipTiming), Logger: a.log,
		Meta: messaging.Meta{RaftAddr: a.cfg.AdvertiseAddr(), Votes: 1, Version: Version},
	})
}

// joinGossip contacts the peers' gossip ports until one answers.
func (a *Agent) joinGossip(ctx context.Context) {
	peers := a.cfg.GossipJoin
	if len(peers) == 0 {
		return
	}
	for try := 0; ctx.Err() == nil; try++ {
		n, err := a.ms.Join(peers)
		if err == nil && n > 0 {
			a.log.Info("joined gossip", "contacted", n)
			return
		}
		if try%20 == 0 { // at start, then every ~10 s: peers may just not be up yet
			a.log.Warn("gossip join failed (peers down, or not sharing this node's encrypt-key?)", "peers", peers, "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// stopMembership leaves gracefully (a clean stop) or just stops (a crash,
// as far as the others can tell).
func (a *Agent) stopMembership(graceful bool) {
	if a.ms == nil {
		return
	}
	if graceful {
		if err := a.ms.Leave(time.Second); err != nil {
			a.log.Warn("gossip leave", "err", err)
		}
	} else {
		_ = a.ms.Shutdown()
	}
}

// registerSelf adds this node to the cluster configuration if missing.
func (a *Agent) registerSelf(ctx context.Context) {
	for ctx.Err() == nil {
		if a.store.Config().Node(a.cfg.Name) != nil {
			return
		}
		if err := a.store.WaitLeader(ctx); err == nil {
			_, err := a.store.Apply(ctx, &cib.RegisterNode{Name: a.cfg.Name})
			if err == nil {
				a.log.Info("registered node in the configuration")
				return
			}
			a.log.Debug("register node", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}
