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
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
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
	// Territory is the territory of the observatory that runs the server:
	// a node's province; empty for the region. It names the observatory on
	// the pages of its local data.
	Territory string
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
	_, err = s.releases.get(in.ID)
	return err
}

// Handler returns the server's routes: every operation of the API, a JSON
// 404 or 405 for any other path under /api/, the portal's pages and
// static files, and an HTML 404 page for anything else. Each request is
// logged.
func (s *Server) Handler() http.Handler { return s.logRequests(s.mux()) }

func (s *Server) mux() *http.ServeMux {
	mux := http.NewServeMux()
	for _, op := range s.ops {
		mux.Handle(op.pattern(), s.dispatch(op))
	}
	mux.HandleFunc("/api/", s.apiFallback)
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
	mux.HandleFunc("GET /rete/{territory}/{id}/{file...}", s.serveMemberFile)
	mux.HandleFunc("GET /locale/dati/{slug}/dati.csv", s.serveLocalDataset)
	mux.HandleFunc("GET /locale/geografie/{slug}/indicatori.csv", s.serveLocalGeography)
	mux.HandleFunc("GET /rapporti/{file}", s.serveReport)
	mux.HandleFunc("GET /contributi/{id}/dati.csv", s.serveContributionData)
	mux.Handle("GET "+staticPrefix, s.portal.assets)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		info, _ := s.releases.latest()
		s.pageError(w, r, &info, oml.Errorf(oml.ENOTFOUND, "la pagina %s non esiste / no such page", r.URL.Path).
			WithHint("le pagine del portale sono elencate nel menu in alto"))
	})
	return mux
}

// dispatch runs op for a request: parameter check, handler, response.
func (s *Server) dispatch(op *operation) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", exposedHeaders)
		h.Set("X-Content-Type-Options", "nosniff")
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
const exposedHeaders = "ETag, Content-Disposition, X-OML-Release, X-OML-Vintage, X-OML-Method-Version, X-OML-Perimeter, X-OML-Scope"

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

// statusWriter records the status and size of a response for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
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
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs one line per request: method, path and query, status,
// bytes written and duration.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		s.log.LogAttrs(context.WithoutCancel(r.Context()), level, "http",
			slog.String("method", r.Method), slog.String("uri", r.URL.RequestURI()),
			slog.Int("status", sw.status), slog.Int("bytes", sw.bytes),
			slog.Duration("dur", time.Since(start)))
	})
}
