package method

import (
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/regione-lombardia/oml"
)

// Disclosure control protects the people and employers behind small
// counts for every reader without microdata rights. It runs on the whole
// cube before a release is written, in three steps:
//
//  1. Primary suppression: a value resting on 1 to K-1 events, workers or
//     employers is withheld (status C). For a flow or a balance the rule
//     looks at every counted term (hires, communicated and imputed
//     terminations...), so a balance never reveals a small count; for a
//     share, a rate or a median at its numerator and denominator.
//  2. Secondary suppression: for every additive indicator, in every linear
//     relation the published tables contain, a single withheld cell could be
//     recovered by difference, so a second one is withheld (the smallest
//     part in absolute value, ties broken by key order; the relation's
//     total only when no part can be), until no relation has exactly one. Relations: the codes of a partition dimension add up to
//     the cell without that dimension; provinces and CPIs add up to the
//     region, comuni to their province; months add up to quarters and
//     quarters to years (flows); a flow of several terms equals the
//     combination of the single-term indicators (saldo, cessazioni).
//  3. Rounding, when the rule sets RoundTo > 1: published counts are
//     rounded to that base.
//
// Then the cells of the last ProvisionalMonths months, and the quarters
// and years that contain them, are flagged provisional (status P).

// Disclose applies disclosure control and the provisional flag to the
// cube, in place. Withheld values become NaN with status C. It is
// deterministic: the same cube gives the same result.
func (cube *Cube) Disclose() {
	c := cube.Catalogue
	k := float64(c.Disclosure.K)
	for ci := range cube.Cells {
		cell := &cube.Cells[ci]
		for i, u := range cell.under {
			if cell.Status[i] != oml.StatusUnavailable && u > 0 && u < k {
				cell.Status[i] = oml.StatusConfidential
			}
		}
	}
	cube.secondary()
	for ci := range cube.Cells {
		cell := &cube.Cells[ci]
		for i := range cell.Values {
			switch cell.Status[i] {
			case oml.StatusConfidential:
				cell.Values[i] = math.NaN()
			case oml.StatusNormal:
				if r := c.Disclosure.RoundTo; r > 1 && c.Indicators[i].Kind != KindRatio &&
					c.Indicators[i].Kind != KindRate && c.Indicators[i].Kind != KindMedian {
					cell.Values[i] = math.Round(cell.Values[i]/float64(r)) * float64(r)
				}
			}
		}
	}
	cube.flagProvisional()
}

// flagProvisional marks P every published value of a period that ends in
// the last ProvisionalMonths months.
func (cube *Cube) flagProvisional() {
	firstProv := cube.To.Index() - cube.Catalogue.ProvisionalMonths + 1
	for ci := range cube.Cells {
		cell := &cube.Cells[ci]
		_, last := oml.PeriodAt(cell.Freq, cell.Period).Months()
		if last.Index() < firstProv {
			continue
		}
		for i, s := range cell.Status {
			if s == oml.StatusNormal {
				cell.Status[i] = oml.StatusProvisional
			}
		}
	}
}

// ikey is a cell key with its strings interned, for fast grouping.
type ikey struct {
	per, scope, freq, level uint8
	period                  int32
	terr, dims, codes       int32
}

// gkey is the key of a relation: its total's key and what the parts
// vary in (a dimension, a territorial level, a frequency).
type gkey struct {
	total ikey
	along int32
}

// interner numbers strings.
type interner struct {
	ids  map[string]int32
	strs []string
}

func (in *interner) id(s string) int32 {
	if i, ok := in.ids[s]; ok {
		return i
	}
	i := int32(len(in.strs))
	in.ids[s] = i
	in.strs = append(in.strs, s)
	return i
}

// secondary runs secondary suppression to a fixed point, with a work
// list: a relation is checked again only when one of its members changed.
// Relations never cross a perimeter or a scope, so each (perimeter, scope)
// part of the cube is protected on its own, the parts in parallel; the
// work within a part is in the same order as if it were alone.
func (cube *Cube) secondary() {
	c := cube.Catalogue
	var sh secShared
	sh.isAdditive = make([]bool, len(c.Indicators))
	sh.isFlow = make([]bool, len(c.Indicators))
	for i := range c.Indicators {
		if c.Indicators[i].Additive {
			sh.additive = append(sh.additive, i)
			sh.isAdditive[i] = true
			if c.Indicators[i].Kind == KindFlow {
				sh.flows = append(sh.flows, i)
				sh.isFlow[i] = true
			}
		}
	}
	if len(sh.additive) == 0 {
		return
	}
	sh.partition = map[string]bool{}
	for _, d := range c.Dimensions {
		sh.partition[d.ID] = d.Partition
	}
	// Cross-indicator relations: a flow of several terms and the
	// single-term flows of the same measures, in every cell.
	for _, i := range sh.flows {
		ind := &c.Indicators[i]
		if len(ind.Terms) < 2 {
			continue
		}
		set := []int{i}
		for _, t := range ind.Terms {
			for _, j := range sh.flows {
				o := &c.Indicators[j]
				if len(o.Terms) == 1 && o.Terms[0].Measure == t.Measure && o.Terms[0].Sign == 1 {
					set = append(set, j)
				}
			}
		}
		if len(set) > 1 {
			sh.cross = append(sh.cross, set)
		}
	}
	var parts [4][]int32 // by perimeter and scope
	sh.local = make([]int32, len(cube.Cells))
	for ci := range cube.Cells {
		p := 0
		if cube.Cells[ci].Perimeter == oml.Residence {
			p = 2
		}
		if cube.Cells[ci].Scope == oml.ScopeCore {
			p++
		}
		sh.local[ci] = int32(len(parts[p]))
		parts[p] = append(parts[p], int32(ci))
	}
	var wg sync.WaitGroup
	for _, cells := range parts {
		if len(cells) > 0 {
			wg.Go(func() { cube.secondaryOf(cells, &sh) })
		}
	}
	wg.Wait()
}

// secShared is what the parts of secondary suppression share, read-only.
type secShared struct {
	additive, flows    []int
	isAdditive, isFlow []bool
	partition          map[string]bool // dimension -> partition
	cross              [][]int         // cross-indicator relations
	local              []int32         // cell -> its index in its part
}

// secondaryOf runs secondary suppression on cells, the cells of one
// perimeter and scope, in key order.
func (cube *Cube) secondaryOf(cells []int32, sh *secShared) {
	additive, isAdditive, isFlow, partition, cross := sh.additive, sh.isAdditive, sh.isFlow, sh.partition, sh.cross
	terr := &interner{ids: map[string]int32{}}
	strs := &interner{ids: map[string]int32{}}
	levelCode := map[oml.Level]uint8{}
	for i, l := range oml.Levels {
		levelCode[l] = uint8(i)
	}
	keyOf := func(k CellKey) ikey {
		per, sc := uint8(0), uint8(0)
		if k.Perimeter == oml.Residence {
			per = 1
		}
		if k.Scope == oml.ScopeCore {
			sc = 1
		}
		return ikey{per, sc, uint8(k.Freq), levelCode[k.Level], int32(k.Period), terr.id(k.Territory), strs.id(k.Dims), strs.id(k.Codes)}
	}
	keys := make([]ikey, len(cells))
	idx := make(map[ikey]int32, len(cells))
	for li, ci := range cells {
		keys[li] = keyOf(cube.Cells[ci].CellKey)
		idx[keys[li]] = ci
	}
	// parents of a (dims, codes) pair: the pairs without one partition
	// dimension (along), computed once per pair.
	type pair struct{ dims, codes, along int32 }
	parentsOf := map[pair][]pair{}
	parents := func(p pair) []pair {
		if ps, ok := parentsOf[p]; ok {
			return ps
		}
		var ps []pair
		if ds := strs.strs[p.dims]; ds != "" {
			dims := strings.Split(ds, ",")
			codes := strings.Split(strs.strs[p.codes], ",")
			for j, d := range dims {
				if partition[d] {
					ps = append(ps, pair{
						strs.id(strings.Join(slices.Delete(slices.Clone(dims), j, j+1), ",")),
						strs.id(strings.Join(slices.Delete(slices.Clone(codes), j, j+1), ",")),
						strs.id("dim:" + d)})
				}
			}
		}
		parentsOf[p] = ps
		return ps
	}
	region := terr.id(oml.RegionCode)
	alongProv, alongCPI, alongCom, alongTime := strs.id("level:province"), strs.id("level:cpi"), strs.id("level:comune"), strs.id("time")
	cpiLevel, provLevel, regLevel := levelCode[oml.LevelCPI], levelCode[oml.LevelProvince], levelCode[oml.LevelRegion]
	// Relations, keyed by their total; time relations apart (flows only).
	groups := map[gkey]int32{}
	var members [][]int32
	var timeRel, hasTotal []bool
	add := func(total ikey, along int32, part int32) {
		r, ok := groups[gkey{total, along}]
		if !ok {
			r = int32(len(members))
			groups[gkey{total, along}] = r
			var m []int32
			i, ok := idx[total]
			if ok {
				m = append(m, i)
			}
			members = append(members, m)
			timeRel = append(timeRel, along == alongTime)
			hasTotal = append(hasTotal, ok)
		}
		members[r] = append(members[r], part)
	}
	for li, ci := range cells {
		k := keys[li]
		for _, p := range parents(pair{k.dims, k.codes, 0}) {
			t := k
			t.dims, t.codes = p.dims, p.codes
			add(t, p.along, ci)
		}
		switch k.level {
		case provLevel, cpiLevel:
			t := k
			t.level, t.terr = regLevel, region
			along := alongProv
			if k.level == cpiLevel {
				along = alongCPI
			}
			add(t, along, ci)
		case levelCode[oml.LevelComune]:
			if p, ok := cube.ComuneProvince[terr.strs[k.terr]]; ok {
				t := k
				t.level, t.terr = provLevel, terr.id(p)
				add(t, alongCom, ci)
			}
		}
		if f := oml.Freq(k.freq); f != oml.Yearly {
			up := oml.Quarterly
			if f == oml.Quarterly {
				up = oml.Yearly
			}
			t := k
			t.freq, t.period = uint8(up), int32(oml.PeriodAt(f, int(k.period)).Of(up).Index())
			add(t, alongTime, ci)
		}
	}
	// The relations of every cell.
	cellRels := make([][]int32, len(cells)) // by index in the part
	for r, ms := range members {
		for _, m := range ms {
			cellRels[sh.local[m]] = append(cellRels[sh.local[m]], int32(r))
		}
	}
	// Work list of (relation, indicator) and of cells for the cross
	// relations. Only a relation with a withheld member can need a second
	// one: the work starts from the cells primary suppression withheld.
	type work struct {
		rel int32
		ind int
	}
	var queue []work
	var cellQueue []int32
	changed := func(cell int32, i int) {
		for _, r := range cellRels[sh.local[cell]] {
			if !timeRel[r] || isFlow[i] {
				queue = append(queue, work{r, i})
			}
		}
		cellQueue = append(cellQueue, cell)
	}
	for _, ci := range cells {
		for _, i := range additive {
			if cube.Cells[ci].Status[i] == oml.StatusConfidential {
				changed(ci, i)
			}
		}
	}
	for len(queue) > 0 || len(cellQueue) > 0 {
		for len(queue) > 0 {
			w := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			if m := cube.protect(members[w.rel], w.ind, hasTotal[w.rel]); m >= 0 {
				changed(m, w.ind)
			}
		}
		for len(cellQueue) > 0 {
			ci := cellQueue[len(cellQueue)-1]
			cellQueue = cellQueue[:len(cellQueue)-1]
			for _, set := range cross {
				if i := cube.protectAcross(ci, set); i >= 0 && isAdditive[i] {
					changed(ci, i)
				}
			}
		}
	}
}

// protect withholds one more member of a relation for indicator i when
// exactly one is withheld, and returns it (-1: none). It withholds the
// smallest part (in absolute value, ties by key order), and the total
// only when no part can be: a total carries more information than any
// one of its parts, and a balance's total is often the smallest number of
// its relation (positive and negative parts cancel), so choosing by size
// alone would withhold a province's or a year's balance to protect one
// small cell. hasTotal says members[0] is the relation's total.
func (cube *Cube) protect(members []int32, i int, hasTotal bool) int32 {
	n, pick, total := 0, int32(-1), int32(-1)
	best := math.Inf(1)
	for j, m := range members {
		cell := &cube.Cells[m]
		switch cell.Status[i] {
		case oml.StatusConfidential:
			if n++; n > 1 {
				return -1
			}
		case oml.StatusUnavailable:
		default:
			if j == 0 && hasTotal {
				if cell.Values[i] != 0 {
					total = m
				}
				continue
			}
			if v := math.Abs(cell.Values[i]); v > 0 && v < best {
				best, pick = v, m
			}
		}
	}
	if pick < 0 {
		pick = total
	}
	if n != 1 || pick < 0 {
		return -1
	}
	cube.Cells[pick].Status[i] = oml.StatusConfidential
	return pick
}

// protectAcross is protect for the indicators of set in one cell (set[0]
// the flow of several terms, the total; the others its terms, the
// parts); it returns the indicator it withheld (-1: none).
func (cube *Cube) protectAcross(ci int32, set []int) int {
	cell := &cube.Cells[ci]
	n, pick, total := 0, -1, -1
	best := math.Inf(1)
	for j, i := range set {
		switch cell.Status[i] {
		case oml.StatusConfidential:
			n++
		case oml.StatusUnavailable:
		default:
			if j == 0 {
				if cell.Values[i] != 0 {
					total = i
				}
				continue
			}
			if v := math.Abs(cell.Values[i]); v > 0 && v < best {
				best, pick = v, i
			}
		}
	}
	if pick < 0 {
		pick = total
	}
	if n != 1 || pick < 0 {
		return -1
	}
	cell.Status[pick] = oml.StatusConfidential
	return pick
}
