package raftstore

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"
)

// The limiter lets any number of messages through one stream, each up to
// its bound, and refuses one message over it.
func TestMsgLimiterBoundsEachMessage(t *testing.T) {
	var stream bytes.Buffer
	for range 50 {
		stream.WriteString(`{"op":"` + strings.Repeat("x", 80) + `"}` + "\n")
	}
	stream.WriteString(`{"op":"` + strings.Repeat("y", 500) + `"}` + "\n")
	lim := newMsgLimiter(bufio.NewReader(&stream), 200)
	dec := json.NewDecoder(lim)
	for i := range 50 {
		lim.next(dec.InputOffset())
		var req rpcRequest
		if err := dec.Decode(&req); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	lim.next(dec.InputOffset())
	var req rpcRequest
	if err := dec.Decode(&req); !errors.Is(err, errMessageTooLarge) {
		t.Fatalf("oversized message: %v, want errMessageTooLarge", err)
	}
}

// serveRPC answers good requests and drops the connection on garbage,
// without a panic.
func TestServeRPCDropsGarbage(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &Store{ctx: ctx, log: slog.New(slog.DiscardHandler), opts: Options{ApplyTimeout: time.Second}, handlers: map[string]Handler{}}
	s.Handle("echo", func(_ context.Context, raw json.RawMessage) (any, error) { return raw, nil })
	for _, garbage := range []string{"{not json", "\x00\x01\x02", `{"op": 12}`, `[1,2,3]`} {
		client, server := net.Pipe()
		done := make(chan struct{})
		go func() { defer close(done); s.serveRPC(server) }()
		_ = client.SetDeadline(time.Now().Add(5 * time.Second))
		enc, dec := json.NewEncoder(client), json.NewDecoder(client)
		if err := enc.Encode(rpcRequest{Op: "echo", Body: json.RawMessage(`"hi"`)}); err != nil {
			t.Fatal(err)
		}
		var resp rpcResponse
		if err := dec.Decode(&resp); err != nil || string(resp.Body) != `"hi"` {
			t.Fatalf("echo: %v %+v", err, resp)
		}
		go func() { _, _ = io.WriteString(client, garbage+"\n") }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%q: the connection was not dropped", garbage)
		}
		_ = client.Close()
	}
}

// fromHost is a connection that says it comes from host.
type fromHost struct {
	net.Conn
	host string
}

func (c fromHost) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.ParseIP(c.host), Port: 7250}
}

// pipeFrom returns both ends of a pipe, the first one from host.
func pipeFrom(host string) (net.Conn, net.Conn) {
	a, b := net.Pipe()
	return fromHost{a, host}, b
}

// Connections over the handshake bounds (in all, and per host) are closed
// at once and counted.
func TestConnSlotsRefuseOverTheBound(t *testing.T) {
	s := newConnSlots()
	log := slog.New(slog.DiscardHandler)
	var held []net.Conn
	for i := range maxHandshakes {
		a, b := pipeFrom(fmt.Sprintf("198.51.100.%d", 1+i/maxHandshakesPerHost))
		held = append(held, a, b)
		if !s.admit(log, a) {
			t.Fatalf("refused under the bound (%d)", i)
		}
	}
	a, b := pipeFrom("198.51.100.250")
	defer b.Close()
	if s.admit(log, a) {
		t.Fatal("admitted over the bound")
	}
	if _, err := a.Write([]byte{1}); err == nil {
		t.Error("the refused connection is still open")
	}
	if s.Refused() != 1 {
		t.Errorf("refused %d, want 1", s.Refused())
	}
	s.handshakeDone(held[0])
	c, d := pipeFrom("198.51.100.250")
	defer d.Close()
	if !s.admit(log, c) {
		t.Error("a freed slot was not reused")
	}
	for _, c := range held {
		_ = c.Close()
	}
}

// One host cannot take more than its share of the handshake slots: a
// stranger flooding the port leaves room for the members.
func TestConnSlotsPerHost(t *testing.T) {
	s := newConnSlots()
	log := slog.New(slog.DiscardHandler)
	var held []net.Conn
	defer func() {
		for _, c := range held {
			_ = c.Close()
		}
	}()
	for range maxHandshakesPerHost {
		a, b := pipeFrom("192.0.2.66")
		held = append(held, a, b)
		if !s.admit(log, a) {
			t.Fatal("refused under the per-host bound")
		}
	}
	a, b := pipeFrom("192.0.2.66")
	held = append(held, b)
	if s.admit(log, a) {
		t.Fatal("one more handshake from one host than its share was admitted")
	}
	m, n := pipeFrom("192.0.2.1")
	held = append(held, m, n)
	if !s.admit(log, m) {
		t.Fatal("a member's connection was refused while a stranger held its share")
	}
	s.handshakeDone(held[0])
	c, d := pipeFrom("192.0.2.66")
	held = append(held, c, d)
	if !s.admit(log, c) {
		t.Error("the stranger's freed slot was not reused")
	}
}

// A write too large for one node RPC message is refused before it is
// forwarded, saying why, instead of being retried until the apply timeout.
func TestForwardable(t *testing.T) {
	if err := forwardable(64 << 20); err != nil {
		t.Errorf("a write of the API's body limit: %v", err)
	}
	err := forwardable(maxRPCMessage * 3 / 4)
	if err == nil || !strings.Contains(err.Error(), "too large to forward") {
		t.Errorf("a write over the message limit: %v", err)
	}
}
