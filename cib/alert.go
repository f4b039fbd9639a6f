package cib

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The kinds of event an alert may select ("Pacemaker Explained", Alert
// Filters: select_nodes, select_resources, select_fencing,
// select_attributes).
const (
	SelectNodes      = "nodes"
	SelectResources  = "resources"
	SelectFencing    = "fencing"
	SelectAttributes = "attributes"
)

// selectKinds lists every kind an alert may select, and defaultSelect
// those it receives when it selects none: everything but attributes, as
// in Pacemaker.
var (
	selectKinds   = []string{SelectNodes, SelectResources, SelectFencing, SelectAttributes}
	defaultSelect = []string{SelectNodes, SelectResources, SelectFencing}
)

// The alert defaults of "Pacemaker Explained", Alert Meta-Attributes.
const (
	DefaultAlertTimeout         = 30 * time.Second
	DefaultAlertTimestampFormat = "%H:%M:%S.%06N"
)

// TimestampConversions are the conversion characters a timestamp-format
// may use after '%': those of strftime(3) and date(1) that the alerts
// package implements, and Pacemaker's %N (fractional seconds, the width
// 1 to 6 digits, e.g. %3N for milliseconds; default 6).
const TimestampConversions = "aAbBcCdDeFgGhHIjklmMnNpPrRsStTuVwxXyYzZ%"

// AlertMetaDefs lists the meta attributes of alerts and recipients, after
// "Pacemaker Explained", Alert Meta-Attributes. It is a read-only table.
var AlertMetaDefs = map[string]MetaDef{
	"timeout": {Type: ValueDuration, Default: "30s",
		Description: "the agent is killed (SIGTERM, then SIGKILL, with its process group) if it runs longer; 0 means the default"},
	"timestamp-format": {Type: ValueString, Default: DefaultAlertTimestampFormat,
		Description: "how CRM_alert_timestamp is written: strftime conversions, and %N (%1N-%6N) for fractions of a second"},
	"enabled": {Type: ValueBool, Default: "true",
		Description: "false turns an alert (with all its recipients) or one recipient off"},
}

// Alert returns the alert with this id, or nil.
func (c *Config) Alert(id string) *Alert {
	for i := range c.Alerts {
		if c.Alerts[i].ID == id {
			return &c.Alerts[i]
		}
	}
	return nil
}

// Recipient returns the recipient with this id and its alert, or nils.
func (c *Config) Recipient(id string) (*Alert, *Recipient) {
	for i := range c.Alerts {
		a := &c.Alerts[i]
		for j := range a.Recipients {
			if a.Recipients[j].ID == id {
				return a, &a.Recipients[j]
			}
		}
	}
	return nil, nil
}

// Selects reports whether the alert receives events of kind (one of the
// Select* names): those it selects, or by default every kind but
// attributes.
func (a *Alert) Selects(kind string) bool {
	if len(a.Select) == 0 {
		return slices.Contains(defaultSelect, kind)
	}
	return slices.Contains(a.Select, kind)
}

// SelectsAttribute reports whether the alert receives a change of the
// named transient attribute.
func (a *Alert) SelectsAttribute(name string) bool {
	return a.Selects(SelectAttributes) && (len(a.SelectAttributes) == 0 || slices.Contains(a.SelectAttributes, name))
}

// AlertMeta returns the value of an alert meta attribute for one
// recipient (nil for none): the recipient's, else the alert's, else the
// default.
func (a *Alert) AlertMeta(r *Recipient, name string) string {
	if r != nil {
		if v, ok := r.Meta[name]; ok {
			return v
		}
	}
	if v, ok := a.Meta[name]; ok {
		return v
	}
	return AlertMetaDefs[name].Default
}

// Timeout is the alert's timeout for one recipient (nil for none); a
// missing, bad or zero value gives the default.
func (a *Alert) Timeout(r *Recipient) time.Duration {
	d, err := ParseDuration(a.AlertMeta(r, "timeout"))
	if err != nil || d <= 0 {
		return DefaultAlertTimeout
	}
	return d.D()
}

// Enabled reports whether the alert runs for one recipient (nil for
// none): neither the alert nor the recipient has enabled=false. A
// disabled alert stays disabled whatever its recipients say.
func (a *Alert) Enabled(r *Recipient) bool {
	if v, ok := a.Meta["enabled"]; ok {
		if on, err := ParseBool(v); err == nil && !on {
			return false
		}
	}
	if r != nil {
		if v, ok := r.Meta["enabled"]; ok {
			if on, err := ParseBool(v); err == nil && !on {
				return false
			}
		}
	}
	return true
}

func cloneAlerts(as []Alert) []Alert {
	out := slices.Clone(as)
	for i := range out {
		a := &out[i]
		a.Params, a.Meta = maps.Clone(a.Params), maps.Clone(a.Meta)
		a.Select, a.SelectAttributes = slices.Clone(a.Select), slices.Clone(a.SelectAttributes)
		a.Recipients = slices.Clone(a.Recipients)
		for j := range a.Recipients {
			r := &a.Recipients[j]
			r.Params, r.Meta = maps.Clone(r.Params), maps.Clone(r.Meta)
		}
	}
	return out
}

// normalizeAlerts puts empty lists and maps of the alerts to nil (see
// Normalize).
func (c *Config) normalizeAlerts() {
	c.Alerts = nilIfNone(c.Alerts)
	for i := range c.Alerts {
		a := &c.Alerts[i]
		a.Params, a.Meta = nilIfEmpty(a.Params), nilIfEmpty(a.Meta)
		a.Select, a.SelectAttributes = nilIfNone(a.Select), nilIfNone(a.SelectAttributes)
		a.Recipients = nilIfNone(a.Recipients)
		for j := range a.Recipients {
			r := &a.Recipients[j]
			r.Params, r.Meta = nilIfEmpty(r.Params), nilIfEmpty(r.Meta)
		}
	}
}

// alertIDUser says what among the alerts has id: "an alert", "an alert
// recipient", or "".
func (c *Config) alertIDUser(id string) string {
	if c.Alert(id) != nil {
		return "an alert"
	}
	if _, r := c.Recipient(id); r != nil {
		return "an alert recipient"
	}
	return ""
}

// checkAlerts checks the alerts section. Alert and recipient ids share the
// one id namespace of resources, constraints and fence devices (XML ids,
// as in the CIB); it runs after every other check, so that a constraint
// naming an alert is told of an unknown resource.
func (v *validator) checkAlerts() {
	record := func(path, what, id string) {
		if why := idProblem(id); why != "" {
			v.add(path+".id", "%s", why)
			return
		}
		if prev, dup := v.owner[id]; dup {
			art := "a"
			if strings.HasPrefix(prev, "alert") {
				art = "an"
			}
			v.add(path, "duplicate id %q: already used by %s %s", id, art, prev)
			return
		}
		v.owner[id] = what
	}
	for i := range v.c.Alerts {
		a := &v.c.Alerts[i]
		path := elem("alerts", a.ID, i)
		record(path, "alert", a.ID)
		switch {
		case a.Path == "":
			v.add(path+".path", "the path of the alert agent is required")
		case textProblem(a.Path) != "":
			v.add(path+".path", "%s", textProblem(a.Path))
		case !filepath.IsAbs(a.Path):
			v.add(path+".path", "path %q is not absolute: give the agent's full path, e.g. /usr/local/bin/alert.sh", a.Path)
		case strings.ContainsAny(a.Path, "\n\r") || strings.HasSuffix(a.Path, "/"):
			v.add(path+".path", "path %q does not name a file", a.Path)
		}
		v.checkText(path+".description", a.Description)
		v.checkAlertParams(path+".params", a.Params)
		v.checkAlertMeta(path+".meta", a.Meta)
		v.checkSelect(path, a)
		values := map[string]string{}
		for j := range a.Recipients {
			r := &a.Recipients[j]
			rpath := path + "." + elem("recipients", r.ID, j)
			record(rpath, "alert recipient", r.ID)
			// As pcs: the agent would run twice for one destination.
			if prev, dup := values[r.Value]; dup {
				v.add(rpath+".value", "value %q is already recipient %q's: one alert reaches one value once", r.Value, prev)
			} else if r.Value != "" {
				values[r.Value] = r.ID
			}
			if r.Value == "" {
				v.add(rpath+".value", "a recipient needs a value (an address, a file name, whatever the agent understands)")
			}
			v.checkText(rpath+".value", r.Value)
			v.checkText(rpath+".description", r.Description)
			v.checkAlertParams(rpath+".params", r.Params)
			v.checkAlertMeta(rpath+".meta", r.Meta)
		}
	}
}

// checkAlertParams checks instance attributes, which become environment
// variables of the agent: the CRM_alert_ names are the event's.
func (v *validator) checkAlertParams(path string, m map[string]string) {
	v.checkParams(path, m)
	for _, k := range sortedKeys(v, m) {
		if strings.HasPrefix(k, "CRM_alert_") {
			v.add(path+"["+key(k)+"]", "%q would hide the event's own variable: CRM_alert_* names are set by the cluster", k)
		}
	}
}

func (v *validator) checkAlertMeta(path string, m map[string]string) {
	for _, k := range sortedKeys(v, m) {
		if why := alertMetaProblem(k, m[k]); why != "" {
			v.add(path+"["+key(k)+"]", "%s", why)
		}
	}
}

// alertMetaProblem says why an alert or recipient meta attribute is
// refused, or "".
func alertMetaProblem(name, value string) string {
	def, ok := AlertMetaDefs[name]
	if !ok {
		return "unknown alert meta attribute (want timeout, timestamp-format or enabled)" + didYouMean(name, AlertMetaDefs)
	}
	if why := checkValue(def.Type, def.Values, nil, value); why != "" {
		return why
	}
	if name == "timestamp-format" {
		return timestampFormatProblem(value)
	}
	return ""
}

// ValidateAlertMeta checks one meta attribute of an alert or recipient.
func ValidateAlertMeta(name, value string) error {
	if why := alertMetaProblem(name, value); why != "" {
		return fmt.Errorf("alert meta attribute %q: %s", name, why)
	}
	return nil
}

// timestampFormatProblem says why a timestamp-format is refused: a '%'
// not followed by a known conversion (TimestampConversions), or "".
func timestampFormatProblem(f string) string {
	if f == "" {
		return "timestamp-format is empty (leave it out for the default " + DefaultAlertTimestampFormat + ")"
	}
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		j := i + 1
		if j < len(f) && f[j] == ':' && j+1 < len(f) && f[j+1] == 'z' {
			i = j + 1 // %:z, +hh:mm
			continue
		}
		for j < len(f) && '0' <= f[j] && f[j] <= '9' {
			j++
		}
		switch {
		case j == len(f):
			return fmt.Sprintf("timestamp-format %q ends inside a conversion", f)
		case strings.IndexByte(TimestampConversions, f[j]) < 0:
			return fmt.Sprintf("timestamp-format %q: unknown conversion %%%c (want one of %%%s)", f, f[j],
				strings.Join(strings.Split(TimestampConversions, ""), " %"))
		case j > i+1 && f[j] != 'N':
			return fmt.Sprintf("timestamp-format %q: a width is allowed only with %%N (fractions of a second)", f)
		case f[j] == 'N':
			if n, err := strconv.Atoi(f[i+1 : j]); j > i+1 && (err != nil || n < 1 || n > 6) {
				return fmt.Sprintf("timestamp-format %q: %%N takes 1 to 6 digits", f)
			}
		}
		i = j
	}
	return ""
}

func (v *validator) checkSelect(path string, a *Alert) {
	seen := map[string]bool{}
	for j, k := range a.Select {
		spath := path + ".select[" + strconv.Itoa(j) + "]"
		switch {
		case !slices.Contains(selectKinds, k):
			v.add(spath, "unknown event kind %q (want nodes, resources, fencing or attributes)", k)
		case seen[k]:
			v.add(spath, "%q is listed twice", k)
		}
		seen[k] = true
	}
	if len(a.SelectAttributes) > 0 && !seen[SelectAttributes] {
		v.add(path+".select-attributes", "attribute names are given but attributes are not selected: add attributes to select")
	}
	names := map[string]bool{}
	for j, n := range a.SelectAttributes {
		apath := path + ".select-attributes[" + strconv.Itoa(j) + "]"
		if why := attrNameProblem(n); why != "" {
			v.add(apath, "%s", why)
		} else if names[n] {
			v.add(apath, "%q is listed twice", n)
		}
		names[n] = true
	}
}
