package tseries_test

import (
	"math"
	"slices"
	"testing"

	"github.com/regione-lombardia/oml/internal/tseries"
)

var nan = math.NaN()

// sameFloats compares with NaN equal to NaN and a tolerance of 1e-12.
func sameFloats(got, want []float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range want {
		if math.IsNaN(want[i]) != math.IsNaN(got[i]) {
			return false
		}
		if !math.IsNaN(want[i]) && math.Abs(got[i]-want[i]) > 1e-12*math.Max(1, math.Abs(want[i])) {
			return false
		}
	}
	return true
}

type transformCase struct {
	name string
	y    []float64
	n    int // period or window
	want []float64
}

func runTransform(t *testing.T, name string, f func([]float64, int) []float64, cases []transformCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(name+"/"+tc.name, func(t *testing.T) {
			in := slices.Clone(tc.y)
			got := f(in, tc.n)
			if !sameFloats(got, tc.want) {
				t.Errorf("%s(%v, %d) = %v, want %v", name, tc.y, tc.n, got, tc.want)
			}
			if !slices.Equal(in, tc.y) && !slices.ContainsFunc(tc.y, math.IsNaN) {
				t.Errorf("%s modified its input", name)
			}
			if got == nil {
				t.Errorf("%s returned nil", name)
			}
		})
	}
}

func TestYoY(t *testing.T) {
	runTransform(t, "YoY", tseries.YoY, []transformCase{
		{"quarterly", []float64{100, 80, 90, 110, 105, 84, 90, 121}, 4,
			[]float64{nan, nan, nan, nan, 5, 4, 0, 11}},
		{"period 1", []float64{3, 5, 4}, 1, []float64{nan, 2, -1}},
		{"shorter than period", []float64{1, 2, 3}, 12, []float64{nan, nan, nan}},
		{"exactly period", []float64{1, 2}, 2, []float64{nan, nan}},
		{"NaN propagates", []float64{1, nan, 3, 7}, 2, []float64{nan, nan, 2, nan}},
		{"negative values", []float64{-5, 10, -2, -20}, 2, []float64{nan, nan, 3, -30}},
		{"period 0", []float64{1, 2, 3}, 0, []float64{nan, nan, nan}},
		{"period negative", []float64{1, 2, 3}, -1, []float64{nan, nan, nan}},
		{"empty", []float64{}, 12, []float64{}},
		{"nil", nil, 12, []float64{}},
	})
	// Monthly: 13 months, the 13th compared with the 1st.
	y := []float64{1200, 1100, 1300, 1250, 1280, 1310, 1290, 700, 1500, 1350, 1200, 900, 1260}
	got := tseries.YoY(y, 12)
	if !math.IsNaN(got[11]) || got[12] != 60 {
		t.Errorf("monthly YoY = %v", got)
	}
}

func TestYoYPct(t *testing.T) {
	runTransform(t, "YoYPct", tseries.YoYPct, []transformCase{
		{"quarterly", []float64{100, 80, 90, 110, 105, 84, 90, 121}, 4,
			[]float64{nan, nan, nan, nan, 5, 5, 0, 10}},
		{"drop", []float64{200, 50}, 1, []float64{nan, -75}},
		{"zero base", []float64{0, 10, 0, 20}, 2, []float64{nan, nan, nan, 100}},
		{"zero over zero", []float64{0, 0}, 1, []float64{nan, nan}},
		{"to zero", []float64{40, 0}, 1, []float64{nan, -100}},
		{"negative base", []float64{-50, -25}, 1, []float64{nan, -50}},
		{"NaN propagates", []float64{nan, 10, 20, 30}, 2, []float64{nan, nan, nan, 200}},
		{"shorter than period", []float64{1, 2, 3}, 12, []float64{nan, nan, nan}},
		{"period 0", []float64{1, 2}, 0, []float64{nan, nan}},
		{"empty", nil, 4, []float64{}},
	})
}

func TestRollingSum(t *testing.T) {
	runTransform(t, "RollingSum", tseries.RollingSum, []transformCase{
		{"window 3", []float64{1, 2, 3, 4, 5, 6}, 3, []float64{nan, nan, 6, 9, 12, 15}},
		{"window 1", []float64{4, -1, 2}, 1, []float64{4, -1, 2}},
		{"window = len", []float64{1, 2, 3, 4}, 4, []float64{nan, nan, nan, 10}},
		{"window > len", []float64{1, 2, 3}, 4, []float64{nan, nan, nan}},
		{"NaN stays in its windows", []float64{1, nan, 3, 4, 5, 6}, 2, []float64{nan, nan, nan, 7, 9, 11}},
		{"window 0", []float64{1, 2}, 0, []float64{nan, nan}},
		{"window negative", []float64{1, 2}, -3, []float64{nan, nan}},
		{"empty", nil, 3, []float64{}},
	})
	// A 12-month rolling sum of monthly hirings is exact on whole numbers.
	y := make([]float64, 30)
	for i := range y {
		y[i] = float64(100000 + 37*i)
	}
	got := tseries.RollingSum(y, 12)
	for i := 11; i < len(y); i++ {
		want := 0.0
		for j := i - 11; j <= i; j++ {
			want += y[j]
		}
		if got[i] != want {
			t.Fatalf("RollingSum[%d] = %v, want %v", i, got[i], want)
		}
	}
	if !math.IsNaN(got[10]) {
		t.Errorf("RollingSum[10] = %v, want NaN", got[10])
	}
}
