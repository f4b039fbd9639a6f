#!/usr/bin/env bash
# make demo, second script (root): failover for real. Three nodes, each a network
# namespace on a bridge of its own (192.0.2.1-3), and a client namespace
# (192.0.2.100). A group of a virtual IP (192.0.2.50, ocf:paceline:vip) and
# nginx (Debian's ocf:heartbeat:nginx agent) runs on one node; every node's
# nginx serves a page naming its node, and the client fetches
# http://192.0.2.50/ to see who answers. The node holding the group crashes
# (everything in its namespace is SIGKILLed and its link goes down, as a
# dead machine takes its addresses with it): the client is answered by
# another node. The node comes back: with stickiness 0 the group fails back
# to its preferred node; with stickiness 100 it stays.
#
# The nodes share this machine's filesystem, but a resource's parameters
# are the same on every node. So each node's agent runs in a mount
# namespace of its own, in which DIR/node is that node's directory
# DIR/nN/node (nginx.conf, pid file, page) and /run/resource-agents a fresh
# tmpfs: the same configfile=DIR/node/nginx.conf means a different file on
# each node. Nothing is mounted on the host, nothing leaves the namespaces,
# and every namespace, process and file is removed at the end (also on
# error or Ctrl-C), processes by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${BIN:-bin/paceline}")
[ "$(id -u)" = 0 ] || { echo "demo-failover: needs root (network namespaces); skipped"; exit 0; }
NGINX_RA=/usr/lib/ocf/resource.d/heartbeat/nginx
for f in /usr/sbin/nginx "$NGINX_RA" /usr/bin/curl; do
  [ -x "$f" ] || { echo "demo-failover: $f is missing; run scripts/deps.sh (make deps) first" >&2; exit 1; }
done

P="pldemo$$-"
SW="${P}sw"
CL="${P}cl"
VIP=192.0.2.50
URL="http://$VIP/"
NODES=(n1 n2 n3)
declare -A PID # each running node's agent
KILLED=()      # every PID killed
dir=$(mktemp -d /tmp/paceline-failover.XXXX)
chmod 711 "$dir" # nginx's workers (nobody) reach DIR/node

bold=$(tput bold 2>/dev/null || true); plain=$(tput sgr0 2>/dev/null || true)
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
say() { printf '%s$ %s%s\n' "$bold" "$*" "$plain"; }
pl() { # pl NODE ARGS...: show and run a CLI command against NODE's agent
  local node=$1; shift
  printf '%s[%s]$ paceline %s%s\n' "$bold" "$node" "$*" "$plain"
  "$BIN" -s "$dir/$node/paceline.sock" "$@"
}
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# kill_netns NS [SHOW]: SIGKILL every process in network namespace NS
# (ip netns pids), by PID, until none is left; with SHOW, show them first.
kill_netns() {
  local pids
  while pids=$(ip netns pids "$1" 2>/dev/null) && [ -n "$pids" ]; do
    if [ -n "${2:-}" ]; then
      say "kill -KILL" $pids"   # the rest of $2: ip netns pids $1"
      ps -o pid=,args= -p "$(echo $pids | tr ' ' ,)" | cut -c1-100 | sed 's/^ */    /' || true
    fi
    kill -KILL $pids 2>/dev/null || true
    KILLED+=($pids)
    sleep 0.05
  done
}

cleanup() {
  trap '' INT TERM
  set +e
  local ns
  for ns in "${NODES[@]/#/$P}" "$CL"; do
    ip netns pids "$ns" >/dev/null 2>&1 && kill_netns "$ns"
  done
  for ns in "${NODES[@]/#/$P}" "$CL" "$SW"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$dir"
  # The dead nginx processes are reparented to init, which reaps them; wait
  # (5 s at most) until none is left even as a zombie.
  local p i
  for i in $(seq 1 100); do
    for p in "${KILLED[@]}"; do grep -qs '^[0-9]* (nginx) Z' "/proc/$p/stat" && break; p=; done
    [ -z "$p" ] && break
    sleep 0.05
  done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

host() { # host NAME ADDR PORT: a namespace with eth0 on the bridge
  ip netns add "$P$1"
  ip link add "v$3" netns "$SW" type veth peer name eth0 netns "$P$1"
  ip -n "$SW" link set "v$3" master br0 up
  ip -n "$P$1" link set lo up
  ip -n "$P$1" addr add "$2/24" dev eth0
  ip -n "$P$1" link set eth0 up
}

# node_files NODE: the node's own nginx directory, DIR/NODE/node, seen as
# DIR/node on that node only.
node_files() {
  local d="$dir/$1/node"
  mkdir -p "$d/html" "$d/tmp"
  chmod 755 "$d" "$d/html"
  echo "served by $1" >"$d/html/index.html"
  cat >"$d/nginx.conf" <<EOF
# nginx of node $1 in the Paceline failover demo (seen there as $dir/node)
worker_processes 1;
pid $dir/node/nginx.pid;
error_log $dir/node/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $dir/node/tmp/body;
  proxy_temp_path $dir/node/tmp/proxy;
  fastcgi_temp_path $dir/node/tmp/fastcgi;
  uwsgi_temp_path $dir/node/tmp/uwsgi;
  scgi_temp_path $dir/node/tmp/scgi;
  server {
    listen 80;
    root $dir/node/html;
    default_type text/plain;
    location = /nginx_status { stub_status; allow 127.0.0.1; deny all; }
  }
}
EOF
}

# start_agent NODE: its agent in its network namespace and a mount
# namespace of its own (DIR/node = DIR/NODE/node, a fresh
# /run/resource-agents). ip netns exec, unshare and sh all exec, so the
# PID recorded is the agent's.
start_agent() {
  local n=$1
  ip netns exec "$P$n" unshare --mount --propagation private sh -c \
    'mount --bind "$1" "$2" && mount -t tmpfs -o mode=1755 tmpfs /run/resource-agents && exec "$3" agent --config "$4"' \
    sh "$dir/$n/node" "$dir/node" "$BIN" "$dir/$n/paceline.yaml" 2>>"$dir/$n.log" &
  PID[$n]=$!
  disown "${PID[$n]}" # killed by PID below; no job notices
  wait_for 20 test -S "$dir/$n/paceline.sock" || { echo "$n did not start; its log:" >&2; cat "$dir/$n.log" >&2; exit 1; }
}

wait_for() { # wait_for SECONDS CMD...: poll until CMD succeeds
  local end=$((SECONDS + $1)); shift
  until "$@"; do [ $SECONDS -lt $end ] || return 1; sleep 0.05; done
}
quorate() { "$BIN" -s "$dir/$1/paceline.sock" status 2>/dev/null | grep -q 'quorate: 3 of 3'; }

# fetch: what the client gets from the VIP (empty if no answer in 0.2 s).
fetch() { ip netns exec "$CL" curl -s --max-time 0.2 "$URL" 2>/dev/null || true; }

# watch_client T0 SECONDS [UNTIL]: the client fetches the URL every 50 ms,
# printing each change of answer with the time since T0; it stops at the
# first answer matching the regexp UNTIL (status 0), or after SECONDS
# (status 0 without UNTIL, else 1).
watch_client() {
  local t0=$1 end=$((SECONDS + $2)) until=${3:-} last=- a
  while :; do
    a=$(fetch)
    if [ "$a" != "$last" ]; then
      printf '  client, +%5s ms: %s\n' "$(ms "$t0")" "${a:-no answer}"
      last=$a
    fi
    [ -n "$until" ] && [[ $a =~ $until ]] && return 0
    [ $SECONDS -lt $end ] || { [ -z "$until" ]; return; }
    sleep 0.05
  done
}

# serving: the node the client gets its page from (a few tries).
serving() {
  local i a
  for i in 1 2 3 4 5; do
    a=$(fetch | sed -n 's/^served by //p')
    [ -n "$a" ] && { echo "$a"; return; }
    sleep 0.2
  done
  echo "the client gets no answer from $VIP" >&2
  return 1
}

# crash NODE: the machine dies: its agent and everything it started (nginx)
# are SIGKILLed by PID, and its link goes down.
crash() {
  local n=$1
  say "kill -KILL ${PID[$n]}   # $n's agent"
  kill -KILL "${PID[$n]}"
  unset "PID[$n]"
  kill_netns "$P$n" "$n"
  say "ip -n $P$n link set eth0 down"
  ip -n "$P$n" link set eth0 down
}
# revive NODE: it reboots (its addresses and /run are gone) and its agent starts.
revive() {
  local n=$1
  ip -n "$P$n" addr del "$VIP/24" dev eth0 2>/dev/null || true
  rm -f "$dir/$n/node/nginx.pid"
  say "ip -n $P$n link set eth0 up"
  ip -n "$P$n" link set eth0 up
  say "ip netns exec $P$n unshare --mount ... paceline agent --config $dir/$n/paceline.yaml &"
  start_agent "$n"
  wait_for 20 quorate "$n" || { echo "$n did not rejoin" >&2; exit 1; }
}

step "Three nodes and a client, each a network namespace on a private bridge"
ip netns add "$SW"
ip -n "$SW" link add br0 type bridge
ip -n "$SW" link set br0 up
i=0
for n in "${NODES[@]}"; do i=$((i + 1)); host "$n" "192.0.2.$i" "$i"; done
host "${CL#$P}" 192.0.2.100 9
ip netns list | grep "^$P" | sed 's/ (.*//' | paste -sd' ' | sed 's/^/  namespaces: /'
"$BIN" cluster init --dir "$dir" --local --name failover \
  n1=192.0.2.1:7250 n2=192.0.2.2:7250 n3=192.0.2.3:7250 >/dev/null
mkdir -p "$dir/node" # where each node sees its own directory
# The mount point of each node's own /run/resource-agents: the directory
# resource-agents' tmpfiles.d makes at boot, made here if a boot did not.
[ -d /run/resource-agents ] || mkdir -m 1755 /run/resource-agents
for n in "${NODES[@]}"; do
  printf 'resources:\n  manage: true\n' >>"$dir/$n/paceline.yaml"
  node_files "$n"
done
echo "  each node's agent sees its own $dir/node/ (nginx.conf, index.html: \"served by nN\")"
for n in "${NODES[@]}"; do start_agent "$n"; done
wait_for 20 quorate n1 || { echo "no quorum" >&2; exit 1; }

# Debian's nginx agent also pkills, in its stop, any "nginx ... -c CONFIGFILE"
# on the machine, hence on every node here: harmless in this story, as a
# group's move stops nginx on the old node before it starts on the new one.
step "A web group: the virtual IP $VIP and nginx, preferring n1"
pl n1 resource create web-ip ocf:paceline:vip ip=$VIP cidr_netmask=24 op monitor interval=1s --group web
pl n2 resource create web-server ocf:heartbeat:nginx configfile="$dir/node/nginx.conf" \
  status10url=http://localhost/nginx_status op monitor interval=2s --group web
pl n3 constraint location web prefers n1=50
say "ip netns exec $CL curl --max-time 0.2 $URL   # repeated"
watch_client "$(date +%s%N)" 30 'served by' || { echo "the client got no answer from $VIP" >&2; exit 1; }
pl n2 status

was=$(serving)
step "Crash $was, the node serving $URL"
t0=$(date +%s%N)
crash "$was"
watch_client "$t0" 20 'served by' || { echo "no answer from $VIP within 20 s" >&2; exit 1; }
now=$(serving)
echo "=> $now answers for $VIP $(ms "$t0") ms after $was crashed"
pl "$now" status

step "Bring $was back: with resource-stickiness 0 the group fails back to its preferred node n1"
t0=$(date +%s%N)
revive "$was"
echo "  $was is back and quorate after $(ms "$t0") ms"
watch_client "$t0" 30 'served by n1' || { echo "no failback to n1 within 30 s" >&2; exit 1; }
echo "=> back on n1. The gap is the move itself: nginx stopped on $now (Debian's agent"
echo "   waits a second in its stop), then the VIP and nginx started on n1"

step "With resource-stickiness 100 (more than the preference of 50) it stays where it runs"
pl n2 resource defaults resource-stickiness=100
was=$(serving)
t0=$(date +%s%N)
crash "$was"
watch_client "$t0" 20 'served by' || { echo "no answer from $VIP within 20 s" >&2; exit 1; }
now=$(serving)
echo "=> $now answers $(ms "$t0") ms after $was crashed"
t0=$(date +%s%N)
revive "$was"
echo "  $was is back and quorate after $(ms "$t0") ms; the client keeps watching for 3 s:"
watch_client "$t0" 3
echo "=> still served by $(serving): no failback"
pl "$now" resource explain web
pl "$now" status

step "Done: stopping the agents and nginx (by PID), removing the namespaces"
