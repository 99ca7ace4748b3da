package method

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
)

// The compiled plan works on one temporary table, ev, with one row per
// event of the period (A, C, P, T), per imputed cessation (CI), per
// position move of a transformation (MV, two rows of opposite sign) and per
// position opened or closed (PO, +1 and -1). Every dimension is a column
// named as the dimension and holding its code; territories are the
// province, CPI and comune of both perimeters. Measures are sums over ev:
// each row carries its weight w (+1 or -1), mc, a bit mask of the count
// measures it adds w to (bit i: the i-th count measure of the catalogue),
// and v_<id>, what it adds to each value measure (w times the value, NULL
// when it does not count).
//
// ev has tens of millions of rows, and DuckDB's cost is per row and per
// aggregated column, so ev is read a few times only: once per perimeter
// and family of dimensions (partialFamilies), into a partial table grouped
// by the family's dimensions, the territory, the month, the scope flag and
// (mc, w), counting rows (n) and summing the value columns. Every
// published breakdown is then aggregated from the partial table of its
// family, a table a few times smaller than ev, where each count measure is
// the sum of w*n over the rows whose mc has its bit.

// eventKinds are the row kinds of ev.
var eventKinds = map[string]bool{"A": true, "C": true, "CI": true, "P": true, "T": true, "MV": true, "PO": true}

// dimensionSQL is the expression of each dimension's code over the joined
// event row (alias b) and lookups; every expression yields 'ND' when the
// value is unknown. The target groups are boolean columns instead.
var dimensionSQL = map[string]string{
	"ateco_sezione":       "coalesce(la.sezione, 'ND')",
	"ateco_divisione":     "coalesce(la.divisione, 'ND')",
	"professione":         "coalesce(lp.g1, 'ND')",
	"professione_2":       "coalesce(lp.g2, 'ND')",
	"contratto":           "coalesce(b.gruppo_override, lk.gruppo, 'ND')",
	"orario":              "coalesce(b.orario_override, CASE WHEN b.orario = 'F' THEN 'FT' WHEN b.orario IN ('P', 'V', 'M') THEN 'PT' END, 'ND')",
	"genere":              "coalesce(b.genere::VARCHAR, 'ND')",
	"classe_eta":          "CASE WHEN b.eta_evento IS NULL THEN 'ND' WHEN b.eta_evento < 25 THEN '15-24' WHEN b.eta_evento < 30 THEN '25-29' WHEN b.eta_evento < 35 THEN '30-34' WHEN b.eta_evento < 45 THEN '35-44' WHEN b.eta_evento < 55 THEN '45-54' WHEN b.eta_evento < 65 THEN '55-64' ELSE '65+' END",
	"cittadinanza":        "coalesce(lc.gruppo, 'ND')",
	"titolo_studio":       "coalesce(lt.gruppo, 'ND')",
	"target":              "", // boolean columns t_giovani, t_donne, t_over55, t_protetti
	"tipo_trasformazione": "coalesce(b.tipo_trasformazione::VARCHAR, 'ND')",
}

// targetCodes are the target groups and the boolean column of each.
var targetCodes = []struct{ Code, Column, Label string }{
	{"giovani", "t_giovani", "Giovani 15-29 anni"},
	{"donne", "t_donne", "Donne"},
	{"over55", "t_over55", "Persone di 55 anni e più"},
	{"protetti", "t_protetti", "Categorie protette (L. 68/1999)"},
}

// contractGroupCode is the code of each contract group in the contratto dimension.
var contractGroupCode = map[oml.ContractGroup]string{
	oml.GroupPermanent:       "TI",
	oml.GroupFixedTerm:       "TD",
	oml.GroupApprenticeship:  "AP",
	oml.GroupTempAgency:      "SOM",
	oml.GroupIntermittent:    "INT",
	oml.GroupDomestic:        "DOM",
	oml.GroupParasubordinate: "PARA",
	oml.GroupOther:           "ALTRO",
}

// Plan is the SQL of one computation of the cube.
type Plan struct {
	// Setup creates the lookups and ev, in order.
	Setup []string
	// Partials create the partial tables from ev, one per perimeter and
	// family of dimensions.
	Partials []Partial
	// DropEV keeps the first row of ev (ev_types) and drops ev, once the
	// partial tables exist.
	DropEV []string
	// Aggregates returns the measures of every breakdown, one query per
	// perimeter and breakdown, from the partial tables.
	Aggregates []Aggregate
	// Medians returns the medians of the planned length of fixed-term hires.
	Medians []Aggregate
	// HasIDs tells whether the data bank holds relationship ids (canonical
	// input) or not (open data only).
	HasIDs string
	// Teardown drops the temporary tables.
	Teardown []string
}

// Aggregate is one aggregation query. Its rows are: province, CPI, comune
// (NULL when the grain is coarser), the codes of Breakdown in order, the
// month index (year*12+month-1), the core flag, then one column per
// catalogue measure in catalogue order (or the median, for Medians).
type Aggregate struct {
	Perimeter oml.Perimeter
	Breakdown []string
	Comune    bool // rows are per comune
	SQL       string
}

// Partial is the statement that creates one partial table.
type Partial struct {
	Perimeter oml.Perimeter
	Dims      []string // the family of dimensions it is grouped by
	SQL       string
}

// Options fix what a computation covers.
type Options struct {
	From    time.Time // first day of the first month (January of FirstYear)
	Vintage time.Time // last day of the data: later events and imputations are left out
}

// Compile returns the plan of c over the data bank for opt.
func (c *Catalogue) Compile(lists *classif.Lists, opt Options) Plan {
	var p Plan
	p.Setup = append(p.Setup, lookups(lists)...)
	p.Setup = append(p.Setup, c.evSQL(opt)...)
	p.Teardown = []string{"DROP TABLE IF EXISTS ev", "DROP TABLE IF EXISTS ev_types", "DROP TABLE IF EXISTS e_enc", "DROP TABLE IF EXISTS r_enc", "DROP TABLE IF EXISTS lk_comune", "DROP TABLE IF EXISTS lk_ateco",
		"DROP TABLE IF EXISTS lk_prof", "DROP TABLE IF EXISTS lk_contratto", "DROP TABLE IF EXISTS lk_citt",
		"DROP TABLE IF EXISTS lk_titolo", "DROP TABLE IF EXISTS lk_mv"}
	fams := c.families()
	for _, per := range oml.Perimeters {
		for i, f := range fams {
			table := "part_" + colPrefix(per) + strconv.Itoa(i)
			p.Partials = append(p.Partials, Partial{Perimeter: per, Dims: f.dims, SQL: c.partialSQL(per, table, f)})
			p.Teardown = append(p.Teardown, "DROP TABLE IF EXISTS "+table)
			for _, b := range f.breakdowns {
				p.Aggregates = append(p.Aggregates, c.aggregate(per, b, table))
			}
		}
		p.Medians = append(p.Medians, medianSQL(per))
	}
	// The distinct counts read the ENUM types of ev's columns (EnumLabelsSQL).
	p.DropEV = []string{"CREATE OR REPLACE TEMP TABLE ev_types AS SELECT * FROM ev LIMIT 1", "DROP TABLE ev"}
	p.HasIDs = `SELECT NOT EXISTS (SELECT 1 FROM communications WHERE rel_id IS NULL AND active)`
	return p
}

// partialFamilies are the families of dimensions ev is aggregated by, in
// order: each breakdown is computed from the first family that holds all
// its dimensions (the total from the first, which has none). A family is
// read in one pass over ev, so grouping dimensions whose codes are few, or
// depend on each other (a division and its section, the age class and the
// target groups by age), saves passes without making the partial table
// much larger. A breakdown no family holds gets a family of its own.
var partialFamilies = [][]string{
	{},
	{"contratto", "orario", "genere", "tipo_trasformazione"},
	{"classe_eta", "genere", "target"},
	{"cittadinanza", "titolo_studio"},
	{"professione", "professione_2"},
	{"ateco_sezione", "ateco_divisione"},
}

// family is one partial table: its dimensions, the breakdowns computed
// from it and the finest territory level any of them is published at.
type family struct {
	dims       []string
	breakdowns [][]string
	grain      oml.Level
}

// families assigns every breakdown to its family; families with no
// breakdown are left out.
func (c *Catalogue) families() []family {
	var fams []family
	for _, d := range partialFamilies {
		fams = append(fams, family{dims: d, grain: oml.LevelProvince})
	}
	for _, b := range c.allBreakdowns() {
		i := slices.IndexFunc(fams, func(f family) bool {
			return !slices.ContainsFunc(b, func(d string) bool { return !slices.Contains(f.dims, d) })
		})
		if i < 0 {
			fams = append(fams, family{dims: b, grain: oml.LevelProvince})
			i = len(fams) - 1
		}
		f := &fams[i]
		f.breakdowns = append(f.breakdowns, b)
		for _, l := range []oml.Level{oml.LevelCPI, oml.LevelComune} {
			if c.grain(b, l) && levelRank(l) > levelRank(f.grain) {
				f.grain = l
			}
		}
	}
	return slices.DeleteFunc(fams, func(f family) bool { return len(f.breakdowns) == 0 })
}

// familyColumns returns the columns of ev a family's partial table is
// grouped by, besides the territory, the month and the scope.
func familyColumns(dims []string) []string {
	var out []string
	for _, d := range dims {
		if d == "target" {
			for _, t := range targetCodes {
				out = append(out, t.Column)
			}
			continue
		}
		out = append(out, d)
	}
	return out
}

// countMeasures returns the count measures of c, in catalogue order: the
// i-th is bit i of mc.
func (c *Catalogue) countMeasures() []Measure {
	return slices.DeleteFunc(slices.Clone(c.Measures), func(m Measure) bool { return m.Value != "" })
}

// mcType is the SQL type of mc: the narrowest integer with a bit for every
// count measure (Validate allows at most 62).
func (c *Catalogue) mcType() string {
	switch n := len(c.countMeasures()); {
	case n <= 15:
		return "SMALLINT"
	case n <= 31:
		return "INTEGER"
	default:
		return "BIGINT"
	}
}

// partialSQL creates table, the partial table of family f in perimeter per.
func (c *Catalogue) partialSQL(per oml.Perimeter, table string, f family) string {
	pre := colPrefix(per)
	cols := []string{pre + "prov"}
	if levelRank(f.grain) >= levelRank(oml.LevelCPI) {
		cols = append(cols, pre+"cpi")
	}
	if f.grain == oml.LevelComune {
		cols = append(cols, pre+"com")
	}
	cols = append(cols, familyColumns(f.dims)...)
	cols = append(cols, "m", "core", "mc", "w")
	sums := ", count(*)::INTEGER AS n"
	for _, m := range c.Measures {
		if m.Value != "" {
			sums += ", sum(v_" + m.ID + ")::BIGINT AS v_" + m.ID
		}
	}
	return "CREATE OR REPLACE TEMP TABLE " + table + " AS SELECT " + strings.Join(cols, ", ") + sums +
		"\nFROM ev WHERE " + pre + "prov IS NOT NULL\nGROUP BY " + strings.Join(cols, ", ")
}

// allBreakdowns returns every breakdown of any level, each once, in a
// fixed order: by number of dimensions, then as listed.
func (c *Catalogue) allBreakdowns() [][]string {
	var out [][]string
	for _, l := range oml.Levels {
		for _, b := range c.Breakdowns[string(l)] {
			if !slices.ContainsFunc(out, func(o []string) bool { return slices.Equal(o, b) }) {
				out = append(out, b)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) < len(out[j]) })
	return out
}

// grain reports whether breakdown b is published at level l, so that
// its aggregate must keep that level's territory.
func (c *Catalogue) grain(b []string, l oml.Level) bool {
	return slices.ContainsFunc(c.Breakdowns[string(l)], func(o []string) bool { return slices.Equal(o, b) })
}

// measureCond returns the condition under which a row of ev adds to
// measure m: its kind is one of m's events and its codes pass m's filters
// (and its value is known, when m needs it).
func measureCond(m Measure) string {
	var cond []string
	kinds := make([]string, len(m.Events))
	for i, e := range m.Events {
		kinds[i] = quote(e)
	}
	cond = append(cond, "k IN ("+strings.Join(kinds, ", ")+")")
	dims := make([]string, 0, len(m.Where))
	for d := range m.Where {
		dims = append(dims, d)
	}
	sort.Strings(dims)
	for _, d := range dims {
		vals := make([]string, len(m.Where[d]))
		for i, v := range m.Where[d] {
			vals[i] = quote(v)
		}
		cond = append(cond, d+" IN ("+strings.Join(vals, ", ")+")")
	}
	if m.Needs == "durata" || m.Value == "durata" {
		cond = append(cond, "durata IS NOT NULL")
	}
	return "coalesce(" + strings.Join(cond, " AND ") + ", false)"
}

// measureColumns is the select list of the measure columns of ev: mc,
// the bit mask of the count measures a row adds its weight to, and v_<id>
// for each value measure (weight times the value, NULL when the row does
// not count).
func (c *Catalogue) measureColumns() string {
	var b strings.Builder
	b.WriteString(",\n       (")
	for i, m := range c.countMeasures() {
		if i > 0 {
			b.WriteString("\n        | ")
		}
		b.WriteString("CASE WHEN " + measureCond(m) + " THEN " + strconv.FormatUint(1<<i, 10) + " ELSE 0 END")
	}
	b.WriteString(")::" + c.mcType() + " AS mc")
	for _, m := range c.Measures {
		if m.Value != "" {
			b.WriteString(",\n       (CASE WHEN " + measureCond(m) + " THEN w * " + m.Value + " END)::INTEGER AS v_" + m.ID)
		}
	}
	return b.String()
}

// measureList is the select list of the measures of an aggregation of a
// partial table, in catalogue order.
func (c *Catalogue) measureList() string {
	var b strings.Builder
	bit := 0
	for _, m := range c.Measures {
		if m.Value != "" {
			b.WriteString(", coalesce(sum(v_" + m.ID + "), 0)::DOUBLE AS " + m.ID)
			continue
		}
		b.WriteString(", sum(CASE WHEN (mc & " + strconv.FormatUint(1<<bit, 10) + ") <> 0 THEN w * n ELSE 0 END)::DOUBLE AS " + m.ID)
		bit++
	}
	return b.String()
}

// aggregate returns the aggregation of breakdown b in perimeter per from
// the partial table of its family. Rows carry the CPI only when b is
// published at CPI level, the comune only when it is published at comune
// level.
func (c *Catalogue) aggregate(per oml.Perimeter, b []string, table string) Aggregate {
	a := Aggregate{Perimeter: per, Breakdown: b, Comune: c.grain(b, oml.LevelComune)}
	pre := colPrefix(per)
	group := []string{pre + "prov"}
	out := []string{pre + "prov::VARCHAR"}
	if c.grain(b, oml.LevelCPI) {
		group = append(group, pre+"cpi")
		out = append(out, pre+"cpi::VARCHAR")
	} else {
		out = append(out, "NULL::VARCHAR")
	}
	if a.Comune {
		group = append(group, pre+"com")
		out = append(out, pre+"com::VARCHAR")
	} else {
		out = append(out, "NULL::VARCHAR")
	}
	sel := func(targetCode, targetCol string) string {
		g := slices.Clone(group)
		o := slices.Clone(out)
		for _, d := range b {
			if d == "target" {
				o = append(o, quote(targetCode))
			} else {
				g = append(g, d)
				o = append(o, codeSQL(d))
			}
		}
		g = append(g, "m", "core")
		o = append(o, "m", "core")
		where := ""
		if targetCol != "" {
			where = " WHERE " + targetCol
		}
		return "SELECT " + strings.Join(o, ", ") + c.measureList() + "\nFROM " + table + where + "\nGROUP BY " + strings.Join(g, ", ")
	}
	if slices.Contains(b, "target") {
		var parts []string
		for _, t := range targetCodes {
			parts = append(parts, sel(t.Code, t.Column))
		}
		a.SQL = strings.Join(parts, "\nUNION ALL\n")
	} else {
		a.SQL = sel("", "")
	}
	return a
}

// colPrefix is the prefix of the territory columns of ev in perimeter per.
func colPrefix(per oml.Perimeter) string {
	if per == oml.Residence {
		return "r_"
	}
	return "w_"
}

// codeSQL is the output expression of dimension d's code: ND when unknown.
func codeSQL(d string) string { return "coalesce(" + d + "::VARCHAR, " + quote(Unknown) + ")" }

// Packed hire layout: the bits of HiresSQL's third column.
const (
	hireMonthBits = 10 // month index minus the first month's
	hireTerrBits  = 7  // ENUM code + 1 of a province or CPI (0: unknown)
	hireCodeBits  = 6  // ENUM code + 1 of a dimension's code (0: ND); 4 dimensions fill 63 bits
)

// HiresSQL selects, for the distinct counts, one row per hire sorted by
// worker: worker hash, employer hash and one BIGINT packing, from the low
// bits up, the month (minus first), the core flag, the ENUM codes + 1 of
// the province and CPI of the workplace and of the residence, then of each
// of dims. Reading three integers per hire instead of eleven values is
// what keeps the distinct counts fast.
func HiresSQL(dims []string, first int) string {
	code := func(col string) string { return "coalesce(enum_code(" + col + ") + 1, 0)::BIGINT" }
	parts := []string{"(m - " + strconv.Itoa(first) + ")::BIGINT", "(core::BIGINT << " + strconv.Itoa(hireMonthBits) + ")"}
	shift := hireMonthBits + 1
	for _, col := range []string{"w_prov", "w_cpi", "r_prov", "r_cpi"} {
		parts = append(parts, "("+code(col)+" << "+strconv.Itoa(shift)+")")
		shift += hireTerrBits
	}
	for _, d := range dims {
		parts = append(parts, "("+code(d)+" << "+strconv.Itoa(shift)+")")
		shift += hireCodeBits
	}
	return "SELECT hash_w, hash_e, " + strings.Join(parts, " | ") + " FROM (SELECT *, " + ageClassSQL("eta") + " AS classe_eta FROM (" + hiresSQL + ")) ORDER BY hash_w"
}

// EnumLabelsSQL returns the labels of the ENUM type of column col of ev,
// in code order, as one list (no row when ev is empty). It reads ev_types,
// the first row of ev, kept when ev is dropped.
func EnumLabelsSQL(col string) string {
	return "SELECT enum_range(" + col + ")::VARCHAR[] FROM ev_types LIMIT 1"
}

// medianSQL returns the medians of the planned length of fixed-term hires
// by month, quarter and year, at region, province and CPI level, for the
// full and the core scope: one row per cell with columns freq, period
// index, level, territory, core (true: the core scope), median.
func medianSQL(per oml.Perimeter) Aggregate {
	pre := colPrefix(per)
	q := `WITH d AS (SELECT m::INTEGER AS m, m // 3 AS q, m // 12 AS y, ` + pre + `prov::VARCHAR AS prov, ` + pre + `cpi::VARCHAR AS cpi, core, durata
	FROM (` + hiresSQL + `) WHERE contratto = 'TD' AND durata IS NOT NULL AND ` + pre + `prov IS NOT NULL),
-- In s, core=true rows are the core scope and core=false rows the full scope.
s AS (SELECT m, q, y, prov, cpi, false AS core, durata FROM d UNION ALL SELECT m, q, y, prov, cpi, true, durata FROM d WHERE core)
SELECT CASE WHEN GROUPING(m) = 0 THEN 'M' WHEN GROUPING(q) = 0 THEN 'Q' ELSE 'Y' END AS freq,
       coalesce(m, q, y) AS period,
       CASE WHEN GROUPING(cpi) = 0 THEN 'cpi' WHEN GROUPING(prov) = 0 THEN 'province' ELSE 'region' END AS level,
       coalesce(cpi, prov, '` + oml.RegionCode + `') AS territory, core, median(durata)::DOUBLE AS value
FROM s GROUP BY GROUPING SETS ((m, core), (m, prov, core), (m, cpi, core), (q, core), (q, prov, core), (q, cpi, core), (y, core), (y, prov, core), (y, cpi, core))`
	return Aggregate{Perimeter: per, SQL: q}
}

// encAttrs is the select list that encodes the attributes of a
// communication (alias b) through the lookups: territories of both
// perimeters, sector, profession, contract group, working time, gender,
// year of birth, citizenship, education, protected category. Codes are
// ENUM values, NULL when unknown (ND on output).
const encAttrs = `cl.prov AS w_prov, cl.cpi AS w_cpi, cl.com AS w_com,
       cr.prov AS r_prov, cr.cpi AS r_cpi, cr.com AS r_com,
       la.sezione AS ateco_sezione, la.divisione AS ateco_divisione, lp.g1 AS professione, lp.g2 AS professione_2,
       b.genere, coalesce(b.anno_nascita, year(b.data) - b.eta)::SMALLINT AS nascita,
       lc.gruppo AS cittadinanza, lt.gruppo AS titolo_studio, coalesce(b.categoria_protetta = 'S', false) AS protetto`

// encJoins are the lookups encAttrs reads.
const encJoins = `LEFT JOIN lk_comune cl ON cl.code = coalesce(b.comune_lavoro, 'P' || b.prov_lavoro)
LEFT JOIN lk_comune cr ON cr.code = coalesce(b.comune_residenza, 'P' || b.prov_residenza)
LEFT JOIN lk_ateco la ON la.code = b.ateco
LEFT JOIN lk_prof lp ON lp.code = b.professione
LEFT JOIN lk_citt lc ON lc.code = b.cittadinanza
LEFT JOIN lk_titolo lt ON lt.code = b.titolo_studio`

// attrCols are the encoded attribute columns, as named by encAttrs.
const attrCols = `w_prov, w_cpi, w_com, r_prov, r_cpi, r_com, ateco_sezione, ateco_divisione, professione, professione_2, genere, nascita, cittadinanza, titolo_studio, protetto`

// coreSQL tells whether a row (of ev or e_enc) is in the core scope:
// permanent, fixed-term or apprenticeship outside public administration.
const coreSQL = "coalesce(contratto IN ('TI', 'TD', 'AP') AND coalesce(ateco_sezione::VARCHAR, '') <> 'O', false)"

// ageClassSQL returns the age class (classe_eta ENUM) of an age expression.
func ageClassSQL(age string) string {
	return "(CASE WHEN " + age + " IS NULL THEN NULL WHEN " + age + " < 25 THEN '15-24' WHEN " + age + " < 30 THEN '25-29' WHEN " + age + " < 35 THEN '30-34' WHEN " +
		age + " < 45 THEN '35-44' WHEN " + age + " < 55 THEN '45-54' WHEN " + age + " < 65 THEN '55-64' ELSE '65+' END)::" + enumType(ageCodes)
}

// hiresSQL selects the hires of the window from e_enc with the columns of
// ev the distinct counts and the medians read.
const hiresSQL = `SELECT hash_w, hash_e, year(data) * 12 + month(data) - 1 AS m, ` + coreSQL + ` AS core,
       w_prov, w_cpi, r_prov, r_cpi, contratto, durata, ateco_sezione, ateco_divisione, professione, professione_2, orario, genere,
       cittadinanza, titolo_studio, year(data) - nascita AS eta
FROM e_enc WHERE k = 'A'`

// orarioSQL maps the working time of a communication to the orario code.
func orarioSQL(col string) string {
	return "(CASE WHEN " + col + " = 'F' THEN 'FT' WHEN " + col + " IN ('P', 'V', 'M') THEN 'PT' END)::" + enumType(orarioCodes)
}

// evSQL returns the statements that build ev: the encoded events (e_enc)
// and relationships (r_enc), then ev from both.
func (c *Catalogue) evSQL(opt Options) []string {
	from := "DATE " + quote(opt.From.Format(time.DateOnly))
	vint := "DATE " + quote(opt.Vintage.Format(time.DateOnly))
	imputable := "lk.fixed AND r.fine_prevista IS NOT NULL AND r.fine_prevista <= " + vint + " AND r.data_trasformazione_ti IS NULL"
	eEnc := `CREATE OR REPLACE TEMP TABLE e_enc AS
SELECT b.tipo::VARCHAR AS k, b.data, ` + encAttrs + `,
       lk.gruppo AS contratto, ` + orarioSQL("b.orario") + ` AS orario, b.tipo_trasformazione,
       CASE WHEN b.tipo = 'A' AND b.data_fine_prevista IS NOT NULL THEN date_diff('day', b.data, b.data_fine_prevista) + 1 END AS durata,
       CASE WHEN b.tipo = 'A' THEN hash(b.worker) END AS hash_w, CASE WHEN b.tipo = 'A' THEN hash(b.employer) END AS hash_e
FROM events b
` + encJoins + `
LEFT JOIN lk_contratto lk ON lk.code = b.contratto
WHERE b.tipo IN ('A', 'C', 'P', 'T') AND b.data BETWEEN ` + from + ` AND ` + vint
	rEnc := `CREATE OR REPLACE TEMP TABLE r_enc AS
SELECT coalesce(r.data_inizio, r.primo_evento) AS inizio,
       coalesce(r.data_cessazione, CASE WHEN ` + imputable + ` THEN r.fine_prevista END) AS fine,
       coalesce(r.data_cessazione IS NULL AND ` + imputable + `, false) AS imputata,
       ` + encAttrs + `,
       lh.gruppo AS contratto_iniziale, ` + orarioSQL("b.orario") + ` AS orario_iniziale,
       lk.gruppo AS contratto_finale, ` + orarioSQL("r.orario") + ` AS orario_finale
FROM relationship_index r JOIN communications b ON b.seq = r.hire_seq
` + encJoins + `
LEFT JOIN lk_contratto lk ON lk.code = r.contratto
LEFT JOIN lk_contratto lh ON lh.code = b.contratto`
	// A position opened and closed in the same month (after the carry
	// into the first month) with the same contract and working time gives
	// two PO rows equal in every column but the weight, +1 and -1: they
	// cancel in every sum, so neither is written (a tenth of ev's rows).
	first := strconv.Itoa(monthIndex(opt.From))
	monthOf := func(d string) string {
		return "greatest(year(" + d + ") * 12 + month(" + d + ") - 1, " + first + ")"
	}
	transient := "coalesce(inizio <= " + vint + " AND fine + 1 <= " + vint + " AND year(inizio) = year(fine + 1) AND " + monthOf("inizio") + " = " + monthOf("fine + 1") +
		" AND contratto_iniziale IS NOT DISTINCT FROM contratto_finale AND orario_iniziale IS NOT DISTINCT FROM orario_finale, false)"
	ev := `CREATE OR REPLACE TEMP TABLE ev AS
SELECT * EXCLUDE (k, durata)` + c.measureColumns() + `
FROM (
WITH rows AS (
    SELECT k, 1 AS w, data, ` + attrCols + `, contratto, orario, tipo_trasformazione, durata FROM e_enc
    UNION ALL
    SELECT 'MV', mv.w, data, ` + attrCols + `, coalesce(mv.gruppo, e_enc.contratto), coalesce(mv.orario, e_enc.orario), tipo_trasformazione, NULL
    FROM e_enc JOIN lk_mv mv ON mv.tipo = e_enc.tipo_trasformazione::VARCHAR WHERE k = 'T'
    UNION ALL
    SELECT 'CI', 1, fine, ` + attrCols + `, contratto_finale, orario_finale, NULL, NULL
    FROM r_enc WHERE imputata AND fine BETWEEN ` + from + ` AND ` + vint + `
    UNION ALL
    SELECT 'PO', 1, inizio, ` + attrCols + `, contratto_iniziale, orario_iniziale, NULL, NULL
    FROM r_enc WHERE inizio <= ` + vint + ` AND NOT ` + transient + `
    UNION ALL
    SELECT 'PO', -1, fine + 1, ` + attrCols + `, contratto_finale, orario_finale, NULL, NULL
    FROM r_enc WHERE fine + 1 <= ` + vint + ` AND NOT ` + transient + `
),
b AS (SELECT *, year(data) - nascita AS eta_evento FROM rows)
SELECT k::` + enumType(kindCodes) + ` AS k, w::TINYINT AS w,
       -- Position changes before the first month are carried into it.
       (greatest(year(data) * 12 + month(data) - 1, ` + strconv.Itoa(monthIndex(opt.From)) + `))::SMALLINT AS m,
       w_prov, w_cpi, w_com, r_prov, r_cpi, r_com,
       ` + coreSQL + ` AS core,
       ateco_sezione, ateco_divisione, professione, professione_2, contratto, orario, genere,
       ` + ageClassSQL("eta_evento") + ` AS classe_eta,
       cittadinanza, titolo_studio, tipo_trasformazione,
       coalesce(eta_evento BETWEEN 15 AND 29, false) AS t_giovani, coalesce(genere = 'F', false) AS t_donne,
       coalesce(eta_evento >= 55, false) AS t_over55, protetto AS t_protetti,
       durata::INTEGER AS durata
FROM b)`
	// e_enc stays for the hires of the distinct counts and the medians.
	return []string{eEnc, rEnc, ev, "DROP TABLE r_enc"}
}

// Codes of the ENUM types of ev.
var (
	kindCodes     = []string{"A", "C", "CI", "P", "T", "MV", "PO"}
	orarioCodes   = codesOf("orario")
	ageCodes      = codesOf("classe_eta")
	contractCodes = codesOf("contratto")
)

// codesOf returns the codes of a dimension the methodology defines.
func codesOf(dim string) []string {
	var out []string
	for _, c := range fixedCodes[dim] {
		out = append(out, c[0])
	}
	return out
}

// enumType returns the SQL type ENUM of codes, in order, each once.
func enumType(codes []string) string {
	var b strings.Builder
	b.WriteString("ENUM(")
	seen := map[string]bool{}
	for _, c := range codes {
		if seen[c] {
			continue
		}
		if len(seen) > 0 {
			b.WriteString(", ")
		}
		seen[c] = true
		b.WriteString(quote(c))
	}
	b.WriteString(")")
	return b.String()
}

// lookups returns the statements that load the code lists the plan joins.
// Every code column is an ENUM, so that ev stays compact and groups fast.
func lookups(l *classif.Lists) []string {
	var out []string
	// values creates table name from rows; types gives each column's SQL
	// type ("" keeps VARCHAR). A value "\x00" is NULL.
	values := func(name string, cols []string, types []string, rows [][]string) {
		var b strings.Builder
		b.WriteString("CREATE OR REPLACE TEMP TABLE " + name + " AS SELECT ")
		for i, c := range cols {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c)
			if types[i] != "" {
				b.WriteString("::" + types[i] + " AS " + c)
			}
		}
		b.WriteString(" FROM (VALUES ")
		for i, r := range rows {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for j, v := range r {
				if j > 0 {
					b.WriteString(", ")
				}
				if v == "\x00" {
					b.WriteString("NULL")
				} else {
					b.WriteString(quote(v))
				}
			}
			b.WriteByte(')')
		}
		b.WriteString(") AS t(" + strings.Join(cols, ", ") + ")")
		out = append(out, b.String())
	}
	column := func(rows [][]string, j int) []string {
		var out []string
		for _, r := range rows {
			if r[j] != "\x00" {
				out = append(out, r[j])
			}
		}
		slices.Sort(out)
		return out
	}
	// Comuni of Lombardy. Open-data rows carry only the province: the
	// pseudo-comune 'P' + province places them in it, with no CPI.
	var com [][]string
	for _, c := range l.Comuni() {
		if !c.Lombardy {
			continue
		}
		cpi := "\x00"
		if c.CPI != "" {
			cpi = oml.CPIPrefix + c.CPI
		}
		com = append(com, []string{c.Istat, c.Province, cpi, c.Istat})
	}
	for _, p := range l.Provinces() {
		com = append(com, []string{"P" + p.Code, p.Code, "\x00", "\x00"})
	}
	values("lk_comune", []string{"code", "prov", "cpi", "com"},
		[]string{"", enumType(column(com, 1)), enumType(column(com, 2)), enumType(column(com, 3))}, com)

	var at [][]string
	for lv := classif.AtecoSection; lv <= classif.AtecoSubcategory; lv++ {
		for _, a := range l.AtecoLevel(lv) {
			div := a.Division
			if div == "" {
				div = "\x00"
			}
			at = append(at, []string{a.Code, a.Section, div})
		}
	}
	values("lk_ateco", []string{"code", "sezione", "divisione"}, []string{"", enumType(column(at, 1)), enumType(column(at, 2))}, at)

	var pr [][]string
	for lv := 1; lv <= 6; lv++ {
		for _, p := range l.ProfessionLevel(lv) {
			g2 := p.Group2
			if g2 == "" {
				g2 = "\x00"
			}
			pr = append(pr, []string{p.Code, p.Major, g2})
		}
	}
	values("lk_prof", []string{"code", "g1", "g2"}, []string{"", enumType(column(pr, 1)), enumType(column(pr, 2))}, pr)

	var ct [][]string
	for _, k := range l.Contracts() {
		ct = append(ct, []string{k.Code, contractGroupCode[k.Group], strconv.FormatBool(k.FixedTerm)})
	}
	values("lk_contratto", []string{"code", "gruppo", "fixed"}, []string{"", enumType(contractCodes), "BOOLEAN"}, ct)

	var ci [][]string
	for _, c := range l.Citizenships() {
		g := "EXTRA_UE"
		switch {
		case c.Italian:
			g = "IT"
		case c.EU:
			g = "UE"
		}
		ci = append(ci, []string{c.Code, g})
	}
	values("lk_citt", []string{"code", "gruppo"}, []string{"", enumType(codesOf("cittadinanza"))}, ci)

	var ti [][]string
	for _, e := range l.Educations() {
		ti = append(ti, []string{strconv.Itoa(e.Code), strconv.Itoa(e.Group)})
	}
	values("lk_titolo", []string{"code", "gruppo"}, []string{"TINYINT", enumType(codesOf("titolo_studio"))}, ti)

	// The two position moves of each kind of transformation: +1 to the
	// arrival contract (or working time), -1 to the departure one.
	values("lk_mv", []string{"tipo", "w", "gruppo", "orario"}, []string{"", "INTEGER", enumType(contractCodes), enumType(orarioCodes)}, [][]string{
		{"TD_TI", "1", "TI", "\x00"}, {"TD_TI", "-1", "TD", "\x00"},
		{"AP_TI", "1", "TI", "\x00"}, {"AP_TI", "-1", "AP", "\x00"},
		{"PT_FT", "1", "\x00", "FT"}, {"PT_FT", "-1", "\x00", "PT"},
		{"FT_PT", "1", "\x00", "PT"}, {"FT_PT", "-1", "\x00", "FT"},
	})
	return out
}

// quote returns s as a SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// monthIndex returns the month index of ev.m for t.
func monthIndex(t time.Time) int { return t.Year()*12 + int(t.Month()) - 1 }
