"""Liquidity and price-impact estimators: Kyle's lambda, Amihud's illiquidity, Roll's spread.

- Kyle's lambda (A. S. Kyle, "Continuous Auctions and Insider Trading", Econometrica 53(6), 1985;
  estimated as in J. Hasbrouck, "Empirical Market Microstructure", 2007, ch. 5): the slope of
  dP_k = a + lambda Q_k + e_k over bars, dP_k the bar's mid change and Q_k its net signed volume
  (buyer- minus seller-initiated shares). Price units per share. OLS from running sums (ols.py).
- Amihud's illiquidity (Y. Amihud, "Illiquidity and stock returns", J. Financial Markets 5, 2002):
  ILLIQ = mean over bars with trading of |r_k| / DV_k, r_k the bar's log mid return and DV_k its
  dollar volume. Bars with no volume are excluded (the ratio is undefined there), and the number
  used is reported; no bar with volume gives NaN.
- Roll's implied spread (R. Roll, "A Simple Implicit Measure of the Effective Bid-Ask Spread in an
  Efficient Market", J. Finance 39(4), 1984): s = 2 sqrt(-Cov(dp_t, dp_{t-1})) over trade-to-trade
  price changes, the sample covariance of the pairs (dp_t, dp_{t-1}). When the autocovariance is
  >= 0 the model does not hold and s is NaN (with the covariance reported, so the caller sees why).
  Fewer than two pairs (4 trades) give NaN.

Each has a batch function over arrays and a streaming class (update per bar or trade, update_many
per micro-batch) with the same result up to summation rounding (relative 1e-12).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from trading.analytics.errors import AnalyticsInputError, as_float_array, check_same_length
from trading.analytics.ols import OlsFit, RunningOls, ols_fit


def kyle_lambda(mid_change: Any, signed_volume: Any) -> OlsFit:
    """Kyle's lambda (the slope) of bar mid changes on bar net signed volume; an empty window is
    an error, fewer than 3 bars or no variation in the flow give NaN (ols.py)."""
    return ols_fit(as_float_array("signed_volume", signed_volume), as_float_array("mid_change", mid_change))


class KyleLambdaStream(RunningOls):
    """Streaming Kyle's lambda: add(signed_volume, mid_change) per bar; fit().slope is lambda."""


@dataclass(frozen=True)
class AmihudResult:
    illiq: float        # mean |r| / dollar volume over bars with volume
    bars_used: int
    bars_skipped: int   # bars with zero volume


def amihud(log_return: Any, dollar_volume: Any) -> AmihudResult:
    """Amihud's ILLIQ over bars (see the module docstring)."""
    r = as_float_array("log_return", log_return)
    dv = as_float_array("dollar_volume", dollar_volume)
    check_same_length(log_return=r, dollar_volume=dv)
    if np.any(dv < 0):
        raise AnalyticsInputError("dollar_volume: negative")
    used = dv > 0
    n = int(used.sum())
    illiq = float(np.mean(np.abs(r[used]) / dv[used])) if n else math.nan
    return AmihudResult(illiq, n, len(r) - n)


class AmihudStream:
    def __init__(self) -> None:
        self.total = 0.0
        self.used = 0
        self.skipped = 0

    def update_many(self, log_return: Any, dollar_volume: Any) -> None:
        r = as_float_array("log_return", log_return, allow_empty=True)
        dv = as_float_array("dollar_volume", dollar_volume, allow_empty=True)
        check_same_length(log_return=r, dollar_volume=dv)
        if np.any(dv < 0):
            raise AnalyticsInputError("dollar_volume: negative")
        used = dv > 0
        self.total += float(np.sum(np.abs(r[used]) / dv[used]))
        self.used += int(used.sum())
        self.skipped += int((~used).sum())

    def result(self) -> AmihudResult:
        return AmihudResult(self.total / self.used if self.used else math.nan, self.used, self.skipped)


@dataclass(frozen=True)
class RollResult:
    spread: float           # NaN when the autocovariance is >= 0 or there are too few trades
    autocovariance: float
    pairs: int


def _roll(cov: float, pairs: int) -> RollResult:
    spread = 2.0 * math.sqrt(-cov) if pairs >= 2 and cov < 0 else math.nan
    return RollResult(spread, cov, pairs)


def roll_spread(trade_prices: Any) -> RollResult:
    """Roll's implied spread of a sequence of trade prices."""
    p = as_float_array("trade_prices", trade_prices, allow_empty=True)
    dp = np.diff(p)
    if len(dp) < 3:
        return RollResult(math.nan, math.nan, max(len(dp) - 1, 0))
    a, b = dp[1:], dp[:-1]
    cov = float(np.sum((a - a.mean()) * (b - b.mean())) / (len(a) - 1))
    return _roll(cov, len(a))


class RollStream:
    """Streaming Roll's spread: sums of the pairs (dp_t, dp_{t-1}) kept as trades arrive."""

    def __init__(self) -> None:
        self.last_price = math.nan
        self.last_change = math.nan
        self.n = 0
        self.sa = self.sb = self.sab = 0.0

    def update_many(self, trade_prices: Any) -> None:
        p = as_float_array("trade_prices", trade_prices, allow_empty=True)
        if not len(p):
            return
        full = np.concatenate([[self.last_price], p]) if not math.isnan(self.last_price) else p
        dp = np.diff(full)
        if not math.isnan(self.last_change):
            dp = np.concatenate([[self.last_change], dp])
        if len(dp) >= 2:
            a, b = dp[1:], dp[:-1]
            self.n += len(a)
            self.sa += float(a.sum())
            self.sb += float(b.sum())
            self.sab += float(np.dot(a, b))
        if len(dp):
            self.last_change = float(dp[-1])
        self.last_price = float(p[-1])

    def result(self) -> RollResult:
        if self.n < 2:
            return RollResult(math.nan, math.nan, self.n)
        cov = (self.sab - self.sa * self.sb / self.n) / (self.n - 1)
        return _roll(cov, self.n)
