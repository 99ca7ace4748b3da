package web

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/geo"
	"github.com/regione-lombardia/oml/internal/itfmt"
	"github.com/regione-lombardia/oml/internal/release"
)

// The home page and the pages of the region, a province or a CPI.

// flows are the three indicators of the headline figures, with their
// labels and the colours of oml.js (blue, red, green).
var flows = []struct{ id, label, class string }{
	{"attivazioni", "Attivazioni", ""},
	{"cessazioni", "Cessazioni", "out"},
	{"saldo", "Saldo", "balance"},
}

// breakdownDims are the breakdowns a territory page shows, in order.
var breakdownDims = []string{"ateco_sezione", "contratto", "genere", "classe_eta", "cittadinanza", "titolo_studio", "target"}

// kpi is a headline figure with its change on the year before.
type kpi struct {
	Label, Class           string
	Value, Delta           cellView
	DeltaClass, DeltaLabel string
}

// figures is what the home page and every territory page show first.
type figures struct {
	Code, Name          string
	Last, Window, Since string
	Month, Year         []kpi
	Trend, Cumulated    chartBlock
}

// territoryPage is the body of the territory template.
type territoryPage struct {
	figures
	Kind            string
	Crumbs          []link
	Map             *mapView
	MapHeading      string
	Breakdowns      []chartBlock
	Children        []link
	ChildrenHeading string
	Report          bool // the territory has a chapter of the territorial report
}

// homePage is the body of the home template.
type homePage struct {
	figures
	Map *mapView
}

// mapView is a choropleth with its legend and table.
type mapView struct {
	Title, ViewBox, Attribution string
	Comuni                      bool
	Shapes                      []mapShape
	Legend                      []legendItem
	Table                       tableView
}

type mapShape struct {
	Name, Link, Path, Class, Label string
}

type legendItem struct{ Class, Label string }

func (s *Server) pageHome(r *http.Request, rel *release.Release) (*page, error) {
	f, err := s.figures(rel, oml.RegionCode)
	if err != nil {
		return nil, err
	}
	m, err := s.provinceMap(rel)
	if err != nil {
		return nil, err
	}
	return &page{name: "home", nav: "/", title: "Il lavoro in Lombardia", body: homePage{figures: *f, Map: m}}, nil
}

func (s *Server) pageTerritory(r *http.Request, rel *release.Release) (*page, error) {
	code := r.PathValue("code")
	t, ok := s.names.Territory(code)
	if !ok || t.Level == oml.LevelComune {
		return nil, oml.Errorf(oml.ENOTFOUND, "territorio %q inesistente / no such territory %q", code, code).
			WithHint("le pagine sono della regione (ITC4), delle province (es. 016) e dei centri per l'impiego; l'elenco è nella pagina della regione")
	}
	f, err := s.figures(rel, t.Code)
	if err != nil {
		return nil, err
	}
	p := territoryPage{figures: *f, Report: t.Level == oml.LevelRegion || t.Level == oml.LevelProvince}
	region := link{URL: "/territorio/" + oml.RegionCode, Label: "Lombardia"}
	switch t.Level {
	case oml.LevelRegion:
		p.Kind = "Regione"
		if p.Map, err = s.provinceMap(rel); err != nil {
			return nil, err
		}
		p.MapHeading = "Le province"
		for _, c := range s.names.Territories(oml.LevelProvince) {
			p.Children = append(p.Children, link{URL: "/territorio/" + c.Code, Label: c.Name})
		}
		p.ChildrenHeading = "Le province"
	case oml.LevelProvince:
		p.Kind = "Provincia"
		if t.Code == "015" {
			p.Kind = "Città metropolitana"
		}
		p.Crumbs = []link{region}
		if p.Map, err = s.comuneMap(rel, t.Code, ""); err != nil {
			return nil, err
		}
		p.MapHeading = "I comuni"
		for _, c := range s.names.Territories(oml.LevelCPI) {
			if c.Parent == t.Code {
				p.Children = append(p.Children, link{URL: "/territorio/" + c.Code, Label: c.Name})
			}
		}
		p.ChildrenHeading = "I centri per l'impiego"
	case oml.LevelCPI:
		p.Kind = "Centro per l'impiego"
		prov, _ := s.names.Territory(t.Parent)
		p.Crumbs = []link{region, {URL: "/territorio/" + prov.Code, Label: prov.Name}}
		if p.Map, err = s.comuneMap(rel, t.Parent, strings.TrimPrefix(t.Code, oml.CPIPrefix)); err != nil {
			return nil, err
		}
		p.MapHeading = "I comuni del centro per l'impiego"
	}
	if p.Breakdowns, err = s.breakdowns(rel, t); err != nil {
		return nil, err
	}
	return &page{name: "territory", nav: navOf(t), title: t.Name, body: p,
		description: "Attivazioni, cessazioni e saldo dei rapporti di lavoro: " + t.Name + "."}, nil
}

func navOf(t oml.Territory) string {
	if t.Level == oml.LevelRegion {
		return "/"
	}
	return ""
}

// figures computes the headline figures of a territory: the last month
// and the last 12 months against the year before, the last 18 months, and
// the balance cumulated since the first month.
func (s *Server) figures(rel *release.Release, code string) (*figures, error) {
	t, _ := s.names.Territory(code)
	first, last := rel.Periods(oml.Monthly)
	from := latest(last.Add(-23), first)
	info := rel.Info()
	f := &figures{Code: t.Code, Name: t.Name, Last: periodLabel(last.String(), true), Since: periodLabel(first.String(), true)}
	f.Window = periodLabel(latest(last.Add(-11), first).String(), true) + " – " + periodLabel(last.String(), true)

	var sers []*series
	var periods []string
	for _, fl := range flows {
		d, err := rel.Select(release.Query{Indicator: fl.id, Territories: []string{t.Code}, From: from, To: last}, s.names)
		if err != nil {
			return nil, err
		}
		all, order := seriesOf(d)
		if len(order) != 1 {
			return nil, fmt.Errorf("web: %s of %s: %d series", fl.id, t.Code, len(order))
		}
		sers = append(sers, all[order[0]])
		periods = periodsOf(d)
	}
	n := len(periods)
	prevMonth := "stesso mese dell'anno prima"
	if n > 12 {
		prevMonth = periodLabel(periods[n-13], false)
	}
	for i, fl := range flows {
		sr := sers[i]
		cur, cst := sr.vals[n-1], sr.sts[n-1]
		pv, pst := math.NaN(), oml.StatusUnavailable
		if n > 12 {
			pv, pst = sr.vals[n-13], sr.sts[n-13]
		}
		f.Month = append(f.Month, newKPI(fl.label, fl.class, cur, cst, pv, pst, fl.id == "saldo", "rispetto a "+prevMonth))

		yv, yst := sum(sr.vals[max(0, n-12):], sr.sts[max(0, n-12):])
		if n < 12 {
			yv, yst = math.NaN(), oml.StatusUnavailable
		}
		ppv, ppst := math.NaN(), oml.StatusUnavailable
		if n >= 24 {
			ppv, ppst = sum(sr.vals[n-24:n-12], sr.sts[n-24:n-12])
		}
		f.Year = append(f.Year, newKPI(fl.label, fl.class, yv, yst, ppv, ppst, fl.id == "saldo", "rispetto ai 12 mesi precedenti"))
	}

	// The last 18 months.
	lo := max(0, n-18)
	trend := chartBlock{ID: "andamento", Title: "Attivazioni, cessazioni e saldo mensili: " + t.Name,
		Spec:  chartSpec{Kind: "bar"},
		Table: tableView{Caption: "Attivazioni, cessazioni e saldo per mese", Head: []string{"Mese", "Attivazioni", "Cessazioni", "Saldo"}}}
	trend.Spec.Title = trend.Title
	var qs []release.Query
	var labels []string
	for i, fl := range flows {
		cs := chartSeries{Name: fl.label}
		if fl.id == "saldo" {
			cs.Type = "line"
		}
		for j := lo; j < n; j++ {
			cs.Data = append(cs.Data, chartValue(sers[i].vals[j], sers[i].sts[j]))
		}
		trend.Spec.Series = append(trend.Spec.Series, cs)
		q, _ := oml.ParsePeriod(periods[lo])
		qs = append(qs, release.Query{Indicator: fl.id, Territories: []string{t.Code}, From: q, To: last})
		labels = append(labels, fl.label)
	}
	for j := lo; j < n; j++ {
		trend.Spec.Categories = append(trend.Spec.Categories, periodLabel(periods[j], false))
		row := []cellView{label(periodLabel(periods[j], true), "")}
		for i, fl := range flows {
			row = append(row, value(sers[i].vals[j], sers[i].sts[j], 0, fl.id == "saldo"))
		}
		trend.Table.Rows = append(trend.Table.Rows, row)
	}
	trend.Downloads = downloads(info.ID, qs, labels)
	f.Trend = trend

	// The balance cumulated since the first month.
	cq := release.Query{Indicator: "saldo_cumulato", Territories: []string{t.Code}, From: first, To: last}
	d, err := rel.Select(cq, s.names)
	if err != nil {
		return nil, err
	}
	cum := chartBlock{ID: "cumulato", Title: "Saldo cumulato dal " + periodLabel(first.String(), true) + ": " + t.Name, Tall: false,
		Spec:  chartSpec{Kind: "line"},
		Table: tableView{Caption: "Saldo cumulato a fine mese", Head: []string{"Mese", "Saldo cumulato"}}}
	cum.Spec.Title = cum.Title
	cs := chartSeries{Name: "Saldo cumulato"}
	for _, o := range d.Observations {
		cum.Spec.Categories = append(cum.Spec.Categories, periodLabel(o.Period, false))
		cs.Data = append(cs.Data, chartValue(o.Value, o.Status))
		cum.Table.Rows = append(cum.Table.Rows, []cellView{label(periodLabel(o.Period, true), ""), value(o.Value, o.Status, 0, true)})
	}
	cum.Spec.Series = []chartSeries{cs}
	cum.Downloads = downloads(info.ID, []release.Query{cq}, []string{"Saldo cumulato"})
	f.Cumulated = cum
	return f, nil
}

// newKPI is a headline figure: the balance's change in units, the flows'
// in percent.
func newKPI(lbl, class string, cur float64, cst oml.Status, prev float64, pst oml.Status, balance bool, against string) kpi {
	k := kpi{Label: lbl, Class: class, Value: value(cur, cst, 0, balance), DeltaLabel: against}
	diff, pct, st := change(prev, pst, cur, cst)
	if balance {
		k.Delta = value(diff, st, 0, true)
	} else {
		k.Delta = value(pct, st, 1, true)
		if !k.Delta.Withheld {
			k.Delta.Text += "%"
		}
	}
	// Green for a change for the better: more hires, a higher balance,
	// fewer terminations.
	if class == "out" {
		diff = -diff
	}
	switch {
	case k.Delta.Withheld:
	case diff > 0:
		k.DeltaClass = "oml-up"
	case diff < 0:
		k.DeltaClass = "oml-down"
	}
	return k
}

// breakdowns are the charts of the last 12 months by each breakdown the
// catalogue publishes at the territory's level.
func (s *Server) breakdowns(rel *release.Release, t oml.Territory) ([]chartBlock, error) {
	cat := rel.Catalogue()
	first, last := rel.Periods(oml.Monthly)
	from := latest(last.Add(-11), first)
	ind, err := cat.Indicator("attivazioni")
	if err != nil {
		return nil, err
	}
	var out []chartBlock
	for _, dim := range breakdownDims {
		if !cat.Allows(ind, t.Level, []string{dim}) {
			continue
		}
		dd, _ := cat.Dimension(dim)
		type row struct {
			label string
			vals  [3]float64
			sts   [3]oml.Status
		}
		rows := map[string]*row{}
		var order []string
		var qs []release.Query
		var labels []string
		for i, fl := range flows {
			q := release.Query{Indicator: fl.id, Territories: []string{t.Code}, From: from, To: last, By: []string{dim}}
			d, err := rel.Select(q, s.names)
			if err != nil {
				return nil, err
			}
			qs = append(qs, q)
			labels = append(labels, fl.label)
			sers, keys := seriesOf(d)
			for _, k := range keys {
				code := k[strings.LastIndexByte(k, '|')+1:]
				r, ok := rows[code]
				if !ok {
					r = &row{label: d.Codes[dim][code]}
					if r.label == "" {
						r.label = code
					}
					rows[code] = r
					order = append(order, code)
				}
				r.vals[i], r.sts[i] = sum(sers[k].vals, sers[k].sts)
			}
		}
		// Codes come in the catalogue's order for the first indicator;
		// codes only the others have follow. A code an indicator does not
		// answer has no event: 0.
		for _, r := range rows {
			for i := range r.sts {
				if r.sts[i] == 0 {
					r.sts[i] = oml.StatusNormal
				}
			}
		}
		title := dd.Label + ": " + t.Name
		cb := chartBlock{ID: "per-" + dim, Title: title, Tall: len(order) > 8,
			Spec:  chartSpec{Title: title, Kind: "barh"},
			Table: tableView{Caption: dd.Label + ", ultimi 12 mesi", Head: []string{dd.Label, "Attivazioni", "Cessazioni", "Saldo"}}}
		if dim == "target" {
			cb.Note = "I gruppi si sovrappongono: una persona può appartenere a più gruppi, quindi i valori non si sommano."
		}
		// Horizontal bars are drawn bottom-up: reverse, so that the chart
		// reads in the table's order.
		for i := len(order) - 1; i >= 0; i-- {
			cb.Spec.Categories = append(cb.Spec.Categories, rows[order[i]].label)
		}
		for i, fl := range flows {
			cs := chartSeries{Name: fl.label}
			for j := len(order) - 1; j >= 0; j-- {
				r := rows[order[j]]
				cs.Data = append(cs.Data, chartValue(r.vals[i], r.sts[i]))
			}
			cb.Spec.Series = append(cb.Spec.Series, cs)
		}
		for _, code := range order {
			r := rows[code]
			cb.Table.Rows = append(cb.Table.Rows, []cellView{label(r.label, ""),
				value(r.vals[0], r.sts[0], 0, false), value(r.vals[1], r.sts[1], 0, false), value(r.vals[2], r.sts[2], 0, true)})
		}
		cb.Downloads = downloads(rel.Info().ID, qs, labels)
		out = append(out, cb)
	}
	return out, nil
}

// Classes of the change of hires on the year before, in percent: a
// diverging scale centred on "stable" (within 3%).
var changeBreaks = []struct {
	upTo  float64
	label string
}{
	{-10, "calo oltre il 10%"},
	{-3, "calo tra 3% e 10%"},
	{3, "stabile (entro ±3%)"},
	{10, "crescita tra 3% e 10%"},
	{math.Inf(1), "crescita oltre il 10%"},
}

// provinceMap colours the provinces by the change of their hires in the
// last 12 months on the 12 months before; each links to its page.
func (s *Server) provinceMap(rel *release.Release) (*mapView, error) {
	first, last := rel.Periods(oml.Monthly)
	m := s.portal.atlas.Provinces()
	codes := make([]string, len(m.Shapes))
	for i, sh := range m.Shapes {
		codes[i] = sh.Code
	}
	d, err := rel.Select(release.Query{Indicator: "attivazioni", Territories: codes, From: latest(last.Add(-23), first), To: last}, s.names)
	if err != nil {
		return nil, err
	}
	sers, _ := seriesOf(d)
	mv := &mapView{Title: "Attivazioni negli ultimi 12 mesi: variazione sui 12 mesi precedenti", ViewBox: m.ViewBox(), Attribution: geo.Attribution,
		Table: tableView{Caption: "Attivazioni per provincia, ultimi 12 mesi", Head: []string{"Provincia", "Attivazioni", "Variazione %"}}}
	for i, b := range changeBreaks {
		mv.Legend = append(mv.Legend, legendItem{Class: fmt.Sprintf("q%d", i), Label: b.label})
	}
	mv.Legend = append(mv.Legend, legendItem{Class: "qc", Label: "dato riservato o non disponibile"})
	for _, sh := range m.Shapes {
		sr := sers[sh.Code]
		n := len(sr.vals)
		cur, cst := math.NaN(), oml.StatusUnavailable
		if n >= 12 {
			cur, cst = sum(sr.vals[n-12:], sr.sts[n-12:])
		}
		prev, pst := math.NaN(), oml.StatusUnavailable
		if n >= 24 {
			prev, pst = sum(sr.vals[n-24:n-12], sr.sts[n-24:n-12])
		}
		_, pct, st := change(prev, pst, cur, cst)
		pv := value(pct, st, 1, true)
		if !pv.Withheld {
			pv.Text += "%"
		}
		class := "qc"
		if !pv.Withheld {
			for i, b := range changeBreaks {
				if pct < b.upTo {
					class = fmt.Sprintf("q%d", i)
					break
				}
			}
		}
		cv := value(cur, cst, 0, false)
		mv.Shapes = append(mv.Shapes, mapShape{Name: sh.Name, Link: "/territorio/" + sh.Code, Path: sh.Path, Class: class,
			Label: "attivazioni " + cv.Text + ", variazione " + pv.Text})
		mv.Table.Rows = append(mv.Table.Rows, []cellView{label(sh.Name, "/territorio/"+sh.Code), cv, pv})
	}
	return mv, nil
}

// comuneMap colours the comuni of a province by their hires in the last 12
// months, in five classes of equal counts (quintiles). With cpi set, only
// that CPI's comuni are coloured and listed; the others are drawn blank.
func (s *Server) comuneMap(rel *release.Release, province, cpi string) (*mapView, error) {
	first, last := rel.Periods(oml.Monthly)
	m, ok := s.portal.atlas.Comuni(province)
	if !ok {
		return nil, fmt.Errorf("web: no map of the comuni of %s", province)
	}
	var codes []string
	for _, sh := range m.Shapes {
		if c, ok := s.lists.Comune(sh.Code); ok && (cpi == "" || c.CPI == cpi) {
			codes = append(codes, sh.Code)
		}
	}
	d, err := rel.Select(release.Query{Indicator: "attivazioni", Territories: codes, From: latest(last.Add(-11), first), To: last}, s.names)
	if err != nil {
		return nil, err
	}
	sers, _ := seriesOf(d)
	type cv struct {
		v  float64
		st oml.Status
	}
	vals := map[string]cv{}
	var shownVals []float64
	for _, c := range codes {
		v, st := sum(sers[c].vals, sers[c].sts)
		vals[c] = cv{v, st}
		if shown(st) {
			shownVals = append(shownVals, v)
		}
	}
	breaks := quintiles(shownVals)
	mv := &mapView{Title: "Attivazioni negli ultimi 12 mesi per comune di lavoro", ViewBox: m.ViewBox(), Attribution: geo.Attribution, Comuni: true,
		Table: tableView{Caption: "Attivazioni per comune, ultimi 12 mesi", Head: []string{"Comune", "Attivazioni"}}}
	lo := math.Inf(-1)
	for i, hi := range breaks {
		lbl := "fino a " + itfmt.Number(hi, 0)
		if i > 0 {
			lbl = "da " + itfmt.Number(lo, 0) + " a " + itfmt.Number(hi, 0)
		}
		if i > 0 && lo == hi {
			lbl = itfmt.Number(hi, 0)
		}
		mv.Legend = append(mv.Legend, legendItem{Class: fmt.Sprintf("s%d", i), Label: lbl})
		lo = nextValue(shownVals, hi)
	}
	mv.Legend = append(mv.Legend, legendItem{Class: "qc", Label: "dato riservato per il segreto statistico"})
	if cpi != "" {
		mv.Legend = append(mv.Legend, legendItem{Class: "qx", Label: "comune di un altro centro per l'impiego"})
	}
	for _, sh := range m.Shapes {
		x, ok := vals[sh.Code]
		if !ok {
			mv.Shapes = append(mv.Shapes, mapShape{Name: sh.Name, Path: sh.Path, Class: "qx", Label: "altro centro per l'impiego"})
			continue
		}
		c := value(x.v, x.st, 0, false)
		class := "qc"
		if !c.Withheld {
			for i, b := range breaks {
				if x.v <= b {
					class = fmt.Sprintf("s%d", i)
					break
				}
			}
		}
		mv.Shapes = append(mv.Shapes, mapShape{Name: sh.Name, Path: sh.Path, Class: class, Label: "attivazioni " + c.Text})
		mv.Table.Rows = append(mv.Table.Rows, []cellView{label(sh.Name, ""), c})
	}
	return mv, nil
}

// quintiles returns the upper bounds of up to five classes of about equal
// counts of vals, the last one its maximum; equal bounds (many equal
// values) merge their classes.
func quintiles(vals []float64) []float64 {
	if len(vals) == 0 {
		return nil
	}
	s := slices.Clone(vals)
	slices.Sort(s)
	var out []float64
	for i := 1; i <= 5; i++ {
		b := s[min(len(s)-1, i*len(s)/5)]
		if i == 5 {
			b = s[len(s)-1]
		}
		if len(out) == 0 || b > out[len(out)-1] {
			out = append(out, b)
		}
	}
	return out
}

// nextValue returns the smallest of vals above v (v itself if none).
func nextValue(vals []float64, v float64) float64 {
	next := math.Inf(1)
	for _, x := range vals {
		if x > v && x < next {
			next = x
		}
	}
	if math.IsInf(next, 1) {
		return v
	}
	return next
}
