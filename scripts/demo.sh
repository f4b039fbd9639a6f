#!/usr/bin/env bash
# make demo: a 3-node Paceline cluster on this machine (127.0.0.1-3), set up
# through the CLI; the raft leader is killed, and the configuration is still
# changed and read through the other two. Everything started is stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib-local.sh
dir=$(mktemp -d /tmp/paceline-demo.XXXX)
trap 'stop_all; rm -rf "$dir"' EXIT

bold=$(tput bold 2>/dev/null || true); plain=$(tput sgr0 2>/dev/null || true)
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
run() { # run NODE ARGS...: show and run a CLI command against NODE
  local node=$1; shift
  printf '%s[%s]$ paceline %s%s\n' "$bold" "$node" "$*" "$plain"
  "$BIN" -s "$(sock "$dir" "$node")" "$@"
}

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

step "Done: stopping the agents"
