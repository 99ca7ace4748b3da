package classif

import (
	"fmt"
	"strconv"
	"strings"
)

// Citizenship is an ANPAL citizenship (cod_cittadinanza).
type Citizenship struct {
	Code    string // 3 digits, "000" Italy
	Name    string // country name, ANPAL spelling ("ROMANIA", "CECA, REPUBBLICA")
	EU      bool   // a member of the EU of 27 after 2020, Italy included (see EUOverrides)
	Italian bool   // Code == "000"
}

// EUOverride corrects the EU flag the source gives a citizenship.
type EUOverride struct {
	Code   string
	EU     bool
	Reason string // why, in Italian, for the documentation
}

// EUOverrides returns the corrections applied to ANPAL's EU flags. The
// flag describes one fixed composition of the Union, the 27 members after
// 2020, for events of every year, as Eurostat's EU27_2020 series do; ANPAL's
// 2022 table still flags the United Kingdom as a member. Each call returns a
// new slice.
func EUOverrides() []EUOverride {
	return []EUOverride{
		{Code: "219", EU: false, Reason: "Regno Unito: uscito dall'Unione europea il 2020-01-31, ma la tabella ANPAL (2022) lo indica ancora come UE. Si usa la composizione UE27_2020 per tutti gli anni, come nelle serie Eurostat."},
	}
}

// Citizenship returns a citizenship by its ANPAL code. One- and two-digit
// codes are read as codes that lost their leading zeros ("0" is Italy). The
// lookup does not allocate.
func (l *Lists) Citizenship(code string) (Citizenship, bool) {
	if i, ok := l.citIdx[code]; ok {
		return l.citizenships[i], true
	}
	if n := len(code); n == 1 || n == 2 {
		if !allDigits(code) {
			return Citizenship{}, false
		}
		b := [3]byte{'0', '0', '0'}
		copy(b[3-n:], code)
		if i, ok := l.citIdx[string(b[:])]; ok {
			return l.citizenships[i], true
		}
	}
	return Citizenship{}, false
}

// CitizenshipByName returns a citizenship by country or nationality name,
// ignoring case, accents, spaces and punctuation: "ITALIA", "Italiana",
// "UCRAINA", "Senegal", "Repubblica Ceca" and "CECA, REPUBBLICA" are all
// found. ANPAL's country names come first, then their inverted form ("X, Y"
// read as "Y X"), then the nationality adjectives and the alternative names
// of ANPAL's country table.
func (l *Lists) CitizenshipByName(name string) (Citizenship, bool) {
	var buf [64]byte
	if i, ok := l.citName[string(fold(buf[:0], name))]; ok {
		return l.citizenships[i], true
	}
	return Citizenship{}, false
}

// Citizenships returns every citizenship, sorted by code.
func (l *Lists) Citizenships() []Citizenship {
	return append([]Citizenship(nil), l.citizenships...)
}

func (l *Lists) loadCitizenships(t *table, _ interner) error {
	c, err := t.col("codice", "nome", "ue", "altri_nomi")
	if err != nil {
		return err
	}
	l.citIdx = map[string]int{}
	l.citName = map[string]int{}
	var others [][]string
	for _, r := range t.rows {
		x := Citizenship{Code: r[c[0]], Name: r[c[1]], EU: r[c[2]] == "S"}
		x.Italian = x.Code == "000"
		if _, dup := l.citIdx[x.Code]; dup {
			return fmt.Errorf("citizenship %s listed twice", x.Code)
		}
		l.citIdx[x.Code] = len(l.citizenships)
		l.citizenships = append(l.citizenships, x)
		var o []string
		if r[c[3]] != "" {
			o = strings.Split(r[c[3]], "|")
		}
		others = append(others, o)
	}
	for _, o := range EUOverrides() {
		i, ok := l.citIdx[o.Code]
		if !ok {
			return fmt.Errorf("EU override for unknown citizenship %s", o.Code)
		}
		l.citizenships[i].EU = o.EU
	}
	add := func(name string, i int) {
		k := string(fold(nil, name))
		if _, taken := l.citName[k]; !taken && k != "" {
			l.citName[k] = i
		}
	}
	for i, x := range l.citizenships {
		add(x.Name, i)
	}
	for i, x := range l.citizenships {
		if a, b, ok := strings.Cut(x.Name, ","); ok {
			add(b+" "+a, i)
		}
	}
	for i, o := range others {
		for _, name := range o {
			add(name, i)
		}
	}
	return nil
}

// Education is an ANPAL education level (cod_livellostudio).
type Education struct {
	Code  int    // 0 .. 12
	Title string // as in the source, inner double spaces kept ("SUPERIORE  CHE"), as the open data write it
	// Group is the level in three classes: 1 up to lower secondary (codes
	// 0-2), 2 upper secondary (3-4), 3 tertiary (5-12).
	Group int
}

// Education returns an education level by code.
func (l *Lists) Education(code int) (Education, bool) {
	if code < 0 || code >= len(l.education) {
		return Education{}, false
	}
	return l.education[code], true
}

// EducationByTitle returns an education level by title, ignoring case,
// spaces (the open data keep "SUPERIORE  CHE" with two) and punctuation.
func (l *Lists) EducationByTitle(title string) (Education, bool) {
	var buf [128]byte
	if i, ok := l.educationTitle[string(fold(buf[:0], title))]; ok {
		return l.education[i], true
	}
	return Education{}, false
}

// Educations returns every education level, by code.
func (l *Lists) Educations() []Education {
	return append([]Education(nil), l.education...)
}

func educationGroup(code int) int {
	switch {
	case code <= 2:
		return 1
	case code <= 4:
		return 2
	}
	return 3
}

func (l *Lists) loadEducation(t *table, _ interner) error {
	c, err := t.col("codice", "titolo")
	if err != nil {
		return err
	}
	l.educationTitle = map[string]int{}
	for _, r := range t.rows {
		code, err := strconv.Atoi(r[c[0]])
		if err != nil || code != len(l.education) {
			return fmt.Errorf("education code %q out of sequence", r[c[0]])
		}
		l.education = append(l.education, Education{Code: code, Title: r[c[1]], Group: educationGroup(code)})
		k := string(fold(nil, r[c[1]]))
		if _, dup := l.educationTitle[k]; dup {
			return fmt.Errorf("education title %q listed twice", r[c[1]])
		}
		l.educationTitle[k] = code
	}
	return nil
}

// WorkingTime is a CO working-time code (tipo orario).
type WorkingTime struct {
	// Code is 'F' full time, 'P' horizontal, 'V' vertical, 'M' mixed part
	// time, or 0 for the unknown working time ("NON DEFINITO").
	Code     byte
	Title    string
	PartTime bool
}

// WorkingTime returns the working time of a code, "F", "P", "V" or "M" in
// any case. The empty code is the unknown working time, Code 0: a valid
// value, which CO files carry when the field does not apply (intermittent
// work, for one).
func (l *Lists) WorkingTime(code string) (WorkingTime, bool) {
	switch len(code) {
	case 0:
		return l.wtByCode(0)
	case 1:
		if c := upper(code[0]); c != 0 {
			return l.wtByCode(c)
		}
	}
	return WorkingTime{}, false
}

// WorkingTimeByTitle returns the working time with a title ("TEMPO PIENO",
// "TEMPO PARZIALE ORIZZONTALE", ...), ignoring case, spaces and
// punctuation. "NON DEFINITO" and the empty title give the unknown working
// time, Code 0, with ok true: the open data use them for contracts without
// a working time, which are not errors.
func (l *Lists) WorkingTimeByTitle(title string) (WorkingTime, bool) {
	var buf [64]byte
	if i, ok := l.wtTitle[string(fold(buf[:0], title))]; ok {
		return l.workingTimes[i], true
	}
	return WorkingTime{}, false
}

// WorkingTimes returns every working time, the unknown one last.
func (l *Lists) WorkingTimes() []WorkingTime {
	return append([]WorkingTime(nil), l.workingTimes...)
}

func (l *Lists) wtByCode(c byte) (WorkingTime, bool) {
	for _, w := range l.workingTimes {
		if w.Code == c {
			return w, true
		}
	}
	return WorkingTime{}, false
}

func (l *Lists) loadWorkingTimes(t *table, _ interner) error {
	c, err := t.col("codice", "titolo")
	if err != nil {
		return err
	}
	l.wtTitle = map[string]int{}
	unknown := -1
	for _, r := range t.rows {
		w := WorkingTime{Title: r[c[1]]}
		switch code := r[c[0]]; len(code) {
		case 0:
			unknown = len(l.workingTimes)
		case 1:
			w.Code = code[0]
			w.PartTime = w.Code != 'F'
		default:
			return fmt.Errorf("working-time code %q", code)
		}
		l.wtTitle[string(fold(nil, w.Title))] = len(l.workingTimes)
		l.workingTimes = append(l.workingTimes, w)
	}
	if unknown < 0 {
		return fmt.Errorf("no unknown working time (empty code)")
	}
	l.wtTitle[""] = unknown
	return nil
}
