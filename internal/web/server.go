// Package web serves the observatory over HTTP: the data API /api/v1
// (JSON, CSV, XLSX, SDMX-CSV, JSON-stat) and the public portal
// "Competenze, Lavoro in Lombardia" (portal*.go, templates/, static/).
//
// The API reads the immutable releases of a data dir (internal/release).
// It serves the latest release unless a request names another with
// release=ID; a release published while the server runs is picked up
// within a few seconds, without a restart. Every route, with its
// parameters, is declared once in a table (api.go) from which the router,
// the parameter checks and the OpenAPI document at /api/v1/openapi.json
// are all derived. Errors are the JSON of oml.Error, with the status of
// StatusOf. The contract is INTERFACE.md section 4; docs/api.md is the
// user's reference, in Italian.
package web

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/method"
)

// DefaultRowLimit is the most observations one data request returns
// unless Config.RowLimit says otherwise.
const DefaultRowLimit = 50_000

// Config is what a Server needs. Only DataDir is required.
type Config struct {
	// DataDir is the data dir whose releases/ the server publishes.
	DataDir string
	// Lists are the code lists that name territories and codes; nil loads
	// the embedded ones.
	Lists *classif.Lists
	// Logger receives one line per request and the causes of 5xx errors;
	// nil discards them.
	Logger *slog.Logger
	// RowLimit is the most observations one data request may return
	// (DefaultRowLimit when 0). A request beyond it is refused before
	// anything is encoded.
	RowLimit int
	// OpenReleases is how many releases are kept loaded in memory, the
	// most recently used (4 when 0).
	OpenReleases int
	// Now is the clock (time.Now when nil); tests inject one.
	Now func() time.Time
	// Federation, when set, makes the server a hub: /federation/v1 serves
	// its nodes.
	Federation *Federation
	// Access, when set, gives the server accounts, API tokens, the audit
	// log and the release agenda (access.go); nil serves everyone as the
	// public.
	Access *Access
	// Territory is the territory of the observatory that runs the server:
	// a node's province; empty for the region. It names the observatory on
	// the pages of its local data.
	Territory string

	// RateLimit limits each client's requests to /api/v1; the zero value
	// does not limit (`oml serve` applies DefaultRate and DefaultBurst).
	RateLimit RateLimit
	// TrustedProxies are the networks of the reverse proxies in front of
	// the server, whose X-Forwarded-For (and X-Request-Id) the server
	// believes: the client of a request is then the address the proxies
	// name (ClientAddr). Empty: the peer of the connection is the client
	// and X-Forwarded-For is ignored.
	TrustedProxies []netip.Prefix
	// HSTS sends Strict-Transport-Security with every response, for a
	// server behind a proxy that ends TLS; a server serving TLS itself
	// sends it over TLS anyway.
	HSTS bool
	// SeparateMetrics leaves /metrics out of Handler, for a caller that
	// serves MetricsHandler on a listener of its own (`oml serve
	// --metrics-addr`). Otherwise Handler serves /metrics to local
	// clients only (docs/adr/0014-hardening.md).
	SeparateMetrics bool
	// Timeouts are the time limits of HTTPServer's connections and of
	// Serve's shutdown; zero fields take their defaults.
	Timeouts Timeouts
}

// Server is the HTTP front of a data dir. It is safe for concurrent use.
type Server struct {
	log      *slog.Logger
	lists    *classif.Lists
	names    *method.Names
	builtin  *method.Catalogue // the software's catalogue, when no release exists
	children children
	releases *releases
	rowLimit int
	ops      []*operation
	openapi  []byte
	portal   *portal

	fed *Federation

	// Access (access.go): nil without accounts.
	access  *Access
	embargo embargoes
	oidc    *oidcClient

	dataDir   string
	territory string

	// reportCache keeps the report files made for /rapporti/.
	reportCache reportCache

	// present memoises presentTerritories by release, level and indicator.
	presentMu sync.Mutex
	present   map[string][]string

	// onRead, when set by a test, receives after each request the
	// operation id and the parameters its handler read.
	onRead func(op string, params map[string]bool)

	// Hardening (harden.go, ratelimit.go, observe.go).
	limiter         *limiter // nil: no rate limit
	trusted         trustedProxies
	hsts            bool
	separateMetrics bool
	timeouts        Timeouts
	metrics         *metrics
	logParams       map[string]bool // query parameters whose values may be logged
	// wasReady is set once the latest release has been loaded: /readyz
	// then stays ready while a newer release is being opened.
	wasReady atomic.Bool
}

// New returns a server for cfg. It loads what every request needs (code
// lists, catalogue, the OpenAPI document) and fails fast if any of it is
// broken; releases are opened on first use.
func New(cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		return nil, fmt.Errorf("web: no data dir")
	}
	s := &Server{log: cfg.Logger, lists: cfg.Lists, rowLimit: cfg.RowLimit, present: map[string][]string{}, fed: cfg.Federation,
		dataDir: cfg.DataDir, territory: cfg.Territory}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.lists == nil {
		l, err := classif.Load()
		if err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
		s.lists = l
	}
	if s.rowLimit <= 0 {
		s.rowLimit = DefaultRowLimit
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	size := cfg.OpenReleases
	if size <= 0 {
		size = 4
	}
	s.names = method.NewNames(s.lists)
	s.children = newChildren(s.names, s.lists)
	cat, err := method.Load()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s.builtin = cat
	s.releases = &releases{dir: cfg.DataDir, now: now, size: size}
	s.ops = s.operations()
	if s.openapi, err = s.openAPIDocument(); err != nil {
		return nil, fmt.Errorf("web: openapi: %w", err)
	}
	if s.portal, err = newPortal(); err != nil {
		return nil, err
	}
	s.reportCache.printing = make(chan struct{}, pdfPrinters)
	if cfg.Access != nil {
		if cfg.Access.Store == nil {
			return nil, fmt.Errorf("web: access without a metadata store")
		}
		a := *cfg.Access
		if a.SessionTTL <= 0 {
			a.SessionTTL = DefaultSessionTTL
		}
		s.access = &a
		if cfg.RateLimit.Key == nil {
			cfg.RateLimit.Key = rateKey
		}
		if a.OIDC != nil {
			if s.oidc, err = newOIDCClient(*a.OIDC); err != nil {
				return nil, err
			}
		}
	}
	s.limiter = newLimiter(cfg.RateLimit, now)
	for _, p := range cfg.TrustedProxies {
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		s.trusted = append(s.trusted, p.Masked())
	}
	s.hsts = cfg.HSTS
	s.separateMetrics = cfg.SeparateMetrics
	s.timeouts = cfg.Timeouts.withDefaults()
	s.metrics = newMetrics(s)
	s.logParams = s.loggableParams()
	return s, nil
}

// Preload opens the latest release, so that the first request does not
// wait for its verification and loading. A data dir without releases is
// not an error: the server then answers 404 until one is published.
func (s *Server) Preload() error {
	in, err := s.releases.latest()
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err = s.releases.get(in.ID); err != nil {
		return err
	}
	s.wasReady.Store(true)
	return nil
}

// Handler returns the server's routes: every operation of the API, a JSON
// 404 or 405 for any other path under /api/, the portal's pages and
// static files, the probes /healthz and /readyz, /metrics for local
// clients (unless Config.SeparateMetrics), and an HTML 404 page for
// anything else. Every response gets the security headers and a request
// id; every request is counted in the metrics and logged; the API is rate
// limited (Config.RateLimit); request bodies are limited (MaxRequestBody).
func (s *Server) Handler() http.Handler {
	return s.observe(s.secure(s.limitBody(s.identify(routed(s.mux().ServeMux)))))
}

// router is a ServeMux that remembers its patterns, so that a test can
// check that its table of routes and roles covers every route.
type router struct {
	*http.ServeMux
	patterns []string
}

// Handle registers h for pattern.
func (rt *router) Handle(pattern string, h http.Handler) {
	rt.ServeMux.Handle(pattern, h)
	rt.patterns = append(rt.patterns, pattern)
}

// HandleFunc registers f for pattern.
func (rt *router) HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request)) {
	rt.Handle(pattern, http.HandlerFunc(f))
}

func (s *Server) mux() *router {
	mux := &router{ServeMux: http.NewServeMux()}
	for _, op := range s.ops {
		mux.Handle(op.pattern(), s.limitAPI(s.dispatch(op)))
	}
	mux.Handle("/api/", s.limitAPI(http.HandlerFunc(s.apiFallback)))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if !s.separateMetrics {
		mux.Handle("GET /metrics", s.localMetrics(s.metricsHandler()))
	}
	s.federationRoutes(mux)
	for path, h := range map[string]pageHandler{
		"GET /{$}":               s.pageHome,
		"GET /territorio/{code}": s.pageTerritory,
		"GET /confronta":         s.pageCompare,
		"GET /dati":              s.pageQuery,
		"GET /metodologia":       s.pageMethod,
		"GET /rilasci":           s.pageReleases,
		"GET /rilasci/{id}":      s.pageRevisions,
		"GET /rapporti":          s.pageReports,
	} {
		mux.Handle(path, s.portalPage(h, true))
	}
	// Contributions change between releases: rendered at every request.
	mux.Handle("GET /contributi", s.portalPage(s.pageContributions, false))
	mux.Handle("GET /contributi/{id}", s.portalPage(s.pageContribution, false))
	// Local data change whenever the observatory adds some: rendered at
	// every request too.
	mux.Handle("GET /locale", s.portalPage(s.pageLocal, false))
	mux.Handle("GET /locale/dati/{slug}", s.portalPage(s.pageLocalDataset, false))
	mux.Handle("GET /locale/geografie/{slug}", s.portalPage(s.pageLocalGeography, false))
	mux.HandleFunc("GET /rete", s.pageNetwork)
	mux.Handle("GET /rete/{territory}/{id}/{file...}", s.long(http.HandlerFunc(s.serveMemberFile)))
	mux.HandleFunc("GET /locale/dati/{slug}/dati.csv", s.serveLocalDataset)
	mux.Handle("GET /locale/geografie/{slug}/indicatori.csv", s.long(http.HandlerFunc(s.serveLocalGeography)))
	mux.Handle("GET /rapporti/{file}", s.long(http.HandlerFunc(s.serveReport)))
	mux.HandleFunc("GET /contributi/{id}/dati.csv", s.serveContributionData)
	s.accessRoutes(mux)
	mux.Handle("GET "+staticPrefix, s.portal.assets)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		info, _ := s.latestFor(r)
		s.pageError(w, r, &info, oml.Errorf(oml.ENOTFOUND, "la pagina %s non esiste / no such page", r.URL.Path).
			WithHint("le pagine del portale sono elencate nel menu in alto"))
	})
	return mux
}

// dispatch runs op for a request: parameter check, handler, response.
func (s *Server) dispatch(op *operation) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setAPIHeaders(w.Header())
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.writeError(w, r, fmt.Errorf("panic in %s: %v", op.ID, v))
			}
		}()
		req, err := newRequest(r, op)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		rp, err := op.handle(s, req)
		if s.onRead != nil {
			s.onRead(op.ID, req.read)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.serve(w, r, rp)
	})
}

// exposedHeaders are the response headers a script of another origin may
// read: the open data are meant to be used from any web page.
const exposedHeaders = "ETag, Content-Disposition, Retry-After, X-Request-Id, X-OML-Release, X-OML-Vintage, X-OML-Method-Version, X-OML-Perimeter, X-OML-Scope, X-OML-Embargo, X-OML-Rows"

var (
	corsOrigin  = []string{"*"}
	corsExposed = []string{exposedHeaders}
)

// setAPIHeaders sets the headers of every API response, errors included:
// any origin may read it (CORS).
func setAPIHeaders(h http.Header) {
	h["Access-Control-Allow-Origin"] = corsOrigin
	h["Access-Control-Expose-Headers"] = corsExposed
}

// apiFallback answers a path under /api/ that no operation serves: 405
// with Allow when the path exists for other methods, else 404.
func (s *Server) apiFallback(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, op := range s.ops {
		if pathMatch(op.Path, r.URL.Path) {
			allow = append(allow, op.Method)
			if op.Method == http.MethodGet {
				allow = append(allow, http.MethodHead)
			}
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		err := oml.Errorf(oml.EINVALID, "metodo %s non ammesso / method %s not allowed", r.Method, r.Method).
			WithHint("metodi ammessi / allowed methods: %s", strings.Join(allow, ", "))
		s.writeErrorStatus(w, r, http.StatusMethodNotAllowed, err)
		return
	}
	s.writeError(w, r, oml.Errorf(oml.ENOTFOUND, "percorso %q inesistente / no such path %q", r.URL.Path, r.URL.Path).
		WithHint("la descrizione dell'API è in %s/openapi.json / the API is described at %s/openapi.json", APIPrefix, APIPrefix))
}

// pathMatch reports whether path matches the ServeMux pattern path p,
// whose {name} segments match any one non-empty segment.
func pathMatch(p, path string) bool {
	ps, xs := strings.Split(p, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if strings.HasPrefix(ps[i], "{") {
			if xs[i] == "" {
				return false
			}
		} else if ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// statusWriter records the status and size of a response for the log and
// the metrics, and moves the connection's write deadline along as the
// body goes out (Timeouts): before a write, when the deadline was last
// moved more than a second ago, and before each writeChunk of a large
// body after the first.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
	// writeTimeout is how far ahead the write deadline is moved; 0
	// leaves it alone.
	writeTimeout time.Duration
	// extended is when the deadline was last moved (at first, when the
	// server set it: the request's arrival).
	extended time.Time
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.writeTimeout <= 0 {
		n, err := w.ResponseWriter.Write(b)
		w.bytes += n
		return n, err
	}
	written := 0
	for len(b) > 0 {
		part := b[:min(len(b), writeChunk)]
		w.extend(written > 0)
		n, err := w.ResponseWriter.Write(part)
		written += n
		w.bytes += n
		if err != nil {
			return written, err
		}
		b = b[n:]
	}
	return written, nil
}

// ReadFrom sends src in parts of writeChunk, moving the deadline before
// each; a file (or a section of one, as http.ServeContent sends) still
// goes out by sendfile.
func (w *statusWriter) ReadFrom(src io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	limit := int64(-1)
	if lr, ok := src.(*io.LimitedReader); ok {
		src, limit = lr.R, lr.N
		defer func() { lr.N = limit }()
	}
	var total int64
	for limit != 0 {
		part := int64(writeChunk)
		if limit > 0 {
			part = min(part, limit)
		}
		w.extend(total > 0)
		n, err := io.Copy(w.ResponseWriter, &io.LimitedReader{R: src, N: part})
		total += n
		w.bytes += int(n)
		if limit > 0 {
			limit -= n
		}
		if err != nil || n < part {
			return total, err
		}
	}
	return total, nil
}

// extend moves the write deadline writeTimeout ahead if it was moved more
// than a second ago, or always when force is set (the next part of a
// large body).
func (w *statusWriter) extend(force bool) {
	if w.writeTimeout <= 0 {
		return
	}
	now := time.Now()
	if !force && now.Sub(w.extended) < time.Second {
		return
	}
	w.extended = now
	http.NewResponseController(w.ResponseWriter).SetWriteDeadline(now.Add(w.writeTimeout))
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
