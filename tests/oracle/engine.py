"""OracleEngine: the pure-Python reference implementation of native/ENGINE.md.

Owns command processing (sequence check, engine time, GTD expiry, the commands themselves, stop
triggering, CMD_ACK), the live-order index, positions and the state queries; matching and the
auction live in matching.py and auction.py. Written for readability: every rule is checked in
the order the spec lists it. Invariants (verified by check()): every live order is in exactly one
place (a level of its side or its instrument's stop list), open quantities equal the leaves of
live orders, and the number of levels never exceeds max_levels.
"""
from __future__ import annotations

import heapq
from fractions import Fraction
from typing import Any, Callable, Iterable, Mapping

import msgspec

from native import messages

from . import auction, dark, external, matching, protect
from .book import BookSide, Order
from .instrument import Instrument
from .layout import ENG
from .records import Command, decode_command, make_event
from .risk import OrderVelocity, Position, risk_reject_reason



def _as_dict(cmd: messages.Command) -> dict[str, Any]:
    """A command Struct -> the oracle's dict contract (an unknown type by its raw code)."""
    if not isinstance(cmd, messages.CommandRecord):
        raise TypeError(f"a command must be a native.messages Command Struct, got {type(cmd).__name__}")
    fields = {name: getattr(cmd, name) for name in cmd.__struct_fields__}
    if isinstance(cmd, messages.UnknownCommand):
        return {"type": fields.pop("code"), **fields}
    return {"type": type(cmd).__struct_config__.tag, **fields}


_RESTING_TIFS = (ENG.TIF_DAY, ENG.TIF_GTC, ENG.TIF_GTD)
_ORDER_TYPES = (ENG.ORD_LIMIT, ENG.ORD_MARKET, ENG.ORD_STOP, ENG.ORD_STOP_LIMIT, ENG.ORD_MIDPOINT_PEG)
_TIFS = (ENG.TIF_DAY, ENG.TIF_GTC, ENG.TIF_GTD, ENG.TIF_IOC, ENG.TIF_FOK)
_KNOWN_FLAGS = ENG.FLAG_POST_ONLY | ENG.FLAG_ICEBERG | ENG.FLAG_ISO
_PHASE_TRANSITIONS = {
    (ENG.PHASE_CLOSED, ENG.PHASE_PRE_OPEN), (ENG.PHASE_PRE_OPEN, ENG.PHASE_CONTINUOUS),
    (ENG.PHASE_PRE_OPEN, ENG.PHASE_CLOSED), (ENG.PHASE_CONTINUOUS, ENG.PHASE_HALTED),
    (ENG.PHASE_CONTINUOUS, ENG.PHASE_CLOSED), (ENG.PHASE_HALTED, ENG.PHASE_PRE_OPEN),
    (ENG.PHASE_HALTED, ENG.PHASE_CLOSED),
}
# Commands that may trade and so end with stop triggering (ENGINE.md, processing step 4).
_MAY_TRADE = (ENG.CMD_NEW_ORDER, ENG.CMD_REPLACE, ENG.CMD_SET_PHASE, ENG.CMD_EXECUTE)
# Commands answered by their own events instead of a CMD_ACK (step 5).
_NO_ACK = (ENG.CMD_NEW_ORDER, ENG.CMD_CANCEL, ENG.CMD_REPLACE)


class Rejected(Exception):
    """Raised by a command's validation; becomes the command's only REJECTED event."""

    def __init__(self, reason: int) -> None:
        super().__init__(reason)
        self.reason = reason


class OracleEngine:
    def __init__(self, max_orders: int, max_levels: int, max_instruments: int,
                 max_accounts: int) -> None:
        for name, value in (("max_orders", max_orders), ("max_levels", max_levels),
                            ("max_instruments", max_instruments), ("max_accounts", max_accounts)):
            if not 0 < value < 1 << 32:
                raise ValueError(f"{name} must be in 1..2^32-1, got {value}")
        self.max_orders = max_orders
        self.max_levels = max_levels
        self.max_instruments = max_instruments
        self.max_accounts = max_accounts
        self.now_ns = 0
        self.last_seq = 0
        self.next_trade_id = 1
        self.instruments: dict[int, Instrument] = {}
        # Every live order: resting, waiting stop, or the aggressor being processed.
        self.live_orders: dict[int, Order] = {}
        self.positions: dict[tuple[int, int], Position] = {}  # (account, instrument)
        self.killed_accounts: set[int] = set()
        self.velocity: dict[int, OrderVelocity] = {}  # accounts that ever had a limit set
        self._gtd_queue: list[tuple[int, int, int, Order]] = []  # (expire, accept_seq, id, order)
        self._events: list[dict[str, Any]] = []
        self._cmd: Command | None = None
        self._affected = 0
        self._handlers: dict[int, Callable[[Command], None]] = {
            ENG.CMD_NEW_ORDER: self._new_order, ENG.CMD_CANCEL: self._cancel,
            ENG.CMD_REPLACE: self._replace, ENG.CMD_MASS_CANCEL: self._mass_cancel,
            ENG.CMD_SET_PHASE: self._set_phase, ENG.CMD_END_OF_DAY: self._end_of_day,
            ENG.CMD_TIME: lambda cmd: None, ENG.CMD_ADD_INSTRUMENT: self._add_instrument,
            ENG.CMD_SET_INSTRUMENT_RISK: self._set_instrument_risk,
            ENG.CMD_SET_ACCOUNT_LIMIT: self._set_account_limit,
            ENG.CMD_SET_KILL_SWITCH: self._set_kill_switch,
            ENG.CMD_SET_POST_TRADE_LIMIT: self._set_post_trade_limit,
            ENG.CMD_EXECUTE: lambda cmd: external.execute(self, cmd),
            ENG.CMD_REDUCE: lambda cmd: external.reduce(self, cmd),
            ENG.CMD_SEED_LEVEL: lambda cmd: external.seed_level(self, cmd),
            ENG.CMD_NBBO: lambda cmd: dark.nbbo(self, cmd),
            ENG.CMD_SET_ORDER_PROTECTION: lambda cmd: protect.set_order_protection(self, cmd),
            ENG.CMD_SET_ORDER_VELOCITY: self._set_order_velocity,
        }

    # ---- public interface (same as native.engine.Engine) ----------------------------------------

    def submit(self, commands: Iterable[messages.Command]) -> list[messages.Event]:
        """Processes the commands (native.messages Structs) in order and returns all their events
        as Event Structs; inside, the oracle speaks its own dict contract (records.py)."""
        return [msgspec.convert(e, messages.Event) for e in self.submit_dicts(_as_dict(c) for c in commands)]

    def submit_dicts(self, commands: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Processes command dicts in order and returns all their events as dicts."""
        decoded = [decode_command(c) for c in commands]  # malformed input fails before any effect
        self._events = []
        for cmd in decoded:
            self._process(cmd)
        events, self._events = self._events, []
        return events

    def depth(self, instrument_id: int, side: int, max_levels: int = 64) -> list[tuple[int, int, int]]:
        book = self._book_side(instrument_id, side)
        levels = list(book.levels_best_first())[:max_levels]
        return [(level.price, level.shown_qty, len(level.orders)) for level in levels]

    def orders(self, instrument_id: int, side: int) -> list[dict[str, int]]:
        """The orders of one side in book order; side NONE: the waiting stops, acceptance order."""
        if side == ENG.SIDE_NONE:
            return [o.info() for o in self._instrument(instrument_id).stops]
        in_book = self._book_side(instrument_id, side).orders_in_book_order()
        return [o.info() for o in in_book + self._instrument(instrument_id).dark_queue(side)]

    def order(self, order_id: int) -> dict[str, int] | None:
        order = self.live_orders.get(order_id)
        return None if order is None else order.info()

    def position(self, account_id: int, instrument_id: int) -> dict[str, int]:
        self._instrument(instrument_id)
        if not 0 <= account_id < self.max_accounts:
            raise ValueError(f"account {account_id} out of range 0..{self.max_accounts - 1}")
        return self._position(account_id, instrument_id).info()

    def instrument(self, instrument_id: int) -> dict[str, int] | None:
        ins = self.instruments.get(instrument_id)
        return None if ins is None else ins.info()

    def check(self) -> None:
        """Recomputes derived state from scratch; raises AssertionError on any inconsistency."""
        placed: dict[int, Order] = {}
        open_qty: dict[tuple[int, int, int], int] = {}
        levels = 0
        for ins in self.instruments.values():
            for book in (ins.bids, ins.asks):
                levels += len(book.levels)
                for level in book.levels_best_first():
                    assert level.orders, f"empty level {level.price} on instrument {ins.instrument_id}"
                    for o in level.orders.values():
                        assert o.price == level.price and o.side == book.side
                        assert 0 < o.shown_qty <= o.leaves_qty, f"order {o.order_id} shown/leaves"
                        assert o.is_iceberg or o.shown_qty == o.leaves_qty
                        placed[o.order_id] = o
            for o in ins.stops:
                assert o.waiting_stop and o.shown_qty == 0
                placed[o.order_id] = o
            for side in (ENG.SIDE_BUY, ENG.SIDE_SELL):
                for o in ins.dark_queue(side):
                    assert ins.is_dark and o.is_dark and o.side == side
                    assert o.shown_qty == 0 < o.leaves_qty, f"dark order {o.order_id} shown/leaves"
                    placed[o.order_id] = o
            assert not dark.can_trade(ins, self.now_ns), f"dark instrument {ins.instrument_id} left a pair"
        assert placed == self.live_orders, "live-order index differs from the books"
        for o in self.live_orders.values():
            key = (o.account_id, o.instrument_id, o.side)
            open_qty[key] = open_qty.get(key, 0) + o.leaves_qty
        for (account, iid), pos in self.positions.items():
            assert pos.open_buy_qty == open_qty.get((account, iid, ENG.SIDE_BUY), 0), (account, iid)
            assert pos.open_sell_qty == open_qty.get((account, iid, ENG.SIDE_SELL), 0), (account, iid)
        assert levels <= self.max_levels and len(self.live_orders) <= self.max_orders

    # ---- primitives used by matching and auction -------------------------------------------------

    def emit(self, kind: str, instrument_id: int, reason: int = 0, **fields: int) -> None:
        assert self._cmd is not None
        self._events.append(make_event(kind, self._cmd, instrument_id, reason, **fields))

    def emit_level(self, ins: Instrument, side: int, price: int) -> None:
        qty, count = ins.side(side).level_summary(price)
        self.emit("BOOK_LEVEL", ins.instrument_id, price=price, qty=qty, order_count=count, side=side)

    def emit_trade(self, ins: Instrument, buy: Order, sell: Order, price: int, qty: int,
                   aggressor_side: int) -> None:
        """Books one trade (positions, last price) and emits TRADE; leaves are already reduced."""
        self._position(buy.account_id, ins.instrument_id).position += qty
        self._position(sell.account_id, ins.instrument_id).position -= qty
        ins.last_trade_price = price
        self.emit("TRADE", ins.instrument_id, trade_id=self.next_trade_id,
                  buy_order_id=buy.order_id, sell_order_id=sell.order_id, price=price, qty=qty,
                  buy_leaves_qty=buy.leaves_qty, sell_leaves_qty=sell.leaves_qty,
                  buy_account_id=buy.account_id, sell_account_id=sell.account_id,
                  aggressor_side=aggressor_side)
        self.next_trade_id += 1

    def open_changed(self, order: Order, delta: int) -> None:
        pos = self._position(order.account_id, order.instrument_id)
        if order.side == ENG.SIDE_BUY:
            pos.open_buy_qty += delta
        else:
            pos.open_sell_qty += delta

    def after_passive_fill(self, ins: Instrument, order: Order) -> None:
        """A resting order lost quantity: leaves the book when done, else refills an empty peak."""
        if order.leaves_qty == 0:
            ins.side(order.side).remove(order)
            self.retire(order)
        elif order.shown_qty == 0:
            order.show_peak()
            ins.side(order.side).levels[order.price].move_to_back(order)

    def retire(self, order: Order) -> None:
        del self.live_orders[order.order_id]

    def cancel_live(self, order: Order, reason: int) -> None:
        """Cancels a resting order or waiting stop whole: CANCELLED (+ BOOK_LEVEL if resting)."""
        self._remove_live(order, "CANCELLED", reason)

    def cancel_aggressor(self, order: Order, reason: int) -> None:
        """Cancels what is left of an order that is not in the book (aggressing or triggered)."""
        qty = order.leaves_qty
        order.leaves_qty = 0
        self.open_changed(order, -qty)
        self.retire(order)
        self.emit("CANCELLED", order.instrument_id, reason, order_id=order.order_id,
                  cancelled_qty=qty, leaves_qty=0, account_id=order.account_id)

    def decrement_resting(self, order: Order, qty: int) -> None:
        """STP decrement of a resting order: reserve first, keeps its place unless it refills."""
        ins = self.instruments[order.instrument_id]
        order.reduce(qty)
        self.open_changed(order, -qty)
        self.after_passive_fill(ins, order)
        self.emit("CANCELLED", order.instrument_id, ENG.CXL_STP, order_id=order.order_id,
                  cancelled_qty=qty, leaves_qty=order.leaves_qty, account_id=order.account_id)
        self.emit_level(ins, order.side, order.price)

    # ---- command processing ---------------------------------------------------------------------

    def _process(self, cmd: Command) -> None:
        self._cmd = cmd
        if cmd.seq <= self.last_seq:
            self._reject(cmd, ENG.REJ_BAD_SEQUENCE)
            return
        self.last_seq = cmd.seq
        self.now_ns = max(self.now_ns, cmd.ts_ns)
        self._expire_gtd()
        handler = self._handlers.get(cmd.code)
        if handler is None:
            self._reject(cmd, ENG.REJ_UNKNOWN_COMMAND)
            return
        self._affected = 0
        try:
            handler(cmd)
        except Rejected as rejection:
            self._reject(cmd, rejection.reason)
            return
        if cmd.code in _MAY_TRADE:
            ins = self.instruments[cmd.instrument_id]
            self._trigger_stops(ins)
        if cmd.code not in _NO_ACK:
            self.emit("CMD_ACK", cmd.instrument_id, affected=self._affected, cmd_type=cmd.code)

    def _reject(self, cmd: Command, reason: int) -> None:
        fields = cmd.fields
        self.emit("REJECTED", cmd.instrument_id, reason, order_id=fields.get("order_id", 0),
                  client_order_id=fields.get("client_order_id", 0),
                  account_id=fields.get("account_id", 0), cmd_type=cmd.code)

    def _expire_gtd(self) -> None:
        while self._gtd_queue and self._gtd_queue[0][0] <= self.now_ns:
            _, _, order_id, order = heapq.heappop(self._gtd_queue)
            if self.live_orders.get(order_id) is order:
                self._remove_live(order, "EXPIRED", ENG.EXP_GTD)

    def _remove_live(self, order: Order, kind: str, reason: int) -> None:
        ins = self.instruments[order.instrument_id]
        qty = order.leaves_qty
        self.open_changed(order, -qty)
        self.retire(order)
        qty_field = "cancelled_qty" if kind == "CANCELLED" else "expired_qty"
        extra = {"leaves_qty": 0} if kind == "CANCELLED" else {}
        if order.waiting_stop or order.is_dark:  # neither is displayed: no BOOK_LEVEL
            (ins.stops if order.waiting_stop else ins.dark_queue(order.side)).remove(order)
            self.emit(kind, ins.instrument_id, reason, order_id=order.order_id,
                      account_id=order.account_id, **{qty_field: qty}, **extra)
            return
        ins.side(order.side).remove(order)
        self.emit(kind, ins.instrument_id, reason, order_id=order.order_id,
                  account_id=order.account_id, **{qty_field: qty}, **extra)
        self.emit_level(ins, order.side, order.price)

    # ---- NEW_ORDER --------------------------------------------------------------------------------

    def _new_order(self, cmd: Command) -> None:
        ins = self._validate_new_order(cmd)
        self._velocity(cmd.account_id).count(self.now_ns)
        order = Order(
            order_id=cmd.order_id, client_order_id=cmd.client_order_id,
            instrument_id=ins.instrument_id, account_id=cmd.account_id, stp_group=cmd.stp_group,
            side=cmd.side, ord_type=cmd.ord_type, tif=cmd.tif, stp_mode=cmd.stp_mode,
            flags=cmd.flags, price=cmd.price, stop_price=cmd.stop_price,
            display_qty=cmd.display_qty, expire_ts_ns=cmd.expire_ts_ns, accept_seq=cmd.seq,
            leaves_qty=cmd.qty)
        self.emit("ACCEPTED", ins.instrument_id, **cmd.fields)
        self.live_orders[order.order_id] = order
        self.open_changed(order, order.leaves_qty)
        if order.tif == ENG.TIF_GTD:
            heapq.heappush(self._gtd_queue,
                           (order.expire_ts_ns, order.accept_seq, order.order_id, order))
        if order.is_dark:
            dark.run_order(self, ins, order)
        elif order.ord_type in (ENG.ORD_STOP, ENG.ORD_STOP_LIMIT):
            order.waiting_stop = True
            ins.stops.append(order)  # triggers, if due, in step 4
        elif order.ord_type == ENG.ORD_MARKET:
            self._execute_market(ins, order)
        elif ins.phase == ENG.PHASE_PRE_OPEN:
            self._rest(ins, order)
        else:
            self._execute_limit(ins, order, triggered=False)

    def _validate_new_order(self, cmd: Command) -> Instrument:
        ins = self.instruments.get(cmd.instrument_id)
        if ins is None:
            raise Rejected(ENG.REJ_UNKNOWN_INSTRUMENT)
        if cmd.account_id >= self.max_accounts:
            raise Rejected(ENG.REJ_BAD_ACCOUNT)
        if cmd.side not in (ENG.SIDE_BUY, ENG.SIDE_SELL):
            raise Rejected(ENG.REJ_BAD_SIDE)
        if cmd.ord_type not in _ORDER_TYPES:
            raise Rejected(ENG.REJ_BAD_ORDER_TYPE)
        peg = cmd.ord_type == ENG.ORD_MIDPOINT_PEG
        if peg != ins.is_dark:
            raise Rejected(ENG.REJ_DARK_ORDER_TYPE)
        if (cmd.tif not in _TIFS
                or (cmd.ord_type == ENG.ORD_MARKET and cmd.tif not in (ENG.TIF_IOC, ENG.TIF_FOK))
                or (peg and cmd.tif == ENG.TIF_FOK)):
            raise Rejected(ENG.REJ_BAD_TIF)
        resting_tif = cmd.tif in _RESTING_TIFS
        if (cmd.flags & ~_KNOWN_FLAGS
                or (cmd.flags & ENG.FLAG_POST_ONLY
                    and not (cmd.ord_type == ENG.ORD_LIMIT and resting_tif))
                or (cmd.flags & ENG.FLAG_ICEBERG
                    and not (cmd.ord_type in (ENG.ORD_LIMIT, ENG.ORD_STOP_LIMIT) and resting_tif))):
            raise Rejected(ENG.REJ_BAD_FLAGS)
        if cmd.flags & ENG.FLAG_ISO and not (cmd.ord_type == ENG.ORD_LIMIT
                                             and cmd.tif in (ENG.TIF_IOC, ENG.TIF_FOK)):
            raise Rejected(ENG.REJ_REGNMS_BAD_ISO)
        if cmd.qty <= 0:
            raise Rejected(ENG.REJ_BAD_QTY)
        if cmd.qty % ins.lot_size:
            raise Rejected(ENG.REJ_OFF_LOT)
        has_price = cmd.ord_type in (ENG.ORD_LIMIT, ENG.ORD_STOP_LIMIT)
        if cmd.price < 0 if peg else (cmd.price <= 0) if has_price else (cmd.price != 0):
            raise Rejected(ENG.REJ_BAD_PRICE)
        if (has_price or peg) and protect.sub_penny(ins, cmd.price):
            raise Rejected(ENG.REJ_REGNMS_SUB_PENNY)
        if cmd.price % ins.tick_size:
            raise Rejected(ENG.REJ_OFF_TICK)
        is_stop = cmd.ord_type in (ENG.ORD_STOP, ENG.ORD_STOP_LIMIT)
        if (cmd.stop_price <= 0) if is_stop else (cmd.stop_price != 0):
            raise Rejected(ENG.REJ_BAD_STOP_PRICE)
        if is_stop and protect.sub_penny(ins, cmd.stop_price):
            raise Rejected(ENG.REJ_REGNMS_SUB_PENNY)
        if cmd.stop_price % ins.tick_size:
            raise Rejected(ENG.REJ_OFF_TICK)
        if peg:  # a midpoint peg's display_qty is its minimum acceptable quantity
            if not 0 <= cmd.display_qty <= cmd.qty:
                raise Rejected(ENG.REJ_BAD_MIN_QTY)
        elif cmd.flags & ENG.FLAG_ICEBERG:
            if not 0 < cmd.display_qty < cmd.qty:
                raise Rejected(ENG.REJ_BAD_DISPLAY_QTY)
        elif cmd.display_qty != 0:
            raise Rejected(ENG.REJ_BAD_DISPLAY_QTY)
        if cmd.display_qty % ins.lot_size:
            raise Rejected(ENG.REJ_OFF_LOT)
        if (cmd.expire_ts_ns <= self.now_ns) if cmd.tif == ENG.TIF_GTD else (cmd.expire_ts_ns != 0):
            raise Rejected(ENG.REJ_BAD_EXPIRY)
        if cmd.stp_mode > ENG.STP_DECREMENT or (peg and cmd.stp_mode != ENG.STP_NONE):
            raise Rejected(ENG.REJ_BAD_STP_MODE)
        if cmd.order_id == 0 or cmd.order_id in self.live_orders:
            raise Rejected(ENG.REJ_DUPLICATE_ORDER_ID)
        if ins.phase in (ENG.PHASE_CLOSED, ENG.PHASE_HALTED) or (
                ins.phase == ENG.PHASE_PRE_OPEN
                and (cmd.ord_type == ENG.ORD_MARKET or cmd.tif in (ENG.TIF_IOC, ENG.TIF_FOK))):
            raise Rejected(ENG.REJ_PHASE)
        reason = risk_reject_reason(ins, self._position(cmd.account_id, ins.instrument_id),
                                    cmd.account_id in self.killed_accounts,
                                    self._velocity(cmd.account_id).allows(self.now_ns), cmd.side,
                                    cmd.ord_type, cmd.price, cmd.qty)
        if reason != ENG.OK:
            raise Rejected(reason)
        if len(self.live_orders) >= self.max_orders:
            raise Rejected(ENG.REJ_ORDER_CAPACITY)
        if (cmd.ord_type == ENG.ORD_LIMIT and resting_tif
                and not self._level_available(ins, cmd.side, cmd.price)):
            raise Rejected(ENG.REJ_LEVEL_CAPACITY)
        if (cmd.flags & ENG.FLAG_POST_ONLY and ins.phase == ENG.PHASE_CONTINUOUS
                and self._would_cross(ins, cmd.side, cmd.price)):
            raise Rejected(ENG.REJ_POST_ONLY_WOULD_TAKE)
        reason = protect.entry_reason(ins, cmd)
        if reason != ENG.OK:
            raise Rejected(reason)
        return ins

    def _level_available(self, ins: Instrument, side: int, price: int) -> bool:
        """Whether an order could rest at price: its level exists or a free level is left."""
        if price in ins.side(side).levels:
            return True
        levels_live = sum(len(i.bids.levels) + len(i.asks.levels) for i in self.instruments.values())
        return levels_live < self.max_levels

    @staticmethod
    def _would_cross(ins: Instrument, side: int, price: int) -> bool:
        best = ins.opposite(side).best_price()
        if best is None:
            return False
        return price >= best if side == ENG.SIDE_BUY else price <= best

    def _rest(self, ins: Instrument, order: Order) -> None:
        order.show_peak()
        ins.side(order.side).add(order)
        self.emit_level(ins, order.side, order.price)

    def _execute_limit(self, ins: Instrument, order: Order, triggered: bool) -> None:
        """A LIMIT (or triggered STOP_LIMIT) arriving in CONTINUOUS: match, then rest or cancel."""
        bound = protect.bound(ins, order, order.price)
        if order.tif == ENG.TIF_FOK and not matching.fok_fillable(ins, order, bound):
            self.cancel_aggressor(order, ENG.CXL_FOK_NOT_FILLABLE)
            return
        matching.match(self, ins, order, bound)
        if order.leaves_qty == 0:
            return
        protected_rest = protect.rest_reason(ins, order, order.price)
        if protected_rest != ENG.OK:
            self.cancel_aggressor(order, protected_rest)
        elif order.tif in (ENG.TIF_IOC, ENG.TIF_FOK):
            self.cancel_aggressor(order, ENG.CXL_IOC_REMAINDER)
        elif triggered and not self._level_available(ins, order.side, order.price):
            self.cancel_aggressor(order, ENG.CXL_NO_LEVEL_CAPACITY)
        else:
            self._rest(ins, order)

    def _execute_market(self, ins: Instrument, order: Order) -> None:
        """A MARKET order (or triggered STOP): trades up to best +/- the collar, never rests."""
        opposite = ins.opposite(order.side)
        best = opposite.best_price()
        if best is None:
            self.cancel_aggressor(order, ENG.CXL_NO_LIQUIDITY)
            return
        collar = ins.market_collar_ticks * ins.tick_size
        own_bound = best + collar if order.side == ENG.SIDE_BUY else best - collar
        bound = protect.bound(ins, order, own_bound)
        if order.tif == ENG.TIF_FOK and not matching.fok_fillable(ins, order, bound):
            self.cancel_aggressor(order, ENG.CXL_FOK_NOT_FILLABLE)
            return
        matching.match(self, ins, order, bound)
        if order.leaves_qty == 0:
            return
        protected_rest = protect.rest_reason(ins, order, own_bound)
        if protected_rest != ENG.OK:
            self.cancel_aggressor(order, protected_rest)
            return
        self.cancel_aggressor(order, ENG.CXL_MARKET_COLLAR if opposite else ENG.CXL_NO_LIQUIDITY)

    def _trigger_stops(self, ins: Instrument) -> None:
        while ins.phase == ENG.PHASE_CONTINUOUS and ins.last_trade_price is not None:
            last = ins.last_trade_price
            due = next((o for o in ins.stops
                        if (o.side == ENG.SIDE_BUY and last >= o.stop_price)
                        or (o.side == ENG.SIDE_SELL and last <= o.stop_price)), None)
            if due is None:
                return
            ins.stops.remove(due)
            due.waiting_stop = False
            self.emit("TRIGGERED", ins.instrument_id, order_id=due.order_id,
                      stop_price=due.stop_price, last_trade_price=last)
            if due.ord_type == ENG.ORD_STOP:
                self._execute_market(ins, due)
            else:
                self._execute_limit(ins, due, triggered=True)

    # ---- CANCEL and REPLACE -------------------------------------------------------------------

    def _live_order_on(self, cmd: Command) -> Order:
        order = self.live_orders.get(cmd.order_id)
        if order is None or order.instrument_id != cmd.instrument_id:
            raise Rejected(ENG.REJ_UNKNOWN_ORDER)
        return order

    def _cancel(self, cmd: Command) -> None:
        self.cancel_live(self._live_order_on(cmd), ENG.CXL_USER)

    def _replace(self, cmd: Command) -> None:
        order = self._live_order_on(cmd)
        ins = self.instruments[order.instrument_id]
        new_price, new_qty = cmd.price, cmd.qty
        if order.is_dark:
            self._replace_dark(ins, order, new_price, new_qty)
            return
        if order.waiting_stop:
            raise Rejected(ENG.REJ_BAD_REPLACE)
        self._check_replace(ins, order, new_price, new_qty, lowest_price=1)
        if new_price != order.price and not self._level_available(ins, order.side, new_price):
            raise Rejected(ENG.REJ_LEVEL_CAPACITY)
        if (order.flags & ENG.FLAG_POST_ONLY and ins.phase == ENG.PHASE_CONTINUOUS
                and self._would_cross(ins, order.side, new_price)):
            raise Rejected(ENG.REJ_POST_ONLY_WOULD_TAKE)
        self._velocity(order.account_id).count(self.now_ns)

        old_price, old_leaves, old_shown = order.price, order.leaves_qty, order.shown_qty
        book = ins.side(order.side)
        self.open_changed(order, new_qty - old_leaves)
        if new_price == old_price and new_qty <= old_leaves:
            order.reduce(old_leaves - new_qty)
            self._emit_replaced(order, priority_kept=1)
            if order.shown_qty != old_shown:
                self.emit_level(ins, order.side, order.price)
        elif new_price == old_price:
            order.leaves_qty = new_qty
            order.show_peak()
            book.levels[order.price].move_to_back(order)
            self._emit_replaced(order, priority_kept=0)
            self.emit_level(ins, order.side, order.price)
        else:
            book.remove(order)
            order.price, order.leaves_qty = new_price, new_qty
            order.show_peak()
            self._emit_replaced(order, priority_kept=0)
            self.emit_level(ins, order.side, old_price)
            order.shown_qty = 0  # aggressing: out of the book until it rests
            if ins.phase == ENG.PHASE_CONTINUOUS:
                matching.match(self, ins, order, protect.bound(ins, order, new_price))
                protected_rest = protect.rest_reason(ins, order, new_price) if order.leaves_qty else ENG.OK
                if protected_rest != ENG.OK:
                    self.cancel_aggressor(order, protected_rest)
                    return
            if order.leaves_qty > 0:
                self._rest(ins, order)

    def _check_replace(self, ins: Instrument, order: Order, new_price: int, new_qty: int,
                       lowest_price: int) -> None:
        """A REPLACE's quantity, price grid, phase and pre-trade risk, in the engine's order of
        checks; lowest_price 1 for a lit order, 0 for a midpoint peg (0: no limit)."""
        if new_qty <= 0:
            raise Rejected(ENG.REJ_BAD_QTY)
        if new_qty % ins.lot_size:
            raise Rejected(ENG.REJ_OFF_LOT)
        if new_price < lowest_price:
            raise Rejected(ENG.REJ_BAD_PRICE)
        if protect.sub_penny(ins, new_price):
            raise Rejected(ENG.REJ_REGNMS_SUB_PENNY)
        if new_price % ins.tick_size:
            raise Rejected(ENG.REJ_OFF_TICK)
        if ins.phase not in (ENG.PHASE_PRE_OPEN, ENG.PHASE_CONTINUOUS):
            raise Rejected(ENG.REJ_PHASE)
        reason = risk_reject_reason(ins, self._position(order.account_id, ins.instrument_id),
                                    order.account_id in self.killed_accounts,
                                    self._velocity(order.account_id).allows(self.now_ns), order.side,
                                    order.ord_type, new_price, new_qty,
                                    replaced_leaves=order.leaves_qty)
        if reason != ENG.OK:
            raise Rejected(reason)

    def _replace_dark(self, ins: Instrument, order: Order, new_price: int, new_qty: int) -> None:
        """REPLACE of a midpoint peg: price is its limit (0: none); the same limit and no more
        quantity keeps its place, else it goes to the back; then the cross runs."""
        self._check_replace(ins, order, new_price, new_qty, lowest_price=0)
        self._velocity(order.account_id).count(self.now_ns)
        kept = new_price == order.price and new_qty <= order.leaves_qty
        self.open_changed(order, new_qty - order.leaves_qty)
        order.price, order.leaves_qty = new_price, new_qty
        if not kept:
            queue = ins.dark_queue(order.side)
            queue.remove(order)
            queue.append(order)
        self._emit_replaced(order, priority_kept=int(kept))  # display_qty 0: never shown
        dark.cross(self, ins, arrival=order)

    def _emit_replaced(self, order: Order, priority_kept: int) -> None:
        self.emit("REPLACED", order.instrument_id, order_id=order.order_id, price=order.price,
                  leaves_qty=order.leaves_qty, display_qty=order.shown_qty,
                  account_id=order.account_id, priority_kept=priority_kept)

    # ---- commands answered with CMD_ACK --------------------------------------------------------

    def _mass_cancel(self, cmd: Command) -> None:
        if cmd.by_instrument and cmd.instrument_id not in self.instruments:
            raise Rejected(ENG.REJ_UNKNOWN_INSTRUMENT)
        if cmd.by_account and cmd.account_id >= self.max_accounts:
            raise Rejected(ENG.REJ_BAD_ACCOUNT)
        for order in self._all_in_book_order():
            if cmd.by_account and order.account_id != cmd.account_id:
                continue
            if cmd.by_instrument and order.instrument_id != cmd.instrument_id:
                continue
            self.cancel_live(order, ENG.CXL_MASS)
            self._affected += 1

    def _set_kill_switch(self, cmd: Command) -> None:
        if cmd.account_id >= self.max_accounts:
            raise Rejected(ENG.REJ_BAD_ACCOUNT)
        if not cmd.engaged:
            self.killed_accounts.discard(cmd.account_id)
            return
        self.killed_accounts.add(cmd.account_id)
        for order in self._all_in_book_order():
            if order.account_id == cmd.account_id:
                self.cancel_live(order, ENG.CXL_KILL_SWITCH)
                self._affected += 1

    def _end_of_day(self, cmd: Command) -> None:
        if not cmd.all_instruments and cmd.instrument_id not in self.instruments:
            raise Rejected(ENG.REJ_UNKNOWN_INSTRUMENT)
        for order in self._all_in_book_order():
            if not cmd.all_instruments and order.instrument_id != cmd.instrument_id:
                continue
            if order.tif == ENG.TIF_DAY:
                self._remove_live(order, "EXPIRED", ENG.EXP_DAY)
                self._affected += 1

    def _set_phase(self, cmd: Command) -> None:
        ins = self._known_instrument(cmd)
        if (ins.phase, cmd.phase) not in _PHASE_TRANSITIONS:
            raise Rejected(ENG.REJ_BAD_PHASE_TRANSITION)
        previous = ins.phase
        if (previous, cmd.phase) == (ENG.PHASE_PRE_OPEN, ENG.PHASE_CONTINUOUS) and not ins.is_dark:
            auction.uncross(self, ins)
        ins.phase = cmd.phase
        self.emit("PHASE", ins.instrument_id, phase=cmd.phase, prev_phase=previous)
        if ins.is_dark and cmd.phase == ENG.PHASE_CONTINUOUS:
            dark.cross(self, ins, arrival=None)  # no auction: the dark queues cross at the mid

    def _add_instrument(self, cmd: Command) -> None:
        if not 1 <= cmd.instrument_id <= self.max_instruments:
            raise Rejected(ENG.REJ_INSTRUMENT_CAPACITY)
        if cmd.instrument_id in self.instruments:
            raise Rejected(ENG.REJ_DUPLICATE_INSTRUMENT)
        if (cmd.tick_size <= 0 or cmd.lot_size <= 0 or cmd.reference_price <= 0
                or cmd.reference_price % cmd.tick_size or cmd.market_collar_ticks < 0
                or cmd.nbbo_max_age_ns < 0
                or cmd.venue_mode not in (ENG.MODE_LIT, ENG.MODE_DARK_MIDPOINT)):
            raise Rejected(ENG.REJ_BAD_CONFIG)
        if cmd.venue_mode == ENG.MODE_DARK_MIDPOINT and (cmd.tick_size % 2 or cmd.nbbo_max_age_ns == 0):
            raise Rejected(ENG.REJ_BAD_CONFIG)  # an odd tick would put midpoints between price units
        self.instruments[cmd.instrument_id] = Instrument(
            cmd.instrument_id, cmd.tick_size, cmd.lot_size, cmd.reference_price,
            cmd.market_collar_ticks, cmd.venue_mode, cmd.nbbo_max_age_ns)

    def _set_instrument_risk(self, cmd: Command) -> None:
        ins = self._known_instrument(cmd)
        if min(cmd.max_order_qty, cmd.max_order_notional, cmd.price_collar_ticks) < 0:
            raise Rejected(ENG.REJ_BAD_CONFIG)
        ins.max_order_qty = cmd.max_order_qty
        ins.max_order_notional = cmd.max_order_notional
        ins.price_collar_ticks = cmd.price_collar_ticks

    def _set_account_limit(self, cmd: Command) -> None:
        ins = self._known_instrument(cmd)
        if cmd.account_id >= self.max_accounts:
            raise Rejected(ENG.REJ_BAD_ACCOUNT)
        if cmd.max_position < 0:
            raise Rejected(ENG.REJ_BAD_CONFIG)
        self._position(cmd.account_id, ins.instrument_id).max_position = cmd.max_position

    def _set_order_velocity(self, cmd: Command) -> None:
        if cmd.account_id >= self.max_accounts:
            raise Rejected(ENG.REJ_BAD_ACCOUNT)
        if cmd.window_ns < 0 or (cmd.window_ns == 0) != (cmd.max_orders == 0):
            raise Rejected(ENG.REJ_BAD_CONFIG)
        # a new limit starts with a full bucket; 0 and 0 remove the limit
        self.velocity[cmd.account_id] = OrderVelocity(cmd.max_orders, cmd.window_ns,
                                                      Fraction(cmd.max_orders), self.now_ns)

    def _set_post_trade_limit(self, cmd: Command) -> None:
        # Validated and acknowledged only: the control plane evaluates post-trade limits.
        if cmd.account_id >= self.max_accounts:
            raise Rejected(ENG.REJ_BAD_ACCOUNT)
        if not ENG.PTL_VAR <= cmd.limit <= ENG.PTL_AUTO_KILL or cmd.value_e6 < 0:
            raise Rejected(ENG.REJ_BAD_CONFIG)

    # ---- lookups --------------------------------------------------------------------------------

    def _known_instrument(self, cmd: Command) -> Instrument:
        ins = self.instruments.get(cmd.instrument_id)
        if ins is None:
            raise Rejected(ENG.REJ_UNKNOWN_INSTRUMENT)
        return ins

    def _all_in_book_order(self) -> list[Order]:
        return [o for iid in sorted(self.instruments) for o in self.instruments[iid].book_order()]

    def _velocity(self, account_id: int) -> OrderVelocity:
        return self.velocity.get(account_id) or OrderVelocity()

    def _position(self, account_id: int, instrument_id: int) -> Position:
        key = (account_id, instrument_id)
        if key not in self.positions:
            self.positions[key] = Position()
        return self.positions[key]

    def _instrument(self, instrument_id: int) -> Instrument:
        ins = self.instruments.get(instrument_id)
        if ins is None:
            raise KeyError(f"unknown instrument {instrument_id}")
        return ins

    def _book_side(self, instrument_id: int, side: int) -> BookSide:
        if side not in (ENG.SIDE_BUY, ENG.SIDE_SELL):
            raise ValueError(f"side must be BUY or SELL, got {side}")
        return self._instrument(instrument_id).side(side)
