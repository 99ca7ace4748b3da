package tseries

import (
	"math"

	"gonum.org/v1/gonum/floats"
)

// nans returns a slice of n NaN.
func nans(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = math.NaN()
	}
	return out
}

// YoY returns the differences y[t]-y[t-period] (year-on-year changes for
// period 12 on monthly data), with NaN for the first period values, where
// either value is NaN, and everywhere if period < 1.
func YoY(y []float64, period int) []float64 {
	out := nans(len(y))
	if period < 1 {
		return out
	}
	for t := period; t < len(y); t++ {
		out[t] = y[t] - y[t-period]
	}
	return out
}

// YoYPct returns the percentage changes 100*(y[t]/y[t-period]-1), with NaN
// for the first period values, where the base y[t-period] is 0, where either
// value is NaN, and everywhere if period < 1.
func YoYPct(y []float64, period int) []float64 {
	out := nans(len(y))
	if period < 1 {
		return out
	}
	for t := period; t < len(y); t++ {
		if base := y[t-period]; base != 0 {
			out[t] = 100 * (y[t]/base - 1)
		}
	}
	return out
}

// RollingSum returns the sums of the last window values,
// y[t-window+1]+...+y[t], with NaN for the first window-1 values, where the
// window holds a NaN, and everywhere if window < 1. Each sum is computed
// afresh, so sums of whole numbers are exact and a NaN does not spread past
// its windows.
func RollingSum(y []float64, window int) []float64 {
	out := nans(len(y))
	if window < 1 {
		return out
	}
	for t := window - 1; t < len(y); t++ {
		out[t] = floats.Sum(y[t-window+1 : t+1])
	}
	return out
}
