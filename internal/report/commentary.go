package report

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/itfmt"
)

// Sentence is one sentence of the automatic commentary with the named
// values it states. A sentence is written only when every value it needs
// is published.
type Sentence struct {
	Text   string
	Values map[string]Value
}

// where names the territory in a sentence: "in Lombardia", "in provincia
// di Bergamo", "nella Città metropolitana di Milano".
func where(t oml.Territory) string {
	switch {
	case t.Level == oml.LevelRegion:
		return "in Lombardia"
	case t.Code == "015":
		return "nella Città metropolitana di Milano"
	}
	return "in provincia di " + t.Name
}

// pctPhrase writes a change in percent: "il 2,1% in più", "lo 0,4% in
// meno", "invariate".
func pctPhrase(pct float64) string {
	r := math.Round(pct*10) / 10
	switch {
	case r == 0:
		return "sostanzialmente invariate"
	case r > 0:
		return percent(r) + " in più"
	}
	return percent(-r) + " in meno"
}

// percent writes a percentage with one decimal and its article: "il
// 2,1%", "l'1,5%", "lo 0,4%".
func percent(v float64) string {
	a := article(v)
	if a != "l'" {
		a += " "
	}
	return a + itfmt.Number(v, 1) + "%"
}

// article is the Italian article before a percentage, by how its
// integer part is read: "lo 0,4%", "l'1,5%", "l'11%", "l'80%", "il 2,1%".
func article(v float64) string {
	ip, _, _ := strings.Cut(itfmt.Number(v, 1), ",")
	switch {
	case ip == "0":
		return "lo"
	case ip == "1" || ip == "11" || strings.HasPrefix(ip, "8"):
		return "l'"
	}
	return "il"
}

// commentary writes the automatic commentary of a chapter, by rules.
func commentary(c *Chapter) []Sentence {
	var out []Sentence
	add := func(text string, vals map[string]Value) {
		for _, v := range vals {
			if !v.Shown() {
				return
			}
		}
		out = append(out, Sentence{Text: text, Values: vals})
	}
	month := itfmt.Period(c.Last)
	a, ce, s := c.Headlines[0], c.Headlines[1], c.Headlines[2]

	// 1. Hires and terminations of the last 12 months.
	if _, pa, ok := a.Change(); ok && !math.IsNaN(pa) {
		if _, pc, ok := ce.Change(); ok && !math.IsNaN(pc) {
			add("Nei 12 mesi terminati a "+month+" le attivazioni "+where(c.Territory)+" sono state "+itfmt.Number(a.Cur.V, 0)+
				", "+pctPhrase(pa)+" rispetto ai 12 mesi precedenti; le cessazioni sono state "+itfmt.Number(ce.Cur.V, 0)+
				" ("+pctPhrase(pc)+").",
				map[string]Value{"attivazioni": a.Cur, "attivazioni_prec": a.Prev, "cessazioni": ce.Cur, "cessazioni_prec": ce.Prev})
		}
	} else {
		add("Nei 12 mesi terminati a "+month+" le attivazioni "+where(c.Territory)+" sono state "+itfmt.Number(a.Cur.V, 0)+
			" e le cessazioni "+itfmt.Number(ce.Cur.V, 0)+".", map[string]Value{"attivazioni": a.Cur, "cessazioni": ce.Cur})
	}

	// 2. The balance.
	sign := "positivo"
	if s.Cur.V < 0 {
		sign = "negativo"
	}
	text := "Il saldo tra attivazioni e cessazioni è " + sign + " per " + itfmt.Number(math.Abs(s.Cur.V), 0) + " posizioni di lavoro"
	vals := map[string]Value{"saldo": s.Cur}
	if s.Prev.Shown() {
		text += ", contro " + itfmt.Signed(s.Prev.V, 0) + " nei 12 mesi precedenti"
		vals["saldo_prec"] = s.Prev
	}
	if s.Cur.Shown() {
		add(text+".", vals)
	}

	// 3. Short-term dynamics: the last three months against the three
	// before, seasonally adjusted.
	if m := c.Monthly[0]; len(m.SA) >= 6 {
		cur, prev := sumValues(m.SA[len(m.SA)-3:]), sumValues(m.SA[len(m.SA)-6:len(m.SA)-3])
		if cur.Shown() && prev.Shown() && prev.V > 0 {
			pct := 100 * (cur.V/prev.V - 1)
			add("Al netto della stagionalità, nei tre mesi "+span(cur.From, cur.To)+" le attivazioni sono "+
				movedBy(pct)+" rispetto ai tre mesi precedenti.",
				map[string]Value{"attivazioni_destag": cur, "attivazioni_destag_prec": prev})
		}
	}

	// 4. The sectors that drove the change of hires.
	if b := c.breakdown("ateco_sezione"); b != nil {
		type d struct {
			row  Row
			diff float64
		}
		var ds []d
		for _, r := range b.Rows {
			if r.Cur[0].Shown() && r.Prev[0].Shown() {
				ds = append(ds, d{r, r.Cur[0].V - r.Prev[0].V})
			}
		}
		slices.SortStableFunc(ds, func(x, y d) int { return cmpFloat(y.diff, x.diff) })
		if len(ds) >= 2 && ds[0].diff > 0 {
			up := ds[0]
			text := "Tra i settori, l'aumento maggiore delle attivazioni è in «" + sentenceCase(up.row.Label) + "» (" + itfmt.Signed(up.diff, 0) + ")"
			vals := map[string]Value{"settore_su": up.row.Cur[0], "settore_su_prec": up.row.Prev[0]}
			if down := ds[len(ds)-1]; down.diff < 0 {
				text += ", il calo maggiore in «" + sentenceCase(down.row.Label) + "» (" + itfmt.Signed(down.diff, 0) + ")"
				vals["settore_giu"], vals["settore_giu_prec"] = down.row.Cur[0], down.row.Prev[0]
			}
			add(text+".", vals)
		}
	}

	// 5. Women, young people and contracts among the hires.
	if b := c.breakdown("target"); b != nil && a.Cur.Shown() && a.Cur.V > 0 {
		vals := map[string]Value{"attivazioni": a.Cur}
		var parts []string
		for _, g := range []struct{ code, phrase string }{{"donne", "donne"}, {"giovani", "giovani tra 15 e 29 anni"}, {"over55", "persone di 55 anni e più"}} {
			if r := b.row(g.code); r != nil && r.Cur[0].Shown() {
				vals[g.code] = r.Cur[0]
				part := pctOfTotal(r.Cur[0].V, a.Cur.V) + " "
				if len(parts) == 0 {
					part += "riguarda "
				}
				parts = append(parts, part+g.phrase)
			}
		}
		if len(parts) > 0 {
			add("Delle attivazioni degli ultimi 12 mesi, "+joinIt(parts)+".", vals)
		}
	}
	if b := c.breakdown("contratto"); b != nil && a.Cur.Shown() && a.Cur.V > 0 {
		if ti, td := b.row("TI"), b.row("TD"); ti != nil && td != nil {
			text := "I contratti a tempo indeterminato sono " + pctOfTotal(ti.Cur[0].V, a.Cur.V) + " delle attivazioni, quelli a tempo determinato " +
				pctOfTotal(td.Cur[0].V, a.Cur.V)
			vals := map[string]Value{"attivazioni": a.Cur, "ti": ti.Cur[0], "td": td.Cur[0]}
			if c.TDTI.Shown() {
				text += "; " + itfmt.Number(c.TDTI.V, 0) + " rapporti a tempo determinato sono stati trasformati a tempo indeterminato"
				vals["trasformazioni_td_ti"] = c.TDTI
			}
			add(text+".", vals)
		}
	}

	// 6. The provinces that grew most and least (the region).
	if b := c.Provinces; b != nil {
		type ch struct {
			row Row
			pct float64
		}
		var chs []ch
		for _, r := range b.Rows {
			if _, pct, ok := (Headline{Cur: r.Cur[0], Prev: r.Prev[0]}).Change(); ok && !math.IsNaN(pct) {
				chs = append(chs, ch{r, pct})
			}
		}
		slices.SortStableFunc(chs, func(x, y ch) int { return cmpFloat(y.pct, x.pct) })
		if len(chs) >= 2 {
			hi, lo := chs[0], chs[len(chs)-1]
			prov := func(r Row) string { return where(oml.Territory{Code: r.Code, Name: r.Label, Level: oml.LevelProvince}) }
			add("Tra le province, la variazione delle attivazioni più alta è "+prov(hi.row)+" ("+signedPct(hi.pct)+"), la più bassa "+
				prov(lo.row)+" ("+signedPct(lo.pct)+").",
				map[string]Value{"provincia_su": hi.row.Cur[0], "provincia_su_prec": hi.row.Prev[0], "provincia_giu": lo.row.Cur[0], "provincia_giu_prec": lo.row.Prev[0]})
		}
	}

	// 7. The province against the region.
	if v := c.Versus; v != nil {
		reg := v.region()
		_, pp, ok1 := a.Change()
		_, pr, ok2 := Headline{Cur: reg.Cur[0], Prev: reg.Prev[0]}.Change()
		if ok1 && ok2 && !math.IsNaN(pp) && !math.IsNaN(pr) {
			cmp := "più"
			if pp < pr {
				cmp = "meno"
			}
			text := "Le attivazioni " + where(c.Territory) + " sono variate del " + signedPct(pp) + ", contro il " + signedPct(pr) +
				" della Lombardia: " + cmp + " della media regionale"
			if v.Rank > 0 {
				text += "; " + subject(c.Territory) + " è " + itfmt.Number(float64(v.Rank), 0) + "ª tra le " + itfmt.Number(float64(v.RankOf), 0) + " per variazione"
			}
			add(text+".", map[string]Value{"attivazioni": a.Cur, "attivazioni_prec": a.Prev, "regione": reg.Cur[0], "regione_prec": reg.Prev[0]})
		}
		if v.Share.Shown() {
			add(capitalize(subject(c.Territory))+" raccoglie "+percent(v.Share.V)+" delle attivazioni lombarde degli ultimi 12 mesi.",
				map[string]Value{"attivazioni": a.Cur, "regione": reg.Cur[0]})
		}
	}
	return out
}

// subject names a province as the subject of a sentence.
func subject(t oml.Territory) string {
	if t.Code == "015" {
		return "la Città metropolitana"
	}
	return "la provincia"
}

func capitalize(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// region returns the region's row of a province's comparison.
func (v *Versus) region() Row { return v.Region }

func signedPct(p float64) string { return itfmt.Signed(math.Round(p*10)/10, 1) + "%" }

func joinIt(parts []string) string {
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " e " + parts[len(parts)-1]
}

// sentenceCase writes a label of a code list inside a sentence: labels
// written in capitals ("ATTIVITÀ MANIFATTURIERE", as ATECO publishes them)
// become "Attività manifatturiere"; others are kept.
func sentenceCase(s string) string {
	if s != strings.ToUpper(s) {
		return s
	}
	r := []rune(strings.ToLower(s))
	if len(r) > 0 {
		r[0] = []rune(strings.ToUpper(string(r[0])))[0]
	}
	return string(r)
}

func (c *Chapter) breakdown(dim string) *Breakdown {
	for i := range c.Breakdowns {
		if c.Breakdowns[i].Dim == dim {
			return &c.Breakdowns[i]
		}
	}
	return nil
}

func (b *Breakdown) row(code string) *Row {
	for i := range b.Rows {
		if b.Rows[i].Code == code {
			return &b.Rows[i]
		}
	}
	return nil
}

// pctOfTotal writes part as a percentage of whole with its article:
// "il 48,4%", "l'8,1%".
func pctOfTotal(part, whole float64) string {
	p := 100 * part / whole
	return percent(p)
}

// sumValues adds up consecutive monthly values into the value of their
// span (withheld if any is).
func sumValues(vals []Value) Value {
	v := vals[0]
	v.To, v.V = vals[len(vals)-1].To, 0
	for _, x := range vals {
		if !x.Shown() {
			v.V, v.Status = math.NaN(), x.Status
			return v
		}
		if x.Status == oml.StatusProvisional {
			v.Status = oml.StatusProvisional
		}
		v.V += x.V
	}
	return v
}

// movedBy writes a change in percent as a verb: "aumentate del 2,1%",
// "diminuite dell'1,5%", "rimaste sostanzialmente stabili".
func movedBy(pct float64) string {
	r := math.Round(pct*10) / 10
	verb := "aumentate"
	switch {
	case r == 0:
		return "rimaste sostanzialmente stabili"
	case r < 0:
		verb, r = "diminuite", -r
	}
	prep := map[string]string{"il": "del ", "l'": "dell'", "lo": "dello "}[article(r)]
	return verb + " " + prep + itfmt.Number(r, 1) + "%"
}

// span writes a run of months: "agosto–ottobre 2026", "dicembre
// 2025–febbraio 2026".
func span(from, to oml.Period) string {
	f := itfmt.Period(from)
	if from.Year == to.Year {
		f = strings.TrimSuffix(f, " "+strconv.Itoa(from.Year))
	}
	return f + "–" + itfmt.Period(to)
}
