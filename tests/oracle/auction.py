"""The PRE_OPEN -> CONTINUOUS uncross (ENGINE.md, SET_PHASE).

Price choice: over every resting price p, maximise V = min(B(p), S(p)), then minimise |B - S|,
then |p - reference|, then take the lower price. Fills pair the best eligible buy with the best
eligible sell (book order) at p until one side has no eligible quantity left.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .instrument import Instrument
from .layout import ENG

if TYPE_CHECKING:
    from .engine import OracleEngine


def _choose_price(ins: Instrument) -> tuple[int, int, int] | None:
    """(price, buy quantity B at it, sell quantity S at it), or None if nothing can match."""
    buys = ins.bids.orders_in_book_order()
    sells = ins.asks.orders_in_book_order()
    candidates = sorted({o.price for o in buys} | {o.price for o in sells})
    best: tuple[tuple[int, int, int, int], int, int, int] | None = None
    for price in candidates:
        buy_qty = sum(o.leaves_qty for o in buys if o.price >= price)
        sell_qty = sum(o.leaves_qty for o in sells if o.price <= price)
        volume = min(buy_qty, sell_qty)
        key = (-volume, abs(buy_qty - sell_qty), abs(price - ins.reference_price), price)
        if best is None or key < best[0]:
            best = (key, price, buy_qty, sell_qty)
    if best is None or best[0][0] == 0:
        return None
    return best[1], best[2], best[3]


def uncross(eng: OracleEngine, ins: Instrument) -> None:
    chosen = _choose_price(ins)
    if chosen is None:
        eng.emit("AUCTION", ins.instrument_id, price=0, matched_qty=0, imbalance_qty=0,
                 imbalance_side=ENG.SIDE_NONE, crossed=0)
        return
    price, buy_qty, sell_qty = chosen
    while True:
        bid_level, ask_level = ins.bids.best_level(), ins.asks.best_level()
        if bid_level is None or ask_level is None:
            break
        if bid_level.price < price or ask_level.price > price:
            break
        buy, sell = bid_level.front(), ask_level.front()
        qty = min(buy.leaves_qty, sell.leaves_qty)
        for order in (buy, sell):
            order.consume_shown_first(qty)
            eng.open_changed(order, -qty)
        eng.emit_trade(ins, buy, sell, price, qty, ENG.SIDE_NONE)
        eng.after_passive_fill(ins, buy)
        eng.after_passive_fill(ins, sell)
        eng.emit_level(ins, ENG.SIDE_BUY, buy.price)
        eng.emit_level(ins, ENG.SIDE_SELL, sell.price)
    if buy_qty > sell_qty:
        imbalance_side = ENG.SIDE_BUY
    elif sell_qty > buy_qty:
        imbalance_side = ENG.SIDE_SELL
    else:
        imbalance_side = ENG.SIDE_NONE
    eng.emit("AUCTION", ins.instrument_id, price=price, matched_qty=min(buy_qty, sell_qty),
             imbalance_qty=abs(buy_qty - sell_qty), imbalance_side=imbalance_side, crossed=1)
