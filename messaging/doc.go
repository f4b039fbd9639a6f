// Package messaging is Paceline's membership layer (Corosync's and attrd's
// roles): who is alive, node metadata, and transient node attributes, built
// on hashicorp/memberlist (SWIM gossip with suspicion), encrypted with
// memberlist's keyring.
//
//	memberlist ──events──▶ Membership ──Event{Join,Leave,Failed,Recovered,Update}──▶ subscribers
//	            ◀─NodeMeta─ (name, raft address, votes, incarnation, version)
//	            ◀▶ attrs: broadcasts + push/pull anti-entropy of each node's own
//	                transient attributes, versioned per (node, incarnation)
//
// Transient attributes (pingd, promotion scores, fail-counts) are owned by
// the node they describe: only it sets them. Each carries the owner's
// incarnation (a fresh value each time the node starts) and a version that
// grows with every change, so a late or duplicate message never overwrites
// a newer value, and a restarted node's old attributes are dropped when its
// new incarnation is seen.
package messaging
