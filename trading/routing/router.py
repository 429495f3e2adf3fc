"""The smart order router: ``Router.route_order(order, strategy) -> RoutingPlan`` decides,
``Router.execute_routing_plan(plan) -> ExecutionReport`` runs a plan (live or in replay, through
whatever Marketplace the router was given), re-routing what is left after partial fills, rejects
and venues that stop answering, and updating the venue scores from what happened.

Every wave goes through the same gate whatever the strategy: venues that are down, stale or charge
above the Rule 610 cap are left out (and said why), order protection is enforced by sweeping (ISO),
prices are on the Rule 612 grid, and an independent check of the wave must find nothing before a
child is sent.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from gateway.regnms.rules import RuleVersion, TickClass, rules_in_force
from gateway.venues.config import MultiVenueConfig, VenueSpec
from trading.routing import protection
from trading.routing.context import RoutingContext
from trading.routing.errors import RoutingError
from trading.routing.impact import DEFAULT_IMPACT, SquareRootImpact
from trading.routing.market import BUY, MarketSnapshot
from trading.routing.plan import ChildOrder, CostEstimate, ParentOrder, RoutingPlan
from trading.routing.scores import VenueScoreboard
from trading.routing.strategies import STRATEGIES, Allocation
from trading.routing.queue import touch_model
from trading.routing.venue import check_venues, fee_cap_usd, latency_p99_ns, maker_rebate_usd, taker_fee_usd

DEFAULT_TRADE_SIZE = 100.0     # shares a marketable order takes, when the impact model counted none

if TYPE_CHECKING:
    from trading.routing.execution import Marketplace
    from trading.routing.plan import ExecutionReport


class Router:
    def __init__(self, venues: tuple[VenueSpec, ...] | list[VenueSpec], rules: RuleVersion | None = None,
                 impact: SquareRootImpact = DEFAULT_IMPACT, market: Marketplace | None = None,
                 scores: VenueScoreboard | None = None, tick_class: TickClass = "penny", quote_life_ns: float = 1e9,
                 timeout_floor_ns: int = 5_000_000, touch_move_rate_per_s: float = 0.0) -> None:
        self.venues = {v.id: v for v in check_venues(venues)}
        self.rules = rules if rules is not None else rules_in_force()
        self.impact = impact
        self.market = market
        self.scores = scores or VenueScoreboard(tuple(self.venues.values()))
        self.tick_class: TickClass = tick_class
        self.quote_life_ns = quote_life_ns
        self.timeout_floor_ns = timeout_floor_ns
        self.decision_ns: list[int] = []     # wall time of every routing decision (plan_wave), for benchmarks
        # per-venue constants every decision reads (the venue set never changes after construction)
        self._ids = tuple(sorted(self.venues))
        self._taker_usd = {v: taker_fee_usd(spec) for v, spec in self.venues.items()}
        self._taker_units = {v: fee * 10_000 for v, fee in self._taker_usd.items()}   # USD -> price units
        self._rebate_units = {v: maker_rebate_usd(spec) * 10_000 for v, spec in self.venues.items()}
        trade_size = impact.volume_day / impact.samples if impact.samples > 0 else DEFAULT_TRADE_SIZE
        # touch_move_rate_per_s: how often a better price steps in front of a post (queue.touch_move_rate)
        self._touch = {v: touch_model(impact.volume_day, spec.market_share, trade_size, touch_move_rate_per_s)
                       for v, spec in self.venues.items() if spec.type == "lit"}
        self._market_touch = touch_model(impact.volume_day, 1.0, trade_size, touch_move_rate_per_s)
        self._lit = frozenset(v for v, spec in self.venues.items() if spec.type == "lit")

    @classmethod
    def from_config(cls, multi: MultiVenueConfig, symbol: str, **kwargs: object) -> Router:
        """The router of one instrument of a multi-venue deployment: the venues that list it, the
        Reg NMS version the file applies, the symbol's tick class."""
        venues = [v for v in multi.venues if symbol in v.instruments]
        if not venues:
            raise RoutingError(f"no venue of the configuration trades {symbol!r}")
        return cls(venues, rules=multi.rules(), tick_class=multi.tick_class(symbol), **kwargs)  # type: ignore[arg-type]

    # ---- deciding ---------------------------------------------------------------------------------
    def route_order(self, order: ParentOrder, strategy: str, snapshot: MarketSnapshot | None = None,
                    now_ns: int | None = None) -> RoutingPlan:
        """The first wave's plan for a parent order (the market's snapshot and clock unless given)."""
        order.check()
        if strategy not in STRATEGIES:
            raise RoutingError(f"unknown routing strategy {strategy!r} (one of: {', '.join(sorted(STRATEGIES))})")
        if snapshot is None or now_ns is None:
            if self.market is None:
                raise RoutingError("route_order needs a snapshot and a time, or a router built with a market")
            now_ns = self.market.now_ns() if now_ns is None else now_ns
            snapshot = self.market.snapshot(order.instrument_id) if snapshot is None else snapshot
        if snapshot.instrument_id != order.instrument_id:
            raise RoutingError(f"snapshot is of instrument {snapshot.instrument_id}, the order of {order.instrument_id}")
        return self.plan_wave(order, strategy, order.qty, 1, snapshot, now_ns, None, now_ns + order.horizon_ns)

    def context(self, parent: ParentOrder, remaining: int, wave: int, snapshot: MarketSnapshot, now_ns: int,
                arrival_touch: int | None, deadline_ns: int) -> RoutingContext:
        down = self.scores.down(now_ns)
        books = {b.venue_id: b for b in snapshot.books}
        excluded: dict[str, str] = {}
        for v in self._ids:
            book = books.get(v)
            if v in down:
                excluded[v] = f"down: {self.scores.why_down(v)} (set aside until it has rested)"
            elif v in self._lit and (book is None or book.stale):
                excluded[v] = "no current quotes (feed stale or absent)"
        side = parent.side_code
        probe = snapshot.nbbo(frozenset(excluded))
        touch = (probe.ask if side == BUY else probe.bid) or arrival_touch or 0
        cap = fee_cap_usd(self.rules, touch)
        for v in self._ids:
            fee = self._taker_usd[v]
            if v not in excluded and fee > cap + 1e-12:
                excluded[v] = f"taker fee ${fee:.5f} above the Rule 610 cap ${cap:.5f}"
        usable = [v for v in self._ids if v not in excluded]
        return RoutingContext(
            parent=parent, remaining=remaining, wave=wave, now_ns=now_ns, snapshot=snapshot, venues=self.venues,
            usable_lit=tuple(v for v in usable if v in self._lit),
            usable_dark=tuple(v for v in usable if v not in self._lit),
            excluded=excluded, unprotected=frozenset(excluded), scores=self.scores, impact=self.impact,
            rules=self.rules, books=books, taker_fee_units=self._taker_units, maker_rebate_units=self._rebate_units,
            touch_models=self._touch, market_touch=self._market_touch, tick_class=self.tick_class, quote_life_ns=self.quote_life_ns,
            deadline_ns=deadline_ns, arrival_touch=arrival_touch)

    def plan_wave(self, parent: ParentOrder, strategy: str, remaining: int, wave: int, snapshot: MarketSnapshot,
                  now_ns: int, arrival_touch: int | None, deadline_ns: int) -> RoutingPlan:
        started = time.perf_counter_ns()
        ctx = self.context(parent, remaining, wave, snapshot, now_ns, arrival_touch, deadline_ns)
        alloc = STRATEGIES[strategy](ctx)
        children = self._children(ctx, alloc, wave)
        problems = protection.violations(ctx, children)
        if problems:   # a bug in a strategy or in enforce: nothing of this wave may go out
            raise RoutingError(f"wave {wave} of {parent.parent_id} failed the Reg NMS check: {'; '.join(problems)}")
        sent = sum(c.qty for c in children)
        plan = RoutingPlan(
            plan_id=f"{parent.parent_id}/{strategy}/{wave}", strategy=strategy, parent=parent, wave=wave,
            remaining_qty=remaining, created_ns=now_ns, rules_version=self.rules.name, snapshot=snapshot,
            children=tuple(children), deferred_qty=remaining - sent, expected=self._expected(ctx, children),
            excluded=tuple(sorted(ctx.excluded.items())),
            notes=tuple(ctx.notes) + (f"square-root impact of the remaining {remaining}: "
                                      f"{self.impact.bps(remaining):.2f} bps ({self.impact.source})",))
        self.decision_ns.append(time.perf_counter_ns() - started)
        return plan

    def _children(self, ctx: RoutingContext, alloc: Allocation, wave: int) -> list[ChildOrder]:
        p = ctx.parent
        lit = protection.enforce(ctx, alloc.lit)
        limit = ctx.limit_price()
        out: list[ChildOrder] = []
        for v in sorted(lit):
            price = protection.child_price(ctx.levels(v, limit), lit[v])
            assert price is not None   # enforce never allocates more than the levels hold
            out.append(ChildOrder(child_id=f"{p.parent_id}.{wave}.{len(out) + 1}", parent_id=p.parent_id, wave=wave,
                                  venue_id=v, side=p.side, qty=lit[v], price=price, style="take",
                                  intermarket_sweep=protection.needs_sweep(ctx, v, price),
                                  expected_fill_qty=lit[v] * self.scores.score(v).quality(),
                                  why=alloc.why.get(v, "Rule 611 sweep of a better protected quote")))
        for v in sorted(alloc.dark):
            qty = alloc.dark[v]
            min_qty = min(qty, p.dark_min_qty)
            out.append(ChildOrder(child_id=f"{p.parent_id}.{wave}.{len(out) + 1}", parent_id=p.parent_id, wave=wave,
                                  venue_id=v, side=p.side, qty=qty, price=0, style="midpoint", min_qty=min_qty,
                                  expected_fill_qty=qty * self.scores.score(v).quality(), why=alloc.why.get(v, "")))
        for post in alloc.posts:
            out.append(ChildOrder(child_id=f"{p.parent_id}.{wave}.{len(out) + 1}", parent_id=p.parent_id, wave=wave,
                                  venue_id=post.venue_id, side=p.side, qty=post.qty, price=post.price, style="post",
                                  expires_ns=post.expires_ns, expected_fill_qty=post.expected_fill,
                                  why="passive: resting beats crossing (queue model, maker rebate)"))
        return out

    def _expected(self, ctx: RoutingContext, children: list[ChildOrder]) -> CostEstimate:
        n = ctx.nbbo
        mid, touch = n.mid, ctx.touch()
        qty = sum(c.qty for c in children)
        if mid is None or touch is None or qty == 0:
            return CostEstimate()
        walk = fees = spread = 0.0
        for c in children:
            if c.style == "take":
                levels = ctx.levels(c.venue_id, c.price)
                left, paid = c.qty, 0.0
                for lv in levels:
                    take = min(left, lv.qty)
                    paid, left = paid + take * lv.price, left - take
                walk += ctx.signed(paid - c.qty * touch)
                spread += c.qty * ctx.signed(touch - mid)
            elif c.style == "post":     # filled, it earns the half spread and the maker rebate
                spread += c.qty * ctx.signed(c.price - mid)
                fees -= c.qty * ctx.maker_rebate_units[c.venue_id]
                continue
            fees += c.qty * ctx.fee_units(c.venue_id)
        scale = 1e4 / (qty * mid)
        return CostEstimate(spread_bps=spread * scale, fees_bps=fees * scale, impact_bps=walk * scale)

    def child_timeout_ns(self, venue_id: str) -> int:
        """How long to wait for a venue's answer before calling it down: four P99 one-way latencies
        (there and back, twice over), at least the floor."""
        return max(self.timeout_floor_ns, int(4 * latency_p99_ns(self.venues[venue_id])))

    def traded_volume(self, instrument_id: int) -> dict[str, int]:
        """Shares printed per venue on the router's market (its feeds' prints), cumulative: what
        volume-driven execution algorithms (VWAP, POV) follow."""
        if self.market is None:
            raise RoutingError("traded_volume needs a router built with a market (live or replay)")
        return self.market.traded_volume(instrument_id)

    # ---- running ----------------------------------------------------------------------------------
    def execute_routing_plan(self, plan: RoutingPlan) -> ExecutionReport:
        from trading.routing.execution import run_plan
        if self.market is None:
            raise RoutingError("execute_routing_plan needs a router built with a market (live or replay)")
        return run_plan(self, plan, self.market)
