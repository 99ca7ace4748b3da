// Package metastore is the application's metadata store: accounts and
// their roles, login sessions, API tokens, the hash-chained audit log and
// the release agenda. It keeps them in one SQLite file, <datadir>/meta.db,
// through the pure-Go driver modernc.org/sqlite (ADR 0012).
//
// Every method takes a context first. Every write is one transaction, and
// a write that changes accounts, roles or tokens appends its audit entry in
// that same transaction, so the log and the state never disagree. Lookups
// of something that does not exist return an *oml.Error with code
// ENOTFOUND, never a zero value and a nil error. Errors meant for people
// are *oml.Error (Italian first, then English, with a hint); anything else
// is a fault of the machine (EINTERNAL).
//
// A Store is safe for concurrent use, and several processes (oml serve and
// the oml commands an administrator runs) may open the same file: writers
// take SQLite's write lock when their transaction begins and wait for each
// other up to the busy timeout.
package metastore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/regione-lombardia/oml"
)

// File is the store's file in the data dir.
const File = "meta.db"

// BusyTimeout is how long a write waits for another writer (of this or
// another process) before it fails.
const BusyTimeout = 10 * time.Second

// Options configure a Store. The zero value is the production setting.
type Options struct {
	// Now is the clock (time.Now when nil): session and token expiry,
	// lockouts, audit times and embargoes are all read from it.
	Now func() time.Time
	// Password is the argon2id cost of new password hashes
	// (DefaultPasswordParams when zero). Stored hashes keep the cost they
	// were made with, and are rehashed at the next successful login when
	// it differs. Tests lower it; production should not.
	Password PasswordParams
	// MaxHashing bounds the password hashes computed at once (each takes
	// Password.Memory KiB): further logins wait. Default 4.
	MaxHashing int
}

// Store is the metadata store of one data dir. Its zero value is not
// usable: call Open.
type Store struct {
	path   string
	w      *sql.DB // one connection: every write transaction, BEGIN IMMEDIATE
	r      *sql.DB // readers, query_only
	now    func() time.Time
	params PasswordParams
	hashes chan struct{} // semaphore of password hashing
	// dummy is a hash verified for logins with no password to check
	// (unknown names, OpenID Connect accounts), so that they take as long
	// as a wrong password; made on first use.
	dummy func() (string, error)
}

//go:embed migrations/*.sql
var migrations embed.FS

// Open opens (creating when missing, mode 0600) the store of dataDir and
// brings its schema up to date. A file whose schema is newer than this
// program knows is refused (ECONFLICT).
func Open(ctx context.Context, dataDir string, opts Options) (*Store, error) {
	if strings.ContainsAny(dataDir, "?#") {
		return nil, oml.Errorf(oml.EINVALID, "cartella dati %q: i caratteri ? e # non sono ammessi / ? and # are not allowed in the data dir", dataDir)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("metastore: %w", err)
	}
	path := filepath.Join(dataDir, File)
	// SQLite gives its -wal and -shm files the mode of the database file.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, &oml.Error{Code: oml.EUNAVAILABLE, Message: fmt.Sprintf("impossibile aprire %s / cannot open %s", path, path),
			Hint: "controllare --data e i permessi della cartella", Err: err}
	}
	f.Close()
	s := &Store{path: path, now: opts.Now, params: opts.Password}
	if s.now == nil {
		s.now = time.Now
	}
	if s.params == (PasswordParams{}) {
		s.params = DefaultPasswordParams
	}
	if opts.MaxHashing <= 0 {
		opts.MaxHashing = 4
	}
	s.hashes = make(chan struct{}, opts.MaxHashing)

	common := "_pragma=busy_timeout(" + strconv.FormatInt(BusyTimeout.Milliseconds(), 10) + ")&_pragma=foreign_keys(1)"
	// journal_mode(WAL) is persistent: readers and the writer do not block
	// each other. synchronous(FULL) makes every committed audit entry
	// durable across a power failure, at a cost irrelevant at this rate.
	s.w, err = sql.Open("sqlite", path+"?"+common+"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("metastore: %w", err)
	}
	s.w.SetMaxOpenConns(1)
	if err := s.migrate(ctx); err != nil {
		s.w.Close()
		return nil, err
	}
	s.r, err = sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		s.w.Close()
		return nil, fmt.Errorf("metastore: %w", err)
	}
	s.r.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	s.dummy = sync.OnceValues(func() (string, error) { return hashPassword("oml dummy password", s.params) })
	return s, nil
}

// Close closes the store's connections.
func (s *Store) Close() error {
	var err error
	if s.r != nil {
		err = s.r.Close()
	}
	return errors.Join(err, s.w.Close())
}

// Path returns the store's file.
func (s *Store) Path() string { return s.path }

// migrate applies, each in its transaction, the embedded migrations newer
// than the file's schema version.
func (s *Store) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	latest := 0
	for i, name := range names {
		v, err := strconv.Atoi(strings.SplitN(filepath.Base(name), "_", 2)[0])
		if err != nil || v != i+1 {
			return fmt.Errorf("metastore: migration %s out of sequence", name)
		}
		latest = v
	}
	for v := 1; v <= latest; v++ {
		err := s.write(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)`); err != nil {
				return err
			}
			var cur int
			if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
				return err
			}
			if cur > latest {
				return oml.Errorf(oml.ECONFLICT, "%s ha lo schema %d, più recente di questo programma (%d) / the store's schema is newer than this program", s.path, cur, latest).
					WithHint("usare la versione di oml che ha scritto la cartella dati, o una più recente")
			}
			if cur >= v {
				return nil // another process applied it meanwhile
			}
			sqlText, err := migrations.ReadFile(names[v-1])
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(sqlText)); err != nil {
				return fmt.Errorf("metastore: migration %s: %w", names[v-1], err)
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES (?, ?)`, v, ts(s.now()))
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// write runs fn in one write transaction, committed when fn returns nil.
// The transaction begins IMMEDIATE (it takes the write lock first), so a
// read in fn is never overtaken by another writer before its write.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return busy(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return busy(err)
	}
	return busy(tx.Commit())
}

// busy turns SQLite's "database is locked" into an error for people.
func busy(err error) error {
	if err != nil && (strings.Contains(err.Error(), "SQLITE_BUSY") || strings.Contains(err.Error(), "database is locked")) {
		return &oml.Error{Code: oml.EUNAVAILABLE, Message: "archivio dei metadati occupato da un altro processo / metadata store busy",
			Hint: "riprovare tra poco", Err: err}
	}
	return err
}

// timeLayout is the stored form of times: UTC, microseconds, fixed width,
// so that text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// ts returns t as stored.
func ts(t time.Time) string { return t.UTC().Format(timeLayout) }

// nullTS returns t as stored, NULL for the zero time.
func nullTS(t time.Time) sql.NullString {
	if t.IsZero() {
		return sql.NullString{}
	}
	return sql.NullString{String: ts(t), Valid: true}
}

// parseTS reads a stored time; NULL and "" are the zero time.
func parseTS(s sql.NullString) (time.Time, error) {
	if !s.Valid || s.String == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(timeLayout, s.String)
	if err != nil {
		return time.Time{}, fmt.Errorf("metastore: stored time %q: %w", s.String, err)
	}
	return t, nil
}

// actorKey is the context key of the actor.
type actorKey struct{}

// Actor conventions for audit entries: a person is their account name, an
// API token is "token:<id>", the command line is "cli:<OS user>".
const (
	ActorSystem      = "system" // no actor in the context
	ActorTokenPrefix = "token:"
	ActorCLIPrefix   = "cli:"
)

// WithActor returns ctx naming who acts: the store writes it as the actor
// of the audit entries of the writes made with ctx. The web layer sets it
// per request from the session or the token, the command line from the
// operating-system user.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorOf returns the actor of ctx, ActorSystem when none was set.
func ActorOf(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return ActorSystem
}

// notFound returns an ENOTFOUND error for a person.
func notFound(what, whatEN, name string) *oml.Error {
	return oml.Errorf(oml.ENOTFOUND, "%s %q inesistente / %s %q not found", what, name, whatEN, name)
}
