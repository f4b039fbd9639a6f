package pacemaker

import (
	"fmt"
	"strings"
)

// Item is one object of a CIB in a Report: its element, id (or a name
// where it has none, e.g. an nvpair's name), the element of the
// resource, constraint or set it belongs to, and what happened.
type Item struct {
	// Element is the element's name: rsc_ticket, primitive, nvpair, ...
	Element string `json:"element"`
	ID      string `json:"id,omitempty"`
	// Line is where it starts in the input (0 when unknown).
	Line int `json:"line,omitempty"`
	// In names the object it is part of, e.g. `primitive "web"`.
	In string `json:"in,omitempty"`
	// What says what is not supported, or what the import did instead.
	What string `json:"what"`
}

// String renders the item as one line.
func (it Item) String() string {
	var b strings.Builder
	if it.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", it.Line)
	}
	b.WriteString("<" + it.Element)
	if it.ID != "" {
		fmt.Fprintf(&b, " %q", it.ID)
	}
	b.WriteString(">")
	if it.In != "" {
		b.WriteString(" in " + it.In)
	}
	return b.String() + ": " + it.What
}

// Report lists what an import did not bring over as it was.
type Report struct {
	// Unsupported lists what Paceline does not model, object by object.
	// The import fails unless ImportOptions.SkipUnsupported, which leaves
	// these objects out (and what depends on them).
	Unsupported []Item `json:"unsupported,omitempty"`
	// Notes lists what was read with a change that keeps its meaning
	// (legacy names, merged sets) or left out because it has no effect in
	// Paceline (dc-version, a fence device's monitor).
	Notes []Item `json:"notes,omitempty"`
}

// Empty reports whether there is nothing to report.
func (r *Report) Empty() bool { return r == nil || len(r.Unsupported)+len(r.Notes) == 0 }

// String prints the report, one item a line, unsupported objects first.
func (r *Report) String() string {
	if r.Empty() {
		return ""
	}
	var b strings.Builder
	if len(r.Unsupported) > 0 {
		fmt.Fprintf(&b, "Not supported (%d):\n", len(r.Unsupported))
		for _, it := range r.Unsupported {
			b.WriteString("  " + it.String() + "\n")
		}
	}
	if len(r.Notes) > 0 {
		fmt.Fprintf(&b, "Notes (%d):\n", len(r.Notes))
		for _, it := range r.Notes {
			b.WriteString("  " + it.String() + "\n")
		}
	}
	return b.String()
}

// UnsupportedError is the error of an import that met objects Paceline
// does not model without ImportOptions.SkipUnsupported. Report lists them.
type UnsupportedError struct {
	Report *Report
}

// Error says how many objects are not supported and names the first.
func (e *UnsupportedError) Error() string {
	n := len(e.Report.Unsupported)
	msg := fmt.Sprintf("the CIB uses %d thing(s) Paceline does not support", n)
	if n > 0 {
		msg += ", first " + e.Report.Unsupported[0].String()
	}
	return msg + " (see the report; skip them with --skip-unsupported)"
}
