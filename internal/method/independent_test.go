package method_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/cofile"
	"github.com/regione-lombardia/oml/internal/duckdb"
	"github.com/regione-lombardia/oml/internal/method"
	"github.com/regione-lombardia/oml/internal/synth"
)

// synthetic is a small synthetic regional data bank and its cube, shared
// by the tests of this file.
var synthetic struct {
	once  sync.Once
	db    *duckdb.DB
	cube  *method.Cube
	lists *classif.Lists
	err   error
}

func syntheticCube(t *testing.T) (*method.Cube, *duckdb.DB, *classif.Lists) {
	t.Helper()
	if testing.Short() {
		t.Skip("synthetic regional data set: not in -short")
	}
	s := &synthetic
	s.once.Do(func() {
		ctx := context.Background()
		dir, err := tempDir()
		if err != nil {
			s.err = err
			return
		}
		if s.lists, err = classif.Load(); err != nil {
			s.err = err
			return
		}
		cfg := synth.Config{Seed: 7, Scale: 0.004, From: time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC),
			To: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)}
		sum, err := synth.Generate(ctx, cfg, s.lists, filepath.Join(dir, "co"), nil)
		if err != nil {
			s.err = err
			return
		}
		var files []string
		for _, f := range sum.Files {
			files = append(files, filepath.Join(dir, "co", filepath.Base(f.Path)))
		}
		if s.db, _, err = ingestFiles(ctx, dir, cofile.Canonical, s.lists, files); err != nil {
			s.err = err
			return
		}
		cat, err := method.Load()
		if err != nil {
			s.err = err
			return
		}
		vintage, _, err := s.db.LastEventDate(ctx)
		if err != nil {
			s.err = err
			return
		}
		s.cube, s.err = cat.Compute(ctx, s.db, s.lists, vintage, nil)
	})
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.cube, s.db, s.lists
}

// TestAgainstPlainSQL recomputes the monthly flows and the month-end
// positions of every province straight from the events and relationships
// views, with SQL written independently of the catalogue's compiler, and
// compares them with the cube.
func TestAgainstPlainSQL(t *testing.T) {
	cube, db, lists := syntheticCube(t)
	ctx := context.Background()
	var provs, fixed []string
	for _, p := range lists.Provinces() {
		provs = append(provs, "'"+p.Code+"'")
	}
	for _, c := range lists.Contracts() {
		if c.FixedTerm {
			fixed = append(fixed, "'"+c.Code+"'")
		}
	}
	vint := "DATE '" + cube.Vintage.Format(time.DateOnly) + "'"
	// The province of a Lombardy comune is the first three digits of its
	// ISTAT code.
	q := `WITH months AS (SELECT DISTINCT date_trunc('month', data) AS mese FROM events),
flows AS (
  SELECT substr(comune_lavoro, 1, 3) AS prov, date_trunc('month', data) AS mese,
         count(*) FILTER (WHERE tipo = 'A') AS a, count(*) FILTER (WHERE tipo = 'C') AS c,
         count(*) FILTER (WHERE tipo = 'P') AS p, count(*) FILTER (WHERE tipo = 'T') AS t
  FROM events GROUP BY ALL),
rel AS (
  SELECT substr(comune_lavoro, 1, 3) AS prov, coalesce(data_inizio, primo_evento) AS inizio,
         CASE WHEN data_cessazione IS NOT NULL THEN data_cessazione
              WHEN contratto IN (` + strings.Join(fixed, ",") + `) AND fine_prevista <= ` + vint + ` AND data_trasformazione_ti IS NULL THEN fine_prevista END AS fine,
         data_cessazione IS NULL AND contratto IN (` + strings.Join(fixed, ",") + `) AND fine_prevista <= ` + vint + ` AND data_trasformazione_ti IS NULL AS imputata
  FROM relationships),
imputed AS (SELECT prov, date_trunc('month', fine) AS mese, count(*) AS ci FROM rel WHERE imputata GROUP BY ALL),
stock AS (
  SELECT r.prov, m.mese, count(*) AS pos FROM rel r, months m
  WHERE r.inizio <= last_day(m.mese) AND (r.fine IS NULL OR r.fine >= last_day(m.mese)) GROUP BY ALL)
SELECT prov, strftime(mese, '%Y-%m') AS mese, sum(a), sum(c), sum(ci), sum(p), sum(t), sum(pos) FROM (
  SELECT prov, mese, a, c, 0 AS ci, p, t, 0 AS pos FROM flows
  UNION ALL SELECT prov, mese, 0, 0, ci, 0, 0, 0 FROM imputed
  UNION ALL SELECT prov, mese, 0, 0, 0, 0, 0, pos FROM stock)
WHERE prov IN (` + strings.Join(provs, ",") + `) AND mese <= ` + vint + `
GROUP BY ALL ORDER BY 1, 2`
	n := 0
	err := db.Query(ctx, q, func(scan func(...any) error) error {
		var prov, mese string
		var a, c, ci, p, tr, pos float64
		if err := scan(&prov, &mese, &a, &c, &ci, &p, &tr, &pos); err != nil {
			return err
		}
		n++
		k := key(t, "workplace/full/province/"+prov, mese, "")
		for _, w := range []struct {
			id   string
			want float64
		}{
			{"attivazioni", a}, {"cessazioni_comunicate", c}, {"cessazioni_imputate", ci},
			{"proroghe", p}, {"trasformazioni", tr}, {"saldo", a - c - ci}, {"posizioni_attive", pos},
		} {
			if got := cellValue(t, cube, k, w.id); got != w.want {
				t.Errorf("%s %s %s: cube %v, plain SQL %v", w.id, prov, mese, got, w.want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 12*24 {
		t.Fatalf("only %d province-months compared", n)
	}
}

// TestRegionIsSumOfProvinces checks every additive indicator, period,
// perimeter, scope and breakdown: the region equals the sum of its
// provinces, and of its CPIs where the breakdown is published by CPI.
func TestRegionIsSumOfProvinces(t *testing.T) {
	cube, _, _ := syntheticCube(t)
	cat := cube.Catalogue
	type total struct {
		k   method.CellKey
		lvl oml.Level
	}
	sums := map[total][]float64{}
	var regions []method.CellKey
	for _, c := range cube.Cells {
		switch c.Level {
		case oml.LevelRegion:
			regions = append(regions, c.CellKey)
		case oml.LevelProvince, oml.LevelCPI:
			k := c.CellKey
			k.Level, k.Territory = oml.LevelRegion, oml.RegionCode
			tk := total{k, c.Level}
			s := sums[tk]
			if s == nil {
				s = make([]float64, len(cat.Indicators))
				sums[tk] = s
			}
			for i, v := range c.Values {
				s[i] += v
			}
		}
	}
	checked := 0
	for _, rk := range regions {
		rc, _ := cube.Lookup(rk)
		for _, lvl := range []oml.Level{oml.LevelProvince, oml.LevelCPI} {
			s, ok := sums[total{rk, lvl}]
			dims := []string{}
			if rk.Dims != "" {
				dims = strings.Split(rk.Dims, ",")
			}
			for i, ind := range cat.Indicators {
				if !ind.Additive || !cat.Allows(&cat.Indicators[i], lvl, dims) {
					continue
				}
				want := 0.0
				if ok {
					want = s[i]
				}
				if rc.Values[i] != want {
					t.Fatalf("%s %+v: region %v, sum of %s %v", ind.ID, rk, rc.Values[i], lvl, want)
				}
				checked++
			}
		}
	}
	if checked < 100000 {
		t.Fatalf("only %d region cells checked", checked)
	}
	t.Logf("%d region values checked against provinces and CPIs", checked)
}

// TestPartitionsAddUp checks that the codes of every partition dimension
// add up to the total, for the flows.
func TestPartitionsAddUp(t *testing.T) {
	cube, _, _ := syntheticCube(t)
	cat := cube.Catalogue
	ia := indicatorIndex(t, cat, "attivazioni")
	is := indicatorIndex(t, cat, "saldo")
	sums := map[method.CellKey][2]float64{}
	for _, c := range cube.Cells {
		if c.Dims == "" || strings.Contains(c.Dims, ",") || c.Dims == "target" || c.Dims == "tipo_trasformazione" {
			continue
		}
		k := c.CellKey
		k.Dims, k.Codes = "", ""
		k.Codes = c.Dims // keep the dimensions apart
		s := sums[k]
		s[0] += c.Values[ia]
		s[1] += c.Values[is]
		sums[k] = s
	}
	if len(sums) == 0 {
		t.Fatal("no breakdown cells")
	}
	keys := make([]method.CellKey, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
	for _, k := range keys {
		s := sums[k]
		dim := k.Codes
		k.Codes = ""
		tot, ok := cube.Lookup(k)
		want := [2]float64{}
		if ok {
			want = [2]float64{tot.Values[ia], tot.Values[is]}
		}
		if s != want {
			t.Fatalf("%+v by %s: codes add up to %v, total %v", k, dim, s, want)
		}
	}
}

// TestDisclosedCube checks the published cube: no count from 1 to k-1,
// every withheld value NaN with status C, the last months provisional.
func TestDisclosedCube(t *testing.T) {
	_, db, lists := syntheticCube(t)
	cat, _ := method.Load()
	vintage, _, _ := db.LastEventDate(context.Background())
	cube, err := cat.Compute(context.Background(), db, lists, vintage, nil)
	if err != nil {
		t.Fatal(err)
	}
	cube.Disclose()
	k := float64(cat.Disclosure.K)
	lastProv := cube.To.Index() - cat.ProvisionalMonths + 1
	var nC, nP int
	for _, c := range cube.Cells {
		for i, ind := range cat.Indicators {
			v, st := c.Values[i], c.Status[i]
			switch st {
			case oml.StatusConfidential:
				nC++
				if !math.IsNaN(v) {
					t.Fatalf("%s %+v: confidential value %v not withheld", ind.ID, c.CellKey, v)
				}
				continue
			case oml.StatusProvisional:
				nP++
			}
			counts := ind.Kind != method.KindRatio && ind.Kind != method.KindRate && ind.Kind != method.KindMedian && ind.ID != "saldo" && ind.ID != "saldo_cumulato"
			if counts && v >= 1 && v < k {
				t.Fatalf("%s %+v: published %v", ind.ID, c.CellKey, v)
			}
			if c.Freq == oml.Monthly && c.Period >= lastProv && st == oml.StatusNormal {
				t.Fatalf("%s %+v: last months must be provisional", ind.ID, c.CellKey)
			}
		}
	}
	if nC == 0 || nP == 0 {
		t.Fatalf("confidential %d, provisional %d: expected both", nC, nP)
	}
}

// tempDir returns a directory removed when the test binary exits.
func tempDir() (string, error) { return os.MkdirTemp("", "oml-method-") }
