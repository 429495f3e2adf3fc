"""The replay's main loop in C (native/replay/rpl_loop.c), seen from Python: the loop's state, the
history arrays it reads (kept alive here), and the hand-over at a wake-up.

rpl_loop_advance (``advance_parts``: the run loop calls it itself) runs history and the strategy's
commands (stamped with their arrival, on the loop's arrival FIFO: ``push_outgoing`` packs a
wake-up's commands into one reused buffer) through the engine until the strategy must run, and
leaves its report (rpl_report_t, read with one unpack). The strategy's best own prices, by which
history slices are cut and executions rewritten, come from the loop's own table of its orders
(rpl_orders.h: its NEWs as they are pushed, its events as they are taken), which holds what
Context.orders holds whenever the loop runs.
At a wake-up the same C call has already taken what was delivered up to it: the market data into
the strategy's book view (net level changes, folded trades; a row that needs Python on its own, a
phase change or a trade for a strategy with on_trade, is held for ``take_at_wake``) and its own
events into one buffer (``own_records``: Context.apply_record books them without a Struct each),
and, for a strategy with no on_book, settled the timers (how many fire). Beside each own event it
hands over its mark (rpl_own_mark_t: its delivery time and the view's touch then), noted when the
loop's market data reached its delivery: a silent event (runtime.py Replay._set_silent_events),
taken at a later wake-up, is sampled with it. The book view the
strategy reads (``LoopBookView``) is the loop's own C copy (rpl_view.h): its touch is two fields
the C loop sets, its level dicts take the loop's net level changes and its trade figures the
loop's fold only when the strategy reads them. The timers live in the C struct (``timers``),
because the C loop computes the next wake-up from them. Only the wake-up loop moved: what the
strategy sees, when, and the commands the engine gets are those of the reference loop in
runtime.py (a test compares them).
"""
from __future__ import annotations

import struct
import weakref
from typing import Any, Callable

import numpy as np

from native import records
from native._venue import ffi, lib
from native.batch import write_cancel, write_new_limit
from native.engine import EngineError
from native.messages import Event
from trading.replay.history import CONTRA_ACCOUNT, HIST_STP_GROUP, INSTRUMENT, Cmd, History
from trading.replay.router import Router
from trading.strategy.context import BookView, Outgoing, pack_command
from trading.strategy.decode import decode_event_records

INF = 1 << 62
STOP_END, STOP_WAKE, STOP_NOTE = int(lib.RPL_STOP_END), int(lib.RPL_STOP_WAKE), int(lib.RPL_STOP_NOTE)
STOPPED = int(lib.RPL_STOPPED)
MD_FOLDED, MD_HELD = int(lib.RPL_MD_FOLDED), int(lib.RPL_MD_HELD)
OWN_TAKE = 256
# an own event's mark (rpl_own_mark_t): its delivery time and the strategy's touch then
Mark = tuple[int, int, int]
# refused history commands wait in the router's list until this many (or the run's end: count_rejects)
REJECT_BATCH = 4096
REPORT = struct.Struct("<9q")      # rpl_report_t: nine int64_t
RECORD_SIZE = records.RECORD_SIZE
_push_arrivals = lib.rpl_loop_push_arrivals     # bound once: a cffi lib attribute read per call costs
assert REPORT.size == ffi.sizeof("rpl_report_t")
assert int(lib.RPL_INF) == INF and (int(lib.RPL_KIND_ADD), int(lib.RPL_KIND_EXECUTE), int(lib.RPL_KIND_HIDDEN)) == \
    (int(Cmd.ADD), int(Cmd.EXECUTE), int(Cmd.HIDDEN))


class NativeLoop:
    """One rpl_loop_t over a history, bound to the replay's router (and through it, its engine)."""

    def __init__(self, history: History, router: Router, hit_columns: dict[str, np.ndarray], *, tick: int,
                 aggressor_base: int, lo_min: int, lf_min: int, hidden_executions: bool, stop_on_trade: bool) -> None:
        self._l: Any = ffi.new("rpl_loop_t *")
        if lib.rpl_loop_init(self._l) != 0:
            raise MemoryError("rpl_loop_init: out of memory")
        self._free = weakref.finalize(self, lib.rpl_loop_free, self._l)
        self._router = router
        self._r, self._e = router.handle, router.engine_handle
        # contiguous copies the C side reads for the loop's life
        # recs is the loop's own copy: it stamps each slice's sequence numbers into it in place
        self._arrays = {"recs": np.array(history.records, order="C", copy=True),
                        "ts": np.ascontiguousarray(history.ts_ns, dtype=np.int64),
                        "price": np.ascontiguousarray(history.price, dtype=np.int64),
                        "qty": np.ascontiguousarray(history.qty, dtype=np.int64),
                        "side": np.ascontiguousarray(history.side, dtype=np.uint8),
                        "kind": np.ascontiguousarray(history.kind, dtype=np.uint8),
                        **{name: np.ascontiguousarray(col, dtype=np.int64) for name, col in hit_columns.items()}}
        a, l = self._arrays, self._l
        l.recs = ffi.cast("eng_cmd_t *", ffi.from_buffer(a["recs"]))
        for name in ("ts", "price", "qty", "bid_exec", "ask_exec", "bid_hit", "ask_hit"):
            setattr(l, name, ffi.cast("const int64_t *", ffi.from_buffer(a[name])))
        for name in ("side", "kind"):
            setattr(l, name, ffi.cast("const uint8_t *", ffi.from_buffer(a[name])))
        l.n = len(history)
        l.tick, l.lo_min, l.lf_min = tick, lo_min, lf_min
        l.instrument, l.contra_account, l.hist_stp_group = INSTRUMENT, CONTRA_ACCOUNT, HIST_STP_GROUP
        l.aggressor_base = aggressor_base
        l.hidden_executions = int(hidden_executions)
        self._own_out: Any = ffi.new("eng_evt_t[]", OWN_TAKE)
        self._own_raw = ffi.buffer(self._own_out)
        self._own_view = memoryview(self._own_raw)     # indexed per record: its type code is byte 0
        # beside each own event taken: its delivery time and the view's touch then (rpl_own_mark_t)
        self._marks_out: Any = ffi.new("rpl_own_mark_t[]", OWN_TAKE)
        self._marks = memoryview(ffi.buffer(self._marks_out)).cast("q")
        # advance takes a wake-up's deliveries itself (take_at_wake reads them)
        l.take_out, l.take_max, l.stop_on_trade = self._own_out, OWN_TAKE, int(stop_on_trade)
        l.take_marks = self._marks_out
        self._report = ffi.buffer(ffi.addressof(self._l[0], "report"))
        self._unpack_report = REPORT.unpack_from
        self._cmd_cap = 0
        self._cmd_buffer(64)
        self.timers: list[Any] = []      # the rpl_timer_t of each timer, in the order they were set
        self.book = LoopBookView(self._l)

    @property
    def state(self) -> Any:
        """The rpl_loop_t (fields read and set by the runtime between calls)."""
        return self._l

    def _check(self, rc: int, what: str) -> int:
        if rc < 0:
            raise EngineError(f"{what}: error {rc}")
        if self._r.rej_len:
            self._router.count_rejects()
        return rc

    def advance_parts(self) -> tuple[Callable[..., int], Any, Any, Any, Any, Callable[[Any], tuple[int, ...]]]:
        """What the run loop needs to advance the loop once per wake-up without a Python call
        between: rpl_loop_advance (then called with these three, now, busy_until and flags:
        STOPPED), its first three arguments, the report's buffer and its unpacker. advance runs
        history and the strategy's arriving commands until the strategy must run, its best own
        prices taken from the loop's own table of its orders; its report (rpl_report_t: stop,
        wake_ns, now, i, took_own, took_md, settled, fired, rejects) is read in one unpack rather
        than field by field (each cffi field read costs about as much as the unpack of all of
        them). The caller calls ``check_report(report)`` where the stop is negative or the
        rejects reach REJECT_BATCH."""
        return lib.rpl_loop_advance, self._l, self._r, self._e, self._report, self._unpack_report

    def check_report(self, rep: tuple[int, ...]) -> None:
        """advance's check of its report: an error raised, the rejects counted."""
        self._check(rep[0], "rpl_loop_advance")

    def push_outgoing(self, out: list[Outgoing], arrive: list[int] | None, latency_ns: int, last: int,
                      account_id: int) -> int:
        """A wake-up's commands onto the arrival FIFO in one call, packed into the loop's reused
        command buffer (no per-wake-up array): each arrives at arrive[k], or, with arrive None, at
        its sending time plus latency_ns, never before the one before it (last: the previous
        arrival). Returns the last arrival."""
        n = len(out)
        if n > self._cmd_cap:
            self._cmd_buffer(n)
        buf, offset = self._cmd, 0
        new_limit, cancel = write_new_limit, write_cancel
        for o in out:
            sent, op, order_id, side, price, qty, tif, flags, display_qty, instrument_id, client_order_id = o
            # the k-th command's record is at k * RECORD_SIZE (no enumerate: this runs per command)
            t = sent + latency_ns if arrive is None else arrive[offset // RECORD_SIZE]
            if t > last:
                last = t
            # pack_command's two common records written here (a call less per command)
            if op == "NEW" and not display_qty:
                new_limit(buf, offset, instrument_id or INSTRUMENT, 0, last, order_id, client_order_id, price, qty,
                          account_id, 0, side, tif, 0, flags)
            elif op == "CANCEL":
                cancel(buf, offset, instrument_id or INSTRUMENT, 0, last, order_id)
            else:
                pack_command(buf, offset, o, INSTRUMENT, account_id, last)
            offset += RECORD_SIZE
        if _push_arrivals(self._l, self._cmd_ptr, n):
            raise MemoryError("rpl_loop_push_arrivals: out of memory")
        return last

    def _cmd_buffer(self, n: int) -> None:
        """The command buffer, room for n records (the pointer C reads taken once per buffer)."""
        self._cmd_cap = max(n, 2 * self._cmd_cap)
        self._cmd = bytearray(self._cmd_cap * records.RECORD_SIZE)
        self._cmd_ptr = ffi.cast("const eng_cmd_t *", ffi.from_buffer(self._cmd))

    def count_rejects(self) -> None:
        """The refused history commands still listed, into the run's counts."""
        if self._r.rej_len:
            self._router.count_rejects()

    def hist_chunk(self, a: int, b: int) -> None:
        self._check(lib.rpl_loop_hist_chunk(self._l, self._r, self._e, a, b), "rpl_loop_hist_chunk")

    def submit(self, recs: np.ndarray, own: bool) -> None:
        self._check(lib.rpl_loop_submit(self._l, self._r, self._e, ffi.cast("const eng_cmd_t *", ffi.from_buffer(recs)),
                                        len(recs), int(own)), "rpl_loop_submit")

    # ---- timers ---------------------------------------------------------------------------------
    def add_timer(self, next_ns: int, interval_ns: int, on_change: int, ignore_own_cancels: bool = False) -> None:
        """on_change: the timer's kind, Context.TIMER_* (rpl_loop.h RPL_TIMER_*); ignore_own_cancels:
        the confirmation of the strategy's own cancel is no own event for it (Context.set_timer)."""
        if lib.rpl_loop_add_timer(self._l, next_ns, interval_ns, int(on_change), int(ignore_own_cancels)) != 0:
            raise MemoryError("rpl_loop_add_timer: out of memory")
        l = self._l      # the array may have moved: every timer's cdata afresh
        self.timers = [l.timers[k] for k in range(l.n_timers)]

    # ---- the hand-over at a wake-up ------------------------------------------------------------
    def take_at_wake(self, t: int, on_row: Callable[[Any], None]) -> tuple[bool, list[Event], list[Mark]]:
        """The hand-over at the wake-up advance stopped for (t, its wake_ns): the market data it took
        into the book view (net level changes, folded trades, with what quiet wake-ups the loop
        skipped took), on_row getting each row that needs Python, in its place; then the own events
        delivered by t, decoded, in order, each with its mark (delivery time, the view's touch then).
        Returns whether a book level or a trade arrived since the last wake-up's mark_timers (what
        on-change timers and on_book react to), those events and their marks."""
        l = self._l
        k = l.took_own
        # first: the buffers are reused below (advance took none where it stopped at a held row)
        own, marks = (decode_event_records(self._own_raw, k), self._mark_list(k)) if k else ([], [])
        got = l.took_md
        held = got > 0 and got & MD_HELD
        if got:     # else nothing delivered since the last call and none of it waiting
            while True:     # the trade fold is taken when read (LoopBookView)
                if got < 0:
                    raise MemoryError("rpl_loop_take_md: out of memory")
                if not got & MD_HELD:
                    break
                on_row(l.held)
                got = lib.rpl_loop_take_md(l, self._r, t, l.stop_on_trade)
        if k == OWN_TAKE or held:
            more, more_marks = self.take_own(t)
            own += more
            marks += more_marks
        return bool(l.md_changed), own, marks

    def _mark_list(self, k: int) -> list[Mark]:
        """The marks of the k own events last taken into the hand-over buffers."""
        m = self._marks
        return [(m[j], m[j + 1], m[j + 2]) for j in range(0, 3 * k, 3)]

    @property
    def own_marks(self) -> memoryview:
        """The marks of the own event records the last hand-over took (three int64 each: delivery
        time, the view's best bid and ask then, -INF / INF for an empty side)."""
        return self._marks

    @property
    def own_records(self) -> memoryview:
        """The buffer of the own event records the last hand-over took (took_own of them, below
        take_max), valid until the next call; a record's first byte is its type code."""
        return self._own_view

    def flush_md(self) -> None:
        """What quiet wake-ups took and no wake-up has applied yet, into the book view (at the day's
        end, so the view is the reference loop's)."""
        self.book.take_fold()
        self.book.bring_levels()

    def mark_timers(self) -> None:
        """The timers marked by what the hand-over took (rpl_loop_mark_timers)."""
        lib.rpl_loop_mark_timers(self._l)

    def fire_timers(self, t: int) -> int:
        """How many timers fire at t (rpl_loop_fire_timers: their ticks moved, touches noted)."""
        return int(lib.rpl_loop_fire_timers(self._l, t))

    def settle_timers(self, t: int) -> int:
        """mark_timers() then fire_timers(t) in one C call (nothing runs between them)."""
        return int(lib.rpl_loop_settle_timers(self._l, t))

    @property
    def quiet_skipped(self) -> int:
        return int(self._l.quiet_skipped)

    def take_own(self, t: int) -> tuple[list[Event], list[Mark]]:
        """The strategy's own events delivered at or before t, in order, and their marks."""
        out: list[Event] = []
        marks: list[Mark] = []
        k = OWN_TAKE
        while k == OWN_TAKE:
            k = lib.rpl_loop_take_own(self._l, t, self._own_out, self._marks_out, OWN_TAKE)
            out += decode_event_records(self._own_raw, k)
            marks += self._mark_list(k)
        return out, marks

    def take_md_until(self, t: int, on_row: Callable[[Any], None]) -> None:
        """The market data delivered by t into the view (on_row getting each row that needs
        Python), every own event delivered by then noted (its mark)."""
        while True:
            got = lib.rpl_loop_take_md(self._l, self._r, t, self._l.stop_on_trade)
            if got < 0:
                raise MemoryError("rpl_loop_take_md: out of memory")
            if not got & MD_HELD:
                return
            on_row(self._l.held)

    def last_own_delivery(self) -> int | None:
        """The delivery time of the last own event waiting on the FIFO, None when none waits."""
        l = self._l
        return int(l.own_deliver[l.own_tail - 1]) if l.own_tail > l.own_head else None

    def own_pending(self) -> bool:
        return bool(self._l.own_tail > self._l.own_head)


class LoopBookView(BookView):
    """ctx.book of a run driven by the C loop: the touch is the loop's C copy of the view (rpl_view,
    fed every level row the strategy has been delivered), read from the loop's two fields when the
    strategy reads it; the level dicts
    (``bids``, ``asks``) are the loop's net level changes (rpl_level_t) applied only when read, so a
    wake-up at which the strategy reads only the touch costs no per-level Python. Trades (last price,
    volume) are folded in C and taken when read (or before a trade Python applies itself, or the
    level set is emptied). Invariant: whenever the strategy runs, what it reads equals the
    BookView the reference loop keeps (the level set holds the last quantity per side and price since
    it was last applied, so applying it late gives the same dicts)."""

    def __init__(self, loop: Any) -> None:
        self._l = loop
        self._levels: dict[int, dict[int, int]] = {}
        self._attached = True
        super().__init__()

    def detach(self) -> None:
        """The run is over: the dicts brought up to date, so the view outlives the loop's memory
        (ReplayResult.ctx keeps it; the loop is freed with the run)."""
        if self._attached:
            self.bring_levels()
            b, a = self._l.touch_bid, self._l.touch_ask
            self._best_bid = None if b == -INF else b
            self._best_ask = None if a == INF else a
            self._attached = False

    # the level dicts: brought up to date when read ------------------------------------------------
    @property  # type: ignore[override]
    def bids(self) -> dict[int, int]:
        if self._attached:
            self.bring_levels()
        return self._levels[1]

    @bids.setter
    def bids(self, value: dict[int, int]) -> None:
        self._levels[1] = value

    @property  # type: ignore[override]
    def asks(self) -> dict[int, int]:
        if self._attached:
            self.bring_levels()
        return self._levels[2]

    @asks.setter
    def asks(self, value: dict[int, int]) -> None:
        self._levels[2] = value

    # the trades: the loop's fold taken when read ------------------------------------------------
    @property  # type: ignore[override]
    def last_trade_price(self) -> int | None:
        if self._attached and self._l.trade_seen:
            self.take_fold()
        return self._last_trade_price

    @last_trade_price.setter
    def last_trade_price(self, value: int | None) -> None:
        self._last_trade_price = value

    @property  # type: ignore[override]
    def traded_volume(self) -> int:
        if self._attached and self._l.trade_seen:
            self.take_fold()
        return self._traded_volume

    @traded_volume.setter
    def traded_volume(self, value: int) -> None:
        self._traded_volume = value

    def trade(self, price: int, qty: int) -> None:
        """A trade Python applies itself (a held row: on_trade), after those folded before it."""
        if self._attached:
            self.take_fold()
        self._last_trade_price = price
        self._traded_volume += qty

    def bring_levels(self) -> None:
        """The level dicts up to date: at the first read, built from the loop's view (every level
        delivered so far), after which the loop keeps the net changes (levels_wanted) and each read
        applies those (sync). The dicts are the same objects throughout."""
        l = self._l
        if l.levels_wanted:
            if l.n_levels:
                self.sync()
            return
        self.take_fold()     # emptying the level set forgets the trade fold: taken first
        view = l.view
        for s, side in ((0, 1), (1, 2)):
            levels, sign, d = view.lv[s], 1 if side == 1 else -1, self._levels[side]
            d.clear()
            for k in range(view.n[s]):
                d[sign * levels[k].key] = levels[k].qty
        lib.rpl_loop_levels_clear(l)
        l.levels_wanted = 1

    def sync(self) -> None:
        """The loop's net level changes into the dicts (and the set emptied; the trade fold, which
        emptying forgets, taken first)."""
        l = self._l
        self.take_fold()
        levels, dicts = l.levels, self._levels
        for k in range(l.n_levels):
            lv = levels[k]
            side = dicts[lv.side]
            if lv.qty:
                side[lv.price] = lv.qty
            else:
                side.pop(lv.price, None)
        lib.rpl_loop_levels_clear(l)

    def take_fold(self) -> None:
        """The trades the loop folded since they were last taken: last price and volume (the level
        set waits until the dicts are read)."""
        l = self._l
        if l.trade_seen:
            self._last_trade_price = l.trade_last_price
            self._traded_volume += l.trade_volume
            l.trade_seen = 0
            l.trade_volume = 0

    def apply(self, side: int, price: int, qty: int) -> None:
        raise TypeError("the C loop's book view is fed by the loop (rpl_loop_take_md), not by apply")

    # the touch: the C view's, read where the strategy reads it (it changes only in
    # rpl_loop_take_md, so between two wake-ups Python never sees it move) -------------------------
    @property
    def best_bid(self) -> int | None:
        if self._attached:
            b: int = self._l.touch_bid
            return None if b == -INF else b
        return self._best_bid

    @property
    def mid(self) -> float | None:
        """BookView.mid from the loop's touch fields directly (read at every P&L sample)."""
        if not self._attached:
            return super().mid
        b, a = self._l.touch_bid, self._l.touch_ask
        return None if b == -INF or a == INF else (b + a) / 2

    @property
    def best_ask(self) -> int | None:
        if self._attached:
            a: int = self._l.touch_ask
            return None if a == INF else a
        return self._best_ask
