package fencing

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paceline/paceline/cib"
)

// Device is a configured fence device with its pcmk_* parameters read
// (Pacemaker's names and meanings).
type Device struct {
	ID     string
	Agent  string
	Params map[string]string // what the agent gets (no pcmk_*)
	// HostList (pcmk_host_list) and HostMap (pcmk_host_map: node ->
	// port) say which nodes it can fence; HostCheck how that is decided:
	// static-list, dynamic-list (its list action), status (its status
	// action), none (every node).
	HostList  []string
	HostMap   map[string]string
	HostCheck string
	HostArg   string // pcmk_host_argument
	// DelayBase (pcmk_delay_base: one duration, or per node) and DelayMax
	// (pcmk_delay_max, a random delay up to it) delay a fence the cluster
	// asks for, so that two nodes do not shoot each other at once.
	DelayBase    time.Duration
	DelayPerNode map[string]time.Duration
	DelayMax     time.Duration
	// ActionMap is pcmk_ACTION_action (e.g. pcmk_reboot_action=off).
	ActionMap map[string]string
	timeouts  map[string]time.Duration // pcmk_ACTION_timeout
	retries   map[string]int           // pcmk_ACTION_retries
}

// ParseDevice reads a configured device. Bad pcmk_* values are errors
// naming the parameter.
func ParseDevice(d cib.FenceDevice) (Device, error) {
	dev := Device{ID: d.ID, Agent: d.Agent, Params: map[string]string{}, HostMap: map[string]string{},
		DelayPerNode: map[string]time.Duration{}, ActionMap: map[string]string{}, timeouts: map[string]time.Duration{}, retries: map[string]int{}}
	bad := func(k, why string) error { return fmt.Errorf("fence device %s: %s=%q: %s", d.ID, k, d.Params[k], why) }
	for k, v := range d.Params {
		if !strings.HasPrefix(k, "pcmk_") {
			if strings.ContainsAny(v, "\n\r") {
				return Device{}, bad(k, "a newline cannot be passed to the agent")
			}
			dev.Params[k] = v
			continue
		}
		switch {
		case k == "pcmk_host_list":
			dev.HostList = splitList(v)
		case k == "pcmk_host_map":
			for _, pair := range splitList(v) {
				node, port, ok := strings.Cut(pair, ":")
				if !ok || node == "" || port == "" {
					return Device{}, bad(k, "want node:port pairs separated by ; or spaces")
				}
				dev.HostMap[node] = port
			}
		case k == "pcmk_host_check":
			if !slices.Contains([]string{"static-list", "dynamic-list", "status", "none"}, v) {
				return Device{}, bad(k, "want static-list, dynamic-list, status or none")
			}
			dev.HostCheck = v
		case k == "pcmk_host_argument":
			dev.HostArg = v
		case k == "pcmk_delay_base":
			if !strings.Contains(v, ":") {
				dd, err := cib.ParseDuration(v)
				if err != nil || dd.D() < 0 {
					return Device{}, bad(k, "want a duration, or node:duration pairs")
				}
				dev.DelayBase = dd.D()
				continue
			}
			for _, pair := range splitList(v) {
				node, ds, ok := strings.Cut(pair, ":")
				dd, err := cib.ParseDuration(ds)
				if !ok || node == "" || err != nil || dd.D() < 0 {
					return Device{}, bad(k, "want a duration, or node:duration pairs")
				}
				dev.DelayPerNode[node] = dd.D()
			}
		case k == "pcmk_delay_max":
			dd, err := cib.ParseDuration(v)
			if err != nil || dd.D() < 0 {
				return Device{}, bad(k, "want a duration")
			}
			dev.DelayMax = dd.D()
		case strings.HasSuffix(k, "_action") && k != "pcmk_action":
			dev.ActionMap[strings.TrimSuffix(strings.TrimPrefix(k, "pcmk_"), "_action")] = v
		case strings.HasSuffix(k, "_timeout"):
			dd, err := cib.ParseDuration(v)
			if err != nil || dd.D() <= 0 {
				return Device{}, bad(k, "want a positive duration")
			}
			dev.timeouts[strings.TrimSuffix(strings.TrimPrefix(k, "pcmk_"), "_timeout")] = dd.D()
		case strings.HasSuffix(k, "_retries"):
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 100 {
				return Device{}, bad(k, "want a count from 0 to 100")
			}
			dev.retries[strings.TrimSuffix(strings.TrimPrefix(k, "pcmk_"), "_retries")] = n
		default:
			// Other pcmk_* names (pcmk_monitor_interval, ...) are
			// Pacemaker's and mean nothing to the agent.
		}
	}
	if dev.HostCheck == "" {
		switch {
		case len(dev.HostList) > 0 || len(dev.HostMap) > 0:
			dev.HostCheck = "static-list"
		default:
			dev.HostCheck = "dynamic-list"
		}
	}
	return dev, nil
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == ' ' || r == '\t' })
}

// Port is the target's name on the device.
func (d Device) Port(target string) string {
	if p, ok := d.HostMap[target]; ok {
		return p
	}
	return target
}

// AgentAction is the agent's action for a fencing action (pcmk_ACTION_action).
func (d Device) AgentAction(action string) string {
	if a := d.ActionMap[action]; a != "" {
		return a
	}
	return action
}

// Timeout is the time one attempt of action may take: pcmk_ACTION_timeout,
// else the cluster's stonith-timeout.
func (d Device) Timeout(action string, stonithTimeout time.Duration) time.Duration {
	if t := d.timeouts[action]; t > 0 {
		return t
	}
	return stonithTimeout
}

// Retries is how often a failed action is tried again within its timeout
// (pcmk_ACTION_retries, default 2 as in Pacemaker).
func (d Device) Retries(action string) int {
	if n, ok := d.retries[action]; ok {
		return n
	}
	return 2
}

// Delay is how long to wait before fencing target with this device when
// the cluster asks (an operator's `stonith fence` is not delayed).
func (d Device) Delay(target string, rnd *rand.Rand) time.Duration {
	delay := d.DelayBase
	if per, ok := d.DelayPerNode[target]; ok {
		delay = per
	}
	if d.DelayMax > delay && rnd != nil {
		delay += time.Duration(rnd.Int64N(int64(d.DelayMax - delay + 1)))
	}
	return delay
}

// request is a Request of this device for target.
func (d Device) request(action, target string) Request {
	return Request{Device: d.ID, Agent: d.Agent, Action: d.AgentAction(action), Target: target, Port: d.Port(target), Params: d.Params, HostArg: d.HostArg}
}

// CanFence says whether the device can fence target, asking the agent
// when its host check is dynamic-list or status; why says why not.
func (d Device) CanFence(ctx context.Context, a Agent, target string, timeout time.Duration) (ok bool, why string) {
	switch d.HostCheck {
	case "none":
		return true, ""
	case "static-list":
		if slices.Contains(d.HostList, target) {
			return true, ""
		}
		if _, ok := d.HostMap[target]; ok {
			return true, ""
		}
		return false, fmt.Sprintf("%s is not in %s's pcmk_host_list or pcmk_host_map", target, d.ID)
	case "status":
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		r := a.Run(ctx, d.request(Status, target))
		if r.Reason == "" && (r.RC == StatusOn || r.RC == StatusOff) {
			return true, ""
		}
		return false, fmt.Sprintf("%s's status action does not know %s (rc %d %s)", d.ID, target, r.RC, r.Reason)
	default: // dynamic-list
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		r := a.Run(ctx, Request{Device: d.ID, Agent: d.Agent, Action: List, Params: d.Params})
		if !r.OK() {
			return false, fmt.Sprintf("%s's list action failed (rc %d %s): set pcmk_host_list or pcmk_host_map", d.ID, r.RC, r.Reason)
		}
		if slices.Contains(ParseList(r.Output), d.Port(target)) {
			return true, ""
		}
		return false, fmt.Sprintf("%s's list action does not name %s", d.ID, d.Port(target))
	}
}
