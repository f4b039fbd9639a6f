package cib

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Infinity is Pacemaker's INFINITY: the score that means "must" (or, negated,
// "must not"). Scores saturate at ±Infinity.
const Infinity = 1_000_000

// Score is a placement preference in Pacemaker's saturating arithmetic:
// values are clamped to [-Infinity, +Infinity], and -INFINITY wins over
// +INFINITY when both are added ("Pacemaker Explained", Infinity Math).
type Score int64

// ParseScore reads "INFINITY", "+INFINITY", "-INFINITY", "inf" or an
// integer; integers beyond ±1,000,000 are clamped, as Pacemaker does.
func ParseScore(s string) (Score, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "infinity", "+infinity", "inf", "+inf":
		return Infinity, nil
	case "-infinity", "-inf":
		return -Infinity, nil
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad score %q: want an integer or [+-]INFINITY", s)
	}
	return clamp(n), nil
}

func clamp(n int64) Score {
	switch {
	case n > Infinity:
		return Infinity
	case n < -Infinity:
		return -Infinity
	}
	return Score(n)
}

// Add returns s+o with Pacemaker's rules: -INFINITY + anything = -INFINITY,
// +INFINITY + finite = +INFINITY, otherwise the clamped sum.
func (s Score) Add(o Score) Score {
	if s <= -Infinity || o <= -Infinity {
		return -Infinity
	}
	if s >= Infinity || o >= Infinity {
		return Infinity
	}
	return clamp(int64(s) + int64(o))
}

// String renders the score as Pacemaker does: INFINITY, -INFINITY or digits.
func (s Score) String() string {
	switch {
	case s >= Infinity:
		return "INFINITY"
	case s <= -Infinity:
		return "-INFINITY"
	}
	return strconv.FormatInt(int64(s), 10)
}

// MarshalText encodes the score as its String form.
func (s Score) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText accepts what ParseScore accepts.
func (s *Score) UnmarshalText(b []byte) error {
	v, err := ParseScore(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// UnmarshalJSON accepts a JSON number or string.
func (s *Score) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		return s.UnmarshalText([]byte(str))
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("bad score %s: want an integer or [+-]INFINITY", b)
	}
	return s.UnmarshalText([]byte(n.String()))
}

// MarshalJSON encodes small scores as numbers and infinities as strings.
func (s Score) MarshalJSON() ([]byte, error) {
	if s > -Infinity && s < Infinity {
		return []byte(strconv.FormatInt(int64(s), 10)), nil
	}
	return json.Marshal(s.String())
}

// MarshalYAML mirrors MarshalJSON.
func (s Score) MarshalYAML() (any, error) {
	if s > -Infinity && s < Infinity {
		return int64(s), nil
	}
	return s.String(), nil
}

// UnmarshalYAML accepts a YAML integer or string.
func (s *Score) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: bad score: want a scalar", n.Line)
	}
	return s.UnmarshalText([]byte(n.Value))
}
