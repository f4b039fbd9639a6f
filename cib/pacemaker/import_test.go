package pacemaker

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paceline/paceline/cib"
)

var update = flag.Bool("update", false, "rewrite the .golden files of testdata/import and testdata/bad")

// golden compares got with the file, or rewrites it with -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cib/pacemaker -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (review, then go test ./cib/pacemaker -update):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestImportCases imports each testdata/import/NAME.xml (one concern per
// file; the comment at its top says which) and compares the report and the
// configuration with NAME.golden. Inputs with unsupported objects are
// imported with SkipUnsupported, and must fail without it.
func TestImportCases(t *testing.T) {
	eachXML(t, "testdata/import", func(t *testing.T, data []byte, goldenPath string) {
		_, strictRep, strictErr := Import(bytes.NewReader(data), ImportOptions{})
		cfg, rep, err := Import(bytes.NewReader(data), ImportOptions{SkipUnsupported: true})
		if err != nil {
			t.Fatalf("import: %v\n%s", err, rep)
		}
		var ue *UnsupportedError
		switch {
		case len(rep.Unsupported) > 0 && !errors.As(strictErr, &ue):
			t.Errorf("without SkipUnsupported: want an *UnsupportedError, got %v", strictErr)
		case len(rep.Unsupported) == 0 && strictErr != nil:
			t.Errorf("without SkipUnsupported: %v", strictErr)
		case strictRep.String() != rep.String():
			t.Errorf("the report differs without SkipUnsupported:\n%s\nvs\n%s", strictRep, rep)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("the imported configuration is not valid: %v", err)
		}
		y, err := cib.EncodeYAML(cfg)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, goldenPath, "# report\n"+rep.String()+"# configuration\n"+string(y))
	})
}

// eachXML runs a subtest per DIR/NAME.xml with its content and the path of
// its NAME.golden.
func eachXML(t *testing.T, dir string, test func(t *testing.T, data []byte, goldenPath string)) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
	if len(files) == 0 {
		t.Fatalf("no %s/*.xml", dir)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".xml"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			test(t, data, strings.TrimSuffix(f, ".xml")+".golden")
		})
	}
}

// TestBadInput imports each testdata/bad/NAME.xml and compares the error
// with NAME.golden: it names the element, its id and line.
func TestBadInput(t *testing.T) {
	eachXML(t, "testdata/bad", func(t *testing.T, data []byte, goldenPath string) {
		cfg, _, err := Import(bytes.NewReader(data), ImportOptions{SkipUnsupported: true})
		if err == nil {
			t.Fatalf("imported bad input: %+v", cfg)
		}
		if cfg != nil {
			t.Errorf("a configuration came back with the error %v", err)
		}
		golden(t, goldenPath, err.Error()+"\n")
	})
}

// TestUnsupportedFails checks that nothing comes back without
// SkipUnsupported, and the report names each object.
func TestUnsupportedFails(t *testing.T) {
	in := `<configuration><crm_config/><nodes/><resources>
  <primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/>
  <bundle id="b"/>
</resources><constraints>
  <rsc_ticket id="t1" rsc="a" ticket="T"/>
  <rsc_order id="o1" first="b" then="a"/>
</constraints></configuration>`
	cfg, rep, err := Import(strings.NewReader(in), ImportOptions{})
	var ue *UnsupportedError
	if !errors.As(err, &ue) || cfg != nil {
		t.Fatalf("want an *UnsupportedError and no configuration, got %v, %v", cfg, err)
	}
	if len(rep.Unsupported) != 3 {
		t.Fatalf("want 3 unsupported objects (bundle, ticket, order on the bundle), got:\n%s", rep)
	}
	for i, want := range []string{`<bundle "b">`, `<rsc_ticket "t1">`, `<rsc_order "o1">`} {
		if !strings.Contains(rep.Unsupported[i].String(), want) {
			t.Errorf("item %d: want %s, got %s", i, want, rep.Unsupported[i])
		}
	}
	if !strings.Contains(err.Error(), "--skip-unsupported") {
		t.Errorf("the error does not say how to go on: %v", err)
	}
	cfg, _, err = Import(strings.NewReader(in), ImportOptions{SkipUnsupported: true})
	if err != nil || len(cfg.Primitives) != 1 || len(cfg.Constraints.Order) != 0 {
		t.Fatalf("with SkipUnsupported: %v, %+v", err, cfg)
	}
}
