"""Market-efficiency monitors: variance ratios, return autocorrelation, deviation from the fused price.

- Variance ratio (A. W. Lo and A. C. MacKinlay, "Stock Market Prices Do Not Follow Random Walks:
  Evidence from a Simple Specification Test", Rev. Financial Studies 1(1), 1988, eqs. 12-14 with the
  overlapping, bias-corrected estimators): for log prices X_0..X_T (T one-step returns),
      mu = (X_T - X_0) / T
      s2_a = sum_{k=1..T} (X_k - X_{k-1} - mu)^2 / (T - 1)
      s2_c = sum_{k=q..T} (X_k - X_{k-q} - q mu)^2 / m,   m = q (T - q + 1) (1 - q / T)
      VR(q) = s2_c / s2_a,   z(q) = (VR(q) - 1) / sqrt(2 (2q - 1)(q - 1) / (3 q T))
  (z under homoskedastic increments). VR = 1 for a random walk; VR < 1 mean reversion (e.g.
  bid-ask bounce), VR > 1 momentum. Needs T > q; otherwise NaN.
- Autocorrelation of returns at lag L: sum_k (r_k - mu)(r_{k-L} - mu) / sum_k (r_k - mu)^2, with mu
  the mean of all T returns. An efficient price has none.
- Deviation from the fused efficient price (fusion.py): (mid - fused) / fused per observation.

Streaming: EfficiencyStream keeps the sums these formulas need (and the last q returns), so
update_many on micro-batches of log prices gives the batch values up to summation rounding.
Bad input: NaN or infinite prices raise AnalyticsInputError; a constant price (s2_a = 0) gives NaN.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from trading.analytics.errors import AnalyticsInputError, FloatArray, as_float_array, check_same_length


@dataclass(frozen=True)
class Efficiency:
    variance_ratio: dict[int, float]
    z: dict[int, float]
    autocorrelation: dict[int, float]
    returns: int


def _check_q(qs: tuple[int, ...], lags: tuple[int, ...]) -> None:
    if any(int(q) < 2 for q in qs) or any(int(lag) < 1 for lag in lags):
        raise AnalyticsInputError(f"need every q >= 2 and every lag >= 1, got {qs!r}, {lags!r}")


def _from_sums(T: int, s1: float, s2: float, sq: dict[int, tuple[float, float]], slag: dict[int, tuple[float, float, float]],
               qs: tuple[int, ...], lags: tuple[int, ...]) -> Efficiency:
    nan = math.nan
    vr: dict[int, float] = {}
    zs: dict[int, float] = {}
    ac: dict[int, float] = {}
    mu = s1 / T if T else nan
    ss = s2 - 2 * mu * s1 + T * mu * mu if T else nan
    s2a = ss / (T - 1) if T > 1 else nan
    for q in qs:
        if T <= q or not s2a > 0:
            vr[q] = zs[q] = nan
            continue
        a, b = sq[q]
        n = T - q + 1
        m = q * (T - q + 1) * (1 - q / T)
        s2c = (b - 2 * q * mu * a + n * q * q * mu * mu) / m
        vr[q] = s2c / s2a
        zs[q] = (vr[q] - 1) / math.sqrt(2 * (2 * q - 1) * (q - 1) / (3 * q * T))
    for lag in lags:
        if T <= lag or not ss > 0:
            ac[lag] = nan
            continue
        prod, head, tail = slag[lag]
        num = prod - mu * ((s1 - head) + (s1 - tail)) + (T - lag) * mu * mu
        ac[lag] = num / ss
    return Efficiency(vr, zs, ac, T)


def efficiency(log_prices: Any, qs: tuple[int, ...] = (2, 5, 10), lags: tuple[int, ...] = (1, 2, 5)) -> Efficiency:
    """Batch variance ratios and autocorrelations of a series of log prices (one per bar)."""
    _check_q(qs, lags)
    x = as_float_array("log_prices", log_prices)
    r = np.diff(x)
    T = len(r)
    sq = {q: (float(np.sum(x[q:] - x[:-q])), float(np.sum((x[q:] - x[:-q]) ** 2))) if T >= q else (0.0, 0.0) for q in qs}
    slag = {lag: (float(np.dot(r[lag:], r[:-lag])), float(r[:lag].sum()), float(r[T - lag:].sum())) if T > lag else (0.0, 0.0, 0.0)
            for lag in lags}
    return _from_sums(T, float(r.sum()), float(np.dot(r, r)), sq, slag, qs, lags)


class EfficiencyStream:
    """Streaming variance ratios and autocorrelations: update_many(log_prices) per micro-batch."""

    def __init__(self, qs: tuple[int, ...] = (2, 5, 10), lags: tuple[int, ...] = (1, 2, 5)) -> None:
        _check_q(qs, lags)
        self.qs, self.lags = tuple(int(q) for q in qs), tuple(int(lag) for lag in lags)
        keep = max(self.qs + self.lags)
        self._x: deque[float] = deque(maxlen=keep + 1)       # last log prices
        self._first: list[float] = []                        # the first max(lags) returns
        self.T = 0
        self.s1 = self.s2 = 0.0
        self.sq = {q: [0.0, 0.0] for q in self.qs}
        self.sprod = {lag: 0.0 for lag in self.lags}
        self._recent_r: FloatArray = np.zeros(0)             # the last max(lags) returns

    def update_many(self, log_prices: Any) -> None:
        x = as_float_array("log_prices", log_prices, allow_empty=True)
        if not len(x):
            return
        hist = np.fromiter(self._x, dtype=np.float64, count=len(self._x))
        full = np.concatenate([hist, x])
        h = len(hist)
        r_full = np.diff(full)                   # returns; the new ones are r_full[h-1:] (h >= 1)
        new_r = r_full[max(h - 1, 0):]
        self.T += len(new_r)
        self.s1 += float(new_r.sum())
        self.s2 += float(np.dot(new_r, new_r))
        for q in self.qs:
            # q-step changes ending at each new price: index j in full, j - q >= 0, j >= h.
            j = np.arange(max(h, q), len(full))
            d = full[j] - full[j - q]
            self.sq[q][0] += float(d.sum())
            self.sq[q][1] += float(np.dot(d, d))
        for lag in self.lags:
            # products r_k r_{k-lag} for the new returns k (return k ends at price k + 1 of full).
            k = np.arange(max(h - 1, 0), len(r_full))
            k = k[k - lag >= 0]
            self.sprod[lag] += float(np.dot(r_full[k], r_full[k - lag]))
        need = max(self.lags)
        if len(self._first) < need:
            self._first.extend(new_r[:need - len(self._first)].tolist())
        self._x.extend(x.tolist())
        self._recent_r = np.concatenate([self._recent_r, new_r])[-need:]

    def result(self) -> Efficiency:
        recent = self._recent_r
        slag = {lag: (self.sprod[lag], float(sum(self._first[:lag])), float(recent[len(recent) - lag:].sum()))
                for lag in self.lags}
        sq = {q: (self.sq[q][0], self.sq[q][1]) for q in self.qs}
        return _from_sums(self.T, self.s1, self.s2, sq, slag, self.qs, self.lags)


def price_deviation(mid: Any, fused: Any) -> FloatArray:
    """(mid - fused) / fused element-wise (both finite, fused > 0)."""
    m = as_float_array("mid", mid, allow_empty=True)
    f = as_float_array("fused", fused, allow_empty=True)
    check_same_length(mid=m, fused=f)
    if np.any(f <= 0):
        raise AnalyticsInputError("fused: must be > 0")
    out: FloatArray = (m - f) / f
    return out
