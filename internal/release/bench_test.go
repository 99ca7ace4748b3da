package release_test

import (
	"context"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/duckdb"
	"github.com/regione-lombardia/oml/internal/method"
	"github.com/regione-lombardia/oml/internal/release"
	"github.com/regione-lombardia/oml/internal/release/releasetest"
)

// The benchmarks run on the releasetest fixture: synthetic data, every
// comune and breakdown of the catalogue. OML_RELEASETEST_FROM=2017-01
// makes it span the methodology's whole period (about 2.9 million cells,
// close to a full-scale release).
//
//	go test ./internal/release -run '^$' -bench Select -benchtime 2000x
//	go test ./internal/release -run '^$' -bench 'Open|Publish' -benchtime 3x

func TestMain(m *testing.M) {
	code := m.Run()
	releasetest.Cleanup()
	os.Exit(code)
}

// bench holds the fixture's release, opened once for all benchmarks.
var bench struct {
	once sync.Once
	r    *release.Release
	err  error
}

func benchRelease(b *testing.B) *release.Release {
	f := releasetest.Build(b)
	bench.once.Do(func() { bench.r, bench.err = release.Open(f.DataDir, f.Info.ID) })
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.r
}

// BenchmarkSelect measures Select under 64 concurrent callers (GOMAXPROCS
// is 2 on the reference machine) and reports the 99th percentile latency.
func BenchmarkSelect(b *testing.B) {
	f := releasetest.Build(b)
	r := benchRelease(b)
	_, last := r.Periods(oml.Monthly)
	var provinces []string
	for _, p := range f.Names.Territories(oml.LevelProvince) {
		provinces = append(provinces, p.Code)
	}
	cases := []struct {
		name string
		q    release.Query
	}{
		{"one territory 24 months", release.Query{Indicator: "saldo", Territories: []string{"016"}, From: last.Add(-23), To: last}},
		{"provinces by ateco_sezione one year", release.Query{Indicator: "attivazioni", Territories: provinces,
			By: []string{"ateco_sezione"}, From: last.Add(-11), To: last}},
		{"one territory 24 months sa", release.Query{Indicator: "attivazioni", Territories: []string{"016"}, From: last.Add(-23), To: last, Transform: "sa"}},
		{"comune 24 months yoy", release.Query{Indicator: "attivazioni", Territories: []string{"016024"}, From: last.Add(-23), To: last, Transform: "yoy"}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			d, err := r.Select(c.q, f.Names)
			if err != nil {
				b.Fatal(err)
			}
			runParallelP99(b, 32, func() error {
				_, err := r.Select(c.q, f.Names)
				return err
			})
			b.ReportMetric(float64(len(d.Observations)), "obs/op")
		})
	}
}

// runParallelP99 runs op b.N times across GOMAXPROCS*parallelism
// goroutines and reports the 50th and 99th percentile latencies. Each
// goroutine yields between two calls, as a server's goroutine waits for
// the network between two requests: without it the Go scheduler lets one
// goroutine run for a whole 10 ms time slice, and the tail measures the
// scheduler rather than Select.
func runParallelP99(b *testing.B, parallelism int, op func() error) {
	var mu sync.Mutex
	var all []time.Duration
	b.SetParallelism(parallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var lat []time.Duration
		for pb.Next() {
			start := time.Now()
			if err := op(); err != nil {
				b.Error(err)
				return
			}
			lat = append(lat, time.Since(start))
			runtime.Gosched()
		}
		mu.Lock()
		all = append(all, lat...)
		mu.Unlock()
	})
	b.StopTimer()
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkOpen measures loading the fixture's release, and the memory it
// keeps per cell.
func BenchmarkOpen(b *testing.B) {
	f := releasetest.Build(b)
	var cells int64
	for _, e := range benchRelease(b).Manifest().Files {
		cells += e.Rows
	}
	var before, after runtime.MemStats
	var keep *release.Release
	for b.Loop() {
		keep = nil
		runtime.GC()
		runtime.ReadMemStats(&before)
		r, err := release.Open(f.DataDir, f.Info.ID)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		keep = r
	}
	b.ReportMetric(float64(cells), "cells")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(cells), "heap-B/cell")
	runtime.KeepAlive(keep)
}

// BenchmarkPublish measures writing the fixture's cube as a release.
func BenchmarkPublish(b *testing.B) {
	f := releasetest.Build(b)
	cube := benchCube(b, f)
	key, err := release.LoadKey(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		dir := b.TempDir()
		if _, _, err := release.Publish(dir, cube, method.JSON(), release.Meta{PublishedAt: releasetest.PublishedAt}, key); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(cube.Cells)), "cells")
}

// benchCube computes the fixture's cube again, from a copy of its data bank.
func benchCube(b *testing.B, f *releasetest.Fixture) *method.Cube {
	ctx := context.Background()
	db, err := duckdb.Open(ctx, f.Copy(b), duckdb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	cube, _, err := releasetest.Compute(ctx, db, f.Lists)
	if err != nil {
		b.Fatal(err)
	}
	return cube
}
