"""The Regulation NMS checks, as pure functions of the rule version in force (rules.py) and quotes.

- Rule 612 (sub-penny): an order's or quotation's price must be a multiple of the minimum pricing
  increment of its price band (``check_price_increment``). Executions are not quotations: a
  midpoint trade at a half tick is allowed (the dark venue's), an order priced there is not.
- Rule 610(c) (access-fee cap): the fee a venue charges for taking its protected quotation may not
  exceed the cap (``check_access_fee``; run when a venue configuration is loaded).
- Rule 611 (order protection): no execution at a price worse than another venue's protected quote
  (``check_order_protection``): a buy may not execute above the best protected offer elsewhere, a
  sell not below the best protected bid. An intermarket sweep order (ISO) is accepted: its sender
  has routed orders that take every better protected quote at the same time (Rule 600(b)(30)), so
  it must be an immediate-or-cancel limit order (``check_iso``).
- Rule 610(d) (locked and crossed markets): a displayed order may not rest at a price that locks or
  crosses another venue's protected quote (part of ``check_order_protection``).

Every refusal is a ``Refusal`` with its own code from the one reason table (600-649,
native/layout/venue_layout.h) and an audit line.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal

import msgspec

from gateway.reasons import Reason
from gateway.regnms.rules import ONE_DOLLAR, RuleVersion, TickClass

BUY = 1
SELL = 2

MarketState = Literal["empty", "one_sided", "normal", "locked", "crossed"]


class Refusal(msgspec.Struct, frozen=True):
    """Why Regulation NMS refuses something: the reason code, the rule, a one-line text."""
    reason: int
    rule: str
    text: str

    def audit_line(self, **context: object) -> str:
        """One JSON line for the audit trail: the code, its name, the rule, the text, the context."""
        return json.dumps({"regnms": self.rule, "reason": self.reason,
                           "reason_name": Reason(self.reason).name, "text": self.text, **context},
                          sort_keys=True, default=str)


class AwayQuote(msgspec.Struct, frozen=True):
    """The best protected bid and offer of the OTHER venues (None: no protected quote on that side)."""
    bid: int | None = None
    ask: int | None = None


class Level(msgspec.Struct, frozen=True):
    """One price level of a venue's own book: price and displayed-plus-hidden quantity."""
    price: int
    qty: int


def check_price_increment(price: int, rules: RuleVersion, tick_class: TickClass = "penny") -> Refusal | None:
    """Rule 612: None if `price` (engine units) is on the grid of its price band."""
    inc = rules.min_increment(price, tick_class)
    if price <= 0 or price % inc:
        return Refusal(int(Reason.ENG_REJ_REGNMS_SUB_PENNY), "612",
                       f"price {price} is not a positive multiple of the minimum increment {inc} "
                       f"({rules.name}, {'below' if price < ONE_DOLLAR else 'at or above'} $1.00, "
                       f"tick class {tick_class})")
    return None


def check_access_fee(taker_fee_mils: float, sub_dollar_taker_fee_pct: float,
                     rules: RuleVersion) -> Refusal | None:
    """Rule 610(c): None if the fee for taking a protected quotation is within the cap, both the
    per-share fee at or above $1.00 and the percentage below."""
    if taker_fee_mils > rules.fee_cap_mils:
        return Refusal(int(Reason.ENG_REJ_REGNMS_FEE_CAP), "610(c)",
                       f"taker fee {taker_fee_mils} mils per share is above the cap of "
                       f"{rules.fee_cap_mils} mils ({rules.name})")
    if sub_dollar_taker_fee_pct > rules.fee_cap_sub_dollar_pct:
        return Refusal(int(Reason.ENG_REJ_REGNMS_FEE_CAP), "610(c)",
                       f"sub-dollar taker fee {sub_dollar_taker_fee_pct} % of the price is above "
                       f"the cap of {rules.fee_cap_sub_dollar_pct} % ({rules.name})")
    return None


def market_state(bid: int | None, ask: int | None) -> MarketState:
    """Of a (consolidated) quote: locked when bid == ask, crossed when bid > ask."""
    if bid is None and ask is None:
        return "empty"
    if bid is None or ask is None:
        return "one_sided"
    return "normal" if bid < ask else ("locked" if bid == ask else "crossed")


def check_iso(limit: int | None, ioc: bool) -> Refusal | None:
    """An intermarket sweep order must be an immediate-or-cancel limit order."""
    if limit is None or not ioc:
        return Refusal(int(Reason.ENG_REJ_REGNMS_BAD_ISO), "600(b)(30)",
                       "an intermarket sweep order must be an immediate-or-cancel limit order")
    return None


def _worse(side: int, price: int, away: AwayQuote) -> bool:
    """True if executing `side` at `price` trades through the away protected quote."""
    if side == BUY:
        return away.ask is not None and price > away.ask
    return away.bid is not None and price < away.bid


def _marketable(side: int, limit: int | None, price: int) -> bool:
    return limit is None or (price <= limit if side == BUY else price >= limit)


def executions(side: int, limit: int | None, qty: int, opposite: Sequence[Level]) -> list[Level]:
    """The fills an order would get against the venue's own opposite side (levels best first):
    price priority, each level taken in full before the next. The order's remainder is qty minus
    their sum."""
    fills: list[Level] = []
    left = qty
    for level in opposite:
        if left == 0 or not _marketable(side, limit, level.price):
            break
        take = min(left, level.qty)
        fills.append(Level(level.price, take))
        left -= take
    return fills


def protected_quantity(side: int, limit: int | None, qty: int, opposite: Sequence[Level],
                       away: AwayQuote) -> int:
    """How much of the order the venue may execute itself without trading through (the rest is
    what a route-away policy sends to the venue with the better quote)."""
    return sum(f.qty for f in executions(side, limit, qty, opposite) if not _worse(side, f.price, away))


def check_order_protection(side: int, limit: int | None, qty: int, ioc: bool, iso: bool,
                           opposite: Sequence[Level], away: AwayQuote) -> Refusal | None:
    """Rules 611 and 610(d) for one incoming order on a venue whose own opposite side is
    `opposite` (best first), given the other venues' best protected quotes. None: accepted. An
    ISO is accepted (its sender took the better quotes), once it is an IOC limit order."""
    if iso:
        return check_iso(limit, ioc)
    fills = executions(side, limit, qty, opposite)
    through = [f for f in fills if _worse(side, f.price, away)]
    if through:
        worst = through[-1].price
        protected = away.ask if side == BUY else away.bid
        return Refusal(int(Reason.ENG_REJ_REGNMS_TRADE_THROUGH), "611",
                       f"{'buy' if side == BUY else 'sell'} would execute {sum(f.qty for f in through)} "
                       f"at prices up to {worst}, through the protected "
                       f"{'offer' if side == BUY else 'bid'} {protected} on another venue")
    rests = qty > sum(f.qty for f in fills) and not ioc and limit is not None
    if rests and limit is not None:
        locks = (side == BUY and away.ask is not None and limit >= away.ask) or \
                (side == SELL and away.bid is not None and limit <= away.bid)
        if locks:
            protected = away.ask if side == BUY else away.bid
            return Refusal(int(Reason.ENG_REJ_REGNMS_LOCK_CROSS), "610(d)",
                           f"the rest of the order would be displayed at {limit}, locking or "
                           f"crossing the protected {'offer' if side == BUY else 'bid'} {protected} "
                           f"on another venue")
    return None
