package method_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/cofile"
	"github.com/regione-lombardia/oml/internal/method"
	"github.com/regione-lombardia/oml/internal/synth"
)

// TestOpenDataMarksUnavailable computes the cube of open-data input (no
// relationship or person ids): the flows are there, the indicators that
// need ids are unavailable (NaN, status M) everywhere, never zeros.
func TestOpenDataMarksUnavailable(t *testing.T) {
	ctx := context.Background()
	lists, err := classif.Load()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := synth.Config{Seed: 3, Scale: 0.002, Format: synth.FormatOpenData,
		From: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)}
	sum, err := synth.Generate(ctx, cfg, lists, filepath.Join(dir, "co"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range sum.Files {
		files = append(files, filepath.Join(dir, "co", filepath.Base(f.Path)))
	}
	db, _, err := ingestFiles(ctx, dir, cofile.OpenData, lists, files)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cat, _ := method.Load()
	vintage, _, _ := db.LastEventDate(ctx)
	cube, err := cat.Compute(ctx, db, lists, vintage, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cube.HasIDs {
		t.Fatal("open data must not count as input with ids")
	}
	ia := indicatorIndex(t, cat, "attivazioni")
	var hires float64
	for _, c := range cube.Cells {
		if c.Level == oml.LevelRegion && c.Freq == oml.Yearly && c.Dims == "" && c.Perimeter == oml.Workplace && c.Scope == oml.ScopeFull {
			hires += c.Values[ia]
		}
		for i, ind := range cat.Indicators {
			if ind.NeedsIDs && (!math.IsNaN(c.Values[i]) || c.Status[i] != oml.StatusUnavailable) {
				t.Fatalf("%s %+v: %v status %c, want unavailable", ind.ID, c.CellKey, c.Values[i], c.Status[i])
			}
		}
	}
	if hires == 0 {
		t.Fatal("no hires counted from open data")
	}
}
