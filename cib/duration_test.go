package cib

import (
	"encoding/json"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "0", want: 0},
		{in: "10", want: 10 * time.Second}, // Pacemaker: a bare number is seconds
		{in: " 30 ", want: 30 * time.Second},
		{in: "10s", want: 10 * time.Second},
		{in: "500ms", want: 500 * time.Millisecond},
		{in: "1m30s", want: 90 * time.Second},
		{in: "2min", want: 2 * time.Minute},
		{in: "15min", want: 15 * time.Minute},
		{in: "5sec", want: 5 * time.Second},
		{in: "1hr", want: time.Hour},
		{in: "1h", want: time.Hour},
		{in: "PT5S", want: 5 * time.Second},
		{in: "pt1m", want: time.Minute},
		{in: "PT1H2M3S", want: time.Hour + 2*time.Minute + 3*time.Second},
		{in: "PT1.5S", want: 1500 * time.Millisecond},
		{in: "", bad: true},
		{in: "soon", bad: true},
		{in: "-5s", bad: true},
		{in: "5 min", bad: true},
		{in: "PT", bad: true},
		{in: "PT5", bad: true},
		{in: "PTS", bad: true},
		{in: "PT-1S", bad: true},
		{in: "P1D", bad: true},
		// Non-finite and overflowing parts once came back as negative durations.
		{in: "PTNANS", bad: true},
		{in: "PTINFS", bad: true},
		{in: "PT1e400S", bad: true},
		{in: "PT9999999999H", bad: true},
		{in: "PT2562047H", want: 2562047 * time.Hour},
		{in: "PT1999999999999H1999999999999H", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseDuration(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got.D() != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestDurationCodecs(t *testing.T) {
	for _, d := range []Duration{0, Duration(time.Millisecond), Duration(90 * time.Second), Duration(25*time.Hour + 1)} {
		var back Duration
		j, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(j, &back); err != nil || back != d {
			t.Errorf("json round trip of %v: %s -> %v, %v", d, j, back, err)
		}
		y, err := yaml.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		back = 0
		if err := yaml.Unmarshal(y, &back); err != nil || back != d {
			t.Errorf("yaml round trip of %v: %s -> %v, %v", d, y, back, err)
		}
	}
	var d Duration
	if err := json.Unmarshal([]byte("20"), &d); err != nil || d.D() != 20*time.Second {
		t.Errorf("json number 20 = %v, %v; want 20s", d, err)
	}
	for _, bad := range []string{`1.5`, `-3`, `"x"`, `true`} {
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("json %s decoded as duration %v", bad, d)
		}
	}
	if !Duration(0).IsZero() || Duration(1).IsZero() {
		t.Error("IsZero")
	}
	if Duration(0).String() != "0s" {
		t.Errorf("zero prints %q", Duration(0).String())
	}
}
