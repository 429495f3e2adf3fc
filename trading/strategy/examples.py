"""Strategies that ship with the runtime: the do-nothing baseline and the issue's quoting
strategy (the one run side by side with hftbacktest).

TouchQuoter: every `interval_ms` it looks at the best bid and ask it sees; it keeps one order of
`size` at each, cancels and reposts when the touch moved, and stops quoting a side whose fill
would take |position| past `max_position`. This is the strategy of issue #19's peer comparison.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trading.strategy.api import BUY, SELL, ParamError, Strategy
from trading.strategy.context import Context, Limits


class NoOp(Strategy):
    """Never trades and subscribes to nothing: the replay runs the day in one engine call."""
    name = "noop"


class TouchQuoter(Strategy):
    name = "quote"
    defaults = {"size": 100, "interval_ms": 100, "max_position": 500}
    live_params = frozenset({"size", "max_position"})     # read at every tick; interval_ms at start

    # (name, least, most): a size the context could never send (Limits.max_order_qty), a
    # negative position limit or a timer that never ticks would stop the strategy at its first
    # tick with a traceback; refused here, at start and for a live change (checked_change)
    BOUNDS = (("size", 1, Limits.max_order_qty), ("max_position", 0, Limits.max_position),
              ("interval_ms", 1, 86_400_000))

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        for key, least, most in self.BOUNDS:
            value = int(self.params[key])
            if not least <= value <= most:
                raise ParamError(f"parameter {key!r}: must be {least}..{most}, got {value}")
        # its quote on each side: the order id, 0 for none. An order is forgotten when the
        # strategy cancels it (its confirmation changes nothing here), and found gone when it
        # left ctx.orders otherwise (filled, refused, cancelled by the venue): the peer's
        # numba loop keeps the same two ids (bench/replay_peer.py)
        self.bid_id = 0
        self.ask_id = 0

    def on_start(self, ctx: Context) -> None:
        # its decision depends only on the touch, its orders and its position (and the orders and
        # position change only by its own events), so a tick at which no own event arrived and the
        # touch is the one it last acted on would change nothing: on_touch_change skips exactly those
        # (in replay; live runners fire every tick, so a parameter changed live acts at the next one).
        # It forgets an order when it cancels it, so the confirmation of that cancel changes nothing
        # either: ignore_own_cancels
        ctx.set_timer(int(self.params["interval_ms"]) * 1_000_000, on_touch_change=True, ignore_own_cancels=True)

    def on_timer(self, ctx: Context) -> None:
        book = ctx.book
        bid, ask = book.best_bid, book.best_ask
        if bid is None or ask is None:
            return
        params, orders = self.params, ctx.orders
        size, limit, pos = params["size"], params["max_position"], ctx.position
        # per side: keep the quote if it is still on the book at the touch and allowed, else
        # cancel it (if still there) and rest a new one where the position limit allows
        quote = self.bid_id
        if quote:
            order = orders.get(quote)
            if order is None:
                quote = 0
            elif order.price != bid or pos + size > limit:
                ctx.cancel(quote)
                quote = 0
        if not quote and pos + size <= limit:
            quote = ctx.place(BUY, bid, size)
        self.bid_id = quote
        quote = self.ask_id
        if quote:
            order = orders.get(quote)
            if order is None:
                quote = 0
            elif order.price != ask or size - pos > limit:
                ctx.cancel(quote)
                quote = 0
        if not quote and size - pos <= limit:
            quote = ctx.place(SELL, ask, size)
        self.ask_id = quote

    def on_params(self, ctx: Context, changed: Mapping[str, Any]) -> None:
        # a new size: quotes of another size go (the next tick reposts them at the new size); a
        # new max_position is applied by the next tick itself
        if "size" in changed:
            size = int(self.params["size"])
            for side in ("bid_id", "ask_id"):
                order = ctx.orders.get(getattr(self, side))
                if order is not None and order.qty != size:
                    ctx.cancel(order.order_id)
                    setattr(self, side, 0)
