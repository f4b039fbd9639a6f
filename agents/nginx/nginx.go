package nginx

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/paceline/paceline/agents/ocf"
)

const agentName = "nginx"

// Agent is ocf:paceline:nginx. It keeps no state: everything it knows
// about a resource comes from its parameters, the pid file and /proc, so
// one Agent serves any number of resources, in-process or as an OCF
// executable.
type Agent struct {
	pidDir string // where default pid files go
}

// Option configures an Agent.
type Option func(*Agent)

// WithPidDir puts the default pid files (those of resources without a
// pidfile parameter) in dir instead of /run/paceline: for tests, which
// must not touch the host's /run.
func WithPidDir(dir string) Option { return func(a *Agent) { a.pidDir = dir } }

// New returns the agent.
func New(opts ...Option) *Agent {
	a := &Agent{pidDir: defaultPidDir}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Name is the agent's type: ocf:paceline:nginx.
func (*Agent) Name() string { return agentName }

// MetaData describes the agent's parameters and actions.
func (*Agent) MetaData() *ocf.ResourceAgent { return metaData() }

// Run performs one action and returns its OCF return code; the reason of
// any other result than success or "not running" goes to the action's
// output.
func (ag *Agent) Run(ctx context.Context, a *ocf.Action) int {
	log := a.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if a.Name == ocf.MetaData {
		return ocf.PrintMetaData(a, metaData())
	}
	switch a.Name {
	case ocf.Start, ocf.Stop, ocf.Monitor, ocf.Reload, ocf.ValidateAll:
	default:
		a.Printf("%s: action %q is not implemented", agentName, a.Name)
		return ocf.ErrUnimplemented
	}
	c, err := parseConfig(a, ag.pidDir)
	if err != nil {
		// A stop or a probe must not fail on parameters gone bad (a
		// failed stop fences the node; a failed probe restarts): they
		// look for nginx by the pid file and binary if those are still
		// usable, and otherwise nothing this agent started can be found.
		probe := a.Name == ocf.Monitor && a.Interval == 0
		switch {
		case (a.Name == ocf.Stop || probe) && c.findable():
			a.Printf("%v (looking for nginx by its pid file all the same)", err)
			a.CheckLevel = 0 // the status check's parameters may be the bad ones
			log.Warn("bad parameters; looking for nginx by its pid file", "action", a.Name, "err", err)
		case a.Name == ocf.Stop:
			a.Printf("%v; nothing to stop that this agent could find", err)
			log.Warn("bad parameters; nothing to stop", "err", err)
			return ocf.Success
		case probe:
			a.Printf("%v; not running as far as this agent can tell", err)
			return ocf.NotRunning
		default:
			a.Printf("%v", err)
			log.Error("bad parameters", "rc", ocf.ErrConfigured, "err", err)
			return ocf.ErrConfigured
		}
	}
	switch a.Name {
	case ocf.Start:
		err = c.start(ctx, a, log)
	case ocf.Stop:
		err = c.stop(ctx, a, log)
	case ocf.Monitor:
		err = c.monitor(ctx, a)
	case ocf.Reload:
		err = c.reload(ctx, a, log)
	case ocf.ValidateAll:
		_, err = c.check(ctx)
		if err == nil {
			a.Printf("%s: configuration test successful", c.ConfigFile)
		}
	}
	rc := ocf.RC(err)
	switch rc {
	case ocf.Success:
	case ocf.NotRunning:
		a.Printf("%v", err)
		log.Debug("not running", "rc", rc, "reason", err)
	default:
		a.Printf("%v", err)
		log.Error("action failed", "rc", rc, "err", err)
	}
	return rc
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

// running reads the pid file; an unreadable one is an error.
func (c *config) running() (pidState, error) {
	ps, err := readMaster(c.PidFile, c.Binary)
	if err != nil {
		return ps, fmt.Errorf("nginx %s: %w", c.ConfigFile, err)
	}
	return ps, nil
}

// monitor: depth 0 (and any depth below 10) checks that the master runs;
// depth 10 and above also asks status_url.
func (c *config) monitor(ctx context.Context, a *ocf.Action) error {
	if a.CheckLevel >= 10 && c.StatusURL == "" {
		return ocf.Failf(ocf.ErrConfigured, "monitor depth %d needs status_url", a.CheckLevel)
	}
	ps, err := c.running()
	if err != nil {
		return err
	}
	if ps.M == nil {
		return ocf.Failf(ocf.NotRunning, "nginx not running: %s", ps.Why)
	}
	if a.CheckLevel < 10 {
		return nil
	}
	if err := c.checkStatus(ctx, statusTimeout); err != nil {
		return ocf.Failf(ocf.ErrGeneric, "nginx pid %d: %v", ps.M.Pid, err)
	}
	return nil
}

// ensurePidDir creates the default pid file's directory; an operator's
// pidfile must be in a directory that exists.
func (c *config) ensurePidDir() error {
	if c.PidFileSet {
		return nil
	}
	dir := filepath.Dir(c.PidFile)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating the pid file's directory: %w", err)
	}
	return nil
}

// pidDirective is the -g argument that sets the pid file.
func pidDirective(path string) string { return `pid "` + path + `";` }

// checked is a configuration nginx accepted.
type checked struct {
	// args are the arguments that run it: options, -c, and -g for the
	// pid file unless the configuration sets it.
	args    []string
	info    *dumpInfo // nil when the dump could not be read
	dumpErr error
}

// check tests the configuration with `nginx -T` (a test that also prints
// it) and applies the agent's rules to it. A missing binary or
// configuration file is ErrInstalled (this node lacks it); a
// configuration nginx refuses, or one that sets another pid file than
// the agent's or turns daemon mode off, is ErrConfigured.
func (c *config) check(ctx context.Context) (*checked, error) {
	if err := isExecutable(c.Binary); err != nil {
		return nil, ocf.Failf(ocf.ErrInstalled, "binary %s: %v", c.Binary, err)
	}
	if _, err := os.Stat(c.ConfigFile); err != nil {
		return nil, ocf.Failf(ocf.ErrInstalled, "configfile %s: %w", c.ConfigFile, err)
	}
	if err := c.ensurePidDir(); err != nil {
		return nil, err
	}
	// nginx -t creates the pid file (empty) to see that it can: remove
	// what the test alone created.
	if _, err := os.Lstat(c.PidFile); errors.Is(err, fs.ErrNotExist) {
		defer removeIfEmpty(c.PidFile)
	}
	base := append(append([]string{}, c.Options...), "-c", c.ConfigFile)
	ours := append(append([]string{}, base...), "-g", pidDirective(c.PidFile))
	args := ours
	res, err := runNginx(ctx, c.Binary, append(append([]string{}, ours...), "-T")...)
	if err != nil {
		return nil, err
	}
	if res.Code != 0 && strings.Contains(res.Stderr, `"pid" directive is duplicate`) {
		// The configuration sets its own pid file: test it as it is,
		// then make sure it is the one the agent watches.
		args = base
		t0 := time.Now()
		if res, err = runNginx(ctx, c.Binary, append(append([]string{}, base...), "-T")...); err != nil {
			return nil, err
		}
		// This test created the configuration's pid file if it was not
		// there (Debian's /run/nginx.pid): remove it if it is empty and
		// new.
		if info, err := parseDump(res.Stdout); err == nil && filepath.IsAbs(info.Pid) {
			defer removeIfEmptySince(info.Pid, t0)
		}
	}
	if res.Code != 0 {
		return nil, ocf.Failf(ocf.ErrConfigured, "configuration test of %s failed:\n%s", c.ConfigFile, strings.TrimSpace(res.Stderr))
	}
	ck := &checked{args: args}
	ck.info, ck.dumpErr = parseDump(res.Stdout)
	ownPid := len(args) == len(base)
	if ck.info == nil {
		if ownPid {
			// Without the dump, the pid file the configuration names is
			// unknown, and monitor could watch the wrong one.
			return nil, ocf.Failf(ocf.ErrConfigured, "%s sets its own pid file, and the agent cannot read which from nginx -T (%v): remove the pid directive", c.ConfigFile, ck.dumpErr)
		}
		return ck, nil
	}
	if ck.info.DaemonOff {
		return nil, ocf.Failf(ocf.ErrConfigured, "%s sets \"daemon off\": the agent runs nginx as a daemon; remove the directive", c.ConfigFile)
	}
	if ownPid {
		pid := ck.info.Pid
		switch {
		case pid == "":
			// nginx said "duplicate" but the dump shows no pid directive.
			return nil, ocf.Failf(ocf.ErrConfigured, "%s sets its own pid file, and the agent cannot find which: remove the pid directive", c.ConfigFile)
		case !filepath.IsAbs(pid):
			return nil, ocf.Failf(ocf.ErrConfigured, "%s sets \"pid %s\": use an absolute path (and set pidfile to it), or remove the directive", c.ConfigFile, pid)
		case !c.PidFileSet:
			return nil, ocf.Failf(ocf.ErrConfigured, "%s sets \"pid %s\": set pidfile=%s, or remove the directive and let the agent choose (%s)", c.ConfigFile, pid, pid, c.PidFile)
		case filepath.Clean(pid) != filepath.Clean(c.PidFile):
			return nil, ocf.Failf(ocf.ErrConfigured, "%s sets \"pid %s\" but pidfile=%s: they must be the same file", c.ConfigFile, pid, c.PidFile)
		}
	}
	return ck, nil
}

// removeIfEmpty removes a file that exists and is empty.
func removeIfEmpty(path string) {
	if st, err := os.Lstat(path); err == nil && st.Mode().IsRegular() && st.Size() == 0 {
		_ = os.Remove(path)
	}
}

// removeIfEmptySince removes a file that is empty and was changed at or
// after t0.
func removeIfEmptySince(path string, t0 time.Time) {
	st, err := os.Lstat(path)
	if err == nil && st.Mode().IsRegular() && st.Size() == 0 && !st.ModTime().Before(t0.Add(-time.Second)) {
		_ = os.Remove(path)
	}
}

func isExecutable(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return errors.New("not an executable file")
	}
	return nil
}

// start tests the configuration, starts nginx as a daemon and waits
// until it is ready: its master has written the pid file and serves
// status_url, or, without status_url, accepts a connection on its first
// listen address. A running nginx is left alone.
func (c *config) start(ctx context.Context, a *ocf.Action, log *slog.Logger) error {
	ps, err := c.running()
	if err != nil {
		return err
	}
	if ps.M != nil {
		a.Printf("nginx already running (pid %d)", ps.M.Pid)
		return nil
	}
	ck, err := c.check(ctx)
	if err != nil {
		return err
	}
	if ck.dumpErr != nil {
		log.Warn("cannot read the configuration dump; readiness = master alive", "err", ck.dumpErr)
	}
	// nginx truncates the pid file as it writes it; a stale one (or the
	// empty one nginx -T leaves) must not be read as the new master.
	if err := removeStalePid(c.PidFile, c.Binary); err != nil {
		return err
	}
	end := a.Deadline(ctx)
	readyBy := end.Add(-min(time.Second, time.Until(end)/10))
	res, err := runNginx(ctx, c.Binary, ck.args...)
	if err != nil {
		return err
	}
	if res.Code != 0 {
		return ocf.Failf(ocf.ErrGeneric, "nginx exited with %d:\n%s", res.Code, strings.TrimSpace(res.Stderr))
	}
	// The process started has bound the listen sockets and forked the
	// master; the master writes the pid file.
	var m *master
	for {
		ps, err := c.running()
		if err != nil {
			return err
		}
		if ps.M != nil {
			m = ps.M
			break
		}
		if time.Now().After(readyBy) || !sleep(ctx, 20*time.Millisecond) {
			return ocf.Failf(ocf.ErrGeneric, "nginx started but no master appeared: %s\n%s", ps.Why, strings.TrimSpace(res.Stderr))
		}
	}
	log = log.With("pid", m.Pid)
	how, err := c.waitReady(ctx, ck, m, readyBy)
	if err != nil {
		return fmt.Errorf("nginx started (pid %d) but is not ready: %w", m.Pid, err)
	}
	log.Info("nginx started", "ready", how)
	a.Printf("nginx started (pid %d), %s", m.Pid, how)
	return nil
}

// waitReady polls until nginx is ready or readyBy; it says how it knows.
func (c *config) waitReady(ctx context.Context, ck *checked, m *master, readyBy time.Time) (string, error) {
	ctx, cancel := context.WithDeadline(ctx, readyBy)
	defer cancel()
	var check func(time.Duration) error
	var how string
	switch {
	case c.StatusURL != "":
		how = "serves " + c.StatusURL
		check = func(d time.Duration) error { return c.checkStatus(ctx, d) }
	case ck.info != nil && len(ck.info.Listen) > 0:
		network, addr := dialTarget(ck.info.Listen[0])
		how = "accepts connections on " + addr
		check = func(d time.Duration) error { return dialCheck(ctx, network, addr, d) }
	default:
		return "master running (no listen address found to check)", nil
	}
	for {
		if !m.same() {
			return "", fmt.Errorf("the master (pid %d) has exited", m.Pid)
		}
		err := check(2 * time.Second)
		if err == nil {
			return how, nil
		}
		if !sleep(ctx, 50*time.Millisecond) {
			return "", err
		}
	}
}

// stopWait is how often stop looks whether the master is gone.
const stopWait = 20 * time.Millisecond

// stop ends nginx: a graceful shutdown (QUIT: finish the requests in
// flight) for up to half the time left, then a fast one (TERM) until 80%
// of it, then SIGKILL to the master's process group and children. If the
// context ends early (a cancel), it kills at once. The pid file goes.
func (c *config) stop(ctx context.Context, a *ocf.Action, log *slog.Logger) error {
	ps, err := c.running()
	if err != nil {
		return err
	}
	if ps.M == nil {
		if err := removeStalePid(c.PidFile, c.Binary); err != nil {
			return err
		}
		a.Printf("nginx not running (%s)", ps.Why)
		return nil
	}
	m := ps.M
	log = log.With("pid", m.Pid)
	now := time.Now()
	total := time.Until(a.Deadline(ctx))
	steps := []struct {
		sig   syscall.Signal
		until time.Time
		how   string
	}{
		{syscall.SIGQUIT, now.Add(total * 5 / 10), "gracefully (QUIT)"},
		{syscall.SIGTERM, now.Add(total * 8 / 10), "fast (TERM)"},
	}
	how := ""
	for _, s := range steps {
		if err := m.signal(s.sig); err != nil {
			return err
		}
		if s.sig != syscall.SIGQUIT {
			log.Warn("nginx did not stop gracefully in time, sending "+s.sig.String(), "after", time.Since(now).Round(time.Millisecond))
		}
		if waitGone(ctx, m, s.until) {
			how = s.how
			break
		}
		if ctx.Err() != nil {
			break
		}
	}
	if how == "" {
		log.Warn("nginx did not stop in time, killing its process group", "after", time.Since(now).Round(time.Millisecond))
		children, err := m.kill()
		if err != nil {
			return err
		}
		// SIGKILL cannot be refused; allow the kernel a moment even when
		// the context has ended.
		until := time.Now().Add(time.Second)
		for _, p := range append([]*master{m}, children...) {
			if !waitGone(context.Background(), p, until) {
				return fmt.Errorf("nginx pid %d survived SIGKILL", p.Pid)
			}
		}
		how = "killed (KILL)"
	}
	if err := removeStalePid(c.PidFile, c.Binary); err != nil {
		return err
	}
	log.Info("nginx stopped", "how", how)
	a.Printf("nginx (pid %d) stopped: %s", m.Pid, how)
	return nil
}

// waitGone polls until the master is gone (true), until, or ctx's end.
func waitGone(ctx context.Context, m *master, until time.Time) bool {
	for {
		if !m.same() {
			return true
		}
		if !time.Now().Before(until) || !sleep(ctx, min(stopWait, time.Until(until))) {
			return !m.same()
		}
	}
}

// reload tests the configuration and sends HUP to the master, which
// starts workers with the new configuration and retires the old ones
// gracefully. nginx keeps the old configuration if the new one fails at
// run time (a port it cannot bind); that shows in its error log only.
func (c *config) reload(ctx context.Context, a *ocf.Action, log *slog.Logger) error {
	ps, err := c.running()
	if err != nil {
		return err
	}
	if ps.M == nil {
		return ocf.Failf(ocf.NotRunning, "cannot reload: nginx not running (%s)", ps.Why)
	}
	if _, err := c.check(ctx); err != nil {
		return err
	}
	if err := ps.M.signal(syscall.SIGHUP); err != nil {
		return err
	}
	log.Info("nginx reloaded", "pid", ps.M.Pid)
	a.Printf("configuration test successful; sent HUP to nginx (pid %d)", ps.M.Pid)
	return nil
}
