"""Time bars: against a per-bar loop, batch == streaming micro-batches (also on LOBSTER)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from trading.analytics.bars import BarBuilder, Bars, as_events, time_bars
from trading.analytics.errors import AnalyticsInputError
from trading.analytics.events import MarketEvents


def _events(seed: int, n: int) -> MarketEvents:
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.exponential(0.7, n))
    mid = 100 + np.cumsum(rng.integers(-1, 2, n)) * 0.01
    is_tr = rng.random(n) < 0.3
    price = np.where(is_tr, mid + rng.choice([-0.005, 0.005], n), np.nan)
    return as_events(t, mid - 0.005, rng.integers(1, 9, n) * 100, mid + 0.005, rng.integers(1, 9, n) * 100,
                     price, np.where(is_tr, rng.integers(1, 5, n) * 100, 0), np.where(is_tr, rng.choice([-1, 1], n), 0))


def _same(a: Bars, b: Bars) -> None:
    for f in Bars.__dataclass_fields__:
        np.testing.assert_allclose(getattr(a, f), getattr(b, f), rtol=1e-12, equal_nan=True, err_msg=f)


def test_bars_against_loop() -> None:
    ev = _events(1, 3000)
    bars = time_bars(ev, 10.0)
    t0 = ev.time[0]
    prev_mid = (ev.bid[0] + ev.ask[0]) / 2
    for k in range(len(bars)):
        inbar = (ev.time >= t0 + 10 * k) & (ev.time < t0 + 10 * (k + 1))
        upto = np.flatnonzero(ev.time < t0 + 10 * (k + 1))[-1]
        mid = (ev.bid[upto] + ev.ask[upto]) / 2
        assert bars.mid[k] == mid
        assert bars.mid_change[k] == mid - prev_mid
        assert math.isclose(bars.log_return[k], math.log(mid / prev_mid), rel_tol=1e-12, abs_tol=1e-15)
        trade = inbar & ev.is_trade
        assert bars.volume[k] == ev.trade_size[trade].sum()
        assert bars.signed_volume[k] == (ev.trade_sign * ev.trade_size)[trade].sum()
        assert bars.trades[k] == trade.sum()
        prev_mid = mid


@pytest.mark.parametrize("chunk", [1, 17, 1000])
def test_batch_equals_streaming(chunk: int) -> None:
    ev = _events(2, 2500)
    b = BarBuilder(5.0)
    parts = [b.update_many(ev.select(slice(i, i + chunk))) for i in range(0, len(ev), chunk)]
    parts.append(b.flush())
    _same(Bars.concat(parts), time_bars(ev, 5.0))


def test_batch_equals_streaming_on_lobster(goog: MarketEvents) -> None:
    b = BarBuilder(1.0)
    parts = [b.update_many(goog.select(slice(i, i + 4096))) for i in range(0, len(goog), 4096)]
    parts.append(b.flush())
    batch = time_bars(goog, 1.0)
    _same(Bars.concat(parts), batch)
    assert len(batch) == math.floor(goog.time[-1] - goog.time[0]) + 1
    assert batch.volume.sum() == goog.trade_size.sum()


def test_bad_input() -> None:
    ev = _events(3, 10)
    with pytest.raises(AnalyticsInputError, match="not sorted"):
        time_bars(ev.select(np.arange(10)[::-1]), 1.0)
    with pytest.raises(AnalyticsInputError, match="empty"):
        time_bars(ev.select(slice(0, 0)), 1.0)
    with pytest.raises(AnalyticsInputError, match="bar_seconds"):
        time_bars(ev, -1.0)
    b = BarBuilder(1.0)
    b.update_many(ev.select(slice(5, 10)))
    with pytest.raises(AnalyticsInputError, match="before the previous"):
        b.update_many(ev.select(slice(0, 5)))
