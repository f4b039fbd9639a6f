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
	Score  string // master-RSC: the promotion score the scheduler reads
}

func namesFor(rsc string) attrNames {
	return attrNames{
		Role:   "redis-" + rsc + "-role",
		Addr:   "redis-" + rsc + "-addr",
		Offset: "redis-" + rsc + "-offset",
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
	Syncing    bool  // a full synchronisation is in progress
	Offset     int64 // master_repl_offset: this instance's position in the stream
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
