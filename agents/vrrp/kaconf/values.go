package kaconf

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// This file reads values as keepalived's read_int, read_unsigned,
// read_decimal_unsigned and check_true_false (lib/parser.c) do, except that
// a value keepalived would report and then ignore or replace is an error.

// number trims what strtol accepts before the digits: white space (from a
// quoted word) and a '+'.
func number(s string) string {
	return strings.TrimPrefix(strings.TrimLeft(s, whiteSpace), "+")
}

// parseInt reads a decimal integer in [lo, hi].
func parseInt(s string, lo, hi int) (int, error) {
	v, err := strconv.ParseInt(number(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	if v < int64(lo) || v > int64(hi) {
		return 0, fmt.Errorf("%s is outside [%d, %d]", s, lo, hi)
	}
	return int(v), nil
}

// parseUint reads a decimal integer in [lo, hi] with no sign.
func parseUint(s string, lo, hi int) (int, error) {
	if strings.HasPrefix(strings.TrimLeft(s, whiteSpace), "-") {
		return 0, fmt.Errorf("negative number %q", s)
	}
	return parseInt(s, lo, hi)
}

// parseSeconds reads a number of seconds with up to 6 decimal places (a
// keepalived timer) in [lo, hi].
func parseSeconds(s string, lo, hi time.Duration) (time.Duration, error) {
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("negative number %q", s)
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	if len(frac) > 6 {
		return 0, fmt.Errorf("%q has more than 6 decimal places", s)
	}
	digits := whole + frac + strings.Repeat("0", 6-len(frac))
	if digits == "" || strings.Trim(digits, "0123456789") != "" || len(digits) > 15 {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	us, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	d := time.Duration(us) * time.Microsecond
	if d < lo || d > hi {
		return 0, fmt.Errorf("%s is outside [%s, %s]", s, secs(lo), secs(hi))
	}
	return d, nil
}

// secs writes a duration as keepalived's configuration does: in seconds.
func secs(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// parseWholeSeconds reads a whole number of seconds in [lo, hi].
func parseWholeSeconds(s string, lo, hi int) (time.Duration, error) {
	v, err := parseUint(s, lo, hi)
	if err != nil {
		return 0, err
	}
	return time.Duration(v) * time.Second, nil
}

// parseBool reads keepalived's <BOOL>: on|off|true|false|yes|no.
func parseBool(s string) (bool, error) {
	switch s {
	case "on", "true", "yes":
		return true, nil
	case "off", "false", "no":
		return false, nil
	}
	return false, fmt.Errorf("%q is not one of on|off|true|false|yes|no", s)
}

// parseAddr reads an IPv4 or IPv6 address as inet_pton does (no zone).
// keepalived's inet_stosockaddr drops a "/len" or "-range" suffix; so do
// we, and say so in dropped.
func parseAddr(s string) (a netip.Addr, dropped string, err error) {
	addr := s
	if i := strings.IndexAny(s, "-/"); i >= 0 {
		addr, dropped = s[:i], s[i:]
	}
	a, err = netip.ParseAddr(addr)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, "", fmt.Errorf("invalid IP address %q", s)
	}
	return a, dropped, nil
}

// parsePrefix reads ADDR or ADDR/LEN as keepalived's parse_ipaddress does;
// without LEN the prefix is the whole address (/32 or /128).
func parsePrefix(s string) (netip.Prefix, error) {
	addr, bits, hasBits := strings.Cut(s, "/")
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("invalid IP address %q", s)
	}
	n := a.BitLen()
	if hasBits {
		if n, err = parseUint(bits, 0, a.BitLen()); err != nil {
			return netip.Prefix{}, fmt.Errorf("invalid prefix length in %q: %v", s, err)
		}
	}
	return netip.PrefixFrom(a, n), nil
}

func family(a netip.Addr) int {
	if a.Is4() {
		return 4
	}
	return 6
}

// ifNameSize is IFNAMSIZ: an interface name has at most 15 bytes.
const ifNameSize = 16

func checkIfName(s string) error {
	if s == "" || len(s) >= ifNameSize {
		return fmt.Errorf("interface name %q is empty or longer than %d bytes", s, ifNameSize-1)
	}
	return nil
}
