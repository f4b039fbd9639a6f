#!/bin/sh
# notify.sh LOG ARGS...: appends ARGS to LOG, one line per call. As a
# vrrp_instance's `notify` script it gets keepalived's four arguments
# after those of its line: INSTANCE|GROUP, the name, the new state
# (MASTER, BACKUP, FAULT, STOP) and the priority.
log=$1
shift
echo "$*" >>"$log"
