"""Bjøntegaard delta rate and delta quality with piecewise cubic Hermite interpolation.

VCEG-M33 fitted a cubic polynomial through four points; the JCT-VC/JVET common test
condition spreadsheets (JCTVC-L1100, JVET-T2010) replaced it with PCHIP, which
cannot overshoot between points.  This is that scheme:

* BD-rate: interpolate log(rate) as a function of quality for both curves, integrate
  exactly over the overlapping quality interval, and report exp(mean difference) - 1
  in percent (negative: the test codec needs fewer bits for the same quality).
* BD-quality (BD-PSNR for PSNR): quality as a function of log(rate), mean difference.

The PCHIP slopes are Fritsch-Carlson with the three-point shape-preserving end
conditions (the MATLAB/SciPy `pchip` definition).  Works for any number of points
>= 2 per curve (two points give a straight line) and for metrics where lower is
better (LPIPS, DISTS): only the overlap of the quality ranges matters.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np


def _end_slope(h0: float, h1: float, d0: float, d1: float) -> float:
    s = ((2 * h0 + h1) * d0 - h0 * d1) / (h0 + h1)
    if np.sign(s) != np.sign(d0):
        return 0.0
    if np.sign(d0) != np.sign(d1) and abs(s) > abs(3 * d0):
        return 3 * d0
    return s


def pchip_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    h = np.diff(x)
    delta = np.diff(y) / h
    n = len(x)
    d = np.zeros(n)
    if n == 2:
        d[:] = delta[0]
        return d
    for k in range(1, n - 1):
        if delta[k - 1] * delta[k] > 0:
            w1, w2 = 2 * h[k] + h[k - 1], h[k] + 2 * h[k - 1]
            d[k] = (w1 + w2) / (w1 / delta[k - 1] + w2 / delta[k])
    d[0] = _end_slope(h[0], h[1], delta[0], delta[1])
    d[-1] = _end_slope(h[-1], h[-2], delta[-1], delta[-2])
    return d


class Pchip:
    """Piecewise cubic Hermite interpolant with exact integration."""

    def __init__(self, x: Sequence[float], y: Sequence[float]):
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        order = np.argsort(x)
        x, y = x[order], y[order]
        if len(x) < 2:
            raise ValueError("need at least two points")
        if np.any(np.diff(x) <= 0):
            raise ValueError(f"interpolation abscissae must be distinct, got {x.tolist()}")
        self.x, self.y = x, y
        d = pchip_slopes(x, y)
        h = np.diff(x)
        delta = np.diff(y) / h
        # y = y_k + d_k t + c2_k t^2 + c3_k t^3, t = x - x_k
        self.c1 = d[:-1]
        self.c2 = (3 * delta - 2 * d[:-1] - d[1:]) / h
        self.c3 = (d[:-1] + d[1:] - 2 * delta) / (h * h)

    def _antiderivative(self, k: int, t: float) -> float:
        return self.y[k] * t + self.c1[k] * t ** 2 / 2 + self.c2[k] * t ** 3 / 3 + self.c3[k] * t ** 4 / 4

    def __call__(self, xv: float) -> float:
        k = int(np.clip(np.searchsorted(self.x, xv, side="right") - 1, 0, len(self.x) - 2))
        t = xv - self.x[k]
        return float(self.y[k] + self.c1[k] * t + self.c2[k] * t ** 2 + self.c3[k] * t ** 3)

    def integrate(self, a: float, b: float) -> float:
        if not (self.x[0] - 1e-12 <= a <= b <= self.x[-1] + 1e-12):
            raise ValueError(f"[{a}, {b}] outside the interpolation range [{self.x[0]}, {self.x[-1]}]")
        total = 0.0
        for k in range(len(self.x) - 1):
            lo, hi = max(a, self.x[k]), min(b, self.x[k + 1])
            if hi > lo:
                total += self._antiderivative(k, hi - self.x[k]) - self._antiderivative(k, lo - self.x[k])
        return total


def _mean_gap(xa, ya, xt, yt) -> float | None:
    fa, ft = Pchip(xa, ya), Pchip(xt, yt)
    lo, hi = max(fa.x[0], ft.x[0]), min(fa.x[-1], ft.x[-1])
    if hi <= lo:
        return None  # no overlap: undefined, never extrapolated
    return (ft.integrate(lo, hi) - fa.integrate(lo, hi)) / (hi - lo)


def bd_rate(rate_anchor, quality_anchor, rate_test, quality_test) -> float | None:
    """Average bit-rate difference in percent at equal quality; None if the quality ranges do not overlap."""
    gap = _mean_gap(quality_anchor, np.log(np.asarray(rate_anchor, dtype=np.float64)),
                    quality_test, np.log(np.asarray(rate_test, dtype=np.float64)))
    return None if gap is None else (math.exp(gap) - 1.0) * 100.0


def bd_quality(rate_anchor, quality_anchor, rate_test, quality_test) -> float | None:
    """Average quality difference at equal rate (BD-PSNR for PSNR); None without rate overlap."""
    gap = _mean_gap(np.log(np.asarray(rate_anchor, dtype=np.float64)), quality_anchor,
                    np.log(np.asarray(rate_test, dtype=np.float64)), quality_test)
    return None if gap is None else float(gap)
