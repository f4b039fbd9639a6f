#!/bin/sh
# three-node-web: a virtual IP and nginx as one group on a three-node
# Paceline cluster, preferring one node, sticky, with migration-threshold
# and failure-timeout tuned. See README.md; config.yaml is the same
# configuration as `paceline config export` prints it.
#
# Usage: setup.sh [-s SOCKET]
# Variables (defaults in brackets):
#   PACELINE_SOCKET  the local agent's API socket [/run/paceline/paceline.sock]; -s overrides
#   PACELINE         the paceline binary [paceline]
#   VIP              the virtual address, ADDRESS/PREFIX [192.0.2.50/24]
#   NGINX_CONF       nginx's configuration, the same path on every node [/etc/nginx/paceline-web.conf]
#   STATUS_URL       a page nginx serves locally, checked by the deep monitor [http://127.0.0.1/nginx_status]
#   PREFERRED_NODE   the node the group prefers [n1]
set -eu

PACELINE=${PACELINE:-paceline}
PACELINE_SOCKET=${PACELINE_SOCKET:-/run/paceline/paceline.sock}
if [ "${1:-}" = -s ]; then
  [ $# -ge 2 ] || { echo "usage: $0 [-s SOCKET]" >&2; exit 2; }
  PACELINE_SOCKET=$2
fi
VIP=${VIP:-192.0.2.50/24}
NGINX_CONF=${NGINX_CONF:-/etc/nginx/paceline-web.conf}
STATUS_URL=${STATUS_URL:-http://127.0.0.1/nginx_status}
PREFERRED_NODE=${PREFERRED_NODE:-n1}
case $VIP in
  */*) ip=${VIP%/*} prefix=${VIP#*/} ;;
  *) ip=$VIP prefix=24 ;;
esac

pl() { # show and run one paceline command
  echo "+ paceline $*"
  "$PACELINE" -s "$PACELINE_SOCKET" "$@"
}

# Defaults for every resource:
# - resource-stickiness 100: a running resource stays where it runs rather
#   than move back to a preferred node that returns (no failback: 100 > 50
#   below). A group's members add up: web sticks with 200.
# - migration-threshold 3: after 3 failures on a node (a failed monitor
#   restarts the resource in place) it moves away from that node.
# - failure-timeout 60s: a failure older than 60 s is forgotten, so the
#   node may run it again without `paceline resource cleanup`.
pl resource defaults resource-stickiness=100 migration-threshold=3 failure-timeout=60s

# The group web: its members start in order (the address, then nginx),
# stop in reverse, and always run on the same node.
pl resource create web-ip ocf:paceline:vip ip="$ip" cidr_netmask="$prefix" \
  op monitor interval=5s --group web
# Two monitors: depth 0 every 10 s (is the master alive?) and depth 10
# every 30 s (does it answer HTTP on STATUS_URL?).
pl resource create web-server ocf:paceline:nginx configfile="$NGINX_CONF" status_url="$STATUS_URL" \
  op monitor interval=10s op monitor interval=30s OCF_CHECK_LEVEL=10 --group web

# Prefer one node (score 50): where web starts when the cluster starts.
pl constraint location web prefers "$PREFERRED_NODE"=50
