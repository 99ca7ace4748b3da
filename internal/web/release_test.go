package web

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regione-lombardia/oml/internal/duckdb"
	"github.com/regione-lombardia/oml/internal/release"
	"github.com/regione-lombardia/oml/internal/release/releasetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.ts != nil {
		shared.ts.Close()
	}
	releasetest.Cleanup()
	os.Exit(code)
}

// shared is a server of the release fixture with the default config,
// which the tests that only read share: opening a release costs a second.
var shared struct {
	once sync.Once
	f    *releasetest.Fixture
	s    *Server
	ts   *httptest.Server
}

// sharedTS returns the shared server of the release fixture.
func sharedTS(t testing.TB) (*releasetest.Fixture, *Server, *httptest.Server) {
	t.Helper()
	f := releasetest.Build(t)
	shared.once.Do(func() {
		s, err := New(Config{DataDir: f.DataDir, Lists: testLists(t), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			panic(err)
		}
		shared.f, shared.s, shared.ts = f, s, httptest.NewServer(s.Handler())
	})
	if shared.s == nil {
		t.Fatal("shared server failed to start")
	}
	return shared.f, shared.s, shared.ts
}

// fixtureTS serves the shared release fixture (read only) over loopback.
func fixtureTS(t testing.TB, options ...func(*Config)) (*releasetest.Fixture, *Server, *httptest.Server) {
	t.Helper()
	f := releasetest.Build(t)
	s := newServer(t, f.DataDir, options...)
	return f, s, startServer(t, s)
}

// clock is a settable clock for the release list's refresh.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// publishAgain publishes a second release of the data bank of dataDir (a
// copy of the fixture's) and returns its info.
func publishAgain(t *testing.T, f *releasetest.Fixture, dataDir string) release.Info {
	t.Helper()
	ctx := context.Background()
	db, err := duckdb.Open(ctx, dataDir, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cube, _, err := releasetest.Compute(ctx, db, f.Lists)
	if err != nil {
		t.Fatal(err)
	}
	info, _, err := releasetest.Publish(ctx, dataDir, db, cube)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func TestReleaseEndpoints(t *testing.T) {
	t.Parallel()
	f, _, ts := sharedTS(t)
	id := f.Info.ID

	var list struct{ Releases []release.Info }
	r := get(t, ts, "/api/v1/releases")
	r.decode(t, 200, &list)
	if len(list.Releases) != 1 || list.Releases[0].ID != id {
		t.Fatalf("releases = %+v", list.Releases)
	}
	var latest release.Info
	r = get(t, ts, "/api/v1/releases/latest")
	r.decode(t, 200, &latest)
	if latest.ID != id || latest.Vintage != f.Info.Vintage || latest.MethodVersion == "" || latest.PublishedAt.IsZero() {
		t.Errorf("latest = %+v", latest)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "public, max-age=300" {
		t.Errorf("latest: Cache-Control %q", cc)
	}
	var one release.Info
	r = get(t, ts, "/api/v1/releases/"+id)
	r.decode(t, 200, &one)
	if one != latest {
		t.Errorf("by id %+v, latest %+v", one, latest)
	}
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("by id: Cache-Control %q", cc)
	}

	manifest := get(t, ts, "/api/v1/releases/"+id+"/manifest")
	if manifest.StatusCode != 200 {
		t.Fatalf("manifest: %d %s", manifest.StatusCode, manifest.body)
	}
	sum := sha256.Sum256(manifest.body)
	if hex.EncodeToString(sum[:]) != f.ManifestSHA256 {
		t.Errorf("manifest sha256 %x, want %s", sum, f.ManifestSHA256)
	}
	onDisk, err := os.ReadFile(filepath.Join(f.DataDir, "releases", id, "manifest.json"))
	if err != nil || string(onDisk) != string(manifest.body) {
		t.Errorf("served manifest differs from the file (%v)", err)
	}
	sig := get(t, ts, "/api/v1/releases/"+id+"/signature")
	if sig.StatusCode != 200 || len(sig.body) != ed25519.SignatureSize || sig.Header.Get("Content-Type") != mediaOctet {
		t.Fatalf("signature: %d, %d bytes, %s", sig.StatusCode, len(sig.body), sig.Header.Get("Content-Type"))
	}
	pub := get(t, ts, "/api/v1/releases/"+id+"/pubkey")
	block, _ := pem.Decode(pub.body)
	if pub.StatusCode != 200 || block == nil || block.Type != "PUBLIC KEY" {
		t.Fatalf("pubkey: %d %s", pub.StatusCode, pub.body)
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(key.(ed25519.PublicKey), manifest.body, sig.body) {
		t.Error("the served signature does not verify the served manifest with the served key")
	}
	if !strings.Contains(pub.Header.Get("Content-Disposition"), id+".pub.pem") {
		t.Errorf("pubkey Content-Disposition %q", pub.Header.Get("Content-Disposition"))
	}
	// latest works in place of an id, with a short lifetime.
	r = get(t, ts, "/api/v1/releases/latest/manifest")
	if string(r.body) != string(manifest.body) || strings.Contains(r.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("latest/manifest: Cache-Control %q", r.Header.Get("Cache-Control"))
	}

	for _, bad := range []string{"20000101-1", "..", "x%2F..%2Fkeys"} {
		e := get(t, ts, "/api/v1/releases/"+bad+"/manifest").wantError(t, 404, "not_found")
		if e.Error.Hint == "" {
			t.Errorf("%s: no hint", bad)
		}
	}
}

// TestNewRelease publishes a release while the server runs: it becomes
// the latest without a restart, and the older one stays available by id.
func TestNewRelease(t *testing.T) {
	t.Parallel()
	f := releasetest.Build(t)
	dir := f.Copy(t)
	clk := &clock{t: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)}
	// One open release at a time: switching releases evicts.
	s := newServer(t, dir, func(c *Config) { c.Now = clk.now; c.OpenReleases = 1 })
	ts := startServer(t, s)

	var in release.Info
	get(t, ts, "/api/v1/releases/latest").decode(t, 200, &in)
	if in.ID != f.Info.ID {
		t.Fatalf("latest %s, want %s", in.ID, f.Info.ID)
	}
	second := publishAgain(t, f, dir)
	if second.ID == f.Info.ID {
		t.Fatalf("second release has the first's id %s", second.ID)
	}
	// A request naming the new release finds it at once (a miss lists
	// the data dir again) ...
	get(t, ts, "/api/v1/releases/"+second.ID).decode(t, 200, &in)
	// ... and it is the latest once the list is refreshed.
	clk.add(listInterval)
	get(t, ts, "/api/v1/releases/latest").decode(t, 200, &in)
	if in.ID != second.ID {
		t.Fatalf("latest %s after publishing %s", in.ID, second.ID)
	}
	var list struct{ Releases []release.Info }
	get(t, ts, "/api/v1/releases").decode(t, 200, &list)
	if len(list.Releases) != 2 || list.Releases[0].ID != second.ID || list.Releases[1].ID != f.Info.ID {
		t.Fatalf("releases %+v", list.Releases)
	}

	// Data of the default (latest) and of the old release by id.
	r := get(t, ts, "/api/v1/data?indicator=attivazioni&freq=Y")
	if r.StatusCode != 200 || r.Header.Get("X-OML-Release") != second.ID || strings.Contains(r.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("latest data: %d, release %q, Cache-Control %q", r.StatusCode, r.Header.Get("X-OML-Release"), r.Header.Get("Cache-Control"))
	}
	var d dataset
	r = get(t, ts, "/api/v1/data?indicator=attivazioni&freq=Y&release="+f.Info.ID)
	r.decode(t, 200, &d)
	if d.Release != f.Info.ID || r.Header.Get("X-OML-Release") != f.Info.ID {
		t.Errorf("old release: body %q, header %q", d.Release, r.Header.Get("X-OML-Release"))
	}
	if cc := r.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("old release: Cache-Control %q", cc)
	}
	// The same query on either release has a different tag; the answers
	// come from the same data bank, so they have the same figures.
	a := get(t, ts, "/api/v1/data?indicator=attivazioni&freq=Y&release="+second.ID)
	if a.Header.Get("ETag") == r.Header.Get("ETag") {
		t.Error("two releases share an ETag")
	}
	var d2 dataset
	a.decode(t, 200, &d2)
	if len(d2.Observations) != len(d.Observations) || d2.Release != second.ID {
		t.Errorf("second release: %d observations, release %s", len(d2.Observations), d2.Release)
	}
	for i := range d.Observations {
		if o, o2 := d.Observations[i], d2.Observations[i]; o.Period != o2.Period || o.Status != o2.Status || (o.Value == nil) != (o2.Value == nil) || (o.Value != nil && *o.Value != *o2.Value) {
			t.Fatalf("observation %d: %+v vs %+v", i, o, o2)
		}
	}
}

// TestBrokenRelease serves a release whose file was altered: a 500 with
// code integrity, remembered for retryAfter rather than verified again on
// every request, and served again once repaired.
func TestBrokenRelease(t *testing.T) {
	t.Parallel()
	f := releasetest.Build(t)
	dir := f.Copy(t)
	files, err := filepath.Glob(filepath.Join(dir, "releases", f.Info.ID, "cells", "*.parquet"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cell files (%v)", err)
	}
	good, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(good)
	bad[len(bad)/2] ^= 0xff
	if err := os.WriteFile(files[0], bad, 0o644); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)}
	ts := startServer(t, newServer(t, dir, func(c *Config) { c.Now = clk.now }))

	const q = "/api/v1/data?indicator=attivazioni"
	e := get(t, ts, q).wantError(t, 500, "integrity")
	if strings.Contains(e.Error.Message, dir) {
		t.Errorf("message %q shows the data dir", e.Error.Message)
	}
	if err := os.WriteFile(files[0], good, 0o644); err != nil {
		t.Fatal(err)
	}
	get(t, ts, q).wantError(t, 500, "integrity") // remembered
	clk.add(retryAfter)
	get(t, ts, q).decode(t, 200, &dataset{})
}
