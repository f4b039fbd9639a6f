package agent

import (
	"testing"
	"time"

	"github.com/paceline/paceline/messaging"
)

// A fence covers a lost node's current absence only: not a life that
// began after it (the node came back, and died again before any of its
// heartbeats got through), and heartbeats of a node booting after the
// fence, before gossip calls it alive, do not undo it.
func TestIsFenced(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	f := &fenceState{fenced: map[string]time.Time{"n2": at(100)}}
	for _, tc := range []struct {
		name      string
		m         messaging.Member
		lastHeard time.Time
		want      bool
	}{
		{"lost, then fenced", messaging.Member{Name: "n2", State: messaging.Failed, Since: at(50), Joined: at(0)}, at(40), true},
		{"fenced, booting: heard again, gossip still says failed", messaging.Member{Name: "n2", State: messaging.Failed, Since: at(50), Joined: at(0)}, at(300), true},
		{"fenced, came back, lost again before a heartbeat got through", messaging.Member{Name: "n2", State: messaging.Failed, Since: at(400), Joined: at(200)}, at(40), false},
		{"fenced, came back, lost again", messaging.Member{Name: "n2", State: messaging.Failed, Since: at(400), Joined: at(200)}, at(350), false},
		{"lost after the fence was recorded, no join seen", messaging.Member{Name: "n2", State: messaging.Failed, Since: at(400)}, at(350), false},
		{"never fenced", messaging.Member{Name: "n3", State: messaging.Failed, Since: at(50)}, at(40), false},
	} {
		if got := f.isFenced(tc.m, tc.lastHeard); got != tc.want {
			t.Errorf("%s: isFenced %v, want %v", tc.name, got, tc.want)
		}
	}
}
