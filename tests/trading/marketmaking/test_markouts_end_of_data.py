"""At the end of the data the maker's markouts are completed only at the horizons the data
reached: a fill 0.5 s before the end has a 0.1 s markout but none at 1 s or 10 s. Before, flush
completed every horizon with the last mid, so `mm replay` printed a 10 s markout of a sample that
ended seconds after its fills: the last mid under another name."""
from __future__ import annotations

import pytest

from trading.marketmaking import report
from trading.marketmaking.markouts import MarkoutTracker


def test_flush_completes_only_the_horizons_the_data_reached() -> None:
    tracker = MarkoutTracker((0.1, 1.0, 10.0))
    tracker.on_mid(0.0, 100.0)
    tracker.on_fill(0.5, +1, 99.5, 10)      # bought at 99.5
    tracker.on_mid(0.7, 101.0)              # 0.1 s: the mid at 0.6 s was 100.0
    tracker.on_fill(1.6, -1, 101.5, 30)     # sold at 101.5, 0.4 s before the end
    tracker.on_mid(1.65, 101.2)
    tracker.flush(t_end=2.0)
    # 0.1 s: +0.5 (10 sh) and the sell against 101.2: +0.3 (30 sh); 1 s: the buy only, against
    # the mid at 1.5 s, 101.0
    assert tracker.mean_markout(0.1) == pytest.approx((10 * 0.5 + 30 * 0.3) / 40)
    assert tracker.mean_markout(1.0) == pytest.approx(101.0 - 99.5)
    assert tracker.has_markout(1.0) and not tracker.has_markout(10.0)


def test_the_summary_says_n_a_for_a_horizon_no_fill_reached() -> None:
    rep = {"pnl": {k: 0.0 for k in ("total", "spread_capture", "adverse_selection", "inventory", "hedging", "fees")},
           "pnl_parts_add_up": True, "runtime_pnl": 0.0, "pnl_matches_runtime": True, "passive_fills": 1,
           "hedge_fills": 0, "volume": 10, "position": 10, "max_abs_inventory": 10, "max_inventory": 100,
           "markouts": {0.1: 0.5, 10.0: None}, "sigma": 1, "A": 1, "k": 1, "fit": None, "regime": None,
           "toxicity": 0.0, "quote_updates": 1, "reason_at_end": "quoting", "hedge": None}
    assert "0.1s +0.5000, 10s n/a" in report.summary(rep)
