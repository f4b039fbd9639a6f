package raftstore

// Limits on what peers send to the cluster port (docs/hardening.md). Only
// cluster members get past the mutual-TLS handshake, but a buggy or
// compromised member, or anyone flooding the port with handshakes, must
// not make this node allocate without bound.

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
)

// The limits.
const (
	// maxRPCMessage bounds one node RPC request or answer (its JSON): a
	// forwarded ReplaceConfig of the API's 64 MiB body limit is base64 in
	// it (4/3), after re-encoding, which can grow it (JSON escapes < > &
	// as six bytes): 128 MiB leaves room. A write that would still not fit
	// is refused before it is forwarded (forwardable, store.go).
	maxRPCMessage = 128 << 20
	// maxHandshakes bounds connections in their TLS handshake (5 s at
	// most each): more are closed at once.
	maxHandshakes = 128
	// maxHandshakesPerHost bounds them per source address, so that one
	// host that is not a member (it cannot finish a handshake) cannot
	// take every slot and keep the members' new connections out: a member
	// opens a few at once (raft's transport; its RPC pool dials at most
	// maxDialsPerAddr at a time, rpc.go).
	maxHandshakesPerHost = 16
	// maxRPCConns bounds inbound RPC connections served at once (peers pool
	// up to maxIdlePerAddr each).
	maxRPCConns = 1024
)

// errMessageTooLarge is a node RPC message over maxRPCMessage.
var errMessageTooLarge = fmt.Errorf("node rpc message larger than %d bytes", maxRPCMessage)

// msgLimiter sits under a json.Decoder that reads a stream of messages:
// before each Decode, next allows at most maxRPCMessage bytes beyond what
// the decoder has consumed, so one message cannot grow without bound.
type msgLimiter struct {
	r     io.Reader
	read  int64 // bytes handed to the decoder
	limit int64 // read may grow to this
	max   int64
}

func newMsgLimiter(r io.Reader, max int64) *msgLimiter {
	return &msgLimiter{r: r, limit: max, max: max}
}

// next allows the message that starts at offset off (the decoder's
// InputOffset).
func (l *msgLimiter) next(off int64) { l.limit = off + l.max }

func (l *msgLimiter) Read(p []byte) (int, error) {
	room := l.limit - l.read
	if room <= 0 {
		return 0, errMessageTooLarge
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := l.r.Read(p)
	l.read += int64(n)
	return n, err
}

// quietEnd reports whether a read error is just the peer going away.
func quietEnd(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET)
}

// connSlots bounds the cluster port's connections: those in their TLS
// handshake, and inbound RPC connections being served. A connection over
// either bound is closed at once; refusals are counted and logged the
// first time and every power of two after.
type connSlots struct {
	handshakes chan struct{}
	perHost    *hostCounts
	rpc        chan struct{}
	refused    *atomic.Uint64
}

// hostCounts counts handshakes in progress per source host.
type hostCounts struct {
	mu sync.Mutex
	n  map[string]int
}

func newConnSlots() connSlots {
	return connSlots{handshakes: make(chan struct{}, maxHandshakes), perHost: &hostCounts{n: map[string]int{}},
		rpc: make(chan struct{}, maxRPCConns), refused: new(atomic.Uint64)}
}

// hostOf is a connection's source host (its whole address when it has no
// port).
func hostOf(c net.Conn) string {
	a := c.RemoteAddr().String()
	if h, _, err := net.SplitHostPort(a); err == nil {
		return h
	}
	return a
}

// admit takes a handshake slot for an accepted connection, or closes it.
func (s connSlots) admit(log *slog.Logger, c net.Conn) bool {
	host := hostOf(c)
	s.perHost.mu.Lock()
	if s.perHost.n[host] >= maxHandshakesPerHost {
		s.perHost.mu.Unlock()
		s.refuse(log, c, "too many connections in their TLS handshake from one host", maxHandshakesPerHost)
		return false
	}
	select {
	case s.handshakes <- struct{}{}:
		s.perHost.n[host]++
		s.perHost.mu.Unlock()
		return true
	default:
		s.perHost.mu.Unlock()
		s.refuse(log, c, "too many connections in their TLS handshake", maxHandshakes)
		return false
	}
}

// handshakeDone gives back c's handshake slot (once per admitted
// connection).
func (s connSlots) handshakeDone(c net.Conn) {
	host := hostOf(c)
	s.perHost.mu.Lock()
	if s.perHost.n[host]--; s.perHost.n[host] <= 0 {
		delete(s.perHost.n, host)
	}
	s.perHost.mu.Unlock()
	<-s.handshakes
}

// serveRPC runs serve on c within an RPC slot, or closes c.
func (s connSlots) serveRPC(log *slog.Logger, c net.Conn, serve func(net.Conn)) {
	select {
	case s.rpc <- struct{}{}:
		defer func() { <-s.rpc }()
		serve(c)
	default:
		s.refuse(log, c, "too many node rpc connections", maxRPCConns)
	}
}

func (s connSlots) refuse(log *slog.Logger, c net.Conn, why string, limit int) {
	n := s.refused.Add(1)
	if n&(n-1) == 0 {
		log.Warn("refused connection: "+why, "peer", c.RemoteAddr().String(), "limit", limit, "refused-total", n)
	}
	_ = c.Close()
}

// Refused returns how many connections the cluster port refused for its
// limits (tests, metrics).
func (s connSlots) Refused() uint64 { return s.refused.Load() }

// handshakeFailed closes a connection whose TLS handshake failed, logging
// it the first time and every power of two after (garbage at line rate
// must not flood the log).
func (s connSlots) handshakeFailed(log *slog.Logger, c net.Conn, err error) {
	n := s.refused.Add(1)
	if n&(n-1) == 0 {
		log.Warn("refused connection: TLS handshake failed (not a member of this cluster?)",
			"peer", c.RemoteAddr().String(), "err", err, "refused-total", n)
	}
	_ = c.Close()
}

// RefusedConns returns how many connections the cluster port refused for
// its limits or a failed TLS handshake (metrics).
func (s *Store) RefusedConns() uint64 { return s.mux.slots.Refused() }

// rpcOverhead is room for a request's other fields around its data.
const rpcOverhead = 4 << 10

// forwardable reports an error when a write of size bytes cannot be
// forwarded to the leader in one node RPC message.
func forwardable(size int) error {
	if n := base64.StdEncoding.EncodedLen(size) + rpcOverhead; n > maxRPCMessage {
		return fmt.Errorf("write too large to forward to the leader: %d bytes encoded, limit %d (send it on the leader's node, or in smaller changes)", n, maxRPCMessage)
	}
	return nil
}
