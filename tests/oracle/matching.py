"""Continuous matching of one aggressor against the opposite side, with self-trade prevention,
and the FOK fill check (ENGINE.md, "Matching (continuous)").

The aggressor is a live order that is not in the book (shown_qty 0, all of its leaves "open").
It walks the opposite side best level first, each level front to back, while the level price is
within `bound`. Every fill, cancel and refill goes through the engine so that events, positions and
open quantities stay in one place.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .book import Order
from .instrument import Instrument
from .layout import ENG

if TYPE_CHECKING:
    from .engine import OracleEngine


def price_acceptable(aggressor_side: int, level_price: int, bound: int) -> bool:
    return level_price <= bound if aggressor_side == ENG.SIDE_BUY else level_price >= bound


def stp_applies(aggressor: Order, passive: Order) -> bool:
    return (aggressor.stp_group != 0 and aggressor.stp_group == passive.stp_group
            and aggressor.stp_mode != ENG.STP_NONE)


def fok_fillable(ins: Instrument, aggressor: Order, bound: int) -> bool:
    """Whether the opposite side can fill all of the aggressor's leaves within bound."""
    available = 0
    for level in ins.opposite(aggressor.side).levels_best_first():
        if not price_acceptable(aggressor.side, level.price, bound):
            break
        for passive in level.orders.values():
            if stp_applies(aggressor, passive):
                if aggressor.stp_mode == ENG.STP_CANCEL_RESTING:
                    continue
                return available >= aggressor.leaves_qty
            available += passive.leaves_qty
            if available >= aggressor.leaves_qty:
                return True
    return available >= aggressor.leaves_qty


def match(eng: OracleEngine, ins: Instrument, aggressor: Order, bound: int) -> None:
    """Trades the aggressor against the opposite side until it is done, stopped or out of price.

    On return the aggressor is either retired (filled or STP-cancelled: leaves_qty 0) or still
    live with leaves_qty > 0 for the caller to rest or cancel.
    """
    opposite = ins.opposite(aggressor.side)
    while aggressor.leaves_qty > 0:
        level = opposite.best_level()
        if level is None or not price_acceptable(aggressor.side, level.price, bound):
            return
        passive = level.front()
        if stp_applies(aggressor, passive):
            if not _prevent_self_trade(eng, ins, aggressor, passive):
                return
            continue
        _trade(eng, ins, aggressor, passive)
    eng.retire(aggressor)


def _trade(eng: OracleEngine, ins: Instrument, aggressor: Order, passive: Order) -> None:
    qty = min(aggressor.leaves_qty, passive.shown_qty)
    passive.shown_qty -= qty
    passive.leaves_qty -= qty
    aggressor.leaves_qty -= qty
    eng.open_changed(passive, -qty)
    eng.open_changed(aggressor, -qty)
    buy, sell = (aggressor, passive) if aggressor.side == ENG.SIDE_BUY else (passive, aggressor)
    eng.emit_trade(ins, buy, sell, passive.price, qty, aggressor.side)
    eng.after_passive_fill(ins, passive)
    eng.emit_level(ins, passive.side, passive.price)


def _prevent_self_trade(eng: OracleEngine, ins: Instrument, aggressor: Order, passive: Order) -> bool:
    """Applies the aggressor's STP mode to one passive order; False when matching must stop."""
    mode = aggressor.stp_mode
    if mode == ENG.STP_CANCEL_RESTING:
        eng.cancel_live(passive, ENG.CXL_STP)
        return True
    if mode == ENG.STP_CANCEL_AGGRESSING:
        eng.cancel_aggressor(aggressor, ENG.CXL_STP)
        return False
    if mode == ENG.STP_CANCEL_BOTH:
        eng.cancel_live(passive, ENG.CXL_STP)
        eng.cancel_aggressor(aggressor, ENG.CXL_STP)
        return False
    # DECREMENT: both lose the smaller quantity; no trade is printed.
    qty = min(aggressor.leaves_qty, passive.leaves_qty)
    eng.decrement_resting(passive, qty)
    aggressor.leaves_qty -= qty
    eng.open_changed(aggressor, -qty)
    eng.emit("CANCELLED", ins.instrument_id, ENG.CXL_STP, order_id=aggressor.order_id,
             cancelled_qty=qty, leaves_qty=aggressor.leaves_qty, account_id=aggressor.account_id)
    if aggressor.leaves_qty == 0:
        eng.retire(aggressor)
        return False
    return True
