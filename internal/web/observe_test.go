package web

import (
	"bufio"
	"encoding/json"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regione-lombardia/oml/internal/release/releasetest"
)

// logLines returns the access-log lines of buf, decoded.
func logLines(t *testing.T, buf *syncBuffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(buf.String()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if m["msg"] == "http" {
			out = append(out, m)
		}
	}
	return out
}

// TestAccessLog: one line per request with its id (the response's
// X-Request-Id), route, status, size and duration, and no personal data:
// the client's network only, no credentials or cookies, no value of a
// parameter the server does not know.
func TestAccessLog(t *testing.T) {
	t.Parallel()
	f := releasetest.Build(t)
	var logs syncBuffer
	s := newServer(t, f.DataDir, logTo(&logs), func(c *Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	ts := startServer(t, s)
	secrets := []string{"SEGRETO-TOKEN", "SEGRETO-BEARER", "SEGRETO-COOKIE", "RSSMRA80A01F205X", "203.0.113.77", "2001:db8:1:2::77"}
	tests := []struct {
		path     string
		headers  []string
		status   int
		route    string
		uri      string
		client   string
		keepID   bool
		logLevel string
	}{
		{"/api/v1/data?indicator=saldo&territory=016&freq=Y",
			[]string{"Authorization: Bearer SEGRETO-BEARER", "Cookie: sessione=SEGRETO-COOKIE", "X-Forwarded-For: 203.0.113.77"},
			200, "GET /api/v1/data", "/api/v1/data?freq=Y&indicator=saldo&territory=016", "203.0.113.0/24", false, "INFO"},
		{"/api/v1/data?indicator=saldo&territory=016&token=SEGRETO-TOKEN&freq=Y",
			[]string{"Authorization: Bearer SEGRETO-BEARER", "Cookie: sessione=SEGRETO-COOKIE", "X-Forwarded-For: 203.0.113.77"},
			400, "GET /api/v1/data", "/api/v1/data?freq=Y&indicator=saldo&territory=016&token=REDACTED", "203.0.113.0/24", false, "INFO"},
		{"/territorio/016?cf=RSSMRA80A01F205X", []string{"X-Forwarded-For: [2001:db8:1:2::77]:4444", "X-Request-Id: proxy-id-42"},
			200, "GET /territorio/{code}", "/territorio/016?cf=REDACTED", "2001:db8:1::/48", true, "INFO"},
		{"/api/v1/nessuno", nil, 404, "/api/", "/api/v1/nessuno", "127.0.0.0/24", false, "INFO"},
		{"/healthz", nil, 200, "GET /healthz", "/healthz", "127.0.0.0/24", false, "DEBUG"},
	}
	for _, tt := range tests {
		r := get(t, ts, tt.path, tt.headers...)
		if r.StatusCode != tt.status {
			t.Fatalf("%s: %d", tt.path, r.StatusCode)
		}
		id := r.Header.Get("X-Request-Id")
		if tt.keepID != (id == "proxy-id-42") {
			t.Errorf("%s: X-Request-Id %q", tt.path, id)
		}
		// The line is written once the response is out: wait for it.
		var line map[string]any
		for i := 0; i < 200 && line == nil; i++ {
			for _, l := range logLines(t, &logs) {
				if l["id"] == id {
					line = l
				}
			}
			if line == nil {
				time.Sleep(10 * time.Millisecond)
			}
		}
		if line == nil {
			t.Fatalf("%s: no log line with id %s:\n%s", tt.path, id, logs.String())
		}
		for k, want := range map[string]any{"method": "GET", "route": tt.route, "uri": tt.uri, "status": float64(tt.status), "client": tt.client, "level": tt.logLevel} {
			if line[k] != want {
				t.Errorf("%s: log %s = %v, want %v", tt.path, k, line[k], want)
			}
		}
		if line["bytes"].(float64) <= 0 || line["dur"].(float64) <= 0 {
			t.Errorf("%s: bytes %v, dur %v", tt.path, line["bytes"], line["dur"])
		}
	}
	// A client cannot choose its request id (only a trusted proxy can),
	// nor write what it likes into the log with it.
	direct := newServer(t, f.DataDir)
	w := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/healthz", nil)
	req.RemoteAddr = "192.0.2.1:1234"
	req.Header.Set("X-Request-Id", "scelto-dal-client")
	direct.Handler().ServeHTTP(w, req)
	if id := w.Header().Get("X-Request-Id"); id == "scelto-dal-client" || !validRequestID(id) {
		t.Errorf("untrusted client's request id kept: %q", id)
	}
	for _, bad := range []string{"", strings.Repeat("a", 65), "a b", "a\nb", "x@y"} {
		if validRequestID(bad) {
			t.Errorf("validRequestID(%q)", bad)
		}
	}
	for _, secret := range secrets {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs.String())
		}
	}
}

// TestMetrics: /metrics in the Prometheus format with the request counts
// and latencies by route pattern (not path) and status class, the
// in-flight gauge, the rate-limit counter and the Go and process
// collectors; served to local clients only, or on a listener of its own.
func TestMetrics(t *testing.T) {
	t.Parallel()
	f := releasetest.Build(t)
	s := newServer(t, f.DataDir, func(c *Config) { c.RateLimit = RateLimit{Rate: 100, Burst: 100} })
	ts := startServer(t, s)
	for _, path := range []string{"/territorio/016", "/territorio/017", "/territorio/999", "/api/v1/data?indicator=saldo", "/a/b/c", "/d/e"} {
		get(t, ts, path)
	}
	r := get(t, ts, "/metrics")
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	body := scrape(t, ts, []string{
		`oml_http_requests_total{code="2xx",route="GET /territorio/{code}"} 2`,
		`oml_http_requests_total{code="4xx",route="GET /territorio/{code}"} 1`,
		`oml_http_requests_total{code="2xx",route="GET /api/v1/data"} 1`,
		`oml_http_requests_total{code="4xx",route="/"} 2`,
		`oml_http_request_duration_seconds_bucket{code="2xx",route="GET /api/v1/data",le="+Inf"} 1`,
		"oml_http_requests_in_flight 1", // this scrape
		"oml_http_rate_limited_total 0",
		"oml_rate_limit_clients 1",
		"oml_ready 1",
		"go_goroutines ",
		"process_resident_memory_bytes ",
	})
	if strings.Contains(body, "/territorio/016") || strings.Contains(body, "/a/b/c") {
		t.Error("/metrics has a label by raw path")
	}

	// Refused to anyone but a local client no proxy stands for.
	for _, tt := range []struct {
		remote, header string
		want           int
	}{
		{"127.0.0.1:5000", "", 200},
		{"[::1]:5000", "", 200},
		{"192.0.2.1:5000", "", 403},
		{"127.0.0.1:5000", "X-Forwarded-For: 192.0.2.1", 403},
		{"127.0.0.1:5000", "Forwarded: for=192.0.2.1", 403},
		{"127.0.0.1:5000", "X-Real-IP: 192.0.2.1", 403},
	} {
		w := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.RemoteAddr = tt.remote
		if k, v, ok := strings.Cut(tt.header, ":"); ok {
			req.Header.Set(k, strings.TrimSpace(v))
		}
		s.Handler().ServeHTTP(w, req)
		if w.Code != tt.want {
			t.Errorf("/metrics from %s %s: %d, want %d", tt.remote, tt.header, w.Code, tt.want)
		}
	}

	// With SeparateMetrics the main handler has no /metrics; the metrics
	// handler has it, and the probes.
	sep := newServer(t, f.DataDir, func(c *Config) { c.SeparateMetrics = true })
	if r := get(t, startServer(t, sep), "/metrics"); r.StatusCode != 404 {
		t.Errorf("main handler with SeparateMetrics: /metrics %d, want 404", r.StatusCode)
	}
	mts := httptest.NewServer(sep.MetricsHandler())
	t.Cleanup(mts.Close)
	for _, path := range []string{"/metrics", "/healthz"} {
		if r := get(t, mts, path); r.StatusCode != 200 {
			t.Errorf("metrics handler %s: %d", path, r.StatusCode)
		}
	}
	if r := get(t, mts, "/api/v1/releases"); r.StatusCode != 404 {
		t.Errorf("metrics handler serves the API: %d", r.StatusCode)
	}
}

// scrape gets /metrics until it holds every line of want (a request is
// counted once its response is out, which its client may see first) and
// returns it; it fails the test after 2 s.
func scrape(t *testing.T, ts *httptest.Server, want []string) string {
	t.Helper()
	var body string
	var missing []string
	for i := 0; i < 100; i++ {
		body, missing = string(get(t, ts, "/metrics").body), nil
		for _, w := range want {
			if !strings.Contains(body, w) {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 {
			return body
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("/metrics lacks %q:\n%s", missing, body)
	return body
}

// TestProbes: /healthz answers while the process lives; /readyz is 503
// until the latest release is open, opens it, and stays ready while a
// newly published release is being opened.
func TestProbes(t *testing.T) {
	t.Parallel()
	f := releasetest.Build(t)

	empty := t.TempDir()
	if err := os.MkdirAll(filepath.Join(empty, "releases"), 0o755); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	none := startServer(t, newServer(t, empty, logTo(&logs)))
	if r := get(t, none, "/healthz"); r.StatusCode != 200 || string(r.body) != "ok\n" || r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("healthz without releases: %d %q", r.StatusCode, r.body)
	}
	if r := get(t, none, "/readyz"); r.StatusCode != 503 {
		t.Errorf("readyz without releases: %d %q", r.StatusCode, r.body)
	}
	// The probe's 503 is its answer, not a server error.
	time.Sleep(100 * time.Millisecond)
	if strings.Contains(logs.String(), `"level":"ERROR"`) || !strings.Contains(logs.String(), `"route":"GET /readyz"`) {
		t.Errorf("log of the probes:\n%s", logs.String())
	}

	dir := f.Copy(t)
	c := &clock{t: time.Now()}
	s := newServer(t, dir, func(cfg *Config) { cfg.Now = c.now })
	ts := startServer(t, s)
	if r := get(t, ts, "/readyz"); r.StatusCode != 503 || !strings.Contains(string(r.body), f.Info.ID) {
		t.Errorf("readyz before the release is open: %d %q", r.StatusCode, r.body)
	}
	// The probe had the release opened: ready within the time it takes.
	ready := false
	for i := 0; i < 300 && !ready; i++ {
		r := get(t, ts, "/readyz")
		ready = r.StatusCode == 200 && string(r.body) == "ok "+f.Info.ID+"\n"
		if !ready {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if !ready {
		t.Fatal("readyz never became ready")
	}

	// A new release: still ready while it opens, then ready on it.
	next := publishAgain(t, f, dir)
	c.add(listInterval)
	if r := get(t, ts, "/readyz"); r.StatusCode != 200 {
		t.Errorf("readyz while the new release opens: %d %q", r.StatusCode, r.body)
	}
	ready = false
	for i := 0; i < 300 && !ready; i++ {
		r := get(t, ts, "/readyz")
		ready = string(r.body) == "ok "+next.ID+"\n"
		if !ready {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if !ready {
		t.Errorf("readyz never reported the new release %s", next.ID)
	}
	if r := get(t, ts, "/readyz"); r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("readyz headers %v", r.Header)
	}
}
