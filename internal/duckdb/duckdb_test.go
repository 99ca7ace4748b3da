package duckdb_test

import (
	"context"
	"strings"
	"testing"

	"github.com/regione-lombardia/oml"
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
