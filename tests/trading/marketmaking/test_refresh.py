"""Refresh rules: replace keeping priority when only the size shrinks, no flicker inside the
threshold, cancel and new at the edges."""
from __future__ import annotations

from trading.marketmaking.params import RefreshParams
from trading.marketmaking.quoting import Side
from trading.marketmaking.refresh import Action, decide

R1 = RefreshParams(price_threshold_ticks=1, size_threshold_lots=1)
R3 = RefreshParams(price_threshold_ticks=3, size_threshold_lots=2)


def test_new_and_cancel() -> None:
    assert decide(None, Side(100, 200), R1, 100).action is Action.NEW
    assert decide(Side(100, 200), None, R1, 100).action is Action.CANCEL
    assert decide(None, None, R1, 100).action is Action.KEEP


def test_shrink_keeps_priority() -> None:
    d = decide(Side(100, 300), Side(100, 100), R1, 100)
    assert d.action is Action.REPLACE and d.keeps_priority and d.size == 100 and d.price_ticks == 100


def test_grow_costs_priority() -> None:
    d = decide(Side(100, 100), Side(100, 300), R1, 100)
    assert d.action is Action.REPLACE and not d.keeps_priority


def test_price_move_is_a_replace() -> None:
    d = decide(Side(100, 100), Side(101, 100), R1, 100)
    assert d.action is Action.REPLACE and d.price_ticks == 101 and not d.keeps_priority


def test_no_flicker_inside_threshold() -> None:
    live = Side(100, 400)
    for target in (Side(101, 400), Side(98, 400), Side(102, 300), Side(100, 500)):
        assert decide(live, target, R3, 100).action is Action.KEEP
    assert decide(live, Side(103, 400), R3, 100).action is Action.REPLACE
    # a shrink past the size threshold inside the price threshold keeps the live price and priority
    d = decide(live, Side(101, 200), R3, 100)
    assert d.action is Action.REPLACE and d.price_ticks == 100 and d.keeps_priority
