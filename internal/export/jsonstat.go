package export

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/regione-lombardia/oml"
)

// Source is the provider every self-describing format (JSON-stat, XLSX)
// names as the source of the figures.
const Source = "Osservatori del mercato del lavoro della Lombardia (oml)"

// MaxCubeCells is the largest cube the JSON-stat encoder writes. JSON-stat
// holds a value (or null) for every combination of the categories of its
// dimensions, so a sparse query (every comune by every profession) can
// describe a cube far larger than its observations; past this bound Encode
// returns an *oml.Error with code oml.EINVALID that suggests CSV, which
// lists observations only. Five million cells are about 25 MB of output.
const MaxCubeCells = 5_000_000

// The JSON-stat ids of the dimensions that are not in By.
const (
	jsIndicator = "indicator"
	jsTerritory = "territory"
	jsPeriod    = "period"
)

// axis is the categories of one dimension of the cube, in cube order.
type axis struct {
	codes []string
	pos   map[string]int
}

func (a *axis) add(code string) {
	if _, ok := a.pos[code]; !ok {
		a.pos[code] = len(a.codes)
		a.codes = append(a.codes, code)
	}
}

// encodeJSONStat writes d as one JSON-stat 2.0 dataset (class "dataset").
//
// Cube. The dimensions, in the order of "id", are
//
//	indicator (role metric, one category: the indicator, with its unit),
//	territory (role geo), each dimension of By, period (role time).
//
// Territories and codes are in the order of their first appearance among
// the observations, which keeps the order of the query; periods are in
// time order. "value" is the whole cube in row-major order (the last
// dimension, period, varies fastest), so the cell of territory t, codes
// c1…cn and period p is at ((t·|c1| + c1)·|c2| + … + cn)·|period| + p.
// Cells without an observation (a sparse cube) and cells whose status
// withholds the value are null.
//
// Status. "status" is an object from the position of each observation in
// "value" to its status (A, P, C or M); cells without an observation have
// none, which tells a missing combination from a suppressed figure.
//
// Metadata. "label" is the indicator's label (with the transformation in
// brackets for a derived series), "updated" the vintage, "note" the
// convention if there is one, and "extension" holds release, vintage,
// method_version, perimeter, scope, freq, and transform and convention if
// set, under the names the JSON format uses.
func encodeJSONStat(w io.Writer, d *oml.Dataset) error {
	for _, dim := range d.By {
		if dim == jsIndicator || dim == jsTerritory || dim == jsPeriod {
			return fmt.Errorf("encode dataset %s: dimension id %q is reserved in JSON-stat", d.Indicator, dim)
		}
	}
	// axes[0] is the territory, axes[1:n-1] the dimensions of By, axes[n-1]
	// the period; the metric dimension has one category and no axis.
	n := len(d.By) + 2
	axes := make([]axis, n)
	for i := range axes {
		axes[i].pos = make(map[string]int)
	}
	for _, o := range d.Observations {
		axes[0].add(o.Territory)
		for j, code := range o.Codes {
			axes[1+j].add(code)
		}
		axes[n-1].add(o.Period)
	}
	// Periods of one frequency sort as strings in time order ("2024-06" <
	// "2024-10", "2024-Q1" < "2024-Q2").
	periods := &axes[n-1]
	slices.Sort(periods.codes)
	for i, p := range periods.codes {
		periods.pos[p] = i
	}

	cells := 1
	for _, a := range axes {
		if len(a.codes) > 0 && cells > MaxCubeCells/len(a.codes) {
			cells = MaxCubeCells + 1
			break
		}
		cells *= len(a.codes)
	}
	if cells > MaxCubeCells {
		return oml.Errorf(oml.EINVALID, "la tabella richiesta è troppo grande per il formato JSON-stat (oltre %d celle) / the requested table is too large for JSON-stat (over %d cells)", MaxCubeCells, MaxCubeCells).
			WithHint("ridurre territori, periodi o disaggregazioni, oppure usare format=csv / narrow territories, periods or breakdowns, or use format=csv")
	}

	// The position of every observation in the cube, in cube order.
	type cell struct{ pos, obs int }
	order := make([]cell, len(d.Observations))
	for i, o := range d.Observations {
		k := axes[0].pos[o.Territory]
		for j, code := range o.Codes {
			a := &axes[1+j]
			k = k*len(a.codes) + a.pos[code]
		}
		k = k*len(periods.codes) + periods.pos[o.Period]
		order[i] = cell{k, i}
	}
	slices.SortFunc(order, func(a, b cell) int { return cmp.Compare(a.pos, b.pos) })
	for i := 1; i < len(order); i++ {
		if order[i].pos == order[i-1].pos {
			o := d.Observations[order[i].obs]
			return fmt.Errorf("encode dataset %s: two observations of %s %s %v", d.Indicator, o.Territory, o.Period, o.Codes)
		}
	}

	bw := bufio.NewWriterSize(w, 32<<10)
	b := make([]byte, 0, 64<<10)
	flush := func() {
		if len(b) >= 32<<10 {
			bw.Write(b)
			b = b[:0]
		}
	}

	label := d.Label
	if label == "" {
		label = d.Indicator
	}
	b = append(b, `{"version":"2.0","class":"dataset","label":`...)
	b = appendJSONString(b, title(d))
	b = append(b, ",\n"+`"source":`...)
	b = appendJSONString(b, Source)
	if d.Vintage != "" {
		b = appendField(b, "updated", d.Vintage)
	}
	if d.Convention != "" {
		b = append(b, `,"note":[`...)
		b = appendJSONString(b, d.Convention)
		b = append(b, ']')
	}

	b = append(b, ",\n"+`"id":["indicator","territory",`...)
	for _, dim := range d.By {
		b = appendJSONString(b, dim)
		b = append(b, ',')
	}
	b = append(b, `"period"],"size":[1`...)
	for _, a := range axes {
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(len(a.codes)), 10)
	}
	b = append(b, `],"role":{"time":["period"],"geo":["territory"],"metric":["indicator"]}`...)

	// The metric dimension: the indicator and its unit.
	b = append(b, ",\n"+`"dimension":{"indicator":{"label":"indicatore","category":{"index":[`...)
	b = appendJSONString(b, d.Indicator)
	b = append(b, `],"label":{`...)
	b = appendJSONString(b, d.Indicator)
	b = append(b, ':')
	b = appendJSONString(b, label)
	b = append(b, `},"unit":{`...)
	b = appendJSONString(b, d.Indicator)
	b = append(b, `:{"label":`...)
	b = appendJSONString(b, d.Unit)
	b = append(b, `,"decimals":`...)
	b = strconv.AppendInt(b, int64(decimals(d)), 10)
	b = append(b, `}}}}`...)

	for i, a := range axes {
		var id, dimLabel string
		switch {
		case i == 0:
			id, dimLabel = jsTerritory, "territorio"
		case i == n-1:
			id, dimLabel = jsPeriod, "periodo"
		default:
			id = d.By[i-1]
			dimLabel = dimensionName(d, id)
		}
		b = append(b, ",\n"...)
		b = appendJSONString(b, id)
		b = append(b, `:{"label":`...)
		b = appendJSONString(b, dimLabel)
		b = append(b, `,"category":{"index":[`...)
		for k, code := range a.codes {
			if k > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, code)
			flush()
		}
		b = append(b, `],"label":{`...)
		for k, code := range a.codes {
			if k > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, code)
			b = append(b, ':')
			switch {
			case i == 0:
				b = appendJSONString(b, territoryName(d, code))
			case i == n-1:
				b = appendJSONString(b, code)
			default:
				b = appendJSONString(b, codeName(d, id, code))
			}
			flush()
		}
		b = append(b, `}}}`...)
	}
	b = append(b, '}')

	b = append(b, ",\n"+`"value":[`...)
	next := 0
	for k := range cells {
		if k > 0 {
			b = append(b, ',')
		}
		if next < len(order) && order[next].pos == k {
			o := d.Observations[order[next].obs]
			next++
			if o.HasValue() {
				b = appendValue(b, o.Value)
				flush()
				continue
			}
		}
		b = append(b, "null"...)
		flush()
	}
	b = append(b, "],\n"+`"status":{`...)
	for i, c := range order {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = strconv.AppendInt(b, int64(c.pos), 10)
		b = append(b, `":"`...)
		b = append(b, byte(d.Observations[c.obs].Status))
		b = append(b, '"')
		flush()
	}

	b = append(b, "},\n"+`"extension":{"release":`...)
	b = appendJSONString(b, d.Release)
	b = appendField(b, "vintage", d.Vintage)
	b = appendField(b, "method_version", d.MethodVersion)
	b = appendField(b, "perimeter", string(d.Perimeter))
	b = appendField(b, "scope", string(d.Scope))
	b = appendField(b, "freq", d.Freq.String())
	if d.Transform != "" {
		b = appendField(b, "transform", d.Transform)
	}
	if d.Convention != "" {
		b = appendField(b, "convention", d.Convention)
	}
	b = append(b, "}}\n"...)
	bw.Write(b)
	return bw.Flush()
}

// decimals returns the number of decimals the shown values need: 0 when
// they are all whole numbers, else the most digits after the point among
// their shortest forms. It is the "decimals" of the JSON-stat unit.
func decimals(d *oml.Dataset) int {
	n := 0
	var buf [32]byte
	for _, o := range d.Observations {
		if !o.HasValue() || o.Value == math.Trunc(o.Value) {
			continue
		}
		s := appendValue(buf[:0], o.Value)
		if i := slices.Index(s, '.'); i >= 0 && len(s)-i-1 > n {
			n = len(s) - i - 1
		}
	}
	return n
}
