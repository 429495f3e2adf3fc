"""backtest's fill ratio (qty) counts each order at the most shares it asked for: a replace that
raises an order's size (its new leaves plus what it had filled) raises the denominator. Before,
only the quantities of NEW orders counted: an order placed for 100, replaced up to 300 and filled
300 gave a fill ratio of 1.5 (more shares filled than ever asked for)."""
from __future__ import annotations

from typing import Any

from tests.trading.replay.scenario import ADD, BUY, MS, SELL, T0, Scripted, day, replay
from trading.replay.results import summarize
from trading.strategy.api import OwnOrder
from trading.strategy.context import Context


class UpsizeOnAccept(Scripted):
    """Each order, once accepted, is replaced to `sizes[its index]` shares at the same price."""

    def __init__(self, plan: dict[int, list[tuple[int, int, int]]], sizes: list[int]) -> None:
        super().__init__(plan)
        self.sizes = sizes

    def on_accepted(self, ctx: Context, order: OwnOrder) -> None:
        super().on_accepted(ctx, order)
        ctx.replace(order.order_id, qty=self.sizes[self.placed.index(order.order_id)])


def _run(sizes: list[int], sell_qty: int) -> dict[str, Any]:
    d = day([(T0, ADD, 1, 500, 10_000, BUY), (T0, ADD, 2, 500, 10_400, SELL),
             (T0 + 10 * MS, ADD, 3, sell_qty, 10_200, SELL)])
    strategy = UpsizeOnAccept({T0 + MS: [(BUY, 10_200, 100), (BUY, 10_100, 100)]}, sizes)
    result = replay(d, strategy)
    assert result.error is None, result.error
    return summarize(result)


def test_an_upsized_order_counts_at_its_new_size() -> None:
    s = _run([300, 400], 300)          # the first buy fills 300, the second rests unfilled
    assert (s["volume"], s["orders_placed"], s["replaces_sent"]) == (300, 2, 2)
    assert s["fill_ratio_qty"] == round(300 / 700, 6)


def test_a_downsized_order_counts_at_its_first_size() -> None:
    s = _run([50, 100], 50)            # asked for 100, replaced to 50 before any fill, filled 50
    assert (s["volume"], s["orders_placed"]) == (50, 2)
    assert s["fill_ratio_qty"] == round(50 / 200, 6)
