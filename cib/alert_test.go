package cib

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// baseAlerts are the alerts of baseConfig: one alert with one recipient.
func baseAlerts() []Alert {
	return []Alert{{ID: "page", Path: "/usr/local/bin/alert_smtp.sh", Description: "page the operators",
		Params: map[string]string{"email_sender": "ha@example.com"}, Meta: map[string]string{"timeout": "15s"},
		Recipients: []Recipient{{ID: "page-ops", Value: "ops@example.com"}}}}
}

// alertCommandCases are the alert commands' cases of TestCommandApply (on
// baseConfig, which has baseAlerts).
func alertCommandCases() []commandCase {
	file := func(id string) Alert { return Alert{ID: id, Path: "/var/lib/paceline/alert_file.sh"} }
	with := func(a Alert, f func(a *Alert)) Alert { f(&a); return a }
	create := func(a Alert) Command { return &CreateAlert{Alert: a} }
	return []commandCase{
		// CreateAlert
		{name: "alert/create", cmd: create(file("log")), check: func(t *testing.T, c *Config) {
			a := c.Alert("log")
			if a == nil || a.Path != "/var/lib/paceline/alert_file.sh" || !a.Selects(SelectNodes) || a.Selects(SelectAttributes) {
				t.Errorf("alert = %+v", a)
			}
		}},
		{name: "alert/create-full", cmd: create(Alert{ID: "snmp", Path: "/usr/share/pacemaker/alerts/alert_snmp.sh",
			Params: map[string]string{"trap_version": "2c"}, Meta: map[string]string{"timestamp-format": "%Y-%m-%d,%H:%M:%S.%01N", "enabled": "true"},
			Select: []string{"attributes", "fencing"}, SelectAttributes: []string{"standby", "pingd"},
			Recipients: []Recipient{{ID: "snmp-a", Value: "192.0.2.1", Meta: map[string]string{"timeout": "5s"}}, {ID: "snmp-b", Value: "192.0.2.2"}}}),
			check: func(t *testing.T, c *Config) {
				a := c.Alert("snmp")
				if a == nil || len(a.Recipients) != 2 || !a.SelectsAttribute("pingd") || a.SelectsAttribute("shutdown") || a.Selects(SelectNodes) {
					t.Errorf("alert = %+v", a)
				}
				if al, r := c.Recipient("snmp-a"); al != a || a.Timeout(r) != 5*time.Second || a.Timeout(nil) != 30*time.Second {
					t.Errorf("recipient timeout %v", a.Timeout(r))
				}
			}},
		{name: "alert/create-relative-path", cmd: create(Alert{ID: "a1", Path: "alert.sh"}),
			wantErr: `alerts[a1].path: path "alert.sh" is not absolute`, object: "a1"},
		{name: "alert/create-no-path", cmd: create(Alert{ID: "a1"}), wantErr: "alerts[a1].path: the path of the alert agent is required", object: "a1"},
		{name: "alert/create-dir-path", cmd: create(Alert{ID: "a1", Path: "/usr/bin/"}), wantErr: `alerts[a1].path: path "/usr/bin/" does not name a file`, object: "a1"},
		{name: "alert/create-id-of-primitive", cmd: create(file("web")), wantErr: `alert "web": id "web" is already used by a primitive`, object: "web"},
		{name: "alert/create-id-of-alert", cmd: create(file("page")), wantErr: `alert "page": id "page" is already used by an alert`, object: "page"},
		{name: "alert/create-id-of-recipient", cmd: create(file("page-ops")), wantErr: `id "page-ops" is already used by an alert recipient`, object: "page-ops"},
		{name: "alert/create-recipient-id-of-its-alert", cmd: create(with(file("a1"), func(a *Alert) { a.Recipients = []Recipient{{ID: "a1", Value: "x"}} })),
			wantErr: `alert "a1": recipient "a1": id "a1" is already used by an alert`, object: "a1"},
		{name: "alert/create-recipient-twice", cmd: create(with(file("a1"), func(a *Alert) { a.Recipients = []Recipient{{ID: "r", Value: "x"}, {ID: "r", Value: "y"}} })),
			wantErr: `recipient "r": id "r" is already used by an alert recipient`, object: "r"},
		{name: "alert/create-bad-id", cmd: create(file("1a")), wantErr: `id "1a" must start with a letter`, object: "1a"},
		{name: "alert/create-bad-timeout", cmd: create(with(file("a1"), func(a *Alert) { a.Meta = map[string]string{"timeout": "soon"} })),
			wantErr: `alerts[a1].meta[timeout]: "soon" is not a duration`, object: "a1"},
		{name: "alert/create-unknown-meta", cmd: create(with(file("a1"), func(a *Alert) { a.Meta = map[string]string{"timout": "5s"} })),
			wantErr: `alerts[a1].meta[timout]: unknown alert meta attribute (want timeout, timestamp-format or enabled); did you mean "timeout"?`, object: "a1"},
		{name: "alert/create-bad-enabled", cmd: create(with(file("a1"), func(a *Alert) { a.Meta = map[string]string{"enabled": "maybe"} })),
			wantErr: `alerts[a1].meta[enabled]: "maybe" is not a boolean`, object: "a1"},
		{name: "alert/create-bad-timestamp-format", cmd: create(with(file("a1"), func(a *Alert) { a.Meta = map[string]string{"timestamp-format": "%H:%Q"} })),
			wantErr: `alerts[a1].meta[timestamp-format]: timestamp-format "%H:%Q": unknown conversion %Q`, object: "a1"},
		{name: "alert/create-bad-select", cmd: create(with(file("a1"), func(a *Alert) { a.Select = []string{"node"} })),
			wantErr: `alerts[a1].select[0]: unknown event kind "node" (want nodes, resources, fencing or attributes)`, object: "a1"},
		{name: "alert/create-select-twice", cmd: create(with(file("a1"), func(a *Alert) { a.Select = []string{"nodes", "nodes"} })),
			wantErr: `alerts[a1].select[1]: "nodes" is listed twice`, object: "a1"},
		{name: "alert/create-attribute-names-unselected", cmd: create(with(file("a1"), func(a *Alert) { a.SelectAttributes = []string{"pingd"} })),
			wantErr: "alerts[a1].select-attributes: attribute names are given but attributes are not selected", object: "a1"},
		{name: "alert/create-bad-attribute-name", cmd: create(with(file("a1"), func(a *Alert) {
			a.Select, a.SelectAttributes = []string{"attributes"}, []string{"a b"}
		})), wantErr: `alerts[a1].select-attributes[0]: attribute name "a b" has a bad character`, object: "a1"},
		{name: "alert/create-param-hides-event", cmd: create(with(file("a1"), func(a *Alert) { a.Params = map[string]string{"CRM_alert_node": "x"} })),
			wantErr: `alerts[a1].params[CRM_alert_node]: "CRM_alert_node" would hide the event's own variable`, object: "a1"},
		{name: "alert/create-param-bad-name", cmd: create(with(file("a1"), func(a *Alert) { a.Params = map[string]string{"a=b": "x"} })),
			wantErr: `parameter name "a=b" must not contain '='`, object: "a1"},
		{name: "alert/create-recipient-no-value", cmd: create(with(file("a1"), func(a *Alert) { a.Recipients = []Recipient{{ID: "r1"}} })),
			wantErr: "alerts[a1].recipients[r1].value: a recipient needs a value", object: "r1"},
		{name: "alert/create-recipient-bad-meta", cmd: create(with(file("a1"), func(a *Alert) {
			a.Recipients = []Recipient{{ID: "r1", Value: "x", Meta: map[string]string{"timeout": "-1s"}}}
		})), wantErr: `alerts[a1].recipients[r1].meta[timeout]: "-1s" is not a duration`, object: "r1"},
		{name: "alert/create-primitive-with-alert-id", cmd: &CreatePrimitive{Primitive: Primitive{ID: "page", Agent: "lsb:cron"}},
			wantErr: `id "page" is already used by an alert`, object: "page"},
		{name: "alert/constraint-with-recipient-id", cmd: &AddConstraint{Location: &Location{ID: "page-ops", Rsc: "web", Node: "n1"}},
			wantErr: `alerts[page].recipients[page-ops]: duplicate id "page-ops": already used by a location constraint`, object: "page-ops"},
		{name: "alert/constraint-on-alert", cmd: &AddConstraint{Location: &Location{ID: "l9", Rsc: "page", Node: "n1"}},
			wantErr: `constraints.location[l9].rsc: unknown resource "page"`, object: "l9"},

		// UpdateAlert
		{name: "alert/update", cmd: &UpdateAlert{ID: "page", Path: "/opt/alert.sh", Description: ptr(""),
			Params: Patch{Set: map[string]string{"email_client": "mailx"}, Unset: []string{"email_sender"}},
			Meta:   Patch{Unset: []string{"timeout"}}, Select: &[]string{"nodes"}},
			check: func(t *testing.T, c *Config) {
				a := c.Alert("page")
				want := Alert{ID: "page", Path: "/opt/alert.sh", Params: map[string]string{"email_client": "mailx"},
					Select: []string{"nodes"}, Recipients: []Recipient{{ID: "page-ops", Value: "ops@example.com"}}}
				if !reflect.DeepEqual(*a, want) {
					t.Errorf("alert = %+v, want %+v", *a, want)
				}
			}},
		{name: "alert/update-reset-select", cmd: &UpdateAlert{ID: "page", Select: &[]string{}}, check: func(t *testing.T, c *Config) {
			if a := c.Alert("page"); a.Select != nil || !a.Selects(SelectResources) {
				t.Errorf("select = %q", a.Select)
			}
		}},
		{name: "alert/update-unknown", cmd: &UpdateAlert{ID: "nope", Path: "/x"}, wantErr: `unknown alert "nope"`, object: "nope"},
		{name: "alert/update-nothing", cmd: &UpdateAlert{ID: "page"}, wantErr: `alert "page": nothing to change`, object: "page"},
		{name: "alert/update-relative-path", cmd: &UpdateAlert{ID: "page", Path: "bin/x"}, wantErr: `alerts[page].path: path "bin/x" is not absolute`, object: "page"},
		{name: "alert/update-bad-select", cmd: &UpdateAlert{ID: "page", Select: &[]string{"everything"}},
			wantErr: `alerts[page].select[0]: unknown event kind "everything"`, object: "page"},

		// DeleteAlert
		{name: "alert/delete", cmd: &DeleteAlert{ID: "page"}, notes: []string{`removed recipient "page-ops"`},
			check: func(t *testing.T, c *Config) {
				if len(c.Alerts) != 0 {
					t.Errorf("alerts = %+v", c.Alerts)
				}
			}},
		{name: "alert/delete-unknown", cmd: &DeleteAlert{ID: "nope"}, wantErr: `unknown alert "nope"`, object: "nope"},
		{name: "alert/delete-recipient", cmd: &DeleteAlert{ID: "page-ops"},
			wantErr: `unknown alert "page-ops": it is a recipient of alert "page"`, object: "page-ops"},

		// AddRecipient
		{name: "recipient/add", cmd: &AddRecipient{Alert: "page", Recipient: Recipient{ID: "page-dev", Value: "dev@example.com",
			Params: map[string]string{"email_client": "mutt"}, Meta: map[string]string{"enabled": "false"}}},
			check: func(t *testing.T, c *Config) {
				a, r := c.Recipient("page-dev")
				if a == nil || a.ID != "page" || r.Value != "dev@example.com" || a.Enabled(r) || !a.Enabled(nil) {
					t.Errorf("recipient %+v of %+v", r, a)
				}
			}},
		{name: "recipient/add-unknown-alert", cmd: &AddRecipient{Alert: "nope", Recipient: Recipient{ID: "r1", Value: "x"}},
			wantErr: `recipient "r1": unknown alert "nope"`, object: "nope"},
		{name: "recipient/add-taken-id", cmd: &AddRecipient{Alert: "page", Recipient: Recipient{ID: "vip", Value: "x"}},
			wantErr: `alert "page": recipient "vip": id "vip" is already used by a primitive`, object: "vip"},
		{name: "recipient/add-same-value", cmd: &AddRecipient{Alert: "page", Recipient: Recipient{ID: "r2", Value: "ops@example.com"}},
			wantErr: `alerts[page].recipients[r2].value: value "ops@example.com" is already recipient "page-ops"'s`, object: "r2"},
		{name: "recipient/add-no-value", cmd: &AddRecipient{Alert: "page", Recipient: Recipient{ID: "r2"}},
			wantErr: "alerts[page].recipients[r2].value: a recipient needs a value", object: "r2"},

		// UpdateRecipient
		{name: "recipient/update", cmd: &UpdateRecipient{ID: "page-ops", Value: "oncall@example.com", Description: ptr("on call"),
			Meta: Patch{Set: map[string]string{"timestamp-format": "%F %T"}}},
			check: func(t *testing.T, c *Config) {
				want := Recipient{ID: "page-ops", Value: "oncall@example.com", Description: "on call", Meta: map[string]string{"timestamp-format": "%F %T"}}
				if _, r := c.Recipient("page-ops"); !reflect.DeepEqual(*r, want) {
					t.Errorf("recipient = %+v, want %+v", *r, want)
				}
			}},
		{name: "recipient/update-unknown", cmd: &UpdateRecipient{ID: "nope", Value: "x"}, wantErr: `unknown alert recipient "nope"`, object: "nope"},
		{name: "recipient/update-nothing", cmd: &UpdateRecipient{ID: "page-ops"}, wantErr: `recipient "page-ops": nothing to change`, object: "page-ops"},
		{name: "recipient/update-bad-meta", cmd: &UpdateRecipient{ID: "page-ops", Meta: Patch{Set: map[string]string{"timestamp-format": "%5S"}}},
			wantErr: `alerts[page].recipients[page-ops].meta[timestamp-format]: timestamp-format "%5S": a width is allowed only with %N`, object: "page-ops"},

		// RemoveRecipient
		{name: "recipient/remove", cmd: &RemoveRecipient{ID: "page-ops"},
			notes: []string{`alert "page" has no recipient left: its agent now runs once per event, without one`},
			check: func(t *testing.T, c *Config) {
				if a := c.Alert("page"); a == nil || a.Recipients != nil {
					t.Errorf("alert = %+v", a)
				}
			}},
		{name: "recipient/remove-unknown", cmd: &RemoveRecipient{ID: "nope"}, wantErr: `unknown alert recipient "nope"`, object: "nope"},
		{name: "recipient/remove-alert", cmd: &RemoveRecipient{ID: "page"}, wantErr: `unknown alert recipient "page": it is an alert`, object: "page"},
	}
}

// alertSampleCommands has one filled-in command of every alert type (for
// the codec round trip and the command fuzzer's seeds).
func alertSampleCommands() []Command {
	return []Command{
		&CreateAlert{Alert: Alert{ID: "a", Path: "/usr/local/bin/a.sh", Description: "d", Params: map[string]string{"k": "v"},
			Meta: map[string]string{"timeout": "5s"}, Select: []string{"attributes"}, SelectAttributes: []string{"pingd"},
			Recipients: []Recipient{{ID: "r", Value: "x", Description: "e", Params: map[string]string{"k": "w"}, Meta: map[string]string{"enabled": "no"}}}}},
		&UpdateAlert{ID: "a", Path: "/b.sh", Description: ptr("new"), Params: Patch{Set: map[string]string{"k": "1"}, Unset: []string{"j"}},
			Meta: Patch{Unset: []string{"timeout"}}, Select: &[]string{"nodes", "fencing"}, SelectAttributes: &[]string{"standby"}},
		&DeleteAlert{ID: "a"},
		&AddRecipient{Alert: "a", Recipient: Recipient{ID: "r2", Value: "y", Meta: map[string]string{"timeout": "1s"}}},
		&UpdateRecipient{ID: "r2", Value: "z", Description: ptr(""), Params: Patch{Set: map[string]string{"p": "q"}}, Meta: Patch{Unset: []string{"timeout"}}},
		&RemoveRecipient{ID: "r2"},
	}
}

// alertsYAML is a configuration with every alert field.
const alertsYAML = `
primitives:
  - {id: web, agent: "ocf:heartbeat:nginx"}
alerts:
  - id: file
    path: /var/lib/paceline/alert_file.sh
    description: a log of events
    params: {debug_exec_order: "false"}
    meta: {timeout: 10s, timestamp-format: "%Y-%m-%d %H:%M:%S.%03N %:z"}
    recipients:
      - {id: file-log, value: /var/log/cluster-alerts.log}
      - id: file-other
        value: /var/log/other.log
        description: second copy
        params: {debug_exec_order: "true"}
        meta: {enabled: "false"}
  - id: attrs
    path: /usr/local/bin/attrs.sh
    select: [attributes]
    select-attributes: [pingd, standby]
  - {id: bare, path: /bin/true}
`

func TestAlertsDecodeValidateRoundTrip(t *testing.T) {
	c, err := DecodeYAML([]byte(alertsYAML))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c)
	want := []Alert{
		{ID: "file", Path: "/var/lib/paceline/alert_file.sh", Description: "a log of events",
			Params: map[string]string{"debug_exec_order": "false"},
			Meta:   map[string]string{"timeout": "10s", "timestamp-format": "%Y-%m-%d %H:%M:%S.%03N %:z"},
			Recipients: []Recipient{{ID: "file-log", Value: "/var/log/cluster-alerts.log"},
				{ID: "file-other", Value: "/var/log/other.log", Description: "second copy",
					Params: map[string]string{"debug_exec_order": "true"}, Meta: map[string]string{"enabled": "false"}}}},
		{ID: "attrs", Path: "/usr/local/bin/attrs.sh", Select: []string{"attributes"}, SelectAttributes: []string{"pingd", "standby"}},
		{ID: "bare", Path: "/bin/true"},
	}
	if !reflect.DeepEqual(c.Alerts, want) {
		t.Errorf("alerts:\ngot  %+v\nwant %+v", c.Alerts, want)
	}
	// A clone is deep: changing it leaves the original alone.
	cl := c.Clone()
	cl.Alerts[0].Params["x"] = "y"
	cl.Alerts[0].Recipients[1].Meta["enabled"] = "true"
	cl.Alerts[1].SelectAttributes[0] = "z"
	if !reflect.DeepEqual(c.Alerts, want) {
		t.Errorf("Clone shares alert data with the original")
	}
	// Empty lists and maps normalize away, so they round-trip.
	c.Alerts[2].Params, c.Alerts[2].Select, c.Alerts[2].Recipients = map[string]string{}, []string{}, []Recipient{}
	c.Normalize()
	roundTrip(t, c)
}

func TestAlertsDecodeErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"alerts: [{id: a, path: /x, pathh: /y}]", "field pathh not found in type cib.Alert"},
		{"alerts: [{id: a, path: /x, recipients: [{id: r, value: v, valu: w}]}]", "field valu not found in type cib.Recipient"},
		{"alerts: [{id: a, path: /x, select: nodes}]", "cannot unmarshal !!str `nodes` into []string"},
	} {
		if _, err := DecodeYAML([]byte(tt.in)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.in, err, tt.want)
		}
	}
	if _, err := DecodeJSON([]byte(`{"alerts": [{"id": "a", "path": "/x", "recipient": []}]}`)); err == nil ||
		!strings.Contains(err.Error(), `unknown field "recipient"`) {
		t.Errorf("JSON unknown field: %v", err)
	}
}

// TestAlertsValidateEveryProblem: one bad configuration, every problem
// reported with its path.
func TestAlertsValidateEveryProblem(t *testing.T) {
	c, err := DecodeYAML([]byte(`
primitives: [{id: web, agent: "lsb:nginx"}]
alerts:
  - {id: web, path: relative/x.sh}
  - id: a2
    path: /x.sh
    meta: {timeout: 5 sec, enabled: "yes", timestamp-format: "%H %"}
    select: [nodes, bogus]
    recipients:
      - {id: r1, value: v}
      - {id: r1, value: v}
      - {id: a2, value: w, params: {CRM_alert_kind: x}}
`))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Validate()
	want := []string{
		`alerts[web]: duplicate id "web": already used by a primitive`,
		`alerts[web].path: path "relative/x.sh" is not absolute`,
		`alerts[a2].meta[timeout]: "5 sec" is not a duration`,
		`alerts[a2].meta[timestamp-format]: timestamp-format "%H %" ends inside a conversion`,
		`alerts[a2].select[1]: unknown event kind "bogus"`,
		`alerts[a2].recipients[r1]: duplicate id "r1": already used by an alert recipient`,
		`alerts[a2].recipients[r1].value: value "v" is already recipient "r1"'s`,
		`alerts[a2].recipients[a2]: duplicate id "a2": already used by an alert`,
		`alerts[a2].recipients[a2].params[CRM_alert_kind]: "CRM_alert_kind" would hide`,
	}
	if err == nil {
		t.Fatal("validated")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("problem %d:\ngot  %s\nwant %s...", i, lines[i], w)
		}
	}
}

func TestAlertDefaults(t *testing.T) {
	a := &Alert{ID: "a", Path: "/x"}
	for _, k := range []string{SelectNodes, SelectResources, SelectFencing} {
		if !a.Selects(k) {
			t.Errorf("default select lacks %s", k)
		}
	}
	if a.Selects(SelectAttributes) || a.SelectsAttribute("pingd") {
		t.Error("attributes are selected by default")
	}
	if a.Timeout(nil) != 30*time.Second || a.AlertMeta(nil, "timestamp-format") != "%H:%M:%S.%06N" || !a.Enabled(nil) {
		t.Errorf("defaults: %v %q %v", a.Timeout(nil), a.AlertMeta(nil, "timestamp-format"), a.Enabled(nil))
	}
	a.Meta = map[string]string{"timeout": "0", "enabled": "off"}
	r := &Recipient{ID: "r", Value: "v", Meta: map[string]string{"enabled": "true", "timeout": "PT2S"}}
	if a.Timeout(nil) != 30*time.Second || a.Timeout(r) != 2*time.Second {
		t.Errorf("timeouts %v %v", a.Timeout(nil), a.Timeout(r))
	}
	if a.Enabled(nil) || a.Enabled(r) {
		t.Error("a disabled alert's recipient may not turn it back on")
	}
	a.Select = []string{SelectAttributes}
	if !a.SelectsAttribute("anything") || a.Selects(SelectNodes) {
		t.Error("select attributes with no names")
	}
}

func TestTimestampFormatProblem(t *testing.T) {
	for f, want := range map[string]string{
		"%H:%M:%S.%06N":             "",
		"%Y-%m-%dT%H:%M:%S%:z %Z%%": "",
		"%a %b %e %1N %N %c %s %j":  "",
		"":                          "is empty",
		"%":                         "ends inside a conversion",
		"%7N":                       "%N takes 1 to 6 digits",
		"%0N":                       "%N takes 1 to 6 digits",
		"%E":                        "unknown conversion %E",
		"%2H":                       "a width is allowed only with %N",
	} {
		got := timestampFormatProblem(f)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("timestampFormatProblem(%q) = %q, want %q", f, got, want)
		}
	}
	if err := ValidateAlertMeta("timeout", "x"); err == nil || !strings.Contains(err.Error(), `alert meta attribute "timeout"`) {
		t.Errorf("ValidateAlertMeta: %v", err)
	}
}

// TestDocsListAlertNames keeps docs/configuration.md in step: every alert
// meta attribute and select kind is documented.
func TestDocsListAlertNames(t *testing.T) {
	b, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	if !strings.Contains(doc, "## Alerts") {
		t.Error("docs/configuration.md has no Alerts section")
	}
	names := slices.Concat(selectKinds, []string{"select-attributes", "recipients"})
	for name := range AlertMetaDefs {
		names = append(names, name)
	}
	for _, name := range names {
		if !strings.Contains(doc, "`"+name+"`") {
			t.Errorf("docs/configuration.md does not document %q", name)
		}
	}
}

// FuzzDecodeAlertsYAML is FuzzDecodeYAML seeded with alert configurations.
func FuzzDecodeAlertsYAML(f *testing.F) {
	f.Add([]byte(alertsYAML))
	f.Add([]byte("alerts: [{id: a, path: /x, meta: {timestamp-format: \"%3N\"}, recipients: [{id: r, value: \"\\n\"}]}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeYAML(b)
		checkConfigDecode(t, c, err)
	})
}
