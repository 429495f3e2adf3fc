"""Hedging inventory beyond a threshold, in the same instrument or a correlated one.

When |inventory| exceeds ``threshold`` shares, the hedger sends one aggressive (IOC) order that
brings the exposure back to ``target`` (0 by default): in the same instrument, -(inventory -
target) shares; in a correlated instrument, -beta * (inventory - target) shares of it less the
hedge position already held, rounded to its lot, beta being the hedge ratio (shares of hedge per
share held) given, or estimated by ordinary least squares of the instrument's mid returns on the
hedge's (beta = cov / var over an exponentially weighted window; the minimum-variance hedge ratio,
Ederington 1979, "The hedging performance of the new futures markets", J. Finance 34(1)). With a
hedge position H in the other instrument the exposure, in shares of the instrument, is
inventory + H / beta: that is what the threshold is compared with, so a hedge is also taken off
(bought back) once the inventory it covered has been traded away.

The cost of a hedge is booked to the strategy: the half spread crossed plus the taker fee, per
share, times the hedge size (``HedgeOrder.expected_cost``); a caller books the actual cost from the
fill, which this module also computes (``realised_cost``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from trading.marketmaking.errors import ParameterError


class HedgeRatioEstimator:
    """beta = Cov(dx, dy) / Var(dy), dx the instrument's and dy the hedge's mid changes, EWMA."""

    def __init__(self, half_life_obs: float = 500.0) -> None:
        if not (math.isfinite(half_life_obs) and half_life_obs > 0):
            raise ParameterError("half_life_obs", half_life_obs, "must be > 0")
        self._decay = 0.5 ** (1.0 / half_life_obs)
        self._sxy = 0.0
        self._syy = 0.0
        self._sxx = 0.0
        self._n = 0
        self._last: tuple[float, float] | None = None

    def update(self, x_mid: float, y_mid: float) -> None:
        """Both mids sampled at the same time."""
        if self._last is not None:
            dx, dy = x_mid - self._last[0], y_mid - self._last[1]
            d = self._decay
            self._sxy = self._sxy * d + dx * dy
            self._syy = self._syy * d + dy * dy
            self._sxx = self._sxx * d + dx * dx
            self._n += 1
        self._last = (x_mid, y_mid)

    def beta(self) -> float | None:
        return self._sxy / self._syy if self._n >= 10 and self._syy > 0 else None

    def correlation(self) -> float | None:
        den = math.sqrt(self._sxx * self._syy)
        return self._sxy / den if self._n >= 10 and den > 0 else None


@dataclass(frozen=True)
class HedgeOrder:
    instrument: int
    side: int          # +1 buy, -1 sell
    qty: int
    limit_ticks: int   # the price that crosses the spread (IOC)
    expected_cost: float   # currency: half spread crossed + taker fee, times qty


@dataclass(frozen=True)
class HedgeConfig:
    threshold: int                 # shares of |inventory| that trigger a hedge
    target: int = 0
    hedge_instrument: int = 0      # 0: the same instrument
    beta: float | None = 1.0       # None: estimated
    hedge_lot: int = 1
    taker_fee: float = 0.0         # currency per share
    tick: float = 1.0              # the hedge instrument's tick, price units per tick

    def validate(self) -> None:
        if self.threshold < 1:
            raise ParameterError("threshold", self.threshold, "must be >= 1 share")
        if abs(self.target) >= self.threshold:
            raise ParameterError("target", self.target, f"must be inside the threshold ({self.threshold})")
        if self.beta is not None and not (math.isfinite(self.beta) and self.beta != 0):
            raise ParameterError("beta", self.beta, "must be a finite non-zero hedge ratio")
        if self.hedge_lot < 1:
            raise ParameterError("hedge_lot", self.hedge_lot, "must be >= 1")
        if not (math.isfinite(self.taker_fee) and self.taker_fee >= 0):
            raise ParameterError("taker_fee", self.taker_fee, "must be >= 0")
        if not (math.isfinite(self.tick) and self.tick > 0):
            raise ParameterError("tick", self.tick, "must be > 0")


class Hedger:
    def __init__(self, config: HedgeConfig, own_instrument: int) -> None:
        config.validate()
        self.config = config
        self.own_instrument = own_instrument
        self.estimator = HedgeRatioEstimator()
        self.booked_cost = 0.0
        self.hedged_shares = 0

    def ratio(self) -> float | None:
        c = self.config
        if c.hedge_instrument in (0, self.own_instrument):
            return 1.0
        return c.beta if c.beta is not None else self.estimator.beta()

    def check(self, inventory: int, hedge_bid_ticks: int | None,
              hedge_ask_ticks: int | None, hedge_position: int = 0) -> HedgeOrder | None:
        """The hedge to send now, or None (inside the threshold, no ratio yet, or no book).
        hedge_position: shares held in the other instrument (0 for a same-instrument hedge)."""
        c = self.config
        beta = self.ratio()
        cross = c.hedge_instrument not in (0, self.own_instrument)
        exposure = inventory + hedge_position / beta if cross and beta is not None else float(inventory)
        if abs(exposure) <= c.threshold:
            return None
        if beta is None or hedge_bid_ticks is None or hedge_ask_ticks is None:
            return None
        shares = -beta * (inventory - c.target) - (hedge_position if cross else 0)
        qty = int(abs(shares) // c.hedge_lot) * c.hedge_lot
        if qty == 0:
            return None
        side = 1 if shares > 0 else -1
        limit = hedge_ask_ticks if side > 0 else hedge_bid_ticks
        half_spread = 0.5 * (hedge_ask_ticks - hedge_bid_ticks) * c.tick
        instrument = c.hedge_instrument or self.own_instrument
        return HedgeOrder(instrument, side, qty, limit, (half_spread + c.taker_fee) * qty)

    def realised_cost(self, side: int, qty: int, fill_price: float, mid: float) -> float:
        """Book a hedge fill: the distance paid from the mid plus the taker fee, times qty."""
        cost = (side * (fill_price - mid) + self.config.taker_fee) * qty
        self.booked_cost += cost
        self.hedged_shares += qty
        return cost
