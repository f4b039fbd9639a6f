# Helpers to run a local cluster of real agent processes on 127.0.0.x,
# sourced by demo.sh and bench-config.sh. Every process started is recorded
# by PID and stopped by PID.
BIN=${BIN:-bin/paceline}
PIDS=()

# free_port: a TCP port nobody listens on (the same on 127.0.0.1-9).
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    ss -Hltn "sport = :$p or sport = :$((p + 1))" | grep -q . || { echo "$p"; return; }
  done
}

# local_cluster DIR N: write and start N nodes n1..nN on 127.0.0.1..N.
local_cluster() {
  local dir=$1 n=$2 port specs=() i
  port=$(free_port)
  for i in $(seq 1 "$n"); do specs+=("n$i=127.0.0.$i:$port"); done
  "$BIN" cluster init --dir "$dir" --local --name demo ${TIMING:+--timing "$TIMING"} "${specs[@]}" >/dev/null
  for i in $(seq 1 "$n"); do start_node "$dir" "n$i"; done
  wait_leader "$dir" n1
}

# start_node DIR NAME: start one agent in the background, logging to DIR/NAME.log.
start_node() {
  local dir=$1 name=$2
  "$BIN" agent --config "$dir/$name/paceline.yaml" 2>>"$dir/$name.log" &
  echo $! >"$dir/$name.pid"
  PIDS+=($!)
  for _ in $(seq 1 100); do [ -S "$dir/$name/paceline.sock" ] && return 0; sleep 0.05; done
  echo "node $name did not open its socket; see $dir/$name.log" >&2
  return 1
}

# kill_node DIR NAME: SIGKILL the node's agent, by its PID (and forget
# the PID, so that stop_all never signals whoever gets it next).
kill_node() {
  local pid p keep=()
  pid=$(cat "$1/$2.pid")
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

# sock DIR NAME: the node's API socket.
sock() { echo "$1/$2/paceline.sock"; }

# leader_of DIR NAME: the raft leader as NAME sees it.
leader_of() {
  "$BIN" -s "$(sock "$1" "$2")" -o json cluster status 2>/dev/null |
    sed -n 's/.*"leader":"\([^"]*\)".*/\1/p'
}

# wait_leader DIR NAME: wait (10 s at most) until NAME knows a leader.
wait_leader() {
  for _ in $(seq 1 200); do [ -n "$(leader_of "$1" "$2")" ] && return 0; sleep 0.05; done
  echo "no leader seen by $2" >&2
  return 1
}

# wait_quorate DIR NAME N: wait (20 s at most) until NAME's partition has
# N votes ("quorate: N of ...").
wait_quorate() {
  for _ in $(seq 1 400); do
    "$BIN" -s "$(sock "$1" "$2")" status 2>/dev/null | grep -q "quorate: $3 of" && return 0
    sleep 0.05
  done
  echo "$2 did not see $3 votes" >&2
  return 1
}

# stop_all: SIGTERM every agent we started, by PID, then SIGKILL stragglers.
stop_all() {
  local pid
  [ ${#PIDS[@]} -gt 0 ] || return 0
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}
