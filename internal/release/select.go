package release

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/method"
	"github.com/regione-lombardia/oml/internal/tseries"
)

// Select answers q from the release. names, if not nil, labels the
// territories and codes (and rejects territory codes that do not exist);
// without it the labels are the codes.
//
// The observations come in a fixed order: territories as requested (first
// occurrence of each), then the codes of the breakdown in natural order,
// then periods. Each series (territory and codes) present in the release
// is answered for every period of the range: the cube leaves out a cell
// whose every figure is zero (no event at all), so a missing period is 0
// for the count indicators (kinds flow, cumulative, stock and distinct:
// no event means no hire, no position, no worker) and unavailable (M) for
// the others (a ratio, rate or median of nothing). Such a zero is
// provisional (P) in the release's provisional periods. For the total
// (no breakdown) a valid territory without any cell gets such a series
// too; under a breakdown, codes absent for a territory are left out,
// since the code lists hold many codes that never occur.
//
// Transforms are computed from the published series only, over the whole
// span of the release, and then cut to the range: an input that is
// withheld makes the result withheld (C if any input is C, else M), a
// missing earlier period makes it M; the result is P if any input is P.
// For "sa" every period depends on the whole series: any C or M in it
// withholds the whole adjusted series, as does a series shorter than 36
// months (12 quarters); an adjusted value is P from the provisional
// periods back by the length of the STL trend window, where the next
// release's data will revise it.
//
// Errors: an unknown indicator or territory is oml.ENOTFOUND, any other
// invalid parameter oml.EINVALID, both with a hint listing the allowed
// values; an answer longer than q.Limit is oml.ETOOLARGE.
func (r *Release) Select(q Query, names *method.Names) (*oml.Dataset, error) {
	p, err := r.plan(q, names)
	if err != nil {
		return nil, err
	}
	ind := &r.cat.Indicators[p.k]
	d := &oml.Dataset{
		Release:       r.man.Release.ID,
		Vintage:       r.man.Release.Vintage,
		MethodVersion: r.man.Release.MethodVersion,
		Indicator:     ind.ID,
		Label:         ind.Label,
		Unit:          ind.Unit,
		Perimeter:     p.perimeter,
		Scope:         p.scope,
		Freq:          p.freq,
		Transform:     q.Transform,
		By:            slices.Clone(p.by),
		Territories:   map[string]string{},
		Codes:         map[string]map[string]string{},
		Dimensions:    map[string]string{},
		Convention:    ind.Convention,
	}
	if d.By == nil {
		d.By = []string{}
	}
	if q.Transform == TransformYoYPct {
		d.Unit = "%"
	}
	if q.Transform == TransformSA {
		d.Convention = strings.TrimPrefix(d.Convention+"; "+describeSTL(p.stl), "; ")
	}
	for _, dim := range p.by {
		dd, _ := r.cat.Dimension(dim)
		d.Dimensions[dim] = dd.Label
		d.Codes[dim] = map[string]string{}
	}
	d.Observations = make([]oml.Observation, 0, p.count)
	names0 := r.periodNames[p.freq]
	f0 := r.span[p.freq][0]
	var full fullSeries
	for _, pt := range p.territories {
		d.Territories[pt.code] = pt.name
		for _, s := range pt.series {
			for j, dim := range p.by {
				if _, ok := d.Codes[dim][s.split[j]]; !ok {
					label := s.split[j]
					if names != nil {
						label = names.Code(dim, s.split[j])
					}
					d.Codes[dim][s.split[j]] = label
				}
			}
			if q.Transform != TransformNone {
				out, outSt := r.derive(p, pt.table, s, q.Transform, &full)
				for t := p.from; t <= p.to; t++ {
					i := t - f0
					d.Observations = append(d.Observations, oml.Observation{Territory: pt.code, Period: names0[i],
						Codes: s.split, Value: out[i], Status: outSt[i]})
				}
				continue
			}
			row := s.lo
			for t := p.from; t <= p.to; t++ {
				for row < s.hi && int(pt.table.period[row]) < t {
					row++
				}
				o := oml.Observation{Territory: pt.code, Period: names0[t-f0], Codes: s.split}
				if row < s.hi && int(pt.table.period[row]) == t {
					o.Value, o.Status = pt.table.cols[p.k].at(row)
				} else {
					o.Value, o.Status = r.absent(p, pt.table, t)
				}
				if !published(o.Status) {
					o.Value = math.NaN()
				}
				d.Observations = append(d.Observations, o)
			}
		}
	}
	return d, nil
}

// queryPlan is a validated query.
type queryPlan struct {
	k           int // indicator index
	freq        oml.Freq
	perimeter   oml.Perimeter
	scope       oml.Scope
	by          []string
	from, to    int // period indices, inclusive
	territories []plannedTerritory
	count       int
	countKind   bool // a missing cell is 0 rather than M
	stl         tseries.STLParams
}

// plannedTerritory is one requested territory and its series. A
// territory without cells in a table of totals gets one empty series.
type plannedTerritory struct {
	code, name string
	table      *table
	series     []series
}

// absent returns the value and status of a cell missing from table t.
func (r *Release) absent(p *queryPlan, t *table, period int) (float64, oml.Status) {
	if !p.countKind || t == nil || !t.cols[p.k].present() {
		return math.NaN(), oml.StatusUnavailable
	}
	if period >= r.provisional[p.freq] {
		return 0, oml.StatusProvisional
	}
	return 0, oml.StatusNormal
}

// isCount reports whether a cell absent from the cube (no event) means 0
// for ind.
func isCount(ind *method.Indicator) bool {
	switch ind.Kind {
	case method.KindFlow, method.KindCumulative, method.KindStock, method.KindDistinct:
		return true
	}
	return false
}

// plan validates q and finds the series it asks for.
func (r *Release) plan(q Query, names *method.Names) (*queryPlan, error) {
	k, err := r.indicator(q.Indicator)
	if err != nil {
		return nil, err
	}
	ind := &r.cat.Indicators[k]
	p := &queryPlan{k: k, freq: q.Freq, perimeter: q.Perimeter, scope: q.Scope, countKind: isCount(ind)}
	if p.freq == 0 {
		p.freq = oml.Monthly
	}
	if !slices.Contains(oml.Freqs, p.freq) {
		return nil, oml.Errorf(oml.EINVALID, "frequenza %q non valida / invalid frequency", p.freq.String()).
			WithHint("usare M (mese), Q (trimestre) o Y (anno) / use M, Q or Y")
	}
	if p.perimeter == "" {
		p.perimeter = oml.Workplace
	}
	if !slices.Contains(oml.Perimeters, p.perimeter) {
		return nil, oml.Errorf(oml.EINVALID, "perimetro %q non valido / invalid perimeter", p.perimeter).
			WithHint("usare workplace (sede di lavoro) o residence (residenza) / use workplace or residence")
	}
	if p.scope == "" {
		p.scope = oml.ScopeFull
	}
	if !slices.Contains(oml.Scopes, p.scope) {
		return nil, oml.Errorf(oml.EINVALID, "ambito %q non valido / invalid scope", p.scope).
			WithHint("usare full (tutti i rapporti) o core (privati: tempo indeterminato, determinato, apprendistato) / use full or core")
	}
	if ind.NeedsIDs && !r.man.Release.HasIDs {
		return nil, oml.Errorf(oml.EINVALID, "l'indicatore %s non è disponibile in questa release: i dati di origine non hanno gli identificativi di rapporti e persone / indicator %s unavailable: the input lacks relationship and person ids", ind.ID, ind.ID).
			WithHint("indicatori disponibili / available: %s", strings.Join(r.availableIndicators(), ", "))
	}
	if err := r.checkTransform(q.Transform, ind, p); err != nil {
		return nil, err
	}

	// Breakdown: a permutation of a catalogue breakdown, in its order.
	by := slices.Clone(q.By)
	for _, d := range by {
		if d == "cpi" || d == "comune" {
			return nil, oml.Errorf(oml.EINVALID, "%s è un livello territoriale, non una disaggregazione / %s is a territorial level, not a breakdown", d, d).
				WithHint("chiedere i territori di quel livello con territory= (es. cpi:..., codici ISTAT dei comuni) / ask for its territories with territory=")
		}
		if _, ok := r.cat.Dimension(d); !ok {
			return nil, oml.Errorf(oml.EINVALID, "dimensione %q sconosciuta / unknown dimension %q", d, d).
				WithHint("dimensioni di %s / dimensions of %s: %s", ind.ID, ind.ID, strings.Join(r.cat.DimensionsOf(ind), ", "))
		}
	}
	if len(q.Territories) == 0 {
		return nil, oml.Errorf(oml.EINVALID, "nessun territorio richiesto / no territory requested").
			WithHint("territory=ITC4 (Lombardia), codici ISTAT delle province (016), cpi:<codice>, codici ISTAT dei comuni / region, province, CPI or comune codes")
	}

	// Periods, clipped to the release.
	span := r.span[p.freq]
	p.from, p.to = span[0], span[1]
	first, last := r.Periods(p.freq)
	for _, b := range []struct {
		per  oml.Period
		dest *int
		name string
	}{{q.From, &p.from, "from"}, {q.To, &p.to, "to"}} {
		if b.per == (oml.Period{}) {
			continue
		}
		if b.per.Freq != p.freq {
			return nil, oml.Errorf(oml.EINVALID, "%s=%s non è un periodo di frequenza %s / %s is not a period of frequency %s", b.name, b.per, p.freq, b.per, p.freq).
				WithHint("per la frequenza %s usare periodi come %s / use periods like %s", p.freq, last, last)
		}
		*b.dest = b.per.Index()
	}
	if p.from > p.to {
		return nil, oml.Errorf(oml.EINVALID, "periodo iniziale %s successivo al finale %s / from after to", oml.PeriodAt(p.freq, p.from), oml.PeriodAt(p.freq, p.to))
	}
	if p.to < span[0] || p.from > span[1] {
		return nil, oml.Errorf(oml.EINVALID, "periodo %s-%s fuori dalla release / period outside the release", oml.PeriodAt(p.freq, p.from), oml.PeriodAt(p.freq, p.to)).
			WithHint("la release %s copre %s-%s / the release covers %s-%s", r.man.Release.ID, first, last, first, last)
	}
	p.from, p.to = max(p.from, span[0]), min(p.to, span[1])
	nPer := p.to - p.from + 1

	// Territories.
	seen := map[string]bool{}
	for _, code := range q.Territories {
		if seen[code] {
			continue
		}
		seen[code] = true
		level, ok := method.LevelOf(code)
		name := code
		if ok && names != nil {
			var t oml.Territory
			t, ok = names.Territory(code)
			name = t.Name
		}
		if !ok {
			return nil, oml.Errorf(oml.ENOTFOUND, "territorio %q sconosciuto / unknown territory %q", code, code).
				WithHint("codici / codes: ITC4 (Lombardia), province ISTAT (016), cpi:<codice>, comuni ISTAT (016024); elenco in /api/v1/territories / list at /api/v1/territories")
		}
		if p.by == nil {
			if p.by, err = r.breakdown(ind, level, by); err != nil {
				return nil, err
			}
		} else if !r.cat.Allows(ind, level, p.by) {
			_, err := r.breakdown(ind, level, by)
			return nil, err
		}
		pt := plannedTerritory{code: code, name: name}
		pt.table = r.tables[tableKey{p.perimeter, p.scope, p.freq, level, strings.Join(p.by, ",")}]
		if pt.table != nil {
			if rg, ok := pt.table.territory[code]; ok {
				pt.series = pt.table.series[rg[0]:rg[1]]
			} else if len(p.by) == 0 && pt.table.cols[k].present() {
				pt.series = []series{{territory: code}}
			}
		}
		p.count += len(pt.series) * nPer
		if q.Limit > 0 && p.count > q.Limit {
			return nil, oml.Errorf(oml.ETOOLARGE, "la richiesta supera il limite di %d osservazioni / the query exceeds the limit of %d observations", q.Limit, q.Limit).
				WithHint("restringere il periodo (from/to), i territori o la disaggregazione, o usare i file Parquet della release / narrow the period, the territories or the breakdown, or use the release's Parquet files")
		}
		p.territories = append(p.territories, pt)
	}
	if p.by == nil {
		p.by = []string{}
	}
	return p, nil
}

// breakdown returns the catalogue's order of the dimensions by, if ind is
// published broken down by them at level l, or an EINVALID error listing
// what is.
func (r *Release) breakdown(ind *method.Indicator, l oml.Level, by []string) ([]string, error) {
	if !ind.AtLevel(l) {
		return nil, oml.Errorf(oml.EINVALID, "l'indicatore %s non è pubblicato al livello %s / indicator %s not published at level %s", ind.ID, l, ind.ID, l).
			WithHint("livelli / levels: %s", strings.Join(ind.Levels, ", "))
	}
	sorted := slices.Sorted(slices.Values(by))
	var allowed []string
	for _, b := range r.cat.Breakdowns[string(l)] {
		if !r.cat.Allows(ind, l, b) {
			continue
		}
		if len(b) > 0 {
			allowed = append(allowed, strings.Join(b, ","))
		}
		if slices.Equal(slices.Sorted(slices.Values(b)), sorted) {
			return slices.Clone(b), nil
		}
	}
	if len(allowed) == 0 {
		allowed = []string{"nessuna / none"}
	}
	return nil, oml.Errorf(oml.EINVALID, "l'indicatore %s non è pubblicato per %s al livello %s / indicator %s not published by %s at level %s",
		ind.ID, strings.Join(by, ","), l, ind.ID, strings.Join(by, ","), l).
		WithHint("disaggregazioni disponibili al livello %s / breakdowns available: %s", l, strings.Join(allowed, "; "))
}

// availableIndicators lists the indicators the release publishes.
func (r *Release) availableIndicators() []string {
	var out []string
	for _, ind := range r.cat.Indicators {
		if !ind.NeedsIDs || r.man.Release.HasIDs {
			out = append(out, ind.ID)
		}
	}
	return out
}

// checkTransform validates a transform for ind at p.freq and sets the STL
// parameters.
func (r *Release) checkTransform(tr string, ind *method.Indicator, p *queryPlan) error {
	if !slices.Contains(Transforms, tr) {
		return oml.Errorf(oml.EINVALID, "trasformazione %q sconosciuta / unknown transform %q", tr, tr).
			WithHint("usare yoy (variazione tendenziale), yoy_pct (in percentuale), roll12 (somma mobile 12 mesi), sa (destagionalizzato) / use yoy, yoy_pct, roll12 or sa")
	}
	switch tr {
	case TransformRoll12:
		if !ind.Additive || ind.Kind != method.KindFlow {
			return oml.Errorf(oml.EINVALID, "la somma mobile vale solo per i flussi additivi, non per %s / the rolling sum applies to additive flows only", ind.ID).
				WithHint("usare yoy o yoy_pct / use yoy or yoy_pct")
		}
		if p.freq == oml.Yearly {
			return oml.Errorf(oml.EINVALID, "la somma mobile di 12 mesi non si applica ai dati annuali / roll12 does not apply to yearly data").
				WithHint("usare freq=M o freq=Q / use freq=M or Q")
		}
	case TransformSA:
		if p.freq == oml.Yearly {
			return oml.Errorf(oml.EINVALID, "i dati annuali non si destagionalizzano / yearly data have no seasonality").
				WithHint("usare freq=M o freq=Q / use freq=M or Q")
		}
		p.stl = stlParams(p.freq)
	}
	return nil
}

// stlParams are the documented parameters of the adjusted series
// (docs/adr/0006-stl.md): statsmodels' defaults, robust because every
// release's series span the 2020 lockdown, which a plain fit spreads
// into the seasonal factors of the years around it.
func stlParams(f oml.Freq) tseries.STLParams {
	period := 12
	if f == oml.Quarterly {
		period = 4
	}
	p := tseries.DefaultSTL(period)
	p.Robust = true
	return p
}

// describeSTL names the parameters of an adjusted series for its users.
func describeSTL(p tseries.STLParams) string {
	rp, err := p.Resolve()
	if err != nil {
		rp = p
	}
	return fmt.Sprintf("destagionalizzato con STL robusta (periodo %d, stagionale %d, trend %d, passa-basso %d, come statsmodels.tsa.seasonal.STL)",
		rp.Period, rp.Seasonal, rp.Trend, rp.LowPass)
}

// derive returns transform tr of series s of table t over the release's
// whole span, using f as scratch space. Seasonally adjusted series, which
// cost a few hundred microseconds each, are memoised.
func (r *Release) derive(p *queryPlan, t *table, s series, tr string, f *fullSeries) ([]float64, []oml.Status) {
	cacheable := tr == TransformSA && s.hi > s.lo
	key := saKey{t, s.lo, p.k}
	if cacheable {
		r.sa.mu.Lock()
		e, ok := r.sa.m[key]
		r.sa.mu.Unlock()
		if ok {
			return e.val, e.st
		}
	}
	f.build(r, p, t, s)
	f.transform(tr, p)
	if !cacheable {
		return f.out, f.outSt
	}
	e := saEntry{slices.Clone(f.out), slices.Clone(f.outSt)}
	r.sa.mu.Lock()
	if r.sa.m == nil || len(r.sa.m) >= saCacheSize {
		r.sa.m = map[saKey]saEntry{} // a release never changes: dropping all is as good as LRU here
	}
	r.sa.m[key] = e
	r.sa.mu.Unlock()
	return e.val, e.st
}

// saCacheSize bounds the memo of adjusted series (about 1 KiB each for
// monthly series from 2017).
const saCacheSize = 8192

// saKey identifies a series of a table (by its first row) and an indicator.
type saKey struct {
	t  *table
	lo int32
	k  int
}

// saEntry is a memoised adjusted series.
type saEntry struct {
	val []float64
	st  []oml.Status
}

// fullSeries holds one series over the release's whole span, and its
// transform.
type fullSeries struct {
	val   []float64
	st    []oml.Status
	out   []float64
	outSt []oml.Status
}

// build fills f with series s of table t, absent cells as Select answers
// them.
func (f *fullSeries) build(r *Release, p *queryPlan, t *table, s series) {
	span := r.span[p.freq]
	n := span[1] - span[0] + 1
	f.val = resize(f.val, n)
	f.st = resizeStatus(f.st, n)
	for i := range n {
		f.val[i], f.st[i] = r.absent(p, t, span[0]+i)
	}
	c := &t.cols[p.k]
	for row := s.lo; row < s.hi; row++ {
		i := int(t.period[row]) - span[0]
		f.val[i], f.st[i] = c.at(row)
	}
}

// lag is the number of periods in a year at f.
func lag(f oml.Freq) int {
	switch f {
	case oml.Monthly:
		return 12
	case oml.Quarterly:
		return 4
	}
	return 1
}

// transform computes f.out and f.outSt from f.val and f.st.
func (f *fullSeries) transform(tr string, p *queryPlan) {
	n := len(f.val)
	f.out = resize(f.out, n)
	f.outSt = resizeStatus(f.outSt, n)
	L := lag(p.freq)
	// window derives the status of a value from inputs [a, b]; ok reports
	// that it may be computed.
	window := func(a, b int) (oml.Status, bool) {
		if a < 0 {
			if slices.Contains(f.st[0:b+1], oml.StatusConfidential) {
				return oml.StatusConfidential, false
			}
			return oml.StatusUnavailable, false
		}
		return combine(f.st[a : b+1])
	}
	switch tr {
	case TransformYoY, TransformYoYPct:
		for t := range n {
			st, ok := combine2(f.st, t-L, t)
			f.out[t], f.outSt[t] = math.NaN(), st
			if !ok {
				continue
			}
			base := f.val[t-L]
			switch {
			case tr == TransformYoY:
				f.out[t] = f.val[t] - base
			case base == 0:
				f.outSt[t] = oml.StatusUnavailable
			default:
				f.out[t] = 100 * (f.val[t]/base - 1)
			}
		}
	case TransformRoll12:
		for t := range n {
			st, ok := window(t-L+1, t)
			f.out[t], f.outSt[t] = math.NaN(), st
			if ok {
				s := 0.0
				for _, v := range f.val[t-L+1 : t+1] {
					s += v
				}
				f.out[t] = s
			}
		}
	case TransformSA:
		st, ok := combine(f.st)
		minLen := 36
		if p.freq == oml.Quarterly {
			minLen = 12
		}
		var adj []float64
		if ok && n >= minLen {
			var err error
			if adj, err = tseries.SeasonallyAdjusted(f.val, p.stl); err != nil {
				adj = nil
			}
		}
		if adj == nil {
			if st != oml.StatusConfidential {
				st = oml.StatusUnavailable
			}
			for t := range n {
				f.out[t], f.outSt[t] = math.NaN(), st
			}
			return
		}
		rp, _ := p.stl.Resolve()
		firstP := slices.Index(f.st, oml.StatusProvisional)
		for t := range n {
			f.out[t], f.outSt[t] = adj[t], oml.StatusNormal
			if firstP >= 0 && t >= firstP-rp.Trend {
				f.outSt[t] = oml.StatusProvisional
			}
		}
	}
	for t := range n {
		if !published(f.outSt[t]) || math.IsInf(f.out[t], 0) {
			f.out[t] = math.NaN()
			if published(f.outSt[t]) {
				f.outSt[t] = oml.StatusUnavailable
			}
		}
	}
}

// combine derives the status of a value computed from inputs of statuses
// sts: C if any is C, else M if any is M, else P if any is P, else A; ok
// reports whether the value may be computed (A or P).
func combine(sts []oml.Status) (oml.Status, bool) {
	out := oml.StatusNormal
	for _, s := range sts {
		switch {
		case s == oml.StatusConfidential:
			return s, false
		case s == oml.StatusUnavailable:
			out = s
		case s == oml.StatusProvisional && out == oml.StatusNormal:
			out = s
		}
	}
	return out, published(out)
}

// combine2 is combine of inputs a and b; a before the series is M (or C,
// when b is C).
func combine2(sts []oml.Status, a, b int) (oml.Status, bool) {
	if a < 0 {
		if sts[b] == oml.StatusConfidential {
			return sts[b], false
		}
		return oml.StatusUnavailable, false
	}
	return combine([]oml.Status{sts[a], sts[b]})
}

func resize(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

func resizeStatus(s []oml.Status, n int) []oml.Status {
	if cap(s) < n {
		return make([]oml.Status, n)
	}
	return s[:n]
}
