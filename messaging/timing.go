package messaging

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Timing sets memberlist's failure detection. A crash is detected after
// about ProbeInterval + SuspicionMult × max(1, log10 N) × ProbeInterval
// (memberlist probes one member per interval; a failed probe is declared at
// the probe deadline, then the member is suspected for the suspicion
// timeout unless it refutes). See shared/FAILURE-DETECTION.md.
type Timing struct {
	ProbeInterval  time.Duration `yaml:"probe-interval,omitempty"`
	ProbeTimeout   time.Duration `yaml:"probe-timeout,omitempty"`
	GossipInterval time.Duration `yaml:"gossip-interval,omitempty"`
	SuspicionMult  int           `yaml:"suspicion-mult,omitempty"`
	// PushPull is the full state exchange interval (anti-entropy).
	PushPull time.Duration `yaml:"push-pull-interval,omitempty"`
}

// TimingProfile returns a named profile: "lan" is memberlist's LAN
// defaults (a crash seen in ~5 s); "fast" detects a crash in ~200 ms on a
// LAN (probe 50 ms, timeout 20 ms — a little under half the interval, so
// helpers' nacks arrive before the deadline — gossip 20 ms, suspicion ×2,
// which tolerates a ~200 ms stall of a member).
func TimingProfile(name string) (Timing, error) {
	switch name {
	case "", "fast":
		return Timing{ProbeInterval: 50 * time.Millisecond, ProbeTimeout: 20 * time.Millisecond,
			GossipInterval: 20 * time.Millisecond, SuspicionMult: 2, PushPull: 5 * time.Second}, nil
	case "lan":
		return Timing{ProbeInterval: time.Second, ProbeTimeout: 500 * time.Millisecond,
			GossipInterval: 200 * time.Millisecond, SuspicionMult: 4, PushPull: 30 * time.Second}, nil
	}
	return Timing{}, fmt.Errorf("unknown timing profile %q (want fast or lan)", name)
}

// Override returns t with every non-zero field of o.
func (t Timing) Override(o Timing) Timing {
	if o.ProbeInterval != 0 {
		t.ProbeInterval = o.ProbeInterval
	}
	if o.ProbeTimeout != 0 {
		t.ProbeTimeout = o.ProbeTimeout
	}
	if o.GossipInterval != 0 {
		t.GossipInterval = o.GossipInterval
	}
	if o.SuspicionMult != 0 {
		t.SuspicionMult = o.SuspicionMult
	}
	if o.PushPull != 0 {
		t.PushPull = o.PushPull
	}
	return t
}

// Validate checks the relations memberlist needs.
func (t Timing) Validate() error {
	var errs []error
	if t.ProbeInterval < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("probe-interval %v: want at least 10ms", t.ProbeInterval))
	}
	if t.ProbeTimeout <= 0 || t.ProbeTimeout >= t.ProbeInterval {
		errs = append(errs, fmt.Errorf("probe-timeout %v: want more than 0 and less than probe-interval %v", t.ProbeTimeout, t.ProbeInterval))
	}
	if t.GossipInterval <= 0 {
		errs = append(errs, fmt.Errorf("gossip-interval %v: want more than 0", t.GossipInterval))
	}
	if t.SuspicionMult < 1 {
		errs = append(errs, fmt.Errorf("suspicion-mult %d: want at least 1", t.SuspicionMult))
	}
	if t.PushPull < time.Second {
		errs = append(errs, fmt.Errorf("push-pull-interval %v: want at least 1s", t.PushPull))
	}
	return errors.Join(errs...)
}

// DetectionFloor is the shortest time from a crash to its detection with
// n members: ProbeInterval + SuspicionMult × max(1, log10 n) × ProbeInterval.
func (t Timing) DetectionFloor(n int) time.Duration {
	scale := math.Max(1, math.Log10(math.Max(1, float64(n)))) // as memberlist's suspicionTimeout
	return t.ProbeInterval + time.Duration(float64(t.SuspicionMult)*scale*float64(t.ProbeInterval))
}
