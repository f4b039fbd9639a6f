// Package redis is the built-in agent ocf:paceline:redis: a Redis
// server with replication, promotable, in the spirit of
// ocf:heartbeat:redis. It runs in-process in `paceline agent`, and as an
// OCF executable (`paceline ocf redis ACTION`).
//
// # Parameters
//
//	config            a redis configuration file included first; the agent's settings follow and win
//	port              TCP port (default 6379)
//	bind              listen address (default: announce, else 0.0.0.0); given explicitly,
//	                  protected-mode is turned off
//	announce          the address other nodes reach this instance at (default: bind when
//	                  it is a specific address, else this node's cluster address, which
//	                  Paceline's LRM passes as CRM_meta_on_node_address); required in a
//	                  cluster
//	dir               data directory (default /var/lib/paceline/redis-INSTANCE)
//	password_file     first line = the password: requirepass, masterauth, and the agent's AUTH
//	replication_user  masteruser: the ACL user replicas authenticate as (same password);
//	                  define it in config
//	binary            default /usr/bin/redis-server
//	run_dir           generated redis.conf (0600), redis.pid, redis.log
//	                  (default /run/paceline/redis-NODE-INSTANCE)
//
// INSTANCE is the resource id without a clone's ":N"; NODE comes from
// the on_node meta attribute.
//
// # Actions
//
//	start         (running: done) -> write redis.conf -> redis-server redis.conf (it
//	              daemonizes) -> PING answered; as a replica of the primary the
//	              attributes name, else of the placeholder (waiting, read-only)
//	promote       catch up with the primary (below) -> REPLICAOF NO ONE
//	demote        CLIENT PAUSE WRITE -> replicas acknowledge the last offset (up to
//	              half the timeout) -> REPLICAOF primary-from-attributes or the
//	              placeholder -> CLIENT UNPAUSE
//	monitor       7 no live redis-server behind the pid file; 1 running but not
//	              answering (9 if this node's role attribute says primary);
//	              8 role master (depth 10: SET/GET of paceline:probe:RSC, expiring
//	              in 60 s; a failure is 9); 0 role slave, link up or not.
//	              A replica re-points to the primary the attributes name.
//	              Every monitor publishes the attributes and score.
//	stop          TERM, up to 80% of the timeout, then KILL, by PID from the pid
//	              file; attributes deleted; stopped already: done
//	notify        0 always; a post-promote notification naming another node makes
//	              a replica follow that node's published address
//	validate-all  binary (5), config file (5), password file (5 missing, 6 empty)
//
// # Decisions
//
// Client. The agent speaks RESP2 over a net.Conn itself (resp.go, about
// 200 lines) instead of github.com/redis/go-redis/v9. It sends a dozen
// commands, one at a time on a connection it opens for one action, and
// needs exact control of deadlines (each command is bounded by the
// action's context) and of errors (READONLY, LOADING, NOAUTH tell the
// states apart). go-redis would bring a connection pool with background
// reapers, retries that can re-send a command the agent must see fail
// once, RESP3 negotiation, and a dependency tree, for no command the
// agent needs.
//
// Waiting state. A Redis without a primary accepts writes, so an
// instance never runs without one until it is promoted: start writes
// "replicaof 127.0.0.1 0" into the configuration when no primary is
// known. Nothing can listen on port 0, so the instance is a read-only
// replica (replica-read-only yes) whose link stays down, and its retries
// never leave the host (ocf:heartbeat:redis does the same with the
// unresolvable host "no-such-master", which costs a DNS query a second).
// It keeps its data set and its offset, so it can be promoted. Its log
// shows one "Connection refused" a second while it waits.
//
// Finding the primary. Paceline's scheduler does not send clone
// notifications yet, so instances find each other through transient
// node attributes (ocf.Action.Attrs), which each sets on its own node:
//
//	redis-RSC-role    primary | replica
//	redis-RSC-addr    announce:port
//	redis-RSC-offset  master_repl_offset at the last start/monitor/promote/demote
//	master-RSC        the promotion score (crm/scheduler reads master-<primitive id>)
//
// The primary is the one other node whose role is primary; if several
// claim it, nobody is followed and a warning is logged. start follows
// it; a replica's monitor re-points to it (REPLICAOF) when it follows
// something else or the placeholder, so a demoted primary follows the
// new one within one monitor interval. notify does the same at once,
// when notifications come. Without Attrs (the OCF executable, or no
// cluster) the agent is standalone: it waits read-only until promoted.
//
// Scores. The primary publishes 1001, above every replica, so the
// promotion stays put. A replica publishes 1000 when its offset is at
// least the highest redis-RSC-offset any other node published (the
// primary's included), and less by 8 points for each doubling of its lag
// in bytes (at least 1) otherwise: when the primary fails, the replica
// with the most of its stream wins. A replica in a full
// synchronisation has an incomplete data set: its score is deleted (no
// score: not promotable). Offsets compare across nodes because a
// promoted replica keeps counting from its own offset.
//
// Catching up. promote asks the primary the replica follows (master_host
// and port from INFO) for its offset and waits until the replica's
// offset reaches it, within the promote timeout less a margin. If the
// primary does not answer, or time runs out, the replica is promoted with
// what it has (the shortfall is logged). With demote first (CLIENT PAUSE
// WRITE, replicas drained) as in a switchover, no acknowledged write is
// lost; the tests count them.
//
// Process. redis-server daemonizes (daemonize yes, its pid file in the
// run directory) and is started in its own process group, so it outlives
// the action as nginx does. monitor and stop trust only a PID from the
// pid file that /proc shows to be redis-server; signals go to that PID
// only. stop uses TERM rather than SHUTDOWN: it needs no connection or
// password and works on a server that no longer answers; redis saves on
// TERM if the configuration has save points.
//
// Secrets. The password goes into redis.conf (mode 0600, quoted with
// \xHH escapes) and AUTH; never onto a command line (the only argument
// is the configuration's path) nor into logs or action output.
//
// Files: params.go (parameters), resp.go (the client), process.go (pid
// file, /proc, generated configuration), repl.go (attributes, primary,
// scores: pure), redis.go (actions), metadata.go.
package redis
