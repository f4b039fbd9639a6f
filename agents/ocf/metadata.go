package ocf

import (
	"encoding/xml"
	"fmt"
	"time"
)

// ResourceAgent is an agent's meta-data (the <resource-agent> document of
// the OCF API; it validates against resource-agents' ra-api-1.dtd).
type ResourceAgent struct {
	XMLName    xml.Name    `xml:"resource-agent"`
	Name       string      `xml:"name,attr"`
	Version    string      `xml:"version,attr"`
	APIVersion string      `xml:"version"`
	LongDesc   Desc        `xml:"longdesc"`
	ShortDesc  Desc        `xml:"shortdesc"`
	Parameters []Parameter `xml:"parameters>parameter"`
	Actions    []ActionDef `xml:"actions>action"`
}

// Desc is a long or short description in English.
type Desc struct {
	Lang string `xml:"lang,attr"`
	Text string `xml:",chardata"`
}

// En is a description in English.
func En(text string) Desc { return Desc{Lang: "en", Text: text} }

// Parameter describes one instance attribute.
type Parameter struct {
	Name      string  `xml:"name,attr"`
	Unique    int     `xml:"unique,attr"`
	Required  int     `xml:"required,attr"`
	LongDesc  Desc    `xml:"longdesc"`
	ShortDesc Desc    `xml:"shortdesc"`
	Content   Content `xml:"content"`
}

// Content is a parameter's type and default.
type Content struct {
	Type    string `xml:"type,attr"` // string, integer, boolean
	Default string `xml:"default,attr,omitempty"`
}

// ActionDef is an action the agent supports, with its advised timeout.
type ActionDef struct {
	Name     string `xml:"name,attr"`
	Timeout  string `xml:"timeout,attr"`
	Interval string `xml:"interval,attr,omitempty"`
	Depth    string `xml:"depth,attr,omitempty"`
	Role     string `xml:"role,attr,omitempty"`
}

// XML renders the meta-data document.
func (r *ResourceAgent) XML() ([]byte, error) {
	doc := *r
	if doc.APIVersion == "" {
		doc.APIVersion = "1.1"
	}
	b, err := xml.MarshalIndent(&doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("meta-data of %s: %w", r.Name, err)
	}
	out := []byte(xml.Header + `<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">` + "\n")
	out = append(out, b...)
	return append(out, '\n'), nil
}

// Supports reports whether the meta-data lists an action.
func (r *ResourceAgent) Supports(action string) bool {
	for _, a := range r.Actions {
		if a.Name == action {
			return true
		}
	}
	return false
}

// Check validates an action's parameters against the meta-data: every
// required parameter is set, and integer and boolean parameters parse. It
// names every problem it finds.
func (r *ResourceAgent) Check(params map[string]string) error {
	var errs []string
	for _, p := range r.Parameters {
		v, set := params[p.Name]
		switch {
		case !set || v == "":
			if p.Required == 1 {
				errs = append(errs, fmt.Sprintf("parameter %s is required", p.Name))
			}
		case p.Content.Type == "integer":
			if _, err := ParseInt(v); err != nil {
				errs = append(errs, fmt.Sprintf("parameter %s=%q: %v", p.Name, v, err))
			}
		case p.Content.Type == "boolean":
			if _, err := ParseBool(v); err != nil {
				errs = append(errs, fmt.Sprintf("parameter %s=%q: %v", p.Name, v, err))
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %s", r.Name, joinErrs(errs))
}

func joinErrs(errs []string) string {
	out := errs[0]
	for _, e := range errs[1:] {
		out += "; " + e
	}
	return out
}

// ParseBool reads an OCF boolean: true/false, yes/no, on/off, 1/0.
func ParseBool(s string) (bool, error) {
	switch s {
	case "true", "yes", "on", "1", "True", "TRUE", "Yes", "YES", "y":
		return true, nil
	case "false", "no", "off", "0", "False", "FALSE", "No", "NO", "n":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean (true/false, yes/no, on/off, 1/0)")
}

// ParseInt reads a decimal integer.
func ParseInt(s string) (int, error) {
	n := 0
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return 0, fmt.Errorf("not an integer")
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("not an integer")
		}
		n = n*10 + int(c-'0')
		if n > 1<<31 {
			return 0, fmt.Errorf("out of range")
		}
	}
	if neg {
		n = -n
	}
	return n, nil
}

// ParseDuration reads a duration as agents take them: a bare number of
// seconds ("2", "0.5") or a Go/Pacemaker duration ("500ms", "2s", "1m").
func ParseDuration(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return 0, fmt.Errorf("negative duration %q", s)
		}
		return d, nil
	}
	d, err := time.ParseDuration(s + "s")
	if err != nil || d < 0 {
		return 0, fmt.Errorf("not a duration (seconds, or a number with ms, s, m): %q", s)
	}
	return d, nil
}
