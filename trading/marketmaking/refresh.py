"""Quote refresh rules: what to send to move a live quote to its new target.

One decision per side, from the live order (price, open size) and the target (or None):

- no target and a live order: CANCEL; a target and no live order: NEW;
- a target price at least ``price_threshold_ticks`` (>= 1) ticks from the live price: REPLACE at the
  new price and size;
- otherwise the live price stays (a mid that jitters inside the threshold makes no quote flicker):
  a size smaller by at least the size threshold is a REPLACE at the live price with the smaller
  size, which keeps time priority (ENGINE.md, REPLACE: P' == P and L' <= L is reduced in place,
  REPLACED(priority_kept=1)); a size larger by at least the threshold is a REPLACE that costs
  priority (the engine moves the order to the back of its level); anything smaller: KEEP.
"""
from __future__ import annotations

from enum import Enum
from typing import NamedTuple

from trading.marketmaking.params import RefreshParams
from trading.marketmaking.quoting import Side


class Action(Enum):
    KEEP = "keep"
    NEW = "new"
    CANCEL = "cancel"
    REPLACE = "replace"


class Decision(NamedTuple):
    action: Action
    price_ticks: int = 0
    size: int = 0
    keeps_priority: bool = False


def decide(live: Side | None, target: Side | None, rules: RefreshParams, lot: int) -> Decision:
    """The one action that moves ``live`` to ``target`` under the refresh rules."""
    if target is None:
        return Decision(Action.CANCEL) if live is not None else Decision(Action.KEEP)
    if live is None:
        return Decision(Action.NEW, target.price_ticks, target.size)
    size_step = rules.size_threshold_lots * lot
    if abs(target.price_ticks - live.price_ticks) >= rules.price_threshold_ticks:
        return Decision(Action.REPLACE, target.price_ticks, target.size)
    # the price stays (moved by less than the threshold): only a size change can be worth sending
    if target.size <= live.size - size_step:
        return Decision(Action.REPLACE, live.price_ticks, target.size, keeps_priority=True)
    if target.size >= live.size + size_step:
        return Decision(Action.REPLACE, live.price_ticks, target.size)
    return Decision(Action.KEEP)
