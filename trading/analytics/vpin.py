"""VPIN, the volume-synchronised probability of informed trading, and its CDF for alerts.

Source: D. Easley, M. Lopez de Prado and M. O'Hara, "Flow Toxicity and Liquidity in a High-Frequency
World", Review of Financial Studies 25(5), 2012, section 2 (eqs. 6-8).

Construction used here:

1. Volume buckets of exactly ``bucket_volume`` shares: bucket k holds the traded volume in
   (k V, (k + 1) V]; a trade that straddles a boundary is split between the buckets (and may fill
   several). A bucket closes on the trade that brings the cumulative volume to (k + 1) V or more; its
   close price is that trade's price and its time that trade's time. An incomplete last bucket is
   never reported.
2. Bulk volume classification per bucket (classification.py): dP_k = close_k - close_{k-1}
   (close_{-1} = the first trade's price), sigma_k = population standard deviation of dP_0..dP_k
   (causal: only buckets closed so far, so the streaming form can reproduce it), buy volume
   V_B = V Phi(dP_k / sigma_k), order imbalance |V_S - V_B| = V |2 Phi(dP_k / sigma_k) - 1|.
3. VPIN_k = sum over the last n buckets of |V_S - V_B| / (n V), n = ``window`` (ELO use 50); NaN for
   the first n - 1 buckets.
4. CDF_k = the empirical CDF of VPIN at VPIN_k over the VPIN values so far (including VPIN_k):
   #{j <= k : VPIN_j <= VPIN_k} / #{j <= k : VPIN_j defined}. An alert is raised when
   CDF_k >= ``alert_level`` (0.99 by default) and at least ``min_history`` VPIN values exist.

Bad input: times must be non-decreasing, prices finite, volumes finite and > 0 (a zero-volume trade
is refused rather than silently ignored); ``bucket_volume`` > 0. No trades, or fewer than one
bucket's volume, gives empty arrays. ``vpin`` is the batch form (numpy over the day); VpinStream is
the streaming form (update per trade or update_many per micro-batch) and gives the same buckets,
VPIN and CDF values.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trading.analytics.classification import buy_fraction
from trading.analytics.errors import (AnalyticsInputError, FloatArray, as_float_array, check_same_length,
                                      check_scalar, check_sorted)


@dataclass(frozen=True)
class VpinBuckets:
    """One entry per completed volume bucket."""

    time: FloatArray          # time of the trade that closed the bucket
    close: FloatArray         # its price
    price_change: FloatArray  # dP_k
    sigma: FloatArray         # sigma_k
    buy_volume: FloatArray    # V_B
    vpin: FloatArray          # NaN for the first window - 1 buckets
    cdf: FloatArray           # NaN where vpin is NaN
    alert: Any                # bool array: cdf >= alert_level with enough history


def _check_trades(times: Any, prices: Any, volumes: Any) -> tuple[FloatArray, FloatArray, FloatArray]:
    t = as_float_array("times", times, allow_empty=True)
    p = as_float_array("prices", prices, allow_empty=True)
    v = as_float_array("volumes", volumes, allow_empty=True)
    check_same_length(times=t, prices=p, volumes=v)
    check_sorted("times", t)
    if len(v) and np.any(v <= 0):
        raise AnalyticsInputError(f"volumes: must be > 0, index {int(np.flatnonzero(v <= 0)[0])} is "
                                  f"{v[np.flatnonzero(v <= 0)[0]]!r}")
    return t, p, v


def check_params(bucket_volume: float, window: int, alert_level: float, min_history: int) -> None:
    check_scalar("bucket_volume", bucket_volume, positive=True)
    if int(window) < 1:
        raise AnalyticsInputError(f"window: must be >= 1, got {window!r}")
    if not 0.0 < alert_level <= 1.0:
        raise AnalyticsInputError(f"alert_level: must be in (0, 1], got {alert_level!r}")
    if int(min_history) < 1:
        raise AnalyticsInputError(f"min_history: must be >= 1, got {min_history!r}")


def vpin(times: Any, prices: Any, volumes: Any, bucket_volume: float, window: int = 50,
         alert_level: float = 0.99, min_history: int = 50) -> VpinBuckets:
    """Batch VPIN of a day of trades (see the module docstring)."""
    check_params(bucket_volume, window, alert_level, min_history)
    t, p, v = _check_trades(times, prices, volumes)
    cum = np.cumsum(v)
    nbuckets = int(cum[-1] // bucket_volume) if len(cum) else 0
    bounds = bucket_volume * np.arange(1, nbuckets + 1, dtype=np.float64)
    idx = np.searchsorted(cum, bounds, side="left")
    close = p[idx]
    prev = np.concatenate([p[:1], close[:-1]]) if nbuckets else close
    dp = close - prev
    k = np.arange(1, nbuckets + 1, dtype=np.float64)
    mean = np.cumsum(dp) / k
    var = np.cumsum(dp * dp) / k - mean * mean
    sigma = np.sqrt(np.maximum(var, 0.0))
    frac = buy_fraction(dp, sigma)
    imbalance = np.abs(2.0 * frac - 1.0)
    vp = np.full(nbuckets, np.nan)
    # math.fsum is correctly rounded, so the streaming form's window sums are bit for bit the same.
    for j in range(window - 1, nbuckets):
        vp[j] = math.fsum(imbalance[j - window + 1:j + 1].tolist()) / window
    cdf = np.full(nbuckets, np.nan)
    alert = np.zeros(nbuckets, dtype=bool)
    for j in range(window - 1, nbuckets):
        hist = vp[window - 1:j + 1]
        cdf[j] = np.count_nonzero(hist <= vp[j]) / len(hist)
        alert[j] = cdf[j] >= alert_level and len(hist) >= min_history
    return VpinBuckets(time=t[idx], close=close, price_change=dp, sigma=sigma,
                       buy_volume=bucket_volume * frac, vpin=vp, cdf=cdf, alert=alert)


@dataclass
class VpinBucket:
    """One closed bucket, as the streaming form reports it."""

    index: int
    time: float
    close: float
    price_change: float
    sigma: float
    buy_volume: float
    vpin: float
    cdf: float
    alert: bool


@dataclass
class VpinStream:
    """Streaming VPIN: feed trades in time order; each call returns the buckets it closed."""

    bucket_volume: float
    window: int = 50
    alert_level: float = 0.99
    min_history: int = 50
    _cum: float = 0.0
    _next_bound: float = 0.0
    _prev_close: float = math.nan
    _last_time: float = -math.inf
    _count: int = 0
    _sum_dp: float = 0.0
    _sum_dp2: float = 0.0
    _recent: list[float] = field(default_factory=list)
    _sorted_vpin: list[float] = field(default_factory=list)
    buckets: list[VpinBucket] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_params(self.bucket_volume, self.window, self.alert_level, self.min_history)
        self._next_bound = float(self.bucket_volume)

    def update(self, time: float, price: float, volume: float) -> list[VpinBucket]:
        """One trade; returns the buckets it closed (usually none, sometimes several)."""
        if not (math.isfinite(time) and math.isfinite(price) and math.isfinite(volume)):
            raise AnalyticsInputError(f"VPIN: non-finite trade ({time!r}, {price!r}, {volume!r})")
        if volume <= 0:
            raise AnalyticsInputError(f"VPIN: volume must be > 0, got {volume!r}")
        if time < self._last_time:
            raise AnalyticsInputError(f"VPIN: time {time!r} before the previous trade's {self._last_time!r}")
        self._last_time = time
        if math.isnan(self._prev_close):
            self._prev_close = price
        self._cum += volume
        closed: list[VpinBucket] = []
        while self._cum >= self._next_bound:
            closed.append(self._close(time, price))
            self._next_bound = self.bucket_volume * (self._count + 1)
        return closed

    def update_many(self, times: Any, prices: Any, volumes: Any) -> list[VpinBucket]:
        """A micro-batch of trades: the same buckets as update() on each trade in turn."""
        t, p, v = _check_trades(times, prices, volumes)
        if len(t) and t[0] < self._last_time:
            raise AnalyticsInputError(f"VPIN: time {t[0]!r} before the previous trade's {self._last_time!r}")
        if not len(t):
            return []
        if math.isnan(self._prev_close):
            self._prev_close = float(p[0])
        # Same accumulation order as update(): a sequential cumulative sum from the running total.
        cum = np.cumsum(np.concatenate([[self._cum], v]))[1:]
        last = int(cum[-1] // self.bucket_volume)
        closed: list[VpinBucket] = []
        if last > self._count:
            bounds = self.bucket_volume * np.arange(self._count + 1, last + 1, dtype=np.float64)
            for i in np.searchsorted(cum, bounds, side="left"):
                closed.append(self._close(float(t[i]), float(p[i])))
        self._next_bound = self.bucket_volume * (self._count + 1)
        self._cum = float(cum[-1])
        self._last_time = float(t[-1])
        return closed

    def _close(self, time: float, price: float) -> VpinBucket:
        dp = price - self._prev_close
        self._prev_close = price
        self._count += 1
        self._sum_dp += dp
        self._sum_dp2 += dp * dp
        mean = self._sum_dp / self._count
        sigma = math.sqrt(max(self._sum_dp2 / self._count - mean * mean, 0.0))
        frac = float(buy_fraction(np.array([dp]), np.array([sigma]))[0])
        self._recent.append(abs(2.0 * frac - 1.0))
        if len(self._recent) > self.window:
            self._recent.pop(0)
        vp = cdf = math.nan
        alert = False
        if len(self._recent) == self.window:
            vp = math.fsum(self._recent) / self.window
            bisect.insort(self._sorted_vpin, vp)
            cdf = bisect.bisect_right(self._sorted_vpin, vp) / len(self._sorted_vpin)
            alert = cdf >= self.alert_level and len(self._sorted_vpin) >= self.min_history
        bucket = VpinBucket(self._count - 1, time, price, dp, sigma, self.bucket_volume * frac, vp, cdf, alert)
        self.buckets.append(bucket)
        return bucket
