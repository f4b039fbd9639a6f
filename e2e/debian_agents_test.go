package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
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
	master, last := "", ""
	for {
		m, repl, desc := redisState(w, nodes)
		if m != "" && m != not && len(repl) == len(nodes)-1 {
			return m, time.Now()
		}
		if m != master {
			t.Logf("%v: %s", time.Now().Format("15:04:05.000"), desc)
		}
		master, last = m, desc
		if time.Now().After(deadline) {
			t.Fatalf("within %v: no one master with every other node replicating from it: %s\n%s\n%s", bound, last,
				w.cliOut(t, "status"), redisHistory(t, w, nodes))
		}
		time.Sleep(100 * time.Millisecond)
	}
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

// TestDebianRedisPromotable: Debian's ocf:heartbeat:redis as a promotable
// clone (notify=true) on three nodes: one master, two replicas
// replicating from it; the master's node crashes; another node's redis is
// promoted and the remaining replica follows it.
func TestDebianRedisPromotable(t *testing.T) {
	if os.Getenv("PACELINE_WIP") == "" {
		// Established by running it (PACELINE_WIP=1, and PACELINE_WIP=probe
		// which then runs the agent by hand with the meta Pacemaker passes):
		//  1. lrm.RequestFor passes the primitive's meta and the resource
		//     defaults only, not the clone's: the agent gets no
		//     OCF_RESKEY_CRM_meta_promotable=true (nor promoted_max or
		//     master_max, clone_max, clone_node_max, notify), so ocf_is_ms
		//     is false. The three instances start as standalone redis
		//     masters (start does not demote), the agent never calls
		//     crm_master (no promotion score, no promotion), and a promote
		//     fails: "promote: Unknown error while promoting to master
		//     (status=0)" (its monitor returns 0, not 8, when not ms).
		//  2. With that meta given by hand, crm_master -N NODE -l reboot
		//     -v/-G/-D and crm_attribute --type crm_config --name
		//     redis_REPL_INFO -s redis_replication -v NODE -q / --query -q
		//     work through the shims, and Paceline then promotes; but a
		//     replica's demote (at start and at the post-promote notify)
		//     points at the master only if master_is_active, which runs
		//     ${HA_SBIN_DIR}/cibadmin -Q | ... ${HA_SBIN_DIR}/crm_mon -1
		//     --output-as=xml and greps <resource id="redis" ...
		//     role="Promoted" active="true" orphaned="false"
		//     failed="false">: DATA-DIR/bin has neither ("crm_mon: No such
		//     file or directory", "cibadmin: No such file or directory"),
		//     so replicas follow "no-such-master" with the link down.
		t.Skip("Debian's redis agent: its master_is_active needs ${HA_SBIN_DIR}/cibadmin -Q and " +
			"${HA_SBIN_DIR}/crm_mon -1 --output-as=xml, which Paceline does not provide yet, so replicas " +
			"follow no-such-master (the clone meta it also lacked, (1) above, is passed now; " +
			"PACELINE_WIP=1 runs the test, PACELINE_WIP=probe runs the agent by hand)")
	}
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
	t0 := time.Now()
	w.cliOut(t, "resource", "create", "redis", "ocf:heartbeat:redis",
		"config="+common+"/redis.conf", "rundir="+common+"/run", "user=redis", "port=6379",
		"op", "start", "timeout=60s", "op", "monitor", "interval=2s", "role=Unpromoted",
		"op", "monitor", "interval=1s", "role=Promoted", "--promotable")
	w.cliOut(t, "resource", "meta", "redis-clone", "notify=true")
	if os.Getenv("PACELINE_WIP") == "probe" {
		probeRedisByHand(t, w)
		return
	}
	master, at := waitRedis(t, w, w.names, "", 60*time.Second)
	t.Logf("redis: %s is master, the two others replicate from it, %v after create", master, at.Sub(t0))
	t.Logf("status:\n%s", w.cliOut(t, "status"))

	began := w.crash(t, master)
	var rest []string
	for _, n := range w.names {
		if n != master {
			rest = append(rest, n)
		}
	}
	next, at := waitRedis(t, w, rest, master, 60*time.Second)
	t.Logf("figure: debian redis: master %s crashed: %s promoted and the other replica follows it after %v",
		master, next, at.Sub(began))
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

// probeRedisByHand (PACELINE_WIP=probe): once Paceline has started the
// three instances, the agent is run by hand in each node's namespaces
// (nsenter into the Paceline agent's mount and network namespaces) with
// the clone meta Pacemaker passes and Paceline does not, to see what it
// needs next: demote everywhere, monitor (scores), promote n1, post-promote
// notify on n2 and n3, then INFO replication. Paceline acts meanwhile:
// once the hand-run monitors set crm_master scores it promotes, with its
// own (meta-less) environment, so the log shows both.
func probeRedisByHand(t *testing.T, w *webCluster) {
	time.Sleep(5 * time.Second)
	common := filepath.Join(w.root, "node")
	run := func(node, action string, extra ...string) {
		dataDir := ""
		if b, err := os.ReadFile(filepath.Join(w.root, node, "paceline.yaml")); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(strings.TrimSpace(l), "data-dir:"); ok {
					dataDir = strings.Trim(strings.TrimSpace(v), `"`)
				}
			}
		}
		if !filepath.IsAbs(dataDir) {
			dataDir = filepath.Join(w.root, node, dataDir)
		}
		sbin := filepath.Join(dataDir, "bin")
		env := []string{"OCF_ROOT=/usr/lib/ocf", "OCF_RESOURCE_INSTANCE=redis", "OCF_RESOURCE_TYPE=redis",
			"OCF_RESKEY_config=" + common + "/redis.conf", "OCF_RESKEY_rundir=" + common + "/run",
			"OCF_RESKEY_user=redis", "OCF_RESKEY_port=6379",
			"OCF_RESKEY_CRM_meta_promotable=true", "OCF_RESKEY_CRM_meta_promoted_max=1", "OCF_RESKEY_CRM_meta_master_max=1",
			"OCF_RESKEY_CRM_meta_clone_max=3", "OCF_RESKEY_CRM_meta_clone_node_max=1", "OCF_RESKEY_CRM_meta_notify=true",
			"OCF_RESKEY_CRM_meta_on_node=" + node, "OCF_RESKEY_CRM_meta_timeout=20000",
			"HA_SBIN_DIR=" + sbin, "PATH=" + sbin + ":/usr/sbin:/usr/bin:/sbin:/bin",
			"PACELINE_SOCKET=" + w.clients[node].Socket(), "HA_debug=1"}
		env = append(env, extra...)
		pid := strconv.Itoa(w.procs[node].cmd.Process.Pid)
		cmd := exec.Command("timeout", "15", "nsenter", "-t", pid, "-m", "-n", "/usr/lib/ocf/resource.d/heartbeat/redis", action)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		t.Logf("=== %s: redis %s %v: rc %v\n%s", node, action, extra, err, tail(string(out), 25))
	}
	for _, n := range w.names {
		run(n, "demote")
	}
	for _, n := range w.names {
		run(n, "monitor")
	}
	t.Logf("attributes:\n%s", w.cliOut(t, "status"))
	run("n1", "promote")
	for _, n := range []string{"n2", "n3"} {
		run(n, "notify", "OCF_RESKEY_CRM_meta_notify_type=post", "OCF_RESKEY_CRM_meta_notify_operation=promote",
			"OCF_RESKEY_CRM_meta_notify_promote_uname=n1", "OCF_RESKEY_CRM_meta_notify_master_uname=")
	}
	_, _, desc := redisState(w, w.names)
	t.Logf("after promote n1 and the post-promote notifications: %s", desc)
	for _, n := range w.names {
		run(n, "monitor")
	}
	hist, _ := exec.Command(bin, "-s", w.clients["n1"].Socket(), "config", "export").CombinedOutput()
	t.Logf("config export (agent attributes: REPL_INFO):\n%s", hist)
	st, _ := exec.Command(bin, "-s", w.clients["n1"].Socket(), "-o", "json", "status").CombinedOutput()
	t.Logf("status json (promotion scores):\n%s", tail(string(st), 60))
	t.Skip("probe only (PACELINE_WIP=probe): read the log above")
}
