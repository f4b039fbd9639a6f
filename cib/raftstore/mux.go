package raftstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Connection types: the first byte a dialler writes after the handshake.
const (
	connRaft byte = 'R'
	connRPC  byte = 'C'
)

// handshakeTimeout bounds the TLS handshake and the type byte of a new
// connection, so a silent or hostile peer cannot hold an accept slot.
const handshakeTimeout = 5 * time.Second

// mux accepts mutual-TLS connections on one listener and hands each to raft
// or to the RPC handler by its first byte.
type mux struct {
	ln        net.Listener
	advertise net.Addr
	tls       *tls.Config
	log       *slog.Logger
	raftCh    chan net.Conn
	rpc       func(net.Conn)
	slots     connSlots // limits.go: handshakes and RPC connections at once

	closeOnce sync.Once
	closed    chan struct{}
	wg        sync.WaitGroup
}

func newMux(bind string, advertise net.Addr, tlsConf *tls.Config, log *slog.Logger) (*mux, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", bind, err)
	}
	if advertise == nil {
		advertise = ln.Addr()
	}
	return &mux{
		ln: ln, advertise: advertise, tls: tlsConf, log: log,
		raftCh: make(chan net.Conn, 16),
		closed: make(chan struct{}),
		slots:  newConnSlots(),
	}, nil
}

// serve accepts until close; rpc must be set before.
func (m *mux) serve() {
	m.wg.Add(1)
	defer m.wg.Done()
	for {
		c, err := m.ln.Accept()
		if err != nil {
			select {
			case <-m.closed:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			m.log.Warn("accept failed", "err", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if !m.slots.admit(m.log, c) { // limits.go
			continue
		}
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.handle(c)
		}()
	}
}

func (m *mux) handle(raw net.Conn) {
	c := tls.Server(raw, m.tls)
	_ = c.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := c.Handshake(); err != nil {
		m.slots.handshakeDone(raw)
		m.slots.handshakeFailed(m.log, raw, err) // limits.go: logs without flooding
		return
	}
	var b [1]byte
	_, err := c.Read(b[:])
	m.slots.handshakeDone(raw)
	if err != nil {
		_ = c.Close()
		return
	}
	_ = c.SetDeadline(time.Time{})
	switch b[0] {
	case connRaft:
		select {
		case m.raftCh <- c:
		case <-m.closed:
			_ = c.Close()
		}
	case connRPC:
		m.slots.serveRPC(m.log, c, m.rpc)
	default:
		m.log.Warn("refused connection: unknown type", "peer", raw.RemoteAddr().String(), "type", b[0])
		_ = c.Close()
	}
}

// dial opens a mutual-TLS connection of the given type.
func (m *mux) dial(ctx context.Context, addr string, typ byte) (net.Conn, error) {
	d := tls.Dialer{Config: m.tls, NetDialer: &net.Dialer{}}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetWriteDeadline(dl)
	}
	if _, err := c.Write([]byte{typ}); err != nil {
		_ = c.Close()
		return nil, err
	}
	_ = c.SetWriteDeadline(time.Time{})
	return c, nil
}

func (m *mux) close() {
	m.closeOnce.Do(func() {
		close(m.closed)
		_ = m.ln.Close()
	})
}

// raftLayer is the raft.StreamLayer on top of the mux. Closing it (raft
// does at its shutdown) ends only this layer: a raft restarted on the same
// store (recover.go) gets a new one, and the mux goes on serving.
type raftLayer struct {
	m    *mux
	done chan struct{}
	once *sync.Once
}

var _ raft.StreamLayer = raftLayer{}

func newRaftLayer(m *mux) raftLayer {
	return raftLayer{m: m, done: make(chan struct{}), once: &sync.Once{}}
}

func (l raftLayer) Accept() (net.Conn, error) {
	select {
	case c := <-l.m.raftCh:
		return c, nil
	case <-l.m.closed:
		return nil, errors.New("raft layer closed")
	case <-l.done:
		return nil, errors.New("raft layer closed")
	}
}

func (l raftLayer) Close() error { l.once.Do(func() { close(l.done) }); return nil }

func (l raftLayer) Addr() net.Addr { return l.m.advertise }

func (l raftLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return l.m.dial(ctx, string(addr), connRaft)
}
