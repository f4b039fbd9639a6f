#!/usr/bin/env bash
# Times `paceline simulate --cib` against Pacemaker's `crm_simulate` (Debian
# 12: Pacemaker 2.1.5, from pacemaker-cli-utils) on the same Pacemaker CIBs,
# in one run, and prints the medians, the ratios and the peak memory
# (issue 11, "Figures for the note").
#
# It installs nothing: crm_simulate and xmllint come with scripts/deps.sh
# (make deps). GNU time (/usr/bin/time) gives the peak resident set; without
# it the wall time is taken with bash's clock and the peak is not reported.
#
# For each size, `go run ./tools/schedbench -cib` writes DIR/cib.xml (with
# DIR/config.yaml and DIR/status.yaml, Paceline's own form of the same
# input); the script then checks, before timing anything:
#   - that `paceline simulate --cib DIR/cib.xml` imports it without
#     --skip-unsupported (it stops otherwise, with the importer's report);
#   - that the plan from the CIB is the plan from Paceline's own files;
#   - how much work each scheduler plans: actions by kind, Paceline's from
#     its plan, Pacemaker's from the transition graph (crm_simulate -G),
#     and whether crm_simulate restarts anything for a changed definition
#     (it should not: the CIB carries Pacemaker's operation digests).
# Then it runs the two commands in turn, A B A B ..., after one warm-up run
# of each, every run's output thrown away:
#   A: paceline simulate --cib DIR/cib.xml --now 2026-01-01T12:00:00Z
#   B: crm_simulate -x DIR/cib.xml -R -Q     (schedule only, as A does)
# and prints per size the median wall and CPU seconds and the median peak
# resident set of each, and the median of the per-pair ratios A/B.
#
# Situations (tools/schedbench -situation): nodefail, a steady cluster
# with a full LRM history on every node (every resource probed, starts and
# recurring monitors) whose busiest node has just gone offline; cold,
# nothing probed yet (both schedulers plan a probe of every resource on
# every node). crm_simulate takes about 11 s (16 nodes) and 38 s (32 nodes)
# a run on cold inputs on a 2-CPU machine.
#
# Usage: scripts/bench-simulate-cib.sh
#   RUNS=5            counted runs of each command per size
#   OUT=/tmp/...      where inputs and results go
#   SIZES='NODES RESOURCES CONSTRAINTS SITUATION;...'
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
OUT=${OUT:-/tmp/paceline-simulate-cib}
NOW=2026-01-01T12:00:00Z
SIZES=${SIZES:-'16 1000 1000 nodefail; 32 1000 1000 nodefail; 16 1000 1000 cold; 32 1000 1000 cold'}

for c in crm_simulate xmllint; do
	command -v "$c" >/dev/null 2>&1 || {
		echo "$c not found: run scripts/deps.sh (make deps) first" >&2
		exit 1
	}
done
TIME=
[ -x /usr/bin/time ] && TIME=/usr/bin/time
[ -n "$TIME" ] || echo "GNU time (/usr/bin/time) not found: peak memory will not be reported" >&2

mkdir -p "$OUT"
echo "building paceline into $OUT/paceline" >&2
go build -o "$OUT/paceline" ./cmd/paceline
echo "$(crm_simulate --version | head -1); $(go version); $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# once FILE CMD...: runs CMD once, output discarded, and appends
# "wall_s cpu_s peak_KiB" to FILE; a non-zero exit stops the script.
once() {
	local file=$1 t rc=0
	shift
	t=$(mktemp)
	if [ -n "$TIME" ]; then
		"$TIME" -f '%e %U %S %M' -o "$t" "$@" >/dev/null 2>"$file.stderr" || rc=$?
		[ $rc = 0 ] && tail -n 1 "$t" | awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' >>"$file"
	else
		local TIMEFORMAT='%R %U %S'
		{ time "$@" >/dev/null 2>"$file.stderr"; } 2>"$t" || rc=$?
		[ $rc = 0 ] && tail -n 1 "$t" | awk '{ printf "%s %.3f nan\n", $1, $2 + $3 }' >>"$file"
	fi
	rm -f "$t"
	if [ $rc != 0 ]; then
		echo "failed (exit $rc): $* (see $file.stderr)" >&2
		exit 1
	fi
}

# median FILE COLUMN
median() {
	sort -g -k"$2","$2" "$1" | awk -v c="$2" '{v[NR]=$c} END {
		if (NR == 0 || v[1] == "nan") { print "nan"; exit }
		if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'
}

# ratios A B COLUMN: the median over the pairs of A's figure / B's.
ratios() {
	paste -d' ' <(cut -d' ' -f"$3" "$1") <(cut -d' ' -f"$3" "$2") |
		awk '$2 > 0 && $1 != "nan" { print $1 / $2 }' >"$1.ratio"
	median "$1.ratio" 1
}

# count XPATH GRAPH
count() { xmllint --xpath "count($1)" "$2"; }

work=() results=()
IFS=';' read -ra specs <<<"$SIZES"
for spec in "${specs[@]}"; do
	read -r nodes resources constraints situation <<<"$spec"
	label="$nodes x $resources x $constraints $situation"
	dir="$OUT/n$nodes-r$resources-c$constraints-$situation"
	go run ./tools/schedbench -nodes "$nodes" -resources "$resources" -constraints "$constraints" \
		-situation "$situation" -cib -out "$dir" >&2

	# The import: no unsupported items, and the plan of Paceline's own files.
	if ! "$OUT/paceline" simulate --cib "$dir/cib.xml" --now "$NOW" >"$dir/plan-cib.txt" 2>"$dir/plan-cib.stderr"; then
		echo "paceline simulate --cib $dir/cib.xml failed (without --skip-unsupported):" >&2
		cat "$dir/plan-cib.stderr" >&2
		exit 1
	fi
	"$OUT/paceline" simulate --config "$dir/config.yaml" --status "$dir/status.yaml" --now "$NOW" >"$dir/plan-yaml.txt"
	same=yes
	cmp -s <(sed '1,/^placement:/d' "$dir/plan-yaml.txt") <(sed '1,/^placement:/d' "$dir/plan-cib.txt") || same=NO

	# The work each plans.
	crm_simulate -x "$dir/cib.xml" -R -G "$dir/graph.xml" >"$dir/crm_simulate.txt" 2>&1
	defchange=$(sed -n '/^Transition Summary/,$p' "$dir/crm_simulate.txt" | grep -c 'definition change' || true)
	a=() b=()
	for op in probe start stop monitor promote demote; do
		a+=("$(grep -cE "^ +[0-9]+\. $op " "$dir/plan-cib.txt" || true)")
	done
	ops=//synapse/action_set/rsc_op
	probe="substring(@operation_key, string-length(@operation_key) - 9) = '_monitor_0'"
	b+=("$(count "$ops[$probe]" "$dir/graph.xml")")
	for op in start stop; do b+=("$(count "$ops[@operation='$op']" "$dir/graph.xml")"); done
	b+=("$(count "$ops[@operation='monitor' and not($probe)]" "$dir/graph.xml")")
	for op in promote demote; do b+=("$(count "$ops[@operation='$op']" "$dir/graph.xml")"); done
	cancel=$(count "$ops[@operation='cancel']" "$dir/graph.xml")
	work+=("$(printf '%-26s %-9s %6s %6s %5s %7s %7s %6s %6s  %s' "$label" paceline "${a[@]}" "-" "plan from the CIB = plan from config.yaml+status.yaml: $same")")
	work+=("$(printf '%-26s %-9s %6s %6s %5s %7s %7s %6s %6s  %s' "" crm_sim "${b[@]}" "$cancel" "restarts for a changed definition: $defchange")")

	# The timing.
	A=("$OUT/paceline" simulate --cib "$dir/cib.xml" --now "$NOW")
	B=(crm_simulate -x "$dir/cib.xml" -R -Q)
	rm -f "$dir"/{A,B,warmup}.times
	echo "== $label: 1 warm-up and $RUNS counted runs of each, in turn; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
	once "$dir/warmup.times" "${A[@]}"
	once "$dir/warmup.times" "${B[@]}"
	for ((i = 0; i < RUNS; i++)); do
		once "$dir/A.times" "${A[@]}"
		once "$dir/B.times" "${B[@]}"
	done
	results+=("$(printf '%-26s %3d %8s %8s %8s %9s %9s %8s %8s %8s %8s' "$label" "$RUNS" \
		"$(median "$dir/A.times" 1)" "$(median "$dir/A.times" 2)" "$(median "$dir/A.times" 3 | awk '{ printf ($1 == "nan" ? "nan" : "%.1f"), $1 / 1024 }')" \
		"$(median "$dir/B.times" 1)" "$(median "$dir/B.times" 2)" "$(median "$dir/B.times" 3 | awk '{ printf ($1 == "nan" ? "nan" : "%.1f"), $1 / 1024 }')" \
		"$(ratios "$dir/A.times" "$dir/B.times" 1 | awk '{ printf "%.4f", $1 }')" \
		"$(ratios "$dir/A.times" "$dir/B.times" 2 | awk '{ printf "%.4f", $1 }')" \
		"$(ratios "$dir/A.times" "$dir/B.times" 3 | awk '{ printf ($1 == "nan" ? "nan" : "%.3f"), $1 }')")")
done

echo
echo "planned actions (Paceline: its plan; Pacemaker: the transition graph of crm_simulate -R, pseudo-actions left out)"
printf '%-26s %-9s %6s %6s %5s %7s %7s %6s %6s\n' "nodes x rscs x cons" "" probe start stop monitor promote demote cancel
printf '%s\n' "${work[@]}"
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
echo "medians of $RUNS runs each; A = paceline simulate --cib, B = crm_simulate -R -Q; wall and cpu (user+sys) in"
echo "seconds, peak = largest resident set in MiB (GNU time %M); A/B = median of the per-pair ratios"
printf '%-26s %3s %8s %8s %8s %9s %9s %8s %8s %8s %8s\n' "nodes x rscs x cons" n "A wall" "A cpu" "A MiB" \
	"B wall" "B cpu" "B MiB" "wall A/B" "cpu A/B" "peak A/B"
printf '%s\n' "${results[@]}"
