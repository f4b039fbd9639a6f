// Package api is the node agent's local HTTP/JSON API, served on a unix
// socket, and its client, which the CLI uses.
//
//	GET  /v1/config              the configuration (local read): cib.Config
//	POST /v1/commands            apply one command: CommandRequest -> CommandResult
//	POST /v1/commands?dry-run=1  validate only, against the local configuration
//	GET  /v1/cluster             raft membership and this node: ClusterInfo
//	GET  /v1/lrm/history         op history (?rsc=ID, ?node=NAME): HistoryReply
//	POST /v1/lrm/exec            run one action by hand: ExecRequest -> lrm.Op
//	GET  /v1/resources           what runs where, from every node: ResourcesReply
//	POST /v1/lrm/cleanup         forget a resource's failures: CleanupRequest -> CleanupReply
//	GET  /v1/explain             the live scores of a resource (?rsc=ID): ExplainReply
//
// Errors come back as a non-2xx status with an ErrorBody.
package api

import (
	"encoding/json"

	"github.com/paceline/paceline/crm/scheduler"
	"github.com/paceline/paceline/lrm"
)

// CommandRequest carries one cib command by name, e.g.
// {"type":"CreatePrimitive","cmd":{...}}.
type CommandRequest struct {
	Type string          `json:"type"`
	Cmd  json.RawMessage `json:"cmd"`
}

// CommandResult is what an applied command gave: the new epoch (the change
// is applied on the answering node when this returns) and notes for the
// operator, such as constraints removed along with a resource.
type CommandResult struct {
	Epoch  uint64   `json:"epoch"`
	Index  uint64   `json:"index,omitempty"`
	Notes  []string `json:"notes,omitempty"`
	DryRun bool     `json:"dry-run,omitempty"`
}

// ErrorBody is the JSON body of an error response.
type ErrorBody struct {
	Error string `json:"error"`
}

// ClusterInfo describes the raft cluster as this node sees it.
type ClusterInfo struct {
	Node    string   `json:"node"`
	State   string   `json:"state"` // Leader, Follower, Candidate, Shutdown
	Leader  string   `json:"leader,omitempty"`
	Term    uint64   `json:"term"`
	Applied uint64   `json:"applied-index"`
	Epoch   uint64   `json:"epoch"`
	Servers []Server `json:"servers"`
	Version string   `json:"version"`
}

// Server is one raft member.
type Server struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Voter   bool   `json:"voter"`
	Leader  bool   `json:"leader,omitempty"`
}

// Members is the membership as one node sees it (GET /v1/members).
type Members struct {
	Node    string                       `json:"node"`
	Members []Member                     `json:"members"`
	Attrs   map[string]map[string]string `json:"transient-attributes,omitempty"`
	// Health is memberlist's awareness score, 0 (healthy) to 7.
	Health int `json:"health"`
	// Quorum is this node's partition's quorum, with its reason.
	Quorum *Quorum `json:"quorum,omitempty"`
}

// Quorum is a quorum decision.
type Quorum struct {
	Quorate  bool   `json:"quorate"`
	Votes    int    `json:"votes"`
	Expected int    `json:"expected"`
	Needed   int    `json:"needed"`
	Reason   string `json:"reason"`
}

// Member is one node's liveness.
type Member struct {
	Name     string `json:"name"`
	Addr     string `json:"addr"`
	State    string `json:"state"` // alive, suspect, failed, left
	RaftAddr string `json:"raft-addr,omitempty"`
	Votes    int    `json:"votes"`
	Version  string `json:"version,omitempty"`
	Since    string `json:"since"`
}

// AttrRequest sets or deletes a transient attribute of the answering
// node (POST /v1/attrs).
type AttrRequest struct {
	Name   string `json:"name"`
	Value  string `json:"value,omitempty"`
	Delete bool   `json:"delete,omitempty"`
}

// KeyringRequest is a gossip keyring action run on every alive member
// (POST /v1/keyring): list, install (accept a key), use (send with it),
// remove (stop accepting it). Key is base64.
type KeyringRequest struct {
	Action string `json:"action"`
	Key    string `json:"key,omitempty"`
}

// KeyringResult is one node's keyring after the action.
type KeyringResult struct {
	Node    string   `json:"node"`
	Keys    []string `json:"keys,omitempty"`
	Primary string   `json:"primary,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// ExecRequest asks a node's resource manager to run one action of a
// configured resource by hand (POST /v1/lrm/exec): `paceline resource op`.
type ExecRequest struct {
	Rsc      string `json:"rsc"`
	Action   string `json:"action"`
	Interval string `json:"interval,omitempty"` // a monitor's, e.g. "10s": its timeout and role apply
	Node     string `json:"node,omitempty"`     // "" or the local node
}

// HistoryReply is a node's op history (GET /v1/lrm/history?rsc=&node=).
type HistoryReply struct {
	Node      string        `json:"node"`
	Resources []lrm.History `json:"resources"`
}

// ResourcesReply is what runs where, as the answering node gathers it now
// from every online node's history (GET /v1/resources), crm_mon-style.
type ResourcesReply struct {
	DC    string         `json:"dc,omitempty"`
	Nodes []NodeResource `json:"nodes"`
	// Unreachable lists online nodes whose history could not be read.
	Unreachable []string `json:"unreachable,omitempty"`
	// Failures are the last failed operations, with their nodes.
	Failures []Failure `json:"failures,omitempty"`
}

// NodeResource is one node's state and what runs there.
type NodeResource struct {
	Name      string                    `json:"name"`
	State     string                    `json:"state"`
	Resources []scheduler.ResourceState `json:"resources,omitempty"`
}

// Failure is a resource's last failed operation on a node.
type Failure struct {
	Node      string `json:"node"`
	Op        lrm.Op `json:"op"`
	FailCount int    `json:"fail-count"`
}

// CleanupRequest forgets a resource's failures (POST /v1/lrm/cleanup): on
// one node, or on every node (Node ""); the DC then plans again.
type CleanupRequest struct {
	Rsc  string `json:"rsc"`
	Node string `json:"node,omitempty"`
}

// CleanupReply lists the nodes that forgot the failures, and those that
// could not be reached.
type CleanupReply struct {
	Cleaned []string          `json:"cleaned"`
	Errors  map[string]string `json:"errors,omitempty"`
}

// ExplainReply is the scheduler run on the cluster as it is now, for one
// resource (GET /v1/explain?rsc=ID): every node's score and what made it,
// where it is placed or why not, and the actions the DC would still take.
type ExplainReply struct {
	Rsc          string                  `json:"rsc"`
	Epoch        uint64                  `json:"epoch"`
	Explanations []scheduler.Explanation `json:"explanations"`
	Placements   []scheduler.Placement   `json:"placements"`
	Actions      []string                `json:"pending-actions,omitempty"`
}
