package method

import (
	"math"
	"testing"
	"time"

	"github.com/regione-lombardia/oml"
)

// handCube returns a cube of attivazioni only (the other indicators
// unavailable), with the cells given as key -> value; under is the value,
// as for a plain count.
func handCube(t *testing.T, cells map[CellKey]float64) *Cube {
	t.Helper()
	cat, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	cube := &Cube{Catalogue: cat, From: oml.Period{Freq: oml.Monthly, Year: 2017, N: 1},
		To: oml.Period{Freq: oml.Monthly, Year: 2024, N: 12}, Vintage: time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC)}
	for k, v := range cells {
		c := Cell{CellKey: k, Values: make([]float64, len(cat.Indicators)), Status: make([]oml.Status, len(cat.Indicators)),
			under: make([]float64, len(cat.Indicators))}
		for i := range c.Values {
			c.Values[i], c.Status[i] = math.NaN(), oml.StatusUnavailable
		}
		c.Values[0], c.Status[0], c.under[0] = v, oml.StatusNormal, v
		cube.Cells = append(cube.Cells, c)
	}
	// A fixed order, as Compute gives.
	sortCells(cube.Cells)
	return cube
}

func sortCells(cells []Cell) {
	for i := 1; i < len(cells); i++ {
		for j := i; j > 0 && keyString(cells[j].CellKey) < keyString(cells[j-1].CellKey); j-- {
			cells[j], cells[j-1] = cells[j-1], cells[j]
		}
	}
}

func keyString(k CellKey) string {
	return string(k.Perimeter) + string(k.Scope) + string(k.Freq) + oml.PeriodAt(k.Freq, k.Period).String() + string(k.Level) + k.Territory + k.Dims + k.Codes
}

func at(freq oml.Freq, period string, level oml.Level, terr, dims, codes string) CellKey {
	p, err := oml.ParsePeriod(period)
	if err != nil {
		panic(err)
	}
	return CellKey{Perimeter: oml.Workplace, Scope: oml.ScopeFull, Freq: freq, Period: p.Index(), Level: level, Territory: terr, Dims: dims, Codes: codes}
}

func TestDisclose(t *testing.T) {
	Y := oml.Yearly
	reg, prov := oml.LevelRegion, oml.LevelProvince
	tests := []struct {
		name  string
		cells map[CellKey]float64
		want  map[CellKey]oml.Status
	}{
		{
			name: "primary and territorial secondary",
			cells: map[CellKey]float64{
				at(Y, "2020", reg, "ITC4", "", ""): 12,
				at(Y, "2020", prov, "016", "", ""): 2, // primary
				at(Y, "2020", prov, "097", "", ""): 10,
			},
			want: map[CellKey]oml.Status{
				at(Y, "2020", reg, "ITC4", "", ""): 'A',
				at(Y, "2020", prov, "016", "", ""): 'C',
				at(Y, "2020", prov, "097", "", ""): 'C', // else 12 - 10 gives it away
			},
		},
		{
			name: "secondary picks the smallest sibling",
			cells: map[CellKey]float64{
				at(Y, "2020", reg, "ITC4", "", ""):            30,
				at(Y, "2020", reg, "ITC4", "genere", "M"):     1, // primary
				at(Y, "2020", reg, "ITC4", "genere", "F"):     29,
				at(Y, "2020", reg, "ITC4", "contratto", "TI"): 20,
				at(Y, "2020", reg, "ITC4", "contratto", "TD"): 7,
				at(Y, "2020", reg, "ITC4", "contratto", "ND"): 3,
			},
			want: map[CellKey]oml.Status{
				at(Y, "2020", reg, "ITC4", "", ""):            'A',
				at(Y, "2020", reg, "ITC4", "genere", "M"):     'C',
				at(Y, "2020", reg, "ITC4", "genere", "F"):     'C', // the total is larger
				at(Y, "2020", reg, "ITC4", "contratto", "TI"): 'A',
				at(Y, "2020", reg, "ITC4", "contratto", "TD"): 'A',
				at(Y, "2020", reg, "ITC4", "contratto", "ND"): 'A', // 3 = k is published
			},
		},
		{
			name: "months within the quarter",
			cells: map[CellKey]float64{
				at(oml.Quarterly, "2020-Q1", reg, "ITC4", "", ""): 20,
				at(oml.Monthly, "2020-01", reg, "ITC4", "", ""):   2,
				at(oml.Monthly, "2020-02", reg, "ITC4", "", ""):   8,
				at(oml.Monthly, "2020-03", reg, "ITC4", "", ""):   10,
			},
			want: map[CellKey]oml.Status{
				at(oml.Quarterly, "2020-Q1", reg, "ITC4", "", ""): 'A',
				at(oml.Monthly, "2020-01", reg, "ITC4", "", ""):   'C',
				at(oml.Monthly, "2020-02", reg, "ITC4", "", ""):   'C',
				at(oml.Monthly, "2020-03", reg, "ITC4", "", ""):   'A',
			},
		},
		{
			name: "a lone child equals its total: both withheld",
			cells: map[CellKey]float64{
				at(Y, "2020", reg, "ITC4", "", ""): 2,
				at(Y, "2020", prov, "016", "", ""): 2,
			},
			want: map[CellKey]oml.Status{
				at(Y, "2020", reg, "ITC4", "", ""): 'C',
				at(Y, "2020", prov, "016", "", ""): 'C',
			},
		},
		{
			name: "the last three months are provisional, quarter and year too",
			cells: map[CellKey]float64{
				at(oml.Monthly, "2024-09", reg, "ITC4", "", ""):   50,
				at(oml.Monthly, "2024-10", reg, "ITC4", "", ""):   50,
				at(oml.Quarterly, "2024-Q3", reg, "ITC4", "", ""): 150,
				at(oml.Quarterly, "2024-Q4", reg, "ITC4", "", ""): 150,
				at(Y, "2024", reg, "ITC4", "", ""):                300,
				at(Y, "2023", reg, "ITC4", "", ""):                300,
			},
			want: map[CellKey]oml.Status{
				at(oml.Monthly, "2024-09", reg, "ITC4", "", ""):   'A',
				at(oml.Monthly, "2024-10", reg, "ITC4", "", ""):   'P',
				at(oml.Quarterly, "2024-Q3", reg, "ITC4", "", ""): 'A',
				at(oml.Quarterly, "2024-Q4", reg, "ITC4", "", ""): 'P',
				at(Y, "2024", reg, "ITC4", "", ""):                'P',
				at(Y, "2023", reg, "ITC4", "", ""):                'A',
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cube := handCube(t, tt.cells)
			cube.Disclose()
			for k, want := range tt.want {
				c, ok := cube.Lookup(k)
				if !ok {
					t.Fatalf("no cell %+v", k)
				}
				if c.Status[0] != want {
					t.Errorf("%s: status %c, want %c", keyString(k), c.Status[0], want)
				}
				if want == 'C' && !math.IsNaN(c.Values[0]) {
					t.Errorf("%s: withheld value %v still there", keyString(k), c.Values[0])
				}
				if want != 'C' && c.Values[0] != tt.cells[k] {
					t.Errorf("%s: value %v, want %v", keyString(k), c.Values[0], tt.cells[k])
				}
			}
		})
	}
}

func TestDiscloseRounding(t *testing.T) {
	cube := handCube(t, map[CellKey]float64{at(oml.Yearly, "2020", oml.LevelRegion, "ITC4", "", ""): 1234})
	cube.Catalogue.Disclosure.RoundTo = 5
	cube.Disclose()
	if v := cube.Cells[0].Values[0]; v != 1235 {
		t.Fatalf("rounded to %v, want 1235", v)
	}
}

// A balance's total is often the smallest number of its relation (its
// parts cancel): secondary suppression withholds a part, not the total.
func TestDiscloseKeepsBalanceTotals(t *testing.T) {
	Y := oml.Yearly
	cube := handCube(t, map[CellKey]float64{
		at(Y, "2020", oml.LevelRegion, "ITC4", "", ""):  5,
		at(Y, "2020", oml.LevelProvince, "016", "", ""): 40,
		at(Y, "2020", oml.LevelProvince, "097", "", ""): -35,
		at(Y, "2020", oml.LevelProvince, "098", "", ""): 0,
	})
	// Turn the cells into balances: indicator saldo, resting on large
	// counts except Bergamo's, which rests on 2 imputed terminations.
	k := -1
	for i, ind := range cube.Catalogue.Indicators {
		if ind.ID == "saldo" {
			k = i
		}
	}
	for ci := range cube.Cells {
		c := &cube.Cells[ci]
		c.Values[k], c.Status[k], c.under[k] = c.Values[0], oml.StatusNormal, 100
		c.Values[0], c.Status[0], c.under[0] = math.NaN(), oml.StatusUnavailable, 0
		if c.Territory == "016" {
			c.under[k] = 2
		}
	}
	cube.Disclose()
	want := map[string]oml.Status{"ITC4": 'A', "016": 'C', "097": 'C', "098": 'A'}
	for _, c := range cube.Cells {
		if got := c.Status[k]; got != want[c.Territory] {
			t.Errorf("%s: status %c, want %c", c.Territory, got, want[c.Territory])
		}
	}
}
