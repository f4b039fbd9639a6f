package raftstore

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

// rpcRequest is one store RPC: a forwarded write or a join.
type rpcRequest struct {
	Op string `json:"op"` // "apply", "join", or a registered node op
	// Body is a registered op's request (see Store.Handle).
	Body json.RawMessage `json:"body,omitempty"`
	Data []byte          `json:"data,omitempty"` // apply: an encoded cib command
	Name string          `json:"name,omitempty"` // join: the node's raft id
	Addr string          `json:"addr,omitempty"` // join: the node's raft address
}

// rpcResponse answers an rpcRequest.
type rpcResponse struct {
	// Body is a registered op's answer.
	Body  json.RawMessage `json:"body,omitempty"`
	Index uint64          `json:"index,omitempty"`
	Epoch uint64          `json:"epoch,omitempty"`
	Notes []string        `json:"notes,omitempty"`
	Voter bool            `json:"voter,omitempty"`
	Err   string          `json:"err,omitempty"`
	// Rejected says the command reached the FSM and was refused there
	// (validation); otherwise Err is a transport or leadership problem.
	Rejected bool `json:"rejected,omitempty"`
	// NotLeader says the receiver is not the leader: retry at Leader.
	NotLeader bool   `json:"not-leader,omitempty"`
	Leader    string `json:"leader,omitempty"`
}

// rpcConn is one pooled client connection.
type rpcConn struct {
	c   net.Conn
	enc *json.Encoder
	dec *json.Decoder
	lim *msgLimiter // under dec: bounds each answer (limits.go)
}

// rpcPool keeps idle client connections per address.
type rpcPool struct {
	m    *mux
	mu   sync.Mutex
	idle map[string][]*rpcConn
	// dials bounds the dials in progress per address (maxDialsPerAddr):
	// a transition that sends many actions to one node at once must not
	// open more handshakes to it than the node admits from one host
	// (maxHandshakesPerHost, limits.go); the others wait for a slot or a
	// pooled connection.
	dials map[string]chan struct{}
}

const (
	maxIdlePerAddr  = 8
	maxDialsPerAddr = 4
)

// takeIdle returns an idle pooled connection to addr, or nil.
func (p *rpcPool) takeIdle(addr string) *rpcConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l := p.idle[addr]; len(l) > 0 {
		c := l[len(l)-1]
		p.idle[addr] = l[:len(l)-1]
		return c
	}
	return nil
}

// dialSlot is addr's dial semaphore.
func (p *rpcPool) dialSlot(addr string) chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dials == nil {
		p.dials = map[string]chan struct{}{}
	}
	sem, ok := p.dials[addr]
	if !ok {
		sem = make(chan struct{}, maxDialsPerAddr)
		p.dials[addr] = sem
	}
	return sem
}

// get returns an idle pooled connection (reused true) or a new one.
func (p *rpcPool) get(ctx context.Context, addr string) (c *rpcConn, reused bool, err error) {
	if c := p.takeIdle(addr); c != nil {
		return c, true, nil
	}
	sem := p.dialSlot(addr)
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	if c := p.takeIdle(addr); c != nil { // one came back while we waited
		<-sem
		return c, true, nil
	}
	nc, err := p.m.dial(ctx, addr, connRPC)
	<-sem
	if err != nil {
		return nil, false, err
	}
	lim := newMsgLimiter(bufio.NewReader(nc), maxRPCMessage)
	return &rpcConn{c: nc, enc: json.NewEncoder(nc), dec: json.NewDecoder(lim), lim: lim}, false, nil
}

func (p *rpcPool) put(addr string, c *rpcConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle[addr]) >= maxIdlePerAddr {
		_ = c.c.Close()
		return
	}
	p.idle[addr] = append(p.idle[addr], c)
}

func (p *rpcPool) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.idle {
		for _, c := range l {
			_ = c.c.Close()
		}
	}
	p.idle = map[string][]*rpcConn{}
}

// errSent marks a failure after the request may have reached the peer: the
// outcome is unknown and the request must not be blindly retried.
var errSent = errors.New("request sent, no answer")

// call sends one request and waits for the answer. A pooled connection
// that the peer had closed (it restarted, or dropped an idle connection)
// shows as EOF or a reset before any answer; the request is then sent once
// more on a fresh connection, since a peer that closed the connection did
// not take the request from it.
func (p *rpcPool) call(ctx context.Context, addr string, req rpcRequest) (*rpcResponse, error) {
	for attempt := 0; ; attempt++ {
		c, reused, err := p.get(ctx, addr)
		if err != nil {
			return nil, fmt.Errorf("dial %s: %w", addr, err)
		}
		dl, ok := ctx.Deadline()
		if !ok {
			dl = time.Now().Add(30 * time.Second)
		}
		_ = c.c.SetDeadline(dl)
		// A cancel (not only a deadline) ends the wait: the deadline is
		// moved to now, which wakes the blocked read or write.
		stop := context.AfterFunc(ctx, func() { _ = c.c.SetDeadline(time.Now()) })
		resp, err := p.exchange(c, req)
		if !stop() && err == nil {
			// The cancel fired as the answer came: its deadline may still
			// land on this connection, so it is not pooled.
			_ = c.c.Close()
			return resp, nil
		}
		if err != nil && ctx.Err() != nil {
			_ = c.c.Close()
			return nil, fmt.Errorf("%s: %w", addr, context.Cause(ctx))
		}
		if err != nil {
			_ = c.c.Close()
			var se sendError
			if errors.As(err, &se) {
				if attempt == 0 {
					continue
				}
				return nil, fmt.Errorf("send to %s: %w", addr, se.err)
			}
			if reused && attempt == 0 && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
				continue
			}
			return nil, fmt.Errorf("%s: %w: %v", addr, errSent, err)
		}
		_ = c.c.SetDeadline(time.Time{})
		p.put(addr, c)
		return resp, nil
	}
}

// sendError marks a failure to send a request (not yet taken by the peer).
type sendError struct{ err error }

func (e sendError) Error() string { return e.err.Error() }

// exchange writes one request and reads its answer.
func (p *rpcPool) exchange(c *rpcConn, req rpcRequest) (*rpcResponse, error) {
	if err := c.enc.Encode(req); err != nil {
		return nil, sendError{err}
	}
	var resp rpcResponse
	c.lim.next(c.dec.InputOffset())
	if err := c.dec.Decode(&resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// serveRPC answers requests on one accepted connection until it closes.
func (s *Store) serveRPC(c net.Conn) {
	defer c.Close()
	// A closed store answers nothing more, also on connections peers
	// keep pooled: they see it go away as they would a dead node.
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-s.ctx.Done():
			_ = c.Close()
		case <-done:
		}
	}()
	lim := newMsgLimiter(bufio.NewReader(c), maxRPCMessage) // limits.go
	dec := json.NewDecoder(lim)
	enc := json.NewEncoder(c)
	for {
		lim.next(dec.InputOffset())
		var req rpcRequest
		if err := dec.Decode(&req); err != nil {
			if !quietEnd(err) && s.ctx.Err() == nil {
				s.log.Warn("node rpc: dropped the connection on a bad or oversized message", "peer", c.RemoteAddr().String(), "err", err)
			}
			return
		}
		resp := s.handleRPC(req)
		if err := enc.Encode(resp); err != nil {
			return
		}
	}
}

func (s *Store) handleRPC(req rpcRequest) *rpcResponse {
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.ApplyTimeout)
	defer cancel()
	switch req.Op {
	case "apply":
		res, err := s.applyLocal(ctx, req.Data)
		if err != nil {
			return s.errResponse(err)
		}
		return &rpcResponse{Index: res.Index, Epoch: res.Epoch, Notes: res.Notes}
	case "join":
		voter, err := s.addServer(req.Name, req.Addr)
		if err != nil {
			return s.errResponse(err)
		}
		return &rpcResponse{Voter: voter}
	default:
		s.hmu.RLock()
		h := s.handlers[req.Op]
		s.hmu.RUnlock()
		if h == nil {
			return &rpcResponse{Err: fmt.Sprintf("unknown rpc op %q", req.Op)}
		}
		out, err := h(ctx, req.Body)
		if err != nil {
			return &rpcResponse{Err: err.Error()}
		}
		b, err := json.Marshal(out)
		if err != nil {
			return &rpcResponse{Err: fmt.Sprintf("%s: encode answer: %v", req.Op, err)}
		}
		return &rpcResponse{Body: b}
	}
}

// Handler answers one node RPC op; the request is raw JSON.
type Handler func(ctx context.Context, req json.RawMessage) (any, error)

// Handle registers a node-to-node RPC op (not "apply" or "join"). The
// channel is the cluster port's mutual TLS: only cluster members can call.
func (s *Store) Handle(op string, h Handler) {
	s.hmu.Lock()
	defer s.hmu.Unlock()
	s.handlers[op] = h
}

// Call sends one node RPC to the node at addr (its cluster address) and
// decodes the answer into resp. Requests on one pooled connection are
// answered in order; ctx bounds the call.
func (s *Store) Call(ctx context.Context, addr, op string, req, resp any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("%s to %s: encode: %w", op, addr, err)
	}
	r, err := s.pool.call(ctx, addr, rpcRequest{Op: op, Body: body})
	if err != nil {
		return fmt.Errorf("%s to %s: %w", op, addr, err)
	}
	if r.Err != "" {
		return fmt.Errorf("%s on %s: %s", op, addr, r.Err)
	}
	if resp == nil {
		return nil
	}
	if err := json.Unmarshal(r.Body, resp); err != nil {
		return fmt.Errorf("%s from %s: decode: %w", op, addr, err)
	}
	return nil
}

func (s *Store) errResponse(err error) *rpcResponse {
	var rej *RejectedError
	if errors.As(err, &rej) {
		return &rpcResponse{Err: rej.Err.Error(), Rejected: true}
	}
	if errors.Is(err, ErrNotLeader) {
		addr, _ := s.r().LeaderWithID()
		return &rpcResponse{Err: err.Error(), NotLeader: true, Leader: string(addr)}
	}
	return &rpcResponse{Err: err.Error()}
}
