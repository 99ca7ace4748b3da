package web

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/method"
)

// dataset is the JSON of a data response.
type dataset struct {
	Release       string `json:"release"`
	Vintage       string `json:"vintage"`
	MethodVersion string `json:"method_version"`
	Indicator     string `json:"indicator"`
	Label         string `json:"label"`
	Unit          string `json:"unit"`
	Transform     string `json:"transform"`
	Perimeter     string `json:"perimeter"`
	Scope         string `json:"scope"`
	Freq          string `json:"freq"`
	By            []string
	Observations  []struct {
		Territory string            `json:"territory"`
		Period    string            `json:"period"`
		Dims      map[string]string `json:"dims"`
		Value     *float64          `json:"value"`
		Status    string            `json:"status"`
	} `json:"observations"`
}

// territories returns the distinct territories of d, in order.
func (d *dataset) territories() []string {
	var out []string
	for _, o := range d.Observations {
		if !slices.Contains(out, o.Territory) {
			out = append(out, o.Territory)
		}
	}
	return out
}

// periods returns the distinct periods of d, in order.
func (d *dataset) periods() []string {
	var out []string
	for _, o := range d.Observations {
		if !slices.Contains(out, o.Period) {
			out = append(out, o.Period)
		}
	}
	return out
}

func TestDataDefaults(t *testing.T) {
	t.Parallel()
	f, _, ts := sharedTS(t)
	var d dataset
	r := get(t, ts, "/api/v1/data?indicator=attivazioni")
	r.decode(t, 200, &d)
	if d.Release != f.Info.ID || d.Vintage != f.Info.Vintage || d.MethodVersion != oml.MethodVersion ||
		d.Indicator != "attivazioni" || d.Perimeter != "workplace" || d.Scope != "full" || d.Freq != "M" || len(d.By) != 0 {
		t.Errorf("metadata %+v", d)
	}
	if tr := d.territories(); !slices.Equal(tr, []string{"ITC4"}) {
		t.Errorf("territories %v, want ITC4", tr)
	}
	ps := d.periods()
	if len(ps) == 0 || ps[0] != f.Info.First || ps[len(ps)-1] != f.Info.Last {
		t.Errorf("periods %s … %s, want the release's %s … %s", ps[0], ps[len(ps)-1], f.Info.First, f.Info.Last)
	}
	for k, want := range map[string]string{
		"X-OML-Release": f.Info.ID, "X-OML-Vintage": f.Info.Vintage, "X-OML-Method-Version": oml.MethodVersion,
		"X-OML-Perimeter": "workplace", "X-OML-Scope": "full", "Content-Type": mediaJSON,
	} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if r.Header.Get("Content-Disposition") != "" {
		t.Errorf("JSON with Content-Disposition %q", r.Header.Get("Content-Disposition"))
	}
	// Explicit defaults are the same query: same tag.
	r2 := get(t, ts, "/api/v1/data?indicator=attivazioni&territory=ITC4&freq=M&perimeter=workplace&scope=full&format=json&from="+f.Info.First+"&to=latest")
	if r2.StatusCode != 200 || r2.Header.Get("ETag") != r.Header.Get("ETag") {
		t.Errorf("explicit defaults: %d, ETag %s vs %s", r2.StatusCode, r2.Header.Get("ETag"), r.Header.Get("ETag"))
	}
}

// TestDataFormats decodes every format of one query and checks that they
// carry the same cells and the metadata.
func TestDataFormats(t *testing.T) {
	t.Parallel()
	f, _, ts := sharedTS(t)
	q := "/api/v1/data?indicator=attivazioni&territory=016,017&by=genere&freq=Q&from=2023&to=2024"
	var d dataset
	get(t, ts, q).decode(t, 200, &d)
	n := len(d.Observations)
	if n == 0 || !slices.Equal(d.By, []string{"genere"}) {
		t.Fatalf("%d observations, by %v", n, d.By)
	}
	for _, o := range d.Observations {
		if (o.Value == nil) != (o.Status == "C" || o.Status == "M") {
			t.Errorf("observation %+v: value and status disagree", o)
		}
	}

	tests := []struct {
		format, mediaType, ext string
		check                  func(t *testing.T, body []byte)
	}{
		{"csv", "text/csv", ".csv", func(t *testing.T, body []byte) {
			recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			head := recs[0]
			for _, col := range []string{"territorio", "periodo", "genere", "valore", "stato", "release", "vintage", "versione_metodologia", "perimetro", "ambito"} {
				if !slices.Contains(head, col) {
					t.Errorf("CSV header %v lacks %s", head, col)
				}
			}
			if len(recs)-1 != n {
				t.Errorf("CSV has %d rows, JSON %d observations", len(recs)-1, n)
			}
			rel := slices.Index(head, "release")
			if recs[1][rel] != f.Info.ID {
				t.Errorf("CSV release %q", recs[1][rel])
			}
		}},
		{"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx", func(t *testing.T, body []byte) {
			x, err := excelize.OpenReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			defer x.Close()
			rows, err := x.GetRows("Dati")
			if err != nil {
				t.Fatal(err)
			}
			if len(rows)-1 != n {
				t.Errorf("XLSX has %d rows, JSON %d observations", len(rows)-1, n)
			}
			notes, err := x.GetRows("Note")
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			for _, r := range notes {
				text.WriteString(strings.Join(r, " ") + "\n")
			}
			for _, want := range []string{f.Info.ID, f.Info.Vintage, oml.MethodVersion} {
				if !strings.Contains(text.String(), want) {
					t.Errorf("XLSX notes lack %s", want)
				}
			}
		}},
		{"sdmx-csv", "application/vnd.sdmx.data+csv", ".sdmx.csv", func(t *testing.T, body []byte) {
			recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(recs[0], "OBS_VALUE") || !slices.Contains(recs[0], "OBS_STATUS") || len(recs)-1 != n {
				t.Errorf("SDMX-CSV header %v, %d rows for %d observations", recs[0], len(recs)-1, n)
			}
		}},
		{"json-stat", "application/json", "", func(t *testing.T, body []byte) {
			var js struct {
				Version   string
				Class     string
				ID        []string
				Size      []int
				Value     []*float64
				Extension map[string]any
			}
			if err := json.Unmarshal(body, &js); err != nil {
				t.Fatal(err)
			}
			cells := 1
			for _, s := range js.Size {
				cells *= s
			}
			if js.Version != "2.0" || js.Class != "dataset" || len(js.Value) != cells || cells < n {
				t.Errorf("JSON-stat version %q class %q, %d values for size %v", js.Version, js.Class, len(js.Value), js.Size)
			}
			if js.Extension["release"] != f.Info.ID || js.Extension["perimeter"] != "workplace" || js.Extension["scope"] != "full" {
				t.Errorf("JSON-stat extension %v", js.Extension)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			r := get(t, ts, q+"&format="+tt.format)
			if r.StatusCode != 200 {
				t.Fatalf("status %d: %s", r.StatusCode, r.body)
			}
			if mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); mt != tt.mediaType {
				t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
			}
			if r.Header.Get("X-OML-Release") != f.Info.ID || r.Header.Get("X-OML-Vintage") != f.Info.Vintage || r.Header.Get("X-OML-Method-Version") != oml.MethodVersion {
				t.Errorf("X-OML headers %v", r.Header)
			}
			cd := r.Header.Get("Content-Disposition")
			if tt.ext != "" {
				want := "oml_attivazioni_016+017_per-genere_Q_2023-Q1_2024-Q4_" + f.Info.ID + tt.ext
				if !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, want) {
					t.Errorf("Content-Disposition %q, want attachment %s", cd, want)
				}
			} else if cd != "" {
				t.Errorf("Content-Disposition %q", cd)
			}
			tt.check(t, r.body)
		})
	}

	// The Accept header chooses when format is absent; format wins.
	r := get(t, ts, q, "Accept: text/csv")
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") || !strings.Contains(r.Header.Get("Vary"), "Accept") {
		t.Errorf("Accept text/csv: Content-Type %q, Vary %q", r.Header.Get("Content-Type"), r.Header.Get("Vary"))
	}
	r = get(t, ts, q+"&format=json", "Accept: text/csv")
	if r.Header.Get("Content-Type") != mediaJSON || strings.Contains(r.Header.Get("Vary"), "Accept,") || r.Header.Get("Vary") == "Accept-Encoding, Accept" {
		t.Errorf("format=json with Accept text/csv: Content-Type %q, Vary %q", r.Header.Get("Content-Type"), r.Header.Get("Vary"))
	}
}

func TestDataPeriods(t *testing.T) {
	t.Parallel()
	f, _, ts := sharedTS(t)
	last := f.Info.Last // "2024-12"
	tests := []struct {
		query       string
		first, last string
		n           int
	}{
		{"from=latest&to=latest", last, last, 1},
		{"from=latestMINUS11&to=latest", "2024-01", last, 12},
		{"from=latestMINUS11", "2024-01", last, 12},
		{"from=2023&to=2023", "2023-01", "2023-12", 12},
		{"from=2023-Q2&to=2023-Q3", "2023-04", "2023-09", 6},
		{"freq=Q&from=2023&to=2023", "2023-Q1", "2023-Q4", 4},
		{"freq=Q&from=latestMINUS3&to=latest", "2024-Q1", "2024-Q4", 4},
		{"freq=Y&from=latestMINUS1", "2023", "2024", 2},
		{"freq=y&from=2020&to=2021", "2020", "2021", 2},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var d dataset
			get(t, ts, "/api/v1/data?indicator=attivazioni&"+tt.query).decode(t, 200, &d)
			ps := d.periods()
			if len(ps) != tt.n || ps[0] != tt.first || ps[len(ps)-1] != tt.last {
				t.Errorf("periods %v, want %d from %s to %s", ps, tt.n, tt.first, tt.last)
			}
		})
	}
}

// TestDataSplit covers by=cpi and by=comune.
func TestDataSplit(t *testing.T) {
	t.Parallel()
	_, s, ts := sharedTS(t)
	cpisOf := func(prov string) []string {
		var out []string
		for _, tr := range s.names.Territories(oml.LevelCPI) {
			if prov == "" || tr.Parent == prov {
				out = append(out, tr.Code)
			}
		}
		return out
	}
	comuniOfCPI := func(cpi string) []string {
		var out []string
		for _, c := range s.lists.ComuniOfCPI(strings.TrimPrefix(cpi, "cpi:")) {
			out = append(out, c.Istat)
		}
		return out
	}
	bgCPI := cpisOf("016")
	tests := []struct {
		query string
		want  []string // territories, in order
		by    []string
	}{
		{"territory=016&by=cpi", bgCPI, nil},
		{"territory=ITC4&by=cpi", cpisOf(""), nil},
		{"territory=016,015&by=cpi", append(slices.Clone(bgCPI), cpisOf("015")...), nil},
		{"territory=016&by=genere,cpi", bgCPI, []string{"genere"}},
		{"territory=" + bgCPI[0] + "&by=comune", comuniOfCPI(bgCPI[0]), nil},
		{"territory=" + bgCPI[0] + "&by=cpi", bgCPI[:1], nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var d dataset
			get(t, ts, "/api/v1/data?indicator=attivazioni&freq=Y&"+tt.query).decode(t, 200, &d)
			got := d.territories()
			if tt.by == nil {
				if !slices.Equal(got, tt.want) {
					t.Errorf("territories %v\nwant %v", got, tt.want)
				}
			} else {
				// Broken down, a CPI without any cell has no series.
				for _, tr := range got {
					if !slices.Contains(tt.want, tr) {
						t.Errorf("territory %s not in %v", tr, tt.want)
					}
				}
				if len(got) == 0 || !slices.Equal(d.By, tt.by) {
					t.Errorf("territories %v, by %v", got, d.By)
				}
			}
		})
	}
	// The comuni of a province are many: per comune and year they fit.
	var d dataset
	get(t, ts, "/api/v1/data?indicator=attivazioni&freq=Y&territory=016&by=comune").decode(t, 200, &d)
	if n := len(d.territories()); n < 200 {
		t.Errorf("by=comune for Bergamo: %d comuni", n)
	}
}

func TestDataRowLimit(t *testing.T) {
	t.Parallel()
	_, _, ts := fixtureTS(t, func(c *Config) { c.RowLimit = 100 })
	// 96 months fit, 2 territories x 96 do not.
	get(t, ts, "/api/v1/data?indicator=attivazioni").decode(t, 200, &dataset{})
	e := get(t, ts, "/api/v1/data?indicator=attivazioni&territory=015,016").wantError(t, 400, "too_large")
	if !strings.Contains(e.Error.Message, "100") || e.Error.Hint == "" {
		t.Errorf("too_large error %+v", e.Error)
	}
	// The default limit refuses every comune of the region by month.
	_, _, ts2 := sharedTS(t)
	e = get(t, ts2, "/api/v1/data?indicator=attivazioni&by=comune").wantError(t, 400, "too_large")
	if !strings.Contains(e.Error.Message, "50000") {
		t.Errorf("default limit: %+v", e.Error)
	}
}

func TestDataErrors(t *testing.T) {
	t.Parallel()
	_, _, ts := sharedTS(t)
	tests := []struct {
		query  string
		status int
		code   string
		inHint string // a word the hint must contain, if any
	}{
		{"", 400, "invalid", "indicator"},
		{"indicator=nonesiste", 404, "not_found", "/api/v1/indicators"},
		{"indicator=saldo&territory=999", 404, "not_found", "/api/v1/territories"},
		{"indicator=saldo&territory=ITC4,cpi:NONESISTE", 404, "not_found", ""},
		{"indicator=saldo&freq=W", 400, "invalid", "M"},
		{"indicator=saldo&from=2024-13", 400, "invalid", "latestMINUS"},
		{"indicator=saldo&from=2024-06&to=2024-01", 400, "invalid", ""},
		{"indicator=saldo&freq=Q&from=2024-05", 400, "invalid", "2024-Q2"},
		{"indicator=saldo&from=1990-01&to=1990-12", 400, "invalid", ""},
		{"indicator=saldo&by=colore", 400, "invalid", "genere"},
		{"indicator=saldo&by=cpi,comune", 400, "invalid", ""},
		{"indicator=saldo&by=professione,cpi", 400, "invalid", "contratto"},
		{"indicator=saldo&territory=016024&by=genere", 400, "invalid", ""},
		{"indicator=saldo&territory=016024&by=cpi", 400, "invalid", ""},
		{"indicator=lavoratori_attivati&territory=016024", 400, "invalid", "cpi"},
		{"indicator=saldo&perimeter=home", 400, "invalid", "residence"},
		{"indicator=saldo&scope=all", 400, "invalid", "core"},
		{"indicator=saldo&transform=log", 400, "invalid", "yoy"},
		{"indicator=quota_ti&transform=roll12", 400, "invalid", ""},
		{"indicator=saldo&format=pdf", 400, "invalid", "csv"},
		{"indicator=saldo&release=20000101-1", 404, "not_found", "/api/v1/releases"},
		{"indicator=saldo&territori=016", 400, "invalid", "territory"},
		{"indicator=saldo&freq=M&freq=Q", 400, "invalid", ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			e := get(t, ts, "/api/v1/data?"+tt.query).wantError(t, tt.status, tt.code)
			if tt.inHint != "" && !strings.Contains(e.Error.Hint, tt.inHint) {
				t.Errorf("hint %q lacks %q", e.Error.Hint, tt.inHint)
			}
		})
	}
}

// TestDataCaching covers entity tags, 304, Cache-Control and gzip.
func TestDataCaching(t *testing.T) {
	t.Parallel()
	f, _, ts := sharedTS(t)
	q := "/api/v1/data?indicator=saldo&territory=016&by=genere,classe_eta&freq=Q"
	r := get(t, ts, q)
	tag := r.Header.Get("ETag")
	if r.StatusCode != 200 || !strings.HasPrefix(tag, `"`+f.Info.ID+"-") || !strings.HasSuffix(tag, `"`) {
		t.Fatalf("status %d, ETag %q", r.StatusCode, tag)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "public, max-age=300" {
		t.Errorf("latest: Cache-Control %q", cc)
	}
	nm := get(t, ts, q, "If-None-Match: "+tag)
	if nm.StatusCode != 304 || len(nm.body) != 0 || nm.Header.Get("ETag") != tag || nm.Header.Get("X-OML-Release") != f.Info.ID {
		t.Errorf("If-None-Match: %d, %d bytes, ETag %q", nm.StatusCode, len(nm.body), nm.Header.Get("ETag"))
	}
	if get(t, ts, q, `If-None-Match: "other", W/`+tag).StatusCode != 304 {
		t.Error("a list with the (weak) tag is not a match")
	}
	if get(t, ts, q, `If-None-Match: "other"`).StatusCode != 200 {
		t.Error("another tag matched")
	}
	// Equivalent queries share the tag; different ones do not.
	same := []string{
		"/api/v1/data?indicator=saldo&territory=016&by=classe_eta,genere&freq=Q",
		"/api/v1/data?indicator=saldo&territory=016,016&by=genere&by=classe_eta&freq=Q&scope=full",
	}
	for _, u := range same {
		if got := get(t, ts, u).Header.Get("ETag"); got != tag {
			t.Errorf("%s: ETag %s, want %s", u, got, tag)
		}
	}
	for _, u := range []string{
		q + "&format=csv", q + "&scope=core", q + "&from=2024", q + "&perimeter=residence", q + "&transform=yoy",
		"/api/v1/data?indicator=saldo&territory=016&by=genere&freq=Q",
	} {
		if got := get(t, ts, u).Header.Get("ETag"); got == tag || got == "" {
			t.Errorf("%s: ETag %s", u, got)
		}
	}

	// gzip: a different tag, the same content.
	z := get(t, ts, q, "Accept-Encoding: gzip")
	ztag := z.Header.Get("ETag")
	if z.Header.Get("Content-Encoding") != "gzip" || ztag == tag || !strings.Contains(z.Header.Get("Vary"), "Accept-Encoding") {
		t.Errorf("gzip: Content-Encoding %q, ETag %q, Vary %q", z.Header.Get("Content-Encoding"), ztag, z.Header.Get("Vary"))
	}
	if !bytes.Equal(z.body, r.body) {
		t.Error("gzipped body differs")
	}
	if get(t, ts, q, "Accept-Encoding: gzip", "If-None-Match: "+ztag).StatusCode != 304 {
		t.Error("gzip tag does not match")
	}
	// XLSX is a zip already: never gzipped.
	x := get(t, ts, q+"&format=xlsx", "Accept-Encoding: gzip")
	if x.Header.Get("Content-Encoding") != "" {
		t.Errorf("xlsx Content-Encoding %q", x.Header.Get("Content-Encoding"))
	}
	// An explicit release is immutable.
	r = get(t, ts, q+"&release="+url.QueryEscape(f.Info.ID))
	if cc := r.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("explicit release: Cache-Control %q", cc)
	}
}

// TestDataTransforms checks that each transform is served and labelled.
func TestDataTransforms(t *testing.T) {
	t.Parallel()
	_, _, ts := sharedTS(t)
	for _, tr := range transforms {
		t.Run(tr, func(t *testing.T) {
			var d dataset
			get(t, ts, "/api/v1/data?indicator=attivazioni&transform="+tr+"&from=2024").decode(t, 200, &d)
			if d.Transform != tr || len(d.Observations) != 12 {
				t.Errorf("transform %q, %d observations", d.Transform, len(d.Observations))
			}
			shown := 0
			for _, o := range d.Observations {
				if o.Value != nil {
					shown++
				}
			}
			if shown == 0 {
				t.Errorf("no value shown: %+v", d.Observations)
			}
		})
	}
}

func TestIndicatorsAndCodes(t *testing.T) {
	t.Parallel()
	f, s, ts := sharedTS(t)
	cat := f.Open(t).Catalogue()
	var il struct {
		Release    string
		Disclosure struct{ K int }
		Dimensions []dimensionView
		Indicators []indicatorView
	}
	get(t, ts, "/api/v1/indicators").decode(t, 200, &il)
	if il.Release != f.Info.ID || il.Disclosure.K != cat.Disclosure.K || len(il.Indicators) != len(cat.Indicators) {
		t.Fatalf("release %q, k %d, %d indicators", il.Release, il.Disclosure.K, len(il.Indicators))
	}
	for i, v := range il.Indicators {
		ind := cat.Indicators[i]
		if v.ID != ind.ID || v.Label != ind.Label || v.Definition == "" || v.Unit == "" || len(v.Levels) == 0 {
			t.Errorf("indicator %+v", v)
		}
		if len(v.Breakdowns["region"]) == 0 || len(v.Breakdowns["region"][0]) != 0 {
			t.Errorf("%s: region breakdowns %v do not start with the total", v.ID, v.Breakdowns["region"])
		}
	}
	var one indicatorView
	get(t, ts, "/api/v1/indicators/saldo").decode(t, 200, &one)
	if one.ID != "saldo" || !slices.Contains(one.Dimensions, "genere") || !slices.Contains(one.Dimensions, "cpi") || !slices.Contains(one.Dimensions, "comune") {
		t.Errorf("saldo: %+v", one)
	}
	e := get(t, ts, "/api/v1/indicators/nonesiste").wantError(t, 404, "not_found")
	if !strings.Contains(e.Error.Hint, "/api/v1/indicators") {
		t.Errorf("hint %q", e.Error.Hint)
	}

	type codes struct {
		Release, Dimension, Label string
		Codes                     []codeView
	}
	var c codes
	get(t, ts, "/api/v1/codes/genere?indicator=attivazioni").decode(t, 200, &c)
	if c.Release != f.Info.ID || c.Label == "" || len(c.Codes) < 2 || c.Codes[0].Code != "M" || c.Codes[0].Label != "Maschi" {
		t.Errorf("genere: %+v", c)
	}
	get(t, ts, "/api/v1/codes/ateco_sezione").decode(t, 200, &c)
	if len(c.Codes) < 5 {
		t.Errorf("ateco_sezione: %+v", c)
	}
	for _, cc := range c.Codes {
		if cc.Label == cc.Code {
			t.Errorf("ateco_sezione code %s has no label", cc.Code)
		}
	}
	get(t, ts, "/api/v1/codes/cpi?indicator=attivazioni").decode(t, 200, &c)
	all := s.names.Territories(oml.LevelCPI)
	if len(c.Codes) == 0 || len(c.Codes) > len(all) || !strings.HasPrefix(c.Codes[0].Code, "cpi:") || c.Codes[0].Label == c.Codes[0].Code {
		t.Errorf("cpi: %d codes of %d; first %+v", len(c.Codes), len(all), c.Codes[0])
	}
	get(t, ts, "/api/v1/codes/comune").decode(t, 200, &c)
	if len(c.Codes) < 100 {
		t.Errorf("comune: %d codes", len(c.Codes))
	}
	get(t, ts, "/api/v1/codes/colore").wantError(t, 404, "not_found")
	get(t, ts, "/api/v1/codes/genere?indicator=nonesiste").wantError(t, 404, "not_found")
}

// TestNoSmallCounts sweeps the public data for what disclosure control
// must prevent, across all indicators, several breakdowns, every level,
// frequency and transform that keeps counts:
//
//   - no count indicator shows a value between 1 and k-1;
//   - no additive count, broken down by a partition, has exactly one
//     withheld code in a published total, which would give it away by
//     difference (secondary suppression).
func TestNoSmallCounts(t *testing.T) {
	t.Parallel()
	f, s, ts := sharedTS(t)
	if !f.Disclosed {
		t.Fatal("the fixture's release was built without disclosure control")
	}
	rel := f.Open(t)
	cat := rel.Catalogue()
	k := cat.Disclosure.K
	if k < 2 {
		t.Skipf("k = %d suppresses nothing", k)
	}
	someCPI := s.names.Territories(oml.LevelCPI)[0].Code
	someComuni := s.lists.ComuniOfCPI(strings.TrimPrefix(someCPI, "cpi:"))
	// The territories of each level, and the split that makes them.
	territorySets := map[oml.Level][2]string{
		oml.LevelRegion:   {"ITC4", ""},
		oml.LevelProvince: {"012,013,014,015,016,017,018,019,020,097,098,108", ""},
		oml.LevelCPI:      {"ITC4", "cpi"},
		oml.LevelComune:   {someComuni[0].Istat + "," + someComuni[len(someComuni)-1].Istat + "," + someCPI, "comune"},
	}
	breakdowns := [][]string{{}, {"genere"}, {"contratto"}, {"classe_eta"}, {"ateco_sezione"}, {"cittadinanza"}, {"genere", "classe_eta"}}

	checked, shown, withheld := 0, 0, 0
	for _, ind := range cat.Indicators {
		if ind.NeedsIDs && !f.Info.HasIDs {
			continue
		}
		count := isCountIndicator(&ind)
		for _, level := range oml.Levels {
			if !ind.AtLevel(level) {
				continue
			}
			for _, b := range breakdowns {
				if !cat.Allows(&ind, level, b) {
					continue
				}
				for _, freq := range []string{"M", "Q", "Y"} {
					for _, tr := range []string{"", "roll12"} {
						if tr == "roll12" && (!count || !ind.Additive || ind.Kind != "flow" || freq == "Y") {
							continue
						}
						v := url.Values{"indicator": {ind.ID}, "freq": {freq}, "territory": {territorySets[level][0]}}
						if by := append(slices.Clone(b), territorySets[level][1]); len(by) > 1 || by[0] != "" {
							v.Set("by", strings.Trim(strings.Join(by, ","), ","))
						}
						if tr != "" {
							v.Set("transform", tr)
						}
						// Perimeters and scopes in turn, to cover every file.
						v.Set("perimeter", string(oml.Perimeters[(checked/2)%2]))
						v.Set("scope", string(oml.Scopes[checked%2]))
						q := "/api/v1/data?" + v.Encode()
						rows, ok := sweepRows(t, ts, q)
						if !ok {
							continue
						}
						checked++
						for _, o := range rows {
							if o.status == "C" {
								withheld++
							}
							if o.value == "" {
								continue
							}
							shown++
							v, err := strconv.ParseFloat(o.value, 64)
							if err != nil {
								t.Fatalf("%s: value %q: %v", q, o.value, err)
							}
							if count && v >= 1 && v <= float64(k-1) {
								t.Errorf("%s: %s %s %s = %s (status %s) is a count between 1 and k-1 = %d", q, o.territory, o.period, o.dims, o.value, o.status, k-1)
							}
						}
						if count && ind.Additive && tr == "" && len(b) == 1 {
							if dim, _ := cat.Dimension(b[0]); dim != nil && dim.Partition {
								checkDifferencing(t, ts, q, b[0], rows)
							}
						}
					}
				}
			}
		}
	}
	// The sweep must see both sides of the rule, or it proves nothing.
	if checked < 100 || shown == 0 || withheld == 0 {
		t.Errorf("sweep checked %d queries, %d shown values, %d confidential", checked, shown, withheld)
	}
	t.Logf("sweep: %d queries, %d shown values, %d confidential", checked, shown, withheld)
}

// sweepRow is one observation of the sweep, as the CSV format writes it.
type sweepRow struct {
	territory, period, dims, value, status string
}

// sweepRows requests q as CSV and returns its observations; ok is false
// when the query is over the row limit.
func sweepRows(t *testing.T, ts *httptest.Server, q string) (rows []sweepRow, ok bool) {
	t.Helper()
	r := get(t, ts, q+"&format=csv")
	if r.StatusCode == 400 && strings.Contains(string(r.body), "too_large") {
		return nil, false
	}
	if r.StatusCode != 200 {
		t.Fatalf("%s: %d %s", q, r.StatusCode, r.body)
	}
	recs, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	head := recs[0]
	val, st := slices.Index(head, "valore"), slices.Index(head, "stato")
	for _, rec := range recs[1:] {
		rows = append(rows, sweepRow{territory: rec[0], period: rec[2], dims: strings.Join(rec[3:val], ","), value: rec[val], status: rec[st]})
	}
	return rows, true
}

// checkDifferencing fetches the totals of the query q, broken down by
// dim, and reports every published total whose breakdown withholds
// exactly one code: that code's value would be the total minus the
// others.
func checkDifferencing(t *testing.T, ts *httptest.Server, q, dim string, rows []sweepRow) {
	t.Helper()
	u, err := url.Parse(q)
	if err != nil {
		t.Fatal(err)
	}
	v := u.Query()
	var by []string
	for _, b := range strings.Split(v.Get("by"), ",") {
		if b != dim && b != "" {
			by = append(by, b)
		}
	}
	if len(by) == 0 {
		v.Del("by")
	} else {
		v.Set("by", strings.Join(by, ","))
	}
	u.RawQuery = v.Encode()
	tot, _ := sweepRows(t, ts, u.String())
	type cell struct{ territory, period string }
	withheld := map[cell]int{}
	for _, o := range rows {
		if o.status == "C" {
			withheld[cell{o.territory, o.period}]++
		}
	}
	for _, o := range tot {
		if o.value != "" && withheld[cell{o.territory, o.period}] == 1 {
			t.Errorf("%s: %s %s: total %s published with exactly one %s withheld", q, o.territory, o.period, o.value, dim)
		}
	}
}

// isCountIndicator reports whether ind counts relationships, people or
// employers (a value from 1 to k-1 would single someone out). Balances
// are differences, not counts.
func isCountIndicator(ind *method.Indicator) bool {
	switch ind.Kind {
	case "distinct", "stock":
		return true
	case "flow":
		for _, t := range ind.Terms {
			if t.Sign < 0 {
				return false
			}
		}
		return true
	}
	return false
}
