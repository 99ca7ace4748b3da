package classif_test

import (
	"testing"
	"time"
)

// FuzzLookups feeds arbitrary input to every lookup: none may panic, and a
// code that is found must give back the same entry from its canonical code.
func FuzzLookups(f *testing.F) {
	for _, s := range []string{"015146", "F205", "f205", "15146", "56.10.11", "561011", "i", "5.2.2.1.0",
		"A.02.00", "a.02.00", "0", "Città metropolitana di Milano", "ATTIVITA'", "\xff\xfe", "É", ""} {
		f.Add(s)
	}
	l := mustLoad(f)
	at := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		if c, ok := l.Comune(s); ok {
			if d, ok := l.Comune(c.Istat); !ok || d != c {
				t.Errorf("Comune(%q) = %+v but Comune(%q) = %+v", s, c, c.Istat, d)
			}
		}
		if a, ok := l.Ateco(s); ok {
			if b, ok := l.Ateco(a.Code); !ok || b != a {
				t.Errorf("Ateco(%q) = %+v but Ateco(%q) = %+v", s, a, a.Code, b)
			}
		}
		if c, ok := l.Contract(s); ok {
			if d, _ := l.Contract(c.Code); d.Code != c.Code {
				t.Errorf("Contract(%q) = %s but Contract(%s) = %s", s, c.Code, c.Code, d.Code)
			}
		}
		if c, ok := l.Citizenship(s); ok {
			if d, _ := l.Citizenship(c.Code); d != c {
				t.Errorf("Citizenship(%q) = %+v, canonical %+v", s, c, d)
			}
		}
		l.Profession(s)
		l.CPI(s)
		l.Province(s)
		l.ProvinceByName(s)
		l.AtecoByTitle(s)
		l.ContractByTitle(s, at)
		l.CitizenshipByName(s)
		l.EducationByTitle(s)
		l.WorkingTime(s)
		l.WorkingTimeByTitle(s)
	})
}
