package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
)

// Extract file names: the two tables a territory's extract carries.
const (
	ExtractCommunications = "communications.parquet"
	ExtractRelationships  = "relationship_index.parquet"
)

// inTerritory is the condition on a communication's workplace or
// residence being in a territory: its province, or one of its comuni
// (which may include comuni of another province served by its CPIs). The
// statement binds the province to the named parameter $province and the
// comuni, a []string that may be nil, to $comuni (see territoryArgs): the
// codes never enter the SQL text.
const inTerritory = `(prov_lavoro = $province OR prov_residenza = $province
   OR comune_lavoro IN (SELECT unnest($comuni::VARCHAR[]))
   OR comune_residenza IN (SELECT unnest($comuni::VARCHAR[])))`

// territoryArgs returns the parameters of inTerritory.
func territoryArgs(province string, comuni []string) []any {
	return []any{sql.Named("province", province), sql.Named("comuni", comuni)}
}

// relationsOf selects the relationships of a territory: those with a
// current event whose workplace or residence is in it. A relationship moved
// out of the territory by a rectification is not its own. It takes the
// parameters of inTerritory.
const relationsOf = `SELECT DISTINCT rel_id FROM communications WHERE active AND rel_id IS NOT NULL AND ` + inTerritory

// ExportTerritory writes the pseudonymised microdata of a territory into
// dir: every communication (current or superseded) of its relationships,
// its communications without a relationship id (open-data rows), and the
// index of its relationships, as two Parquet files ordered by key. The
// territory is a province and comuni (those of the province and of its
// CPIs): a relationship is its own when a current event's workplace or
// residence is there. They are what the methodology reads to compute the
// territory's cells of both perimeters. It returns the communications
// written.
func (db *DB) ExportTerritory(ctx context.Context, province string, comuni []string, dir string) (int64, error) {
	comms := `SELECT * FROM communications WHERE rel_id IN (` + relationsOf + `)
   OR (rel_id IS NULL AND active AND ` + inTerritory + `) ORDER BY seq`
	rels := `SELECT * FROM relationship_index WHERE rel_id IN (` + relationsOf + `) ORDER BY rel_id`
	var n int64
	for _, q := range []struct{ sql, file string }{{comms, ExtractCommunications}, {rels, ExtractRelationships}} {
		var rows int64
		stmt := "COPY (" + q.sql + ") TO " + quote(filepath.Join(dir, q.file)) + " (FORMAT parquet, COMPRESSION zstd)"
		if err := db.db.QueryRowContext(ctx, stmt, territoryArgs(province, comuni)...).Scan(&rows); err != nil {
			return 0, fmt.Errorf("export %s: %w", q.file, err)
		}
		if q.file == ExtractCommunications {
			n = rows
		}
	}
	return n, nil
}

// ImportExtract replaces the communications and relationships of the data
// bank with those of an extract written by ExportTerritory, in one
// transaction: a failure leaves the data bank as it was. The stored id
// filter is dropped with them, since it would miss the ids imported: the
// next ingest rebuilds it (see IDFilter). It returns the communications
// imported.
func (db *DB) ImportExtract(ctx context.Context, dir string) (int64, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	for _, q := range []string{
		"DELETE FROM communications",
		"DELETE FROM relationship_index",
		"DELETE FROM id_filter",
		"INSERT INTO communications SELECT * FROM read_parquet(" + quote(filepath.Join(dir, ExtractCommunications)) + ")",
		"INSERT INTO relationship_index SELECT * FROM read_parquet(" + quote(filepath.Join(dir, ExtractRelationships)) + ")",
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return 0, fmt.Errorf("import extract: %s: %w", firstLine(q), err)
		}
	}
	var n int64
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM communications").Scan(&n); err != nil {
		return 0, err
	}
	return n, tx.Commit()
}

// quote returns s as an SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
