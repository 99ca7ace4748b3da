package web

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"time"
)

// The hardening of the server (docs/adr/0014-hardening.md): security
// headers on every response, limits on what a request may send, timeouts
// of the connections that do not cut long downloads, and a graceful
// shutdown. The rate limit of the API is in ratelimit.go, request ids,
// access logs and metrics in observe.go.

// Content-Security-Policy of the responses.
//
// The portal's pages load scripts, styles, fonts and images from their own
// origin only: no inline script (the <script type="application/json"> data
// blocks of the charts are not executed, so the policy does not apply to
// them), no inline style (the fonts are declared in the static fonts.css,
// oml.js colours the chart tooltips through the CSSOM, which CSP allows).
// img-src admits data: URIs for the icons Bootstrap Italia draws in its
// CSS. The same policy is sent with every response that has no policy of
// its own (API, static files): a JSON or CSV body opened in a browser
// runs nothing either way.
const cspPortal = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// cspReport is the policy of the territorial reports served as HTML under
// /rapporti/: self-contained documents (internal/report) whose styles are
// an inline <style> and a few style attributes, and which run no script at
// all. 'unsafe-inline' styles cannot fetch anything, since nothing else
// may be loaded (default-src 'none'; images only as data: URIs).
const cspReport = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; object-src 'none'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// cspDocument is the policy of the PDF reports: Chrome's PDF viewer draws
// the document in a page of its own making, with inline styles and an
// <embed>, which any fetch directive of the response would block
// (crbug.com/271452). Framing stays forbidden.
const cspDocument = "frame-ancestors 'none'"

// permissionsPolicy turns off the powerful features the portal never uses,
// also for anything that might be injected into it.
const permissionsPolicy = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"

// hstsValue asks browsers to use HTTPS only for a year.
const hstsValue = "max-age=31536000"

// securityHeaders are set on every response; the slices are shared by all
// responses (a handler may Set or Del a header, which replaces the slice,
// but never changes them in place).
var securityHeaders = http.Header{
	"Content-Security-Policy": {cspPortal},
	"X-Content-Type-Options":  {"nosniff"},
	"X-Frame-Options":         {"DENY"},
	"Referrer-Policy":         {"strict-origin-when-cross-origin"},
	"Permissions-Policy":      {permissionsPolicy},
}

var hstsHeader = []string{hstsValue}

// secure sets the security headers before next runs, so that every
// response has them, errors included; a route may replace the
// Content-Security-Policy with its own (the reports). Strict-Transport-
// Security goes with every response over TLS, and with every response when
// Config.HSTS says that TLS ends at a proxy in front of the server.
func (s *Server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range securityHeaders {
			h[k] = v
		}
		if s.hsts || r.TLS != nil {
			h["Strict-Transport-Security"] = hstsHeader
		}
		next.ServeHTTP(w, r)
	})
}

// Limits on what a client may send.
const (
	// MaxRequestBody is the most bytes the body of a request may have,
	// except the contributions a node posts to /federation/v1, which
	// have their own limit (federation.MaxContribution, checked by
	// fedAuth). A handler reading beyond it gets an error.
	MaxRequestBody = 1 << 20
	// MaxHeaderBytes is the most bytes of a request's header (the
	// standard library's default is 1 MiB).
	MaxHeaderBytes = 64 << 10
)

// limitBody caps the body of every request at MaxRequestBody, except
// under /federation/, whose handlers apply their own, larger limit.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody && !strings.HasPrefix(r.URL.Path, "/federation/") {
			r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBody)
		}
		next.ServeHTTP(w, r)
	})
}

// Timeouts are the time limits of the connections of HTTPServer. A zero
// field takes its default.
//
// Write is not a limit on the whole response: the server pushes the write
// deadline Write ahead as the body goes out (at most once a second, and
// before each 256 KiB of a large body), so a download of any size that
// keeps moving is never cut, while a client that stops reading is cut
// after Write. The routes that may take long before their first byte (the
// reports, made on first request; the federation's files and extracts,
// cut on first request) get LongRoute to start with.
type Timeouts struct {
	ReadHeader time.Duration // reading a request's header: 10 s
	Read       time.Duration // reading a whole request, body included: 1 min
	Write      time.Duration // writing each part of a response: 1 min
	Idle       time.Duration // a keep-alive connection waiting for its next request: 2 min
	LongRoute  time.Duration // a long route making its response: 10 min
	// Shutdown is how long the requests running when the server is told
	// to stop may take to finish: 25 s (within the 30 s a container
	// orchestrator usually grants). Those still running then are cut.
	Shutdown time.Duration
}

// withDefaults returns t with its zero fields set to their defaults.
func (t Timeouts) withDefaults() Timeouts {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.ReadHeader, 10*time.Second)
	def(&t.Read, time.Minute)
	def(&t.Write, time.Minute)
	def(&t.Idle, 2*time.Minute)
	def(&t.LongRoute, 10*time.Minute)
	def(&t.Shutdown, 25*time.Second)
	return t
}

// writeChunk is the most bytes written under one extension of the write
// deadline.
const writeChunk = 256 << 10

// long marks a route whose response may take minutes to make (a report
// printed by Chromium, an extract cut by DuckDB) or to send (a release's
// files to a node): its write deadline starts at Timeouts.LongRoute (then
// moves with the body, as for every route), and a GET no longer has a
// read deadline, which would otherwise expire while the handler works and
// cancel its context (net/http reads the connection in the background to
// notice a client that goes away). A request with a body keeps a read
// deadline, LongRoute from now.
func (s *Server) long(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		now := time.Now()
		rc.SetWriteDeadline(now.Add(s.timeouts.LongRoute))
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			rc.SetReadDeadline(time.Time{})
		} else {
			rc.SetReadDeadline(now.Add(s.timeouts.LongRoute))
		}
		if sw, ok := w.(*statusWriter); ok {
			sw.extended = now
		}
		next.ServeHTTP(w, r)
	})
}

// HTTPServer returns the http.Server of s: its Handler, the Timeouts of
// Config, MaxHeaderBytes, and an error log that goes to the Logger with
// client addresses masked.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: s.timeouts.ReadHeader,
		ReadTimeout:       s.timeouts.Read,
		WriteTimeout:      s.timeouts.Write,
		IdleTimeout:       s.timeouts.Idle,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          log.New(serverLog{s.log}, "", 0),
	}
}

// metricsServer is the http.Server of MetricsHandler, for its own
// listener.
func (s *Server) metricsServer() *http.Server {
	return &http.Server{
		Handler:           s.MetricsHandler(),
		ReadHeaderTimeout: s.timeouts.ReadHeader,
		ReadTimeout:       s.timeouts.Read,
		WriteTimeout:      s.timeouts.Write,
		IdleTimeout:       s.timeouts.Idle,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          log.New(serverLog{s.log}, "", 0),
	}
}

// ServeOptions are the options of Serve.
type ServeOptions struct {
	// CertFile and KeyFile, when set, make the server answer HTTPS.
	CertFile, KeyFile string
	// Metrics, when not nil, is a listener of its own for
	// MetricsHandler: /metrics, /healthz and /readyz. Config.
	// SeparateMetrics should then be set, so that the main listener does
	// not serve /metrics as well.
	Metrics net.Listener
}

// Serve serves s on ln (and the metrics on opt.Metrics) until ctx is done
// or a listener fails. When ctx is done it shuts down gracefully: the
// listeners close at once (new connections are refused), idle connections
// close, the requests running get up to Timeouts.Shutdown to finish (their
// connections then close rather than wait for another request); any still
// running after that are cut. Each step is logged. It returns nil after a
// shutdown, the listener's error otherwise.
func (s *Server) Serve(ctx context.Context, ln net.Listener, opt ServeOptions) error {
	hs := s.HTTPServer()
	var ms *http.Server
	if opt.Metrics != nil {
		ms = s.metricsServer()
	}
	return s.run(ctx, hs, ln, ms, opt)
}

// run is Serve with the servers given, so that a test can put a handler
// of its own in hs.
func (s *Server) run(ctx context.Context, hs *http.Server, ln net.Listener, ms *http.Server, opt ServeOptions) error {
	errc := make(chan error, 2)
	go func() {
		if opt.CertFile != "" {
			errc <- hs.ServeTLS(ln, opt.CertFile, opt.KeyFile)
			return
		}
		errc <- hs.Serve(ln)
	}()
	if ms != nil {
		go func() { errc <- ms.Serve(opt.Metrics) }()
	}
	select {
	case err := <-errc:
		hs.Close()
		if ms != nil {
			ms.Close()
		}
		return err
	case <-ctx.Done():
	}
	start := time.Now()
	s.log.Info("server stopping: listeners closed, waiting for the requests running",
		slog.Int64("in_flight", s.metrics.inFlight.Load()), slog.Duration("grace", s.timeouts.Shutdown))
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeouts.Shutdown)
	defer cancel()
	errs := []error{hs.Shutdown(sctx)}
	if ms != nil {
		errs = append(errs, ms.Shutdown(sctx))
	}
	if err := errors.Join(errs...); err != nil {
		cut := s.metrics.inFlight.Load()
		hs.Close()
		if ms != nil {
			ms.Close()
		}
		if errors.Is(err, context.DeadlineExceeded) {
			s.log.Error("server stopped: requests still running after the grace period were cut",
				slog.Int64("cut", cut), slog.Duration("grace", s.timeouts.Shutdown))
			return nil
		}
		return fmt.Errorf("shutdown: %w", err)
	}
	s.log.Info("server stopped: every request finished", slog.Duration("dur", time.Since(start)))
	return nil
}

// serverLog is the error log of the http.Servers: lines go to the Logger
// with every IP address masked to its network (the standard library names
// the peer of a failed TLS handshake), TLS handshake errors (scanners,
// clients that give up) at debug level, the rest as warnings.
type serverLog struct{ log *slog.Logger }

func (l serverLog) Write(p []byte) (int, error) {
	msg := maskAddrs(strings.TrimSpace(string(p)))
	level := slog.LevelWarn
	if strings.Contains(msg, "TLS handshake error") {
		level = slog.LevelDebug
	}
	l.log.Log(context.Background(), level, "http server", slog.String("err", msg))
	return len(p), nil
}

// addrPattern matches IPv4 addresses and bracketed IPv6 addresses in text.
var addrPattern = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b|\[[0-9A-Fa-f:.]+(?:%[^\]]*)?\]`)

// maskAddrs replaces every IP address in msg by its network (maskAddr).
func maskAddrs(msg string) string {
	return addrPattern.ReplaceAllStringFunc(msg, func(m string) string {
		a, err := netip.ParseAddr(strings.Trim(m, "[]"))
		if err != nil {
			return m
		}
		return maskAddr(a)
	})
}

// maskAddr returns the network of a client address as logs show it: the
// /24 of an IPv4 address, the /48 of an IPv6 one (a site; its /64 would
// still be one household), "-" for none. It names no person: only where
// traffic comes from.
func maskAddr(a netip.Addr) string {
	if !a.IsValid() {
		return "-"
	}
	a = a.Unmap()
	bits := 24
	if a.Is6() {
		bits = 48
	}
	p, _ := a.Prefix(bits)
	return p.String()
}
