package local_test

import (
	"context"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/duckdb"
	"github.com/regione-lombardia/oml/internal/local"
	"github.com/regione-lombardia/oml/internal/method"
	"github.com/regione-lombardia/oml/internal/release"
	"github.com/regione-lombardia/oml/internal/release/releasetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	releasetest.Cleanup()
	os.Exit(code)
}

var now = time.Date(2025, 2, 1, 10, 0, 0, 0, time.UTC)

func TestParseAreas(t *testing.T) {
	f := releasetest.Build(t)
	for _, tc := range []struct {
		name, csv, territory string
		areas                int
		errs                 []string // fragments of the error, one per rejected row
	}{
		{"ok", "comune,area,nome_area\n016024,bg,Bergamo città\n016030,valle,Val Seriana\nA163,valle,Val Seriana\n", "016", 2, nil},
		{"bom and case", "\ufeffComune,Area,Nome_Area\n016024,bg,Bergamo\n", "016", 1, nil},
		{"region allows all", "comune,area,nome_area\n016024,x,X\n015146,x,X\n", oml.RegionCode, 1, nil},
		{"every bad row", "comune,area,nome_area\n016024,bg,B\n999999,bg,B\n015146,mi,Milano\n016024,bg2,B2\n016004,b g,B\n016030,bg,Altro nome\n016062,z,\n", "016",
			0, []string{"riga 3: comune \"999999\" sconosciuto", "riga 4: il comune 015146 (Milano) non è nel territorio 016", "riga 5: il comune 016024 (Bergamo) è già nella riga 2", "riga 6: codice area \"b g\"", "riga 7: l'area bg ha già il nome", "riga 8: nome_area vuoto"}},
		{"columns", "istat,zona\n016024,a\n", "016", 0, []string{"colonne comune, area, nome_area"}},
		{"empty", "comune,area,nome_area\n", "016", 0, []string{"non ha righe"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			areas, err := local.ParseAreas([]byte(tc.csv), f.Lists, tc.territory)
			if len(tc.errs) == 0 {
				if err != nil || len(areas) != tc.areas {
					t.Fatalf("got %d areas, %v; want %d", len(areas), err, tc.areas)
				}
				return
			}
			if err == nil || oml.ErrorCode(err) != oml.EINVALID {
				t.Fatalf("err %v, want invalid", err)
			}
			for _, e := range tc.errs {
				if !strings.Contains(err.Error(), e) {
					t.Errorf("error %q lacks %q", err, e)
				}
			}
		})
	}
}

func TestDataset(t *testing.T) {
	dir := t.TempDir()
	meta := local.DatasetMeta{Title: "Imprese", Source: "CCIAA", Licence: "CC-BY 4.0", Dimensions: []string{"comune"}, Counts: []string{"imprese"}}
	for _, tc := range []struct{ name, csv, want string }{
		{"missing column", "comune,n\n016024,3\n", "colonna \"imprese\""},
		{"bad counts, all reported", "comune,imprese\n016024,tre\n016004,-1\n016030,4\n", "riga 2: colonna imprese: \"tre\" non è un conteggio (numero non negativo); riga 3: colonna imprese: \"-1\""},
		{"ragged", "comune,imprese\n016024,3,4\n", "riga 2: CSV non valido"},
		{"no rows", "comune,imprese\n", "non ha righe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := local.AddDataset(dir, "imprese", meta, []byte(tc.csv), now)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
	if ds, _ := local.Datasets(dir); len(ds) != 0 {
		t.Fatalf("a refused data set was stored: %v", ds)
	}
	if _, err := local.AddDataset(dir, "Imprese!", meta, []byte("comune,imprese\n1,2\n"), now); oml.ErrorCode(err) != oml.EINVALID {
		t.Fatalf("bad slug: %v", err)
	}
	d, err := local.AddDataset(dir, "imprese", meta, []byte("comune,imprese\n016024,120\n016004,2\n016030,\n016062,0\n"), now)
	if err != nil || d.Rows != 4 {
		t.Fatalf("%+v %v", d, err)
	}
	_, rows, err := local.OpenDataset(dir, "imprese", 3)
	if err != nil {
		t.Fatal(err)
	}
	got := [][]string{}
	for _, r := range rows[1:] {
		got = append(got, []string{r[1]})
	}
	if want := "[[120] [c] [] [0]]"; strings.TrimSpace(strings.ReplaceAll(fmtRows(got), "  ", " ")) != want {
		t.Fatalf("published %v, want %s", got, want)
	}
	if err := local.Remove(dir, "imprese"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := local.OpenDataset(dir, "imprese", 3); oml.ErrorCode(err) != oml.ENOTFOUND {
		t.Fatalf("removed data set: %v", err)
	}
}

func fmtRows(rows [][]string) string {
	var b strings.Builder
	b.WriteString("[")
	for i, r := range rows {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString("[" + strings.Join(r, " ") + "]")
	}
	return b.String() + "]"
}

// TestComputeAgainstPlainSQL computes the common indicators on two areas
// of Bergamo and checks the yearly hires and distinct hired workers of
// each area against plain SQL over the events of its comuni, and that no
// published count lies between 1 and k-1.
func TestComputeAgainstPlainSQL(t *testing.T) {
	f := releasetest.Build(t)
	dir := f.Copy(t)
	var rest []string
	for _, c := range f.Lists.ComuniOf("016") {
		if c.Istat != "016024" {
			rest = append(rest, c.Istat)
		}
	}
	table := "comune,area,nome_area\n016024,citta,Bergamo città\n"
	for _, c := range rest[:40] {
		table += c + ",cintura,Prima cintura\n"
	}
	meta := local.GeographyMeta{Title: "Aree", Source: "test", Licence: "CC0"}
	g, err := local.AddGeography(dir, "aree", meta, []byte(table), f.Lists, "016", now)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	relDir := filepath.Join(dir, release.ReleasesDir, f.Info.ID)
	catJSON, err := os.ReadFile(filepath.Join(relDir, release.CatalogueFile))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := method.Parse(catJSON)
	if err != nil {
		t.Fatal(err)
	}
	db, err := duckdb.Open(ctx, dir, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	g, err = local.Compute(ctx, dir, "aree", local.Basis{Store: db, Lists: f.Lists, Catalogue: cat, Vintage: releasetest.Vintage, Release: f.Info.ID}, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if g.Computed == nil || g.Computed.Release != f.Info.ID || g.Computed.Cells == 0 {
		t.Fatalf("computation %+v", g.Computed)
	}
	// The published values of the areas, by indicator, area and year.
	_, path, err := local.OpenGeography(dir, "aree")
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	rows, err := csv.NewReader(file).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(local.ResultHeader, ",") {
		t.Fatalf("header %v", rows[0])
	}
	published := map[string]string{}
	k := float64(cat.Disclosure.K)
	counts := map[string]bool{"attivazioni": true, "cessazioni": true, "lavoratori_attivati": true, "datori_attivanti": true, "proroghe": true, "trasformazioni": true}
	for _, r := range rows[1:] {
		ind, per, scope, freq, period, area, dims, val, st := r[0], r[1], r[2], r[3], r[4], r[5], r[7], r[9], r[10]
		if counts[ind] && val != "" {
			if v, _ := strconv.ParseFloat(val, 64); v > 0 && v < k {
				t.Errorf("%v: published count %v below k=%v", r, v, k)
			}
		}
		if (st == "C") != (val == "") {
			t.Errorf("%v: status and value disagree", r)
		}
		if per == "workplace" && scope == "full" && freq == "Y" && dims == "" {
			published[ind+"/"+area+"/"+period] = val
		}
	}
	q := `SELECT CASE WHEN comune_lavoro = '016024' THEN 'citta' ELSE 'cintura' END AS area, year(data)::VARCHAR AS anno,
       count(*) FILTER (WHERE tipo = 'A'), count(DISTINCT worker) FILTER (WHERE tipo = 'A')
FROM events WHERE comune_lavoro IN ('016024', '` + strings.Join(rest[:40], "','") + `') AND data <= DATE '` + releasetest.Vintage.Format(time.DateOnly) + `'
GROUP BY ALL ORDER BY 1, 2`
	compared := 0
	err = db.Query(ctx, q, func(scan func(...any) error) error {
		var area, year string
		var hires, workers float64
		if err := scan(&area, &year, &hires, &workers); err != nil {
			return err
		}
		for _, w := range []struct {
			id   string
			want float64
		}{{"attivazioni", hires}, {"lavoratori_attivati", workers}} {
			got, ok := published[w.id+"/"+area+"/"+year]
			if !ok {
				t.Errorf("%s %s %s: not published", w.id, area, year)
				continue
			}
			if got == "" { // withheld: the truth must be small, or protected by secondary suppression
				continue
			}
			v, _ := strconv.ParseFloat(got, 64)
			if math.Abs(v-w.want) > 1e-9 {
				t.Errorf("%s %s %s: computed %v, plain SQL %v", w.id, area, year, v, w.want)
			}
			compared++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if compared < 4 {
		t.Fatalf("only %d values compared", compared)
	}
	sum, err := local.ReadSummary(dir, "aree")
	if err != nil || len(sum.Areas) != 2 || len(sum.Years) == 0 {
		t.Fatalf("summary %+v %v", sum, err)
	}
}
