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
//	demote        CLIENT PAUSE WRITE -> replicas have the last offset (up to half the
//	              timeout) -> REPLICAOF primary-from-attributes or the placeholder
//	              -> CLIENT UNPAUSE
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
//	redis-RSC-replid  master_replid, likewise: the history the data set belongs to
//	redis-RSC-synced  a replica's master_replid when a monitor last saw its link up
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
// with the most of its stream wins. Offsets compare across nodes
// because a promoted replica keeps counting from its own offset. A
// replica whose data set is not its primary's has no score (deleted;
// the scheduler promotes no instance without one): one in a full
// synchronisation, and one that has not completed a synchronisation
// with the primary it follows (below).
//
// No promotion before a synchronisation. A replica pointed at a primary
// (by start, a monitor or a post-promote notification) keeps the data
// set it had — empty when it is new — until a full synchronisation
// replaces it, and for seconds it shows nothing of that: Redis 7 holds
// a first synchronisation back repl-diskless-sync-delay (5 s) and
// reports master_sync_in_progress:0, link down, until the data streams.
// When the primary crashed in that window, the agent used to publish a
// score for it like for any replica (its offset against the primary's,
// which is still 0 when the primary has had no replica yet: the top
// score), and the scheduler promoted the only candidate: an early run
// of the two-node-redis test lost all 25,732 acknowledged writes so
// (e2e TestRedisExampleCrashDuringFirstSync reproduces it). Now a
// replica is promotable only with evidence that it holds its primary's
// data set (synced in repl.go): its link is up; or its master_replid,
// which a replica takes from its primary when a synchronisation
// completes and keeps while the link is down and in its RDB file, is
// the one its node recorded the last time a monitor saw its link up
// (redis-RSC-synced), or the one the node at the address it follows
// published (redis-RSC-replid). A replica waiting on the placeholder
// follows nobody: its own data set counts, ranked by offset. A
// notification that re-points a replica publishes at once, so its old
// score does not outlive its data set.
//
// What then happens is what ocf:heartbeat:redis does: its start (a
// demote to slave) waits until master_link_status is up however long
// the synchronisation takes, so an instance that never completed one is
// never promoted; when the primary dies meanwhile, nothing is promoted
// and the service stays down rather than losing the data. Here start
// returns once redis answers (the instance is monitored meanwhile) and
// the score is withheld instead: the scheduler says "promotion scores:
// n2: no promotion score", the VIP stays stopped, and the service comes
// back when the crashed node returns with what it saved (it is then
// the one promotable instance). An operator who accepts the loss
// promotes the replica anyway with a location constraint on the
// Promoted role, which gives it a score of its own:
//
//	paceline constraint location add force-primary redis-clone n2 INFINITY role=Promoted
//
// (and `paceline constraint delete force-primary` once it is primary).
// The window the rule still leaves is a crash within a monitor interval
// of the first synchronisation's end on a primary that never had a
// replica (Redis changes its replication ID when its first replica
// comes): then the replica has no score although it has the data, the
// safe side.
//
// Catching up. promote asks the primary the replica follows (master_host
// and port from INFO) for its offset and waits until the replica's
// offset reaches it, within the promote timeout less a margin. If the
// primary does not answer within 250 ms (it crashed, or was fenced), or
// time runs out, the replica is promoted with what it has (the shortfall
// is logged). With demote first as in a switchover, no acknowledged
// write is lost; the tests count them. demote pauses writes (CLIENT
// PAUSE WRITE) and waits until every online replica has the primary's
// offset: as the primary sees it (a replica acknowledges once a second),
// or else as the replica itself says, asked directly, so that writes
// pause for as long as the replica takes to apply the last of them,
// not up to a second more.
//
// Process. redis-server daemonizes (daemonize yes, its pid file in the
// run directory) and is started in its own process group, so it outlives
// the action as nginx does. monitor and stop trust only a PID from the
// pid file that /proc shows to be redis-server; signals go to that PID
// only. stop uses TERM rather than SHUTDOWN: it needs no connection or
// password and works on a server that no longer answers; redis saves on
// TERM if the configuration has save points.
//
// Bad parameters. start, validate-all and recurring monitors return rc 6
// (the scheduler then bans the resource from every node). A stop and a
// probe do not fail on them (a failed stop fences the node): while the
// resource name, run directory and binary can still be worked out, they
// find redis-server by its pid file (the probe reports one that runs as a
// failure, so that it is stopped; the stop stops it); otherwise nothing
// this agent started can be found: the stop succeeds and the probe says
// not running.
//
// Secrets. The password goes into redis.conf (mode 0600, quoted with
// \xHH escapes) and AUTH; never onto a command line (the only argument
// is the configuration's path) nor into logs or action output.
//
// Files: params.go (parameters), resp.go (the client), process.go (pid
// file, /proc, generated configuration), repl.go (attributes, primary,
// scores: pure), redis.go (actions), metadata.go.
package redis
