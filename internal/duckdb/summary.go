package duckdb

import "context"

// YearCounts are the current events of one year by type.
type YearCounts struct {
	Year       int
	A, C, P, T int64
}

// Overview is what the data bank holds, for people.
type Overview struct {
	Files, Communications, Rejects, Duplicates, Relationships int64
	Years                                                     []YearCounts
}

// Overview counts the data bank's contents and its current events by year.
func (db *DB) Overview(ctx context.Context) (Overview, error) {
	var o Overview
	err := db.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM files), (SELECT count(*) FROM communications),
		(SELECT count(*) FROM rejects), (SELECT count(*) FROM duplicates), (SELECT count(*) FROM relationship_index)`).
		Scan(&o.Files, &o.Communications, &o.Rejects, &o.Duplicates, &o.Relationships)
	if err != nil {
		return o, err
	}
	rows, err := db.db.QueryContext(ctx, `SELECT year(data), count(*) FILTER (WHERE tipo = 'A'), count(*) FILTER (WHERE tipo = 'C'),
		count(*) FILTER (WHERE tipo = 'P'), count(*) FILTER (WHERE tipo = 'T') FROM events GROUP BY 1 ORDER BY 1`)
	if err != nil {
		return o, err
	}
	defer rows.Close()
	for rows.Next() {
		var y YearCounts
		if err := rows.Scan(&y.Year, &y.A, &y.C, &y.P, &y.T); err != nil {
			return o, err
		}
		o.Years = append(o.Years, y)
	}
	return o, rows.Err()
}
