#!/usr/bin/env bash
# Times Paceline's scheduler (`paceline simulate`) against Pacemaker's
# (`crm_simulate`, as shipped by Debian 12: Pacemaker 2.1.5) on the same
# generated inputs, in the same run, and prints the medians and the ratio.
#
# NOTE: if crm_simulate is missing, this script runs
#   apt-get install -y pacemaker-cli-utils
# (as root, or through sudo). Set NO_INSTALL=1 to refuse that and stop
# instead. Pacemaker is needed for this measurement only: it is not one of
# Paceline's dependencies. GNU time (/usr/bin/time, Debian package "time")
# is needed too.
#
# For each size it writes DIR/config.yaml, DIR/status.yaml and DIR/cib.xml
# with `go run ./tools/schedbench -cib` (the CIB is the same configuration
# and status for Pacemaker), then runs the two commands in turn, A B A B ...,
# after one warm-up run of each, every run under /usr/bin/time:
#   A: paceline simulate --config DIR/config.yaml --status DIR/status.yaml --now 2026-01-01T12:00:00Z
#   B: crm_simulate -x DIR/cib.xml -R -Q   (mode R: schedule only, as A does)
#      crm_simulate -x DIR/cib.xml -S -Q   (mode S: also simulates executing
#      the whole transition, one CIB update per action)
# Mode S is very slow at 1000 resources (one run took about 9 minutes for
# 32 nodes, nodefail; one for 16 nodes, cold, had not finished after 17),
# so the default sizes use it only where noted; S1 is mode S with a single
# counted run and no warm-up. GNU time reports wall seconds to 10 ms, so
# the smallest sizes' Paceline figures are coarse.
#
# Usage: scripts/bench-scheduler-vs-pacemaker.sh
#   RUNS=3            counted runs of each command per size
#   OUT=/tmp/...      where inputs and results go
#   SIZES='NODES RESOURCES CONSTRAINTS SITUATION MODES;...'  e.g. '3 100 100 cold R,S'
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
OUT=${OUT:-/tmp/paceline-vs-pacemaker}
NOW=2026-01-01T12:00:00Z
SIZES=${SIZES:-'3 100 100 cold R,S; 3 100 100 nodefail R,S; 16 1000 1000 cold R; 32 1000 1000 cold R; 32 1000 1000 nodefail R,S1'}

if ! command -v crm_simulate >/dev/null 2>&1; then
	if [ "${NO_INSTALL:-0}" = 1 ]; then
		echo "crm_simulate not found (and NO_INSTALL=1): install pacemaker-cli-utils" >&2
		exit 1
	fi
	echo "crm_simulate not found: installing pacemaker-cli-utils with apt-get" >&2
	SUDO=
	[ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq pacemaker-cli-utils
fi
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) not found: apt-get install time" >&2; exit 1; }

mkdir -p "$OUT"
echo "building paceline into $OUT/paceline" >&2
go build -o "$OUT/paceline" ./cmd/paceline
echo "$(crm_simulate --version | head -1); $(go version); $(nproc) cores" >&2

# once LABEL CMD...: runs CMD once under /usr/bin/time, output discarded,
# and appends "wall_seconds peak_KiB" to $OUT/LABEL.times; a non-zero exit
# stops the script.
once() {
	local label=$1 t
	shift
	t=$(mktemp)
	if ! /usr/bin/time -f '%e %M' -o "$t" "$@" >/dev/null 2>"$OUT/$label.stderr"; then
		echo "failed: $* (see $OUT/$label.stderr)" >&2
		cat "$t" >&2
		rm -f "$t"
		exit 1
	fi
	tail -n 1 "$t" >>"$OUT/$label.times"
	rm -f "$t"
}

# median FILE COLUMN
median() {
	sort -n -k"$2","$2" "$1" | awk -v c="$2" '{v[NR]=$c} END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'
}

results=()
IFS=';' read -ra specs <<<"$SIZES"
for spec in "${specs[@]}"; do
	read -r nodes resources constraints situation modes <<<"$spec"
	dir="$OUT/n$nodes-r$resources-c$constraints-$situation"
	go run ./tools/schedbench -nodes "$nodes" -resources "$resources" -constraints "$constraints" \
		-situation "$situation" -cib -out "$dir" >&2
	A=("$OUT/paceline" simulate --config "$dir/config.yaml" --status "$dir/status.yaml" --now "$NOW")
	IFS=',' read -ra ms <<<"$modes"
	for mode in "${ms[@]}"; do
		runs=$RUNS warmup=1 flag=-$mode
		if [ "$mode" = S1 ]; then
			runs=1 warmup=0 flag=-S
		fi
		B=(crm_simulate -x "$dir/cib.xml" "$flag" -Q)
		label="n$nodes-r$resources-c$constraints-$situation$flag"
		rm -f "$OUT/$label.A.times" "$OUT/$label.B.times"
		echo "== $label: $warmup warm-up and $runs counted runs of each" >&2
		for ((i = 0; i < warmup; i++)); do
			once "$label.warmup" "${A[@]}"
			once "$label.warmup" "${B[@]}"
		done
		for ((i = 0; i < runs; i++)); do
			once "$label.A" "${A[@]}"
			once "$label.B" "${B[@]}"
		done
		aw=$(median "$OUT/$label.A.times" 1) am=$(median "$OUT/$label.A.times" 2)
		bw=$(median "$OUT/$label.B.times" 1) bm=$(median "$OUT/$label.B.times" 2)
		results+=("$(awk -v l="$nodes x $resources x $constraints $situation" -v f="crm_simulate $flag" \
			-v aw="$aw" -v am="$am" -v bw="$bw" -v bm="$bm" -v n="$runs" 'BEGIN {
			printf "%-28s %-16s %3d %10.3f %9.1f %10.3f %9.1f %10.4f %8.3f\n",
				l, f, n, aw, am/1024, bw, bm/1024, (bw > 0 ? aw/bw : 0), (bm > 0 ? am/bm : 0) }')")
	done
done

echo
echo "medians; wall in seconds, peak = largest resident set in MiB (GNU time %M); ratio = paceline / crm_simulate"
printf "%-28s %-16s %3s %10s %9s %10s %9s %10s %8s\n" "nodes x rscs x cons, situation" "pacemaker mode" "n" \
	"paceline s" "MiB" "crm_sim s" "MiB" "wall A/B" "peak A/B"
printf '%s\n' "${results[@]}"
