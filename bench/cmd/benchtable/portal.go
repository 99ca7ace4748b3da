package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// pageWeight is what a browser downloads for a page: the page and every
// static asset it links, as transferred and uncompressed.
type pageWeight struct {
	transferred, raw int64
	assets           int
}

// assetRef finds the static assets a page links, in its attributes, and
// those a stylesheet links (the fonts, in fonts.css).
var assetRef = regexp.MustCompile(`/static/[^"')\s]+`)

// checkPage checks a captured portal page (200, the release id stated)
// and weighs it with its assets, fetched from base as a browser would
// (gzip accepted).
func checkPage(base string, r response, id string) (pageWeight, error) {
	html, err := gunzip(r.Body, r.Header.Get("Content-Encoding"))
	if err != nil {
		return pageWeight{}, fmt.Errorf("%s: %w", r.Path, err)
	}
	if !bytes.Contains(html, []byte("Rilascio <strong>"+id+"</strong>")) {
		return pageWeight{}, fmt.Errorf("%s: the page does not state release %s", r.Path, id)
	}
	w := pageWeight{transferred: int64(len(r.Body)), raw: int64(len(html))}
	seen := map[string]bool{}
	c := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: time.Minute}
	defer c.CloseIdleConnections()
	queue := assetRef.FindAll(html, -1)
	for len(queue) > 0 {
		u := string(queue[0])
		queue = queue[1:]
		if seen[u] {
			continue
		}
		seen[u] = true
		req, _ := http.NewRequest("GET", base+u, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := c.Do(req)
		if err != nil {
			return w, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return w, fmt.Errorf("%s: asset %s: %s %v", r.Path, u, resp.Status, err)
		}
		plain, err := gunzip(body, resp.Header.Get("Content-Encoding"))
		if err != nil {
			return w, fmt.Errorf("%s: %w", u, err)
		}
		w.transferred += int64(len(body))
		w.raw += int64(len(plain))
		w.assets++
		if strings.HasSuffix(u, ".css") {
			queue = append(queue, assetRef.FindAll(plain, -1)...)
		}
	}
	if w.assets == 0 || !strings.Contains(string(html), "echarts") {
		return w, fmt.Errorf("%s: no assets linked", r.Path)
	}
	return w, nil
}

func gunzip(body []byte, enc string) ([]byte, error) {
	if enc != "gzip" {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}
