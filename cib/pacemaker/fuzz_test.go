package pacemaker

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzImport feeds Import arbitrary input: it must never panic, and what
// it accepts must be valid, export, and import back.
func FuzzImport(f *testing.F) {
	imports, _ := filepath.Glob("testdata/import/*.xml")
	bad, _ := filepath.Glob("testdata/bad/*.xml")
	files := append(append(imports, bad...), "testdata/debian-cib.xml")
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, skip := range []bool{false, true} {
			c, rep, err := Import(bytes.NewReader(data), ImportOptions{SkipUnsupported: skip})
			if rep == nil {
				t.Fatal("no report")
			}
			if err != nil {
				if c != nil {
					t.Fatalf("a configuration with the error %v", err)
				}
				continue
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("accepted an invalid configuration: %v", err)
			}
			x, err := Export(c)
			if err != nil {
				if strings.Contains(err.Error(), "Pacemaker promotes only ocf resources") {
					continue
				}
				t.Fatalf("export of an imported configuration: %v", err)
			}
			if _, rep, err := Import(bytes.NewReader(x), ImportOptions{}); err != nil {
				t.Fatalf("import of the export: %v\n%s\n%s", err, rep, x)
			}
		}
	})
}
