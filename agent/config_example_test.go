package agent

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The packaged example config (/etc/paceline/paceline.yaml.example) names
// only keys the agent knows: uncommented, it decodes strictly.
func TestPackagedExampleConfigKeys(t *testing.T) {
	b, err := os.ReadFile("../packaging/paceline.yaml.example")
	if err != nil {
		t.Fatal(err)
	}
	_, keys, ok := strings.Cut(string(b), "Every key:\n")
	if !ok {
		t.Fatal(`example: no "Every key:" line before the keys`)
	}
	var y strings.Builder
	for _, l := range strings.Split(keys, "\n") {
		if l == "#" || l == "" {
			continue
		}
		rest, ok := strings.CutPrefix(l, "# ")
		if !ok {
			t.Fatalf("example: line %q is not a commented key", l)
		}
		y.WriteString(rest + "\n")
	}
	dec := yaml.NewDecoder(bytes.NewReader([]byte(y.String())))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("example keys do not decode as a node config: %v\n%s", err, y.String())
	}
	if c.Name != "n1" || len(c.Peers) != 3 || c.Watchdog.Device != "/dev/watchdog" || c.HTTP.Listen == "" {
		t.Fatalf("example decoded to %+v", c)
	}
}
