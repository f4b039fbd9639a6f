package cib

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestParseRulePrint(t *testing.T) {
	tests := []struct{ in, want string }{
		{"defined pingd", "defined pingd"},
		{"not_defined pingd", "not_defined pingd"},
		{"pingd lt 1", "pingd lt 1"},
		{"  pingd   gte   integer  100 ", "pingd gte integer 100"},
		{"not_defined pingd or pingd lte 0", "not_defined pingd or pingd lte 0"},
		{"a eq 1 and b eq 2 or c eq 3", "a eq 1 and b eq 2 or c eq 3"},
		{"a eq 1 and (b eq 2 or c eq 3)", "a eq 1 and (b eq 2 or c eq 3)"},
		{"(a eq 1 and b eq 2) or c eq 3", "a eq 1 and b eq 2 or c eq 3"},
		{"((a eq 1))", "a eq 1"},
		{"a eq 1 or (b eq 2 or c eq 3)", "a eq 1 or b eq 2 or c eq 3"},
		{"(a eq 1 and b eq 2) and c eq 3", "a eq 1 and b eq 2 and c eq 3"},
		{"#uname eq node1", "#uname eq node1"},
		{"#kind ne remote and #id gt 3", "#kind ne remote and #id gt 3"},
		{`site eq "data center 1"`, `site eq "data center 1"`},
		{`site eq "say \"hi\" \\ bye"`, `site eq "say \"hi\" \\ bye"`},
		{`x eq ""`, `x eq ""`},
		{"x eq string", `x eq "string"`},
		{"x eq string string", `x eq string "string"`},
		{`x eq "and"`, `x eq "and"`},
		{`"and" eq 1`, `"and" eq 1`},
		{"x eq integer and y eq 1", `x eq "integer" and y eq 1`},
		{"ver gte version 2.1.4", "ver gte version 2.1.4"},
		{"n lt number -1.5e3", "n lt number -1.5e3"},
		{"x eq a\\b", `x eq "a\\b"`},
		{"a eq (b)", ""}, // error below
	}
	for _, tt := range tests {
		if tt.want == "" {
			continue
		}
		r, err := ParseRule(tt.in)
		if err != nil {
			t.Errorf("ParseRule(%q): %v", tt.in, err)
			continue
		}
		if got := r.String(); got != tt.want {
			t.Errorf("ParseRule(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
		r2, err := ParseRule(r.String())
		if err != nil || !reflect.DeepEqual(r, r2) {
			t.Errorf("%q does not re-parse to an equal rule: %#v vs %#v (%v)", r.String(), r, r2, err)
		}
	}
}

func TestParseRuleAST(t *testing.T) {
	r, err := ParseRule("not_defined pingd or pingd lte integer 0 and #uname ne n1")
	if err != nil {
		t.Fatal(err)
	}
	want := OrExpr{Terms: []Rule{
		DefinedExpr{Attr: "pingd", Negate: true},
		AndExpr{Terms: []Rule{
			CompareExpr{Attr: "pingd", Op: "lte", Type: "integer", Value: "0"},
			CompareExpr{Attr: "#uname", Op: "ne", Value: "n1"},
		}},
	}}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("got %#v\nwant %#v", r, want)
	}
}

func TestParseRuleErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `column 1: unexpected end of rule: the rule is empty`},
		{"   ", `column 4: unexpected end of rule: the rule is empty`},
		{"pingd", `column 6: unexpected end of rule: expected an operator`},
		{"pingd lt", `column 9: unexpected end of rule: expected a value after "lt"`},
		{"pingd is 1", `column 7: unexpected "is": expected an operator (lt, gt, lte, gte, eq, ne) after "pingd"`},
		{"pingd lt 1 and", `column 15: unexpected end of rule: expected an expression`},
		{"pingd lt 1 or or a eq 2", `column 15: unexpected "or": expected an attribute name`},
		{"pingd lt 1 pingd", `column 12: unexpected "pingd": expected "and", "or" or the end of the rule`},
		{"(pingd lt 1", `column 12: unexpected end of rule: expected ")" to close the "(" at column 1`},
		{"pingd lt 1)", `column 11: unexpected ")"`},
		{"defined", `column 8: unexpected end of rule: expected an attribute name after "defined"`},
		{"defined and", `column 9: unexpected "and": expected an attribute name after "defined"`},
		{"#name eq x", `column 1: unexpected "#name": unknown built-in attribute`},
		{"x eq and", `column 6: unexpected "and": expected a value after "eq"`},
		{"x eq (", `column 6: unexpected "(": expected a value after "eq"`},
		{"x gt integer 1.5", `column 14: unexpected "1.5": "1.5" is not an integer`},
		{"x gt number abc", `"abc" is not a number`},
		{"x gt version 1.x", `"1.x" is not a version`},
		{`x eq "open`, `column 6: unexpected "\"open": unterminated quoted string`},
		{"date gt 2025-01-01", `column 1: unexpected "date": date expressions are not supported`},
		{"date-spec hours=9-16", `date expressions are not supported`},
		{"date in_range 2025-01-01 to 2025-02-01", `date expressions are not supported`},
		{"x in_range 1 to 2", `column 3: unexpected "in_range": date expressions are not supported`},
		{"x eq \xff", "not valid UTF-8"},
		{strings.Repeat("(", 70) + "x eq 1" + strings.Repeat(")", 70), "parentheses nested deeper than 64"},
	}
	for _, tt := range tests {
		_, err := ParseRule(tt.in)
		var re *RuleError
		if !errors.As(err, &re) {
			t.Errorf("ParseRule(%q) = %v, want a *RuleError", tt.in, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseRule(%q) = %q, want %q", tt.in, err, tt.want)
		}
	}
}

func TestRuleEval(t *testing.T) {
	node := map[string]string{
		"#uname": "Node1", "#kind": "cluster", "pingd": "1000", "zero": "0", "ver": "2.1.4",
		"ratio": "0.75", "site": "Left", "word": "abc", "padded": "010",
	}
	tests := []struct {
		rule string
		want bool
	}{
		{"defined pingd", true},
		{"defined nope", false},
		{"not_defined nope", true},
		{"not_defined pingd", false},
		// No type: lt/gt compare as integers, eq/ne as strings (ignoring case).
		{"pingd gt 999", true},
		{"pingd gt 10000", false},
		{"pingd lte 1000", true},
		{"pingd gte 1001", false},
		{"zero lt 1", true},
		{"padded eq 10", false},
		{"padded gt 9", true},
		{"padded eq integer 10", true},
		{"#uname eq node1", true},
		{"#uname ne NODE1", false},
		{"site eq left", true},
		// A '.' on either side makes it a number comparison.
		{"ratio lt 1", true},
		{"ratio gt 0.5", true},
		{"pingd gt 999.5", true},
		// An unparsable number falls back to a string comparison.
		{"word gt 5", true}, // "abc" > "5"
		{"word lt integer 5", false},
		// Explicit types.
		{"pingd lt string 2", true}, // "1000" < "2" as strings
		{"pingd lt integer 2", false},
		{"ratio eq number 0.750", true},
		{"ver gt version 2.1.3", true},
		{"ver gt version 2.1.10", false},
		{"ver eq version 2.1.4.0", true},
		{"ver lt version 10", true},
		{"ver gt string 10", true},
		// A missing attribute: eq false, ne true, ordering false.
		{"nope eq 1", false},
		{"nope ne 1", true},
		{"nope lt 1", false},
		{"nope gte 0", false},
		// Precedence and grouping.
		{"not_defined pingd or pingd lte 0", false},
		{"not_defined nope or pingd lte 0", true},
		{"defined pingd and zero eq 1 or site eq left", true},
		{"defined pingd and (zero eq 1 or site eq right)", false},
		{"#kind eq cluster and #uname ne node2", true},
	}
	for _, tt := range tests {
		r, err := ParseRule(tt.rule)
		if err != nil {
			t.Errorf("ParseRule(%q): %v", tt.rule, err)
			continue
		}
		if got := r.Eval(node); got != tt.want {
			t.Errorf("%q on %v = %v, want %v", tt.rule, node, got, tt.want)
		}
	}
}

func TestCompareVersion(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1", "1", 0}, {"1.0", "1", 0}, {"1.2", "1.10", -1}, {"2", "1.99", 1},
		{"1.2.3", "1.2", 1}, {"", "0", 0}, {"1.x", "1.0", 0}, {"99999999999999999999", "1", 1},
	}
	for _, tt := range tests {
		if got := compareVersion(tt.a, tt.b); got != tt.want {
			t.Errorf("compareVersion(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// genRule draws a canonical rule AST: what ParseRule would build.
func genRule(t *rapid.T, depth int) Rule {
	word := rapid.OneOf(rapid.SampledFrom([]string{"pingd", "site", "and", "or", "string", "a b", `q"uote`, `back\slash`, "(x)", "-1", "#uname"}),
		rapid.StringMatching(`[a-z][a-z0-9_.:-]{0,8}`))
	value := rapid.OneOf(word, rapid.String())
	kind := rapid.IntRange(0, 3).Draw(t, "kind")
	if depth <= 0 {
		kind = rapid.IntRange(0, 1).Draw(t, "leaf")
	}
	switch kind {
	case 0:
		return DefinedExpr{Attr: word.Draw(t, "attr"), Negate: rapid.Bool().Draw(t, "negate")}
	case 1:
		c := CompareExpr{Attr: word.Draw(t, "attr"), Op: rapid.SampledFrom(ruleOps).Draw(t, "op"),
			Type: rapid.SampledFrom([]string{"", "string", "integer", "number", "version"}).Draw(t, "type")}
		switch c.Type {
		case "integer":
			c.Value = strconv.FormatInt(rapid.Int64().Draw(t, "int"), 10)
		case "number":
			c.Value = strconv.FormatFloat(rapid.Float64Range(-1e9, 1e9).Draw(t, "num"), 'g', -1, 64)
		case "version":
			c.Value = rapid.StringMatching(`[0-9]{1,3}(\.[0-9]{1,3}){0,3}`).Draw(t, "ver")
		default:
			c.Value = value.Draw(t, "value")
		}
		return c
	}
	n := rapid.IntRange(2, 3).Draw(t, "terms")
	terms := make([]Rule, n)
	for i := range terms {
		for {
			terms[i] = genRule(t, depth-1)
			_, isAnd := terms[i].(AndExpr)
			_, isOr := terms[i].(OrExpr)
			if (kind == 2 && !isAnd) || (kind == 3 && !isOr) {
				break
			}
		}
	}
	if kind == 2 {
		return AndExpr{Terms: terms}
	}
	return OrExpr{Terms: terms}
}

// TestRulePrintParseProperty: every canonical rule prints to text that
// parses back to the same rule.
func TestRulePrintParseProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := genRule(t, 3)
		got, err := ParseRule(r.String())
		if err != nil {
			t.Fatalf("%q: %v", r.String(), err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("%q parsed to %#v, want %#v", r.String(), got, r)
		}
	})
}
