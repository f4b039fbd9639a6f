package cib

import (
	"os"
	"strings"
	"testing"
)

// TestDocsListEveryName keeps docs/configuration.md in step with the
// schema tables: every property and meta attribute is documented.
func TestDocsListEveryName(t *testing.T) {
	b, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for name := range PropertyDefs {
		if !strings.Contains(doc, "`"+name+"`") {
			t.Errorf("docs/configuration.md does not document property %q", name)
		}
	}
	for name := range MetaDefs {
		if !strings.Contains(doc, "`"+name+"`") {
			t.Errorf("docs/configuration.md does not document meta attribute %q", name)
		}
	}
}
