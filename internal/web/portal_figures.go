package web

import (
	"math"
	"net/url"
	"strings"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/itfmt"
	"github.com/regione-lombardia/oml/internal/release"
)

// This file holds the pieces every portal page is made of: numbers written
// the Italian way with the status of the cell, sums of published cells,
// tables and chart specifications.

// cellView is one figure as a page shows it.
type cellView struct {
	Text     string
	Flag     bool   // provisional: a "p" follows the figure
	Withheld bool   // confidential or unavailable: Text says which
	Why      string // the reason a withheld figure is not shown
	Link     string // first column of a table: the row's page
}

// label is a first-column cell.
func label(text, link string) cellView { return cellView{Text: text, Link: link} }

// value is a figure with its status, dec decimals; signed writes a plus
// sign before positive values (changes, balances of a change).
func value(v float64, st oml.Status, dec int, signed bool) cellView {
	switch st {
	case oml.StatusConfidential:
		return cellView{Text: "c", Withheld: true, Why: "dato riservato per il segreto statistico"}
	case oml.StatusUnavailable:
		return cellView{Text: "n.d.", Withheld: true, Why: "dato non disponibile"}
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return cellView{Text: "n.d.", Withheld: true, Why: "dato non calcolabile"}
	}
	t := itfmt.Number(v, dec)
	if signed && v > 0 {
		t = "+" + t
	}
	return cellView{Text: t, Flag: st == oml.StatusProvisional}
}

// shown reports whether a status carries a value.
func shown(st oml.Status) bool { return st == oml.StatusNormal || st == oml.StatusProvisional }

// sum adds published cells: withheld if any is (C before M), provisional
// if any is.
func sum(vals []float64, sts []oml.Status) (float64, oml.Status) {
	total, st := 0.0, oml.StatusNormal
	for i, v := range vals {
		switch sts[i] {
		case oml.StatusConfidential:
			return math.NaN(), oml.StatusConfidential
		case oml.StatusUnavailable:
			st = oml.StatusUnavailable
		case oml.StatusProvisional:
			if st == oml.StatusNormal {
				st = oml.StatusProvisional
			}
		}
		total += v
	}
	if st == oml.StatusUnavailable {
		return math.NaN(), st
	}
	return total, st
}

// change is b - a and, in percent, 100 (b/a - 1): withheld if either is,
// provisional if either is; the percentage is unavailable when a is 0.
func change(a float64, sa oml.Status, b float64, sb oml.Status) (diff, pct float64, st oml.Status) {
	if !shown(sa) || !shown(sb) {
		if sa == oml.StatusConfidential || sb == oml.StatusConfidential {
			return math.NaN(), math.NaN(), oml.StatusConfidential
		}
		return math.NaN(), math.NaN(), oml.StatusUnavailable
	}
	st = oml.StatusNormal
	if sa == oml.StatusProvisional || sb == oml.StatusProvisional {
		st = oml.StatusProvisional
	}
	pct = math.NaN()
	if a != 0 {
		pct = 100 * (b/a - 1)
	}
	return b - a, pct, st
}

// series is one row of observations of a dataset: its values and statuses
// in period order.
type series struct {
	vals []float64
	sts  []oml.Status
}

// seriesOf splits a dataset into its series, by territory and codes
// ("015" or "015|F"), keeping the order of first appearance.
func seriesOf(d *oml.Dataset) (map[string]*series, []string) {
	out := map[string]*series{}
	var order []string
	for _, o := range d.Observations {
		k := o.Territory
		if len(o.Codes) > 0 {
			k += "|" + strings.Join(o.Codes, "|")
		}
		s, ok := out[k]
		if !ok {
			s = &series{}
			out[k] = s
			order = append(order, k)
		}
		s.vals = append(s.vals, o.Value)
		s.sts = append(s.sts, o.Status)
	}
	return out, order
}

// periodsOf lists the periods of a dataset's first series.
func periodsOf(d *oml.Dataset) []string {
	var out []string
	for i, o := range d.Observations {
		if i > 0 && o.Territory != d.Observations[0].Territory {
			break
		}
		if len(out) > 0 && out[0] == o.Period {
			break
		}
		out = append(out, o.Period)
	}
	return out
}

// chartValue is a figure a chart draws: null when withheld.
func chartValue(v float64, st oml.Status) *float64 {
	if !shown(st) || math.IsNaN(v) {
		return nil
	}
	x := math.Round(v*10) / 10
	return &x
}

// chartSpec is what oml.js turns into an ECharts option.
type chartSpec struct {
	Title      string        `json:"title"`
	Kind       string        `json:"kind"` // bar, barh, line
	Categories []string      `json:"categories"`
	Series     []chartSeries `json:"series"`
}

type chartSeries struct {
	Name string     `json:"name"`
	Type string     `json:"type,omitempty"` // line or bar, when it differs from Kind
	Data []*float64 `json:"data"`
}

// chartBlock is a chart with its table and downloads.
type chartBlock struct {
	ID, Title, Note string
	Tall            bool
	Spec            chartSpec
	Table           tableView
	Downloads       []link
}

type tableView struct {
	Caption string
	Head    []string
	Rows    [][]cellView
}

type link struct{ URL, Label string }

// apiURL is the address of the API's answer to q, in a format (json, csv,
// xlsx, sdmx-csv, json-stat), naming the release so that the download
// gives the figures of the page.
func apiURL(rel string, q release.Query, format string) string {
	v := url.Values{}
	v.Set("indicator", q.Indicator)
	if len(q.Territories) > 0 {
		v.Set("territory", strings.Join(q.Territories, ","))
	}
	if q.Freq != 0 && q.Freq != oml.Monthly {
		v.Set("freq", q.Freq.String())
	}
	if q.From.Freq != 0 {
		v.Set("from", q.From.String())
	}
	if q.To.Freq != 0 {
		v.Set("to", q.To.String())
	}
	if len(q.By) > 0 {
		v.Set("by", strings.Join(q.By, ","))
	}
	if q.Perimeter != "" && q.Perimeter != oml.Workplace {
		v.Set("perimeter", string(q.Perimeter))
	}
	if q.Scope != "" && q.Scope != oml.ScopeFull {
		v.Set("scope", string(q.Scope))
	}
	if q.Transform != "" {
		v.Set("transform", q.Transform)
	}
	v.Set("release", rel)
	if format != "" && format != "json" {
		v.Set("format", format)
	}
	return APIPrefix + "/data?" + v.Encode()
}

// downloads are the CSV and XLSX links of the queries a chart draws.
func downloads(rel string, qs []release.Query, labels []string) []link {
	var out []link
	for i, q := range qs {
		out = append(out,
			link{URL: apiURL(rel, q, "csv"), Label: labels[i] + " (CSV)"},
			link{URL: apiURL(rel, q, "xlsx"), Label: labels[i] + " (XLSX)"})
	}
	return out
}

// periodLabel writes a period of the API ("2024-12") for people: "dic
// 2024", "2024 T4", "2024"; long writes the month in full ("dicembre 2024").
func periodLabel(p string, long bool) string {
	pp, err := oml.ParsePeriod(p)
	if err != nil {
		return p
	}
	if long {
		return itfmt.Period(pp)
	}
	return itfmt.ShortPeriod(pp)
}

// latest returns the latest of periods of one frequency.
func latest(ps ...oml.Period) oml.Period {
	out := ps[0]
	for _, p := range ps[1:] {
		if p.Index() > out.Index() {
			out = p
		}
	}
	return out
}
