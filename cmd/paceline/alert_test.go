package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/paceline/paceline/cib"
)

func TestParseAlertCreate(t *testing.T) {
	ca, err := parseAlertCreate(strings.Fields("file /usr/local/bin/a.sh description=log options debug=1 out=/tmp meta timeout=15s"),
		alertFlags{selectKinds: "nodes, resources", selectAttrs: "pingd"}, true, true)
	if err != nil {
		t.Fatal(err)
	}
	want := cib.Alert{ID: "file", Path: "/usr/local/bin/a.sh", Description: "log", Params: map[string]string{"debug": "1", "out": "/tmp"},
		Meta: map[string]string{"timeout": "15s"}, Select: []string{"nodes", "resources"}, SelectAttributes: []string{"pingd"}}
	if !reflect.DeepEqual(ca.Alert, want) {
		t.Errorf("got %+v\nwant %+v", ca.Alert, want)
	}
	ca, err = parseAlertCreate([]string{"a", "/x"}, alertFlags{}, false, false)
	if err != nil || ca.Alert.Select != nil || ca.Alert.Params != nil {
		t.Errorf("plain create: %+v, %v", ca, err)
	}
	for _, tt := range []struct{ args, want string }{
		{"a", "want ID PATH"},
		{"path=/x id=a", "want ID PATH"},
		{"1a /x", `bad alert id "1a"`},
		{"a x.sh", `path "x.sh" is not absolute`},
		{"a /x color=red", `unknown option "color"`},
		{"a /x options debug", `expected key=value, options or meta, got "debug"`},
		{"a /x meta timeout=", `"timeout" has an empty value`},
	} {
		if _, err := parseAlertCreate(strings.Fields(tt.args), alertFlags{}, false, false); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestParseAlertUpdate(t *testing.T) {
	u, err := parseAlertUpdate(strings.Fields("a path=/y description= options debug= level=2 meta enabled=false"), alertFlags{}, true, false)
	if err != nil {
		t.Fatal(err)
	}
	want := &cib.UpdateAlert{ID: "a", Path: "/y", Description: new(string),
		Params: cib.Patch{Set: map[string]string{"level": "2"}, Unset: []string{"debug"}},
		Meta:   cib.Patch{Set: map[string]string{"enabled": "false"}}, Select: &[]string{}}
	if !reflect.DeepEqual(u, want) {
		t.Errorf("got %+v\nwant %+v", u, want)
	}
	for _, tt := range []struct{ args, want string }{
		{"", "give the alert id"},
		{"a", "nothing to update"},
		{"a path=rel", "is not absolute"},
		{"a value=x", `unknown option "value"`},
	} {
		if _, err := parseAlertUpdate(strings.Fields(tt.args), alertFlags{}, false, false); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestParseRecipient(t *testing.T) {
	taken := func(id string) bool { return id == "a-recipient" }
	for _, tt := range []struct {
		args string
		want cib.AddRecipient
	}{
		{"a r1 value=x@example.com", cib.AddRecipient{Alert: "a", Recipient: cib.Recipient{ID: "r1", Value: "x@example.com"}}},
		{"a value=/log description=d options o=1 meta timeout=2s", cib.AddRecipient{Alert: "a", Recipient: cib.Recipient{ID: "a-recipient-1",
			Value: "/log", Description: "d", Params: map[string]string{"o": "1"}, Meta: map[string]string{"timeout": "2s"}}}},
		{"a value=v id=mine", cib.AddRecipient{Alert: "a", Recipient: cib.Recipient{ID: "mine", Value: "v"}}},
	} {
		got, err := parseRecipientAdd(strings.Fields(tt.args), taken)
		if err != nil || !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("%q: got %+v, %v\nwant %+v", tt.args, got, err, tt.want)
		}
	}
	for _, tt := range []struct{ args, want string }{
		{"a", "want ALERT-ID [RECIPIENT-ID] value=VALUE"},
		{"a r1", "a recipient needs value=VALUE"},
		{"a r1 value=v id=r2", "give its id once"},
		{"a r1 value=v nope", `expected key=value, options or meta, got "nope"`},
		{"a r1 vale=v", `unknown option "vale"`},
	} {
		if _, err := parseRecipientAdd(strings.Fields(tt.args), nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.args, err, tt.want)
		}
	}
	u, err := parseRecipientUpdate(strings.Fields("r1 value=y description=z meta timeout="))
	if err != nil || u.Value != "y" || *u.Description != "z" || !reflect.DeepEqual(u.Meta.Unset, []string{"timeout"}) {
		t.Errorf("update: %+v, %v", u, err)
	}
	for _, args := range []string{"r1", "r1 value=", "value=x"} {
		if _, err := parseRecipientUpdate(strings.Fields(args)); err == nil {
			t.Errorf("%q: accepted", args)
		}
	}
}

// The alert commands against a real agent.
func TestCLIAlerts(t *testing.T) {
	a := startAgent(t)
	if out := a.ok(t, "alert"); !strings.Contains(out, "No alerts defined") {
		t.Fatalf("empty list: %s", out)
	}
	a.ok(t, "alert", "create", "file", "/usr/local/bin/alert_file.sh", "description=event log",
		"options", "debug_exec_order=false", "meta", "timeout=15s", "--select", "nodes,resources")
	out := a.ok(t, "alert", "recipient", "add", "file", "value=/var/log/alerts.log")
	contains(t, "recipient add", out, "Added recipient 'file-recipient'")
	a.ok(t, "alert", "recipient", "add", "file", "second", "value=/var/log/other.log", "meta", "enabled=false")
	out = a.ok(t, "alert", "list")
	contains(t, "alert list", out, "Alert: file (path=/usr/local/bin/alert_file.sh)", "Description: event log",
		"Select: nodes resources", "Options: debug_exec_order=false", "Meta options: timeout=15s",
		"Recipient: file-recipient (value=/var/log/alerts.log)", "Recipient: second (value=/var/log/other.log)", "Meta options: enabled=false")

	a.ok(t, "alert", "update", "file", "meta", "timestamp-format=%F %T", "timeout=", "--select=")
	a.ok(t, "alert", "recipient", "update", "second", "value=/var/log/third.log", "meta", "enabled=")
	var as []cib.Alert
	a.json(t, &as, "alert", "list")
	want := []cib.Alert{{ID: "file", Path: "/usr/local/bin/alert_file.sh", Description: "event log",
		Params: map[string]string{"debug_exec_order": "false"}, Meta: map[string]string{"timestamp-format": "%F %T"},
		Recipients: []cib.Recipient{{ID: "file-recipient", Value: "/var/log/alerts.log"}, {ID: "second", Value: "/var/log/third.log"}}}}
	if !reflect.DeepEqual(as, want) {
		t.Fatalf("alerts:\ngot  %+v\nwant %+v", as, want)
	}

	a.fails(t, 2, `path "x.sh" is not absolute`, "alert", "create", "a2", "x.sh")
	a.fails(t, 1, `alerts[a2].meta[timout]: unknown alert meta attribute`, "alert", "create", "a2", "/bin/true", "meta", "timout=1s")
	a.fails(t, 1, `alerts[a2].select[0]: unknown event kind "node"`, "alert", "create", "a2", "/bin/true", "--select", "node")
	a.fails(t, 1, `id "second" is already used by an alert recipient`, "alert", "create", "second", "/bin/true")
	a.fails(t, 1, `value "/var/log/alerts.log" is already recipient "file-recipient"'s`, "alert", "recipient", "add", "file", "r3", "value=/var/log/alerts.log")
	a.fails(t, 1, `unknown alert "nope"`, "alert", "delete", "nope")

	out = a.ok(t, "alert", "recipient", "remove", "second", "file-recipient")
	contains(t, "recipient remove", out, "Removed recipient 'second'", "Removed recipient 'file-recipient'", "has no recipient left")
	out = a.ok(t, "alert", "delete", "file")
	contains(t, "alert delete", out, "Deleted alert 'file'")
	if c := a.config(t); len(c.Alerts) != 0 {
		t.Fatalf("alerts left: %+v", c.Alerts)
	}
}
