package web

import (
	"bytes"
	"compress/gzip"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/geo"
	"github.com/regione-lombardia/oml/internal/itfmt"
	"github.com/regione-lombardia/oml/internal/release"
)

// The portal "Competenze, Lavoro in Lombardia": server-rendered pages in
// Italian, drawn from the latest release without recomputation. Every page
// states its release, vintage and methodology version and flags cells as
// the API does (p provisional, c confidential, n.d. unavailable). A page is
// rendered once per release and address, then served from memory, gzipped,
// with an entity tag.

//go:embed templates/*.html
var templateFS embed.FS

// pages are the templates of the portal, each with the layout.
var pages = []string{"home", "territory", "compare", "query", "method", "releases", "revisions", "reports", "contributions", "contribution", "local", "local-dataset", "local-geography", "network", "error",
	"login", "account", "admin", "admin-agenda", "agenda"}

// portal holds what the pages need besides the server: templates, static
// files, maps and the cache of rendered pages.
type portal struct {
	tmpl   map[string]*template.Template
	assets *assets
	atlas  *geo.Atlas
	cache  pageCache
}

func newPortal() (*portal, error) {
	p := &portal{tmpl: map[string]*template.Template{}}
	var err error
	if p.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if p.atlas, err = geo.Load(); err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"asset": p.assets.URL,
		"date":  itfmt.Date,
		"rome":  func(t time.Time) time.Time { return t.In(rome) },
	}
	for _, name := range pages {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/figures.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		p.tmpl[name] = t
	}
	p.cache.entries = map[string]*renderedPage{}
	return p, nil
}

// page is what a page handler returns: the template, the title and the
// page's own data.
type page struct {
	name        string // template
	nav         string // menu entry it belongs to
	title       string
	description string
	body        any
	status      int  // 200 when 0
	private     bool // never stored by any cache (forms, account pages)
}

// menuItem is an entry of the main menu.
type menuItem struct {
	URL, Label string
	Current    bool
}

var menu = []menuItem{
	{URL: "/", Label: "Lombardia"},
	{URL: "/confronta", Label: "Confronta territori"},
	{URL: "/dati", Label: "Costruisci una tabella"},
	{URL: "/rapporti", Label: "Rapporti"},
	{URL: "/contributi", Label: "Contributi"},
	{URL: "/locale", Label: "Dati locali"},
	{URL: "/metodologia", Label: "Metodologia"},
	{URL: "/rilasci", Label: "Rilasci"},
	{URL: "/agenda", Label: "Agenda"},
}

// layoutData is what the layout reads.
type layoutData struct {
	Title, Description string
	Menu               []menuItem
	Release            *release.Info
	Body               any
	// Account is the reader's account, nil when the server has no
	// accounts (no login link either).
	Account *accountView
	// Path is the address of the page, where login comes back to.
	Path string
}

// accountView is what the layout shows of the reader: a login link for
// the public, else the name, the logout form and, for administrators, the
// administration pages; and whether the release shown is a preview under
// embargo, until when.
type accountView struct {
	Name    string
	Roles   string
	Admin   bool
	CSRF    string
	Embargo time.Time
}

// renderedPage is a page ready to serve: its bytes, gzipped, and its tag.
type renderedPage struct {
	status  int
	private bool
	body    []byte
	gz      []byte
	etag    string
}

// pageCache keeps rendered pages by release and address. Pages of older
// releases are dropped first when it is full.
type pageCache struct {
	mu      sync.Mutex
	entries map[string]*renderedPage
}

const pageCacheSize = 2048

func (c *pageCache) get(key string) *renderedPage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries[key]
}

func (c *pageCache) put(key, releaseID string, p *renderedPage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= pageCacheSize {
		for k := range c.entries {
			if !strings.HasPrefix(k, releaseID+" ") {
				delete(c.entries, k)
			}
		}
		for k := range c.entries {
			if len(c.entries) < pageCacheSize {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[key] = p
}

// pageHandler builds a page from the latest release and the request.
type pageHandler func(r *http.Request, rel *release.Release) (*page, error)

// portalPage serves the pages of h: when cached, from the cache if this
// release has rendered this address already; otherwise rendered into a
// buffer (so that a template error is a clean 500), gzipped and (when
// cached) kept. Errors become the error page, with the status of StatusOf.
func (s *Server) portalPage(h pageHandler, cached bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.pageError(w, r, nil, fmt.Errorf("panic: %v", v))
			}
		}()
		rel, _, err := s.release(r, "")
		if err != nil {
			s.pageError(w, r, nil, err)
			return
		}
		info := rel.Info()
		key := info.ID + " " + canonicalURL(r.URL)
		var rp *renderedPage
		// A page for a reader with credentials names the reader and may
		// preview an embargoed release: never shared through the cache.
		cached = cached && !viewerOf(r).authenticated()
		if cached {
			rp = s.portal.cache.get(key)
		}
		if rp == nil {
			pg, err := h(r, rel)
			if err != nil {
				s.pageError(w, r, &info, err)
				return
			}
			if rp, err = s.render(r, pg, &info); err != nil {
				s.pageError(w, r, &info, err)
				return
			}
			if rp.status == http.StatusOK && cached {
				s.portal.cache.put(key, info.ID, rp)
			}
		}
		writePage(w, r, rp)
	})
}

// canonicalURL is the path and the sorted query of u: two addresses that
// differ only in the order of their parameters are one page.
func canonicalURL(u *url.URL) string {
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(u.Path)
	for i, k := range keys {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		vs := slices.Clone(q[k])
		for j, v := range vs {
			if j > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(v))
		}
	}
	return b.String()
}

// render executes the page's template with the layout, for the reader of
// r: the layout names a reader with an account, and flags a release under
// embargo as a preview.
func (s *Server) render(r *http.Request, pg *page, info *release.Info) (*renderedPage, error) {
	t, ok := s.portal.tmpl[pg.name]
	if !ok {
		return nil, fmt.Errorf("web: no template %q", pg.name)
	}
	items := slices.Clone(menu)
	for i := range items {
		items[i].Current = items[i].URL == pg.nav
	}
	desc := pg.description
	if desc == "" {
		desc = "Il mercato del lavoro in Lombardia: attivazioni, cessazioni e saldi dei rapporti di lavoro dalle Comunicazioni Obbligatorie."
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", layoutData{Title: pg.title, Description: desc, Menu: items, Release: info, Body: pg.body,
		Account: s.accountOf(r, info), Path: r.URL.RequestURI()}); err != nil {
		return nil, fmt.Errorf("web: render %s: %w", pg.name, err)
	}
	rp := &renderedPage{status: pg.status, private: pg.private, body: buf.Bytes(), etag: `"` + hashTag(buf.String()) + `"`}
	if rp.status == 0 {
		rp.status = http.StatusOK
	}
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	zw.Write(rp.body)
	if err := zw.Close(); err != nil {
		return nil, err
	}
	rp.gz = z.Bytes()
	return rp, nil
}

// writePage writes a rendered page: HTML revalidated after 5 minutes (a
// new release changes the pages), 304 on a matching tag, gzip when
// accepted.
func writePage(w http.ResponseWriter, r *http.Request, rp *renderedPage) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Vary", "Accept-Encoding")
	if rp.status != http.StatusOK || rp.private {
		h.Set("Cache-Control", "no-store")
	} else {
		h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(maxAgeLatest.Seconds())))
		gz := acceptsGzip(r)
		tag := rp.etag
		if gz {
			tag = strings.TrimSuffix(tag, `"`) + `-gz"`
		}
		h.Set("ETag", tag)
		if etagMatch(r.Header.Get("If-None-Match"), tag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	body := rp.body
	if acceptsGzip(r) {
		body = rp.gz
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rp.status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// errorPage is the body of the error page.
type errorPage struct {
	Title, Message, Hint string
}

// pageError renders err as the error page: the message and hint of an
// *oml.Error, a generic message (and a log line) for anything else.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, info *release.Info, err error) {
	status := StatusOf(oml.ErrorCode(err))
	var oe *oml.Error
	body := errorPage{Title: "Pagina non disponibile", Message: oml.ErrorMessage(err), Hint: oml.ErrorHint(err)}
	switch {
	case status == http.StatusNotFound:
		body.Title = "Pagina non trovata"
	case status >= 500 || !errors.As(err, &oe):
		s.log.Error("portal error", "id", RequestID(r), "uri", s.logURI(r), "err", err.Error())
		status = http.StatusInternalServerError
		body = errorPage{Title: "Errore interno", Message: "Si è verificato un errore del server. / The server failed to build this page.",
			Hint: "Riprovare tra poco; se l'errore persiste, segnalarlo all'osservatorio. / Try again later."}
	default:
		body.Title = "Richiesta non valida"
	}
	rp, rerr := s.render(r, &page{name: "error", title: body.Title, body: body, status: status}, info)
	if rerr != nil {
		http.Error(w, body.Message, status)
		return
	}
	writePage(w, r, rp)
}
