"""BD-rate / BD-PSNR (PCHIP).

Worked example: the rate-PSNR points published in the README and example_usage.py of
FAU-LMS/bjontegaard ("test data measured using ffmpeg (libx265 with different preset
settings)").  Expected values are what that project's PyPI release bjontegaard==1.3.0
returns for them with method='pchip' (its README states its PCHIP matches the JCT-VC /
JVET common-test-condition Excel sheets to at least 10 decimals):
  test 1: bd_rate -4.417485350589045 %, bd_psnr 0.11969278542479489 dB
  test 2: bd_rate -4.47218200276197 %,  bd_psnr 0.08887484704747745 dB
"""
import math

import numpy as np
import pytest

from tools.metrics.bdrate import Pchip, bd_quality, bd_rate

TEST1 = ([9487.76, 4593.60, 2486.44, 1358.24], [40.037, 38.615, 36.845, 34.851],
         [9787.80, 4469.00, 2451.52, 1356.24], [40.121, 38.651, 36.970, 34.987])
TEST2 = ([82472.76, 26875.24, 9487.76, 4593.6], [43.825, 41.404, 40.037, 38.615],
         [99896.96, 33952.04, 9787.8, 4469.0], [44.731, 41.875, 40.121, 38.651])


@pytest.mark.parametrize("data, rate, psnr", [(TEST1, -4.417485350589045, 0.11969278542479489),
                                              (TEST2, -4.47218200276197, 0.08887484704747745)])
def test_published_example(data, rate, psnr):
    assert bd_rate(*data) == pytest.approx(rate, abs=1e-9)
    assert bd_quality(*data) == pytest.approx(psnr, abs=1e-9)


def test_uniform_rate_scaling_is_exact():
    rates, psnr = [100.0, 200.0, 400.0, 800.0], [30.0, 33.0, 35.5, 37.0]
    assert bd_rate(rates, psnr, [0.9 * r for r in rates], psnr) == pytest.approx(-10.0, abs=1e-9)
    assert bd_rate(rates, psnr, rates, psnr) == pytest.approx(0.0, abs=1e-12)


def test_lower_is_better_metric_and_point_order():
    # LPIPS-like: quality decreases with rate; points given in any order.
    rates, lp = [800.0, 100.0, 400.0, 200.0], [0.10, 0.40, 0.15, 0.25]
    assert bd_rate(rates, lp, [r * 1.25 for r in rates], lp) == pytest.approx(25.0, abs=1e-9)


def test_no_overlap_is_none():
    assert bd_rate([1, 2], [30, 31], [1, 2], [40, 41]) is None


def test_pchip_does_not_overshoot_and_matches_scipy():
    x, y = np.array([0, 1, 2.5, 4, 7.0]), np.array([1, 3, 2, 5, 5.5])
    p = Pchip(x, y)
    xs = np.linspace(0, 7, 141)
    vals = np.array([p(v) for v in xs])
    assert vals.min() >= 1 - 1e-12 and vals.max() <= 5.5 + 1e-12
    scipy_interp = pytest.importorskip("scipy.interpolate")
    ref = scipy_interp.PchipInterpolator(x, y)
    np.testing.assert_allclose(vals, ref(xs), atol=1e-12)
    assert p.integrate(0.3, 6.1) == pytest.approx(float(ref.integrate(0.3, 6.1)), abs=1e-12)


def test_duplicate_quality_rejected():
    with pytest.raises(ValueError):
        bd_rate([1, 2, 3], [30, 30, 31], [1, 2, 3], [30, 31, 32])
    assert math.isfinite(bd_rate([1, 2], [30, 31], [1, 2], [30.5, 31.5]))
