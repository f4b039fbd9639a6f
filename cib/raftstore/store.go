package raftstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/paceline/paceline/cib"
)

// Peer is a raft member by name and address.
type Peer struct {
	Name    string `json:"name" yaml:"name"`
	Address string `json:"address" yaml:"address"`
}

// Options configure a Store.
type Options struct {
	// Name is the node name, the raft server id.
	Name string
	// DataDir holds raft.db (log and stable store) and snapshots/.
	DataDir string
	// Bind is the host:port to listen on; Advertise what peers dial
	// (defaults to Bind).
	Bind, Advertise string
	// TLS is the mutual-TLS configuration (pki.TLSConfig). Required.
	TLS *tls.Config
	// Bootstrap lists the initial voters. A node in this list with no raft
	// state bootstraps the cluster with exactly these voters (every initial
	// node does the same, which raft allows). Empty with no Join: a
	// single-node cluster of this node alone.
	Bootstrap []Peer
	// Join lists addresses of members to ask for admission when this node
	// has no raft state and is not in Bootstrap.
	Join []string
	// MaxVoters: a joining node becomes a voter while the cluster has fewer
	// voters than this, a non-voter after. 3 to 5; default 3.
	MaxVoters int
	// Timing are raft's timeouts; see TimingProfile.
	Timing Timing
	// ApplyTimeout bounds one write, forwarding and commit included
	// (default 10s).
	ApplyTimeout time.Duration
	// SnapshotThreshold and TrailingLogs override raft's defaults (8192,
	// 10240) when set: how many entries between snapshots, and how many
	// are kept behind one.
	SnapshotThreshold, TrailingLogs uint64
	Logger                          *slog.Logger
	// OnApply, if set, is told of every Apply on this node once it has
	// returned: the command, how long it took (validation, forwarding,
	// commit and the local apply) and its error. It must not block
	// (metrics).
	OnApply func(cmd cib.Command, took time.Duration, err error)
}

// Timing holds raft's timeouts. Followers start an election after
// Heartbeat without contact; a leader steps down after LeaderLease without
// a quorum of contacts; Commit is the longest a follower waits to learn a
// commit (it bounds how stale a follower's read is after a write).
type Timing struct {
	Heartbeat   time.Duration
	Election    time.Duration
	LeaderLease time.Duration
	Commit      time.Duration
}

// TimingProfile returns a named set of raft timeouts: "fast" (LAN, a
// leader loss noticed within a few hundred ms) or "lan" (raft's defaults).
func TimingProfile(name string) (Timing, error) {
	switch name {
	case "", "fast":
		return Timing{Heartbeat: 200 * time.Millisecond, Election: 200 * time.Millisecond,
			LeaderLease: 150 * time.Millisecond, Commit: 50 * time.Millisecond}, nil
	case "lan":
		return Timing{Heartbeat: time.Second, Election: time.Second,
			LeaderLease: 500 * time.Millisecond, Commit: 50 * time.Millisecond}, nil
	}
	return Timing{}, fmt.Errorf("unknown timing profile %q (want fast or lan)", name)
}

// Validate checks the relations raft needs: lease ≤ heartbeat, all > 0.
func (t Timing) Validate() error {
	var errs []error
	for _, d := range []struct {
		n string
		v time.Duration
	}{{"heartbeat", t.Heartbeat}, {"election", t.Election}, {"leader-lease", t.LeaderLease}, {"commit", t.Commit}} {
		if d.v < 5*time.Millisecond {
			errs = append(errs, fmt.Errorf("raft timing %s %v: want at least 5ms", d.n, d.v))
		}
	}
	if t.LeaderLease > t.Heartbeat {
		errs = append(errs, fmt.Errorf("raft timing: leader-lease %v must not exceed heartbeat %v", t.LeaderLease, t.Heartbeat))
	}
	return errors.Join(errs...)
}

// Errors the store returns.
var (
	// ErrNotLeader: this node is not the raft leader (internal; Apply
	// forwards instead).
	ErrNotLeader = errors.New("not the raft leader")
	// ErrNoLeader: no leader could be reached before the deadline.
	ErrNoLeader = errors.New("no raft leader reachable")
	// ErrStopped: the store is closed or stopped on a fatal error.
	ErrStopped = errors.New("configuration store stopped")
)

// RejectedError is a change the configuration refused: it names the
// problem, and nothing of it was applied.
type RejectedError struct{ Err error }

func (e *RejectedError) Error() string { return e.Err.Error() }
func (e *RejectedError) Unwrap() error { return e.Err }

// Result is the outcome of an applied change.
type Result struct {
	Index uint64
	Epoch uint64
	Notes []string
}

// Store is a node's replica of the configuration.
type Store struct {
	opts Options
	log  *slog.Logger
	fsm  *fsm
	// raftp is the running raft; RecoverAlone and Rejoin replace it
	// (recover.go). rmu serialises those replacements.
	raftp atomic.Pointer[raft.Raft]
	rmu   sync.Mutex
	rc    *raft.Config
	snaps raft.SnapshotStore
	dir   string
	obsMu sync.Mutex
	obs   []*raft.Observer // registered on every raft this store runs
	trans *raft.NetworkTransport
	mux   *mux
	pool  *rpcPool
	bolt  *raftboltdb.BoltStore

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	nudging, nudgeAgain atomic.Bool
	// boot is the last committed configuration saved before a restart
	// (committed.go), served until raft's own state is newer.
	boot *cib.Config

	hmu      sync.RWMutex
	handlers map[string]Handler // node RPC ops registered with Handle
}

// Open starts the node's raft replica: it listens, restores state from the
// data dir, and bootstraps or joins as Options say. It returns once raft
// runs; a leader may not be known yet (WaitLeader).
func Open(opts Options) (*Store, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	log := opts.Logger.With("component", "raftstore")
	dir := filepath.Join(opts.DataDir, "raft")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	s := &Store{opts: opts, log: log, fsm: newFSM(), handlers: map[string]Handler{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()

	adv, err := net.ResolveTCPAddr("tcp", opts.Advertise)
	if err != nil {
		return nil, fmt.Errorf("advertise address %q: %w", opts.Advertise, err)
	}
	if s.mux, err = newMux(opts.Bind, adv, opts.TLS, log); err != nil {
		return nil, err
	}
	s.mux.rpc = s.serveRPC
	s.pool = &rpcPool{m: s.mux, idle: map[string][]*rpcConn{}}

	hlog := newHclogAdapter(opts.Logger.With("component", "raft"))
	s.trans = s.newTransport()
	if s.bolt, err = raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, "raft.db")}); err != nil {
		return nil, fmt.Errorf("raft log store: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(filepath.Join(dir), 2, hlog)
	if err != nil {
		return nil, fmt.Errorf("raft snapshot store: %w", err)
	}

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(opts.Name)
	rc.HeartbeatTimeout, rc.ElectionTimeout = opts.Timing.Heartbeat, opts.Timing.Election
	rc.LeaderLeaseTimeout, rc.CommitTimeout = opts.Timing.LeaderLease, opts.Timing.Commit
	if opts.SnapshotThreshold > 0 {
		rc.SnapshotThreshold = opts.SnapshotThreshold
	}
	if opts.TrailingLogs > 0 {
		rc.TrailingLogs = opts.TrailingLogs
	}
	rc.Logger = hlog
	if err := raft.ValidateConfig(rc); err != nil {
		return nil, fmt.Errorf("raft config: %w", err)
	}

	if s.boot, err = loadCommitted(dir); err != nil {
		log.Warn("ignoring the saved configuration", "err", err)
	}
	existing, err := raft.HasExistingState(s.bolt, s.bolt, snaps)
	if err != nil {
		return nil, fmt.Errorf("raft state in %s: %w", dir, err)
	}
	s.rc, s.snaps, s.dir = rc, snaps, dir
	r, err := raft.NewRaft(rc, s.fsm, s.bolt, s.bolt, snaps, s.trans)
	if err != nil {
		return nil, fmt.Errorf("start raft: %w", err)
	}
	s.raftp.Store(r)
	// Serve the port only now: an RPC (a join) that arrived before raft
	// existed would find no raft to ask. Until then the kernel queues
	// connections in the listen backlog.
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.mux.serve() }()
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.persistLoop(dir) }()
	switch {
	case existing:
		log.Info("raft state found; resuming", "node", opts.Name, "dir", dir)
	case s.bootstraps():
		peers := opts.Bootstrap
		if len(peers) == 0 {
			peers = []Peer{{Name: opts.Name, Address: opts.Advertise}}
		}
		var conf raft.Configuration
		for _, p := range peers {
			conf.Servers = append(conf.Servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(p.Name), Address: raft.ServerAddress(p.Address)})
		}
		if err := s.r().BootstrapCluster(conf).Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
			return nil, fmt.Errorf("bootstrap: %w", err)
		}
		log.Info("bootstrapped a new cluster", "node", opts.Name, "voters", len(peers))
	default:
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.joinLoop() }()
	}
	ok = true
	return s, nil
}

func (o *Options) fill() error {
	if o.Name == "" || o.DataDir == "" || o.Bind == "" {
		return errors.New("raftstore: name, data dir and bind address are required")
	}
	if o.TLS == nil {
		return errors.New("raftstore: TLS configuration required (raft traffic is always authenticated and encrypted)")
	}
	if o.Advertise == "" {
		o.Advertise = o.Bind
	}
	if o.MaxVoters == 0 {
		o.MaxVoters = 3
	}
	if o.MaxVoters < 3 || o.MaxVoters > 5 {
		return fmt.Errorf("raftstore: max voters %d: want 3 to 5", o.MaxVoters)
	}
	if o.Timing == (Timing{}) {
		o.Timing, _ = TimingProfile("fast")
	}
	if err := o.Timing.Validate(); err != nil {
		return err
	}
	if o.ApplyTimeout == 0 {
		o.ApplyTimeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

func (s *Store) bootstraps() bool {
	if len(s.opts.Bootstrap) == 0 {
		return len(s.opts.Join) == 0
	}
	return slices.ContainsFunc(s.opts.Bootstrap, func(p Peer) bool { return p.Name == s.opts.Name })
}

// joinLoop asks the Join addresses for admission until one admits us.
func (s *Store) joinLoop() {
	req := rpcRequest{Op: "join", Name: s.opts.Name, Addr: s.opts.Advertise}
	for {
		for _, addr := range s.opts.Join {
			target := addr
			for hop := 0; hop < 3 && target != ""; hop++ {
				ctx, cancel := context.WithTimeout(s.ctx, s.opts.ApplyTimeout)
				resp, err := s.pool.call(ctx, target, req)
				cancel()
				switch {
				case err != nil:
					s.log.Warn("join failed", "peer", target, "err", err)
					target = ""
				case resp.NotLeader:
					target = resp.Leader
				case resp.Err != "":
					s.log.Warn("join refused", "peer", target, "err", resp.Err)
					target = ""
				default:
					s.log.Info("joined the cluster", "via", target, "voter", resp.Voter)
					return
				}
			}
		}
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// addServer admits a node (leader only): a voter while there are fewer
// than MaxVoters, else a non-voter. Re-joining with the same name and
// address is a no-op.
func (s *Store) addServer(name, addr string) (bool, error) {
	if name == "" || addr == "" {
		return false, errors.New("join: name and address required")
	}
	if s.r().State() != raft.Leader {
		return false, ErrNotLeader
	}
	cf := s.r().GetConfiguration()
	if err := cf.Error(); err != nil {
		return false, fmt.Errorf("join %q: %w", name, err)
	}
	voters := 0
	for _, srv := range cf.Configuration().Servers {
		if srv.ID == raft.ServerID(name) && srv.Address == raft.ServerAddress(addr) {
			return srv.Suffrage == raft.Voter, nil
		}
		if srv.ID == raft.ServerID(name) || srv.Address == raft.ServerAddress(addr) {
			if err := s.r().RemoveServer(srv.ID, 0, s.opts.ApplyTimeout).Error(); err != nil {
				return false, fmt.Errorf("join %q: remove stale entry %q: %w", name, srv.ID, err)
			}
			continue
		}
		if srv.Suffrage == raft.Voter {
			voters++
		}
	}
	voter := voters < s.opts.MaxVoters
	var f raft.IndexFuture
	if voter {
		f = s.r().AddVoter(raft.ServerID(name), raft.ServerAddress(addr), 0, s.opts.ApplyTimeout)
	} else {
		f = s.r().AddNonvoter(raft.ServerID(name), raft.ServerAddress(addr), 0, s.opts.ApplyTimeout)
	}
	if err := f.Error(); err != nil {
		return false, fmt.Errorf("join %q: %w", name, err)
	}
	s.log.Info("admitted node", "node", name, "addr", addr, "voter", voter)
	return voter, nil
}

// Config returns the local replica's configuration. It is shared and must
// not be modified.
func (s *Store) Config() *cib.Config {
	cur := s.fsm.cur.Load()
	if s.boot != nil && s.boot.Epoch > cur.Epoch {
		return s.boot
	}
	return cur
}

// Changed returns a channel closed at the next applied change.
func (s *Store) Changed() <-chan struct{} {
	_, ch := s.fsm.state()
	return ch
}

// Fatal returns a channel closed when the store stopped on an entry it
// could not apply; FatalErr says which.
func (s *Store) Fatal() <-chan struct{} { return s.fsm.fatalCh }

// FatalErr returns the fatal error, if any.
func (s *Store) FatalErr() error {
	s.fsm.mu.Lock()
	defer s.fsm.mu.Unlock()
	return s.fsm.fatal
}

// DryRun validates cmd against the local configuration without proposing it.
func (s *Store) DryRun(cmd cib.Command) (*Result, error) {
	cur := s.Config()
	next, notes, err := cur.Apply(cib.Envelope{Origin: s.opts.Name, Time: time.Now(), Cmd: cmd})
	if err != nil {
		return nil, &RejectedError{err}
	}
	return &Result{Epoch: next.Epoch, Notes: notes}, nil
}

// Apply proposes one change from this node: it is validated against the
// local configuration, sent to the leader (forwarded if need be),
// committed, and applied on this node before Apply returns, so a read here
// sees it.
func (s *Store) Apply(ctx context.Context, cmd cib.Command) (*Result, error) {
	start := time.Now()
	res, err := s.apply(ctx, cmd)
	if s.opts.OnApply != nil {
		s.opts.OnApply(cmd, time.Since(start), err)
	}
	return res, err
}

// apply is Apply without the OnApply report.
func (s *Store) apply(ctx context.Context, cmd cib.Command) (*Result, error) {
	if _, err := s.DryRun(cmd); err != nil {
		return nil, err
	}
	data, err := cib.EncodeCommand(cib.Envelope{Origin: s.opts.Name, Time: time.Now().UTC(), Cmd: cmd})
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.opts.ApplyTimeout)
		defer cancel()
	}
	res, err := s.propose(ctx, data)
	if err != nil {
		return nil, err
	}
	if err := s.waitEpoch(ctx, res.Epoch); err != nil {
		return nil, fmt.Errorf("committed at index %d (epoch %d) but not yet applied here: %w", res.Index, res.Epoch, err)
	}
	return res, nil
}

func (s *Store) propose(ctx context.Context, data []byte) (*Result, error) {
	for {
		if s.ctx.Err() != nil {
			return nil, ErrStopped
		}
		if s.r().State() == raft.Leader {
			res, err := s.applyLocal(ctx, data)
			if !errors.Is(err, ErrNotLeader) {
				return res, err
			}
		} else if addr, _ := s.r().LeaderWithID(); addr != "" {
			if err := forwardable(len(data)); err != nil { // limits.go
				return nil, &RejectedError{err}
			}
			resp, err := s.pool.call(ctx, string(addr), rpcRequest{Op: "apply", Data: data})
			switch {
			case errors.Is(err, errSent):
				return nil, fmt.Errorf("forwarded write, outcome unknown: %w", err)
			case err != nil:
				s.log.Debug("forward failed; retrying", "leader", addr, "err", err)
			case resp.Rejected:
				return nil, &RejectedError{errors.New(resp.Err)}
			case resp.NotLeader:
			case resp.Err != "":
				return nil, fmt.Errorf("leader %s: %s", addr, resp.Err)
			default:
				return &Result{Index: resp.Index, Epoch: resp.Epoch, Notes: resp.Notes}, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %v", ErrNoLeader, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// applyLocal commits data through this node's raft, which must lead.
func (s *Store) applyLocal(ctx context.Context, data []byte) (*Result, error) {
	if s.r().State() != raft.Leader {
		return nil, ErrNotLeader
	}
	timeout := s.opts.ApplyTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	f := s.r().Apply(data, timeout)
	if err := f.Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) {
			return nil, ErrNotLeader
		}
		return nil, fmt.Errorf("raft apply: %w", err)
	}
	r, _ := f.Response().(*applyResult)
	if r == nil {
		return nil, errors.New("raft apply: no result")
	}
	if r.Err != nil {
		return nil, &RejectedError{r.Err}
	}
	s.nudge()
	return &Result{Index: f.Index(), Epoch: r.Epoch, Notes: r.Notes}, nil
}

// nudge tells followers of the latest commit at once. hashicorp/raft sends
// a follower the leader's commit index only with the next append, or after
// CommitTimeout; a barrier entry is such an append. Without it, a write
// forwarded from a follower would wait up to 2×CommitTimeout before that
// follower applies it — or CommitTimeout would have to be a few ms, which
// costs a leader ~10% of a core while idle. Nudges coalesce: at most one
// barrier is in flight.
func (s *Store) nudge() {
	if !s.nudging.CompareAndSwap(false, true) {
		s.nudgeAgain.Store(true)
		return
	}
	// Not in s.wg: after Shutdown, Barrier returns at once and this ends.
	go func() {
		defer s.nudging.Store(false)
		for s.ctx.Err() == nil {
			_ = s.r().Barrier(s.opts.ApplyTimeout).Error()
			if !s.nudgeAgain.Swap(false) {
				return
			}
		}
	}()
}

// waitEpoch waits until this replica's configuration has reached epoch
// (read your writes). Epochs only grow, by one per applied change, and a
// snapshot restored here carries its epoch too. (raft's own applied index
// is no good for this: raft advances it when it hands entries to the FSM,
// before the FSM has applied them.)
func (s *Store) waitEpoch(ctx context.Context, epoch uint64) error {
	for {
		_, ch := s.fsm.state()
		if s.fsm.cur.Load().Epoch >= epoch {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// WaitLeader waits until this node knows a leader.
func (s *Store) WaitLeader(ctx context.Context) error {
	for {
		if addr, _ := s.r().LeaderWithID(); addr != "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %v", ErrNoLeader, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Info describes the replica and raft membership.
type Info struct {
	State   string
	Leader  string
	Term    uint64
	Applied uint64
	Epoch   uint64
	Servers []ServerInfo
}

// ServerInfo is one raft member.
type ServerInfo struct {
	Name, Address string
	Voter         bool
}

// Info reads the replica's raft state.
func (s *Store) Info() Info {
	_, leader := s.r().LeaderWithID()
	inf := Info{
		State: s.r().State().String(), Leader: string(leader), Term: s.r().CurrentTerm(),
		Applied: s.r().AppliedIndex(), Epoch: s.Config().Epoch,
	}
	if f := s.r().GetConfiguration(); f.Error() == nil {
		for _, srv := range f.Configuration().Servers {
			inf.Servers = append(inf.Servers, ServerInfo{Name: string(srv.ID), Address: string(srv.Address), Voter: srv.Suffrage == raft.Voter})
		}
	}
	return inf
}

// IsLeader reports whether this node leads raft now.
func (s *Store) IsLeader() bool { return s.r().State() == raft.Leader }

// Snapshot asks raft to take a snapshot now (operators, tests).
func (s *Store) Snapshot() error { return s.r().Snapshot().Error() }

// Addr is the advertised raft address.
func (s *Store) Addr() string { return s.opts.Advertise }

// Close stops the replica without leaving the cluster: to the others it is
// as if the node died, and on the next Open it resumes from its data dir.
func (s *Store) Close() {
	s.once.Do(func() {
		s.cancel()
		s.rmu.Lock() // no raft replacement under way
		defer s.rmu.Unlock()
		if r := s.raftp.Load(); r != nil {
			if err := r.Shutdown().Error(); err != nil {
				s.log.Warn("raft shutdown", "err", err)
			}
		}
		if s.trans != nil {
			_ = s.trans.Close()
		}
		if s.mux != nil {
			s.mux.close()
		}
		if s.pool != nil {
			s.pool.closeAll()
		}
		s.wg.Wait()
		if s.bolt != nil {
			_ = s.bolt.Close()
		}
	})
}

// Stats returns raft's own counters (last_snapshot_index, commit_index, ...).
func (s *Store) Stats() map[string]string { return s.r().Stats() }

// OnLeaderChange calls f (on a goroutine of its own, never concurrently)
// each time this replica sees the raft leader change, until ctx ends: a
// new DC starts work at once instead of at its next periodic check.
func (s *Store) OnLeaderChange(ctx context.Context, f func()) {
	ch := make(chan raft.Observation, 8)
	obs := raft.NewObserver(ch, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	})
	s.observe(obs)
	go func() {
		defer s.unobserve(obs)
		for {
			select {
			case <-ctx.Done():
				return
			case <-ch:
				f()
			}
		}
	}()
}

// r is the running raft.
func (s *Store) r() *raft.Raft { return s.raftp.Load() }

// observe registers an observer on the running raft and on any raft that
// replaces it.
func (s *Store) observe(o *raft.Observer) {
	s.obsMu.Lock()
	defer s.obsMu.Unlock()
	s.obs = append(s.obs, o)
	s.r().RegisterObserver(o)
}

func (s *Store) unobserve(o *raft.Observer) {
	s.obsMu.Lock()
	defer s.obsMu.Unlock()
	s.obs = slices.DeleteFunc(s.obs, func(x *raft.Observer) bool { return x == o })
	s.r().DeregisterObserver(o)
}

// newTransport is a raft transport over the mux (a new one for every raft
// the store runs: raft closes its transport when it shuts down).
func (s *Store) newTransport() *raft.NetworkTransport {
	return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: newRaftLayer(s.mux), MaxPool: 3, Timeout: 10 * time.Second,
		Logger: newHclogAdapter(s.opts.Logger.With("component", "raft")),
	})
}
