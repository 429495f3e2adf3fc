"""Rule 611 order protection and Rule 610(d) locked/crossed markets on lit instruments (ENGINE.md
"Order protection"), written plainly: the protected price of an order, the bound it matches within,
what happens to its rest, and the entry check of mode REJECT. The C engine's eng_protect.c must give
the same events; the differential tests check that."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .book import Order
from .instrument import Instrument
from .layout import ENG
from .records import Command

if TYPE_CHECKING:
    from .engine import OracleEngine

_RESTING_TIFS = (ENG.TIF_DAY, ENG.TIF_GTC, ENG.TIF_GTD)


def set_order_protection(eng: OracleEngine, cmd: Command) -> None:
    from .engine import Rejected
    ins = eng.instruments.get(cmd.instrument_id)
    if ins is None:
        raise Rejected(ENG.REJ_UNKNOWN_INSTRUMENT)
    if cmd.mode > ENG.PROTECT_ROUTE_AWAY or (ins.is_dark and cmd.mode != ENG.PROTECT_OFF):
        raise Rejected(ENG.REJ_BAD_CONFIG)
    if (cmd.sub_penny_from < 0 or cmd.sub_penny_increment < 0
            or (cmd.sub_penny_increment == 0) != (cmd.sub_penny_from == 0)):
        raise Rejected(ENG.REJ_BAD_CONFIG)
    ins.protect_mode = cmd.mode
    ins.sub_penny_from, ins.sub_penny_increment = cmd.sub_penny_from, cmd.sub_penny_increment


def sub_penny(ins: Instrument, price: int) -> bool:
    """Rule 612: a price in the grid's band ($1.00 and up) off the grid (ENG_REJ_REGNMS_SUB_PENNY)."""
    return ins.sub_penny_increment > 0 and price >= ins.sub_penny_from and price % ins.sub_penny_increment != 0


def protected_price(ins: Instrument, side: int, flags: int) -> int | None:
    """The NBBO ask for a buy, bid for a sell, when the order is protected; else None."""
    if ins.protect_mode == ENG.PROTECT_OFF or ins.nbbo is None or flags & ENG.FLAG_ISO:
        return None
    p = ins.nbbo.ask_price if side == ENG.SIDE_BUY else ins.nbbo.bid_price
    return p or None


def _beyond(side: int, price: int, p: int) -> bool:
    return price > p if side == ENG.SIDE_BUY else price < p


def bound(ins: Instrument, order: Order, own_bound: int) -> int:
    p = protected_price(ins, order.side, order.flags)
    return p if p is not None and _beyond(order.side, own_bound, p) else own_bound


def rest_reason(ins: Instrument, order: Order, own_bound: int) -> int:
    """After matching within the protected bound: why the order's rest is cancelled (ENG.OK: it
    goes on as usual)."""
    p = protected_price(ins, order.side, order.flags)
    if p is None:
        return ENG.OK
    best = ins.opposite(order.side).best_price()
    if best is not None and _beyond(order.side, best, p) and not _beyond(order.side, best, own_bound):
        return ENG.CXL_REGNMS_TRADE_THROUGH
    if (order.ord_type not in (ENG.ORD_MARKET, ENG.ORD_STOP) and order.tif in _RESTING_TIFS
            and (order.price == p or _beyond(order.side, order.price, p))):
        return ENG.CXL_REGNMS_LOCK_CROSS
    return ENG.OK


def entry_reason(ins: Instrument, cmd: Command) -> int:
    """Mode REJECT: the reject reason of a new LIMIT or MARKET order in CONTINUOUS that would trade
    through (book liquidity beyond P within its bound, and less than its quantity at P or better,
    reserves included) or rest locking/crossing P."""
    if (ins.protect_mode != ENG.PROTECT_REJECT or ins.phase != ENG.PHASE_CONTINUOUS
            or cmd.ord_type not in (ENG.ORD_LIMIT, ENG.ORD_MARKET)):
        return ENG.OK
    p = protected_price(ins, cmd.side, cmd.flags)
    if p is None:
        return ENG.OK
    levels = list(ins.opposite(cmd.side).levels_best_first())
    own = cmd.price
    if cmd.ord_type == ENG.ORD_MARKET:
        if not levels:
            return ENG.OK
        collar = ins.market_collar_ticks * ins.tick_size
        own = levels[0].price + collar if cmd.side == ENG.SIDE_BUY else levels[0].price - collar
    within = 0
    for level in levels:
        if _beyond(cmd.side, level.price, own):
            break
        if _beyond(cmd.side, level.price, p):
            if within < cmd.qty:
                return ENG.REJ_REGNMS_TRADE_THROUGH
            break
        within += sum(o.leaves_qty for o in level.orders.values())
    if (cmd.ord_type == ENG.ORD_LIMIT and cmd.tif in _RESTING_TIFS and within < cmd.qty
            and (cmd.price == p or _beyond(cmd.side, cmd.price, p))):
        return ENG.REJ_REGNMS_LOCK_CROSS
    return ENG.OK
