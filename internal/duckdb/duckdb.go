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
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	db := &DB{dir: dir, log: opt.Logger, threads: opt.Threads}
	init := func(execer driver.ExecerContext) error {
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
	}
	connector, err := duckdb.NewConnector(dsn, init)
	if err != nil && !opt.ReadOnly && strings.Contains(err.Error(), "replaying WAL") && discardInterruptedMigration(dir, opt.Logger) {
		connector, err = duckdb.NewConnector(dsn, init)
	}
	if err != nil {
		if strings.Contains(err.Error(), "Could not set lock") {
			return nil, oml.Errorf(oml.ECONFLICT, "la banca dati %s è in uso da un altro processo oml / the data bank is in use by another oml process", path).
				WithHint("attendere la fine dell'altra operazione (ingest, release) / wait for the other operation to finish")
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.db = sql.OpenDB(connector)
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
	marker := filepath.Join(db.dir, migratingMarker)
	if current == len(names) {
		// A marker left by a kill after the last checkpoint must not make
		// a later Open discard a log that holds more than migrations.
		if err := os.Remove(marker); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	// DuckDB cannot replay an ALTER ... TYPE from its write-ahead log
	// (duckdb/duckdb#20543): a data bank killed after such a migration
	// committed and before a checkpoint could not be opened. So the
	// migrations run between two checkpoints, and a marker file says while
	// the log holds nothing but them: Open then discards the log, which
	// brings back the data bank as it was before, and migrates again.
	if _, err := db.db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("checkpoint before migrating: %w", err)
	}
	if err := writeSynced(marker, []byte(strconv.Itoa(current)+"\n")); err != nil {
		return fmt.Errorf("write %s: %w", marker, err)
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
	if _, err := db.db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("checkpoint after migrating: %w", err)
	}
	return os.Remove(marker)
}

// migratingMarker is the file, in the data directory, that exists while
// the write-ahead log holds only migrations (see migrate).
const migratingMarker = "migrazione-in-corso"

// discardInterruptedMigration moves the write-ahead log of a data bank
// aside when a migration was interrupted after its commit (the marker of
// migrate is there): the log holds only that migration, which Open applies
// again. It reports whether it did; the log is kept, renamed, for a look.
func discardInterruptedMigration(dir string, log *slog.Logger) bool {
	marker := filepath.Join(dir, migratingMarker)
	if _, err := os.Stat(marker); err != nil {
		return false
	}
	wal := filepath.Join(dir, FileName+".wal")
	aside := wal + ".migrazione-interrotta"
	if err := os.Rename(wal, aside); err != nil {
		return false
	}
	log.Warn("migrazione interrotta: il log della migrazione è messo da parte e la migrazione ripetuta / interrupted migration: its log is set aside and the migration run again", "log", aside)
	return os.Remove(marker) == nil
}

// writeSynced writes a small file and syncs it to disk.
func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
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
