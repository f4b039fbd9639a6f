package cib

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time interval in the configuration. It reads Pacemaker's
// forms — a bare number of seconds ("10"), Go-style units ("500ms", "1m30s"),
// "min", and ISO 8601 ("PT5S") — and writes Go's form ("5s").
type Duration time.Duration

// ParseDuration reads a configuration interval; negative values are refused.
func ParseDuration(s string) (Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("bad duration %q: empty", s)
	}
	if n, err := strconv.ParseUint(t, 10, 32); err == nil {
		return Duration(time.Duration(n) * time.Second), nil
	}
	if strings.HasPrefix(strings.ToUpper(t), "PT") {
		return parseISO(t)
	}
	g := strings.ReplaceAll(t, "min", "m")
	g = strings.ReplaceAll(g, "sec", "s")
	g = strings.ReplaceAll(g, "hr", "h")
	d, err := time.ParseDuration(g)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q: want e.g. 10s, 500ms, 2min or PT5S", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("bad duration %q: negative", s)
	}
	return Duration(d), nil
}

func parseISO(s string) (Duration, error) {
	rest := strings.ToUpper(s[2:])
	var total float64 // nanoseconds; summed as a float so overflow is seen
	if rest == "" {
		return 0, fmt.Errorf("bad duration %q: empty ISO 8601 period", s)
	}
	for rest != "" {
		i := strings.IndexAny(rest, "HMS")
		if i <= 0 {
			return 0, fmt.Errorf("bad duration %q: want ISO 8601 like PT1H2M3S", s)
		}
		n, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil || !(n >= 0) || math.IsInf(n, 0) { // !(n >= 0) also refuses NaN
			return 0, fmt.Errorf("bad duration %q: want ISO 8601 like PT1H2M3S", s)
		}
		unit := map[byte]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second}[rest[i]]
		total += n * float64(unit)
		rest = rest[i+1:]
	}
	if total >= math.MaxInt64 {
		return 0, fmt.Errorf("bad duration %q: too long", s)
	}
	return Duration(total), nil
}

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String writes Go's form, "0s" for zero.
func (d Duration) String() string { return time.Duration(d).String() }

// IsZero reports whether the duration is unset.
func (d Duration) IsZero() bool { return d == 0 }

// MarshalText writes Go's form.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText accepts what ParseDuration accepts.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// UnmarshalJSON accepts a string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		return d.UnmarshalText([]byte(s))
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("bad duration %s: want a string like \"10s\"", b)
	}
	return d.UnmarshalText([]byte(n.String()))
}

// UnmarshalYAML accepts a scalar.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: bad duration: want a scalar", n.Line)
	}
	return d.UnmarshalText([]byte(n.Value))
}

// MarshalYAML writes Go's form.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }
