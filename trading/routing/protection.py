"""Reg NMS on the router's side: Rule 611 order protection, Rule 612 sub-penny prices, Rule 610 fee cap.

Rule 611 (trade-through): a child that takes at venue v down to limit p may execute at p only if
no other venue shows a protected quote better than p, or if the router sweeps, in the same wave,
the full displayed size of every such better protected quote with intermarket sweep orders
(Rule 611(b)(5)); each child then goes out flagged ISO. ``enforce`` makes any allocation compliant
that way: while some protected quote better than the worst price taken is not fully swept, it moves
shares from the worst-priced level taken to that quote. Each move takes shares from a price to a
strictly better one, so it ends. Quotes of venues that are down (self-help, 611(b)(1)) or whose feed
is stale are not protected.

``violations`` is the independent check the router runs on every wave before sending anything.
"""
from __future__ import annotations

from trading.routing.context import RoutingContext
from trading.routing.market import Level, better
from trading.routing.plan import ChildOrder
from trading.routing.venue import fee_cap_usd, taker_fee_usd


def child_price(levels: list[Level], qty: int) -> int | None:
    """The limit an IOC needs to take `qty` from `levels` (best first): the price of the level where
    the cumulative size reaches qty; None if the levels hold less."""
    cum = 0
    for lv in levels:
        cum += lv.qty
        if cum >= qty:
            return lv.price
    return None


def enforce(ctx: RoutingContext, lit: dict[str, int]) -> dict[str, int]:
    side = ctx.side
    limit = ctx.limit_price()
    books = {v: ctx.levels(v, limit) for v in ctx.usable_lit}
    alloc = {v: min(q, sum(lv.qty for lv in books.get(v, []))) for v, q in lit.items() if q > 0}
    protected = {v: lv for v, lv in ctx.snapshot.protected(side, ctx.unprotected).items()
                 if limit is None or not better(side, limit, lv.price)}
    while True:
        prices = {v: child_price(books[v], q) for v, q in alloc.items() if q > 0}
        if not prices:
            return {}
        worst_v = max(prices, key=lambda v: (ctx.signed(prices[v]), v))   # type: ignore[arg-type]
        worst = prices[worst_v]
        assert worst is not None
        owed = [(v, lv) for v, lv in protected.items() if better(side, lv.price, worst) and alloc.get(v, 0) < lv.qty]
        if not owed:
            return {v: q for v, q in alloc.items() if q > 0}
        v, lv = min(owed, key=lambda t: (ctx.signed(t[1].price), t[0]))
        # shares the worst venue holds at its worst level: that is what moves
        at_worst = alloc[worst_v] - sum(x.qty for x in books[worst_v] if better(side, x.price, worst))
        move = min(lv.qty - alloc.get(v, 0), at_worst)
        alloc[worst_v] -= move
        alloc[v] = alloc.get(v, 0) + move


def needs_sweep(ctx: RoutingContext, venue_id: str, price: int) -> bool:
    """Whether a child at `venue_id` taking down to `price` passes another venue's quote: one the
    wave sweeps, or one of a venue the router has set aside (self-help, 611(b)(1)). Either way the
    router takes on the Rule 611 obligation and the child goes as an ISO, so that the venue, which
    still sees that quote, does not refuse it as a trade-through."""
    return any(b.venue_id != venue_id and b.contra(ctx.side) and better(ctx.side, b.contra(ctx.side)[0].price, price)
               for b in ctx.snapshot.books)   # stale books too: their last quote may still be the venues' view


def violations(ctx: RoutingContext, children: list[ChildOrder]) -> list[str]:
    """Every Reg NMS problem of one wave of children (an empty list: compliant)."""
    found: list[str] = []
    takes = [c for c in children if c.style == "take"]
    swept: dict[str, tuple[int, int]] = {}          # venue -> (qty, limit) of its take child
    for c in takes:
        swept[c.venue_id] = (c.qty, c.price)
        tick = ctx.rules.min_increment(c.price, ctx.tick_class)
        if c.price <= 0 or c.price % tick:
            found.append(f"{c.child_id}: price {c.price} is not a multiple of the {tick} tick (Rule 612)")
        cap = fee_cap_usd(ctx.rules, c.price)
        if taker_fee_usd(ctx.venues[c.venue_id]) > cap + 1e-12:
            found.append(f"{c.child_id}: {c.venue_id}'s taker fee {taker_fee_usd(ctx.venues[c.venue_id])} is above the "
                         f"Rule 610 cap {cap}")
    protected = ctx.snapshot.protected(ctx.side, ctx.unprotected)
    for c in takes:
        for v, lv in protected.items():
            if v == c.venue_id or not better(ctx.side, lv.price, c.price):
                continue
            qty, price = swept.get(v, (0, 0))
            if qty < lv.qty or better(ctx.side, price, lv.price):
                found.append(f"{c.child_id}: takes at {c.price} through {v}'s protected {lv.qty} @ {lv.price} "
                             f"without sweeping it (Rule 611)")
            elif not c.intermarket_sweep:
                found.append(f"{c.child_id}: passes {v}'s protected quote but is not flagged ISO")
    found.extend(_post_violations(ctx, [c for c in children if c.style == "post"]))
    for c in children:
        if c.style == "midpoint" and taker_fee_usd(ctx.venues[c.venue_id]) > fee_cap_usd(ctx.rules, ctx.touch() or 0) + 1e-12:
            found.append(f"{c.child_id}: {c.venue_id}'s fee is above the Rule 610 cap")
    return found


def _post_violations(ctx: RoutingContext, posts: list[ChildOrder]) -> list[str]:
    """A post rests on a lit venue with current quotes, on the Rule 612 grid, and never locks or
    crosses a protected quote (Rule 610(d)): a buy below every protected offer, a sell above every
    protected bid, its own venue's included."""
    found: list[str] = []
    contra = ctx.snapshot.protected(ctx.side, ctx.unprotected)
    for c in posts:
        tick = ctx.rules.min_increment(c.price, ctx.tick_class)
        if c.price <= 0 or c.price % tick:
            found.append(f"{c.child_id}: post price {c.price} is not a multiple of the {tick} tick (Rule 612)")
        if c.venue_id not in ctx.usable_lit:
            found.append(f"{c.child_id}: a post on {c.venue_id}, which is not a usable lit venue")
        for v, lv in contra.items():
            if not better(ctx.side, c.price, lv.price):
                found.append(f"{c.child_id}: a post at {c.price} would lock or cross {v}'s protected {lv.price}")
    return found
