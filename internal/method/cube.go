package method

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
)

// Store runs the compiled SQL. The DuckDB data bank implements it.
type Store interface {
	Exec(ctx context.Context, query string) error
	// Query runs query and calls each once per row; scan reads the row's
	// columns into its arguments as database/sql's Rows.Scan does.
	Query(ctx context.Context, query string, each func(scan func(dest ...any) error) error) error
}

// CellKey identifies a cell of the cube. Dims lists the breakdown
// dimensions comma-separated ("" for the total) and Codes their codes in
// the same order.
type CellKey struct {
	Perimeter oml.Perimeter
	Scope     oml.Scope
	Freq      oml.Freq
	Period    int // oml.Period.Index of the period
	Level     oml.Level
	Territory string
	Dims      string
	Codes     string
}

// Cell is one cell of the cube: the value of every indicator of the
// catalogue, in catalogue order. A NaN value means the indicator is not
// published for the cell (breakdown not allowed, input without ids, or no
// denominator); Status then is StatusUnavailable.
type Cell struct {
	CellKey
	Values []float64
	Status []oml.Status
	// under is the smallest positive count each value rests on (events,
	// workers, employers; 0 when none), for primary suppression.
	under []float64
}

// Cube is the computed indicator cube of one data bank at one vintage.
type Cube struct {
	Catalogue *Catalogue
	From      oml.Period // first month
	To        oml.Period // last month: the month of the vintage
	Vintage   time.Time
	HasIDs    bool // the input carries relationship and person ids
	Cells     []Cell
	// ComuneProvince gives the province of every comune of the cube.
	ComuneProvince map[string]string
	once           sync.Once
	index          map[CellKey]int
}

// seriesKey identifies a monthly series of measures during the build.
type seriesKey struct {
	perimeter oml.Perimeter
	scope     oml.Scope
	level     oml.Level
	territory string
	dims      string
	codes     string
}

// Compute runs the plan of c on store and returns the cube, with
// disclosure control not yet applied. progress, if not nil, is called with
// a short description of each step.
func (c *Catalogue) Compute(ctx context.Context, store Store, lists *classif.Lists, vintage time.Time, progress func(string)) (*Cube, error) {
	if progress == nil {
		progress = func(string) {}
	}
	from := time.Date(c.FirstYear, 1, 1, 0, 0, 0, 0, time.UTC)
	if vintage.Before(from) {
		return nil, oml.Errorf(oml.EINVALID, "data di riferimento %s anteriore al %d / vintage %s before %d",
			vintage.Format(time.DateOnly), c.FirstYear, vintage.Format(time.DateOnly), c.FirstYear)
	}
	plan := c.Compile(lists, Options{From: from, Vintage: vintage})
	cube := &Cube{
		Catalogue:      c,
		From:           oml.Period{Freq: oml.Monthly, Year: from.Year(), N: 1},
		To:             oml.Period{Freq: oml.Monthly, Year: vintage.Year(), N: int(vintage.Month())},
		Vintage:        vintage,
		ComuneProvince: map[string]string{},
	}
	defer func() {
		for _, q := range plan.Teardown {
			store.Exec(context.WithoutCancel(ctx), q)
		}
	}()
	progress("preparazione degli eventi / preparing events")
	for _, q := range plan.Setup {
		if err := store.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("compute: %w", err)
		}
	}
	for i, pt := range plan.Partials {
		progress(fmt.Sprintf("aggregazione parziale %d/%d: %s %s", i+1, len(plan.Partials), pt.Perimeter, strings.Join(pt.Dims, ",")))
		if err := store.Exec(ctx, pt.SQL); err != nil {
			return nil, fmt.Errorf("compute: %w", err)
		}
	}
	for _, q := range plan.DropEV {
		if err := store.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("compute: %w", err)
		}
	}
	if err := store.Query(ctx, plan.HasIDs, func(scan func(...any) error) error { return scan(&cube.HasIDs) }); err != nil {
		return nil, fmt.Errorf("compute: %w", err)
	}
	nMonths := cube.To.Index() - cube.From.Index() + 1
	first := cube.From.Index()
	series := map[seriesKey][][]float64{}
	get := func(k seriesKey) [][]float64 {
		s := series[k]
		if s == nil {
			s = make([][]float64, len(c.Measures))
			for i := range s {
				s[i] = make([]float64, nMonths)
			}
			series[k] = s
		}
		return s
	}
	for i, a := range plan.Aggregates {
		progress(fmt.Sprintf("aggregazione %d/%d: %s %s", i+1, len(plan.Aggregates), a.Perimeter, strings.Join(a.Breakdown, ",")))
		dims := strings.Join(a.Breakdown, ",")
		var levels []oml.Level
		for _, l := range oml.Levels {
			if slices.ContainsFunc(c.Breakdowns[string(l)], func(b []string) bool { return slices.Equal(b, a.Breakdown) }) {
				levels = append(levels, l)
			}
		}
		var prov, cpi, com *string
		codes := make([]string, len(a.Breakdown))
		var m int
		var core bool
		vals := make([]float64, len(c.Measures))
		dest := []any{&prov, &cpi, &com}
		for j := range codes {
			dest = append(dest, &codes[j])
		}
		dest = append(dest, &m, &core)
		for j := range vals {
			dest = append(dest, &vals[j])
		}
		err := store.Query(ctx, a.SQL, func(scan func(...any) error) error {
			if err := scan(dest...); err != nil {
				return err
			}
			mi := m - first
			if mi < 0 || mi >= nMonths {
				return nil
			}
			cs := strings.Join(codes, ",")
			for _, l := range levels {
				var t string
				switch l {
				case oml.LevelRegion:
					t = oml.RegionCode
				case oml.LevelProvince:
					t = *prov
				case oml.LevelCPI:
					if cpi == nil {
						continue
					}
					t = *cpi
				case oml.LevelComune:
					if com == nil {
						continue
					}
					t = *com
					cube.ComuneProvince[t] = *prov
				}
				for _, sc := range oml.Scopes {
					if sc == oml.ScopeCore && !core {
						continue
					}
					s := get(seriesKey{a.Perimeter, sc, l, t, dims, cs})
					for j, v := range vals {
						s[j][mi] += v
					}
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("compute %s %s: %w", a.Perimeter, dims, err)
		}
	}
	progress("lavoratori e datori distinti / distinct workers and employers")
	countDistinct, err := c.distinct(ctx, store, cube)
	if err != nil {
		return nil, err
	}
	// The distinct counts are Go work on the hires just read: they run
	// while DuckDB computes the medians.
	var distinct map[CellKey]float64
	counted := make(chan struct{})
	go func() {
		defer close(counted)
		distinct = countDistinct()
	}()
	defer func() { <-counted }()
	progress("mediane; conteggio dei distinti / medians; distinct counts")
	medians := map[CellKey]float64{}
	for _, a := range plan.Medians {
		var freq, level, terr string
		var period int
		var core bool
		var v float64
		err := store.Query(ctx, a.SQL, func(scan func(...any) error) error {
			if err := scan(&freq, &period, &level, &terr, &core, &v); err != nil {
				return err
			}
			sc := oml.ScopeFull
			if core {
				sc = oml.ScopeCore
			}
			medians[CellKey{a.Perimeter, sc, oml.Freq(freq[0]), period, oml.Level(level), terr, "", ""}] = v
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("compute medians: %w", err)
		}
	}
	<-counted
	progress("indicatori / indicators")
	keys := make([]seriesKey, 0, len(series))
	for k := range series {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
	d := c.newDeriver(cube, distinct, medians)
	cube.Cells = make([]Cell, 0, len(keys)*d.nPer)
	for _, k := range keys {
		d.derive(k, series[k])
	}
	return cube, nil
}

func (a seriesKey) less(b seriesKey) bool {
	if a.perimeter != b.perimeter {
		return a.perimeter > b.perimeter // workplace first
	}
	if a.scope != b.scope {
		return a.scope > b.scope // full first
	}
	if a.level != b.level {
		return levelRank(a.level) < levelRank(b.level)
	}
	if a.territory != b.territory {
		return a.territory < b.territory
	}
	if a.dims != b.dims {
		return a.dims < b.dims
	}
	return a.codes < b.codes
}

func levelRank(l oml.Level) int { return slices.Index(oml.Levels, l) }

// deriver holds what derive needs for every series, computed once.
type deriver struct {
	c        *Catalogue
	cube     *Cube
	plans    []indPlan           // per indicator, its measures as indices
	allowed  map[string][]bool   // level + "|" + dims -> indicator published
	distinct map[CellKey]float64 // distinct counts
	medians  map[CellKey]float64 // medians
	nPer     int                 // periods of every frequency
}

// indPlan is an indicator with its measures resolved to indices.
type indPlan struct {
	terms                  []termPlan // flow; cumulative: the terms of the flow it cumulates
	measure                int        // stock
	num, den, stock, count int        // ratio, rate, median
}

type termPlan struct {
	j       int
	sign    float64
	counted bool // the term counts events for disclosure (position moves do not)
}

func (c *Catalogue) newDeriver(cube *Cube, distinct, medians map[CellKey]float64) *deriver {
	d := &deriver{c: c, cube: cube, plans: make([]indPlan, len(c.Indicators)),
		allowed: map[string][]bool{}, distinct: distinct, medians: medians}
	midx := map[string]int{}
	for i, m := range c.Measures {
		midx[m.ID] = i
	}
	for i := range c.Indicators {
		ind := &c.Indicators[i]
		terms := ind.Terms
		if ind.Kind == KindCumulative {
			of, _ := c.Indicator(ind.Of)
			terms = of.Terms
		}
		p := indPlan{measure: midx[ind.Measure], num: midx[ind.Numerator], den: midx[ind.Denominator],
			stock: midx[ind.Stock], count: midx[ind.Count]}
		for _, t := range terms {
			p.terms = append(p.terms, termPlan{midx[t.Measure], float64(t.Sign), t.Measure != "mv"})
		}
		d.plans[i] = p
	}
	for _, f := range oml.Freqs {
		d.nPer += cube.To.Of(f).Index() - cube.From.Of(f).Index() + 1
	}
	return d
}

func (d *deriver) allowedFor(l oml.Level, dims string) []bool {
	k := string(l) + "|" + dims
	if a, ok := d.allowed[k]; ok {
		return a
	}
	breakdown := []string{}
	if dims != "" {
		breakdown = strings.Split(dims, ",")
	}
	a := make([]bool, len(d.c.Indicators))
	for i := range d.c.Indicators {
		ind := &d.c.Indicators[i]
		a[i] = d.c.Allows(ind, l, breakdown) && (d.cube.HasIDs || !ind.NeedsIDs)
	}
	d.allowed[k] = a
	return a
}

// derive appends to cube the cells of one series at every frequency. The
// values of a series' cells share one allocation.
func (d *deriver) derive(k seriesKey, ms [][]float64) {
	c, cube := d.c, d.cube
	nInd := len(c.Indicators)
	first := cube.From.Index()
	n := len(ms[0])
	allowed := d.allowedFor(k.level, k.dims)
	vals := make([]float64, 2*d.nPer*nInd)
	status := make([]oml.Status, d.nPer*nInd)
	used := 0
	// cum holds the running sums of every measure: a period's sum is a
	// difference of two (exact: every value is a whole number).
	cum := make([][]float64, len(ms))
	for j, m := range ms {
		cum[j] = make([]float64, n)
		s := 0.0
		for i, v := range m {
			s += v
			cum[j][i] = s
		}
	}
	distinctCodes := map[string]string{}
	for i := range c.Indicators {
		if c.Indicators[i].Kind == KindDistinct {
			distinctCodes[c.Indicators[i].Of] = c.Indicators[i].Of + "|" + k.codes
		}
	}
	for _, f := range oml.Freqs {
		p0 := cube.From.Of(f)
		p1 := cube.To.Of(f)
		for pi := p0.Index(); pi <= p1.Index(); pi++ {
			per := oml.PeriodAt(f, pi)
			fm, lm := per.Months()
			a := max(fm.Index()-first, 0)
			b := min(lm.Index()-first, n-1)
			sum := func(j int) float64 {
				if a == 0 {
					return cum[j][b]
				}
				return cum[j][b] - cum[j][a-1]
			}
			key := CellKey{k.perimeter, k.scope, f, pi, k.level, k.territory, k.dims, k.codes}
			cell := Cell{CellKey: key,
				Values: vals[used*nInd : (used+1)*nInd : (used+1)*nInd],
				Status: status[used*nInd : (used+1)*nInd : (used+1)*nInd],
				under:  vals[(d.nPer+used)*nInd : (d.nPer+used+1)*nInd : (d.nPer+used+1)*nInd]}
			nonEmpty := false
			for i := range c.Indicators {
				ind := &c.Indicators[i]
				pl := &d.plans[i]
				v, u := math.NaN(), 0.0
				if allowed[i] {
					switch ind.Kind {
					case KindFlow:
						v = 0
						for _, t := range pl.terms {
							x := sum(t.j)
							v += t.sign * x
							if t.counted {
								u = smallest(u, x)
							}
						}
					case KindCumulative:
						v = 0
						for _, t := range pl.terms {
							x := cum[t.j][b]
							v += t.sign * x
							if t.counted {
								u = smallest(u, x)
							}
						}
					case KindStock:
						v = cum[pl.measure][b]
						u = math.Abs(v)
					case KindDistinct:
						dk := key
						dk.Codes = distinctCodes[ind.Of]
						v = d.distinct[dk]
						u = v
					case KindRatio:
						num, den := sum(pl.num), sum(pl.den)
						if den > 0 {
							v = ind.Scale * num / den
						}
						u = smallest(smallest(0, num), den)
					case KindRate:
						num := sum(pl.num)
						var stock float64
						if a > 0 {
							stock = cum[pl.stock][a-1]
						}
						if stock > 0 {
							v = ind.Scale * num / stock
						}
						u = smallest(smallest(0, num), stock)
					case KindMedian:
						if med, ok := d.medians[key]; ok {
							v = med
						}
						u = sum(pl.count)
					}
				}
				cell.Values[i] = v
				cell.under[i] = u
				if math.IsNaN(v) {
					cell.Status[i] = oml.StatusUnavailable
				} else {
					cell.Status[i] = oml.StatusNormal
					if v != 0 || u != 0 {
						nonEmpty = true
					}
				}
			}
			if !nonEmpty {
				continue
			}
			used++
			cube.Cells = append(cube.Cells, cell)
		}
	}
}

// smallest returns the smaller of u and |x| among the positive ones: the
// smallest count a value rests on, for primary suppression (0: none).
func smallest(u, x float64) float64 {
	x = math.Abs(x)
	switch {
	case x == 0:
		return u
	case u == 0 || x < u:
		return x
	}
	return u
}

// Lookup returns the cell with key k. The first call indexes the cube.
func (cube *Cube) Lookup(k CellKey) (*Cell, bool) {
	cube.once.Do(func() {
		cube.index = make(map[CellKey]int, len(cube.Cells))
		for i := range cube.Cells {
			cube.index[cube.Cells[i].CellKey] = i
		}
	})
	i, ok := cube.index[k]
	if !ok {
		return nil, false
	}
	return &cube.Cells[i], true
}
