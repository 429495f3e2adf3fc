"""Live mode: the same strategy class against a running venue (``python -m gateway up`` or
``python -m gateway engine``), in-process with no TCP hop: the strategy's commands go through its
own producer slot (shm.client.EngineClient, one SPSC command ring), and everything it sees comes
from the engine's broadcast event log (shm.client.EventStream).

The runner polls the log, keeps the Context's book view of its instrument, hands the strategy's own
acks, fills, rejects and cancels to the Context (events whose order ids carry its id prefix, or
trades booked to its account), fires timers on CLOCK_MONOTONIC (the engine's clock domain), and
sends what the strategy made in one ring batch per poll. The account is the strategy's: its risk
limits are whatever the control plane set for that account (``risk set account N max_position V``
in the ops shell), enforced by the engine, and a rejected order comes back to on_rejected. A
strategy that raises is stopped, its orders are cancelled (mass cancel of its account), the error
is kept in ``error``, and the venue goes on.

``order_latency_ns`` records (the newest RECENT), for every batch of commands the strategy made in reaction to events,
the time from the engine's timestamp of the newest event it had seen to the moment the batch was
handed to the ring: the market-data -> order path of bench/replay.py.

The book at attach: the event log only holds what happens after the runner attached, so with the
venue's journal (``journal_dir``; ``python -m gateway up`` keeps one) the runner first reads every
event the engine has released (gateway/control/history.py, as the control plane does at start)
and starts the strategy with the instrument's standing book (its levels) and last trade price.
The journal holds everything released before the log reader attached, so the live log then
continues after the last seq read, and events of the log with a seq at or below it are skipped:
nothing missed, nothing applied twice. Without a journal the book view starts empty and fills as
levels change (``snapshot`` says which).

Other instruments (``others``: a hedge instrument, a correlated one): the context follows them too
(Context.add_instrument), their book levels, trades and phases go to their own views (the journal's
standing book included), the strategy's orders in them are sent with their instrument id, and
on_other_book(ctx, instrument_id) tells the strategy that one of their books changed.
"""
from __future__ import annotations

import os
import time
import traceback
from collections import deque
from dataclasses import dataclass
from typing import Any, Sequence

from native._venue import lib
from native.batch import CommandBuffer
from native.messages import (
    AcceptedEvent,
    BookLevelEvent,
    CancelledEvent,
    Event,
    ExpiredEvent,
    PhaseEvent,
    RejectedEvent,
    ReplacedEvent,
    TradeEvent,
)
from shm.client import EngineClient, EventStream
from trading.strategy.api import PublicTrade, Strategy, overrides
from trading.strategy.context import Context, Limits, write_command
from trading.strategy.decode import decode_event_records
from trading.strategy.ledger import FeeSchedule
from trading.strategy.live_params import PAUSED_CALLBACKS, Control, apply_queued
from trading.strategy.wall_timers import fire_due_timers

RECENT = 1 << 16      # latency samples kept (the newest)
# the order events that name one of the strategy's orders by id (its trades are found by account)
_ORDER_EVENTS = (AcceptedEvent, RejectedEvent, CancelledEvent, ReplacedEvent, ExpiredEvent)


@dataclass(frozen=True)
class OtherInstrument:
    """One more instrument the strategy follows: its id, tick, price scale and fee schedule
    (None: the primary instrument's)."""
    instrument_id: int
    tick_size: int = 1
    price_scale: int | None = None
    fees: FeeSchedule | None = None

    @classmethod
    def parse(cls, text: str) -> OtherInstrument:
        """'ID' or 'ID:TICK' (the command line's --other-instrument); ValueError naming the field."""
        ident, _, tick = text.partition(":")
        try:
            instrument_id, tick_size = int(ident), int(tick) if tick else 1
        except ValueError:
            raise ValueError(f"--other-instrument: expected ID or ID:TICK (integers), got {text!r}") from None
        if instrument_id <= 0 or tick_size <= 0:
            raise ValueError(f"--other-instrument: instrument id and tick must be > 0, got {text!r}")
        return cls(instrument_id, tick_size)


class LiveRunner:
    def __init__(self, venue: str, strategy: Strategy, instrument_id: int, account_id: int,
                 limits: Limits | None = None, fees: FeeSchedule | None = None, price_scale: int = 10_000,
                 tick_size: int = 1, directory: str | None = None, journal_dir: str | None = None,
                 others: Sequence[OtherInstrument] = (), venue_id: str = "") -> None:
        if journal_dir is not None and not os.path.isdir(journal_dir):
            raise ValueError(f"journal {journal_dir}: no such directory")
        self.strategy = strategy
        self.instrument_id = instrument_id
        ctx = Context(instrument_id, account_id, price_scale, tick_size, fees or FeeSchedule(),
                      limits or Limits(), dict(strategy.params), clock=time.monotonic_ns, invoke=self._invoke,
                      venue=venue_id)
        for other in others:       # ValueError (a duplicate, a bad id) before anything is attached
            ctx.add_instrument(other.instrument_id, other.price_scale, other.tick_size, other.fees)
        self.ctx = ctx
        self.stream = EventStream(venue, directory)     # from now on: events before this are not ours
        self.client = EngineClient(venue, directory)
        self.subscribed = {name: overrides(strategy, name) for name in ("on_book", "on_trade", "on_other_book")}
        self.prefix = self.ctx.id_base >> 40
        self.timers: list[list[int]] = []
        self.error: str | None = None
        self.events_seen = 0
        self.order_latency_ns: deque[int] = deque(maxlen=RECENT)
        self._newest_event_ts = 0
        self._polled_ns = 0
        # per reaction: the poll that brought its events -> its commands handed to the ring, in
        # wall time and in this thread's CPU time (what the runner and the strategy cost, without
        # the time the OS gave to other processes)
        self.reaction_ns: deque[int] = deque(maxlen=RECENT)
        self.reaction_cpu_ns: deque[int] = deque(maxlen=RECENT)
        self._polled_cpu_ns = 0
        self._buf = CommandBuffer(capacity=64)
        self._started = False
        self._stop_requested = False    # request_stop(): run() returns after the poll in hand
        self._stopping = False
        self._skip_through = 0          # events with seq <= this were read from the journal
        self.param_updates: deque[Control] = deque()   # live_params.py: changes, pause, resume to apply
        self.paused = False     # live_params.py: its orders cancelled, no market data or timer callbacks
        self.snapshot: dict[str, Any] = {"from": None}
        if journal_dir is not None:
            try:
                self._book_from_journal(journal_dir)
            except BaseException:
                self.client.close()
                self.stream.close()
                raise

    def _book_from_journal(self, directory: str) -> None:
        """The instrument's standing book and last trade price from the released events of the
        venue's journal (read after the log reader attached). Raises JournalError / OSError."""
        from gateway.control.history import JournalHistory
        history = JournalHistory(directory)
        followed, events = self.ctx.instruments, 0
        for ev in history.released_events():
            events += 1
            state = followed.get(getattr(ev, "instrument_id", 0))
            if state is None:
                continue
            if isinstance(ev, BookLevelEvent):
                state.book.apply(ev.side, ev.price, ev.qty)
            elif isinstance(ev, TradeEvent):
                state.book.last_trade_price = ev.price
            elif isinstance(ev, PhaseEvent):
                self.ctx.apply_phase(ev.phase, ev.prev_phase, notify=False, instrument_id=ev.instrument_id)
        self._skip_through = history.last_event_seq
        book = self.ctx.book
        self.snapshot = {"from": directory, "through_seq": self._skip_through, "events": events,
                         "bid_levels": len(book.bids), "ask_levels": len(book.asks)}

    def _invoke(self, name: str, *args: Any) -> None:
        if self.error is not None or self._stopping or (self.paused and name in PAUSED_CALLBACKS):
            return
        try:
            getattr(self.strategy, name)(self.ctx, *args)
        except Exception as exc:   # stop this strategy, never the venue
            self.error = f"{type(self.strategy).__name__}.{name} raised: {type(exc).__name__}: {exc}\n" \
                         f"{traceback.format_exc(limit=6)}"
            self.ctx.outbox.clear()
            self.ctx.clean_up_cancel_all()
            self.ctx.stopped = True

    def start(self) -> None:
        self._started = True
        self._invoke("on_start")
        self._flush()

    def step(self, max_events: int = 1 << 14) -> int:
        """One poll of the event log: deliveries, due timers, the strategy's commands sent.
        Returns the number of events read."""
        if not self._started:
            self.start()
        if self.param_updates:
            apply_queued(self.param_updates, self.strategy, self.ctx.params, self._invoke, self._set_paused)
        raw, lapped = self.stream.poll(max_events)
        if lapped:
            raise RuntimeError("the strategy fell more than the event log's capacity behind")
        n = len(raw)
        if n:
            self._polled_ns = time.monotonic_ns()
            self._polled_cpu_ns = time.thread_time_ns()
            self.events_seen += n
            self._deliver(decode_event_records(raw.reshape(-1).data, n))
        if self.timers or len(self.ctx.timers):
            self._fire_timers()
        self._flush(reacting=n > 0)
        return n

    def _fire_timers(self) -> None:
        fire_due_timers(self.timers, self.ctx.timers, self._invoke)

    def _deliver(self, events: list[Event]) -> None:
        """The events of one poll in log order: the instrument's book levels and trades into the
        book view (on_trade per trade), then the strategy's own events, then on_book once."""
        if self._skip_through:      # the journal gave these already (seq increases along the log)
            events = [ev for ev in events if ev.seq > self._skip_through]
            if not events:
                return
            self._skip_through = 0
        self._newest_event_ts = events[-1].ts_ns
        book, ins, acct, prefix = self.ctx.book, self.instrument_id, self.ctx.account_id, self.prefix
        followed = self.ctx.instruments
        on_trade = self.subscribed["on_trade"]
        own: list[Event] = []
        book_changed = False
        others_changed: set[int] = set()
        for ev in events:
            if isinstance(ev, BookLevelEvent):
                if ev.instrument_id == ins:
                    book.apply(ev.side, ev.price, ev.qty)
                    book_changed = True
                elif ev.instrument_id in followed:
                    followed[ev.instrument_id].book.apply(ev.side, ev.price, ev.qty)
                    others_changed.add(ev.instrument_id)
            elif isinstance(ev, TradeEvent):
                if ev.instrument_id == ins:
                    book.trade(ev.price, ev.qty)
                    if on_trade:
                        self._invoke("on_trade", PublicTrade(ev.ts_ns, ev.price, ev.qty, ev.aggressor_side))
                elif ev.instrument_id in followed:
                    followed[ev.instrument_id].book.trade(ev.price, ev.qty)
                else:
                    continue
                if ev.buy_account_id == acct or ev.sell_account_id == acct:
                    own.append(ev)
            elif isinstance(ev, _ORDER_EVENTS) and ev.order_id >> 40 == prefix:
                own.append(ev)
            elif isinstance(ev, PhaseEvent) and ev.instrument_id in followed:
                self.ctx.apply_phase(ev.phase, ev.prev_phase, instrument_id=ev.instrument_id)
        for ev in own:
            self.ctx.apply_event(ev)
        if self.subscribed["on_other_book"]:
            for instrument_id in sorted(others_changed):
                self._invoke("on_other_book", instrument_id)
        if book_changed and self.subscribed["on_book"]:
            self._invoke("on_book")

    def _flush(self, reacting: bool = False) -> None:
        out = self.ctx.outbox
        if not out:
            return
        buf = self._buf
        buf.clear()
        for o in out:
            write_command(buf, o, self.instrument_id, self.ctx.account_id)
        out.clear()
        if reacting:
            now = time.monotonic_ns()
            self.order_latency_ns.append(now - self._newest_event_ts)
            self.reaction_ns.append(now - self._polled_ns)
            self.reaction_cpu_ns.append(time.thread_time_ns() - self._polled_cpu_ns)
        self.client.submit_records(buf.records())

    def flush(self) -> None:
        """Sends what the strategy has made for this runner outside its own poll (a strategy on
        several venues reacts on one venue to another's events)."""
        self._flush()

    def wait(self, timeout_ns: int) -> bool:
        """Sleeps on the event log's doorbell until something new is published or timeout_ns
        passes (no sleep at all when news is already there). True: news."""
        return bool(lib.ring_bcast_wait(self.stream.reader.rx, max(0, timeout_ns)))

    def _set_paused(self, paused: bool) -> None:
        """live_params.py's pause: its orders cancelled (sent with this step's flush), its market
        data and timer callbacks held back until resumed."""
        if paused and not self.paused and self.error is None:
            self.ctx.clean_up_cancel_all()
        self.paused = paused

    def request_stop(self) -> None:
        """Asks run() to return once the poll in hand is done; safe from a signal handler (it only
        sets a flag). A handler that raised instead cut the runner wherever it was: in the middle
        of a poll, the rest of its events (fills included) never reached the ledger."""
        self._stop_requested = True

    def run(self, duration_s: float | None = None, spin_s: float = 0.0001, max_sleep_s: float = 0.01) -> None:
        """Polls until duration_s has passed (forever if None), the strategy failed or
        request_stop() was called. Idle, it
        polls on for spin_s, then sleeps on the log's doorbell (woken by the next event, or by
        the next timer, at most max_sleep_s): no fixed sleep stands between an event and the
        strategy."""
        end = None if duration_s is None else time.monotonic_ns() + int(duration_s * 1e9)
        spin_ns, cap_ns = int(spin_s * 1e9), int(max_sleep_s * 1e9)
        if not self._started:
            self.start()
        idle_since = time.monotonic_ns()
        while self.error is None and not self._stop_requested:
            now = time.monotonic_ns()
            if end is not None and now >= end:
                break
            if self.step():
                idle_since = now
            elif now - idle_since > spin_ns:
                limit = min([cap_ns] + [t[0] - now for t in self.timers] + ([end - now] if end is not None else []))
                self.wait(limit)

    def stop(self) -> None:
        """on_stop, then every order of the strategy's account cancelled, and the slot freed."""
        if self.error is None and self._started:
            self._invoke("on_stop")
        # from here on the strategy is not called again: a callback woken by the cancels (a quote
        # gone) would otherwise place new orders behind the mass cancel
        self._stopping = True
        if self.ctx.orders or self.error is not None:
            self.ctx.outbox.clear()
            self.ctx.clean_up_cancel_all()
            self._flush()
            deadline = time.monotonic() + 2.0
            while self.ctx.orders and time.monotonic() < deadline:
                self.step()
        self.ctx.stopped = True       # nothing more goes out: a strategy on other venues skips it
        self.client.close()
        self.stream.close()
