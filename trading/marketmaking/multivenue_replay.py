"""The multi-venue market maker (multivenue.py: one inventory, each venue priced with its own fees
and latency) in replay, over the routing replay's venues (trading/routing/replay_market.py): one
real LOBSTER day split into lit venues by its stated, seeded rule (each venue its own engine, the
venues' books adding up to the real book at every instant), the maker's quotes resting there by
the routing replay's queue rule (trading/routing/replay_posts.py: a quote joins the back of its
venue's queue; history's executions at its price use up the shares ahead, then fill it; any
venue's trade-through fills it). Nothing of those rules is restated here: this module only drives
the maker over that Marketplace.

What is applied per venue:
- latency: every quote, cancel and replace reaches its venue one draw of the venue's latency later
  (lognormal with the profile's average and P99, seeded per venue), and every answer (a fill, a
  refusal, the end of a quote) comes back one draw later; a session delivers in order. The maker's
  pricing also counts the venue's average latency (VenueTerms.latency_us), as live;
- fees: each venue's context books its fills with that venue's maker rebate (a quote that rests is
  a maker), so each venue's ledger and decomposition carry its own fees.

The maker decides on a clock: every ``step_ms`` of simulated time each venue's context gets the
venue's book as it stands then (the snapshot, plus the maker's own quotes, which the venue would
display) and ``on_book``; every answer that has come back by then is applied first, in the order it
arrived (fills move the one inventory, and multivenue.py makes the other venues requote at once).
Its computation takes no simulated time. A REPLACE is a cancel of the resting quote and, once the
venue has answered that it is gone, a new quote at the back of the queue with what is left of the
order (the routing replay's posts have no replace; this keeps the venue's quote and the maker's
order equal, at the cost of a round trip, and the queue rule keeps no priority: conservative).
Same day, venues, seeds and parameters: the same run.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.venues.config import VenueSpec
from native.messages import CancelledEvent, Reason, RejectedEvent, TradeEvent
from native.records import CmdType, Tif
from trading.marketmaking.errors import ParameterError
from trading.marketmaking.multivenue import MultiVenueMarketMaker, lit_venue_terms
from trading.replay.data import MarketDay
from trading.replay.history import INSTRUMENT
from trading.routing.execution import ChildEvent
from trading.routing.plan import ChildOrder
from trading.routing.replay_market import OWN_ACCOUNT, MultiVenueReplay, SyntheticVenues
from trading.strategy.api import BUY, Fill
from trading.strategy.context import BookView, Context, Limits

HISTORY_ACCOUNT = 0


@dataclass
class _Quote:
    """One order of a venue's context and the child that currently stands for it at the venue."""
    venue: str
    order_id: int
    child: ChildOrder
    generation: int = 0


@dataclass
class MultiVenueMakerResult:
    strategy: MultiVenueMarketMaker
    report: dict[str, Any]
    contexts: dict[str, Context]
    answers: int
    quotes_sent: dict[str, int] = field(default_factory=dict)
    # per venue: the maker's fills, and each request's round trip (a quote refused on arrival, or a
    # cancel answered: from the request's sending to the answer's arrival, ns)
    fills: dict[str, list[Fill]] = field(default_factory=dict)
    round_trips: dict[str, list[int]] = field(default_factory=dict)


class MultiVenueMakerReplay:
    def __init__(self, day: MarketDay, venues: Sequence[VenueSpec], maker_venues: Sequence[str],
                 params: Mapping[str, Any], seed: int = 0, step_ms: float = 100.0) -> None:
        """ValueError naming the argument for a maker venue that is not a lit venue of `venues`, a
        step that is not > 0; ParameterError (the field) for impossible maker parameters."""
        if not step_ms > 0:
            raise ValueError(f"step_ms must be > 0, got {step_ms}")
        terms = lit_venue_terms(venues, list(maker_venues))
        self.strategy = MultiVenueMarketMaker(terms, **dict(params))
        self.market = MultiVenueReplay(SyntheticVenues.build(day, tuple(venues), seed), seed=seed)
        self.step_ns = int(step_ms * 1e6)
        self.now = self.market.now_ns()
        self.end_ns = int(day.ts_ns[-1])
        self.contexts: dict[str, Context] = {}
        for t in terms:
            self.contexts[t.venue_id] = Context(INSTRUMENT, OWN_ACCOUNT, day.price_scale, day.tick_size, t.fees,
                                                Limits(), dict(self.strategy.params), clock=lambda: self.now,
                                                invoke=self._invoker(t.venue_id), venue=t.venue_id)
        self.quotes: dict[str, _Quote] = {}          # child id -> the quote it stands for
        self.child_of: dict[tuple[str, int], str] = {}   # (venue, order id) -> its current child id
        self.reposts: set[tuple[str, int]] = set()       # REPLACE sent: the new child waits for the old one's end
        self.answers = 0
        self.sent = {v: 0 for v in self.contexts}
        self.fills: dict[str, list[Fill]] = {v: [] for v in self.contexts}
        self.requested_at: dict[str, int] = {}      # child id -> when its latest request left the maker
        self.round_trips: dict[str, list[int]] = {v: [] for v in self.contexts}
        self.last_fill_at: dict[str, int] = {}       # child id -> when its latest fill answer arrived

    def _invoker(self, venue: str) -> Any:
        def invoke(name: str, *args: Any) -> None:
            if name == "on_fill":
                self.fills[venue].append(args[0])
            getattr(self.strategy, name)(self.contexts[venue], *args)
        return invoke

    # ---- the run ----------------------------------------------------------------------------
    def run(self, until_ns: int | None = None) -> MultiVenueMakerResult:
        """Replays to the day's end (or until_ns), then cancels what rests and settles answers."""
        end = self.end_ns if until_ns is None else min(until_ns, self.end_ns)
        for ctx in self.contexts.values():
            self.strategy.on_start(ctx)
            self._flush(ctx)
        t = self.now
        while t < end:
            t = min(t + self.step_ns, end)
            self._settle(t)
            self.now = t
            snap = self.market.snapshot(INSTRUMENT)
            for book in snap.books:
                ctx = self.contexts.get(book.venue_id)
                if ctx is None or ctx.stopped:
                    continue
                self._show(ctx, book)
                self.strategy.on_book(ctx)
                self._flush(ctx)
        for ctx in self.contexts.values():
            self.strategy.on_stop(ctx)
            ctx.clean_up_cancel_all()
            self._flush(ctx)
        self._settle(end + 10_000_000_000)       # every answer on its way (latency << 10 s)
        return MultiVenueMakerResult(self.strategy, self.strategy.report(), self.contexts, self.answers, dict(self.sent), self.fills,
                                     self.round_trips)

    def _settle(self, t: int) -> None:
        """Every answer that reaches the maker by t, in arrival order, into its venue's context;
        what the maker makes on the way is sent at once."""
        for ev in self.market.advance_to(t):
            self.now = max(self.now, ev.ts_ns)
            self._answer(ev)
            for ctx in self.contexts.values():
                self._flush(ctx)

    # ---- the venue's book and the maker's answers -------------------------------------------
    def _show(self, ctx: Context, book: Any) -> None:
        """The context's book: the venue's levels plus the maker's own resting quotes there (what
        the venue displays); every own order counts as live, so market_touch takes them off again."""
        view = BookView()          # rebuilt whole at every step (the snapshot is the venue's whole book)
        view.last_trade_price, view.traded_volume = ctx.book.last_trade_price, ctx.book.traded_volume
        ctx.book = ctx.instruments[ctx.instrument_id].book = view
        mine: dict[tuple[int, int], int] = {}
        for o in ctx.orders.values():
            o.status = "live"
            mine[(o.side, o.price)] = mine.get((o.side, o.price), 0) + o.leaves_qty
        for side, levels in ((BUY, book.bids), (3 - BUY, book.asks)):
            for lv in levels:
                view.apply(side, lv.price, lv.qty + mine.pop((side, lv.price), 0))
        for (side, price), qty in mine.items():
            view.apply(side, price, qty)

    def _answer(self, ev: ChildEvent) -> None:
        """A venue's answer about one of the maker's children, into its venue's context. A fill is
        booked whichever child of the order it names (a replaced quote can still fill on its way
        out); the terminal answer (done, rejected) of the order's current child either sends the
        replacement a REPLACE is waiting for, or ends the order."""
        quote = self.quotes.get(ev.child_id)
        if quote is None:
            return
        self.answers += 1
        ctx, key = self.contexts[quote.venue], (quote.venue, quote.order_id)
        order = ctx.orders.get(quote.order_id)
        if ev.kind == "fill":
            self.last_fill_at[ev.child_id] = ev.ts_ns
            if order is not None:
                self._fill(ctx, quote.order_id, ev)
            return
        if self.last_fill_at.get(ev.child_id) != ev.ts_ns:    # not the end a fill made
            self.round_trips[quote.venue].append(ev.ts_ns - self.requested_at[ev.child_id])
        if self.child_of.get(key) != ev.child_id:
            return
        if key in self.reposts and order is not None and ev.kind == "done":
            self.reposts.discard(key)
            self._post(quote.venue, quote.order_id, order.side, order.price, order.leaves_qty)
            return
        self.reposts.discard(key)
        del self.child_of[key]
        if order is None:
            return
        if ev.kind == "rejected":
            order.status = "pending"           # a refused quote never rested: the context drops it
            reason = Reason.REJ_PHASE if ev.reason.startswith(Reason.REJ_PHASE.name) else Reason.REJ_POST_ONLY_WOULD_TAKE
            ctx.apply_event(RejectedEvent(instrument_id=INSTRUMENT, ts_ns=ev.ts_ns, reason=int(reason),
                                          order_id=quote.order_id, account_id=OWN_ACCOUNT,
                                          cmd_type=int(CmdType.NEW_ORDER)))
        else:
            ctx.apply_event(CancelledEvent(instrument_id=INSTRUMENT, ts_ns=ev.ts_ns, order_id=quote.order_id,
                                           cancelled_qty=order.leaves_qty, account_id=OWN_ACCOUNT))

    def _fill(self, ctx: Context, order_id: int, ev: ChildEvent) -> None:
        """One fill as the engine's TRADE of a resting order: the maker passive, the history's
        account the aggressor."""
        order = ctx.orders[order_id]
        leaves = max(order.leaves_qty - ev.qty, 0)
        buy = order.side == BUY
        ctx.apply_event(TradeEvent(instrument_id=INSTRUMENT, ts_ns=ev.ts_ns, price=ev.price, qty=ev.qty,
                                   buy_order_id=order_id if buy else 0, sell_order_id=0 if buy else order_id,
                                   buy_leaves_qty=leaves if buy else 0, sell_leaves_qty=0 if buy else leaves,
                                   buy_account_id=OWN_ACCOUNT if buy else HISTORY_ACCOUNT,
                                   sell_account_id=HISTORY_ACCOUNT if buy else OWN_ACCOUNT,
                                   aggressor_side=3 - order.side))
        key = (ctx.venue, order_id)
        if order_id not in ctx.orders and key in self.child_of and key not in self.reposts:
            self._cancel(ctx.venue, order_id)     # filled up in the context: what the venue still rests goes

    # ---- the maker's commands to its venue --------------------------------------------------
    def _flush(self, ctx: Context) -> None:
        out, ctx.outbox = ctx.outbox, []
        for o in out:
            key = (ctx.venue, o.order_id)
            if o.op == "NEW":
                if o.tif not in (int(Tif.GTC), int(Tif.DAY)):     # quotes rest; a take has no rule here
                    raise ParameterError("tif", o.tif, "the multi-venue replay rests quotes (GTC post-only) only")
                self._post(ctx.venue, o.order_id, o.side, o.price, o.qty)
            elif o.op == "CANCEL":
                if key not in self.reposts:
                    self._cancel(ctx.venue, o.order_id)
                self.reposts.discard(key)     # the old child's end now ends the order
            elif o.op == "REPLACE":
                order = ctx.orders.get(o.order_id)
                if order is None or key not in self.child_of:
                    continue
                order.price, order.leaves_qty = o.price, o.qty
                if key not in self.reposts:
                    self._cancel(ctx.venue, o.order_id)
                    self.reposts.add(key)
            else:
                for k in [k for k in self.child_of if k[0] == ctx.venue]:
                    if k not in self.reposts:
                        self._cancel(ctx.venue, k[1])
                    self.reposts.discard(k)

    def _post(self, venue: str, order_id: int, side: int, price: int, qty: int) -> None:
        previous = self.child_of.get((venue, order_id))
        generation = self.quotes[previous].generation + 1 if previous is not None else 0
        child = ChildOrder(child_id=f"{venue}:{order_id}:{generation}", parent_id="mm", wave=generation,
                           venue_id=venue, side="buy" if side == BUY else "sell", qty=qty, price=price,
                           style="post", why="market maker quote")
        self.quotes[child.child_id] = _Quote(venue, order_id, child, generation)
        self.child_of[(venue, order_id)] = child.child_id
        self.sent[venue] += 1
        self.requested_at[child.child_id] = self.now
        self.market.send(child, INSTRUMENT)

    def _cancel(self, venue: str, order_id: int) -> None:
        child_id = self.child_of.get((venue, order_id))
        if child_id is not None:
            self.requested_at[child_id] = self.now
            self.market.cancel(self.quotes[child_id].child, INSTRUMENT)


