// Package tseries holds the time-series tools of the platform: seasonal
// adjustment by STL and the simple transforms of published indicators
// (year-on-year differences and rates, rolling sums).
//
// # STL contract
//
// [STL] is the Seasonal-Trend decomposition based on Loess of Cleveland,
// Cleveland, McRae and Terpenning (1990, Journal of Official Statistics 6,
// 3-73). It is a port of the algorithm of the NETLIB Fortran stl.f as
// implemented by statsmodels.tsa.seasonal.STL (statsmodels 0.13): the same
// loess with tricube weights and local degree 0 or 1, the same interpolation
// between "jump" points, the same low-pass filter (moving averages of length
// period, period, 3 followed by a loess), and the same robustness weights
// (bisquare of |resid| / (6 * median |resid|)). Given the same parameters it
// returns, up to floating-point rounding (far below 1e-6), the trend,
// seasonal and residual components of statsmodels; testdata/stl_reference.json
// holds the reference decompositions the tests compare against.
//
// The parameters are [STLParams]; [DefaultSTL] gives statsmodels' defaults,
// which are the documented parameters of the platform's seasonally adjusted
// series (see docs/adr/0006-stl.md). A zero length, jump or iteration count
// means "statsmodels' default"; the degrees are taken as given (0 is a valid
// degree), so start from DefaultSTL rather than from a zero STLParams.
// [STLParams.Resolve] returns the parameters actually used.
//
// The decomposition is additive: y = Trend + Seasonal + Resid, with Resid
// computed as y - Seasonal - Trend. [SeasonallyAdjusted] is y - Seasonal.
// STL and SeasonallyAdjusted return an error, never panic, when the series
// is shorter than two periods, holds a NaN or an infinity, or a parameter is
// invalid. Missing values are not supported: fill or cut the series first.
// The input slice is never modified, and all functions are safe for
// concurrent use.
//
// # Transforms
//
// [YoY], [YoYPct] and [RollingSum] return a slice as long as their input,
// with NaN wherever the value is undefined (the first period or window-1
// points, a zero base for YoYPct, a NaN in the input); an invalid period or
// window gives all NaN.
package tseries
