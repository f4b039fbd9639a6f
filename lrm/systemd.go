package lrm

// The systemd class: units started, stopped and watched through systemd's
// D-Bus API, as Pacemaker's lib/services/systemd.c and the systemd
// follow-up in daemons/execd/execd_commands.c (action_complete) do it.
//
// Monitor: what a unit's state means (Pacemaker's parse_status_result,
// except for the transitional states and units systemd cannot load):
//
//	ActiveState             rc               status     Pacemaker
//	active, reloading,      0 ok             done       same
//	  refreshing
//	activating,             wait (poll) for  done, or   rc unknown, status
//	  deactivating          the state to     timeout at pending (no answer
//	                        settle, then     the op's   yet); Result has no
//	                        map it           deadline   pending status
//	inactive, failed,       7 not running    done       same
//	  maintenance, other,                    (Reason
//	  masked units                           names it)
//	LoadState not-found     5 not installed  not-       7 (LoadUnit succeeds
//	  (and not running)                      installed  and the unit is
//	                                                    inactive)
//	LoadState error,        5 not installed  not-       7
//	  bad-setting (and                       installed
//	  not running)
//
// Start and stop enqueue a job (mode "replace") and wait for its result
// (JobRemoved): "done" is success; "failed", "dependency", "timeout",
// "canceled", "skipped" and any other result are ocf.ErrGeneric, with the
// unit's ActiveState, SubState and Result in the reason. Like Pacemaker's
// follow-up monitor, a unit still activating (or deactivating) after its
// job is polled until it settles: a start must end active (a oneshot
// without RemainAfterExit=yes that ends inactive is a failed start, as in
// Pacemaker), a stop must end inactive or failed. Starting a unit that is
// not found, cannot be loaded or is masked is rc 5, not-installed;
// stopping a unit that is not loaded (not found, or its file is broken)
// is success (Pacemaker's set_result_from_method_error). Every wait ends
// at the context's deadline with status timeout, at its cancellation with
// cancelled; a timed-out start or stop job is left to systemd (the
// cluster's recovery stop, mode "replace", supersedes it).
//
// reload is ReloadUnit (rc 3 when the unit has no ExecReload=);
// validate-all is 0 when the unit is loaded, else 5; meta-data is
// generated, with the unit's Description when systemd can be asked;
// promote, demote and notify are rc 3.
//
// The drop-in: before a start, a runtime drop-in
// RuntimeUnitDir/UNIT.d/50-paceline.conf (Pacemaker's 50-pacemaker.conf)
// sets Restart=no for services, so systemd never restarts a cluster
// resource behind the cluster's back (a dead service is a failed monitor
// the cluster recovers), Description=Cluster Controlled UNIT so operators
// see who owns it, and Before=paceline.service so that at shutdown
// systemd stops the unit only after Paceline has stopped (and could move
// it). It lives under /run, so it never outlives a reboot. It is removed
// after a successful stop. systemd reads it after a daemon-reload, made
// only when the file changed, and shared by concurrent actions.

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"

	"github.com/paceline/paceline/agents/ocf"
)

// DefaultRuntimeUnitDir is where systemd reads runtime units and drop-ins.
const DefaultRuntimeUnitDir = "/run/systemd/system"

const (
	// systemdDropIn is the drop-in's file name in UNIT.d.
	systemdDropIn = "50-paceline.conf"
	// systemdManagerUnit is the unit Paceline itself runs as: managed
	// units are ordered before it, so they stop after it at shutdown.
	systemdManagerUnit = "paceline.service"
	// systemdUnitNameMax is systemd's UNIT_NAME_MAX (with the NUL).
	systemdUnitNameMax = 256
	defaultSystemdPoll = 250 * time.Millisecond
)

// SystemdConfig says how the systemd class reaches systemd.
type SystemdConfig struct {
	// BusAddress is a D-Bus address, e.g.
	// "unix:path=/run/dbus/system_bus_socket"; empty: the system bus
	// (DBUS_SYSTEM_BUS_ADDRESS, else its standard socket).
	BusAddress string
	// RuntimeUnitDir is that systemd's /run/systemd/system as seen from
	// here, where drop-ins go; empty: DefaultRuntimeUnitDir.
	RuntimeUnitDir string
	// PollInterval is how often a unit's state is read while it is
	// activating or deactivating, and how often the connection is checked
	// while a job runs; 0: 250 ms.
	PollInterval time.Duration
	// Logger receives reconnections and drop-in problems; nil: none.
	Logger *slog.Logger
}

// Validate names every problem in the configuration.
func (c SystemdConfig) Validate() error {
	var errs []error
	if c.PollInterval < 0 {
		errs = append(errs, fmt.Errorf("systemd: poll interval %v is negative", c.PollInterval))
	}
	if c.RuntimeUnitDir != "" && !filepath.IsAbs(c.RuntimeUnitDir) {
		errs = append(errs, fmt.Errorf("systemd: runtime unit dir %q is not an absolute path", c.RuntimeUnitDir))
	}
	return errors.Join(errs...)
}

// Systemd runs the actions of systemd:UNIT resources through systemd's
// D-Bus API. It connects on first use, reconnects when the connection
// dropped, and is safe for concurrent use.
type Systemd struct {
	address string
	unitDir string
	poll    time.Duration
	log     *slog.Logger

	// life bounds the connections: they close when Close cancels it.
	life context.Context
	end  context.CancelFunc

	// sem guards conn and closed: a channel so a caller can stop waiting
	// for it when its context ends.
	sem    chan struct{}
	conn   *sddbus.Conn
	closed bool

	// reloads coalesces daemon-reloads (daemonReload).
	reloads reloads
}

// reloads tracks daemon-reloads: changes counts drop-in files written or
// removed, covered the changes the last finished reload saw, and wake is
// closed (and replaced) when a reload ends.
type reloads struct {
	mu      sync.Mutex
	changes uint64
	covered uint64
	running bool
	wake    chan struct{}
}

// NewSystemd returns the systemd class runner. It does not connect yet.
func NewSystemd(cfg SystemdConfig) (*Systemd, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Systemd{
		address: cfg.BusAddress,
		unitDir: cfg.RuntimeUnitDir,
		poll:    cfg.PollInterval,
		log:     cfg.Logger,
		sem:     make(chan struct{}, 1),
		reloads: reloads{wake: make(chan struct{})},
	}
	if s.unitDir == "" {
		s.unitDir = DefaultRuntimeUnitDir
	}
	if s.poll == 0 {
		s.poll = defaultSystemdPoll
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.life, s.end = context.WithCancel(context.Background())
	return s, nil
}

// Close closes the D-Bus connection; later actions fail with status error.
func (s *Systemd) Close() error {
	s.sem <- struct{}{}
	defer func() { <-s.sem }()
	s.closed = true
	s.end()
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
	return nil
}

// SystemdUnit is the unit a systemd:TYPE resource names: TYPE with
// ".service" appended unless it ends in a unit type suffix (as Pacemaker's
// systemd_service_name does, which knows fewer suffixes). It refuses
// names systemd would refuse, and templates without an instance.
func SystemdUnit(typ string) (string, error) {
	if typ == "" {
		return "", errors.New("systemd unit name is empty")
	}
	name := typ
	if !hasUnitSuffix(typ) {
		name = typ + ".service"
	}
	if len(name) >= systemdUnitNameMax {
		return "", fmt.Errorf("systemd unit %q: name longer than %d characters", typ, systemdUnitNameMax-1)
	}
	for _, c := range typ {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.ContainsRune(":-_.\\@", c)
		if !ok {
			return "", fmt.Errorf("systemd unit %q: character %q is not allowed in a unit name", typ, c)
		}
	}
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "@") {
		return "", fmt.Errorf("systemd unit %q: not a valid unit name", typ)
	}
	base := name[:strings.LastIndexByte(name, '.')]
	if strings.HasSuffix(base, "@") {
		return "", fmt.Errorf("systemd unit %q: a template needs an instance name (NAME@INSTANCE)", typ)
	}
	return name, nil
}

// hasUnitSuffix reports whether a name ends in a systemd unit type.
func hasUnitSuffix(name string) bool {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 {
		return false
	}
	switch name[i+1:] {
	case "service", "socket", "device", "mount", "automount", "swap",
		"target", "path", "timer", "slice", "scope":
		return true
	}
	return false
}

// Run performs one action on the unit the request's agent names, within
// the context and, if set, the request's timeout.
func (s *Systemd) Run(ctx context.Context, req Request) Result {
	if req.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, req.Timeout)
		defer cancel()
	}
	unit, err := SystemdUnit(req.Agent.Type)
	if err != nil {
		return Result{RC: ocf.ErrConfigured, Status: StatusError, Reason: fmt.Sprintf("resource %s: %v", req.Rsc, err)}
	}
	var res Result
	switch req.Action {
	case ocf.Start:
		res = s.start(ctx, req.Rsc, unit)
	case ocf.Stop:
		res = s.stop(ctx, req.Rsc, unit)
	case ocf.Monitor, "status":
		res = s.monitor(ctx, unit)
	case ocf.Reload:
		res = s.reload(ctx, unit)
	case ocf.MetaData:
		res = s.metaData(ctx, unit)
	case ocf.ValidateAll:
		res = s.validate(ctx, unit)
	default:
		res = Result{RC: ocf.ErrUnimplemented, Status: StatusDone,
			Reason: fmt.Sprintf("action %s is not implemented for systemd unit %s", req.Action, unit)}
	}
	s.log.Debug("systemd action", "resource", req.Rsc, "op", req.Action, "unit", unit,
		"rc", res.RC, "status", res.Status, "reason", res.Reason)
	return res
}

// unitState is what an action needs to know of a unit.
type unitState struct {
	Load, Active, Sub string
	// LoadError is systemd's reason when Load is not "loaded".
	LoadError   string
	Description string
}

func (u unitState) String() string {
	return fmt.Sprintf("ActiveState=%s SubState=%s LoadState=%s", u.Active, u.Sub, u.Load)
}

// transitional: the unit is on its way up or down.
func (u unitState) transitional() bool {
	return u.Active == "activating" || u.Active == "deactivating"
}

// running: ActiveState active, or a state of an active unit.
func (u unitState) running() bool {
	switch u.Active {
	case "active", "reloading", "refreshing":
		return true
	}
	return false
}

// notLoaded gives the not-installed result when systemd could not load
// the unit's file, else ok=false.
func (u unitState) notLoaded(unit string) (Result, bool) {
	switch u.Load {
	case "not-found":
		return Result{RC: ocf.ErrInstalled, Status: StatusNotInstalled,
			Reason: fmt.Sprintf("systemd unit %s not found", unit)}, true
	case "error", "bad-setting":
		why := u.LoadError
		if why == "" {
			why = "LoadState=" + u.Load
		}
		return Result{RC: ocf.ErrInstalled, Status: StatusNotInstalled,
			Reason: fmt.Sprintf("systemd unit %s could not be loaded: %s", unit, why)}, true
	}
	return Result{}, false
}

func (s *Systemd) monitor(ctx context.Context, unit string) Result {
	c, err := s.connect(ctx)
	if err != nil {
		return s.failure(ctx, unit, "monitor", err)
	}
	st, err := s.stateRetry(ctx, &c, unit)
	if err != nil {
		return s.failure(ctx, unit, "monitor", err)
	}
	if st.transitional() {
		if st, err = s.settle(ctx, c, unit, st); err != nil {
			return s.failureIn(ctx, unit, "monitor", st, err)
		}
	}
	return monitorResult(unit, st)
}

// monitorResult maps a settled state (the table at the top).
func monitorResult(unit string, st unitState) Result {
	if st.running() {
		return Result{RC: ocf.Success, Status: StatusDone}
	}
	if r, ok := st.notLoaded(unit); ok {
		return r
	}
	return Result{RC: ocf.NotRunning, Status: StatusDone,
		Reason: fmt.Sprintf("systemd unit %s is %s (%s)", unit, st.Active, st.Sub)}
}

func (s *Systemd) start(ctx context.Context, rsc, unit string) Result {
	c, err := s.connect(ctx)
	if err != nil {
		return s.failure(ctx, unit, "start", err)
	}
	st, err := s.stateRetry(ctx, &c, unit)
	if err != nil {
		return s.failure(ctx, unit, "start", err)
	}
	if r, ok := st.notLoaded(unit); ok {
		return r
	}
	if st.Load == "masked" {
		return Result{RC: ocf.ErrInstalled, Status: StatusNotInstalled,
			Reason: fmt.Sprintf("systemd unit %s is masked", unit)}
	}
	s.writeDropIn(ctx, c, rsc, unit)
	ch := make(chan string, 1) // buffered: go-systemd sends while holding its lock
	if _, err := c.StartUnitContext(ctx, unit, "replace", ch); err != nil {
		return s.failure(ctx, unit, "start", err)
	}
	job, err := s.waitJob(ctx, c, ch)
	if err != nil {
		return s.failure(ctx, unit, "start", err)
	}
	if st, err = s.state(ctx, c, unit); err != nil {
		return s.failure(ctx, unit, "start", err)
	}
	if job != "done" {
		return s.jobFailed(ctx, c, unit, "start", job, st)
	}
	if st.transitional() {
		if st, err = s.settle(ctx, c, unit, st); err != nil {
			return s.failureIn(ctx, unit, "start", st, err)
		}
	}
	if !st.running() {
		return s.jobFailed(ctx, c, unit, "start", job, st)
	}
	return Result{RC: ocf.Success, Status: StatusDone}
}

func (s *Systemd) stop(ctx context.Context, rsc, unit string) Result {
	c, err := s.connect(ctx)
	if err != nil {
		return s.failure(ctx, unit, "stop", err)
	}
	st, err := s.stateRetry(ctx, &c, unit)
	if err != nil {
		return s.failure(ctx, unit, "stop", err)
	}
	if _, ok := st.notLoaded(unit); ok && !st.running() && !st.transitional() {
		s.removeDropIn(ctx, c, rsc, unit)
		return Result{RC: ocf.Success, Status: StatusDone}
	}
	ch := make(chan string, 1)
	if _, err := c.StopUnitContext(ctx, unit, "replace", ch); err != nil {
		if unknownUnit(err) {
			return Result{RC: ocf.Success, Status: StatusDone}
		}
		return s.failure(ctx, unit, "stop", err)
	}
	job, err := s.waitJob(ctx, c, ch)
	if err != nil {
		return s.failure(ctx, unit, "stop", err)
	}
	if st, err = s.state(ctx, c, unit); err != nil {
		return s.failure(ctx, unit, "stop", err)
	}
	if job != "done" {
		return s.jobFailed(ctx, c, unit, "stop", job, st)
	}
	if st.transitional() {
		if st, err = s.settle(ctx, c, unit, st); err != nil {
			return s.failureIn(ctx, unit, "stop", st, err)
		}
	}
	if st.running() {
		return s.jobFailed(ctx, c, unit, "stop", job, st)
	}
	s.removeDropIn(ctx, c, rsc, unit)
	return Result{RC: ocf.Success, Status: StatusDone}
}

func (s *Systemd) reload(ctx context.Context, unit string) Result {
	c, err := s.connect(ctx)
	if err != nil {
		return s.failure(ctx, unit, "reload", err)
	}
	ch := make(chan string, 1)
	if _, err := c.ReloadUnitContext(ctx, unit, "replace", ch); err != nil {
		var de dbus.Error
		if errors.As(err, &de) && de.Name == "org.freedesktop.systemd1.JobTypeNotApplicable" {
			return Result{RC: ocf.ErrUnimplemented, Status: StatusDone,
				Reason: fmt.Sprintf("systemd unit %s cannot reload: %v", unit, err)}
		}
		return s.failure(ctx, unit, "reload", err)
	}
	job, err := s.waitJob(ctx, c, ch)
	if err != nil {
		return s.failure(ctx, unit, "reload", err)
	}
	if job != "done" {
		st, err := s.state(ctx, c, unit)
		if err != nil {
			return s.failure(ctx, unit, "reload", err)
		}
		return s.jobFailed(ctx, c, unit, "reload", job, st)
	}
	return Result{RC: ocf.Success, Status: StatusDone}
}

func (s *Systemd) validate(ctx context.Context, unit string) Result {
	c, err := s.connect(ctx)
	if err != nil {
		return s.failure(ctx, unit, "validate-all", err)
	}
	st, err := s.stateRetry(ctx, &c, unit)
	if err != nil {
		return s.failure(ctx, unit, "validate-all", err)
	}
	if r, ok := st.notLoaded(unit); ok {
		return r
	}
	if st.Load != "loaded" {
		return Result{RC: ocf.ErrInstalled, Status: StatusNotInstalled,
			Reason: fmt.Sprintf("systemd unit %s is %s", unit, st.Load)}
	}
	return Result{RC: ocf.Success, Status: StatusDone}
}

// systemdMetaData is the <resource-agent> of a unit (Pacemaker's
// systemd_unit_metadata, plus validate-all and reload).
type systemdMetaData struct {
	XMLName    xml.Name        `xml:"resource-agent"`
	Name       string          `xml:"name,attr"`
	Version    string          `xml:"version,attr"`
	APIVersion string          `xml:"version"`
	LongDesc   ocf.Desc        `xml:"longdesc"`
	ShortDesc  ocf.Desc        `xml:"shortdesc"`
	Parameters struct{}        `xml:"parameters"`
	Actions    []ocf.ActionDef `xml:"actions>action"`
	Special    struct {
		Tag string `xml:"tag,attr"`
	} `xml:"special"`
}

// metaData describes the unit; without systemd it still answers, with a
// generic description.
func (s *Systemd) metaData(ctx context.Context, unit string) Result {
	desc := "systemd unit file for " + unit
	if c, err := s.connect(ctx); err == nil {
		if st, err := s.state(ctx, c, unit); err == nil && st.Load == "loaded" && st.Description != "" {
			desc = st.Description
		}
	}
	md := systemdMetaData{
		Name: unit, Version: "1.0", APIVersion: "1.1",
		LongDesc: ocf.En(desc), ShortDesc: ocf.En("systemd unit file for " + unit),
		Actions: []ocf.ActionDef{
			{Name: ocf.Start, Timeout: "100s"},
			{Name: ocf.Stop, Timeout: "100s"},
			{Name: ocf.Monitor, Timeout: "100s", Interval: "60s"},
			{Name: ocf.Reload, Timeout: "100s"},
			{Name: ocf.ValidateAll, Timeout: "5s"},
			{Name: ocf.MetaData, Timeout: "5s"},
		},
	}
	md.Special.Tag = "systemd"
	b, err := xml.MarshalIndent(&md, "", "  ")
	if err != nil {
		return Result{RC: ocf.ErrGeneric, Status: StatusError, Reason: fmt.Sprintf("meta-data of systemd unit %s: %v", unit, err)}
	}
	return Result{RC: ocf.Success, Status: StatusDone, Output: xml.Header + string(b) + "\n"}
}

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

// dropInContent is the drop-in of a unit: the [Service] section only for
// services (other unit types have no Restart=).
func dropInContent(unit string) string {
	var b strings.Builder
	b.WriteString("# Written by Paceline: the cluster starts and stops this unit.\n")
	b.WriteString("# Removed when the cluster stops it.\n")
	b.WriteString("[Unit]\n")
	fmt.Fprintf(&b, "Description=Cluster Controlled %s\n", unit)
	fmt.Fprintf(&b, "Before=%s\n", systemdManagerUnit)
	if strings.HasSuffix(unit, ".service") {
		b.WriteString("\n[Service]\nRestart=no\n")
	}
	return b.String()
}

// DropInPath is where the runner writes a unit's drop-in.
func (s *Systemd) DropInPath(unit string) string {
	return filepath.Join(s.unitDir, unit+".d", systemdDropIn)
}

// writeDropIn puts the unit's drop-in in place and has systemd read it,
// if it is not already there. A failure is logged, not fatal: the unit
// still starts, only without the override (as in Pacemaker).
func (s *Systemd) writeDropIn(ctx context.Context, c *sddbus.Conn, rsc, unit string) {
	path := s.DropInPath(unit)
	want := dropInContent(unit)
	if got, err := os.ReadFile(path); err == nil && string(got) == want {
		return
	}
	if err := writeFileAtomic(path, []byte(want)); err != nil {
		s.log.Warn("systemd: cannot write drop-in", "resource", rsc, "unit", unit, "err", err)
		return
	}
	if err := s.daemonReload(ctx, c); err != nil {
		s.log.Warn("systemd: daemon-reload after writing drop-in failed", "resource", rsc, "unit", unit, "err", err)
	}
}

// removeDropIn removes the unit's drop-in, if any, and has systemd forget
// it.
func (s *Systemd) removeDropIn(ctx context.Context, c *sddbus.Conn, rsc, unit string) {
	path := s.DropInPath(unit)
	if err := os.Remove(path); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("systemd: cannot remove drop-in", "resource", rsc, "unit", unit, "err", err)
		}
		return
	}
	_ = os.Remove(filepath.Dir(path)) // only if empty
	if err := s.daemonReload(ctx, c); err != nil {
		s.log.Warn("systemd: daemon-reload after removing drop-in failed", "resource", rsc, "unit", unit, "err", err)
	}
}

// daemonReload returns once systemd has reloaded its units after the
// caller's change to a drop-in. A daemon-reload re-reads every unit (about
// 0.1 s on a Debian host, longer on big ones, and systemd does nothing
// else meanwhile), so concurrent callers share one: a caller waits for
// the reload under way, which may have begun before its change, then
// for the next one, which one of the waiters runs for all.
func (s *Systemd) daemonReload(ctx context.Context, c *sddbus.Conn) error {
	r := &s.reloads
	r.mu.Lock()
	r.changes++
	mine := r.changes
	for r.covered < mine {
		if r.running {
			wake := r.wake
			r.mu.Unlock()
			select {
			case <-wake:
			case <-ctx.Done():
				return ctx.Err()
			}
			r.mu.Lock()
			continue
		}
		r.running = true
		upto := r.changes
		r.mu.Unlock()
		err := c.ReloadContext(ctx)
		s.log.Debug("systemd: daemon-reload", "changes", upto, "err", err)
		r.mu.Lock()
		r.running = false
		if err == nil && upto > r.covered {
			r.covered = upto
		}
		close(r.wake)
		r.wake = make(chan struct{})
		if err != nil {
			r.mu.Unlock()
			return fmt.Errorf("daemon-reload: %w", err)
		}
	}
	r.mu.Unlock()
	return nil
}

// writeFileAtomic writes a world-readable file through a temporary name
// systemd ignores (it reads only *.conf), then renames it into place.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("drop-in dir: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".paceline-*.tmp")
	if err != nil {
		return fmt.Errorf("drop-in %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("drop-in %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("drop-in %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("drop-in %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("drop-in %s: %w", path, err)
	}
	return nil
}
