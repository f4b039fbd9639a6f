#!/usr/bin/env bash
# False-failure count of the fast profile: N (default 3) agents in network
# namespaces (192.0.2.1-N on a private bridge), left alone for DURATION seconds, with
# LOAD=1 while two busy loops keep both cores saturated. Counts "member
# failed" log lines (a live node wrongly declared failed) and reports each
# node's traffic. Needs root. Everything made is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/paceline}
DURATION=${DURATION:-600}
LOAD=${LOAD:-0}
N=${N:-3}
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
p="plb$$-"
dir=$(mktemp -d /tmp/plmember.XXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  for n in $(seq 1 "$N"); do ip netns del "${p}n$n" 2>/dev/null || true; done
  ip netns del "${p}sw" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
ip netns add "${p}sw"; ip -n "${p}sw" link add br0 type bridge; ip -n "${p}sw" link set br0 up
for n in $(seq 1 "$N"); do
  ns="${p}n$n"
  ip netns add "$ns"
  ip link add "v$n" netns "${p}sw" type veth peer name eth0 netns "$ns"
  ip -n "${p}sw" link set "v$n" master br0 up
  ip -n "$ns" link set lo up; ip -n "$ns" addr add "192.0.2.$n/24" dev eth0; ip -n "$ns" link set eth0 up
done
specs=(); for n in $(seq 1 "$N"); do specs+=("n$n=192.0.2.$n:7250"); done
"$BIN" cluster init --dir "$dir" --local --name bench "${specs[@]}" >/dev/null
for n in $(seq 1 "$N"); do
  ip netns exec "${p}n$n" "$BIN" agent --config "$dir/n$n/paceline.yaml" 2>"$dir/n$n.log" &
  pids+=($!)
done
sleep $((3 + N / 4))
"$BIN" -s "$dir/n1/paceline.sock" status | grep -E "Quorum" || true
echo "members alive as n1 sees them: $("$BIN" -s "$dir/n1/paceline.sock" status | grep -c ' alive ')"
if [ "$LOAD" = 1 ]; then
  for _ in 1 2; do (while :; do :; done) & pids+=($!); done
  echo "load: two busy loops"
fi
declare -A rx0 tx0
for n in $(seq 1 "$N"); do
  read -r rx0[$n] tx0[$n] < <(ip netns exec "${p}n$n" awk '/eth0/{print $2, $10}' /proc/net/dev)
done
echo "watching for ${DURATION}s..."
sleep "$DURATION"
ftot=0; rxs=0; txs=0; maxrss=0
for n in $(seq 1 "$N"); do
  read -r rx tx < <(ip netns exec "${p}n$n" awk '/eth0/{print $2, $10}' /proc/net/dev)
  f=$(grep -c 'msg="member failed"' "$dir/n$n.log" || true)
  rss=$(awk '/VmRSS/{print $2}' /proc/"${pids[$((n-1))]}"/status 2>/dev/null || echo 0)
  ftot=$((ftot + f)); rxs=$((rxs + rx - rx0[$n])); txs=$((txs + tx - tx0[$n])); [ "$rss" -gt "$maxrss" ] && maxrss=$rss
  [ "$N" -le 5 ] && printf 'n%s: false failures %s, rx %d B/s, tx %d B/s, rss %s kB\n' "$n" "$f" \
    $(( (rx - rx0[$n]) / DURATION )) $(( (tx - tx0[$n]) / DURATION )) "$rss"
done
printf 'N=%s load=%s %ss: false failures (member failed lines, all nodes) %s; mean per node rx %d B/s tx %d B/s (gossip + raft); max rss %s kB\n' \
  "$N" "$LOAD" "$DURATION" "$ftot" $((rxs / N / DURATION)) $((txs / N / DURATION)) "$maxrss"
