package agent

import (
	"context"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"

	"github.com/paceline/paceline/messaging/quorum"
)

// pingInterval is how often the tiebreak's ping targets are checked.
const pingInterval = 200 * time.Millisecond

// pinger checks the ping-targets property: a target "host:port" is
// reached by a TCP connect, a bare address by an ICMP echo. The node
// reaches the targets when any one answers within the timeout.
type pinger struct {
	a     *Agent
	reach atomic.Int32 // a quorum.Reach
	seq   atomic.Uint32
	// checked is when the check that set reach started (unix ns): a
	// two-node tiebreak only trusts a result newer than the peer's last
	// heartbeat (quorum.go).
	checked atomic.Int64
	kick    chan struct{} // check now (the peer has gone quiet)
}

// kickNow asks for a check at once.
func (p *pinger) kickNow() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// freshSince reports whether the last result comes from a check started
// at or after t.
func (p *pinger) freshSince(t time.Time) bool { return p.checked.Load() >= t.UnixNano() }

// pingTargets splits the property (spaces or commas).
func pingTargets(prop string) []string {
	return strings.FieldsFunc(prop, func(r rune) bool { return r == ' ' || r == ',' })
}

func (p *pinger) run(ctx context.Context) {
	t := time.NewTicker(pingInterval)
	defer t.Stop()
	go p.watchPeer(ctx)
	for {
		started := time.Now()
		targets := pingTargets(p.a.store.Config().Property("ping-targets"))
		r := quorum.ReachUnknown
		if len(targets) > 0 {
			r = quorum.Unreachable
			for _, tg := range targets {
				if p.check(ctx, tg, pingInterval) {
					r = quorum.Reachable
					break
				}
			}
		}
		if old := quorum.Reach(p.reach.Swap(int32(r))); old != r && len(targets) > 0 {
			p.a.log.Info("ping targets", "reach", r.String(), "targets", strings.Join(targets, " "))
		}
		p.checked.Store(started.UnixNano())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-p.kick:
		}
	}
}

// watchPeer kicks a check as soon as a two-node peer has missed two
// heartbeats, so that a fresh result is there before the lease (and the
// tiebreak) needs it.
func (p *pinger) watchPeer(ctx context.Context) {
	if p.a.ms == nil {
		return
	}
	t := time.NewTicker(p.a.leaseCheckTick(p.a.store.Config()))
	defer t.Stop()
	var kicked time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cfg := p.a.store.Config()
		if cfg.Property("two-node") != "true" {
			continue
		}
		quiet := 2*p.a.heartbeatInterval() + 5*time.Millisecond
		last, ok := p.a.ms.LastHeard()[peerOf(cfg, p.a.cfg.Name)]
		if ok && time.Since(last) > quiet && !p.freshSince(last) && time.Since(kicked) > pingInterval/2 {
			kicked = time.Now()
			p.kickNow()
		}
	}
}

func (p *pinger) check(ctx context.Context, target string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, _, err := net.SplitHostPort(target); err == nil {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", target)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	}
	return p.echo(ctx, target)
}

// echo sends one ICMP echo request and waits for its reply: a raw socket
// as root, else an unprivileged ping socket where the kernel allows one.
func (p *pinger) echo(ctx context.Context, host string) bool {
	ip := net.ParseIP(host)
	if ip == nil || ip.To4() == nil {
		return false // IPv4 targets only for now
	}
	network, dst := "ip4:icmp", net.Addr(&net.IPAddr{IP: ip})
	conn, err := icmp.ListenPacket(network, "0.0.0.0")
	if err != nil {
		network, dst = "udp4", &net.UDPAddr{IP: ip}
		if conn, err = icmp.ListenPacket(network, "0.0.0.0"); err != nil {
			return false
		}
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	id, seq := os.Getpid()&0xffff, int(p.seq.Add(1)&0xffff)
	msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte("paceline")}}
	b, err := msg.Marshal(nil)
	if err != nil {
		return false
	}
	if _, err := conn.WriteTo(b, dst); err != nil {
		return false
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			return false
		}
		rm, err := icmp.ParseMessage(1, buf[:n])
		if err != nil || rm.Type != ipv4.ICMPTypeEchoReply {
			continue
		}
		echo, ok := rm.Body.(*icmp.Echo)
		// Unprivileged sockets rewrite the id; match the sequence and peer.
		if ok && echo.Seq == seq && (network == "udp4" || echo.ID == id) && sameHost(from, ip) {
			return true
		}
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
