package cib

import (
	"encoding/json"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestParseScore(t *testing.T) {
	tests := []struct {
		in   string
		want Score
		bad  bool
	}{
		{in: "0", want: 0},
		{in: "100", want: 100},
		{in: "-5", want: -5},
		{in: "+7", want: 7},
		{in: " 42 ", want: 42},
		{in: "INFINITY", want: Infinity},
		{in: "+INFINITY", want: Infinity},
		{in: "infinity", want: Infinity},
		{in: "inf", want: Infinity},
		{in: "-INFINITY", want: -Infinity},
		{in: "-inf", want: -Infinity},
		{in: "2000000", want: Infinity},
		{in: "-1000001", want: -Infinity},
		{in: "9223372036854775807", want: Infinity},
		{in: "", bad: true},
		{in: "1.5", bad: true},
		{in: "lots", bad: true},
		{in: "1e6", bad: true},
		{in: "99999999999999999999", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseScore(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseScore(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseScore(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestScoreAdd(t *testing.T) {
	tests := []struct{ a, b, want Score }{
		{1, 2, 3},
		{-5, 3, -2},
		{Infinity, 5, Infinity},
		{5, Infinity, Infinity},
		{-Infinity, 5, -Infinity},
		{Infinity, -Infinity, -Infinity}, // -INFINITY wins
		{-Infinity, Infinity, -Infinity},
		{Infinity, Infinity, Infinity},
		{-Infinity, -Infinity, -Infinity},
		{999_999, 999_999, Infinity}, // saturates
		{-999_999, -999_999, -Infinity},
		{Infinity - 1, 1, Infinity},
		{Infinity - 1, -1, Infinity - 2},
	}
	for _, tt := range tests {
		if got := tt.a.Add(tt.b); got != tt.want {
			t.Errorf("%v + %v = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestScoreCodecs(t *testing.T) {
	tests := []struct {
		s          Score
		str, jsonv string
	}{
		{0, "0", "0"},
		{-20, "-20", "-20"},
		{Infinity, "INFINITY", `"INFINITY"`},
		{-Infinity, "-INFINITY", `"-INFINITY"`},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.str {
			t.Errorf("String(%d) = %q, want %q", int64(tt.s), got, tt.str)
		}
		j, err := json.Marshal(tt.s)
		if err != nil || string(j) != tt.jsonv {
			t.Errorf("json(%v) = %s, %v; want %s", tt.s, j, err, tt.jsonv)
		}
		var back Score
		if err := json.Unmarshal(j, &back); err != nil || back != tt.s {
			t.Errorf("json round trip of %v = %v, %v", tt.s, back, err)
		}
		y, err := yaml.Marshal(tt.s)
		if err != nil {
			t.Fatal(err)
		}
		back = 0
		if err := yaml.Unmarshal(y, &back); err != nil || back != tt.s {
			t.Errorf("yaml round trip of %v = %v, %v (%s)", tt.s, back, err, y)
		}
	}
	var s Score
	for _, bad := range []string{`true`, `1.5`, `"x"`, `[1]`} {
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("json %s decoded as score %v", bad, s)
		}
	}
	if err := yaml.Unmarshal([]byte("[1]"), &s); err == nil {
		t.Error("yaml sequence decoded as a score")
	}
}
