package alerts

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FormatTimestamp writes t as an alert's timestamp-format says: the
// conversions of strftime(3) in the C locale (cib.TimestampConversions
// lists them) and Pacemaker's %N, the fraction of the second truncated to
// 1 to 6 digits (%3N: milliseconds; a bare %N gives 6). An unknown
// conversion is an error; Pacemaker then passes no CRM_alert_timestamp,
// and so does the runner.
func FormatTimestamp(format string, t time.Time) (string, error) {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		ch := format[i]
		if ch != '%' {
			b.WriteByte(ch)
			continue
		}
		j := i + 1
		if strings.HasPrefix(format[j:], ":z") {
			_, off := t.Zone()
			b.WriteString(zone(off, true))
			i = j + 1
			continue
		}
		for j < len(format) && '0' <= format[j] && format[j] <= '9' {
			j++
		}
		if j == len(format) {
			return "", fmt.Errorf("timestamp-format %q ends inside a conversion", format)
		}
		width := format[i+1 : j]
		if width != "" && format[j] != 'N' {
			return "", fmt.Errorf("timestamp-format %q: a width is allowed only with %%N", format)
		}
		if format[j] == 'N' {
			digits := 6
			if width != "" {
				n, err := strconv.Atoi(width)
				if err != nil || n < 1 || n > 6 {
					return "", fmt.Errorf("timestamp-format %q: %%N takes 1 to 6 digits", format)
				}
				digits = n
			}
			usec := t.Nanosecond() / 1000
			for range 6 - digits {
				usec /= 10
			}
			fmt.Fprintf(&b, "%0*d", digits, usec)
			i = j
			continue
		}
		s, ok := conversion(format[j], t)
		if !ok {
			return "", fmt.Errorf("timestamp-format %q: unknown conversion %%%c", format, format[j])
		}
		b.WriteString(s)
		i = j
	}
	return b.String(), nil
}

// conversion is one strftime conversion of t, in the C locale.
func conversion(c byte, t time.Time) (string, bool) {
	two := func(n int) string { return fmt.Sprintf("%02d", n) }
	hour12 := t.Hour() % 12
	if hour12 == 0 {
		hour12 = 12
	}
	switch c {
	case 'a':
		return t.Format("Mon"), true
	case 'A':
		return t.Format("Monday"), true
	case 'b', 'h':
		return t.Format("Jan"), true
	case 'B':
		return t.Format("January"), true
	case 'c':
		return t.Format("Mon Jan _2 15:04:05 2006"), true
	case 'C':
		return two(t.Year() / 100), true
	case 'd':
		return two(t.Day()), true
	case 'D', 'x':
		return t.Format("01/02/06"), true
	case 'e':
		return fmt.Sprintf("%2d", t.Day()), true
	case 'F':
		return t.Format("2006-01-02"), true
	case 'g':
		y, _ := t.ISOWeek()
		return two(y % 100), true
	case 'G':
		y, _ := t.ISOWeek()
		return strconv.Itoa(y), true
	case 'H':
		return two(t.Hour()), true
	case 'I':
		return two(hour12), true
	case 'j':
		return fmt.Sprintf("%03d", t.YearDay()), true
	case 'k':
		return fmt.Sprintf("%2d", t.Hour()), true
	case 'l':
		return fmt.Sprintf("%2d", hour12), true
	case 'm':
		return two(int(t.Month())), true
	case 'M':
		return two(t.Minute()), true
	case 'n':
		return "\n", true
	case 'p':
		return t.Format("PM"), true
	case 'P':
		return strings.ToLower(t.Format("PM")), true
	case 'r':
		return t.Format("03:04:05 PM"), true
	case 'R':
		return t.Format("15:04"), true
	case 's':
		return strconv.FormatInt(t.Unix(), 10), true
	case 'S':
		return two(t.Second()), true
	case 't':
		return "\t", true
	case 'T', 'X':
		return t.Format("15:04:05"), true
	case 'u':
		wd := int(t.Weekday())
		if wd == 0 {
			wd = 7
		}
		return strconv.Itoa(wd), true
	case 'V':
		_, w := t.ISOWeek()
		return two(w), true
	case 'w':
		return strconv.Itoa(int(t.Weekday())), true
	case 'y':
		return two(t.Year() % 100), true
	case 'Y':
		return strconv.Itoa(t.Year()), true
	case 'z':
		_, off := t.Zone()
		return zone(off, false), true
	case 'Z':
		name, _ := t.Zone()
		return name, true
	case '%':
		return "%", true
	}
	return "", false
}

// zone writes a UTC offset as +hhmm, or +hh:mm with colon.
func zone(off int, colon bool) string {
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	sep := ""
	if colon {
		sep = ":"
	}
	return fmt.Sprintf("%c%02d%s%02d", sign, off/3600, sep, off/60%60)
}
