package vrrp

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// golden is one advert captured from keepalived, as kept in
// testdata/keepalived-*.txt: the packet with the addresses and TTL it
// came with, and what its sender's configuration says it must decode
// to. Lines are "key value"; # starts a comment.
//
//	src 192.0.2.1
//	dst 224.0.0.18
//	ttl 255
//	packet 2133...
//	version 2
//	vrid 51
//	priority 100
//	interval 100                  (centiseconds)
//	addrs 192.0.2.50 192.0.2.51
//	auth pass secret12            (v2 only: "auth none" or "auth pass PASSWORD")
type golden struct {
	src, dst netip.Addr
	ttl      int
	packet   []byte
	want     Advert
}

func readGolden(path string) (golden, error) {
	var g golden
	b, err := os.ReadFile(path)
	if err != nil {
		return g, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if err := g.set(f[0], f[1:]); err != nil {
			return g, fmt.Errorf("%s:%d: %s: %w", path, n, f[0], err)
		}
	}
	return g, sc.Err()
}

func (g *golden) set(key string, v []string) error {
	switch key {
	case "addrs":
		for _, s := range v {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return err
			}
			g.want.Addrs = append(g.want.Addrs, a)
		}
		return nil
	case "auth":
		switch {
		case len(v) == 1 && v[0] == "none":
			g.want.AuthType = AuthNone
		case len(v) == 2 && v[0] == "pass":
			g.want.AuthType = AuthPass
			var err error
			g.want.AuthData, err = PassData(v[1])
			return err
		default:
			return fmt.Errorf("want none or pass PASSWORD, have %q", v)
		}
		return nil
	}
	if len(v) != 1 {
		return fmt.Errorf("want one value, have %d", len(v))
	}
	var err error
	switch key {
	case "src":
		g.src, err = netip.ParseAddr(v[0])
	case "dst":
		g.dst, err = netip.ParseAddr(v[0])
	case "packet":
		g.packet, err = hex.DecodeString(v[0])
	default:
		n, nerr := strconv.ParseUint(v[0], 10, 16)
		if nerr != nil {
			return nerr
		}
		byteField := map[string]*uint8{"vrid": &g.want.VRID, "priority": &g.want.Priority}
		switch {
		case key == "ttl" && n <= 255:
			g.ttl = int(n)
		case key == "version" && n <= 255:
			g.want.Version = Version(n)
		case key == "interval":
			g.want.Interval = Centiseconds(n)
		case byteField[key] != nil && n <= 255:
			*byteField[key] = uint8(n)
		default:
			return fmt.Errorf("unknown key, or %d out of range", n)
		}
	}
	return err
}

// format writes the golden file's text, with comment lines first.
func (g *golden) format(comment string) []byte {
	var b bytes.Buffer
	for _, l := range strings.Split(strings.TrimRight(comment, "\n"), "\n") {
		b.WriteString(strings.TrimRight("# "+l, " ") + "\n")
	}
	fmt.Fprintf(&b, "src %v\ndst %v\nttl %d\npacket %x\n", g.src.WithZone(""), g.dst.WithZone(""), g.ttl, g.packet)
	fmt.Fprintf(&b, "# It must decode to (from the configuration above):\n")
	fmt.Fprintf(&b, "version %d\nvrid %d\npriority %d\ninterval %d\naddrs", g.want.Version, g.want.VRID, g.want.Priority, g.want.Interval)
	for _, a := range g.want.Addrs {
		fmt.Fprintf(&b, " %v", a)
	}
	b.WriteString("\n")
	if g.want.Version == V2 {
		switch g.want.AuthType {
		case AuthPass:
			fmt.Fprintf(&b, "auth pass %s\n", bytes.TrimRight(g.want.AuthData[:], "\x00"))
		default:
			fmt.Fprintf(&b, "auth %s\n", g.want.AuthType)
		}
	}
	return b.Bytes()
}

// TestGoldenPackets: adverts captured from keepalived 2.2.7 (see
// testdata/README.md) decode to what its configuration says, and our
// encoder, given that advert and the same addresses, produces the very
// same bytes, checksum included. Runs without root.
func TestGoldenPackets(t *testing.T) {
	paths, err := filepath.Glob("testdata/keepalived-*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 3 {
		t.Fatalf("%d golden packets in testdata, want the v2, v3 IPv4 and v3 IPv6 ones", len(paths))
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			g, err := readGolden(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(g.packet, g.src, g.dst, g.ttl)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, g.want) {
				t.Errorf("decoded %+v\nwant    %+v", got, g.want)
			}
			ours, err := g.want.Marshal(g.src, g.dst)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ours, g.packet) {
				t.Errorf("ours %x\nkeepalived's %x", ours, g.packet)
			}
		})
	}
}
