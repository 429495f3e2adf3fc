"""Order flow from outside the engine (ENGINE.md "Outside order flow"): EXECUTE, REDUCE and
SEED_LEVEL, written as plainly as the rest of the oracle.

Each function is a command handler of OracleEngine: it raises Rejected for the first failing check
in the order ENGINE.md lists them, and otherwise changes the book through the engine's primitives
(emit, open_changed, after_passive_fill, cancel_live) so events and positions stay in one place.
All three clamp to what is there: an outside message may name quantity our orders already took.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .book import Order
from .layout import ENG
from .records import Command

if TYPE_CHECKING:
    from .engine import OracleEngine

SEED_ID_BIT = 1 << 63


def _resting_order(eng: OracleEngine, cmd: Command) -> Order:
    from .engine import Rejected
    order = eng.live_orders.get(cmd.order_id)
    if order is None or order.instrument_id != cmd.instrument_id:
        raise Rejected(ENG.REJ_UNKNOWN_ORDER)
    if order.is_dark:
        raise Rejected(ENG.REJ_DARK_UNSUPPORTED)
    if order.waiting_stop:
        raise Rejected(ENG.REJ_NOT_RESTING)
    return order


def _check_qty(cmd_qty: int, lot_size: int) -> None:
    from .engine import Rejected
    if cmd_qty <= 0:
        raise Rejected(ENG.REJ_BAD_QTY)
    if cmd_qty % lot_size:
        raise Rejected(ENG.REJ_OFF_LOT)


def _take_off(eng: OracleEngine, order: Order, qty: int) -> int:
    """Takes min(qty, leaves) off a resting order; returns 1 if that removed it whole."""
    if qty >= order.leaves_qty:
        eng.cancel_live(order, ENG.CXL_USER)
        return 1
    ins = eng.instruments[order.instrument_id]
    old_shown = order.shown_qty
    order.reduce(qty)
    eng.open_changed(order, -qty)
    eng.emit("REPLACED", order.instrument_id, order_id=order.order_id, price=order.price,
             leaves_qty=order.leaves_qty, display_qty=order.shown_qty,
             account_id=order.account_id, priority_kept=1)
    if order.shown_qty != old_shown:
        eng.emit_level(ins, order.side, order.price)
    return 0


def execute(eng: OracleEngine, cmd: Command) -> None:
    from .engine import Rejected
    order = _resting_order(eng, cmd)
    ins = eng.instruments[order.instrument_id]
    _check_qty(cmd.qty, ins.lot_size)
    if cmd.contra_account_id >= eng.max_accounts:
        raise Rejected(ENG.REJ_BAD_ACCOUNT)
    if ins.phase != ENG.PHASE_CONTINUOUS:
        raise Rejected(ENG.REJ_PHASE)
    qty = min(cmd.qty, order.leaves_qty)
    order.consume_shown_first(qty)
    eng.open_changed(order, -qty)
    buy = order.side == ENG.SIDE_BUY
    eng._position(order.account_id, ins.instrument_id).position += qty if buy else -qty
    eng._position(cmd.contra_account_id, ins.instrument_id).position += -qty if buy else qty
    ins.last_trade_price = order.price
    mine = {"order_id": order.order_id, "leaves_qty": order.leaves_qty, "account_id": order.account_id}
    contra = {"order_id": 0, "leaves_qty": 0, "account_id": cmd.contra_account_id}
    b, s = (mine, contra) if buy else (contra, mine)
    eng.emit("TRADE", ins.instrument_id, trade_id=eng.next_trade_id, buy_order_id=b["order_id"],
             sell_order_id=s["order_id"], price=order.price, qty=qty, buy_leaves_qty=b["leaves_qty"],
             sell_leaves_qty=s["leaves_qty"], buy_account_id=b["account_id"],
             sell_account_id=s["account_id"], aggressor_side=ENG.SIDE_SELL if buy else ENG.SIDE_BUY)
    eng.next_trade_id += 1
    eng.after_passive_fill(ins, order)
    eng.emit_level(ins, order.side, order.price)


def reduce(eng: OracleEngine, cmd: Command) -> None:
    order = _resting_order(eng, cmd)
    _check_qty(cmd.qty, eng.instruments[order.instrument_id].lot_size)
    eng._affected += _take_off(eng, order, cmd.qty)


def seed_level(eng: OracleEngine, cmd: Command) -> None:
    from .engine import Rejected
    ins = eng.instruments.get(cmd.instrument_id)
    if ins is None:
        raise Rejected(ENG.REJ_UNKNOWN_INSTRUMENT)
    if ins.is_dark:
        raise Rejected(ENG.REJ_DARK_UNSUPPORTED)
    if cmd.account_id >= eng.max_accounts:
        raise Rejected(ENG.REJ_BAD_ACCOUNT)
    if cmd.side not in (ENG.SIDE_BUY, ENG.SIDE_SELL):
        raise Rejected(ENG.REJ_BAD_SIDE)
    if cmd.qty == 0 or cmd.qty == -(1 << 63):
        raise Rejected(ENG.REJ_BAD_QTY)
    if abs(cmd.qty) % ins.lot_size:
        raise Rejected(ENG.REJ_OFF_LOT)
    if cmd.price <= 0:
        raise Rejected(ENG.REJ_BAD_PRICE)
    if cmd.price % ins.tick_size:
        raise Rejected(ENG.REJ_OFF_TICK)
    if cmd.qty < 0:
        level = ins.side(cmd.side).levels.get(cmd.price)
        want = -cmd.qty
        for order in reversed(list(level.orders.values()) if level else []):
            if want <= 0:
                break
            if order.order_id & SEED_ID_BIT:
                take = min(want, order.leaves_qty)
                eng._affected += _take_off(eng, order, take)
                want -= take
        return
    order_id = SEED_ID_BIT | cmd.seq
    if order_id in eng.live_orders:
        raise Rejected(ENG.REJ_DUPLICATE_ORDER_ID)
    if len(eng.live_orders) >= eng.max_orders:
        raise Rejected(ENG.REJ_ORDER_CAPACITY)
    if not eng._level_available(ins, cmd.side, cmd.price):
        raise Rejected(ENG.REJ_LEVEL_CAPACITY)
    if ins.phase == ENG.PHASE_CONTINUOUS and eng._would_cross(ins, cmd.side, cmd.price):
        raise Rejected(ENG.REJ_WOULD_CROSS)
    order = Order(order_id=order_id, client_order_id=0, instrument_id=ins.instrument_id,
                  account_id=cmd.account_id, stp_group=cmd.stp_group, side=cmd.side,
                  ord_type=ENG.ORD_LIMIT, tif=ENG.TIF_GTC, stp_mode=ENG.STP_NONE, flags=0,
                  price=cmd.price, stop_price=0, display_qty=0, expire_ts_ns=0, accept_seq=cmd.seq,
                  leaves_qty=cmd.qty)
    eng.emit("ACCEPTED", ins.instrument_id, order_id=order_id, client_order_id=0, price=cmd.price,
             stop_price=0, qty=cmd.qty, display_qty=0, expire_ts_ns=0, account_id=cmd.account_id,
             stp_group=cmd.stp_group, side=cmd.side, ord_type=ENG.ORD_LIMIT, tif=ENG.TIF_GTC,
             stp_mode=ENG.STP_NONE, flags=0)
    eng.live_orders[order_id] = order
    eng.open_changed(order, order.leaves_qty)
    eng._rest(ins, order)
