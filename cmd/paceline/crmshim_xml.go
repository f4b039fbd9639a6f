package main

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// A small XML element tree for the cibadmin and crm_mon shims: the CIB
// that cibadmin prints and crm_mon reads (from the live cluster or from
// CIB_file), and crm_mon's own output. It is written as Pacemaker writes
// XML (libxml2's formatting: two spaces a level, an empty element closed
// with "/>", attributes in the order they were set), so scripts that grep
// Pacemaker's output line by line read ours alike.

// xel is one element: its name, attributes in order, and child elements.
// Text content is not kept (the CIB and crm_mon's output have none that
// the shims use).
type xel struct {
	name  string
	attrs []xml.Attr
	kids  []*xel
}

// el returns an element with attributes given as name, value pairs.
func el(name string, attrs ...string) *xel {
	e := &xel{name: name}
	for i := 0; i+1 < len(attrs); i += 2 {
		e.set(attrs[i], attrs[i+1])
	}
	return e
}

// set sets an attribute, in place if it exists, else last.
func (e *xel) set(name, value string) *xel {
	for i := range e.attrs {
		if e.attrs[i].Name.Local == name {
			e.attrs[i].Value = value
			return e
		}
	}
	e.attrs = append(e.attrs, xml.Attr{Name: xml.Name{Local: name}, Value: value})
	return e
}

// add appends children (nil ones are skipped) and returns e.
func (e *xel) add(kids ...*xel) *xel {
	for _, k := range kids {
		if k != nil {
			e.kids = append(e.kids, k)
		}
	}
	return e
}

// attr returns an attribute's value, "" if it is not set.
func (e *xel) attr(name string) string {
	v, _ := e.lookup(name)
	return v
}

func (e *xel) lookup(name string) (string, bool) {
	for _, a := range e.attrs {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// child returns the first child of that name, or nil.
func (e *xel) child(name string) *xel {
	if e == nil {
		return nil
	}
	for _, k := range e.kids {
		if k.name == name {
			return k
		}
	}
	return nil
}

// children returns the children of that name.
func (e *xel) children(name string) []*xel {
	if e == nil {
		return nil
	}
	var out []*xel
	for _, k := range e.kids {
		if k.name == name {
			out = append(out, k)
		}
	}
	return out
}

// path follows first children by name; nil where one is missing.
func (e *xel) path(names ...string) *xel {
	for _, n := range names {
		e = e.child(n)
	}
	return e
}

// String is the element as libxml2 formats it, with a final newline.
func (e *xel) String() string {
	var b strings.Builder
	e.write(&b, 0)
	return b.String()
}

func (e *xel) write(b *strings.Builder, depth int) {
	indent := strings.Repeat("  ", depth)
	b.WriteString(indent + "<" + e.name)
	for _, a := range e.attrs {
		b.WriteString(" " + a.Name.Local + `="` + escapeAttr(a.Value) + `"`)
	}
	if len(e.kids) == 0 {
		b.WriteString("/>\n")
		return
	}
	b.WriteString(">\n")
	for _, k := range e.kids {
		k.write(b, depth+1)
	}
	b.WriteString(indent + "</" + e.name + ">\n")
}

// escapeAttr escapes an attribute value as libxml2 does.
func escapeAttr(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;",
		"\n", "&#10;", "\r", "&#13;", "\t", "&#9;").Replace(s)
}

// parseXML reads one document's root element.
func parseXML(r io.Reader) (*xel, error) {
	d := xml.NewDecoder(r)
	var stack []*xel
	var root *xel
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			e := &xel{name: t.Name.Local}
			for _, a := range t.Attr {
				e.set(a.Name.Local, a.Value)
			}
			if len(stack) > 0 {
				stack[len(stack)-1].add(e)
			} else if root != nil {
				return nil, errors.New("more than one root element")
			} else {
				root = e
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	if root == nil {
		return nil, errors.New("no XML element")
	}
	return root, nil
}

// An XPath subset, as far as resource-agents' scripts query the CIB
// (rabbitmq-cluster: //node_state[@crmd='online']//nvpair[@name='X']):
// location paths of child (/) and descendant (//) steps, each an element
// name or *, with predicates [@attr] and [@attr='value'] joined by "and".
// Anything else is refused with an error, never evaluated loosely.

type xstep struct {
	descendant bool
	name       string // "*" for any
	preds      []xpred
}

// xpred is [@attr] (any value) or [@attr='value'].
type xpred struct {
	attr, value string
	anyValue    bool
}

const xpathSubset = "Paceline's cibadmin understands absolute paths of /name and //name steps (or *) " +
	"with predicates [@attr] and [@attr='value'] joined by and"

// parseXPath reads an expression of the subset.
func parseXPath(expr string) ([]xstep, error) {
	bad := func(why string) ([]xstep, error) {
		return nil, fmt.Errorf("xpath %q: %s (%s)", expr, why, xpathSubset)
	}
	s := strings.TrimSpace(expr)
	if !strings.HasPrefix(s, "/") {
		return bad("not an absolute path")
	}
	var steps []xstep
	for s != "" {
		var st xstep
		switch {
		case strings.HasPrefix(s, "//"):
			st.descendant, s = true, s[2:]
		case strings.HasPrefix(s, "/"):
			s = s[1:]
		default:
			return bad(fmt.Sprintf("unexpected %q", s))
		}
		n := strings.IndexAny(s, "/[")
		if n < 0 {
			n = len(s)
		}
		st.name, s = s[:n], s[n:]
		if st.name != "*" && !isXMLName(st.name) {
			return bad(fmt.Sprintf("step %q is not an element name", st.name))
		}
		for strings.HasPrefix(s, "[") {
			end := predicateEnd(s)
			if end < 0 {
				return bad("unterminated predicate")
			}
			for term := range strings.SplitSeq(s[1:end], " and ") {
				p, err := parsePred(strings.TrimSpace(term))
				if err != nil {
					return bad(err.Error())
				}
				st.preds = append(st.preds, p)
			}
			s = s[end+1:]
		}
		steps = append(steps, st)
	}
	return steps, nil
}

// predicateEnd is the index of the "]" that closes the predicate s
// starts with, quotes respected; -1 if none.
func predicateEnd(s string) int {
	var quote byte
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == ']':
			return i
		}
	}
	return -1
}

func parsePred(term string) (xpred, error) {
	name, rest, ok := strings.Cut(term, "=")
	name = strings.TrimSpace(name)
	if !strings.HasPrefix(name, "@") || !isXMLName(name[1:]) {
		return xpred{}, fmt.Errorf("predicate [%s] is not [@attr] or [@attr='value']", term)
	}
	if !ok {
		return xpred{attr: name[1:], anyValue: true}, nil
	}
	v := strings.TrimSpace(rest)
	if len(v) < 2 || (v[0] != '\'' && v[0] != '"') || v[len(v)-1] != v[0] || strings.IndexByte(v[1:len(v)-1], v[0]) >= 0 {
		return xpred{}, fmt.Errorf("predicate [%s]: the value is not one quoted string", term)
	}
	return xpred{attr: name[1:], value: v[1 : len(v)-1]}, nil
}

func isXMLName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		letter := r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
		if !letter && (i == 0 || !(r == '-' || r == '.' || ('0' <= r && r <= '9'))) {
			return false
		}
	}
	return true
}

// query returns the elements of the tree rooted at e that steps select,
// in document order, each once.
func (e *xel) query(steps []xstep) []*xel {
	doc := &xel{kids: []*xel{e}} // the document node above the root
	ctx := []*xel{doc}
	for _, st := range steps {
		hit := map[*xel]bool{}
		for _, c := range ctx {
			var cands []*xel
			if st.descendant {
				cands = c.descendants()
			} else {
				cands = c.kids
			}
			for _, k := range cands {
				if st.matches(k) {
					hit[k] = true
				}
			}
		}
		ctx = nil
		for _, k := range doc.descendants() {
			if hit[k] {
				ctx = append(ctx, k)
			}
		}
	}
	return ctx
}

// descendants lists e's descendants in document order.
func (e *xel) descendants() []*xel {
	var out []*xel
	for _, k := range e.kids {
		out = append(out, k)
		out = append(out, k.descendants()...)
	}
	return out
}

func (st xstep) matches(e *xel) bool {
	if st.name != "*" && st.name != e.name {
		return false
	}
	for _, p := range st.preds {
		v, ok := e.lookup(p.attr)
		if !ok || (!p.anyValue && v != p.value) {
			return false
		}
	}
	return true
}
