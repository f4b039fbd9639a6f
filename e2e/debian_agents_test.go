package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Debian's own resource agents (resource-agents' ocf:heartbeat:redis and
// ocf:heartbeat:nginx), unmodified, under Paceline on three nodes in
// network namespaces. As in examples_test.go, each node's agent runs in a
// private mount namespace: ROOT/node is that node's ROOT/nN/node (the
// redis or nginx configuration, data, run directory), /run/paceline and
// /run/resource-agents are fresh tmpfs, and /etc/hosts is the lab's (node
// names resolve to their addresses: the redis agent points replicas at
// the promoted node by name). Nothing is mounted on the host.

const debianHeartbeat = "/usr/lib/ocf/resource.d/heartbeat"

// newDebianCluster is newWebCluster with the mounts Debian's agents need.
func newDebianCluster(t *testing.T, n int, need ...string) *webCluster {
	for _, f := range need {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("needs %s", f)
		}
	}
	return newWebClusterWith(t, n, true)
}

// redisFiles writes ROOT/NODE/node/redis.conf (bound to the node's
// address) and the data and run directories, owned by redis.
func redisFiles(t *testing.T, w *webCluster, node string, uid, gid int) {
	d := filepath.Join(w.root, node, "node")
	common := filepath.Join(w.root, "node")
	for _, sub := range []string{"redis", "run"} {
		if err := os.MkdirAll(filepath.Join(d, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(filepath.Join(d, sub), uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	i := strings.TrimPrefix(node, "n")
	conf := fmt.Sprintf(`# redis of node %[1]s (seen there as %[2]s)
bind 192.0.2.%[3]s 127.0.0.1
port 6379
protected-mode no
dir %[2]s/redis
logfile %[2]s/redis/redis.log
save ""
appendonly no
`, node, common, i)
	if err := os.WriteFile(filepath.Join(d, "redis.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
}

// redisInfo is a node's INFO replication, asked over TCP from inside its
// namespace: role, master_host, master_link_status.
func redisInfo(w *webCluster, node string) map[string]string {
	addr := "192.0.2." + strings.TrimPrefix(node, "n")
	out, err := exec.Command("ip", "netns", "exec", w.lab.NS(node), "redis-cli", "-h", addr, "-p", "6379", "info", "replication").Output()
	m := map[string]string{}
	if err != nil {
		return m
	}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok {
			m[k] = v
		}
	}
	return m
}

// redisState: the master among nodes ("" unless exactly one), and a
// description of every node's replication.
func redisState(w *webCluster, nodes []string) (master string, replicating []string, desc string) {
	var masters, parts []string
	infos := map[string]map[string]string{}
	for _, n := range nodes {
		info := redisInfo(w, n)
		infos[n] = info
		switch info["role"] {
		case "master":
			masters = append(masters, n)
			parts = append(parts, n+": master")
		case "slave":
			parts = append(parts, fmt.Sprintf("%s: replica of %s (link %s)", n, info["master_host"], info["master_link_status"]))
		default:
			parts = append(parts, n+": no answer")
		}
	}
	if len(masters) == 1 {
		master = masters[0]
		for _, n := range nodes {
			if infos[n]["role"] == "slave" && infos[n]["master_host"] == master && infos[n]["master_link_status"] == "up" {
				replicating = append(replicating, n)
			}
		}
	}
	return master, replicating, strings.Join(parts, "; ")
}

// waitRedis waits until one of nodes (not not) is master and every other
// one of nodes replicates from it; it returns the master and when.
func waitRedis(t *testing.T, w *webCluster, nodes []string, not string, bound time.Duration) (string, time.Time) {
	t.Helper()
	deadline := time.Now().Add(bound)
	last := ""
	for {
		m, repl, desc := redisState(w, nodes)
		if m != "" && m != not && len(repl) == len(nodes)-1 {
			return m, time.Now()
		}
		if desc != last {
			t.Logf("%v: %s", time.Now().Format("15:04:05.000"), desc)
		}
		last = desc
		if time.Now().After(deadline) {
			t.Fatalf("within %v: no one master with every other node replicating from it: %s\n%s\n%s", bound, last,
				statusFrom(w, nodes), redisHistory(t, w, nodes))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// statusFrom is `paceline status` as the first of nodes sees it (they
// are alive, unlike n1 perhaps).
func statusFrom(w *webCluster, nodes []string) string {
	out, _ := exec.Command(bin, "-s", w.clients[nodes[0]].Socket(), "status").CombinedOutput()
	return string(out)
}

// redisHistory is every node's `paceline resource history redis`.
func redisHistory(t *testing.T, w *webCluster, nodes []string) string {
	var b strings.Builder
	for _, n := range nodes {
		out, _ := exec.Command(bin, "-s", w.clients[n].Socket(), "resource", "history", "redis").CombinedOutput()
		fmt.Fprintf(&b, "--- %s: resource history redis\n%s", n, out)
	}
	return b.String()
}

// redisOpsSince is what a node's LRM ran on redis since a time: its
// recent operations ("start rc=0", ...) and the last results of its
// recurring monitors that ran since ("monitor 1s rc=8").
func redisOpsSince(w *webCluster, node string, since time.Time) (ops, monitors []string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h, err := w.clients[node].History(ctx, "redis", "")
	if err != nil {
		return nil, nil, fmt.Errorf("%s: history of redis: %w", node, err)
	}
	for _, r := range h.Resources {
		for _, o := range r.Recent {
			if o.Interval == 0 && o.Started.After(since) {
				ops = append(ops, fmt.Sprintf("%s rc=%d", o.Action, o.RC))
			}
		}
		for _, o := range r.Monitors {
			if o.Started.After(since) {
				monitors = append(monitors, fmt.Sprintf("monitor %v rc=%d", o.Interval, o.RC))
			}
		}
	}
	return ops, monitors, nil
}

// waitRedisOps waits until node's LRM has run, since a time, every one of
// the operations want (each "ACTION rc=N", in any order) and its
// recurring monitors' last results include monitor (e.g. "monitor 1s
// rc=8"; "" for none); it logs what ran.
func waitRedisOps(t *testing.T, w *webCluster, node string, since time.Time, want []string, monitor string, bound time.Duration) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		ops, mons, err := redisOpsSince(w, node, since)
		missing := slices.DeleteFunc(slices.Clone(want), func(o string) bool { return slices.Contains(ops, o) })
		if err == nil && len(missing) == 0 && (monitor == "" || slices.Contains(mons, monitor)) {
			t.Logf("%s ran on redis: %s; monitors: %s", node, strings.Join(ops, ", "), strings.Join(mons, ", "))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s within %v: want %v and %q; ran %v (err %v), monitors %v\n%s", node, bound, want, monitor, ops, err, mons,
				redisHistory(t, w, []string{node}))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// promotedGrep is the redis agent's test for an active, healthy promoted
// instance (master_is_active, resource-agents 4.12, OCF_RESOURCE_INSTANCE
// redis) applied to crm_mon's XML, with the node element that follows.
var promotedGrep = regexp.MustCompile(`(?i)resource.*id="redis".* role="(Promoted|Master)".* active="true".* orphaned="false".* failed="false".*\n\s*<node name="([^"]*)"`)

// waitCrmMonPromoted runs the paceline binary as crm_mon -1
// --output-as=xml against node's agent, as the redis agent does through
// HA_SBIN_DIR, until the promoted instance it greps for is on want; it
// returns the matching line.
func waitCrmMonPromoted(t *testing.T, w *webCluster, node, want string, bound time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		cmd := exec.Command(bin, "-1", "--output-as=xml")
		cmd.Args[0] = "crm_mon" // the binary answers to its name
		cmd.Env = []string{"PACELINE_SOCKET=" + w.clients[node].Socket(), "PATH=/usr/bin:/bin"}
		out, err := cmd.CombinedOutput()
		var on []string
		for _, m := range promotedGrep.FindAllStringSubmatch(string(out), -1) {
			on = append(on, m[2])
		}
		if err == nil && len(on) == 1 && on[0] == want {
			line, _, _ := strings.Cut(promotedGrep.FindString(string(out)), "\n")
			return strings.TrimSpace(line) + " (on " + want + ")"
		}
		if time.Now().After(deadline) {
			t.Fatalf("crm_mon on %s within %v: the promoted redis is on %v, want %s (err %v):\n%s", node, bound, on, want, err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func without(nodes []string, not ...string) []string {
	return slices.DeleteFunc(slices.Clone(nodes), func(n string) bool { return slices.Contains(not, n) })
}

// TestDebianRedisPromotable: Debian's ocf:heartbeat:redis, unmodified, as
// a promotable clone (notify=true) on three nodes. The agent reads the
// cluster as under Pacemaker: crm_master for promotion scores,
// crm_attribute for the last known primary, and, before it points a
// replica at a primary, crm_mon -1 --output-as=xml on `cibadmin -Q`
// (master_is_active) — the shims of cmd/paceline answer. Each node
// starts it, it is monitored in both roles, one is promoted and the two
// others replicate from it; the promoted role is banned from that node
// and moves (demote there, promote elsewhere), every replica following;
// then the new primary's node crashes, the remaining one is promoted and
// the old primary, now a replica, follows it.
func TestDebianRedisPromotable(t *testing.T) {
	agent := filepath.Join(debianHeartbeat, "redis")
	w := newDebianCluster(t, 3, agent, "/usr/bin/redis-server", "/usr/bin/redis-cli")
	u, err := user.Lookup("redis")
	if err != nil {
		t.Skip("needs the redis user (the redis-server package makes it)")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for _, n := range w.names {
		redisFiles(t, w, n, uid, gid)
	}
	common := filepath.Join(w.root, "node")
	const bound = 90 * time.Second // 2 shared CPUs: generous
	t0 := time.Now()
	w.cliOut(t, "resource", "create", "redis", "ocf:heartbeat:redis",
		"config="+common+"/redis.conf", "rundir="+common+"/run", "user=redis", "port=6379",
		"op", "start", "timeout=60s", "op", "monitor", "interval=2s", "role=Unpromoted",
		"op", "monitor", "interval=1s", "role=Promoted", "--promotable")
	w.cliOut(t, "resource", "meta", "redis-clone", "notify=true")

	// Start, promote, monitor in both roles; replicas follow.
	first, at := waitRedis(t, w, w.names, "", bound)
	t.Logf("redis: %s is master, the two others replicate from it, %v after create", first, at.Sub(t0))
	waitRedisOps(t, w, first, t0, []string{"start rc=0", "promote rc=0"}, "monitor 1s rc=8", bound)
	for _, n := range without(w.names, first) {
		waitRedisOps(t, w, n, t0, []string{"start rc=0"}, "monitor 2s rc=0", bound)
	}
	t.Logf("crm_mon on %s, as the redis agent greps it: %s", without(w.names, first)[0],
		waitCrmMonPromoted(t, w, without(w.names, first)[0], first, bound))

	// Switchover: the promoted role may not stay on first.
	t1 := time.Now()
	w.cliOut(t, "constraint", "location", "add", "redis-primary-not-"+first, "redis-clone", first, "-INFINITY", "role=Promoted")
	second, at := waitRedis(t, w, w.names, first, bound)
	t.Logf("switchover: %s demoted, %s promoted, %s and %s replicate from it, %v after the constraint",
		first, second, first, without(w.names, first, second)[0], at.Sub(t1))
	waitRedisOps(t, w, first, t1, []string{"demote rc=0"}, "monitor 2s rc=0", bound)
	waitRedisOps(t, w, second, t1, []string{"promote rc=0"}, "monitor 1s rc=8", bound)
	t.Logf("status:\n%s", statusFrom(w, []string{second}))

	// Failover: second's node crashes; the last node is promoted (first may
	// not be) and first follows it.
	rest := without(w.names, second)
	began := w.crash(t, second)
	third, at := waitRedis(t, w, rest, second, bound)
	if want := without(w.names, first, second)[0]; third != want {
		t.Fatalf("%s promoted, want %s (the promoted role is banned from %s)", third, want, first)
	}
	t.Logf("figure: debian redis: master %s crashed: %s promoted and %s follows it after %v", second, third, first, at.Sub(began))
	waitRedisOps(t, w, third, began, []string{"promote rc=0"}, "monitor 1s rc=8", bound)
	t.Logf("crm_mon on %s after the failover, as the redis agent greps it: %s", first, waitCrmMonPromoted(t, w, first, third, bound))
	t.Logf("status:\n%s", statusFrom(w, rest))
}

// TestDebianNginxGroup: a VIP (ocf:paceline:vip) and Debian's
// ocf:heartbeat:nginx in a group on three nodes, with a depth-0 and a
// depth-10 (status10url) monitor; the node serving crashes and HTTP 200
// comes back through the VIP from another node.
func TestDebianNginxGroup(t *testing.T) {
	const vip = "192.0.2.50"
	w := newDebianCluster(t, 3, filepath.Join(debianHeartbeat, "nginx"), "/usr/sbin/nginx")
	t0 := time.Now()
	w.cliOut(t, "resource", "create", "web-ip", "ocf:paceline:vip", "ip="+vip, "cidr_netmask=24",
		"op", "monitor", "interval=1s", "--group", "web")
	w.cliOut(t, "resource", "create", "web-server", "ocf:heartbeat:nginx", "configfile="+w.conf,
		"status10url=http://localhost/nginx_status",
		"op", "monitor", "interval=2s", "op", "monitor", "interval=10s", "OCF_CHECK_LEVEL=10", "--group", "web")
	first, at := w.waitServed(t, vip, exampleBound, "", "")
	t.Logf("http://%s/ answers 200 from %s, %v after create", vip, first, at.Sub(t0))
	// Both monitors run (the depth-10 one fetches status10url).
	for _, iv := range []time.Duration{2 * time.Second, 10 * time.Second} {
		deadline := time.Now().Add(15 * time.Second)
		for {
			ok, why := w.monitored(first, "web-server", iv)
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal(why)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	time.Sleep(11 * time.Second) // the depth-10 monitor runs once at least
	if st := w.cliOut(t, "status"); strings.Contains(strings.ToLower(st), "failed") {
		t.Fatalf("a failure after the monitors ran:\n%s", st)
	}

	hist, _ := exec.Command(bin, "-s", w.clients[first].Socket(), "resource", "history", "web-server").CombinedOutput()
	t.Logf("%s: resource history web-server:\n%s", first, hist)
	if !strings.Contains(string(hist), "monitor every 10s: monitor rc=0") {
		t.Errorf("%s: no depth-10 monitor (every 10s) that returned 0", first)
	}

	began := w.crash(t, first)
	next, at := w.waitServed(t, vip, exampleBound, first, "")
	t.Logf("figure: debian nginx group: %s crashed: http://%s/ answers 200 from %s after %v", first, vip, next, at.Sub(began))
}
