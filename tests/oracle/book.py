"""Orders, price levels and one side of an instrument's book, kept as plainly as possible.

A level holds its orders in time priority (a dict keeps insertion order, so "move to the back" is
pop-and-reinsert). A side keeps its level prices sorted ascending; "best" is the highest bid or the
lowest ask. Invariants: a level in a side is never empty; a resting order has shown_qty > 0 and
leaves = shown + reserve; a waiting stop or an aggressor shows nothing (shown_qty 0).
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Iterator

from .layout import ENG


@dataclass(eq=False)
class Order:
    order_id: int
    client_order_id: int
    instrument_id: int
    account_id: int
    stp_group: int
    side: int
    ord_type: int
    tif: int
    stp_mode: int
    flags: int
    price: int          # limit price; 0 for MARKET and STOP
    stop_price: int
    display_qty: int    # configured iceberg peak, 0 if not an iceberg
    expire_ts_ns: int
    accept_seq: int
    leaves_qty: int     # everything still open, reserve included
    shown_qty: int = 0  # displayed part while resting; 0 while waiting or aggressing
    waiting_stop: bool = False

    @property
    def reserve_qty(self) -> int:
        return self.leaves_qty - self.shown_qty

    @property
    def is_dark(self) -> bool:
        """A midpoint peg: waits in a dark queue, never displayed (shown_qty stays 0)."""
        return self.ord_type == ENG.ORD_MIDPOINT_PEG

    @property
    def is_iceberg(self) -> bool:
        return bool(self.flags & ENG.FLAG_ICEBERG)

    def show_peak(self) -> None:
        """Sets the displayed quantity for (re)entering the book: the peak, or everything."""
        self.shown_qty = min(self.display_qty, self.leaves_qty) if self.is_iceberg else self.leaves_qty

    def reduce(self, qty: int) -> None:
        """Takes qty off the order, hidden reserve first, then the displayed part."""
        from_reserve = min(qty, self.reserve_qty)
        self.shown_qty -= qty - from_reserve
        self.leaves_qty -= qty

    def consume_shown_first(self, qty: int) -> None:
        """Takes qty off the order, displayed part first, then reserve (auction fills)."""
        self.shown_qty -= min(qty, self.shown_qty)
        self.leaves_qty -= qty

    def info(self) -> dict[str, int]:
        return {
            "order_id": self.order_id, "client_order_id": self.client_order_id,
            "accept_seq": self.accept_seq, "price": self.price, "stop_price": self.stop_price,
            "display_qty": self.display_qty, "shown_qty": self.shown_qty,
            "reserve_qty": 0 if self.waiting_stop or self.is_dark else self.reserve_qty,
            "leaves_qty": self.leaves_qty, "expire_ts_ns": self.expire_ts_ns,
            "instrument_id": self.instrument_id, "account_id": self.account_id,
            "stp_group": self.stp_group, "side": self.side, "ord_type": self.ord_type,
            "tif": self.tif, "stp_mode": self.stp_mode, "flags": self.flags,
            "waiting_stop": int(self.waiting_stop),
        }


class Level:
    def __init__(self, price: int) -> None:
        self.price = price
        self.orders: dict[int, Order] = {}

    def front(self) -> Order:
        return next(iter(self.orders.values()))

    def append(self, order: Order) -> None:
        self.orders[order.order_id] = order

    def move_to_back(self, order: Order) -> None:
        del self.orders[order.order_id]
        self.orders[order.order_id] = order

    @property
    def shown_qty(self) -> int:
        return sum(o.shown_qty for o in self.orders.values())


class BookSide:
    def __init__(self, side: int) -> None:
        self.side = side
        self.levels: dict[int, Level] = {}
        self._prices: list[int] = []  # ascending

    def __bool__(self) -> bool:
        return bool(self._prices)

    def best_price(self) -> int | None:
        if not self._prices:
            return None
        return self._prices[-1] if self.side == ENG.SIDE_BUY else self._prices[0]

    def best_level(self) -> Level | None:
        price = self.best_price()
        return None if price is None else self.levels[price]

    def levels_best_first(self) -> Iterator[Level]:
        prices = reversed(self._prices) if self.side == ENG.SIDE_BUY else iter(self._prices)
        for price in list(prices):
            yield self.levels[price]

    def orders_in_book_order(self) -> list[Order]:
        return [o for level in self.levels_best_first() for o in level.orders.values()]

    def add(self, order: Order) -> None:
        """Rests the order at the back of its price level, creating the level if needed."""
        level = self.levels.get(order.price)
        if level is None:
            level = self.levels[order.price] = Level(order.price)
            bisect.insort(self._prices, order.price)
        level.append(order)

    def remove(self, order: Order) -> None:
        level = self.levels[order.price]
        del level.orders[order.order_id]
        if not level.orders:
            del self.levels[order.price]
            self._prices.pop(bisect.bisect_left(self._prices, order.price))

    def level_summary(self, price: int) -> tuple[int, int]:
        """(displayed qty, order count) at price; (0, 0) when the level is gone."""
        level = self.levels.get(price)
        return (0, 0) if level is None else (level.shown_qty, len(level.orders))
