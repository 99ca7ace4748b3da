package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"

	"github.com/regione-lombardia/oml/internal/duckdb"
	"github.com/regione-lombardia/oml/internal/metastore"
)

// TestMicrodata reads microdata as an analyst with a token: the rows of a
// province and period are those an independent count over the data bank
// finds, the read is audited with that count, and bad parameters are 400
// with a hint.
func TestMicrodata(t *testing.T) {
	e := newAccessEnv(t)
	ctx := context.Background()
	c := e.client(t)
	c.bearer = e.tokens["analyst:ITC4"]

	r := c.do("GET", "/api/v1/microdata?territory=016&from=2023-01&to=2023-06", nil)
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != mediaCSV || r.Header.Get("Cache-Control") != "private, no-store" ||
		!strings.Contains(r.Header.Get("Content-Disposition"), "oml-microdati-016-202301-202306.csv") {
		t.Fatalf("microdata: %d %v", r.StatusCode, r.Header)
	}
	recs, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := len(recs) - 1
	// Independently: current events of 2023-01..06 with workplace or
	// residence in Bergamo or in a comune of its CPIs.
	db, err := duckdb.Open(ctx, e.dir, duckdb.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var want int
	comuni := "'" + strings.Join(comuniOfProvinceCPIs(t, e, "016"), "','") + "'"
	err = db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM events WHERE data >= DATE '2023-01-01' AND data < DATE '2023-07-01'
		AND (prov_lavoro = '016' OR prov_residenza = '016' OR comune_lavoro IN (`+comuni+`) OR comune_residenza IN (`+comuni+`))`).Scan(&want)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got != want || want == 0 || r.Header.Get("X-OML-Rows") != strconv.Itoa(want) {
		t.Errorf("rows = %d (X-OML-Rows %s), independent count %d", got, r.Header.Get("X-OML-Rows"), want)
	}
	reads, err := e.store.Audit(ctx, metastore.AuditFilter{Action: metastore.ActionMicrodataRead})
	if err != nil || len(reads) != 1 || reads[0].Rows != int64(want) || reads[0].Object != "016" || !strings.HasPrefix(reads[0].Actor, "token:") ||
		!strings.Contains(reads[0].Detail, "from=2023-01 to=2023-06") {
		t.Errorf("audit = %+v, %v", reads, err)
	}
	if r := c.do("GET", "/api/v1/microdata?territory=ITC4&format=parquet", nil); r.StatusCode != 200 || r.Header.Get("Content-Type") != mediaParquet ||
		!bytes.HasPrefix(r.body, []byte("PAR1")) {
		t.Errorf("parquet: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	for _, q := range []string{"territory=999", "territory=016001", "territory=016&from=2023-13", "territory=016&from=2023-06&to=2023-01",
		"territory=016&format=xlsx", "from=2023-01"} {
		r := c.do("GET", "/api/v1/microdata?"+q, nil)
		if r.StatusCode != 400 || !strings.Contains(string(r.body), `"hint"`) && !strings.Contains(string(r.body), `"message"`) {
			t.Errorf("%s: %d %s", q, r.StatusCode, r.body)
		}
	}
	if n, _ := e.store.Audit(ctx, metastore.AuditFilter{Action: metastore.ActionMicrodataRead}); len(n) != 2 {
		t.Errorf("%d microdata reads audited, want 2 (refused requests read nothing)", len(n))
	}
}

// comuniOfProvinceCPIs returns the comuni served by the CPIs of a province.
func comuniOfProvinceCPIs(t *testing.T, e *accessEnv, province string) []string {
	t.Helper()
	var out []string
	for _, cpi := range e.srv.lists.CPIs() {
		if cpi.Province != province {
			continue
		}
		for _, c := range e.srv.lists.ComuniOfCPI(cpi.Code) {
			out = append(out, c.Istat)
		}
	}
	return out
}
