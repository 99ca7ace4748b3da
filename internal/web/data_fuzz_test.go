package web

import (
	"bytes"
	"encoding/json"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// No value of a request reaches SQL. GET /api/v1/data is answered by
// release.Release.Select from the release's cells, which the server
// loads from Parquet into memory when it opens the release
// (internal/release/open.go): no query is built at serve time, for DuckDB
// or anyone else. The request's values are only compared with the codes
// of the catalogue, the code lists and the release (every identifier is
// whitelisted by lookup) and parsed as periods. Three tests hold that:
//
//   - TestDataPathReachesNoSQL fails if a package on the data path
//     (release, export, method, classif, tseries and whatever of the
//     module they import) comes to import database/sql, the DuckDB driver
//     or internal/duckdb;
//   - TestDataQueryInjection sends SQL-injection payloads in every
//     parameter: each is refused with a 4xx JSON error, or answers the
//     very rows of the clean request;
//   - FuzzDataQuery sends any query: never a 5xx, every error the JSON
//     error of the API, and a query whose values carry quotes or
//     comment markers that is answered at all answers the rows of the
//     same query without them.

// injections are the SQL-injection payloads of the seed corpus and of
// TestDataQueryInjection.
var injections = []string{
	"'", `"`, "' OR '1'='1", "' OR 1=1--", `" OR ""="`, "1; DROP TABLE cells;--", "'; SELECT * FROM events; --",
	"') UNION SELECT NULL,NULL--", "016' AND 1=0 UNION ALL SELECT 'x", "%27%20OR%201%3D1", "\\'", "1/*", "*/--",
	"ITC4'||'", "2024-01' OR '1'='1", "saldo\x00", "saldo;", "$1", "?", "%", "_", "attivazioni' --",
}

// dataQueryBase is the clean query the injections are added to: every
// parameter of /api/v1/data set.
var dataQueryBase = url.Values{
	"indicator": {"attivazioni"}, "territory": {"016,017"}, "freq": {"Q"}, "from": {"2023-Q1"}, "to": {"2024-Q4"},
	"by": {"genere"}, "perimeter": {"workplace"}, "scope": {"full"}, "transform": {"yoy"}, "format": {"json"},
}

// dataAnswer is what TestDataQueryInjection and FuzzDataQuery compare: the
// status, and for a 200 JSON answer its observations (as JSON).
type dataAnswer struct {
	status int
	ctype  string
	body   []byte
}

// fetchData answers GET /api/v1/data?rawQuery: over loopback from ts
// when the query can be sent in a request line, else through the same
// handler in process (a query with spaces or control characters, which
// no client sends but a fuzzer does).
func fetchData(t testing.TB, ts *httptest.Server, h http.Handler, rawQuery string) dataAnswer {
	t.Helper()
	if strings.IndexFunc(rawQuery, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '#' }) < 0 {
		req, err := http.NewRequest("GET", ts.URL+"/api/v1/data?"+rawQuery, nil)
		if err == nil {
			req.Header.Set("Accept-Encoding", "identity")
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatalf("GET ?%q: %v", rawQuery, err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("GET ?%q: %v", rawQuery, err)
			}
			return dataAnswer{resp.StatusCode, resp.Header.Get("Content-Type"), body}
		}
	}
	req := httptest.NewRequest("GET", "/api/v1/data", nil)
	req.URL.RawQuery = rawQuery
	req.RequestURI = "/api/v1/data?" + rawQuery
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return dataAnswer{w.Code, w.Header().Get("Content-Type"), w.Body.Bytes()}
}

// check fails the test if a is a 5xx, or an error that is not the API's
// JSON error with the status of its code.
func (a dataAnswer) check(t testing.TB, rawQuery string) {
	t.Helper()
	if a.status >= 500 {
		t.Fatalf("?%q: status %d: %s", rawQuery, a.status, a.body)
	}
	if a.status == http.StatusOK || a.status == http.StatusNotModified {
		return
	}
	var e apiError
	if a.ctype != mediaJSON || json.Unmarshal(a.body, &e) != nil || e.Error.Code == "" || !strings.Contains(e.Error.Message, " / ") {
		t.Fatalf("?%q: status %d with a body that is not the JSON error: %q %s", rawQuery, a.status, a.ctype, a.body)
	}
	if StatusOf(e.Error.Code) != a.status {
		t.Fatalf("?%q: status %d with code %q (StatusOf: %d)", rawQuery, a.status, e.Error.Code, StatusOf(e.Error.Code))
	}
}

// observations returns the observations of a 200 JSON answer; for
// another format (JSON-stat, CSV...), the whole body.
func (a dataAnswer) observations(t testing.TB) []byte {
	t.Helper()
	var d struct {
		Observations json.RawMessage `json:"observations"`
	}
	if json.Unmarshal(a.body, &d) != nil || len(d.Observations) == 0 {
		return a.body
	}
	return d.Observations
}

func TestDataQueryInjection(t *testing.T) {
	t.Parallel()
	_, s, ts := sharedTS(t)
	h := s.Handler()
	clean := fetchData(t, ts, h, dataQueryBase.Encode())
	if clean.status != 200 {
		t.Fatalf("clean query: %d %s", clean.status, clean.body)
	}
	want := clean.observations(t)
	params := slices.Sorted(func(yield func(string) bool) {
		for k := range dataQueryBase {
			if !yield(k) {
				return
			}
		}
	})
	params = append(params, "release")
	accepted := 0
	for _, p := range params {
		for _, inj := range injections {
			for _, v := range []string{dataQueryBase.Get(p) + inj, inj} {
				q := url.Values{}
				for k, vs := range dataQueryBase {
					q[k] = vs
				}
				q.Set(p, v)
				raw := q.Encode()
				a := fetchData(t, ts, h, raw)
				a.check(t, raw)
				switch {
				case a.status == 200:
					accepted++
					if got := a.observations(t); !bytes.Equal(got, want) {
						t.Errorf("%s=%q changed the rows", p, v)
					}
				case a.status >= 400 && a.status < 500:
				default:
					t.Errorf("%s=%q: status %d", p, v, a.status)
				}
			}
		}
	}
	t.Logf("%d of %d injected queries answered (with the clean rows), the rest refused", accepted, len(params)*len(injections)*2)
}

// modulePath is the import path of the module.
const modulePath = "github.com/regione-lombardia/oml"

// TestDataPathReachesNoSQL walks the imports (of non-test files) of the
// packages that answer a data request, through the module's own packages,
// and fails if any imports a SQL package.
func TestDataPathReachesNoSQL(t *testing.T) {
	forbidden := []string{"database/sql", "github.com/duckdb/duckdb-go/v2", modulePath + "/internal/duckdb"}
	root := filepath.Join("..", "..")
	seen := map[string]bool{}
	queue := []string{modulePath + "/internal/release", modulePath + "/internal/export", modulePath + "/internal/method",
		modulePath + "/internal/classif", modulePath + "/internal/tseries"}
	// data.go itself, the handler.
	dataImports := importsOf(t, ".", func(name string) bool { return name == "data.go" })
	for _, imp := range dataImports {
		if strings.HasPrefix(imp, modulePath) && !slices.Contains(queue, imp) && imp != modulePath {
			t.Errorf("data.go imports %s, which this test does not walk: add it", imp)
		}
	}
	for len(queue) > 0 {
		pkg := queue[0]
		queue = queue[1:]
		if seen[pkg] {
			continue
		}
		seen[pkg] = true
		dir := filepath.Join(root, strings.TrimPrefix(strings.TrimPrefix(pkg, modulePath), "/"))
		for _, imp := range importsOf(t, dir, func(name string) bool { return !strings.HasSuffix(name, "_test.go") }) {
			if slices.Contains(forbidden, imp) {
				t.Errorf("%s imports %s: a data request may now reach SQL; the query must be parameterised and this test extended", pkg, imp)
			}
			if strings.HasPrefix(imp, modulePath+"/") && !strings.HasSuffix(imp, "/releasetest") {
				queue = append(queue, imp)
			}
		}
	}
	if len(seen) < 5 {
		t.Fatalf("walked only %v", seen)
	}
}

// importsOf returns the imports of the Go files of dir that keep selects.
func importsOf(t *testing.T, dir string, keep func(name string) bool) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || !keep(e.Name()) {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			out = append(out, p)
		}
	}
	return out
}

// sqlMarks are what is stripped from the values of a fuzzed query to make
// its clean twin.
var sqlMarks = strings.NewReplacer("'", "", `"`, "", ";", "", "--", "", "/*", "", "*/", "", "\\", "", "\x00", "")

// FuzzDataQuery sends any query string to GET /api/v1/data on the shared
// release fixture: no answer may be a 5xx, every error is the API's JSON
// error with the status of its code, and an answered query whose values
// carry quotes, semicolons, comments or backslashes answers the same
// rows as its clean twin (those marks stripped).
//
//	go test -fuzz=FuzzDataQuery -fuzztime=60s ./internal/web/
func FuzzDataQuery(f *testing.F) {
	for _, q := range []string{
		"", "indicator=saldo", "indicator=attivazioni&territory=016&freq=M&from=latestMINUS23&to=latest",
		dataQueryBase.Encode(), "indicator=saldo&territory=016,cpi:C016001&by=contratto&freq=Y&format=csv",
		"indicator=saldo&by=comune&territory=016", "indicator=quota_ti&transform=sa&freq=Q", "indicator=saldo&format=jsonstat",
		"indicator=saldo&format=sdmx-csv&perimeter=residence&scope=core", "indicator=saldo&release=latest",
		"indicator=saldo&freq=M&freq=Q", "indicator=saldo&territori=016", "indicator=saldo&from=2024-13",
		"indicator=%ZZ", "indicator=saldo&&&", "=&=", "indicator=saldo&territory=,,,", "indicator=saldo&by=genere,genere",
	} {
		f.Add(q)
	}
	for _, inj := range injections {
		for _, p := range []string{"indicator", "territory", "from", "by", "release", "format"} {
			q := url.Values{"indicator": {"saldo"}}
			q.Set(p, q.Get(p)+inj)
			f.Add(q.Encode())
		}
	}
	_, s, ts := sharedTS(f)
	h := s.Handler()
	f.Fuzz(func(t *testing.T, rawQuery string) {
		if len(rawQuery) > 4096 {
			return
		}
		a := fetchData(t, ts, h, rawQuery)
		a.check(t, rawQuery)
		if a.status != 200 {
			return
		}
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			return
		}
		marked := false
		clean := url.Values{}
		for k, vs := range q {
			for _, v := range vs {
				c := sqlMarks.Replace(v)
				marked = marked || c != v
				clean[k] = append(clean[k], c)
			}
		}
		if !marked {
			return
		}
		twin := fetchData(t, ts, h, clean.Encode())
		if twin.status != 200 || !bytes.Equal(a.observations(t), twin.observations(t)) {
			t.Fatalf("?%q answered %d rows different from its clean twin ?%q (status %d)", rawQuery, len(a.body), clean.Encode(), twin.status)
		}
	})
}
