"""The router's passive (post) children in the multi-venue replay: the queue rule.

A post arrives at its lit venue at time t and joins the back of the queue at its price: the shares
ahead of it are the venue's displayed size at that price then (0 when the venue shows none). It is
not put into the venue's engine (the day's history is replayed as it was; our resting order does not
change what history's aggressors did), and it fills when history trades through its queue position
on the books:
- a history execution on the post's venue at the post's price, on the post's side, first uses up
  the shares ahead, and what is left of it fills the post;
- one on any lit venue at a worse price for the post's side (a buy post: a bid executed below it)
  traded through the post's protected quote: under Rule 611 that aggressor would have met the post
  first, so it fills the post up to its size.
Cancellations ahead of the post are not credited (the conservative side; the router's queue model,
trading/routing/queue.py, assumes the same). A post that would take on arrival (the venue's contra
quote at or through its price by then) is refused: posts are post-only. A cancel that arrives
before its post is remembered and the post is answered done on arrival, unfilled.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from trading.replay.data import BUY
from trading.replay.history import Cmd, History
from trading.routing.plan import ChildOrder


@dataclass
class Resting:
    child: ChildOrder
    side: int
    price: int
    left: int
    ahead: int


@dataclass(frozen=True)
class PostFill:
    child: ChildOrder
    ts_ns: int
    price: int
    qty: int
    done: bool


@dataclass
class RestingPosts:
    by_venue: dict[str, list[Resting]] = field(default_factory=dict)
    arrived: set[str] = field(default_factory=set)
    cancelled_early: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return any(self.by_venue.values())

    def add(self, venue_id: str, resting: Resting) -> None:
        self.arrived.add(resting.child.child_id)
        self.by_venue.setdefault(venue_id, []).append(resting)

    def cancel(self, venue_id: str, child_id: str) -> Resting | None:
        """The post taken off (None: already done, or not arrived yet: then remembered)."""
        for k, r in enumerate(self.by_venue.get(venue_id, [])):
            if r.child.child_id == child_id:
                return self.by_venue[venue_id].pop(k)
        if child_id not in self.arrived:
            self.cancelled_early.add(child_id)
        return None

    def on_history(self, venue_id: str, h: History, start: int, end: int) -> list[PostFill]:
        """The posts' fills from one venue's history rows [start, end) (module docstring: the rule)."""
        if end <= start or not self:
            return []
        out: list[PostFill] = []
        for i in start + np.flatnonzero(h.kind[start:end] == Cmd.EXECUTE):
            side, price, qty, ts = int(h.side[i]), int(h.price[i]), int(h.qty[i]), int(h.ts_ns[i])
            for v, rs in self.by_venue.items():
                for r in list(rs):
                    if r.side != side or qty <= 0:
                        continue
                    through = price < r.price if side == BUY else price > r.price
                    if price == r.price and v == venue_id:
                        used = min(qty, r.ahead)
                        r.ahead -= used
                        got = min(qty - used, r.left)
                    elif through:
                        got = min(qty, r.left)
                    else:
                        continue
                    if got <= 0:
                        continue
                    qty -= got
                    r.left -= got
                    out.append(PostFill(r.child, ts, r.price, got, r.left == 0))
                    if r.left == 0:
                        rs.remove(r)
        return out
