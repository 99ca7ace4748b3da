package svgchart

import (
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestNiceTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   []float64
	}{
		{0, 10, []float64{0, 2, 4, 6, 8, 10}},
		{-869, 1243, []float64{-1000, -500, 0, 500, 1000, 1500}},
		{0, 0.9, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}},
		{0, 146793, []float64{0, 50000, 100000, 150000}},
	}
	for _, tt := range tests {
		if got := niceTicks(tt.lo, tt.hi, 5); !slices.Equal(got, tt.want) {
			t.Errorf("niceTicks(%v, %v) = %v, want %v", tt.lo, tt.hi, got, tt.want)
		}
	}
}

// Charts are well-formed XML, draw one mark per value, leave gaps for
// missing values, and do not change unnoticed (golden files).
func TestCharts(t *testing.T) {
	cats := []string{"gen 2024", "feb 2024", "mar 2024", "apr 2024"}
	charts := map[string]Chart{
		"vertical": {Title: "Flussi", Desc: "Attivazioni, cessazioni e saldo", Categories: cats, Series: []Series{
			{Name: "Attivazioni", Values: []*float64{V(3240), V(3302), nil, V(2109)}},
			{Name: "Cessazioni", Values: []*float64{V(3119), V(3479), V(3137), V(2978)}},
			{Name: "Saldo", Kind: Line, Values: []*float64{V(121), V(-177), nil, V(-869)}},
		}},
		"horizontal": {Title: "Per settore", Horizontal: true, Categories: []string{"Agricoltura, silvicoltura e pesca", "Commercio all'ingrosso e al dettaglio; riparazione di autoveicoli"},
			Series: []Series{{Name: "Attivazioni", Values: []*float64{V(120), V(5400)}}, {Name: "Saldo", Values: []*float64{V(-30), V(210)}}}},
	}
	for name, c := range charts {
		t.Run(name, func(t *testing.T) {
			svg := c.SVG()
			if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
				t.Fatalf("not XML: %v", err)
			}
			// Every mark (bar, point) has its own <title>; the chart one more.
			marks := strings.Count(svg, "<title>") - 1
			want := 0
			for _, s := range c.Series {
				for _, v := range s.Values {
					if v != nil {
						want++
					}
				}
			}
			if marks != want {
				t.Errorf("%d marks for %d values", marks, want)
			}
			golden := filepath.Join("testdata", name+".svg")
			if *update {
				os.WriteFile(golden, []byte(svg), 0o644)
			}
			b, err := os.ReadFile(golden)
			if err != nil || string(b) != svg {
				t.Errorf("differs from %s (-update rewrites it): %v", golden, err)
			}
		})
	}
}
