"""`python -m trading backtest --strategy quote` on the GOOG day: every figure of its summary
recomputed from the run's own files (fills.csv and result.json's fills and samples) by a slow
direct loop in exact fractions, independent of trading/strategy/ledger.py:

- volume, maker / taker volume, position: sums over the fills;
- realised P&L by the average-cost method the ledger documents: the position's cost basis is
  kept as an exact fraction; a fill that reduces the position realises (price - average entry) x
  closed quantity, one that crosses zero opens the rest at its price;
- fees from the fee schedule given on the command line (not the fills' fee column), per share;
- unrealised at the final mid (the last sample's, the engine's touch at the end);
- total = realised + unrealised - fees, and = cash + position x mark - fees (a second identity);
- order-to-trade = (orders + cancels + mass cancels + replaces) / fills; fill ratio (orders) = orders with a
  fill / orders placed; fill ratio (qty) = filled quantity / placed quantity (no replaces here);
- the terminal summary prints the same numbers (2 decimals, currency units).
Skips without ../shared/data.
"""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
GOOG = REPO.parent / "shared" / "data" / "GOOG_2012-06-21_34200000_57600000_message_1.csv"
MAKER, TAKER = Fraction("-0.0021"), Fraction("0.0033")


def _average_cost(fills: list[tuple[int, int, int, bool]], scale: int) -> tuple[int, Fraction, Fraction]:
    """(position, realised, average entry in price units) after fills (side, price, qty, maker)."""
    position, basis, realised = 0, Fraction(0), Fraction(0)      # basis: |position| x average entry
    for side, price, qty, _ in fills:
        for _ in range(qty):                 # share by share: the slow, obviously right way
            signed = 1 if side == 1 else -1
            if position == 0 or (position > 0) == (signed > 0):
                basis += price
            else:
                entry = basis / abs(position)
                realised += (price - entry) * (1 if position > 0 else -1) / scale
                basis -= entry
            position += signed
    return position, realised, (basis / abs(position) if position else Fraction(0))


def test_the_summary_figures_recomputed_from_the_fills(tmp_path: Path) -> None:
    if not GOOG.exists():
        pytest.skip(f"LOBSTER sample data not found at {GOOG.parent}")
    run = subprocess.run([sys.executable, "-m", "trading", "backtest", "--data", str(GOOG), "--strategy", "quote",
                          "--out", str(tmp_path), "--no-plots", "--quiet", "--compute", "none",
                          "--fees", "maker=-0.0021,taker=0.0033"],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    result = json.loads((tmp_path / "result.json").read_text())
    s = result["summary"]
    assert result["fill_columns"] == ["ts_ns", "order_id", "side", "price", "qty", "maker", "fee"]
    with open(tmp_path / "fills.csv") as f:
        rows = list(csv.DictReader(f))
    fills = [(1 if r["side"] == "BUY" else 2, int(r["price"]), int(r["qty"]), r["maker"] == "1") for r in rows]
    assert fills == [(side, price, qty, bool(maker)) for _, _, side, price, qty, maker, _ in result["fills"]]
    assert len(fills) > 1000
    scale = 10_000                                             # LOBSTER: price units per dollar

    position, realised, entry = _average_cost(fills, scale)
    assert any(p < 0 for p in _positions(fills)) and any(p > 0 for p in _positions(fills))   # both ways
    fees = sum((qty * (MAKER if maker else TAKER) for _, _, qty, maker in fills), Fraction(0))
    mark = Fraction(result["samples"][-1][6])                   # price units, a half-tick at most
    unrealised = (mark - entry) * position / scale
    total = realised + unrealised - fees
    cash = sum((Fraction(price * qty * (-1 if side == 1 else 1), scale) for side, price, qty, _ in fills),
               Fraction(0))
    assert total == cash + position * mark / scale - fees

    assert s["fills"] == len(fills) and s["volume"] == sum(q for _, _, q, _ in fills)
    assert s["maker_volume"] == sum(q for _, _, q, m in fills if m)
    assert s["taker_volume"] == sum(q for _, _, q, m in fills if not m)
    assert s["position"] == position and s["mark"] == float(mark / scale)
    for name, exact in (("realized", realised), ("unrealized", unrealised), ("fees", fees), ("total_pnl", total)):
        assert s[name] == pytest.approx(float(exact), abs=2e-6), name
    messages = s["orders_placed"] + s["cancels_sent"] + s["mass_cancels_sent"] + s["replaces_sent"]
    assert s["order_to_trade"] == round(messages / len(fills), 6)
    assert s["replaces_sent"] == 0
    filled_orders = len({row["order_id"] for row in rows})
    assert s["fill_ratio_orders"] == round(filled_orders / s["orders_placed"], 6)
    assert s["fill_ratio_qty"] == round(s["volume"] / (100 * s["orders_placed"]), 6)   # size=100 each
    assert (f"P&L total {float(total):.2f} = realised {float(realised):.2f} + unrealised {float(unrealised):.2f}"
            f" - fees {float(fees):.2f}") in run.stdout


def _positions(fills: list[tuple[int, int, int, bool]]) -> list[int]:
    out, position = [], 0
    for side, _, qty, _ in fills:
        position += qty if side == 1 else -qty
        out.append(position)
    return out
