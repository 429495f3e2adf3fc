"""Per-account positions, order-velocity limits and the pre-trade risk checks of ENGINE.md
(NEW_ORDER step 19, REPLACE, SET_ORDER_VELOCITY).

Open quantities are the leaves (reserve included) of the account's live orders on one side of one
instrument, waiting stops included; the engine keeps them current on every change of leaves. All
arithmetic is exact (Python ints), which is what "in exact arithmetic" in the spec asks of C.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from .instrument import Instrument
from .layout import ENG, INT64_MAX


@dataclass
class Position:
    position: int = 0
    open_buy_qty: int = 0
    open_sell_qty: int = 0
    max_position: int = INT64_MAX

    def info(self) -> dict[str, int]:
        return {"position": self.position, "open_buy_qty": self.open_buy_qty,
                "open_sell_qty": self.open_sell_qty, "max_position": self.max_position}


@dataclass
class OrderVelocity:
    """One account's order-velocity limit as a token bucket of rational tokens (the C engine keeps
    tokens x window_ns in integers; this is the same bucket in its textbook form, computed
    independently): it holds at most max_orders tokens, gains max_orders / window_ns tokens per
    nanosecond of engine time, and each accepted NEW_ORDER or REPLACE takes one whole token.
    A new limit starts full. window_ns 0: no limit."""

    max_orders: int = 0
    window_ns: int = 0
    tokens: Fraction = field(default_factory=Fraction)
    last_ns: int = 0

    def tokens_at(self, now_ns: int) -> Fraction:
        gained = Fraction((now_ns - self.last_ns) * self.max_orders, self.window_ns)
        return min(Fraction(self.max_orders), self.tokens + gained)

    def allows(self, now_ns: int) -> bool:
        return self.window_ns == 0 or self.tokens_at(now_ns) >= 1

    def count(self, now_ns: int) -> None:
        if self.window_ns:
            self.tokens = self.tokens_at(now_ns) - 1
            self.last_ns = now_ns


def risk_reject_reason(ins: Instrument, pos: Position, kill_switch_engaged: bool, velocity_allows: bool,
                       side: int, ord_type: int, price: int, qty: int, replaced_leaves: int = 0) -> int:
    """The first failing risk check as a reason code, or ENG.OK.

    velocity_allows: whether the account's order-velocity bucket holds a token now.
    replaced_leaves: for a replace, the order's current leaves, which the new quantity replaces
    in the position-limit sum.
    """
    if kill_switch_engaged:
        return ENG.REJ_KILL_SWITCH
    if not velocity_allows:
        return ENG.REJ_ORDER_VELOCITY
    if qty > ins.max_order_qty:
        return ENG.REJ_MAX_QTY
    # a midpoint peg with a limit is checked at its limit, one without like a market order
    has_price = (ord_type in (ENG.ORD_LIMIT, ENG.ORD_STOP_LIMIT)
                 or (ord_type == ENG.ORD_MIDPOINT_PEG and price != 0))
    notional_price = price if has_price else ins.reference_price
    if notional_price * qty > ins.max_order_notional:
        return ENG.REJ_MAX_NOTIONAL
    if has_price and abs(price - ins.reference_price) > ins.price_collar_ticks * ins.tick_size:
        return ENG.REJ_PRICE_COLLAR
    if side == ENG.SIDE_BUY:
        exposure = pos.position + pos.open_buy_qty - replaced_leaves + qty
    else:
        exposure = pos.open_sell_qty - replaced_leaves + qty - pos.position
    if exposure > pos.max_position:
        return ENG.REJ_POSITION_LIMIT
    return ENG.OK
