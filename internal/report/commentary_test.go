package report

import (
	"testing"

	"github.com/regione-lombardia/oml"
)

func TestWording(t *testing.T) {
	tests := []struct{ got, want string }{
		{pctPhrase(2.14), "il 2,1% in più"},
		{pctPhrase(-0.44), "lo 0,4% in meno"},
		{pctPhrase(1.5), "l'1,5% in più"},
		{pctPhrase(11), "l'11,0% in più"},
		{pctPhrase(80.2), "l'80,2% in più"},
		{pctPhrase(0.04), "sostanzialmente invariate"},
		{movedBy(2.1), "aumentate del 2,1%"},
		{movedBy(-1.46), "diminuite dell'1,5%"},
		{movedBy(-0.3), "diminuite dello 0,3%"},
		{movedBy(0.01), "rimaste sostanzialmente stabili"},
		{pctOfTotal(484, 1000), "il 48,4%"},
		{pctOfTotal(81, 1000), "l'8,1%"},
		{signedPct(-5.96), "−6,0%"},
		{span(oml.Period{Freq: oml.Monthly, Year: 2026, N: 8}, oml.Period{Freq: oml.Monthly, Year: 2026, N: 10}), "agosto–ottobre 2026"},
		{span(oml.Period{Freq: oml.Monthly, Year: 2025, N: 12}, oml.Period{Freq: oml.Monthly, Year: 2026, N: 2}), "dicembre 2025–febbraio 2026"},
		{sentenceCase("ATTIVITÀ MANIFATTURIERE"), "Attività manifatturiere"},
		{sentenceCase("Professioni tecniche"), "Professioni tecniche"},
		{where(oml.Territory{Code: "015", Level: oml.LevelProvince, Name: "Milano"}), "nella Città metropolitana di Milano"},
		{where(oml.Territory{Code: "097", Level: oml.LevelProvince, Name: "Lecco"}), "in provincia di Lecco"},
		{where(oml.Territory{Code: oml.RegionCode, Level: oml.LevelRegion, Name: "Lombardia"}), "in Lombardia"},
		{joinIt([]string{"a", "b", "c"}), "a, b e c"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
