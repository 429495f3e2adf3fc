"""Replay: a historical day and a strategy through the real C engine, in-process, on a simulated
clock (FIDELITY.md beside this file states every rule; each has a test).

Three streams are merged in time order: the day's engine commands (history.py), the strategy's
commands (each reaching the engine after the order latency), and deliveries to the strategy (the
engine's events after the feed latency; timers). Historical commands run through the engine in
batches (one C call each), as long as causality allows: a batch never runs past the earliest time
a command the strategy has not made yet could arrive (its next possible wake-up plus the minimum
order latency). A batch is also cut where a historical command could touch one of the strategy's
orders (an execution at or through its price, an add that crosses it), so the fill reaches the
strategy before anything the strategy could not have reacted to. A strategy that subscribes to
nothing runs the whole day in one engine call.

Two implementations of this loop give the same run byte for byte: the reference loop in Python
(any latency model) and the C loop (native/replay/rpl_loop.c via native_loop.py), used when the
feed latency is constant, which runs history in C until the strategy must run, so a wake-up costs
one C call and the strategy's callbacks (tests/trading/replay/test_c_loop_matches_reference.py).

Wake-ups: a wake-up at which no callback runs and nothing of the strategy's own arrives (e.g. an
on-touch-change timer's tick with the touch unmoved: Context.set_timer) is quiet: its deliveries
are taken and the timers' ticks moved, but no computation is charged and no P&L sample taken; the
C loop decides those in C (its own copy of the book view's touch) and never enters Python for them.
Own events that no callback hears (_set_silent_events) wake nothing: each is noted at its delivery
(a step of the loop: the timers marked, the strategy's orders updated, its view's touch kept as the
mark of a fill's P&L sample) and taken into the context at the next wake-up (FIDELITY.md rule 8);
while the strategy's fills are silent the C loop books them itself at their delivery (ledger, fill,
P&L sample, order change: native/replay/rpl_ledger.h) and the wake-up takes what it booked in one
hand-over (booked.py; the Fill and Sample objects are built once, at the end of the run).

Ties: at equal times historical messages go first, then the strategy's arriving commands, then
deliveries to the strategy. The strategy's own computation time (measured per callback, or a fixed
number, or none) advances its clock: commands it makes carry the time at which it made them, and it
cannot be woken again before its previous callbacks have finished.

Measured computation time is recorded: every reading of the strategy's elapsed time (each clock
read inside a callback, and each callback's end) is kept in the result's ``compute_charges``, in
the order the run made them. A run given those readings (``ReplayConfig.compute_charges``,
``--compute-charges FILE``) uses them instead of the wall clock, in the same order, and so
reproduces the measured run byte for byte; readings that run out, or are left over, mean the file
belongs to another run, which is an error (ComputeChargesMismatch), never a silent guess.
"""
from __future__ import annotations

import gc
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Collection, NamedTuple

import numpy as np

from native import records
from native._venue import ffi, lib
from native.batch import CommandBuffer, encode_columns
from native.engine import Engine
from native.messages import (AcceptedEvent, CancelledEvent, Event, ExpiredEvent, Reason, RejectedEvent, ReplacedEvent,
                             TradeEvent)
from native.records import EvtType, OrdType, Side, StpMode, Tif
from trading.replay.history import (
    CONTRA_ACCOUNT,
    HIST_STP_GROUP,
    INSTRUMENT,
    MAX_ACCOUNTS,
    Cmd,
    History,
)
from trading.replay.latency import Banded, Constant, LatencyModel, activity
from trading.replay import native_loop
from trading.replay.booked import BookedEvents
from trading.replay.native_loop import STOP_END, STOP_NOTE, STOP_WAKE, STOPPED, Mark, NativeLoop
from trading.replay.router import Router
from trading.strategy.api import BUY, SELL, Fill, PublicTrade, Strategy, overrides
from trading.strategy.decode import field_picker
from trading.strategy.context import TIMER_ON_CHANGE, TIMER_ON_TOUCH, Context, Limits, Outgoing, write_command
from trading.strategy.ledger import FeeSchedule

INF = 1 << 62
AGGRESSOR_ID_BASE = 3 << 62      # ids of the IOC orders that stand for historical executions
SLICE = 4096                     # history commands per engine call at most
GC_YOUNG_THRESHOLD = 100_000     # new container objects between two young collections during a run
_HDR = records.dtype_of("eng_cmd_hdr_t")
_EVT_HDR = records.dtype_of("eng_evt_hdr_t")
_BOOK = records.dtype_of("eng_evt_book_level_t")
_TRADE = records.dtype_of("eng_evt_trade_t")
_CXL = records.dtype_of("eng_evt_cancelled_t")
_EXP = records.dtype_of("eng_evt_expired_t")
_REJ = records.dtype_of("eng_evt_rejected_t")
E_BOOK, E_TRADE, E_REJ, E_CXL, E_EXP = (int(EvtType.BOOK_LEVEL), int(EvtType.TRADE), int(EvtType.REJECTED),
                                        int(EvtType.CANCELLED), int(EvtType.EXPIRED))
E_ACCEPTED = int(EvtType.ACCEPTED)
assert max(int(t) for t in EvtType) < 256 and _EVT_HDR.fields["type"][1] == 0
# an ACCEPTED record's order id, read where a silent ack is booked without Context.apply_record
ACCEPTED_ORDER_ID = field_picker(E_ACCEPTED, ("order_id",)).unpack_from
CXL_USER = int(Reason.CXL_USER)
# the own events a strategy may leave unheard: the callback that hears each (None: none does)
HEARD_BY: dict[type, str | None] = {AcceptedEvent: "on_accepted", TradeEvent: "on_fill", CancelledEvent: "on_cancelled",
                                    ExpiredEvent: "on_cancelled", RejectedEvent: "on_rejected", ReplacedEvent: None}
RECORD_SIZE = records.RECORD_SIZE
# the order events, ACCEPTED .. EXPIRED, are the codes 1..6
_OWN_FIRST, _OWN_LAST = int(EvtType.ACCEPTED), int(EvtType.EXPIRED)
assert [int(t) for t in (EvtType.ACCEPTED, EvtType.REJECTED, EvtType.TRADE, EvtType.CANCELLED, EvtType.REPLACED,
                         EvtType.EXPIRED)] == list(range(_OWN_FIRST, _OWN_LAST + 1))


# the own events that mark no timer while ACCEPTED is silent (_first_marking_own)
_ACCEPTED_ONLY = frozenset({AcceptedEvent})


@dataclass
class ReplayConfig:
    order_latency: LatencyModel = field(default_factory=lambda: Constant(0))
    feed_latency: LatencyModel = field(default_factory=lambda: Constant(0))
    compute: str | int = "measured"     # "measured", "none", or ns charged per callback
    seed: int = 0
    account_id: int = 2
    limits: Limits = field(default_factory=Limits)
    fees: FeeSchedule = field(default_factory=FeeSchedule)
    sample_every_ns: int = 1_000_000_000
    hidden_executions: bool = True      # False: hidden prints never fill strategy orders (as the peer)
    # measured readings of an earlier run (ReplayResult.compute_charges) used instead of the clock
    compute_charges: tuple[int, ...] | None = None
    # "auto": the C loop (native_loop.py) where the feed latency is constant, else the reference
    # loop in Python; "python": always the reference loop. Both give the same run, byte for byte.
    loop: str = "auto"


class Sample(NamedTuple):
    """The strategy's P&L at one time: at each of its fills (its delivery) and, at most every
    ReplayConfig.sample_every_ns, at a wake-up. Immutable; a NamedTuple built through
    tuple.__new__ (_new_sample) because a run takes one per fill and per periodic wake-up (a
    dataclass's __init__ sets its nine fields one by one: about 4x the cost)."""
    ts_ns: int
    position: int
    realized: float
    unrealized: float
    fees: float
    total: float
    mid: float | None
    own_bid: int | None
    own_ask: int | None


# a Sample from all its fields at once (the NamedTuple's own __new__ binds them by name)
_new_sample = tuple.__new__
assert len(Sample._fields) == 9


@dataclass
class ReplayResult:
    strategy: str
    params: dict[str, Any]
    config: dict[str, Any]
    fills: list[Fill]
    samples: list[Sample]
    counts: dict[str, int]
    ctx: Context
    error: str | None
    start_ns: int
    end_ns: int
    wall_s: float
    engine_commands: int
    engine_events: int
    # every elapsed-time reading of the strategy, in order ("measured" mode; empty otherwise)
    compute_charges: list[int] = field(default_factory=list)
    # times the strategy's side ran in Python (a wake-up: its deliveries taken, its callbacks due)
    wakeups: int = 0


class StrategyFailed(Exception):
    pass


class ComputeChargesMismatch(ValueError):
    """Replayed compute charges that do not fit the run (another strategy, data or parameters)."""


class Replay:
    def __init__(self, history: History, strategy: Strategy, config: ReplayConfig | None = None) -> None:
        self.h = history
        self.s = strategy
        self.cfg = config or ReplayConfig()
        if not 2 <= self.cfg.account_id < MAX_ACCOUNTS:
            raise ValueError(f"strategy account must be in 2..{MAX_ACCOUNTS - 1} (0 and 1 are the history's)")
        if not (self.cfg.compute in ("measured", "none") or isinstance(self.cfg.compute, int) and self.cfg.compute >= 0):
            raise ValueError(f"compute must be 'measured', 'none' or ns >= 0, got {self.cfg.compute!r}")
        charges = self.cfg.compute_charges
        if charges is not None and self.cfg.compute != "measured":
            raise ValueError("compute charges replay measured readings: compute must be 'measured'")
        if charges is not None and any(not isinstance(c, int) or c < 0 for c in charges):
            raise ValueError("compute charges must be integers >= 0 (ns)")
        if self.cfg.loop not in ("auto", "python"):
            raise ValueError(f"loop must be 'auto' or 'python', got {self.cfg.loop!r}")
        self._replayed = list(charges) if charges is not None else None
        self.readings: list[int] = []
        self.rng = np.random.default_rng(self.cfg.seed)
        n = len(history)
        self.eng = Engine(max_orders=min(max(1 << 14, n + 1024), 1 << 20), max_levels=min(max(1 << 12, n // 4), 1 << 18),
                          max_instruments=1, max_accounts=MAX_ACCOUNTS)
        self.i = 0
        self.now = int(history.ts_ns[0]) if n else 0
        self.arrivals: deque[tuple[int, Outgoing]] = deque()
        self.last_arrival = 0
        self.own: deque[tuple[int, Event]] = deque()
        self.ctx = Context(INSTRUMENT, self.cfg.account_id, history.day.price_scale, history.day.tick_size,
                           self.cfg.fees, self.cfg.limits, dict(strategy.params), clock=self._clock_of(), invoke=self._invoke)
        self.subscribed = {name: overrides(strategy, name) for name in (
            "on_book", "on_trade", "on_phase", "on_timer", "on_fill", "on_accepted", "on_rejected", "on_cancelled",
            "on_start")}
        # the overridden callbacks' bound methods, taken once (_invoke runs per own event)
        self._bound: dict[str, Callable[..., None]] = {
            name: getattr(strategy, name) for name, on in self.subscribed.items() if on}
        # callbacks that market data itself triggers: any delivery may wake the strategy
        self.md_callbacks = self.subscribed["on_book"] or self.subscribed["on_trade"] or self.subscribed["on_phase"]
        # a strategy that overrides nothing never reads the book: no market data is delivered
        self.wants_md = any(self.subscribed.values())
        self.error: str | None = None
        self.fills: list[Fill] = []
        self.samples: list[Sample] = []
        self.last_sample = -INF
        self._sample_every = self.cfg.sample_every_ns
        self.counts: dict[str, int] = {}
        # engine calls and routing in C; market data waits on its FIFO until delivered
        self.router = Router(self.eng, self.cfg.account_id, self.wants_md, self.cfg.feed_latency, self.rng,
                             history.ts_ns, self.counts)
        # the history's columns as lists, read per command by the reference loop only (filled below)
        self._ts: list[int] = []
        self._side: list[int] = []
        self._price: list[int] = []
        self._qty: list[int] = []
        self._kind: list[int] = []
        self._hidden_before: list[int] = []
        self._aggressor_buf = CommandBuffer(capacity=64)
        self._strategy_buf = CommandBuffer(capacity=64)
        order_latency = self.cfg.order_latency
        self._order_latency_ns = order_latency.ns if isinstance(order_latency, Constant) else None
        # [next_ns, interval_ns, kind (Context TIMER_*), changed, fired_bid, fired_ask, ignore_own_cancels]
        # (the touch at its last firing, -INF / INF: none), as rpl_loop.h's rpl_timer_t
        self.timers: list[list[int]] = []
        self.busy_until = 0
        self._cb_start = 0
        self._wake_ts = 0
        self._charged = 0
        self._measured = self.cfg.compute == "measured"
        # ns charged per callback in the fixed mode (0 in the others)
        self._fixed_charge = self.cfg.compute if isinstance(self.cfg.compute, int) else 0
        self.wakeups = 0
        self._calls = 0          # callbacks run (a wake-up that runs none and takes no own event is quiet)
        # own events that wake nothing (_set_silent_events): their classes, and per type code whether
        # it is one of them (the C loop's hand-over reads the records' codes)
        self._silent: frozenset[type] = frozenset()
        self._silent_code = bytes(256)
        self._silent_marks = False  # a silent event other than ACCEPTED exists: marks are noted
        self._fill_mark: tuple[int, float | None] | None = None   # a silent fill's sample (time, mid)
        # _note_silent took market data that changed the book or the trades since the timers' last
        # marking; the first time it ran since then (INF: not since; an unmarked timer's tick never
        # moves past it, as the touch may have moved: rpl_loop.h noted_md_ns)
        self._noted_md = False
        self._noted_md_at = INF
        self._timers_seen = -1      # timers the silent-events rule last saw (-1: not yet decided)
        self.next_aggressor = 0
        # per history command, the own bid at or above which (ask at or below which) it could trade
        # with the strategy: executions on that side at their price, adds crossing from the other side
        execs = (history.kind == Cmd.EXECUTE) | (history.kind == Cmd.HIDDEN)
        adds = history.kind == Cmd.ADD
        buy, sell = history.side == BUY, history.side == SELL
        self._bid_exec = np.where(execs & buy, history.price, INF)
        self._ask_exec = np.where(execs & sell, history.price, -INF)
        self._bid_hit = np.where(adds & sell, history.price, self._bid_exec)
        self._ask_hit = np.where(adds & buy, history.price, self._ask_exec)
        self._c = {name: ffi.cast("const int64_t *", ffi.from_buffer(getattr(self, name)))
                   for name in ("_bid_exec", "_ask_exec", "_bid_hit", "_ask_hit")}
        # the C loop drives the run where the router stamps deliveries itself (constant feed latency)
        self._stop_on_trade = int(self.subscribed["on_trade"])
        self.loop: NativeLoop | None = None
        self._booked: BookedEvents | None = None
        if self.cfg.loop == "auto" and isinstance(self.cfg.feed_latency, Constant):
            self.loop = NativeLoop(history, self.router, {name[1:]: getattr(self, name) for name in self._c},
                                   tick=history.day.tick_size, aggressor_base=AGGRESSOR_ID_BASE,
                                   lo_min=self.cfg.order_latency.minimum, lf_min=self.cfg.feed_latency.minimum,
                                   hidden_executions=self.cfg.hidden_executions,
                                   stop_on_trade=bool(self._stop_on_trade))
            # the strategy reads the loop's own view (its touch from C, its levels when read)
            self.ctx.book = self.ctx.instruments[INSTRUMENT].book = self.loop.book
            self.loop.state.orders.account_id = self.cfg.account_id     # its side of a TRADE
            # the hand-over buffers (the loop's for its life), read per wake-up with own events
            self._own_records, self._own_marks = self.loop.own_records, self.loop.own_marks
            # silent own events booked in C at their delivery while fills are silent (booked.py)
            self._booked = BookedEvents(self.loop.state, self.ctx)
        else:
            self._ts = history.ts_ns.tolist()
            self._side, self._price, self._qty = history.side.tolist(), history.price.tolist(), history.qty.tolist()
            self._kind = history.kind.tolist()
            self._hidden_before = np.concatenate(([0], np.cumsum(history.kind == Cmd.HIDDEN))).tolist()

    # ---- the strategy's clock ---------------------------------------------------------------
    def _elapsed(self) -> int:
        """The running callback's computation time so far: measured, or the next recorded reading."""
        k = len(self.readings)
        if self._replayed is None:
            value = time.perf_counter_ns() - self._cb_start
        elif k < len(self._replayed):
            value = self._replayed[k]
        else:
            raise ComputeChargesMismatch(f"the compute charges ran out after {k} readings: they were recorded "
                                         "by another run (strategy, parameters, data or latency differ)")
        self.readings.append(value)
        return value

    def _clock_of(self) -> Callable[[], int]:
        """The strategy's clock (ctx.now, the stamp of what it sends) as its compute mode charges
        it: the mode's own method, given to the context (read once or more per order)."""
        compute = self.cfg.compute
        if compute == "measured":
            return self._clock_measured
        if compute == "none":
            return self._clock_none
        return self._clock_fixed

    def _clock_measured(self) -> int:
        return self._wake_ts + self._charged + (self._elapsed() if self._cb_start else 0)

    def _clock_none(self) -> int:
        return self._wake_ts

    def _clock_fixed(self) -> int:
        # a fixed charge: what a callback makes leaves when its (charged) computation is done
        return self._wake_ts + self._charged + (self._fixed_charge if self._cb_start else 0)

    def _invoke(self, name: str, *args: Any) -> None:
        if name == "on_fill":
            self.fills.append(args[0])
            mark = self._fill_mark
            if mark is None:
                self._sample(self._wake_ts, True)
            else:      # a silent fill: at its delivery, marked at the strategy's mid then
                self._sample_marked(mark[0], mark[1])
                return     # silent: no on_fill hears it
        if self.error is not None:
            return
        fn = self._bound.get(name)
        if fn is None:
            if not self.subscribed.get(name, True):
                return
            fn = getattr(self.s, name)
        self._callback(fn, name, args)

    def _callback(self, fn: Callable[..., None], name: str, args: tuple[Any, ...]) -> None:
        """The strategy's callback `fn` (its method `name`) with its computation charged; one that
        raises stops the strategy (the replay goes on). The hot path calls it with the bound
        method it took once (on_timer), _invoke with the one it looks up."""
        self._calls += 1
        measured, fixed = self._measured, self._fixed_charge
        if measured:
            self._cb_start = time.perf_counter_ns()
        elif fixed:
            # _clock reads the start only in "measured" mode; here it is a flag (inside a callback)
            self._cb_start = 1
        # with neither, nothing is charged and no clock reads the flag (_clock_none, or a fixed
        # charge of 0): _cb_start stays 0
        try:
            fn(self.ctx, *args)
        except ComputeChargesMismatch:
            raise
        except Exception as exc:   # a strategy that raises is stopped; the replay goes on
            self._fail(name, exc)
        if measured:
            self._charged += self._elapsed()
            self._cb_start = 0
        elif fixed:
            self._charged += fixed
            self._cb_start = 0

    def _fail(self, where: str, exc: Exception) -> None:
        """The strategy raised `exc` in its callback `where`: stopped, with the error and the
        traceback from the callback on (the runtime's frame that called it left out: it differs
        between the places that call a callback, and the error is the strategy's)."""
        tb = exc.__traceback__
        if tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        trace = "".join(traceback.format_exception(type(exc), exc, tb, limit=6))
        self.error = (f"{type(self.s).__name__}.{where} raised at {self._wake_ts} ns: "
                      f"{type(exc).__name__}: {exc}\n{trace}")
        self.ctx.outbox.clear()
        self.ctx.clean_up_cancel_all()
        self.ctx.stopped = True

    # ---- main loop ------------------------------------------------------------------------
    def run(self, progress: Callable[[float], None] | None = None) -> ReplayResult:
        """The day through the engine with the strategy. The cyclic garbage collector's youngest
        generation is collected every GC_YOUNG_THRESHOLD new container objects during the run
        instead of every 700 (Python's default; restored after): its passes over the objects a day
        accumulates (fills, samples, orders, commands) cost about 2% of a quoting run
        (bench/replay.py), while a strategy that makes reference cycles still has them collected,
        its memory bounded. Reference counting frees everything else at once either way."""
        thresholds = gc.get_threshold()
        gc.set_threshold(max(GC_YOUNG_THRESHOLD, thresholds[0]), *thresholds[1:])
        try:
            return self._run(progress)
        finally:
            gc.set_threshold(*thresholds)

    def _run(self, progress: Callable[[float], None] | None) -> ReplayResult:
        wall = time.perf_counter()
        h = self.h
        n = len(h)
        self._setup()
        self._wake_ts = self.now
        self._invoke("on_start")
        self._after_wake(self.now)
        ts = h.ts_ns
        if self.i < n:
            self.now = int(ts[self.i])
        if self.loop is not None:
            self._run_c_loop(progress)
        else:
            self._run_reference(progress)
        end = max(self.now, int(ts[-1]) if n else 0, self._last_waiting())
        self._take_waiting(end)
        self._wake_ts = end
        self._charged = 0
        if self.error is None:
            self._invoke("on_stop")
        self._final_cancel(end)
        self._sample(end, force=True)
        if self._booked is not None:
            self._booked.finish(self.fills, self.samples, Sample)
        if self.loop is not None:
            self.loop.book.detach()
        if progress is not None:
            progress(1.0)
        if self._replayed is not None and len(self.readings) != len(self._replayed):
            raise ComputeChargesMismatch(f"the run used {len(self.readings)} of {len(self._replayed)} compute charges: "
                                         "they were recorded by another run")
        self._counts_of_c_loop()
        return ReplayResult(
            strategy=type(self.s).__name__, params=dict(self.s.params), config=self._describe_config(),
            fills=self.fills, samples=self.samples, counts=dict(sorted({**h.counts, **self.counts}.items())),
            ctx=self.ctx, error=self.error, start_ns=int(ts[0]) if n else 0, end_ns=end,
            wall_s=time.perf_counter() - wall, engine_commands=self.router.seq, engine_events=self.router.events,
            compute_charges=self.readings, wakeups=self.wakeups)

    def _last_waiting(self) -> int:
        """When the last own event still waiting for a wake-up is delivered (a silent one: the day
        ends when they are all delivered, so that each is taken before on_stop), 0 for none."""
        if self.error is not None:
            return 0
        if self.loop is not None:
            return self.loop.last_own_delivery() or 0
        return self.own[-1][0] if self.own else 0

    def _take_waiting(self, end: int) -> None:
        """At the day's end, before on_stop: what waits for a wake-up that will not come (market data
        quiet wake-ups took, silent own events, every one delivered by `end`) into the strategy's
        view, so both loops leave it the same; with silent events other than acks, the market data
        delivered by `end` too (their marks need the view at their delivery)."""
        if self.error is not None or not self._silent:
            if self.loop is not None:
                self.loop.flush_md()
            return
        if self.loop is not None:
            if self._silent_marks:
                self.loop.take_md_until(end, self._md_row)
            self.loop.flush_md()
            events, marks = self.loop.take_own(end)
            self._take_booked()
            self._apply_own(events, marks)
            return
        events, marks, _ = self._take_own_reference(end)
        if self._silent_marks:
            self._apply_md(end)
        self._apply_own(events, marks)

    def _run_reference(self, progress: Callable[[float], None] | None) -> None:
        """The loop in Python (any latency model); the C loop mirrors it step for step."""
        h = self.h
        n = len(h)
        ts = h.ts_ns
        md_wakes = self.md_callbacks or any(t[2] for t in self.timers)
        wants_md = self.wants_md
        lo_min, lf_min = self.cfg.order_latency.minimum, self.cfg.feed_latency.minimum
        step = max(1, n // 200)
        next_progress = 0
        while True:
            t_h = int(ts[self.i]) if self.i < n else INF
            t_a = self.arrivals[0][0] if self.arrivals else INF
            t_w = self._next_wake() if self.error is None else (self.own[0][0] if self.own else INF)
            if t_h == INF and t_a == INF and (self._first_waking_own() >= INF or self.error is not None):
                break   # the day is over: what is still in flight is settled by _final_cancel
            t_n = self._first_silent_to_note()
            if t_n < t_w and t_n < t_h and t_n < t_a:
                self._note_silent(t_n)
            elif t_w < t_h and t_w < t_a:
                self._wake(t_w)
            elif t_a < t_h:
                self._submit_strategy(t_h)
            else:
                # a silent event's delivery (t_n) changes the strategy's orders as a wake-up would
                limit = min(t_a, t_w + lo_min if t_w < INF else INF, t_n + lo_min if t_n < INF else INF)
                if self.error is None and (md_wakes and wants_md):
                    limit = min(limit, self._earliest_reaction(t_h + lf_min) + lo_min)
                j = int(np.searchsorted(ts, limit, side="right")) if limit < INF else n
                j = self._cut_before_own_orders(j, lf_min + lo_min)
                # at most SLICE commands per engine call: the event buffer stays small and in cache
                self._hist_chunk(self.i, min(max(j, self.i + 1), self.i + SLICE))
                if progress is not None and self.i >= next_progress:
                    progress(self.i / n)
                    next_progress = self.i + step

    def _run_c_loop(self, progress: Callable[[float], None] | None) -> None:
        """The same loop with history run in C until the strategy must run (native_loop.py). The
        common wake-up (everything taken and the timers settled in C) is _wake_c_loop's callbacks
        in the same order and _after_wake, inlined, with the clock and busy time in locals (this
        runs per wake-up); the others go through _wake."""
        loop = self.loop
        assert loop is not None
        st = loop.state
        st.md_callbacks = int(self.md_callbacks)
        st.md_wakes = int(self.md_callbacks or any(t.on_change for t in loop.timers))
        # nothing of the strategy runs between a wake-up's marking and firing of timers: C settles them
        st.settle_at_wake = int(not self.subscribed["on_book"])
        n = len(self.h)
        step, next_progress = max(1, n // 200), 0
        ctx = self.ctx
        outbox, timers, sample_every = ctx.outbox, ctx.timers, self._sample_every
        advance, l, r, e, report, unpack = loop.advance_parts()
        reject_batch = native_loop.REJECT_BATCH     # read per run (a test lowers it)
        on_timer = self._bound.get("on_timer")
        charging = self._measured or bool(self._fixed_charge)     # else nothing is charged: _callback inlined
        lat, acct = self._order_latency_ns, self.cfg.account_id
        push = loop.push_outgoing if lat is not None else None
        booked = self._booked
        take_booked = booked.hand_over if booked is not None else None
        fills, samples = self.fills, self.samples
        # flags: STOPPED once the strategy raised (on_start may have); a wake-up's callbacks may set it
        now, busy, flags = self.now, self.busy_until, STOPPED if self.error is not None else 0
        while True:
            # its commands on the way are on the loop's arrival FIFO: advance runs them; its best own
            # prices come from the loop's own table of its orders (rpl_orders.h)
            advance(l, r, e, now, busy, flags)
            rep = unpack(report)
            stop, t, now, i, took_own, _, settled, fired, rejects = rep
            if stop != STOP_WAKE or rejects >= reject_batch:
                self.now = now
                if self._c_loop_stop(rep):
                    break
                if stop != STOP_WAKE:
                    continue
            if not settled or flags:
                self.now = now
                self._wake(t)
                now, busy = self.now, self.busy_until
                flags = STOPPED if self.error is not None else 0
            else:
                self._wake_ts = t
                if t > now:
                    now = t
                if charging:
                    self._charged = 0
                if take_booked is not None:
                    last = take_booked(fills, samples)
                    if last is not None:
                        self.last_sample = last
                taken = self._apply_own_records(took_own) if took_own else False
                if fired and on_timer is not None and self.error is None:
                    taken = True     # a callback ran: the wake-up is not quiet (a stop is seen below)
                    if charging:
                        for _ in range(fired):
                            if self.error is None:
                                self._callback(on_timer, "on_timer", ())
                    else:
                        for _ in range(fired):
                            try:
                                on_timer(ctx)
                            except ComputeChargesMismatch:
                                raise
                            except Exception as exc:   # a strategy that raises is stopped; the replay goes on
                                self._fail("on_timer", exc)
                                break
                if taken:
                    if self.error is not None:
                        flags = STOPPED
                    self.wakeups += 1
                    busy = t + self._charged
                    if len(timers) != self._timers_seen:     # set_timer was called
                        self._start_timers(t)
                    if outbox:
                        if push is not None:     # _send with a constant order latency, inlined
                            self.last_arrival = push(outbox, None, lat, self.last_arrival, acct)
                        else:
                            self._send(outbox)
                        outbox.clear()
                    if t - self.last_sample >= sample_every:
                        self._sample(t)
            if progress is not None and i >= next_progress:
                progress(i / n)
                next_progress = i + step
        self.i = int(st.i)

    def _c_loop_stop(self, rep: tuple[int, ...]) -> bool:
        """advance's report when it is not a plain wake-up: an error raised, the rejects counted, a
        phase change before a silent event's delivery taken (RPL_STOP_NOTE). True at the day's end."""
        loop = self.loop
        assert loop is not None
        stop, t = rep[0], rep[1]
        if stop < 0 or rep[8] >= native_loop.REJECT_BATCH:
            loop.check_report(rep)
        if stop == STOP_NOTE:
            self._md_row(loop.state.held)
            loop.take_md_until(t, self._md_row)
        return stop == STOP_END

    def _apply_own_records(self, took: int) -> bool:
        """_apply_own for the `took` own event records of the C loop's hand-over buffer (no Struct
        each: Context.apply_record), their marks beside them (NativeLoop.own_marks). Returns
        whether one that wakes was taken."""
        raw, marks, silent = self._own_records, self._own_marks, self._silent_code
        apply, orders = self.ctx.apply_record, self.ctx.orders
        taken = False
        for k in range(took):
            offset = k * RECORD_SIZE
            code = raw[offset]      # the type code is the record's first byte (below 256: asserted)
            if not silent[code]:
                apply(raw, offset)
                taken = True
            elif code == E_ACCEPTED:
                # Context._accepted without the on_accepted a silent strategy lacks
                order = orders.get(ACCEPTED_ORDER_ID(raw, offset)[0])
                if order is not None:
                    order.status = "live"
            elif code == E_TRADE:
                bid, ask = marks[3 * k + 1], marks[3 * k + 2]
                self._fill_mark = (marks[3 * k], None if bid == -INF or ask == INF else (bid + ask) / 2)
                apply(raw, offset)
                self._fill_mark = None
            else:
                apply(raw, offset)
        booked = self._booked
        if booked is not None and booked.wanted and self.error is None and not booked.on:
            booked.rearm()      # Python booked what C could not: the C ledger takes its figures
        return taken

    def _take_booked(self) -> None:
        """What the C loop booked (booked.py) into the context, the fills and the samples; call it
        after the loop's take_own and before applying what that handed out."""
        if self._booked is not None:
            last = self._booked.take(self.fills, self.samples)
            if last is not None:
                self.last_sample = last

    def _counts_of_c_loop(self) -> None:
        if self.loop is not None:
            self.loop.count_rejects()    # advance leaves them listed in batches (REJECT_BATCH)
        st = self.loop.state if self.loop is not None else None
        if st is None or not st.aggressors_built:
            return
        for key, value in (("historical executions replayed as aggressive orders", st.aggressors_visible),
                           ("hidden executions offered to the strategy's orders", st.aggressors_hidden)):
            self.counts[key] = self.counts.get(key, 0) + int(value)

    def _earliest_reaction(self, delivered: int) -> int:
        """The earliest wake-up that an event delivered at `delivered` can cause: at once for a
        strategy with on_book/on_trade/on_phase, else the first tick at or after it of an on-change timer."""
        if self.md_callbacks:
            return delivered
        best = INF
        for nxt, interval, on_change, *_ in self.timers:
            if on_change:
                best = min(best, nxt if delivered <= nxt else nxt + -(-(delivered - nxt) // interval) * interval)
        return max(best, self.busy_until)

    def _describe_config(self) -> dict[str, Any]:
        c = self.cfg
        return {"order_latency": c.order_latency.describe(), "feed_latency": c.feed_latency.describe(),
                "compute": c.compute, "seed": c.seed, "account_id": c.account_id,
                "max_position": c.limits.max_position, "max_order_qty": c.limits.max_order_qty,
                "fees": {"maker_per_share": c.fees.maker_per_share, "taker_per_share": c.fees.taker_per_share},
                "hidden_executions": c.hidden_executions,
                "data": str(self.h.day.path), "symbol": self.h.day.symbol}

    def _setup(self) -> None:
        """The history's set-up commands, then the strategy account's engine-enforced limit."""
        h = self.h
        started = h.message >= 0
        k = int(np.argmax(started)) if started.any() else len(h)
        if self.loop is not None:
            self.loop.state.now = self.now
            self.loop.hist_chunk(0, k)
            self.i, self.now = int(self.loop.state.i), int(self.loop.state.now)
        else:
            self._hist_chunk(0, k)
        lim = self.cfg.limits.max_position
        if lim < (1 << 62):
            self._submit_records(encode_columns("SET_ACCOUNT_LIMIT", 1, instrument_id=INSTRUMENT, ts_ns=self.now,
                                                account_id=self.cfg.account_id, max_position=lim), own=False)

    # ---- engine calls -------------------------------------------------------------------------
    def _submit_records(self, recs: np.ndarray, own: bool) -> None:
        if self.loop is not None:
            self.loop.submit(recs, own)     # the strategy's events wait on the C loop's own FIFO
        else:
            self.own.extend(self.router.submit(recs, own))

    def _own_prices(self) -> tuple[int, int]:
        """Highest own bid and lowest own ask (live or on the way), or -INF / INF."""
        bid, ask = -INF, INF
        for o in self.ctx.orders.values():     # comparisons, not max/min calls: run per wake-up
            p = o.price
            if o.side == BUY:
                if p > bid:
                    bid = p
            elif p < ask:
                ask = p
        return bid, ask

    def _cut_before_own_orders(self, j: int, react_ns: int) -> int:
        if not self.ctx.orders or self.error is not None:
            return j
        bid, ask = self._own_prices()
        window = min(j, self.i + 4096)
        first = lib.rpl_first_touch(self._c["_bid_hit"], self._c["_ask_hit"], self.i, window, bid, ask)
        if first < window:
            guard = self._ts[first] + react_ns
            return min(j, int(np.searchsorted(self.h.ts_ns, guard, side="right")))
        return window

    def _hist_chunk(self, a: int, b: int) -> None:
        """History commands [a, b) through the engine, executions that could fill the strategy's
        orders replayed as aggressive orders (rules 2 and 3), hidden prints queued for it."""
        h = self.h
        if b <= a:
            return
        recs = h.records[a:b]
        rewritten = self._touching(a, b) if self.ctx.orders and self.error is None else []
        if rewritten:
            recs = recs.copy()
            recs[np.array(rewritten) - a] = self._aggressors(rewritten)
        self.i = b
        self.now = max(self.now, self._ts[b - 1])
        self._submit_records(recs, own=False)
        if self.wants_md and self._hidden_before[b] > self._hidden_before[a]:
            hid = h.kind[a:b] == Cmd.HIDDEN
            if rewritten:
                hid[np.array(rewritten) - a] = False
            self._push_prints(a + np.flatnonzero(hid))

    def _touching(self, a: int, b: int) -> list[int]:
        """The history rows of [a, b) to replay as aggressive orders, in order: the executions at
        or through the strategy's best own prices (multi.py: per instrument)."""
        bid, ask = self._own_prices()
        return self._executions_through(self._c, a, b, bid, ask)

    def _executions_through(self, columns: dict[str, Any], a: int, b: int, bid: int, ask: int) -> list[int]:
        """The executions of [a, b) at or through an own bid / ask (C scan of the history's
        bid_exec / ask_exec columns), hidden ones only where hidden executions may fill."""
        rows: list[int] = []
        k = a
        while True:
            k = lib.rpl_first_touch(columns["_bid_exec"], columns["_ask_exec"], k, b, bid, ask)
            if k >= b:
                return rows
            if self.cfg.hidden_executions or self._kind[k] != Cmd.HIDDEN:
                rows.append(k)
            k += 1

    def _push_prints(self, idx: np.ndarray) -> None:
        """Hidden prints (history rows idx, in time order) onto the strategy's market data."""
        h = self.h
        self.router.push_prints(h.ts_ns[idx].tolist(), h.side[idx].tolist(), h.price[idx].tolist(),
                                h.qty[idx].tolist())

    def _aggressors(self, idx: list[int]) -> np.ndarray:
        """IOC orders standing for historical executions (FIDELITY.md rules 2 and 3): the opposite
        side at the execution's price; a hidden one may trade only with orders that are not the
        history's (STP group of the history, cancel the aggressor on meeting one)."""
        tick = self.h.day.tick_size
        buf = self._aggressor_buf      # kept: its record packer is built once
        buf.clear()
        hidden_count = 0
        for k in idx:
            side, price, hidden = self._side[k], self._price[k], self._kind[k] == Cmd.HIDDEN
            hidden_count += hidden
            self.next_aggressor += 1
            # a hidden print between ticks: a resting bid must be at or above it, an ask at or below
            buf.append("NEW_ORDER", instrument_id=INSTRUMENT, ts_ns=self._ts[k],
                       order_id=AGGRESSOR_ID_BASE + self.next_aggressor,
                       side=int(Side.SELL) if side == BUY else int(Side.BUY),
                       price=-(-price // tick) * tick if side == BUY else price // tick * tick, qty=self._qty[k],
                       ord_type=int(OrdType.LIMIT), tif=int(Tif.IOC), account_id=CONTRA_ACCOUNT,
                       stp_group=HIST_STP_GROUP if hidden else 0,
                       stp_mode=int(StpMode.CANCEL_AGGRESSING) if hidden else 0)
        self.counts["historical executions replayed as aggressive orders"] = \
            self.counts.get("historical executions replayed as aggressive orders", 0) + len(idx) - hidden_count
        self.counts["hidden executions offered to the strategy's orders"] = \
            self.counts.get("hidden executions offered to the strategy's orders", 0) + hidden_count
        return buf.records()

    def _send(self, out: list[Outgoing]) -> None:
        """A wake-up's commands on their way: each arrives after the order latency, never before the
        one sent before it; the C loop takes them onto its arrival FIFO in one call."""
        lat = self._order_latency_ns
        if lat is not None:
            if self.loop is not None:
                self.last_arrival = self.loop.push_outgoing(out, None, lat, self.last_arrival, self.cfg.account_id)
                return
            # a constant order latency draws nothing: the same arithmetic as below, without arrays
            last = self.last_arrival
            for o in out:
                last = max(o.sent_ns + lat, last)
                self.arrivals.append((last, o))
            self.last_arrival = last
            return
        sent = np.array([o.sent_ns for o in out], dtype=np.int64)
        model = self.cfg.order_latency
        rate = activity(self.h.ts_ns, sent, model.window_ns) if isinstance(model, Banded) else None
        arrive = np.maximum.accumulate(np.maximum(sent + model.sample(self.rng, len(sent), rate), self.last_arrival))
        if self.loop is not None:    # arrive is already in order, none before last_arrival
            self.loop.push_outgoing(out, arrive.tolist(), 0, self.last_arrival, self.cfg.account_id)
        else:
            self.arrivals.extend(zip(arrive.tolist(), out))
        self.last_arrival = int(arrive[-1])

    def _submit_strategy(self, t_h: int) -> None:
        buf = self._strategy_buf      # reused: the router copies the batch before the engine runs it
        buf.clear()
        acct = self.cfg.account_id
        while self.arrivals and self.arrivals[0][0] < t_h:
            ts, o = self.arrivals.popleft()
            write_command(buf, o, INSTRUMENT, acct, ts)
            self.now = max(self.now, ts)
        self._submit_records(buf.records(), own=True)

    # ---- wake-ups ---------------------------------------------------------------------------
    def _next_md(self) -> int:
        return self.router.next_md()

    def _first_waking_own(self) -> int:
        """When the first own event that wakes the strategy is delivered (rpl_loop.c own_wake_next):
        a silent one waits for the next wake-up; stopped, every event wakes."""
        return self._first_own_outside(self._silent if self.error is None else frozenset())

    def _first_marking_own(self) -> int:
        """When the first own event still waiting that marks a timer is delivered (rpl_loop.c
        own_mark_next): any but a silent ACCEPTED."""
        return self._first_own_outside(_ACCEPTED_ONLY if AcceptedEvent in self._silent else frozenset())

    def _first_own_outside(self, kinds: Collection[type]) -> int:
        """When the first own event still waiting whose type is not one of `kinds` is delivered."""
        if not kinds:
            return self.own[0][0] if self.own else INF
        for t, ev in self.own:
            if type(ev) not in kinds:
                return t
        return INF

    def _first_silent_to_note(self) -> int:
        """When the next silent event other than an ACCEPTED is delivered, where no event that wakes
        waits before it (rpl_loop.c own_note_next); INF when none, or when the strategy has no
        silent events but acks, or stopped."""
        if not self._silent_marks or self.error is not None:
            return INF
        silent = self._silent
        for t, ev in self.own:
            cls = type(ev)
            if cls not in silent:
                return INF
            if cls is not AcceptedEvent:
                return t
        return INF

    def _note_silent(self, t: int) -> None:
        """A silent event's delivery at t (no wake-up): the market data delivered by t taken into
        the view, and the silent events delivered by t (those before any that wakes) into the
        context, each with its mark: nothing of the strategy runs, but its orders count from here
        (rules 2 and 3), its timers are marked at the next wake-up's marking (as the C loop, which
        notes them in rpl_loop_take_md and hands them to the context at the next wake-up)."""
        events: list[Event] = []
        marks: list[Mark] = []
        changed = False
        own, silent = self.own, self._silent
        while own and own[0][0] <= t and type(own[0][1]) in silent:
            d, ev = own.popleft()
            changed = self._apply_md(d) or changed
            marks.append((d, *self._view_touch()))
            events.append(ev)
        changed = self._apply_md(t) or changed
        _, own_any, own_all = self._apply_own(events, marks)
        self._mark_own(own_any, own_all)
        self._noted_md = self._noted_md or changed
        self._noted_md_at = min(self._noted_md_at, t)

    def _set_silent_events(self) -> None:
        """Own events that no callback of the strategy hears wake nothing (FIDELITY.md rule 8): for a
        strategy with no on_book (which every own event wakes) and no on-change timer (which every
        own event marks), an ACCEPTED without on_accepted; and, when no market data wakes it either
        (no on_trade, no on_phase), a fill without on_fill, a CANCELLED or EXPIRED without
        on_cancelled, a REJECTED without on_rejected and a REPLACED (no callback hears one). Such
        an event is taken at the next wake-up, before any callback (all before on_stop); all but
        the ACCEPTED still mark the timers at their delivery, and a fill's P&L sample is taken at
        its delivery with the mark of the strategy's view then."""
        sub = self.subscribed
        silent: set[type] = set()
        if not (sub["on_book"] or any(kind == TIMER_ON_CHANGE for _, kind, _ in self.ctx.timers)):
            if not sub["on_accepted"]:
                silent.add(AcceptedEvent)
            if not self.md_callbacks:
                silent |= {cls for cls, heard_by in HEARD_BY.items()
                           if cls is not AcceptedEvent and (heard_by is None or not sub[heard_by])}
        self._silent = frozenset(silent)
        self._silent_marks = bool(silent - {AcceptedEvent})
        codes = bytearray(256)
        for cls in silent:
            codes[cls.CODE] = 1
        self._silent_code = bytes(codes)
        if self.loop is not None:
            self.loop.state.silent_types = sum(1 << cls.CODE for cls in silent)
        if self._booked is not None:
            self._take_booked()
            self._booked.set_wanted(TradeEvent in silent and self.error is None and len(self.ctx.instruments) == 1)

    def _next_wake(self) -> int:
        t = self._first_waking_own()
        md_next = self._next_md() if self.wants_md else INF
        if self.md_callbacks:
            t = min(t, md_next)
        marking = min(self._first_marking_own(), self._noted_md_at) if self.timers else INF
        for timer in self.timers:
            nxt, interval, on_change, changed = timer[:4]
            if on_change and not changed:
                first = min(md_next, marking)
                if first >= INF:
                    continue
                if first > nxt:   # the first tick at or after the next delivery
                    nxt += -(-(first - nxt) // interval) * interval
                    timer[0] = nxt
            t = min(t, nxt)
        return max(t, self.busy_until) if t < INF else INF

    def _wake(self, t: int) -> None:
        """The strategy's deliveries up to t, then its callbacks: on_book, the timers due. A quiet
        wake-up (no callback ran, nothing of its own arrived) ends there: no computation charged,
        no P&L sample; the C loop skips those without entering Python (rpl_loop.c)."""
        self._wake_ts = t
        self._charged = 0
        self.now = max(self.now, t)
        calls = self._calls
        if self.loop is not None:
            taken = self._wake_c_loop(t)
        else:
            taken = self._wake_reference(t)
        if taken or self._calls != calls:
            self.wakeups += 1
            self._after_wake(t)

    def _view_touch(self) -> tuple[int, int]:
        """The book view's best bid and ask prices, -INF / INF for an empty side (rpl_view_best)."""
        bid, ask = self.ctx.book.best_bid, self.ctx.book.best_ask
        return -INF if bid is None else bid, INF if ask is None else ask

    def _mark_timers(self, md_changed: bool, own_any: bool, own_all: bool) -> None:
        """rpl_loop_mark_timers: an on-touch-change timer is marked by an own event or a touch
        not the one of its last firing; any other by market data or an own event. own_any: an own
        event that marks arrived; own_all: one that marks a timer ignoring own cancels too."""
        touch = self._view_touch()
        self._mark_own(own_any, own_all)
        for timer in self.timers:
            if timer[2] == TIMER_ON_TOUCH:
                if (timer[4], timer[5]) != touch:
                    timer[3] = 1
            elif md_changed:
                timer[3] = 1

    def _mark_own(self, own_any: bool, own_all: bool) -> None:
        """The timers own events mark (rpl_loop.c mark_own): own_any, one that marks a timer;
        own_all, one that marks a timer ignoring own cancels too."""
        if own_any:
            for timer in self.timers:
                if own_all or not timer[6]:
                    timer[3] = 1

    def _take_own_reference(self, t: int) -> tuple[list[Event], list[Mark], bool]:
        """The own events delivered by t off the queue, in order, each with its mark (delivery time
        and the view's touch then: with silent events other than acks, the market data delivered by
        its delivery is taken first, as rpl_loop_take_md notes it), and whether that market data
        held a book level or a trade."""
        events: list[Event] = []
        marks: list[Mark] = []
        changed = False
        own, noting = self.own, self._silent_marks and self.error is None
        while own and own[0][0] <= t:
            d, ev = own.popleft()
            if noting:
                changed = self._apply_md(d) or changed
                marks.append((d, *self._view_touch()))
            else:
                marks.append((d, -INF, INF))
            events.append(ev)
        return events, marks, changed

    def _apply_own(self, events: list[Event], marks: list[Mark]) -> tuple[bool, bool, bool]:
        """Own events into the context, in order: a silent one (_set_silent_events) wakes nothing
        and a silent fill's P&L sample is its mark's. Returns whether one that wakes was taken, and
        whether one that marks the timers arrived: any but a silent ACCEPTED, and (for a timer that
        ignores own cancels) any but that and the confirmation of an own cancel."""
        taken = own_any = own_all = False
        ctx, silent = self.ctx, self._silent
        for ev, mark in zip(events, marks):
            if self.error is not None:      # stopped strategy: bookkeeping only
                ctx.apply_event(ev)
                taken = True
                continue
            cls = type(ev)
            if cls not in silent:
                taken = True
            if cls is TradeEvent and cls in silent:
                bid, ask = mark[1], mark[2]
                self._fill_mark = (mark[0], None if bid == -INF or ask == INF else (bid + ask) / 2)
                ctx.apply_event(ev)
                self._fill_mark = None
            else:
                ctx.apply_event(ev)
            if cls is AcceptedEvent and cls in silent:
                continue
            own_any = True
            if not (cls is CancelledEvent and ev.reason == CXL_USER and ev.leaves_qty == 0):
                own_all = True
        booked = self._booked
        if booked is not None and booked.wanted and self.error is None and not booked.on:
            booked.rearm()      # Python booked what C could not: the C ledger takes its figures
        return taken, own_any, own_all

    def _wake_reference(self, t: int) -> bool:
        """_wake's deliveries and callbacks in Python; whether an own event that wakes was taken."""
        events, marks, md_changed = self._take_own_reference(t)
        md_changed = self._apply_md(t) or md_changed
        taken, own_any, own_all = self._apply_own(events, marks)
        md_changed = md_changed or self._noted_md     # _note_silent's market data since the last marking
        self._noted_md, self._noted_md_at = False, INF
        self._mark_timers(md_changed, own_any, own_all)
        if (md_changed or own_any) and self.subscribed["on_book"] and self.error is None:
            self._invoke("on_book")
        for timer in self.timers:
            if timer[0] <= t and self.error is None:
                if timer[2] and not timer[3]:
                    timer[0] += timer[1]
                    continue
                timer[4], timer[5] = self._view_touch()
                self._invoke("on_timer")
                timer[3] = 0
                timer[0] += max(1, -(-(t + 1 - timer[0]) // timer[1])) * timer[1]
        return taken

    def _wake_c_loop(self, t: int) -> bool:
        """_wake_reference with the C loop's hand-over: the same callbacks in the same order (the C
        loop marks the timers by the own events as it notes them: rpl_loop.h)."""
        loop = self.loop
        assert loop is not None
        md_changed, events, marks = loop.take_at_wake(t, self._md_row)
        self._take_booked()
        taken, own, _ = self._apply_own(events, marks)
        if loop.state.settled:      # the hand-over settled them in C (rpl_loop.h settle_at_wake)
            fired = int(loop.state.fired)
        elif self.subscribed["on_book"] or self.error is not None:
            loop.mark_timers()
            if (md_changed or own) and self.subscribed["on_book"] and self.error is None:
                self._invoke("on_book")
            fired = loop.fire_timers(t) if self.error is None else 0
        else:    # nothing runs between marking and firing: one C call
            fired = loop.settle_timers(t)
        # the timers due are settled in C first: callbacks cannot change them (new ones start
        # after the wake-up)
        for _ in range(fired):
            if self.error is None:
                self._invoke("on_timer")
        return taken

    def _md_row(self, row: Any) -> None:
        """A market-data row the C loop hands over on its own: a phase change, or a trade for a
        strategy with on_trade (as _apply_md treats it)."""
        k = row.kind
        if k == 3:
            self._wake_phase(int(row.price), int(row.qty))
            return
        self.ctx.book.trade(row.price, row.qty)
        if self.error is None:
            self._invoke("on_trade", PublicTrade(int(row.deliver_ns), int(row.price), int(row.qty),
                                                 row.side if k == 1 else 3 - row.side, k == 2))

    def _apply_md(self, t: int) -> bool:
        rows = self.router.take_md(t)
        if not rows:
            return False
        book, trade_cb = self.ctx.book, self.subscribed["on_trade"]
        changed = False      # the book or the trades: a phase change alone is on_phase's
        for d, _, p, q, k, s in rows:
            if k == 0:
                book.apply(s, p, q)
                changed = True
            elif k == 3:
                self._wake_phase(p, q)
            else:
                changed = True
                book.trade(p, q)
                if trade_cb and self.error is None:
                    self._invoke("on_trade", PublicTrade(d, p, q, s if k == 1 else 3 - s, k == 2))
        return changed

    def _wake_phase(self, phase: int, previous: int) -> None:
        if self.error is None:
            self.ctx.apply_phase(phase, previous)
        else:
            self.ctx.apply_phase(phase, previous, notify=False)

    def _after_wake(self, t: int) -> None:
        """Computation time charged, new timers started, the strategy's commands on their way, a
        P&L sample."""
        self.busy_until = t + self._charged
        ctx = self.ctx
        if len(ctx.timers) != self._timers_seen:     # set_timer was called (on_start, mostly)
            self._start_timers(t)
        out = ctx.outbox
        if out:
            self._send(out)
            out.clear()
        if t - self.last_sample >= self._sample_every:     # _sample's own test, without the call
            self._sample(t)

    def _start_timers(self, t: int) -> None:
        """The timers the strategy set since the last wake-up start ticking from t, and the
        silent-acks rule is decided again (an on-change timer changes it)."""
        if self.loop is not None:
            while len(self.loop.timers) < len(self.ctx.timers):
                interval, kind, ignore_own_cancels = self.ctx.timers[len(self.loop.timers)]
                self.loop.add_timer(t + interval, interval, kind, ignore_own_cancels)
        while self.loop is None and len(self.timers) < len(self.ctx.timers):
            interval, kind, ignore_own_cancels = self.ctx.timers[len(self.timers)]
            self.timers.append([t + interval, interval, int(kind), 0, -INF, INF, int(ignore_own_cancels)])
        self._timers_seen = len(self.ctx.timers)
        self._set_silent_events()

    def _sample(self, t: int, force: bool = False) -> None:
        if not force and t - self.last_sample < self._sample_every:
            return
        self._sample_marked(t, self.ctx.book.mid if self.wants_md else self._engine_mid())

    def _sample_marked(self, t: int, mid: float | None) -> None:
        """A P&L sample at t, marked at mid (the strategy's view's then)."""
        self.last_sample = t
        ctx = self.ctx
        led = ctx.ledger
        bid, ask = -INF, INF      # _own_prices, inlined (a sample is taken per fill)
        for o in ctx.orders.values():
            p = o.price
            if o.side == BUY:
                if p > bid:
                    bid = p
            elif p < ask:
                ask = p
        # led.unrealized(mid) and led.total(mid): the same float operations in the same order,
        # inlined (a sample is taken per fill)
        position, realized, fees = led.position, led.realized, led.fees
        unrealized = 0.0 if position == 0 or mid is None else (mid - led.avg_price) * position / led.price_scale
        self.samples.append(_new_sample(Sample, (t, position, realized, unrealized, fees, realized + unrealized - fees,
                                                 mid, None if bid == -INF else bid, None if ask == INF else ask)))

    def _engine_mid(self) -> float | None:
        b, a = self.eng.depth(INSTRUMENT, BUY, 1), self.eng.depth(INSTRUMENT, SELL, 1)
        return (b[0][0] + a[0][0]) / 2 if b and a else None

    def _final_cancel(self, end: int) -> None:
        """The strategy's orders still live at the end are cancelled (and their events booked)."""
        self._take_booked()
        if self._booked is not None:
            self._booked.set_wanted(False)      # the last events: Python books them (as before)
        if not self.ctx.orders:
            return
        self.arrivals.clear()
        self.arrivals.append((max(end, self.last_arrival), Outgoing(end, "CANCEL_ALL")))
        self._submit_strategy(INF)
        if self.loop is not None:
            for ev in self.loop.take_own(INF)[0]:
                self.ctx.apply_event(ev)
        while self.own:
            self.ctx.apply_event(self.own.popleft()[1])


def run_replay(history: History, strategy: Strategy, config: ReplayConfig | None = None,
               progress: Callable[[float], None] | None = None) -> ReplayResult:
    return Replay(history, strategy, config).run(progress)

