package web

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/release"
)

// Every page answers with its status, states the release, and points its
// assets to content-hashed URLs that are cacheable forever.
func TestPortalPages(t *testing.T) {
	f, _, ts := sharedTS(t)
	id := f.Info.ID
	tests := []struct {
		path   string
		status int
		want   []string
	}{
		{"/", 200, []string{"<h1>Il lavoro in Lombardia</h1>", `href="/territorio/016"`, "Confini: ISTAT"}},
		{"/territorio/ITC4", 200, []string{"<h1>Lombardia</h1>", "Settore di attività", "Le province"}},
		{"/territorio/016", 200, []string{"<h1>Bergamo</h1>", "I comuni", "I centri per l&#39;impiego", "Gruppi target"}},
		{"/territorio/999", 404, []string{"Pagina non trovata", "territorio &#34;999&#34; inesistente"}},
		{"/territorio/016024", 404, []string{"Pagina non trovata"}},
		{"/confronta?territory=016&measure=quota", 200, []string{`id="confronto"`, "% del totale regionale", "Bergamo"}},
		{"/confronta?territory=016&indicator=quota_ti&measure=quota", 400, []string{"solo per indicatori additivi"}},
		{"/confronta?freq=Q&from=2024-01", 400, []string{"periodo &#34;2024-01&#34; non valido"}},
		{"/dati", 200, []string{"Anteprima", "12 osservazioni mostrate su 12"}},
		{"/dati?indicator=nessuno", 404, []string{`id="query-error"`, "nessuno"}},
		{"/dati?indicator=saldo&territory=016&by=genere&freq=Y", 200, []string{"Anteprima", "format=csv"}},
		{"/metodologia", 200, []string{"Saldo (attivazioni nette)", "Regole comuni"}},
		{"/rilasci", 200, []string{id}},
		{"/rilasci/" + id, 200, []string{"primo rilascio"}},
		{"/rilasci/20000101-1", 404, []string{"inesistente"}},
		{"/non/esiste", 404, []string{"Pagina non trovata"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp := get(t, ts, tt.path)
			body := string(resp.body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			if !strings.Contains(body, "Rilascio <strong>"+id+"</strong>") {
				t.Error("page does not state its release")
			}
		})
	}
}

var assetURL = regexp.MustCompile(`(?:href|src)="(/static/[^"]+)"`)

// Pages are cached by entity tag and gzipped; assets have hashed names
// and are immutable.
func TestPortalCaching(t *testing.T) {
	_, _, ts := sharedTS(t)
	resp := get(t, ts, "/", "Accept-Encoding: gzip")
	body := string(resp.body)
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("ETag") == "" {
		t.Fatalf("home: encoding %q, etag %q", resp.Header.Get("Content-Encoding"), resp.Header.Get("ETag"))
	}
	again := get(t, ts, "/", "Accept-Encoding: gzip", "If-None-Match: "+resp.Header.Get("ETag"))
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", again.StatusCode)
	}
	urls := assetURL.FindAllStringSubmatch(body, -1)
	if len(urls) < 4 {
		t.Fatalf("home links %d assets", len(urls))
	}
	for _, m := range urls {
		r := get(t, ts, m[1], "Accept-Encoding: gzip")
		if r.StatusCode != 200 || !strings.Contains(r.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: %d %q", m[1], r.StatusCode, r.Header.Get("Cache-Control"))
		}
		if !regexp.MustCompile(`\.[0-9a-f]{16}\.[a-z0-9]+$`).MatchString(m[1]) {
			t.Errorf("%s: not a content-hashed name", m[1])
		}
	}
	if r := get(t, ts, "/static/oml.0000000000000000.css"); r.StatusCode != 404 {
		t.Errorf("unknown asset: %d", r.StatusCode)
	}
}

// The figures of a page are the release's: the table of the last 18
// months of the region equals the API's answer, flags included.
func TestPortalFiguresMatchRelease(t *testing.T) {
	f, s, ts := sharedTS(t)
	rel := f.Open(t)
	_, last := rel.Periods(oml.Monthly)
	d, err := rel.Select(release.Query{Indicator: "attivazioni", Territories: []string{oml.RegionCode}, From: last.Add(-17), To: last}, s.names)
	if err != nil {
		t.Fatal(err)
	}
	body := string(get(t, ts, "/").body)
	start := strings.Index(body, "Attivazioni, cessazioni e saldo per mese")
	if start < 0 {
		t.Fatal("no table of the last 18 months")
	}
	table := body[start:]
	table = table[:strings.Index(table, "</table>")]
	rows := regexp.MustCompile(`(?s)<tr><th scope="row">([^<]+)</th><td class="num">(.*?)</td>`).FindAllStringSubmatch(table, -1)
	if len(rows) != len(d.Observations) {
		t.Fatalf("%d rows, %d observations", len(rows), len(d.Observations))
	}
	for i, o := range d.Observations {
		want := value(o.Value, o.Status, 0, false)
		got := rows[i][2]
		if rows[i][1] != periodLabel(o.Period, true) || !strings.HasPrefix(got, want.Text) {
			t.Errorf("row %d: %s %q, want %s %q", i, rows[i][1], got, o.Period, want.Text)
		}
		if (o.Status == oml.StatusProvisional) != strings.Contains(got, "dato provvisorio") {
			t.Errorf("row %d (%s): provisional flag wrong in %q", i, o.Status, got)
		}
	}
}

func TestQuintiles(t *testing.T) {
	tests := []struct {
		in   []float64
		want []float64
	}{
		{nil, nil},
		{[]float64{7}, []float64{7}},
		{[]float64{0, 0, 0, 0, 0, 0, 5, 9}, []float64{0, 5, 9}},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, []float64{3, 5, 7, 9, 10}},
	}
	for _, tt := range tests {
		if got := quintiles(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("quintiles(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
