package method_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/cofile"
	"github.com/regione-lombardia/oml/internal/duckdb"
	"github.com/regione-lombardia/oml/internal/ingest"
	"github.com/regione-lombardia/oml/internal/pseudo"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if synthetic.db != nil {
		synthetic.db.Close()
	}
	os.Exit(code)
}

// ingestFiles creates the data bank of dir and ingests files of format
// into it, as `oml ingest` does. The caller closes the data bank.
func ingestFiles(ctx context.Context, dir string, format cofile.Format, lists *classif.Lists, files []string) (*duckdb.DB, oml.IngestReport, error) {
	key, err := pseudo.LoadKey(dir, func(string) string { return "" })
	if err != nil {
		return nil, oml.IngestReport{}, err
	}
	db, err := duckdb.Open(ctx, dir, duckdb.Options{})
	if err != nil {
		return nil, oml.IngestReport{}, err
	}
	rep, err := ingest.Run(ctx, db, files, ingest.Options{Format: format, Lists: lists, Key: key,
		Now: func() time.Time { return time.Date(2025, 1, 20, 0, 0, 0, 0, time.UTC) }, Version: "test"})
	if err != nil {
		db.Close()
		return nil, rep, err
	}
	return db, rep, nil
}
