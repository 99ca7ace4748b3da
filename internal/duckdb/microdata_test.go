package duckdb_test

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/cofile"
	"github.com/regione-lombardia/oml/internal/duckdb"
	"github.com/regione-lombardia/oml/internal/ingest"
	"github.com/regione-lombardia/oml/internal/pseudo"
	"github.com/regione-lombardia/oml/internal/synth"
)

// microdataStore ingests four months of synthetic CO files (January to
// April 2024, all provinces, rectifications and cancellations included)
// into a new data bank. It returns the data bank and the fiscal codes the
// files carried in clear, workers' and employers'.
func microdataStore(t *testing.T) (*duckdb.DB, map[string]bool) {
	t.Helper()
	ctx := context.Background()
	lists, err := classif.Load()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	cfg := synth.Config{Seed: 7, Scale: 0.005, Format: synth.FormatCanonical,
		From: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := synth.Generate(ctx, cfg, lists, in, nil); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(in, "co_*.csv"))
	if err != nil || len(files) == 0 {
		t.Fatalf("synth wrote no co_*.csv: %v", err)
	}
	clear := map[string]bool{}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		worker, employer := slices.Index(recs[0], "cf_lavoratore"), slices.Index(recs[0], "cf_datore")
		for _, r := range recs[1:] {
			if r[worker] != "" {
				clear[r[worker]] = true
			}
			if r[employer] != "" {
				clear[r[employer]] = true
			}
		}
	}
	db, err := duckdb.Open(ctx, dir, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	opt := ingest.Options{Format: cofile.Canonical, Lists: lists, Key: pseudo.NewKey([]byte("microdata test key of 32 bytes!!")),
		Version: "test", Now: func() time.Time { return time.Date(2025, 1, 20, 0, 0, 0, 0, time.UTC) }}
	if _, err := ingest.Run(ctx, db, files, opt); err != nil {
		t.Fatal(err)
	}
	return db, clear
}

// expectedMicrodata is the microdata of the current events where cond
// holds, written from the communications table without the events view.
const expectedMicrodata = `SELECT coalesce(root_id, comm_id) AS comm_id, coalesce(tipo_effettivo, tipo) AS tipo, rel_id, data,
	worker, employer, genere, anno_nascita, eta, cittadinanza, titolo_studio, comune_lavoro, prov_lavoro,
	comune_residenza, prov_residenza, ateco, professione, contratto, orario, data_fine_prevista,
	tipo_trasformazione, motivo_cessazione, categoria_protetta, tipo = 'R' AS rettificato
FROM communications WHERE active AND (%s)`

// null stands for NULL in the rows read back.
const null = "\x00NULL"

// fiscalCodeShape matches a personal fiscal code in clear (upper case, as
// the test data write them; pseudonyms are lower-case hex).
var fiscalCodeShape = regexp.MustCompile(`[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]`)

func TestExportMicrodata(t *testing.T) {
	ctx := context.Background()
	db, clear := microdataStore(t)
	one := func(t *testing.T, q string) (v string) {
		t.Helper()
		if err := db.SQL().QueryRowContext(ctx, q).Scan(&v); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return v
	}
	// rows returns the rows of q, whose columns must all be VARCHAR, with
	// NULL as null.
	rows := func(t *testing.T, q string) [][]string {
		t.Helper()
		var out [][]string
		err := db.Query(ctx, q, func(scan func(...any) error) error {
			r := make([]sql.NullString, len(duckdb.MicrodataColumns()))
			p := make([]any, len(r))
			for i := range r {
				p[i] = &r[i]
			}
			if err := scan(p...); err != nil {
				return err
			}
			row := make([]string, len(r))
			for i, v := range r {
				row[i] = null
				if v.Valid {
					row[i] = v.String
				}
			}
			out = append(out, row)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	column := func(t *testing.T, q string) []string {
		t.Helper()
		var out []string
		err := db.Query(ctx, q, func(scan func(...any) error) error {
			var s string
			out = append(out, "")
			return scan(&out[len(out)-1], &s)
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	// The data must exercise what the cases check: rows no longer
	// current, events on both sides of the month bounds of the dated
	// case, and comuni of another province with events of their own.
	if one(t, "SELECT count(*) FILTER (WHERE NOT active) > 0 AND count(*) FILTER (WHERE active AND tipo = 'R') > 0 FROM communications") != "true" {
		t.Fatal("the test data hold no cancelled or rectified communication")
	}
	for _, day := range []string{"2024-01-31", "2024-02-01", "2024-03-31", "2024-04-01"} {
		if one(t, "SELECT count(*) FROM communications WHERE active AND prov_lavoro = '015' AND data = '"+day+"'") == "0" {
			t.Fatalf("the test data hold no event of province 015 on %s", day)
		}
	}
	other := column(t, `SELECT comune_lavoro, count(*) FROM communications
		WHERE active AND prov_lavoro = '017' AND prov_residenza <> '016' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 2`)
	if len(other) != 2 {
		t.Fatalf("no comuni of province 017 in the test data: %v", other)
	}

	cet := time.FixedZone("CET", 3600)
	for _, tc := range []struct {
		name string
		f    duckdb.MicrodataFilter
		cond string // the same selection, written for expectedMicrodata
	}{
		{"region", duckdb.MicrodataFilter{}, "true"},
		{"province", duckdb.MicrodataFilter{Province: "016"}, "prov_lavoro = '016' OR prov_residenza = '016'"},
		{"province and comuni", duckdb.MicrodataFilter{Province: "016", Comuni: other},
			"prov_lavoro = '016' OR prov_residenza = '016' OR comune_lavoro IN ('" + other[0] + "', '" + other[1] + "') OR comune_residenza IN ('" + other[0] + "', '" + other[1] + "')"},
		// Days and zones inside a month do not matter: February to March.
		{"months", duckdb.MicrodataFilter{Province: "015", From: time.Date(2024, 2, 1, 0, 30, 0, 0, cet), To: time.Date(2024, 3, 3, 0, 0, 0, 0, time.UTC)},
			"(prov_lavoro = '015' OR prov_residenza = '015') AND data BETWEEN DATE '2024-02-01' AND DATE '2024-03-31'"},
		{"one month", duckdb.MicrodataFilter{Province: "015", From: time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
			"(prov_lavoro = '015' OR prov_residenza = '015') AND data BETWEEN DATE '2024-03-01' AND DATE '2024-03-31'"},
		{"from only", duckdb.MicrodataFilter{From: time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC)}, "data >= DATE '2024-03-01'"},
		{"to only", duckdb.MicrodataFilter{To: time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)}, "data <= DATE '2024-01-31'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			pq, cs := filepath.Join(dir, "m.parquet"), filepath.Join(dir, "m.csv")
			expected := strings.Replace(expectedMicrodata, "%s", tc.cond, 1)
			want := one(t, "SELECT count(*) FROM ("+expected+")")
			if want == "0" {
				t.Fatal("the case selects no event in the test data")
			}

			n, err := db.ExportMicrodata(ctx, tc.f, duckdb.MicrodataParquet, pq)
			if err != nil {
				t.Fatal(err)
			}
			if got := one(t, "SELECT count(*) FROM read_parquet('"+pq+"')"); got != want || strconv.FormatInt(n, 10) != want {
				t.Fatalf("parquet: %d rows reported, %s read, want %s", n, got, want)
			}
			cols := strings.Join(column(t, "SELECT name, type FROM parquet_schema('"+pq+"') WHERE num_children IS NULL"), ",")
			if cols != strings.Join(duckdb.MicrodataColumns(), ",") {
				t.Errorf("parquet columns %s", cols)
			}
			// The same rows, in the same order, as the independent query.
			got := rows(t, "SELECT COLUMNS(* EXCLUDE (file_row_number))::VARCHAR FROM read_parquet('"+pq+"', file_row_number = true) ORDER BY file_row_number")
			if !slices.EqualFunc(got, rows(t, "SELECT COLUMNS(*)::VARCHAR FROM ("+expected+" ORDER BY seq)"), slices.Equal) {
				t.Error("parquet rows differ from the communications table's")
			}

			m, err := db.ExportMicrodata(ctx, tc.f, duckdb.MicrodataCSV, cs)
			if err != nil {
				t.Fatal(err)
			}
			recs := readCSV(t, cs)
			if h := strings.Join(recs[0], ","); h != strings.Join(duckdb.MicrodataColumns(), ",") {
				t.Errorf("csv header %s", h)
			}
			if m != n || int64(len(recs)-1) != n {
				t.Fatalf("csv: %d rows reported, %d read; parquet %d", m, len(recs)-1, n)
			}
			// A CSV writes NULL as an empty field.
			for _, r := range got {
				for i := range r {
					if r[i] == null {
						r[i] = ""
					}
				}
			}
			if !slices.EqualFunc(recs[1:], got, slices.Equal) {
				t.Error("csv rows differ from the parquet's")
			}
		})
	}

	t.Run("no fiscal code", func(t *testing.T) {
		if len(clear) == 0 {
			t.Fatal("the test data carry no fiscal code")
		}
		path := filepath.Join(t.TempDir(), "m.csv")
		if _, err := db.ExportMicrodata(ctx, duckdb.MicrodataFilter{}, duckdb.MicrodataCSV, path); err != nil {
			t.Fatal(err)
		}
		for i, r := range readCSV(t, path) {
			for j, v := range r {
				if clear[v] || fiscalCodeShape.MatchString(v) {
					t.Fatalf("line %d, column %d: %q is a fiscal code in clear", i+1, j+1, v)
				}
			}
		}
	})
}

func TestExportMicrodataRefuses(t *testing.T) {
	ctx := context.Background()
	db, _ := microdataStore(t)
	for _, tc := range []struct {
		name   string
		f      duckdb.MicrodataFilter
		format string
	}{
		{"format", duckdb.MicrodataFilter{Province: "016"}, "xlsx"},
		{"no format", duckdb.MicrodataFilter{Province: "016"}, ""},
		{"format case", duckdb.MicrodataFilter{Province: "016"}, "CSV"},
		{"quote in province", duckdb.MicrodataFilter{Province: "016' OR '1'='1"}, duckdb.MicrodataCSV},
		{"space in province", duckdb.MicrodataFilter{Province: "01 6"}, duckdb.MicrodataParquet},
		{"long province", duckdb.MicrodataFilter{Province: "0160160160160"}, duckdb.MicrodataCSV},
		{"bad comune", duckdb.MicrodataFilter{Province: "016", Comuni: []string{"016024", "016;--"}}, duckdb.MicrodataCSV},
		{"empty comune", duckdb.MicrodataFilter{Province: "016", Comuni: []string{""}}, duckdb.MicrodataCSV},
		{"comuni without province", duckdb.MicrodataFilter{Comuni: []string{"016024"}}, duckdb.MicrodataCSV},
		{"from after to", duckdb.MicrodataFilter{From: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)}, duckdb.MicrodataParquet},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			n, err := db.ExportMicrodata(ctx, tc.f, tc.format, filepath.Join(dir, "m"))
			if oml.ErrorCode(err) != oml.EINVALID || n != 0 {
				t.Fatalf("%d, %v: want EINVALID", n, err)
			}
			if !strings.Contains(oml.ErrorMessage(err), " / ") || oml.ErrorHint(err) == "" {
				t.Errorf("message %q, hint %q: want both languages and a hint", oml.ErrorMessage(err), oml.ErrorHint(err))
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("a refused export left %v", entries)
			}
		})
	}
}

// TestExportMicrodataAtomic checks that an export replaces a file whole and
// that a failed one leaves it, and nothing else, behind.
func TestExportMicrodataAtomic(t *testing.T) {
	db, _ := microdataStore(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "m.csv")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.ExportMicrodata(ctx, duckdb.MicrodataFilter{}, duckdb.MicrodataCSV, path); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled export: %v", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "old" {
		t.Errorf("a failed export changed the file: %q, %v", b, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a failed export left %v", entries)
	}
	n, err := db.ExportMicrodata(context.Background(), duckdb.MicrodataFilter{Province: "016"}, duckdb.MicrodataCSV, path)
	if err != nil || n == 0 {
		t.Fatalf("%d, %v", n, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("exported file: %v, %v; want mode 0600", fi.Mode(), err)
	}
	if recs := readCSV(t, path); int64(len(recs)-1) != n {
		t.Errorf("%d rows read, %d written", len(recs)-1, n)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("an export left %v", entries)
	}
	if _, err := db.ExportMicrodata(context.Background(), duckdb.MicrodataFilter{}, duckdb.MicrodataCSV, filepath.Join(dir, "missing", "m.csv")); err == nil {
		t.Error("an export into a missing directory succeeded")
	}
}

// TestExportTerritoryComuni checks ExportTerritory, which shares the
// territory rule of ExportMicrodata, against the rule written out: the
// communications of the relationships with a current event in the province
// or in its comuni, those without a relationship id there, and the index of
// those relationships.
func TestExportTerritoryComuni(t *testing.T) {
	ctx := context.Background()
	db, _ := microdataStore(t)
	count := func(q string) (n int64) {
		t.Helper()
		if err := db.SQL().QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	comuni := []string{"017029", "017067"} // Brescia, Desenzano del Garda
	for _, tc := range []struct {
		name   string
		comuni []string
		cond   string
	}{
		{"province", nil, "prov_lavoro = '016' OR prov_residenza = '016'"},
		{"comuni", comuni, "prov_lavoro = '016' OR prov_residenza = '016' OR comune_lavoro IN ('017029', '017067') OR comune_residenza IN ('017029', '017067')"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rels := "SELECT rel_id FROM communications WHERE active AND rel_id IS NOT NULL AND (" + tc.cond + ")"
			wantComms := count("SELECT count(*) FROM communications WHERE rel_id IN (" + rels + ") OR (rel_id IS NULL AND active AND (" + tc.cond + "))")
			wantRels := count("SELECT count(*) FROM relationship_index WHERE rel_id IN (" + rels + ")")
			dir := t.TempDir()
			n, err := db.ExportTerritory(ctx, "016", tc.comuni, dir)
			if err != nil {
				t.Fatal(err)
			}
			gotComms := count("SELECT count(*) FROM read_parquet('" + filepath.Join(dir, duckdb.ExtractCommunications) + "')")
			gotRels := count("SELECT count(*) FROM read_parquet('" + filepath.Join(dir, duckdb.ExtractRelationships) + "')")
			if n != wantComms || gotComms != wantComms || gotRels != wantRels {
				t.Errorf("communications %d reported, %d written, want %d; relationships %d, want %d", n, gotComms, wantComms, gotRels, wantRels)
			}
		})
	}
	if province, withComuni := count("SELECT count(DISTINCT rel_id) FROM communications WHERE active AND (prov_lavoro = '016' OR prov_residenza = '016')"),
		count("SELECT count(DISTINCT rel_id) FROM communications WHERE active AND (prov_lavoro = '016' OR prov_residenza = '016' OR comune_lavoro IN ('017029', '017067') OR comune_residenza IN ('017029', '017067'))"); withComuni <= province {
		t.Errorf("the comuni add no relationship to the province's (%d, %d): the test data do not exercise them", province, withComuni)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 {
		t.Fatalf("%s has no header", path)
	}
	return recs
}
