#!/bin/sh
# redis-master.sh LOG [ARGS...]: notify_master of the redis set-up. Notes
# the call in LOG, then makes the node's redis a master.
log=$1
echo "redis-master.sh $*" >>"$log"
exec /usr/bin/redis-cli -h 127.0.0.1 -p 6379 replicaof no one >>"$log" 2>&1
