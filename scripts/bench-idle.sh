#!/usr/bin/env bash
# Idle cost of a node (issue 12's figures): N real agent processes on
# 127.0.0.1..N (loopback only), each with the fast timing profile, running
# R dummy resources (ocf:paceline:dummy, monitor every 10 s) spread over the
# cluster. After SETTLE seconds it samples every agent's CPU time (utime +
# stime from /proc/PID/stat) over WINDOW seconds, and its RSS and PSS
# (/proc/PID/smaps_rollup) at the end, and prints per node and the median
# and max. Every process is stopped by PID on exit.
#
# Usage: scripts/bench-idle.sh            # N=3 and N=32
#   SIZES='3 32' R=6 SETTLE=20 WINDOW=60 TIMING=fast|lan (the profile)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-'3 32'}
R=${R:-6}
SETTLE=${SETTLE:-20}
WINDOW=${WINDOW:-60}
BIN=bin/paceline
. scripts/lib-local.sh
make -s build
TCK=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/smaps_rollup"; }
median() { sort -n | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

dir=
trap 'stop_all; [ -z "$dir" ] || rm -rf "$dir"' EXIT
echo "timing ${TIMING:-fast}; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg); $(go version | cut -d' ' -f3)"
for n in $SIZES; do
	dir=$(mktemp -d /tmp/plidle.XXXX)
	local_cluster "$dir" "$n"
	for i in $(seq 1 "$n"); do wait_quorate "$dir" "n$i" "$n" >/dev/null 2>&1 || true; done
	for r in $(seq 1 "$R"); do
		"$BIN" -s "$(sock "$dir" n1)" resource create "idle$r" ocf:paceline:dummy op monitor interval=10s >/dev/null
	done
	sleep "$SETTLE"
	declare -A t0=()
	for i in $(seq 1 "$n"); do t0[$i]=$(cpu_ticks "$(cat "$dir/n$i.pid")"); done
	sleep "$WINDOW"
	cpus=() rss=() pss=()
	for i in $(seq 1 "$n"); do
		pid=$(cat "$dir/n$i.pid")
		t=$(($(cpu_ticks "$pid") - t0[$i]))
		cpus+=("$(awk -v t="$t" -v hz="$TCK" -v w="$WINDOW" 'BEGIN {printf "%.2f", 100 * t / hz / w}')")
		rss+=("$(kib "$pid" Rss)")
		pss+=("$(kib "$pid" Pss)")
	done
	running=$("$BIN" -s "$(sock "$dir" n1)" status 2>/dev/null | grep -c 'Started' || true)
	echo "== $n nodes, $R dummy resources ($running lines Started), ${WINDOW}s window after ${SETTLE}s"
	if [ "$n" -le 4 ]; then
		for i in $(seq 1 "$n"); do
			echo "n$i: CPU ${cpus[$((i - 1))]}% of a core, RSS $((rss[$((i - 1))] / 1024)) MiB, PSS $((pss[$((i - 1))] / 1024)) MiB"
		done
	fi
	printf '%s\n' "${cpus[@]}" | median | awk '{printf "CPU %% of a core: median %s", $1}'
	printf '%s\n' "${cpus[@]}" | sort -n | tail -1 | awk '{printf ", max %s\n", $1}'
	printf '%s\n' "${rss[@]}" | median | awk '{printf "RSS MiB: median %.1f", $1 / 1024}'
	printf '%s\n' "${rss[@]}" | sort -n | tail -1 | awk '{printf ", max %.1f\n", $1 / 1024}'
	printf '%s\n' "${pss[@]}" | median | awk '{printf "PSS MiB: median %.1f\n", $1 / 1024}'
	dc=$("$BIN" -s "$(sock "$dir" n1)" status 2>/dev/null | sed -n 's/.*DC: *\([^ ]*\).*/\1/p' | head -1)
	echo "DC: ${dc:-?}"
	stop_all
	rm -rf "$dir"
	dir=
	unset t0
done
