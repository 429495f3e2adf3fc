"""ETF fair value from its components, the premium or discount, and a statistical-arbitrage signal.

The fair value (indicative NAV per share) of an ETF whose creation basket holds n_i shares of
component i and cash C per D ETF shares is

    FV_t = (sum_i n_i P_i,t + C) / D

with P_i,t each component's latest price (mid) at t. The premium is pi_t = (P_ETF,t - FV_t) / FV_t.
Arbitrage (the creation/redemption argument, e.g. A. Madhavan, "Exchange-Traded Funds and the New
Dynamics of Investing", 2016, ch. 3; D. Petajisto, "Inefficiencies in the Pricing of Exchange-Traded
Funds", Financial Analysts Journal 73(1), 2017): when |pi_t| exceeds the round-trip cost c (fees,
both sides' half spreads, as a fraction) the signal is -1 (ETF rich: sell the ETF, buy the basket)
for pi_t > c, +1 (ETF cheap: buy the ETF, sell the basket) for pi_t < -c, else 0. The expected edge
is |pi_t| - c.

Until every component and the ETF have a price, FV (or the premium) is NaN and the signal 0
(documented, not an error). Prices must be finite and > 0, times non-decreasing. ``etf_fair_value``
is the batch form on a time-ordered stream of (time, instrument, price) updates, instrument 0 the ETF
and 1..n the components; EtfFairValueStream takes the same updates one at a time or in micro-batches
and gives the same values (the basket sum is recomputed from the latest prices at each update, so no
rounding drift accumulates; the matrix product may round the last bit differently for another batch
size, relative 1e-15).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from trading.analytics.errors import (AnalyticsInputError, FloatArray, IntArray, as_float_array,
                                      check_same_length, check_scalar, check_sorted)


@dataclass(frozen=True)
class EtfValues:
    fair_value: FloatArray
    premium: FloatArray
    signal: IntArray
    edge: FloatArray          # |premium| - cost where the signal is non-zero, else 0


def _basket(shares: Any, cash: float, divisor: float) -> tuple[FloatArray, float, float]:
    n = as_float_array("shares", shares)
    return n, check_scalar("cash", cash), check_scalar("divisor", divisor, positive=True)


def _updates(instrument: Any, price: Any, ncomp: int) -> tuple[IntArray, FloatArray]:
    ins = np.asarray(instrument, dtype=np.int64)
    p = as_float_array("price", price, allow_empty=True)
    check_same_length(instrument=ins, price=p)
    if len(ins) and (ins.min() < 0 or ins.max() > ncomp):
        raise AnalyticsInputError(f"instrument: must be 0 (the ETF) .. {ncomp}, got {int(ins.min())}..{int(ins.max())}")
    if np.any(p <= 0):
        raise AnalyticsInputError(f"price: must be > 0 (index {int(np.flatnonzero(p <= 0)[0])})")
    return ins, p


def _signal(etf: FloatArray, fv: FloatArray, cost: float) -> EtfValues:
    with np.errstate(invalid="ignore"):
        prem = (etf - fv) / fv
    sig = np.where(prem > cost, -1, np.where(prem < -cost, 1, 0)).astype(np.int64)
    edge = np.where(sig != 0, np.abs(prem) - cost, 0.0)
    return EtfValues(fv, prem, sig, edge)


def etf_fair_value(times: Any, instrument: Any, price: Any, shares: Any, cash: float = 0.0,
                   divisor: float = 1.0, cost: float = 0.0) -> EtfValues:
    """Batch: values after each update (see the module docstring)."""
    n, c, d = _basket(shares, cash, divisor)
    cost = check_scalar("cost", cost, nonnegative=True)
    t = as_float_array("times", times, allow_empty=True)
    ins, p = _updates(instrument, price, len(n))
    check_same_length(times=t, instrument=ins)
    check_sorted("times", t)
    # Latest price of every instrument after each update: forward fill per column.
    rows = np.arange(len(ins))
    last = np.full((len(ins), len(n) + 1), -1, dtype=np.int64)
    last[rows, ins] = rows
    np.maximum.accumulate(last, axis=0, out=last)
    latest = np.where(last >= 0, p[np.maximum(last, 0)], np.nan)
    fv = (latest[:, 1:] @ n + c) / d
    return _signal(latest[:, 0], fv, cost)


class EtfFairValueStream:
    def __init__(self, shares: Any, cash: float = 0.0, divisor: float = 1.0, cost: float = 0.0) -> None:
        self.n, self.c, self.d = _basket(shares, cash, divisor)
        self.cost = check_scalar("cost", cost, nonnegative=True)
        self.latest = np.full(len(self.n) + 1, np.nan)
        self.t = -math.inf

    def update(self, time: float, instrument: int, price: float) -> tuple[float, float, int]:
        """One price update; returns (fair value, premium, signal)."""
        v = self.update_many([time], [instrument], [price])
        return float(v.fair_value[0]), float(v.premium[0]), int(v.signal[0])

    def update_many(self, times: Any, instrument: Any, price: Any) -> EtfValues:
        t = as_float_array("times", times, allow_empty=True)
        ins, p = _updates(instrument, price, len(self.n))
        check_same_length(times=t, instrument=ins)
        check_sorted("times", t)
        if len(t) and t[0] < self.t:
            raise AnalyticsInputError(f"times: {t[0]!r} before the previous update's {self.t!r}")
        rows = np.arange(len(ins))
        last = np.full((len(ins), len(self.n) + 1), -1, dtype=np.int64)
        last[rows, ins] = rows
        np.maximum.accumulate(last, axis=0, out=last)
        latest = np.where(last >= 0, p[np.maximum(last, 0)], self.latest[None, :])
        if len(t):
            self.latest = latest[-1].copy()
            self.t = float(t[-1])
        fv = (latest[:, 1:] @ self.n + self.c) / self.d
        return _signal(latest[:, 0], fv, self.cost)
