#!/bin/sh
# redis-backup.sh LOG PEER [ARGS...]: notify_backup of the redis set-up.
# Notes the call in LOG, then makes the node's redis a replica of the
# redis on PEER.
log=$1
peer=$2
echo "redis-backup.sh $*" >>"$log"
exec /usr/bin/redis-cli -h 127.0.0.1 -p 6379 replicaof "$peer" 6379 >>"$log" 2>&1
