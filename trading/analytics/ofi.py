"""Order-flow imbalance (OFI) at the best quotes and its price-impact regression.

Source: R. Cont, A. Kukanov and S. Stoikov, "The Price Impact of Order Book Events", Journal of
Financial Econometrics 12(1), 2014, eqs. (2)-(4) and (9). For consecutive best-quote states
n - 1, n (bid price P^B, bid size q^B, ask price P^A, ask size q^A):

    e_n = 1{P^B_n >= P^B_{n-1}} q^B_n - 1{P^B_n <= P^B_{n-1}} q^B_{n-1}
        - 1{P^A_n <= P^A_{n-1}} q^A_n + 1{P^A_n >= P^A_{n-1}} q^A_{n-1}

(e_0 = 0 for the first state). OFI over a time bar is the sum of e_n of the events in it, and the
impact regression is dP_k = a + beta OFI_k + eps_k, with dP_k the change of the mid price over the
bar (mid at the bar's last event minus mid at the previous bar's last event, or at the first event
for the first bar). CKS find beta inversely proportional to the depth at the best quotes.

Bars are [origin + k w, origin + (k + 1) w) for bar width w; origin defaults to the first event's
time. Bars with no event are kept with OFI 0 and dP 0 (time passed and nothing moved: dropping them
would bias the regression), so the output covers every bar from the origin's to the last event's
(bars before the first event, when an earlier origin is given, have OFI 0 and dP 0 too). The streaming form closes a bar when an event of a later bar arrives and on flush().

Bad input: times not non-decreasing, non-finite prices or sizes, negative sizes raise
AnalyticsInputError; the caller drops one-sided or empty book states (there is no mid).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trading.analytics.errors import (AnalyticsInputError, FloatArray, IntArray, as_float_array,
                                      check_same_length, check_scalar, check_sorted)
from trading.analytics.ols import OlsFit, RunningOls, ols_fit


def _quotes(bid: Any, bid_size: Any, ask: Any, ask_size: Any) -> tuple[FloatArray, ...]:
    b = as_float_array("bid", bid, allow_empty=True)
    bs = as_float_array("bid_size", bid_size, allow_empty=True)
    a = as_float_array("ask", ask, allow_empty=True)
    az = as_float_array("ask_size", ask_size, allow_empty=True)
    check_same_length(bid=b, bid_size=bs, ask=a, ask_size=az)
    if np.any(bs < 0) or np.any(az < 0):
        raise AnalyticsInputError("bid_size/ask_size: negative size")
    return b, bs, a, az


def ofi_events(bid: Any, bid_size: Any, ask: Any, ask_size: Any) -> FloatArray:
    """e_n of every best-quote state (e_0 = 0)."""
    b, bs, a, az = _quotes(bid, bid_size, ask, ask_size)
    e = np.zeros(len(b))
    if len(b) > 1:
        e[1:] = _e(b[:-1], bs[:-1], a[:-1], az[:-1], b[1:], bs[1:], a[1:], az[1:])
    return e


def _e(pb: Any, pbs: Any, pa: Any, pas: Any, b: Any, bs: Any, a: Any, az: Any) -> Any:
    return (np.where(b >= pb, bs, 0.0) - np.where(b <= pb, pbs, 0.0)
            - np.where(a <= pa, az, 0.0) + np.where(a >= pa, pas, 0.0))


@dataclass(frozen=True)
class OfiBars:
    start: FloatArray        # bar start time
    ofi: FloatArray
    mid_change: FloatArray
    events: IntArray         # events in the bar


def ofi_bars(times: Any, bid: Any, bid_size: Any, ask: Any, ask_size: Any, bar_seconds: float,
             origin: float | None = None) -> OfiBars:
    """Batch OFI and mid change per time bar (see the module docstring)."""
    w = check_scalar("bar_seconds", bar_seconds, positive=True)
    t = as_float_array("times", times)
    b, bs, a, az = _quotes(bid, bid_size, ask, ask_size)
    check_same_length(times=t, bid=b)
    check_sorted("times", t)
    t0 = float(t[0]) if origin is None else check_scalar("origin", origin)
    if t[0] < t0:
        raise AnalyticsInputError(f"times: first event {t[0]!r} before origin {t0!r}")
    e = ofi_events(b, bs, a, az)
    k = np.floor((t - t0) / w).astype(np.int64)
    nbars = int(k[-1]) + 1
    ofi = np.bincount(k, weights=e, minlength=nbars).astype(np.float64)
    events = np.bincount(k, minlength=nbars).astype(np.int64)
    mid = (b + a) / 2.0
    # Mid at each bar's end: the last event at or before it (forward-filled over empty bars).
    last_in_bar = np.full(nbars, -1, dtype=np.int64)
    last_in_bar[k] = np.arange(len(t))
    np.maximum.accumulate(last_in_bar, out=last_in_bar)
    # Bars before the first event (an origin given earlier) carry the first mid: change 0.
    end_mid = mid[np.maximum(last_in_bar, 0)]
    prev_mid = np.concatenate([mid[:1], end_mid[:-1]])
    return OfiBars(start=t0 + w * np.arange(nbars, dtype=np.float64), ofi=ofi, mid_change=end_mid - prev_mid, events=events)


def ofi_price_impact(bars: OfiBars) -> OlsFit:
    """CKS's regression dP_k = a + beta OFI_k over the bars (slope = beta, the price impact)."""
    return ols_fit(bars.ofi, bars.mid_change)


@dataclass
class OfiStream:
    """Streaming OFI bars and impact regression; update() per best-quote state, flush() at the end."""

    bar_seconds: float
    origin: float | None = None
    regression: RunningOls = field(default_factory=RunningOls)
    _prev: tuple[float, float, float, float] | None = None
    _bar: int = 0
    _ofi: float = 0.0
    _events: int = 0
    _bar_mid_start: float = math.nan
    _mid: float = math.nan
    _last_time: float = -math.inf
    _origin_given: bool = False
    _flushed: bool = False

    def __post_init__(self) -> None:
        check_scalar("bar_seconds", self.bar_seconds, positive=True)
        self._origin_given = self.origin is not None

    def update(self, time: float, bid: float, bid_size: float, ask: float, ask_size: float) -> list[tuple[float, float, float, int]]:
        """One best-quote state; returns the bars it closed as (start, ofi, mid_change, events)."""
        vals = (time, bid, bid_size, ask, ask_size)
        if self._flushed:
            raise AnalyticsInputError("OFI: update after flush() (flush ends the stream)")
        if not all(math.isfinite(v) for v in vals):
            raise AnalyticsInputError(f"OFI: non-finite quote {vals!r}")
        if bid_size < 0 or ask_size < 0:
            raise AnalyticsInputError(f"OFI: negative size {vals!r}")
        if time < self._last_time:
            raise AnalyticsInputError(f"OFI: time {time!r} before the previous event's {self._last_time!r}")
        self._last_time = time
        closed: list[tuple[float, float, float, int]] = []
        if self._prev is None:
            if self.origin is None:
                self.origin = time
            elif time < self.origin:
                raise AnalyticsInputError(f"OFI: first event {time!r} before origin {self.origin!r}")
            first = math.floor((time - self.origin) / self.bar_seconds)
            self._bar = 0 if self._origin_given else first
            self._bar_mid_start = self._mid = (bid + ask) / 2.0
            while self._bar < first:            # bars between the origin and the first event
                closed.append(self._close())
            e = 0.0
        else:
            pb, pbs, pa, pas = self._prev
            e = ((bid_size if bid >= pb else 0.0) - (pbs if bid <= pb else 0.0)
                 - (ask_size if ask <= pa else 0.0) + (pas if ask >= pa else 0.0))
            assert self.origin is not None
            k = math.floor((time - self.origin) / self.bar_seconds)
            while self._bar < k:
                closed.append(self._close())
        self._prev = (bid, bid_size, ask, ask_size)
        self._mid = (bid + ask) / 2.0
        self._ofi += e
        self._events += 1
        return closed

    def update_many(self, times: Any, bid: Any, bid_size: Any, ask: Any, ask_size: Any) -> list[tuple[float, float, float, int]]:
        """A micro-batch of states; same bars as update() on each in turn."""
        t = as_float_array("times", times, allow_empty=True)
        b, bs, a, az = _quotes(bid, bid_size, ask, ask_size)
        check_same_length(times=t, bid=b)
        check_sorted("times", t)
        if not len(t):
            return []
        closed = self.update(float(t[0]), float(b[0]), float(bs[0]), float(a[0]), float(az[0]))
        if len(t) == 1:
            return closed
        assert self.origin is not None
        if t[1] < self._last_time:
            raise AnalyticsInputError("OFI: times go back")
        e = _e(b[:-1], bs[:-1], a[:-1], az[:-1], b[1:], bs[1:], a[1:], az[1:])
        mid = (b[1:] + a[1:]) / 2.0
        k = np.floor((t[1:] - self.origin) / self.bar_seconds).astype(np.int64)
        # Runs of equal bar index: each run adds to the open bar, then later bars close it.
        cuts = np.flatnonzero(np.diff(k)) + 1
        starts = np.concatenate([[0], cuts])
        ends = np.concatenate([cuts, [len(k)]])
        for s, f in zip(starts.tolist(), ends.tolist()):
            while self._bar < k[s]:
                closed.append(self._close())
            # e values are sums of sizes: integer-valued, so this sum is exact in any order.
            self._ofi += float(e[s:f].sum())
            self._events += f - s
            self._mid = float(mid[f - 1])
        self._prev = (float(b[-1]), float(bs[-1]), float(a[-1]), float(az[-1]))
        self._last_time = float(t[-1])
        return closed

    def flush(self) -> list[tuple[float, float, float, int]]:
        """Close the open bar (end of data); nothing when no event was seen."""
        if self._prev is None or self._flushed:
            return []
        self._flushed = True
        return [self._close()]

    def _close(self) -> tuple[float, float, float, int]:
        assert self.origin is not None
        bar = (self.origin + self.bar_seconds * self._bar, self._ofi, self._mid - self._bar_mid_start, self._events)
        self.regression.add(bar[1], bar[2])
        self._bar += 1
        self._bar_mid_start = self._mid
        self._ofi = 0.0
        self._events = 0
        return bar
