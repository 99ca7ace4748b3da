package method

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/regione-lombardia/oml"
)

// Distinct counts are not additive over territories, codes or periods, so
// they are counted directly for every cell: the hires are read once, sorted
// by worker (then by employer), and each person (employer) adds one to
// every cell its hires touch, once, found with a stamp per cell. The cells
// are a dense array: perimeter and scope, period, territory, code slot.

// maxDistinctDims bounds the dimensions of the distinct indicators.
const maxDistinctDims = 4

// hire is one hire as the distinct counts need it.
type hire struct {
	w, e  uint64
	month int32
	terr  [2][2]int16 // per perimeter: province and CPI index, -1 when unknown
	core  bool
	slots [maxDistinctDims]int16 // code slot of each distinct dimension
}

// distinctSpace numbers the cells of the distinct counts.
type distinctSpace struct {
	dims       []string         // dimensions of the distinct indicators
	terr       []string         // territory codes; 0 is the region
	terrIdx    map[string]int16 // code -> index
	slot       []string         // "dim=code"; 0 is the total
	slotIdx    map[string]int16
	levels     map[oml.Level]bool
	nMonths    int
	nPeriods   int // months, then quarters, then years
	firstM     int // month index of the first month
	qOff, yOff int
	firstQ     int
	firstY     int
}

func (s *distinctSpace) territory(code string) int16 {
	if i, ok := s.terrIdx[code]; ok {
		return i
	}
	i := int16(len(s.terr))
	s.terr = append(s.terr, code)
	s.terrIdx[code] = i
	return i
}

func (s *distinctSpace) codeSlot(dim, code string) int16 {
	k := dim + "=" + code
	if i, ok := s.slotIdx[k]; ok {
		return i
	}
	i := int16(len(s.slot))
	s.slot = append(s.slot, k)
	s.slotIdx[k] = i
	return i
}

// distinct reads the hires from store and returns a function that counts
// the distinct workers and employers of every cell of the distinct
// indicators, keyed as the cube's cells with Codes prefixed by "worker|"
// or "employer|". The counting does not touch store, so it may run while
// store runs other queries.
func (c *Catalogue) distinct(ctx context.Context, store Store, cube *Cube) (func() map[CellKey]float64, error) {
	out := map[CellKey]float64{}
	var inds []*Indicator
	dimSet := map[string]bool{}
	levels := map[oml.Level]bool{}
	for i := range c.Indicators {
		ind := &c.Indicators[i]
		if ind.Kind != KindDistinct || (!cube.HasIDs && ind.NeedsIDs) {
			continue
		}
		inds = append(inds, ind)
		for _, d := range ind.Dimensions {
			dimSet[d] = true
		}
		for _, l := range oml.Levels {
			if ind.AtLevel(l) {
				levels[l] = true
			}
		}
	}
	if len(inds) == 0 {
		return func() map[CellKey]float64 { return out }, nil
	}
	if len(dimSet) > maxDistinctDims {
		return nil, fmt.Errorf("distinct counts support at most %d dimensions", maxDistinctDims)
	}
	if levels[oml.LevelComune] {
		return nil, fmt.Errorf("distinct counts at comune level are not supported")
	}
	sp := &distinctSpace{terrIdx: map[string]int16{}, slotIdx: map[string]int16{}, levels: levels}
	sp.territory(oml.RegionCode)
	sp.codeSlot("", "")
	for _, d := range c.Dimensions {
		if dimSet[d.ID] {
			sp.dims = append(sp.dims, d.ID)
		}
	}
	sp.firstM = cube.From.Index()
	sp.nMonths = cube.To.Index() - sp.firstM + 1
	sp.firstQ = cube.From.Of(oml.Quarterly).Index()
	sp.firstY = cube.From.Year
	sp.qOff = sp.nMonths
	sp.yOff = sp.qOff + cube.To.Of(oml.Quarterly).Index() - sp.firstQ + 1
	sp.nPeriods = sp.yOff + cube.To.Year - sp.firstY + 1

	// The labels of every packed ENUM code, as territory indices and code
	// slots.
	labels := func(col string) ([]string, error) {
		var out []string
		err := store.Query(ctx, EnumLabelsSQL(col), func(scan func(...any) error) error {
			var l []any
			if err := scan(&l); err != nil {
				return err
			}
			for _, v := range l {
				out = append(out, fmt.Sprint(v))
			}
			return nil
		})
		return out, err
	}
	terrCols := []string{"w_prov", "w_cpi", "r_prov", "r_cpi"}
	var terrOf [4][]int16 // ENUM code + 1 -> territory index (-1 unknown)
	for i, col := range terrCols {
		ls, err := labels(col)
		if err != nil {
			return nil, fmt.Errorf("distinct: %w", err)
		}
		if len(ls) >= 1<<hireTerrBits {
			return nil, fmt.Errorf("distinct: %d codes of %s do not fit %d bits", len(ls), col, hireTerrBits)
		}
		terrOf[i] = []int16{-1}
		for _, l := range ls {
			terrOf[i] = append(terrOf[i], sp.territory(l))
		}
	}
	slotOf := make([][]int16, len(sp.dims)) // ENUM code + 1 -> code slot
	for i, d := range sp.dims {
		ls, err := labels(d)
		if err != nil {
			return nil, fmt.Errorf("distinct: %w", err)
		}
		if len(ls) >= 1<<hireCodeBits {
			return nil, fmt.Errorf("distinct: %d codes of %s do not fit %d bits", len(ls), d, hireCodeBits)
		}
		slotOf[i] = []int16{sp.codeSlot(d, Unknown)}
		for _, l := range ls {
			slotOf[i] = append(slotOf[i], sp.codeSlot(d, l))
		}
	}
	var hires []hire
	var w, e uint64
	var packed int64
	field := func(shift, bits int) int { return int(packed>>shift) & (1<<bits - 1) }
	err := store.Query(ctx, HiresSQL(sp.dims, sp.firstM), func(scan func(...any) error) error {
		if err := scan(&w, &e, &packed); err != nil {
			return err
		}
		m := field(0, hireMonthBits)
		if m >= sp.nMonths || m >= 1<<hireMonthBits-1 {
			return nil
		}
		h := hire{w: w, e: e, month: int32(sp.firstM + m), core: field(hireMonthBits, 1) == 1}
		shift := hireMonthBits + 1
		for i := range terrCols {
			h.terr[i/2][i%2] = terrOf[i][field(shift, hireTerrBits)]
			shift += hireTerrBits
		}
		for i := range sp.dims {
			h.slots[i] = slotOf[i][field(shift, hireCodeBits)]
			shift += hireCodeBits
		}
		hires = append(hires, h)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("distinct: %w", err)
	}
	return func() map[CellKey]float64 { return sp.count(hires, out) }, nil
}

// count adds to out the distinct workers and employers of every cell, from
// the hires sorted by worker, and returns out.
func (sp *distinctSpace) count(hires []hire, out map[CellKey]float64) map[CellKey]float64 {
	nT, nS := len(sp.terr), len(sp.slot)
	size := 4 * sp.nPeriods * nT * nS
	count := func(hires []hire, id func(h *hire) uint64) []int32 {
		counts := make([]int32, size)
		stamp := make([]uint32, size)
		var seq uint32
		var last uint64
		cells := make([]int, 0, 256)
		for i := range hires {
			h := &hires[i]
			if i == 0 || id(h) != last {
				seq++
				last = id(h)
			}
			cells = sp.cells(cells[:0], h, nT, nS)
			for _, cell := range cells {
				if stamp[cell] != seq {
					stamp[cell] = seq
					counts[cell]++
				}
			}
		}
		return counts
	}
	emit := func(of string, counts []int32) {
		for cell, n := range counts {
			if n == 0 {
				continue
			}
			s := cell % nS
			t := (cell / nS) % nT
			p := (cell / nS / nT) % sp.nPeriods
			ps := cell / nS / nT / sp.nPeriods
			k := CellKey{Perimeter: oml.Perimeters[ps/2], Scope: oml.Scopes[ps%2], Territory: sp.terr[t]}
			switch {
			case p < sp.qOff:
				k.Freq, k.Period = oml.Monthly, sp.firstM+p
			case p < sp.yOff:
				k.Freq, k.Period = oml.Quarterly, sp.firstQ+p-sp.qOff
			default:
				k.Freq, k.Period = oml.Yearly, sp.firstY+p-sp.yOff
			}
			switch {
			case t == 0:
				k.Level = oml.LevelRegion
			case strings.HasPrefix(k.Territory, oml.CPIPrefix):
				k.Level = oml.LevelCPI
			default:
				k.Level = oml.LevelProvince
			}
			if s > 0 {
				k.Dims, k.Codes, _ = strings.Cut(sp.slot[s], "=")
			}
			k.Codes = of + "|" + k.Codes
			out[k] = float64(n)
		}
	}
	// The query returns the hires sorted by worker; a copy sorted by
	// employer is counted at the same time, on the other core.
	var workers, employers []int32
	var wg sync.WaitGroup
	wg.Go(func() { workers = count(hires, func(h *hire) uint64 { return h.w }) })
	wg.Go(func() {
		byEmployer := slices.Clone(hires)
		slices.SortFunc(byEmployer, func(a, b hire) int { return cmp.Compare(a.e, b.e) })
		employers = count(byEmployer, func(h *hire) uint64 { return h.e })
	})
	wg.Wait()
	emit("worker", workers)
	emit("employer", employers)
	return out
}

// cells appends the dense indices of the cells hire h counts in.
func (sp *distinctSpace) cells(dst []int, h *hire, nT, nS int) []int {
	m := int(h.month) - sp.firstM
	mp := oml.PeriodAt(oml.Monthly, int(h.month))
	periods := [3]int{m, sp.qOff + mp.Of(oml.Quarterly).Index() - sp.firstQ, sp.yOff + mp.Year - sp.firstY}
	for per := 0; per < 2; per++ {
		if h.terr[per][0] < 0 {
			continue // not in the region in this perimeter
		}
		terrs := [3]int16{0, -1, -1}
		if sp.levels[oml.LevelProvince] {
			terrs[1] = h.terr[per][0]
		}
		if sp.levels[oml.LevelCPI] {
			terrs[2] = h.terr[per][1]
		}
		if !sp.levels[oml.LevelRegion] {
			terrs[0] = -1
		}
		for sc := 0; sc < 2; sc++ {
			if sc == 1 && !h.core {
				continue
			}
			ps := per*2 + sc
			for _, p := range periods {
				for _, t := range terrs {
					if t < 0 {
						continue
					}
					base := ((ps*sp.nPeriods+p)*nT + int(t)) * nS
					dst = append(dst, base)
					for _, s := range h.slots[:len(sp.dims)] {
						dst = append(dst, base+int(s))
					}
				}
			}
		}
	}
	return dst
}
