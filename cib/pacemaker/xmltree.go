package pacemaker

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Element is one XML element of a CIB: its name, attributes in document
// order, child elements and the line it starts on. Text and comments are
// dropped (a CIB holds none that matter). ParseXML builds a tree of them;
// the importers of this package walk it.
type Element struct {
	Name     string
	Attrs    []Attr
	Children []*Element
	// Line is the 1-based line of the start tag (0 for a built element).
	Line int
}

// Attr is one attribute of an Element.
type Attr struct {
	Name, Value string
}

// maxDepth bounds element nesting, so that no input exhausts memory or
// the stack of a recursive walk. A CIB nests about ten deep.
const maxDepth = 128

// ParseXML reads one XML document into an Element tree. Elements and
// attributes are known by their local names. It refuses malformed XML,
// more than one root element and nesting deeper than 128, with the line.
func ParseXML(r io.Reader) (*Element, error) {
	d := xml.NewDecoder(r)
	var root *Element
	var stack []*Element
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("malformed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			line, _ := d.InputPos()
			if len(stack) == 0 && root != nil {
				return nil, fmt.Errorf("malformed XML: line %d: a second root element <%s> after <%s>", line, t.Name.Local, root.Name)
			}
			if len(stack) >= maxDepth {
				return nil, fmt.Errorf("line %d: <%s>: elements nested deeper than %d", line, t.Name.Local, maxDepth)
			}
			e := &Element{Name: t.Name.Local, Line: line}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				e.Attrs = append(e.Attrs, Attr{Name: a.Name.Local, Value: a.Value})
			}
			if len(stack) == 0 {
				root = e
			} else {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, e)
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1] // the decoder checks that tags match
		case xml.CharData:
			if len(stack) == 0 && len(bytes.TrimSpace(t)) > 0 {
				line, _ := d.InputPos()
				return nil, fmt.Errorf("malformed XML: line %d: text outside the root element", line)
			}
		}
	}
	if root == nil {
		return nil, errors.New("malformed XML: no root element")
	}
	return root, nil
}

// Get returns the value of an attribute, "" when it is absent.
func (e *Element) Get(name string) string {
	v, _ := e.Lookup(name)
	return v
}

// Lookup returns the value of an attribute and whether it is present.
func (e *Element) Lookup(name string) (string, bool) {
	for _, a := range e.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// ID is the element's id attribute.
func (e *Element) ID() string { return e.Get("id") }

// Child returns the first child element with this name, or nil.
func (e *Element) Child(name string) *Element {
	for _, c := range e.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// String names the element for messages: `<primitive id="web">`, with
// its line when known.
func (e *Element) String() string {
	s := "<" + e.Name
	if id, ok := e.Lookup("id"); ok {
		s += fmt.Sprintf(" id=%q", id)
	} else if ref, ok := e.Lookup("id-ref"); ok {
		s += fmt.Sprintf(" id-ref=%q", ref)
	}
	s += ">"
	if e.Line > 0 {
		s = fmt.Sprintf("line %d: %s", e.Line, s)
	}
	return s
}

// el builds an element from name/value pairs; an empty value leaves the
// attribute out.
func el(name string, kv ...string) *Element {
	e := &Element{Name: name}
	for i := 0; i+1 < len(kv); i += 2 {
		e.set(kv[i], kv[i+1])
	}
	return e
}

// set sets an attribute, unless value is empty.
func (e *Element) set(name, value string) *Element {
	if value == "" {
		return e
	}
	for i := range e.Attrs {
		if e.Attrs[i].Name == name {
			e.Attrs[i].Value = value
			return e
		}
	}
	e.Attrs = append(e.Attrs, Attr{name, value})
	return e
}

// add appends the non-nil children.
func (e *Element) add(children ...*Element) *Element {
	for _, c := range children {
		if c != nil {
			e.Children = append(e.Children, c)
		}
	}
	return e
}

// Marshal writes the element as indented XML (two spaces), with an XML
// declaration.
func (e *Element) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	e.write(&b, 0)
	return b.Bytes()
}

func (e *Element) write(b *bytes.Buffer, depth int) {
	b.WriteString(strings.Repeat("  ", depth))
	b.WriteString("<" + e.Name)
	for _, a := range e.Attrs {
		b.WriteString(" " + a.Name + `="`)
		_ = xml.EscapeText(b, []byte(a.Value)) // a bytes.Buffer does not fail
		b.WriteString(`"`)
	}
	if len(e.Children) == 0 {
		b.WriteString("/>\n")
		return
	}
	b.WriteString(">\n")
	for _, c := range e.Children {
		c.write(b, depth+1)
	}
	b.WriteString(strings.Repeat("  ", depth) + "</" + e.Name + ">\n")
}
