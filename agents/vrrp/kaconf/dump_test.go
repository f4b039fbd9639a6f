package kaconf

import (
	"fmt"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// dump writes a parse result as the golden files hold it: every field of
// the Config, one a line, then the warnings or the error.
func dump(c *Config, warns []Warning, err error) string {
	var b strings.Builder
	if c != nil {
		dumpValue(&b, "", reflect.ValueOf(*c))
	}
	for _, w := range warns {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(&b, "error: %s\n", line)
		}
	}
	return b.String()
}

// dumpValue writes v under the name path; structs and slices open their
// fields and elements, zero values are left out.
func dumpValue(b *strings.Builder, path string, v reflect.Value) {
	switch v.Type() {
	case reflect.TypeFor[time.Duration]():
		fmt.Fprintf(b, "%s: %s\n", path, time.Duration(v.Int()))
		return
	case reflect.TypeFor[netip.Addr](), reflect.TypeFor[netip.Prefix]():
		if !v.IsZero() {
			fmt.Fprintf(b, "%s: %v\n", path, v.Interface())
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			dumpValue(b, path, v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			name := f.Name
			if path != "" {
				name = path + "." + name
			}
			dumpValue(b, name, v.Field(i))
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.String {
			if v.Len() > 0 {
				var q []string
				for i := range v.Len() {
					q = append(q, strconv.Quote(v.Index(i).String()))
				}
				fmt.Fprintf(b, "%s: [%s]\n", path, strings.Join(q, " "))
			}
			return
		}
		for i := range v.Len() {
			dumpValue(b, fmt.Sprintf("%s[%d]", path, i), v.Index(i))
		}
	case reflect.String:
		if v.String() != "" {
			fmt.Fprintf(b, "%s: %q\n", path, v.String())
		}
	case reflect.Bool:
		if v.Bool() {
			fmt.Fprintf(b, "%s: true\n", path)
		}
	default:
		fmt.Fprintf(b, "%s: %v\n", path, v.Interface())
	}
}
