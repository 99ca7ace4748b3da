package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/release"
	"github.com/regione-lombardia/oml/internal/report"
)

// reportFormats are the formats of /rapporti/{code}.{format}, with their
// media type and whether a browser should show them (inline) or save them.
var reportFormats = map[string]struct {
	media  string
	inline bool
}{
	"html": {"text/html; charset=utf-8", true},
	"pdf":  {"application/pdf", true},
	"xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", false},
}

// reportTimeout bounds the making of one report file (the PDF of the
// regional report takes seconds; a stuck Chromium must not hold a request
// forever).
const reportTimeout = 3 * time.Minute

// pdfPrinters is how many Chromiums may print reports at once.
const pdfPrinters = 2

// reportCache keeps made report files by release, introductions and file
// name, so that a file is made once however many ask for it at once.
type reportCache struct {
	mu      sync.Mutex
	entries map[string]*reportEntry
	// printing holds a slot per Chromium printing a PDF: at most
	// cap(printing) at once, whatever the requests.
	printing chan struct{}
}

type reportEntry struct {
	once            sync.Once
	body, gz        []byte
	etag, filename  string
	err             error
	releaseID, code string
}

const reportCacheSize = 64

// entry returns the entry of key, creating it; when the cache is full the
// entries of other releases go first.
func (c *reportCache) entry(key, releaseID string) *reportEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]*reportEntry{}
	}
	if e, ok := c.entries[key]; ok {
		return e
	}
	if len(c.entries) >= reportCacheSize {
		for k, e := range c.entries {
			if e.releaseID != releaseID || len(c.entries) >= reportCacheSize {
				delete(c.entries, k)
			}
		}
	}
	e := &reportEntry{releaseID: releaseID}
	c.entries[key] = e
	return e
}

// forget drops key (a failed make is tried again by the next request).
func (c *reportCache) forget(key string, e *reportEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries[key] == e {
		delete(c.entries, key)
	}
}

// reportsPage is the body of the reports template.
type reportsPage struct {
	Release *release.Info
	Items   []reportItem
	NoPDF   string // why PDFs cannot be made here, if they cannot
}

type reportItem struct {
	Code, Name string
	Regional   bool // the whole regional report
}

// pageReports lists the reports of the latest release with their links.
func (s *Server) pageReports(r *http.Request, rel *release.Release) (*page, error) {
	info := rel.Info()
	body := reportsPage{Release: &info, Items: []reportItem{{Code: "all", Name: "Lombardia e le 12 province", Regional: true}}}
	for _, code := range report.Territories(s.names) {
		t, _ := s.names.Territory(code)
		body.Items = append(body.Items, reportItem{Code: code, Name: t.Name})
	}
	if _, err := report.Chromium(); err != nil {
		body.NoPDF = oml.ErrorMessage(err)
	}
	return &page{name: "reports", nav: "/rapporti", title: "Rapporti territoriali",
		description: "Il Rapporto territoriale sulle dinamiche degli eventi lavorativi in Lombardia e nelle province: HTML, PDF e XLSX.", body: body}, nil
}

// serveReport answers GET /rapporti/{file}: file is CODE.FORMAT, CODE a
// province, ITC4 or "all" (the regional report), FORMAT html, pdf or xlsx;
// ?release=ID picks a release other than the latest. The file is made on
// first request and kept for its release and introductions.
func (s *Server) serveReport(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	code, format, _ := strings.Cut(name, ".")
	f, ok := reportFormats[format]
	rel, _, err := s.release(r, r.URL.Query().Get("release"))
	if err != nil {
		s.pageError(w, r, nil, err)
		return
	}
	info := rel.Info()
	if !ok {
		s.pageError(w, r, &info, oml.Errorf(oml.ENOTFOUND, "formato %q non previsto / no such format %q", format, format).
			WithHint("i rapporti sono in formato html, pdf o xlsx: /rapporti/016.pdf"))
		return
	}
	if code != "all" {
		if t, ok := s.names.Territory(code); !ok || (t.Level != oml.LevelRegion && t.Level != oml.LevelProvince) {
			s.pageError(w, r, &info, oml.Errorf(oml.ENOTFOUND, "nessun rapporto per il territorio %q / no report for %q", code, code).
				WithHint("l'elenco dei rapporti è in /rapporti"))
			return
		}
	}
	intros, err := report.Intros(s.releases.dir)
	if err != nil {
		s.pageError(w, r, &info, err)
		return
	}
	key := info.ID + " " + introsTag(intros) + " " + name
	e := s.reportCache.entry(key, info.ID)
	e.once.Do(func() { e.make(s, rel, code, format, intros) })
	if e.err != nil {
		s.reportCache.forget(key, e)
		s.pageError(w, r, &info, e.err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.media)
	switch format {
	case "html":
		h.Set("Content-Security-Policy", cspReport)
	case "pdf":
		h.Set("Content-Security-Policy", cspDocument)
	}
	disp := "attachment"
	if f.inline {
		disp = "inline"
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": e.filename}))
	// Introductions may change within a release: revalidate, even for a
	// named release.
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(maxAgeLatest.Seconds())))
	body, tag := e.body, e.etag
	if e.gz != nil {
		h.Set("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			body, tag = e.gz, strings.TrimSuffix(tag, `"`)+`-gz"`
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", tag)
	if etagMatch(r.Header.Get("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// make builds the report file of an entry.
func (e *reportEntry) make(s *Server, rel *release.Release, code, format string, intros map[string]string) {
	start := time.Now()
	rep, err := report.New(rel, s.names, []string{code}, intros)
	if err != nil {
		e.err = err
		return
	}
	// Not the request's context: others may be waiting for this file.
	ctx, cancel := context.WithTimeout(context.Background(), reportTimeout)
	defer cancel()
	if format == "pdf" {
		select {
		case s.reportCache.printing <- struct{}{}:
			defer func() { <-s.reportCache.printing }()
		case <-ctx.Done():
			e.err = oml.Errorf(oml.EUNAVAILABLE, "troppi PDF in preparazione / too many PDFs being made").WithHint("riprovare tra qualche minuto")
			return
		}
	}
	var buf bytes.Buffer
	if err := rep.Write(ctx, format, &buf, nil); err != nil {
		e.err = err
		return
	}
	e.body = buf.Bytes()
	sum := sha256.Sum256(e.body)
	e.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	e.filename = fmt.Sprintf("rapporto-%s-%s.%s", code, rel.Info().ID, format)
	if format == "html" {
		var z bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		zw.Write(e.body)
		if zw.Close() == nil {
			e.gz = z.Bytes()
		}
	}
	s.log.Info("report made", "release", rel.Info().ID, "file", code+"."+format, "bytes", len(e.body), "seconds", time.Since(start).Seconds())
}

// introsTag identifies the introductions' texts, so that a new version
// makes new files.
func introsTag(intros map[string]string) string {
	if len(intros) == 0 {
		return "-"
	}
	codes := make([]string, 0, len(intros))
	for c := range intros {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	h := sha256.New()
	for _, c := range codes {
		fmt.Fprintf(h, "%s\x00%s\x00", c, intros[c])
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}
