#!/usr/bin/env bash
# False-failure count of the fast profile: 3 agents in network namespaces
# (192.0.2.1-3 on a private bridge), left alone for DURATION seconds, with
# LOAD=1 while two busy loops keep both cores saturated. Counts "member
# failed" log lines (a live node wrongly declared failed) and reports each
# node's traffic. Needs root. Everything made is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/paceline}
DURATION=${DURATION:-600}
LOAD=${LOAD:-0}
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
p="plb$$-"
dir=$(mktemp -d /tmp/plmember.XXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  for n in 1 2 3; do ip netns del "${p}n$n" 2>/dev/null || true; done
  ip netns del "${p}sw" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
ip netns add "${p}sw"; ip -n "${p}sw" link add br0 type bridge; ip -n "${p}sw" link set br0 up
for n in 1 2 3; do
  ns="${p}n$n"
  ip netns add "$ns"
  ip link add "v$n" netns "${p}sw" type veth peer name eth0 netns "$ns"
  ip -n "${p}sw" link set "v$n" master br0 up
  ip -n "$ns" link set lo up; ip -n "$ns" addr add "192.0.2.$n/24" dev eth0; ip -n "$ns" link set eth0 up
done
"$BIN" cluster init --dir "$dir" --local --name bench n1=192.0.2.1:7250 n2=192.0.2.2:7250 n3=192.0.2.3:7250 >/dev/null
for n in 1 2 3; do
  ip netns exec "${p}n$n" "$BIN" agent --config "$dir/n$n/paceline.yaml" 2>"$dir/n$n.log" &
  pids+=($!)
done
sleep 3
"$BIN" -s "$dir/n1/paceline.sock" status | grep -E "Quorum|alive|failed" || true
if [ "$LOAD" = 1 ]; then
  for _ in 1 2; do (while :; do :; done) & pids+=($!); done
  echo "load: two busy loops"
fi
declare -A rx0 tx0
for n in 1 2 3; do
  read -r rx0[$n] tx0[$n] < <(ip netns exec "${p}n$n" awk '/eth0/{print $2, $10}' /proc/net/dev)
done
echo "watching for ${DURATION}s..."
sleep "$DURATION"
for n in 1 2 3; do
  read -r rx tx < <(ip netns exec "${p}n$n" awk '/eth0/{print $2, $10}' /proc/net/dev)
  f=$(grep -c 'msg="member failed"' "$dir/n$n.log" || true)
  s=$(grep -c 'Suspect' "$dir/n$n.log" || true)
  printf 'n%s: false failures %s, suspicion log lines %s, traffic rx %d B/s tx %d B/s (all cluster traffic: gossip + raft), rss %s kB\n' \
    "$n" "$f" "$s" $(( (rx - rx0[$n]) / DURATION )) $(( (tx - tx0[$n]) / DURATION )) \
    "$(awk '/VmRSS/{print $2}' /proc/"${pids[$((n-1))]}"/status 2>/dev/null || echo '?')"
done
