package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/regione-lombardia/oml/internal/release/releasetest"
)

func TestClientAddr(t *testing.T) {
	proxies := trustedProxies{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	tests := []struct {
		name    string
		trusted trustedProxies
		remote  string
		xff     []string
		want    string
	}{
		{"direct", nil, "192.0.2.7:4000", nil, "192.0.2.7"},
		{"direct, forwarded header ignored", nil, "192.0.2.7:4000", []string{"198.51.100.1"}, "192.0.2.7"},
		{"untrusted peer's header ignored", proxies, "192.0.2.7:4000", []string{"198.51.100.1"}, "192.0.2.7"},
		{"trusted proxy", proxies, "10.1.2.3:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"client's own entries are not believed", proxies, "10.1.2.3:4000", []string{"203.0.113.9, 198.51.100.1"}, "198.51.100.1"},
		{"chain of trusted proxies", proxies, "10.1.2.3:4000", []string{"198.51.100.1, 10.9.9.9", "10.8.8.8"}, "198.51.100.1"},
		{"only proxies", proxies, "10.1.2.3:4000", []string{"10.9.9.9"}, "10.9.9.9"},
		{"garbage stops the walk", proxies, "10.1.2.3:4000", []string{"198.51.100.1, nonsense"}, "10.1.2.3"},
		{"entry with a port", proxies, "10.1.2.3:4000", []string{"198.51.100.1:5555"}, "198.51.100.1"},
		{"IPv6 client", proxies, "[2001:db8:ffff::1]:443", []string{"[2001:db8:1:2::5]:1234"}, "2001:db8:1:2::5"},
		{"IPv4-mapped peer", proxies, "[::ffff:10.1.2.3]:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"no header", proxies, "10.1.2.3:4000", nil, "10.1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/api/v1/data", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := tt.trusted.clientAddr(r); got.String() != tt.want {
				t.Errorf("client %s, want %s", got, tt.want)
			}
		})
	}
}

func TestClientKey(t *testing.T) {
	for remote, want := range map[string]string{
		"192.0.2.7:1":            "192.0.2.7",
		"[2001:db8:1:2:3::4]:1":  "2001:db8:1:2::/64",
		"[2001:db8:1:2:ff::9]:1": "2001:db8:1:2::/64",
		"[::ffff:192.0.2.7]:1":   "192.0.2.7",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		if got, exempt := ClientKey(r); got != want || exempt {
			t.Errorf("ClientKey(%s) = %q %v, want %q", remote, got, exempt, want)
		}
	}
}

// TestLimiter checks the token bucket on a settable clock: the burst, the
// refill, the wait it announces, separate clients, and the eviction of
// idle buckets.
func TestLimiter(t *testing.T) {
	c := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newLimiter(RateLimit{Rate: 2, Burst: 3}, c.now)
	for i := 0; i < 3; i++ {
		if ok, _ := l.allow("a"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.allow("a")
	if ok || wait != 500*time.Millisecond {
		t.Errorf("beyond the burst: %v, wait %s; want refused, 500ms", ok, wait)
	}
	if ok, _ := l.allow("b"); !ok {
		t.Error("another client refused")
	}
	// A refused request takes no token: half a second later one is back.
	c.add(500 * time.Millisecond)
	if ok, _ := l.allow("a"); !ok {
		t.Error("refused after the refill")
	}
	if ok, _ := l.allow("a"); ok {
		t.Error("allowed with an empty bucket")
	}
	if l.size() != 2 {
		t.Errorf("%d buckets, want 2", l.size())
	}
	// Idle buckets go at the next sweep, used ones stay.
	c.add(l.idle)
	l.allow("b")
	if l.size() != 1 {
		t.Errorf("after the sweep %d buckets, want 1 (b)", l.size())
	}
	// A flood of sources never holds more than maxBuckets.
	for i := 0; i < maxBuckets+10; i++ {
		l.allow(fmt.Sprint("flood", i))
	}
	if n := l.size(); n > maxBuckets {
		t.Errorf("%d buckets after a flood, more than %d", n, maxBuckets)
	}

	if newLimiter(RateLimit{}, c.now) != nil {
		t.Error("the zero RateLimit limits")
	}
	if d := newLimiter(RateLimit{Rate: 2.5}, c.now); d.burst != 5 {
		t.Errorf("default burst %d, want 5", d.burst)
	}
}

// TestRateLimitAPI runs the limit through the server: 429 with
// Retry-After and the JSON error beyond the burst, for the API only, per
// client (X-Forwarded-For believed only from a trusted proxy), with the
// Key hook's exemption, and counted in the metrics.
func TestRateLimitAPI(t *testing.T) {
	t.Parallel()
	f := releasetest.Build(t)
	c := &clock{t: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)}
	exemptKey := func(r *http.Request) (string, bool) {
		if r.Header.Get("Authorization") == "Bearer fidato" {
			return "", true
		}
		return ClientKey(r)
	}
	tests := []struct {
		name    string
		trusted []netip.Prefix
		key     func(*http.Request) (string, bool)
		// requests: header lines of each request; want: its status.
		requests [][]string
		want     []int
	}{
		{"burst then 429", nil, nil,
			[][]string{nil, nil, nil}, []int{200, 200, 429}},
		{"forwarded header ignored without a trusted proxy", nil, nil,
			[][]string{{"X-Forwarded-For: 198.51.100.1"}, {"X-Forwarded-For: 198.51.100.2"}, {"X-Forwarded-For: 198.51.100.3"}}, []int{200, 200, 429}},
		{"clients told apart behind a trusted proxy", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, nil,
			[][]string{{"X-Forwarded-For: 198.51.100.1"}, {"X-Forwarded-For: 198.51.100.1"}, {"X-Forwarded-For: 198.51.100.2"}, {"X-Forwarded-For: 198.51.100.1"}},
			[]int{200, 200, 200, 429}},
		{"spoofed entries do not escape the limit", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, nil,
			[][]string{{"X-Forwarded-For: 1.1.1.1, 198.51.100.1"}, {"X-Forwarded-For: 2.2.2.2, 198.51.100.1"}, {"X-Forwarded-For: 3.3.3.3, 198.51.100.1"}},
			[]int{200, 200, 429}},
		{"exempt by the Key hook", nil, exemptKey,
			[][]string{{"Authorization: Bearer fidato"}, {"Authorization: Bearer fidato"}, {"Authorization: Bearer fidato"}, nil, nil, nil},
			[]int{200, 200, 200, 200, 200, 429}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, f.DataDir, func(cfg *Config) {
				cfg.Now = c.now
				cfg.RateLimit = RateLimit{Rate: 1, Burst: 2, Key: tt.key}
				cfg.TrustedProxies = tt.trusted
			})
			ts := startServer(t, s)
			for i, h := range tt.requests {
				r := get(t, ts, "/api/v1/releases", h...)
				if r.StatusCode != tt.want[i] {
					t.Fatalf("request %d (%v): %d, want %d; %s", i+1, h, r.StatusCode, tt.want[i], r.body)
				}
				if r.StatusCode == 429 {
					e := r.wantError(t, 429, "too_many_requests")
					if r.Header.Get("Retry-After") != "1" || !strings.Contains(e.Error.Hint, "Retry-After") {
						t.Errorf("Retry-After %q, hint %q", r.Header.Get("Retry-After"), e.Error.Hint)
					}
					if r.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(r.Header.Get("Access-Control-Expose-Headers"), "Retry-After") {
						t.Errorf("429 without CORS headers: %v", r.Header)
					}
				}
			}
			// Every case ends with its last client over the limit.
			// Other API paths share its bucket; the portal, the
			// probes and the static files are not limited.
			last := tt.requests[len(tt.requests)-1]
			if r := get(t, ts, "/api/v1/nessuno", last...); r.StatusCode != 429 {
				t.Errorf("unknown API path after the limit: %d, want 429", r.StatusCode)
			}
			for _, path := range []string{"/", "/healthz", s.portal.assets.URL("oml.css")} {
				if r := get(t, ts, path, last...); r.StatusCode != 200 {
					t.Errorf("%s: %d, want 200 (not limited)", path, r.StatusCode)
				}
			}
			// A second later the client may go on.
			c.add(time.Second)
			if r := get(t, ts, "/api/v1/releases", last...); r.StatusCode != 200 {
				t.Errorf("after a second: %d, want 200", r.StatusCode)
			}
			c.add(10 * time.Second)
			scrape(t, ts, []string{"oml_http_rate_limited_total 2",
				`oml_http_requests_total{code="4xx",route="GET /api/v1/releases"} 1`,
				`oml_http_requests_total{code="4xx",route="/api/"} 1`})
		})
	}
}
