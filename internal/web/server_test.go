package web

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/regione-lombardia/oml/internal/classif"
)

var (
	listsOnce sync.Once
	lists     *classif.Lists
	listsErr  error
)

// testLists loads the code lists once for the whole test binary.
func testLists(t testing.TB) *classif.Lists {
	t.Helper()
	listsOnce.Do(func() { lists, listsErr = classif.Load() })
	if listsErr != nil {
		t.Fatal(listsErr)
	}
	return lists
}

// newServer returns a server of dataDir; options adjust its config.
func newServer(t testing.TB, dataDir string, options ...func(*Config)) *Server {
	t.Helper()
	cfg := Config{DataDir: dataDir, Lists: testLists(t), Logger: slog.New(slog.DiscardHandler)}
	for _, o := range options {
		o(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startServer serves s over loopback for the test's duration.
func startServer(t testing.TB, s *Server) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// response is a response with its body read (and gunzipped).
type response struct {
	*http.Response
	body []byte
}

// get requests path from ts with the headers given as "Name: value".
func get(t testing.TB, ts *httptest.Server, path string, headers ...string) *response {
	t.Helper()
	req, err := http.NewRequest("GET", ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	// Ask for gzip explicitly, so that the transport leaves the body to
	// the test and the test sees Content-Encoding.
	if req.Header.Get("Accept-Encoding") == "" {
		req.Header.Set("Accept-Encoding", "identity")
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatalf("GET %s: gzip: %v", path, err)
		}
		r = zr
	}
	body, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return &response{resp, body}
}

// decode unmarshals the response's JSON body into v, failing the test
// unless the status is want.
func (r *response) decode(t testing.TB, want int, v any) {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", r.Request.Method, r.Request.URL, r.StatusCode, want, r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%s: body is not JSON: %v\n%s", r.Request.URL, err, r.body)
	}
}

// apiError is the error body.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Hint    string `json:"hint"`
	} `json:"error"`
}

// wantError checks that r is an error of the status and code, in the
// documented shape, with a bilingual message; it returns the body.
func (r *response) wantError(t testing.TB, status int, code string) apiError {
	t.Helper()
	var e apiError
	r.decode(t, status, &e)
	var raw map[string]map[string]any
	json.Unmarshal(r.body, &raw)
	if len(raw) != 1 || raw["error"] == nil {
		t.Errorf("%s: error body %s has members other than error", r.Request.URL, r.body)
	}
	for k := range raw["error"] {
		if k != "code" && k != "message" && k != "hint" {
			t.Errorf("%s: error member %q", r.Request.URL, k)
		}
	}
	if e.Error.Code != code {
		t.Errorf("%s: code %q, want %q (%s)", r.Request.URL, e.Error.Code, code, r.body)
	}
	if !strings.Contains(e.Error.Message, " / ") {
		t.Errorf("%s: message %q is not bilingual", r.Request.URL, e.Error.Message)
	}
	if ct := r.Header.Get("Content-Type"); ct != mediaJSON {
		t.Errorf("%s: error Content-Type %q", r.Request.URL, ct)
	}
	if r.Header.Get("ETag") != "" || r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: error with ETag %q, Cache-Control %q", r.Request.URL, r.Header.Get("ETag"), r.Header.Get("Cache-Control"))
	}
	return e
}

// TestNoRelease covers a data dir without releases: the metadata that
// need none still work, the rest is a 404 that says what to do.
func TestNoRelease(t *testing.T) {
	t.Parallel()
	ts := startServer(t, newServer(t, t.TempDir()))

	var rl struct{ Releases []any }
	get(t, ts, "/api/v1/releases").decode(t, 200, &rl)
	if rl.Releases == nil || len(rl.Releases) != 0 {
		t.Errorf("releases = %v, want []", rl.Releases)
	}
	for _, path := range []string{
		"/api/v1/releases/latest",
		"/api/v1/releases/20250101-1",
		"/api/v1/releases/latest/manifest",
		"/api/v1/data?indicator=saldo",
		"/api/v1/codes/genere",
	} {
		if e := get(t, ts, path).wantError(t, 404, "not_found"); e.Error.Hint == "" {
			t.Errorf("%s: no hint", path)
		}
	}
	// The catalogue of the software stands in for a release's.
	var il struct {
		Release    string
		Indicators []indicatorView
	}
	get(t, ts, "/api/v1/indicators").decode(t, 200, &il)
	if il.Release != "" || len(il.Indicators) == 0 {
		t.Errorf("indicators without release: release %q, %d indicators", il.Release, len(il.Indicators))
	}
	get(t, ts, "/api/v1/indicators?release=20250101-1").wantError(t, 404, "not_found")
}

func TestTerritories(t *testing.T) {
	t.Parallel()
	ts := startServer(t, newServer(t, t.TempDir()))
	type list struct {
		Territories []struct{ Code, Name, Level, Parent string }
	}
	tests := []struct {
		query      string
		n          int // exact count, or 0 for "more than 100"
		first      string
		wantLevel  string
		wantParent string
	}{
		{"?level=region", 1, "ITC4", "region", ""},
		{"?level=province", 12, "012", "province", "ITC4"},
		{"?level=cpi", 0, "", "cpi", ""},
		{"?level=comune", 0, "", "comune", ""},
		{"?level=comune&parent=016", 0, "", "comune", "016"},
		{"?level=cpi&parent=015", 0, "", "cpi", "015"},
		{"?parent=ITC4", 12, "012", "province", "ITC4"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var l list
			get(t, ts, "/api/v1/territories"+tt.query).decode(t, 200, &l)
			if tt.n > 0 && len(l.Territories) != tt.n {
				t.Fatalf("%d territories, want %d", len(l.Territories), tt.n)
			}
			if len(l.Territories) == 0 {
				t.Fatal("no territories")
			}
			if tt.first != "" && l.Territories[0].Code != tt.first {
				t.Errorf("first %q, want %q", l.Territories[0].Code, tt.first)
			}
			for _, tr := range l.Territories {
				if tr.Level != tt.wantLevel || tr.Name == "" || (tt.wantParent != "" && tr.Parent != tt.wantParent) {
					t.Fatalf("territory %+v", tr)
				}
				if tt.wantLevel == "cpi" && !strings.HasPrefix(tr.Code, "cpi:") {
					t.Fatalf("cpi code %q", tr.Code)
				}
			}
		})
	}
	var all list
	get(t, ts, "/api/v1/territories").decode(t, 200, &all)
	if len(all.Territories) < 1500 || all.Territories[0].Code != "ITC4" {
		t.Errorf("all levels: %d territories, first %+v", len(all.Territories), all.Territories[0])
	}
	get(t, ts, "/api/v1/territories?level=nazione").wantError(t, 400, "invalid")
	get(t, ts, "/api/v1/territories?parent=999").wantError(t, 404, "not_found")
}

// TestRouting covers what the router answers by itself: unknown
// parameters, paths and methods.
func TestRouting(t *testing.T) {
	t.Parallel()
	s := newServer(t, t.TempDir())
	ts := startServer(t, s)

	for _, op := range s.ops {
		if strings.Contains(op.Path, "{") {
			continue
		}
		e := get(t, ts, op.Path+"?nonesiste=1").wantError(t, 400, "invalid")
		if !strings.Contains(e.Error.Message, "nonesiste") {
			t.Errorf("%s: message %q does not name the parameter", op.Path, e.Error.Message)
		}
		for _, name := range op.queryNames() {
			if !strings.Contains(e.Error.Hint, name) {
				t.Errorf("%s: hint %q does not list %s", op.Path, e.Error.Hint, name)
			}
		}
	}
	get(t, ts, "/api/v1/territories?level=cpi&level=comune").wantError(t, 400, "invalid")
	get(t, ts, "/api/v1/nonesiste").wantError(t, 404, "not_found")

	resp, err := ts.Client().Post(ts.URL+"/api/v1/data", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 405 || !strings.Contains(resp.Header.Get("Allow"), "GET") || !strings.Contains(string(body), `"code":"invalid"`) {
		t.Errorf("POST /api/v1/data: %d, Allow %q, %s", resp.StatusCode, resp.Header.Get("Allow"), body)
	}

	// HEAD answers the headers of GET without a body.
	req, _ := http.NewRequest("HEAD", ts.URL+"/api/v1/territories?level=province", nil)
	resp, err = ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get("ETag") == "" {
		t.Errorf("HEAD: %d, %d bytes, ETag %q", resp.StatusCode, len(body), resp.Header.Get("ETag"))
	}
}

// TestOpenAPIServed checks that the document is served as JSON.
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	s := newServer(t, t.TempDir())
	ts := startServer(t, s)
	r := get(t, ts, "/api/v1/openapi.json", "Accept-Encoding: gzip")
	if r.StatusCode != 200 || r.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("status %d, Content-Encoding %q", r.StatusCode, r.Header.Get("Content-Encoding"))
	}
	parseOpenAPI(t, r.body)
	if string(r.body) != string(s.openapi) {
		t.Error("served document differs from the built one")
	}
}

// TestPanic checks that a handler's panic is a clean 500 in the error
// shape, without internal details, and that reading an undeclared
// parameter is such a panic.
func TestPanic(t *testing.T) {
	t.Parallel()
	s := newServer(t, t.TempDir())
	s.ops = append(s.ops, &operation{ID: "broken", Method: "GET", Path: APIPrefix + "/broken",
		handle: func(s *Server, r *request) (*reply, error) { return nil, errors.New("secret detail") }},
		&operation{ID: "undeclared", Method: "GET", Path: APIPrefix + "/undeclared",
			handle: func(s *Server, r *request) (*reply, error) { r.Get("x"); return nil, nil }})
	ts := startServer(t, s)
	for _, path := range []string{"/api/v1/broken", "/api/v1/undeclared"} {
		r := get(t, ts, path)
		e := r.wantError(t, 500, "internal")
		if strings.Contains(string(r.body), "secret") || strings.Contains(e.Error.Message, "undeclared") {
			t.Errorf("%s: internal detail leaked: %s", path, r.body)
		}
	}
}
