"""Where a child order goes: passive, mid or aggressive, by a stated rule.

Inputs: the shortfall against the schedule in slices (``behind`` = (target - done - working) / the
schedule's typical slice), the share of the horizon left, the spread in ticks, and the queue ahead
at the near touch in slices.

    AGGRESSIVE (cross the spread, IOC at the far touch)
        when behind by 2 slices or more, or in the last 5 % of the horizon with anything to do;
    MID (a limit one tick inside the spread, towards the mid: improves the near touch)
        when behind by 1 slice or more and the spread is 2 ticks or wider, or when the queue at
        the near touch is longer than 5 slices (joining it would not fill in time);
    PASSIVE (join the near touch, GTC)
        otherwise.

A limit price bounds every child: a buy is never placed above it (a sell never below); when the
rule's price is beyond the limit the child rests at the limit. Without a two-sided book the child
is not placed (there is no touch to price it from).
"""
from __future__ import annotations

from dataclasses import dataclass

BUY, SELL = 1, 2
PASSIVE, MID, AGGRESSIVE = "passive", "mid", "aggressive"


@dataclass(frozen=True)
class Placement:
    style: str
    price: int
    tif: str


def choose_style(behind_slices: float, time_left: float, spread_ticks: int, queue_slices: float) -> str:
    if behind_slices >= 2.0 or time_left <= 0.05:
        return AGGRESSIVE
    if (behind_slices >= 1.0 and spread_ticks >= 2) or queue_slices > 5.0:
        return MID if spread_ticks >= 2 else PASSIVE
    return PASSIVE


def place(side: int, style: str, best_bid: int | None, best_ask: int | None, tick: int, limit: int = 0) -> Placement | None:
    if best_bid is None or best_ask is None or best_ask <= best_bid:
        return None
    near, far = (best_bid, best_ask) if side == BUY else (best_ask, best_bid)
    step = tick if side == BUY else -tick
    if style == AGGRESSIVE:
        price, tif = far, "IOC"
    elif style == MID:
        price, tif = near + step, "GTC"
    else:
        price, tif = near, "GTC"
    if limit:
        beyond = price > limit if side == BUY else price < limit
        if beyond:
            price, tif = limit, "GTC"
    return Placement(style, price, tif)
