package raftstore

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

// Connections over the handshake bound are closed at once and counted.
func TestConnSlotsRefuseOverTheBound(t *testing.T) {
	s := newConnSlots()
	log := slog.New(slog.DiscardHandler)
	var held []net.Conn
	for range maxHandshakes {
		a, b := net.Pipe()
		held = append(held, a, b)
		if !s.admit(log, a) {
			t.Fatal("refused under the bound")
		}
	}
	a, b := net.Pipe()
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
	s.handshakeDone()
	c, d := net.Pipe()
	defer d.Close()
	if !s.admit(log, c) {
		t.Error("a freed slot was not reused")
	}
	for _, c := range held {
		_ = c.Close()
	}
}
