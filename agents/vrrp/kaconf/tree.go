package kaconf

import (
	"fmt"
	"io"
	"strings"
)

// Node is one directive of a configuration: its keyword, its arguments and,
// when a '{' follows it, the directives of its block.
type Node struct {
	Keyword string
	Args    []string
	// Raw is the line after comments, conditional lines, parameter
	// substitution and brace splitting, quotes kept: scripts re-read it
	// with keepalived's quoting rules.
	Raw  string
	File string
	Line int
	// HasBlock is set when a { } block follows, even an empty one.
	HasBlock bool
	Block    []*Node
}

// Pos returns where the node is.
func (n *Node) Pos() Pos { return Pos{File: n.File, Line: n.Line} }

// ReadTree reads a configuration file and the files it includes into a
// tree of directives, without interpreting them. The warnings are about
// includes.
func ReadTree(path string, opt Options) ([]*Node, []Warning, error) {
	src, err := readSource(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read keepalived configuration: %w", err)
	}
	return buildTree(newLexer(opt, src))
}

// ReadTreeFrom is ReadTree for a configuration in r; name is shown in
// positions and relative includes are found from its directory.
func ReadTreeFrom(name string, r io.Reader, opt Options) ([]*Node, []Warning, error) {
	data, err := readLimited(r, name)
	if err != nil {
		return nil, nil, fmt.Errorf("read keepalived configuration: %w", err)
	}
	return buildTree(newLexer(opt, newSource(name, data, nil)))
}

// buildTree gives each directive the block that follows it. A '{' must come
// right after a directive (on its line or the next), and every block must
// be closed in the end.
func buildTree(lx *lexer) ([]*Node, []Warning, error) {
	var root []*Node
	var open []*Node // directives whose block is being read, innermost last
	var last *Node   // the directive just read, which a '{' may follow
	for {
		ll, ok, err := lx.next()
		if err != nil {
			return nil, lx.warnings, err
		}
		if !ok {
			break
		}
		switch ll.text {
		case "{":
			if last == nil {
				return nil, lx.warnings, errAt(ll.pos, "unexpected '{' (a block must follow a keyword)")
			}
			if len(open) >= maxBlockDepth {
				return nil, lx.warnings, errAt(ll.pos, "blocks nested deeper than %d", maxBlockDepth)
			}
			last.HasBlock = true
			open = append(open, last)
			last = nil
		case "}":
			if len(open) == 0 {
				return nil, lx.warnings, errAt(ll.pos, "unexpected '}' (no block is open; is a '{' missing above?)")
			}
			open = open[:len(open)-1]
			last = nil
		default:
			n := &Node{Keyword: ll.words[0], Args: ll.words[1:], Raw: ll.text, File: ll.pos.File, Line: ll.pos.Line}
			if len(open) == 0 {
				root = append(root, n)
			} else {
				parent := open[len(open)-1]
				parent.Block = append(parent.Block, n)
			}
			last = n
		}
	}
	if len(open) > 0 {
		n := open[len(open)-1]
		return nil, lx.warnings, errAt(n.Pos(), "missing '}': the block of %s is not closed", describe(n))
	}
	return root, lx.warnings, nil
}

// describe names a directive in messages: its keyword and first argument.
func describe(n *Node) string {
	if len(n.Args) > 0 {
		return n.Keyword + " " + n.Args[0]
	}
	return n.Keyword
}

// String returns the tree in keepalived syntax, one directive a line, for
// tests and debugging.
func (n *Node) String() string {
	var b strings.Builder
	n.write(&b, 0)
	return b.String()
}

func (n *Node) write(b *strings.Builder, depth int) {
	b.WriteString(strings.Repeat("  ", depth))
	b.WriteString(n.Keyword)
	for _, a := range n.Args {
		b.WriteByte(' ')
		if a == "" || strings.ContainsAny(a, whiteSpace+"{}!#") {
			b.WriteString(`"` + a + `"`)
		} else {
			b.WriteString(a)
		}
	}
	if n.HasBlock {
		b.WriteString(" {\n")
		for _, c := range n.Block {
			c.write(b, depth+1)
		}
		b.WriteString(strings.Repeat("  ", depth) + "}")
	}
	b.WriteString("\n")
}
