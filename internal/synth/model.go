package synth

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/regione-lombardia/oml/internal/classif"
)

// model is the calibration resolved against the code lists: every code the
// generator writes comes from here, checked once at start-up. It is
// read-only while shards run.
type model struct {
	lists *classif.Lists
	dates *dateTable

	provs []*provModel

	atecos    []atecoRef        // subcategories the sectors use
	secAteco  [nSectors]alias   // draws an index of atecos
	secAtecoI [nSectors][]int32 // slot -> index of atecos
	secW      [nSectors]float64

	prof [nSectors][3]profTier

	chains [nChains]chainModel

	citItaly  citRef
	foreign   [2][]citRef // general, domestic
	foreignAl [2]alias
	edu       [13]eduRef
	eduAl     [2]alias // Italian, foreign
	birthElse [][]byte

	orario     [256][]byte // canonical code of a working time
	orarioOD   [256][]byte // open-data title of a working time
	years      [][]byte    // "0000".."2199" by year
	ages       [][]byte    // "0".."250"
	retireAges alias

	season [nSectors][12]float64 // normalised monthly profiles
	kindAl [nSectors]alias       // contract kinds of the hires of a sector
	ageAl  [nAgeProfiles]alias

	bad badValues

	// monthly ContractNotValidAt candidates for dirty rows: for each month of
	// the window, contracts not valid on any day of it, by fixed-term flag.
	invalidContracts map[int][2][]*contractRef
}

// atecoRef is an ATECO subcategory as written.
type atecoRef struct {
	sub   []byte // "56.10.11"
	div   []byte // "56"
	title []byte // subcategory title, CSV-quoted if needed
}

type comuneRef struct{ istat, belfiore []byte }

type profTier struct {
	units []profRef
	al    alias
}

type profRef struct{ unit, category []byte }

type citRef struct {
	code, name, z []byte // code, country name (CSV-quoted), Belfiore code of the state
}

type eduRef struct{ code, title []byte }

type contractRef struct {
	code, title []byte // title CSV-quoted
	fixedTerm   bool
	c           classif.Contract
}

// codeSpan is a day interval in which a chain is written with one code.
type codeSpan struct {
	from, to int32
	c        *contractRef
}

type chainModel struct {
	def      *chainDef
	spans    []codeSpan
	fallback *contractRef
	lengths  alias
}

// codeAt returns the contract a chain is written with on day z.
func (c *chainModel) codeAt(z int32) *contractRef {
	for i := range c.spans {
		if z >= c.spans[i].from && z <= c.spans[i].to {
			return c.spans[i].c
		}
	}
	return c.fallback
}

// provModel is a province resolved against the code lists.
type provModel struct {
	calib     *provCalib
	idx       int
	code      string
	name      []byte // upper-case name, CSV-quoted
	comuni    []comuneRef
	jobs      alias // workplaces
	tourism   alias // workplaces of accommodation and food services
	neighbors []int
	outside   []comuneRef
	sectorW   [nSectors]float64 // sector shares of the province's hires, sum 1
	touSeason [12]float64
	mountain  float64
	foreign   float64
}

// newModel resolves the calibration against the code lists. It fails if a
// code the calibration needs is missing, which the package tests rule out
// for the embedded lists.
func newModel(l *classif.Lists) (*model, error) {
	m := &model{lists: l}
	m.dates = newDateTable(civilDay(2007, 1, 1), civilDay(2100, 12, 31))
	for y := 0; y < 2200; y++ {
		m.years = append(m.years, []byte(fmt.Sprintf("%04d", y)))
	}
	for a := 0; a <= 250; a++ {
		m.ages = append(m.ages, []byte(strconv.Itoa(a)))
	}
	for sec := range sectors {
		m.season[sec] = normalise12(sectors[sec].season)
		m.kindAl[sec] = newAlias(sectors[sec].kinds[:])
	}
	for p := range ageProfiles {
		m.ageAl[p] = newAlias(ageProfiles[p][:])
	}
	if err := m.loadProvinces(); err != nil {
		return nil, err
	}
	if err := m.loadAteco(); err != nil {
		return nil, err
	}
	if err := m.loadProfessions(); err != nil {
		return nil, err
	}
	if err := m.loadContracts(); err != nil {
		return nil, err
	}
	if err := m.loadPeople(); err != nil {
		return nil, err
	}
	if err := m.loadBadValues(); err != nil {
		return nil, err
	}
	return m, nil
}

// csvField returns s as a CSV field, quoted when RFC 4180 requires it.
func csvField(s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return []byte(s)
	}
	return []byte(`"` + strings.ReplaceAll(s, `"`, `""`) + `"`)
}

func normalise12(v [12]float64) [12]float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	for i := range v {
		v[i] *= 12 / s
	}
	return v
}

func (m *model) loadProvinces() error {
	byCode := map[string]int{}
	for i := range provinces {
		byCode[provinces[i].code] = i
	}
	got := m.lists.Provinces()
	if len(got) != len(provinces) {
		return fmt.Errorf("synth: %d provinces in the code lists, %d calibrated", len(got), len(provinces))
	}
	var regional [nSectors]float64
	for s := range sectors {
		regional[s] = sectors[s].share
	}
	for i := range provinces {
		pc := &provinces[i]
		p, ok := m.lists.Province(pc.code)
		if !ok {
			return fmt.Errorf("synth: province %s not in the code lists", pc.code)
		}
		pm := &provModel{calib: pc, idx: i, code: p.Code, name: csvField(strings.ToUpper(p.Name)), foreign: pc.foreign}
		for _, c := range m.lists.ComuniOf(p.Code) {
			if c.Suppressed {
				continue
			}
			pm.comuni = append(pm.comuni, comuneRef{istat: []byte(c.Istat), belfiore: []byte(c.Belfiore)})
		}
		if len(pm.comuni) == 0 {
			return fmt.Errorf("synth: no comuni in province %s", p.Code)
		}
		jobs := make([]float64, len(pm.comuni))
		tour := make([]float64, len(pm.comuni))
		for j, c := range pm.comuni {
			w, ok := comuneJobs[string(c.istat)]
			if !ok {
				// Small comuni weigh 1 to 5, a fixed function of the code.
				w = 1 + 4*float64(mix(hashKey(7, uint64(len(c.istat)), atoiBytes(c.istat)))>>11)*0x1p-53
			}
			jobs[j] = w
			t := comuneTourism[string(c.istat)]
			if t == 0 {
				t = 1
			}
			tour[j] = w * t
		}
		pm.jobs, pm.tourism = newAlias(jobs), newAlias(tour)
		for _, o := range pc.outside {
			c, ok := m.lists.Comune(o)
			if !ok {
				return fmt.Errorf("synth: comune %s not in the code lists", o)
			}
			pm.outside = append(pm.outside, comuneRef{istat: []byte(c.Istat), belfiore: []byte(c.Belfiore)})
		}
		var tot float64
		for s := range sectors {
			mul, ok := pc.mul[s]
			if !ok {
				mul = 1
			}
			pm.sectorW[s] = regional[s] * mul
			tot += pm.sectorW[s]
		}
		for s := range pm.sectorW {
			pm.sectorW[s] /= tot
		}
		for k := 0; k < 3; k++ {
			curve := normalise12(tourismCurves[k])
			for mo := 0; mo < 12; mo++ {
				pm.touSeason[mo] += pc.tourism[k] * curve[mo]
			}
		}
		pm.mountain = pc.tourism[2]
		m.provs = append(m.provs, pm)
	}
	for _, pm := range m.provs {
		for _, n := range pm.calib.neighbors {
			j, ok := byCode[n]
			if !ok {
				return fmt.Errorf("synth: neighbour %s of %s is not a Lombard province", n, pm.code)
			}
			pm.neighbors = append(pm.neighbors, j)
		}
	}
	return nil
}

func atoiBytes(b []byte) uint64 {
	var n uint64
	for _, c := range b {
		n = n*37 + uint64(c)
	}
	return n
}

func (m *model) loadAteco() error {
	subs := m.lists.AtecoSubcategories()
	byDiv := map[string][]classif.Ateco{}
	for _, a := range subs {
		byDiv[a.Division] = append(byDiv[a.Division], a)
	}
	for s := range sectors {
		def := &sectors[s]
		var w []float64
		divs := make([]string, 0, len(def.divs))
		for d := range def.divs {
			divs = append(divs, d)
		}
		sort.Strings(divs)
		for _, d := range divs {
			list := byDiv[d]
			if len(list) == 0 {
				return fmt.Errorf("synth: ATECO division %s has no subcategories", d)
			}
			var tot float64
			for _, a := range list {
				tot += boostOf(def.boost, a.Code)
			}
			for _, a := range list {
				m.secAtecoI[s] = append(m.secAtecoI[s], int32(len(m.atecos)))
				w = append(w, def.divs[d]*boostOf(def.boost, a.Code)/tot)
				m.atecos = append(m.atecos, atecoRef{sub: []byte(a.Code), div: []byte(a.Division), title: csvField(a.Title)})
			}
		}
		for code := range def.boost {
			if _, ok := m.lists.Ateco(code); !ok {
				return fmt.Errorf("synth: ATECO %s of sector %s not in the code lists", code, def.name)
			}
		}
		m.secAteco[s] = newAlias(w)
		m.secW[s] = def.share
	}
	return nil
}

func boostOf(b map[string]float64, code string) float64 {
	if w, ok := b[code]; ok {
		return w
	}
	return 1
}

func (m *model) loadProfessions() error {
	units := m.lists.ProfessionUnits()
	byCat := map[string][]string{}
	for _, u := range units {
		cat := u.Code[:strings.LastIndexByte(u.Code, '.')]
		byCat[cat] = append(byCat[cat], u.Code)
	}
	for s := range sectors {
		for t := 0; t < 3; t++ {
			cats := make([]string, 0, len(sectors[s].prof[t]))
			for c := range sectors[s].prof[t] {
				cats = append(cats, c)
			}
			sort.Strings(cats)
			var w []float64
			tier := &m.prof[s][t]
			for _, c := range cats {
				us := byCat[c]
				if len(us) == 0 {
					return fmt.Errorf("synth: CP2011 category %s has no units", c)
				}
				for _, u := range us {
					tier.units = append(tier.units, profRef{unit: []byte(u), category: []byte(c)})
					w = append(w, sectors[s].prof[t][c]/float64(len(us)))
				}
			}
			if len(w) == 0 {
				return fmt.Errorf("synth: sector %s has no professions of tier %d", sectors[s].name, t)
			}
			tier.al = newAlias(w)
		}
	}
	return nil
}

func (m *model) contractRef(code string) (*contractRef, error) {
	c, ok := m.lists.Contract(code)
	if !ok {
		return nil, fmt.Errorf("synth: contract %s not in the code lists", code)
	}
	return &contractRef{code: []byte(c.Code), title: csvField(c.Title), fixedTerm: c.FixedTerm, c: c}, nil
}

func (m *model) loadContracts() error {
	td, err := m.contractRef("A.02.00")
	if err != nil {
		return err
	}
	ti, err := m.contractRef("A.01.00")
	if err != nil {
		return err
	}
	for i := range chains {
		def := &chains[i]
		cm := &m.chains[i]
		cm.def = def
		cm.fallback = ti
		if def.hasEnd {
			cm.fallback = td
		}
		for _, code := range def.codes {
			ref, err := m.contractRef(code)
			if err != nil {
				return err
			}
			if ref.fixedTerm && !def.hasEnd {
				return fmt.Errorf("synth: chain %s has no planned end but code %s is fixed-term", def.name, code)
			}
			sp := codeSpan{from: -1 << 30, to: 1 << 30, c: ref}
			if !ref.c.From.IsZero() {
				sp.from = dayOf(ref.c.From)
			}
			if !ref.c.To.IsZero() {
				sp.to = dayOf(ref.c.To)
			}
			cm.spans = append(cm.spans, sp)
		}
		if def.hasEnd {
			w := make([]float64, len(def.lengths))
			for j, l := range def.lengths {
				w[j] = l.w
			}
			cm.lengths = newAlias(w)
		}
	}
	w := make([]float64, len(retireAges))
	for i, r := range retireAges {
		w[i] = r.w
	}
	m.retireAges = newAlias(w)
	return nil
}

func (m *model) loadPeople() error {
	it, ok := m.lists.Citizenship("000")
	if !ok {
		return fmt.Errorf("synth: citizenship 000 not in the code lists")
	}
	m.citItaly = citRef{code: []byte(it.Code), name: csvField(it.Name)}
	for seg, list := range [2][]country{foreignGeneral, foreignDomestic} {
		w := make([]float64, len(list))
		for i, c := range list {
			ci, ok := m.lists.Citizenship(c.code)
			if !ok {
				return fmt.Errorf("synth: citizenship %s not in the code lists", c.code)
			}
			m.foreign[seg] = append(m.foreign[seg], citRef{code: []byte(ci.Code), name: csvField(ci.Name), z: []byte(c.z)})
			w[i] = c.w
		}
		m.foreignAl[seg] = newAlias(w)
	}
	for code := 0; code <= 12; code++ {
		e, ok := m.lists.Education(code)
		if !ok {
			return fmt.Errorf("synth: education level %d not in the code lists", code)
		}
		m.edu[code] = eduRef{code: []byte(strconv.Itoa(code)), title: csvField(e.Title)}
	}
	m.eduAl[0] = newAlias(eduItalian[:])
	m.eduAl[1] = newAlias(eduForeign[:])
	for _, c := range []byte{'F', 'P', 'V', 'M', 0} {
		code := ""
		if c != 0 {
			code = string(c)
		}
		wt, ok := m.lists.WorkingTime(code)
		if !ok {
			return fmt.Errorf("synth: working time %q not in the code lists", code)
		}
		m.orario[c] = []byte(code)
		m.orarioOD[c] = csvField(wt.Title)
	}
	for _, b := range birthplacesElsewhere {
		if _, ok := m.lists.Comune(b); !ok {
			return fmt.Errorf("synth: birthplace %s not in the code lists", b)
		}
		m.birthElse = append(m.birthElse, []byte(b))
	}
	return nil
}

// windowMonths returns the month indexes from the first to the last month
// of the window.
func windowMonths(from, to time.Time) (first, last int) {
	return monthIndex(from.Year(), int(from.Month())), monthIndex(to.Year(), int(to.Month()))
}

// prepareInvalidContracts lists, for each month of the window, the contract
// codes that are not valid on any of its days: replacing a row's code with
// one of them (same fixed-term flag) makes the row fail exactly with
// ContractNotValidAt.
func (m *model) prepareInvalidContracts(first, last int) {
	m.invalidContracts = map[int][2][]*contractRef{}
	all := m.lists.Contracts()
	for mi := first; mi <= last; mi++ {
		a, b := timeOf(monthStart(mi)), timeOf(monthStart(mi+1)-1)
		var lists [2][]*contractRef
		for _, c := range all {
			if c.ValidAt(a) || c.ValidAt(b) || (c.From.After(a) && c.From.Before(b)) {
				continue
			}
			// The open-data title must lead back to this very code.
			if got, ok := m.lists.ContractByTitle(c.Title, a); !ok || got.Code != c.Code {
				continue
			}
			ref := &contractRef{code: []byte(c.Code), title: csvField(c.Title), fixedTerm: c.FixedTerm, c: c}
			ft := 0
			if c.FixedTerm {
				ft = 1
			}
			lists[ft] = append(lists[ft], ref)
		}
		m.invalidContracts[mi] = lists
	}
}
