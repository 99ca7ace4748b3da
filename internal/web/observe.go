package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/regione-lombardia/oml"
)

// What the server tells about itself: a request id on every response and
// log line, an access log without personal data, Prometheus metrics, and
// the probes /healthz and /readyz.

// reqInfo is what the server learns of a request on its way in and out:
// its id, its client, and the route pattern that served it (set by the
// router, for the metrics).
type reqInfo struct {
	id     string
	client netip.Addr
	route  string
}

type infoKey struct{}

func infoOf(r *http.Request) *reqInfo {
	info, _ := r.Context().Value(infoKey{}).(*reqInfo)
	return info
}

// RequestID returns the id of the request r (the X-Request-Id of its
// response and the "id" of its log line), or "".
func RequestID(r *http.Request) string {
	if info := infoOf(r); info != nil {
		return info.id
	}
	return ""
}

// newRequestID returns a random id of 16 URL-safe characters.
func newRequestID() string {
	var b [12]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validRequestID reports whether an X-Request-Id a trusted proxy sent may
// be kept: 1 to 64 characters of [A-Za-z0-9._:-].
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// metrics are the Prometheus metrics of a Server, in a registry of its
// own (several servers may live in one process, in tests).
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	limited  prometheus.Counter
	inFlight atomic.Int64
}

func newMetrics(s *Server) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	labels := []string{"route", "code"}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "oml_http_requests_total",
		Help: "HTTP requests answered, by route pattern and status class (2xx, 3xx, 4xx, 5xx).",
	}, labels)
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "oml_http_request_duration_seconds",
		Help:    "Time from a request's arrival to the end of its response, by route pattern and status class.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
	}, labels)
	m.limited = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "oml_http_rate_limited_total",
		Help: "API requests refused with 429 by the per-client rate limit.",
	})
	m.reg.MustRegister(m.requests, m.duration, m.limited,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "oml_http_requests_in_flight",
			Help: "Requests being served.",
		}, func() float64 { return float64(m.inFlight.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "oml_rate_limit_clients",
			Help: "Clients with a rate-limit bucket (idle buckets are dropped).",
		}, func() float64 {
			if s.limiter == nil {
				return 0
			}
			return float64(s.limiter.size())
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "oml_ready",
			Help: "1 when the latest release is loaded and served (as /readyz), else 0.",
		}, func() float64 {
			if ok, _ := s.readiness(false); ok {
				return 1
			}
			return 0
		}),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// statusClass is the label of a status: "2xx" and so on.
func statusClass(status int) string {
	switch {
	case status < 200:
		return "1xx"
	case status < 300:
		return "2xx"
	case status < 400:
		return "3xx"
	case status < 500:
		return "4xx"
	}
	return "5xx"
}

// observe is the outermost layer of the handler: it gives the request an
// id (X-Request-Id on the response; a trusted proxy's own id is kept),
// resolves its client, counts it in flight, moves the write deadline
// along as the body goes out (Timeouts), and at the end records its route,
// status class and duration in the metrics and writes the access log.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &reqInfo{client: s.trusted.clientAddr(r)}
		if id := r.Header.Get("X-Request-Id"); id != "" && validRequestID(id) && s.trusted.contains(peerAddr(r)) {
			info.id = id
		} else {
			info.id = newRequestID()
		}
		w.Header()["X-Request-Id"] = []string{info.id}
		sw := &statusWriter{ResponseWriter: w, writeTimeout: s.timeouts.Write, extended: start}
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
		s.metrics.inFlight.Add(1)
		defer func() {
			s.metrics.inFlight.Add(-1)
			status := sw.status
			if status == 0 {
				status = http.StatusOK
				if v := recover(); v != nil {
					// A panic nothing caught: the connection is
					// dropped, count it as the server's failure.
					s.record(r, info, http.StatusInternalServerError, sw.bytes, start)
					panic(v)
				}
			}
			s.record(r, info, status, sw.bytes, start)
		}()
		next.ServeHTTP(sw, r)
	})
}

// record counts a finished request in the metrics and logs it.
func (s *Server) record(r *http.Request, info *reqInfo, status, bytes int, start time.Time) {
	dur := time.Since(start)
	route := info.route
	if route == "" {
		route = "unmatched"
	}
	class := statusClass(status)
	s.metrics.requests.WithLabelValues(route, class).Inc()
	s.metrics.duration.WithLabelValues(route, class).Observe(dur.Seconds())

	level := slog.LevelInfo
	switch {
	case quietRoutes[route]:
		level = slog.LevelDebug // a 503 of /readyz while a release loads is no error
	case status >= 500:
		level = slog.LevelError
	}
	ctx := context.WithoutCancel(r.Context())
	if !s.log.Enabled(ctx, level) {
		return
	}
	s.log.LogAttrs(ctx, level, "http",
		slog.String("id", info.id), slog.String("method", r.Method), slog.String("route", route),
		slog.String("uri", s.logURI(r)), slog.Int("status", status), slog.Int("bytes", bytes),
		slog.Duration("dur", dur), slog.String("client", maskAddr(info.client)))
}

// quietRoutes are logged at debug level only, whatever their status:
// probes and scrapes come every few seconds.
var quietRoutes = map[string]bool{"GET /healthz": true, "GET /readyz": true, "GET /metrics": true}

// maxLoggedURI is the most characters of a URI a log line holds.
const maxLoggedURI = 512

// logURI returns the path and query of r for the logs: the values of the
// parameters the server knows (codes of indicators, territories and
// periods, formats) as they are; the value of any other parameter, which
// might be a token or something personal, replaced by "REDACTED"; at most
// maxLoggedURI characters.
func (s *Server) logURI(r *http.Request) string {
	var b strings.Builder
	b.WriteString(r.URL.EscapedPath())
	if r.URL.RawQuery != "" {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil && len(q) == 0 {
			b.WriteString("?REDACTED")
		}
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		sep := byte('?')
		for _, k := range keys {
			for _, v := range q[k] {
				b.WriteByte(sep)
				sep = '&'
				b.WriteString(url.QueryEscape(k))
				b.WriteByte('=')
				if s.logParams[k] {
					b.WriteString(url.QueryEscape(v))
				} else {
					b.WriteString("REDACTED")
				}
			}
		}
	}
	out := b.String()
	if len(out) > maxLoggedURI {
		out = out[:maxLoggedURI] + "…"
	}
	return out
}

// portalParams are the query parameters of the portal's pages, whose
// values are codes and may be logged.
var portalParams = []string{"indicator", "measure", "territory", "freq", "from", "to", "by", "perimeter", "scope", "transform", "release"}

// loggableParams returns the names of the parameters whose values the
// access log keeps: every query parameter of the API (from the table of
// operations) and of the portal.
func (s *Server) loggableParams() map[string]bool {
	out := map[string]bool{}
	for _, op := range s.ops {
		for _, name := range op.queryNames() {
			out[name] = true
		}
	}
	for _, name := range portalParams {
		out[name] = true
	}
	return out
}

// routed is the innermost layer: the router, which records in the
// request's info the pattern that served it.
func routed(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		if info := infoOf(r); info != nil {
			info.route = r.Pattern
		}
	})
}

// healthz is the liveness probe: 200 "ok" while the process serves.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeText(w, r, http.StatusOK, "ok\n")
}

// readyz is the readiness probe: 200 once the latest release is loaded,
// 503 before (while `oml serve` opens it at start) and whenever it cannot
// be opened. When a new release is published the server keeps serving
// the previous one while this probe has the new one opened in the
// background, and stays ready meanwhile: no replica leaves the load
// balancer because a release was published.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ok, msg := s.readiness(true)
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
	}
	writeText(w, r, status, msg+"\n")
}

// readiness tells whether the server is ready and why; warm opens the
// latest release in the background if nothing has opened it yet.
func (s *Server) readiness(warm bool) (bool, string) {
	in, err := s.releases.latest()
	if err != nil {
		return false, "non pronto / not ready: " + oml.ErrorMessage(err)
	}
	switch s.releases.state(in.ID) {
	case releaseOpen:
		s.wasReady.Store(true)
		return true, "ok " + in.ID
	case releaseFailed:
		return false, "non pronto / not ready: la release " + in.ID + " non si apre / release " + in.ID + " fails to open"
	case releaseAbsent:
		if warm {
			go s.releases.get(in.ID)
		}
	}
	if s.wasReady.Load() {
		return true, "ok, release " + in.ID + " in apertura / being opened"
	}
	return false, "non pronto / not ready: release " + in.ID + " in apertura / being opened"
}

// writeText writes a short plain-text answer that no cache keeps.
func writeText(w http.ResponseWriter, r *http.Request, status int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		io.WriteString(w, body)
	}
}

// metricsHandler serves the registry of s in the Prometheus text format.
func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelError),
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
	})
}

// localMetrics serves the metrics on the main listener to local clients
// only: a peer on the loopback interface that no proxy stands for (no
// forwarding header at all, trusted or not: a proxy on the same machine
// connects from the loopback too). Anyone else gets 403.
func (s *Server) localMetrics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header
		if !peerAddr(r).IsLoopback() || h.Get("X-Forwarded-For") != "" || h.Get("Forwarded") != "" || h.Get("X-Real-Ip") != "" {
			s.writeError(w, r, oml.Errorf(oml.EFORBIDDEN, "le metriche sono riservate ai client locali / metrics are for local clients only").
				WithHint("leggerle dalla macchina del server, oppure avviare oml serve con --metrics-addr / read them from the server's machine, or use --metrics-addr"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// MetricsHandler returns the handler of a listener of its own for the
// operators: /metrics (Prometheus), /healthz and /readyz, with request ids
// and security headers like the main handler. See Config.SeparateMetrics.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metricsHandler())
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	return s.observe(s.secure(s.limitBody(routed(mux))))
}
