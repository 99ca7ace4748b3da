package release

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/method"
	"github.com/regione-lombardia/oml/internal/tseries"
)

var testNames = sync.OnceValue(func() *method.Names {
	lists, err := classif.Load()
	if err != nil {
		panic(err)
	}
	return method.NewNames(lists)
})

func month(y, m int) oml.Period { return oml.Period{Freq: oml.Monthly, Year: y, N: m} }

// openHand publishes and opens handCube(o).
func openHand(t testing.TB, o cubeOptions) *Release {
	t.Helper()
	dataDir, info := publishHand(t, o)
	r, err := Open(dataDir, info.ID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// obsString renders observations compactly: territory codes period value status.
func obsString(d *oml.Dataset) string {
	var b strings.Builder
	for _, o := range d.Observations {
		v := "null"
		if o.HasValue() {
			v = fmt.Sprintf("%g", math.Round(o.Value*1000)/1000)
		}
		fmt.Fprintf(&b, "%s %s %s %s %c\n", o.Territory, strings.Join(o.Codes, ","), o.Period, v, o.Status)
	}
	return b.String()
}

func TestSelect(t *testing.T) {
	r := openHand(t, cubeOptions{
		skip:         map[int]bool{month(2021, 2).Index(): true},
		confidential: map[string]bool{"015||2021-03": true},
	})
	names := testNames()
	cases := []struct {
		name string
		q    Query
		want string
	}{
		{"region monthly", Query{Indicator: "attivazioni", Territories: []string{"ITC4"}, From: month(2021, 1), To: month(2021, 3)},
			"ITC4  2021-01 1011 A\nITC4  2021-02 1012 A\nITC4  2021-03 1013 A\n"},
		{"residence", Query{Indicator: "attivazioni", Territories: []string{"ITC4"}, From: month(2021, 1), To: month(2021, 1), Perimeter: oml.Residence},
			"ITC4  2021-01 1012 A\n"},
		{"territories as requested, duplicates dropped", Query{Indicator: "attivazioni", Territories: []string{"015", "ITC4", "015"}, From: month(2021, 3), To: month(2021, 3)},
			"015  2021-03 null C\nITC4  2021-03 1013 A\n"},
		{"absent month is zero for a count", Query{Indicator: "attivazioni", Territories: []string{"016"}, From: month(2021, 1), To: month(2021, 3)},
			"016  2021-01 111 A\n016  2021-02 0 A\n016  2021-03 113 A\n"},
		{"absent month is M for a ratio", Query{Indicator: "quota_ti", Territories: []string{"016"}, From: month(2021, 1), To: month(2021, 3)},
			"016  2021-01 33.333 A\n016  2021-02 null M\n016  2021-03 33.333 A\n"},
		{"codes in natural order", Query{Indicator: "attivazioni", Territories: []string{"016"}, By: []string{"contratto"}, From: month(2021, 1), To: month(2021, 1)},
			"016 TI 2021-01 41 A\n016 TD 2021-01 61 A\n016 AP 2021-01 16 A\n016 ND 2021-01 12 A\n"},
		{"permuted breakdown", Query{Indicator: "attivazioni", Territories: []string{"016"}, By: []string{"classe_eta", "genere"}, From: month(2021, 1), To: month(2021, 1)},
			"016 M,15-24 2021-01 20 A\n016 F,15-24 2021-01 18 A\n"},
		{"quarterly", Query{Indicator: "attivazioni", Territories: []string{"ITC4"}, Freq: oml.Quarterly, From: oml.Period{Freq: oml.Quarterly, Year: 2023, N: 1}},
			"ITC4  2023-Q1 3096 A\nITC4  2023-Q2 3105 P\n"},
		{"yearly, open range", Query{Indicator: "saldo", Territories: []string{"016"}, Freq: oml.Yearly},
			"016  2020 3 A\n016  2021 3 A\n016  2022 3 A\n016  2023 3 P\n"},
		{"provisional months", Query{Indicator: "attivazioni", Territories: []string{"ITC4"}, From: month(2023, 3)},
			"ITC4  2023-03 1033 A\nITC4  2023-04 1034 P\nITC4  2023-05 1035 P\nITC4  2023-06 1036 P\n"},
		{"range clipped to the release", Query{Indicator: "attivazioni", Territories: []string{"ITC4"}, From: month(2019, 1), To: month(2020, 1)},
			"ITC4  2020-01 1001 A\n"},
		{"comune without cells: zeros", Query{Indicator: "attivazioni", Territories: []string{"016025"}, From: month(2023, 3), To: month(2023, 4)},
			"016025  2023-03 0 A\n016025  2023-04 0 P\n"},
		{"comune with cells", Query{Indicator: "attivazioni", Territories: []string{"016024"}, From: month(2023, 3), To: month(2023, 3)},
			"016024  2023-03 53 A\n"},
		{"yoy", Query{Indicator: "attivazioni", Territories: []string{"ITC4", "016", "015"}, Transform: "yoy", From: month(2021, 1), To: month(2021, 3)},
			"ITC4  2021-01 10 A\nITC4  2021-02 10 A\nITC4  2021-03 10 A\n" +
				"016  2021-01 10 A\n016  2021-02 -102 A\n016  2021-03 10 A\n" +
				"015  2021-01 10 A\n015  2021-02 10 A\n015  2021-03 null C\n"},
		{"yoy of the first year is M, and C stays C", Query{Indicator: "attivazioni", Territories: []string{"015"}, Transform: "yoy", From: month(2020, 3), To: month(2020, 3)},
			"015  2020-03 null M\n"},
		{"yoy of a suppressed base", Query{Indicator: "attivazioni", Territories: []string{"015"}, Transform: "yoy", From: month(2022, 3), To: month(2022, 4)},
			"015  2022-03 null C\n015  2022-04 10 A\n"},
		{"yoy provisional", Query{Indicator: "attivazioni", Territories: []string{"ITC4"}, Transform: "yoy", From: month(2023, 4), To: month(2023, 4)},
			"ITC4  2023-04 10 P\n"},
		{"yoy_pct", Query{Indicator: "attivazioni", Territories: []string{"ITC4"}, Transform: "yoy_pct", From: month(2021, 1), To: month(2021, 1)},
			"ITC4  2021-01 0.999 A\n"},
		{"yoy_pct of a zero base is M", Query{Indicator: "attivazioni", Territories: []string{"016"}, Transform: "yoy_pct", From: month(2022, 2), To: month(2022, 2)},
			"016  2022-02 null M\n"},
		{"roll12", Query{Indicator: "attivazioni", Territories: []string{"ITC4"}, Transform: "roll12", From: month(2020, 11), To: month(2021, 1)},
			"ITC4  2020-11 null M\nITC4  2020-12 12078 A\nITC4  2021-01 12088 A\n"},
		{"roll12 over a C", Query{Indicator: "attivazioni", Territories: []string{"015"}, Transform: "roll12", From: month(2022, 2), To: month(2022, 3)},
			"015  2022-02 null C\n015  2022-03 5028 A\n"},
		{"roll12 quarterly", Query{Indicator: "attivazioni", Territories: []string{"ITC4"}, Freq: oml.Quarterly, Transform: "roll12", From: oml.Period{Freq: oml.Quarterly, Year: 2020, N: 4}, To: oml.Period{Freq: oml.Quarterly, Year: 2020, N: 4}},
			"ITC4  2020-Q4 12078 A\n"},
		{"yoy yearly", Query{Indicator: "attivazioni", Territories: []string{"ITC4"}, Freq: oml.Yearly, Transform: "yoy", From: oml.Period{Freq: oml.Yearly, Year: 2021}, To: oml.Period{Freq: oml.Yearly, Year: 2021}},
			"ITC4  2021 120 A\n"},
		{"sa of a series with a C is C", Query{Indicator: "attivazioni", Territories: []string{"015"}, Transform: "sa", From: month(2020, 1), To: month(2020, 1)},
			"015  2020-01 null C\n"},
		{"sa of a series with an M is M", Query{Indicator: "quota_ti", Territories: []string{"016"}, Transform: "sa", From: month(2020, 1), To: month(2020, 1)},
			"016  2020-01 null M\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := r.Select(c.q, names)
			if err != nil {
				t.Fatal(err)
			}
			if got := obsString(d); got != c.want {
				t.Errorf("got\n%swant\n%s", got, c.want)
			}
		})
	}
}

func TestSelectDataset(t *testing.T) {
	r := openHand(t, cubeOptions{})
	d, err := r.Select(Query{Indicator: "saldo", Territories: []string{"016"}, By: []string{"contratto"}, Freq: oml.Quarterly,
		From: oml.Period{Freq: oml.Quarterly, Year: 2022, N: 1}, To: oml.Period{Freq: oml.Quarterly, Year: 2022, N: 1}, Transform: "yoy_pct"}, testNames())
	if err != nil {
		t.Fatal(err)
	}
	info := r.Info()
	if d.Release != info.ID || d.Vintage != "2023-06-30" || d.MethodVersion != "1.0.0" || d.Indicator != "saldo" ||
		d.Label != "Saldo (attivazioni nette)" || d.Unit != "%" || d.Perimeter != oml.Workplace || d.Scope != oml.ScopeFull ||
		d.Freq != oml.Quarterly || d.Transform != "yoy_pct" || strings.Join(d.By, ",") != "contratto" ||
		d.Territories["016"] != "Bergamo" || d.Codes["contratto"]["TI"] != "Tempo indeterminato" || d.Codes["contratto"]["ND"] != "Non disponibile" ||
		d.Dimensions["contratto"] != "Tipo di contratto (raggruppamento)" || !strings.Contains(d.Convention, "trasformazioni come spostamenti") {
		t.Errorf("dataset %+v", d)
	}
	if len(d.Observations) != 4 {
		t.Errorf("%d observations", len(d.Observations))
	}
	// Without names, labels are the codes.
	d, err = r.Select(Query{Indicator: "attivazioni", Territories: []string{"016"}, Transform: "sa"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Territories["016"] != "016" || d.By == nil || !strings.Contains(d.Convention, "STL robusta (periodo 12, stagionale 7, trend 23") {
		t.Errorf("dataset without names: %+v", d)
	}
}

// TestSelectSA compares the adjusted series with tseries on the
// published series, and checks the provisional span.
func TestSelectSA(t *testing.T) {
	r := openHand(t, cubeOptions{})
	d, err := r.Select(Query{Indicator: "attivazioni", Territories: []string{"ITC4"}, Transform: "sa"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := r.Select(Query{Indicator: "attivazioni", Territories: []string{"ITC4"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	y := make([]float64, len(raw.Observations))
	for i, o := range raw.Observations {
		y[i] = o.Value
	}
	want, err := tseries.SeasonallyAdjusted(y, stlParams(oml.Monthly))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Observations) != 42 {
		t.Fatalf("%d observations", len(d.Observations))
	}
	// The second answer comes from the memo and is the same.
	again, err := r.Select(Query{Indicator: "attivazioni", Territories: []string{"ITC4"}, Transform: "sa"}, nil)
	if err != nil || obsString(again) != obsString(d) {
		t.Errorf("memoised adjusted series differs: %v", err)
	}
	firstP := 42 - 3
	for i, o := range d.Observations {
		if math.Abs(o.Value-want[i]) > 1e-9 {
			t.Errorf("%s: %v, want %v", o.Period, o.Value, want[i])
		}
		wantSt := oml.StatusNormal
		if i >= firstP-23 {
			wantSt = oml.StatusProvisional
		}
		if o.Status != wantSt {
			t.Errorf("%s: status %c, want %c", o.Period, o.Status, wantSt)
		}
	}
	// A series shorter than 36 months is not adjusted.
	short := openHand(t, cubeOptions{from: month(2021, 1), to: month(2023, 6)})
	d, err = short.Select(Query{Indicator: "attivazioni", Territories: []string{"ITC4"}, Transform: "sa", From: month(2022, 1), To: month(2022, 1)}, nil)
	if err != nil || obsString(d) != "ITC4  2022-01 null M\n" {
		t.Errorf("short series: %v %s", err, obsString(d))
	}
}

func TestSelectErrors(t *testing.T) {
	r := openHand(t, cubeOptions{})
	names := testNames()
	q := func(f func(*Query)) Query {
		q := Query{Indicator: "attivazioni", Territories: []string{"016"}}
		f(&q)
		return q
	}
	cases := []struct {
		name      string
		q         Query
		code      string
		msg, hint string
	}{
		{"unknown indicator", q(func(q *Query) { q.Indicator = "assunzioni" }), oml.ENOTFOUND, "indicatore \"assunzioni\" sconosciuto", "attivazioni, cessazioni_comunicate"},
		{"unknown territory", q(func(q *Query) { q.Territories = []string{"999"} }), oml.ENOTFOUND, "territorio \"999\" sconosciuto", "ITC4"},
		{"malformed territory", q(func(q *Query) { q.Territories = []string{"x"} }), oml.ENOTFOUND, "sconosciuto", "cpi:"},
		{"no territory", q(func(q *Query) { q.Territories = nil }), oml.EINVALID, "nessun territorio", "ITC4"},
		{"cpi as breakdown", q(func(q *Query) { q.By = []string{"cpi"} }), oml.EINVALID, "livello territoriale", "territory="},
		{"unknown dimension", q(func(q *Query) { q.By = []string{"sesso"} }), oml.EINVALID, "dimensione \"sesso\" sconosciuta", "genere"},
		{"breakdown not at level", q(func(q *Query) { q.Territories = []string{"016024"}; q.By = []string{"genere"} }), oml.EINVALID, "non è pubblicato per genere al livello comune", "nessuna"},
		{"breakdown excluded", q(func(q *Query) { q.Indicator = "quota_ti"; q.By = []string{"contratto"} }), oml.EINVALID, "quota_ti non è pubblicato per contratto", "ateco_sezione"},
		{"levels", q(func(q *Query) { q.Indicator = "lavoratori_attivati"; q.Territories = []string{"016024"} }), oml.EINVALID, "al livello comune", "region, province, cpi"},
		{"mixed levels, one not allowed", q(func(q *Query) { q.Territories = []string{"016", "016024"}; q.By = []string{"genere"} }), oml.EINVALID, "al livello comune", ""},
		{"bad freq", q(func(q *Query) { q.Freq = 'W' }), oml.EINVALID, "frequenza", "M"},
		{"period of another freq", q(func(q *Query) { q.From = oml.Period{Freq: oml.Quarterly, Year: 2021, N: 1} }), oml.EINVALID, "non è un periodo di frequenza M", "2023-06"},
		{"from after to", q(func(q *Query) { q.From, q.To = month(2022, 1), month(2021, 1) }), oml.EINVALID, "successivo", ""},
		{"outside the release", q(func(q *Query) { q.From, q.To = month(2010, 1), month(2011, 1) }), oml.EINVALID, "fuori dalla release", "2020-01-2023-06"},
		{"bad perimeter", q(func(q *Query) { q.Perimeter = "home" }), oml.EINVALID, "perimetro", "workplace"},
		{"bad scope", q(func(q *Query) { q.Scope = "all" }), oml.EINVALID, "ambito", "core"},
		{"unknown transform", q(func(q *Query) { q.Transform = "log" }), oml.EINVALID, "trasformazione", "yoy"},
		{"roll12 of a ratio", q(func(q *Query) { q.Indicator = "quota_ti"; q.Transform = "roll12" }), oml.EINVALID, "flussi additivi", "yoy"},
		{"roll12 of a stock", q(func(q *Query) { q.Indicator = "posizioni_attive"; q.Transform = "roll12" }), oml.EINVALID, "flussi additivi", ""},
		{"sa yearly", q(func(q *Query) { q.Freq = oml.Yearly; q.Transform = "sa" }), oml.EINVALID, "annuali", "freq=M"},
		{"limit", q(func(q *Query) { q.By = []string{"contratto"}; q.Limit = 100 }), oml.ETOOLARGE, "limite di 100", "restringere"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := r.Select(c.q, names)
			if oml.ErrorCode(err) != c.code || !strings.Contains(oml.ErrorMessage(err), c.msg) || !strings.Contains(oml.ErrorHint(err), c.hint) {
				t.Errorf("error %s %q hint %q; want %s %q hint %q", oml.ErrorCode(err), oml.ErrorMessage(err), oml.ErrorHint(err), c.code, c.msg, c.hint)
			}
		})
	}
	// The limit counts observations: exactly at the limit is fine.
	if _, err := r.Select(Query{Indicator: "attivazioni", Territories: []string{"016"}, Limit: 42}, names); err != nil {
		t.Errorf("at the limit: %v", err)
	}
}

func TestCodesAndPeriods(t *testing.T) {
	r := openHand(t, cubeOptions{})
	cases := []struct {
		dim, ind string
		want     string
		code     string
	}{
		{"contratto", "attivazioni", "TI,TD,AP,ND", ""},
		{"contratto", "", "TI,TD,AP,ND", ""},
		{"contratto", "quota_ti", "", ""}, // excluded: never published
		{"genere", "attivazioni", "M,F", ""},
		{"classe_eta", "attivazioni", "15-24", ""},
		{"ateco_sezione", "attivazioni", "", ""},
		{"sesso", "attivazioni", "", oml.EINVALID},
		{"genere", "assunzioni", "", oml.ENOTFOUND},
	}
	for _, c := range cases {
		got, err := r.Codes(c.dim, c.ind)
		if oml.ErrorCode(err) != c.code || strings.Join(got, ",") != c.want {
			t.Errorf("Codes(%s, %s) = %v, %v; want %s %s", c.dim, c.ind, got, err, c.want, c.code)
		}
	}
	for f, want := range map[oml.Freq]string{oml.Monthly: "2020-01 2023-06", oml.Quarterly: "2020-Q1 2023-Q2", oml.Yearly: "2020 2023"} {
		a, b := r.Periods(f)
		if got := a.String() + " " + b.String(); got != want {
			t.Errorf("Periods(%c) = %s, want %s", f, got, want)
		}
	}
	terrCases := []struct {
		level oml.Level
		ind   string
		want  string
		code  string
	}{
		{oml.LevelProvince, "attivazioni", "015,016", ""},
		{oml.LevelRegion, "", "ITC4", ""},
		{oml.LevelComune, "attivazioni", "016024", ""},
		{oml.LevelComune, "lavoratori_attivati", "", ""},
		{oml.LevelCPI, "", "", ""},
		{"sll", "", "", oml.EINVALID},
		{oml.LevelProvince, "assunzioni", "", oml.ENOTFOUND},
	}
	for _, c := range terrCases {
		got, err := r.Territories(c.level, c.ind)
		if oml.ErrorCode(err) != c.code || strings.Join(got, ",") != c.want {
			t.Errorf("Territories(%s, %s) = %v, %v; want %s %s", c.level, c.ind, got, err, c.want, c.code)
		}
	}
	if r.Catalogue().Version != "1.0.0" || len(r.Signature()) != 64 || len(r.PublicKey()) != 32 {
		t.Error("catalogue, signature or public key missing")
	}
}

// TestSelectConcurrent runs queries from many goroutines (run with -race):
// a Release is shared by every request of the server.
func TestSelectConcurrent(t *testing.T) {
	r := openHand(t, cubeOptions{})
	want := map[string]string{}
	queries := map[string]Query{}
	for _, tr := range Transforms {
		if tr == TransformRoll12 {
			continue
		}
		for _, terr := range []string{"ITC4", "015", "016"} {
			q := Query{Indicator: "attivazioni", Territories: []string{terr}, Transform: tr}
			d, err := r.Select(q, nil)
			if err != nil {
				t.Fatal(err)
			}
			queries[tr+terr], want[tr+terr] = q, obsString(d)
		}
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				for k, q := range queries {
					d, err := r.Select(q, nil)
					if err != nil || obsString(d) != want[k] {
						t.Errorf("%s: concurrent answer differs (%v)", k, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
