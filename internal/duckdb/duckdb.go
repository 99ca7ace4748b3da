// Package duckdb is the CO data bank on DuckDB: communications, current
// events, relationships, rejects and the files ingested. It is the only
// package that imports the DuckDB driver.
//
// A data directory holds one database file, oml.duckdb. Every ingest is a
// single transaction: a crash or kill at any point leaves the last committed
// state, which DuckDB recovers from its write-ahead log on the next open.
package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/regione-lombardia/oml"
)

//go:embed migrations/*.sql
var migrations embed.FS

// FileName is the database file inside a data directory.
const FileName = "oml.duckdb"

// DB is an open data bank.
type DB struct {
	db      *sql.DB
	dir     string
	log     *slog.Logger
	threads int // DuckDB threads
	// viewSQL, set when the data bank reads a node's extract, holds the
	// statements of its views (extractViews), which every new connection
	// runs.
	viewSQL atomic.Pointer[[]string]
}

// Options tune DuckDB. Zero values take defaults fit for a 2-core,
// 24 GiB machine that must keep an ingest under 4 GiB of memory.
type Options struct {
	MemoryLimit string // DuckDB memory_limit; default "2GB"
	Threads     int    // default GOMAXPROCS
	ReadOnly    bool
	Logger      *slog.Logger // default: discard
}

// Open opens (creating if needed) the data bank in dir and applies pending
// migrations.
func Open(ctx context.Context, dir string, opt Options) (*DB, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o750); err != nil {
		return nil, oml.Errorf(oml.EINVALID, "impossibile creare la cartella dati %s / cannot create data dir %s", dir, dir).WithHint("%v", err)
	}
	if opt.MemoryLimit == "" {
		opt.MemoryLimit = "2GB"
	}
	if opt.Threads == 0 {
		opt.Threads = runtime.GOMAXPROCS(0)
	}
	path := filepath.Join(dir, FileName)
	dsn := path
	if opt.ReadOnly {
		dsn += "?access_mode=READ_ONLY"
	}
	tmp := filepath.Join(dir, "tmp", "duckdb")
	db := &DB{dir: dir, log: opt.Logger, threads: opt.Threads}
	connector, err := duckdb.NewConnector(dsn, func(execer driver.ExecerContext) error {
		qs := []string{
			"SET memory_limit = '" + opt.MemoryLimit + "'",
			"SET threads = " + strconv.Itoa(opt.Threads),
			"SET temp_directory = '" + strings.ReplaceAll(tmp, "'", "''") + "'",
			"SET preserve_insertion_order = false",
		}
		if views := db.viewSQL.Load(); views != nil {
			qs = append(qs, *views...)
		}
		for _, q := range qs {
			if _, err := execer.ExecContext(ctx, q, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if strings.Contains(err.Error(), "lock") {
			return nil, oml.Errorf(oml.ECONFLICT, "la banca dati %s è in uso da un altro processo oml / the data bank is in use by another oml process", path).
				WithHint("attendere la fine dell'altra operazione (ingest, release) / wait for the other operation to finish")
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	db.db, db.log = sql.OpenDB(connector), opt.Logger
	// One connection: DuckDB parallelises inside a query, and a single
	// connection keeps transactions and temporary tables in one place.
	db.db.SetMaxOpenConns(1)
	if !opt.ReadOnly {
		if err := db.migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	// A node's data bank reads its extract (UseExtract).
	if ok, err := db.UsesExtract(ctx); err != nil || ok {
		if err == nil {
			err = db.extractViews(ctx)
		}
		if err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error { return db.db.Close() }

// Dir returns the data directory.
func (db *DB) Dir() string { return db.dir }

// migrate applies the embedded migrations not yet applied, each in its own
// transaction, recording the schema version in meta.
func (db *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	var current int
	var exists bool
	if err := db.db.QueryRowContext(ctx, "SELECT count(*) > 0 FROM information_schema.tables WHERE table_name = 'meta'").Scan(&exists); err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	if exists {
		var v string
		err := db.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'schema_version'").Scan(&v)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read schema version: %w", err)
		}
		current, _ = strconv.Atoi(v)
	}
	if current > len(names) {
		return oml.Errorf(oml.EINVALID, "la banca dati ha lo schema %d, più recente di questo oml (%d) / the data bank is newer than this oml", current, len(names)).
			WithHint("aggiornare oml / upgrade oml")
	}
	for i := current; i < len(names); i++ {
		body, err := migrations.ReadFile(names[i])
		if err != nil {
			return err
		}
		tx, err := db.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("aggiornamento dello schema non riuscito, la banca dati resta com'era / schema migration failed, the data bank is unchanged: %s: %w", names[i], err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", strconv.Itoa(i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", names[i], err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", names[i], err)
		}
	}
	return nil
}

// Meta returns the value of a meta key, or "" when unset.
func (db *DB) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := db.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// SQL gives direct read access for tests and tools that check the store
// against independent computations.
func (db *DB) SQL() *sql.DB { return db.db }
