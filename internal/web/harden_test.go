package web

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/regione-lombardia/oml/internal/release/releasetest"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// logTo returns an option that sends the server's log, as JSON lines from
// the debug level up, to buf.
func logTo(buf *syncBuffer) func(*Config) {
	return func(c *Config) {
		c.Logger = slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}

// TestSecurityHeaders checks the headers of every kind of response: pages,
// errors, API, static files, probes, reports.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	_, s, ts := sharedTS(t)
	tests := []struct {
		path   string
		status int
		csp    string
	}{
		{"/", 200, cspPortal},
		{"/territorio/016", 200, cspPortal},
		{"/dati?indicator=saldo&territory=016", 200, cspPortal},
		{"/non/esiste", 404, cspPortal},
		{"/api/v1/data?indicator=saldo", 200, cspPortal},
		{"/api/v1/data?indicator=nessuno", 404, cspPortal},
		{"/api/v1/nessuno", 404, cspPortal},
		{"/api/v1/openapi.json", 200, cspPortal},
		{s.portal.assets.URL("oml.js"), 200, cspPortal},
		{s.portal.assets.URL(fontsCSS), 200, cspPortal},
		{"/healthz", 200, cspPortal},
		{"/rapporti/016.html", 200, cspReport},
		{"/rapporti/016.xlsx", 200, cspPortal},
		{"/rapporti/016.docx", 404, cspPortal},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := get(t, ts, tt.path)
			if r.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", r.StatusCode, tt.status)
			}
			for k, want := range map[string]string{
				"Content-Security-Policy":   tt.csp,
				"X-Content-Type-Options":    "nosniff",
				"X-Frame-Options":           "DENY",
				"Referrer-Policy":           "strict-origin-when-cross-origin",
				"Permissions-Policy":        permissionsPolicy,
				"Strict-Transport-Security": "", // plain HTTP
			} {
				if got := r.Header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
				if len(r.Header.Values(k)) > 1 {
					t.Errorf("%s sent %d times", k, len(r.Header.Values(k)))
				}
			}
			if id := r.Header.Get("X-Request-Id"); !validRequestID(id) || len(id) != 16 {
				t.Errorf("X-Request-Id %q", id)
			}
		})
	}
}

// TestCSPPolicies checks the policies themselves: no inline or evaluated
// script anywhere, no inline style for the portal, and the directives
// that do not fall back to default-src.
func TestCSPPolicies(t *testing.T) {
	directives := func(p string) map[string]string {
		out := map[string]string{}
		for _, d := range strings.Split(p, ";") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
			out[name] = value
		}
		return out
	}
	for _, p := range []string{cspPortal, cspReport, cspDocument} {
		if strings.Contains(p, "unsafe-eval") || strings.Contains(directives(p)["script-src"], "unsafe-inline") {
			t.Errorf("policy %q lets scripts be evaluated or inlined", p)
		}
		if directives(p)["frame-ancestors"] != "'none'" {
			t.Errorf("policy %q allows framing", p)
		}
	}
	portal := directives(cspPortal)
	for name, want := range map[string]string{
		"default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "object-src": "'none'",
		"base-uri": "'self'", "form-action": "'self'", "frame-ancestors": "'none'",
	} {
		if portal[name] != want {
			t.Errorf("portal %s = %q, want %q", name, portal[name], want)
		}
	}
	if strings.Contains(cspPortal, "unsafe") {
		t.Errorf("portal policy has an unsafe source: %s", cspPortal)
	}
	report := directives(cspReport)
	if report["default-src"] != "'none'" || report["script-src"] != "" || report["object-src"] != "'none'" || report["base-uri"] != "'none'" {
		t.Errorf("report policy %q: scripts, plugins or a base URI are allowed", cspReport)
	}
}

// Markup the portal's policy refuses: a <script> that is neither a file
// nor a JSON data block, a <style> element, a style attribute, an inline
// event handler, a javascript: URL.
var (
	scriptTag   = regexp.MustCompile(`(?i)<script\b[^>]*>`)
	inlineStyle = regexp.MustCompile(`(?i)<style\b|<[a-z][^>]*\sstyle\s*=`)
	inlineEvent = regexp.MustCompile(`(?i)<[a-z][^>]*\son[a-z]+\s*=`)
	jsURL       = regexp.MustCompile(`(?i)(href|src|action)\s*=\s*"\s*javascript:`)
)

// TestPagesHaveNoInlineCode checks the rendered pages against the policy,
// the static half of what the browser tests check in Chromium.
func TestPagesHaveNoInlineCode(t *testing.T) {
	t.Parallel()
	_, _, ts := sharedTS(t)
	for _, path := range []string{"/", "/territorio/016", "/territorio/016024", "/confronta?territory=016,017", "/dati",
		"/dati?indicator=saldo&territory=016&by=genere&freq=Y", "/metodologia", "/rilasci", "/rapporti", "/contributi", "/non/esiste"} {
		body := string(get(t, ts, path).body)
		for _, tag := range scriptTag.FindAllString(body, -1) {
			if !strings.Contains(tag, " src=") && !strings.Contains(tag, `type="application/json"`) {
				t.Errorf("%s: inline script %s", path, tag)
			}
		}
		for _, re := range []*regexp.Regexp{inlineStyle, inlineEvent, jsURL} {
			if m := re.FindString(body); m != "" {
				t.Errorf("%s: %.120s", path, m)
			}
		}
	}
}

// TestHSTS: Strict-Transport-Security over TLS, and with Config.HSTS over
// plain HTTP (TLS ended by a proxy), never otherwise.
func TestHSTS(t *testing.T) {
	t.Parallel()
	f := releasetest.Build(t)
	plain := newServer(t, f.DataDir)
	behindProxy := newServer(t, f.DataDir, func(c *Config) { c.HSTS = true })

	tlsTS := httptest.NewTLSServer(plain.Handler())
	t.Cleanup(tlsTS.Close)
	tests := []struct {
		name string
		ts   *httptest.Server
		want string
	}{
		{"plain", startServer(t, plain), ""},
		{"tls", tlsTS, hstsValue},
		{"behind a TLS proxy", startServer(t, behindProxy), hstsValue},
	}
	for _, tt := range tests {
		r := get(t, tt.ts, "/healthz")
		if got := r.Header.Get("Strict-Transport-Security"); got != tt.want {
			t.Errorf("%s: Strict-Transport-Security %q, want %q", tt.name, got, tt.want)
		}
		if tt.ts == tlsTS && r.TLS == nil {
			t.Errorf("%s: not over TLS", tt.name)
		}
	}
}

// TestBodyLimit: a body beyond MaxRequestBody cannot be read, except by
// the federation, whose contributions have their own, larger limit.
func TestBodyLimit(t *testing.T) {
	t.Parallel()
	_, s, _ := sharedTS(t)
	h := s.limitBody(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.Copy(io.Discard, r.Body)
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		case err != nil:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	tests := []struct {
		path string
		size int
		want int
	}{
		{"/api/v1/data", MaxRequestBody, 200},
		{"/api/v1/data", MaxRequestBody + 1, 413},
		{"/dati", 2 * MaxRequestBody, 413},
		{"/federation/v1/contributions", 8 << 20, 200},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", tt.path, bytes.NewReader(make([]byte, tt.size))))
		if w.Code != tt.want {
			t.Errorf("POST %s with %d bytes: %d, want %d", tt.path, tt.size, w.Code, tt.want)
		}
	}
}

// TestHTTPServer checks the limits and timeouts of the server `oml serve`
// runs, and that a header beyond MaxHeaderBytes is refused.
func TestHTTPServer(t *testing.T) {
	t.Parallel()
	f := releasetest.Build(t)
	hs := newServer(t, f.DataDir).HTTPServer()
	if hs.ReadHeaderTimeout != 10*time.Second || hs.ReadTimeout != time.Minute || hs.WriteTimeout != time.Minute ||
		hs.IdleTimeout != 2*time.Minute || hs.MaxHeaderBytes != MaxHeaderBytes || hs.ErrorLog == nil {
		t.Errorf("defaults: %+v", hs)
	}
	custom := newServer(t, f.DataDir, func(c *Config) { c.Timeouts = Timeouts{Read: 5 * time.Second, Write: 7 * time.Second} })
	hs2 := custom.HTTPServer()
	if hs2.ReadTimeout != 5*time.Second || hs2.WriteTimeout != 7*time.Second || hs2.ReadHeaderTimeout != 10*time.Second {
		t.Errorf("custom: read %s write %s header %s", hs2.ReadTimeout, hs2.WriteTimeout, hs2.ReadHeaderTimeout)
	}

	ts := httptest.NewUnstartedServer(nil)
	ts.Config = hs
	ts.Start()
	t.Cleanup(ts.Close)
	if r := get(t, ts, "/healthz", "X-Big: "+strings.Repeat("x", 2*MaxHeaderBytes)); r.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("header of %d bytes: %d, want 431", 2*MaxHeaderBytes, r.StatusCode)
	}
	if r := get(t, ts, "/healthz"); r.StatusCode != 200 || string(r.body) != "ok\n" {
		t.Errorf("healthz: %d %q", r.StatusCode, r.body)
	}
}

// fakeConnWriter is a ResponseWriter that records the deadlines
// http.ResponseController sets on it.
type fakeConnWriter struct {
	httptest.ResponseRecorder
	writeDeadlines []time.Time
	readDeadlines  []time.Time
	writes         []int
}

func (f *fakeConnWriter) SetWriteDeadline(t time.Time) error {
	f.writeDeadlines = append(f.writeDeadlines, t)
	return nil
}

func (f *fakeConnWriter) SetReadDeadline(t time.Time) error {
	f.readDeadlines = append(f.readDeadlines, t)
	return nil
}

func (f *fakeConnWriter) Write(b []byte) (int, error) {
	f.writes = append(f.writes, len(b))
	return f.ResponseRecorder.Write(b)
}

// TestWriteDeadlineMoves checks how statusWriter moves the write deadline:
// not for a quick small response, before each part of a large body after
// the first, and for a write more than a second after the last move.
func TestWriteDeadlineMoves(t *testing.T) {
	const timeout = time.Minute
	tests := []struct {
		name      string
		write     func(w *statusWriter)
		wantMoves int
		wantBytes int
	}{
		{"small and quick", func(w *statusWriter) { w.Write(make([]byte, 1000)) }, 0, 1000},
		{"large", func(w *statusWriter) { w.Write(make([]byte, 3*writeChunk+1)) }, 3, 3*writeChunk + 1},
		{"small, after a second", func(w *statusWriter) {
			w.extended = time.Now().Add(-2 * time.Second)
			w.Write([]byte("x"))
			w.Write([]byte("y")) // within the second
		}, 1, 2},
		{"read from a file section", func(w *statusWriter) {
			// As http.ServeContent sends: io.CopyN of the file.
			n, err := io.CopyN(w, bytes.NewReader(make([]byte, 5*writeChunk)), 2*writeChunk+10)
			if n != 2*writeChunk+10 || err != nil {
				t.Errorf("CopyN: %d %v", n, err)
			}
		}, 2, 2*writeChunk + 10},
		{"read from a stream", func(w *statusWriter) {
			src := struct{ io.Reader }{io.MultiReader(bytes.NewReader(make([]byte, writeChunk)), strings.NewReader("tail"))}
			if n, err := io.Copy(w, src); n != writeChunk+4 || err != nil {
				t.Errorf("Copy: %d %v", n, err)
			}
		}, 1, writeChunk + 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeConnWriter{ResponseRecorder: *httptest.NewRecorder()}
			w := &statusWriter{ResponseWriter: f, writeTimeout: timeout, extended: time.Now()}
			tt.write(w)
			if len(f.writeDeadlines) != tt.wantMoves {
				t.Errorf("deadline moved %d times, want %d", len(f.writeDeadlines), tt.wantMoves)
			}
			for _, d := range f.writeDeadlines {
				if ahead := time.Until(d); ahead < timeout-time.Second || ahead > timeout {
					t.Errorf("deadline %s ahead, want %s", ahead, timeout)
				}
			}
			if w.bytes != tt.wantBytes || f.Body.Len() != tt.wantBytes || w.status != 200 {
				t.Errorf("wrote %d bytes (recorded %d), status %d; want %d", w.bytes, f.Body.Len(), w.status, tt.wantBytes)
			}
			for _, n := range f.writes {
				if n > writeChunk {
					t.Errorf("a write of %d bytes, more than one part", n)
				}
			}
		})
	}
}

// TestLongRoute: a long route starts with the long write deadline and,
// for a GET, no read deadline (which would cancel its context while it
// works); a request with a body keeps one.
func TestLongRoute(t *testing.T) {
	_, s, _ := sharedTS(t)
	h := s.long(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, method := range []string{"GET", "POST"} {
		f := &fakeConnWriter{ResponseRecorder: *httptest.NewRecorder()}
		h.ServeHTTP(f, httptest.NewRequest(method, "/federation/v1/hello", nil))
		if len(f.writeDeadlines) != 1 || time.Until(f.writeDeadlines[0]) < s.timeouts.LongRoute-time.Minute {
			t.Errorf("%s: write deadlines %v, want one %s ahead", method, f.writeDeadlines, s.timeouts.LongRoute)
		}
		if len(f.readDeadlines) != 1 || f.readDeadlines[0].IsZero() != (method == "GET") {
			t.Errorf("%s: read deadlines %v", method, f.readDeadlines)
		}
	}
}

// slowListener gives the connections it accepts a small send buffer, so
// that a large response waits on a slow reader instead of vanishing into
// the kernel's buffers.
type slowListener struct{ net.Listener }

func (l slowListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(8 << 10)
	}
	return c, err
}

// slowGet reads url with a small receive buffer at about 512 KiB/s and
// returns the body it got and the error that ended it, if any.
func slowGet(t *testing.T, url string) ([]byte, error) {
	dialer := &net.Dialer{Control: func(network, address string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 8<<10) })
	}}
	client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext, DisableCompression: true}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body []byte
	buf := make([]byte, 16<<10)
	for {
		n, err := io.ReadFull(resp.Body, buf)
		body = append(body, buf[:n]...)
		if err == io.EOF || err == io.ErrUnexpectedEOF && int64(len(body)) == resp.ContentLength {
			return body, nil
		}
		if err != nil {
			return body, err
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// TestSlowDownload: a large response to a client that reads steadily but
// slowly takes longer than the write timeout and still arrives whole,
// since the deadline moves with the body; the same response from a plain
// http.Server with the same WriteTimeout is cut (the control that shows
// the test exercises the deadline).
func TestSlowDownload(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("takes about 10 s")
	}
	f := releasetest.Build(t)
	const timeout = 2 * time.Second
	s := newServer(t, f.DataDir, func(c *Config) { c.Timeouts = Timeouts{Write: timeout} })
	// About 2.5 MB of CSV, written by one Write: every comune, quarterly
	// since 2021.
	const path = "/api/v1/data?indicator=attivazioni&by=comune&freq=Q&from=2021-Q1&format=csv"

	serve := func(hs *http.Server) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go hs.Serve(slowListener{ln})
		t.Cleanup(func() { hs.Close() })
		return "http://" + ln.Addr().String()
	}
	want := get(t, startServer(t, s), path)
	if want.StatusCode != 200 || len(want.body) < 8*writeChunk {
		t.Fatalf("%s: %d, %d bytes; want 200 and at least %d", path, want.StatusCode, len(want.body), 8*writeChunk)
	}

	start := time.Now()
	body, err := slowGet(t, serve(s.HTTPServer())+path)
	took := time.Since(start)
	if err != nil || !bytes.Equal(body, want.body) {
		t.Errorf("oml's server: %d of %d bytes in %s: %v", len(body), len(want.body), took, err)
	}
	if took < timeout+time.Second {
		t.Errorf("the download took %s, not longer than the write timeout %s: the test proves nothing", took, timeout)
	}

	plain := &http.Server{Handler: routed(s.mux().ServeMux), WriteTimeout: timeout}
	body, err = slowGet(t, serve(plain)+path)
	if err == nil && bytes.Equal(body, want.body) {
		t.Errorf("a plain server with WriteTimeout %s sent the whole body: the reader is not slow enough", timeout)
	}
}

// TestGracefulShutdown: when the context is cancelled, a request in
// progress completes with 200, new connections are refused, and both
// steps are logged; a request that outlives the grace period is cut.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	f := releasetest.Build(t)
	tests := []struct {
		name     string
		grace    time.Duration
		finishes bool
		wantLog  string
	}{
		{"request finishes", 10 * time.Second, true, "server stopped: every request finished"},
		{"request outlives the grace period", 300 * time.Millisecond, false, "requests still running after the grace period were cut"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			s := newServer(t, f.DataDir, logTo(&logs), func(c *Config) { c.Timeouts = Timeouts{Shutdown: tt.grace} })
			entered, proceed := make(chan struct{}), make(chan struct{})
			hs := s.HTTPServer()
			// The slow request is one of the API's, held in its
			// handler until the test lets it go.
			inner := routed(s.mux().ServeMux)
			hs.Handler = s.observe(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("slow") != "" {
					close(entered)
					<-proceed
					r.URL.RawQuery = ""
				}
				inner.ServeHTTP(w, r)
			}))
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- s.run(ctx, hs, ln, nil, ServeOptions{}) }()

			type result struct {
				status int
				body   string
				err    error
			}
			res := make(chan result, 1)
			go func() {
				resp, err := http.Get("http://" + addr + "/api/v1/releases/latest?slow=1")
				if err != nil {
					res <- result{err: err}
					return
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				res <- result{resp.StatusCode, string(b), err}
			}()
			<-entered
			cancel()

			// The listener closes at once: new connections are refused.
			refused := false
			for i := 0; i < 200 && !refused; i++ {
				if c, err := net.DialTimeout("tcp", addr, time.Second); err != nil {
					refused = true
				} else {
					c.Close()
					time.Sleep(10 * time.Millisecond)
				}
			}
			if !refused {
				t.Error("new connections still accepted after the shutdown began")
			}
			if tt.finishes {
				close(proceed)
			} else {
				defer close(proceed)
			}
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
			r := <-res
			if tt.finishes && (r.err != nil || r.status != 200 || !strings.Contains(r.body, f.Info.ID)) {
				t.Errorf("request in progress: %d %v %.200s", r.status, r.err, r.body)
			}
			if !tt.finishes && r.err == nil {
				t.Errorf("request that outlived the grace period: %d, want the connection cut", r.status)
			}
			if !strings.Contains(logs.String(), `"msg":"server stopping: listeners closed, waiting for the requests running","in_flight":1`) ||
				!strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log:\n%s", logs.String())
			}
		})
	}
}

func TestMaskAddrs(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http: TLS handshake error from 203.0.113.77:51234: EOF", "http: TLS handshake error from 203.0.113.0/24:51234: EOF"},
		{"http: TLS handshake error from [2001:db8:1:2::77]:443: EOF", "http: TLS handshake error from 2001:db8:1::/48:443: EOF"},
		{"version 1.25.0 of 12 files", "version 1.25.0 of 12 files"},
		{"no address here", "no address here"},
	}
	for _, tt := range tests {
		if got := maskAddrs(tt.in); got != tt.want {
			t.Errorf("maskAddrs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
