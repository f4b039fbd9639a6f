#!/bin/sh
# active-active-web: two virtual IPs, each at home on one node and falling
# over to the other, in front of nginx running on every node (a clone):
# the dual-master pattern keepalived users build with two vrrp_instances.
# See README.md; config.yaml is the same configuration as `paceline config
# export` prints it.
#
# Usage: setup.sh [-s SOCKET]
# Variables (defaults in brackets):
#   PACELINE_SOCKET  the local agent's API socket [/run/paceline/paceline.sock]; -s overrides
#   PACELINE         the paceline binary [paceline]
#   VIP_A, VIP_B     the two virtual addresses, ADDRESS/PREFIX [192.0.2.51/24, 192.0.2.52/24]
#   NODE_A, NODE_B   their home nodes [n1, n2]; each is the other's backup
#   NGINX_CONF       nginx's configuration, the same path on every node [/etc/nginx/paceline-web.conf]
#   STATUS_URL       a page nginx serves locally, checked by the deep monitor [http://127.0.0.1/nginx_status]
set -eu

PACELINE=${PACELINE:-paceline}
PACELINE_SOCKET=${PACELINE_SOCKET:-/run/paceline/paceline.sock}
if [ "${1:-}" = -s ]; then
  [ $# -ge 2 ] || { echo "usage: $0 [-s SOCKET]" >&2; exit 2; }
  PACELINE_SOCKET=$2
fi
VIP_A=${VIP_A:-192.0.2.51/24}
VIP_B=${VIP_B:-192.0.2.52/24}
NODE_A=${NODE_A:-n1}
NODE_B=${NODE_B:-n2}
NGINX_CONF=${NGINX_CONF:-/etc/nginx/paceline-web.conf}
STATUS_URL=${STATUS_URL:-http://127.0.0.1/nginx_status}

pl() { # show and run one paceline command
  echo "+ paceline $*"
  "$PACELINE" -s "$PACELINE_SOCKET" "$@"
}
addr() { case $1 in */*) echo "${1%/*}" ;; *) echo "$1" ;; esac; }
prefix() { case $1 in */*) echo "${1#*/}" ;; *) echo 24 ;; esac; }

# Defaults: no stickiness (0, so each address goes back to its home node
# when that node returns, as keepalived does with preemption), and a node
# where something failed 3 times is left for 60 s.
pl resource defaults resource-stickiness=0 migration-threshold=3 failure-timeout=60s

# nginx on every node (a clone, web-server-clone), listening on all
# addresses: whichever node holds an address answers on it.
pl resource create web-server ocf:paceline:nginx configfile="$NGINX_CONF" status_url="$STATUS_URL" \
  op monitor interval=10s op monitor interval=30s OCF_CHECK_LEVEL=10 --clone

# The two addresses: each is one keepalived vrrp_instance.
pl resource create web-ip-a ocf:paceline:vip ip="$(addr "$VIP_A")" cidr_netmask="$(prefix "$VIP_A")" op monitor interval=5s
pl resource create web-ip-b ocf:paceline:vip ip="$(addr "$VIP_B")" cidr_netmask="$(prefix "$VIP_B")" op monitor interval=5s

# Priorities: home 100, the other node 50 (keepalived's priority 150/100).
pl constraint location web-ip-a prefers "$NODE_A"=100 "$NODE_B"=50
pl constraint location web-ip-b prefers "$NODE_B"=100 "$NODE_A"=50

# An address only where nginx runs and answers (keepalived's track_script),
# and only once it has started there.
pl constraint colocation add web-ip-a with web-server-clone INFINITY
pl constraint colocation add web-ip-b with web-server-clone INFINITY
pl constraint order web-server-clone then web-ip-a
pl constraint order web-server-clone then web-ip-b
