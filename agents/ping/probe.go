package ping

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// errNoICMP is returned when this process can open neither a raw ICMP
// socket nor an unprivileged ping socket.
var errNoICMP = errors.New("ICMP echo needs CAP_NET_RAW (root) or an unprivileged ping socket (sysctl net.ipv4.ping_group_range)")

// echoTag is the payload of our echo requests; a reply must carry it
// back (other programs' replies, the two-node tiebreak's among them, are
// not ours).
const echoTag = "paceline-ping-agent"

// prober probes targets. Its ICMP echo requests carry an identifier
// derived from the process and a sequence number of its own, so that
// concurrent probes (several targets, several instances) tell their
// replies apart on a raw socket, which sees every ICMP message.
type prober struct {
	seq atomic.Uint32
}

// count probes every target at once (each up to attempts times, timeout
// per attempt; a target counts if any attempt answers) and returns how
// many answered. The error is set only when a target could not be
// probed at all (errNoICMP).
func (p *prober) count(ctx context.Context, targets []target, attempts int, timeout time.Duration) (int, error) {
	ok := make([]bool, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			if t.tcp() {
				ok[i] = connect(ctx, t.spec, attempts, timeout)
				return
			}
			ok[i], errs[i] = p.echo(ctx, t.ip, attempts, timeout)
		})
	}
	wg.Wait()
	n := 0
	for _, b := range ok {
		if b {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// connect probes host:port by a TCP connect (closed at once).
func connect(ctx context.Context, addr string, attempts int, timeout time.Duration) bool {
	var d net.Dialer
	for range attempts {
		actx, cancel := context.WithTimeout(ctx, timeout)
		c, err := d.DialContext(actx, "tcp", addr)
		cancel()
		if err == nil {
			_ = c.Close()
			return true
		}
		if ctx.Err() != nil {
			return false
		}
	}
	return false
}

// echo probes an IPv4 address by ICMP echo: a raw socket as root, else
// an unprivileged ping socket where the kernel allows one. Attempts go
// one after another, each waiting up to timeout for its reply.
func (p *prober) echo(ctx context.Context, ip net.IP, attempts int, timeout time.Duration) (bool, error) {
	network, dst := "ip4:icmp", net.Addr(&net.IPAddr{IP: ip})
	conn, err := icmp.ListenPacket(network, "0.0.0.0")
	if err != nil {
		network, dst = "udp4", &net.UDPAddr{IP: ip}
		if conn, err = icmp.ListenPacket(network, "0.0.0.0"); err != nil {
			return false, fmt.Errorf("%s: %w (%v)", ip, errNoICMP, err)
		}
	}
	defer conn.Close()
	// Cancelling the action ends a wait at once.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()
	// Distinct from the tiebreak pinger's identifier (the bare pid).
	id := (os.Getpid() ^ 0x7069) & 0xffff
	buf := make([]byte, 1500)
	for range attempts {
		seq := int(p.seq.Add(1) & 0xffff)
		msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte(echoTag)}}
		b, err := msg.Marshal(nil)
		if err != nil {
			return false, nil
		}
		deadline := time.Now().Add(timeout)
		if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
			deadline = dl
		}
		_ = conn.SetReadDeadline(deadline)
		if ctx.Err() != nil { // after the deadline is set: no wake-up is lost
			return false, nil
		}
		if _, err := conn.WriteTo(b, dst); err != nil {
			// No route, no neighbour: this attempt failed. Wait out its
			// time, so that attempts stay spread as ping's are.
			waitUntil(ctx, deadline)
			continue
		}
		if awaitReply(conn, buf, network, id, seq, ip) {
			return true, nil
		}
		if ctx.Err() != nil {
			return false, nil
		}
	}
	return false, nil
}

// awaitReply reads until the reply to (id, seq) from ip comes, or the
// read deadline passes.
func awaitReply(conn *icmp.PacketConn, buf []byte, network string, id, seq int, ip net.IP) bool {
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			return false
		}
		rm, err := icmp.ParseMessage(1, buf[:n]) // 1: ICMP for IPv4
		if err != nil || rm.Type != ipv4.ICMPTypeEchoReply {
			continue
		}
		e, ok := rm.Body.(*icmp.Echo)
		// A ping socket rewrites the identifier (and only delivers its
		// own replies): match the sequence, the payload and the peer.
		if ok && e.Seq == seq && (network == "udp4" || e.ID == id) && string(e.Data) == echoTag && sameHost(from, ip) {
			return true
		}
	}
}

func waitUntil(ctx context.Context, t time.Time) {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}

func sameHost(a net.Addr, ip net.IP) bool {
	switch x := a.(type) {
	case *net.IPAddr:
		return x.IP.Equal(ip)
	case *net.UDPAddr:
		return x.IP.Equal(ip)
	}
	return false
}
