package classif

import (
	"fmt"
	"strconv"
	"strings"
)

// ATECO 2007 levels.
const (
	AtecoSection     = 0 // "I"
	AtecoDivision    = 1 // "56"
	AtecoGroup       = 2 // "56.1"
	AtecoClass       = 3 // "56.10"
	AtecoSubcategory = 4 // "56.10.11"
)

// Ateco is an ATECO 2007 code of any level.
type Ateco struct {
	Code     string // canonical, dotted: "I", "56", "56.1", "56.10", "56.10.11"
	Level    int    // AtecoSection .. AtecoSubcategory
	Section  string // "I"
	Division string // "56"; empty for a section
	// Title is ANPAL's title (upper case, original 2009 wording) or, for the
	// codes added by the 2022 update, ISTAT's.
	Title string
	// Title2022 is ISTAT's title in the 2022 update (mixed case from the
	// class level down); empty for the five subcategories the update removed.
	Title2022 string
}

// Ateco returns an ATECO 2007 code of any level. The code may be dotted or
// not ("56.10.11" or "561011", "56.1" or "561", "56"), or a section letter
// in any case; the result carries the canonical dotted code. Lookups of
// these forms do not allocate.
func (l *Lists) Ateco(code string) (Ateco, bool) {
	if i, ok := l.atecoIdx[code]; ok {
		return l.ateco[i], true
	}
	if len(code) == 1 {
		var b [1]byte
		b[0] = upper(code[0])
		if i, ok := l.atecoIdx[string(b[:])]; ok {
			return l.ateco[i], true
		}
	}
	return Ateco{}, false
}

// AtecoByTitle returns the ATECO code whose title matches, ignoring case,
// accents, spaces and punctuation. Subcategory titles are tried first, then
// class titles; ANPAL's and ISTAT's 2022 wording both match ("Alberghi",
// "Lavori di meccanica generale", "Rifugi di montagna", "Attività di
// famiglie e convivenze come datori di lavoro per personale domestico").
// When the two wordings of different codes coincide, ANPAL's code wins.
func (l *Lists) AtecoByTitle(title string) (Ateco, bool) {
	var buf [256]byte
	if i, ok := l.atecoTitle[string(fold(buf[:0], title))]; ok {
		return l.ateco[i], true
	}
	return Ateco{}, false
}

// AtecoSubcategories returns every subcategory (level 4), sorted by code,
// including those added or removed by the 2022 update.
func (l *Lists) AtecoSubcategories() []Ateco { return l.AtecoLevel(AtecoSubcategory) }

// AtecoLevel returns every code of a level (AtecoSection .. AtecoSubcategory),
// sorted by code; nil for another level.
func (l *Lists) AtecoLevel(level int) []Ateco {
	var out []Ateco
	for _, a := range l.ateco {
		if a.Level == level {
			out = append(out, a)
		}
	}
	return out
}

func (l *Lists) loadAteco(t *table, _ interner) error {
	c, err := t.col("codice", "livello", "sezione", "titolo", "titolo_2022")
	if err != nil {
		return err
	}
	l.ateco = make([]Ateco, 0, len(t.rows))
	l.atecoIdx = make(map[string]int32, 2*len(t.rows))
	sections := map[string]string{}
	for _, r := range t.rows {
		lv, err := strconv.Atoi(r[c[1]])
		if err != nil || lv < AtecoSection || lv > AtecoSubcategory {
			return fmt.Errorf("code %s: bad level %q", r[c[0]], r[c[1]])
		}
		a := Ateco{Code: r[c[0]], Level: lv, Title: r[c[3]], Title2022: r[c[4]]}
		if s, ok := sections[r[c[2]]]; ok {
			a.Section = s
		} else {
			a.Section = r[c[2]]
			sections[a.Section] = a.Section
		}
		if lv > AtecoSection {
			a.Division = a.Code[:2]
		}
		if a.Title == "" {
			a.Title = a.Title2022
		}
		i := int32(len(l.ateco))
		l.ateco = append(l.ateco, a)
		for _, k := range []string{a.Code, strings.ReplaceAll(a.Code, ".", "")} {
			if j, dup := l.atecoIdx[k]; dup && j != i {
				return fmt.Errorf("code %s listed twice", a.Code)
			}
			l.atecoIdx[k] = i
		}
	}
	// Title index: subcategories before classes and, within a level, every
	// code's Title before any Title2022; the first writer of a key wins.
	l.atecoTitle = map[string]int32{}
	for _, lv := range []int{AtecoSubcategory, AtecoClass} {
		for pass := 0; pass < 2; pass++ {
			for i, a := range l.ateco {
				if a.Level != lv {
					continue
				}
				title := a.Title
				if pass == 1 {
					title = a.Title2022
				}
				if title == "" {
					continue
				}
				k := string(fold(nil, title))
				if _, ok := l.atecoTitle[k]; !ok {
					l.atecoTitle[k] = int32(i)
				}
			}
		}
	}
	return nil
}
