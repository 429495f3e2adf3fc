"""The market-data events every streaming estimator reads, built from a LOBSTER day.

One event is a change of the visible book: the best quotes after it and, when it was an execution,
the trade. Arrays, one entry per event, in time order:

    time (s), bid, bid_size, ask, ask_size         the best quotes after the event
    is_trade, trade_price, trade_size, trade_sign  the execution (price NaN, size 0 when none);
                                                   sign +1 buyer-initiated, -1 seller, 0 unknown

LOBSTER days are read by the replay's loader (trading/replay/lobster.py, which checks the files and
names the first bad row) into its MarketDay; ``from_market_day`` takes the quotes from the
published order book after each message (level 1: ask price, ask size, bid price, bid size) and the
trades from the executions (types 4 visible and 5 hidden), whose side is the resting order's, so the
aggressor's sign is the opposite. Prices are divided by the day's price scale (LOBSTER: USD x 10000).
An empty level's dummy price (+-9999999999) becomes NaN: estimators that need a two-sided quote take
``two_sided()`` first. A day without its order-book file, or a file the loader refuses, raises
AnalyticsInputError with the loader's message.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trading.analytics.errors import AnalyticsInputError, FloatArray, IntArray
from trading.replay import lobster as replay_lobster
from trading.replay.data import BUY, DataError, Kind, MarketDay

DUMMY_PRICE = 9_999_999_999


@dataclass(frozen=True)
class MarketEvents:
    time: FloatArray
    bid: FloatArray
    bid_size: FloatArray
    ask: FloatArray
    ask_size: FloatArray
    is_trade: Any                 # bool array
    trade_price: FloatArray
    trade_size: FloatArray
    trade_sign: IntArray

    def __len__(self) -> int:
        return len(self.time)

    def select(self, mask: Any) -> "MarketEvents":
        return MarketEvents(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))

    def two_sided(self) -> "MarketEvents":
        """The events after which both sides of the book are quoted and not crossed."""
        ok = np.isfinite(self.bid) & np.isfinite(self.ask) & (self.bid < self.ask)
        return self.select(ok)

    def trades(self) -> "MarketEvents":
        return self.select(self.is_trade)


def from_market_day(day: MarketDay) -> MarketEvents:
    """MarketEvents from the replay loaders' MarketDay (see the module docstring)."""
    if day.visible_book is None:
        raise AnalyticsInputError(f"{day.path}: no order-book file: the analytics need the quotes after each message")
    book = day.visible_book.astype(np.float64)
    scale = float(day.price_scale)

    def price(col: Any) -> FloatArray:
        out: FloatArray = np.where(np.abs(col) >= DUMMY_PRICE, np.nan, col / scale)
        return out

    is_trade = np.isin(day.kind, (int(Kind.EXECUTE), int(Kind.HIDDEN)))
    aggressor = np.where(day.side == BUY, -1, 1)            # side is the resting order's
    return MarketEvents(
        time=day.ts_ns.astype(np.float64) / 1e9, ask=price(book[:, 0]), ask_size=book[:, 1].copy(),
        bid=price(book[:, 2]), bid_size=book[:, 3].copy(), is_trade=is_trade,
        trade_price=np.where(is_trade, day.price / scale, np.nan),
        trade_size=np.where(is_trade, day.qty, 0).astype(np.float64),
        trade_sign=np.where(is_trade, aggressor, 0).astype(np.int64))


def load_lobster(message_file: str | Path, orderbook_file: str | Path) -> MarketEvents:
    """A LOBSTER message/orderbook pair as MarketEvents, read by the replay's loader."""
    try:
        day = replay_lobster.load_lobster(message_file, orderbook=orderbook_file)
    except DataError as exc:
        raise AnalyticsInputError(str(exc)) from None
    return from_market_day(day)


def lobster_pairs(directory: str | Path) -> list[tuple[Path, Path]]:
    """(message, orderbook) file pairs found in a directory, by LOBSTER's file naming."""
    pairs = []
    for m in sorted(Path(directory).glob("*_message_*.csv")):
        o = m.with_name(m.name.replace("_message_", "_orderbook_"))
        if o.exists():
            pairs.append((m, o))
    return pairs
