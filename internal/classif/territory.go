package classif

import (
	"fmt"
	"slices"
	"sort"
)

// Comune is an Italian comune. Codes are the canonical ones of 2025: a
// comune found by a superseded code carries its current codes.
type Comune struct {
	Istat    string // ISTAT code, 6 digits ("015146")
	Belfiore string // cadastral (Belfiore) code, upper case ("F205")
	Name     string // official name; SITUAS spelling for 2025 comuni, ANPAL upper case for suppressed ones
	Province string // historical ISTAT province code, 3 digits ("015" for Milano)
	Region   string // ISTAT region code ("03" Lombardy); empty when unknown
	NUTS3    string // NUTS 2024 level 3 ("ITC4C"); empty for a suppressed comune of a suppressed province
	// CPI is the ANPAL code of the Centro per l'Impiego competent for a
	// Lombardy comune, exactly one for each comune of 2025; it is empty
	// outside Lombardy and for some suppressed comuni (see the package
	// documentation).
	CPI        string
	Lombardy   bool
	Suppressed bool // the comune no longer exists in 2025
}

// Province is one of the 12 Lombardy provinces.
type Province struct {
	Code  string // historical ISTAT code ("015"), the code used in events and territories
	UTS   string // ISTAT code of the supra-municipal unit ("215" for the Città metropolitana di Milano)
	Name  string // "Milano", "Monza e della Brianza"
	Sigla string // "MI"
	NUTS3 string // "ITC4C"
}

// CPI is a Lombardy Centro per l'Impiego.
type CPI struct {
	Code     string // ANPAL code ("F205C000169")
	Name     string // ANPAL name ("CPI MILANO")
	Province string // historical ISTAT code of the province of its seat
}

// Comune returns the comune with an ISTAT code (6 digits; 4 or 5 digits are
// taken as a code that lost its leading zeros) or a Belfiore code (any
// case). Superseded codes return the 2025 comune (see the package
// documentation). The lookup does not allocate.
func (l *Lists) Comune(code string) (Comune, bool) {
	if i, ok := l.comuneIdx[code]; ok {
		return l.comuni[i], true
	}
	var buf [6]byte
	n := len(code)
	switch {
	case n == 4 && !allDigits(code):
		for i := 0; i < 4; i++ {
			buf[i] = upper(code[i])
		}
	case (n == 4 || n == 5) && allDigits(code):
		pad := 6 - n
		for i := 0; i < pad; i++ {
			buf[i] = '0'
		}
		copy(buf[pad:], code)
		n = 6
	default:
		return Comune{}, false
	}
	if i, ok := l.comuneIdx[string(buf[:n])]; ok {
		return l.comuni[i], true
	}
	return Comune{}, false
}

// ComuniOf returns the Lombardy comuni of 2025 in a province, given by its
// historical or UTS code ("015" or "215"), sorted by ISTAT code; nil for
// another code.
func (l *Lists) ComuniOf(province string) []Comune {
	p, ok := l.Province(province)
	if !ok {
		return nil
	}
	return l.pick(l.byProvince[p.Code])
}

// ComuniOfCPI returns the Lombardy comuni of 2025 a CPI is competent for,
// sorted by ISTAT code; nil for an unknown CPI.
func (l *Lists) ComuniOfCPI(cpi string) []Comune {
	return l.pick(l.byCPI[cpi])
}

func (l *Lists) pick(idx []int32) []Comune {
	if idx == nil {
		return nil
	}
	out := make([]Comune, len(idx))
	for i, j := range idx {
		out[i] = l.comuni[j]
	}
	return out
}

// Provinces returns the 12 Lombardy provinces in ISTAT order (012 .. 108).
func (l *Lists) Provinces() []Province {
	return append([]Province(nil), l.provinces...)
}

// Province returns a Lombardy province by its historical ISTAT code or its
// UTS code: "015" and "215" both return Milano.
func (l *Lists) Province(code string) (Province, bool) {
	if i, ok := l.provIdx[code]; ok {
		return l.provinces[i], true
	}
	return Province{}, false
}

// ProvinceByName returns a Lombardy province by name, ignoring case,
// accents, spaces, punctuation and connecting words: "MILANO", "Città
// metropolitana di Milano", "Monza e della Brianza", "MONZA E BRIANZA" and
// "monza brianza" are all found. The two-letter sigla ("MB") is accepted too.
func (l *Lists) ProvinceByName(name string) (Province, bool) {
	var buf [64]byte
	if i, ok := l.provName[string(foldName(buf[:0], name))]; ok {
		return l.provinces[i], true
	}
	return Province{}, false
}

// CPIs returns the 63 Lombardy CPI sorted by province, then name.
func (l *Lists) CPIs() []CPI {
	return append([]CPI(nil), l.cpis...)
}

// CPI returns a Lombardy CPI by its ANPAL code (any case).
func (l *Lists) CPI(code string) (CPI, bool) {
	if i, ok := l.cpiIdx[code]; ok {
		return l.cpis[i], true
	}
	var buf [16]byte
	if len(code) > len(buf) {
		return CPI{}, false
	}
	for i := 0; i < len(code); i++ {
		buf[i] = upper(code[i])
	}
	if i, ok := l.cpiIdx[string(buf[:len(code)])]; ok {
		return l.cpis[i], true
	}
	return CPI{}, false
}

func (l *Lists) loadProvinces(t *table, in interner) error {
	c, err := t.col("codice", "uts", "nome", "sigla", "nuts3", "nome_anpal")
	if err != nil {
		return err
	}
	type row struct {
		p     Province
		names []string
	}
	var rows []row
	for _, r := range t.rows {
		p := Province{Code: in.get(r[c[0]]), UTS: in.get(r[c[1]]), Name: r[c[2]], Sigla: r[c[3]], NUTS3: in.get(r[c[4]])}
		rows = append(rows, row{p, []string{p.Name, r[c[5]], p.Sigla}})
	}
	if len(rows) != 12 {
		return fmt.Errorf("%d provinces, want 12", len(rows))
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].p.Code < rows[j].p.Code })
	l.provIdx = map[string]int{}
	l.provName = map[string]int{}
	for i, r := range rows {
		l.provinces = append(l.provinces, r.p)
		l.provIdx[r.p.Code] = i
		l.provIdx[r.p.UTS] = i
		for _, name := range r.names {
			k := string(foldName(nil, name))
			if j, dup := l.provName[k]; dup && j != i {
				return fmt.Errorf("province name %q is ambiguous", name)
			}
			l.provName[k] = i
		}
	}
	return nil
}

func (l *Lists) loadCPI(t *table, in interner) error {
	c, err := t.col("codice", "nome", "provincia")
	if err != nil {
		return err
	}
	for _, r := range t.rows {
		l.cpis = append(l.cpis, CPI{Code: in.get(r[c[0]]), Name: r[c[1]], Province: in.get(r[c[2]])})
	}
	sort.Slice(l.cpis, func(i, j int) bool {
		a, b := l.cpis[i], l.cpis[j]
		if a.Province != b.Province {
			return a.Province < b.Province
		}
		return a.Name < b.Name
	})
	l.cpiIdx = make(map[string]int, len(l.cpis))
	for i, x := range l.cpis {
		l.cpiIdx[x.Code] = i
	}
	return nil
}

func (l *Lists) loadComuni(t *table, in interner) error {
	c, err := t.col("istat", "belfiore", "nome", "provincia", "regione", "nuts3", "cpi", "soppresso")
	if err != nil {
		return err
	}
	l.comuni = make([]Comune, 0, len(t.rows))
	l.comuneIdx = make(map[string]int32, 2*len(t.rows)+16)
	l.byProvince = map[string][]int32{}
	l.byCPI = map[string][]int32{}
	for _, r := range t.rows {
		x := Comune{
			Istat:      r[c[0]],
			Belfiore:   r[c[1]],
			Name:       r[c[2]],
			Province:   in.get(r[c[3]]),
			Region:     in.get(r[c[4]]),
			NUTS3:      in.get(r[c[5]]),
			CPI:        in.get(r[c[6]]),
			Suppressed: r[c[7]] == "1",
		}
		x.Lombardy = x.Region == "03"
		if x.CPI != "" {
			if _, ok := l.cpiIdx[x.CPI]; !ok {
				return fmt.Errorf("comune %s: unknown CPI %s", x.Istat, x.CPI)
			}
		}
		i := int32(len(l.comuni))
		for _, k := range []string{x.Istat, x.Belfiore} {
			if _, dup := l.comuneIdx[k]; dup {
				return fmt.Errorf("comune code %s listed twice", k)
			}
			l.comuneIdx[k] = i
		}
		l.comuni = append(l.comuni, x)
		if x.Lombardy && !x.Suppressed {
			if _, ok := l.provIdx[x.Province]; !ok {
				return fmt.Errorf("comune %s: province %s is not Lombard", x.Istat, x.Province)
			}
			if x.CPI == "" {
				return fmt.Errorf("comune %s of Lombardy has no CPI", x.Istat)
			}
			l.byProvince[x.Province] = append(l.byProvince[x.Province], i)
			l.byCPI[x.CPI] = append(l.byCPI[x.CPI], i)
		}
	}
	// Rows are sorted by ISTAT code in the file; the per-province and per-CPI
	// lists inherit that order.
	return nil
}

func (l *Lists) loadAliases(t *table, _ interner) error {
	c, err := t.col("codice", "istat")
	if err != nil {
		return err
	}
	for _, r := range t.rows {
		i, ok := l.comuneIdx[r[c[1]]]
		if !ok {
			return fmt.Errorf("alias %s: unknown comune %s", r[c[0]], r[c[1]])
		}
		if _, dup := l.comuneIdx[r[c[0]]]; dup {
			return fmt.Errorf("alias %s is already a code", r[c[0]])
		}
		l.comuneIdx[r[c[0]]] = i
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// Comuni returns every comune of the lists, suppressed ones included, in
// the order of the embedded table. Each call returns a new slice.
func (l *Lists) Comuni() []Comune {
	return append([]Comune(nil), l.comuni...)
}

// Area is one area of a custom geography: a group of comuni an
// observatory defines for its own analyses (an industrial district, a
// valley, a union of comuni).
type Area struct {
	Code     string   // the area's code, unique in its geography
	Name     string   // its name
	Province string   // the province the area is analysed in
	Comuni   []string // ISTAT codes of its comuni, 6 digits
}

// WithAreas returns a copy of l whose Centri per l'Impiego are replaced by
// areas: each comune of an area has the area as its CPI, every other comune
// has none, and CPIs, CPI and ComuniOfCPI list the areas. Everything else
// is shared with l. It lets the common methodology, which breaks territories
// down by CPI, compute its indicators on a custom geography unchanged.
// Comuni must be known ISTAT codes, each in at most one area; l is not
// modified.
func (l *Lists) WithAreas(areas []Area) (*Lists, error) {
	out := *l
	out.comuni = append([]Comune(nil), l.comuni...)
	for i := range out.comuni {
		out.comuni[i].CPI = ""
	}
	out.cpis = make([]CPI, 0, len(areas))
	out.cpiIdx = make(map[string]int, len(areas))
	out.byCPI = make(map[string][]int32, len(areas))
	for _, a := range areas {
		if _, dup := out.cpiIdx[a.Code]; dup || a.Code == "" {
			return nil, fmt.Errorf("area code %q empty or listed twice", a.Code)
		}
		out.cpiIdx[a.Code] = len(out.cpis)
		out.cpis = append(out.cpis, CPI{Code: a.Code, Name: a.Name, Province: a.Province})
		for _, code := range a.Comuni {
			i, ok := l.comuneIdx[code]
			if !ok || l.comuni[i].Istat != code {
				return nil, fmt.Errorf("area %s: unknown comune %q", a.Code, code)
			}
			if out.comuni[i].CPI != "" {
				return nil, fmt.Errorf("comune %s in areas %s and %s", code, out.comuni[i].CPI, a.Code)
			}
			out.comuni[i].CPI = a.Code
			out.byCPI[a.Code] = append(out.byCPI[a.Code], i)
		}
		slices.Sort(out.byCPI[a.Code])
	}
	return &out, nil
}
