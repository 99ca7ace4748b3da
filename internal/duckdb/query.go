package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"time"
)

// Exec runs one statement on the data bank's connection, where the
// temporary tables of earlier statements are visible.
func (db *DB) Exec(ctx context.Context, query string) error {
	if _, err := db.db.ExecContext(ctx, query); err != nil {
		return fmt.Errorf("%s: %w", firstLine(query), err)
	}
	return nil
}

// Query runs query and calls each once per row, with a scan function that
// reads the row's columns into its arguments (see assign for the types it
// takes). It stops at the first error each returns.
func (db *DB) Query(ctx context.Context, query string, each func(scan func(dest ...any) error) error) error {
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		rows, err := dc.(driver.QueryerContext).QueryContext(ctx, query, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", firstLine(query), err)
		}
		defer rows.Close()
		vals := make([]driver.Value, len(rows.Columns()))
		scan := scanner(vals)
		for {
			if err := rows.Next(vals); err == io.EOF {
				return nil
			} else if err != nil {
				return fmt.Errorf("%s: %w", firstLine(query), err)
			}
			if err := each(scan); err != nil {
				return err
			}
		}
	})
}

// LastEventDate returns the date of the latest current event, or false
// when the data bank holds none.
func (db *DB) LastEventDate(ctx context.Context) (time.Time, bool, error) {
	var d sql.NullTime
	if err := db.db.QueryRowContext(ctx, "SELECT max(data) FROM events").Scan(&d); err != nil {
		return time.Time{}, false, err
	}
	return d.Time.UTC(), d.Valid, nil
}

// InputFiles returns the sha256 of every file ingested, sorted, and the
// number of current events, for release manifests.
func (db *DB) InputFiles(ctx context.Context) (shas []string, events int64, err error) {
	err = db.Query(ctx, "SELECT sha256 FROM files ORDER BY sha256", func(scan func(...any) error) error {
		var s string
		if err := scan(&s); err != nil {
			return err
		}
		shas = append(shas, s)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	err = db.db.QueryRowContext(ctx, "SELECT count(*) FROM events").Scan(&events)
	return shas, events, err
}
