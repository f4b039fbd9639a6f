package kaconf

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary configurations to the lexer, the tree and the
// typed layer: no panic, and every warning and error has a position.
// Inputs with "include" are skipped: they would read files of the host.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.conf")
	more, _ := filepath.Glob("testdata/*/*/*.conf")
	samples, _ := filepath.Glob("/usr/share/doc/keepalived/samples/keepalived.conf.*")
	for _, p := range append(append(seeds, more...), samples...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("$A=x \\\n$A \\\n\n$A\n"))
	f.Add([]byte("@n1 $P=1\n@^n1 $P=2\nk ${P} $P, $_HASH ${_BANG}\n"))
	f.Add([]byte("a { b { c } } } {\n\"unterminated\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.Contains(data, []byte("include")) {
			t.Skip()
		}
		cfg, warns, err := ParseReader("fuzz.conf", bytes.NewReader(data), Options{ConfigID: "n1"})
		if err == nil && cfg == nil {
			t.Fatal("no config and no error")
		}
		for _, w := range warns {
			if w.File == "" || w.Line < 1 || w.Msg == "" {
				t.Fatalf("warning without a position: %#v", w)
			}
		}
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "fuzz.conf:") {
					t.Fatalf("error without a position: %q", line)
				}
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error is no *Error: %v", err)
			}
		}
	})
}

// FuzzSplitQuoted checks keepalived's quoting rules on arbitrary lines:
// no panic, and words quoted again read back the same.
func FuzzSplitQuoted(f *testing.F) {
	for _, s := range []string{`a "b c" 'd e' \x41\101\cA\E\"`, `"open`, `x\`, `\x`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := splitQuoted(s)
		if err != nil {
			return
		}
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(w) + `"`
		}
		again, err := splitQuoted(strings.Join(quoted, " "))
		if err != nil || !slices.Equal(again, words) {
			t.Fatalf("%q: words %q quoted %q read back as %q, %v", s, words, quoted, again, err)
		}
	})
}
