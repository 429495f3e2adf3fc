"""The hand-over of the silent own events the replay's C loop booked itself (FIDELITY.md rule 8).

For a strategy whose fills no callback hears, the C loop (native/replay/rpl_ledger.h) books each
silent own event at its delivery: the ledger (Ledger.fill's float operations, in C), the fill, its
P&L sample and the change to the strategy's order. At the next wake-up Python takes them here in
one go, before the events it was handed itself (the booked ones are the first on the loop's own
FIFO, which hands them out no more): the order changes applied to ctx.orders's OwnOrder objects
(dict look-ups and attribute sets, as Context._own_fill, _accepted and _cancelled make them), the
fills and samples appended, the C ledger's fields copied into ctx.ledger. Python and C then hold
one ledger: whenever Python books a fill itself (an event the C loop could not book: one behind an
event that wakes, or a stopped strategy's), the C loop stops booking until ``rearm`` copies
ctx.ledger back into C.
"""
from __future__ import annotations

import struct
from typing import Any, Callable

from native._venue import ffi, lib
from native.records import EvtType
from trading.strategy.api import Fill
from trading.strategy.context import Context
from trading.strategy.ledger import Ledger

INF = 1 << 62
_FILL = struct.Struct("<qqqqqqqd")           # rpl_fill_rec_t
_SAMPLE = struct.Struct("<qqdddddqqq")       # rpl_sample_rec_t
_CHANGE = struct.Struct("<qqqq")             # rpl_change_t
_LEDGER = struct.Struct("<qddddqq")          # rpl_ledger_t, Ledger's fields in order
assert (_FILL.size, _SAMPLE.size, _CHANGE.size, _LEDGER.size) == tuple(
    ffi.sizeof(t) for t in ("rpl_fill_rec_t", "rpl_sample_rec_t", "rpl_change_t", "rpl_ledger_t"))
_LEDGER_FIELDS = ("position", "avg_price", "realized", "fees", "cash", "volume", "maker_volume")
E_REPLACED, E_REJECTED = int(EvtType.REPLACED), int(EvtType.REJECTED)
# a state change's kind (rpl_ledger.h rpl_change_t): STATE | its bits
STATE, LEAVES, LIVE, REMOVED = lib.RPL_CHANGE_STATE, lib.RPL_CHANGE_LEAVES, lib.RPL_CHANGE_LIVE, lib.RPL_CHANGE_REMOVED
_new_tuple = tuple.__new__


# the changes one wake-up's hand-over holds at most: an event that finds them full is booked by
# Python instead (rpl_ledger.h), so the figure bounds memory, not results
CAPACITY = 4096


class BookedEvents:
    """The C loop's rpl_booked_t (rpl_ledger.h) of one run and its hand-over to the context. Read
    through memoryviews made once (a hand-over makes no cffi call). The fills and P&L samples stay
    in C until the run ends (``finish``): a hand-over puts a None in their places in the runtime's
    lists (nothing reads those lists during a run), so each costs no object until then."""

    def __init__(self, loop_state: Any, ctx: Context) -> None:
        b: Any = ffi.addressof(loop_state[0], "booked")
        self._b = b
        self._ctx = ctx
        self._change_array = ffi.new("rpl_change_t[]", CAPACITY)
        b.changes, b.changes_cap = self._change_array, CAPACITY
        self._changes = memoryview(ffi.buffer(self._change_array))
        # n_changes, n_fills, last_sample_ns: side by side
        self._counts = memoryview(ffi.buffer(ffi.addressof(b[0], "n_changes"), 3 * 8)).cast("q")
        assert ffi.offsetof("rpl_booked_t", "last_sample_ns") - ffi.offsetof("rpl_booked_t", "n_changes") == 16
        self._ledger_raw = memoryview(ffi.buffer(ffi.addressof(b[0], "led")))
        self._fills_taken = 0
        led = ctx.ledger
        b.maker_per_share = led.fees_schedule.maker_per_share
        b.taker_per_share = led.fees_schedule.taker_per_share
        b.price_scale = led.price_scale
        self.wanted = False       # the runtime's: fills are silent, the strategy runs, one instrument
        self._take = self._taker()

    def set_wanted(self, wanted: bool) -> None:
        """Booking in C on or off (the runtime's silent-events rule decided); the caller took what
        was booked first, so the C ledger is never overwritten with an older one."""
        self.wanted = wanted
        if not wanted:
            self._b.on = 0
        else:
            self.rearm()

    def rearm(self) -> None:
        """ctx.ledger into the C ledger and booking on again (after Python booked fills itself)."""
        if not self.wanted:
            return
        led, b = self._ctx.ledger, self._b.led
        b.position, b.avg_price, b.realized, b.fees = led.position, led.avg_price, led.realized, led.fees
        b.cash, b.volume, b.maker_volume = led.cash, led.volume, led.maker_volume
        self._b.on = 1

    @property
    def on(self) -> bool:
        return bool(self._b.on)

    def take(self, fills: list[Any], samples: list[Any]) -> int | None:
        """What was booked since the last take into the context (its orders, ledger, fill_count),
        in engine order, with a None in `fills` and `samples` for each fill and its sample (finish
        puts them there). Returns the last fill's sample time, None when no fill was booked.
        (Runs per wake-up: the work is _take's, a closure over what it reads.)"""
        return self._take(fills, samples)

    @property
    def hand_over(self) -> Callable[[list[Any], list[Any]], int | None]:
        """take as a plain function (the run loop calls it per wake-up, without a method call)."""
        return self._take

    def _taker(self) -> Callable[[list[Any], list[Any]], int | None]:
        """take's work as a closure: the context's orders, ledger and the C counts bound once (the
        context keeps the same objects for the run)."""
        counts, changes, ledger_raw, ctx = self._counts, self._changes, self._ledger_raw, self._ctx
        orders, upsized, led = ctx.orders, ctx._upsized, ctx.ledger
        unpack_ledger, changes_of, size = _LEDGER.unpack, _CHANGE.iter_unpack, _CHANGE.size
        state, removed, leaves_bit, live = STATE, REMOVED, LEAVES, LIVE

        def take(fills: list[Any], samples: list[Any]) -> int | None:
            n_changes = counts[0]
            if not n_changes:
                return None
            new = counts[1] - self._fills_taken
            if new:
                self._fills_taken += new
                if new == 1:
                    fills.append(None)
                    samples.append(None)
                else:
                    fills += [None] * new
                    samples += [None] * new
                ctx.fill_count += new
                (led.position, led.avg_price, led.realized, led.fees, led.cash, led.volume,
                 led.maker_volume) = unpack_ledger(ledger_raw)
            for kind, oid, a, b in changes_of(changes[:n_changes * size]):
                if kind & state:     # Context._own_fill, _accepted, _cancelled (their callbacks left out)
                    if kind & removed:
                        order = orders.pop(oid, None)
                        if order is not None:
                            order.status, order.leaves_qty = "done", 0
                            if b:
                                order.filled_qty += b
                            if upsized:
                                upsized.pop(oid, None)
                        continue
                    order = orders.get(oid)
                    if order is None:
                        continue
                    if kind & leaves_bit:
                        order.leaves_qty = a
                    if b:
                        order.filled_qty += b
                    if kind & live:      # (an order in ctx.orders is pending or live)
                        order.status = "live"
                elif kind == E_REPLACED:
                    ctx._replaced(oid, a, b)
                elif kind == E_REJECTED:
                    ctx._rejected(a, oid, b)
            counts[0] = 0
            return counts[2] if new else None

        return take

    def finish(self, fills: list[Any], samples: list[Any], sample_cls: type) -> None:
        """The run's booked fills (Fill tuples) and samples (sample_cls: a NamedTuple) into the places take left
        for them, in order."""
        n = self._fills_taken
        if not n:
            return
        b, inst = self._b, self._ctx.instrument_id
        booked_fills = iter([_new_tuple(Fill, (ts, oid, side, price, qty, leaves, maker == 1, fee, inst))
                             for ts, oid, side, price, qty, leaves, maker, fee
                             in _FILL.iter_unpack(ffi.buffer(b.fills, n * _FILL.size))])
        booked_samples = iter([_new_tuple(sample_cls, (ts, pos, realized, unrealized, fees, total,
                                                       mid if has_mid else None, None if bid == -INF else bid,
                                                       None if ask == INF else ask))
                               for ts, pos, realized, unrealized, fees, total, mid, has_mid, bid, ask
                               in _SAMPLE.iter_unpack(ffi.buffer(b.samples, n * _SAMPLE.size))])
        if len(fills) == n:      # every fill booked here (Python booked none itself)
            fills[:] = booked_fills
        else:
            fills[:] = [next(booked_fills) if f is None else f for f in fills]
        samples[:] = [next(booked_samples) if s is None else s for s in samples]
        self._fills_taken = 0
        lib.rpl_booked_free(b)


def ledger_fields(led: Ledger) -> tuple[Any, ...]:
    """Ledger's fields in rpl_ledger_t's order (tests compare the two)."""
    return tuple(getattr(led, name) for name in _LEDGER_FIELDS)
