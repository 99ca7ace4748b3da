package classif

import (
	"fmt"
	"strconv"
	"strings"
)

// Profession is a code of the ISTAT CP2011 classification of professions at
// any level, or a legacy CP2001 voce still accepted in CO records.
type Profession struct {
	Code  string // dotted: "5", "5.2", "5.2.2", "5.2.2.1", "5.2.2.1.0", "5.2.2.1.0.1"
	Title string // ANPAL title, upper case
	// Level is the number of components: 1 grande gruppo, 2 gruppo, 3 classe,
	// 4 categoria, 5 unità professionale, 6 voce.
	Level  int
	Major  string // first component, the grande gruppo ("5")
	Group2 string // first two components ("5.2"); empty at level 1
	// CP2001 marks a voce of ANPAL's TABELLA_QUALPROF that is not a CP2011
	// code; Major and Group2 are then read off the code as it stands.
	CP2001 bool
}

// Profession returns a CP2011 code of any level (1 to 6 components) or a
// CP2001 voce. Codes present in both classifications have their CP2011
// meaning. The lookup does not allocate.
func (l *Lists) Profession(code string) (Profession, bool) {
	if i, ok := l.profIdx[code]; ok {
		return l.professions[i], true
	}
	return Profession{}, false
}

// Professions returns every code Profession accepts: the CP2011 codes of
// all levels and the CP2001 voci, in the order of the embedded table. Each
// call returns a new slice.
func (l *Lists) Professions() []Profession {
	return append([]Profession(nil), l.professions...)
}

// ProfessionUnits returns the 800 CP2011 unità professionali (5
// components), sorted by code component by component.
func (l *Lists) ProfessionUnits() []Profession { return l.ProfessionLevel(5) }

// ProfessionLevel returns the CP2011 codes of a level (1 to 6), sorted by
// code component by component; nil for another level.
func (l *Lists) ProfessionLevel(level int) []Profession {
	var out []Profession
	for _, p := range l.professions {
		if p.Level == level && !p.CP2001 {
			out = append(out, p)
		}
	}
	return out
}

func (l *Lists) loadProfessions(t *table, in interner) error {
	c, err := t.col("codice", "livello", "titolo", "classificazione")
	if err != nil {
		return err
	}
	l.professions = make([]Profession, 0, len(t.rows))
	l.profIdx = make(map[string]int32, len(t.rows))
	for _, r := range t.rows {
		code := r[c[0]]
		lv, err := strconv.Atoi(r[c[1]])
		if err != nil || lv != strings.Count(code, ".")+1 || lv > 6 {
			return fmt.Errorf("code %s: bad level %q", code, r[c[1]])
		}
		p := Profession{Code: code, Title: r[c[2]], Level: lv, CP2001: r[c[3]] == "CP2001"}
		p.Major, _, _ = strings.Cut(code, ".")
		p.Major = in.get(p.Major)
		if lv > 1 {
			p.Group2 = in.get(code[:len(p.Major)+1+strings.IndexByte(code[len(p.Major)+1:]+".", '.')])
		}
		if _, dup := l.profIdx[code]; dup {
			return fmt.Errorf("code %s listed twice", code)
		}
		l.profIdx[code] = int32(len(l.professions))
		l.professions = append(l.professions, p)
	}
	return nil
}
