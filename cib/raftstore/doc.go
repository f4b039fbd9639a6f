// Package raftstore replicates the cluster configuration (cib.Config) with
// hashicorp/raft, persisted in bolt (raft-boltdb) under the node's data dir.
//
//	CLI ─▶ agent API ─▶ Store.Apply ─ validate locally ─▶ leader? raft.Apply
//	                                   └─ follower: forward over RPC ─▶ leader
//	raft log ─▶ FSM.Apply ─▶ cib.Config.Apply (copy, validate, epoch+1) ─▶ swap
//
// One TCP port per node carries both raft and the store's own RPC (forwarded
// writes, joins), multiplexed by a first byte after a mutual-TLS handshake:
// a peer without a certificate from the cluster CA cannot take part in raft,
// read the configuration, or join.
package raftstore
