package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// static holds the portal's own files (oml.css, oml.js) and, in vendor/,
// what `make assets` builds from the npm packages: Bootstrap Italia's CSS
// purged of unused rules, ECharts bundled with the Italian locale
// (charts/echarts.js), the Titillium Web fonts. The
// vendor files are not in the repository: a binary built without
// `make assets` refuses to start the portal and says so.
//
//go:embed static
var staticFS embed.FS

// vendorFiles are the npm files the pages link; New fails without them.
var vendorFiles = []string{
	"vendor/bootstrap-italia.min.css",
	"vendor/echarts.min.js",
	"vendor/fonts/titillium-web-v10-latin-ext_latin-regular.woff2",
}

// staticPrefix is where the assets are served, under content-hashed names.
const staticPrefix = "/static/"

// asset is one static file, ready to serve.
type asset struct {
	url         string // content-hashed: /static/oml.3f2a9c1e.css
	contentType string
	body, gz    []byte // gz is nil when compression does not pay
	etag        string
}

// assets are the static files by their name (oml.css) and by their URL.
type assets struct {
	byName map[string]*asset
	byURL  map[string]*asset
}

// loadAssets reads every embedded static file, names it by the first 8
// bytes of its sha256 and gzips what compresses. It fails if the vendor
// files are missing.
func loadAssets() (*assets, error) {
	root, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	for _, name := range vendorFiles {
		if _, err := fs.Stat(root, name); err != nil {
			return nil, fmt.Errorf("web: file del portale mancante / portal asset missing: %s (eseguire `make assets` prima di compilare / run `make assets` before building)", name)
		}
	}
	a := &assets{byName: map[string]*asset{}, byURL: map[string]*asset{}}
	err = fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(name, ".md") {
			return err
		}
		body, err := fs.ReadFile(root, name)
		if err != nil {
			return err
		}
		a.add(name, body)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}
	// The fonts' CSS names the fonts by their hashed URLs, so it is made
	// here, after them; it is a file of its own, not an inline <style>,
	// so that the pages' Content-Security-Policy needs no 'unsafe-inline'.
	css, err := a.fontFaces()
	if err != nil {
		return nil, err
	}
	a.add(fontsCSS, css)
	return a, nil
}

// add names body by the first 8 bytes of its sha256, gzips it when that
// pays, and adds it as the static file name.
func (a *assets) add(name string, body []byte) {
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:8])
	ext := path.Ext(name)
	as := &asset{
		url:         staticPrefix + strings.TrimSuffix(name, ext) + "." + hash + ext,
		contentType: mime.TypeByExtension(ext),
		body:        body,
		etag:        `"` + hash + `"`,
	}
	if as.contentType == "" {
		as.contentType = mediaOctet
	}
	if ext == ".woff2" {
		as.contentType = "font/woff2"
	}
	if compressible(as.contentType) || strings.Contains(as.contentType, "javascript") || ext == ".svg" {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		if buf.Len() < len(body)*9/10 {
			as.gz = buf.Bytes()
		}
	}
	a.byName[name] = as
	a.byURL[as.url] = as
}

// fontsCSS is the static file that declares the embedded fonts.
const fontsCSS = "fonts.css"

// fontFaces declares the embedded fonts at their content-hashed URLs (the
// CSS of Bootstrap Italia names the families but loads no file itself).
func (a *assets) fontFaces() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("/* oml portal: the embedded fonts, at their content-hashed URLs. */\n")
	for _, f := range []struct {
		family, file, style string
		weight              int
	}{
		{"Titillium Web", "titillium-web-v10-latin-ext_latin-300.woff2", "normal", 300},
		{"Titillium Web", "titillium-web-v10-latin-ext_latin-regular.woff2", "normal", 400},
		{"Titillium Web", "titillium-web-v10-latin-ext_latin-italic.woff2", "italic", 400},
		{"Titillium Web", "titillium-web-v10-latin-ext_latin-600.woff2", "normal", 600},
		{"Titillium Web", "titillium-web-v10-latin-ext_latin-700.woff2", "normal", 700},
		{"Roboto Mono", "roboto-mono-v13-latin-ext_latin-regular.woff2", "normal", 400},
	} {
		font, ok := a.byName["vendor/fonts/"+f.file]
		if !ok {
			return nil, fmt.Errorf("web: file del portale mancante / portal asset missing: vendor/fonts/%s (eseguire `make assets`)", f.file)
		}
		fmt.Fprintf(&b, "@font-face{font-family:'%s';font-style:%s;font-weight:%d;font-display:swap;src:url(%s) format('woff2')}\n",
			f.family, f.style, f.weight, font.url)
	}
	return b.Bytes(), nil
}

// URL returns the content-hashed URL of the static file name; it panics
// on a name that does not exist, which the template tests catch.
func (a *assets) URL(name string) string {
	as, ok := a.byName[name]
	if !ok {
		panic("web: no static file " + name)
	}
	return as.url
}

// ServeHTTP serves a static file by its hashed URL, cacheable forever.
func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	as, ok := a.byURL[r.URL.Path]
	if !ok {
		http.Error(w, "404 file non trovato / file not found", http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", as.etag)
	if as.gz != nil {
		h.Set("Vary", "Accept-Encoding")
	}
	if etagMatch(r.Header.Get("If-None-Match"), as.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := as.body
	if as.gz != nil && acceptsGzip(r) {
		body = as.gz
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Type", as.contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}
