"""The router against live venues: a ``Marketplace`` over one gateway.client session per venue
(connected to the venue's order-entry port, i.e. through its delay line, so each child meets the
venue's latency profile) and the consolidator's feed (gateway/sip) for the market.

- snapshot, from one of two sources: the venues' own order-by-order feeds (``feeds``: one
  gateway.marketdata Subscriber per venue, joined late from the venue's recovery snapshot, so the
  books are there at once, with their depth; ``venue_feeds`` opens them), or the consolidator
  (``sip``): the latest NbboUpdate of the instrument, each venue's protected quote (best bid and
  offer with sizes) its book, one level a side (the SIP publishes on change: a subscriber that has
  seen no change has no quote). Deeper levels beyond a one-level book are found by re-routing.
- send: a take child is a limit IOC NewOrderSingle on the child's venue session, with the
  intermarket-sweep flag when the router made it an ISO (it swept the better protected quotes in
  the same wave, or holds their venue set aside under self-help): the venue's Rule 611 check then
  lets it through. A midpoint child is a MidpointPeg IOC (no limit; its
  minimum quantity as displayQty, the MAQ) on a dark venue's session: the venue's engine prices it
  at the midpoint of the NBBO it was last given.
- a post child is a post-only DAY limit on a lit venue's session, cancelled (``cancel``) when the
  router says so; its fills come as TRADE reports like any child's.
- wait: reads every session's reports (select on their sockets, up to the deadline): TRADE ->
  a fill (lastPx, lastQty), and done once leavesQty is 0; CANCELED / EXPIRED -> done; REJECTED ->
  rejected with the reason code.
- Rule 611 route-away (a lit venue's engine in ``order_protection = "route_away"``): the venue
  executes a child up to the protected price of another venue and cancels the rest with 430 (431:
  it would lock or cross). Where the routing of that rest lives: here, in the router, which picks up
  the engine's cancel reason (the child's outcome says "route away"); execution.run_plan routes the
  rest at once in a new wave on the market as it is then, where the Reg NMS gate (protection.py)
  sends it to the venue with the protected quote first. The venue itself routes nothing. A session whose connection breaks is dropped: its children never
  answer, and the router's timeout calls the venue down.
- traded_volume: per venue, the shares its own feed printed (EXECUTED and TRADE messages, counted
  by the subscriber's C book) since the feed was opened: what VWAP and POV follow through the router.
The clock is CLOCK_MONOTONIC (time.monotonic_ns), as the router's timeouts need.
"""
from __future__ import annotations

import select
import time
from dataclasses import dataclass, field

from gateway.client import Client, ClientError, ClientTimeout, ConnectionClosed, ExecType, ExecutionReport
from gateway.reasons import Reason
from gateway.orderentry.sbe_codec import OrderFlags, OrdType, Side, TimeInForce
from gateway.marketdata.recovery import RecoveryClient
from gateway.marketdata.subscriber import Subscriber
from gateway.marketdata.transport import ZmqReceiver
from gateway.sip.process import FEED_SESSION
from gateway.sip.subscriber import SipSubscriber
from gateway.venues.config import MultiVenueConfig, ports
from trading.routing.errors import RoutingError
from trading.routing.execution import ChildEvent
from trading.routing.market import BUY, SELL, Level, MarketSnapshot, VenueBook
from trading.routing.plan import ChildOrder

MAX_POLL_S = 0.005     # longest single wait on the sockets, so the deadline is kept


ROUTE_AWAY_CANCELS = (int(Reason.ENG_CXL_REGNMS_TRADE_THROUGH), int(Reason.ENG_CXL_REGNMS_LOCK_CROSS))


def cancel_reason(code: int) -> str:
    """Why a child's rest was cancelled, as its outcome says: the venue's Rule 611 route-away
    (its engine executed up to the protected price and returned the rest: the router routes it on),
    or the plain end of an IOC (no reason)."""
    if code in ROUTE_AWAY_CANCELS:
        return f"route away: {Reason(code).name} ({code}); the rest is routed on"
    return ""


@dataclass
class VenueSession:
    venue_id: str
    client: Client
    account_id: int


def venue_feeds(multi: MultiVenueConfig, venue_ids: list[str]) -> dict[str, Subscriber]:
    """A late-joining order-by-order subscriber per venue (its book from the venue's snapshot)."""
    out: dict[str, Subscriber] = {}
    for v in venue_ids:
        p = ports(multi.venue(v))
        try:
            out[v] = Subscriber(ZmqReceiver(f"tcp://{multi.host}:{p.md_zmq}"),
                                RecoveryClient((multi.host, p.md_recovery), FEED_SESSION), FEED_SESSION, late_join=True)
        except OSError as exc:
            raise RoutingError(f"venue {v}: no market-data snapshot from {multi.host}:{p.md_recovery} ({exc})") from None
    return out


@dataclass
class LiveVenues:
    sessions: dict[str, VenueSession]
    sip: SipSubscriber | None = None
    feeds: dict[str, Subscriber] = field(default_factory=dict)
    depth: int = 20
    dark: frozenset[str] = frozenset()
    pending: dict[tuple[str, int], str] = field(default_factory=dict)     # (venue, clOrdId) -> child id
    broken: set[str] = field(default_factory=set)
    sent: list[str] = field(default_factory=list)                         # child ids, in send order
    ready: list[ChildEvent] = field(default_factory=list)
    printed: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)   # (venue, inst) -> (base, last)

    def now_ns(self) -> int:
        return time.monotonic_ns()

    def snapshot(self, instrument_id: int) -> MarketSnapshot:
        if self.feeds:
            return self._feed_snapshot(instrument_id)
        if self.sip is None:
            raise RoutingError("live venues need the venues' feeds or the consolidator's")
        self.sip.poll(0.0)
        upd = self.sip.latest.get(instrument_id)
        quotes = {q.venue: q for q in upd.protected} if upd is not None else {}
        books = []
        for v in sorted(set(self.sessions) | self.dark):
            q = quotes.get(v)
            if q is None or v in self.dark:
                books.append(VenueBook(venue_id=v, stale=v in self.broken))
                continue
            books.append(VenueBook(venue_id=v, stale=v in self.broken,
                                   bids=(Level(q.bid, q.bid_size),) if q.bid is not None and q.bid_size else (),
                                   asks=(Level(q.ask, q.ask_size),) if q.ask is not None and q.ask_size else ()))
        return MarketSnapshot(ts_ns=self.now_ns(), instrument_id=instrument_id, books=tuple(books))

    def advance_to(self, t: int) -> list[ChildEvent]:
        """Waits until the clock reaches t, reading the sessions (keepalives sent); answers that
        come meanwhile (late ones, of children already accounted) are returned."""
        out: list[ChildEvent] = []
        while self.now_ns() < t:
            out.extend(self.wait(t))
        return out

    def traded_volume(self, instrument_id: int) -> dict[str, int]:
        """Shares printed per venue since its feed was opened (the feed's EXECUTED and TRADE
        messages, lit and dark alike): a venue's count never goes back, also when its subscriber
        resynchronises (its counter restarts; prints missed in the gap are not counted)."""
        if not self.feeds:
            raise RoutingError("traded volume needs the venues' own feeds (venue_feeds), not the consolidator's")
        out: dict[str, int] = {}
        for v, sub in sorted(self.feeds.items()):
            sub.poll(0.0)
            now = int(sub.book.instrument(instrument_id)["traded_qty"])
            base, last = self.printed.get((v, instrument_id), (0, 0))
            if now < last:           # the subscriber was reset: what it had counted stays counted
                base += last
            self.printed[(v, instrument_id)] = (base, now)
            out[v] = base + now
        return out

    def _feed_snapshot(self, instrument_id: int) -> MarketSnapshot:
        books = []
        for v in sorted(set(self.sessions) | self.dark):
            sub = self.feeds.get(v)
            if sub is None or v in self.dark:
                books.append(VenueBook(venue_id=v, stale=v in self.broken))
                continue
            sub.poll(0.0)
            sides = [tuple(Level(int(r["price"]), int(r["qty"])) for r in sub.book.depth(instrument_id, side, self.depth))
                     for side in (BUY, SELL)]
            books.append(VenueBook(venue_id=v, bids=sides[0], asks=sides[1], stale=v in self.broken or sub.ended))
        return MarketSnapshot(ts_ns=self.now_ns(), instrument_id=instrument_id, books=tuple(books))

    def send(self, child: ChildOrder, instrument_id: int) -> None:
        self.sent.append(child.child_id)
        s = self.sessions.get(child.venue_id)
        if s is None:    # a venue this market has no session with: refused at once, the router re-routes
            self.ready.append(ChildEvent(child_id=child.child_id, ts_ns=self.now_ns(), kind="rejected",
                                         reason=f"no session with venue {child.venue_id}"))
            return
        if child.venue_id in self.broken:
            return     # its connection is gone: no answer, the router's timeout decides
        side = Side.BUY if child.side == "buy" else Side.SELL
        try:
            if child.style == "post":     # a post-only DAY limit: it rests until filled or cancelled
                cl = s.client.new_order(instrument_id, side, child.qty, s.account_id, price=child.price,
                                        time_in_force=TimeInForce.DAY, flags=OrderFlags.POST_ONLY)
            elif child.style == "midpoint":
                cl = s.client.new_order(instrument_id, side, child.qty, s.account_id, ord_type=OrdType.MIDPOINT_PEG,
                                        time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL, display_qty=child.min_qty)
            else:
                flags = OrderFlags.INTERMARKET_SWEEP if child.intermarket_sweep else OrderFlags(0)
                cl = s.client.new_order(instrument_id, side, child.qty, s.account_id, price=child.price,
                                        time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL, flags=flags)
        except ConnectionClosed:
            self.broken.add(child.venue_id)
            return
        self.pending[(child.venue_id, cl)] = child.child_id

    def cancel(self, child: ChildOrder, instrument_id: int) -> None:
        """Cancels a resting post on its venue session (the venue answers CANCELED: done); a broken
        session, or a post the venue never acknowledged, gets no answer: the router's timeout decides."""
        s = self.sessions.get(child.venue_id)
        cl = next((c for (v, c), cid in self.pending.items() if v == child.venue_id and cid == child.child_id), None)
        if s is None or cl is None or child.venue_id in self.broken:
            return
        try:
            # the venue's CANCELED report names the cancel's own clOrdId: it stands for the child too
            self.pending[(child.venue_id, s.client.cancel_order(cl, timeout_s=1.0))] = child.child_id
        except ClientError:
            return
        except ConnectionClosed:
            self.broken.add(child.venue_id)

    def _read(self, s: VenueSession) -> None:
        while True:
            try:
                msg = s.client.recv(timeout_s=1e-4)
            except ClientTimeout:
                return
            except ConnectionClosed:
                self.broken.add(s.venue_id)
                return
            if isinstance(msg, ExecutionReport):
                self._report(s.venue_id, msg)

    def _report(self, venue_id: str, r: ExecutionReport) -> None:
        child = self.pending.get((venue_id, r.cl_ord_id))
        if child is None:
            return
        now = self.now_ns()
        if r.exec_type == ExecType.TRADE:
            self.ready.append(ChildEvent(child_id=child, ts_ns=now, kind="fill", price=int(r.last_px or 0),
                                         qty=int(r.last_qty or 0)))
            if r.leaves_qty == 0:
                self.ready.append(ChildEvent(child_id=child, ts_ns=now, kind="done"))
                self._forget(child)
        elif r.exec_type in (ExecType.CANCELED, ExecType.EXPIRED):
            self.ready.append(ChildEvent(child_id=child, ts_ns=now, kind="done", reason=cancel_reason(r.reason_code)))
            self._forget(child)
        elif r.exec_type == ExecType.REJECTED:
            self.ready.append(ChildEvent(child_id=child, ts_ns=now, kind="rejected", reason=f"reason {r.reason_code}"))
            self._forget(child)

    def _forget(self, child_id: str) -> None:
        """The child is over: every clOrdId that stood for it (its order's, its cancel's) goes."""
        for key in [k for k, c in self.pending.items() if c == child_id]:
            del self.pending[key]

    def _keep_alive(self, s: VenueSession) -> None:
        """A FIXP session silent past its keepalive interval is ended by the gateway: send ours."""
        if s.venue_id in self.broken or not s.client.core.heartbeat_due():
            return
        try:
            s.client.heartbeat()
        except ConnectionClosed:
            self.broken.add(s.venue_id)

    def wait(self, until_ns: int) -> list[ChildEvent]:
        while not self.ready:
            live = [s for v, s in self.sessions.items() if v not in self.broken]
            for s in live:
                if s.client.inbox:
                    self._read(s)
                self._keep_alive(s)
            if self.ready:
                break
            left = (until_ns - self.now_ns()) / 1e9
            if left <= 0:
                return []
            socks = [s.client.sock for s in live]
            if not socks:
                time.sleep(min(left, MAX_POLL_S))
                continue
            readable, _, _ = select.select(socks, [], [], min(left, MAX_POLL_S))
            for s in live:
                if s.client.sock in readable:
                    self._read(s)
        out, self.ready = self.ready, []
        return out
