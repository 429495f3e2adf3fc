"""The passive part of the ``passive`` routing strategy: whether to post part of the parent at the
touch, on which venue and how much.

A post of q shares on lit venue v rests at the NBBO's own-side price (the best bid for a buy) or one
tick inside it (on the Rule 612 grid, still below every protected offer), so it never locks or
crosses a protected quote (Rule 610(d)); where v shows nothing at that price, the child alone sets
v's touch (nobody ahead of it). It rests for T = min(post_ns, the time left before the
parent's last wave), then is cancelled and what is left is swept. Per share, in price units
relative to the mid (positive: a cost):

    f          = E[fill](A_v, q, T) / q       the queue model (trading/routing/queue.py) of v's touch,
                                               or of the whole market's for a post a tick inside (it is
                                               then the only protected quote at the best price: under
                                               Rule 611 every venue's marketable orders against its side
                                               reach it first); A_v: v's displayed size at that price;
                                               the post rests until T or until a better price steps in
                                               front of it (the model's touch-move rate), as run_plan
                                               cancels it then
    cost_post  = f (-g - r_v + a_v) + (1 - f) (h + c + o)
    cost_cross = h + c

g: the post price's distance from the mid; h: half the NBBO spread; r_v: v's maker rebate; a_v: adverse selection, the venue's realised
markout against us when adverse (the venue scores, from fills); c: the cheapest usable taker fee;
o = mid sigma(T): the opportunity cost, the mid having moved one standard deviation (the impact
model's volatility, diffusive) by the time the unfilled part crosses. The (v, q) with the largest
saving q (cost_cross - cost_post) > 0 (over both prices) is posted; sizes tried: quarters of the remainder rounded
down to whole lots of 100 (at least one lot, at most the remainder).
"""
from __future__ import annotations

from dataclasses import dataclass

from trading.routing.context import RoutingContext
from trading.routing.market import BUY, Level

LOT = 100


@dataclass(frozen=True)
class Post:
    venue_id: str
    qty: int
    price: int
    expires_ns: int
    expected_fill: float
    saving_units: float     # q (cost_cross - cost_post), price units


def _sizes(remaining: int) -> list[int]:
    out = {min(remaining, max(LOT, remaining * k // 4 // LOT * LOT)) for k in (1, 2, 3, 4)}
    return sorted(q for q in out if q > 0)


def choose_post(ctx: RoutingContext) -> Post | None:
    """The post that saves most against crossing now, or None (module docstring)."""
    n = ctx.nbbo
    if n.bid is None or n.ask is None or n.locked_or_crossed or not ctx.usable_lit:
        return None
    horizon_ns = min(ctx.parent.post_ns, ctx.deadline_ns - ctx.now_ns - ctx.parent.wave_interval_ns)
    if horizon_ns <= 0:
        return None
    mid = (n.bid + n.ask) / 2.0
    half = (n.ask - n.bid) / 2.0
    taker = min(ctx.fee_units(v) for v in ctx.usable_lit)
    cross = half + taker
    missed = half + taker + mid * ctx.impact.sigma_over(horizon_ns)
    sizes = _sizes(ctx.remaining)
    if not sizes or not _may_pay(ctx, sizes[0], horizon_ns, half, cross, missed):
        return None
    best: Post | None = None
    touch = n.bid if ctx.side == BUY else n.ask
    fills: dict[tuple[int, int], list[float]] = {}
    venues = [_venue_terms(ctx, v, mid) for v in ctx.usable_lit]
    for price in _prices(ctx, n.bid, n.ask):
        gain = abs(price - mid)      # what a fill earns against the mid, price units a share
        for v, top, venue_cost in venues:
            # inside the NBBO the post is the only protected quote at the best price: every venue's
            # marketable orders against its side reach it first (Rule 611); at the touch, its venue's
            model = ctx.market_touch if price != touch else ctx.touch_models.get(v)
            if model is None or model.rate_per_s <= 0:
                continue
            # the touch or inside it: only the venue's best level can be at that price
            ahead = top.qty if top is not None and top.price == price else 0
            filled_cost = -gain + venue_cost
            key = (id(model), ahead)      # inside the NBBO every venue has the same model and queue
            if key not in fills:
                fills[key] = model.expected_fills(ahead, sizes, horizon_ns / 1e9)
            for q, fill in zip(sizes, fills[key]):
                f = fill / q
                saving = q * (cross - (f * filled_cost + (1.0 - f) * missed))
                if saving > 0 and (best is None or saving > best.saving_units):
                    best = Post(venue_id=v, qty=q, price=price, expires_ns=ctx.now_ns + horizon_ns,
                                expected_fill=fill, saving_units=saving)
    return best


def _venue_terms(ctx: RoutingContext, v: str, mid: float) -> tuple[str, Level | None, float]:
    """(venue, its best level on the post's side, its part of a filled share's cost: adverse
    selection less the maker rebate)."""
    book = ctx.books.get(v)
    top = book.top(ctx.side) if book is not None else None
    adverse = max(0.0, -ctx.scores.score(v).markout_bps) * mid / 1e4
    return v, top, adverse - ctx.maker_rebate_units[v]


def _may_pay(ctx: RoutingContext, smallest: int, horizon_ns: int, half: float, cross: float, missed: float) -> bool:
    """Whether any post could save anything, from the most favourable case: the smallest size (a fill
    fraction falls with size), nobody ahead and the whole market's flow (no venue's is larger), a
    fill earning the half spread and the largest rebate with no adverse selection. cost_post falls
    as the fill fraction rises (missed > the filled cost), so if this case does not beat crossing,
    none does."""
    f = ctx.market_touch.expected_fills(0, [smallest], horizon_ns / 1e9)[0] / smallest
    rebate = max(ctx.maker_rebate_units[v] for v in ctx.usable_lit)
    return cross - (f * (-half - rebate) + (1.0 - f) * missed) > 0


def _prices(ctx: RoutingContext, bid: int, ask: int) -> list[int]:
    """The NBBO's own-side price, and one tick inside it where that still leaves the protected
    contra quote a tick away (never locking it); none beyond the parent's limit."""
    buy = ctx.side == BUY
    touch = bid if buy else ask
    tick = ctx.rules.min_increment(touch, ctx.tick_class)
    inside = touch + tick if buy else touch - tick
    out = [touch] + ([inside] if (inside < ask if buy else inside > bid) else [])
    limit = ctx.limit_price()
    return [p for p in out if limit is None or (p <= limit if buy else p >= limit)]
