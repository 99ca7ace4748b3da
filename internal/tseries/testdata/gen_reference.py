#!/usr/bin/env python3
"""Reference STL decompositions for internal/tseries, produced with statsmodels.

Regenerate (Debian: apt-get install -y python3-statsmodels; statsmodels 0.13.5):

    /usr/bin/python3 internal/tseries/testdata/gen_reference.py

which rewrites internal/tseries/testdata/stl_reference.json next to this
script. The Go tests only read the JSON, so they run without Python.

The input series are generated deterministically by a small pure-Python
generator (an LCG plus Box-Muller), so they do not depend on the numpy version
and are stored in the JSON anyway. They are synthetic, shaped like monthly CO
hirings of Lombardy: a slowly growing trend, peaks in January and September,
troughs in August and December, and noise of about 2%.

Params in the JSON are the keyword arguments given to statsmodels' STL (and to
fit for inner_iter/outer_iter); null means "statsmodels default", which the Go
test maps to the zero value of the field so that the defaults are checked too.
"""

import json
import math
import os
import sys

import numpy as np
import statsmodels
from statsmodels.tsa.seasonal import STL


class Rand:
    """Deterministic normal deviates: 64-bit LCG (Knuth MMIX) + Box-Muller."""

    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFFFFFFFFFF

    def uniform(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        return ((self.state >> 11) + 0.5) / float(1 << 53)

    def normal(self):
        u1, u2 = self.uniform(), self.uniform()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


# Monthly seasonal factors (Jan..Dec) of hirings: peaks in Jan and Sep,
# troughs in Aug and Dec.
MONTHLY_FACTORS = [1.16, 1.00, 1.05, 1.00, 1.01, 1.04, 1.03, 0.64, 1.27, 1.09, 0.98, 0.78]
QUARTERLY_FACTORS = [1.10, 1.02, 0.93, 0.95]


def hirings(n, seed, start_year=2017, covid=False, base=118000.0):
    """n monthly values from January of start_year, rounded to whole hirings."""
    r = Rand(seed)
    out = []
    for t in range(n):
        year, month = start_year + t // 12, t % 12
        level = base * (1.0 + 0.018 * t / 12.0) + 1500.0 * math.sin(2 * math.pi * t / 41.0)
        if covid:
            ym = (year, month + 1)
            if ym >= (2020, 3):
                level *= 0.82  # persistent level shift
            if (2020, 3) <= ym <= (2020, 5):
                level *= 0.55  # lockdown months
        v = level * MONTHLY_FACTORS[month] * (1.0 + 0.02 * r.normal())
        out.append(float(round(v)))
    return out


def hirings_quarterly(n, seed, base=350000.0):
    r = Rand(seed)
    out = []
    for t in range(n):
        level = base * (1.0 + 0.02 * t / 4.0)
        v = level * QUARTERLY_FACTORS[t % 4] * (1.0 + 0.015 * r.normal())
        out.append(float(round(v)))
    return out


STL_KEYS = ["period", "seasonal", "trend", "low_pass", "seasonal_deg", "trend_deg",
            "low_pass_deg", "robust", "seasonal_jump", "trend_jump", "low_pass_jump"]
FIT_KEYS = ["inner_iter", "outer_iter"]


def case(name, description, y, **params):
    full = {k: None for k in STL_KEYS + FIT_KEYS}
    full.update(params)
    stl_kw = {k: full[k] for k in STL_KEYS if full[k] is not None}
    fit_kw = {k: full[k] for k in FIT_KEYS if full[k] is not None}
    res = STL(np.asarray(y, dtype=float), **stl_kw).fit(**fit_kw)
    return {
        "name": name,
        "description": description,
        "params": full,
        "y": list(y),
        "trend": [float(v) for v in res.trend],
        "seasonal": [float(v) for v in res.seasonal],
        "resid": [float(v) for v in res.resid],
        "weights": [float(v) for v in res.weights],
    }


def main():
    monthly = hirings(96, seed=2017)
    covid = hirings(96, seed=2020, covid=True)
    cases = [
        case("monthly", "(a) 96 monthly hirings 2017-2024, statsmodels defaults",
             monthly, period=12),
        case("monthly_robust", "(b) as (a), robust=True (inner 2, outer 15)",
             monthly, period=12, robust=True),
        case("quarterly", "(c) 32 quarterly hirings, period 4, defaults",
             hirings_quarterly(32, seed=4), period=4),
        case("short24", "(d) exactly 24 months (2*period), defaults",
             hirings(24, seed=24, start_year=2023), period=12),
        case("covid", "(e) level shift from March 2020 plus lockdown drop, defaults",
             covid, period=12),
        case("covid_robust", "(e') as (e), robust=True",
             covid, period=12, robust=True),
        case("monthly_jumps", "(f) as (a) with stl.f/stlez-style jumps ceil(len/10): 1, 3, 2",
             monthly, period=12, seasonal_jump=1, trend_jump=3, low_pass_jump=2),
        case("monthly_deg0_custom",
             "(g) as (a) with degree-0 loess, seasonal 13, trend 25, low_pass 15, 3 inner/2 outer",
             monthly, period=12, seasonal=13, trend=25, low_pass=15, seasonal_deg=0,
             trend_deg=0, low_pass_deg=0, inner_iter=3, outer_iter=2),
        case("m36_jumps_robust", "(h) 36 months 2022-2024, robust, jumps 2, 5, 3",
             hirings(36, seed=36, start_year=2022), period=12, robust=True,
             seasonal_jump=2, trend_jump=5, low_pass_jump=3),
        case("monthly_periodic", "(i) as (a) with seasonal 961 = 10*n+1 (R's s.window='periodic')",
             monthly, period=12, seasonal=961),
        case("monthly_long_trend", "(j) as (a) with trend 301 > n (window wider than the series)",
             monthly, period=12, trend=301),
    ]
    doc = {
        "generator": "internal/tseries/testdata/gen_reference.py",
        "statsmodels_version": statsmodels.__version__,
        "numpy_version": np.__version__,
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stl_reference.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
