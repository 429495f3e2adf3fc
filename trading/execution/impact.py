"""Market-impact model: the square-root law, estimated from a day of executions, and its
calibration into the Almgren-Chriss linear parameters used by the IS schedule.

Square-root law (Torre 1997; Almgren, Thum, Hauptmann and Li, "Direct estimation of equity market
impact", Risk 2005; Bouchaud, Bonart, Donier and Gould, "Trades, quotes and prices", 2018, ch. 12):
a metaorder of Q shares moves the price by

    I(Q) = Y sigma_d sqrt(Q / V_d)          (currency units per share)

where sigma_d is the daily volatility (currency units per share per day^1/2), V_d the daily volume
and Y a constant of order one. Estimation from a day of executions: the day is cut into buckets;
in each bucket the signed aggressor volume q_b (buyer-initiated minus seller-initiated) stands for
a metaorder and the mid's change over the bucket for its impact r_b. Y is the least-squares slope
through the origin of r_b on sigma_d sign(q_b) sqrt(|q_b| / V_d); Kyle's linear coefficient
(price change per share, the Almgren-Chriss permanent gamma) is the slope of r_b on q_b. Both are
reported with their standard errors and R^2. sigma_d is the standard deviation of the buckets' mid
changes scaled to the day (sqrt(buckets per day)).

Calibration for IS (``ac_parameters``): eps is half the mean quoted spread; gamma is Kyle's slope
(clipped at zero); eta makes the linear model's temporary cost of trading Q evenly over T seconds
(eta Q / T per share) equal the square-root law's cost for Q: eta = Y sigma_d sqrt(Q / V_d) T / Q.
sigma per sqrt(second) = sigma_d / sqrt(day length in seconds).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ImpactModel:
    Y: float                    # square-root law coefficient (dimensionless)
    Y_stderr: float
    Y_r2: float
    kyle: float                 # price change per share of net aggressor volume (currency units)
    kyle_stderr: float
    sigma_day: float            # currency units per share per day^1/2
    daily_volume: float         # shares
    half_spread: float          # currency units
    day_s: float                # seconds in the trading day the estimate covers
    buckets: int

    def impact(self, qty: float) -> float:
        """Expected price move of a metaorder of qty shares, currency units per share."""
        return self.Y * self.sigma_day * math.sqrt(max(qty, 0.0) / self.daily_volume)

    def expected_cost_bps(self, qty: float, price: float) -> float:
        """Expected cost of executing qty shares against the arrival mid: half spread plus the
        square-root impact, in basis points of price."""
        return (self.half_spread + self.impact(qty)) / price * 1e4

    def ac_parameters(self, qty: float, horizon_s: float) -> tuple[float, float, float, float]:
        """(sigma per sqrt(second), eta, gamma, eps) for an IS order of qty shares over horizon_s."""
        sigma_s = self.sigma_day / math.sqrt(self.day_s)
        eta = max(self.impact(qty) * horizon_s / max(qty, 1.0), 1e-12)
        return sigma_s, eta, max(self.kyle, 0.0), self.half_spread

    def describe(self) -> dict[str, float]:
        return {"Y": self.Y, "Y_stderr": self.Y_stderr, "Y_r2": self.Y_r2, "kyle_per_share": self.kyle,
                "kyle_stderr": self.kyle_stderr, "sigma_day": self.sigma_day, "daily_volume": self.daily_volume,
                "half_spread": self.half_spread, "buckets": float(self.buckets)}


def _slope_through_origin(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """OLS slope of y on x without intercept, its standard error and the (uncentred) R^2."""
    sxx = float(x @ x)
    if sxx <= 0 or len(x) < 3:
        raise ValueError("impact estimate: too few buckets with trading to fit")
    b = float(x @ y) / sxx
    resid = y - b * x
    s2 = float(resid @ resid) / (len(x) - 1)
    syy = float(y @ y)
    return b, math.sqrt(s2 / sxx), 1.0 - float(resid @ resid) / syy if syy > 0 else 0.0


def estimate(bucket_signed_volume: np.ndarray, bucket_mid_change: np.ndarray, daily_volume: float,
             day_s: float, bucket_s: float, half_spread: float, sigma_day: float | None = None) -> ImpactModel:
    """The model from per-bucket net aggressor volume and mid change (same length); sigma_day
    from the mid changes themselves unless given."""
    q = np.asarray(bucket_signed_volume, dtype=float)
    r = np.asarray(bucket_mid_change, dtype=float)
    if q.shape != r.shape:
        raise ValueError("impact estimate: volumes and mid changes must be of equal length")
    if len(q) < 3:          # before sigma's std, which divides by len - 1
        raise ValueError("impact estimate: too few buckets with trading to fit")
    if not daily_volume > 0:
        raise ValueError("impact estimate: the daily volume must be positive")
    if sigma_day is None:
        sigma_day = float(np.std(r, ddof=1)) * math.sqrt(day_s / bucket_s)
    x = sigma_day * np.sign(q) * np.sqrt(np.abs(q) / daily_volume)
    Y, Y_se, r2 = _slope_through_origin(x, r)
    kyle, kyle_se, _ = _slope_through_origin(q, r)
    return ImpactModel(Y, Y_se, r2, kyle, kyle_se, sigma_day, float(daily_volume), float(half_spread), float(day_s),
                       len(q))


def estimate_from_day(day: object, bucket_s: float = 60.0) -> ImpactModel:
    """The model from a LOBSTER MarketDay (trading/replay/data.py) with its order-book file: the
    mid after every message, executions signed by aggressor (the executed order's opposite side)."""
    from trading.replay.data import BUY, Kind, MarketDay
    if not isinstance(day, MarketDay) or day.visible_book is None:
        raise ValueError("impact estimate needs a LOBSTER day with its order-book file (the mid after each message)")
    ts = day.ts_ns.astype(np.float64) / 1e9
    ask = day.visible_book[:, 0].astype(float)      # LOBSTER row: ask price, ask size, bid price, bid size, ...
    bid = day.visible_book[:, 2].astype(float)
    ok = (bid > 0) & (ask > 0) & (ask > bid)
    mid = np.where(ok, (bid + ask) / 2, np.nan) / day.price_scale
    t0, t1 = float(ts[0]), float(ts[-1])
    n = max(3, int((t1 - t0) // bucket_s))
    edges = t0 + bucket_s * np.arange(n + 1)
    idx = np.clip(np.searchsorted(edges, ts, side="right") - 1, 0, n - 1)
    execs = (day.kind == Kind.EXECUTE) | (day.kind == Kind.HIDDEN)
    sign = np.where(day.side == BUY, -1.0, 1.0)          # the resting order's side: the aggressor is opposite
    q = np.bincount(idx[execs], weights=(sign * day.qty)[execs], minlength=n)
    valid = np.flatnonzero(~np.isnan(mid))
    first = np.searchsorted(idx[valid], np.arange(n), side="left")
    last = np.searchsorted(idx[valid], np.arange(n), side="right") - 1
    has = (first <= last) & (last < len(valid))
    r = np.zeros(n)
    r[has] = mid[valid[last[has]]] - mid[valid[first[has]]]
    spread = (ask - bid)[ok] / day.price_scale
    return estimate(q[has], r[has], float(day.qty[execs].sum()) * (23_400 / max(t1 - t0, 1.0)), 23_400.0,
                    bucket_s, float(np.mean(spread)) / 2)
