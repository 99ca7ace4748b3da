package tseries

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/floats"
)

// STLParams are the documented parameters of an STL decomposition, named
// after the arguments of statsmodels.tsa.seasonal.STL. DefaultSTL gives the
// defaults (those of statsmodels, which suit monthly CO flows); a zero length,
// jump or iteration count means "the default" too.
type STLParams struct {
	// Period is the number of observations per seasonal cycle: 12 for monthly,
	// 4 for quarterly data. Must be >= 2.
	Period int
	// Seasonal is the length of the seasonal smoother, in cycles: odd and
	// >= 3, normally >= 7. Default (and 0) 7, as in statsmodels.
	Seasonal int
	// Trend is the length of the trend smoother: odd, >= 3 and > Period.
	// 0 means statsmodels' default, the smallest odd integer
	// >= 1.5*Period/(1-1.5/Seasonal) (23 for monthly, 9 for quarterly data).
	Trend int
	// LowPass is the length of the low-pass filter: odd, >= 3 and > Period.
	// 0 means the smallest odd integer > Period (13 monthly, 5 quarterly).
	LowPass int
	// SeasonalDeg, TrendDeg and LowPassDeg are the degrees (0 or 1) of the
	// local polynomials of the three loess smoothers. statsmodels' defaults,
	// set by DefaultSTL, are 1, 1, 1. The zero value is degree 0.
	SeasonalDeg, TrendDeg, LowPassDeg int
	// Robust selects the default iteration counts of the robust fit, as in
	// statsmodels: InnerIter 2 and OuterIter 15 instead of 5 and 0. The
	// robustness weights are used whenever the (resolved) OuterIter is > 0.
	Robust bool
	// InnerIter is the number of passes of the inner loop (seasonal then
	// trend smoothing); OuterIter the number of robustness iterations.
	// 0 means the default: 2 and 15 if Robust, else 5 and 0.
	InnerIter, OuterIter int
	// SeasonalJump, TrendJump and LowPassJump: each loess is computed every
	// jump points and linearly interpolated in between. 0 means statsmodels'
	// default, 1 (no interpolation, the exact smoother). The original Fortran
	// driver stlez used ceil(length/10) instead; pass those values to
	// reproduce it.
	SeasonalJump, TrendJump, LowPassJump int
}

// DefaultSTL returns statsmodels' default parameters for the given period:
// seasonal 7, trend and low-pass lengths from the period, loess degrees 1,
// non-robust (5 inner passes, no robustness iterations), no jumps.
func DefaultSTL(period int) STLParams {
	return STLParams{
		Period:      period,
		Seasonal:    7,
		SeasonalDeg: 1,
		TrendDeg:    1,
		LowPassDeg:  1,
	}
}

// Decomposition is the result of STL: y = Trend + Seasonal + Resid.
type Decomposition struct {
	Trend, Seasonal, Resid []float64
	// Weights are the final robustness weights in [0, 1] (statsmodels'
	// DecomposeResult.weights): all 1 without robustness iterations; a weight
	// near 0 marks an observation treated as an outlier.
	Weights []float64
}

// Resolve returns p with every zero default replaced by the value actually
// used, or an error if a parameter is invalid. It does not look at a series,
// so the length check belongs to STL.
func (p STLParams) Resolve() (STLParams, error) {
	if p.Period < 2 {
		return p, fmt.Errorf("tseries: STL period must be >= 2, got %d", p.Period)
	}
	if p.Seasonal == 0 {
		p.Seasonal = 7
	}
	if p.Seasonal < 3 || p.Seasonal%2 == 0 {
		return p, fmt.Errorf("tseries: STL seasonal must be an odd integer >= 3, got %d", p.Seasonal)
	}
	if p.Trend == 0 {
		p.Trend = int(math.Ceil(1.5 * float64(p.Period) / (1 - 1.5/float64(p.Seasonal))))
		if p.Trend%2 == 0 {
			p.Trend++
		}
	}
	if p.Trend < 3 || p.Trend%2 == 0 || p.Trend <= p.Period {
		return p, fmt.Errorf("tseries: STL trend must be an odd integer >= 3 and > period %d, got %d", p.Period, p.Trend)
	}
	if p.LowPass == 0 {
		p.LowPass = p.Period + 1
		if p.LowPass%2 == 0 {
			p.LowPass++
		}
	}
	if p.LowPass < 3 || p.LowPass%2 == 0 || p.LowPass <= p.Period {
		return p, fmt.Errorf("tseries: STL low-pass must be an odd integer >= 3 and > period %d, got %d", p.Period, p.LowPass)
	}
	for _, d := range []struct {
		name string
		v    int
	}{{"seasonal", p.SeasonalDeg}, {"trend", p.TrendDeg}, {"low-pass", p.LowPassDeg}} {
		if d.v != 0 && d.v != 1 {
			return p, fmt.Errorf("tseries: STL %s degree must be 0 or 1, got %d", d.name, d.v)
		}
	}
	for _, j := range []struct {
		name string
		v    *int
	}{{"seasonal", &p.SeasonalJump}, {"trend", &p.TrendJump}, {"low-pass", &p.LowPassJump}} {
		if *j.v == 0 {
			*j.v = 1
		}
		if *j.v < 0 {
			return p, fmt.Errorf("tseries: STL %s jump must be positive, got %d", j.name, *j.v)
		}
	}
	if p.InnerIter < 0 || p.OuterIter < 0 {
		return p, fmt.Errorf("tseries: STL iterations must not be negative, got inner %d, outer %d", p.InnerIter, p.OuterIter)
	}
	if p.InnerIter == 0 {
		p.InnerIter = 5
		if p.Robust {
			p.InnerIter = 2
		}
	}
	if p.OuterIter == 0 && p.Robust {
		p.OuterIter = 15
	}
	return p, nil
}

// ErrShortSeries is returned (wrapped) by STL for a series shorter than two
// periods.
var ErrShortSeries = errors.New("tseries: series shorter than two periods")

// ErrNonFinite is returned (wrapped) by STL for a series holding a NaN or an
// infinity.
var ErrNonFinite = errors.New("tseries: series holds NaN or Inf")

// STL decomposes y into trend, seasonal and residual components with the
// parameters p (see the package doc for the contract). It returns an error
// when p is invalid, y is shorter than 2*p.Period or holds a non-finite value.
func STL(y []float64, p STLParams) (Decomposition, error) {
	rp, err := p.Resolve()
	if err != nil {
		return Decomposition{}, err
	}
	if len(y) < 2*rp.Period {
		return Decomposition{}, fmt.Errorf("%w: %d values, period %d", ErrShortSeries, len(y), rp.Period)
	}
	if floats.HasNaN(y) || math.IsInf(floats.Max(y), 1) || math.IsInf(floats.Min(y), -1) {
		return Decomposition{}, ErrNonFinite
	}
	s := newSTL(y, rp)
	s.fit()
	d := Decomposition{
		Trend:    s.trend,
		Seasonal: s.season,
		Resid:    make([]float64, len(y)),
		Weights:  s.rw,
	}
	floats.SubTo(d.Resid, y, d.Seasonal)
	floats.Sub(d.Resid, d.Trend)
	return d, nil
}

// SeasonallyAdjusted returns y minus the STL seasonal component of y.
func SeasonallyAdjusted(y []float64, p STLParams) ([]float64, error) {
	d, err := STL(y, p)
	if err != nil {
		return nil, err
	}
	return floats.SubTo(make([]float64, len(y)), y, d.Seasonal), nil
}

// stl holds the state of one decomposition, after the arrays of the Fortran
// stl.f (and of statsmodels' _stl.pyx): y, rw, season, trend and the work
// rows of length n+2*period. Indices are 0-based; window bounds are
// inclusive.
type stl struct {
	p                 STLParams
	n                 int
	y                 []float64
	rw, season, trend []float64
	w0, w1, w2        []float64 // work rows, n+2*period each
	useRW             bool
	sub, subRW, sub2  []float64 // a cycle-subseries, its weights, its smooth
	lo                loess
}

func newSTL(y []float64, p STLParams) *stl {
	n := len(y)
	m := n + 2*p.Period
	k := n/p.Period + 1 // longest cycle-subseries
	buf := make([]float64, 3*n+3*m+2*k+(k+2))
	take := func(l int) []float64 {
		s := buf[:l:l]
		buf = buf[l:]
		return s
	}
	s := &stl{p: p, n: n, y: y}
	s.rw, s.season, s.trend = take(n), take(n), take(n)
	s.w0, s.w1, s.w2 = take(m), take(m), take(m)
	s.sub, s.subRW, s.sub2 = take(k), take(k), take(k+2)
	s.lo.pool = make([]float64, 0, 1024)
	return s
}

// fit is statsmodels' STL.fit (stl.f's stl): inner passes, then robustness
// iterations, each recomputing the weights from the previous fit.
func (s *stl) fit() {
	for i := range s.rw {
		s.rw[i] = 1
	}
	s.useRW = false
	for k := 0; ; k++ {
		s.onestp()
		if k+1 > s.p.OuterIter {
			break
		}
		for i := 0; i < s.n; i++ {
			s.w0[i] = s.trend[i] + s.season[i]
		}
		s.rwts(s.w0[:s.n])
		s.useRW = true
	}
}

// onestp runs the inner loop (stl.f's stlstp).
func (s *stl) onestp() {
	n, np := s.n, s.p.Period
	for range s.p.InnerIter {
		// Step 1: detrending.
		for i := 0; i < n; i++ {
			s.w0[i] = s.y[i] - s.trend[i]
		}
		// Step 2: cycle-subseries smoothing, into w1 (n+2*np values).
		s.ss()
		// Step 3: low-pass filtering of the smoothed cycle-subseries.
		s.fts()
		ess(s.w2, n, s.p.LowPass, s.p.LowPassDeg, s.p.LowPassJump, nil, s.w0, &s.lo)
		// Step 4: detrending of the smoothed cycle-subseries; step 5:
		// deseasonalizing.
		for i := 0; i < n; i++ {
			s.season[i] = s.w1[np+i] - s.w0[i]
			s.w0[i] = s.y[i] - s.season[i]
		}
		// Step 6: trend smoothing.
		var rw []float64
		if s.useRW {
			rw = s.rw
		}
		ess(s.w0, n, s.p.Trend, s.p.TrendDeg, s.p.TrendJump, rw, s.trend, &s.lo)
	}
}

// ss smooths each cycle-subseries of w0[:n] with a loess of length Seasonal
// and extends it by one point at each end, writing the n+2*period values to
// w1 (stl.f's stlss).
func (s *stl) ss() {
	n, np, ns := s.n, s.p.Period, s.p.Seasonal
	deg := s.p.SeasonalDeg
	for j := 0; j < np; j++ {
		k := (n-(j+1))/np + 1
		sub := s.sub[:k]
		for i := range sub {
			sub[i] = s.w0[i*np+j]
		}
		var rw []float64
		if s.useRW {
			rw = s.subRW[:k]
			for i := range rw {
				rw[i] = s.rw[i*np+j]
			}
		}
		out := s.sub2[:k+2]
		ess(sub, k, ns, deg, s.p.SeasonalJump, rw, out[1:], &s.lo)
		// Extrapolate one cycle before the first and after the last point.
		v, ok := est(sub, k, ns, deg, -1, 0, min(ns, k)-1, &s.lo, rw)
		if !ok {
			v = out[1]
		}
		out[0] = v
		v, ok = est(sub, k, ns, deg, k, max(1, k-ns+1)-1, k-1, &s.lo, rw)
		if !ok {
			v = out[k]
		}
		out[k+1] = v
		for m, v := range out {
			s.w1[m*np+j] = v
		}
	}
}

// fts applies the moving averages of the low-pass filter (lengths period,
// period and 3) to w1[:n+2*period], leaving n values in w2 (stl.f's stlfts).
func (s *stl) fts() {
	n, np := s.n+2*s.p.Period, s.p.Period
	ma(s.w1, n, np, s.w2)
	ma(s.w2, n-np+1, np, s.w0)
	ma(s.w0, n-2*np+2, 3, s.w2)
}

// ma writes to ave the n-length+1 moving averages of length length of x[:n]
// (stl.f's stlma, with the same running sum).
func ma(x []float64, n, length int, ave []float64) {
	flen := float64(length)
	v := 0.0
	for i := 0; i < length; i++ {
		v += x[i]
	}
	ave[0] = v / flen
	for j, k, m := 1, length, 0; j < n-length+1; j, k, m = j+1, k+1, m+1 {
		v += x[k] - x[m]
		ave[j] = v / flen
	}
}

// rwts sets the robustness weights from the fit (trend+season): bisquare of
// |y-fit| / (6 * median |y-fit|) (stl.f's stlrwt, with statsmodels' exact
// median).
func (s *stl) rwts(fit []float64) {
	n := s.n
	for i := 0; i < n; i++ {
		s.rw[i] = math.Abs(s.y[i] - fit[i])
	}
	// The median of |resid|: mean of the order statistics n/2 and n-n/2-1.
	sorted := s.w1[:n] // free between two inner loops
	copy(sorted, s.rw)
	slices.Sort(sorted)
	cmad := 3 * (sorted[n/2] + sorted[n-n/2-1])
	if cmad == 0 {
		for i := range s.rw {
			s.rw[i] = 1
		}
		return
	}
	c9, c1 := 0.999*cmad, 0.001*cmad
	for i, r := range s.rw {
		switch {
		case r <= c1:
			s.rw[i] = 1
		case r <= c9:
			u := r / cmad
			u = 1 - u*u
			s.rw[i] = u * u
		default:
			s.rw[i] = 0
		}
	}
}

// ess is the loess smoother of stl.f (stless): it smooths y[:n] with a
// window of length points and local degree deg, computed every njump points
// and linearly interpolated in between, into ys[:n]. rw, if not nil, holds
// the robustness weights; l is the scratch space of est.
func ess(y []float64, n, length, deg, njump int, rw, ys []float64, l *loess) {
	if n < 2 {
		ys[0] = y[0]
		return
	}
	fill := func(i, nleft, nright int) {
		v, ok := est(y, n, length, deg, i, nleft, nright, l, rw)
		if !ok {
			v = y[i]
		}
		ys[i] = v
	}
	newnj := min(njump, n-1)
	var nleft, nright int
	switch {
	case length >= n:
		nleft, nright = 0, n-1
		for i := 0; i < n; i += newnj {
			fill(i, nleft, nright)
		}
	case newnj == 1:
		nsh := (length + 2) / 2
		nleft, nright = 0, length-1
		for i := 0; i < n; i++ {
			if i+1 > nsh && nright != n-1 {
				nleft++
				nright++
			}
			fill(i, nleft, nright)
		}
	default:
		nsh := (length + 1) / 2
		for i := 0; i < n; i += newnj {
			switch {
			case i+1 < nsh:
				nleft, nright = 0, length-1
			case i+1 >= n-nsh+1:
				nleft, nright = n-length, n-1
			default:
				nleft, nright = i+1-nsh, length+i-nsh
			}
			fill(i, nleft, nright)
		}
	}
	if newnj == 1 {
		return
	}
	for i := 0; i < n-newnj; i += newnj {
		delta := (ys[i+newnj] - ys[i]) / float64(newnj)
		for j := i + 1; j < i+newnj; j++ {
			ys[j] = ys[i] + delta*float64(j-i)
		}
	}
	// k is the 1-based position of the last point computed by the loop; as
	// in stl.f, the last point is then fitted with the last window used.
	k := ((n-1)/newnj)*newnj + 1
	if k != n {
		fill(n-1, nleft, nright)
		if k != n-1 {
			delta := (ys[n-1] - ys[k-1]) / float64(n-k)
			for j := k; j < n-1; j++ {
				ys[j] = ys[k-1] + delta*float64(j+1-k)
			}
		}
	}
}

// loess is the scratch space of est: the tables of tricube weights by
// half-width, which stlest recomputes for every point of every window. The
// half-widths are whole numbers, and one decomposition uses a few dozen.
type loess struct {
	tabs [][]float64 // tabs[h][r]: tricube weight at distance r <= h for half-width h
	pool []float64   // backing store of tabs
	long []float64   // weights for a half-width > maxCachedH, not cached
}

// maxCachedH bounds the half-widths whose tables are kept, and so the memory
// taken by very long smoothers (as a "periodic" Seasonal of 10*len(y)+1).
const maxCachedH = 256

// tricube returns the tricube weights at the distances 0..hb (at least) for
// half-width h >= hb, as stlest computes them: 1 within 0.001*h, 0 beyond
// 0.999*h.
func (l *loess) tricube(h, hb int) []float64 {
	if h > maxCachedH {
		l.long = appendTricube(l.long[:0], h, hb)
		return l.long
	}
	if h < len(l.tabs) && l.tabs[h] != nil {
		return l.tabs[h]
	}
	if h >= len(l.tabs) {
		l.tabs = append(l.tabs, make([][]float64, h+1-len(l.tabs))...)
	}
	start := len(l.pool)
	l.pool = appendTricube(l.pool, h, h)
	tab := l.pool[start:len(l.pool):len(l.pool)]
	l.tabs[h] = tab
	return tab
}

// appendTricube appends to dst the tricube weights at the distances 0..upto
// for half-width h.
func appendTricube(dst []float64, h, upto int) []float64 {
	fh := float64(h)
	h9, h1 := 0.999*fh, 0.001*fh
	for r := 0; r <= upto; r++ {
		fr, t := float64(r), 0.0
		if fr <= h9 {
			if fr <= h1 {
				t = 1
			} else {
				q := fr / fh
				q = 1 - q*q*q
				t = q * q * q
			}
		}
		dst = append(dst, t)
	}
	return dst
}

// est is the local fit of stl.f (stlest): the loess estimate at abscissa xs
// (0-based, possibly outside [0, n)) from the points y[nleft..nright], with
// tricube weights over the half-width h = max(xs-nleft, nright-xs), widened
// by (length-n)/2 when the window is longer than the series, times the
// robustness weights rw if not nil. ok is false when all weights are zero.
//
// stlest normalises the weights w, then for degree 1 multiplies them by
// 1 + b*(x-xbar), with xbar the weighted mean of x, b = (xs-xbar)/c and c the
// weighted variance of x (unless sqrt(c) <= 0.001*(n-1)), and returns the sum
// of w*y: five passes over the window. The same estimate is computed here in
// one pass, from the weighted sums of 1, u, u^2, y and u*y with u = x-xs:
// only the rounding differs (relative differences around 1e-14).
func est(y []float64, n, length, deg, xs, nleft, nright int, l *loess, rw []float64) (ys float64, ok bool) {
	hb := max(xs-nleft, nright-xs)
	h := hb
	if length > n {
		h += (length - n) / 2
	}
	tab := l.tricube(h, hb)
	var a, su, suu, sy, suy float64
	yw := y[nleft : nright+1]
	u := float64(nleft - xs)
	if rw == nil {
		for j, yj := range yw {
			t := tab[abs(nleft+j-xs)]
			tu := t * u
			a += t
			su += tu
			suu += tu * u
			sy += t * yj
			suy += tu * yj
			u++
		}
	} else {
		rww := rw[nleft : nright+1]
		rww = rww[:len(yw)]
		for j, yj := range yw {
			t := tab[abs(nleft+j-xs)] * rww[j]
			tu := t * u
			a += t
			su += tu
			suu += tu * u
			sy += t * yj
			suy += tu * yj
			u++
		}
	}
	if a <= 0 {
		return 0, false
	}
	inva := 1 / a
	if h > 0 && deg > 0 {
		// Local linear fit: m = xbar-xs, c the weighted variance of x;
		// stlest's test sqrt(c) > 0.001*(n-1), squared.
		m := su * inva
		c := suu*inva - m*m
		if thr := 0.001 * (float64(n) - 1); c > thr*thr {
			return (sy - m/c*(suy-m*sy)) * inva, true
		}
	}
	return sy * inva, true
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}
