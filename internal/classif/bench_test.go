package classif_test

import (
	"testing"
	"time"

	"github.com/regione-lombardia/oml/internal/classif"
)

// BenchmarkLoad measures parsing the embedded lists (target: < 100 ms).
func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := classif.Load(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLookups measures the lookups the CO decoders make for every row.
// Canonical codes must show 0 allocs/op.
func BenchmarkLookups(b *testing.B) {
	l := mustLoad(b)
	at := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	benches := []struct {
		name string
		f    func() bool
	}{
		{"Comune/istat", func() bool { _, ok := l.Comune("015146"); return ok }},
		{"Comune/belfiore", func() bool { _, ok := l.Comune("F205"); return ok }},
		{"Comune/belfiore-lower", func() bool { _, ok := l.Comune("f205"); return ok }},
		{"Ateco/dotted", func() bool { _, ok := l.Ateco("56.10.11"); return ok }},
		{"Ateco/digits", func() bool { _, ok := l.Ateco("561011"); return ok }},
		{"Profession", func() bool { _, ok := l.Profession("5.2.2.1.0"); return ok }},
		{"Contract", func() bool { _, ok := l.Contract("A.02.00"); return ok }},
		{"Contract+ValidAt", func() bool { c, ok := l.Contract("A.03.02"); return ok && !c.ValidAt(at) }},
		{"Citizenship", func() bool { _, ok := l.Citizenship("235"); return ok }},
		{"Education", func() bool { _, ok := l.Education(4); return ok }},
		{"WorkingTime", func() bool { _, ok := l.WorkingTime("P"); return ok }},
		{"AtecoByTitle", func() bool { _, ok := l.AtecoByTitle("Lavori di meccanica generale"); return ok }},
		{"ContractByTitle", func() bool { _, ok := l.ContractByTitle("LAVORO A TEMPO DETERMINATO", at); return ok }},
		{"CitizenshipByName", func() bool { _, ok := l.CitizenshipByName("UCRAINA"); return ok }},
		{"EducationByTitle", func() bool {
			_, ok := l.EducationByTitle("DIPLOMA DI ISTRUZIONE SECONDARIA SUPERIORE  CHE PERMETTE L'ACCESSO ALL'UNIVERSITA'")
			return ok
		}},
		{"ProvinceByName", func() bool { _, ok := l.ProvinceByName("MONZA E BRIANZA"); return ok }},
	}
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !bb.f() {
					b.Fatal("lookup failed")
				}
			}
		})
	}
}
