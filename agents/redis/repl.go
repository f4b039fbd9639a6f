package redis

import (
	"fmt"
	"maps"
	"math/bits"
	"net"
	"slices"
	"strconv"
	"strings"
)

// This file holds the pure decisions of replication: the attribute
// names, which primary to follow, and the promotion score.

// Roles as the role attribute says them.
const (
	rolePrimary = "primary"
	roleReplica = "replica"
)

// attrNames are the transient node attributes of one resource.
type attrNames struct {
	Role   string // redis-RSC-role: primary or replica
	Addr   string // redis-RSC-addr: announce:port
	Offset string // redis-RSC-offset: the replication offset at the last monitor
	ReplID string // redis-RSC-replid: the replication ID (master_replid) at the last monitor
	Synced string // redis-RSC-synced: a replica's replication ID when a monitor last saw its link up
	Score  string // master-RSC: the promotion score the scheduler reads
}

func namesFor(rsc string) attrNames {
	return attrNames{
		Role:   "redis-" + rsc + "-role",
		Addr:   "redis-" + rsc + "-addr",
		Offset: "redis-" + rsc + "-offset",
		ReplID: "redis-" + rsc + "-replid",
		Synced: "redis-" + rsc + "-synced",
		Score:  "master-" + rsc,
	}
}

// primaryOf finds the primary other nodes' attributes name: the one node
// other than self (and other than selfAddr) whose role attribute is
// primary and which publishes an address. none is true when no node
// claims it; an error when several do (the agent then follows none of
// them and keeps what it has).
func primaryOf(all map[string]map[string]string, n attrNames, self, selfAddr string) (node, addr string, err error) {
	var found []string
	for _, name := range slices.Sorted(maps.Keys(all)) {
		at := all[name]
		if name == self || at[n.Role] != rolePrimary || at[n.Addr] == "" || at[n.Addr] == selfAddr {
			continue
		}
		found = append(found, name)
	}
	switch len(found) {
	case 0:
		return "", "", nil
	case 1:
		return found[0], all[found[0]][n.Addr], nil
	}
	return "", "", fmt.Errorf("several nodes claim to be the primary: %s", strings.Join(found, ", "))
}

// Promotion scores.
const (
	// scorePrimary is the running primary's: above any replica's, so
	// that the promotion stays where it is.
	scorePrimary = 1001
	// scoreBest is a replica's whose offset is the highest any instance
	// of the resource published (the primary's included).
	scoreBest = 1000
)

// replicaScore is a replica's promotion score: scoreBest when its offset
// is at least the highest one published by the other instances, lower
// by the logarithm of how far behind it is (8 points for each doubling
// of the lag in bytes), at least 1. Offsets of one replication history
// grow together (a promoted replica keeps counting from its own), so
// comparing them ranks the replicas by how much of the primary's stream
// each has.
func replicaScore(own int64, all map[string]map[string]string, n attrNames, self string) int {
	best := own
	for name, at := range all {
		if name == self {
			continue
		}
		if v, err := strconv.ParseInt(at[n.Offset], 10, 64); err == nil && v > best {
			best = v
		}
	}
	lag := best - own
	if lag <= 0 {
		return scoreBest
	}
	return max(1, scoreBest-1-8*bits.Len64(uint64(lag)))
}

// synced reports whether a replica's data set is its primary's, up to
// the writes it has not received yet — whether promoting it loses no
// more than those. Evidence, in this order:
//
//   - it waits on the placeholder: it follows nobody, and its data set
//     is its own (the offsets rank it);
//   - its link is up: Redis raises it only once a synchronisation has
//     completed;
//   - it has the replication ID its own node recorded (Synced) when a
//     monitor last saw its link up: a replica takes its primary's ID
//     when a synchronisation completes and keeps it while the link is
//     down, and in its RDB file;
//   - it has the replication ID the node at the address it follows
//     published.
//
// Otherwise it has not completed a synchronisation since it was pointed
// at that primary: its ID is its own (a fresh, empty data set) or one of
// an older history (a stale one), and false is returned with the
// reason. The ID is what tells: a replica waiting for its first
// synchronisation shows no synchronisation in progress
// (master_sync_in_progress is 1 only while the data streams, not while
// the primary prepares it, repl-diskless-sync-delay: 5 s by default).
func synced(s replState, all map[string]map[string]string, n attrNames, self string) (bool, string) {
	up := s.following()
	switch {
	case s.Role != "slave" || up == "" || s.LinkUp:
		return true, ""
	case s.ReplID != "" && all[self][n.Synced] == s.ReplID:
		return true, ""
	}
	var ids []string
	for _, name := range slices.Sorted(maps.Keys(all)) {
		at := all[name]
		if name == self || at[n.Addr] != up || at[n.ReplID] == "" {
			continue
		}
		if at[n.ReplID] == s.ReplID {
			return true, ""
		}
		ids = append(ids, name+"'s is "+at[n.ReplID])
	}
	why := fmt.Sprintf("no synchronisation with %s completed: replication ID %s", up, s.ReplID)
	if len(ids) > 0 {
		why += ", " + strings.Join(ids, ", ")
	}
	return false, why
}

// splitAddr splits host:port; on a malformed address it returns the
// whole as host and "" as port.
func splitAddr(addr string) (string, string) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, ""
	}
	return h, p
}

// replState is what INFO replication says.
type replState struct {
	Role       string // "master" or "slave"
	MasterHost string
	MasterPort string
	LinkUp     bool
	Syncing    bool   // a full synchronisation is in progress
	Offset     int64  // master_repl_offset: this instance's position in the stream
	ReplID     string // master_replid: the history the data set belongs to
	Replicas   []replicaInfo
}

// replicaInfo is one connected replica, as its primary sees it.
type replicaInfo struct {
	Addr   string
	State  string
	Offset int64
}

// following is the primary's address (host:port), "" for the
// placeholder or a primary.
func (s replState) following() string {
	if s.Role != "slave" || s.isPlaceholder() {
		return ""
	}
	return net.JoinHostPort(s.MasterHost, s.MasterPort)
}

func (s replState) isPlaceholder() bool {
	return s.Role == "slave" && s.MasterHost == placeholderHost && s.MasterPort == strconv.Itoa(placeholderPort)
}

func parseRepl(info map[string]string) (replState, error) {
	s := replState{
		Role:       info["role"],
		MasterHost: info["master_host"],
		MasterPort: info["master_port"],
		LinkUp:     info["master_link_status"] == "up",
		Syncing:    info["master_sync_in_progress"] == "1",
		ReplID:     info["master_replid"],
	}
	if s.Role != "master" && s.Role != "slave" {
		return s, fmt.Errorf("INFO replication: unexpected role %q", s.Role)
	}
	off, err := strconv.ParseInt(info["master_repl_offset"], 10, 64)
	if err != nil {
		return s, fmt.Errorf("INFO replication: master_repl_offset %q", info["master_repl_offset"])
	}
	s.Offset = off
	for i := 0; ; i++ {
		v, ok := info["slave"+strconv.Itoa(i)]
		if !ok {
			break
		}
		// ip=127.0.0.1,port=6380,state=online,offset=123,lag=0
		kv := map[string]string{}
		for f := range strings.SplitSeq(v, ",") {
			if k, v, ok := strings.Cut(f, "="); ok {
				kv[k] = v
			}
		}
		o, _ := strconv.ParseInt(kv["offset"], 10, 64)
		s.Replicas = append(s.Replicas, replicaInfo{Addr: net.JoinHostPort(kv["ip"], kv["port"]), State: kv["state"], Offset: o})
	}
	return s, nil
}
