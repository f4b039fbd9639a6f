#!/usr/bin/env bash
# make demo, part 2 (root): failover for real. Three nodes, each a network
# namespace on a bridge of its own (192.0.2.1-3), and a client namespace
# (192.0.2.100). A group of a virtual IP (192.0.2.50, ocf:paceline:vip) and
# an application (ocf:paceline:dummy) runs on one node. The node holding it
# crashes (its agent is SIGKILLed and its link goes down, as a dead machine
# takes its addresses with it): the client sees the VIP answer from another
# node. The node comes back: with stickiness 0 the group fails back to its
# preferred node; with stickiness it stays. Nothing leaves these
# namespaces; every namespace and process is removed at the end, by name
# and PID.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/paceline}
[ "$(id -u)" = 0 ] || { echo "demo-failover: needs root (network namespaces); skipped"; exit 0; }

P="pldemo$$-"
SW="${P}sw"
CL="${P}cl"
VIP=192.0.2.50
dir=$(mktemp -d /tmp/paceline-failover.XXXX)
NODES=(n1 n2 n3)
declare -A PID

bold=$(tput bold 2>/dev/null || true); plain=$(tput sgr0 2>/dev/null || true)
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
pl() { # pl NODE ARGS...: show and run a CLI command against NODE's agent
  local node=$1; shift
  printf '%s[%s]$ paceline %s%s\n' "$bold" "$node" "$*" "$plain"
  "$BIN" -s "$dir/$node/paceline.sock" "$@"
}

cleanup() {
  for n in "${!PID[@]}"; do kill -KILL "${PID[$n]}" 2>/dev/null || true; done
  for n in "${NODES[@]}"; do ip netns del "$P$n" 2>/dev/null || true; done
  ip netns del "$CL" 2>/dev/null || true
  ip netns del "$SW" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

host() { # host NAME ADDR PORT: a namespace with eth0 on the bridge
  ip netns add "$P$1"
  ip link add "v$3" netns "$SW" type veth peer name eth0 netns "$P$1"
  ip -n "$SW" link set "v$3" master br0 up
  ip -n "$P$1" link set lo up
  ip -n "$P$1" addr add "$2/24" dev eth0
  ip -n "$P$1" link set eth0 up
}

# holder: the namespace holding the VIP (its MAC as the client sees it).
holder() {
  local n
  for n in "${NODES[@]}"; do
    if ip -n "$P$n" -o addr show dev eth0 2>/dev/null | grep -q " $VIP/"; then
      ip -n "$P$n" link show eth0 | grep -q 'state UP' && { echo "$n"; return; }
    fi
  done
  echo none
}

# answered: the client reaches the VIP (one ICMP echo, 100 ms).
answered() { ip netns exec "$CL" ping -c1 -W0.1 -q "$VIP" >/dev/null 2>&1; }

start_agent() {
  ip netns exec "$P$1" "$BIN" agent --config "$dir/$1/paceline.yaml" 2>>"$dir/$1.log" &
  PID[$1]=$!
  disown "${PID[$1]}" # killed by PID below; no job notices
}

wait_for() { # wait_for SECONDS CMD...: poll until CMD succeeds
  local end=$((SECONDS + $1)); shift
  until "$@"; do [ $SECONDS -lt $end ] || return 1; sleep 0.05; done
}

step "Three nodes and a client, each a network namespace on a private bridge"
ip netns add "$SW"
ip -n "$SW" link add br0 type bridge
ip -n "$SW" link set br0 up
i=0
for n in "${NODES[@]}"; do i=$((i + 1)); host "$n" "192.0.2.$i" "$i"; done
host "${CL#$P}" 192.0.2.100 9
"$BIN" cluster init --dir "$dir" --local --name failover \
  n1=192.0.2.1:7250 n2=192.0.2.2:7250 n3=192.0.2.3:7250 >/dev/null
for n in "${NODES[@]}"; do
  printf 'resources:\n  manage: true\n' >>"$dir/$n/paceline.yaml"
  start_agent "$n"
done
wait_for 20 test -S "$dir/n3/paceline.sock"
wait_for 20 sh -c "'$BIN' -s '$dir/n1/paceline.sock' status 2>/dev/null | grep -q 'quorate: 3 of 3'"

step "A web group: a virtual IP and an application, preferring n1"
pl n1 resource create web-ip ocf:paceline:vip ip=$VIP cidr_netmask=24 op monitor interval=1s --group web
pl n2 resource create web-app ocf:paceline:dummy state_dir="$dir" op monitor interval=1s --group web
pl n3 constraint location web prefers n1=50
wait_for 20 sh -c "[ \"\$(ip -n ${P}n1 -o addr show dev eth0 | grep -c ' $VIP/')\" = 1 ]"
wait_for 20 answered
echo "the VIP $VIP is held by: $(holder); the client gets an answer"
pl n2 status

crash() { # crash NODE: SIGKILL its agent, cut its link
  kill -KILL "${PID[$1]}"
  while kill -0 "${PID[$1]}" 2>/dev/null; do sleep 0.01; done
  unset "PID[$1]"
  ip -n "$P$1" link set eth0 down
}
revive() { # revive NODE: it reboots (its addresses and run state are gone) and starts again
  ip -n "$P$1" addr del "$VIP/24" dev eth0 2>/dev/null || true
  rm -f "$dir/paceline-dummy-$1-"*.state
  ip -n "$P$1" link set eth0 up
  start_agent "$1"
  wait_for 20 sh -c "'$BIN' -s '$dir/$1/paceline.sock' status 2>/dev/null | grep -q 'quorate: 3 of 3'"
}

was=$(holder)
step "Crash $was, the node holding the group (agent SIGKILLed, link down)"
t0=$(date +%s%N)
crash "$was"
wait_for 20 answered || { echo "no answer from $VIP within 20 s" >&2; exit 1; }
echo "the client's pings to $VIP are answered again after $(( ($(date +%s%N) - t0) / 1000000 )) ms, now by $(holder)"
other=n2; [ "$was" = n2 ] && other=n3
pl "$other" status

step "Bring $was back: with resource-stickiness 0 the group fails back to its preferred node"
revive "$was"
wait_for 20 sh -c "[ \"\$(ip -n ${P}n1 -o addr show dev eth0 | grep -c ' $VIP/')\" = 1 ]" || true
echo "the VIP is held by: $(holder)"

step "With resource-stickiness 100 (more than the preference of 50) it stays where it runs"
pl n2 resource defaults resource-stickiness=100
was=$(holder)
crash "$was"
wait_for 20 answered || { echo "no answer from $VIP within 20 s" >&2; exit 1; }
now=$(holder)
echo "$was crashed: the VIP moved to $now"
revive "$was"
sleep 2
echo "$was is back; the VIP is still held by: $(holder) (no failback)"
other=n2; [ "$was" = n2 ] && other=n3
pl "$other" resource explain web

step "Done: stopping the agents and removing the namespaces"
