"""Market-data events from the engine's broadcast event log, per instrument.

The engine publishes every event on its log (``shm.client.EventStream``); this module turns a
polled batch of 96-byte event records into MarketEvents (events.py) per instrument:

- BOOK_LEVEL (side, price, displayed qty; qty 0 removes the level) updates this reader's copy of
  each instrument's price levels; an event that changes the best bid or ask (price or size) becomes
  a quote row with the new best quotes;
- TRADE becomes a trade row: price, qty and the sign of the aggressor (ENG_SIDE_BUY +1, SELL -1,
  NONE 0 for auction trades, which the analytics then classify by Lee-Ready), with the best quotes
  as they stand when the trade is published (the engine publishes a trade before the level changes
  it causes, so these are the quotes the trade met).

Times are the events' engine timestamps (hdr.ts_ns) in seconds; prices are divided by
``price_scale`` (engine integer units per currency unit). Records are decoded with the layout
header's own dtypes (native.records), never a second copy of the layout. The reader starts at the
log's end, so levels that rested before it attached are unknown until they change: a one-sided or
empty book gives NaN quotes, which the estimators skip (documented in suite.py). A lap (events
lost, see EventStream.poll) resets the books: ``reset()``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from native import records
from native._venue import lib
from trading.analytics.errors import AnalyticsInputError, check_scalar
from trading.analytics.events import MarketEvents

_TRADE = int(lib.ENG_EVT_TRADE)
_LEVEL = int(lib.ENG_EVT_BOOK_LEVEL)
_BUY = int(lib.ENG_SIDE_BUY)
_SELL = int(lib.ENG_SIDE_SELL)
_HDR = records.dtype_of("eng_evt_hdr_t")
_TRADE_DT = records.EVT_DTYPES[_TRADE]
_LEVEL_DT = records.EVT_DTYPES[_LEVEL]


@dataclass
class _Book:
    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)

    def best(self) -> tuple[float, float, float, float]:
        """(bid, bid size, ask, ask size) in engine units, NaN for an empty side."""
        if self.bids:
            b = max(self.bids)
            bid, bsz = float(b), float(self.bids[b])
        else:
            bid, bsz = math.nan, 0.0
        if self.asks:
            a = min(self.asks)
            ask, asz = float(a), float(self.asks[a])
        else:
            ask, asz = math.nan, 0.0
        return bid, bsz, ask, asz


def _same_quote(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b))


class EngineFeed:
    """Converts polled engine event records into MarketEvents per instrument id."""

    def __init__(self, price_scale: float = 1.0, instruments: set[int] | None = None) -> None:
        self.price_scale = check_scalar("price_scale", price_scale, positive=True)
        self.instruments = instruments
        self.books: dict[int, _Book] = {}

    def reset(self) -> None:
        self.books.clear()

    def convert(self, payloads: Any) -> dict[int, MarketEvents]:
        """payloads: uint8 [n, 96] event records in log order (EventStream.poll's first value)."""
        raw = np.ascontiguousarray(payloads, dtype=np.uint8)
        if raw.ndim != 2 or raw.shape[1] != _TRADE_DT.itemsize:
            raise AnalyticsInputError(f"event records: expected [n, {_TRADE_DT.itemsize}] bytes, got {raw.shape}")
        if not len(raw):
            return {}
        types = raw[:, :_HDR.itemsize].copy().view(_HDR).reshape(-1)["type"].astype(np.int64)
        keep = np.flatnonzero((types == _TRADE) | (types == _LEVEL))
        rows: dict[int, list[tuple[float, float, float, float, float, bool, float, float, int]]] = {}
        trade = raw.view(_TRADE_DT).reshape(-1)
        level = raw.view(_LEVEL_DT).reshape(-1)
        for i in keep.tolist():
            ins = int(trade["instrument_id"][i])
            if self.instruments is not None and ins not in self.instruments:
                continue
            book = self.books.setdefault(ins, _Book())
            t = float(trade["ts_ns"][i]) / 1e9
            if types[i] == _TRADE:
                side = int(trade["aggressor_side"][i])
                sign = 1 if side == _BUY else (-1 if side == _SELL else 0)
                b, bs, a, az = book.best()
                rows.setdefault(ins, []).append((t, b, bs, a, az, True, float(trade["price"][i]),
                                                 float(trade["qty"][i]), sign))
                continue
            before = book.best()
            side_levels = book.bids if int(level["side"][i]) == _BUY else book.asks
            price, qty = int(level["price"][i]), int(level["qty"][i])
            if qty > 0:
                side_levels[price] = qty
            else:
                side_levels.pop(price, None)
            after = book.best()
            if not _same_quote(after, before):
                rows.setdefault(ins, []).append((t, *after, False, math.nan, 0.0, 0))
        out: dict[int, MarketEvents] = {}
        s = self.price_scale
        for ins, rs in rows.items():
            arr = np.array([r[:5] for r in rs], dtype=np.float64)
            out[ins] = MarketEvents(time=arr[:, 0], bid=arr[:, 1] / s, bid_size=arr[:, 2], ask=arr[:, 3] / s,
                                    ask_size=arr[:, 4], is_trade=np.array([r[5] for r in rs], dtype=bool),
                                    trade_price=np.array([r[6] for r in rs], dtype=np.float64) / s,
                                    trade_size=np.array([r[7] for r in rs], dtype=np.float64),
                                    trade_sign=np.array([r[8] for r in rs], dtype=np.int64))
        return out
