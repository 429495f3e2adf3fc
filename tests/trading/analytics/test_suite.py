"""The whole set: batch analyze_day == StreamingAnalytics on the LOBSTER samples and on simulated
data with unknown trade signs (classified by Lee-Ready), at several micro-batch sizes; bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest

from trading.analytics.bars import as_events
from trading.analytics.errors import AnalyticsInputError
from trading.analytics.events import MarketEvents
from trading.analytics.suite import StreamingAnalytics, SuiteConfig, analyze_day, default_bucket_volume


def _stream(ev: MarketEvents, cfg: SuiteConfig, chunk: int) -> tuple[dict[str, float], list[dict[str, object]]]:
    s = StreamingAnalytics(cfg)
    alerts = []
    for i in range(0, len(ev), chunk):
        alerts += s.update(ev.select(slice(i, i + chunk)))
    alerts += s.finish()
    return s.values(), alerts


def _same(a: dict[str, float], b: dict[str, float]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert (math.isnan(a[k]) and math.isnan(b[k])) or math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=1e-12), (k, a[k], b[k])


def _simulated(seed: int, n: int) -> MarketEvents:
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.exponential(0.3, n))
    mid = 100 + np.cumsum(rng.integers(-1, 2, n)) * 0.01
    is_tr = rng.random(n) < 0.3
    side = rng.choice([-1, 1], n)
    price = np.where(is_tr, mid + 0.005 * side, np.nan)
    return as_events(t, mid - 0.005, rng.integers(1, 9, n) * 100.0, mid + 0.005, rng.integers(1, 9, n) * 100.0,
                     price, np.where(is_tr, 100.0, 0.0), np.zeros(n, dtype=np.int64))


@pytest.mark.parametrize("chunk", [4096, 999])
def test_batch_equals_streaming_on_lobster(goog: MarketEvents, chunk: int) -> None:
    cfg = SuiteConfig(bucket_volume=default_bucket_volume(goog), vpin_window=10, vpin_min_history=10)
    day = analyze_day(goog, cfg)
    values, alerts = _stream(goog, cfg, chunk)
    _same(day.summary, values)
    key = lambda a: (float(a["time"]), str(a["alert"]))  # noqa: E731
    assert sorted(map(key, alerts)) == sorted(map(key, day.alerts))
    assert {a["alert"] for a in day.alerts} >= {"regime_change"}
    assert day.summary["trades"] == goog.is_trade.sum() and day.summary["classified_trades"] == 0
    assert day.summary["effective_spread_bps"] > 0 and day.summary["kyle_lambda"] > 0


def test_batch_equals_streaming_on_lobster_aapl(aapl: MarketEvents) -> None:
    cfg = SuiteConfig(bucket_volume=default_bucket_volume(aapl, 20), bar_seconds=1.0, warmup_bars=10,
                      vpin_window=5, vpin_min_history=5)
    _same(analyze_day(aapl, cfg).summary, _stream(aapl, cfg, 100)[0])


@pytest.mark.parametrize("chunk", [1, 250, 100000])
def test_batch_equals_streaming_with_classification(chunk: int) -> None:
    ev = _simulated(1, 6000 if chunk > 1 else 2500)
    cfg = SuiteConfig(bucket_volume=default_bucket_volume(ev), bar_seconds=5.0, warmup_bars=20,
                      vpin_window=10, vpin_min_history=10)
    day = analyze_day(ev, cfg)
    _same(day.summary, _stream(ev, cfg, chunk)[0])
    assert day.summary["classified_trades"] == ev.is_trade.sum()


def test_bad_input() -> None:
    with pytest.raises(AnalyticsInputError, match="bucket_volume"):
        SuiteConfig(bucket_volume=0.0)
    ev = _simulated(2, 100)
    with pytest.raises(AnalyticsInputError, match="no traded volume"):
        default_bucket_volume(ev.select(~ev.is_trade))
    cfg = SuiteConfig(bucket_volume=100.0)
    with pytest.raises(AnalyticsInputError, match="empty"):
        analyze_day(ev.select(slice(0, 0)), cfg)
    with pytest.raises(AnalyticsInputError, match="not sorted"):
        analyze_day(ev.select(np.arange(100)[::-1]), cfg)
    s = StreamingAnalytics(cfg)
    s.update(ev.select(slice(50, 100)))
    with pytest.raises(AnalyticsInputError, match="before the previous"):
        s.update(ev.select(slice(0, 50)))
