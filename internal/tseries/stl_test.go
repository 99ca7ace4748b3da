package tseries_test

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/regione-lombardia/oml/internal/tseries"
)

// The reference decompositions in testdata/stl_reference.json come from
// statsmodels.tsa.seasonal.STL (0.13.5). Regenerate them with
//
//	apt-get install -y python3-statsmodels
//	/usr/bin/python3 internal/tseries/testdata/gen_reference.py
//
// The script documents the series and the parameters of each case.

type refParams struct {
	Period       int   `json:"period"`
	Seasonal     *int  `json:"seasonal"`
	Trend        *int  `json:"trend"`
	LowPass      *int  `json:"low_pass"`
	SeasonalDeg  *int  `json:"seasonal_deg"`
	TrendDeg     *int  `json:"trend_deg"`
	LowPassDeg   *int  `json:"low_pass_deg"`
	Robust       *bool `json:"robust"`
	SeasonalJump *int  `json:"seasonal_jump"`
	TrendJump    *int  `json:"trend_jump"`
	LowPassJump  *int  `json:"low_pass_jump"`
	InnerIter    *int  `json:"inner_iter"`
	OuterIter    *int  `json:"outer_iter"`
}

type refCase struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Params      refParams `json:"params"`
	Y           []float64 `json:"y"`
	Trend       []float64 `json:"trend"`
	Seasonal    []float64 `json:"seasonal"`
	Resid       []float64 `json:"resid"`
	Weights     []float64 `json:"weights"`
}

var loadRef = sync.OnceValues(func() ([]refCase, error) {
	b, err := os.ReadFile("testdata/stl_reference.json")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Cases []refCase `json:"cases"`
	}
	err = json.Unmarshal(b, &doc)
	return doc.Cases, err
})

func refCases(tb testing.TB) []refCase {
	tb.Helper()
	cs, err := loadRef()
	if err != nil {
		tb.Fatalf("reference: %v", err)
	}
	if len(cs) == 0 {
		tb.Fatal("reference: no cases")
	}
	return cs
}

// goParams maps statsmodels' arguments to STLParams: a null (statsmodels
// default) leaves DefaultSTL's value or the zero "default" of the field, so
// that the default resolution is checked as well.
func (r refParams) goParams() tseries.STLParams {
	p := tseries.DefaultSTL(r.Period)
	set := func(dst *int, src *int) {
		if src != nil {
			*dst = *src
		}
	}
	set(&p.Seasonal, r.Seasonal)
	set(&p.Trend, r.Trend)
	set(&p.LowPass, r.LowPass)
	set(&p.SeasonalDeg, r.SeasonalDeg)
	set(&p.TrendDeg, r.TrendDeg)
	set(&p.LowPassDeg, r.LowPassDeg)
	set(&p.SeasonalJump, r.SeasonalJump)
	set(&p.TrendJump, r.TrendJump)
	set(&p.LowPassJump, r.LowPassJump)
	set(&p.InnerIter, r.InnerIter)
	set(&p.OuterIter, r.OuterIter)
	if r.Robust != nil {
		p.Robust = *r.Robust
	}
	return p
}

// close reports whether got matches want within 1e-6, absolute for values
// up to 1 and relative beyond.
func closeTo(got, want float64) bool {
	return math.Abs(got-want) <= 1e-6*math.Max(1, math.Abs(want))
}

func compare(t *testing.T, what string, got, want []float64) (maxAbs float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	bad := 0
	for i := range want {
		d := math.Abs(got[i] - want[i])
		maxAbs = max(maxAbs, d)
		if !closeTo(got[i], want[i]) || math.IsNaN(got[i]) {
			if bad++; bad <= 5 {
				t.Errorf("%s[%d] = %.10g, statsmodels %.10g (diff %.3g)", what, i, got[i], want[i], got[i]-want[i])
			}
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d values differ in all", what, bad)
	}
	return maxAbs
}

func TestSTLMatchesStatsmodels(t *testing.T) {
	for _, c := range refCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			y := slices.Clone(c.Y)
			d, err := tseries.STL(y, c.Params.goParams())
			if err != nil {
				t.Fatalf("STL: %v", err)
			}
			if !slices.Equal(y, c.Y) {
				t.Error("STL modified its input")
			}
			m := compare(t, "trend", d.Trend, c.Trend)
			m = max(m, compare(t, "seasonal", d.Seasonal, c.Seasonal))
			m = max(m, compare(t, "resid", d.Resid, c.Resid))
			m = max(m, compare(t, "weights", d.Weights, c.Weights))
			t.Logf("%s: max |Go - statsmodels| = %.3g (max |y| %.6g)", c.Description, m, maxAbs(c.Y))

			sa, err := tseries.SeasonallyAdjusted(y, c.Params.goParams())
			if err != nil {
				t.Fatalf("SeasonallyAdjusted: %v", err)
			}
			want := make([]float64, len(y))
			for i := range y {
				want[i] = c.Y[i] - c.Seasonal[i]
			}
			compare(t, "adjusted", sa, want)
		})
	}
}

func maxAbs(y []float64) float64 {
	m := 0.0
	for _, v := range y {
		m = max(m, math.Abs(v))
	}
	return m
}

func TestResolveDefaults(t *testing.T) {
	for _, tc := range []struct {
		period, trend, lowPass int
	}{
		{12, 23, 13}, // 1.5*12/(1-1.5/7) = 22.9
		{4, 9, 5},    // 7.64
		{7, 15, 9},   // 13.36
		{2, 5, 3},    // 3.82
		{52, 101, 53},
	} {
		p, err := tseries.DefaultSTL(tc.period).Resolve()
		if err != nil {
			t.Fatalf("period %d: %v", tc.period, err)
		}
		want := tseries.STLParams{
			Period: tc.period, Seasonal: 7, Trend: tc.trend, LowPass: tc.lowPass,
			SeasonalDeg: 1, TrendDeg: 1, LowPassDeg: 1,
			InnerIter: 5, OuterIter: 0, SeasonalJump: 1, TrendJump: 1, LowPassJump: 1,
		}
		if p != want {
			t.Errorf("period %d: resolved %+v, want %+v", tc.period, p, want)
		}
	}
	p := tseries.DefaultSTL(12)
	p.Robust = true
	p.Seasonal = 13
	r, err := p.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	// 1.5*12/(1-1.5/13) = 20.35 -> 21.
	if r.InnerIter != 2 || r.OuterIter != 15 || r.Trend != 21 {
		t.Errorf("robust seasonal 13: resolved %+v", r)
	}
	// A zero STLParams with only a period takes the default lengths too.
	r, err = tseries.STLParams{Period: 12}.Resolve()
	if err != nil || r.Seasonal != 7 || r.Trend != 23 || r.LowPass != 13 {
		t.Errorf("zero params: %+v, %v", r, err)
	}
}

func TestSTLErrors(t *testing.T) {
	y := make([]float64, 48)
	for i := range y {
		y[i] = 100 + float64(i%12)
	}
	with := func(f func(*tseries.STLParams)) tseries.STLParams {
		p := tseries.DefaultSTL(12)
		f(&p)
		return p
	}
	nan := slices.Clone(y)
	nan[7] = math.NaN()
	inf := slices.Clone(y)
	inf[40] = math.Inf(1)
	ninf := slices.Clone(y)
	ninf[0] = math.Inf(-1)
	for _, tc := range []struct {
		name   string
		y      []float64
		p      tseries.STLParams
		target error
	}{
		{"nil", nil, tseries.DefaultSTL(12), tseries.ErrShortSeries},
		{"23 values", y[:23], tseries.DefaultSTL(12), tseries.ErrShortSeries},
		{"7 quarters", y[:7], tseries.DefaultSTL(4), tseries.ErrShortSeries},
		{"NaN", nan, tseries.DefaultSTL(12), tseries.ErrNonFinite},
		{"+Inf", inf, tseries.DefaultSTL(12), tseries.ErrNonFinite},
		{"-Inf", ninf, tseries.DefaultSTL(12), tseries.ErrNonFinite},
		{"period 0", y, tseries.DefaultSTL(0), nil},
		{"period 1", y, tseries.DefaultSTL(1), nil},
		{"period -12", y, tseries.DefaultSTL(-12), nil},
		{"seasonal even", y, with(func(p *tseries.STLParams) { p.Seasonal = 8 }), nil},
		{"seasonal 1", y, with(func(p *tseries.STLParams) { p.Seasonal = 1 }), nil},
		{"seasonal negative", y, with(func(p *tseries.STLParams) { p.Seasonal = -7 }), nil},
		{"trend even", y, with(func(p *tseries.STLParams) { p.Trend = 24 }), nil},
		{"trend <= period", y, with(func(p *tseries.STLParams) { p.Trend = 11 }), nil},
		{"low-pass even", y, with(func(p *tseries.STLParams) { p.LowPass = 14 }), nil},
		{"low-pass <= period", y, with(func(p *tseries.STLParams) { p.LowPass = 11 }), nil},
		{"degree 2", y, with(func(p *tseries.STLParams) { p.TrendDeg = 2 }), nil},
		{"degree -1", y, with(func(p *tseries.STLParams) { p.SeasonalDeg = -1 }), nil},
		{"low-pass degree 2", y, with(func(p *tseries.STLParams) { p.LowPassDeg = 2 }), nil},
		{"jump negative", y, with(func(p *tseries.STLParams) { p.TrendJump = -1 }), nil},
		{"inner negative", y, with(func(p *tseries.STLParams) { p.InnerIter = -1 }), nil},
		{"outer negative", y, with(func(p *tseries.STLParams) { p.OuterIter = -2 }), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := tseries.STL(tc.y, tc.p)
			if err == nil {
				t.Fatalf("STL: no error, got %d values", len(d.Trend))
			}
			if tc.target != nil && !errors.Is(err, tc.target) {
				t.Errorf("STL error %v, want %v", err, tc.target)
			}
			if d.Trend != nil || d.Seasonal != nil || d.Resid != nil {
				t.Error("STL returned components with an error")
			}
			if sa, err := tseries.SeasonallyAdjusted(tc.y, tc.p); err == nil || sa != nil {
				t.Errorf("SeasonallyAdjusted: %v, %v", sa, err)
			}
		})
	}
	// Exactly two periods is enough.
	if _, err := tseries.STL(y[:24], tseries.DefaultSTL(12)); err != nil {
		t.Errorf("24 months: %v", err)
	}
}

// randomSeries is a trend plus a seasonal pattern plus noise, with an
// occasional outlier, on the scale of monthly hirings.
func randomSeries(r *rand.Rand, n, period int) []float64 {
	pattern := make([]float64, period)
	for i := range pattern {
		pattern[i] = r.NormFloat64() * 5000
	}
	level, slope := 1e5*r.Float64(), r.NormFloat64()*200
	y := make([]float64, n)
	for i := range y {
		y[i] = level + slope*float64(i) + pattern[i%period] + r.NormFloat64()*1000
		if r.IntN(20) == 0 {
			y[i] += r.NormFloat64() * 20000
		}
	}
	return y
}

// TestSTLProperties checks on random series and parameters that the
// components add up to y, are finite, and that the call is deterministic
// and leaves its input alone.
func TestSTLProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 6))
	for it := range 300 {
		period := 2 + r.IntN(13)
		n := 2*period + r.IntN(10*period)
		y := randomSeries(r, n, period)
		p := tseries.DefaultSTL(period)
		p.Seasonal = 3 + 2*r.IntN(8)
		p.Robust = r.IntN(3) == 0
		p.SeasonalDeg, p.TrendDeg, p.LowPassDeg = r.IntN(2), r.IntN(2), r.IntN(2)
		p.SeasonalJump, p.TrendJump, p.LowPassJump = 1+r.IntN(3), 1+r.IntN(4), 1+r.IntN(3)
		if r.IntN(4) == 0 {
			p.Trend = period + 1 + 2*r.IntN(3*period) + period%2
		}
		in := slices.Clone(y)
		d, err := tseries.STL(in, p)
		if err != nil {
			t.Fatalf("case %d (n %d, %+v): %v", it, n, p, err)
		}
		if !slices.Equal(in, y) {
			t.Fatalf("case %d: input modified", it)
		}
		scale := maxAbs(y)
		for i := range y {
			sum := d.Trend[i] + d.Seasonal[i] + d.Resid[i]
			if math.Abs(sum-y[i]) > 1e-9*scale {
				t.Fatalf("case %d (%+v): trend+seasonal+resid = %v at %d, y = %v", it, p, sum, i, y[i])
			}
			for _, v := range []float64{d.Trend[i], d.Seasonal[i], d.Resid[i]} {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("case %d (%+v): non-finite component at %d", it, p, i)
				}
			}
			if w := d.Weights[i]; w < 0 || w > 1 || (!p.Robust && w != 1) {
				t.Fatalf("case %d (%+v): weight %v at %d", it, p, w, i)
			}
		}
		again, _ := tseries.STL(y, p)
		if !slices.Equal(again.Trend, d.Trend) || !slices.Equal(again.Seasonal, d.Seasonal) {
			t.Fatalf("case %d: not deterministic", it)
		}
	}
}

// TestSTLExactSeasonal: a series that is exactly a constant plus a fixed
// zero-mean seasonal pattern decomposes into that constant and that pattern.
func TestSTLExactSeasonal(t *testing.T) {
	pattern := []float64{5, -3, 1, 0, 2, -1, 4, -20, 12, 3, -1, -2}
	y := make([]float64, 60)
	for i := range y {
		y[i] = 1000 + pattern[i%12]
	}
	for _, robust := range []bool{false, true} {
		p := tseries.DefaultSTL(12)
		p.Robust = robust
		d, err := tseries.STL(y, p)
		if err != nil {
			t.Fatal(err)
		}
		for i := range y {
			if math.Abs(d.Trend[i]-1000) > 1e-8 || math.Abs(d.Seasonal[i]-pattern[i%12]) > 1e-8 || math.Abs(d.Resid[i]) > 1e-8 {
				t.Fatalf("robust %v, t=%d: trend %v seasonal %v resid %v", robust, i, d.Trend[i], d.Seasonal[i], d.Resid[i])
			}
		}
	}
}

func TestSTLConcurrent(t *testing.T) {
	c := refCases(t)[0]
	want, err := tseries.STL(c.Y, c.Params.goParams())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				d, err := tseries.STL(c.Y, c.Params.goParams())
				if err != nil || !slices.Equal(d.Trend, want.Trend) || !slices.Equal(d.Seasonal, want.Seasonal) {
					t.Error("concurrent STL differs")
					return
				}
			}
		})
	}
	wg.Wait()
}

// FuzzSTL: any finite input of at least two periods decomposes without
// panicking into finite components that add up to y.
func FuzzSTL(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, uint8(4), uint8(7), false)
	f.Add(make([]byte, 24), uint8(12), uint8(7), true)
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 255, 0, 0, 0, 0}, uint8(2), uint8(3), true)
	f.Fuzz(func(t *testing.T, data []byte, period, seasonal uint8, robust bool) {
		y := make([]float64, len(data))
		for i, b := range data {
			y[i] = float64(b) * 1000
		}
		p := tseries.DefaultSTL(int(period%20) + 2)
		p.Seasonal = int(seasonal%15)*2 + 3
		p.Robust = robust
		d, err := tseries.STL(y, p)
		if len(y) < 2*p.Period {
			if !errors.Is(err, tseries.ErrShortSeries) {
				t.Fatalf("short series: %v", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := range y {
			if s := d.Trend[i] + d.Seasonal[i] + d.Resid[i]; math.IsNaN(s) || math.Abs(s-y[i]) > 1e-6 {
				t.Fatalf("at %d: %v + %v + %v != %v", i, d.Trend[i], d.Seasonal[i], d.Resid[i], y[i])
			}
		}
	})
}

func BenchmarkSTL(b *testing.B) {
	c := refCases(b)[0] // 96 monthly values, statsmodels defaults
	if len(c.Y) != 96 {
		b.Fatalf("first case has %d values", len(c.Y))
	}
	for _, robust := range []bool{false, true} {
		name := "monthly96"
		if robust {
			name += "-robust"
		}
		b.Run(name, func(b *testing.B) {
			p := tseries.DefaultSTL(12)
			p.Robust = robust
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tseries.STL(c.Y, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
