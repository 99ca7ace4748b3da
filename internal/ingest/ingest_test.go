package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/bloom"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/cofile"
	"github.com/regione-lombardia/oml/internal/duckdb"
	"github.com/regione-lombardia/oml/internal/ingest"
	"github.com/regione-lombardia/oml/internal/pseudo"
)

// clearCodes are the fiscal codes written in clear in testdata/*.csv.
var clearCodes = []string{
	"RSSMRA85T10F205R", "BNCLRA90A41F205I", "VRDGPP70C15A794Z", "RSSMRA85T10F205X",
	"01234567897", "12345678903", "98765432103",
}

type fixture struct {
	dir  string
	db   *duckdb.DB
	opt  ingest.Options
	ctx  context.Context
	list *classif.Lists
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, duckdb.Options{})
}

// newFixtureWith is newFixture with DuckDB options.
func newFixtureWith(t *testing.T, dbopt duckdb.Options) *fixture {
	t.Helper()
	lists, err := classif.Load()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	key, err := pseudo.LoadKey(dir, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := duckdb.Open(ctx, dir, dbopt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := func() time.Time { return time.Date(2025, 1, 20, 10, 0, 0, 0, time.UTC) }
	return &fixture{dir: dir, db: db, ctx: ctx, list: lists,
		opt: ingest.Options{Format: cofile.Canonical, Lists: lists, Key: key, Now: now, Version: "test"}}
}

func (f *fixture) ingest(t *testing.T, files ...string) oml.IngestReport {
	t.Helper()
	r, err := ingest.Run(f.ctx, f.db, files, f.opt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *fixture) query(t *testing.T, q string) string {
	t.Helper()
	rows, err := f.db.SQL().QueryContext(f.ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, v := range vals {
			switch x := v.(type) {
			case nil:
				s = append(s, "NULL")
			case time.Time:
				s = append(s, x.Format("2006-01-02"))
			default:
				s = append(s, fmt.Sprint(x))
			}
		}
		out = append(out, strings.Join(s, " "))
	}
	return strings.Join(out, "\n")
}

func TestIngestHandChecked(t *testing.T) {
	f := newFixture(t)
	r := f.ingest(t, "testdata/first.csv")

	// 20 rows: 8 accepted (c1-c8), 1 exact resend of c1, 11 rejected.
	if r.Read != 20 || r.Accepted != 8 || r.Duplicates != 1 || r.Rejected != 11 {
		t.Fatalf("read %d accepted %d duplicates %d rejected %d, want 20 8 1 11", r.Read, r.Accepted, r.Duplicates, r.Rejected)
	}
	wantReasons := map[oml.Reason]int64{
		oml.DuplicateDifferent: 1, // c2 again with another date
		oml.EventDateInvalid:   1, // month 13
		oml.EventDateFuture:    1,
		oml.EventDateTooOld:    1,
		oml.WorkerCFInvalid:    1,
		oml.ComuneUnknown:      1,
		oml.ContractNotValidAt: 1, // A.03.02 ended in 2012
		oml.PlannedEndMissing:  1,
		oml.RowMalformed:       2, // unterminated quote, two fields
		oml.RefUnknown:         1, // X of a communication never sent
	}
	if len(r.RejectedByReason) != len(wantReasons) {
		t.Errorf("reasons %v, want %v", r.RejectedByReason, wantReasons)
	}
	for k, v := range wantReasons {
		if r.RejectedByReason[k] != v {
			t.Errorf("reason %s: %d rejects, want %d", k, r.RejectedByReason[k], v)
		}
	}

	// Lines of the rejects, in file order (the header is line 1).
	if got, want := f.query(t, "SELECT line, reason FROM rejects ORDER BY line"), strings.Join([]string{
		"11 id_duplicato_diverso", "12 data_evento_invalida", "13 data_evento_futura", "14 data_evento_anteriore_2008",
		"15 cf_lavoratore_invalido", "16 comune_sconosciuto", "17 contratto_non_valido_alla_data",
		"18 data_fine_prevista_mancante", "19 riga_malformata", "20 rif_comunicazione_sconosciuto", "21 riga_malformata",
	}, "\n"); got != want {
		t.Errorf("rejects:\n%s\nwant:\n%s", got, want)
	}

	// Current events: c5 rectified by c6 (date 30 May), c7 cancelled by c8.
	if got, want := f.query(t, "SELECT comm_id, tipo, rel_id, data FROM events ORDER BY rel_id, data"), strings.Join([]string{
		"c1 A r1 2024-01-15", "c2 P r1 2024-06-20", "c3 T r1 2024-09-01",
		"c4 A r2 2024-03-01", "c5 C r2 2024-05-30",
	}, "\n"); got != want {
		t.Errorf("events:\n%s\nwant:\n%s", got, want)
	}
	if got, want := f.query(t, `SELECT rel_id, has_a, data_inizio, contratto_iniziale, contratto, fine_prevista, data_cessazione,
		motivo_cessazione, data_trasformazione_ti, n_eventi, n_proroghe, prov_lavoro FROM relationships ORDER BY rel_id`),
		strings.Join([]string{
			"r1 true 2024-01-15 A.02.00 A.01.00 2024-12-31 NULL NULL 2024-09-01 3 1 015",
			"r2 true 2024-03-01 A.01.00 A.01.00 NULL 2024-05-30 DIMISSIONI NULL 2 0 015",
		}, "\n"); got != want {
		t.Errorf("relationships:\n%s\nwant:\n%s", got, want)
	}

	// The same file again changes nothing.
	before := f.query(t, "SELECT count(*) FROM communications")
	r2 := f.ingest(t, "testdata/first.csv")
	if !r2.Files[0].AlreadyIngested || r2.Read != 0 {
		t.Errorf("re-ingest: %+v", r2.Files[0])
	}
	if after := f.query(t, "SELECT count(*) FROM communications"); after != before {
		t.Errorf("re-ingest changed the store: %s -> %s rows", before, after)
	}

	// A later file cancels the hire of r2 and rectifies the rectification
	// of its termination: r2 is left with a C only.
	r3 := f.ingest(t, "testdata/second.csv")
	if r3.Accepted != 2 || r3.Rejected != 0 {
		t.Fatalf("second file: %+v", r3)
	}
	if got, want := f.query(t, "SELECT comm_id, tipo, data, motivo_cessazione FROM events WHERE rel_id = 'r2'"),
		"c5 C 2024-05-29 LICENZIAMENTO"; got != want {
		t.Errorf("r2 events: %s, want %s", got, want)
	}
	if got, want := f.query(t, "SELECT has_a, data_cessazione, motivo_cessazione FROM relationships WHERE rel_id = 'r2'"),
		"false 2024-05-29 LICENZIAMENTO"; got != want {
		t.Errorf("r2 relationship: %s, want %s", got, want)
	}
	if got := f.query(t, "SELECT sum(read) = sum(accepted + rejected + duplicates) FROM files"); got != "true" {
		t.Error("files table does not reconcile")
	}
}

// TestNoClearFiscalCode greps every file of the data dir, and every text
// column of every table, for the fiscal codes of the input.
func TestNoClearFiscalCode(t *testing.T) {
	f := newFixture(t)
	f.ingest(t, "testdata/first.csv", "testdata/second.csv")
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	err := filepath.Walk(f.dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, cf := range clearCodes {
			if bytes.Contains(b, []byte(cf)) {
				t.Errorf("%s holds the fiscal code %s in clear", path, cf)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db, err := duckdb.Open(f.ctx, f.dir, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f.db = db
	cols := f.query(t, `SELECT table_name || '.' || column_name FROM information_schema.columns
		WHERE data_type = 'VARCHAR' AND table_schema = 'main' AND table_name <> 'events'`)
	for _, tc := range strings.Split(cols, "\n") {
		tab, col, _ := strings.Cut(tc, ".")
		for _, cf := range clearCodes {
			if n := f.query(t, "SELECT count(*) FROM "+tab+" WHERE contains(upper("+col+"), '"+cf+"')"); n != "0" {
				t.Errorf("%s.%s holds %s in %s rows", tab, col, cf, n)
			}
		}
	}
}

// TestRepeatedIDsAcrossIngests resends, in a later ingest, communications
// stored by an earlier one: the ids must be recognised whether the id
// filter comes from the last ingest or is rebuilt from the stored ids (a
// data bank from before the filter, or one whose filter was lost).
func TestRepeatedIDsAcrossIngests(t *testing.T) {
	header := "id_comunicazione,tipo_evento,rif_comunicazione,id_rapporto,data_evento,cf_lavoratore,cf_datore,genere,anno_nascita,cittadinanza,titolo_studio,comune_lavoro,comune_residenza,ateco,professione,tipo_contratto,orario,data_fine_prevista,tipo_trasformazione,motivo_cessazione,categoria_protetta\n"
	row := func(id, date string) string {
		return id + ",A,,r-" + id + "," + date + ",RSSMRA85T10F205R,01234567897,M,1985,000,4,015146,015146,56.10.11,5.2.2.1.0,A.01.00,F,,,,N\n"
	}
	for _, tc := range []struct {
		name       string
		dropFilter bool
	}{{"stored filter", false}, {"rebuilt filter", true}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			dir := t.TempDir()
			var first strings.Builder
			first.WriteString(header)
			for i := 0; i < 500; i++ {
				first.WriteString(row(fmt.Sprintf("k%d", i), "2024-01-15"))
			}
			p1 := filepath.Join(dir, "one.csv")
			if err := os.WriteFile(p1, []byte(first.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			if r := f.ingest(t, p1); r.Accepted != 500 {
				t.Fatalf("first ingest: %+v", r)
			}
			if tc.dropFilter {
				if _, err := f.db.SQL().ExecContext(f.ctx, "DELETE FROM id_filter"); err != nil {
					t.Fatal(err)
				}
			}
			// Every stored id again: even ones resent, odd ones with another
			// date; then new ids, one of them twice.
			var second strings.Builder
			second.WriteString(header)
			for i := 0; i < 500; i++ {
				date := "2024-01-15"
				if i%2 == 1 {
					date = "2024-01-16"
				}
				second.WriteString(row(fmt.Sprintf("k%d", i), date))
			}
			second.WriteString(row("new1", "2024-02-01"))
			second.WriteString(row("new2", "2024-02-01"))
			second.WriteString(row("new2", "2024-02-01"))
			p2 := filepath.Join(dir, "two.csv")
			if err := os.WriteFile(p2, []byte(second.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			r := f.ingest(t, p2)
			if r.Read != 503 || r.Accepted != 2 || r.Duplicates != 251 || r.Rejected != 250 || r.RejectedByReason[oml.DuplicateDifferent] != 250 {
				t.Fatalf("second ingest: read %d accepted %d duplicates %d rejected %d (%v)", r.Read, r.Accepted, r.Duplicates, r.Rejected, r.RejectedByReason)
			}
			if got := f.query(t, "SELECT count(*), count(DISTINCT comm_id) FROM communications"); got != "502 502" {
				t.Errorf("communications: %s, want 502 distinct ids", got)
			}
		})
	}
}

// TestActiveFlags covers the rows that went in inactive because an R or X
// names them, and turn out current: the R is rejected, or comes before the
// communication it rectifies.
func TestActiveFlags(t *testing.T) {
	f := newFixture(t)
	body := "id_comunicazione,tipo_evento,rif_comunicazione,id_rapporto,data_evento,cf_lavoratore,cf_datore,genere,anno_nascita,cittadinanza,titolo_studio,comune_lavoro,comune_residenza,ateco,professione,tipo_contratto,orario,data_fine_prevista,tipo_trasformazione,motivo_cessazione,categoria_protetta\n"
	row := func(id, typ, ref, rel, date string) string {
		return id + "," + typ + "," + ref + "," + rel + "," + date + ",RSSMRA85T10F205R,01234567897,M,1985,000,4,015146,015146,56.10.11,5.2.2.1.0,A.01.00,F,,,,N\n"
	}
	body += row("x1", "A", "", "r1", "2024-01-10") +
		row("x1", "R", "a2", "r2", "2024-01-11") + // reuses x1: rejected, so a2 stays current
		row("a2", "A", "", "r2", "2024-01-12") +
		row("b1", "R", "b2", "r3", "2024-01-14") + // arrives before the A it rectifies: the A is the latest
		row("b2", "A", "", "r3", "2024-01-13")
	p := filepath.Join(t.TempDir(), "co.csv")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	r := f.ingest(t, p)
	if r.Accepted != 4 || r.Rejected != 1 {
		t.Fatalf("report %+v", r)
	}
	if got, want := f.query(t, "SELECT comm_id, data FROM events ORDER BY comm_id"), "a2 2024-01-12\nb2 2024-01-13\nx1 2024-01-10"; got != want {
		t.Errorf("events:\n%s\nwant:\n%s", got, want)
	}
}

// TestRepeatedIDsExact checks that the id filter only decides which rows go
// through the exact checks, never the outcome. Ids repeat inside a file (in
// other batches), across the files of one ingest and across ingests; R and
// X name communications stored by an earlier ingest, staged from an earlier
// file of the same ingest, or nothing. The same ingests run with the filter
// as the ingests leave it, and with a filter whose every bit is set before
// each ingest, so that every row is a false positive; and with DuckDB on one
// thread and on three (scans of communications split three ways). All must
// give the hand-computed counts and identical tables.
func TestRepeatedIDsExact(t *testing.T) {
	const header = "id_comunicazione,tipo_evento,rif_comunicazione,id_rapporto,data_evento,cf_lavoratore,cf_datore,genere,anno_nascita,cittadinanza,titolo_studio,comune_lavoro,comune_residenza,ateco,professione,tipo_contratto,orario,data_fine_prevista,tipo_trasformazione,motivo_cessazione,categoria_protetta\n"
	row := func(b *strings.Builder, id, typ, ref, rel, date string) {
		if typ == "X" {
			b.WriteString(id + ",X," + ref + "," + rel + ",,,,,,,,,,,,,,,,,\n")
			return
		}
		b.WriteString(id + "," + typ + "," + ref + "," + rel + "," + date + ",RSSMRA85T10F205R,01234567897,M,1985,000,4,015146,015146,56.10.11,5.2.2.1.0,A.01.00,F,,,,N\n")
	}
	hire := func(b *strings.Builder, prefix string, from, to int, date string) {
		for i := from; i < to; i++ {
			id := fmt.Sprintf("%s%d", prefix, i)
			row(b, id, "A", "", "r-"+id, date)
		}
	}
	rect := func(b *strings.Builder, prefix, typ, target string, from, to int, date string) {
		for i := from; i < to; i++ {
			ref := fmt.Sprintf("%s%d", target, i)
			row(b, prefix+ref, typ, ref, "r-"+ref, date)
		}
	}
	dir := t.TempDir()
	write := func(name string, b *strings.Builder) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(header+b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var b strings.Builder
	row(&b, "z0", "A", "", "r-z0", "2024-01-02")
	seed := write("seed.csv", &b)

	// Ingest 1, one file: 3000 hires, then (in later batches) 100 exact
	// resends and 50 resends with another date.
	b.Reset()
	hire(&b, "a", 0, 3000, "2024-01-15")
	hire(&b, "a", 0, 100, "2024-01-15")
	hire(&b, "a", 100, 150, "2024-01-16")
	file1 := write("one.csv", &b)

	// Ingest 2, file 2: resends of stored rows (100 exact, 50 not), 100 R
	// and 50 X of stored hires, 2500 new hires.
	b.Reset()
	hire(&b, "a", 150, 250, "2024-01-15")
	hire(&b, "a", 250, 300, "2024-01-17")
	rect(&b, "R", "R", "a", 300, 400, "2024-02-01")
	rect(&b, "X", "X", "a", 400, 450, "")
	hire(&b, "b", 0, 2500, "2024-03-01")
	file2 := write("two.csv", &b)
	// File 3: resends of file 2's rows (100 exact, 50 not), 50 R of file
	// 2's hires, an R of nothing, 10 X of stored hires, 2100 new hires and
	// 10 exact resends of these.
	b.Reset()
	hire(&b, "b", 0, 100, "2024-03-01")
	hire(&b, "b", 100, 150, "2024-03-02")
	rect(&b, "R", "R", "b", 200, 250, "2024-04-01")
	row(&b, "Rnothing", "R", "nothing", "r-nothing", "2024-04-01")
	rect(&b, "X", "X", "a", 500, 510, "")
	hire(&b, "c", 0, 2100, "2024-05-01")
	hire(&b, "c", 0, 10, "2024-05-01")
	file3 := write("three.csv", &b)

	dump := func(t *testing.T, f *fixture) string {
		return strings.Join([]string{
			f.query(t, "SELECT comm_id, tipo, rif, rel_id, data, root_id, tipo_effettivo, active, seq FROM communications ORDER BY seq"),
			f.query(t, "SELECT * FROM relationship_index ORDER BY rel_id"),
			f.query(t, "SELECT file_id, line, col, reason, detail FROM rejects ORDER BY file_id, line"),
			f.query(t, "SELECT file_id, line, comm_id FROM duplicates ORDER BY file_id, line"),
			f.query(t, "SELECT file_id, read, accepted, rejected, duplicates FROM files ORDER BY file_id"),
		}, "\n--\n")
	}
	var dumps []string
	for _, tc := range []struct {
		saturate bool
		threads  int
	}{{false, 0}, {true, 0}, {false, 1}, {true, 3}} {
		saturate := tc.saturate
		t.Run(fmt.Sprintf("saturated filter %v threads %d", saturate, tc.threads), func(t *testing.T) {
			f := newFixtureWith(t, duckdb.Options{Threads: tc.threads})
			f.opt.Workers = 4
			ingest := func(files ...string) oml.IngestReport {
				if saturate {
					saturateIDFilter(t, f)
				}
				return f.ingest(t, files...)
			}
			ingest(seed)
			for i, tc := range []struct {
				files                             []string
				read, accepted, duplicates, rejec int64
				noref                             int64
			}{
				{[]string{file1}, 3150, 3000, 100, 50, 0},
				{[]string{file2, file3}, 2800 + 2321, 2650 + 2160, 100 + 110, 50 + 51, 1},
			} {
				r := ingest(tc.files...)
				if r.Read != tc.read || r.Accepted != tc.accepted || r.Duplicates != tc.duplicates || r.Rejected != tc.rejec ||
					r.RejectedByReason[oml.DuplicateDifferent] != tc.rejec-tc.noref || r.RejectedByReason[oml.RefUnknown] != tc.noref {
					t.Errorf("ingest %d: read %d accepted %d duplicates %d rejected %d (%v), want %d %d %d %d",
						i+1, r.Read, r.Accepted, r.Duplicates, r.Rejected, r.RejectedByReason, tc.read, tc.accepted, tc.duplicates, tc.rejec)
				}
			}
			// Current events: 3000 + 2500 + 2100 hires and z0, less 60
			// cancelled; the rectified ones carry the R's date.
			if got, want := f.query(t, "SELECT count(*), count(DISTINCT comm_id), count(*) FILTER (WHERE rettificato) FROM events"), "7541 7541 150"; got != want {
				t.Errorf("events: %s, want %s", got, want)
			}
			if got, want := f.query(t, `SELECT data, count(*) FROM events WHERE comm_id IN ('a300', 'a399', 'b200', 'b249', 'b250', 'a0', 'a100', 'a250')
				GROUP BY data ORDER BY data`), "2024-01-15 3\n2024-02-01 2\n2024-03-01 1\n2024-04-01 2"; got != want {
				t.Errorf("dates of events:\n%s\nwant:\n%s", got, want)
			}
			if got, want := f.query(t, "SELECT count(*) FROM events WHERE comm_id IN ('a400', 'a449', 'a500', 'a509')"), "0"; got != want {
				t.Errorf("cancelled events: %s, want 0", got)
			}
			if got, want := f.query(t, "SELECT count(*), sum(n_eventi) FROM relationship_index"), "7541 7541"; got != want {
				t.Errorf("relationships: %s, want %s", got, want)
			}
			dumps = append(dumps, dump(t, f))
		})
	}
	for i := 1; i < len(dumps); i++ {
		if dumps[i] != dumps[0] {
			t.Errorf("variant %d changed the tables", i)
		}
	}
}

// saturateIDFilter replaces the stored id filter with one of every bit set,
// large enough to be used as it is: every id tests present.
func saturateIDFilter(t *testing.T, f *fixture) {
	t.Helper()
	b, err := bloom.New(1 << 20).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for i := len(b) - (1<<20)*bloom.BitsPerKey/8; i < len(b); i++ {
		b[i] = 0xff
	}
	for _, q := range []string{"DELETE FROM id_filter", "INSERT INTO id_filter VALUES (0, ?)"} {
		var args []any
		if strings.Contains(q, "?") {
			args = append(args, b)
		}
		if _, err := f.db.SQL().ExecContext(f.ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
}
