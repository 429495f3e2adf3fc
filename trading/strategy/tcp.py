"""Live mode as an external participant: the same strategy class over the order-entry gateway
(gateway.client, SBE/FIXP over TCP) and the venue's market-data feed (gateway.marketdata, the
order-by-order feed of ``python -m gateway md`` over ZeroMQ, joined late from its recovery
snapshot), instead of a producer slot and the event log (live.py).

What the strategy sees is what live.py gives it, built from what an outside firm receives:
- its orders: the context's commands become gateway messages (NEW -> NewOrderSingle with the
  context's order id as clOrdId; CANCEL / REPLACE -> OrderCancelRequest / OrderCancelReplaceRequest
  naming the venue's orderId, held back until the order's acknowledgement brought that id;
  CANCEL_ALL -> OrderMassCancelRequest for its account and instrument);
- its acks, fills, rejects and cancels: each ExecutionReport (and OrderCancelReject,
  BusinessMessageReject) becomes the engine event the context already understands (AcceptedEvent,
  TradeEvent, RejectedEvent, CancelledEvent, ReplacedEvent, ExpiredEvent), so ``Context.apply_event``
  books it exactly as in live.py and replay (positions, P&L, fees, on_fill ...);
- the book: after each poll of the feed, the instrument's levels (FeedBook.depth, up to
  ``depth_levels`` a side) are compared with the context's book view and only the changed levels
  applied; then each trade of the instrument the poll brought, in feed order, reaches ``book.trade``
  and on_trade: one PublicTrade per engine trade (the subscriber keeps the feed's prints, one per
  match number: FeedBook.keep_prints) with the engine's timestamp, price, quantity and aggressor
  side, as live.py gives them from the event log (``hidden`` also says a print of no displayed
  share, which the event log does not tell). Unlike live.py, the book the strategy reads during
  those calls is already the poll's last one. A trade the subscriber could not keep (more than
  PRINTS trades waiting, or missed in a gap it resynced from a snapshot) is counted in
  ``prints_lost``, never delivered as a guess; the instrument's phase changes reach on_phase.
- other instruments (``others``: a hedge instrument, a correlated one), as live.py follows them: the
  context follows their feed books, trades (book.trade) and phases too, the strategy's orders in
  them go to the gateway with their instrument id (a mass cancel per followed instrument), and
  on_other_book(ctx, instrument_id) tells the strategy that one of their books changed.
Timers run on CLOCK_MONOTONIC as in live.py. A strategy that raises is stopped and its orders
mass-cancelled; the session and the venue go on.
"""
from __future__ import annotations

import select
import time
import traceback
from collections import deque
from typing import Any, Protocol, Sequence

from gateway.client import (BusinessMessageReject, Client, ClientTimeout, ExecType, ExecutionReport,
                            OrderCancelReject, OrderFlags, Side, TimeInForce)
from native.messages import (AcceptedEvent, CancelledEvent, CmdType, Event, ExpiredEvent, Reason, RejectedEvent,
                             ReplacedEvent, TradeEvent)
from trading.strategy.api import BUY, SELL, PublicTrade, Strategy, overrides
from trading.strategy.context import ICEBERG, POST_ONLY, Context, Limits, Outgoing
from trading.strategy.ledger import FeeSchedule
from trading.strategy.live import OtherInstrument
from trading.strategy.live_params import PAUSED_CALLBACKS, Control, apply_queued
from trading.strategy.wall_timers import fire_due_timers

RECENT = 1 << 16
PRINTS = 1 << 16           # trades the subscriber keeps between two polls
# packets per poll: each one holds at most 1472 // 66 = 22 trade messages, so one poll never
# brings more trades than the subscriber keeps
MAX_PACKETS = PRINTS // 23


class Feed(Protocol):
    """What the runner uses of gateway.marketdata.subscriber.Subscriber: poll() applies what arrived
    to ``book`` (a FeedBook: depth() and instrument()) and says how many packets came."""
    book: Any

    def poll(self, timeout_s: float = 0.0, max_packets: int = 10_000) -> int: ...


class TcpRunner:
    def __init__(self, client: Client, feed: Feed, strategy: Strategy, instrument_id: int, account_id: int,
                 limits: Limits | None = None, fees: FeeSchedule | None = None, price_scale: int = 10_000,
                 tick_size: int = 1, depth_levels: int = 50, others: Sequence[OtherInstrument] = ()) -> None:
        self.client, self.feed, self.strategy = client, feed, strategy
        self.instrument_id, self.depth_levels = instrument_id, depth_levels
        self.ctx = Context(instrument_id, account_id, price_scale, tick_size, fees or FeeSchedule(),
                           limits or Limits(), dict(strategy.params), clock=time.monotonic_ns, invoke=self._invoke)
        for other in others:       # ValueError (a duplicate, a bad id) before anything is sent
            self.ctx.add_instrument(other.instrument_id, other.price_scale, other.tick_size, other.fees)
        self.subscribed = {name: overrides(strategy, name) for name in ("on_book", "on_trade", "on_other_book")}
        self.error: str | None = None
        self.timers: list[list[int]] = []
        self.venue_id: dict[int, int] = {}       # the context's order id -> the venue's orderId
        self.by_venue_id: dict[int, int] = {}    # and back
        self.held: list[Outgoing] = []           # cancels / replaces waiting for their order's ack
        # cancels / replaces of an id the venue never gave us and the context does not hold (never
        # placed, or done): refused here, as the gateway would (GW_UNKNOWN_ORDER_ID), and heard by
        # the strategy as on_rejected after the flush that found them (the replay's engine answers
        # the same cancel with on_rejected too): never dropped in silence
        self.refused_locally: deque[RejectedEvent] = deque()
        self.requests: dict[int, tuple[int, int]] = {}   # a cancel's / replace's clOrdId -> (order, cmd)
        # A NEW's clOrdId -> the context's order id. The clOrdId becomes the engine's
        # client_order_id, whose high 32 bits name a parent order (trading/execution/parent_ids.py,
        # read by TCA): it is the child's own client_order_id when the strategy gives one, else the
        # client's counter (below 2^32: the order is its own parent), never the context's order id
        # (bit 62 and the account set: every order would look like a child of one parent).
        self.ctx_of_cl: dict[int, int] = {}
        self._phases: dict[int, int] = {}         # followed instrument -> its phase as the feed last said
        self._started = False
        self._stopping = False    # after on_stop: no callbacks, the context still books the reports
        self._stop_requested = False    # request_stop(): run() returns after the step in hand
        # per reaction: the poll that brought news -> the strategy's messages written to the socket
        self.reaction_ns: deque[int] = deque(maxlen=RECENT)
        self.reaction_cpu_ns: deque[int] = deque(maxlen=RECENT)    # the same in this thread's CPU time
        self.events_seen = 0      # reports and feed packets
        self.sent_at_ns = 0       # CLOCK_MONOTONIC when the strategy's latest messages were written
        self.param_updates: deque[Control] = deque()   # live_params.py: changes, pause, resume to apply
        self.paused = False     # live_params.py: its orders cancelled, no market data or timer callbacks

    # ---- the strategy -----------------------------------------------------------------------------
    def _invoke(self, name: str, *args: Any) -> None:
        if self.error is not None or self._stopping or (self.paused and name in PAUSED_CALLBACKS):
            return
        try:
            getattr(self.strategy, name)(self.ctx, *args)
        except Exception as exc:   # stop this strategy, never the session or the venue
            self.error = f"{type(self.strategy).__name__}.{name} raised: {type(exc).__name__}: {exc}\n" \
                         f"{traceback.format_exc(limit=6)}"
            self.ctx.outbox.clear()
            self.ctx.clean_up_cancel_all()
            self.ctx.stopped = True

    def start(self) -> None:
        self._started = True
        self.feed.book.keep_prints(PRINTS)
        for instrument_id in self.ctx.instruments:
            inst = self.feed.book.instrument(instrument_id)
            if inst["known"]:
                phase = self._phases[instrument_id] = int(inst["phase"])
                self.ctx.apply_phase(phase, phase, notify=False, instrument_id=instrument_id)
            self._sync_book(instrument_id)
        self._invoke("on_start")
        self._flush()

    def step(self, timeout_s: float = 0.001) -> int:
        """One poll of the session and the feed: reports and market data delivered, due timers
        fired, the strategy's messages sent. Returns how many reports and packets came."""
        if not self._started:
            self.start()
        if self.param_updates:
            apply_queued(self.param_updates, self.strategy, self.ctx.params, self._invoke, self._set_paused)
        polled, polled_cpu = time.monotonic_ns(), time.thread_time_ns()
        news = self.feed.poll(0.0, MAX_PACKETS)
        if news:
            self._deliver_md()
        if self.timers or self.ctx.timers:
            self._fire_timers()
        if self._flush() and news:      # a reaction to market data goes out before reports are read
            self._reacted(polled, polled_cpu)
        polled, polled_cpu = time.monotonic_ns(), time.thread_time_ns()
        msgs = self._reports(0.0 if news else timeout_s)
        for msg in msgs:
            self._apply_report(msg)
        if self._flush() and msgs:
            self._reacted(polled, polled_cpu)
        if self.client.core.heartbeat_due():
            self.client.heartbeat()
        self.events_seen += news + len(msgs)
        return news + len(msgs)

    def _set_paused(self, paused: bool) -> None:
        """live_params.py's pause: its orders cancelled (sent with this step's flush), its market
        data and timer callbacks held back until resumed."""
        if paused and not self.paused and self.error is None:
            self.ctx.clean_up_cancel_all()
        self.paused = paused

    def request_stop(self) -> None:
        """Asks run() to return once the step in hand is done; safe from a signal handler (only a
        flag), as LiveRunner.request_stop."""
        self._stop_requested = True

    def _reacted(self, polled: int, polled_cpu: int) -> None:
        self.reaction_ns.append(self.sent_at_ns - polled)
        self.reaction_cpu_ns.append(time.thread_time_ns() - polled_cpu)

    def run(self, duration_s: float | None = None) -> None:
        """Polls until duration_s has passed (forever if None), the strategy failed or
        request_stop() was called."""
        end = None if duration_s is None else time.monotonic() + duration_s
        while self.error is None and not self._stop_requested and (end is None or time.monotonic() < end):
            self.step()

    def _reports(self, timeout_s: float) -> list[Any]:
        """What the gateway sent, waiting up to timeout_s for the socket (no wait at 0)."""
        c = self.client
        if not c.inbox and not select.select([c.sock], [], [], timeout_s)[0]:
            return []
        out: list[Any] = []
        try:
            out.append(c.recv(1e-4))
            while c.inbox:
                out.append(c.recv(1e-4))
        except ClientTimeout:
            pass
        return out

    def _fire_timers(self) -> None:
        fire_due_timers(self.timers, self.ctx.timers, self._invoke)

    # ---- market data ------------------------------------------------------------------------------
    def _sync_book(self, instrument_id: int) -> bool:
        """The feed's levels of a followed instrument into its book view (changed levels only)."""
        book, changed = self.ctx.instruments[instrument_id].book, False
        for side, have in ((BUY, book.bids), (SELL, book.asks)):
            levels = self.feed.book.depth(instrument_id, side, self.depth_levels)
            now = dict(zip(levels["price"].tolist(), levels["qty"].tolist()))
            for price in [p for p in have if p not in now]:
                book.apply(side, price, 0)
                changed = True
            for price, qty in now.items():
                if have.get(price) != qty:
                    book.apply(side, price, qty)
                    changed = True
        return changed

    def _deliver_md(self) -> None:
        """What a poll of the feed brought: every followed book synced, the trades in feed order,
        phase changes, then on_other_book per changed other book and on_book (as live.py)."""
        changed = {i: self._sync_book(i) for i in self.ctx.instruments}
        self._deliver_trades()
        for instrument_id in self.ctx.instruments:
            inst = self.feed.book.instrument(instrument_id)
            phase = int(inst["phase"])
            if inst["known"] and phase != self._phases.get(instrument_id):
                previous = self._phases.get(instrument_id, phase)
                self._phases[instrument_id] = phase
                self.ctx.apply_phase(phase, previous, instrument_id=instrument_id)
        if self.subscribed["on_other_book"]:
            for instrument_id in sorted(i for i, c in changed.items() if c and i != self.instrument_id):
                self._invoke("on_other_book", instrument_id)
        if changed[self.instrument_id] and self.subscribed["on_book"]:
            self._invoke("on_book")

    def _deliver_trades(self) -> None:
        """Each trade of a followed instrument since the last poll, in feed order: book.trade, and
        on_trade for the primary instrument's."""
        prints = self.feed.book.take_prints()
        if not len(prints):
            return
        followed, primary, on_trade = self.ctx.instruments, self.instrument_id, self.subscribed["on_trade"]
        for ins, ts_ns, price, qty, aggressor, hidden in zip(
                prints["instrument_id"].tolist(), prints["ts_ns"].tolist(), prints["price"].tolist(),
                prints["qty"].tolist(), prints["aggressor_side"].tolist(), prints["hidden"].tolist()):
            state = followed.get(ins)
            if state is None:
                continue
            state.book.trade(price, qty)
            if ins == primary and on_trade:
                self._invoke("on_trade", PublicTrade(ts_ns, price, qty, aggressor, bool(hidden)))

    @property
    def prints_lost(self) -> int:
        """Trades of any instrument the subscriber could not keep for on_trade (see the module doc)."""
        return int(self.feed.book.stats()["prints_lost"])

    # ---- reports -> the context's events ----------------------------------------------------------
    def _apply_report(self, msg: Any) -> None:
        ev = self._event_of(msg)
        if ev is not None:
            self.ctx.apply_event(ev)

    def _event_of(self, msg: Any) -> Event | None:
        if isinstance(msg, ExecutionReport):
            return self._event_of_report(msg)
        if isinstance(msg, OrderCancelReject):
            order, cmd = self.requests.pop(msg.cl_ord_id, (self.by_venue_id.get(msg.order_id, 0), int(CmdType.CANCEL)))
            return RejectedEvent(order_id=order, cmd_type=cmd, reason=msg.reason_code, account_id=self.ctx.account_id)
        if isinstance(msg, BusinessMessageReject):
            ref = msg.business_reject_ref_id
            order, cmd = self.requests.pop(ref, (self.ctx_of_cl.get(ref, ref), int(CmdType.NEW_ORDER)))
            return RejectedEvent(order_id=order, cmd_type=cmd, reason=msg.reason_code, account_id=self.ctx.account_id)
        return None

    def _event_of_report(self, r: ExecutionReport) -> Event | None:
        kind, acct = r.exec_type, self.ctx.account_id
        own = self.ctx_of_cl.get(r.cl_ord_id)
        if kind == ExecType.NEW and own is not None and own in self.ctx.orders:
            self.venue_id[own], self.by_venue_id[r.order_id] = r.order_id, own
            self._release_held(own)
            return AcceptedEvent(order_id=own, price=r.price or 0, qty=r.order_qty, account_id=acct,
                                 side=int(r.side), ts_ns=r.transact_time_ns)
        order = self.by_venue_id.get(r.order_id, r.cl_ord_id if own is None else own)
        if kind == ExecType.REJECTED:
            _, cmd = self.requests.pop(r.cl_ord_id, (order, int(CmdType.NEW_ORDER)))
            return RejectedEvent(order_id=order, cmd_type=cmd, reason=r.reason_code, account_id=acct)
        if kind == ExecType.TRADE:
            side, qty = int(r.side), r.last_qty or 0
            mine = {"order_id": order, "leaves_qty": r.leaves_qty, "account_id": acct}
            other_side = SELL if side == BUY else BUY
            fields = {f"{'buy' if side == BUY else 'sell'}_{k}": v for k, v in mine.items()}
            return TradeEvent(price=r.last_px or 0, qty=qty, aggressor_side=side if r.aggressor else other_side,
                              ts_ns=r.transact_time_ns, instrument_id=r.instrument_id, **fields)
        if kind == ExecType.CANCELED:
            self.requests.pop(r.cl_ord_id, None)
            return CancelledEvent(order_id=order, leaves_qty=0, reason=r.reason_code, account_id=acct)
        if kind == ExecType.REPLACED:
            self.requests.pop(r.cl_ord_id, None)
            return ReplacedEvent(order_id=order, price=r.price or 0, leaves_qty=r.leaves_qty, account_id=acct)
        if kind == ExecType.EXPIRED:
            return ExpiredEvent(order_id=order, reason=r.reason_code, account_id=acct)
        return None

    # ---- the context's commands -> gateway messages ----------------------------------------------
    def _flush(self) -> int:
        out = self.ctx.outbox
        if not out:
            return 0
        sent = len(out)
        for o in out:
            self._send(o)
        out.clear()
        self.sent_at_ns = time.monotonic_ns()
        while self.refused_locally:      # what the strategy sends on hearing them goes with the next flush
            self.ctx.apply_event(self.refused_locally.popleft())
        return sent

    def _send(self, o: Outgoing) -> None:
        c, ins, acct = self.client, o.instrument_id or self.instrument_id, self.ctx.account_id
        if o.op == "NEW":
            flags = (OrderFlags.POST_ONLY if o.flags & POST_ONLY else OrderFlags(0)) | \
                    (OrderFlags.ICEBERG if o.flags & ICEBERG else OrderFlags(0))
            cl = c.new_order(ins, Side(o.side), o.qty, acct, price=o.price, time_in_force=TimeInForce(o.tif),
                             display_qty=o.display_qty or None, flags=flags, cl_ord_id=o.client_order_id or None)
            self.ctx_of_cl[cl] = o.order_id
        elif o.op == "CANCEL_ALL":
            c.mass_cancel(ins, acct)
        elif o.order_id not in self.venue_id:
            if o.order_id in self.ctx.orders:
                self.held.append(o)       # its ack (and the venue's id) is still on the way
            else:
                cmd = CmdType.CANCEL if o.op == "CANCEL" else CmdType.REPLACE
                self.refused_locally.append(RejectedEvent(order_id=o.order_id, cmd_type=int(cmd),
                                                          reason=int(Reason.GW_UNKNOWN_ORDER_ID), account_id=acct))
        elif o.op == "CANCEL":
            self.requests[c.cancel(self.venue_id[o.order_id], ins)] = (o.order_id, int(CmdType.CANCEL))
        else:
            self.requests[c.replace(self.venue_id[o.order_id], ins, o.price, o.qty)] = (o.order_id, int(CmdType.REPLACE))

    def _release_held(self, order_id: int) -> None:
        ready = [o for o in self.held if o.order_id == order_id]
        if ready:
            self.held = [o for o in self.held if o.order_id != order_id]
            for o in ready:
                self._send(o)

    def stop(self, timeout_s: float = 5.0) -> None:
        """on_stop, then the strategy's orders cancelled (mass cancel of its account) and waited for;
        the strategy gets no callback after on_stop."""
        if self.error is None and self._started:
            self._invoke("on_stop")
        self._stopping = True       # its timers must not place orders behind the mass cancel
        if self.ctx.orders or self.error is not None:
            self.ctx.outbox.clear()
            self.ctx.clean_up_cancel_all()
            self._flush()
            deadline = time.monotonic() + timeout_s
            while self.ctx.orders and time.monotonic() < deadline:
                self.step()
