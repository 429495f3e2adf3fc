"""The market-data events every streaming estimator reads, and a LOBSTER reader that makes them.

One event is a change of the visible book: the best quotes after it and, when it was an execution,
the trade. Arrays, one entry per event, in time order:

    time (s), bid, bid_size, ask, ask_size         the best quotes after the event
    is_trade, trade_price, trade_size, trade_sign  the execution (price NaN, size 0 when none);
                                                   sign +1 buyer-initiated, -1 seller, 0 unknown

LOBSTER (lobsterdata.com; the format is described in the samples' README): the message file's
columns are time, type, order id, size, price (USD x 10000), direction; orderbook row i is the book
after message i, as (ask price, ask size, bid price, bid size) per level. Executions are types 4
(visible) and 5 (hidden); the direction is the resting order's side, so the aggressor's sign is
-direction. Prices are converted to dollars. An empty level's dummy price (+-9999999999) becomes
NaN: estimators that need a two-sided quote take ``two_sided()`` first.

This reader is the analytics package's own (a few lines of numpy); it reads only what the
estimators need. A file with the wrong number of columns, rows that do not match between the two
files, an unknown message type or times that go back raise AnalyticsInputError naming the file.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trading.analytics.errors import AnalyticsInputError, FloatArray, IntArray, check_sorted

LOBSTER_PRICE_SCALE = 10_000.0
DUMMY_PRICE = 9_999_999_999
EXECUTION_TYPES = (4, 5)


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


def _read(path: Path, columns: int) -> Any:
    try:
        data = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    except (OSError, ValueError) as exc:
        raise AnalyticsInputError(f"{path}: cannot read as CSV numbers: {exc}") from None
    if data.shape[0] == 0:
        raise AnalyticsInputError(f"{path}: empty")
    if columns and data.shape[1] != columns:
        raise AnalyticsInputError(f"{path}: expected {columns} columns, got {data.shape[1]}")
    return data


def load_lobster(message_file: str | Path, orderbook_file: str | Path) -> MarketEvents:
    """A LOBSTER message/orderbook pair as MarketEvents (see the module docstring)."""
    mpath, opath = Path(message_file), Path(orderbook_file)
    msg = _read(mpath, 6)
    book = _read(opath, 0)
    if book.shape[1] % 4 != 0:
        raise AnalyticsInputError(f"{opath}: {book.shape[1]} columns is not 4 per level")
    if len(book) != len(msg):
        raise AnalyticsInputError(f"{mpath}, {opath}: {len(msg)} messages but {len(book)} book rows")
    kind = msg[:, 1].astype(np.int64)
    bad = ~np.isin(kind, (1, 2, 3, 4, 5, 6, 7))
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise AnalyticsInputError(f"{mpath}: row {i + 1}: unknown message type {msg[i, 1]!r}")
    time = msg[:, 0]
    try:
        check_sorted(f"{mpath}: time", time)
    except AnalyticsInputError as exc:
        raise AnalyticsInputError(str(exc)) from None

    def price(col: Any) -> FloatArray:
        out: FloatArray = np.where(np.abs(col) >= DUMMY_PRICE, np.nan, col / LOBSTER_PRICE_SCALE)
        return out

    is_trade = np.isin(kind, EXECUTION_TYPES)
    direction = msg[:, 5].astype(np.int64)
    return MarketEvents(
        time=time, ask=price(book[:, 0]), ask_size=book[:, 1].copy(), bid=price(book[:, 2]),
        bid_size=book[:, 3].copy(), is_trade=is_trade,
        trade_price=np.where(is_trade, msg[:, 4] / LOBSTER_PRICE_SCALE, np.nan),
        trade_size=np.where(is_trade, msg[:, 3], 0.0),
        trade_sign=np.where(is_trade, -direction, 0).astype(np.int64))


def lobster_pairs(directory: str | Path) -> list[tuple[Path, Path]]:
    """(message, orderbook) file pairs found in a directory, by LOBSTER's file naming."""
    pairs = []
    for m in sorted(Path(directory).glob("*_message_*.csv")):
        o = m.with_name(m.name.replace("_message_", "_orderbook_"))
        if o.exists():
            pairs.append((m, o))
    return pairs
