package duckdb

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/regione-lombardia/oml/internal/bloom"
)

// filterPart is the size of the parts the id filter is stored in.
const filterPart = 8 << 20

// IDFilter returns a Bloom filter holding the id of every stored
// communication, big enough for the stored ids plus extra new ones: the one
// the last ingest committed, or, when there is none or it has become too
// small for a good false-positive rate, a new one built from the ids stored.
func (db *DB) IDFilter(ctx context.Context, extra int64) (*bloom.Filter, error) {
	var stored int64
	if err := db.db.QueryRowContext(ctx, "SELECT count(comm_id) FROM communications").Scan(&stored); err != nil {
		return nil, fmt.Errorf("count stored ids: %w", err)
	}
	need := stored + extra
	if stored == 0 {
		return bloom.New(need), nil
	}
	rows, err := db.db.QueryContext(ctx, "SELECT bits FROM id_filter ORDER BY part")
	if err != nil {
		return nil, fmt.Errorf("read id filter: %w", err)
	}
	var b []byte
	for rows.Next() {
		var part []byte
		if err := rows.Scan(&part); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read id filter: %w", err)
		}
		b = append(b, part...)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read id filter: %w", err)
	}
	if len(b) > 0 {
		var f bloom.Filter
		if err := f.UnmarshalBinary(b); err != nil {
			return nil, fmt.Errorf("read id filter: %w", err)
		}
		// Filled to twice its capacity, a filter still answers right but
		// sends about 3% of new rows to the exact checks: past that, a
		// larger one is built.
		if 2*f.Capacity() >= need {
			return &f, nil
		}
	}
	db.log.Debug("rebuilding the id filter", "stored", stored)
	f := bloom.New(need + need/2)
	rows, err = db.db.QueryContext(ctx, "SELECT comm_id FROM communications WHERE comm_id IS NOT NULL")
	if err != nil {
		return nil, fmt.Errorf("read stored ids: %w", err)
	}
	defer rows.Close()
	var id sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("read stored ids: %w", err)
		}
		f.Add(bloom.Hash(string(id)))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read stored ids: %w", err)
	}
	return f, nil
}

// saveIDFilter replaces the stored id filter, inside the ingest's
// transaction.
func saveIDFilter(ctx context.Context, tx *sql.Tx, f *bloom.Filter) error {
	b, err := f.MarshalBinary()
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM id_filter"); err != nil {
		return fmt.Errorf("save id filter: %w", err)
	}
	for part := 0; len(b) > 0; part++ {
		n := min(len(b), filterPart)
		if _, err := tx.ExecContext(ctx, "INSERT INTO id_filter VALUES (?, ?)", part, b[:n]); err != nil {
			return fmt.Errorf("save id filter: %w", err)
		}
		b = b[n:]
	}
	return nil
}
