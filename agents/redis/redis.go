package redis

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/paceline/paceline/agents/ocf"
)

const agentName = "redis"

// Agent is ocf:paceline:redis. It keeps no state: what it knows about a
// resource comes from its parameters, the pid file, the server itself
// and the cluster's transient attributes, so one Agent serves any number
// of resources.
type Agent struct {
	runBase  string // where default run directories go
	dataBase string // where default data directories go
}

// Option configures an Agent.
type Option func(*Agent)

// WithRunBase puts default run directories (configuration, pid file,
// log) in dir instead of /run/paceline: for tests.
func WithRunBase(dir string) Option { return func(a *Agent) { a.runBase = dir } }

// WithDataBase puts default data directories in dir instead of
// /var/lib/paceline: for tests.
func WithDataBase(dir string) Option { return func(a *Agent) { a.dataBase = dir } }

// New returns the agent.
func New(opts ...Option) *Agent {
	a := &Agent{runBase: defaultRunBase, dataBase: defaultDataBase}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Name is the agent's type: ocf:paceline:redis.
func (*Agent) Name() string { return agentName }

// MetaData describes the agent's parameters and actions.
func (*Agent) MetaData() *ocf.ResourceAgent { return metaData() }

// Run performs one action and returns its OCF return code; the reason of
// any other result than success goes to the action's output.
func (ag *Agent) Run(ctx context.Context, a *ocf.Action) int {
	log := a.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if a.Name == ocf.MetaData {
		return ocf.PrintMetaData(a, metaData())
	}
	switch a.Name {
	case ocf.Start, ocf.Stop, ocf.Monitor, ocf.Promote, ocf.Demote, ocf.Notify, ocf.ValidateAll:
	default:
		a.Printf("%s: action %q is not implemented", agentName, a.Name)
		return ocf.ErrUnimplemented
	}
	c, err := parseConfig(a, ag.runBase, ag.dataBase)
	if err != nil {
		// A stop or a probe must not fail on parameters gone bad (a
		// failed stop fences the node): they find redis-server by its
		// pid file if they still can; otherwise nothing this agent
		// started can be found.
		probe := a.Name == ocf.Monitor && a.Interval == 0
		switch {
		case a.Name == ocf.Stop && c.findable():
			a.Printf("%v (stopping redis-server by its pid file all the same)", err)
			log.Warn("bad parameters; stopping by the pid file", "err", err)
			r := &run{c: c, a: a, log: log, names: namesFor(c.Rsc), attrs: a.Attrs}
			return ocf.RC(r.stop(ctx))
		case probe && c.findable():
			p, why, perr := readPid(c.PidFile(), c.Binary)
			switch {
			case perr != nil:
				a.Printf("%v; %v", err, perr)
				return ocf.ErrGeneric
			case p != nil:
				a.Printf("%v; redis-server pid %d runs with them", err, p.Pid)
				return ocf.ErrGeneric
			}
			a.Printf("%v; not running (%s)", err, why)
			return ocf.NotRunning
		case a.Name == ocf.Stop:
			a.Printf("%v; nothing to stop that this agent could find", err)
			return ocf.Success
		case probe:
			a.Printf("%v; not running as far as this agent can tell", err)
			return ocf.NotRunning
		}
		a.Printf("%v", err)
		log.Error("bad parameters", "rc", ocf.ErrConfigured, "err", err)
		return ocf.ErrConfigured
	}
	r := &run{c: c, a: a, log: log, names: namesFor(c.Rsc), attrs: a.Attrs}
	switch a.Name {
	case ocf.Start:
		err = r.start(ctx)
	case ocf.Stop:
		err = r.stop(ctx)
	case ocf.Monitor:
		err = r.monitor(ctx)
	case ocf.Promote:
		err = r.promote(ctx)
	case ocf.Demote:
		err = r.demote(ctx)
	case ocf.Notify:
		err = r.notify(ctx)
	case ocf.ValidateAll:
		if _, err = r.validate(); err == nil {
			a.Printf("redis %s: parameters valid", c.Rsc)
		}
	}
	rc := ocf.RC(err)
	switch rc {
	case ocf.Success:
	case ocf.NotRunning, ocf.RunningPromoted:
		if err != nil && err.Error() != "" {
			a.Printf("%v", err)
		}
	default:
		a.Printf("%v", err)
		log.Error("action failed", "rc", rc, "err", err)
	}
	return rc
}

// margin is the part of an action's time kept back so that a failure
// is reported with its reason rather than as a timeout.
func margin(ctx context.Context, a *ocf.Action) time.Time {
	end := a.Deadline(ctx)
	return end.Add(-min(2*time.Second, time.Until(end)/5))
}

// sleep waits d, or less if ctx ends (false then).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// cmdTimeout bounds one command to a server.
const cmdTimeout = 3 * time.Second

// run is one action on one resource.
type run struct {
	c     *config
	a     *ocf.Action
	log   *slog.Logger
	names attrNames
	attrs ocf.Attrs // nil without a cluster
}

// validate checks what this node needs: the binary, the base
// configuration and the password file. It returns the password.
func (r *run) validate() (string, error) {
	if err := isExecutable(r.c.Binary); err != nil {
		return "", ocf.Failf(ocf.ErrInstalled, "binary %s: %v", r.c.Binary, err)
	}
	if r.c.Base != "" {
		if _, err := os.Stat(r.c.Base); err != nil {
			return "", ocf.Failf(ocf.ErrInstalled, "config %s: %v", r.c.Base, err)
		}
	}
	return r.c.password()
}

// connect opens a connection to this node's instance.
func (r *run) connect(ctx context.Context, pw string) (*client, error) {
	return dial(ctx, r.c.localAddr(), "", pw, cmdTimeout)
}

// state reads INFO replication.
func state(ctx context.Context, cl *client) (replState, error) {
	s, err := cl.str(ctx, "INFO", "replication")
	if err != nil {
		return replState{}, err
	}
	return parseRepl(parseInfo(s))
}

// all is every node's attributes; nil without a cluster.
func (r *run) all() map[string]map[string]string {
	if r.attrs == nil {
		return nil
	}
	return r.attrs.Attrs()
}

// setAttr sets one of this node's attributes unless it already has the
// value (when this node's name is known).
func (r *run) setAttr(name, value string) error {
	if r.attrs == nil {
		return nil
	}
	if r.c.Node != "" {
		if v, ok := r.attrs.Attrs()[r.c.Node][name]; ok && v == value {
			return nil
		}
	}
	if err := r.attrs.SetAttr(name, value); err != nil {
		return fmt.Errorf("setting attribute %s: %w", name, err)
	}
	return nil
}

func (r *run) delAttr(name string) error {
	if r.attrs == nil {
		return nil
	}
	if r.c.Node != "" {
		if _, ok := r.attrs.Attrs()[r.c.Node][name]; !ok {
			return nil
		}
	}
	if err := r.attrs.DeleteAttr(name); err != nil {
		return fmt.Errorf("deleting attribute %s: %w", name, err)
	}
	return nil
}

// publish sets the role, address, offset, replication ID and promotion
// score attributes from the server's state. A replica in a full
// synchronisation, or that has not completed one with the primary it
// follows (synced), has no score: its data set is incomplete, and
// promoted it would lose what the primary had.
func (r *run) publish(s replState) error {
	if r.attrs == nil {
		return nil
	}
	role, score, why := roleReplica, 0, ""
	switch {
	case s.Role == "master":
		role, score = rolePrimary, scorePrimary
	case s.Syncing:
		score, why = -1, "full synchronisation in progress"
	default:
		ok, reason := synced(s, r.all(), r.names, r.c.Node)
		if ok {
			score = replicaScore(s.Offset, r.all(), r.names, r.c.Node)
		} else {
			score, why = -1, reason
		}
	}
	var errs []error
	errs = append(errs, r.setAttr(r.names.Role, role), r.setAttr(r.names.Addr, r.c.announceAddr()),
		r.setAttr(r.names.Offset, strconv.FormatInt(s.Offset, 10)), r.setAttr(r.names.ReplID, s.ReplID))
	if s.Role == "slave" && s.LinkUp && s.ReplID != "" {
		errs = append(errs, r.setAttr(r.names.Synced, s.ReplID))
	}
	if score < 0 {
		if r.c.Node != "" && r.all()[r.c.Node][r.names.Score] != "" {
			r.log.Info("not promotable", "reason", why)
		}
		errs = append(errs, r.delAttr(r.names.Score))
	} else {
		errs = append(errs, r.setAttr(r.names.Score, strconv.Itoa(score)))
	}
	return errors.Join(errs...)
}

// primary is the primary the attributes name ("" for none); ambiguity
// is logged and counts as none.
func (r *run) primary() string {
	node, addr, err := primaryOf(r.all(), r.names, r.c.Node, r.c.announceAddr())
	if err != nil {
		r.log.Warn("not following any primary", "err", err)
		return ""
	}
	if node != "" {
		r.log.Debug("primary found", "node", node, "addr", addr)
	}
	return addr
}

// replicaOf makes the server a replica of addr, or of the placeholder
// when addr is "".
func replicaOf(ctx context.Context, cl *client, addr string) error {
	host, port := placeholderHost, strconv.Itoa(placeholderPort)
	if addr != "" {
		host, port = splitAddr(addr)
	}
	if _, err := cl.str(ctx, "REPLICAOF", host, port); err != nil {
		return fmt.Errorf("REPLICAOF %s %s: %w", host, port, err)
	}
	return nil
}

// start starts redis-server as a replica: of the primary the attributes
// name, else of the placeholder (read-only, waiting). A running server
// is left alone.
func (r *run) start(ctx context.Context) error {
	pw, err := r.validate()
	if err != nil {
		return err
	}
	p, _, err := readPid(r.c.PidFile(), r.c.Binary)
	if err != nil {
		return err
	}
	if p != nil {
		r.a.Printf("redis-server already running (pid %d)", p.Pid)
		return nil
	}
	if err := os.Remove(r.c.PidFile()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing stale pid file: %w", err)
	}
	follow := r.primary()
	if err := r.c.writeConf(r.c.confText(pw, follow)); err != nil {
		return err
	}
	readyBy := margin(ctx, r.a)
	code, out, err := runServer(ctx, r.c.Binary, r.c.ConfFile())
	if err != nil {
		return err
	}
	if code != 0 {
		rc := ocf.ErrGeneric
		if strings.Contains(out, "CONFIG FILE ERROR") {
			rc = ocf.ErrConfigured
		}
		return ocf.Failf(rc, "redis-server exited with %d:\n%s", code, strings.TrimSpace(out))
	}
	for {
		if p, _, err = readPid(r.c.PidFile(), r.c.Binary); err != nil {
			return err
		}
		if p != nil {
			if cl, err := r.connect(ctx, pw); err == nil {
				_, err = cl.str(ctx, "PING")
				if err == nil {
					s, serr := state(ctx, cl)
					cl.Close()
					if serr != nil {
						return serr
					}
					if err := r.publish(s); err != nil {
						return err
					}
					how := "waiting for a primary (read-only)"
					if follow != "" {
						how = "replica of " + follow
					}
					r.log.Info("redis started", "pid", p.Pid, "follow", follow)
					r.a.Printf("redis-server started (pid %d), %s", p.Pid, how)
					return nil
				}
				cl.Close()
				if isReplyError(err, "NOAUTH") || isReplyError(err, "WRONGPASS") {
					return ocf.Failf(ocf.ErrConfigured, "redis-server started but refuses the password: %v", err)
				}
			}
		}
		if time.Now().After(readyBy) || !sleep(ctx, 50*time.Millisecond) {
			return ocf.Failf(ocf.ErrGeneric, "redis-server started but does not answer PING on %s\n%s", r.c.localAddr(), r.c.tailLog(10))
		}
	}
}

// stop sends TERM (redis-server saves if the configuration says so, and
// exits), waits up to 80% of the time left, then SIGKILL. The attributes
// go. Stopping a stopped instance succeeds.
func (r *run) stop(ctx context.Context) error {
	p, why, err := readPid(r.c.PidFile(), r.c.Binary)
	if err != nil {
		return err
	}
	var errs []error
	if p == nil {
		r.a.Printf("redis-server not running (%s)", why)
	} else {
		total := time.Until(r.a.Deadline(ctx))
		if err := p.signal(syscall.SIGTERM); err != nil {
			return err
		}
		how := "TERM"
		if !waitGone(ctx, p, time.Now().Add(total*8/10)) {
			r.log.Warn("redis-server did not stop in time, killing it", "pid", p.Pid)
			if err := p.signal(syscall.SIGKILL); err != nil {
				return err
			}
			if !waitGone(context.Background(), p, time.Now().Add(time.Second)) {
				return fmt.Errorf("redis-server pid %d survived SIGKILL", p.Pid)
			}
			how = "KILL"
		}
		r.log.Info("redis stopped", "pid", p.Pid, "how", how)
		r.a.Printf("redis-server (pid %d) stopped (%s)", p.Pid, how)
	}
	if err := os.Remove(r.c.PidFile()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	for _, n := range []string{r.names.Score, r.names.Role, r.names.Addr, r.names.Offset, r.names.ReplID, r.names.Synced} {
		errs = append(errs, r.delAttr(n))
	}
	return errors.Join(errs...)
}

// monitor: not running is 7; running and answering as primary 8, as a
// replica 0. A replica follows the primary the attributes name. At depth
// 10 a primary also takes a write and reads it back.
func (r *run) monitor(ctx context.Context) error {
	p, why, err := readPid(r.c.PidFile(), r.c.Binary)
	if err != nil {
		return err
	}
	if p == nil {
		return ocf.Failf(ocf.NotRunning, "redis-server not running: %s", why)
	}
	// An error while running: 9 if this node last said it was the
	// primary, else 1.
	failRC := ocf.ErrGeneric
	if r.attrs != nil && r.c.Node != "" && r.all()[r.c.Node][r.names.Role] == rolePrimary {
		failRC = ocf.FailedPromoted
	}
	pw, err := r.c.password()
	if err != nil {
		return err
	}
	cl, err := r.connect(ctx, pw)
	if err != nil {
		return ocf.Failf(failRC, "redis-server pid %d does not answer: %v", p.Pid, err)
	}
	defer cl.Close()
	s, err := state(ctx, cl)
	if err != nil {
		return ocf.Failf(failRC, "redis-server pid %d: %v", p.Pid, err)
	}
	if s.Role == "master" {
		if r.a.CheckLevel >= 10 {
			if err := probe(ctx, cl, r.c.Rsc); err != nil {
				return ocf.Failf(ocf.FailedPromoted, "redis-server pid %d: write probe: %v", p.Pid, err)
			}
		}
		if err := r.publish(s); err != nil {
			return ocf.Failf(ocf.FailedPromoted, "%v", err)
		}
		return ocf.Failf(ocf.RunningPromoted, "")
	}
	if want := r.primary(); want != "" && want != s.following() {
		if err := replicaOf(ctx, cl, want); err != nil {
			return err
		}
		r.log.Info("following the primary", "addr", want)
		r.a.Printf("now a replica of %s", want)
		if s, err = state(ctx, cl); err != nil {
			return err
		}
	}
	return r.publish(s)
}

// probe writes a key that expires in a minute and reads it back.
func probe(ctx context.Context, cl *client, rsc string) error {
	key := "paceline:probe:" + rsc
	val := strconv.FormatInt(time.Now().UnixNano(), 10)
	if _, err := cl.str(ctx, "SET", key, val, "PX", "60000"); err != nil {
		return err
	}
	got, err := cl.str(ctx, "GET", key)
	if err != nil {
		return err
	}
	if got != val {
		return fmt.Errorf("GET %s = %q, want %q", key, got, val)
	}
	return nil
}

// promote waits until this replica has caught up with its primary as
// far as it can (the primary answers and its offset is ahead: wait,
// within the promote timeout less a margin), then REPLICAOF NO ONE.
func (r *run) promote(ctx context.Context) error {
	pw, err := r.c.password()
	if err != nil {
		return err
	}
	cl, err := r.connect(ctx, pw)
	if err != nil {
		return fmt.Errorf("promote: %w", err)
	}
	defer cl.Close()
	s, err := state(ctx, cl)
	if err != nil {
		return err
	}
	if s.Role == "slave" {
		if up := s.following(); up != "" {
			r.catchUp(ctx, cl, pw, up)
		}
		if _, err := cl.str(ctx, "REPLICAOF", "NO", "ONE"); err != nil {
			return fmt.Errorf("REPLICAOF NO ONE: %w", err)
		}
		if s, err = state(ctx, cl); err != nil {
			return err
		}
		r.log.Info("redis promoted", "offset", s.Offset)
		r.a.Printf("promoted at offset %d", s.Offset)
	}
	return r.publish(s)
}

// catchUp waits until this replica's offset reaches its primary's, the
// primary cannot be asked, or the time is up (then it logs how far
// behind it is: the promotion goes on with what it has).
func (r *run) catchUp(ctx context.Context, cl *client, pw, up string) {
	until := margin(ctx, r.a)
	for {
		own, err := state(ctx, cl)
		if err != nil {
			return
		}
		theirs, err := remoteOffset(ctx, up, pw)
		if err != nil {
			r.log.Info("primary unreachable; promoting with what this replica has", "primary", up, "offset", own.Offset, "err", err)
			return
		}
		if own.Offset >= theirs {
			r.log.Info("caught up with the primary", "primary", up, "offset", own.Offset)
			return
		}
		if time.Now().After(until) || !sleep(ctx, 50*time.Millisecond) {
			r.log.Warn("not caught up in time; promoting anyway", "primary", up, "offset", own.Offset, "primary_offset", theirs)
			r.a.Printf("warning: promoted %d bytes behind %s", theirs-own.Offset, up)
			return
		}
	}
}

// reachTimeout bounds connecting to another node's instance and each
// command to it. A live one on the cluster's network answers in well
// under a millisecond; one that crashed or was fenced never does, and
// while promote waits for it there is no primary (a second's wait here
// was most of a crash failover's time in the two-node-redis test).
const reachTimeout = 250 * time.Millisecond

// remoteOffset is another instance's replication offset: for a replica,
// how much of its primary's stream it has applied.
func remoteOffset(ctx context.Context, addr, pw string) (int64, error) {
	cl, err := dial(ctx, addr, "", pw, reachTimeout)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	s, err := state(ctx, cl)
	if err != nil {
		return 0, err
	}
	return s.Offset, nil
}

// demote turns a primary into a replica: writes are paused, its
// replicas get until half the time left to acknowledge its last offset,
// then it follows the primary the attributes name, or the placeholder.
func (r *run) demote(ctx context.Context) error {
	pw, err := r.c.password()
	if err != nil {
		return err
	}
	cl, err := r.connect(ctx, pw)
	if err != nil {
		return fmt.Errorf("demote: %w", err)
	}
	defer cl.Close()
	s, err := state(ctx, cl)
	if err != nil {
		return err
	}
	want := r.primary()
	if s.Role == "master" {
		total := time.Until(r.a.Deadline(ctx))
		if _, err := cl.str(ctx, "CLIENT", "PAUSE", strconv.FormatInt(total.Milliseconds(), 10), "WRITE"); err != nil {
			return fmt.Errorf("CLIENT PAUSE: %w", err)
		}
		defer cl.str(context.Background(), "CLIENT", "UNPAUSE")
		r.drain(ctx, cl, pw, time.Now().Add(total/2))
		if err := replicaOf(ctx, cl, want); err != nil {
			return err
		}
		r.log.Info("redis demoted", "follow", want)
		r.a.Printf("demoted; %s", followText(want))
	} else if want != "" && want != s.following() {
		if err := replicaOf(ctx, cl, want); err != nil {
			return err
		}
	}
	if s, err = state(ctx, cl); err != nil {
		return err
	}
	return r.publish(s)
}

func followText(addr string) string {
	if addr == "" {
		return "waiting for a primary (read-only)"
	}
	return "replica of " + addr
}

// drain waits until every online replica has the primary's offset, or
// until. A replica's acknowledgement reaches the primary once a second
// (REPLCONF ACK), so a replica the primary sees behind is asked itself
// for its offset: writes are paused for no longer than the replica
// takes to apply the last of them.
func (r *run) drain(ctx context.Context, cl *client, pw string, until time.Time) {
	for {
		s, err := state(ctx, cl)
		if err != nil {
			return
		}
		behind := 0
		for _, rep := range s.Replicas {
			if rep.State != "online" || rep.Offset >= s.Offset {
				continue
			}
			if off, err := remoteOffset(ctx, rep.Addr, pw); err == nil && off >= s.Offset {
				continue
			}
			behind++
		}
		if behind == 0 {
			return
		}
		if time.Now().After(until) || !sleep(ctx, 20*time.Millisecond) {
			r.log.Warn("replicas did not acknowledge the last writes in time", "behind", behind, "offset", s.Offset)
			return
		}
	}
}

// notify follows a promotion elsewhere when the notification says so
// (post-promote, with the promoted node's address in the attributes);
// every other notification is accepted and ignored. Monitor does the
// same from the attributes alone.
func (r *run) notify(ctx context.Context) error {
	meta := func(k string) string {
		if v := r.a.Meta[k]; v != "" {
			return v
		}
		return r.a.Meta[strings.ReplaceAll(k, "_", "-")]
	}
	if meta("notify_type") != "post" || meta("notify_operation") != "promote" {
		return nil
	}
	node := strings.TrimSpace(meta("notify_promote_uname"))
	if node == "" || node == r.c.Node || strings.Contains(node, " ") {
		return nil
	}
	addr := r.all()[node][r.names.Addr]
	if addr == "" {
		return nil
	}
	pw, err := r.c.password()
	if err != nil {
		return err
	}
	cl, err := r.connect(ctx, pw)
	if err != nil {
		return nil // not running here: nothing to point
	}
	defer cl.Close()
	s, err := state(ctx, cl)
	if err != nil || s.Role != "slave" || s.following() == addr {
		return nil
	}
	if err := replicaOf(ctx, cl, addr); err != nil {
		return err
	}
	r.log.Info("following the new primary", "node", node, "addr", addr)
	r.a.Printf("following the new primary %s (%s)", node, addr)
	// Its score goes now, not at the next monitor: it has not completed
	// a synchronisation with that primary yet.
	if s, err = state(ctx, cl); err != nil {
		return err
	}
	return r.publish(s)
}
