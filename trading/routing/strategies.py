"""Routing strategies: given a RoutingContext, how many shares to take now at which lit venue (from
its best levels down), how many to send to which dark pool at the midpoint, and how many to leave for
a later wave. Order protection (Rule 611) is enforced afterwards by the router for every strategy
(trading/routing/protection.py), so a strategy only says what it prefers.

- ``cost_minimization``: every takeable share is priced all-in, in price units a share relative to
  the mid: its price's distance from the mid (spread and book walk), the venue's taker fee or taker
  rebate, a miss cost ((1 - venue quality) x one tick: a child that misses is re-routed, on average
  about a tick worse) and the venue's toxicity (its adverse markout, when negative). Shares are
  taken cheapest first; how many to take now is the one-wave mean-variance choice below with
  lambda = 0 (expected cost only).
- ``implementation_shortfall``: Almgren and Chriss (2000, "Optimal execution of portfolio
  transactions", J. Risk 3(2)) applied to one wave: take x now from the book and the rest Q - x in
  later waves. E[cost](x) = the x cheapest shares as the book prices them (price and fee) + (Q - x)
  (half spread + taker fee) + the square-root impact of the later shares, 2/3 mid (Q I(Q) - x I(x))
  (a metaorder whose impact grows as I(q) of what it has done pays 2/3 Q I(Q) in all; the x taken
  now are priced by the book instead), and Var(x) = ((Q - x) mid sigma_wave)^2 with sigma_wave the
  volatility over one wave interval; x minimises E + lambda Var with the parent's risk aversion
  lambda (1/USD). Shares are ordered by price, then fee.
- ``fill_probability``: venues ordered by the probability that a child fills, P = quality x
  exp(-latency / quote life) (quality: the venue score's answered x fill x (1 - reject) rates; a
  quote lives an exponential time whose mean is measured from the data); the whole remainder is
  taken at once from the likeliest venues' best levels.
- ``dark_first``: the first wave sends the whole remainder to the dark pools at the midpoint (split
  by quality x market share, with the parent's minimum quantity), unless the NBBO is locked, crossed
  or one-sided; every later wave sweeps the lit venues (cost_minimization, everything at once).
- ``passive``: the first wave posts part of the remainder at the touch of the venue where the
  expected cost of resting (maker rebate, adverse selection, queue-model fill probability,
  opportunity cost of the unfilled part: trading/routing/passive.py) beats crossing, and takes the
  rest as cost_minimization does; the post rests until its time is up or the touch moves away from
  its price, and every later wave takes what is left as cost_minimization does (its last wave
  sweeps everything), so the two strategies differ by the post alone.
- ``largest_venue``: the naive baseline: everything to the lit venue with the largest market share,
  as much as its book holds within the limit, the rest a wave later.
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

from trading.routing.context import RoutingContext
from trading.routing.market import BUY, Level
from trading.routing.passive import Post, choose_post


@dataclass
class Allocation:
    lit: dict[str, int] = field(default_factory=dict)     # venue -> shares, taken from its best levels down
    dark: dict[str, int] = field(default_factory=dict)    # venue -> shares at the midpoint
    deferred: int = 0
    why: dict[str, str] = field(default_factory=dict)
    posts: list[Post] = field(default_factory=list)     # passive children, resting at the touch


class Slice(NamedTuple):
    """Shares at one price of one venue. The field order is the allocation order: cost first; equal
    cost: better price for this side (signed_price: the price as a cost), then venue id."""
    unit_cost: float     # price units a share, relative to the mid (positive: a cost)
    signed_price: int
    venue_id: str
    price: int
    qty: int


def _slices(ctx: RoutingContext, venue_cost: dict[str, float], need: int) -> list[Slice]:
    """The usable lit venues' takeable levels as slices in allocation order, as far as the remainder
    needs. A slice's unit cost is its price's distance from the mid (signed: a cost) plus its
    venue's part (`venue_cost`: fee, miss, toxicity), so within a venue it rises with depth: each
    venue's levels are in cost order already, and merging them (a heap of the venues' next levels)
    yields the order a full sort would, stopping once the slices hold the remainder."""
    limit = ctx.limit_price()
    mid = ctx.mid() or 0.0
    sign = 1 if ctx.side == BUY else -1
    books: list[list[Level]] = []
    heap: list[tuple[Slice, int, int]] = []
    for v in ctx.usable_lit:
        levels = ctx.levels(v, limit)
        if levels:
            lv = levels[0]
            heap.append((Slice(sign * (lv.price - mid) + venue_cost[v], sign * lv.price, v, lv.price, lv.qty),
                         len(books), 0))
            books.append(levels)
    heapq.heapify(heap)    # slices are unique (one per venue and price): ties never reach the indices
    out: list[Slice] = []
    while heap and need > 0:
        s, k, i = heapq.heappop(heap)
        out.append(s)
        need -= s.qty
        levels = books[k]
        if i + 1 < len(levels):
            lv = levels[i + 1]
            heapq.heappush(heap, (Slice(sign * (lv.price - mid) + venue_cost[s.venue_id], sign * lv.price,
                                        s.venue_id, lv.price, lv.qty), k, i + 1))
    return out


def take_now(ctx: RoutingContext, slices: list[Slice], lam: float, qty: int) -> int:
    """The one-wave mean-variance choice (module docstring): how many of the ordered slices' shares
    to take now, of the `qty` this wave decides about. The last wave takes all it can."""
    total = min(qty, sum(s.qty for s in slices))
    mid = ctx.mid()
    if ctx.last_wave or mid is None or total == 0:
        return total
    n = ctx.nbbo
    half_spread = (n.ask - n.bid) / 2.0 if n.ask is not None and n.bid is not None else 0.0
    min_fee = min((ctx.fee_units(v) for v in ctx.usable_lit), default=0.0)
    sigma_wave = ctx.impact.sigma_over(ctx.parent.wave_interval_ns)
    q_all = qty

    impact_all = q_all * ctx.impact.fraction(q_all)

    def objective(x: int, cost_now: float) -> float:
        later = (q_all - x) * (half_spread + min_fee) + 2.0 / 3.0 * mid * (impact_all - x * ctx.impact.fraction(x))
        variance = ((q_all - x) * mid * sigma_wave) ** 2
        return (cost_now + later) / 1e4 + lam * variance / 1e8

    best_x, best = 0, objective(0, 0.0)
    x, cost = 0, 0.0
    for s in slices:
        take = min(s.qty, total - x)
        if take <= 0:
            break
        x, cost = x + take, cost + take * s.unit_cost
        value = objective(x, cost)
        if value <= best + 1e-12:
            best_x, best = x, value
    return best_x


def _fill(slices: list[Slice], qty: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in slices:
        if qty <= 0:
            break
        take = min(s.qty, qty)
        out[s.venue_id] = out.get(s.venue_id, 0) + take
        qty -= take
    return out


def cost_minimization(ctx: RoutingContext, take_all: bool = False, qty: int | None = None) -> Allocation:
    """qty: the shares to decide about (default: the whole remainder)."""
    want = ctx.remaining if qty is None else qty
    mid = ctx.mid() or 0.0
    tick = ctx.rules.min_increment(int(mid), ctx.tick_class) if mid else 100

    def venue_cost(v: str) -> float:
        score = ctx.scores.score(v)
        toxicity = max(0.0, -score.markout_bps) * mid / 1e4
        return ctx.fee_units(v) + (1.0 - score.quality()) * tick + toxicity

    per_venue = {v: venue_cost(v) for v in ctx.usable_lit}     # the part of the cost that is the venue's
    # within a venue the all-in cost rises with depth (only the price changes), so this order takes
    # each venue's levels from its top down, as its child will
    slices = _slices(ctx, per_venue, want)
    x = min(want, sum(s.qty for s in slices)) if take_all else take_now(ctx, slices, 0.0, want)
    lit = _fill(slices, x)
    return Allocation(lit=lit, deferred=want - x,
                      why={v: "cheapest all-in (price, fee, miss, toxicity)" for v in lit})


def implementation_shortfall(ctx: RoutingContext) -> Allocation:
    slices = _slices(ctx, {v: ctx.fee_units(v) for v in ctx.usable_lit}, ctx.remaining)
    x = take_now(ctx, slices, ctx.parent.risk_aversion, ctx.remaining)
    lit = _fill(slices, x)
    return Allocation(lit=lit, deferred=ctx.remaining - x,
                      why={v: f"mean-variance wave: take {x} of {ctx.remaining} now" for v in lit})


def fill_probability(ctx: RoutingContext) -> dict[str, float]:
    """P(a child at the venue fills) for every usable lit venue (module docstring)."""
    return {v: ctx.scores.score(v).quality() * math.exp(-ctx.scores.score(v).latency_ns / ctx.quote_life_ns)
            for v in ctx.usable_lit}


def most_likely_fill(ctx: RoutingContext) -> Allocation:
    prob = fill_probability(ctx)
    limit = ctx.limit_price()
    order = sorted(ctx.usable_lit, key=lambda v: (-prob[v], v))
    sign = 1 if ctx.side == BUY else -1
    slices: list[Slice] = []
    need = ctx.remaining
    for v in order:
        for lv in ctx.levels(v, limit):
            if need <= 0:
                break
            slices.append(Slice(-prob[v], sign * lv.price, v, lv.price, lv.qty))
            need -= lv.qty
    lit = _fill(slices, ctx.remaining)
    taken = sum(lit.values())
    return Allocation(lit=lit, deferred=ctx.remaining - taken, why={v: f"P(fill) {prob[v]:.3f}" for v in lit})


def dark_first(ctx: RoutingContext) -> Allocation:
    n = ctx.nbbo
    two_sided = n.bid is not None and n.ask is not None and not n.locked_or_crossed
    if ctx.wave == 1 and ctx.usable_dark and two_sided and not ctx.last_wave:
        weights = {v: ctx.scores.score(v).quality() * max(ctx.venues[v].market_share, 1e-6) for v in ctx.usable_dark}
        total = sum(weights.values())
        dark: dict[str, int] = {}
        left = ctx.remaining
        for v in sorted(weights, key=lambda v: (-weights[v], v)):
            share = int(ctx.remaining * weights[v] / total)
            dark[v] = share
            left -= share
        first = min(weights, key=lambda v: (-weights[v], v))
        dark[first] += left
        dark = {v: q for v, q in dark.items() if q > 0}
        return Allocation(dark=dark, why={v: "dark first: midpoint" for v in dark})
    if ctx.wave == 1 and ctx.usable_dark and not two_sided:
        ctx.notes.append("dark pools skipped: the NBBO is locked, crossed or one-sided")
    alloc = cost_minimization(ctx, take_all=True)
    alloc.why = {v: "lit sweep after the dark pools" for v in alloc.lit}
    return alloc


def passive(ctx: RoutingContext) -> Allocation:
    post = choose_post(ctx) if ctx.wave == 1 and not ctx.last_wave else None
    if post is None:     # the taking is cost_minimization's, so the two differ by the post alone
        return cost_minimization(ctx)
    rest = ctx.remaining - post.qty
    alloc = cost_minimization(ctx, qty=rest) if rest > 0 else Allocation()
    alloc.posts = [post]
    ctx.notes.append(f"post {post.qty} on {post.venue_id} at {post.price}: expected fill {post.expected_fill:.0f}, "
                     f"saving {post.saving_units / max(post.qty, 1):.2f} units a share against crossing")
    return alloc


def largest_venue(ctx: RoutingContext) -> Allocation:
    if not ctx.usable_lit:
        return Allocation(deferred=ctx.remaining)
    v = max(ctx.usable_lit, key=lambda v: (ctx.venues[v].market_share, v))
    depth = sum(lv.qty for lv in ctx.levels(v, ctx.limit_price()))
    x = min(ctx.remaining, depth)
    return Allocation(lit={v: x} if x else {}, deferred=ctx.remaining - x, why={v: "largest market share"})


STRATEGIES: dict[str, Callable[[RoutingContext], Allocation]] = {
    "cost_minimization": cost_minimization,
    "implementation_shortfall": implementation_shortfall,
    "fill_probability": most_likely_fill,
    "dark_first": dark_first,
    "largest_venue": largest_venue,
    "passive": passive,
}
