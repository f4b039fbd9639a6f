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
	"path/filepath"
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
