"""The market maker's P&L decomposition (trading/marketmaking/pnl.py) recomputed from scratch.

The replay's own fills (the runtime's, from the engine's trade events) and the mids the maker was
shown (its market touch, ex its own quotes, at every book callback, where both sides exist and do
not cross) are recorded in callback order; then, for each passive fill i (side s, qty n, price p,
time t in ns), in exact fractions of a currency unit and by a direct search of the recorded mids:

    spread capture      s n (m(t) - p)          m(t): the last mid shown before the fill
    adverse selection   s n (m(t + h) - m(t))   m(t + h): the last mid shown at a time <= t + h
                                                (the final mid when none came after t + h)
    inventory           s n (m_T - m(t + h))    m_T: the last mid shown
    fees and rebates    the runtime fills' own fee column, negated

Each part must equal the report's, and their sum the report's total, the runtime ledger's total
and cash + position x m_T - fees, all exactly (to the report's float rounding of exact values).
Skips without ../shared/data.
"""
from __future__ import annotations

from bisect import bisect_right
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
AAPL = DATA / "AAPL_2012-06-21_34200000_57600000_message_10_first999.csv"
PARAMS = {"model": "as", "gamma": "0.05", "A": "2.0", "k": "60.0", "max_inventory": "500",
          "quote_size": "100", "tau_s": "30"}


def _recorded_run() -> tuple[Any, Any, list[tuple[int, Fraction]], list[tuple[int, int]]]:
    """One replay; returns (strategy, result, mids [(t_ns, mid)], fill positions [(index into
    mids seen before the fill, t_ns)])."""
    from trading.marketmaking.strategy import MarketMakingStrategy
    from trading.replay.history import build_history
    from trading.replay.lobster import load_lobster
    from trading.replay.runtime import ReplayConfig, run_replay
    from trading.strategy.api import Fill
    from trading.strategy.context import Context

    mids: list[tuple[int, Fraction]] = []
    fills_at: list[tuple[int, int]] = []

    class Recorded(MarketMakingStrategy):
        def on_start(self, ctx: Context) -> None:
            super().on_start(ctx)
            maker = self._maker()
            book = maker.on_book

            def on_book(t: float, bid: int | None, ask: int | None, **kw: Any) -> Any:
                if bid is not None and ask is not None and bid < ask:
                    mids.append((ctx.now, Fraction(bid + ask, 2)))
                return book(t, bid, ask, **kw)
            maker.on_book = on_book  # type: ignore[method-assign]

        def on_fill(self, ctx: Context, fill: Fill) -> None:
            fills_at.append((len(mids), fill.ts_ns))
            super().on_fill(ctx, fill)

        def on_stop(self, ctx: Context) -> None:
            mids.append((ctx.now, mids[-1][1]))      # the end of the data: the last mid still stands
            super().on_stop(ctx)

    strategy = Recorded(**PARAMS)
    result = run_replay(build_history(load_lobster(AAPL)), strategy, ReplayConfig(seed=0, compute="none"))
    assert result.error is None, result.error
    return strategy, result, mids, fills_at


def test_every_part_of_the_decomposition_recomputed_directly() -> None:
    if not AAPL.exists():
        pytest.skip(f"LOBSTER sample data not found at {DATA}")
    strategy, result, mids, fills_at = _recorded_run()
    rep = strategy.report(result.ctx)
    scale = result.ctx.price_scale
    horizon_ns = round(strategy._maker().ledger.horizon_s * 1e9)
    fills = result.fills
    assert len(fills) == len(fills_at) and len(fills) >= 5, "the sample should trade"
    assert all(f.maker for f in fills), "the maker posts only (post-only quotes)"
    times = [t for t, _ in mids]
    m_final = mids[-1][1]
    spread = adverse = inventory = fees = cash = Fraction(0)
    position = 0
    for fill, (seen, t) in zip(fills, fills_at):
        assert fill.ts_ns == t
        s = 1 if fill.side == 1 else -1
        m_t = mids[seen - 1][1]
        later = bisect_right(times, t + horizon_ns) - 1
        m_h = mids[later][1] if later >= seen else m_t
        spread += s * fill.qty * (m_t - fill.price)
        adverse += s * fill.qty * (m_h - m_t)
        inventory += s * fill.qty * (m_final - m_h)
        fees -= Fraction(fill.fee).limit_denominator(10**9)
        cash -= s * fill.qty * fill.price
        position += s * fill.qty
    to_currency = Fraction(1, scale)
    parts = {"spread_capture": spread * to_currency, "adverse_selection": adverse * to_currency,
             "inventory": inventory * to_currency, "fees": fees, "hedging": Fraction(0)}
    total = sum(parts.values(), Fraction(0))
    by_cash = (cash + position * m_final) * to_currency + fees
    assert total == by_cash
    for name, value in parts.items():
        assert rep["pnl"][name] == pytest.approx(float(value), abs=1e-9), name
    assert rep["pnl"]["total"] == pytest.approx(float(total), abs=1e-9)
    assert rep["runtime_pnl"] == pytest.approx(float(total), abs=1e-9)
    assert rep["position"] == position and rep["volume"] == sum(f.qty for f in fills)
    # the mark the summary names for the open position is m_T, the last mid shown
    assert rep["mark"] == pytest.approx(float(m_final * to_currency), abs=1e-12)
    from trading.marketmaking.report import summary
    assert f"both mark the open position at the last mid the maker saw, {float(m_final * to_currency):.4f}" \
        in summary(rep)

    # markouts per share at each of the guard's horizons, over the fills the data outlived by h
    end = times[-1]
    for h_s, printed in rep["markouts"].items():
        h = round(h_s * 1e9)
        num, den = Fraction(0), 0
        for fill, (seen, t) in zip(fills, fills_at):
            if t + h > end:
                continue
            s = 1 if fill.side == 1 else -1
            num += s * fill.qty * (mids[bisect_right(times, t + h) - 1][1] - fill.price)
            den += fill.qty
        if den == 0:
            assert printed is None, h_s
        else:
            assert printed == pytest.approx(float(num / den / scale), abs=1e-9), h_s
