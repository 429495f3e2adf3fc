"""VPIN: against a slow trade-by-trade bucket construction, batch == streaming (also on LOBSTER),
toxicity rises with informed flow, bad input refused."""
from __future__ import annotations

import math

import numpy as np
import pytest

from trading.analytics.errors import AnalyticsInputError
from trading.analytics.vpin import VpinStream, vpin


def slow_vpin(prices: list[float], volumes: list[float], V: float, n: int) -> tuple[list[float], list[float]]:
    """Fill buckets share by share (volumes are integers), then apply ELO's formulas directly."""
    closes: list[float] = []
    filled = 0
    for p, v in zip(prices, volumes):
        for _ in range(int(v)):
            filled += 1
            if filled == V:
                closes.append(p)
                filled = 0
    dps, vps = [], []
    prev = prices[0]
    imb = []
    for c in closes:
        dps.append(c - prev)
        prev = c
        mean = sum(dps) / len(dps)
        sd = math.sqrt(max(sum(d * d for d in dps) / len(dps) - mean * mean, 0.0))
        phi = 0.5 * (1 + math.erf(dps[-1] / sd / math.sqrt(2))) if sd > 0 else 0.5 * (1 + np.sign(dps[-1]))
        buy = V * phi
        imb.append(abs((V - buy) - buy))
        vps.append(sum(imb[-n:]) / (n * V) if len(imb) >= n else float("nan"))
    return closes, vps


def _trades(seed: int, n: int = 3000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.exponential(0.5, n))
    p = 50 + np.cumsum(rng.normal(0, 0.02, n))
    v = rng.integers(1, 300, n).astype(float)
    return t, p, v


def test_against_slow_construction() -> None:
    t, p, v = _trades(1)
    res = vpin(t, p, v, bucket_volume=1000.0, window=20)
    closes, vps = slow_vpin(p.tolist(), v.tolist(), 1000, 20)
    np.testing.assert_array_equal(res.close, closes)
    np.testing.assert_allclose(res.vpin, vps, rtol=1e-12, equal_nan=True)
    ok = ~np.isnan(res.vpin)
    for j in np.flatnonzero(ok)[::37]:
        hist = res.vpin[ok & (np.arange(len(ok)) <= j)]
        assert res.cdf[j] == np.mean(hist <= res.vpin[j])


def test_batch_equals_streaming() -> None:
    t, p, v = _trades(2, 5000)
    batch = vpin(t, p, v, 1500.0, window=30, min_history=10)
    one = VpinStream(1500.0, window=30, min_history=10)
    for x in zip(t, p, v):
        one.update(*map(float, x))
    many = VpinStream(1500.0, window=30, min_history=10)
    for i in range(0, len(t), 513):
        many.update_many(t[i:i + 513], p[i:i + 513], v[i:i + 513])
    for s in (one, many):
        assert np.array_equal([b.vpin for b in s.buckets], batch.vpin, equal_nan=True)
        assert np.array_equal([b.cdf for b in s.buckets], batch.cdf, equal_nan=True)
        assert [b.alert for b in s.buckets] == batch.alert.tolist()
        assert [b.time for b in s.buckets] == batch.time.tolist()


def test_batch_equals_streaming_on_lobster(goog) -> None:  # type: ignore[no-untyped-def]
    tr = goog.trades()
    V = float(tr.trade_size.sum()) / 50
    batch = vpin(tr.time, tr.trade_price, tr.trade_size, V, window=10, min_history=5)
    s = VpinStream(V, window=10, min_history=5)
    for i in range(0, len(tr), 1000):
        s.update_many(tr.time[i:i + 1000], tr.trade_price[i:i + 1000], tr.trade_size[i:i + 1000])
    assert len(batch.vpin) == 50 and len(s.buckets) == 50
    assert np.array_equal([b.vpin for b in s.buckets], batch.vpin, equal_nan=True)
    assert np.nanmax(batch.vpin) < 1.0 and np.nanmin(batch.vpin) >= 0.0


def test_informed_flow_raises_vpin_and_alerts() -> None:
    """Uninformed flow, then one-sided informed buying that moves the price: VPIN climbs and alerts."""
    rng = np.random.default_rng(4)
    n = 20000
    drift = np.where(np.arange(n) < 16000, 0.0, 0.02)
    p = 50 + np.cumsum(rng.normal(0, 0.02, n) + drift)
    v = rng.integers(1, 100, n).astype(float)
    res = vpin(np.arange(n, dtype=float), p, v, 2000.0, window=20, min_history=50)
    quiet = np.nanmean(res.vpin[100:700])
    toxic = np.nanmean(res.vpin[-60:])
    assert quiet < 0.7 < 0.9 < toxic      # uninformed: E|2U - 1| = 1/2; one-sided: near 1
    onset = int(np.searchsorted(res.time, 16000))
    assert res.alert[onset:onset + 40].any()           # the informed flow is flagged within 40 buckets
    assert res.alert[100:onset].mean() < 0.03          # uninformed: about 1% of buckets by construction


def test_bad_input() -> None:
    with pytest.raises(AnalyticsInputError, match="volumes: must be > 0"):
        vpin([0, 1], [1.0, 1.0], [10, 0], 5.0)
    with pytest.raises(AnalyticsInputError, match="not sorted"):
        vpin([1, 0], [1.0, 1.0], [10, 10], 5.0)
    with pytest.raises(AnalyticsInputError, match="bucket_volume"):
        vpin([0], [1.0], [1], 0.0)
    with pytest.raises(AnalyticsInputError, match="NaN"):
        vpin([0, 1], [1.0, float("nan")], [1, 1], 1.0)
    empty = vpin([], [], [], 10.0)
    assert len(empty.vpin) == 0
    s = VpinStream(10.0)
    s.update(5.0, 1.0, 1.0)
    with pytest.raises(AnalyticsInputError, match="before the previous"):
        s.update(4.0, 1.0, 1.0)
