package cib

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// seedConfigs adds every testdata YAML file to a fuzz corpus, as YAML or
// (when asJSON) as the JSON encoding of what it decodes to, where it does.
func seedConfigs(f *testing.F, asJSON bool) {
	files, err := filepath.Glob("testdata/*/*.yaml")
	if err != nil || len(files) == 0 {
		f.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		if !asJSON {
			f.Add(b)
			continue
		}
		if c, err := DecodeYAML(b); err == nil {
			j, err := EncodeJSON(c)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(j)
		}
	}
}

// checkConfigDecode is the property both config fuzzers check: no panic
// (DecodeYAML turns a panic of yaml.v3 into an "internal error"), and what
// decodes and validates survives a round trip through both formats.
func checkConfigDecode(t *testing.T, c *Config, err error) {
	if err != nil {
		if strings.Contains(err.Error(), "internal error") {
			t.Fatalf("decoder panicked: %v", err)
		}
		return
	}
	if c.Validate() != nil {
		return
	}
	roundTrip(t, c)
}

func FuzzDecodeYAML(f *testing.F) {
	seedConfigs(f, false)
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeYAML(b)
		checkConfigDecode(t, c, err)
	})
}

func FuzzDecodeJSON(f *testing.F) {
	seedConfigs(f, true)
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeJSON(b)
		checkConfigDecode(t, c, err)
	})
}

func FuzzDecodeCommand(f *testing.F) {
	for _, cmd := range sampleCommands(f) {
		b, err := EncodeCommand(Envelope{Origin: "n1", Time: t0, Cmd: cmd})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeCommand(b)
		if err != nil {
			return
		}
		b2, err := EncodeCommand(e)
		if err != nil {
			t.Fatalf("decoded command does not encode: %v\n%#v", err, e.Cmd)
		}
		e2, err := DecodeCommand(b2)
		if err != nil {
			t.Fatalf("re-encoded command does not decode: %v\n%s", err, b2)
		}
		// An empty map or list and none are the same change (JSON's
		// omitempty keeps only the latter), as are one instant in two zones.
		canonical(reflect.ValueOf(&e))
		canonical(reflect.ValueOf(&e2))
		if !reflect.DeepEqual(e, e2) {
			t.Fatalf("round trip differs:\n%#v\n%#v\n%s", e.Cmd, e2.Cmd, b2)
		}
	})
}

// canonical sets every empty map and slice reachable from v to nil, and
// every time to UTC.
func canonical(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			canonical(v.Elem())
		}
	case reflect.Struct:
		if t, ok := v.Interface().(time.Time); ok {
			v.Set(reflect.ValueOf(t.UTC()))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				canonical(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Map:
		if v.Len() == 0 && !v.IsNil() && v.CanSet() {
			v.SetZero()
			return
		}
		if v.Kind() == reflect.Slice {
			for i := range v.Len() {
				canonical(v.Index(i))
			}
		}
	}
}

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{"defined pingd", "not_defined pingd or pingd lte 0", `(a eq "x y" and b gt integer 5) or #uname ne n1`,
		"ver gte version 2.1", "x eq string string", `"and" eq "or"`, "date gt 2025"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(s)
		if err != nil {
			return
		}
		back, err := ParseRule(r.String())
		if err != nil || !reflect.DeepEqual(back, r) {
			t.Fatalf("%q prints as %q, which parses to %#v (%v), want %#v", s, r.String(), back, err, r)
		}
		r.Eval(map[string]string{"#uname": "n1", "pingd": "5", "a": "x y"})
	})
}
