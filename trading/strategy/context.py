"""The strategy's context: the one object through which it trades and reads its world.

The same Context serves live and replay. It turns calls (buy, sell, cancel, replace) into commands
in an outbox that the runtime drains after each callback (stamped with the simulated or real time
they were made, so computation time counts), and it keeps the strategy's own view: its orders
(from its own acks, fills and cancels), its ledger (position, P&L, fees), and the book as the
market data delivered so far shows it. ``apply_event`` takes the engine's events
(native.messages Structs) about the strategy's own orders, in engine order, in both modes.

Order ids: ``id_base | n`` for the n-th order of this context (id_base has bit 62 set and the
strategy's account in bits 40-55, so strategies never collide with each other or with replayed
ids).

Several instruments: the context's ``instrument_id`` is its primary instrument, and ``ctx.book``,
``ctx.ledger``, ``ctx.position``, ``ctx.phase`` and orders placed without ``instrument=`` are that
instrument's, exactly as for a single-instrument strategy. The runtime may make the context follow
more instruments (``add_instrument``: the live runner's ``others``); each has its own book view,
ledger (with its own price scale and fee schedule) and phase (``ctx.instrument(id)``), orders go
to it with ``place(..., instrument=id)``, and ``ctx.positions`` / ``ctx.total_pnl`` cover them
all. Ids stay one sequence across instruments, so an order id names one order of the context.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

from native.batch import CommandBuffer, write_cancel, write_new_limit, write_record, write_replace
from native.messages import (AcceptedEvent, CancelledEvent, CmdType, Event, ExpiredEvent, Flag, OrdType, Phase, Reason,
                             RejectedEvent,
                             ReplacedEvent, Tif, TradeEvent)
from trading.strategy.api import BUY, SELL, Fill, OwnOrder, PublicTrade
from trading.strategy.decode import field_picker
from trading.strategy.ledger import FeeSchedule, Ledger

STRATEGY_ID_BIT = 1 << 62
ORDER_SEQ_LIMIT = 1 << 40      # the n of id_base | n: below the account's bits
TIFS = {"GTC": int(Tif.GTC), "DAY": int(Tif.DAY), "IOC": int(Tif.IOC), "FOK": int(Tif.FOK)}
POST_ONLY = int(Flag.POST_ONLY)
# a timer's kind (Context.set_timer; native/replay/rpl_loop.h RPL_TIMER_*)
TIMER_EVERY, TIMER_ON_CHANGE, TIMER_ON_TOUCH = 0, 1, 2
ICEBERG = int(Flag.ICEBERG)


# code -> name, looked up per own event (an Enum call costs about 2 us; a dict get, 50 ns)
_PHASE_NAMES = {int(p): p.name for p in Phase}
_REASON_NAMES = {int(r): r.name for r in Reason}


def phase_name(code: int) -> str:
    """The Phase's name, or the code as text for one the layout does not name."""
    return _PHASE_NAMES.get(code) or str(code)


def reason_name(code: int) -> str:
    """The Reason's name, or the code as text for one the layout does not name."""
    return _REASON_NAMES.get(code) or str(code)


@dataclass(frozen=True)
class Limits:
    """The strategy's risk limits: the engine enforces max_position (account limit); the context
    refuses orders above max_order_qty before sending them (ValueError)."""
    max_position: int = 1 << 62
    max_order_qty: int = 1 << 62


class Outgoing(NamedTuple):
    """One command the strategy made: op NEW / CANCEL / REPLACE / CANCEL_ALL. Immutable; a
    NamedTuple, not a frozen dataclass, because every order call makes one (a frozen dataclass
    sets its 11 fields through object.__setattr__: about 6x the cost, measured in bench/replay.py's
    quoting run)."""
    sent_ns: int
    op: str
    order_id: int = 0
    side: int = 0
    price: int = 0
    qty: int = 0
    tif: int = 0
    flags: int = 0
    display_qty: int = 0     # with the ICEBERG flag: the shares shown (the rest is a hidden reserve)
    instrument_id: int = 0   # 0: the context's primary instrument
    client_order_id: int = 0  # NEW: the engine's client_order_id (an execution algorithm's child names its parent)


# an Outgoing from all its fields at once: the NamedTuple's own __new__ is a Python function that
# binds them by name (about 2.5x this); place and cancel, which run per order, build theirs so
_new_outgoing = tuple.__new__
assert len(Outgoing._fields) == 11


def write_command(buf: CommandBuffer, o: Outgoing, instrument_id: int, account_id: int, ts_ns: int = 0) -> None:
    """One command of the strategy into a batch of engine records (live and replay alike);
    instrument_id is the primary one, used where the command names none of its own."""
    target, offset = buf.reserve()
    pack_command(target, offset, o, instrument_id, account_id, ts_ns)


def pack_command(target: Any, offset: int, o: Outgoing, instrument_id: int, account_id: int, ts_ns: int = 0) -> None:
    """write_command's record, the whole 96 bytes, packed at byte `offset` of a writable buffer the
    caller keeps (the replay's C loop packs a wake-up's commands into one reused buffer)."""
    _, op, order_id, side, price, qty, tif, flags, display_qty, own_instrument, client_order_id = o
    instrument_id = own_instrument or instrument_id
    if op == "NEW":
        if display_qty:
            write_record(target, offset, "NEW_ORDER", instrument_id=instrument_id, ts_ns=ts_ns, order_id=order_id,
                         side=side, price=price, qty=qty, display_qty=display_qty, account_id=account_id,
                         ord_type=int(OrdType.LIMIT), tif=tif, flags=flags, client_order_id=client_order_id)
        else:
            write_new_limit(target, offset, instrument_id, 0, ts_ns, order_id, client_order_id, price, qty,
                            account_id, 0, side, tif, 0, flags)
    elif op == "CANCEL":
        write_cancel(target, offset, instrument_id, 0, ts_ns, order_id)
    elif op == "REPLACE":
        write_replace(target, offset, instrument_id, 0, ts_ns, order_id, price, qty)
    else:
        write_record(target, offset, "MASS_CANCEL", instrument_id=instrument_id, ts_ns=ts_ns, account_id=account_id,
                     by_account=1, by_instrument=1)


class BookView:
    """Price levels (price -> displayed qty) per side as delivered to the strategy so far."""

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self._best_bid: int | None = None
        self._best_ask: int | None = None
        self._dirty = False
        self.last_trade_price: int | None = None
        # every share printed on the instrument since the strategy started watching (anyone's,
        # its own included): what participation-of-volume algorithms measure themselves against
        self.traded_volume = 0

    def trade(self, price: int, qty: int) -> None:
        """A trade printed (visible or hidden): last price and cumulative volume."""
        self.last_trade_price = price
        self.traded_volume += qty

    def apply(self, side: int, price: int, qty: int) -> None:
        levels = self.bids if side == BUY else self.asks
        if qty:
            levels[price] = qty
            if side == BUY:
                if self._best_bid is None or price > self._best_bid:
                    self._best_bid = price
            elif self._best_ask is None or price < self._best_ask:
                self._best_ask = price
        elif levels.pop(price, None) is not None:
            if price == (self._best_bid if side == BUY else self._best_ask):
                self._dirty = True

    def _refresh(self) -> None:
        if self._dirty:
            self._best_bid = max(self.bids) if self.bids else None
            self._best_ask = min(self.asks) if self.asks else None
            self._dirty = False

    @property
    def best_bid(self) -> int | None:
        self._refresh()
        return self._best_bid

    @property
    def best_ask(self) -> int | None:
        self._refresh()
        return self._best_ask

    @property
    def bid_qty(self) -> int:
        b = self.best_bid
        return 0 if b is None else self.bids[b]

    @property
    def ask_qty(self) -> int:
        a = self.best_ask
        return 0 if a is None else self.asks[a]

    @property
    def mid(self) -> float | None:
        b, a = self.best_bid, self.best_ask
        if b is None or a is None:
            return None
        return (b + a) / 2

    def depth(self, side: int, levels: int = 10) -> list[tuple[int, int]]:
        """(price, qty) of one side, best first."""
        book = self.bids if side == BUY else self.asks
        return [(p, book[p]) for p in sorted(book, reverse=side == BUY)[:levels]]


@dataclass
class InstrumentState:
    """What the context knows of one instrument it follows: its book as delivered, the strategy's
    ledger in it (its own price scale and fee schedule) and its trading phase."""
    instrument_id: int
    price_scale: int
    tick_size: int
    fees: FeeSchedule
    book: BookView = field(default_factory=BookView)
    phase: str | None = None

    def __post_init__(self) -> None:
        self.ledger = Ledger(self.price_scale, self.fees)

    @property
    def pnl(self) -> float:
        """Realised + unrealised (at this instrument's mid) - fees, currency units."""
        return self.ledger.total(self.book.mid)


@dataclass
class Context:
    instrument_id: int
    account_id: int
    price_scale: int = 10_000
    tick_size: int = 1
    fees: FeeSchedule = field(default_factory=FeeSchedule)
    limits: Limits = field(default_factory=Limits)
    params: dict[str, Any] = field(default_factory=dict)
    clock: Callable[[], int] = field(default=lambda: 0)
    invoke: Callable[..., None] = field(default=lambda name, *args: None)
    venue: str = ""        # the venue this context trades on, where a strategy runs on several

    def __post_init__(self) -> None:
        primary = InstrumentState(self.instrument_id, self.price_scale, self.tick_size, self.fees)
        self.instruments: dict[int, InstrumentState] = {self.instrument_id: primary}
        self.book = primary.book
        self.ledger = primary.ledger
        self.orders: dict[int, OwnOrder] = {}      # live and pending, by id
        self.outbox: list[Outgoing] = []
        # (interval_ns, TIMER_* kind, ignore_own_cancels) per timer set (in on_start, mostly)
        self.timers: list[tuple[int, int, bool]] = []
        self.id_base = STRATEGY_ID_BIT | (self.account_id & 0xFFFF) << 40
        self._next_id = 0
        # order messages sent, by kind; RUNTIME_CANCEL_ALL: the runner's own mass cancels (clean_up_cancel_all)
        self.sent = {"NEW": 0, "CANCEL": 0, "REPLACE": 0, "CANCEL_ALL": 0, "RUNTIME_CANCEL_ALL": 0}
        self.placed_qty = 0         # shares asked for: each order at its largest size (a replace may raise it)
        self._upsized: dict[int, int] = {}   # live orders a replace made larger than placed: id -> that size
        self.fill_count = 0
        self.rejects = 0
        self.rejected_new = 0       # of them, NEW orders the engine refused (never on the book)
        self.messages: list[str] = []
        self.stopped = False

    # ---- instruments ----------------------------------------------------------------------------
    def add_instrument(self, instrument_id: int, price_scale: int | None = None, tick_size: int = 1,
                       fees: FeeSchedule | None = None) -> InstrumentState:
        """Follow one more instrument (the runtime calls this before on_start; it then delivers the
        instrument's market data). ValueError for an id <= 0, one already followed, or a tick or
        price scale below 1."""
        if instrument_id <= 0:
            raise ValueError(f"instrument id must be > 0, got {instrument_id}")
        if instrument_id in self.instruments:
            raise ValueError(f"instrument {instrument_id} is already followed")
        scale = self.price_scale if price_scale is None else price_scale
        if scale < 1 or tick_size < 1:
            raise ValueError(f"instrument {instrument_id}: price scale and tick must be >= 1, got {scale} and {tick_size}")
        state = InstrumentState(instrument_id, scale, tick_size, fees or self.fees)
        self.instruments[instrument_id] = state
        return state

    def instrument(self, instrument_id: int) -> InstrumentState:
        """One followed instrument; ValueError naming the followed ones for any other."""
        state = self.instruments.get(instrument_id)
        if state is None:
            known = ", ".join(str(i) for i in self.instruments)
            raise ValueError(f"instrument {instrument_id} is not followed by this strategy (followed: {known})")
        return state

    @property
    def phase(self) -> str | None:
        """The primary instrument's trading phase, once known."""
        return self.instruments[self.instrument_id].phase

    @phase.setter
    def phase(self, value: str | None) -> None:
        self.instruments[self.instrument_id].phase = value

    @property
    def positions(self) -> dict[int, int]:
        """Position per followed instrument."""
        return {i: s.ledger.position for i, s in self.instruments.items()}

    @property
    def total_pnl(self) -> float:
        """The P&L of every followed instrument (each marked at its own mid), currency units."""
        return sum(s.pnl for s in self.instruments.values())

    # ---- what the strategy reads ----------------------------------------------------------------
    @property
    def now(self) -> int:
        """Current time, ns (simulated in replay, the engine clock's domain live)."""
        return self.clock()

    @property
    def position(self) -> int:
        return self.ledger.position

    @property
    def pnl(self) -> float:
        """Realised + unrealised (at the mid) - fees, currency units."""
        return self.ledger.total(self.book.mid)

    def live_orders(self, side: int | None = None) -> list[OwnOrder]:
        return [o for o in self.orders.values() if side is None or o.side == side]

    # ---- what the strategy does ---------------------------------------------------------------
    def buy(self, price: int, qty: int, tif: str = "GTC", post_only: bool = False, display_qty: int = 0,
            instrument: int | None = None) -> int:
        return self.place(BUY, price, qty, tif, post_only, display_qty, instrument)

    def sell(self, price: int, qty: int, tif: str = "GTC", post_only: bool = False, display_qty: int = 0,
             instrument: int | None = None) -> int:
        return self.place(SELL, price, qty, tif, post_only, display_qty, instrument)

    def place(self, side: int, price: int, qty: int, tif: str = "GTC", post_only: bool = False,
              display_qty: int = 0, instrument: int | None = None, client_order_id: int = 0) -> int:
        """A limit order; returns its id (acks, fills and rejects name it). display_qty > 0 makes
        it an iceberg that shows that many shares and refills from the rest (ENGINE.md: each refill
        goes to the back of its level). instrument: a followed instrument (default the primary).
        client_order_id: carried to the engine and its journal as the order's client order id (an
        execution algorithm's children name their parent in it: trading/execution/parent.py).
        ValueError for a side/TIF that does not exist, an instrument not followed, a quantity
        above the strategy's max_order_qty, a display size not in 1..qty-1 (or with IOC/FOK), or
        a client_order_id outside 0..2^64-1."""
        tif_code = TIFS.get(tif) if type(tif) is str else None     # (an unhashable one: the checks' message)
        # the common order (primary instrument, a known TIF, int price and quantity within the limit,
        # no iceberg, no client order id) passes one combined test and needs no int(); any other
        # goes through every check in turn, so each bad argument still gets its own message (the
        # first one's where several are bad), and its numbers are made ints once
        plain = instrument is None and display_qty == 0 and client_order_id == 0 and tif_code is not None \
            and (side == BUY or side == SELL) and type(price) is int and type(qty) is int \
            and qty <= self.limits.max_order_qty and not self.stopped
        if plain:
            instrument_id = self.instrument_id
        else:
            instrument_id, tif_code = self._checked_order(side, qty, tif, display_qty, instrument, client_order_id)
        self._next_id += 1
        order_id = self.id_base | self._next_id
        now = self.clock()
        if plain:
            display_qty = client_order_id = 0
        else:
            price, qty, display_qty, client_order_id = int(price), int(qty), int(display_qty), int(client_order_id)
        self.orders[order_id] = OwnOrder(order_id, side, price, qty, qty, tif, "pending", 0, now, display_qty,
                                         instrument_id)
        flags = (POST_ONLY if post_only else 0) | (ICEBERG if display_qty else 0)
        self.outbox.append(_new_outgoing(Outgoing, (now, "NEW", order_id, side, price, qty, tif_code, flags,
                                                    display_qty, instrument_id, client_order_id)))
        self.sent["NEW"] += 1
        self.placed_qty += qty
        return order_id

    def _checked_order(self, side: int, qty: int, tif: str, display_qty: int, instrument: int | None,
                       client_order_id: int) -> tuple[int, int]:
        """place's checks one by one, each raising its own message; returns the order's instrument
        and its TIF's code."""
        instrument_id = self.instrument_id if instrument is None else self.instrument(instrument).instrument_id
        if side not in (BUY, SELL):
            raise ValueError(f"side must be BUY (1) or SELL (2), got {side!r}")
        if tif not in TIFS:
            raise ValueError(f"tif must be one of {', '.join(TIFS)}, got {tif!r}")
        if qty > self.limits.max_order_qty:
            raise ValueError(f"qty {qty} above the strategy's max_order_qty {self.limits.max_order_qty}")
        if display_qty and not (0 < display_qty < qty and tif in ("GTC", "DAY")):
            raise ValueError(f"display_qty must be in 1..qty-1 ({qty - 1}) on a GTC or DAY order, "
                             f"got {display_qty} ({tif})")
        if not 0 <= client_order_id < 1 << 64:
            raise ValueError(f"client_order_id must be in 0..2^64-1, got {client_order_id}")
        if self.stopped:
            raise RuntimeError("the strategy was stopped")
        return instrument_id, TIFS[tif]

    def continue_order_ids_from(self, seq: int) -> None:
        """The next order this context places is ``id_base | seq`` (later ones count up from it): a
        strategy run again under the same account starts where no earlier run's ids can be. Never
        moves the numbering back; ValueError for a seq outside the id's 40 bits."""
        if not 0 < seq < ORDER_SEQ_LIMIT:
            raise ValueError(f"order sequence {seq} outside 1..{ORDER_SEQ_LIMIT - 1}")
        self._next_id = max(self._next_id, seq - 1)

    def cancel(self, order_id: int) -> None:
        """Cancels one of this context's orders (one already done or never placed is refused by the
        engine: on_rejected). ValueError for an id this context cannot have placed (not an int, or
        outside its ``id_base``: another account's or a replayed historical order): the engine does
        not check whose order a cancel names (the gateway does: GW_NOT_OWNER), so a runner that
        sends straight to the engine (the replay, the shm runner) would remove someone else's order."""
        order = self.orders.get(order_id)
        if order is None and (type(order_id) is not int or order_id >> 40 != self.id_base >> 40):
            raise ValueError(f"order {order_id!r} is not this strategy's (its ids are {self.id_base:#x} | n)")
        self.outbox.append(_new_outgoing(Outgoing, (self.clock(), "CANCEL", order_id, 0, 0, 0, 0, 0, 0,
                                                    order.instrument_id if order is not None else 0, 0)))
        self.sent["CANCEL"] += 1

    def replace(self, order_id: int, price: int | None = None, qty: int | None = None) -> None:
        """New price and/or leaves quantity (same price and no more quantity keeps priority)."""
        order = self.orders.get(order_id)
        if order is None:
            raise KeyError(f"order {order_id} is not live")
        new_price = order.price if price is None else int(price)
        new_qty = order.leaves_qty if qty is None else int(qty)
        if new_qty > self.limits.max_order_qty:
            raise ValueError(f"qty {new_qty} above the strategy's max_order_qty {self.limits.max_order_qty}")
        self.outbox.append(Outgoing(self.clock(), "REPLACE", order_id, order.side, new_price, new_qty,
                                    instrument_id=order.instrument_id))
        self.sent["REPLACE"] += 1

    def cancel_all(self) -> None:
        """Every order of the strategy's account, in every followed instrument (one mass cancel
        per instrument)."""
        self._mass_cancel("CANCEL_ALL")

    def clean_up_cancel_all(self) -> None:
        """The runner's mass cancel, not the strategy's decision: after a callback raised, at a
        stop with orders live, at an operator's pause. The same messages as cancel_all, counted
        apart (sent["RUNTIME_CANCEL_ALL"]) so the strategy's order-to-trade figures leave them
        out, as MiFID II RTS 9 (Delegated Regulation (EU) 2017/566) leaves out cancellations made
        by a kill functionality when it counts a member's orders."""
        self._mass_cancel("RUNTIME_CANCEL_ALL")

    def _mass_cancel(self, kind: str) -> None:
        now = self.clock()
        for instrument_id in self.instruments:
            self.outbox.append(Outgoing(now, "CANCEL_ALL", instrument_id=instrument_id))
        self.sent[kind] += len(self.instruments)      # messages: one per instrument

    def set_timer(self, interval_ns: int, on_change_only: bool = False, on_touch_change: bool = False,
                  ignore_own_cancels: bool = False) -> None:
        """Calls on_timer every interval_ns from now on; with on_change_only, ticks at which no
        market data or own event arrived since the previous tick are skipped; with
        on_touch_change, ticks at which no own event arrived since the previous tick and the
        touch (ctx.book's best bid and ask prices) is the one of the timer's last firing are
        skipped. Both are promises that such a tick would change nothing (the decision depends
        on nothing else): replay skips them, and skips a wake-up that would run no callback at all
        without entering Python (trading/replay/runtime.py); live runners fire every tick.
        ignore_own_cancels (with on_change_only or on_touch_change): the confirmation of a cancel
        the strategy sent itself (CANCELLED, reason CXL_USER, nothing left) is no own event for
        this timer, a further promise: the strategy forgets an order when it cancels it, so the
        confirmation changes no decision (trading/replay/FIDELITY.md rule 8). ValueError for an
        interval <= 0, or ignore_own_cancels on a timer that fires every tick."""
        if interval_ns <= 0:
            raise ValueError(f"timer interval must be positive, got {interval_ns}")
        kind = TIMER_ON_TOUCH if on_touch_change else TIMER_ON_CHANGE if on_change_only else TIMER_EVERY
        if ignore_own_cancels and kind == TIMER_EVERY:
            raise ValueError("ignore_own_cancels needs on_change_only or on_touch_change (this timer fires every tick)")
        self.timers.append((int(interval_ns), kind, bool(ignore_own_cancels)))

    def log(self, message: str) -> None:
        self.messages.append(f"{self.clock()} {message}")

    # ---- what the runtime feeds in -------------------------------------------------------------
    def apply_event(self, ev: Event) -> None:
        """One engine event about the strategy's own orders (a native.messages Struct), in engine
        order; the same in live and replay."""
        if isinstance(ev, AcceptedEvent):
            self._accepted(ev.order_id)
        elif isinstance(ev, RejectedEvent):
            self._rejected(ev.reason, ev.order_id, ev.cmd_type)
        elif isinstance(ev, TradeEvent):
            self._traded(ev.ts_ns, ev.buy_order_id, ev.sell_order_id, ev.price, ev.qty, ev.buy_leaves_qty,
                         ev.sell_leaves_qty, ev.buy_account_id, ev.sell_account_id, ev.aggressor_side)
        elif isinstance(ev, CancelledEvent):
            self._cancelled(ev.reason, ev.order_id, ev.leaves_qty)
        elif isinstance(ev, ExpiredEvent):
            self._cancelled(ev.reason, ev.order_id, 0)
        elif isinstance(ev, ReplacedEvent):
            self._replaced(ev.order_id, ev.price, ev.leaves_qty)

    def apply_record(self, raw: Any, offset: int) -> int:
        """apply_event for the 96-byte engine event record at byte `offset` of `raw`, without
        building its Struct (the replay's C loop hands its own events over as records): only the
        fields the context reads are unpacked, in one call per record, and the same handlers run.
        Returns the record's event type code."""
        code: int = _EVENT_TYPE(raw, offset)[0]
        if code == _TRADE_CODE:     # an own fill, the most frequent: _trade_at inlined
            ts_ns, buy_id, sell_id, price, qty, buy_leaves, sell_leaves, buy_account, sell_account, aggressor = \
                _TRADE(raw, offset)
            if buy_account == self.account_id and buy_id in self.orders:
                self._own_fill(ts_ns, price, qty, aggressor, BUY, buy_id, buy_leaves)
            if sell_account == self.account_id and sell_id in self.orders:
                self._own_fill(ts_ns, price, qty, aggressor, SELL, sell_id, sell_leaves)
            return code
        if code == _CANCELLED_CODE:     # the next most frequent: _cancelled_at inlined
            reason, order_id, leaves = _CANCELLED(raw, offset)
            self._cancelled(reason, order_id, leaves)
            return code
        take = _TAKE_RECORD.get(code)
        if take is not None:
            take(self, raw, offset)
        return code

    # one reader per own event type (_TAKE_RECORD): its fields unpacked at once, its handler called
    def _accepted_at(self, raw: Any, offset: int) -> None:
        self._accepted(_ACCEPTED(raw, offset)[0])

    def _rejected_at(self, raw: Any, offset: int) -> None:
        reason, order_id, cmd_type = _REJECTED(raw, offset)
        self._rejected(reason, order_id, cmd_type)

    def _trade_at(self, raw: Any, offset: int) -> None:
        """_traded for a record, its two tests inlined (this runs per own fill)."""
        ts_ns, buy_id, sell_id, price, qty, buy_leaves, sell_leaves, buy_account, sell_account, aggressor = \
            _TRADE(raw, offset)
        account, orders = self.account_id, self.orders
        if buy_account == account and buy_id in orders:
            self._own_fill(ts_ns, price, qty, aggressor, BUY, buy_id, buy_leaves)
        if sell_account == account and sell_id in orders:
            self._own_fill(ts_ns, price, qty, aggressor, SELL, sell_id, sell_leaves)

    def _cancelled_at(self, raw: Any, offset: int) -> None:
        reason, order_id, leaves = _CANCELLED(raw, offset)
        self._cancelled(reason, order_id, leaves)

    def _expired_at(self, raw: Any, offset: int) -> None:
        reason, order_id = _EXPIRED(raw, offset)
        self._cancelled(reason, order_id, 0)

    def _replaced_at(self, raw: Any, offset: int) -> None:
        order_id, price, leaves = _REPLACED(raw, offset)
        self._replaced(order_id, price, leaves)

    # one handler per own event type, the same for a Struct (apply_event) and a record --------------
    def _accepted(self, order_id: int) -> None:
        order = self.orders.get(order_id)
        if order is not None:
            order.status = "live"
            self.invoke("on_accepted", order)

    def _rejected(self, reason: int, order_id: int, cmd_type: int) -> None:
        self.rejects += 1
        if cmd_type == _CMD_NEW:
            self.rejected_new += 1
        order = self.orders.get(order_id)
        if order is not None and order.status == "pending" and cmd_type == _CMD_NEW:
            del self.orders[order_id]
        self.invoke("on_rejected", order_id, reason_name(reason))

    def _traded(self, ts_ns: int, buy_order_id: int, sell_order_id: int, price: int, qty: int, buy_leaves: int,
                sell_leaves: int, buy_account: int, sell_account: int, aggressor_side: int) -> None:
        if buy_account == self.account_id and buy_order_id in self.orders:
            self._own_fill(ts_ns, price, qty, aggressor_side, BUY, buy_order_id, buy_leaves)
        if sell_account == self.account_id and sell_order_id in self.orders:
            self._own_fill(ts_ns, price, qty, aggressor_side, SELL, sell_order_id, sell_leaves)

    def _cancelled(self, reason: int, order_id: int, leaves: int) -> None:
        """CANCELLED (leaves: what is left after a partial cancel) or EXPIRED (leaves 0)."""
        order = self.orders.get(order_id)
        if order is None:
            return
        if leaves:
            order.leaves_qty = leaves
            return
        order.status, order.leaves_qty = "done", 0
        del self.orders[order_id]
        if self._upsized:
            self._upsized.pop(order_id, None)
        self.invoke("on_cancelled", order, _REASON_NAMES.get(reason) or str(reason))    # reason_name, inlined

    def _replaced(self, order_id: int, price: int, leaves: int) -> None:
        order = self.orders.get(order_id)
        if order is not None:
            order.price, order.leaves_qty = price, leaves
            # its size is now what it filled plus the new leaves; placed_qty counts the largest one
            # (the fill ratio's denominator: an upsized order filled in full is a ratio of 1, not more)
            size, largest = order.filled_qty + leaves, self._upsized.get(order_id, order.qty)
            if size > largest:
                self.placed_qty += size - largest
                self._upsized[order_id] = size

    def _own_fill(self, ts_ns: int, price: int, qty: int, aggressor_side: int, side: int, order_id: int,
                  leaves: int) -> None:
        order = self.orders[order_id]
        maker = aggressor_side != side
        # an order's instrument is one the context follows (place checks it); 0 is the primary one
        state = self.instruments.get(order.instrument_id) or self.instruments[self.instrument_id]
        fee = state.ledger.fill(side, price, qty, maker)
        order.leaves_qty = leaves
        order.filled_qty += qty
        self.fill_count += 1
        if leaves == 0:
            order.status = "done"
            del self.orders[order_id]
            if self._upsized:
                self._upsized.pop(order_id, None)
        elif order.status == "pending":
            order.status = "live"
        # Fill's fields in order, through tuple.__new__ (its NamedTuple __new__ binds them by name:
        # about 2.5x this); the same Fill
        self.invoke("on_fill", _new_fill(Fill, (ts_ns, order_id, side, price, qty, leaves, maker, fee,
                                                state.instrument_id)))

    def apply_phase(self, phase: int, previous: int, notify: bool = True, instrument_id: int | None = None) -> None:
        """The engine's PHASE event for an instrument (codes of native.messages.Phase; default the
        primary): its phase, then on_phase for the primary instrument only (notify=False: a
        snapshot's phase, no callback)."""
        state = self.instruments.get(self.instrument_id if instrument_id is None else instrument_id)
        if state is None:
            return
        state.phase = phase_name(phase)
        if notify and state.instrument_id == self.instrument_id:
            self.invoke("on_phase", state.phase, phase_name(previous))

    def apply_trade(self, trade: PublicTrade) -> None:
        self.book.trade(trade.price, trade.qty)


_new_fill = tuple.__new__
assert Fill._fields == ("ts_ns", "order_id", "side", "price", "qty", "leaves_qty", "maker", "fee", "instrument_id")

# apply_record: per own event type, the fields its reader takes (in record order: field_picker)
_EVENT_TYPE = struct.Struct("<H").unpack_from     # the header's first field, as decode.py reads it
_CMD_NEW = int(CmdType.NEW_ORDER)
_TRADE_CODE, _CANCELLED_CODE = TradeEvent.CODE, CancelledEvent.CODE
_ACCEPTED = field_picker(AcceptedEvent.CODE, ("order_id",)).unpack_from
_REJECTED = field_picker(RejectedEvent.CODE, ("reason", "order_id", "cmd_type")).unpack_from
_TRADE = field_picker(TradeEvent.CODE, ("ts_ns", "buy_order_id", "sell_order_id", "price", "qty", "buy_leaves_qty",
                                        "sell_leaves_qty", "buy_account_id", "sell_account_id",
                                        "aggressor_side")).unpack_from
_CANCELLED = field_picker(CancelledEvent.CODE, ("reason", "order_id", "leaves_qty")).unpack_from
_EXPIRED = field_picker(ExpiredEvent.CODE, ("reason", "order_id")).unpack_from
_REPLACED = field_picker(ReplacedEvent.CODE, ("order_id", "price", "leaves_qty")).unpack_from
_TAKE_RECORD: dict[int, Callable[[Context, Any, int], None]] = {
    AcceptedEvent.CODE: Context._accepted_at, RejectedEvent.CODE: Context._rejected_at,
    TradeEvent.CODE: Context._trade_at, CancelledEvent.CODE: Context._cancelled_at,
    ExpiredEvent.CODE: Context._expired_at, ReplacedEvent.CODE: Context._replaced_at}
