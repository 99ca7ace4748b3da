package duckdb_test

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/regione-lombardia/oml/internal/duckdb"
)

// TestQueryScansAsDatabaseSQL reads every column type the code reads, into
// every destination type it uses, through Query and through database/sql,
// and requires the same values (and an error where database/sql errs).
func TestQueryScansAsDatabaseSQL(t *testing.T) {
	ctx := context.Background()
	db, err := duckdb.Open(ctx, t.TempDir(), duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dests := map[string]func() any{
		"any": func() any { return new(any) }, "string": func() any { return new(string) }, "*string": func() any { return new(*string) },
		"bool": func() any { return new(bool) }, "int": func() any { return new(int) }, "int64": func() any { return new(int64) },
		"int32": func() any { return new(int32) }, "int16": func() any { return new(int16) }, "int8": func() any { return new(int8) },
		"uint64": func() any { return new(uint64) }, "uint32": func() any { return new(uint32) }, "float64": func() any { return new(float64) },
		"time": func() any { return new(time.Time) }, "[]any": func() any { return new([]any) },
		"NullString": func() any { return new(sql.NullString) }, "NullInt64": func() any { return new(sql.NullInt64) },
		"NullFloat64": func() any { return new(sql.NullFloat64) },
	}
	tests := []struct {
		expr  string
		dests []string // destinations database/sql and Query agree on
		null  bool
	}{
		{"42::BIGINT", []string{"any", "string", "int", "int64", "int32", "int16", "int8", "uint64", "uint32", "float64", "NullString", "NullInt64", "NullFloat64"}, false},
		{"-7::INTEGER", []string{"any", "string", "int", "int64", "int32", "int16", "int8", "float64", "NullInt64"}, false},
		{"300::SMALLINT", []string{"any", "int", "int64", "int32", "int16", "float64"}, false},
		{"5::TINYINT", []string{"any", "int", "int64", "int8", "float64"}, false},
		{"18446744073709551615::UBIGINT", []string{"any", "uint64", "float64"}, false},
		{"sum(x) FROM (VALUES (1::INTEGER), (2)) t(x)", []string{"int", "int64", "float64"}, false},
		{"2.5::DOUBLE", []string{"any", "float64", "NullFloat64"}, false},
		{"true", []string{"any", "bool"}, false},
		{"'abc'", []string{"any", "string", "*string", "NullString"}, false},
		{"'F'::ENUM('F', 'M')", []string{"any", "string", "*string"}, false},
		{"DATE '2024-02-29'", []string{"any", "time"}, false},
		{"['a', 'b']", []string{"any", "[]any"}, false},
		{"NULL::VARCHAR", []string{"any", "*string", "NullString", "NullInt64", "NullFloat64"}, true},
		{"300::SMALLINT", []string{"int8"}, false}, // overflow: both fail
	}
	for _, tc := range tests {
		for _, dn := range tc.dests {
			t.Run(tc.expr+"/"+dn, func(t *testing.T) {
				q := "SELECT " + tc.expr
				want := dests[dn]()
				wantErr := db.SQL().QueryRowContext(ctx, q).Scan(want)
				got := dests[dn]()
				gotErr := db.Query(ctx, q, func(scan func(...any) error) error { return scan(got) })
				if (wantErr != nil) != (gotErr != nil) {
					t.Fatalf("database/sql: %v; Query: %v", wantErr, gotErr)
				}
				if wantErr != nil {
					return
				}
				w, g := reflect.ValueOf(want).Elem().Interface(), reflect.ValueOf(got).Elem().Interface()
				if !reflect.DeepEqual(w, g) && fmt.Sprint(deref(w)) != fmt.Sprint(deref(g)) {
					t.Errorf("database/sql %#v; Query %#v", w, g)
				}
			})
		}
	}
	// A wrong number of destinations is an error, as is an unknown type.
	var a, b int
	if err := db.Query(ctx, "SELECT 1", func(scan func(...any) error) error { return scan(&a, &b) }); err == nil {
		t.Error("two destinations for one column: no error")
	}
	var c complex128
	if err := db.Query(ctx, "SELECT 1", func(scan func(...any) error) error { return scan(&c) }); err == nil || !strings.Contains(err.Error(), "unsupported") {
		t.Errorf("complex128 destination: %v", err)
	}
}

func deref(v any) any {
	if p, ok := v.(*string); ok && p != nil {
		return *p
	}
	return v
}
