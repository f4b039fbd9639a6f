package ping

import (
	"context"
	"errors"
	"fmt"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/api"
)

// EnvSocket names the local agent's API socket for the OCF executable
// (as the CLI's --socket); localSocket is its default, agent.DefaultSocket.
const (
	EnvSocket   = "PACELINE_SOCKET"
	localSocket = "/run/paceline/paceline.sock"
)

// sink is where an action's attribute goes: the cluster's transient
// attributes (in-process, or through the local agent's API), or, with
// no cluster, the action's output only.
type sink struct {
	attrs ocf.Attrs // nil: print only
	// self is this node's name among attrs.Attrs(); "" when unknown.
	self string
	// via names the store in messages.
	via string
}

// sinkFor picks the action's sink: the action's Attrs; else, for the
// OCF executable, the local agent's API when an agent answers on its
// socket; else none (print only). An agent that answers with an error is
// an error.
func (ag *Agent) sinkFor(ctx context.Context, a *ocf.Action) (*sink, error) {
	if a.Attrs != nil {
		return &sink{attrs: a.Attrs, self: a.Meta["on_node"], via: "cluster"}, nil
	}
	if !ag.exec {
		return &sink{}, nil
	}
	sock := ag.getenv(EnvSocket)
	if sock == "" {
		sock = localSocket
	}
	c := api.NewClient(sock)
	m, err := c.Members(ctx)
	switch {
	case errors.Is(err, api.ErrNoAgent):
		return &sink{}, nil
	case err != nil:
		return nil, fmt.Errorf("the local agent at %s: %w", sock, err)
	}
	return &sink{attrs: &apiAttrs{ctx: ctx, c: c, snapshot: m.Attrs}, self: m.Node, via: "local agent at " + sock}, nil
}

// set sets the attribute on this node, or prints it.
func (s *sink) set(a *ocf.Action, name, value string) error {
	if s.attrs == nil {
		a.Printf("%s=%s (no cluster: the attribute is not set)", name, value)
		return nil
	}
	if err := s.attrs.SetAttr(name, value); err != nil {
		return fmt.Errorf("setting %s=%s (%s): %w", name, value, s.via, err)
	}
	return nil
}

// del deletes the attribute on this node.
func (s *sink) del(a *ocf.Action, name string) error {
	if s.attrs == nil {
		a.Printf("%s deleted (no cluster: there is nothing to delete)", name)
		return nil
	}
	if err := s.attrs.DeleteAttr(name); err != nil {
		return fmt.Errorf("deleting %s (%s): %w", name, s.via, err)
	}
	return nil
}

// current is the attribute's live value on this node; known is false
// when it cannot be told (no cluster, or this node's name unknown).
func (s *sink) current(name string) (value string, set, known bool) {
	if s.attrs == nil || s.self == "" {
		return "", false, false
	}
	value, set = s.attrs.Attrs()[s.self][name]
	return value, set, true
}

// apiAttrs are this node's transient attributes through the local
// agent's API (`paceline node attribute --transient` does the same).
type apiAttrs struct {
	ctx      context.Context
	c        *api.Client
	snapshot map[string]map[string]string // read when the action began
}

func (x *apiAttrs) SetAttr(name, value string) error {
	return x.c.SetTransientAttr(x.ctx, name, value, false)
}

func (x *apiAttrs) DeleteAttr(name string) error {
	return x.c.SetTransientAttr(x.ctx, name, "", true)
}

func (x *apiAttrs) Attrs() map[string]map[string]string { return x.snapshot }
