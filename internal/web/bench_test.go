package web

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/regione-lombardia/oml/internal/release/releasetest"
)

// BenchmarkData measures GET /api/v1/data through the handler (routing,
// parameter checks, Select over the open release, encoding, headers),
// without the network: the cost the server adds to each request.
//
//	go test ./internal/web -run '^$' -bench Data -benchmem
func BenchmarkData(b *testing.B) {
	f := releasetest.Build(b)
	s := newServer(b, f.DataDir)
	h := s.Handler()
	benches := []struct {
		name, query string
		headers     []string
	}{
		{"total/json", "indicator=saldo", nil},
		{"provinces-by-genere/json", "indicator=attivazioni&territory=012,013,014,015,016,017,018,019,020,097,098,108&by=genere", nil},
		{"provinces-by-genere/csv", "indicator=attivazioni&territory=012,013,014,015,016,017,018,019,020,097,098,108&by=genere&format=csv", nil},
		{"provinces-by-genere/csv-gzip", "indicator=attivazioni&territory=012,013,014,015,016,017,018,019,020,097,098,108&by=genere&format=csv", []string{"Accept-Encoding", "gzip"}},
		{"provinces-by-genere/xlsx", "indicator=attivazioni&territory=012,013,014,015,016,017,018,019,020,097,098,108&by=genere&format=xlsx", nil},
		{"provinces-by-genere/json-stat", "indicator=attivazioni&territory=012,013,014,015,016,017,018,019,020,097,098,108&by=genere&format=json-stat", nil},
		{"cpi-by-contratto/json", "indicator=attivazioni&by=cpi,contratto", nil},
		{"comuni-yearly/json", "indicator=attivazioni&by=comune&freq=Y", nil},
		{"total-sa/json", "indicator=attivazioni&transform=sa", nil},
	}
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/api/v1/data?"+bb.query, nil)
			for i := 0; i+1 < len(bb.headers); i += 2 {
				req.Header.Set(bb.headers[i], bb.headers[i+1])
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req) // open the release outside the timing
			if w.Code != http.StatusOK {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
			b.SetBytes(int64(w.Body.Len()))
			b.ResetTimer()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
			}
		})
	}
	b.Run("not-modified", func(b *testing.B) {
		req := httptest.NewRequest("GET", "/api/v1/data?indicator=attivazioni&by=cpi,contratto", nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		req.Header.Set("If-None-Match", w.Header().Get("ETag"))
		for b.Loop() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusNotModified {
				b.Fatal(w.Code)
			}
		}
	})
}

// BenchmarkOpenRelease measures the first request for a release: its
// verification and loading into memory.
func BenchmarkOpenRelease(b *testing.B) {
	f := releasetest.Build(b)
	for b.Loop() {
		s := newServer(b, f.DataDir)
		if err := s.Preload(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCodes measures GET /api/v1/codes, whose territorial dimensions
// are found by selecting every territory of the level.
func BenchmarkCodes(b *testing.B) {
	f := releasetest.Build(b)
	h := newServer(b, f.DataDir).Handler()
	for _, q := range []string{"genere?indicator=attivazioni", "cpi?indicator=attivazioni", "comune?indicator=attivazioni", "comune"} {
		b.Run(q, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/api/v1/codes/"+q, nil)
			h.ServeHTTP(httptest.NewRecorder(), req) // open the release, fill the memo
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code, w.Body)
				}
			}
		})
	}
}

// BenchmarkHardening measures what the hardening layers add to a request
// (request id, client, security headers, metrics, access log at a level
// that drops it, body limit, rate limit): a cheap API request (a 304)
// through the router alone, through Handler, and through Handler with the
// rate limit on.
//
//	go test ./internal/web -run '^$' -bench Hardening -benchmem
func BenchmarkHardening(b *testing.B) {
	f := releasetest.Build(b)
	plain := newServer(b, f.DataDir)
	limited := newServer(b, f.DataDir, func(c *Config) { c.RateLimit = RateLimit{Rate: 1e9, Burst: 1e9} })
	for _, bb := range []struct {
		name string
		h    http.Handler
	}{
		{"router", routed(plain.mux().ServeMux)},
		{"handler", plain.Handler()},
		{"handler+ratelimit", limited.Handler()},
	} {
		b.Run(bb.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/api/v1/data?indicator=attivazioni&territory=016&freq=M&from=latestMINUS23&to=latest", nil)
			w := httptest.NewRecorder()
			bb.h.ServeHTTP(w, req)
			req.Header.Set("If-None-Match", w.Header().Get("ETag"))
			for b.Loop() {
				w := httptest.NewRecorder()
				bb.h.ServeHTTP(w, req)
				if w.Code != http.StatusNotModified {
					b.Fatal(w.Code)
				}
			}
		})
	}
}
