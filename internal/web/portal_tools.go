package web

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/export"
	"github.com/regione-lombardia/oml/internal/itfmt"
	"github.com/regione-lombardia/oml/internal/method"
	"github.com/regione-lombardia/oml/internal/release"
)

// The comparison of territories, the query builder, the methodology and
// the releases.

// option is an entry of a form's select, radio or checkbox list.
type option struct {
	Value, Label string
	Selected     bool
}

type optionGroup struct {
	Label   string
	Options []option
}

// territoryOptions are the territories a form offers (region, provinces,
// CPIs), with those in sel selected.
func (s *Server) territoryOptions(sel []string) []optionGroup {
	groups := []optionGroup{{Label: "Regione"}, {Label: "Province"}, {Label: "Centri per l'impiego"}}
	for i, l := range []oml.Level{oml.LevelRegion, oml.LevelProvince, oml.LevelCPI} {
		for _, t := range s.names.Territories(l) {
			groups[i].Options = append(groups[i].Options, option{Value: t.Code, Label: t.Name, Selected: slices.Contains(sel, t.Code)})
		}
	}
	return groups
}

// indicatorOptions are the indicators of the catalogue, id selected.
func indicatorOptions(cat *method.Catalogue, id string, only func(*method.Indicator) bool) []option {
	var out []option
	for i := range cat.Indicators {
		ind := &cat.Indicators[i]
		if only == nil || only(ind) {
			out = append(out, option{Value: ind.ID, Label: ind.Label, Selected: ind.ID == id})
		}
	}
	return out
}

func options(pairs [][2]string, sel string) []option {
	out := make([]option, len(pairs))
	for i, p := range pairs {
		out[i] = option{Value: p[0], Label: p[1], Selected: p[0] == sel}
	}
	return out
}

var freqOptions = [][2]string{{"M", "mensile"}, {"Q", "trimestrale"}, {"Y", "annuale"}}

// comparePage is the body of the compare template.
type comparePage struct {
	Territories []optionGroup
	Indicators  []option
	Measures    []option
	Freqs       []option
	From, To    string
	Error       *errorPage
	Chart       *chartBlock
}

var measures = [][2]string{
	{"indice", "numero indice (primo periodo = 100)"},
	{"valori", "valori"},
	{"quota", "quota sul totale regionale (%)"},
}

// pageCompare shows territories side by side on one indicator: levels,
// indexed series (first period = 100) or shares of the region. Without
// territories it compares Milano with the region; a single territory is
// compared with the region.
func (s *Server) pageCompare(r *http.Request, rel *release.Release) (*page, error) {
	q := r.URL.Query()
	cat := rel.Catalogue()
	var terr []string
	for _, v := range q["territory"] {
		for _, c := range strings.Split(v, ",") {
			if c = strings.TrimSpace(c); c != "" && !slices.Contains(terr, c) {
				terr = append(terr, c)
			}
		}
	}
	switch len(terr) {
	case 0:
		terr = []string{oml.RegionCode, "015"}
	case 1:
		if terr[0] != oml.RegionCode {
			terr = []string{oml.RegionCode, terr[0]}
		}
	}
	indID := cmp(q.Get("indicator"), "attivazioni")
	measure := cmp(q.Get("measure"), "indice")
	freqS := cmp(q.Get("freq"), "M")
	body := comparePage{
		Territories: s.territoryOptions(terr),
		Indicators:  indicatorOptions(cat, indID, func(ind *method.Indicator) bool { return ind.AtLevel(oml.LevelCPI) || ind.AtLevel(oml.LevelProvince) }),
		Measures:    options(measures, measure),
		Freqs:       options(freqOptions, freqS),
		From:        q.Get("from"), To: q.Get("to"),
	}
	pg := &page{name: "compare", nav: "/confronta", title: "Confronta territori", body: &body}
	chart, err := s.compare(rel, terr, indID, measure, freqS, body.From, body.To)
	if err != nil {
		body.Error = &errorPage{}
		return pg.withFormError(body.Error, err)
	}
	body.Chart = chart
	return pg, nil
}

// withFormError shows the error of a form's query inside the form's page,
// with the status of its code, so that the user can correct the query; a
// fault of the server (EINTERNAL) is the error page instead.
func (pg *page) withFormError(into *errorPage, err error) (*page, error) {
	if oml.ErrorCode(err) == oml.EINTERNAL {
		return nil, err
	}
	*into = errorPage{Message: oml.ErrorMessage(err), Hint: oml.ErrorHint(err)}
	pg.status = StatusOf(oml.ErrorCode(err))
	return pg, nil
}

func cmp(v, def string) string {
	if v = strings.TrimSpace(v); v != "" {
		return v
	}
	return def
}

func (s *Server) compare(rel *release.Release, terr []string, indID, measure, freqS, fromS, toS string) (*chartBlock, error) {
	cat := rel.Catalogue()
	ind, err := cat.Indicator(indID)
	if err != nil {
		return nil, err
	}
	freq, err := oml.ParseFreq(freqS)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(measures, func(m [2]string) bool { return m[0] == measure }) {
		return nil, oml.Errorf(oml.EINVALID, "misura %q sconosciuta / unknown measure %q", measure, measure).WithHint("indice, valori o quota")
	}
	if measure == "quota" && !ind.Additive {
		return nil, oml.Errorf(oml.EINVALID, "la quota sul totale regionale ha senso solo per indicatori additivi / shares only for additive indicators").
			WithHint("%s non si somma tra territori: scegliere valori o indice", ind.Label)
	}
	first, last := rel.Periods(freq)
	span := map[oml.Freq]int{oml.Monthly: 23, oml.Quarterly: 11, oml.Yearly: 100}[freq]
	from, to := latest(last.Add(-span), first), last
	for _, p := range []struct {
		s   string
		dst *oml.Period
	}{{fromS, &from}, {toS, &to}} {
		if p.s == "" {
			continue
		}
		v, err := oml.ParsePeriod(p.s)
		if err != nil || v.Freq != freq {
			return nil, oml.Errorf(oml.EINVALID, "periodo %q non valido per la frequenza %s / invalid period %q", p.s, freq, p.s).
				WithHint("es. 2024-06 (mese), 2024-Q2 (trimestre), 2024 (anno); la release copre %s … %s", first, last)
		}
		*p.dst = v
	}
	query := release.Query{Indicator: ind.ID, Territories: terr, Freq: freq, From: from, To: to}
	d, err := rel.Select(query, s.names)
	if err != nil {
		return nil, err
	}
	sers, order := seriesOf(d)
	var region *series
	if measure == "quota" {
		rd, err := rel.Select(release.Query{Indicator: ind.ID, Territories: []string{oml.RegionCode}, Freq: freq, From: from, To: to}, s.names)
		if err != nil {
			return nil, err
		}
		rs, _ := seriesOf(rd)
		region = rs[oml.RegionCode]
	}
	periods := periodsOf(d)
	what := map[string]string{"indice": "numero indice, " + periodLabel(periods[0], true) + " = 100", "valori": ind.Unit, "quota": "% del totale regionale"}[measure]
	title := ind.Label + " (" + what + ")"
	cb := &chartBlock{ID: "confronto", Title: title, Spec: chartSpec{Title: title, Kind: "line"},
		Table: tableView{Caption: title, Head: []string{"Periodo"}}}
	if measure != "valori" {
		cb.Note = "I file scaricabili contengono i valori pubblicati, da cui sono calcolati indici e quote."
	}
	dec := 0
	if measure != "valori" || !countKind(ind) {
		dec = 1
	}
	cols := make([][]cellView, len(order))
	for i, k := range order {
		sr := sers[k]
		cs := chartSeries{Name: d.Territories[k]}
		base, bst := sr.vals[0], sr.sts[0]
		for j := range sr.vals {
			v, st := sr.vals[j], sr.sts[j]
			switch measure {
			case "indice":
				_, pct, cst := change(base, bst, v, st)
				v, st = 100+pct, cst
			case "quota":
				v, st = share(v, st, region.vals[j], region.sts[j])
			}
			cs.Data = append(cs.Data, chartValue(v, st))
			cols[i] = append(cols[i], value(v, st, dec, false))
		}
		cb.Spec.Series = append(cb.Spec.Series, cs)
		cb.Table.Head = append(cb.Table.Head, d.Territories[k])
	}
	for j, p := range periods {
		cb.Spec.Categories = append(cb.Spec.Categories, periodLabel(p, false))
		row := []cellView{label(periodLabel(p, true), "")}
		for i := range order {
			row = append(row, cols[i][j])
		}
		cb.Table.Rows = append(cb.Table.Rows, row)
	}
	cb.Downloads = downloads(rel.Info().ID, []release.Query{query}, []string{ind.Label})
	return cb, nil
}

// share is 100 v / total: withheld if either is, unavailable for a zero
// total.
func share(v float64, st oml.Status, total float64, tst oml.Status) (float64, oml.Status) {
	_, _, cst := change(total, tst, v, st)
	if !shown(cst) {
		return math.NaN(), cst
	}
	if total == 0 {
		return math.NaN(), oml.StatusUnavailable
	}
	return 100 * v / total, cst
}

// countKind reports whether ind counts (flows, cumulated flows, stocks,
// distinct people): its values are whole numbers.
func countKind(ind *method.Indicator) bool {
	switch ind.Kind {
	case method.KindFlow, method.KindCumulative, method.KindStock, method.KindDistinct:
		return true
	}
	return false
}

// queryPage is the body of the query template.
type queryPage struct {
	Territories []optionGroup
	Indicators  []option
	Dimensions  []option
	Freqs       []option
	Perimeters  []option
	Scopes      []option
	Transforms  []option
	From, To    string
	Error       *errorPage
	APIPath     string
	Formats     []link
	Total       int
	Shown       int
	Table       *tableView
}

// previewRows is how many observations the query builder shows.
const previewRows = 100

// pageQuery is the query builder: a form whose fields are the parameters
// of /api/v1/data, a preview of its answer (the API's own parsing and
// selection, so preview and download agree) and the API address of the
// query in every format.
func (s *Server) pageQuery(r *http.Request, rel *release.Release) (*page, error) {
	q := url.Values{}
	for k, vs := range r.URL.Query() {
		for _, v := range vs {
			if v = strings.TrimSpace(v); v != "" {
				q.Add(k, v)
			}
		}
	}
	// Lists as the API documents them: one parameter, comma-separated.
	for _, k := range []string{"territory", "by"} {
		if vs := splitList(q[k]); len(vs) > 0 {
			q.Set(k, strings.Join(vs, ","))
		}
	}
	if len(q) == 0 {
		q.Set("indicator", "attivazioni")
		q.Set("territory", oml.RegionCode)
		q.Set("from", "latestMINUS11")
	}
	cat := rel.Catalogue()
	body := &queryPage{
		Territories: s.territoryOptions(splitList(q["territory"])),
		Indicators:  indicatorOptions(cat, q.Get("indicator"), nil),
		Freqs:       options(freqOptions, cmp(q.Get("freq"), "M")),
		Perimeters:  options([][2]string{{"workplace", "luogo di lavoro"}, {"residence", "residenza del lavoratore"}}, cmp(q.Get("perimeter"), "workplace")),
		Scopes:      options([][2]string{{"full", "tutti i rapporti"}, {"core", "esclusi lavoro domestico e intermittente"}}, cmp(q.Get("scope"), "full")),
		Transforms: options([][2]string{{"", "nessuna"}, {"yoy", "variazione sull'anno precedente"}, {"yoy_pct", "variazione % sull'anno precedente"},
			{"roll12", "somma mobile di 12 mesi"}, {"sa", "destagionalizzata (STL)"}}, q.Get("transform")),
		From: q.Get("from"), To: q.Get("to"),
	}
	by := splitList(q["by"])
	for _, d := range cat.Dimensions {
		body.Dimensions = append(body.Dimensions, option{Value: d.ID, Label: d.Label, Selected: slices.Contains(by, d.ID)})
	}
	body.Dimensions = append(body.Dimensions,
		option{Value: dimCPI, Label: "Centri per l'impiego dei territori scelti", Selected: slices.Contains(by, dimCPI)},
		option{Value: dimComune, Label: "Comuni dei territori scelti", Selected: slices.Contains(by, dimComune)})
	pg := &page{name: "query", nav: "/dati", title: "Costruisci una tabella", body: body}

	body.APIPath = APIPrefix + "/data?" + q.Encode()
	for _, f := range []export.Format{export.CSV, export.XLSX, export.SDMXCSV, export.JSONStat, export.JSON} {
		fq := cloneValues(q)
		fq.Set("format", string(f))
		fq.Set("release", rel.Info().ID)
		body.Formats = append(body.Formats, link{URL: APIPrefix + "/data?" + fq.Encode(), Label: strings.ToUpper(string(f))})
	}

	_, ds, err := s.queryData(r, q)
	if err != nil {
		body.Error = &errorPage{}
		return pg.withFormError(body.Error, err)
	}
	body.Total = len(ds.Observations)
	t := &tableView{Caption: fmt.Sprintf("%s: anteprima", ds.Label), Head: []string{"Territorio"}}
	for _, dim := range ds.By {
		t.Head = append(t.Head, ds.Dimensions[dim])
	}
	t.Head = append(t.Head, "Periodo", ds.Label+" ("+ds.Unit+")")
	dec := 0
	if ind, err := cat.Indicator(ds.Indicator); err == nil && (!countKind(ind) || ds.Transform == release.TransformYoYPct || ds.Transform == release.TransformSA) {
		dec = 1
	}
	for _, o := range ds.Observations[:min(previewRows, len(ds.Observations))] {
		row := []cellView{label(ds.Territories[o.Territory], "")}
		for i, dim := range ds.By {
			row = append(row, cellView{Text: ds.Codes[dim][o.Codes[i]]})
		}
		row = append(row, cellView{Text: o.Period}, value(o.Value, o.Status, dec, ds.Transform == release.TransformYoY || ds.Transform == release.TransformYoYPct))
		t.Rows = append(t.Rows, row)
	}
	body.Shown = len(t.Rows)
	body.Table = t
	return pg, nil
}

func splitList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	return out
}

// queryData runs a query of /api/v1/data in process, for a page: the same
// checks, defaults and selection as the API, with the API's errors.
func (s *Server) queryData(r *http.Request, q url.Values) (*dataRequest, *oml.Dataset, error) {
	hr := r.Clone(r.Context())
	hr.URL = &url.URL{Path: APIPrefix + "/data", RawQuery: q.Encode()}
	req, err := newRequest(hr, s.dataOp())
	if err != nil {
		return nil, nil, err
	}
	d, err := s.parseData(req)
	if err != nil {
		return nil, nil, err
	}
	ds, err := d.rel.Select(d.query, s.names)
	if err != nil {
		return nil, nil, s.tooLarge(err)
	}
	return d, ds, nil
}

// dataOp is the operation of /api/v1/data.
func (s *Server) dataOp() *operation {
	for _, op := range s.ops {
		if op.ID == "getData" {
			return op
		}
	}
	panic("web: no getData operation")
}

// methodPage is the body of the method template.
type methodPage struct {
	Catalogue  *method.Catalogue
	Indicators []methodIndicator
	Dimensions []method.Dimension
	Release    release.Info
}

type methodIndicator struct {
	*method.Indicator
	KindLabel  string
	Dimensions []string
	Levels     string
}

var kindLabels = map[string]string{
	method.KindFlow: "flusso", method.KindCumulative: "flusso cumulato", method.KindStock: "stock a fine periodo",
	method.KindDistinct: "conteggio di persone o datori distinti", method.KindRatio: "rapporto", method.KindMedian: "mediana", method.KindRate: "tasso",
}

var levelLabels = map[oml.Level]string{oml.LevelRegion: "regione", oml.LevelProvince: "provincia", oml.LevelCPI: "centro per l'impiego", oml.LevelComune: "comune"}

// pageMethod describes the methodology from the catalogue of the release.
func (s *Server) pageMethod(r *http.Request, rel *release.Release) (*page, error) {
	cat := rel.Catalogue()
	body := methodPage{Catalogue: cat, Dimensions: cat.Dimensions, Release: rel.Info()}
	for i := range cat.Indicators {
		ind := &cat.Indicators[i]
		mi := methodIndicator{Indicator: ind, KindLabel: kindLabels[ind.Kind]}
		for _, d := range cat.DimensionsOf(ind) {
			dd, _ := cat.Dimension(d)
			mi.Dimensions = append(mi.Dimensions, dd.Label)
		}
		var lv []string
		for _, l := range []oml.Level{oml.LevelRegion, oml.LevelProvince, oml.LevelCPI, oml.LevelComune} {
			if ind.AtLevel(l) {
				lv = append(lv, levelLabels[l])
			}
		}
		mi.Levels = strings.Join(lv, ", ")
		body.Indicators = append(body.Indicators, mi)
	}
	return &page{name: "method", nav: "/metodologia", title: "Metodologia", body: body}, nil
}

// releasesPage is the body of the releases template.
type releasesPage struct {
	Releases []release.Info
}

func (s *Server) pageReleases(r *http.Request, rel *release.Release) (*page, error) {
	list, err := s.visibleReleases(r)
	if err != nil {
		return nil, err
	}
	return &page{name: "releases", nav: "/rilasci", title: "Rilasci", body: releasesPage{Releases: list}}, nil
}

// revisionsPage is the body of the revisions template: what a release
// changed in the figures of the release before it.
type revisionsPage struct {
	Release, Previous *release.Info
	Total             int
	ByIndicator       tableView
	Table             tableView
	Shown             int
}

const revisionRows = 200

func (s *Server) pageRevisions(r *http.Request, _ *release.Release) (*page, error) {
	id := r.PathValue("id")
	list, err := s.visibleReleases(r)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(list, func(in release.Info) bool { return in.ID == id })
	if i < 0 {
		return nil, oml.Errorf(oml.ENOTFOUND, "rilascio %q inesistente / no such release %q", id, id).WithHint("l'elenco dei rilasci è in /rilasci")
	}
	body := revisionsPage{Release: &list[i]}
	pg := &page{name: "revisions", nav: "/rilasci", title: "Rilascio " + id, body: &body}
	if i+1 >= len(list) {
		return pg, nil
	}
	body.Previous = &list[i+1]
	a, err := s.releases.get(list[i+1].ID)
	if err != nil {
		return nil, err
	}
	b, err := s.releases.get(id)
	if err != nil {
		return nil, err
	}
	revs, err := release.Diff(a, b)
	if err != nil {
		return nil, err
	}
	body.Total = len(revs)
	counts := map[string]int{}
	var inds []string
	for _, rv := range revs {
		if counts[rv.Indicator] == 0 {
			inds = append(inds, rv.Indicator)
		}
		counts[rv.Indicator]++
	}
	cat := b.Catalogue()
	body.ByIndicator = tableView{Caption: "Revisioni per indicatore", Head: []string{"Indicatore", "Celle riviste"}}
	labelOf := func(id string) string {
		if ind, err := cat.Indicator(id); err == nil {
			return ind.Label
		}
		return id
	}
	for _, id := range inds {
		body.ByIndicator.Rows = append(body.ByIndicator.Rows, []cellView{label(labelOf(id), ""), {Text: itfmt.Number(float64(counts[id]), 0)}})
	}
	body.Table = tableView{Caption: "Prime revisioni", Head: []string{"Indicatore", "Territorio", "Disaggregazione", "Periodo", "Prima", "Ora", "Differenza"}}
	for _, rv := range revs[:min(revisionRows, len(revs))] {
		t, _ := s.names.Territory(rv.Key.Territory)
		name := t.Name
		if name == "" {
			name = rv.Key.Territory
		}
		codes := "totale"
		if rv.Key.Dims != "" {
			codes = rv.Key.Dims + " = " + rv.Key.Codes
		}
		oldSt, newSt := rv.OldStatus, rv.NewStatus
		body.Table.Rows = append(body.Table.Rows, []cellView{
			label(labelOf(rv.Indicator), ""), {Text: name}, {Text: codes},
			{Text: oml.PeriodAt(rv.Key.Freq, rv.Key.Period).String()},
			value(rv.Old, oldSt, 1, false), value(rv.New, newSt, 1, false), value(rv.Delta(), deltaStatus(oldSt, newSt), 1, true),
		})
	}
	body.Shown = len(body.Table.Rows)
	return pg, nil
}

func deltaStatus(a, b oml.Status) oml.Status {
	_, _, st := change(0, a, 0, b)
	return st
}
