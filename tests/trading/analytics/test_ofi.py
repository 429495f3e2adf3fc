"""OFI: against CKS's definition written per event, batch == streaming (also on LOBSTER), the impact
slope recovered on a simulated book, bad input refused."""
from __future__ import annotations

import numpy as np
import pytest

from trading.analytics.errors import AnalyticsInputError
from trading.analytics.ofi import OfiStream, ofi_bars, ofi_events, ofi_price_impact


def slow_e(prev: tuple[float, ...], cur: tuple[float, ...]) -> float:
    pb, pbs, pa, pas = prev
    b, bs, a, az = cur
    e = 0.0
    if b >= pb:
        e += bs
    if b <= pb:
        e -= pbs
    if a <= pa:
        e -= az
    if a >= pa:
        e += pas
    return e


def _book(seed: int, n: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.exponential(0.2, n))
    mid_ticks = 10000 + np.cumsum(rng.integers(-1, 2, n))
    spread = rng.integers(1, 3, n)
    bid = (mid_ticks - spread) / 100.0
    ask = (mid_ticks + spread) / 100.0
    return t, bid, rng.integers(1, 500, n).astype(float), ask, rng.integers(1, 500, n).astype(float)


def test_events_against_definition() -> None:
    t, b, bs, a, az = _book(1, 500)
    e = ofi_events(b, bs, a, az)
    want = [0.0] + [slow_e((b[i - 1], bs[i - 1], a[i - 1], az[i - 1]), (b[i], bs[i], a[i], az[i]))
                    for i in range(1, 500)]
    assert e.tolist() == want


def test_bars_and_batch_equals_streaming() -> None:
    t, b, bs, a, az = _book(2, 4000)
    bars = ofi_bars(t, b, bs, a, az, bar_seconds=5.0)
    e = ofi_events(b, bs, a, az)
    k = np.floor((t - t[0]) / 5.0).astype(int)
    for j in (0, 3, len(bars.ofi) - 1):
        assert bars.ofi[j] == e[k == j].sum()
    one = OfiStream(5.0)
    got = []
    for x in zip(t, b, bs, a, az):
        got += one.update(*map(float, x))
    got += one.flush()
    many = OfiStream(5.0)
    got2 = []
    for i in range(0, 4000, 333):
        got2 += many.update_many(t[i:i + 333], b[i:i + 333], bs[i:i + 333], a[i:i + 333], az[i:i + 333])
    got2 += many.flush()
    for g in (got, got2):
        assert np.array_equal([x[1] for x in g], bars.ofi)
        assert np.array_equal([x[2] for x in g], bars.mid_change)
        assert np.array_equal([x[3] for x in g], bars.events)
        assert np.array_equal([x[0] for x in g], bars.start)
    fit = ofi_price_impact(bars)
    for s in (one, many):
        np.testing.assert_allclose(s.regression.fit().slope, fit.slope, rtol=1e-9)
    slope, intercept = np.polyfit(bars.ofi, bars.mid_change, 1)
    np.testing.assert_allclose([fit.slope, fit.intercept], [slope, intercept], rtol=1e-8, atol=1e-12)


def test_batch_equals_streaming_on_lobster(goog) -> None:  # type: ignore[no-untyped-def]
    ev = goog.two_sided()
    bars = ofi_bars(ev.time, ev.bid, ev.bid_size, ev.ask, ev.ask_size, 10.0)
    s = OfiStream(10.0)
    got = []
    for i in range(0, len(ev), 4096):
        sl = slice(i, i + 4096)
        got += s.update_many(ev.time[sl], ev.bid[sl], ev.bid_size[sl], ev.ask[sl], ev.ask_size[sl])
    got += s.flush()
    assert np.array_equal([x[1] for x in got], bars.ofi)
    assert np.array_equal([x[2] for x in got], bars.mid_change)
    fit = ofi_price_impact(bars)
    assert fit.slope > 0 and fit.r2 > 0.1      # CKS: positive impact, a sizeable R^2


def test_impact_slope_recovered() -> None:
    """Mid moves beta * OFI per bar plus noise: the regression finds beta."""
    rng = np.random.default_rng(7)
    beta = 0.002
    ofi = rng.normal(0, 100, 2000)
    dp = beta * ofi + rng.normal(0, 0.05, 2000)
    from trading.analytics.ols import ols_fit
    fit = ols_fit(ofi, dp)
    assert abs(fit.slope - beta) < 4 * fit.slope_se


def test_bad_input() -> None:
    with pytest.raises(AnalyticsInputError, match="not sorted"):
        ofi_bars([1.0, 0.5], [1, 1], [1, 1], [2, 2], [1, 1], 1.0)
    with pytest.raises(AnalyticsInputError, match="negative"):
        ofi_events([1, 1], [1, -1], [2, 2], [1, 1])
    with pytest.raises(AnalyticsInputError, match="bar_seconds"):
        ofi_bars([0.0], [1], [1], [2], [1], 0.0)
    with pytest.raises(AnalyticsInputError, match="empty"):
        ofi_bars([], [], [], [], [], 1.0)
    s = OfiStream(1.0)
    with pytest.raises(AnalyticsInputError, match="non-finite"):
        s.update(0.0, float("nan"), 1, 2, 1)


def test_stylized_book_impact_is_tick_over_twice_depth() -> None:
    """CKS section 3's stylised book: every price level holds D shares, so D shares of net flow at a
    side move that side's quote one tick and the mid half a tick: beta = tick / (2 D). Each side's
    net flow (limit orders minus cancels and market orders) is a random walk; the quotes follow it
    level by level, and the regression over bars recovers beta."""
    rng = np.random.default_rng(9)
    tick, depth, n = 0.01, 100.0, 40000
    xb = 10_000.0 + np.cumsum(rng.normal(0, 12, n))          # cumulative net bid-side flow
    xa = 10_000.0 + np.cumsum(rng.normal(0, 12, n))          # cumulative net ask-side flow
    bid = tick * np.floor(xb / depth)
    ask = 5.0 - tick * np.floor(xa / depth)                  # far apart: the sides never cross
    bs = xb - depth * np.floor(xb / depth)
    az = xa - depth * np.floor(xa / depth)
    bars = ofi_bars(np.arange(n, dtype=float), bid, bs, ask, az, bar_seconds=50.0)
    fit = ofi_price_impact(bars)
    assert abs(fit.slope / (tick / (2 * depth)) - 1) < 0.1 and fit.r2 > 0.6   # CKS: R^2 65% on average
