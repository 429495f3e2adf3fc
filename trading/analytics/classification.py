"""Trade classification: who initiated each trade (+1 buyer, -1 seller, 0 unknown).

Sources and rules:

- Tick rule (Lee and Ready 1991, "Inferring Trade Direction from Intraday Data", J. Finance 46(2)):
  a trade above the last different trade price is a buy (+1), below it a sell (-1); a trade at the
  same price as the previous one takes the previous sign (zero-tick). Trades before the first price
  change are 0 (unknown): there is no earlier different price.
- Lee-Ready (same paper): with the quote in force at the trade, mid m = (bid + ask) / 2: price > m is
  a buy, price < m a sell, price == m falls back to the tick rule. Our feeds stamp quotes and trades
  on one clock, so the caller passes the quote just before the trade (no five-second lag). A quote
  that is missing (NaN: no quote yet, or an empty side), not positive or crossed (bid >= ask) also
  falls back to the tick rule.
- Bulk volume classification (Easley, Lopez de Prado and O'Hara 2012, "Flow Toxicity and Liquidity in
  a High-Frequency World", Rev. Financial Studies 25(5), eq. 6): for a bar (a time or volume bar)
  with volume V and price change dP, buy volume V_B = V * Phi(dP / sigma), sell volume V - V_B, with
  Phi the standard normal CDF and sigma the standard deviation of bar price changes. When sigma is
  0 (every change so far equal), Phi(dP / sigma) is taken as its limit: 1 for dP > 0, 0 for dP < 0,
  1/2 for dP = 0.

Batch functions take whole arrays; the classes are the streaming forms (one trade per call) and give
the same signs.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import ndtr  # type: ignore[import-untyped]

from trading.analytics.errors import (AnalyticsInputError, FloatArray, IntArray, as_float_array,
                                      check_same_length)


def tick_rule(prices: Any) -> IntArray:
    """Tick-rule sign of each trade (+1, -1, 0 before the first price change). prices: finite, 1-d."""
    p = as_float_array("prices", prices, allow_empty=True)
    signs = np.zeros(len(p), dtype=np.int64)
    if len(p) < 2:
        return signs
    step = np.sign(np.diff(p)).astype(np.int64)
    # Forward-fill the last non-zero tick: index of the last non-zero step at or before each trade.
    idx = np.where(step != 0, np.arange(len(step)), -1)
    np.maximum.accumulate(idx, out=idx)
    filled = np.where(idx >= 0, step[np.maximum(idx, 0)], 0)
    signs[1:] = filled
    return signs


class TickRule:
    """Streaming tick rule: update(price) -> sign, equal to tick_rule over the same prices."""

    def __init__(self) -> None:
        self.last_price: float | None = None
        self.last_sign = 0

    def update(self, price: float) -> int:
        if not np.isfinite(price):
            raise AnalyticsInputError(f"tick rule: price is not finite: {price!r}")
        if self.last_price is not None and price != self.last_price:
            self.last_sign = 1 if price > self.last_price else -1
        self.last_price = price
        return self.last_sign

    def update_many(self, prices: Any) -> IntArray:
        """A micro-batch of trades: the signs update() would give one by one."""
        p = as_float_array("prices", prices, allow_empty=True)
        if not len(p):
            return np.zeros(0, dtype=np.int64)
        full = p if self.last_price is None else np.concatenate([[self.last_price], p])
        step = np.sign(np.diff(full)).astype(np.int64)
        idx = np.where(step != 0, np.arange(len(step)), -1)
        np.maximum.accumulate(idx, out=idx)
        filled = np.where(idx >= 0, step[np.maximum(idx, 0)], self.last_sign)
        signs = filled if self.last_price is not None else np.concatenate([[self.last_sign], filled])
        self.last_price = float(p[-1])
        self.last_sign = int(signs[-1])
        out: IntArray = signs.astype(np.int64)
        return out


def _valid_quote(bid: FloatArray, ask: FloatArray) -> Any:
    return np.isfinite(bid) & np.isfinite(ask) & (bid > 0) & (ask > 0) & (bid < ask)


def _quote_array(name: str, values: Any) -> FloatArray:
    """A quote column: NaN allowed (no quote), anything else must be a number."""
    try:
        arr: FloatArray = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise AnalyticsInputError(f"{name}: not numeric ({exc})") from None
    if arr.ndim != 1:
        raise AnalyticsInputError(f"{name}: expected 1-d array, got shape {arr.shape}")
    return arr


def lee_ready(prices: Any, bids: Any, asks: Any) -> IntArray:
    """Lee-Ready sign of each trade from the quote in force just before it (see module docstring)."""
    p = as_float_array("prices", prices, allow_empty=True)
    b = _quote_array("bids", bids)
    a = _quote_array("asks", asks)
    check_same_length(prices=p, bids=b, asks=a)
    with np.errstate(invalid="ignore"):
        quote_sign = np.where(_valid_quote(b, a), np.sign(p - (b + a) / 2.0), 0).astype(np.int64)
    return np.where(quote_sign != 0, quote_sign, tick_rule(p))


class LeeReady:
    """Streaming Lee-Ready: update(price, bid, ask) -> sign, equal to lee_ready on the same data."""

    def __init__(self) -> None:
        self.tick = TickRule()

    def update(self, price: float, bid: float, ask: float) -> int:
        tick_sign = self.tick.update(price)
        if np.isfinite(bid) and np.isfinite(ask) and bid > 0 and ask > 0 and bid < ask:
            mid = (bid + ask) / 2.0
            if price > mid:
                return 1
            if price < mid:
                return -1
        return tick_sign

    def update_many(self, prices: Any, bids: Any, asks: Any) -> IntArray:
        """A micro-batch of trades with their prior quotes: the signs update() would give."""
        p = as_float_array("prices", prices, allow_empty=True)
        b = _quote_array("bids", bids)
        a = _quote_array("asks", asks)
        check_same_length(prices=p, bids=b, asks=a)
        ticks = self.tick.update_many(p)
        with np.errstate(invalid="ignore"):
            quote_sign = np.where(_valid_quote(b, a), np.sign(p - (b + a) / 2.0), 0).astype(np.int64)
        out: IntArray = np.where(quote_sign != 0, quote_sign, ticks)
        return out


def buy_fraction(price_changes: Any, sigma: Any) -> FloatArray:
    """Phi(dP / sigma) element-wise, with the sigma == 0 limit of the module docstring."""
    dp = as_float_array("price_changes", price_changes, allow_empty=True)
    sd = np.broadcast_to(as_float_array("sigma", sigma, allow_empty=True, ndim=np.ndim(sigma)), dp.shape)
    if np.any(sd < 0):
        raise AnalyticsInputError("sigma: must be >= 0")
    safe = np.where(sd > 0, sd, 1.0)
    return np.where(sd > 0, ndtr(dp / safe), 0.5 * (1.0 + np.sign(dp)))


def bulk_volume_classification(price_changes: Any, volumes: Any, sigma: Any) -> FloatArray:
    """Buy volume of each bar, V * Phi(dP / sigma); sigma a scalar or one per bar (>= 0)."""
    v = as_float_array("volumes", volumes, allow_empty=True)
    dp = as_float_array("price_changes", price_changes, allow_empty=True)
    check_same_length(price_changes=dp, volumes=v)
    if np.any(v < 0):
        raise AnalyticsInputError(f"volumes: negative at index {int(np.flatnonzero(v < 0)[0])}")
    return v * buy_fraction(dp, sigma)
