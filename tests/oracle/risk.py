"""Per-account positions and the pre-trade risk checks of ENGINE.md (NEW_ORDER step 19, REPLACE).

Open quantities are the leaves (reserve included) of the account's live orders on one side of one
instrument, waiting stops included; the engine keeps them current on every change of leaves. All
arithmetic is exact (Python ints), which is what "in exact arithmetic" in the spec asks of C.
"""
from __future__ import annotations

from dataclasses import dataclass

from .instrument import Instrument
from .layout import ENG, INT64_MAX


@dataclass
class Position:
    position: int = 0
    open_buy_qty: int = 0
    open_sell_qty: int = 0
    max_position: int = INT64_MAX

    def info(self) -> dict[str, int]:
        return {"position": self.position, "open_buy_qty": self.open_buy_qty,
                "open_sell_qty": self.open_sell_qty, "max_position": self.max_position}


def risk_reject_reason(ins: Instrument, pos: Position, kill_switch_engaged: bool, side: int,
                       ord_type: int, price: int, qty: int, replaced_leaves: int = 0) -> int:
    """The first failing risk check as a reason code, or ENG.OK.

    replaced_leaves: for a replace, the order's current leaves, which the new quantity replaces
    in the position-limit sum.
    """
    if kill_switch_engaged:
        return ENG.REJ_KILL_SWITCH
    if qty > ins.max_order_qty:
        return ENG.REJ_MAX_QTY
    # a midpoint peg with a limit is checked at its limit, one without like a market order
    has_price = (ord_type in (ENG.ORD_LIMIT, ENG.ORD_STOP_LIMIT)
                 or (ord_type == ENG.ORD_MIDPOINT_PEG and price != 0))
    notional_price = price if has_price else ins.reference_price
    if notional_price * qty > ins.max_order_notional:
        return ENG.REJ_MAX_NOTIONAL
    if has_price and abs(price - ins.reference_price) > ins.price_collar_ticks * ins.tick_size:
        return ENG.REJ_PRICE_COLLAR
    if side == ENG.SIDE_BUY:
        exposure = pos.position + pos.open_buy_qty - replaced_leaves + qty
    else:
        exposure = pos.open_sell_qty - replaced_leaves + qty - pos.position
    if exposure > pos.max_position:
        return ENG.REJ_POSITION_LIMIT
    return ENG.OK
