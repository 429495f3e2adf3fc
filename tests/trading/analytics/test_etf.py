"""ETF fair value against a direct basket computation, the premium and signal rule, batch ==
streaming, bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest

from trading.analytics.errors import AnalyticsInputError
from trading.analytics.etf import EtfFairValueStream, etf_fair_value


def test_fair_value_premium_and_signal() -> None:
    shares, cash, divisor = np.array([2.0, 3.0]), 10.0, 5.0
    # updates: comp 1 @ 10, comp 2 @ 20, ETF @ 16.5, ETF @ 17.2, comp 1 @ 10.5, ETF @ 16.0
    t = [1, 2, 3, 4, 5, 6]
    ins = [1, 2, 0, 0, 1, 0]
    px = [10.0, 20.0, 16.5, 17.2, 10.5, 16.0]
    res = etf_fair_value(t, ins, px, shares, cash, divisor, cost=0.02)
    fv1 = (2 * 10 + 3 * 20 + 10) / 5                       # 18.0
    fv2 = (2 * 10.5 + 3 * 20 + 10) / 5                     # 18.2
    assert math.isnan(res.fair_value[0]) and res.fair_value[1] == fv1 and res.fair_value[5] == fv2
    assert math.isnan(res.premium[1])                      # no ETF price yet
    assert math.isclose(res.premium[2], 16.5 / 18 - 1)     # -8.3 %: ETF cheap -> buy ETF
    assert res.signal.tolist() == [0, 0, 1, 1, 1, 1]
    assert math.isclose(res.edge[3], abs(17.2 / 18 - 1) - 0.02)
    rich = etf_fair_value([1, 2, 3], [1, 2, 0], [10.0, 20.0, 18.5], shares, cash, divisor, cost=0.02)
    assert rich.signal.tolist() == [0, 0, -1]
    inside = etf_fair_value([1, 2, 3], [1, 2, 0], [10.0, 20.0, 18.1], shares, cash, divisor, cost=0.02)
    assert inside.signal.tolist() == [0, 0, 0]             # 0.56 % premium < 2 % cost


def test_batch_equals_streaming() -> None:
    rng = np.random.default_rng(1)
    n, k = 3000, 10
    shares = rng.uniform(1, 5, k)
    ins = rng.integers(0, k + 1, n)
    px = rng.uniform(10, 20, n)
    t = np.arange(n, dtype=float)
    batch = etf_fair_value(t, ins, px, shares, 3.0, 2.0, 0.001)
    st = EtfFairValueStream(shares, 3.0, 2.0, 0.001)
    parts = [st.update_many(t[i:i + 77], ins[i:i + 77], px[i:i + 77]) for i in range(0, n, 77)]
    np.testing.assert_allclose(np.concatenate([p.fair_value for p in parts]), batch.fair_value, rtol=1e-14)
    np.testing.assert_array_equal(np.concatenate([p.signal for p in parts]), batch.signal)
    one = EtfFairValueStream(shares, 3.0, 2.0, 0.001)
    fv = [one.update(float(a), int(b), float(c))[0] for a, b, c in zip(t, ins, px)]
    np.testing.assert_allclose(fv, batch.fair_value, rtol=1e-12, equal_nan=True)
    direct = []
    latest = np.full(k + 1, np.nan)
    for i, p in zip(ins, px):
        latest[i] = p
        direct.append((latest[1:] @ shares + 3.0) / 2.0)
    np.testing.assert_allclose(batch.fair_value, direct, rtol=1e-12, equal_nan=True)


def test_bad_input() -> None:
    with pytest.raises(AnalyticsInputError, match="instrument"):
        etf_fair_value([1], [3], [10.0], [1.0, 1.0])
    with pytest.raises(AnalyticsInputError, match="> 0"):
        etf_fair_value([1], [1], [0.0], [1.0])
    with pytest.raises(AnalyticsInputError, match="not sorted"):
        etf_fair_value([2, 1], [1, 0], [1.0, 1.0], [1.0])
    with pytest.raises(AnalyticsInputError, match="divisor"):
        etf_fair_value([1], [1], [1.0], [1.0], divisor=0.0)
    st = EtfFairValueStream([1.0])
    st.update(5.0, 1, 1.0)
    with pytest.raises(AnalyticsInputError, match="before"):
        st.update(4.0, 0, 1.0)
