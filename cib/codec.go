package cib

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// DecodeYAML reads a configuration from one YAML document. It is strict:
// unknown fields are errors naming the field and its line, and anything
// after the first document is refused. Constraint defaults are filled in
// (see Location, Colocation, Order) and the result is normalized (see
// Normalize), but not validated: call Validate.
func DecodeYAML(b []byte) (c *Config, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("yaml: internal error in the YAML decoder: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("no YAML configuration document")
		}
		return nil, err
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, fmt.Errorf("after the configuration document: %w", err)
	default:
		return nil, fmt.Errorf("yaml: line %d: trailing document after the configuration; give one document only", extra.Line)
	}
	cfg.Normalize()
	return &cfg, nil
}

// DecodeJSON reads a configuration from one JSON object, as strictly as
// DecodeYAML: unknown fields and trailing data are errors.
func DecodeJSON(b []byte) (*Config, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("no JSON configuration document")
		}
		return nil, jsonError(b, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("line %d: trailing data after the JSON configuration object", lineAt(b, dec.InputOffset()))
	}
	cfg.Normalize()
	return &cfg, nil
}

var unknownJSONField = regexp.MustCompile(`^json: unknown field "(.*)"$`)

// jsonError adds a line number to a JSON decoding error where it can.
func jsonError(b []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("line %d: %w", lineAt(b, syn.Offset), err)
	case errors.As(err, &typ):
		return fmt.Errorf("line %d: %w", lineAt(b, typ.Offset), err)
	}
	if m := unknownJSONField.FindStringSubmatch(err.Error()); m != nil {
		key := regexp.MustCompile(`"` + regexp.QuoteMeta(m[1]) + `"\s*:`)
		if at := key.FindIndex(b); at != nil {
			return fmt.Errorf("line %d: %w", lineAt(b, int64(at[0])), err)
		}
	}
	return err
}

func lineAt(b []byte, off int64) int {
	off = min(max(off, 0), int64(len(b)))
	return 1 + bytes.Count(b[:off], []byte("\n"))
}

// EncodeYAML writes a configuration as YAML that DecodeYAML reads back to
// an equal Config.
func EncodeYAML(c *Config) (out []byte, err error) {
	if c == nil {
		return nil, errors.New("encode yaml: no configuration")
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("yaml: internal error in the YAML encoder: %v", r)
		}
	}()
	root, err := yamlNode(reflect.ValueOf(c))
	if err != nil {
		return nil, fmt.Errorf("encode yaml: %w", err)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var (
	yaml11Bools       = []string{"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"}
	yamlMarshalerType = reflect.TypeFor[yaml.Marshaler]()
	timeType          = reflect.TypeFor[time.Time]()
)

// yamlNode builds the YAML node of a model value as yaml.v3 would (field
// tags, omitempty, MarshalYAML), except for strings: those holding a line
// break, a tab or another unprintable character are double-quoted with
// escapes, and invalid UTF-8 is written as !!binary. yaml.v3 writes the
// former in block style, which does not always read back unchanged (a lone
// "\n" comes back empty), and its Node.Encode re-reads its own output, so
// the node is built here instead.
func yamlNode(v reflect.Value) (*yaml.Node, error) {
	scalar := func(tag, value string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
	}
	if v.Kind() == reflect.Pointer && v.IsNil() {
		return scalar("!!null", "null"), nil
	}
	if v.Type().Implements(yamlMarshalerType) {
		m, err := v.Interface().(yaml.Marshaler).MarshalYAML()
		if err != nil {
			return nil, err
		}
		return yamlNode(reflect.ValueOf(m))
	}
	if v.Type() == timeType {
		return scalar("!!timestamp", v.Interface().(time.Time).Format(time.RFC3339Nano)), nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		return yamlNode(v.Elem())
	case reflect.String:
		s := v.String()
		if !utf8.ValidString(s) {
			return scalar("!!binary", base64.StdEncoding.EncodeToString([]byte(s))), nil
		}
		n := scalar("!!str", s)
		// Quote YAML 1.1 booleans too, as yaml.v3's Marshal does, for
		// readers of the older spec.
		if strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) || slices.Contains(yaml11Bools, s) {
			n.Style = yaml.DoubleQuotedStyle
		}
		return n, nil
	case reflect.Bool:
		return scalar("!!bool", strconv.FormatBool(v.Bool())), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return scalar("!!int", strconv.FormatInt(v.Int(), 10)), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return scalar("!!int", strconv.FormatUint(v.Uint(), 10)), nil
	case reflect.Slice:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for i := range v.Len() {
			e, err := yamlNode(v.Index(i))
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, e)
		}
		return n, nil
	case reflect.Map:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			kn, err := yamlNode(k)
			if err != nil {
				return nil, err
			}
			vn, err := yamlNode(v.MapIndex(k))
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, kn, vn)
		}
		return n, nil
	case reflect.Struct:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		t := v.Type()
		for i := range t.NumField() {
			name, opts, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			f := v.Field(i)
			if name == "-" || !t.Field(i).IsExported() || (opts == "omitempty" && isEmptyYAML(f)) {
				continue
			}
			vn, err := yamlNode(f)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, scalar("!!str", name), vn)
		}
		return n, nil
	}
	return nil, fmt.Errorf("cannot encode a %s", v.Type())
}

// isEmptyYAML is yaml.v3's omitempty test: an IsZero method if there is
// one, else the zero value or an empty map or slice.
func isEmptyYAML(v reflect.Value) bool {
	if z, ok := v.Interface().(interface{ IsZero() bool }); ok {
		return z.IsZero()
	}
	switch v.Kind() {
	case reflect.Map, reflect.Slice:
		return v.Len() == 0
	}
	return v.IsZero()
}

// EncodeJSON writes a configuration as indented JSON that DecodeJSON reads
// back to an equal Config.
func EncodeJSON(c *Config) ([]byte, error) {
	if c == nil {
		return nil, errors.New("encode json: no configuration")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Normalize rewrites a configuration into its canonical form, in place:
// legacy role names become current ones (Master -> Promoted, Slave ->
// Unpromoted, any case -> Started), order kinds become lower case
// (Mandatory -> mandatory), empty maps and lists become nil, and a
// last-change time at offset zero is put in UTC, so that encoding and
// decoding give back an equal Config. The decoders call it.
func (c *Config) Normalize() {
	if lc := c.LastChange; lc != nil {
		if _, off := lc.Time.Zone(); off == 0 {
			lc.Time = lc.Time.UTC() // "+00:00" may read as Local; it is UTC
		}
	}
	c.Properties = nilIfEmpty(c.Properties)
	c.ResourceDefaults = normalizeMeta(c.ResourceDefaults)
	c.Nodes = nilIfNone(c.Nodes)
	for i := range c.Nodes {
		n := &c.Nodes[i]
		n.Attributes, n.Utilization = nilIfEmpty(n.Attributes), nilIfEmpty(n.Utilization)
	}
	c.Primitives = nilIfNone(c.Primitives)
	for i := range c.Primitives {
		p := &c.Primitives[i]
		p.Params, p.Meta, p.Utilization = nilIfEmpty(p.Params), normalizeMeta(p.Meta), nilIfEmpty(p.Utilization)
		p.Ops = nilIfNone(p.Ops)
		for j := range p.Ops {
			p.Ops[j].Role = normalizeRole(p.Ops[j].Role)
		}
	}
	c.Groups = nilIfNone(c.Groups)
	for i := range c.Groups {
		c.Groups[i].Members, c.Groups[i].Meta = nilIfNone(c.Groups[i].Members), normalizeMeta(c.Groups[i].Meta)
	}
	c.Clones = nilIfNone(c.Clones)
	for i := range c.Clones {
		c.Clones[i].Meta = normalizeMeta(c.Clones[i].Meta)
	}
	cs := &c.Constraints
	cs.Location, cs.Colocation, cs.Order = nilIfNone(cs.Location), nilIfNone(cs.Colocation), nilIfNone(cs.Order)
	for i := range cs.Location {
		cs.Location[i].Role = normalizeRole(cs.Location[i].Role)
	}
	for i := range cs.Colocation {
		l := &cs.Colocation[i]
		l.RscRole, l.WithRscRole = normalizeRole(l.RscRole), normalizeRole(l.WithRscRole)
	}
	for i := range cs.Order {
		o := &cs.Order[i]
		switch k := strings.ToLower(o.Kind); k {
		case OrderMandatory, OrderOptional, OrderSerialize:
			o.Kind = k
		}
	}
	c.FenceDevices = nilIfNone(c.FenceDevices)
	for i := range c.FenceDevices {
		f := &c.FenceDevices[i]
		f.Params, f.Meta = nilIfEmpty(f.Params), normalizeMeta(f.Meta)
	}
	c.FenceLevels = nilIfNone(c.FenceLevels)
	for i := range c.FenceLevels {
		c.FenceLevels[i].Devices = nilIfNone(c.FenceLevels[i].Devices)
	}
	c.normalizeAlerts()
}

func nilIfEmpty[M ~map[K]V, K comparable, V any](m M) M {
	if len(m) == 0 {
		return nil
	}
	return m
}

func nilIfNone[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return s
}

// normalizeRole returns the canonical name of a known role, and anything
// else unchanged (for Validate to report).
func normalizeRole(r string) string {
	if n := canonicalRole(r); n != "" {
		return n
	}
	return r
}

func normalizeMeta(m map[string]string) map[string]string {
	if r, ok := m["target-role"]; ok {
		m["target-role"] = normalizeRole(r)
	}
	return nilIfEmpty(m)
}

// The wire forms of the constraints: optional fields with a default are
// pointers, so that absence can be told from a zero value. Their field
// names must match the model's (TestWireFieldsMatchModel).
type locationWire struct {
	ID             string `json:"id" yaml:"id"`
	Rsc            string `json:"rsc" yaml:"rsc"`
	Node           string `json:"node" yaml:"node"`
	Score          *Score `json:"score" yaml:"score"`
	ScoreAttribute string `json:"score-attribute" yaml:"score-attribute"`
	Rule           string `json:"rule" yaml:"rule"`
	Role           string `json:"role" yaml:"role"`
}

type colocationWire struct {
	ID          string `json:"id" yaml:"id"`
	Rsc         string `json:"rsc" yaml:"rsc"`
	WithRsc     string `json:"with-rsc" yaml:"with-rsc"`
	Score       *Score `json:"score" yaml:"score"`
	RscRole     string `json:"rsc-role" yaml:"rsc-role"`
	WithRscRole string `json:"with-rsc-role" yaml:"with-rsc-role"`
}

type orderWire struct {
	ID          string  `json:"id" yaml:"id"`
	First       string  `json:"first" yaml:"first"`
	FirstAction *string `json:"first-action" yaml:"first-action"`
	Then        string  `json:"then" yaml:"then"`
	ThenAction  *string `json:"then-action" yaml:"then-action"`
	Kind        *string `json:"kind" yaml:"kind"`
	Symmetrical *bool   `json:"symmetrical" yaml:"symmetrical"`
}

func scoreOr(s *Score, def Score) Score {
	if s == nil {
		return def
	}
	return *s
}

func (w locationWire) model() Location {
	return Location{ID: w.ID, Rsc: w.Rsc, Node: w.Node, Score: scoreOr(w.Score, Infinity),
		ScoreAttribute: w.ScoreAttribute, Rule: w.Rule, Role: w.Role}
}

func (w colocationWire) model() Colocation {
	return Colocation{ID: w.ID, Rsc: w.Rsc, WithRsc: w.WithRsc, Score: scoreOr(w.Score, Infinity),
		RscRole: w.RscRole, WithRscRole: w.WithRscRole}
}

// model fills the defaults of "Pacemaker Explained", Ordering Constraints:
// first-action start, then-action the same as first-action, kind
// mandatory, symmetrical unless the kind is serialize.
func (w orderWire) model() Order {
	o := Order{ID: w.ID, First: w.First, FirstAction: "start", Then: w.Then, Kind: OrderMandatory}
	if w.FirstAction != nil {
		o.FirstAction = *w.FirstAction
	}
	o.ThenAction = o.FirstAction
	if w.ThenAction != nil {
		o.ThenAction = *w.ThenAction
	}
	if w.Kind != nil {
		o.Kind = *w.Kind
	}
	o.Symmetrical = !strings.EqualFold(o.Kind, OrderSerialize)
	if w.Symmetrical != nil {
		o.Symmetrical = *w.Symmetrical
	}
	return o
}

// UnmarshalYAML reads a location constraint strictly; score defaults to
// INFINITY.
func (l *Location) UnmarshalYAML(n *yaml.Node) error {
	var w locationWire
	if err := decodeYAMLStrict(n, &w, "Location"); err != nil {
		return err
	}
	*l = w.model()
	return nil
}

// UnmarshalYAML reads a colocation constraint strictly; score defaults to
// INFINITY.
func (l *Colocation) UnmarshalYAML(n *yaml.Node) error {
	var w colocationWire
	if err := decodeYAMLStrict(n, &w, "Colocation"); err != nil {
		return err
	}
	*l = w.model()
	return nil
}

// UnmarshalYAML reads an order constraint strictly, filling its defaults.
func (o *Order) UnmarshalYAML(n *yaml.Node) error {
	var w orderWire
	if err := decodeYAMLStrict(n, &w, "Order"); err != nil {
		return err
	}
	*o = w.model()
	return nil
}

// UnmarshalJSON reads a location constraint strictly; score defaults to
// INFINITY.
func (l *Location) UnmarshalJSON(b []byte) error {
	var w locationWire
	if isJSONNull(b) {
		return nil
	}
	if err := decodeJSONStrict(b, &w); err != nil {
		return err
	}
	*l = w.model()
	return nil
}

// UnmarshalJSON reads a colocation constraint strictly; score defaults to
// INFINITY.
func (l *Colocation) UnmarshalJSON(b []byte) error {
	var w colocationWire
	if isJSONNull(b) {
		return nil
	}
	if err := decodeJSONStrict(b, &w); err != nil {
		return err
	}
	*l = w.model()
	return nil
}

// UnmarshalJSON reads an order constraint strictly, filling its defaults.
func (o *Order) UnmarshalJSON(b []byte) error {
	var w orderWire
	if isJSONNull(b) {
		return nil
	}
	if err := decodeJSONStrict(b, &w); err != nil {
		return err
	}
	*o = w.model()
	return nil
}

func isJSONNull(b []byte) bool { return string(bytes.TrimSpace(b)) == "null" }

func decodeJSONStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// decodeYAMLStrict decodes n into the wire struct w, refusing keys w does
// not have: a yaml.Decoder's KnownFields does not reach into a custom
// UnmarshalYAML.
func decodeYAMLStrict(n *yaml.Node, w any, typeName string) error {
	known := map[string]bool{}
	t := reflect.TypeOf(w).Elem()
	for i := range t.NumField() {
		known[strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]] = true
	}
	if err := checkYAMLKeys(n, known, typeName, 0); err != nil {
		return err
	}
	return n.Decode(w)
}

func checkYAMLKeys(n *yaml.Node, known map[string]bool, typeName string, depth int) error {
	if depth > 8 {
		return fmt.Errorf("line %d: merge keys nested too deep in type cib.%s", n.Line, typeName)
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return checkYAMLKeys(n.Alias, known, typeName, depth+1)
	}
	if n.Kind != yaml.MappingNode {
		return nil // n.Decode reports the type error
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge" {
			merged := []*yaml.Node{val}
			if val.Kind == yaml.SequenceNode {
				merged = val.Content
			}
			for _, m := range merged {
				if err := checkYAMLKeys(m, known, typeName, depth+1); err != nil {
					return err
				}
			}
			continue
		}
		if k.Kind != yaml.ScalarNode || !known[k.Value] {
			return fmt.Errorf("line %d: field %s not found in type cib.%s", k.Line, k.Value, typeName)
		}
	}
	return nil
}

// NewLocation returns a location constraint with the defaults a decoder
// fills in: score INFINITY. Set Node or Rule.
func NewLocation(id, rsc string) Location { return locationWire{ID: id, Rsc: rsc}.model() }

// NewColocation returns a colocation constraint with score INFINITY.
func NewColocation(id, rsc, withRsc string) Colocation {
	return colocationWire{ID: id, Rsc: rsc, WithRsc: withRsc}.model()
}

// NewOrder returns a mandatory, symmetrical "start first, then start then"
// order, as a decoder fills in defaults.
func NewOrder(id, first, then string) Order {
	return orderWire{ID: id, First: first, Then: then}.model()
}
