package export

import (
	"fmt"
	"io"
	"testing"

	"github.com/regione-lombardia/oml"
)

// benchDataset returns a monthly dataset of n observations: territories by
// the two codes of genere by months, one cell in 50 confidential and one in
// 20 provisional, values mostly whole with some decimals.
func benchDataset(n int) *oml.Dataset {
	const months = 100
	d := &oml.Dataset{
		Release: "2025-01", Vintage: "2025-01-15", MethodVersion: "1.0.0",
		Indicator: "saldo", Label: "Saldo tra attivazioni e cessazioni", Unit: "rapporti di lavoro",
		Perimeter: oml.Workplace, Scope: oml.ScopeFull, Freq: oml.Monthly,
		By:          []string{"genere"},
		Territories: map[string]string{},
		Codes:       map[string]map[string]string{"genere": {"F": "Femmine", "M": "Maschi"}},
		Dimensions:  map[string]string{"genere": "Genere"},
	}
	for i := 0; len(d.Observations) < n; i++ {
		t := fmt.Sprintf("%03d", i)
		d.Territories[t] = "Territorio " + t
		for _, g := range []string{"F", "M"} {
			for m := 0; m < months && len(d.Observations) < n; m++ {
				k := len(d.Observations)
				o := oml.Observation{Territory: t, Period: oml.PeriodAt(oml.Monthly, 2017*12+m).String(),
					Codes: []string{g}, Value: float64(k%2000 - 700), Status: oml.StatusNormal}
				switch {
				case k%50 == 0:
					o.Status = oml.StatusConfidential
				case k%20 == 0:
					o.Status = oml.StatusProvisional
				case k%7 == 0:
					o.Value += 0.25
				}
				d.Observations = append(d.Observations, o)
			}
		}
	}
	return d
}

// BenchmarkEncode measures every format on 10,000 observations, and JSON on
// the 300 of a typical API answer (the latency budget: well under 1 ms).
// Regenerate the table with
//
//	go test -run '^$' -bench Encode -benchmem ./internal/export
func BenchmarkEncode(b *testing.B) {
	big := benchDataset(10_000)
	for _, f := range Formats {
		b.Run(fmt.Sprintf("%s/10000", f), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := Encode(io.Discard, f, big); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	small := benchDataset(300)
	b.Run("json/300", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := Encode(io.Discard, JSON, small); err != nil {
				b.Fatal(err)
			}
		}
	})
}
