package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/itfmt"
	"github.com/regione-lombardia/oml/internal/method"
	"github.com/regione-lombardia/oml/internal/release"
	"github.com/regione-lombardia/oml/internal/release/releasetest"
	"github.com/regione-lombardia/oml/internal/report"
	"github.com/regione-lombardia/oml/internal/web"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestMain(m *testing.M) {
	code := m.Run()
	releasetest.Cleanup()
	os.Exit(code)
}

// fixture is the release of releasetest, opened once, and the regional
// report built from it.
var fixture struct {
	once  sync.Once
	rel   *release.Release
	names *method.Names
	all   *report.Report
	err   error
}

func open(t testing.TB) (*releasetest.Fixture, *release.Release, *method.Names, *report.Report) {
	t.Helper()
	f := releasetest.Build(t)
	fixture.once.Do(func() {
		fixture.names = method.NewNames(f.Lists)
		if fixture.rel, fixture.err = release.Open(f.DataDir, f.Info.ID); fixture.err != nil {
			return
		}
		fixture.all, fixture.err = report.New(fixture.rel, fixture.names, []string{"all"}, nil)
	})
	if fixture.err != nil {
		t.Fatal(fixture.err)
	}
	return f, fixture.rel, fixture.names, fixture.all
}

// TestGoldenHTML compares the HTML of the region's and one province's
// chapters, with an introduction, to testdata/rapporto.html.
func TestGoldenHTML(t *testing.T) {
	_, rel, names, _ := open(t)
	intro := "Il capitolo è curato dall'osservatorio provinciale.\n\nSecondo paragrafo <con segni>."
	r, err := report.New(rel, names, []string{oml.RegionCode, "016"}, map[string]string{"016": intro})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := r.HTML(&b); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "rapporto.html")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("HTML differs from %s (go test ./internal/report -run TestGoldenHTML -update rewrites it; review the diff)", golden)
	}
	html := b.String()
	// The introduction is escaped, in paragraphs, above the commentary of
	// its chapter only.
	i016 := strings.Index(html, `id="c-016"`)
	intro1 := strings.Index(html, "Il capitolo è curato dall&#39;osservatorio provinciale.")
	comment := strings.Index(html[i016:], `class="commentary"`) + i016
	if i016 < 0 || intro1 < i016 || intro1 > comment {
		t.Errorf("introduction not above the commentary of 016 (chapter at %d, intro at %d, commentary at %d)", i016, intro1, comment)
	}
	if !strings.Contains(html, "<p>Secondo paragrafo &lt;con segni&gt;.</p>") {
		t.Error("second paragraph of the introduction missing or not escaped")
	}
	for _, want := range []string{"<svg", "Nota metodologica", "Bergamo", "Lombardia", "v" + rel.Info().MethodVersion, rel.Info().ID} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(html, "<script") {
		t.Error("the report must not need scripts (a PDF would miss what they draw)")
	}
}

// apiServer serves the fixture's data dir through the real API.
func apiServer(t *testing.T, f *releasetest.Fixture) *httptest.Server {
	t.Helper()
	s, err := web.New(web.Config{DataDir: f.DataDir, Lists: f.Lists, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

type apiData struct {
	Release      string `json:"release"`
	Observations []struct {
		Territory string            `json:"territory"`
		Period    string            `json:"period"`
		Dims      map[string]string `json:"dims"`
		Value     *float64          `json:"value"`
		Status    string            `json:"status"`
	} `json:"observations"`
}

// fromAPI asks the API for the monthly cells of v and adds them up the
// way a reader of the API would: withheld if any cell is.
func fromAPI(t *testing.T, ts *httptest.Server, releaseID string, v report.Value) (float64, oml.Status) {
	t.Helper()
	q := url.Values{"indicator": {v.Indicator}, "territory": {v.Territory}, "freq": {"M"},
		"from": {v.From.String()}, "to": {v.To.String()}, "release": {releaseID}}
	if v.Dim != "" {
		q.Set("by", v.Dim)
	}
	if v.Transform != "" {
		q.Set("transform", v.Transform)
	}
	resp, err := http.Get(ts.URL + "/api/v1/data?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s: status %d", q.Encode(), resp.StatusCode)
	}
	var d apiData
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.Release != releaseID {
		t.Fatalf("API answered release %s, want %s", d.Release, releaseID)
	}
	sum, status, n := 0.0, oml.StatusNormal, 0
	for _, o := range d.Observations {
		if v.Dim != "" && o.Dims[v.Dim] != v.Code {
			continue
		}
		n++
		switch s := oml.Status(o.Status[0]); s {
		case oml.StatusConfidential, oml.StatusUnavailable:
			return math.NaN(), s
		case oml.StatusProvisional:
			status = s
		}
		sum += *o.Value
	}
	if want := v.To.Index() - v.From.Index() + 1; n != want {
		t.Fatalf("%s: %d cells of %s, want %d", q.Encode(), n, v.Code, want)
	}
	return sum, status
}

// same compares a report value with the API's (exactly for counts, to
// the last bits for the seasonally adjusted series, whose sum the report
// adds in another order).
func same(v report.Value, api float64, status oml.Status) bool {
	if v.Status != status {
		return false
	}
	if !v.Shown() {
		return math.IsNaN(v.V)
	}
	if v.Transform == "" {
		return v.V == api
	}
	return math.Abs(v.V-api) <= 1e-9*math.Max(1, math.Abs(api))
}

// TestCommentaryMatchesAPI checks every named value of every sentence of
// the 13 chapters against the API for the same release, and that every
// number the sentence prints comes from those values.
func TestCommentaryMatchesAPI(t *testing.T) {
	f, rel, _, all := open(t)
	ts := apiServer(t, f)
	id := rel.Info().ID
	if len(all.Chapters) != 13 {
		t.Fatalf("%d chapters, want 13", len(all.Chapters))
	}
	sentences, values := 0, 0
	for _, c := range all.Chapters {
		// Every chapter whose flows of the last 12 months are published
		// has a commentary; the region's (no small cells) has one sentence
		// per rule but those that compare with the region.
		switch {
		case c.Territory.Level == oml.LevelRegion && len(c.Commentary) < 6:
			t.Errorf("region: %d sentences: %v", len(c.Commentary), c.Commentary)
		case c.Headlines[0].Cur.Shown() && c.Headlines[1].Cur.Shown() && len(c.Commentary) == 0:
			t.Errorf("%s: no commentary", c.Territory.Code)
		}
		for _, s := range c.Commentary {
			sentences++
			for name, v := range s.Values {
				values++
				api, status := fromAPI(t, ts, id, v)
				if !same(v, api, status) {
					t.Errorf("%s, %q: %s = %v (%c), API %v (%c)", c.Territory.Code, s.Text, name, v.V, v.Status, api, status)
				}
			}
			checkNumbers(t, c, s)
		}
	}
	t.Logf("%d sentences, %d values checked against the API", sentences, values)
}

// number is a figure as a sentence prints it: 1.234, +56, −7, 2,1.
var number = regexp.MustCompile(`[+−]?\d[\d.]*(,\d+)?`)

// checkNumbers checks that every number of a sentence is one of its
// values, a difference or percentage change of a value and its "_prec",
// a value as a percentage of another, or a fixed part of the wording
// (ages, the 12 months, years, the rank).
func checkNumbers(t *testing.T, c *report.Chapter, s report.Sentence) {
	t.Helper()
	allowed := map[string]bool{"12": true, "15": true, "29": true, "55": true}
	for y := 2017; y <= c.Last.Year; y++ {
		allowed[fmt.Sprint(y)] = true
	}
	if c.Versus != nil && c.Versus.Rank > 0 {
		allowed[fmt.Sprint(c.Versus.Rank)] = true
	}
	add := func(x float64, dec int) {
		allowed[itfmt.Number(x, dec)] = true
		allowed[itfmt.Number(math.Abs(x), dec)] = true
		allowed[itfmt.Signed(x, dec)] = true
	}
	for name, v := range s.Values {
		add(v.V, 0)
		if p, ok := s.Values[name+"_prec"]; ok {
			add(v.V-p.V, 0)
			add(100*(v.V/p.V-1), 1)
			add(math.Round(1000*(v.V/p.V-1))/10, 1)
		}
		for _, w := range s.Values {
			if w.V != 0 {
				add(100*v.V/w.V, 1)
			}
		}
	}
	for _, n := range number.FindAllString(s.Text, -1) {
		if !allowed[n] && !allowed[strings.TrimLeft(n, "+−")] {
			t.Errorf("%s: %q prints %s, which none of its values gives", c.Territory.Code, s.Text, n)
		}
	}
}

// TestTablesMatchAPI checks every value of the tables of the region's
// chapter and of one province's against the API.
func TestTablesMatchAPI(t *testing.T) {
	f, rel, _, all := open(t)
	ts := apiServer(t, f)
	n := 0
	check := func(c *report.Chapter, what string, v report.Value) {
		n++
		api, status := fromAPI(t, ts, rel.Info().ID, v)
		if !same(v, api, status) {
			t.Errorf("%s %s: %+v, API %v (%c)", c.Territory.Code, what, v, api, status)
		}
	}
	for _, c := range all.Chapters {
		if c.Territory.Code != oml.RegionCode && c.Territory.Code != "097" {
			continue
		}
		for _, h := range c.Headlines {
			check(c, "headline", h.Cur)
			if h.Prev.Status != oml.StatusUnavailable {
				check(c, "headline prev", h.Prev)
			}
		}
		for _, m := range c.Monthly {
			for _, v := range append(slices.Clone(m.Raw), m.SA...) {
				check(c, "monthly", v)
			}
		}
		for i := range c.Years {
			check(c, "balance", c.Balance[i])
			check(c, "cumulated", c.Cumulated[i])
		}
		bs := slices.Clone(c.Breakdowns)
		if c.CPIs != nil {
			bs = append(bs, *c.CPIs)
		}
		if c.Provinces != nil {
			bs = append(bs, *c.Provinces)
		}
		for _, b := range bs {
			if len(b.Rows) == 0 {
				t.Errorf("%s: breakdown %s has no rows", c.Territory.Code, b.Dim)
			}
			for _, r := range b.Rows {
				for i := range r.Cur {
					check(c, b.Dim, r.Cur[i])
					check(c, b.Dim+" prev", r.Prev[i])
				}
			}
		}
	}
	t.Logf("%d values checked against the API", n)
}

// TestCoverage checks the shape of the regional report: 13 chapters in
// order, 18 months, years from 2017, CPIs inside each province, the rank
// among 12 provinces.
func TestCoverage(t *testing.T) {
	_, rel, names, all := open(t)
	first, last := rel.Periods(oml.Monthly)
	wantCodes := report.Territories(names)
	for i, c := range all.Chapters {
		if c.Territory.Code != wantCodes[i] {
			t.Errorf("chapter %d is %s, want %s", i, c.Territory.Code, wantCodes[i])
		}
		if len(c.Months) != 18 || c.Months[17] != last {
			t.Errorf("%s: months %v", c.Territory.Code, c.Months)
		}
		if c.Years[0] != first.Year || len(c.Balance) != len(c.Years) || len(c.Cumulated) != len(c.Years) {
			t.Errorf("%s: years %v", c.Territory.Code, c.Years)
		}
		// The cumulated balance at the end of each year is the previous
		// one plus the year's balance, where all three are published.
		for y := 1; y < len(c.Years); y++ {
			if c.Cumulated[y].Shown() && c.Cumulated[y-1].Shown() && c.Balance[y].Shown() && c.Cumulated[y].V != c.Cumulated[y-1].V+c.Balance[y].V {
				t.Errorf("%s %d: cumulated %v != %v + %v", c.Territory.Code, c.Years[y], c.Cumulated[y].V, c.Cumulated[y-1].V, c.Balance[y].V)
			}
		}
		if c.Territory.Level == oml.LevelProvince {
			if c.Versus == nil || c.Versus.RankOf != 12 || len(c.Versus.Provinces) != 12 {
				t.Errorf("%s: comparison with the region missing", c.Territory.Code)
			}
			if c.CPIs == nil || len(c.CPIs.Rows) == 0 {
				t.Errorf("%s: no CPI", c.Territory.Code)
			}
			for _, r := range c.CPIs.Rows {
				if cpi, _ := names.Territory(r.Code); cpi.Parent != c.Territory.Code {
					t.Errorf("%s: CPI %s of %s", c.Territory.Code, r.Code, cpi.Parent)
				}
			}
		}
	}
	if _, err := report.New(rel, names, []string{"999"}, nil); oml.ErrorCode(err) != oml.ENOTFOUND {
		t.Errorf("unknown territory: %v", err)
	}
}

// TestXLSX opens the workbook and finds the methodology sheet, one sheet
// per table and the hires of the region.
func TestXLSX(t *testing.T) {
	_, _, _, all := open(t)
	var b bytes.Buffer
	if err := all.XLSX(&b); err != nil {
		t.Fatal(err)
	}
	sheets, cells := readXLSX(t, b.Bytes())
	if sheets[0] != "Metodologia" {
		t.Errorf("first sheet %q, want Metodologia", sheets[0])
	}
	if len(sheets) < 20 {
		t.Errorf("%d sheets: %v", len(sheets), sheets)
	}
	reg := all.Chapters[0]
	hires := reg.Headlines[0].Cur.V
	found := false
	for _, row := range cells[sheets[1]] {
		if len(row) > 1 && row[0] == "Attivazioni" && row[1] == fmt.Sprint(hires) {
			found = true
		}
	}
	if !found {
		t.Errorf("sheet %s lacks the region's hires %v: %v", sheets[1], hires, cells[sheets[1]])
	}
}

// TestPDF prints the regional report in Chromium and reads the PDF back
// with poppler: a page per chapter at least, the footer's page count equal
// to the document's, every page rendered, the text layer holding each
// territory's name and its hires of the last 12 months.
func TestPDF(t *testing.T) {
	if _, err := report.Chromium(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	for _, tool := range []string{"pdfinfo", "pdftotext", "pdftoppm"} {
		if _, err := execLookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not found (make chromium installs poppler-utils)", tool)
			}
			t.Skipf("%s not found (make chromium installs poppler-utils)", tool)
		}
	}
	_, _, _, all := open(t)
	var b bytes.Buffer
	if err := all.PDF(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte("%PDF-")) {
		t.Fatal("not a PDF")
	}
	dir := t.TempDir()
	pdf := filepath.Join(dir, "rapporto.pdf")
	if err := os.WriteFile(pdf, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	pages := pdfPages(t, pdf)
	if pages < len(all.Chapters) {
		t.Errorf("%d pages for %d chapters (each starts a page)", pages, len(all.Chapters))
	}
	text := run(t, "pdftotext", "-layout", pdf, "-")
	if !strings.Contains(text, fmt.Sprintf("pagina %d di %d", pages, pages)) {
		t.Errorf("footer of the last page (pagina %d di %d) missing", pages, pages)
	}
	for _, c := range all.Chapters {
		h := c.Headlines[0].Cur
		if !strings.Contains(text, c.Territory.Name) {
			t.Errorf("text layer lacks %s", c.Territory.Name)
		}
		if h.Shown() && !strings.Contains(text, itfmt.Number(h.V, 0)) {
			t.Errorf("text layer lacks the hires of %s (%s)", c.Territory.Name, itfmt.Number(h.V, 0))
		}
	}
	run(t, "pdftoppm", "-r", "30", "-png", pdf, filepath.Join(dir, "p"))
	pngs, _ := filepath.Glob(filepath.Join(dir, "p-*.png"))
	if len(pngs) != pages {
		t.Errorf("%d PNG pages, want %d", len(pngs), pages)
	}
	for _, p := range pngs {
		if st, err := os.Stat(p); err != nil || st.Size() < 1000 {
			t.Errorf("page %s empty", p)
		}
	}
}

func execLookPath(name string) (string, error) { return exec.LookPath(name) }

// run runs a command and returns its standard output.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out)
}

// pdfPages reads the page count of a PDF with pdfinfo.
func pdfPages(t *testing.T, path string) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindStringSubmatch(run(t, "pdfinfo", path))
	if m == nil {
		t.Fatal("pdfinfo: no page count")
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// readXLSX returns the sheet names and the rows of every sheet.
func readXLSX(t *testing.T, b []byte) ([]string, map[string][][]string) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cells := map[string][][]string{}
	for _, s := range f.GetSheetList() {
		if cells[s], err = f.GetRows(s); err != nil {
			t.Fatal(err)
		}
	}
	return f.GetSheetList(), cells
}
