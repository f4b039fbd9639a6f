#!/usr/bin/env bash
# make demo, first script (any user): Paceline on this machine's loopback
# (127.0.0.1-3), nothing touching its network.
#  1. A 3-node cluster configured through the CLI, resource management off:
#     the configuration is replicated, bad input refused, agents run by
#     hand; the raft leader is killed, and the configuration is still
#     changed and read through the other two.
#  2. The failover story on a second cluster with resource management on:
#     a dummy application (ocf:paceline:dummy) prefers n1; n1 is killed and
#     the application runs on another node; n1 comes back, and the
#     application fails back, or not, per resource-stickiness.
# (scripts/demo-failover.sh tells the same story for real, as root: a VIP
# and nginx in network namespaces.) Everything started is stopped by PID,
# and every file removed, also on error or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib-local.sh
dir=$(mktemp -d /tmp/paceline-demo.XXXX)
cleanup() { trap '' INT TERM; stop_all; rm -rf "$dir"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bold=$(tput bold 2>/dev/null || true); plain=$(tput sgr0 2>/dev/null || true)
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
say() { printf '%s$ %s%s\n' "$bold" "$*" "$plain"; }
cl=$dir # the cluster the commands go to
run() { # run NODE ARGS...: show and run a CLI command against NODE
  local node=$1; shift
  printf '%s[%s]$ paceline %s%s\n' "$bold" "$node" "$*" "$plain"
  "$BIN" -s "$(sock "$cl" "$node")" "$@"
}
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

show_epochs() { # the configuration epoch as each running node reads it
  local n e
  for n in n1 n2 n3; do
    e=$("$BIN" -s "$(sock "$dir" "$n")" -o json cluster status 2>/dev/null | sed -n 's/.*"epoch":\([0-9]*\).*/\1/p')
    printf '  %s: epoch %s\n' "$n" "${e:-(down)}"
  done
}

step "Write a 3-node cluster: CA, node certificates, gossip key, node configs"
"$BIN" cluster init --dir "$dir" --local --name demo \
  n1=127.0.0.1:$(free_port) n2=127.0.0.2:$(free_port) n3=127.0.0.3:$(free_port)
# This cluster only keeps a configuration: its resources (a VIP, nginx,
# redis, ping) would touch this host's network if they ran.
for n in n1 n2 n3; do printf 'resources:\n  manage: false\n' >>"$dir/$n/paceline.yaml"; done
echo "(resources: {manage: false} in each node config: this cluster never starts a resource"
echo " by itself; the VIP, nginx, redis and ping below are configuration only)"

step "Start three agents (raft over mutual TLS, gossip membership with an encrypted keyring)"
t0=$(date +%s%N)
for n in n1 n2 n3; do start_node "$dir" "$n"; done
wait_leader "$dir" n1
echo "cluster formed in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
sleep 0.3
run n1 status

step "Define resources and constraints, each through a different node"
run n1 resource create web-ip ocf:paceline:vip ip=192.0.2.100 cidr_netmask=24 op monitor interval=5s --group web
run n2 resource create web-server ocf:heartbeat:nginx op monitor interval=10s timeout=20s --group web
run n3 resource create ping ocf:pacemaker:ping host_list=192.0.2.254 multiplier=1000 op monitor interval=10s --clone
run n1 resource create db ocf:heartbeat:redis op monitor interval=5s role=Promoted op monitor interval=6s role=Unpromoted --promotable
run n2 constraint location web prefers n1=50
run n3 constraint location add web-needs-ping web rule score=-INFINITY not_defined pingd or pingd lt 1
run n1 constraint colocation add web with Promoted db-clone INFINITY
run n2 constraint order add promote db-clone then start web
run n3 property set no-quorum-policy=stop stonith-enabled=false
run n1 resource defaults resource-stickiness=100

step "Read it back from every node (local reads)"
run n2 resource list
run n3 constraint list
show_epochs

step "Bad input is refused with a clear message, and nothing is applied"
run n2 constraint order add start web then start nosuch || true
run n3 resource create web-ip ocf:heartbeat:IPaddr2 ip=192.0.2.7 || true
run n1 resource create x ocf:heartbeat:Dummy op monitor interval=soon || true

step "Run resource agents by hand on a node, and read their history from another"
run n1 resource create probe ocf:paceline:dummy state="$dir/probe.state" op monitor interval=10s
run n2 resource create sysprobe ocf:heartbeat:Dummy state="$dir/sysprobe.state" || true
run n1 resource op probe monitor --node n2 || echo "(exit $?: not running, as expected before a start)"
run n1 resource op probe start --node n2
if [ -x /usr/lib/ocf/resource.d/heartbeat/Dummy ]; then run n3 resource op sysprobe start; fi
run n3 resource history probe --node n2

leader=$(leader_of "$dir" n1)
step "Kill the raft leader ($leader) with SIGKILL"
kill_node "$dir" "$leader"
others=()
for n in n1 n2 n3; do [ "$n" = "$leader" ] || others+=("$n"); done
t0=$(date +%s%N)
until l=$(leader_of "$dir" "${others[0]}") && [ -n "$l" ] && [ "$l" != "$leader" ]; do sleep 0.02; done
echo "new leader $l after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
sleep 0.3
run "${others[0]}" status

step "Change the configuration through the survivors"
run "${others[0]}" resource update web-ip ip=192.0.2.101
run "${others[1]}" node standby "${others[0]}"
run "${others[1]}" resource show web-ip
run "${others[0]}" node list

step "Restart $leader: it catches up from the others"
start_node "$dir" "$leader"
wait_leader "$dir" "$leader"
sleep 0.5
run "$leader" resource show web-ip
show_epochs

step "Stopping this cluster's agents"
stop_all
echo "(SIGTERM by PID: each agent leaves the membership and exits)"

cl=$dir/managed
app_state() { echo "$cl/state/paceline-dummy-$1-app.state"; }
# runs_on: the nodes where the dummy application runs: it "runs" on a node
# while its state file there exists.
runs_on() {
  local n on=()
  for n in n1 n2 n3; do [ -e "$(app_state "$n")" ] && on+=("$n"); done
  echo "${on[*]:-}"
}
wait_runs_on() { # wait_runs_on REGEXP SECONDS: until runs_on matches
  local end=$((SECONDS + $2))
  until [[ $(runs_on) =~ ^($1)$ ]]; do [ $SECONDS -lt $end ] || return 1; sleep 0.02; done
}
# crash NODE: SIGKILL its agent by PID; its application dies with it (the
# dummy's state file goes, as a dead machine's processes do).
crash() {
  say "kill -KILL $(cat "$cl/$1.pid")   # $1's agent"
  kill_node "$cl" "$1"
  say "rm $(app_state "$1")   # and the application it ran"
  rm -f "$(app_state "$1")"
}
revive() { # revive NODE: start its agent again, wait until it is back in the quorum
  say "paceline agent --config $cl/$1/paceline.yaml &"
  start_node "$cl" "$1"
  wait_quorate "$cl" "$1" 3
}

step "The failover story on loopback: a second cluster, with resource management on"
"$BIN" cluster init --dir "$cl" --local --name demo-managed \
  n1=127.0.0.1:$(free_port) n2=127.0.0.2:$(free_port) n3=127.0.0.3:$(free_port) >/dev/null
for n in n1 n2 n3; do
  printf 'resources:\n  manage: true\n' >>"$cl/$n/paceline.yaml"
  start_node "$cl" "$n"
done
wait_quorate "$cl" n1 3
echo "(resources: {manage: true} in each node config: the DC, the raft leader, schedules the"
echo " resources and has the nodes run them. The application is ocf:paceline:dummy: it \"runs\" on a"
echo " node while its state file $cl/state/paceline-dummy-NODE-app.state exists.)"
run n1 resource create app ocf:paceline:dummy state_dir="$cl/state" op monitor interval=1s
run n2 constraint location app prefers n1=50
wait_runs_on n1 20 || { echo "app did not start on n1" >&2; exit 1; }
echo "=> app runs on: $(runs_on)"
run n2 status

was=$(runs_on)
step "Crash $was, the node running app"
t0=$(date +%s%N)
crash "$was"
wait_runs_on 'n[0-9]' 20 || { echo "app did not start elsewhere within 20 s" >&2; exit 1; }
now=$(runs_on)
echo "=> app runs on $now, $(ms "$t0") ms after $was was killed"
run "$now" status

step "Bring $was back: with resource-stickiness 0 app fails back to its preferred node n1"
t0=$(date +%s%N)
revive "$was"
wait_runs_on n1 30 || { echo "app did not fail back to n1 within 30 s" >&2; exit 1; }
echo "=> app runs on: $(runs_on), $(ms "$t0") ms after $was was started again"

step "With resource-stickiness 100 (more than the preference of 50) it stays where it runs"
run n2 resource defaults resource-stickiness=100
was=$(runs_on)
t0=$(date +%s%N)
crash "$was"
wait_runs_on 'n[0-9]' 20 || { echo "app did not start elsewhere within 20 s" >&2; exit 1; }
now=$(runs_on)
echo "=> app runs on $now, $(ms "$t0") ms after $was was killed"
revive "$was"
sleep 2
echo "=> $was is back; 2 s later app still runs on: $(runs_on) (no failback)"
run "$now" resource explain app
run "$now" status

step "Done: stopping the agents"
