// Package releasetest builds a small but real release for the tests of
// other packages (the web API, reports, federation): synthetic CO files
// from internal/synth, ingested by internal/ingest into a DuckDB data
// bank, the methodology computed by internal/method (with disclosure
// control when the method package has it), published by internal/release.
//
// Building takes a few seconds, so it happens once per test binary: every
// call of Build returns the same Fixture. Its data dir is shared and must
// not be modified; a test that writes (publishes, deletes, tampers) takes
// its own copy with Fixture.Copy.
package releasetest

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/cofile"
	"github.com/regione-lombardia/oml/internal/duckdb"
	"github.com/regione-lombardia/oml/internal/ingest"
	"github.com/regione-lombardia/oml/internal/method"
	"github.com/regione-lombardia/oml/internal/pseudo"
	"github.com/regione-lombardia/oml/internal/release"
	"github.com/regione-lombardia/oml/internal/synth"
)

// Parameters of the synthetic data set: a small volume (about 3,600 hires
// a year in the region) over two years, so that every indicator, the
// year-on-year transforms and disclosure control (many small cells) have
// something to work on. The release covers the methodology's whole span
// (from January 2017): the months before From have no event, which the
// release answers as zeros. The size of the cube, not the volume of
// events, sets the build time: the comuni and breakdowns times the months.
const (
	Seed  = 11
	Scale = 0.002
)

// Span of the synthetic data and the data's vintage.
var (
	From    = time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	To      = time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)
	Vintage = time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC)
	// PublishedAt is the fixed publication time of the release.
	PublishedAt = time.Date(2025, 1, 20, 9, 0, 0, 0, time.UTC)
)

// Fixture is a built release and what was used to build it.
type Fixture struct {
	// DataDir holds the data bank (oml.duckdb), the keys and the release.
	// Shared by all tests of the binary: read only.
	DataDir string
	Info    release.Info
	// ManifestSHA256 is the hex sha256 of the release's manifest.json.
	ManifestSHA256 string
	Lists          *classif.Lists
	Names          *method.Names
	// Disclosed reports whether disclosure control was applied (whether
	// method.Cube had a Disclose method when this was built).
	Disclosed bool
	// BuildTime is how long the build took.
	BuildTime time.Duration
}

var (
	once    sync.Once
	fixture *Fixture
	err     error
)

// Build returns the shared fixture, building it on first use. The
// environment variable OML_RELEASETEST_FROM (YYYY-MM) moves the start of
// the synthetic data, for benchmarks on a larger cube (2017-01: about 2.9
// million cells, close to a full-scale release; about 45 s). The data
// dir lives in the system's temporary directory and is removed by Cleanup;
// a package whose tests use Build should call Cleanup from TestMain:
//
//	func TestMain(m *testing.M) { code := m.Run(); releasetest.Cleanup(); os.Exit(code) }
func Build(t testing.TB) *Fixture {
	t.Helper()
	once.Do(func() {
		var dir string
		dir, err = os.MkdirTemp("", "oml-releasetest-")
		if err != nil {
			return
		}
		from := From
		if s := os.Getenv("OML_RELEASETEST_FROM"); s != "" {
			if from, err = time.Parse("2006-01", s); err != nil {
				err = fmt.Errorf("OML_RELEASETEST_FROM: %w", err)
				return
			}
		}
		fixture, err = build(context.Background(), dir, from)
		if err != nil {
			os.RemoveAll(dir)
		}
	})
	if err != nil {
		t.Fatalf("releasetest: %v", err)
	}
	return fixture
}

// Cleanup removes the shared data dir, if Build made one.
func Cleanup() {
	if fixture != nil {
		os.RemoveAll(fixture.DataDir)
	}
}

// Copy copies the fixture's data dir (data bank, keys, releases) into a
// new temporary directory of t and returns it: a data dir the test may
// modify.
func (f *Fixture) Copy(t testing.TB) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(f.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(f.DataDir, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return copyFile(path, target, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatalf("releasetest: copy: %v", err)
	}
	return dst
}

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Open opens the fixture's release.
func (f *Fixture) Open(t testing.TB) *release.Release {
	t.Helper()
	r, err := release.Open(f.DataDir, f.Info.ID)
	if err != nil {
		t.Fatalf("releasetest: %v", err)
	}
	return r
}

// build generates data from month from to To, ingests, computes and
// publishes into dataDir.
func build(ctx context.Context, dataDir string, from time.Time) (*Fixture, error) {
	start := time.Now()
	lists, err := classif.Load()
	if err != nil {
		return nil, err
	}
	in := filepath.Join(dataDir, "in")
	cfg := synth.Config{Seed: Seed, Scale: Scale, From: from, To: To, Format: string(cofile.Canonical)}
	if _, err := synth.Generate(ctx, cfg, lists, in, nil); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	files, err := filepath.Glob(filepath.Join(in, "co_*.csv"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("synth wrote no co_*.csv in %s", in)
	}
	db, err := Ingest(ctx, dataDir, lists, files)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	cube, disclosed, err := Compute(ctx, db, lists)
	if err != nil {
		return nil, err
	}
	info, sha, err := Publish(ctx, dataDir, db, cube)
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(in); err != nil {
		return nil, err
	}
	return &Fixture{DataDir: dataDir, Info: info, ManifestSHA256: sha, Lists: lists, Names: method.NewNames(lists),
		Disclosed: disclosed, BuildTime: time.Since(start)}, nil
}

// Ingest opens (creating) the data bank of dataDir and ingests the
// canonical CO files.
func Ingest(ctx context.Context, dataDir string, lists *classif.Lists, files []string) (*duckdb.DB, error) {
	key, err := pseudo.LoadKey(dataDir, func(string) string { return "" })
	if err != nil {
		return nil, err
	}
	db, err := duckdb.Open(ctx, dataDir, duckdb.Options{})
	if err != nil {
		return nil, err
	}
	opt := ingest.Options{Format: cofile.Canonical, Lists: lists, Key: key, Version: "test",
		Now: func() time.Time { return PublishedAt }}
	if _, err := ingest.Run(ctx, db, files, opt); err != nil {
		db.Close()
		return nil, fmt.Errorf("ingest: %w", err)
	}
	return db, nil
}

// Compute computes the cube of db at Vintage with the embedded catalogue
// and applies disclosure control if method.Cube has a Disclose method
// (Disclose() or Disclose() error); disclosed reports whether it did.
func Compute(ctx context.Context, db *duckdb.DB, lists *classif.Lists) (cube *method.Cube, disclosed bool, err error) {
	cat, err := method.Load()
	if err != nil {
		return nil, false, err
	}
	cube, err = cat.Compute(ctx, db, lists, Vintage, nil)
	if err != nil {
		return nil, false, fmt.Errorf("compute: %w", err)
	}
	switch c := any(cube).(type) {
	case interface{ Disclose() error }:
		if err := c.Disclose(); err != nil {
			return nil, false, fmt.Errorf("disclose: %w", err)
		}
		disclosed = true
	case interface{ Disclose() }:
		c.Disclose()
		disclosed = true
	}
	return cube, disclosed, nil
}

// Publish publishes cube into dataDir, signed with the data dir's key,
// with the inputs and event count of db.
func Publish(ctx context.Context, dataDir string, db *duckdb.DB, cube *method.Cube) (release.Info, string, error) {
	key, err := release.LoadKey(dataDir)
	if err != nil {
		return release.Info{}, "", err
	}
	inputs, events, err := db.InputFiles(ctx)
	if err != nil {
		return release.Info{}, "", err
	}
	return release.Publish(dataDir, cube, method.JSON(), release.Meta{PublishedAt: PublishedAt, Inputs: inputs, Events: events}, key)
}
