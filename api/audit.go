package api

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// Peer is who called the agent's API: the unix socket peer's credentials
// (SO_PEERCRED) and the user name of its uid, when known.
type Peer struct {
	UID  uint32 `json:"uid"`
	GID  uint32 `json:"gid"`
	PID  int32  `json:"pid"`
	User string `json:"user,omitempty"`
}

// AuditEntry is one line of a node's audit log (<data-dir>/audit.log): a
// state-changing API request, who made it, and what came of it.
type AuditEntry struct {
	Time time.Time `json:"time"`
	// Node is the node whose API was called.
	Node string `json:"node"`
	// Peer is nil when the caller's credentials could not be read.
	Peer *Peer `json:"peer,omitempty"`
	// Action is what was asked: command, cleanup, fence, quorum-unblock,
	// keyring or exec.
	Action string `json:"action"`
	// Command is a configuration command's type (ReplaceConfig, ...).
	Command string `json:"command,omitempty"`
	// Summary says what the request named (ids, keys), never secret values.
	Summary string `json:"summary,omitempty"`
	DryRun  bool   `json:"dry-run,omitempty"`
	// Status is the HTTP status of the answer.
	Status int `json:"status"`
	// Epoch is the configuration epoch a configuration command made (or,
	// dry run, would be checked against).
	Epoch uint64 `json:"epoch,omitempty"`
	// Error is why the request was refused or failed.
	Error string `json:"error,omitempty"`
}

// AuditReply is GET /v1/audit: the last entries of the node's audit log,
// oldest first.
type AuditReply struct {
	Node    string       `json:"node"`
	Entries []AuditEntry `json:"entries"`
	// Skipped counts lines of the log that did not decode.
	Skipped int `json:"skipped,omitempty"`
}

// Audit reads the last tail entries of the node's audit log (0: the
// agent's default).
func (c *Client) Audit(ctx context.Context, tail int) (*AuditReply, error) {
	var r AuditReply
	if err := c.do(ctx, http.MethodGet, "/v1/audit?tail="+strconv.Itoa(tail), nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
