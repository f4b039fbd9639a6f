package kaconf

import (
	"reflect"
	"strings"
	"testing"
)

func TestDecomment(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "  priority 100  ", want: "priority 100"},
		{in: "priority 100 # comment", want: "priority 100"},
		{in: "priority 100 ! comment", want: "priority 100"},
		{in: "# whole line", want: ""},
		{in: "!whole line", want: ""},
		{in: `script "/bin/echo # not a comment" # comment`, want: `script "/bin/echo # not a comment"`},
		{in: `script /bin/echo \# \! x`, want: `script /bin/echo # ! x`},
		{in: `script "/bin/echo \#"`, want: `script "/bin/echo \#"`},
		{in: `$X=a \`, want: `$X=a\`},
		{in: "$X=a    \\", want: `$X=a\`},
		{in: `$X=a # comment \`, want: `$X=a\`},
		{in: "\tstate\tMASTER\t", want: "state\tMASTER"},
		{in: `script "/bin/true`, err: `unterminated " in`},
		{in: `'single' # quotes are no quotes here`, want: `'single'`},
	} {
		got, err := decomment(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("decomment(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("decomment(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestSplitWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"state MASTER", []string{"state", "MASTER"}},
		{"a\t b\fc", []string{"a", "b", "c"}},
		{`script "/bin/x a b"`, []string{"script", "/bin/x a b"}},
		{`a"b c"d`, []string{"a", "b c", "d"}},
		{`x ""`, []string{"x", ""}},
		{`'a b'`, []string{"'a", "b'"}},
	} {
		got, err := splitWords(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitWords(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := splitWords(`a "b`); err == nil {
		t.Error(`splitWords("a \"b") accepted an unmatched quote`)
	}
}

func TestSplitBrace(t *testing.T) {
	for _, tc := range []struct{ in, head, rest string }{
		{"vrrp_instance VI_1 {", "vrrp_instance VI_1", "{"},
		{"{", "{", ""},
		{"{ state MASTER", "{", "state MASTER"},
		{"} vrrp_instance X {", "}", "vrrp_instance X {"},
		{"a { b }", "a", "{ b }"},
		{`script "/bin/echo {x}" {`, `script "/bin/echo {x}"`, "{"},
		{"priority 100", "priority 100", ""},
		{`a "unclosed {`, `a "unclosed {`, ""},
	} {
		head, rest := splitBrace(tc.in)
		if head != tc.head || rest != tc.rest {
			t.Errorf("splitBrace(%q) = %q, %q; want %q, %q", tc.in, head, rest, tc.head, tc.rest)
		}
	}
}

func TestSplitQuoted(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{in: `notify_master "/x.sh a b" user group`, want: []string{"notify_master", "/x.sh a b", "user", "group"}},
		{in: `/x.sh 'my arg' two`, want: []string{"/x.sh", "my arg", "two"}},
		{in: `abcd" efg h jkl "mnop`, want: []string{"abcd efg h jkl mnop"}},
		{in: `abcd "efg h jkl" mnop`, want: []string{"abcd", "efg h jkl", "mnop"}},
		{in: `a\ b`, want: []string{"a b"}},
		{in: `"a\"b"`, want: []string{`a"b`}},
		{in: `'it''s'`, want: []string{"its"}},
		{in: `x\ty \x41\x4a \101 \cA \E`, want: []string{"x\ty", "AJ", "A", "\x01", "\x1b"}},
		{in: `"\\"`, want: []string{`\`}},
		{in: `"open`, err: true},
		{in: `'open`, err: true},
		{in: `trailing\`, err: true},
	} {
		got, err := splitQuoted(tc.in)
		if tc.err {
			if err == nil {
				t.Errorf("splitQuoted(%q) = %q, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitQuoted(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestScanReference(t *testing.T) {
	for _, tc := range []struct {
		in     string
		name   string
		refLen int
		params string
		ok     bool
	}{
		{"$IF", "IF", 3, "", true},
		{"$IF rest", "IF", 3, "", true},
		{"$IF,x", "IF", 3, "", true},
		{"$IF)", "IF", 3, "", true},
		{"$IF:1", "", 0, "", false},
		{"${IF}:1", "IF", 5, "", true},
		{"${_RANDOM 1 10}x", "_RANDOM", 15, "1 10", true},
		{"${IF", "", 0, "", false},
		{"${IF }", "IF", 5, "", true}, // keepalived replaces "${IF " and leaves "}"
		{"$1", "", 0, "", false},
		{"$", "", 0, "", false},
	} {
		name, refLen, params, ok := scanReference(tc.in, 0)
		if name != tc.name || refLen != tc.refLen || params != tc.params || ok != tc.ok {
			t.Errorf("scanReference(%q) = %q, %d, %q, %v; want %q, %d, %q, %v",
				tc.in, name, refLen, params, ok, tc.name, tc.refLen, tc.params, tc.ok)
		}
	}
}

// TestTree reads configurations into trees and writes them back, one
// directive a line: the lexer's rules, case by case.
func TestTree(t *testing.T) {
	for _, tc := range []struct {
		name, id, in, want string
	}{
		{name: "blocks and comments", in: `
! comment
global_defs {   # comment
    router_id r1
}
`, want: "global_defs {\n  router_id r1\n}\n"},
		{name: "block on one line", in: "a { b c }\n", want: "a {\n  b c\n}\n"},
		{name: "brace on the next line", in: "a\n{\nb\n}\n", want: "a {\n  b\n}\n"},
		{name: "closing brace then more", in: "a {\nb } c {\nd\n}\n", want: "a {\n  b\n}\nc {\n  d\n}\n"},
		{name: "empty block", in: "a {}\n", want: "a {\n}\n"},
		{name: "quoted brace", in: `a "{" "}"` + "\n", want: "a \"{\" \"}\"\n"},
		{name: "conditional lines", id: "n1", in: "@n1 a 1\n@n2 b 2\n@^n1 c 3\n@^n2 d 4\n@n1\n", want: "a 1\nd 4\n"},
		{name: "conditional without id", in: "@n1 a\n@^n1 b\n", want: "b\n"},
		{name: "definitions", in: "$A=1\n$B=x ${A}y\nk $B $A\n", want: "k x 1y 1\n"},
		{name: "definition is used late", in: "$A=$B\n$B=1\nk $A\n$B=2\nk $A\n", want: "k 1\nk 2\n"},
		{name: "no blank before equals", in: "$A =1\n", want: "$A =1\n"},
		{name: "undefined stays", in: "$A=1\nk $B \"${C}\" $A$A\n", want: "k $B \"${C}\" $A1\n"},
		{name: "not followed by a terminator", in: "$IF=eth0\nk $IF:1 ${IF}:1 $IF,\n", want: "k $IF:1 eth0:1 eth0,\n"},
		{name: "empty definition", in: "$E=\nk a${E}b\n", want: "k ab\n"},
		{name: "definition makes a conditional line", id: "n1", in: "$ON1=@n1\n$ON1 k 1\n", want: "k 1\n"},
		{name: "conditional definition", id: "n2", in: "@n1 $P=150\n@n2 $P=100\npriority $P\n", want: "priority 100\n"},
		{name: "multi-line definition", in: "$BLOCK=a { \\\n  b 1 \\\n}\n\n$BLOCK\n", want: "a {\n  b 1\n}\n"},
		{name: "multi-line definition inside a line", in: "$M=x \\\ny\n\nk $M z\nk $M\n", want: "k $M z\nk x\ny\n"},
		{name: "nested multi-line definitions", in: "$I=i1 \\\ni2\n\n$O=o1 \\\n$I \\\no2\n\n$O\n", want: "o1\ni1\ni2\no2\n"},
		{name: "predefined", id: "node7", in: "k ${_INSTANCE} ${_BANG}x\n", want: "k node7\n"},
		{name: "hash escaped", in: `k a\#b` + "\n", want: "k \"a#b\"\n"},
		{name: "tilde line kept", in: "~X $A\n", want: "~X $A\n"},
		{name: "include with no match", in: "include /nonexistent-dir-kaconf/*.conf\nk\n", want: "k\n"},
		{name: "keyword include alone", in: "include\n", want: "include\n"},
		{name: "crlf", in: "a {\r\nb\r\n}\r\n", want: "a {\n  b\n}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodes, _, err := ReadTreeFrom("t.conf", strings.NewReader(tc.in), Options{ConfigID: tc.id})
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, n := range nodes {
				b.WriteString(n.String())
			}
			if b.String() != tc.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tc.want)
			}
		})
	}
}

// TestTreeErrors checks that syntax errors name the file and line.
func TestTreeErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"unclosed", "a {\nb {\n}\n", "t.conf:1: missing '}': the block of a is not closed"},
		{"extra close", "a {\n}\n}\n", "t.conf:3: unexpected '}'"},
		{"open after block", "a {\n}\n{\n}\n", "t.conf:3: unexpected '{'"},
		{"open at start", "{\n}\n", "t.conf:1: unexpected '{'"},
		{"two opens", "a { {\n}\n}\n", "t.conf:1: unexpected '{'"},
		{"quote", "\n\nscript \"/bin/true\n", "t.conf:3: unterminated \""},
		{"NUL", "a\x00b\n", "t.conf:1: NUL byte"},
		{"sequence", "~SEQ(i, 1, 3) k $i\n", "t.conf:1: ~SEQ blocks are not supported"},
		{"list", "~LST(i, a, b) k $i\n", "t.conf:1: ~LST blocks are not supported"},
		{"random", "k ${_RANDOM}\n", "t.conf:1: ${_RANDOM} is not supported"},
		{"self reference", "$A=x $A\nk $A\n", "t.conf:2: parameter substitution does not end"},
		{"growing", "$A=$A$A\nk ${A}\n", "t.conf:2: parameter substitution does not end"},
		{"endless multi-line", "$M=x \\\n$M\n\n$M\n", "t.conf:4: multi-line definitions produce more than"},
		{"growing multi-line", "$M=x \\\n$M \\\n$M\n\n$M\n", "t.conf:5: multi-line definitions produce more than"},
		{"missing include", "include nothere.conf\n", "t.conf:1: include nothere.conf: no such file nothere.conf"},
		{"empty include", "includew \n", ""},
		{"deep", strings.Repeat("a {\n", maxBlockDepth+1), "blocks nested deeper than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ReadTreeFrom("t.conf", strings.NewReader(tc.in), Options{})
			if tc.want == "" {
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
