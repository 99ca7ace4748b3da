package web

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/regione-lombardia/oml/internal/release/releasetest"
	"github.com/regione-lombardia/oml/internal/report"
)

// The territorial reports are served under /rapporti/ in their three
// formats, made once per release and introductions.
func TestPortalReports(t *testing.T) {
	f := releasetest.Build(t)
	dir := f.Copy(t)
	ts := startServer(t, newServer(t, dir))
	_, noPDF := report.Chromium()

	list := get(t, ts, "/rapporti")
	if list.StatusCode != 200 || !strings.Contains(string(list.body), `href="/rapporti/all.html"`) || !strings.Contains(string(list.body), `href="/rapporti/016.xlsx"`) {
		t.Fatalf("/rapporti: %d %s", list.StatusCode, list.body)
	}
	if hasPDF := strings.Contains(string(list.body), `href="/rapporti/016.pdf"`); hasPDF != (noPDF == nil) {
		t.Errorf("/rapporti links PDFs: %v, Chromium found: %v", hasPDF, noPDF == nil)
	}

	tests := []struct {
		path, media string
		status      int
		want        string
	}{
		{"/rapporti/016.html", "text/html; charset=utf-8", 200, "Rapporto territoriale — Bergamo"},
		{"/rapporti/all.html", "text/html; charset=utf-8", 200, `href="#c-108"`},
		{"/rapporti/ITC4.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 200, "PK"},
		{"/rapporti/016.doc", "text/html; charset=utf-8", 404, "formato"},
		{"/rapporti/016001.html", "text/html; charset=utf-8", 404, "nessun rapporto"},
		{"/rapporti/016.html?release=20000101-1", "text/html; charset=utf-8", 404, "20000101-1"},
		{"/rapporti/016.html?release=" + f.Info.ID, "text/html; charset=utf-8", 200, f.Info.ID},
	}
	for _, tt := range tests {
		r := get(t, ts, tt.path)
		if r.StatusCode != tt.status || r.Header.Get("Content-Type") != tt.media || !strings.Contains(string(r.body), tt.want) {
			t.Errorf("%s: %d %q, want %d %q containing %q", tt.path, r.StatusCode, r.Header.Get("Content-Type"), tt.status, tt.media, tt.want)
		}
	}
	x := get(t, ts, "/rapporti/ITC4.xlsx")
	if cd := x.Header.Get("Content-Disposition"); cd != "attachment; filename=rapporto-ITC4-"+f.Info.ID+".xlsx" {
		t.Errorf("xlsx Content-Disposition %q", cd)
	}

	// A new introduction makes a new file; the old tag no longer matches.
	before := get(t, ts, "/rapporti/016.html")
	if _, err := report.SaveIntro(dir, "016", "Introduzione dell'osservatorio di Bergamo."); err != nil {
		t.Fatal(err)
	}
	after := get(t, ts, "/rapporti/016.html", "If-None-Match: "+before.Header.Get("ETag"))
	if after.StatusCode != 200 || !strings.Contains(string(after.body), "Introduzione dell&#39;osservatorio di Bergamo.") {
		t.Errorf("after a new introduction: %d, intro shown %v", after.StatusCode, strings.Contains(string(after.body), "osservatorio di Bergamo"))
	}
	same := get(t, ts, "/rapporti/016.html", "If-None-Match: "+after.Header.Get("ETag"))
	if same.StatusCode != 304 {
		t.Errorf("revalidation: %d, want 304", same.StatusCode)
	}

	pdf := get(t, ts, "/rapporti/016.pdf")
	switch {
	case noPDF == nil:
		if pdf.StatusCode != 200 || pdf.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(pdf.body, []byte("%PDF-")) {
			t.Errorf("pdf: %d %q", pdf.StatusCode, pdf.Header.Get("Content-Type"))
		}
		again := get(t, ts, "/rapporti/016.pdf")
		if again.Header.Get("ETag") != pdf.Header.Get("ETag") || !bytes.Equal(again.body, pdf.body) {
			t.Error("the second request did not get the same file")
		}
	case os.Getenv("CI") == "true":
		t.Fatal(noPDF)
	default:
		if pdf.StatusCode != 503 {
			t.Errorf("pdf without Chromium: %d, want 503", pdf.StatusCode)
		}
	}
}
