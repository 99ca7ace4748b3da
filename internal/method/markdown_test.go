package method_test

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/method"
)

var update = flag.Bool("update", false, "rewrite docs/metodologia.md")

// TestMethodologyDoc checks that docs/metodologia.md is the document the
// catalogue generates; -update rewrites it.
func TestMethodologyDoc(t *testing.T) {
	cat, err := method.Load()
	if err != nil {
		t.Fatal(err)
	}
	lists, err := classif.Load()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := cat.Markdown(&buf, method.NewNames(lists)); err != nil {
		t.Fatal(err)
	}
	const path = "../../docs/metodologia.md"
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, buf.Bytes()) {
		t.Fatal("docs/metodologia.md is not what the catalogue generates: run go test ./internal/method -run TestMethodologyDoc -update")
	}
}
