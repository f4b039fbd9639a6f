package kaconf

import (
	"fmt"
	"strings"
)

// This file turns the text of the configuration into logical lines, as
// keepalived's read_line() does (acassen/keepalived: lib/parser.c, v2.2.7):
//
//  1. A physical line loses its comment ('!' or '#' outside double quotes,
//     to the end of the line; "\#" and "\!" are literal), and its leading
//     and trailing blanks. Empty lines are skipped.
//  2. "@ID rest" keeps rest only when ID is the config ID; "@^ID rest" only
//     when it is not.
//  3. "$NAME=value" defines a parameter (a value ending in '\' continues on
//     the next lines: a multi-line definition). "$NAME" followed by a blank,
//     ',', ')' or the end of the line, and "${NAME}" anywhere, are replaced
//     by the value, again and again; a multi-line value is replaced only at
//     the end of a line and its further lines follow that line.
//  4. "include PATTERN" reads the files the pattern matches (include.go).
//  5. A '{' or '}' outside double quotes ends the line: "a b {" is the two
//     lines "a b" and "{", and "} c" is "}" and "c".
//  6. The line is split into words at blanks; "..." is one word without its
//     quotes (no escapes at this level; scripts re-read their line with
//     keepalived's quoting rules, see command.go).
//
// keepalived has no line continuation outside definitions; neither do we.

// Limits that keep hostile input from running away; real configurations
// are far below them.
const (
	maxFileBytes     = 16 << 20 // bytes in one file
	maxLineBytes     = 64 << 10 // bytes in one line after substitution
	maxSubstitutions = 1000     // parameter substitutions on one line
	maxExpandedLines = 100000   // lines produced by multi-line definitions
	maxExpandedBytes = 64 << 20 // bytes produced by parameter substitution
	maxIncludeDepth  = 32       // files open at once
	maxBlockDepth    = 64       // nested { } blocks
)

// Options are the settings keepalived takes from its command line.
type Options struct {
	// ConfigID selects conditional lines: "@ID ..." is read only when ID is
	// ConfigID, "@^ID ..." only when it is not. It is keepalived's -i
	// option, which defaults to the host name up to its first dot. ""
	// matches no "@ID" line.
	ConfigID string
}

// logicalLine is one line as the block structure sees it.
type logicalLine struct {
	pos   Pos
	text  string   // after steps 1-5
	words []string // step 6
}

// definition is a "$NAME=value" parameter.
type definition struct {
	lines     []string // the value; several for a multi-line definition
	multiline bool
	std       string // a pre-defined parameter computed when used (_PWD, ...)
	maxParams int    // parameters ${NAME p1 p2} the definition accepts
}

// pendingLine is text waiting to be read before the next file line: the
// rest of a line after a brace, or the further lines of a multi-line
// definition. It has been decommented already. The lexer keeps them as a
// stack: the next one to read is the last.
type pendingLine struct {
	text string
	pos  Pos
}

// lexer reads logical lines from a file and the files it includes.
type lexer struct {
	opt      Options
	frames   []*includeFrame // innermost last
	pending  []pendingLine
	defs     map[string]*definition
	multi    *definition // the multi-line definition being read
	expanded int         // lines produced by multi-line definitions so far
	produced int         // bytes produced by parameter substitution so far
	warnings []Warning
}

func newLexer(opt Options, root *source) *lexer {
	lx := &lexer{
		opt:    opt,
		frames: []*includeFrame{{cur: root}},
		defs: map[string]*definition{
			// Pre-defined parameters (keepalived.conf(5), "Pre-defined
			// definitions"). _RANDOM is refused: a configuration must read
			// the same way twice.
			"_PWD":      {std: "_PWD"},
			"_INSTANCE": {std: "_INSTANCE"},
			"_RANDOM":   {std: "_RANDOM", maxParams: 2},
			"_HASH":     {lines: []string{"#"}},
			"_BANG":     {lines: []string{"!"}},
		},
	}
	return lx
}

func (lx *lexer) warn(pos Pos, format string, args ...any) {
	lx.warnings = append(lx.warnings, Warning{File: pos.File, Line: pos.Line, Msg: fmt.Sprintf(format, args...)})
}

func errAt(pos Pos, format string, args ...any) *Error {
	return &Error{File: pos.File, Line: pos.Line, Msg: fmt.Sprintf(format, args...)}
}

// next returns the next logical line; ok is false at the end of the input.
func (lx *lexer) next() (ll logicalLine, ok bool, err error) {
	for {
		var text string
		var pos Pos
		if n := len(lx.pending); n > 0 {
			text, pos = lx.pending[n-1].text, lx.pending[n-1].pos
			lx.pending = lx.pending[:n-1]
		} else {
			text, pos, ok, err = lx.nextFileLine()
			if err != nil || !ok {
				lx.endDefinition()
				return logicalLine{}, false, err
			}
		}
		if lx.multi != nil {
			lx.continueDefinition(text)
			continue
		}
		text, err = lx.preprocess(text, pos)
		if err != nil {
			return logicalLine{}, false, err
		}
		if text == "" {
			continue
		}
		if inc, ok := parseInclude(text); ok {
			if err := lx.include(inc, pos); err != nil {
				return logicalLine{}, false, err
			}
			continue
		}
		text, rest := splitBrace(text)
		if rest != "" {
			lx.pending = append(lx.pending, pendingLine{text: rest, pos: pos})
		}
		words, err := splitWords(text)
		if err != nil {
			return logicalLine{}, false, errAt(pos, "%v", err)
		}
		if len(words) == 0 {
			continue
		}
		return logicalLine{pos: pos, text: text, words: words}, true, nil
	}
}

// nextFileLine returns the next decommented, non-empty physical line.
func (lx *lexer) nextFileLine() (string, Pos, bool, error) {
	for len(lx.frames) > 0 {
		fr := lx.frames[len(lx.frames)-1]
		f := fr.cur
		if f == nil || f.next >= len(f.lines) {
			if err := lx.nextInFrame(fr); err != nil {
				return "", Pos{}, false, err
			}
			continue
		}
		raw := strings.TrimRight(f.lines[f.next], "\r\n")
		f.next++
		pos := Pos{File: f.name, Line: f.next}
		if raw == "" {
			// An empty line ends a multi-line definition.
			lx.endDefinition()
			continue
		}
		if strings.IndexByte(raw, 0) >= 0 {
			return "", Pos{}, false, errAt(pos, "NUL byte in line")
		}
		text, err := decomment(raw)
		if err != nil {
			return "", Pos{}, false, errAt(pos, "%v", err)
		}
		if text != "" {
			return text, pos, true, nil
		}
	}
	return "", Pos{}, false, nil
}

// decomment removes a comment, leading and trailing blanks, and the
// backslash of "\#" and "\!" outside double quotes, as keepalived's
// decomment() does. A line ending in a backslash (before its comment)
// keeps that backslash at its end.
func decomment(s string) (string, error) {
	b := []byte(strings.TrimLeft(s, " \t"))
	quote, cont := false, false
	skip := -1
scan:
	for i := 0; i < len(b); {
		switch b[i] {
		case '"':
			if skip < 0 {
				quote = !quote
			}
			i++
		case '\\':
			if i+1 >= len(b) {
				b = b[:i]
				cont = true
				break scan
			}
			if !quote && (b[i+1] == '#' || b[i+1] == '!') {
				b = append(b[:i], b[i+1:]...)
				i++
			} else {
				i += 2
			}
		case '!', '#':
			if !quote && skip < 0 {
				skip = i
			}
			i++
		default:
			i++
		}
	}
	if quote {
		return "", fmt.Errorf("unterminated \" in: %s", strings.TrimSpace(s))
	}
	if skip >= 0 && skip < len(b) {
		b = b[:skip]
	}
	out := strings.TrimRight(string(b), " \t")
	if cont {
		out += `\`
	}
	return out, nil
}

// preprocess applies conditional lines, definitions and parameter
// substitution to a line (steps 2 and 3). It returns "" when nothing is
// left of the line.
func (lx *lexer) preprocess(buf string, pos Pos) (string, error) {
	substitutions := 0
	for {
		if strings.HasPrefix(buf, "@") {
			ofs := 1
			negate := strings.HasPrefix(buf, "@^")
			if negate {
				ofs = 2
			}
			sp := strings.IndexAny(buf[ofs:], " \t")
			if sp < 0 {
				return "", nil
			}
			id := buf[ofs : ofs+sp]
			match := lx.opt.ConfigID != "" && id == lx.opt.ConfigID
			if match == negate {
				return "", nil
			}
			buf = strings.TrimLeft(buf[ofs+sp:], " \t")
		}
		if name, def, ok := parseDefinition(buf); ok {
			lx.defs[name] = def
			if def.multiline {
				lx.multi = def
			}
			return "", nil
		}
		if strings.HasPrefix(buf, "~SEQ") || strings.HasPrefix(buf, "~LST") {
			return "", errAt(pos, "%s blocks are not supported", buf[:4])
		}
		if strings.HasPrefix(buf, "~") || !strings.Contains(buf, "$") {
			return buf, nil
		}
		out, n, err := lx.substitute(buf, pos)
		if err != nil {
			return "", err
		}
		if n == 0 {
			return buf, nil
		}
		if substitutions += n; substitutions > maxSubstitutions {
			return "", errAt(pos, "parameter substitution does not end (more than %d substitutions)", maxSubstitutions)
		}
		if buf, err = decomment(out); err != nil {
			return "", errAt(pos, "after parameter substitution: %v", err)
		}
		if !strings.HasPrefix(buf, "@") && !strings.Contains(buf, "$") {
			return buf, nil
		}
	}
}

// parseDefinition reads "$NAME=value" (no blank before '='). A value
// ending in '\' starts a multi-line definition.
func parseDefinition(buf string) (string, *definition, bool) {
	if len(buf) < 2 || buf[0] != '$' || !(isAlpha(buf[1]) || buf[1] == '_') {
		return "", nil, false
	}
	i := 2
	for i < len(buf) && buf[i] != '=' {
		if !isAlnum(buf[i]) && buf[i] != '_' {
			return "", nil, false
		}
		i++
	}
	if i >= len(buf) {
		return "", nil, false
	}
	value := strings.TrimLeft(buf[i+1:], " \t")
	def := &definition{}
	if strings.HasSuffix(value, `\`) {
		def.multiline = true
		value = strings.TrimRight(value[:len(value)-1], " \t")
		if value != "" {
			def.lines = []string{value}
		}
	} else {
		def.lines = []string{value}
	}
	return buf[1:i], def, true
}

// continueDefinition adds a line to the multi-line definition being read.
func (lx *lexer) continueDefinition(text string) {
	if seg, ok := strings.CutSuffix(text, `\`); ok {
		if seg = strings.TrimRight(seg, " \t"); seg != "" {
			lx.multi.lines = append(lx.multi.lines, seg)
		}
		return
	}
	lx.multi.lines = append(lx.multi.lines, text)
	lx.endDefinition()
}

func (lx *lexer) endDefinition() {
	if lx.multi != nil && len(lx.multi.lines) == 0 {
		lx.multi.multiline = false
		lx.multi.lines = []string{""}
	}
	lx.multi = nil
}

// substitute replaces parameter references in buf, as keepalived's
// replace_param(): after a replacement the scan goes on at the start of the
// replacement, so references in values are replaced too. It returns the
// number of replacements.
func (lx *lexer) substitute(buf string, pos Pos) (string, int, error) {
	n := 0
	cur := 0
	for {
		i := strings.IndexByte(buf[cur:], '$')
		if i < 0 {
			break
		}
		i += cur
		if i+1 >= len(buf) {
			break
		}
		name, refLen, params, ok := scanReference(buf, i)
		def := lx.defs[name]
		atEnd := i+refLen == len(buf)
		if !ok || def == nil || (def.multiline && !atEnd) || (params != "" && def.maxParams == 0) {
			cur = i + 1
			continue
		}
		if n++; n > maxSubstitutions {
			return "", n, errAt(pos, "parameter substitution does not end (more than %d substitutions)", maxSubstitutions)
		}
		value, err := lx.value(def, pos)
		if err != nil {
			return "", n, err
		}
		if def.multiline && len(def.lines) > 1 {
			if lx.expanded += len(def.lines) - 1; lx.expanded > maxExpandedLines {
				return "", n, errAt(pos, "multi-line definitions produce more than %d lines", maxExpandedLines)
			}
			for i := len(def.lines) - 1; i > 0; i-- {
				lx.pending = append(lx.pending, pendingLine{text: def.lines[i], pos: pos})
				lx.produced += len(def.lines[i])
			}
		}
		buf = buf[:i] + value + buf[i+refLen:]
		if len(buf) > maxLineBytes {
			return "", n, errAt(pos, "line longer than %d bytes after parameter substitution", maxLineBytes)
		}
		if lx.produced += len(buf); lx.produced > maxExpandedBytes {
			return "", n, errAt(pos, "parameter substitution produces more than %d bytes", maxExpandedBytes)
		}
		if strings.HasPrefix(strings.TrimLeft(value, " \t"), "~") {
			break
		}
		cur = i
	}
	return buf, n, nil
}

// value returns the (first line of the) value of a definition.
func (lx *lexer) value(def *definition, pos Pos) (string, error) {
	switch def.std {
	case "_PWD":
		return lx.frames[len(lx.frames)-1].cur.dir, nil
	case "_INSTANCE":
		return lx.opt.ConfigID, nil
	case "_RANDOM":
		return "", errAt(pos, "${_RANDOM} is not supported: the configuration must read the same every time")
	}
	if len(def.lines) == 0 {
		return "", nil
	}
	return def.lines[0], nil
}

// scanReference reads the reference at buf[i] == '$': "$NAME" (followed by
// a blank, ',', ')' or the end) or "${NAME}" or "${NAME 1 2}". It returns
// the name, the length of the reference and its parameters.
func scanReference(buf string, i int) (name string, refLen int, params string, ok bool) {
	s := buf[i+1:]
	braces := strings.HasPrefix(s, "{")
	if braces {
		s = s[1:]
	}
	if s == "" || !(isAlpha(s[0]) || s[0] == '_') {
		return "", 0, "", false
	}
	n := 1
	for n < len(s) && (isAlnum(s[n]) || s[n] == '_') {
		n++
	}
	name = s[:n]
	if !braces {
		if n < len(s) && !strings.ContainsRune(" \t,)", rune(s[n])) {
			return "", 0, "", false
		}
		return name, 1 + n, "", true
	}
	p := n
	for p < len(s) && (s[p] == ' ' || isDigit(s[p])) {
		p++
	}
	params = strings.TrimLeft(s[n:p], " ")
	if params != "" && strings.HasSuffix(params, " ") {
		return "", 0, "", false
	}
	if p >= len(s) || s[p] != '}' {
		return "", 0, "", false
	}
	if params == "" {
		// keepalived replaces "${NAME}", so "${NAME }" leaves its "}".
		return name, n + 3, "", true
	}
	return name, 1 + 1 + p + 1, params, true
}

// splitBrace cuts a line at its first '{' or '}' outside double quotes: a
// line starting with a brace is that brace, and the rest follows.
func splitBrace(s string) (head, rest string) {
	if s[0] == '{' || s[0] == '}' {
		return s[:1], strings.TrimRight(strings.TrimLeft(s[1:], " \t"), " \t")
	}
	i := 0
	for {
		j := strings.IndexAny(s[i:], "{}\"")
		if j < 0 {
			return s, ""
		}
		j += i
		if s[j] == '"' {
			k := strings.IndexByte(s[j+1:], '"')
			if k < 0 {
				return s, ""
			}
			i = j + 1 + k + 1
			continue
		}
		return strings.TrimRight(s[:j], " \t"), strings.TrimRight(s[j:], " \t")
	}
}

const whiteSpace = " \t\f\n\r\v"

// splitWords splits a line into words as keepalived's alloc_strvec(): at
// white space, and "..." is one word without its quotes. A quote also ends
// the word before it.
func splitWords(s string) ([]string, error) {
	var words []string
	i := 0
	for {
		for i < len(s) && strings.IndexByte(whiteSpace, s[i]) >= 0 {
			i++
		}
		if i >= len(s) {
			return words, nil
		}
		if s[i] == '"' {
			k := strings.IndexByte(s[i+1:], '"')
			if k < 0 {
				return nil, fmt.Errorf("unmatched quote in %q", s)
			}
			words = append(words, s[i+1:i+1+k])
			i += k + 2
			continue
		}
		j := strings.IndexAny(s[i:], whiteSpace+`"`)
		if j < 0 {
			j = len(s) - i
		}
		words = append(words, s[i:i+j])
		i += j
	}
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }
