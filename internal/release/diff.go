package release

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/method"
)

// Diff returns the published figures that differ between releases a (the
// older) and b, over the periods both cover and the indicators both
// define. A figure is revised when both publish it with different values,
// or when one publishes it (A or P) and the other withholds it (C or M): a
// cell newly withheld or unwithheld is a revision. A change of status
// between A and P alone is not. Cells absent from a release count as
// Select answers them (0 for count indicators). Values equal within 1e-9
// (relative) are equal: the figures are sums of whole numbers and ratios
// of them. The revisions are sorted by indicator (catalogue order of b),
// then perimeter, scope, frequency, level, territory, breakdown, codes and
// period.
func Diff(a, b *Release) ([]Revision, error) {
	if a == nil || b == nil {
		return nil, fmt.Errorf("diff: nil release")
	}
	var out []Revision
	keys := map[tableKey]bool{}
	for k := range a.tables {
		keys[k] = true
	}
	for k := range b.tables {
		keys[k] = true
	}
	sorted := make([]tableKey, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	slices.SortFunc(sorted, compareTableKeys)
	for kb, ind := range b.cat.Indicators {
		ka, ok := a.indIdx[ind.ID]
		if !ok {
			continue
		}
		pa := &queryPlan{k: ka, countKind: isCount(&a.cat.Indicators[ka])}
		pb := &queryPlan{k: kb, countKind: isCount(&ind)}
		for _, tk := range sorted {
			pa.freq, pb.freq = tk.freq, tk.freq
			lo := max(a.span[tk.freq][0], b.span[tk.freq][0])
			hi := min(a.span[tk.freq][1], b.span[tk.freq][1])
			if lo > hi {
				continue
			}
			ta, tb := a.tables[tk], b.tables[tk]
			// The union of the series, in b's order then a's extra ones.
			type pair struct{ sa, sb *series }
			var pairs []pair
			idx := map[[2]string]int{}
			for side, t := range []*table{tb, ta} {
				if t == nil {
					continue
				}
				for i := range t.series {
					s := &t.series[i]
					key := [2]string{s.territory, s.codes}
					j, ok := idx[key]
					if !ok {
						j = len(pairs)
						idx[key] = j
						pairs = append(pairs, pair{})
					}
					if side == 0 {
						pairs[j].sb = s
					} else {
						pairs[j].sa = s
					}
				}
			}
			for _, pr := range pairs {
				va, sa := seriesValues(a, pa, ta, pr.sa, lo, hi)
				vb, sb := seriesValues(b, pb, tb, pr.sb, lo, hi)
				for i := range va {
					if !revised(va[i], sa[i], vb[i], sb[i]) {
						continue
					}
					s := pr.sb
					if s == nil {
						s = pr.sa
					}
					out = append(out, Revision{
						Indicator: ind.ID,
						Key: method.CellKey{Perimeter: tk.perimeter, Scope: tk.scope, Freq: tk.freq, Period: lo + i,
							Level: tk.level, Territory: s.territory, Dims: tk.dims, Codes: s.codes},
						Old: va[i], New: vb[i], OldStatus: sa[i], NewStatus: sb[i],
					})
				}
			}
		}
	}
	return out, nil
}

// compareTableKeys orders tables by perimeter, scope, frequency, level and
// breakdown, in the canonical orders of the root package.
func compareTableKeys(x, y tableKey) int {
	return cmp.Or(
		cmp.Compare(slices.Index(oml.Perimeters, x.perimeter), slices.Index(oml.Perimeters, y.perimeter)),
		cmp.Compare(slices.Index(oml.Scopes, x.scope), slices.Index(oml.Scopes, y.scope)),
		cmp.Compare(slices.Index(oml.Freqs, x.freq), slices.Index(oml.Freqs, y.freq)),
		cmp.Compare(slices.Index(oml.Levels, x.level), slices.Index(oml.Levels, y.level)),
		strings.Compare(x.dims, y.dims))
}

// seriesValues returns the values and statuses of series s of table t for
// periods lo to hi, filling absent cells as Select does. A nil s is a
// series absent from the release.
func seriesValues(r *Release, p *queryPlan, t *table, s *series, lo, hi int) ([]float64, []oml.Status) {
	n := hi - lo + 1
	vals := make([]float64, n)
	sts := make([]oml.Status, n)
	for i := range n {
		vals[i], sts[i] = r.absent(p, t, lo+i)
	}
	if s == nil {
		return vals, sts
	}
	c := &t.cols[p.k]
	for row := s.lo; row < s.hi; row++ {
		if i := int(t.period[row]) - lo; i >= 0 && i < n {
			vals[i], sts[i] = c.at(row)
		}
	}
	return vals, sts
}

// revised reports whether a figure changed between two releases.
func revised(old float64, oldSt oml.Status, new float64, newSt oml.Status) bool {
	po, pn := published(oldSt), published(newSt)
	if po != pn {
		return true
	}
	if !po {
		return false
	}
	return math.Abs(new-old) > 1e-9*max(1, math.Abs(old), math.Abs(new))
}

// WriteDiff writes a human summary of revisions between releases a and b:
// per indicator the number of revised figures, of figures newly withheld
// and newly published, and the mean and largest absolute revision; then
// the largest revisions. Headers are in Italian.
func WriteDiff(w io.Writer, revisions []Revision, a, b Info) error {
	const top = 20
	var buf strings.Builder
	fmt.Fprintf(&buf, "Revisioni tra la release %s (dati al %s) e la release %s (dati al %s)\n", a.ID, a.Vintage, b.ID, b.Vintage)
	if a.MethodVersion != b.MethodVersion {
		fmt.Fprintf(&buf, "Attenzione: metodologia %s nella prima, %s nella seconda.\n", a.MethodVersion, b.MethodVersion)
	}
	fmt.Fprintf(&buf, "Celle riviste in totale: %d\n\n", len(revisions))
	if len(revisions) == 0 {
		_, err := io.WriteString(w, buf.String())
		return err
	}
	type summary struct {
		n, withheld, released int
		sum, maxAbs           float64
		nv                    int
	}
	var order []string
	sums := map[string]*summary{}
	for _, r := range revisions {
		s := sums[r.Indicator]
		if s == nil {
			s = &summary{}
			sums[r.Indicator] = s
			order = append(order, r.Indicator)
		}
		s.n++
		po, pn := published(r.OldStatus), published(r.NewStatus)
		switch {
		case po && !pn:
			s.withheld++
		case !po && pn:
			s.released++
		default:
			d := math.Abs(r.Delta())
			s.sum += d
			s.nv++
			s.maxAbs = max(s.maxAbs, d)
		}
	}
	// Right-aligned numbers; the indicator column is padded by hand to
	// stay left-aligned.
	width := len("Indicatore")
	for _, id := range order {
		width = max(width, len(id))
	}
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\tCelle riviste\tNuove oscurate\tNuove pubblicate\tRevisione media\tRevisione massima\t\n", width, "Indicatore")
	for _, id := range order {
		s := sums[id]
		mean := 0.0
		if s.nv > 0 {
			mean = s.sum / float64(s.nv)
		}
		fmt.Fprintf(tw, "%-*s\t%d\t%d\t%d\t%s\t%s\t\n", width, id, s.n, s.withheld, s.released, formatNumber(mean), formatNumber(s.maxAbs))
	}
	tw.Flush()

	var largest []Revision
	for _, r := range revisions {
		if published(r.OldStatus) && published(r.NewStatus) {
			largest = append(largest, r)
		}
	}
	slices.SortStableFunc(largest, func(x, y Revision) int {
		return cmp.Compare(math.Abs(y.Delta()), math.Abs(x.Delta()))
	})
	if len(largest) > top {
		largest = largest[:top]
	}
	if len(largest) > 0 {
		fmt.Fprintf(&buf, "\nLe %d revisioni più ampie\n", len(largest))
		tw = tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "Indicatore\tPerimetro\tAmbito\tPeriodo\tTerritorio\tDisaggregazione\tPrecedente\tNuovo\tDifferenza\tVariazione %")
		for _, r := range largest {
			by := "totale"
			if r.Key.Dims != "" {
				by = r.Key.Dims + "=" + r.Key.Codes
			}
			pct := "-"
			if r.Old != 0 {
				pct = formatNumber(100 * r.Delta() / math.Abs(r.Old))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Indicator, r.Key.Perimeter, r.Key.Scope,
				oml.PeriodAt(r.Key.Freq, r.Key.Period), r.Key.Territory, by,
				formatNumber(r.Old), formatNumber(r.New), formatNumber(r.Delta()), pct)
		}
		tw.Flush()
	}
	_, err := io.WriteString(w, buf.String())
	return err
}

// formatNumber writes a figure the Italian way, with a decimal comma and
// at most two decimals.
func formatNumber(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		s = "0"
	}
	return strings.Replace(s, ".", ",", 1)
}
