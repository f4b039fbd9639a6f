package ping

import (
	"strconv"

	"github.com/paceline/paceline/agents/ocf"
)

// MetaData describes the agent; its parameters are ocf:pacemaker:ping's
// that apply here (no fping, no ping options: the probes are the
// agent's own), plus state_dir.
func (*Agent) MetaData() *ocf.ResourceAgent {
	return &ocf.ResourceAgent{
		Name: "ping", Version: "1.0",
		LongDesc: ocf.En("Every node running this resource (run it as a clone) sets a transient node attribute, pingd by default, " +
			"to multiplier times the number of targets in host_list it reaches: an IPv4 address by ICMP echo, host:port by a TCP connect. " +
			"A location rule such as 'not_defined pingd or pingd lt 1' with score -INFINITY then keeps resources off nodes that lost their uplink. " +
			"Each monitor probes again and updates the attribute; a changed value is set once it has held for dampen. " +
			"The monitor succeeds while the resource is started, whatever the targets answer: the attribute carries the result."),
		ShortDesc: ocf.En("Node connectivity as a transient attribute (as ocf:pacemaker:ping)"),
		Parameters: []ocf.Parameter{{
			Name: "host_list", Required: 1,
			LongDesc:  ocf.En("The targets, separated by spaces: IPv4 addresses, probed by ICMP echo (a raw socket as root, else an unprivileged ping socket), and host:port, probed by a TCP connect."),
			ShortDesc: ocf.En("Targets to probe"),
			Content:   ocf.Content{Type: "string"},
		}, {
			Name:      "name",
			LongDesc:  ocf.En("The name of the transient node attribute to set."),
			ShortDesc: ocf.En("Attribute name"),
			Content:   ocf.Content{Type: "string", Default: defaultName},
		}, {
			Name:      "multiplier",
			LongDesc:  ocf.En("The attribute's value is this times the number of targets reached."),
			ShortDesc: ocf.En("Value per reachable target"),
			Content:   ocf.Content{Type: "integer", Default: strconv.Itoa(defaultMultiplier)},
		}, {
			Name:      "attempts",
			LongDesc:  ocf.En("How many times each target is tried, one attempt after another; it counts as reachable when any attempt answers."),
			ShortDesc: ocf.En("Attempts per target"),
			Content:   ocf.Content{Type: "integer", Default: strconv.Itoa(defaultAttempts)},
		}, {
			Name:      "timeout",
			LongDesc:  ocf.En("How long each attempt waits for its answer: a number of seconds, or a duration such as 500ms. Keep attempts times timeout well within the monitor's timeout."),
			ShortDesc: ocf.En("Wait per attempt"),
			Content:   ocf.Content{Type: "string", Default: "2s"},
		}, {
			Name:      "dampen",
			LongDesc:  ocf.En("A changed value is set only once the probes have given it for this long (as attrd's dampening), so that a short blip moves nothing: a number of seconds or a duration; 0 sets every change at once. Start sets the attribute at once. A change is set at the first monitor at or after dampen: keep the monitor's interval below it."),
			ShortDesc: ocf.En("Dampening of changes"),
			Content:   ocf.Content{Type: "string", Default: "5s"},
		}, {
			Name:      "state_dir",
			LongDesc:  ocf.En("Where each instance keeps its state file (started, the value set, a change being dampened): one file per node and instance."),
			ShortDesc: ocf.En("State directory"),
			Content:   ocf.Content{Type: "string", Default: defaultStateDir},
		}},
		Actions: []ocf.ActionDef{
			{Name: ocf.Start, Timeout: "60s"},
			{Name: ocf.Stop, Timeout: "20s"},
			{Name: ocf.Monitor, Timeout: "60s", Interval: "10s", Depth: "0"},
			{Name: ocf.MetaData, Timeout: "5s"},
			{Name: ocf.ValidateAll, Timeout: "20s"},
		},
	}
}
