package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/regione-lombardia/oml/internal/release/releasetest"
)

// TestServeHardened runs `oml serve` in process with a small rate limit
// and the metrics on a listener of their own: the probes, a 429 with
// Retry-After beyond the burst, the security headers, /metrics only on the
// metrics listener, and a clean stop when the context is cancelled.
func TestServeHardened(t *testing.T) {
	f := releasetest.Build(t)
	var stdout, stderr syncBuffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }, Now: time.Now}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- m.Run(ctx, []string{"serve", "--data", f.DataDir, "--addr", "127.0.0.1:0",
			"--rate-limit", "1", "--rate-burst", "2", "--metrics-addr", "127.0.0.1:0", "--trusted-proxy", "10.0.0.0/8,192.0.2.1"})
	}()
	var base, metrics string
	portal := regexp.MustCompile(`portal at (http://[0-9.:]+)/`)
	metricsAt := regexp.MustCompile(`metrics at (http://[0-9.:]+)/metrics`)
	for i := 0; i < 300 && (base == "" || metrics == ""); i++ {
		if m := portal.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
		if m := metricsAt.FindStringSubmatch(stdout.String()); m != nil {
			metrics = m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	if base == "" || metrics == "" {
		t.Fatalf("serve did not start:\n%s\n%s", stdout.String(), stderr.String())
	}
	get := func(url string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	ready := false
	for i := 0; i < 300 && !ready; i++ {
		r, body := get(base + "/readyz")
		ready = r.StatusCode == 200 && strings.HasPrefix(body, "ok "+f.Info.ID)
		time.Sleep(20 * time.Millisecond)
	}
	if !ready {
		t.Fatal("/readyz never answered 200")
	}
	for i, want := range []int{200, 200, 429} {
		r, body := get(base + "/api/v1/releases")
		if r.StatusCode != want {
			t.Fatalf("API request %d: %d, want %d: %s", i+1, r.StatusCode, want, body)
		}
		if want == 429 && (r.Header.Get("Retry-After") == "" || !strings.Contains(body, `"code":"too_many_requests"`)) {
			t.Errorf("429: Retry-After %q, body %s", r.Header.Get("Retry-After"), body)
		}
		if r.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("security headers missing: %v", r.Header)
		}
	}
	if r, _ := get(base + "/metrics"); r.StatusCode != 404 {
		t.Errorf("/metrics on the main listener with --metrics-addr: %d, want 404", r.StatusCode)
	}
	if r, body := get(metrics + "/metrics"); r.StatusCode != 200 || !strings.Contains(body, "oml_http_rate_limited_total 1") {
		t.Errorf("/metrics on --metrics-addr: %d\n%.2000s", r.StatusCode, body)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(stdout.String(), "Server fermato") {
			t.Errorf("exit %d:\n%s\n%s", code, stdout.String(), stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30 s of the cancellation")
	}
}

func TestServeUsage(t *testing.T) {
	f := releasetest.Build(t)
	for _, args := range [][]string{
		{"--trusted-proxy", "not-a-network"},
		{"--rate-limit", "-1"},
		{"--tls-cert", "x.pem"},
	} {
		_, stderr, code := run(t, append([]string{"serve", "--data", f.DataDir, "--addr", "127.0.0.1:0"}, args...)...)
		if code != exitUsage {
			t.Errorf("serve %v: exit %d, want %d: %s", args, code, exitUsage, stderr)
		}
	}
}
