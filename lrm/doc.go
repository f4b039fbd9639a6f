// Package lrm is the local resource manager: it runs resource agent
// actions on this node exactly as the cluster asks, one at a time per
// resource and in parallel across resources up to a limit, times them out
// safely (SIGTERM, then SIGKILL, of the agent's whole process group), runs
// recurring monitors and reports changes, and keeps each resource's op
// history and fail counts.
//
//	         Manager (queue per resource, concurrency limit, history)
//	              |
//	+-------------+--------------+-----------------+
//	ocf (exec)    lsb (exec)     systemd (D-Bus)   built-in (in-process)
//
// Every class answers in OCF return codes (agents/ocf).
package lrm
