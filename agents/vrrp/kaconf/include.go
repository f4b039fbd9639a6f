package kaconf

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// This file reads included files. keepalived (lib/parser.c: check_include,
// open_and_check_glob) expands the pattern with glob(3) (GLOB_BRACE, so
// "{a,b}" alternatives too) relative to the directory of the including
// file, and reads the matches in order, each to its end, before going on
// with the including file. A match that is a directory or an executable
// file is skipped. The variants includer, includem, includew, includeb and
// includea make more of the problems errors; plain include makes none.
//
// Paceline is stricter: an include of a plain name (no wildcard, no
// braces) that does not exist is an error, and so is a file it cannot read
// and an include loop (which keepalived does not detect). A wildcard that
// matches nothing is a warning (an error for includew and includea), and
// so is a skipped match (an error for the variants).

// source is one configuration file being read.
type source struct {
	name  string // path as opened, shown in positions
	dir   string // its directory, absolute when known (${_PWD})
	lines []string
	next  int         // lines read so far
	info  os.FileInfo // nil for a reader
}

func newSource(name string, data []byte, info os.FileInfo) *source {
	dir := filepath.Dir(name)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return &source{name: name, dir: dir, lines: strings.Split(string(data), "\n"), info: info}
}

// readSource reads a whole file.
func readSource(name string) (*source, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	data, err := readLimited(f, name)
	if err != nil {
		return nil, err
	}
	return newSource(name, data, info), nil
}

func readLimited(r io.Reader, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxFileBytes)
	}
	return data, nil
}

// includeFrame is one include line being read: the file of its matches now
// open and the matches still to come. The first frame holds the main file.
type includeFrame struct {
	cur  *source
	rest []string
	pos  Pos  // the include line
	inc  incl // the include line's variant and pattern
}

// incl is an include line.
type incl struct {
	variant byte // 0 for include, else r, m, w, b or a
	pattern string
}

func (i incl) keyword() string {
	if i.variant == 0 {
		return "include"
	}
	return "include" + string(i.variant)
}

// The checks the include variants add (keepalived's include_t).
func (i incl) errRead() bool     { return i.variant != 0 }
func (i incl) errWildcard() bool { return i.variant == 'w' || i.variant == 'a' }
func (i incl) errBrace() bool    { return i.variant == 'b' || i.variant == 'a' }

// parseInclude recognises "include PATTERN" and its variants, as
// keepalived's is_include(): the keyword, then white space.
func parseInclude(s string) (incl, bool) {
	if !strings.HasPrefix(s, "include") || len(s) == len("include") {
		return incl{}, false
	}
	if isSpace(s[7]) {
		return incl{pattern: strings.TrimLeft(s[8:], " \t")}, true
	}
	if len(s) > 8 && isSpace(s[8]) && strings.IndexByte("rmwba", s[7]) >= 0 {
		return incl{variant: s[7], pattern: strings.TrimLeft(s[9:], " \t")}, true
	}
	return incl{}, false
}

func isSpace(c byte) bool { return strings.IndexByte(whiteSpace, c) >= 0 }

// include starts reading the files an include line matches.
func (lx *lexer) include(inc incl, pos Pos) error {
	if inc.pattern == "" {
		return errAt(pos, "%s without a file name", inc.keyword())
	}
	if len(lx.frames) >= maxIncludeDepth {
		return errAt(pos, "%s %s: includes nested deeper than %d", inc.keyword(), inc.pattern, maxIncludeDepth)
	}
	base := filepath.Dir(lx.frames[len(lx.frames)-1].cur.name)
	files, err := lx.matchInclude(inc, base, pos)
	if err != nil || len(files) == 0 {
		return err
	}
	lx.frames = append(lx.frames, &includeFrame{rest: files, pos: pos, inc: inc})
	return nil
}

// nextInFrame opens the next file of a frame, or ends the frame.
func (lx *lexer) nextInFrame(fr *includeFrame) error {
	if len(fr.rest) == 0 {
		lx.frames = lx.frames[:len(lx.frames)-1]
		return nil
	}
	name := fr.rest[0]
	fr.rest = fr.rest[1:]
	src, err := readSource(name)
	if err != nil {
		return &Error{File: fr.pos.File, Line: fr.pos.Line, Msg: fr.inc.keyword() + " " + fr.inc.pattern, Err: err}
	}
	outer := lx.frames[:len(lx.frames)-1]
	for i, o := range outer {
		if o.cur.info != nil && os.SameFile(o.cur.info, src.info) {
			chain := make([]string, 0, len(outer)-i+1)
			for _, c := range outer[i:] {
				chain = append(chain, c.cur.name)
			}
			chain = append(chain, name)
			return errAt(fr.pos, "include loop: %s", strings.Join(chain, " -> "))
		}
	}
	fr.cur = src
	return nil
}

// matchInclude returns the files an include line reads, in order.
func (lx *lexer) matchInclude(inc incl, base string, pos Pos) ([]string, error) {
	alts, err := expandBraces(inc.pattern)
	if err != nil {
		return nil, errAt(pos, "%s %s: %v", inc.keyword(), inc.pattern, err)
	}
	wildcard := len(alts) > 1 || alts[0] != inc.pattern || hasMeta(inc.pattern)
	var files, unmatched []string
	for _, alt := range alts {
		p := alt
		if !filepath.IsAbs(p) {
			p = filepath.Join(base, p)
		}
		m, err := glob(p)
		if err != nil {
			return nil, errAt(pos, "%s %s: %v", inc.keyword(), inc.pattern, err)
		}
		if len(m) == 0 {
			unmatched = append(unmatched, p)
		}
		files = append(files, m...)
	}
	if len(files) > 0 && len(unmatched) > 0 {
		if inc.errBrace() {
			return nil, errAt(pos, "%s %s: nothing matches %s", inc.keyword(), inc.pattern, strings.Join(unmatched, ", "))
		}
		lx.warn(pos, "%s %s: nothing matches %s", inc.keyword(), inc.pattern, strings.Join(unmatched, ", "))
	}
	if len(files) == 0 {
		if !wildcard {
			p := inc.pattern
			if !filepath.IsAbs(p) {
				p = filepath.Join(base, p)
			}
			return nil, errAt(pos, "%s %s: no such file %s", inc.keyword(), inc.pattern, p)
		}
		if inc.errWildcard() {
			return nil, errAt(pos, "%s %s: no file matches", inc.keyword(), inc.pattern)
		}
		lx.warn(pos, "%s %s: no file matches; nothing included", inc.keyword(), inc.pattern)
		return nil, nil
	}
	var out []string
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return nil, &Error{File: pos.File, Line: pos.Line, Msg: inc.keyword() + " " + inc.pattern, Err: err}
		}
		var why string
		switch {
		case fi.IsDir():
			why = "is a directory"
		case !fi.Mode().IsRegular():
			why = "is not a regular file"
		case fi.Mode()&0o111 != 0:
			why = "is executable (keepalived skips executable files)"
		default:
			out = append(out, f)
			continue
		}
		if inc.errRead() {
			return nil, errAt(pos, "%s %s: %s %s", inc.keyword(), inc.pattern, f, why)
		}
		lx.warn(pos, "%s %s: %s %s; skipped", inc.keyword(), inc.pattern, f, why)
	}
	return out, nil
}

// maxBraceAlternatives bounds the patterns one include expands to.
const maxBraceAlternatives = 1024

// expandBraces expands csh-style alternatives, "a{b,c{d,e}}f" to abf,
// acdf and acef, as glob(3) does with GLOB_BRACE. A '{' without its '}'
// is an ordinary character; a backslash escapes the next character.
func expandBraces(p string) ([]string, error) {
	var out []string
	var expand func(s string) error
	expand = func(s string) error {
		if len(out) >= maxBraceAlternatives {
			return fmt.Errorf("more than %d brace alternatives", maxBraceAlternatives)
		}
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case '\\':
				i++
			case '{':
				end, cuts := matchBrace(s, i)
				if end < 0 {
					continue
				}
				start := i + 1
				for _, c := range append(cuts, end) {
					if err := expand(s[:i] + s[start:c] + s[end+1:]); err != nil {
						return err
					}
					start = c + 1
				}
				return nil
			}
		}
		out = append(out, s)
		return nil
	}
	if err := expand(p); err != nil {
		return nil, err
	}
	return out, nil
}

// matchBrace finds the '}' that closes the '{' at s[open] and the commas
// between them at its level; end is -1 when there is none.
func matchBrace(s string, open int) (end int, commas []int) {
	depth := 0
	for j := open; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '{':
			depth++
		case '}':
			if depth--; depth == 0 {
				return j, commas
			}
		case ',':
			if depth == 1 {
				commas = append(commas, j)
			}
		}
	}
	return -1, nil
}

func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[\`) }

// glob returns the paths matching pattern, sorted, as glob(3) without
// GLOB_PERIOD: a wildcard does not match a leading '.'. "[!...]" negates a
// bracket expression as "[^...]" does.
func glob(pattern string) ([]string, error) {
	if !hasMeta(pattern) {
		if _, err := os.Lstat(pattern); err != nil {
			return nil, nil
		}
		return []string{pattern}, nil
	}
	dir, file := filepath.Split(pattern)
	dir = strings.TrimSuffix(dir, "/")
	switch {
	case dir == "" && strings.HasPrefix(pattern, "/"):
		dir = "/"
	case dir == "":
		dir = "."
	}
	dirs := []string{dir}
	if hasMeta(dir) {
		var err error
		if dirs, err = glob(dir); err != nil {
			return nil, err
		}
	}
	file = strings.ReplaceAll(file, "[!", "[^")
	if _, err := filepath.Match(file, ""); err != nil {
		return nil, fmt.Errorf("bad pattern %q", pattern)
	}
	var out []string
	for _, d := range dirs {
		if !hasMeta(file) {
			p := filepath.Join(d, file)
			if _, err := os.Lstat(p); err == nil {
				out = append(out, p)
			}
			continue
		}
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		explicitDot := strings.HasPrefix(file, ".") || strings.HasPrefix(file, `\.`)
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") && !explicitDot {
				continue
			}
			if ok, _ := filepath.Match(file, name); ok {
				out = append(out, filepath.Join(d, name))
			}
		}
	}
	sort.Strings(out)
	return out, nil
}
