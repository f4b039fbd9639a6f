package cib

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// testdataFiles lists testdata/DIR/*.yaml.
func testdataFiles(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/%s/*.yaml: %v", dir, err)
	}
	return files
}

// fataler is what roundTrip needs of a *testing.T or *rapid.T.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// roundTrip encodes c as YAML and JSON and decodes each back, failing unless
// both give a Config deeply equal to c.
func roundTrip(t fataler, c *Config) {
	t.Helper()
	y, err := EncodeYAML(c)
	if err != nil {
		t.Fatalf("EncodeYAML: %v", err)
	}
	cy, err := DecodeYAML(y)
	if err != nil {
		t.Fatalf("DecodeYAML of encoded config: %v\n%s", err, y)
	}
	if !reflect.DeepEqual(c, cy) {
		t.Fatalf("YAML round trip differs:\nwant %#v\ngot  %#v\n%s", c, cy, y)
	}
	j, err := EncodeJSON(c)
	if err != nil {
		t.Fatalf("EncodeJSON: %v", err)
	}
	cj, err := DecodeJSON(j)
	if err != nil {
		t.Fatalf("DecodeJSON of encoded config: %v\n%s", err, j)
	}
	if !reflect.DeepEqual(c, cj) {
		t.Fatalf("JSON round trip differs:\nwant %#v\ngot  %#v\n%s", c, cj, j)
	}
}

func TestValidConfigs(t *testing.T) {
	for _, f := range testdataFiles(t, "valid") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c, err := DecodeYAML(b)
			if err != nil {
				t.Fatalf("DecodeYAML: %v", err)
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate:\n%v", err)
			}
			roundTrip(t, c)
		})
	}
}

func TestDecodeDefaults(t *testing.T) {
	c, err := DecodeYAML([]byte(strings.Join([]string{
		"constraints:",
		"  location: [{id: l, rsc: a, node: n1}]",
		"  colocation: [{id: c, rsc: a, with-rsc: b}]",
		"  order:",
		"    - {id: o1, first: a, then: b}",
		"    - {id: o2, first: a, first-action: promote, then: b}",
		"    - {id: o3, first: a, then: b, kind: serialize}",
		"    - {id: o4, first: a, then: b, kind: Optional, symmetrical: false, then-action: stop}",
		"    - {id: o5, first: a, then: b, kind: ~}",
	}, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Constraints.Location[0].Score; got != Infinity {
		t.Errorf("location score = %v, want INFINITY", got)
	}
	if got := c.Constraints.Colocation[0].Score; got != Infinity {
		t.Errorf("colocation score = %v, want INFINITY", got)
	}
	want := []Order{
		{ID: "o1", First: "a", FirstAction: "start", Then: "b", ThenAction: "start", Kind: "mandatory", Symmetrical: true},
		{ID: "o2", First: "a", FirstAction: "promote", Then: "b", ThenAction: "promote", Kind: "mandatory", Symmetrical: true},
		{ID: "o3", First: "a", FirstAction: "start", Then: "b", ThenAction: "start", Kind: "serialize", Symmetrical: false},
		{ID: "o4", First: "a", FirstAction: "start", Then: "b", ThenAction: "stop", Kind: "optional", Symmetrical: false},
		{ID: "o5", First: "a", FirstAction: "start", Then: "b", ThenAction: "start", Kind: "mandatory", Symmetrical: true},
	}
	if !reflect.DeepEqual(c.Constraints.Order, want) {
		t.Errorf("orders:\ngot  %+v\nwant %+v", c.Constraints.Order, want)
	}
	if NewOrder("o1", "a", "b") != want[0] {
		t.Errorf("NewOrder = %+v, want %+v", NewOrder("o1", "a", "b"), want[0])
	}
	if l := NewLocation("l", "a"); l.Score != Infinity {
		t.Errorf("NewLocation score = %v", l.Score)
	}
	if l := NewColocation("c", "a", "b"); l.Score != Infinity {
		t.Errorf("NewColocation score = %v", l.Score)
	}
}

func tagNames(t reflect.Type, key string) []string {
	var names []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get(key), ",")
		names = append(names, name)
	}
	return names
}

// TestWireFieldsMatchModel: the decoders read constraints through wire
// structs, which must name the same fields as the model.
func TestWireFieldsMatchModel(t *testing.T) {
	for _, pair := range [][2]reflect.Type{
		{reflect.TypeFor[Location](), reflect.TypeFor[locationWire]()},
		{reflect.TypeFor[Colocation](), reflect.TypeFor[colocationWire]()},
		{reflect.TypeFor[Order](), reflect.TypeFor[orderWire]()},
	} {
		for _, key := range []string{"json", "yaml"} {
			if m, w := tagNames(pair[0], key), tagNames(pair[1], key); !reflect.DeepEqual(m, w) {
				t.Errorf("%s %s fields %v, wire has %v", pair[0].Name(), key, m, w)
			}
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
		json           bool
	}{
		{"json unknown field", "{\n  \"epoch\": 1,\n  \"nodez\": []\n}", `line 3: json: unknown field "nodez"`, true},
		{"json unknown constraint field", "{\"constraints\": {\"order\": [\n{\"id\": \"o\", \"weight\": 1}]}}", `line 2: json: unknown field "weight"`, true},
		{"json syntax", "{\n\"epoch\": 1,,\n}", "line 2: invalid character ','", true},
		{"json type", "{\n\"nodes\": [{\"name\": 5}]}", "line 2: json: cannot unmarshal number into Go struct field", true},
		{"json trailing", "{\"epoch\": 1}\n{\"epoch\": 2}", "line 2: trailing data after the JSON configuration object", true},
		{"json trailing garbage", "{\"epoch\": 1} x", "trailing data", true},
		{"json empty", "  ", "no JSON configuration document", true},
		{"json not object", "[1]", "cannot unmarshal array", true},
		{"json bad duration", `{"primitives": [{"id": "p", "agent": "lsb:x", "ops": [{"name": "monitor", "interval": "often"}]}]}`, `bad duration "often"`, true},
		{"yaml tab indent", "epoch: 1\n\tnodes: []\n", "yaml: line 2", false},
		{"yaml duplicate key", "epoch: 1\nepoch: 2\n", `mapping key "epoch" already defined`, false},
		{"yaml trailing garbage", "epoch: 1\n---\n]\n", "after the configuration document", false},
		{"yaml constraint not a mapping", "constraints:\n  order: [5]\n", "cannot unmarshal !!int `5` into cib.orderWire", false},
		{"yaml bad symmetrical", "constraints:\n  order: [{id: o, first: a, then: b, symmetrical: maybe}]\n", "cannot unmarshal !!str `maybe` into bool", false},
	}
	for _, tt := range tests {
		var err error
		if tt.json {
			_, err = DecodeJSON([]byte(tt.in))
		} else {
			_, err = DecodeYAML([]byte(tt.in))
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestDecodeYAMLAnchorsAndNulls(t *testing.T) {
	c, err := DecodeYAML([]byte(`
constraints:
  order:
    - &base {id: o1, first: a, then: b, kind: optional}
    - {<<: *base, id: o2}
  location:
    - {id: l1, rsc: a, node: n1, score: ~}
`))
	if err != nil {
		t.Fatal(err)
	}
	o2 := c.Constraints.Order[1]
	if o2.ID != "o2" || o2.First != "a" || o2.Kind != "optional" || !o2.Symmetrical {
		t.Errorf("merged order = %+v", o2)
	}
	if s := c.Constraints.Location[0].Score; s != Infinity {
		t.Errorf("null score = %v, want the default INFINITY", s)
	}
}

func TestEncodeNil(t *testing.T) {
	if _, err := EncodeYAML(nil); err == nil {
		t.Error("EncodeYAML(nil) succeeded")
	}
	if _, err := EncodeJSON(nil); err == nil {
		t.Error("EncodeJSON(nil) succeeded")
	}
}

// TestEncodeYAMLQuotesControlCharacters: yaml.v3 alone writes "\n" as an
// empty literal block that reads back as "".
func TestEncodeYAMLQuotesControlCharacters(t *testing.T) {
	c := &Config{Primitives: []Primitive{{ID: "p", Agent: "lsb:x", Params: map[string]string{
		"a": "\n", "b": "two\nlines\n", "c": " lead", "d": "tab\there", "e": "\u2028", "g": "yes", "h": "010", "i": "",
	}}}}
	roundTrip(t, c)
	// Invalid UTF-8 (which Validate refuses) survives YAML, not JSON.
	c.Primitives[0].Params["f"] = "\xff\xfe"
	y, err := EncodeYAML(c)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := DecodeYAML(y); err != nil || !reflect.DeepEqual(back, c) {
		t.Errorf("YAML round trip: %v\n%s", err, y)
	}
	for _, want := range []string{`a: "\n"`, `b: "two\nlines\n"`, `d: "tab\there"`, `f: !!binary //4=`, `g: "yes"`, `h: "010"`} {
		if !strings.Contains(string(y), want) {
			t.Errorf("encoding lacks %s:\n%s", want, y)
		}
	}
}
