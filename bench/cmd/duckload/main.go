// Command duckload is the benchmark peer of `oml ingest`: it loads CSV files
// into a new DuckDB database with DuckDB alone, through the same Go driver:
//
//	CREATE TABLE t AS SELECT * FROM read_csv([files])
//
// and prints the number of rows loaded.
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
	dbPath := flag.String("db", "peer.duckdb", "database file to create")
	flag.Parse()
	os.Remove(*dbPath)
	os.Remove(*dbPath + ".wal")
	db, err := sql.Open("duckdb", *dbPath)
	if err != nil {
		fail(err)
	}
	defer db.Close()
	quoted := make([]string, flag.NArg())
	for i, f := range flag.Args() {
		quoted[i] = "'" + strings.ReplaceAll(f, "'", "''") + "'"
	}
	if _, err := db.Exec("CREATE TABLE t AS SELECT * FROM read_csv([" + strings.Join(quoted, ",") + "])"); err != nil {
		fail(err)
	}
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil {
		fail(err)
	}
	fmt.Println(n)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "duckload:", err)
	os.Exit(1)
}
