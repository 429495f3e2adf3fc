"""Variance ratios and autocorrelations against Lo-MacKinlay's formulas written out, on a random
walk and on AR(1) returns with a known population VR(2) = 1 + rho; batch == streaming; bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest

from trading.analytics.efficiency import EfficiencyStream, efficiency, price_deviation
from trading.analytics.errors import AnalyticsInputError


def slow_vr(x: list[float], q: int) -> tuple[float, float]:
    T = len(x) - 1
    mu = (x[T] - x[0]) / T
    s2a = sum((x[k] - x[k - 1] - mu) ** 2 for k in range(1, T + 1)) / (T - 1)
    m = q * (T - q + 1) * (1 - q / T)
    s2c = sum((x[k] - x[k - q] - q * mu) ** 2 for k in range(q, T + 1)) / m
    vr = s2c / s2a
    return vr, (vr - 1) / math.sqrt(2 * (2 * q - 1) * (q - 1) / (3 * q * T))


def slow_ac(x: list[float], lag: int) -> float:
    r = [b - a for a, b in zip(x, x[1:])]
    mu = sum(r) / len(r)
    return sum((r[k] - mu) * (r[k - lag] - mu) for k in range(lag, len(r))) / sum((v - mu) ** 2 for v in r)


def test_against_formulas() -> None:
    x = np.cumsum(np.random.default_rng(1).normal(0.001, 0.01, 800))
    res = efficiency(x, qs=(2, 4, 16), lags=(1, 3))
    for q in (2, 4, 16):
        vr, z = slow_vr(x.tolist(), q)
        assert math.isclose(res.variance_ratio[q], vr, rel_tol=1e-9)
        assert math.isclose(res.z[q], z, rel_tol=1e-8)
    for lag in (1, 3):
        assert math.isclose(res.autocorrelation[lag], slow_ac(x.tolist(), lag), rel_tol=1e-9)


def test_random_walk_and_ar1() -> None:
    rng = np.random.default_rng(2)
    rw = efficiency(np.cumsum(rng.normal(0, 1, 50000)), qs=(2, 10))
    assert abs(rw.z[2]) < 3 and abs(rw.z[10]) < 3
    rho = -0.3                                   # bid-ask bounce-like mean reversion
    e = rng.normal(0, 1, 50000)
    r = np.empty_like(e)
    r[0] = e[0]
    for t in range(1, len(e)):
        r[t] = rho * r[t - 1] + e[t]
    res = efficiency(np.concatenate([[0.0], np.cumsum(r)]), qs=(2,), lags=(1,))
    assert abs(res.variance_ratio[2] - (1 + rho)) < 0.02
    assert abs(res.autocorrelation[1] - rho) < 0.02 and res.z[2] < -10


@pytest.mark.parametrize("chunk", [1, 3, 7, 500])
def test_batch_equals_streaming(chunk: int) -> None:
    x = np.cumsum(np.random.default_rng(3).normal(0, 0.01, 1000))
    batch = efficiency(x)
    st = EfficiencyStream()
    for i in range(0, len(x), chunk):
        st.update_many(x[i:i + chunk])
    got = st.result()
    assert got.returns == batch.returns
    for q in batch.variance_ratio:
        assert math.isclose(got.variance_ratio[q], batch.variance_ratio[q], rel_tol=1e-9)
    for lag in batch.autocorrelation:
        assert math.isclose(got.autocorrelation[lag], batch.autocorrelation[lag], rel_tol=1e-9)


def test_edge_cases_and_bad_input() -> None:
    flat = efficiency(np.ones(50))
    assert math.isnan(flat.variance_ratio[2]) and math.isnan(flat.autocorrelation[1])
    short = efficiency([0.0, 0.1, 0.2])
    assert math.isnan(short.variance_ratio[5])
    with pytest.raises(AnalyticsInputError, match="NaN"):
        efficiency([0.0, float("nan"), 1.0])
    with pytest.raises(AnalyticsInputError, match="q >= 2"):
        efficiency([0.0, 1.0], qs=(1,))
    with pytest.raises(AnalyticsInputError, match="empty"):
        efficiency([])
    np.testing.assert_allclose(price_deviation([101.0, 99.0], [100.0, 100.0]), [0.01, -0.01])
    with pytest.raises(AnalyticsInputError, match="fused"):
        price_deviation([1.0], [0.0])
