// Package report builds the "Rapporto territoriale": one chapter for the
// region and one for each province, every figure read from a release with
// release.Select (the API's own answer) and never recomputed otherwise,
// with an automatic commentary in Italian, rendered as HTML (self-contained,
// SVG charts), PDF (the HTML printed by headless Chromium) and XLSX.
package report

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/method"
	"github.com/regione-lombardia/oml/internal/release"
)

// Value is one figure of a report with its provenance: the published
// monthly cells of Indicator for Territory (and Code of Dim, if any) from
// From to To, added up (Transform "sa": the seasonally adjusted series). A
// test asks the API for the same cells and checks the sum. V is NaN when
// a cell is withheld; Status is then C or M.
type Value struct {
	Indicator string
	Territory string
	Dim, Code string
	From, To  oml.Period
	Transform string
	V         float64
	Status    oml.Status
}

// Shown reports whether the value may be printed.
func (v Value) Shown() bool {
	return v.Status == oml.StatusNormal || v.Status == oml.StatusProvisional
}

// Headline is a flow of the last 12 months against the 12 before.
type Headline struct {
	Indicator, Label string
	Cur, Prev        Value
}

// Change returns Cur - Prev and the change in percent (NaN when Prev is 0
// or either is withheld).
func (h Headline) Change() (diff, pct float64, ok bool) {
	if !h.Cur.Shown() || !h.Prev.Shown() {
		return math.NaN(), math.NaN(), false
	}
	diff, pct = h.Cur.V-h.Prev.V, math.NaN()
	if h.Prev.V != 0 {
		pct = 100 * (h.Cur.V/h.Prev.V - 1)
	}
	return diff, pct, true
}

// Breakdown is the last 12 months (and the 12 before) of the flows by the
// codes of one dimension.
type Breakdown struct {
	Dim, Label string
	Partition  bool // the codes add up to the total
	Indicators []string
	Rows       []Row
}

// Row is one code (or territory) of a breakdown: the last 12 months and
// the 12 before, per indicator of its breakdown.
type Row struct {
	Code, Label string
	Cur, Prev   []Value // by Breakdown.Indicators
}

// Monthly is a monthly series of the last 18 months.
type Monthly struct {
	Indicator, Label string
	Raw, SA          []Value // SA: seasonally adjusted (nil where unavailable)
}

// Versus compares a province with the region and the other provinces.
type Versus struct {
	Share     Value     // the province's hires in the last 12 months, percent of the region's
	Rank      int       // rank by the change of hires, 1 = largest increase; 0 if any is withheld
	RankOf    int       // provinces ranked
	Region    Row       // the region's hires now and 12 months before (Cur[0], Prev[0])
	Provinces []Row     // every province, the same
	Index     [][]Value // hires of the last 18 months: [0] province, [1] region
}

// Chapter is the report of one territory.
type Chapter struct {
	Territory  oml.Territory
	Release    release.Info
	Method     *method.Catalogue
	Last       oml.Period   // last month of the release
	From, To   oml.Period   // the last 12 months
	Months     []oml.Period // the last 18 months
	Headlines  []Headline   // attivazioni, cessazioni, saldo
	Monthly    []Monthly    // attivazioni, cessazioni, saldo, last 18 months
	Years      []int        // from the first to the last complete year
	Balance    []Value      // saldo of each year
	Cumulated  []Value      // saldo_cumulato at the end of each year
	Breakdowns []Breakdown
	Versus     *Versus    // provinces only
	CPIs       *Breakdown // provinces: the CPIs inside
	Provinces  *Breakdown // the region: the 12 provinces
	TDTI       Value      // transformations from fixed-term to permanent, last 12 months
	Commentary []Sentence
	Intro      string // the observatory's introduction, if any
}

// flows of the headline figures, with their labels.
var flows = []struct{ id, label string }{
	{"attivazioni", "Attivazioni"}, {"cessazioni", "Cessazioni"}, {"saldo", "Saldo"},
}

// chapterDims are the breakdowns of a chapter, in order; contratto also
// shows the transformations.
var chapterDims = []string{"contratto", "ateco_sezione", "professione", "genere", "classe_eta", "cittadinanza", "titolo_studio", "target"}

// source reads sums of published cells from a release.
type source struct {
	rel   *release.Release
	names *method.Names
}

// series returns the monthly cells of a query, by territory and code.
func (s source) series(ind string, terr []string, dim string, from, to oml.Period, transform string) (map[string][]oml.Observation, *oml.Dataset, error) {
	q := release.Query{Indicator: ind, Territories: terr, From: from, To: to, Transform: transform}
	if dim != "" {
		q.By = []string{dim}
	}
	d, err := s.rel.Select(q, s.names)
	if err != nil {
		return nil, nil, fmt.Errorf("report: %s %v %s: %w", ind, terr, dim, err)
	}
	out := map[string][]oml.Observation{}
	for _, o := range d.Observations {
		k := o.Territory
		if dim != "" {
			k += "|" + o.Codes[0]
		}
		out[k] = append(out[k], o)
	}
	return out, d, nil
}

// total adds up observations into a Value (withheld if any is).
func total(obs []oml.Observation, v Value) Value {
	v.V, v.Status = 0, oml.StatusNormal
	for _, o := range obs {
		switch o.Status {
		case oml.StatusConfidential:
			v.V, v.Status = math.NaN(), oml.StatusConfidential
			return v
		case oml.StatusUnavailable:
			v.V, v.Status = math.NaN(), oml.StatusUnavailable
			return v
		case oml.StatusProvisional:
			v.Status = oml.StatusProvisional
		}
		v.V += o.Value
	}
	return v
}

// Build computes the chapter of a territory (the region or a province)
// from a release.
func Build(rel *release.Release, names *method.Names, code string) (*Chapter, error) {
	t, ok := names.Territory(code)
	if !ok || (t.Level != oml.LevelRegion && t.Level != oml.LevelProvince) {
		return nil, oml.Errorf(oml.ENOTFOUND, "rapporto: territorio %q non previsto / no report for territory %q", code, code).
			WithHint("i rapporti sono della regione (ITC4) e delle 12 province (012, 013, 014, 015, 016, 017, 018, 019, 020, 097, 098, 108), oppure all")
	}
	src := source{rel, names}
	first, last := rel.Periods(oml.Monthly)
	c := &Chapter{Territory: t, Release: rel.Info(), Method: rel.Catalogue(), Last: last, To: last}
	c.From = latest(last.Add(-11), first)
	prevFrom, prevTo := latest(last.Add(-23), first), last.Add(-12)
	for p := latest(last.Add(-17), first); p.Index() <= last.Index(); p = p.Add(1) {
		c.Months = append(c.Months, p)
	}
	hasPrev := prevTo.Index() >= first.Index() && last.Add(-23).Index() >= first.Index()

	// Headlines and the monthly series.
	for _, f := range flows {
		obs, _, err := src.series(f.id, []string{t.Code}, "", c.Months[0], last, "")
		if err != nil {
			return nil, err
		}
		h := Headline{Indicator: f.id, Label: f.label}
		all := obs[t.Code]
		h.Cur = total(tail(all, 12), Value{Indicator: f.id, Territory: t.Code, From: c.From, To: last})
		h.Prev = Value{Indicator: f.id, Territory: t.Code, From: prevFrom, To: prevTo, V: math.NaN(), Status: oml.StatusUnavailable}
		if hasPrev {
			pobs, _, err := src.series(f.id, []string{t.Code}, "", prevFrom, prevTo, "")
			if err != nil {
				return nil, err
			}
			h.Prev = total(pobs[t.Code], h.Prev)
		}
		c.Headlines = append(c.Headlines, h)

		m := Monthly{Indicator: f.id, Label: f.label}
		for _, o := range all {
			p, _ := oml.ParsePeriod(o.Period)
			m.Raw = append(m.Raw, total([]oml.Observation{o}, Value{Indicator: f.id, Territory: t.Code, From: p, To: p}))
		}
		if f.id != "saldo" {
			sa, _, err := src.series(f.id, []string{t.Code}, "", c.Months[0], last, release.TransformSA)
			if err != nil {
				return nil, err
			}
			for _, o := range sa[t.Code] {
				p, _ := oml.ParsePeriod(o.Period)
				m.SA = append(m.SA, total([]oml.Observation{o}, Value{Indicator: f.id, Territory: t.Code, From: p, To: p, Transform: release.TransformSA}))
			}
		}
		c.Monthly = append(c.Monthly, m)
	}

	// Yearly balances and the cumulated balance, complete years only.
	lastYear := last.Year
	if last.N != 12 {
		lastYear--
	}
	for y := first.Year; y <= lastYear; y++ {
		jan, dec := oml.Period{Freq: oml.Monthly, Year: y, N: 1}, oml.Period{Freq: oml.Monthly, Year: y, N: 12}
		jan = latest(jan, first)
		obs, _, err := src.series("saldo", []string{t.Code}, "", jan, dec, "")
		if err != nil {
			return nil, err
		}
		cum, _, err := src.series("saldo_cumulato", []string{t.Code}, "", dec, dec, "")
		if err != nil {
			return nil, err
		}
		c.Years = append(c.Years, y)
		c.Balance = append(c.Balance, total(obs[t.Code], Value{Indicator: "saldo", Territory: t.Code, From: jan, To: dec}))
		c.Cumulated = append(c.Cumulated, total(cum[t.Code], Value{Indicator: "saldo_cumulato", Territory: t.Code, From: dec, To: dec}))
	}

	// Breakdowns.
	cat := rel.Catalogue()
	att, _ := cat.Indicator("attivazioni")
	for _, dim := range chapterDims {
		if !cat.Allows(att, t.Level, []string{dim}) {
			continue
		}
		dd, _ := cat.Dimension(dim)
		inds := []string{"attivazioni", "cessazioni", "saldo"}
		if dim == "contratto" {
			inds = []string{"attivazioni", "trasformazioni", "cessazioni", "saldo"}
		}
		b := Breakdown{Dim: dim, Label: dd.Label, Partition: dd.Partition, Indicators: inds}
		rows, err := src.rows(inds, []string{t.Code}, dim, c.From, last, prevFrom, prevTo, hasPrev)
		if err != nil {
			return nil, err
		}
		b.Rows = rows
		c.Breakdowns = append(c.Breakdowns, b)
	}

	c.TDTI = Value{Indicator: "trasformazioni", Territory: t.Code, Dim: "tipo_trasformazione", Code: "TD_TI", From: c.From, To: last, V: math.NaN(), Status: oml.StatusUnavailable}
	if tr, err := cat.Indicator("trasformazioni"); err == nil && cat.Allows(tr, t.Level, []string{"tipo_trasformazione"}) {
		obs, _, err := src.series("trasformazioni", []string{t.Code}, "tipo_trasformazione", c.From, last, "")
		if err != nil {
			return nil, err
		}
		c.TDTI = total(obs[t.Code+"|TD_TI"], c.TDTI)
	}

	if t.Level == oml.LevelRegion {
		var provs []string
		for _, p := range names.Territories(oml.LevelProvince) {
			provs = append(provs, p.Code)
		}
		rows, err := src.rows([]string{"attivazioni", "cessazioni", "saldo"}, provs, "", c.From, last, prevFrom, prevTo, hasPrev)
		if err != nil {
			return nil, err
		}
		c.Provinces = &Breakdown{Dim: "provincia", Label: "Provincia", Partition: true, Indicators: []string{"attivazioni", "cessazioni", "saldo"}, Rows: rows}
	}
	if t.Level == oml.LevelProvince {
		v, err := src.versus(t.Code, c, prevFrom, prevTo, hasPrev)
		if err != nil {
			return nil, err
		}
		c.Versus = v
		var cpis []string
		for _, cp := range names.Territories(oml.LevelCPI) {
			if cp.Parent == t.Code {
				cpis = append(cpis, cp.Code)
			}
		}
		rows, err := src.rows([]string{"attivazioni", "cessazioni", "saldo"}, cpis, "", c.From, last, prevFrom, prevTo, hasPrev)
		if err != nil {
			return nil, err
		}
		c.CPIs = &Breakdown{Dim: "cpi", Label: "Centro per l'impiego", Partition: true, Indicators: []string{"attivazioni", "cessazioni", "saldo"}, Rows: rows}
	}
	c.Commentary = commentary(c)
	return c, nil
}

// rows are the last 12 months and the 12 before of indicators, for every
// code of dim in one territory, or (dim "") for every territory.
func (s source) rows(inds, terr []string, dim string, from, to, prevFrom, prevTo oml.Period, hasPrev bool) ([]Row, error) {
	byKey := map[string]*Row{}
	var order []string
	for i, ind := range inds {
		cur, d, err := s.series(ind, terr, dim, from, to, "")
		if err != nil {
			return nil, err
		}
		var prev map[string][]oml.Observation
		if hasPrev {
			if prev, _, err = s.series(ind, terr, dim, prevFrom, prevTo, ""); err != nil {
				return nil, err
			}
		}
		keys := make([]string, 0, len(cur))
		for _, o := range d.Observations {
			k := o.Territory
			if dim != "" {
				k += "|" + o.Codes[0]
			}
			if len(keys) == 0 || keys[len(keys)-1] != k {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			r, ok := byKey[k]
			if !ok {
				terrCode, code, _ := strings.Cut(k, "|")
				r = &Row{Code: code, Label: sentenceCase(d.Codes[dim][code]), Cur: make([]Value, len(inds)), Prev: make([]Value, len(inds))}
				if dim == "" {
					r.Code, r.Label = terrCode, d.Territories[terrCode]
				}
				if r.Label == "" {
					r.Label = r.Code
				}
				for j, id := range inds {
					r.Cur[j] = Value{Indicator: id, Territory: terrCode, Dim: dim, Code: code, From: from, To: to, Status: oml.StatusNormal}
					r.Prev[j] = Value{Indicator: id, Territory: terrCode, Dim: dim, Code: code, From: prevFrom, To: prevTo, V: math.NaN(), Status: oml.StatusUnavailable}
					if hasPrev {
						r.Prev[j].V, r.Prev[j].Status = 0, oml.StatusNormal
					}
				}
				byKey[k] = r
				order = append(order, k)
			}
			r.Cur[i] = total(cur[k], r.Cur[i])
			if hasPrev {
				r.Prev[i] = total(prev[k], r.Prev[i])
			}
		}
	}
	out := make([]Row, len(order))
	for i, k := range order {
		out[i] = *byKey[k]
	}
	return out, nil
}

// versus compares a province with the region and ranks it among the
// provinces by the change of its hires.
func (s source) versus(code string, c *Chapter, prevFrom, prevTo oml.Period, hasPrev bool) (*Versus, error) {
	var provs []string
	for _, p := range s.names.Territories(oml.LevelProvince) {
		provs = append(provs, p.Code)
	}
	rows, err := s.rows([]string{"attivazioni"}, append([]string{oml.RegionCode}, provs...), "", c.From, c.To, prevFrom, prevTo, hasPrev)
	if err != nil {
		return nil, err
	}
	v := &Versus{Region: rows[0], Provinces: rows[1:], RankOf: len(provs)}
	region, prov := rows[0], rows[slices.IndexFunc(rows, func(r Row) bool { return r.Code == code })]
	v.Share = Value{Indicator: "attivazioni", Territory: code, From: c.From, To: c.To, V: math.NaN(), Status: oml.StatusUnavailable}
	if prov.Cur[0].Shown() && region.Cur[0].Shown() && region.Cur[0].V > 0 {
		v.Share.V, v.Share.Status = 100*prov.Cur[0].V/region.Cur[0].V, worst(prov.Cur[0].Status, region.Cur[0].Status)
	}
	// Rank by the change of hires: only if every province's is published.
	type ch struct {
		code string
		pct  float64
	}
	var chs []ch
	for _, r := range v.Provinces {
		_, pct, ok := Headline{Cur: r.Cur[0], Prev: r.Prev[0]}.Change()
		if !ok || math.IsNaN(pct) {
			chs = nil
			break
		}
		chs = append(chs, ch{r.Code, pct})
	}
	if len(chs) == len(provs) {
		slices.SortStableFunc(chs, func(a, b ch) int { return -cmpFloat(a.pct, b.pct) })
		v.Rank = slices.IndexFunc(chs, func(x ch) bool { return x.code == code }) + 1
	}
	// Hires of the last 18 months, province and region.
	obs, _, err := s.series("attivazioni", []string{code, oml.RegionCode}, "", c.Months[0], c.To, "")
	if err != nil {
		return nil, err
	}
	for _, terr := range []string{code, oml.RegionCode} {
		var vals []Value
		for _, o := range obs[terr] {
			p, _ := oml.ParsePeriod(o.Period)
			vals = append(vals, total([]oml.Observation{o}, Value{Indicator: "attivazioni", Territory: terr, From: p, To: p}))
		}
		v.Index = append(v.Index, vals)
	}
	return v, nil
}

func worst(a, b oml.Status) oml.Status {
	if a == oml.StatusProvisional || b == oml.StatusProvisional {
		return oml.StatusProvisional
	}
	return oml.StatusNormal
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func tail[T any](s []T, n int) []T { return s[max(0, len(s)-n):] }

// latest returns the later of two periods of one frequency.
func latest(a, b oml.Period) oml.Period {
	if b.Index() > a.Index() {
		return b
	}
	return a
}

// Definitions are the catalogue's entries of the indicators a chapter
// shows, for its methodology box.
func (c *Chapter) Definitions() []*method.Indicator {
	var out []*method.Indicator
	for _, id := range []string{"attivazioni", "cessazioni", "trasformazioni", "saldo"} {
		if ind, err := c.Method.Indicator(id); err == nil {
			out = append(out, ind)
		}
	}
	return out
}
