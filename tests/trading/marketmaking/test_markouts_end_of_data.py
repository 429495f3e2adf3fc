"""At the end of the data the maker's markouts are completed only at the horizons the data
reached: a fill 0.5 s before the end has a 0.1 s markout but none at 1 s or 10 s. Before, flush
completed every horizon with the last mid, so `mm replay` printed a 10 s markout of a sample that
ended seconds after its fills: the last mid under another name."""
from __future__ import annotations

import re

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


def test_with_a_hedge_leg_the_first_line_s_parts_add_up_to_its_total() -> None:
    """Before, the first line listed only the quoted instrument's parts under the two-instrument
    total (a GOOG maker hedging in AAPL printed P&L -9900.24 beside parts summing to -3044.15); the
    hedge leg's spread and carry were on the last line only."""
    pnl = {"total": -10.0, "spread_capture": 5.0, "adverse_selection": -2.0, "inventory": -1.0, "hedging": 0.0,
           "fees": 0.5, "hedge_leg_spread": -13.0, "hedge_leg_carry": 0.5}
    rep = {"pnl": pnl, "pnl_parts_add_up": True, "runtime_pnl": -10.0, "pnl_matches_runtime": True,
           "passive_fills": 1, "hedge_fills": 1, "volume": 10, "position": 10, "max_abs_inventory": 10,
           "max_inventory": 100, "markouts": {1.0: 0.1}, "sigma": 1, "A": 1, "k": 1, "fit": None, "regime": None,
           "toxicity": 0.0, "quote_updates": 1, "reason_at_end": "quoting", "runtime_pnl_by_instrument": {},
           "hedge": {"instrument": 2, "position": -10, "ratio": 1.0, "correlation": 0.5}}
    first = report.summary(rep).splitlines()[0]
    assert first.endswith("fees and rebates +0.50, hedge leg -12.50 (spread and carry, below)"), first
    parts = [float(v) for v in re.findall(r"[+-]\d+\.\d\d", first)]
    assert parts[0] == pytest.approx(sum(parts[1:]))


def test_the_model_inputs_carry_their_units() -> None:
    """sigma per sqrt(second), A per second, k per price unit: before, all three were labelled
    'price units' (A is a rate and k an inverse price)."""
    rep = {"pnl": {k: 0.0 for k in ("total", "spread_capture", "adverse_selection", "inventory", "hedging", "fees")},
           "pnl_parts_add_up": True, "runtime_pnl": 0.0, "pnl_matches_runtime": True, "passive_fills": 1,
           "hedge_fills": 0, "volume": 10, "position": 10, "max_abs_inventory": 10, "max_inventory": 100,
           "markouts": {}, "sigma": 463.6, "A": 0.5, "k": 0.0015, "fit": None, "regime": None,
           "toxicity": 0.0, "quote_updates": 1, "reason_at_end": "quoting", "hedge": None}
    assert ("sigma 463.6 (price units per sqrt(s)), A 0.5 (fills per s at the mid), k 0.0015 (per price unit)"
            in report.summary(rep))
