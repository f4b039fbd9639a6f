package vrrp

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/paceline/paceline/agents/vrrp/fsm"
)

// WriteMetrics writes the router's state and counters in Prometheus'
// text exposition format: per instance its state (one series per state,
// 1 for the current), effective priority, adverts sent and received,
// priority 0 adverts, times it became master and errors; dropped packets
// by reason, per instance (its own checks) and per interface (malformed,
// or for no instance here).
func (r *Router) WriteMetrics(w io.Writer) error {
	var b strings.Builder
	st := r.Status()
	family := func(name, typ, help string, samples func(add func(labels string, v uint64))) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		samples(func(labels string, v uint64) {
			fmt.Fprintf(&b, "%s{%s} %d\n", name, labels, v)
		})
	}
	inst := func(s Status) string {
		return fmt.Sprintf(`instance=%s,interface=%s,vrid="%d"`, quote(s.Name), quote(s.Interface), s.VRID)
	}
	family("paceline_vrrp_state", "gauge", "VRRP instance state: 1 for the current state.", func(add func(string, uint64)) {
		for _, s := range st {
			for _, state := range []fsm.State{fsm.Init, fsm.Backup, fsm.Master, fsm.Fault} {
				v := uint64(0)
				if s.State == state.String() {
					v = 1
				}
				add(inst(s)+",state="+quote(state.String()), v)
			}
		}
	})
	counter := func(name, help string, get func(InstanceCounters) uint64) {
		family(name, "counter", help, func(add func(string, uint64)) {
			for _, s := range st {
				add(inst(s), get(s.Counters))
			}
		})
	}
	family("paceline_vrrp_priority", "gauge", "VRRP instance effective priority (base priority with track adjustments).", func(add func(string, uint64)) {
		for _, s := range st {
			add(inst(s), uint64(s.Priority))
		}
	})
	counter("paceline_vrrp_adverts_sent_total", "VRRP advertisements sent.", func(c InstanceCounters) uint64 { return c.AdvertsSent })
	counter("paceline_vrrp_adverts_received_total", "VRRP advertisements received and taken by the instance.", func(c InstanceCounters) uint64 { return c.AdvertsReceived })
	counter("paceline_vrrp_priority_zero_sent_total", "VRRP priority 0 advertisements sent (the master resigning).", func(c InstanceCounters) uint64 { return c.PriorityZeroSent })
	counter("paceline_vrrp_priority_zero_received_total", "VRRP priority 0 advertisements received.", func(c InstanceCounters) uint64 { return c.PriorityZeroReceived })
	counter("paceline_vrrp_became_master_total", "Times the VRRP instance became master.", func(c InstanceCounters) uint64 { return c.BecameMaster })
	counter("paceline_vrrp_send_errors_total", "VRRP advertisements that could not be sent.", func(c InstanceCounters) uint64 { return c.SendErrors })
	counter("paceline_vrrp_address_errors_total", "Virtual addresses that could not be added or removed.", func(c InstanceCounters) uint64 { return c.AddressErrors })
	family(DropMetric, "counter", DropMetricHelp, func(add func(string, uint64)) {
		for _, s := range st {
			for _, reason := range DropReasons() {
				add(inst(s)+",reason="+quote(reason.String()), s.Counters.Dropped[reason.String()])
			}
		}
		drops := r.SocketDrops()
		for _, iface := range slices.Sorted(maps.Keys(drops)) {
			for _, d := range drops[iface] {
				add(`instance="",interface=`+quote(iface)+`,vrid="",reason=`+quote(d.Reason.String()), d.Count)
			}
		}
	})
	_, err := io.WriteString(w, b.String())
	return err
}

// quote is a label value in the exposition format: backslash, double
// quote and newline escaped.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}
