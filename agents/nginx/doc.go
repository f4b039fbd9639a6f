// Package nginx is the built-in agent ocf:paceline:nginx: an nginx web
// server or proxy, like ocf:heartbeat:nginx. It runs in-process in
// `paceline agent`, and as an OCF executable (`paceline ocf nginx
// ACTION` with OCF_RESKEY_* in the environment; `paceline ocf install`
// writes its wrapper with the other built-in agents').
//
// # Parameters
//
//	configfile    required; the configuration, passed as nginx -c (absolute path)
//	binary        the nginx binary (default /usr/sbin/nginx)
//	pidfile       the master's pid file (default /run/paceline/nginx-NODE-INSTANCE.pid)
//	status_url    a page the running nginx serves (stub_status or any), for
//	              start's readiness check and monitor depth 10
//	status_regex  a Go regular expression the status page's body must match
//	options       extra nginx arguments, split on spaces: -p PREFIX, -e FILE, -q
//
// # Actions
//
//	start         (already running: done) -> nginx -T (the config test; it
//	              fails: rc 6 with nginx's errors) -> nginx [options] -c FILE
//	              -g "pid PIDFILE;" -> the master writes the pid file -> ready:
//	              status_url answers 2xx (and matches), or else the first
//	              listen address accepts a TCP connection
//	stop          (not running: done) -> QUIT, wait until 50% of the timeout
//	              -> TERM, until 80% -> SIGKILL to the master's process group
//	              and its children -> pid file removed
//	monitor       depth 0 (and 1-9): the pid file names a live nginx process (else 7);
//	              depth >= 10: also GET status_url (5 s, no redirects, no
//	              proxy): 2xx and status_regex, else rc 1 with the reason;
//	              no status_url: rc 6
//	reload        not running: 7 -> config test -> HUP to the master
//	validate-all  binary missing: 5; configfile missing: 5; config test: 6
//	meta-data     two monitors (depth 0 every 10 s, depth 10 every 30 s), reload
//
// # Decisions
//
// Daemon mode. nginx runs as its own daemon (its default): the process
// the agent starts binds the listen sockets, forks the master and exits;
// the master calls setsid, so it leaves the agent's process group (which
// the local resource manager kills when an OCF action times out) and
// outlives the agent's call, in-process or not. Its process group is its
// own PID, which is what stop kills in the end. A configuration with
// "daemon off" is refused (rc 6): the agent would have to supervise the
// process itself, and nothing would reap it after a restart of the
// agent.
//
// Pid file. The agent decides where the pid file is, so that monitor
// and stop need only the parameters, never the configuration: it passes
// -g "pid PIDFILE;" (to the test too, so that nginx -t, which creates an
// empty pid file, does not touch the default /run/nginx.pid; an empty
// pid file the test created is removed again). A
// configuration that sets its own pid (Debian's /etc/nginx/nginx.conf
// does: /run/nginx.pid) makes nginx refuse the -g as a duplicate; the
// agent then tests it without -g and requires pidfile to name that same
// file (rc 6 otherwise, saying which). The default pid file has the node
// in its name so that nodes sharing one machine in tests (network
// namespaces, one /run) do not see each other's nginx (tests move the
// directory with WithPidDir). An empty pid
// file, a PID that is gone or a zombie, or a PID now used by a program
// that is not nginx all mean "not running"; signals go only to a PID
// read from the pid file, checked again (by its start time) right
// before each signal.
//
// Bad parameters. start, validate-all and recurring monitors return rc 6
// (the scheduler then bans the resource from every node, as Pacemaker
// does). A stop and a probe do not fail on them: a failed stop fences the
// node, and parameters may have gone bad while nginx runs. If pidfile and
// binary are still usable they look for nginx by them (the probe at depth
// 0); otherwise no nginx this agent started can be found, so the stop
// succeeds and the probe says not running. Both print the problem.
//
// Readiness. When the started process exits 0, nginx has already bound
// its listen sockets; the master then writes the pid file. start waits
// for that master, then for status_url if set, else connects to the
// first stream listen address of the configuration as nginx -T prints it
// (a wildcard becomes 127.0.0.1 or ::1, a missing port 80, unix:PATH a
// unix socket). No listen address found: the master running is enough.
// All within the start timeout less a margin, so that a failure is
// reported with its reason rather than as a timeout.
//
// Output. nginx's stdout and stderr go to pipes that the agent stops
// reading 200 ms after the started process exits: Debian's nginx is
// built with --error-log-path=stderr, so a configuration without an
// error_log directive keeps the daemon's stderr, which would otherwise
// hold the action (and ocf-tester's command substitution) open for ever.
// Such a daemon's log is lost: set error_log in the configuration.
//
// Files: params.go (parameters), conf.go (reading nginx -T), process.go
// (pid file, /proc, signals, running nginx), status.go (HTTP and TCP
// checks), metadata.go.
package nginx
