"""Dark midpoint instruments (ENGINE.md "Dark midpoint instruments"), written as plainly as the rest
of the oracle: the NBBO command, the quote's usability, and the midpoint cross.

A dark order (MIDPOINT_PEG) waits in its side's queue (Instrument.dark_queue) in time priority,
never displayed (shown_qty stays 0), its minimum acceptable quantity (MAQ) in display_qty. The
cross is the literal rule: while some (buy, sell) pair can trade at the midpoint, trade the first
such pair in priority order (earliest buy that has a compatible sell, with its earliest compatible
sell). This file finds that pair by a full rescan after every trade; the C engine reaches the same
sequence with a shorter scan, which is what the differential tests check.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .book import Order
from .instrument import Instrument, Nbbo
from .layout import ENG
from .records import Command

if TYPE_CHECKING:
    from .engine import OracleEngine


def quote_state(ins: Instrument, now_ns: int) -> tuple[int, int]:
    """(ENG.OK, midpoint) when the held NBBO can be traded on at now_ns, else (reason, 0): the
    reason a dark IOC remainder is cancelled with. Checked in this order: none or one-sided,
    locked, crossed, stale (older than nbbo_max_age_ns in engine time)."""
    q = ins.nbbo
    if q is None or q.bid_price == 0 or q.ask_price == 0:
        return ENG.CXL_NBBO_NONE, 0
    if q.bid_price == q.ask_price:
        return ENG.CXL_NBBO_LOCKED, 0
    if q.bid_price > q.ask_price:
        return ENG.CXL_NBBO_CROSSED, 0
    if now_ns - q.quote_ts_ns > ins.nbbo_max_age_ns:
        return ENG.CXL_NBBO_STALE, 0
    return ENG.OK, (q.bid_price + q.ask_price) // 2


def nbbo(eng: OracleEngine, cmd: Command) -> None:
    """NBBO: validate, store (every instrument holds one), cross a dark CONTINUOUS instrument."""
    from .engine import Rejected
    ins = eng.instruments.get(cmd.instrument_id)
    if ins is None:
        raise Rejected(ENG.REJ_UNKNOWN_INSTRUMENT)
    if (min(cmd.bid_price, cmd.ask_price, cmd.bid_qty, cmd.ask_qty) < 0
            or cmd.bid_price % ins.tick_size or cmd.ask_price % ins.tick_size
            or not 0 <= cmd.quote_ts_ns <= cmd.ts_ns):
        raise Rejected(ENG.REJ_BAD_NBBO)
    if ins.nbbo is not None and cmd.quote_ts_ns < ins.nbbo.quote_ts_ns:
        raise Rejected(ENG.REJ_NBBO_OUT_OF_ORDER)
    ins.nbbo = Nbbo(cmd.bid_price, cmd.ask_price, cmd.bid_qty, cmd.ask_qty, cmd.quote_ts_ns)
    if ins.is_dark and ins.phase == ENG.PHASE_CONTINUOUS:
        cross(eng, ins, arrival=None)


def _eligible(order: Order, mid: int) -> bool:
    if order.price == 0:
        return True
    return order.price >= mid if order.side == ENG.SIDE_BUY else order.price <= mid


def _compatible(buy: Order, sell: Order) -> bool:
    if buy.stp_group != 0 and buy.stp_group == sell.stp_group:
        return False
    qty = min(buy.leaves_qty, sell.leaves_qty)
    return qty >= min(buy.display_qty, buy.leaves_qty) and qty >= min(sell.display_qty, sell.leaves_qty)


def _first_pair(ins: Instrument, mid: int) -> tuple[Order, Order] | None:
    for buy in ins.dark_queue(ENG.SIDE_BUY):
        if not _eligible(buy, mid):
            continue
        for sell in ins.dark_queue(ENG.SIDE_SELL):
            if _eligible(sell, mid) and _compatible(buy, sell):
                return buy, sell
    return None


def can_trade(ins: Instrument, now_ns: int) -> bool:
    """Whether some pair could trade now. Never true between commands (check() asserts it): a quote
    usable now was usable at every command since it arrived (its age only grows), and the NBBO
    command, the opening and every order that arrived since ran the cross; cancels and expiries
    only remove orders."""
    if not ins.is_dark or ins.phase != ENG.PHASE_CONTINUOUS:
        return False
    state, mid = quote_state(ins, now_ns)
    return state == ENG.OK and _first_pair(ins, mid) is not None


def cross(eng: OracleEngine, ins: Instrument, arrival: Order | None) -> None:
    """Trades first pairs at the midpoint until none is left (CONTINUOUS with a usable quote only).
    A trade the arriving order takes part in has its side as aggressor, any other ENG.SIDE_NONE."""
    if ins.phase != ENG.PHASE_CONTINUOUS:
        return
    state, mid = quote_state(ins, eng.now_ns)
    if state != ENG.OK:
        return
    while (pair := _first_pair(ins, mid)) is not None:
        buy, sell = pair
        qty = min(buy.leaves_qty, sell.leaves_qty)
        for order in pair:
            order.leaves_qty -= qty
            eng.open_changed(order, -qty)
        aggressor = arrival.side if arrival is not None and arrival in pair else ENG.SIDE_NONE
        eng.emit_trade(ins, buy, sell, mid, qty, aggressor)
        for order in pair:
            if order.leaves_qty == 0:
                ins.dark_queue(order.side).remove(order)
                eng.retire(order)


def run_order(eng: OracleEngine, ins: Instrument, order: Order) -> None:
    """A MIDPOINT_PEG just ACCEPTED: joins the back of its queue; in CONTINUOUS the cross runs and
    an IOC's remainder is cancelled with the quote's reason (IOC_REMAINDER if it was usable)."""
    ins.dark_queue(order.side).append(order)
    if ins.phase != ENG.PHASE_CONTINUOUS:
        return
    cross(eng, ins, arrival=order)
    if order.tif == ENG.TIF_IOC and order.leaves_qty > 0:
        state, _ = quote_state(ins, eng.now_ns)
        eng.cancel_live(order, state if state != ENG.OK else ENG.CXL_IOC_REMAINDER)
