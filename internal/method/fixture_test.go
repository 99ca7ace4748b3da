package method_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/cofile"
	"github.com/regione-lombardia/oml/internal/duckdb"
	"github.com/regione-lombardia/oml/internal/method"
)

// handFile is a small CO history whose every figure is worked out by hand
// below. Workers W1..W5, employers E1..E3, workplaces Milano (015146,
// province 015, CPI F205C000169) and Lecco (097042, province 097, CPI
// E507C000578).
//
//	r1 W1 E1 Milano TD 15/1 planned end 31/3, extended (P 25/3) to 30/6, no C:
//	   imputed cessation on 30/6; W1 lives in Lecco
//	r2 W2 E1 Milano TI part time 1/2, resigns (C) 10/5
//	r3 W1 E2 Lecco TD 10/2 to 31/12, turned permanent (T TD_TI) 1/4: no imputation
//	r4 W3 E2 Lecco TD 5/3 to 20/3, dismissed (C) 15/3: no imputation
//	r5 W4 E1 TD 2/4 to 30/4 sent in Milano, rectified (R) to Lecco; imputed 30/4
//	r6 W4 E3 Milano TI 10/4, cancelled (X): never counted
//	r8 W5 E3 Milano TI 5/7, public administration (ATECO O: outside the core
//	   scope), lives in Novara (outside Lombardy), protected category
//
// The last event is on 5 July 2024: that is the vintage.
const handFile = `id_comunicazione,tipo_evento,rif_comunicazione,id_rapporto,data_evento,cf_lavoratore,cf_datore,genere,anno_nascita,cittadinanza,titolo_studio,comune_lavoro,comune_residenza,ateco,professione,tipo_contratto,orario,data_fine_prevista,tipo_trasformazione,motivo_cessazione,categoria_protetta
c1,A,,r1,2024-01-15,RSSMRA85T10F205R,01234567897,M,1985,000,4,015146,097042,56.10.11,5.2.2.1.0,A.02.00,F,2024-03-31,,,N
c2,A,,r2,2024-02-01,BNCLRA90A41F205I,01234567897,F,1990,000,7,015146,015146,56.10.11,5.2.2.1.0,A.01.00,P,,,,N
c3,A,,r3,2024-02-10,RSSMRA85T10F205R,12345678903,M,1985,000,4,097042,097042,62.01.00,2.1,A.02.00,F,2024-12-31,,,N
c4,A,,r4,2024-03-05,VRDGPP80A01F205X,12345678903,M,1980,000,4,097042,097042,62.01.00,2.1,A.02.00,F,2024-03-20,,,N
c5,C,,r4,2024-03-15,VRDGPP80A01F205X,12345678903,M,1980,000,4,097042,097042,62.01.00,2.1,A.02.00,F,,,LICENZIAMENTO,N
c6,P,,r1,2024-03-25,RSSMRA85T10F205R,01234567897,M,1985,000,4,015146,097042,56.10.11,5.2.2.1.0,A.02.00,F,2024-06-30,,,N
c7,T,,r3,2024-04-01,RSSMRA85T10F205R,12345678903,M,1985,000,4,097042,097042,62.01.00,2.1,A.01.00,F,,TD_TI,,N
c8,A,,r5,2024-04-02,NREPLA75B15E507F,01234567897,M,1975,000,4,015146,015146,56.10.11,5.2.2.1.0,A.02.00,F,2024-04-30,,,N
c9,A,,r6,2024-04-10,NREPLA75B15E507F,07654321012,M,1975,000,4,015146,015146,56.10.11,5.2.2.1.0,A.01.00,F,,,,N
c10,C,,r2,2024-05-10,BNCLRA90A41F205I,01234567897,F,1990,000,7,015146,015146,56.10.11,5.2.2.1.0,A.01.00,P,,,DIMISSIONI,N
c11,R,c8,r5,2024-04-02,NREPLA75B15E507F,01234567897,M,1975,000,4,097042,097042,56.10.11,5.2.2.1.0,A.02.00,F,2024-04-30,,,N
c12,X,c9,r6,,,,,,,,,,,,,,,,,
c13,A,,r8,2024-07-05,GLLLCU95C50F205W,07654321012,F,1995,000,9,015146,003106,84.11.10,2.1,A.01.00,F,,,,S
`

// computeFile ingests a canonical CO file into a new data bank and returns
// the cube computed from it, before disclosure control.
func computeFile(t *testing.T, content string) (*method.Cube, *duckdb.DB) {
	t.Helper()
	ctx := context.Background()
	lists, err := classif.Load()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "co.csv")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	db, rep, err := ingestFiles(ctx, dir, cofile.Canonical, lists, []string{path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if rep.Rejected != 0 {
		t.Fatalf("fixture rows rejected: %+v", rep)
	}
	cat, err := method.Load()
	if err != nil {
		t.Fatal(err)
	}
	vintage, ok, err := db.LastEventDate(ctx)
	if err != nil || !ok {
		t.Fatalf("vintage: %v %v", ok, err)
	}
	cube, err := cat.Compute(ctx, db, lists, vintage, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cube, db
}

// cellValue returns the value of indicator id in the cell with key k, 0
// for an absent cell (no events), and fails on an unknown indicator.
func cellValue(t *testing.T, cube *method.Cube, k method.CellKey, id string) float64 {
	t.Helper()
	i := indicatorIndex(t, cube.Catalogue, id)
	c, ok := cube.Lookup(k)
	if !ok {
		return 0
	}
	return c.Values[i]
}

func indicatorIndex(t *testing.T, cat *method.Catalogue, id string) int {
	t.Helper()
	for i, ind := range cat.Indicators {
		if ind.ID == id {
			return i
		}
	}
	t.Fatalf("unknown indicator %s", id)
	return -1
}

// key builds a cell key: where is "workplace/full/region/ITC4", period
// "2024", "2024-Q2" or "2024-03", by "dim=code[,dim=code]" or "".
func key(t *testing.T, where, period, by string) method.CellKey {
	t.Helper()
	parts := strings.Split(where, "/")
	p, err := oml.ParsePeriod(period)
	if err != nil {
		t.Fatal(err)
	}
	k := method.CellKey{Perimeter: oml.Perimeter(parts[0]), Scope: oml.Scope(parts[1]), Level: oml.Level(parts[2]),
		Territory: parts[3], Freq: p.Freq, Period: p.Index()}
	if by != "" {
		var dims, codes []string
		for _, dc := range strings.Split(by, ",") {
			d, c, _ := strings.Cut(dc, "=")
			dims, codes = append(dims, d), append(codes, c)
		}
		k.Dims, k.Codes = strings.Join(dims, ","), strings.Join(codes, ",")
	}
	return k
}

func TestHandComputedFixture(t *testing.T) {
	cube, _ := computeFile(t, handFile)
	if !cube.HasIDs {
		t.Fatal("canonical input must carry ids")
	}
	if got := cube.Vintage.Format(time.DateOnly); got != "2024-07-05" {
		t.Fatalf("vintage %s", got)
	}
	const (
		region   = "workplace/full/region/ITC4"
		milano   = "workplace/full/province/015"
		lecco    = "workplace/full/province/097"
		core     = "workplace/core/region/ITC4"
		resid    = "residence/full/region/ITC4"
		residLc  = "residence/full/province/097"
		cpiLecco = "workplace/full/cpi/cpi:E507C000578"
		comLecco = "workplace/full/comune/097042"
	)
	nan := math.NaN()
	tests := []struct {
		where, period, by, indicator string
		want                         float64
	}{
		// Flows over the year: r6 is cancelled, r5 counts once.
		{region, "2024", "", "attivazioni", 6},
		{region, "2024", "", "cessazioni_comunicate", 2},       // r4, r2
		{region, "2024", "", "cessazioni_imputate", 2},         // r5 30/4, r1 30/6
		{region, "2024", "", "cessazioni", 4},                  //
		{region, "2024", "", "proroghe", 1},                    // r1
		{region, "2024", "", "trasformazioni", 1},              // r3
		{region, "2024", "", "saldo", 2},                       // 6 - 4
		{region, "2024", "", "saldo_cumulato", 2},              //
		{region, "2024", "", "posizioni_attive", 2},            // r3 and r8 open at the vintage
		{region, "2024", "", "lavoratori_attivati", 5},         // W1 hired twice
		{region, "2024", "", "datori_attivanti", 3},            // E1, E2, E3
		{region, "2024", "", "quota_ti", 100 * 2.0 / 6},        // r2, r8
		{region, "2024", "", "quota_pt", 100 * 1.0 / 6},        // r2
		{region, "2024", "", "durata_prevista_td", 112},        // (77 + 326 + 16 + 29) / 4 days
		{region, "2024", "", "durata_prevista_td_mediana", 53}, // (29 + 77) / 2
		{region, "2024", "", "tasso_trasformazione", nan},      // no fixed-term position at the start of 2024
		// Months.
		{region, "2024-01", "", "attivazioni", 1},
		{region, "2024-02", "", "attivazioni", 2},
		{region, "2024-03", "", "attivazioni", 1},
		{region, "2024-04", "", "attivazioni", 1},
		{region, "2024-05", "", "attivazioni", 0},
		{region, "2024-07", "", "attivazioni", 1},
		{region, "2024-03", "", "cessazioni", 1},
		{region, "2024-04", "", "cessazioni_imputate", 1},
		{region, "2024-06", "", "cessazioni_imputate", 1},
		{region, "2024-01", "", "saldo", 1},
		{region, "2024-02", "", "saldo", 2},
		{region, "2024-03", "", "saldo", 0},
		{region, "2024-04", "", "saldo", 0},
		{region, "2024-05", "", "saldo", -1},
		{region, "2024-06", "", "saldo", -1},
		{region, "2024-07", "", "saldo", 1},
		{region, "2024-04", "", "saldo_cumulato", 3},
		{region, "2024-06", "", "saldo_cumulato", 1},
		// Positions at month end: a relationship is open on its last day.
		{region, "2024-01", "", "posizioni_attive", 1},
		{region, "2024-02", "", "posizioni_attive", 3},
		{region, "2024-03", "", "posizioni_attive", 3}, // r4 opened and closed in March
		{region, "2024-04", "", "posizioni_attive", 4}, // r5 open until 30/4
		{region, "2024-05", "", "posizioni_attive", 2},
		{region, "2024-06", "", "posizioni_attive", 2}, // r1 open on 30/6
		{region, "2024-07", "", "posizioni_attive", 2},
		{region, "2024-02", "", "lavoratori_attivati", 2},
		{region, "2024-Q1", "", "lavoratori_attivati", 3},
		{region, "2024-Q1", "", "attivazioni", 4},
		{region, "2024-Q2", "", "cessazioni", 3},
		// Rate: one TD->TI in Q2 over the 2 fixed-term positions open at the end of Q1.
		{region, "2024-Q2", "", "tasso_trasformazione", 50},
		// Territories: the rectification moved r5 to Lecco.
		{milano, "2024", "", "attivazioni", 3},
		{lecco, "2024", "", "attivazioni", 3},
		{milano, "2024", "", "cessazioni", 2},
		{lecco, "2024", "", "cessazioni", 2},
		{lecco, "2024", "", "posizioni_attive", 1},
		{cpiLecco, "2024", "", "attivazioni", 3},
		{comLecco, "2024", "", "attivazioni", 3},
		// Core scope leaves out the public administration hire.
		{core, "2024", "", "attivazioni", 5},
		{core, "2024", "", "saldo", 1},
		// Residence: W1 lives in Lecco, W5 outside Lombardy.
		{resid, "2024", "", "attivazioni", 5},
		{residLc, "2024", "", "attivazioni", 4},
		// Breakdowns. Balances by contract move the transformed position
		// from TD to TI (the named convention).
		{region, "2024", "contratto=TD", "attivazioni", 4},
		{region, "2024", "contratto=TI", "attivazioni", 2},
		{region, "2024", "contratto=TD", "saldo", 0},
		{region, "2024", "contratto=TI", "saldo", 2},
		{region, "2024", "contratto=TI", "posizioni_attive", 2},
		{region, "2024", "contratto=TD", "posizioni_attive", 0},
		{region, "2024", "tipo_trasformazione=TD_TI", "trasformazioni", 1},
		{region, "2024", "genere=M", "attivazioni", 4},
		{region, "2024", "genere=F", "attivazioni", 2},
		{region, "2024", "genere=F", "lavoratori_attivati", 2},
		{region, "2024", "classe_eta=35-44", "attivazioni", 3},
		{region, "2024", "classe_eta=25-29", "attivazioni", 1},
		{region, "2024", "genere=M,classe_eta=35-44", "attivazioni", 3},
		{region, "2024", "target=giovani", "attivazioni", 1},
		{region, "2024", "target=donne", "attivazioni", 2},
		{region, "2024", "target=protetti", "attivazioni", 1},
		{region, "2024", "target=over55", "attivazioni", 0},
		{region, "2024", "ateco_sezione=I", "attivazioni", 3},
		{region, "2024", "ateco_sezione=O", "attivazioni", 1},
		{region, "2024", "orario=PT", "attivazioni", 1},
		{region, "2024", "titolo_studio=3", "attivazioni", 2}, // codes 7 and 9
		{region, "2024", "cittadinanza=IT", "attivazioni", 6},
	}
	for _, tt := range tests {
		k := key(t, tt.where, tt.period, tt.by)
		got := cellValue(t, cube, k, tt.indicator)
		if math.IsNaN(tt.want) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-tt.want) > 1e-9) {
			t.Errorf("%s %s %s %s = %v, want %v", tt.indicator, tt.where, tt.period, tt.by, got, tt.want)
		}
	}
}
