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

``order_latency_ns`` records, for every batch of commands the strategy made in reaction to events,
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
"""
from __future__ import annotations

import os
import time
import traceback
from typing import Any

import numpy as np

from native import records
from native.batch import CommandBuffer
from native.messages import BookLevelEvent, TradeEvent
from native.records import EvtType
from shm.client import EngineClient, EventStream
from trading.strategy.api import PublicTrade, Strategy, overrides
from trading.strategy.context import Context, Limits
from trading.strategy.ledger import FeeSchedule

_HDR = records.dtype_of("eng_evt_hdr_t")
_BOOK = records.dtype_of("eng_evt_book_level_t")
_TRADE = records.dtype_of("eng_evt_trade_t")
_OID = records.dtype_of("eng_evt_cancelled_t")     # order_id is the first field of every order event
_ORDER_EVENTS = [int(t) for t in (EvtType.ACCEPTED, EvtType.REJECTED, EvtType.CANCELLED, EvtType.REPLACED,
                                  EvtType.EXPIRED)]
E_BOOK, E_TRADE = int(EvtType.BOOK_LEVEL), int(EvtType.TRADE)


class LiveRunner:
    def __init__(self, venue: str, strategy: Strategy, instrument_id: int, account_id: int,
                 limits: Limits | None = None, fees: FeeSchedule | None = None, price_scale: int = 10_000,
                 tick_size: int = 1, directory: str | None = None, journal_dir: str | None = None) -> None:
        if journal_dir is not None and not os.path.isdir(journal_dir):
            raise ValueError(f"journal {journal_dir}: no such directory")
        self.strategy = strategy
        self.instrument_id = instrument_id
        self.stream = EventStream(venue, directory)     # from now on: events before this are not ours
        self.client = EngineClient(venue, directory)
        self.ctx = Context(instrument_id, account_id, price_scale, tick_size, fees or FeeSchedule(),
                           limits or Limits(), dict(strategy.params), clock=time.monotonic_ns, invoke=self._invoke)
        self.subscribed = {name: overrides(strategy, name) for name in ("on_book", "on_trade")}
        self.prefix = self.ctx.id_base >> 40
        self.timers: list[list[int]] = []
        self.error: str | None = None
        self.events_seen = 0
        self.order_latency_ns: list[int] = []
        self._newest_event_ts = 0
        self._started = False
        self._skip_through = 0          # events with seq <= this were read from the journal
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
        book, events = self.ctx.book, 0
        for ev in history.released_events():
            events += 1
            if isinstance(ev, BookLevelEvent) and ev.instrument_id == self.instrument_id:
                book.apply(ev.side, ev.price, ev.qty)
            elif isinstance(ev, TradeEvent) and ev.instrument_id == self.instrument_id:
                book.last_trade_price = ev.price
        self._skip_through = history.last_event_seq
        self.snapshot = {"from": directory, "through_seq": self._skip_through, "events": events,
                         "bid_levels": len(book.bids), "ask_levels": len(book.asks)}

    def _invoke(self, name: str, *args: Any) -> None:
        if self.error is not None:
            return
        try:
            getattr(self.strategy, name)(self.ctx, *args)
        except Exception as exc:   # stop this strategy, never the venue
            self.error = f"{type(self.strategy).__name__}.{name} raised: {type(exc).__name__}: {exc}\n" \
                         f"{traceback.format_exc(limit=6)}"
            self.ctx.outbox.clear()
            self.ctx.cancel_all()
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
        raw, lapped = self.stream.poll(max_events)
        if lapped:
            raise RuntimeError("the strategy fell more than the event log's capacity behind")
        n = len(raw)
        if n and self._skip_through:
            recs = raw.view(records.RECORD_DTYPE).reshape(-1)
            fresh = recs.view(_HDR)["seq"] > self._skip_through
            if fresh.all():
                self._skip_through = 0      # the log has passed the journal's last seq
            raw = raw[fresh]
            n = len(raw)
        if n:
            self.events_seen += n
            self._deliver(raw.view(records.RECORD_DTYPE).reshape(-1))
        now = time.monotonic_ns()
        for timer in self.timers:
            if timer[0] <= now:
                self._invoke("on_timer")
                timer[0] = now + timer[1]
        while len(self.timers) < len(self.ctx.timers):
            interval, _ = self.ctx.timers[len(self.timers)]
            self.timers.append([now + interval, interval])
        self._flush(reacting=n > 0)
        return n

    def _deliver(self, recs: np.ndarray) -> None:
        hdr = recs.view(_HDR)
        types, ins = hdr["type"], hdr["instrument_id"]
        self._newest_event_ts = int(hdr["ts_ns"][-1])
        mine = ins == self.instrument_id
        book = mine & (types == E_BOOK)
        if book.any():
            bl = recs[book].view(_BOOK)
            for s, p, q in zip(bl["side"].tolist(), bl["price"].tolist(), bl["qty"].tolist()):
                self.ctx.book.apply(s, p, q)
        trades = mine & (types == E_TRADE)
        own = np.isin(types, _ORDER_EVENTS) & ((recs.view(_OID)["order_id"] >> np.uint64(40)) == self.prefix)
        if trades.any():
            tr = recs.view(_TRADE)
            own |= trades & ((tr["buy_account_id"] == self.ctx.account_id) | (tr["sell_account_id"] == self.ctx.account_id))
            sub = recs[trades].view(_TRADE)
            for t, p, q, a in zip(hdr["ts_ns"][trades].tolist(), sub["price"].tolist(), sub["qty"].tolist(),
                                  sub["aggressor_side"].tolist()):
                self.ctx.book.trade(p, q)
                if self.subscribed["on_trade"]:
                    self._invoke("on_trade", PublicTrade(t, p, q, a))
        if own.any():
            for ev in records.decode_events(recs[own]):
                self.ctx.apply_event(ev)
        if book.any() and self.subscribed["on_book"]:
            self._invoke("on_book")

    def _flush(self, reacting: bool = False) -> None:
        out = self.ctx.outbox
        if not out:
            return
        buf = CommandBuffer(capacity=len(out))
        acct = self.ctx.account_id
        for o in out:
            if o.op == "NEW":
                buf.new_limit(self.instrument_id, 0, 0, o.order_id, o.side, o.price, o.qty, acct, o.tif, flags=o.flags)
            elif o.op == "CANCEL":
                buf.cancel(self.instrument_id, 0, 0, o.order_id)
            elif o.op == "REPLACE":
                buf.replace(self.instrument_id, 0, 0, o.order_id, o.price, o.qty)
            else:
                buf.append("MASS_CANCEL", instrument_id=self.instrument_id, account_id=acct, by_account=1,
                           by_instrument=1)
        out.clear()
        if reacting:
            self.order_latency_ns.append(time.monotonic_ns() - self._newest_event_ts)
        self.client.submit_records(buf.records().copy())

    def run(self, duration_s: float | None = None, idle_sleep_s: float = 0.0002) -> None:
        """Polls until duration_s has passed (forever if None) or the strategy failed."""
        end = None if duration_s is None else time.monotonic() + duration_s
        self.start()
        while self.error is None and (end is None or time.monotonic() < end):
            if self.step() == 0 and idle_sleep_s:
                time.sleep(idle_sleep_s)

    def stop(self) -> None:
        """on_stop, then every order of the strategy's account cancelled, and the slot freed."""
        if self.error is None and self._started:
            self._invoke("on_stop")
        if self.ctx.orders or self.error is not None:
            self.ctx.outbox.clear()
            self.ctx.cancel_all()
            self._flush()
            deadline = time.monotonic() + 2.0
            while self.ctx.orders and time.monotonic() < deadline:
                self.step()
        self.client.close()
        self.stream.close()
