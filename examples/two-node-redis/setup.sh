#!/bin/sh
# two-node-redis: a promotable Redis clone on a two-node Paceline cluster,
# the virtual IP on the primary (colocated with the promoted instance and
# started after the promotion), a ping target as the two-node tiebreak,
# and fencing. See README.md; config.yaml is the same configuration as
# `paceline config export` prints it (from the test lab: its fence device
# is the lab's fence_paceline_netns).
#
# Usage: setup.sh [-s SOCKET]
# Variables (defaults in brackets):
#   PACELINE_SOCKET  the local agent's API socket [/run/paceline/paceline.sock]; -s overrides
#   PACELINE         the paceline binary [paceline]
#   VIP              the virtual address clients use, ADDRESS/PREFIX [192.0.2.50/24]
#   PING_TARGETS     the tiebreak's ping targets, comma-separated (the gateway) [192.0.2.254]
#   TIEBREAK_DELAY   how long the node that cannot reach them waits [500ms]
#   FENCE_AGENT      the fence agent of the one device that fences both nodes [fence_apc_snmp]
#   FENCE_ARGS       its parameters, key=value separated by spaces
#                    [ip=192.0.2.200 community=private pcmk_host_map=n1:1;n2:2]
#   REDIS_PORT       redis's TCP port [6379]
#   REDIS_DIR        redis's data directory, the same path on every node [/var/lib/paceline/redis]
set -eu

PACELINE=${PACELINE:-paceline}
PACELINE_SOCKET=${PACELINE_SOCKET:-/run/paceline/paceline.sock}
if [ "${1:-}" = -s ]; then
  [ $# -ge 2 ] || { echo "usage: $0 [-s SOCKET]" >&2; exit 2; }
  PACELINE_SOCKET=$2
fi
VIP=${VIP:-192.0.2.50/24}
PING_TARGETS=${PING_TARGETS:-192.0.2.254}
TIEBREAK_DELAY=${TIEBREAK_DELAY:-500ms}
FENCE_AGENT=${FENCE_AGENT:-fence_apc_snmp}
FENCE_ARGS=${FENCE_ARGS:-ip=192.0.2.200 community=private pcmk_host_map=n1:1;n2:2}
REDIS_PORT=${REDIS_PORT:-6379}
REDIS_DIR=${REDIS_DIR:-/var/lib/paceline/redis}
case $VIP in
  */*) ip=${VIP%/*} prefix=${VIP#*/} ;;
  *) ip=$VIP prefix=24 ;;
esac

pl() { # show and run one paceline command
  echo "+ paceline $*"
  "$PACELINE" -s "$PACELINE_SOCKET" "$@"
}

# Two nodes: each keeps quorum alone once both have been seen
# (wait-for-all); when they lose each other, the one that cannot reach the
# ping targets waits TIEBREAK_DELAY, so the other fences it first.
pl property set two-node=true wait-for-all=true ping-targets="$PING_TARGETS" tiebreak-delay="$TIEBREAK_DELAY"

# Fencing: the survivor of a split or crash takes the peer off before it
# promotes its redis and takes the address. FENCE_ARGS is split on spaces.
# shellcheck disable=SC2086
pl stonith create fence "$FENCE_AGENT" $FENCE_ARGS
pl property set stonith-enabled=true

# Redis on both nodes, one primary (Promoted), one read-only replica
# following it. bind=0.0.0.0: it answers on the node's address (the
# replica's link, the agent) and on the VIP (the clients). Two monitors,
# one per role, at different intervals (a role's monitor must differ).
pl resource create redis ocf:paceline:redis port="$REDIS_PORT" bind=0.0.0.0 dir="$REDIS_DIR" \
  op monitor interval=1s role=Unpromoted op monitor interval=900ms role=Promoted --promotable
# Post-promote notifications: the replica follows a new primary at once,
# not at its next monitor.
pl resource meta redis-clone notify=true

# The address: only where redis is promoted, and only after the promotion.
pl resource create vip ocf:paceline:vip ip="$ip" cidr_netmask="$prefix" op monitor interval=1s
pl constraint colocation add vip with Promoted redis-clone INFINITY
pl constraint order promote redis-clone then start vip
