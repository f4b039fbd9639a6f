// Package cib is Paceline's cluster information base: the configuration
// model (resources, constraints, cluster properties, nodes, fencing), its
// validation, its YAML/JSON codecs and the typed commands that change it.
//
// The model follows Pacemaker's semantics ("Pacemaker Explained"), laid out
// flat: primitives, groups and clones are separate lists that refer to each
// other by id, so every command touches one object and validation checks the
// references in one place.
//
//	            Command (typed, versioned)
//	                 │  Apply to a copy
//	                 ▼
//	Config ──clone──▶ Config' ──Validate──▶ ok: epoch+1, swap in
//	                                       bad: error, nothing applied
//
// The replicated store that orders commands lives in cib/raftstore; this
// package does no I/O.
package cib
