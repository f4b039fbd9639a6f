package vrrp

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/agents/vip"
)

// VIPAddresser adds and removes virtual addresses with the built-in vip
// agent (ocf:paceline:vip): netlink, then announcements (gratuitous ARP
// request and reply, or an unsolicited neighbour advert) in rounds of
// the agent's defaults (5, 200 ms apart), and a second series after the
// instance's garp_master_delay. keepalived sends garp_master_repeat
// frames at once instead; the rounds spread the same frames over a
// second, which survives a switch port that is still coming up.
type VIPAddresser struct {
	ag  *vip.Agent
	log *slog.Logger

	mu    sync.Mutex
	again map[string]context.CancelFunc // by dev and address
}

// NewVIPAddresser makes an addresser whose background announcements end
// with ctx.
func NewVIPAddresser(ctx context.Context, log *slog.Logger) *VIPAddresser {
	return &VIPAddresser{ag: vip.New(vip.WithBackground(ctx)), log: log, again: map[string]context.CancelFunc{}}
}

func vipParams(dev string, v VIP) map[string]string {
	p := map[string]string{
		"ip":           v.Prefix.Addr().String(),
		"cidr_netmask": strconv.Itoa(v.Prefix.Bits()),
		"nic":          dev,
	}
	if v.Label != "" {
		p["label"] = v.Label
	}
	if v.Broadcast.IsValid() {
		p["broadcast"] = v.Broadcast.String()
	}
	if v.Scope != "" {
		p["scope"] = v.Scope
	}
	return p
}

func (a *VIPAddresser) run(ctx context.Context, action, dev string, v VIP) error {
	var out bytes.Buffer
	rc := a.ag.Run(ctx, &ocf.Action{Name: action, Instance: "vrrp", Params: vipParams(dev, v), Out: &out, Log: a.log, Timeout: 10 * time.Second})
	if rc != ocf.Success {
		return fmt.Errorf("%s %s on %s: %s: %s", action, v.Prefix, dev, ocf.RCName(rc), strings.TrimSpace(out.String()))
	}
	return nil
}

// Add adds and announces v on dev, and announces it again after again.
func (a *VIPAddresser) Add(ctx context.Context, dev string, v VIP, again time.Duration) error {
	a.cancelAgain(dev, v)
	if err := a.run(ctx, ocf.Start, dev, v); err != nil {
		return err
	}
	if again <= 0 {
		return nil
	}
	actx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.mu.Lock()
	a.again[dev+" "+v.Prefix.String()] = cancel
	a.mu.Unlock()
	go func() {
		defer cancel()
		t := time.NewTimer(again)
		defer t.Stop()
		select {
		case <-actx.Done():
			return
		case <-t.C:
		}
		// Under the lock, so that a Remove (which cancels under it)
		// comes either before, and this does nothing, or after.
		a.mu.Lock()
		defer a.mu.Unlock()
		if actx.Err() != nil {
			return
		}
		if err := a.run(actx, ocf.Start, dev, v); err != nil {
			a.log.Warn("second announcement of a virtual address", "vip", v, "err", err)
		}
	}()
	return nil
}

// Present says whether v is on dev (the vip agent's monitor).
func (a *VIPAddresser) Present(ctx context.Context, dev string, v VIP) (bool, error) {
	var out bytes.Buffer
	rc := a.ag.Run(ctx, &ocf.Action{Name: ocf.Monitor, Instance: "vrrp", Params: vipParams(dev, v), Out: &out, Log: a.log, Timeout: 10 * time.Second})
	switch rc {
	case ocf.Success:
		return true, nil
	case ocf.NotRunning:
		return false, nil
	}
	return false, fmt.Errorf("looking for %s on %s: %s: %s", v.Prefix, dev, ocf.RCName(rc), strings.TrimSpace(out.String()))
}

// Remove removes v from dev, and cancels its pending announcement.
func (a *VIPAddresser) Remove(ctx context.Context, dev string, v VIP) error {
	a.cancelAgain(dev, v)
	return a.run(ctx, ocf.Stop, dev, v)
}

func (a *VIPAddresser) cancelAgain(dev string, v VIP) {
	k := dev + " " + v.Prefix.String()
	a.mu.Lock()
	cancel := a.again[k]
	delete(a.again, k)
	a.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}
