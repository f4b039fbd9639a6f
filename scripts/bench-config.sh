#!/usr/bin/env bash
# Configuration-change figures on a local 3-node cluster of real agents:
# latency of one change made by the CLI until all three nodes applied it,
# throughput with 8 concurrent writers, and idle RSS of an agent.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib-local.sh
N=${N:-1000}
dir=$(mktemp -d /tmp/plbench.XXXX)
trap 'stop_all; rm -rf "$dir"' EXIT
local_cluster "$dir" 3
go build -o "$dir/confbench" ./tools/confbench
sleep 2
echo "idle agents (RSS):"
for n in n1 n2 n3; do
  printf '  %s: %s kB\n' "$n" "$(awk '/VmRSS/{print $2}' /proc/"$(cat "$dir/$n.pid")"/status)"
done
"$dir/confbench" -bin "$BIN" -n "$N" -slow "${SLOW:-0}" -writers 8 -for 5s \
  -sockets "$(sock "$dir" n1),$(sock "$dir" n2),$(sock "$dir" n3)"
