package release

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/regione-lombardia/oml"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestDiff(t *testing.T) {
	a := openHand(t, cubeOptions{})
	b := openHand(t, cubeOptions{
		bump:         map[string]float64{"015": 5},
		confidential: map[string]bool{"016||2021-03": true},
	})
	revs, err := Diff(a, b)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range revs {
		count[r.Indicator]++
		switch {
		case r.Key.Territory == "015":
			first, last := oml.PeriodAt(r.Key.Freq, r.Key.Period).Months()
			if r.Delta() != 5*float64(min(last.Index(), month(2023, 6).Index())-first.Index()+1) || r.OldStatus != r.NewStatus {
				t.Errorf("%+v: delta %v", r, r.Delta())
			}
		case r.Key.Territory == "016":
			if r.Indicator != "attivazioni" || r.NewStatus != oml.StatusConfidential || !math.IsNaN(r.New) || r.Old != 113 && r.Old != 114 {
				t.Errorf("withheld revision %+v", r)
			}
		default:
			t.Errorf("unexpected revision %+v", r)
		}
	}
	// 015: 42 months, 14 quarters, 4 years, two perimeters.
	want := map[string]int{"attivazioni": 120 + 2, "cessazioni_comunicate": 120, "cessazioni": 120}
	for id, n := range want {
		if count[id] != n {
			t.Errorf("%s: %d revisions, want %d", id, count[id], n)
		}
	}
	if len(count) != len(want) {
		t.Errorf("revisions by indicator %v", count)
	}
	// No revision against itself.
	if revs, _ := Diff(a, a); len(revs) != 0 {
		t.Errorf("%d revisions of a release against itself", len(revs))
	}

	var buf bytes.Buffer
	if err := WriteDiff(&buf, revs, a.Info(), b.Info()); err != nil {
		t.Fatal(err)
	}
	golden(t, "diff.golden", buf.Bytes())
}

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}
