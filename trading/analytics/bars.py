"""Time bars of market-data events: the sampling grid of the bar-level estimators.

Kyle's lambda, Amihud's ratio, the regime detector, the variance ratio, the information shares and
the fused price work on bars of ``bar_seconds`` (calendar time, as in Hasbrouck 1995 and Cont et
al. 2014), not on every event. Bar k covers [origin + k w, origin + (k + 1) w); origin defaults to
the first event's time. For each bar:

    mid            mid after the bar's last two-sided quote (carried over from the previous bar
                   when the bar has none; NaN until the first two-sided quote)
    mid_change     mid_k - mid_{k-1}       (mid_{-1} = the first two-sided mid)
    log_return     log(mid_k / mid_{k-1})
    signed_volume  sum of trade_sign * trade_size over the bar's trades
    volume         sum of trade_size;  dollar_volume  sum of trade_price * trade_size;  trades

Every bar from the first event's to the last event's is reported, empty ones included (nothing
traded, the mid carried over). The streaming BarBuilder reports a bar when an event of a later bar
arrives, and the last one on flush(). Integer quantities (volumes, counts) are exactly equal
between the forms; float sums (dollar volume) are equal up to the rounding of a different
summation order (relative 1e-12).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from trading.analytics.errors import (AnalyticsInputError, FloatArray, IntArray, check_scalar,
                                      check_sorted)
from trading.analytics.events import MarketEvents


@dataclass(frozen=True)
class Bars:
    start: FloatArray
    mid: FloatArray
    mid_change: FloatArray
    log_return: FloatArray
    signed_volume: FloatArray
    volume: FloatArray
    dollar_volume: FloatArray
    trades: IntArray

    def __len__(self) -> int:
        return len(self.start)

    @staticmethod
    def concat(parts: list["Bars"]) -> "Bars":
        cols: list[Any] = [np.concatenate([getattr(p, f) for p in parts]) if parts
                           else np.zeros(0, dtype=np.int64 if f == "trades" else np.float64)
                           for f in Bars.__dataclass_fields__]
        return Bars(*cols)


def _check_events(ev: MarketEvents) -> None:
    check_sorted("time", ev.time)
    for name in ("time", "trade_size"):
        arr = getattr(ev, name)
        if not np.all(np.isfinite(arr)):
            raise AnalyticsInputError(f"{name}: NaN or infinite value at index {int(np.flatnonzero(~np.isfinite(arr))[0])}")
    bad = ev.is_trade & ~(np.isfinite(ev.trade_price) & (ev.trade_size > 0))
    if np.any(bad):
        raise AnalyticsInputError(f"trade at index {int(np.flatnonzero(bad)[0])}: price not finite or size <= 0")


def _valid_mid(ev: MarketEvents) -> FloatArray:
    ok = np.isfinite(ev.bid) & np.isfinite(ev.ask) & (ev.bid < ev.ask)
    safe_bid = np.where(ok, ev.bid, 0.0)
    safe_ask = np.where(ok, ev.ask, 0.0)
    out: FloatArray = np.where(ok, (safe_bid + safe_ask) / 2.0, np.nan)
    return out


def _bar_arrays(k: IntArray, nbars: int, ev: MarketEvents, first_bar: int,
                prev_mid: float) -> tuple[Bars, float]:
    """Bars first_bar..first_bar+nbars-1 from events with bar index k (relative, sorted)."""
    mid = _valid_mid(ev)
    has = np.isfinite(mid)
    last = np.full(nbars, -1, dtype=np.int64)
    last[k[has]] = np.flatnonzero(has)
    np.maximum.accumulate(last, out=last)
    end_mid = np.where(last >= 0, mid[np.maximum(last, 0)], prev_mid)
    start_mid = prev_mid
    if math.isnan(start_mid) and has.any():
        start_mid = float(mid[has][0])
    prev = np.concatenate([[start_mid], end_mid[:-1]])
    tr = ev.is_trade
    size = np.where(tr, ev.trade_size, 0.0)
    price = np.where(tr, ev.trade_price, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        logret = np.log(end_mid / prev)
    bars = Bars(start=np.zeros(nbars), mid=end_mid, mid_change=end_mid - prev, log_return=logret,
                signed_volume=np.bincount(k, weights=ev.trade_sign * size, minlength=nbars).astype(np.float64),
                volume=np.bincount(k, weights=size, minlength=nbars).astype(np.float64),
                dollar_volume=np.bincount(k, weights=price * size, minlength=nbars).astype(np.float64),
                trades=np.bincount(k, weights=tr, minlength=nbars).astype(np.int64))
    last_mid = float(end_mid[-1]) if nbars else prev_mid
    return bars, last_mid


def time_bars(events: MarketEvents, bar_seconds: float, origin: float | None = None) -> Bars:
    """Batch bars of a day of events (see the module docstring)."""
    w = check_scalar("bar_seconds", bar_seconds, positive=True)
    if len(events) == 0:
        raise AnalyticsInputError("events: empty")
    _check_events(events)
    t0 = float(events.time[0]) if origin is None else check_scalar("origin", origin)
    if events.time[0] < t0:
        raise AnalyticsInputError(f"time: first event {events.time[0]!r} before origin {t0!r}")
    k = np.floor((events.time - t0) / w).astype(np.int64)
    nbars = int(k[-1]) + 1
    bars, _ = _bar_arrays(k, nbars, events, 0, math.nan)
    return Bars(t0 + w * np.arange(nbars, dtype=np.float64), *(getattr(bars, f) for f in list(Bars.__dataclass_fields__)[1:]))


class BarBuilder:
    """Streaming time bars: update_many(events) returns the bars that chunk closed; flush() the last."""

    def __init__(self, bar_seconds: float, origin: float | None = None) -> None:
        self.w = check_scalar("bar_seconds", bar_seconds, positive=True)
        self.origin = origin
        self._pending: list[MarketEvents] = []   # events of the open bar
        self._bar = -1                           # index of the open bar, -1 before any event
        self._prev_mid = math.nan
        self._last_time = -math.inf

    def update_many(self, events: MarketEvents) -> Bars:
        if len(events) == 0:
            return Bars.concat([])
        _check_events(events)
        if events.time[0] < self._last_time:
            raise AnalyticsInputError(f"time {events.time[0]!r} before the previous event's {self._last_time!r}")
        if self.origin is None:
            self.origin = float(events.time[0])
        if events.time[0] < self.origin:
            raise AnalyticsInputError(f"time: first event {events.time[0]!r} before origin {self.origin!r}")
        self._last_time = float(events.time[-1])
        k = np.floor((events.time - self.origin) / self.w).astype(np.int64)
        if self._bar < 0:
            self._bar = int(k[0])
        newest = int(k[-1])
        if newest == self._bar:
            self._pending.append(events)
            return Bars.concat([])
        # Everything before the first event of the newest bar closes bars _bar..newest-1.
        cut = int(np.searchsorted(k, newest, side="left"))
        head = _concat_events(self._pending + [events.select(slice(0, cut))])
        closed = self._close(head, newest)
        self._pending = [events.select(slice(cut, None))]
        return closed

    def flush(self) -> Bars:
        if self._bar < 0:
            return Bars.concat([])
        closed = self._close(_concat_events(self._pending), self._bar + 1)
        self._pending = []
        return closed

    def _close(self, ev: MarketEvents, upto: int) -> Bars:
        assert self.origin is not None
        nbars = upto - self._bar
        k = np.floor((ev.time - self.origin) / self.w).astype(np.int64) - self._bar
        bars, self._prev_mid = _bar_arrays(k, nbars, ev, self._bar, self._prev_mid)
        start = self.origin + self.w * np.arange(self._bar, upto, dtype=np.float64)
        self._bar = upto
        return Bars(start, *(getattr(bars, f) for f in list(Bars.__dataclass_fields__)[1:]))


def _concat_events(parts: list[MarketEvents]) -> MarketEvents:
    parts = [p for p in parts if len(p)]
    if not parts:
        return MarketEvents(*(np.zeros(0, dtype=np.int64 if f == "trade_sign" else (bool if f == "is_trade" else np.float64))
                              for f in MarketEvents.__dataclass_fields__))
    if len(parts) == 1:
        return parts[0]
    return MarketEvents(*(np.concatenate([getattr(p, f) for p in parts]) for f in MarketEvents.__dataclass_fields__))


def as_events(time: Any, bid: Any, bid_size: Any, ask: Any, ask_size: Any, trade_price: Any = None,
              trade_size: Any = None, trade_sign: Any = None) -> MarketEvents:
    """MarketEvents from plain arrays (quotes only when the trade arrays are omitted)."""
    t = np.asarray(time, dtype=np.float64)
    n = len(t)
    tp = np.full(n, np.nan) if trade_price is None else np.asarray(trade_price, dtype=np.float64)
    ts = np.zeros(n) if trade_size is None else np.asarray(trade_size, dtype=np.float64)
    sg = np.zeros(n, dtype=np.int64) if trade_sign is None else np.asarray(trade_sign, dtype=np.int64)
    return MarketEvents(t, np.asarray(bid, dtype=np.float64), np.asarray(bid_size, dtype=np.float64),
                        np.asarray(ask, dtype=np.float64), np.asarray(ask_size, dtype=np.float64),
                        np.isfinite(tp) & (ts > 0), tp, ts, sg)
