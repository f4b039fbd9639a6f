package cib

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Rule is a parsed location rule: an expression on the attributes of one
// node, in pcs syntax ("not_defined pingd or pingd lte 0"). The concrete
// types are AndExpr, OrExpr, DefinedExpr and CompareExpr.
type Rule interface {
	// Eval tells whether the rule holds for a node with these attributes;
	// built-ins such as "#uname" are ordinary keys of attrs.
	Eval(attrs map[string]string) bool
	// String prints the canonical form, which ParseRule reads back to an
	// equal Rule.
	String() string
	rule()
}

// AndExpr holds when every term does. Terms has at least two entries, none
// of them an AndExpr.
type AndExpr struct{ Terms []Rule }

// OrExpr holds when any term does. Terms has at least two entries, none of
// them an OrExpr.
type OrExpr struct{ Terms []Rule }

// DefinedExpr is "defined ATTR" (or "not_defined ATTR" when Negate).
type DefinedExpr struct {
	Attr   string
	Negate bool
}

// CompareExpr is "ATTR OP [TYPE] VALUE": Op is lt, gt, lte, gte, eq or ne;
// Type is string, integer, number, version, or "" when not given.
type CompareExpr struct {
	Attr  string
	Op    string
	Type  string
	Value string
}

func (AndExpr) rule()     {}
func (OrExpr) rule()      {}
func (DefinedExpr) rule() {}
func (CompareExpr) rule() {}

// ruleBuiltins are the node built-in attributes a rule may name
// ("Pacemaker Explained", Node Attribute Expressions).
var ruleBuiltins = []string{"#uname", "#id", "#kind", "#cluster-name"}

var (
	ruleOps   = []string{"lt", "gt", "lte", "gte", "eq", "ne"}
	ruleTypes = []string{"string", "integer", "number", "version"}
	// ruleKeywords may not appear unquoted as an attribute name or value.
	ruleKeywords = []string{"and", "or", "defined", "not_defined", "lt", "gt", "lte", "gte", "eq", "ne",
		"string", "integer", "number", "version", "date", "date-spec", "duration", "in_range"}
)

// maxRuleDepth bounds parenthesis nesting, so no input exhausts the stack.
const maxRuleDepth = 64

// RuleError is a syntax error in a rule: where (1-based column), at which
// token, and what was expected.
type RuleError struct {
	Column int
	Token  string // "" at the end of the rule
	Msg    string
}

// Error says where the rule went wrong, at which token, and why.
func (e *RuleError) Error() string {
	tok := "end of rule"
	if e.Token != "" {
		tok = strconv.Quote(e.Token)
	}
	return fmt.Sprintf("column %d: unexpected %s: %s", e.Column, tok, e.Msg)
}

type ruleToken struct {
	text   string // unquoted text
	col    int    // 1-based
	quoted bool
	eof    bool
}

// is reports whether the token is the bare keyword or punctuation s.
func (t ruleToken) is(s string) bool { return !t.eof && !t.quoted && t.text == s }

func (t ruleToken) isKeyword() bool {
	return !t.eof && !t.quoted && (t.text == "(" || t.text == ")" || slices.Contains(ruleKeywords, t.text))
}

func lexRule(s string) ([]ruleToken, error) {
	if !utf8.ValidString(s) {
		return nil, &RuleError{Column: 1, Msg: "the rule is not valid UTF-8"}
	}
	var toks []ruleToken
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			toks = append(toks, ruleToken{text: s[i : i+1], col: i + 1})
			i++
		case c == '"':
			start := i
			var b strings.Builder
			i++
			for {
				if i >= len(s) {
					return nil, &RuleError{Column: start + 1, Token: s[start:], Msg: "unterminated quoted string"}
				}
				if s[i] == '"' {
					i++
					break
				}
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
				}
				b.WriteByte(s[i])
				i++
			}
			toks = append(toks, ruleToken{text: b.String(), col: start + 1, quoted: true})
		default:
			start := i
			for i < len(s) && !strings.ContainsRune(" \t\n\r()\"", rune(s[i])) {
				i++
			}
			toks = append(toks, ruleToken{text: s[start:i], col: start + 1})
		}
	}
	return append(toks, ruleToken{eof: true, col: len(s) + 1}), nil
}

type ruleParser struct {
	toks  []ruleToken
	pos   int
	depth int
}

func (p *ruleParser) peek() ruleToken { return p.toks[p.pos] }

func (p *ruleParser) next() ruleToken {
	t := p.toks[p.pos]
	if !t.eof {
		p.pos++
	}
	return t
}

func errAt(t ruleToken, format string, args ...any) error {
	return &RuleError{Column: t.col, Token: t.text, Msg: fmt.Sprintf(format, args...)}
}

// ParseRule reads a pcs-style location rule:
//
//	expr    := and-expr { "or" and-expr }
//	and-expr:= term { "and" term }
//	term    := "(" expr ")" | "defined" ATTR | "not_defined" ATTR
//	         | ATTR ("lt"|"gt"|"lte"|"gte"|"eq"|"ne") [TYPE] VALUE
//	TYPE    := "string" | "integer" | "number" | "version"
//
// ATTR and VALUE are words or double-quoted strings (with \" and \\);
// attributes starting with '#' are the node built-ins #uname, #id, #kind and #cluster-name.
// Date expressions are not supported. Errors are *RuleError.
func ParseRule(expr string) (Rule, error) {
	toks, err := lexRule(expr)
	if err != nil {
		return nil, err
	}
	p := &ruleParser{toks: toks}
	if p.peek().eof {
		return nil, errAt(p.peek(), "the rule is empty")
	}
	r, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); !t.eof {
		return nil, errAt(t, `expected "and", "or" or the end of the rule`)
	}
	return r, nil
}

func (p *ruleParser) parseOr() (Rule, error) {
	var terms []Rule
	for {
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		if o, ok := r.(OrExpr); ok {
			terms = append(terms, o.Terms...)
		} else {
			terms = append(terms, r)
		}
		if !p.peek().is("or") {
			break
		}
		p.next()
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return OrExpr{Terms: terms}, nil
}

func (p *ruleParser) parseAnd() (Rule, error) {
	var terms []Rule
	for {
		r, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		if a, ok := r.(AndExpr); ok {
			terms = append(terms, a.Terms...)
		} else {
			terms = append(terms, r)
		}
		if !p.peek().is("and") {
			break
		}
		p.next()
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return AndExpr{Terms: terms}, nil
}

func (p *ruleParser) parseTerm() (Rule, error) {
	t := p.next()
	switch {
	case t.eof:
		return nil, errAt(t, "expected an expression")
	case t.is("("):
		if p.depth++; p.depth > maxRuleDepth {
			return nil, errAt(t, "parentheses nested deeper than %d", maxRuleDepth)
		}
		r, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if c := p.next(); !c.is(")") {
			return nil, errAt(c, `expected ")" to close the "(" at column %d`, t.col)
		}
		p.depth--
		return r, nil
	case t.is("defined") || t.is("not_defined"):
		a := p.next()
		attr, err := checkRuleAttr(a, t.text)
		if err != nil {
			return nil, err
		}
		return DefinedExpr{Attr: attr, Negate: t.text == "not_defined"}, nil
	case t.is("date") || t.is("date-spec") || t.is("duration"):
		return nil, errAt(t, "date expressions are not supported; rules test node attributes only")
	case t.isKeyword():
		return nil, errAt(t, `expected an attribute name, "defined", "not_defined" or "("`)
	}
	attr, err := checkRuleAttr(t, "")
	if err != nil {
		return nil, err
	}
	op := p.next()
	if op.quoted || !slices.Contains(ruleOps, op.text) {
		if op.is("in_range") {
			return nil, errAt(op, "date expressions are not supported; rules test node attributes only")
		}
		return nil, errAt(op, "expected an operator (lt, gt, lte, gte, eq, ne) after %q", attr)
	}
	c := CompareExpr{Attr: attr, Op: op.text}
	// A type keyword is a type unless nothing that could be a value follows.
	if v := p.peek(); !v.quoted && slices.Contains(ruleTypes, v.text) {
		if after := p.toks[p.pos+1]; !after.eof && (!after.isKeyword() || slices.Contains(ruleTypes, after.text)) {
			c.Type = p.next().text
		}
	}
	v := p.next()
	if v.eof || (v.isKeyword() && !slices.Contains(ruleTypes, v.text)) {
		return nil, errAt(v, "expected a value after %q", op.text)
	}
	c.Value = v.text
	if why := checkRuleValue(c.Type, c.Value); why != "" {
		return nil, errAt(v, "%s", why)
	}
	return c, nil
}

func checkRuleAttr(t ruleToken, after string) (string, error) {
	if t.eof || t.isKeyword() {
		if after != "" {
			return "", errAt(t, "expected an attribute name after %q", after)
		}
		return "", errAt(t, "expected an attribute name")
	}
	if t.text == "" {
		return "", errAt(t, "empty attribute name")
	}
	if strings.HasPrefix(t.text, "#") && !slices.Contains(ruleBuiltins, t.text) {
		return "", errAt(t, "unknown built-in attribute (want %s)", strings.Join(ruleBuiltins, ", "))
	}
	return t.text, nil
}

func checkRuleValue(typ, v string) string {
	switch typ {
	case "integer":
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return fmt.Sprintf("%q is not an integer", v)
		}
	case "number":
		if f, err := strconv.ParseFloat(v, 64); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Sprintf("%q is not a number", v)
		}
	case "version":
		for part := range strings.SplitSeq(v, ".") {
			if part == "" || strings.Trim(part, "0123456789") != "" {
				return fmt.Sprintf("%q is not a version (want dotted numbers such as 2.1.4)", v)
			}
		}
	}
	return ""
}

// Eval holds when every term does.
func (e AndExpr) Eval(attrs map[string]string) bool {
	for _, t := range e.Terms {
		if !t.Eval(attrs) {
			return false
		}
	}
	return true
}

// Eval holds when any term does.
func (e OrExpr) Eval(attrs map[string]string) bool {
	for _, t := range e.Terms {
		if t.Eval(attrs) {
			return true
		}
	}
	return false
}

// Eval tests whether the attribute is set.
func (e DefinedExpr) Eval(attrs map[string]string) bool {
	_, ok := attrs[e.Attr]
	return ok != e.Negate
}

// Eval compares the node's attribute with the value as Pacemaker does
// (lib/pengine/rules.c, accept_attr_expr and compare_attr_expr_vals):
//   - without a type, lt/lte/gt/gte compare as numbers (integer, or number
//     when either side has a '.') and eq/ne compare as strings;
//   - integer and number fall back to a string comparison when a side does
//     not parse; strings compare ignoring ASCII case; version compares
//     dotted parts as integers, a missing part counting as 0;
//   - a missing attribute is unequal to every value: eq is false, ne is
//     true, and lt/lte/gt/gte are false.
func (e CompareExpr) Eval(attrs map[string]string) bool {
	l, ok := attrs[e.Attr]
	if !ok {
		return e.Op == "ne"
	}
	cmp := compareAttr(l, e.Value, e.Type, e.Op)
	switch e.Op {
	case "eq":
		return cmp == 0
	case "ne":
		return cmp != 0
	case "lt":
		return cmp < 0
	case "lte":
		return cmp <= 0
	case "gt":
		return cmp > 0
	case "gte":
		return cmp >= 0
	}
	return false
}

func compareAttr(l, r, typ, op string) int {
	if typ == "" {
		typ = "string"
		if op != "eq" && op != "ne" {
			typ = "integer"
			if strings.Contains(l, ".") || strings.Contains(r, ".") {
				typ = "number"
			}
		}
	}
	switch typ {
	case "integer":
		a, err1 := strconv.ParseInt(strings.TrimSpace(l), 10, 64)
		b, err2 := strconv.ParseInt(strings.TrimSpace(r), 10, 64)
		if err1 == nil && err2 == nil {
			return cmp3(a, b)
		}
	case "number":
		a, err1 := strconv.ParseFloat(strings.TrimSpace(l), 64)
		b, err2 := strconv.ParseFloat(strings.TrimSpace(r), 64)
		if err1 == nil && err2 == nil {
			return cmp3(a, b)
		}
	case "version":
		return compareVersion(l, r)
	}
	return compareFold(l, r)
}

func cmp3[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareFold compares ignoring ASCII case, as C's strcasecmp.
func compareFold(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := lowerASCII(a[i]), lowerASCII(b[i])
		if x != y {
			return cmp3(int64(x), int64(y))
		}
	}
	return cmp3(int64(len(a)), int64(len(b)))
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// compareVersion compares dotted versions part by part as integers (leading
// digits of each part; none counts as 0), as Pacemaker's compare_version.
func compareVersion(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(pa), len(pb)) {
		var x, y int64
		if i < len(pa) {
			x = leadingInt(pa[i])
		}
		if i < len(pb) {
			y = leadingInt(pb[i])
		}
		if c := cmp3(x, y); c != 0 {
			return c
		}
	}
	return 0
}

func leadingInt(s string) int64 {
	var n int64
	for i := 0; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		if n > (math.MaxInt64-9)/10 {
			return math.MaxInt64
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n
}

// String joins the terms with "and", parenthesizing "or" terms.
func (e AndExpr) String() string {
	parts := make([]string, len(e.Terms))
	for i, t := range e.Terms {
		parts[i] = t.String()
		if _, ok := t.(OrExpr); ok {
			parts[i] = "(" + parts[i] + ")"
		}
	}
	return strings.Join(parts, " and ")
}

// String joins the terms with "or".
func (e OrExpr) String() string {
	parts := make([]string, len(e.Terms))
	for i, t := range e.Terms {
		parts[i] = t.String()
	}
	return strings.Join(parts, " or ")
}

// String prints "defined ATTR" or "not_defined ATTR".
func (e DefinedExpr) String() string {
	if e.Negate {
		return "not_defined " + quoteRuleWord(e.Attr)
	}
	return "defined " + quoteRuleWord(e.Attr)
}

// String prints "ATTR OP [TYPE] VALUE", quoting where needed.
func (e CompareExpr) String() string {
	s := quoteRuleWord(e.Attr) + " " + e.Op + " "
	if e.Type != "" {
		s += e.Type + " "
	}
	return s + quoteRuleWord(e.Value)
}

// quoteRuleWord quotes s unless it reads back as the same bare word.
func quoteRuleWord(s string) string {
	if s != "" && !slices.Contains(ruleKeywords, s) && !strings.ContainsAny(s, " \t\n\r()\"\\") {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
