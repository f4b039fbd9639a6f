package lrm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"

	"github.com/paceline/paceline/agents/ocf"
)

// connect returns the connection, dialling it if there is none or it
// dropped. The dial runs under the runner's lifetime, so a request whose
// context ends first leaves it to finish (and be closed) on its own.
func (s *Systemd) connect(ctx context.Context) (*sddbus.Conn, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.sem }()
	if s.closed {
		return nil, errors.New("systemd runner is closed")
	}
	if s.conn != nil {
		if s.conn.Connected() {
			return s.conn, nil
		}
		s.log.Warn("systemd: D-Bus connection dropped, reconnecting", "bus", s.busName())
		s.conn.Close()
		s.conn = nil
	}
	type dialed struct {
		c   *sddbus.Conn
		err error
	}
	ch := make(chan dialed, 1)
	go func() {
		c, err := s.dial()
		ch <- dialed{c, err}
	}()
	select {
	case d := <-ch:
		if d.err != nil {
			return nil, fmt.Errorf("connecting to systemd on %s: %w", s.busName(), d.err)
		}
		s.conn = d.c
		return d.c, nil
	case <-ctx.Done():
		go func() {
			if d := <-ch; d.c != nil {
				d.c.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

func (s *Systemd) busName() string {
	if s.address == "" {
		return "the system bus"
	}
	return s.address
}

func (s *Systemd) dial() (*sddbus.Conn, error) {
	if s.address == "" {
		return sddbus.NewSystemConnectionContext(s.life)
	}
	return sddbus.NewConnection(func() (*dbus.Conn, error) {
		return dialBus(s.life, s.address)
	})
}

// dialBus opens a private, authenticated connection to a D-Bus message
// bus at an address (EXTERNAL authentication as this process's uid, then
// Hello). The connection closes when ctx ends.
func dialBus(ctx context.Context, address string) (*dbus.Conn, error) {
	conn, err := dbus.Dial(address, dbus.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("D-Bus %s: %w", address, err)
	}
	if err := conn.Auth([]dbus.Auth{dbus.AuthExternal(strconv.Itoa(os.Getuid()))}); err != nil {
		conn.Close()
		return nil, fmt.Errorf("D-Bus %s: authenticating: %w", address, err)
	}
	if err := conn.Hello(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("D-Bus %s: hello: %w", address, err)
	}
	return conn, nil
}

// state reads a unit's load and active state (one GetAll).
func (s *Systemd) state(ctx context.Context, c *sddbus.Conn, unit string) (unitState, error) {
	props, err := c.GetUnitPropertiesContext(ctx, unit)
	if err != nil {
		return unitState{}, err
	}
	str := func(k string) string {
		v, _ := props[k].(string)
		return v
	}
	st := unitState{Load: str("LoadState"), Active: str("ActiveState"), Sub: str("SubState"), Description: str("Description")}
	if le, ok := props["LoadError"].([]any); ok && len(le) == 2 {
		if msg, _ := le[1].(string); msg != "" {
			st.LoadError = msg
		}
	}
	return st, nil
}

// stateRetry is state, with one reconnection if the connection had
// dropped (a read, so safe to repeat).
func (s *Systemd) stateRetry(ctx context.Context, c **sddbus.Conn, unit string) (unitState, error) {
	st, err := s.state(ctx, *c, unit)
	if err == nil || ctx.Err() != nil || (*c).Connected() {
		return st, err
	}
	nc, cerr := s.connect(ctx)
	if cerr != nil {
		return st, errors.Join(err, cerr)
	}
	*c = nc
	return s.state(ctx, nc, unit)
}

// settle polls a unit until it is neither activating nor deactivating.
func (s *Systemd) settle(ctx context.Context, c *sddbus.Conn, unit string, st unitState) (unitState, error) {
	t := time.NewTimer(s.poll)
	defer t.Stop()
	for st.transitional() {
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-t.C:
		}
		next, err := s.state(ctx, c, unit)
		if err != nil {
			return st, err
		}
		st = next
		t.Reset(s.poll)
	}
	return st, nil
}

// waitJob waits for a job's result, the context's end, or the
// connection dropping (the result would never come).
func (s *Systemd) waitJob(ctx context.Context, c *sddbus.Conn, ch <-chan string) (string, error) {
	t := time.NewTicker(s.poll)
	defer t.Stop()
	for {
		select {
		case r := <-ch:
			return r, nil
		case <-ctx.Done():
			return "", ctx.Err()
		case <-t.C:
			if !c.Connected() {
				return "", errors.New("D-Bus connection dropped while waiting for the job")
			}
		}
	}
}

// jobFailed is the result of a job that did not leave the unit where it
// should be.
func (s *Systemd) jobFailed(ctx context.Context, c *sddbus.Conn, unit, op, job string, st unitState) Result {
	why := st.String()
	if strings.HasSuffix(unit, ".service") {
		if p, err := c.GetServicePropertyContext(ctx, unit, "Result"); err == nil {
			if r, ok := p.Value.Value().(string); ok {
				why += " Result=" + r
			}
		}
	}
	what := "job " + job
	switch {
	case job == "done" && op == "start":
		what = "job done, but the unit is not active"
	case job == "done":
		what = "job done, but the unit is still active"
	}
	return Result{RC: ocf.ErrGeneric, Status: StatusDone,
		Reason: fmt.Sprintf("%s of systemd unit %s: %s (%s)", op, unit, what, why)}
}

// failure maps an error: the context's end to timeout or cancelled, an
// unknown unit to not installed, anything else to status error.
func (s *Systemd) failure(ctx context.Context, unit, op string, err error) Result {
	return s.failureIn(ctx, unit, op, unitState{}, err)
}

// failureIn is failure, with the last state seen in a timeout's reason.
func (s *Systemd) failureIn(ctx context.Context, unit, op string, st unitState, err error) Result {
	last := ""
	if st.Active != "" {
		last = " (last seen " + st.String() + ")"
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return Result{RC: ocf.ErrGeneric, Status: StatusTimeout,
			Reason: fmt.Sprintf("%s of systemd unit %s did not finish in time%s", op, unit, last)}
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		return Result{RC: ocf.ErrGeneric, Status: StatusCancelled,
			Reason: fmt.Sprintf("%s of systemd unit %s cancelled%s", op, unit, last)}
	case unknownUnit(err):
		return Result{RC: ocf.ErrInstalled, Status: StatusNotInstalled,
			Reason: fmt.Sprintf("systemd unit %s not found: %v", unit, err)}
	}
	return Result{RC: ocf.ErrGeneric, Status: StatusError,
		Reason: fmt.Sprintf("%s of systemd unit %s: %v", op, unit, err)}
}

// unknownUnit: the D-Bus errors Pacemaker reads as "no such unit".
func unknownUnit(err error) bool {
	var de dbus.Error
	if !errors.As(err, &de) {
		return false
	}
	switch de.Name {
	case "org.freedesktop.systemd1.NoSuchUnit", "org.freedesktop.systemd1.LoadFailed",
		"org.freedesktop.systemd1.InvalidName":
		return true
	}
	return false
}
