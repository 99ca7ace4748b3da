// Command duckload is the DuckDB-alone peer of the oml benchmarks, through
// the same Go driver as oml. It has two modes.
//
// Load (the peer of `oml ingest`): loads CSV files into a new database and
// prints the number of rows loaded:
//
//	duckload -db peer.duckdb files...
//	CREATE TABLE t AS SELECT * FROM read_csv([files])
//
// Query (the peer of `oml release`): opens an existing database read-only,
// writes the result of a query to a Parquet file and prints its number of
// rows:
//
//	duckload -db oml.duckdb -query 'SELECT ...' -out x.parquet
//	COPY (SELECT ...) TO 'x.parquet' (FORMAT parquet)
package main

import (
	"database/sql"
	"flag"
	"fmt"
	"os"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2"
)

func main() {
	dbPath := flag.String("db", "peer.duckdb", "database file: created by a load, opened read-only by -query (empty: in memory)")
	query := flag.String("query", "", "SELECT whose result is written to -out as Parquet (query mode)")
	out := flag.String("out", "peer.parquet", "Parquet file written in query mode")
	flag.Parse()
	var (
		n   int64
		err error
	)
	if *query != "" {
		n, err = copyQuery(*dbPath, *query, *out)
	} else {
		n, err = load(*dbPath, flag.Args())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "duckload:", err)
		os.Exit(1)
	}
	fmt.Println(n)
}

// load creates dbPath afresh with one table t holding the rows of files.
func load(dbPath string, files []string) (int64, error) {
	os.Remove(dbPath)
	os.Remove(dbPath + ".wal")
	db, err := sql.Open("duckdb", dbPath)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = quote(f)
	}
	if _, err := db.Exec("CREATE TABLE t AS SELECT * FROM read_csv([" + strings.Join(quoted, ",") + "])"); err != nil {
		return 0, err
	}
	var n int64
	err = db.QueryRow("SELECT count(*) FROM t").Scan(&n)
	return n, err
}

// copyQuery writes the result of query on the database dbPath, opened
// read-only (an in-memory database when dbPath is empty: a query of files
// alone), to the Parquet file out, and returns the rows written.
func copyQuery(dbPath, query, out string) (int64, error) {
	dsn := dbPath + "?access_mode=read_only"
	if dbPath == "" {
		dsn = ""
	}
	db, err := sql.Open("duckdb", dsn)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow("COPY (" + query + ") TO " + quote(out) + " (FORMAT parquet)").Scan(&n); err != nil {
		return 0, fmt.Errorf("copy to %s: %w", out, err)
	}
	return n, nil
}

// quote returns s as an SQL string literal.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
