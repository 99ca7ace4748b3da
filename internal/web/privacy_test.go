package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/regione-lombardia/oml/internal/duckdb"
)

// TestPublicResponsesDiscloseNothing reads the public side of a real
// server as an anonymous reader: every page reachable from the home page
// by its links (portal, reports, releases, agenda, feeds), the API's
// metadata, and every data query those pages link to. No response may
// hold a pseudonymised id of the data bank (a worker, an employer, a
// communication or a relationship), and no count cell of any data query a
// page links to (the tables and charts of the pages are drawn from those
// same queries) may hold a value from 1 to k-1.
func TestPublicResponsesDiscloseNothing(t *testing.T) {
	e := newAccessEnv(t)
	ctx := context.Background()

	// The ids of the data bank, read independently of the server.
	db, err := duckdb.Open(ctx, e.dir, duckdb.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	err = db.Query(ctx, `SELECT DISTINCT v FROM (SELECT worker AS v FROM communications UNION ALL SELECT employer FROM communications
		UNION ALL SELECT comm_id FROM communications UNION ALL SELECT rel_id FROM communications) WHERE v IS NOT NULL AND length(v) >= 8`,
		func(scan func(...any) error) error {
			var v string
			if err := scan(&v); err != nil {
				return err
			}
			ids[v] = true
			return nil
		})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) < 100 {
		t.Fatalf("only %d ids in the data bank: the check would prove nothing", len(ids))
	}

	token := regexp.MustCompile(`[A-Za-z0-9_\-:+/=.]{8,}`)
	rel := e.f.Open(t)
	cat := rel.Catalogue()
	k := cat.Disclosure.K
	count := map[string]bool{}
	for i := range cat.Indicators {
		count[cat.Indicators[i].ID] = isCountIndicator(&cat.Indicators[i])
	}

	// The search must be able to find every id in a body.
	for id := range ids {
		if m := token.FindString(" " + id + " "); m != id && !slices.Contains(strings.FieldsFunc(m, func(c rune) bool { return c == '/' || c == '=' || c == '.' || c == ':' }), id) {
			t.Fatalf("the search cannot find the id %q (found %q)", id, m)
		}
	}
	anon := e.client(t)
	links := regexp.MustCompile(`(?:href|src)="([^"#]+)"`)
	start := []string{"/", "/agenda", "/agenda.ics", "/rilasci.atom", "/rilasci.rss", "/api/v1/releases", "/api/v1/indicators",
		"/api/v1/territories", "/api/v1/openapi.json", "/rete", "/rapporti/ITC4.html", "/rapporti/016.html"}
	for _, d := range cat.Dimensions {
		start = append(start, "/api/v1/codes/"+d.ID)
	}
	seen := map[string]bool{}
	queue := slices.Clone(start)
	pages, dataQueries, counts := 0, 0, 0
	for len(queue) > 0 && pages < 600 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		r := anon.do("GET", p, nil)
		pages++
		if r.StatusCode >= 500 {
			t.Errorf("GET %s: %d", p, r.StatusCode)
			continue
		}
		for _, m := range token.FindAll(r.body, -1) {
			for _, part := range strings.FieldsFunc(string(m), func(c rune) bool { return c == '/' || c == '=' || c == '.' || c == ':' }) {
				if ids[part] || ids[string(m)] {
					t.Errorf("GET %s holds the pseudonymised id %q", p, part)
				}
			}
		}
		ct := r.Header.Get("Content-Type")
		if !strings.HasPrefix(ct, "text/html") {
			continue
		}
		for _, m := range links.FindAllSubmatch(r.body, -1) {
			u, err := url.Parse(strings.ReplaceAll(string(m[1]), "&amp;", "&"))
			if err != nil || u.Host != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, staticPrefix) ||
				strings.HasPrefix(u.Path, "/accedi") || strings.HasSuffix(u.Path, ".pdf") || strings.HasSuffix(u.Path, ".xlsx") {
				continue
			}
			if u.Path == "/api/v1/data" {
				q := u.Query()
				if q.Get("format") == "xlsx" || seen["data "+q.Encode()] {
					continue
				}
				seen["data "+q.Encode()] = true
				q.Set("format", "csv")
				dataQueries++
				counts += checkCounts(t, anon, "/api/v1/data?"+q.Encode(), count[q.Get("indicator")], k)
				continue
			}
			if !seen[u.RequestURI()] {
				queue = append(queue, u.RequestURI())
			}
		}
	}
	if pages < 50 || dataQueries < 20 || counts == 0 {
		t.Errorf("crawl read %d pages and %d data queries (%d count cells): too few to prove anything", pages, dataQueries, counts)
	}
	t.Logf("crawl: %d responses, %d data queries, %d count cells, %d ids searched", pages, dataQueries, counts, len(ids))
}

// checkCounts reads a data query as CSV and reports every shown value of a
// count indicator from 1 to k-1; it returns the count cells it read.
func checkCounts(t *testing.T, c *client, q string, isCount bool, k int) int {
	t.Helper()
	r := c.do("GET", q, nil)
	if r.StatusCode != 200 {
		if r.StatusCode >= 500 {
			t.Errorf("GET %s: %d", q, r.StatusCode)
		}
		return 0
	}
	recs, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("%s: %v", q, err)
	}
	val := slices.Index(recs[0], "valore")
	if val < 0 || !isCount {
		return 0
	}
	n := 0
	for _, rec := range recs[1:] {
		if rec[val] == "" {
			continue
		}
		v, err := strconv.ParseFloat(rec[val], 64)
		if err != nil {
			t.Fatalf("%s: value %q", q, rec[val])
		}
		n++
		if v >= 1 && v <= float64(k-1) {
			t.Errorf("%s: count %s between 1 and k-1 = %d: %v", q, rec[val], k-1, rec)
		}
	}
	return n
}
