package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/lrm"

	"github.com/paceline/paceline/fencing"
)

// Client talks to one node agent over its unix socket.
type Client struct {
	socket string
	hc     *http.Client
}

// NewClient returns a client for the agent listening on socket.
func NewClient(socket string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		MaxIdleConns:    4,
		IdleConnTimeout: 30 * time.Second,
	}
	return &Client{socket: socket, hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// Socket returns the socket path the client uses.
func (c *Client) Socket() string { return c.socket }

// Config reads the node's current configuration.
func (c *Client) Config(ctx context.Context) (*cib.Config, error) {
	var cfg cib.Config
	if err := c.do(ctx, http.MethodGet, "/v1/config", nil, &cfg); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// Cluster reads raft membership as this node sees it.
func (c *Client) Cluster(ctx context.Context) (*ClusterInfo, error) {
	var ci ClusterInfo
	if err := c.do(ctx, http.MethodGet, "/v1/cluster", nil, &ci); err != nil {
		return nil, err
	}
	return &ci, nil
}

// Apply sends one command. With dryRun the agent only validates it against
// its local configuration.
func (c *Client) Apply(ctx context.Context, cmd cib.Command, dryRun bool) (*CommandResult, error) {
	body, err := json.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", cmd.Type(), err)
	}
	req := CommandRequest{Type: cmd.Type().String(), Cmd: body}
	path := "/v1/commands"
	if dryRun {
		path += "?dry-run=1"
	}
	var res CommandResult
	if err := c.do(ctx, http.MethodPost, path, req, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Error is an error reported by the agent.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Message }

// ErrNoAgent wraps failures to reach the agent's socket.
var ErrNoAgent = errors.New("cannot reach the paceline agent")

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://paceline"+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%w at %s: %v", ErrNoAgent, c.socket, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("read reply from %s: %w", c.socket, err)
	}
	if resp.StatusCode/100 != 2 {
		var eb ErrorBody
		if json.Unmarshal(data, &eb) == nil && eb.Error != "" {
			return &Error{Status: resp.StatusCode, Message: eb.Error}
		}
		return &Error{Status: resp.StatusCode, Message: fmt.Sprintf("%s %s: %s", method, path, resp.Status)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode reply of %s %s: %w", method, path, err)
	}
	return nil
}

// Members reads the membership as the node sees it.
func (c *Client) Members(ctx context.Context) (*Members, error) {
	var m Members
	if err := c.do(ctx, http.MethodGet, "/v1/members", nil, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// SetTransientAttr sets (or with del, deletes) a transient attribute of
// the node the client talks to.
func (c *Client) SetTransientAttr(ctx context.Context, name, value string, del bool) error {
	return c.do(ctx, http.MethodPost, "/v1/attrs", AttrRequest{Name: name, Value: value, Delete: del}, nil)
}

// Keyring runs a keyring action on every alive member.
func (c *Client) Keyring(ctx context.Context, action, key string) ([]KeyringResult, error) {
	var out []KeyringResult
	if err := c.do(ctx, http.MethodPost, "/v1/keyring", KeyringRequest{Action: action, Key: key}, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// History reads a node's op history: of one resource (rsc) or all ("");
// node "" is the local node.
func (c *Client) History(ctx context.Context, rsc, node string) (*HistoryReply, error) {
	q := url.Values{}
	if rsc != "" {
		q.Set("rsc", rsc)
	}
	if node != "" {
		q.Set("node", node)
	}
	var h HistoryReply
	if err := c.do(ctx, http.MethodGet, "/v1/lrm/history?"+q.Encode(), nil, &h); err != nil {
		return nil, err
	}
	return &h, nil
}

// Exec runs one action of a configured resource by hand on a node.
func (c *Client) Exec(ctx context.Context, req ExecRequest) (*lrm.Op, error) {
	var op lrm.Op
	if err := c.do(ctx, http.MethodPost, "/v1/lrm/exec", req, &op); err != nil {
		return nil, err
	}
	return &op, nil
}

// Resources gathers what runs where from every online node.
func (c *Client) Resources(ctx context.Context) (*ResourcesReply, error) {
	var r ResourcesReply
	if err := c.do(ctx, http.MethodGet, "/v1/resources", nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Cleanup forgets a resource's failures on one node or all.
func (c *Client) Cleanup(ctx context.Context, req CleanupRequest) (*CleanupReply, error) {
	var r CleanupReply
	if err := c.do(ctx, http.MethodPost, "/v1/lrm/cleanup", req, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Explain runs the scheduler on the live cluster for one resource.
func (c *Client) Explain(ctx context.Context, rsc string) (*ExplainReply, error) {
	var r ExplainReply
	if err := c.do(ctx, http.MethodGet, "/v1/explain?rsc="+url.QueryEscape(rsc), nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// FenceRequest asks the cluster to fence a node (`stonith fence`), or
// records that an operator knows it is down (`stonith confirm`).
type FenceRequest struct {
	Target  string `json:"target"`
	Action  string `json:"action,omitempty"` // off or reboot; default stonith-action
	Confirm bool   `json:"confirm,omitempty"`
}

// Fence fences a node now (no fence delay) and waits for the outcome.
func (c *Client) Fence(ctx context.Context, req FenceRequest) (*fencing.Op, error) {
	var r fencing.Op
	if err := c.do(ctx, http.MethodPost, "/v1/stonith/fence", req, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// FenceHistory is every reachable node's fencing history, oldest first.
func (c *Client) FenceHistory(ctx context.Context) ([]fencing.Op, error) {
	var r []fencing.Op
	if err := c.do(ctx, http.MethodGet, "/v1/stonith/history", nil, &r); err != nil {
		return nil, err
	}
	return r, nil
}

// QuorumUnblock lifts wait_for_all on the local node.
func (c *Client) QuorumUnblock(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/v1/quorum/unblock", struct{}{}, nil)
}
