"""Strategies that ship with the runtime: the do-nothing baseline and the issue's quoting
strategy (the one run side by side with hftbacktest).

TouchQuoter: every `interval_ms` it looks at the best bid and ask it sees; it keeps one order of
`size` at each, cancels and reposts when the touch moved, and stops quoting a side whose fill
would take |position| past `max_position`. This is the strategy of issue #19's peer comparison.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trading.strategy.api import BUY, SELL, Fill, OwnOrder, ParamError, Strategy
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
        self.cancelling: set[int] = set()

    def on_start(self, ctx: Context) -> None:
        # its decision depends only on the touch, its orders and its position (and the orders and
        # position change only by its own events), so a tick at which no own event arrived and the
        # touch is the one it last acted on would change nothing: on_touch_change skips exactly those
        # (in replay; live runners fire every tick, so a parameter changed live acts at the next one)
        ctx.set_timer(int(self.params["interval_ms"]) * 1_000_000, on_touch_change=True)

    def on_timer(self, ctx: Context) -> None:
        bid, ask = ctx.book.best_bid, ctx.book.best_ask
        if bid is None or ask is None:
            return
        size, limit, pos = int(self.params["size"]), int(self.params["max_position"]), ctx.position
        for side, price, allowed in ((BUY, bid, pos + size <= limit), (SELL, ask, size - pos <= limit)):
            resting = [o for o in ctx.orders.values() if o.side == side and o.order_id not in self.cancelling]
            keep = False
            for order in resting:
                if allowed and order.price == price and not keep:
                    keep = True
                    continue
                ctx.cancel(order.order_id)
                self.cancelling.add(order.order_id)
            if allowed and not keep:
                ctx.place(side, price, size)

    def on_params(self, ctx: Context, changed: Mapping[str, Any]) -> None:
        # a new size: quotes of another size go (the next tick reposts them at the new size); a
        # new max_position is applied by the next tick itself
        if "size" in changed:
            for order in list(ctx.orders.values()):
                if order.qty != int(self.params["size"]) and order.order_id not in self.cancelling:
                    ctx.cancel(order.order_id)
                    self.cancelling.add(order.order_id)

    def on_cancelled(self, ctx: Context, order: OwnOrder, reason: str) -> None:
        self.cancelling.discard(order.order_id)

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        if fill.leaves_qty == 0:
            self.cancelling.discard(fill.order_id)

    def on_rejected(self, ctx: Context, order_id: int, reason: str) -> None:
        self.cancelling.discard(order_id)
