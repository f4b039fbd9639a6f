package alerts

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/paceline/paceline/cib"
)

// basePath is the PATH alert agents run with; they get no other
// environment from the agent process (instance attributes may set PATH).
const basePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Run is one execution of an alert agent: for one recipient of one alert,
// or for an alert with no recipient.
type Run struct {
	Alert string
	// Recipient is the recipient's id ("" for an alert without one).
	Recipient string
	Kind      Kind
	Path      string
	Timeout   time.Duration
	// Env is the agent's whole environment but CRM_alert_node_sequence,
	// which the runner adds when it queues the run.
	Env []string
}

// Plan lists the runs an event gives under cfg, in configuration order:
// every enabled alert that selects the event's kind (for an attribute,
// also its name), once per enabled recipient, or once without one if it
// has none configured ("Pacemaker Explained", Alerts). It is pure: at is
// the event's time and version CRM_alert_version.
func Plan(cfg *cib.Config, ev Event, version string, at time.Time) []Run {
	if cfg == nil {
		return nil
	}
	var runs []Run
	for i := range cfg.Alerts {
		a := &cfg.Alerts[i]
		if !a.Enabled(nil) || !a.Selects(ev.Kind.selectName()) {
			continue
		}
		if ev.Kind == KindAttribute && !a.SelectsAttribute(ev.AttrName) {
			continue
		}
		if len(a.Recipients) == 0 {
			runs = append(runs, plan(a, nil, ev, version, at))
			continue
		}
		for j := range a.Recipients {
			if r := &a.Recipients[j]; a.Enabled(r) {
				runs = append(runs, plan(a, r, ev, version, at))
			}
		}
	}
	return runs
}

// plan builds one run. The environment is Pacemaker's: PATH, the
// instance attributes (the recipient's over the alert's), then the event.
func plan(a *cib.Alert, r *cib.Recipient, ev Event, version string, at time.Time) Run {
	run := Run{Alert: a.ID, Kind: ev.Kind, Path: a.Path, Timeout: a.Timeout(r)}
	params := map[string]string{}
	for k, v := range a.Params {
		params[k] = v
	}
	recipient := ""
	if r != nil {
		run.Recipient, recipient = r.ID, r.Value
		for k, v := range r.Params {
			params[k] = v
		}
	}
	env := []string{"PATH=" + basePath}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		env = append(env, k+"="+params[k])
	}
	set := func(name, value string) { env = append(env, "CRM_alert_"+name+"="+value) }
	set("kind", string(ev.Kind))
	set("version", version)
	set("recipient", recipient)
	if ts, err := FormatTimestamp(a.AlertMeta(r, "timestamp-format"), at); err == nil {
		set("timestamp", ts)
	}
	set("timestamp_epoch", strconv.FormatInt(at.Unix(), 10))
	set("timestamp_usec", fmt.Sprintf("%06d", at.Nanosecond()/1000))
	set("node", ev.Node)
	switch ev.Kind {
	case KindNode:
		set("desc", ev.Desc)
		if ev.NodeID != "" {
			set("nodeid", ev.NodeID)
		}
	case KindResource:
		set("rsc", ev.Rsc)
		set("task", ev.Task)
		set("interval", strconv.FormatInt(ev.Interval.Milliseconds(), 10))
		set("target_rc", strconv.Itoa(ev.TargetRC))
		set("status", strconv.Itoa(ev.Status))
		set("rc", strconv.Itoa(ev.RC))
		set("exec_time", strconv.FormatInt(ev.ExecTime.Milliseconds(), 10))
		set("desc", ev.Desc)
	case KindFencing:
		set("task", ev.Task)
		set("desc", ev.Desc)
		set("rc", strconv.Itoa(ev.RC))
	case KindAttribute:
		if ev.NodeID != "" {
			set("nodeid", ev.NodeID)
		}
		set("attribute_name", ev.AttrName)
		set("attribute_value", ev.AttrValue)
	}
	run.Env = env
	return run
}
