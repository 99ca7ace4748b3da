package duckdb_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/bloom"
	"github.com/regione-lombardia/oml/internal/duckdb"
)

func TestOpenMigratesOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := duckdb.Open(ctx, dir, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.Meta(ctx, "schema_version")
	if err != nil || v == "" {
		t.Fatalf("schema version %q, %v", v, err)
	}
	db.Close()
	// A second open finds the schema in place and applies nothing again.
	db, err = duckdb.Open(ctx, dir, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v2, _ := db.Meta(ctx, "schema_version"); v2 != v {
		t.Errorf("schema version %s after reopen, was %s", v2, v)
	}
	if o, err := db.Overview(ctx); err != nil || o.Communications != 0 || len(o.Years) != 0 {
		t.Errorf("empty store overview %+v, %v", o, err)
	}
	// A data bank written by a newer oml is refused, not damaged.
	if _, err := db.SQL().ExecContext(ctx, "UPDATE meta SET value = '999' WHERE key = 'schema_version'"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = duckdb.Open(ctx, dir, duckdb.Options{})
	if oml.ErrorCode(err) != oml.EINVALID || !strings.Contains(oml.ErrorMessage(err), "più recente") {
		t.Errorf("newer schema: %v", err)
	}
}

func TestCheckKey(t *testing.T) {
	ctx := context.Background()
	db, err := duckdb.Open(ctx, t.TempDir(), duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CheckKey(ctx, "aaaa"); err != nil {
		t.Fatalf("an empty store accepts any key: %v", err)
	}
	if _, err := db.SQL().ExecContext(ctx, "INSERT INTO meta VALUES ('pseudo_key_id', 'aaaa')"); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckKey(ctx, "aaaa"); err != nil {
		t.Errorf("same key refused: %v", err)
	}
	if err := db.CheckKey(ctx, "bbbb"); oml.ErrorCode(err) != oml.ECONFLICT {
		t.Errorf("other key: %v, want a conflict", err)
	}
}

func TestSeqOrdersByFileThenLine(t *testing.T) {
	if !(duckdb.Seq(1, 1<<31) < duckdb.Seq(2, 1)) || duckdb.Seq(3, 7)>>32 != 3 || duckdb.Seq(3, 7)&(1<<32-1) != 7 {
		t.Error("seq does not pack file and line")
	}
}

// TestCommitMovesLateFreshRows stages a fresh row (one the decoder had not
// seen) whose id a special row with a smaller seq also carries, as happens
// when two decoding goroutines meet the rows out of order: the fresh row is
// the resend, and must leave communications.
func TestCommitMovesLateFreshRows(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := duckdb.Open(ctx, dir, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w, err := duckdb.NewStageWriter(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	ev := func(id, rel string, day int) *oml.Event {
		return &oml.Event{CommID: id, Type: oml.Attivazione, RelID: rel, Date: time.Date(2024, 1, day, 0, 0, 0, 0, time.UTC),
			Worker: strings.Repeat("a", 32), Employer: strings.Repeat("b", 32), Gender: 'F', BirthYear: 1990, Age: 34,
			Citizenship: "000", Education: -1, WorkComune: "015146", WorkProvince: "015", Ateco: "56.10", Contract: "A.01.00"}
	}
	for _, r := range []struct {
		line    int64
		e       *oml.Event
		special bool
	}{
		{5, ev("a", "r1", 10), true},   // first "a", met second by the decoder
		{10, ev("a", "r1", 10), false}, // resend of it, met first
		{12, ev("b", "r2", 11), false},
		{20, ev("b", "r2", 12), true}, // "b" again with another date
		{30, &oml.Event{CommID: "x", Type: oml.Annullamento, RefID: "a", RelID: "r1"}, true},
	} {
		if err := w.WriteEvent(1, r.line, r.e, r.special); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	e, s, rj := w.Paths()
	res, err := db.Commit(ctx, duckdb.Load{
		Files:      []duckdb.StagedFile{{FileID: 1, Path: "f.csv", SHA256: "00", Format: "canonical", Read: 5, Fresh: 2}},
		EventFiles: []string{e}, SpecialFiles: []string{s}, RejectFiles: []string{rj},
		KeyID: "k", StartedAt: time.Now(), Version: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := res[1]; r.Accepted != 3 || r.Duplicates != 1 || r.Rejected != 1 || r.ByReason[oml.DuplicateDifferent] != 1 {
		t.Errorf("result %+v", r)
	}
	got := func(q string) string {
		rows, err := db.SQL().QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return strings.Join(out, " ")
	}
	if c := got("SELECT comm_id || ':' || (seq & 4294967295) || ':' || active FROM communications ORDER BY seq"); c != "a:5:false b:12:true x:30:false" {
		t.Errorf("communications: %s", c)
	}
	if d := got("SELECT comm_id || ':' || line FROM duplicates"); d != "a:10" {
		t.Errorf("duplicates: %s", d)
	}
	if r := got("SELECT line || ':' || reason FROM rejects"); r != "20:id_duplicato_diverso" {
		t.Errorf("rejects: %s", r)
	}
}

// TestUseExtract makes a data bank read an extract in place: its own
// communications are gone, the extract's are read through the views (also
// after a reopen, read-only), the id filter holds the extract's ids, and
// files with other columns are refused before use.
func TestUseExtract(t *testing.T) {
	ctx := context.Background()
	commit := func(db *duckdb.DB, dir, id string) {
		t.Helper()
		w, err := duckdb.NewStageWriter(dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		e := &oml.Event{CommID: id, Type: oml.Attivazione, RelID: "r-" + id, Date: time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC),
			Worker: strings.Repeat("a", 32), Employer: strings.Repeat("b", 32), Gender: 'F', BirthYear: 1990, Age: 34,
			Citizenship: "000", Education: -1, WorkComune: "015146", WorkProvince: "015", Ateco: "56.10", Contract: "A.01.00"}
		if err := w.WriteEvent(1, 2, e, false); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f, err := db.IDFilter(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		f.Add(bloom.Hash(id))
		ev, sp, rj := w.Paths()
		if _, err := db.Commit(ctx, duckdb.Load{
			Files:      []duckdb.StagedFile{{FileID: 1, Path: id + ".csv", SHA256: id, Format: "canonical", Read: 1, Fresh: 1}},
			EventFiles: []string{ev}, SpecialFiles: []string{sp}, RejectFiles: []string{rj},
			IDFilter: f, KeyID: "k", StartedAt: time.Now(), Version: "test",
		}); err != nil {
			t.Fatal(err)
		}
	}
	open := func() (*duckdb.DB, string) {
		t.Helper()
		dir := t.TempDir()
		db, err := duckdb.Open(ctx, dir, duckdb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db, dir
	}
	src, srcDir := open()
	commit(src, srcDir, "from-hub")
	extract := t.TempDir()
	if n, err := src.ExportTerritory(ctx, "015", nil, extract); err != nil || n != 1 {
		t.Fatalf("export: %d, %v", n, err)
	}
	ids := func(db *duckdb.DB) string {
		t.Helper()
		var got string
		if err := db.SQL().QueryRowContext(ctx, "SELECT string_agg(comm_id, ',') FROM events").Scan(&got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	node, nodeDir := open()
	commit(node, nodeDir, "local")
	if n, err := node.CheckExtract(ctx, extract); err != nil || n != 1 {
		t.Fatalf("check: %d, %v", n, err)
	}
	if _, err := node.UseExtract(ctx); oml.ErrorCode(err) != oml.EINTEGRITY {
		t.Fatalf("use without the files in place: %v", err)
	}
	if got := ids(node); got != "local" {
		t.Fatalf("a refused UseExtract changed the data bank: %q", got)
	}
	inUse := filepath.Join(nodeDir, filepath.FromSlash(duckdb.ExtractDir))
	if err := os.MkdirAll(filepath.Dir(inUse), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(extract, inUse); err != nil {
		t.Fatal(err)
	}
	if n, err := node.UseExtract(ctx); err != nil || n != 1 {
		t.Fatalf("use: %d, %v", n, err)
	}
	if got := ids(node); got != "from-hub" {
		t.Errorf("events after UseExtract = %q, want the extract's only", got)
	}
	f, err := node.IDFilter(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Has(bloom.Hash("from-hub")) {
		t.Error("the id filter after UseExtract misses the extract's ids")
	}
	node.Close()
	ro, err := duckdb.Open(ctx, nodeDir, duckdb.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if got := ids(ro); got != "from-hub" {
		t.Errorf("events after a read-only reopen = %q", got)
	}
	ro.Close()
	// Again, as a sync that brings a new extract does, the views in place.
	again, err := duckdb.Open(ctx, nodeDir, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := again.UseExtract(ctx); err != nil || n != 1 {
		t.Fatalf("second use: %d, %v", n, err)
	}
	again.Close()
	ro, err = duckdb.Open(ctx, nodeDir, duckdb.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	// Files whose columns are not the data bank's are refused.
	bad := t.TempDir()
	for _, f := range []string{duckdb.ExtractCommunications, duckdb.ExtractRelationships} {
		if _, err := ro.SQL().ExecContext(ctx, "COPY (SELECT 1 AS x) TO '"+filepath.Join(bad, f)+"' (FORMAT parquet)"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ro.CheckExtract(ctx, bad); oml.ErrorCode(err) != oml.EINTEGRITY {
		t.Errorf("check of files with other columns: %v", err)
	}
}
