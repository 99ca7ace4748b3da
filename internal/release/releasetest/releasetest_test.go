package releasetest_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/duckdb"
	"github.com/regione-lombardia/oml/internal/release"
	"github.com/regione-lombardia/oml/internal/release/releasetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	releasetest.Cleanup()
	os.Exit(code)
}

func TestBuild(t *testing.T) {
	f := releasetest.Build(t)
	t.Logf("built %s in %v (disclosed %v)", f.Info.ID, f.BuildTime, f.Disclosed)
	if f.Info.ID != "20241231-1" || f.Info.First != "2017-01" || f.Info.Last != "2024-12" || !f.Info.HasIDs {
		t.Errorf("info %+v", f.Info)
	}
	if g := releasetest.Build(t); g != f {
		t.Error("second Build built again")
	}
	if err := release.Verify(f.DataDir, f.Info.ID); err != nil {
		t.Fatal(err)
	}
	list, err := release.List(f.DataDir)
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %v, %v", list, err)
	}
}

// TestRealRelease checks the release of real (synthetic) data: additivity
// across territories as served, codes, transforms, and DuckDB reading the
// files.
func TestRealRelease(t *testing.T) {
	f := releasetest.Build(t)
	r := f.Open(t)
	year := func(y, m int) oml.Period { return oml.Period{Freq: oml.Monthly, Year: y, N: m} }
	provinces := []string{}
	for _, p := range f.Names.Territories(oml.LevelProvince) {
		provinces = append(provinces, p.Code)
	}
	d, err := r.Select(release.Query{Indicator: "attivazioni", Territories: append([]string{"ITC4"}, provinces...),
		From: year(2024, 1), To: year(2024, 12)}, f.Names)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Observations) != 13*12 {
		t.Fatalf("%d observations", len(d.Observations))
	}
	// Where no province is withheld, they add up to the region.
	for m := range 12 {
		region := d.Observations[m]
		sum, withheld := 0.0, false
		for p := range provinces {
			o := d.Observations[12*(p+1)+m]
			withheld = withheld || !o.HasValue()
			sum += o.Value
		}
		if !withheld && region.HasValue() && sum != region.Value {
			t.Errorf("%s: provinces add up to %v, region %v", region.Period, sum, region.Value)
		}
		if region.Value < 100 {
			t.Errorf("%s: region has %v hires", region.Period, region.Value)
		}
	}
	// All provinces by ATECO section, one year, every transform.
	for _, tr := range release.Transforms {
		d, err := r.Select(release.Query{Indicator: "attivazioni", Territories: provinces, By: []string{"ateco_sezione"},
			From: year(2024, 1), To: year(2024, 12), Transform: tr}, f.Names)
		if err != nil {
			t.Fatalf("%q: %v", tr, err)
		}
		n := map[oml.Status]int{}
		for _, o := range d.Observations {
			n[o.Status]++
			if o.HasValue() == math.IsNaN(o.Value) {
				t.Fatalf("%q: %+v", tr, o)
			}
		}
		t.Logf("transform %q: %d observations, statuses %v", tr, len(d.Observations), n)
	}
	codes, err := r.Codes("contratto", "attivazioni")
	if err != nil || len(codes) < 3 || codes[0] != "TI" {
		t.Errorf("codes %v, %v", codes, err)
	}
	if revs, err := release.Diff(r, r); err != nil || len(revs) != 0 {
		t.Errorf("Diff with itself: %d, %v", len(revs), err)
	}

	ctx := context.Background()
	db, err := duckdb.Open(ctx, t.TempDir(), duckdb.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, e := range r.Manifest().Files {
		if e.Rows == 0 {
			continue
		}
		var n int64
		path := filepath.Join(r.Dir(), e.Path)
		if err := db.Query(ctx, "SELECT count(*) FROM read_parquet('"+path+"')", func(scan func(...any) error) error { return scan(&n) }); err != nil {
			t.Fatal(err)
		}
		if n != e.Rows {
			t.Errorf("%s: DuckDB reads %d rows, manifest says %d", e.Path, n, e.Rows)
		}
	}
}

// TestComputeTwiceSameBytes: the same data bank computed and published
// twice gives byte-identical releases.
func TestComputeTwiceSameBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("computes the cube again: several seconds")
	}
	f := releasetest.Build(t)
	ctx := context.Background()
	dir := f.Copy(t)
	db, err := duckdb.Open(ctx, dir, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cube, _, err := releasetest.Compute(ctx, db, f.Lists)
	if err != nil {
		t.Fatal(err)
	}
	// Publish into a data dir that has the same key but no release yet.
	out := t.TempDir()
	os.MkdirAll(filepath.Join(out, "keys"), 0o700)
	key, _ := os.ReadFile(filepath.Join(f.DataDir, release.KeyFile))
	os.WriteFile(filepath.Join(out, release.KeyFile), key, 0o600)
	info, sha, err := releasetest.Publish(ctx, out, db, cube)
	if err != nil {
		t.Fatal(err)
	}
	if info.ID != f.Info.ID || sha != f.ManifestSHA256 {
		t.Errorf("second release %s manifest %s, first %s %s", info.ID, sha, f.Info.ID, f.ManifestSHA256)
	}
	a := filepath.Join(f.DataDir, "releases", f.Info.ID)
	b := filepath.Join(out, "releases", info.ID)
	entries, _ := os.ReadDir(filepath.Join(a, "cells"))
	for _, e := range append(entries, nil) {
		name := release.ManifestFile
		if e != nil {
			name = filepath.Join("cells", e.Name())
		}
		x, _ := os.ReadFile(filepath.Join(a, name))
		y, _ := os.ReadFile(filepath.Join(b, name))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s differs", name)
		}
	}
}
