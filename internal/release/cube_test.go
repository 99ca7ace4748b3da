package release

import (
	"crypto/ed25519"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/method"
)

// testKey is a fixed signing key, so that releases are byte-identical.
func testKey() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed([]byte("oml-release-test-key-32-bytes!!!"))
}

// testMeta is fixed metadata.
func testMeta() Meta {
	return Meta{PublishedAt: time.Date(2024, 7, 20, 10, 0, 0, 0, time.UTC), Inputs: []string{"bb", "aa"}, Events: 1234}
}

// seriesSpec is one series of the hand-made cube.
type seriesSpec struct {
	level     oml.Level
	territory string
	dims      string
	codes     string
	base      float64
}

// cubeOptions vary the hand-made cube.
type cubeOptions struct {
	from, to oml.Period
	// skip lists months (index) absent from every monthly series of 016.
	skip map[int]bool
	// confidential lists (territory|codes|period index) cells whose
	// attivazioni are C.
	confidential map[string]bool
	// bump adds to attivazioni of every cell of this territory.
	bump map[string]float64
}

// handCube builds a small cube with known values: for every series and
// month, attivazioni = base + month number (1-12) + 10*(year-2020);
// the other flows derive from it; ratios are fixed. Quarterly and yearly
// cells sum the months. The last three months are provisional.
func handCube(t testing.TB, o cubeOptions) *method.Cube {
	t.Helper()
	cat, err := method.Load()
	if err != nil {
		t.Fatal(err)
	}
	if o.from == (oml.Period{}) {
		o.from = oml.Period{Freq: oml.Monthly, Year: 2020, N: 1}
	}
	if o.to == (oml.Period{}) {
		o.to = oml.Period{Freq: oml.Monthly, Year: 2023, N: 6}
	}
	specs := []seriesSpec{
		{oml.LevelRegion, oml.RegionCode, "", "", 1000},
		{oml.LevelProvince, "015", "", "", 400},
		{oml.LevelProvince, "016", "", "", 100},
		{oml.LevelProvince, "016", "genere", "M", 60},
		{oml.LevelProvince, "016", "genere", "F", 40},
		{oml.LevelProvince, "016", "contratto", "TI", 30},
		{oml.LevelProvince, "016", "contratto", "TD", 50},
		{oml.LevelProvince, "016", "contratto", "ND", 1},
		{oml.LevelProvince, "016", "contratto", "AP", 5},
		{oml.LevelProvince, "016", "genere,classe_eta", "F,15-24", 7},
		{oml.LevelProvince, "016", "genere,classe_eta", "M,15-24", 9},
		{oml.LevelComune, "016024", "", "", 20},
	}
	cube := &method.Cube{Catalogue: cat, From: o.from, To: o.to,
		Vintage: time.Date(o.to.Year, time.Month(o.to.N)+1, 0, 0, 0, 0, 0, time.UTC), HasIDs: true}
	provFrom := o.to.Index() - cat.ProvisionalMonths + 1
	for _, per := range []oml.Perimeter{oml.Workplace, oml.Residence} {
		for _, sp := range specs {
			monthly := map[int]float64{}
			for m := o.from.Index(); m <= o.to.Index(); m++ {
				if sp.territory == "016" && o.skip[m] {
					continue
				}
				p := oml.PeriodAt(oml.Monthly, m)
				monthly[m] = sp.base + float64(p.N) + 10*float64(p.Year-2020) + o.bump[sp.territory]
				if per == oml.Residence {
					monthly[m] += 1
				}
			}
			for _, f := range oml.Freqs {
				for pi := o.from.Of(f).Index(); pi <= o.to.Of(f).Index(); pi++ {
					first, last := oml.PeriodAt(f, pi).Months()
					a, present := 0.0, false
					for m := first.Index(); m <= last.Index(); m++ {
						if v, ok := monthly[m]; ok {
							a += v
							present = true
						}
					}
					if !present {
						continue
					}
					key := method.CellKey{Perimeter: per, Scope: oml.ScopeFull, Freq: f, Period: pi, Level: sp.level,
						Territory: sp.territory, Dims: sp.dims, Codes: sp.codes}
					cell := method.Cell{CellKey: key, Values: make([]float64, len(cat.Indicators)), Status: make([]oml.Status, len(cat.Indicators))}
					dims := []string{}
					if sp.dims != "" {
						dims = strings.Split(sp.dims, ",")
					}
					_, lastM := oml.PeriodAt(f, pi).Months()
					for k := range cat.Indicators {
						ind := &cat.Indicators[k]
						v := math.NaN()
						if cat.Allows(ind, sp.level, dims) {
							switch ind.ID {
							case "attivazioni":
								v = a
							case "cessazioni_comunicate", "cessazioni":
								v = a - 3
							case "saldo":
								v = 3
							case "quota_ti":
								v = 100.0 / 3
							case "durata_prevista_td_mediana":
								v = 90.5
							default:
								v = float64(k)
							}
						}
						cell.Values[k] = v
						switch {
						case math.IsNaN(v):
							cell.Status[k] = oml.StatusUnavailable
						case lastM.Index() >= provFrom:
							cell.Status[k] = oml.StatusProvisional
						default:
							cell.Status[k] = oml.StatusNormal
						}
					}
					if o.confidential[sp.territory+"|"+sp.codes+"|"+oml.PeriodAt(f, pi).String()] {
						cell.Values[0], cell.Status[0] = math.NaN(), oml.StatusConfidential
					}
					cube.Cells = append(cube.Cells, cell)
				}
			}
		}
	}
	// The cube's own order is not the release's: reverse it to prove that
	// Publish sorts.
	for i, j := 0, len(cube.Cells)-1; i < j; i, j = i+1, j-1 {
		cube.Cells[i], cube.Cells[j] = cube.Cells[j], cube.Cells[i]
	}
	return cube
}

// publishHand publishes handCube(o) into a new data dir.
func publishHand(t testing.TB, o cubeOptions) (dataDir string, info Info) {
	t.Helper()
	dataDir = t.TempDir()
	info, _, err := Publish(dataDir, handCube(t, o), method.JSON(), testMeta(), testKey())
	if err != nil {
		t.Fatal(err)
	}
	return dataDir, info
}
