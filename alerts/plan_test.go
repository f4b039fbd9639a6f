package alerts

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paceline/paceline/cib"
)

func TestFormatTimestamp(t *testing.T) {
	// Thursday 2026-01-01 15:04:05.987654321 at +05:30: ISO year 2026, week 1.
	tm := time.Date(2026, 1, 1, 15, 4, 5, 987654321, time.FixedZone("IST", 5*3600+1800))
	for f, want := range map[string]string{
		cib.DefaultAlertTimestampFormat: "15:04:05.987654",
		"%3N|%1N|%6N|%N":                "987|9|987654|987654",
		"%a %A %b %B %h":                "Thu Thursday Jan January Jan",
		"%c":                            "Thu Jan  1 15:04:05 2026",
		"%C %y %Y %G %g %V %j":          "20 26 2026 2026 26 01 001",
		"%d %e %m %D %x %F":             "01  1 01 01/01/26 01/01/26 2026-01-01",
		"%H %I %k %l %M %S %p %P":       "15 03 15  3 04 05 PM pm",
		"%r|%R|%T|%X":                   "03:04:05 PM|15:04|15:04:05|15:04:05",
		"%u %w":                         "4 4",
		"%s":                            "1767260045",
		"%z %:z %Z":                     "+0530 +05:30 IST",
		"100%% %n%t.":                   "100% \n\t.",
		"plain":                         "plain",
	} {
		got, err := FormatTimestamp(f, tm)
		if err != nil || got != want {
			t.Errorf("FormatTimestamp(%q) = %q, %v; want %q", f, got, err, want)
		}
	}
	for _, f := range []string{"%Q", "%", "%2H", "%7N"} {
		if _, err := FormatTimestamp(f, tm); err == nil {
			t.Errorf("FormatTimestamp(%q) succeeded", f)
		}
	}
	// Every conversion cib accepts is implemented here.
	for _, c := range cib.TimestampConversions {
		f := "%" + string(c)
		if _, err := FormatTimestamp(f, tm); err != nil {
			t.Errorf("cib accepts %s, FormatTimestamp refuses it: %v", f, err)
		}
	}
}

// Plan follows the alerts' select lists, their order and their recipients.
func TestPlanSelect(t *testing.T) {
	cfg := &cib.Config{Alerts: []cib.Alert{
		{ID: "default", Path: "/a"},
		{ID: "nodes", Path: "/b", Select: []string{"nodes"}},
		{ID: "res-fence", Path: "/c", Select: []string{"resources", "fencing"},
			Recipients: []cib.Recipient{{ID: "c1", Value: "x"}, {ID: "c2", Value: "y"}}},
		{ID: "attrs", Path: "/d", Select: []string{"attributes"}},
		{ID: "pingd", Path: "/e", Select: []string{"attributes", "nodes"}, SelectAttributes: []string{"pingd"}},
		{ID: "all-off", Path: "/f", Meta: map[string]string{"enabled": "false"}, Recipients: []cib.Recipient{{ID: "f1", Value: "x"}}},
	}}
	runs := func(ev Event) []string {
		var out []string
		for _, r := range Plan(cfg, ev, "v", time.Unix(0, 0)) {
			out = append(out, strings.TrimSuffix(r.Alert+"/"+r.Recipient, "/"))
		}
		return out
	}
	for _, tt := range []struct {
		ev   Event
		want []string
	}{
		{NodeEvent("n1", "n1", true), []string{"default", "nodes", "pingd"}},
		{Event{Kind: KindResource, Node: "n1", Rsc: "r", Task: "stop"}, []string{"default", "res-fence/c1", "res-fence/c2"}},
		{FencingEvent(Fencing{Target: "n2"}), []string{"default", "res-fence/c1", "res-fence/c2"}},
		{AttributeEvent("n1", "n1", "pingd", "1"), []string{"attrs", "pingd"}},
		{AttributeEvent("n1", "n1", "standby", "on"), []string{"attrs"}},
	} {
		if got := runs(tt.ev); !slices.Equal(got, tt.want) {
			t.Errorf("%s %s%s: runs %v, want %v", tt.ev.Kind, tt.ev.Node, tt.ev.AttrName, got, tt.want)
		}
	}
	if Plan(nil, NodeEvent("n1", "", true), "v", time.Now()) != nil {
		t.Error("runs without a configuration")
	}
	// Timeouts: the recipient's over the alert's over the default.
	cfg.Alerts[2].Meta = map[string]string{"timeout": "3s"}
	cfg.Alerts[2].Recipients[1].Meta = map[string]string{"timeout": "1500ms"}
	ps := Plan(cfg, FencingEvent(Fencing{}), "v", time.Now())
	if ps[0].Timeout != 30*time.Second || ps[1].Timeout != 3*time.Second || ps[2].Timeout != 1500*time.Millisecond {
		t.Errorf("timeouts %v %v %v", ps[0].Timeout, ps[1].Timeout, ps[2].Timeout)
	}
}
