package kaconf

import (
	"fmt"
	"net/netip"
	"time"
)

// Config is the VRRP part of a keepalived.conf, with keepalived's defaults
// applied and its adjustments made (each adjustment also gives a Warning).
// Slices keep the order of the file.
type Config struct {
	Globals    Globals
	Scripts    []*Script
	Instances  []*Instance
	SyncGroups []*SyncGroup
}

// Script returns the vrrp_script called name, or nil.
func (c *Config) Script(name string) *Script {
	for _, s := range c.Scripts {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Instance returns the vrrp_instance called name, or nil.
func (c *Config) Instance(name string) *Instance {
	for _, in := range c.Instances {
		if in.Name == name {
			return in
		}
	}
	return nil
}

// Pos is a place in a configuration file: its path as the parser opened it
// and a line number counted from 1.
type Pos struct {
	File string
	Line int
}

// String returns "file:line".
func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Globals holds the global_defs settings that VRRP uses.
type Globals struct {
	// RouterID is router_id ("" when not set; keepalived then uses the
	// host name).
	RouterID string
	// VRRPVersion is vrrp_version, the default for instances (2).
	VRRPVersion int
	// McastGroup4 and McastGroup6 are vrrp_mcast_group4/6, the default
	// advert destinations (224.0.0.18 and ff02::12, RFC 5798 section 5.1).
	McastGroup4 netip.Addr
	McastGroup6 netip.Addr
	// GARP holds vrrp_garp_master_delay, _repeat, _refresh and
	// _refresh_repeat: the defaults of instances that come after the
	// global_defs block (keepalived copies them when it meets the instance).
	GARP GARP
	// GARPInterval and GNAInterval are vrrp_garp_interval and
	// vrrp_gna_interval: the pause between two gratuitous ARPs or two
	// unsolicited neighbour adverts on one interface (0: none).
	GARPInterval time.Duration
	GNAInterval  time.Duration
	// ScriptUser and ScriptGroup are script_user: who runs scripts that
	// name no user ("" when not set: keepalived_script if that user
	// exists, otherwise root).
	ScriptUser  string
	ScriptGroup string
	// EnableScriptSecurity is enable_script_security: do not run a script
	// as root if a non-root user could change it.
	EnableScriptSecurity bool
	// Strict is vrrp_strict, the default of each instance's strict_mode.
	Strict bool
}

// GARP holds an instance's gratuitous ARP (IPv4) and unsolicited
// neighbour advert (IPv6) settings on becoming master.
type GARP struct {
	// MasterDelay is garp_master_delay: when the second burst is sent
	// after becoming master (default 5s; 0: no second burst).
	MasterDelay time.Duration
	// MasterRepeat is garp_master_repeat: messages in each burst (5).
	MasterRepeat int
	// MasterRefresh is garp_master_refresh: the period of refresh bursts
	// while master (0: none).
	MasterRefresh time.Duration
	// MasterRefreshRepeat is garp_master_refresh_repeat: messages in each
	// refresh burst (1).
	MasterRefreshRepeat int
}

// State is the initial state of an instance.
type State string

// The initial states.
const (
	StateBackup State = "BACKUP"
	StateMaster State = "MASTER"
)

// Instance is one vrrp_instance.
type Instance struct {
	Name string
	Pos  Pos
	// Version is 2 (RFC 3768) or 3 (RFC 5798): the instance's version,
	// else 3 for IPv6, else vrrp_version.
	Version int
	// Family is 4 or 6, from the first address of the instance
	// (virtual_ipaddress, unicast_peer, unicast_src_ip, ...); 4 when none.
	Family int
	// State is the initial state: state, or MASTER when the priority is 255
	// and BACKUP otherwise.
	State State
	// Interface is interface ("" only for unicast with unicast_src_ip).
	Interface string
	VRID      uint8
	// Priority is priority, or when not set 255 for state MASTER and 100
	// otherwise (as keepalived does).
	Priority uint8
	// AdvertInterval is advert_int (1s): whole seconds for version 2, a
	// multiple of 10ms for version 3.
	AdvertInterval time.Duration
	// AuthPass is the VRRPv2 simple password (authentication { auth_type
	// PASS auth_pass ... }), at most 8 bytes; "" for none.
	AuthPass string
	// Preempt is false with nopreempt.
	Preempt      bool
	PreemptDelay time.Duration
	// Accept is accept / no_accept: answer for the VIPs when not the
	// address owner. Default: true, except in strict mode below priority
	// 255.
	Accept bool
	// Strict is strict_mode, else vrrp_strict.
	Strict bool
	// VIPs are virtual_ipaddress, all of Family; they go in adverts.
	VIPs []VIP
	// ExcludedVIPs are virtual_ipaddress_excluded (either family): set and
	// removed with the VIPs but never advertised.
	ExcludedVIPs []VIP
	// SrcIP is unicast_src_ip or mcast_src_ip: the adverts' source
	// (zero: the interface's primary address).
	SrcIP netip.Addr
	// UnicastPeers are unicast_peer; when empty the instance multicasts.
	UnicastPeers []netip.Addr
	// McastGroup is the advert destination when multicasting: mcast_dst_ip,
	// else vrrp_mcast_group4/6. Zero for unicast.
	McastGroup      netip.Addr
	TrackScripts    []TrackScript
	TrackInterfaces []TrackInterface
	// DontTrackPrimary is dont_track_primary: a fault of Interface does not
	// make the instance FAULT.
	DontTrackPrimary bool
	Notify           Notify
	GARP             GARP
	// SyncGroup is the name of the vrrp_sync_group the instance is in, or "".
	SyncGroup string
}

// VIP is one line of virtual_ipaddress or virtual_ipaddress_excluded.
type VIP struct {
	// Prefix is the address with its prefix length (/32 or /128 when the
	// line gives none).
	Prefix netip.Prefix
	// Dev is dev: the interface to set the address on ("": the instance's).
	Dev string
	// Label is label (IPv4 only), e.g. eth0:1.
	Label string
	// Scope is scope: "" (global), site, link, host, nowhere or a number.
	Scope string
	// Broadcast is brd (IPv4 only; "+" and "-" are resolved); zero: none.
	Broadcast netip.Addr
	// NoTrack is no_track: the instance does not leave MASTER if the
	// address is removed behind its back.
	NoTrack bool
}

// TrackScript is one entry of track_script.
type TrackScript struct {
	Name string
	// Weight is the entry's weight, else the script's (0: a failure makes
	// the instance FAULT; otherwise the priority moves by Weight).
	Weight int
	// Reverse is reverse (or the script's reverse, unless noreverse).
	Reverse bool
}

// TrackInterface is one entry of track_interface.
type TrackInterface struct {
	Name    string
	Weight  int
	Reverse bool
}

// Notify holds the notify scripts of an instance or a sync group.
type Notify struct {
	Master *Command
	Backup *Command
	Fault  *Command
	Stop   *Command
	// Any is notify: run after the others with four more arguments
	// (GROUP|INSTANCE, name, state, priority).
	Any *Command
}

// Command is a script as keepalived runs it: no shell; Args[0] is the
// program. User and Group are "" for the global script_user.
type Command struct {
	Args  []string
	User  string
	Group string
}

// Script is one vrrp_script.
type Script struct {
	Name    string
	Pos     Pos
	Command Command
	// Interval is interval (1s, whole seconds).
	Interval time.Duration
	// Timeout is timeout, or Interval when not set.
	Timeout time.Duration
	// Weight is weight (0), the default of track_script entries.
	Weight  int
	Reverse bool
	// Rise and Fall are rise and fall (1): results in a row to change the
	// script's state.
	Rise int
	Fall int
	// InitFail is init_fail: the script starts failed rather than good.
	InitFail bool
}

// SyncGroup is one vrrp_sync_group: its instances change state together.
type SyncGroup struct {
	Name string
	Pos  Pos
	// Instances are the names in group { }, in order.
	Instances       []string
	TrackScripts    []TrackScript
	TrackInterfaces []TrackInterface
	Notify          Notify
	// TrackingWeight is sync_group_tracking_weight (or the deprecated
	// global_tracking): member instances keep their tracking weights.
	TrackingWeight bool
}

// Warning is a directive that was ignored, or a value keepalived would
// adjust, with where it is.
type Warning struct {
	File string
	Line int
	Msg  string
}

// String returns "file:line: msg".
func (w Warning) String() string { return fmt.Sprintf("%s:%d: %s", w.File, w.Line, w.Msg) }

// Error is a syntax or validation error with where it is. Parse joins
// several with errors.Join.
type Error struct {
	File string
	Line int
	Msg  string
	// Err is the underlying error, if any (a file that cannot be read).
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s:%d: %s: %v", e.File, e.Line, e.Msg, e.Err)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }
