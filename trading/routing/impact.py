"""Expected market impact: the square-root law, with its parameters estimated from the data.

Model (Torre 1997 / BARRA; Almgren, Thum, Hauptmann and Li, "Direct estimation of equity market
impact", Risk 2005; Toth et al., "Anomalous price impact and the critical nature of liquidity in
financial markets", Phys. Rev. X 1, 021006 (2011)): the relative price move caused by trading Q
shares is

    I(Q) = Y * sigma_day * sqrt(Q / V_day)

with sigma_day the daily volatility of log mid prices, V_day the day's traded volume and Y a
dimensionless constant of order one.

Estimation from a LOBSTER day (``estimate_from_day``): sigma_day from one-minute mid log returns
(sqrt of the sum of their squares over the day, i.e. the realised volatility), V_day the executed
volume (visible plus hidden), and Y by least squares through the origin of the signed relative mid
move r_i on x_i = sigma_day * sqrt(q_i / V_day) over the day's marketable orders (executions at one
timestamp against one side are one aggressive order of size q_i; r_i is the log mid change from
just before its first execution to `horizon_ns` after its last, signed by the aggressor):
Y = sum(x_i r_i) / sum(x_i^2).
"""
from __future__ import annotations

import math

import msgspec
import numpy as np

from trading.replay.data import BUY, Kind, MarketDay
from trading.routing.errors import RoutingError

MINUTE_NS = 60_000_000_000


class SquareRootImpact(msgspec.Struct, frozen=True, kw_only=True):
    y: float
    sigma_day: float
    volume_day: float
    samples: int = 0
    source: str = ""

    def fraction(self, qty: float) -> float:
        """I(qty) as a fraction of the price (0.001 = 10 bps)."""
        if qty <= 0:
            return 0.0
        return self.y * self.sigma_day * math.sqrt(qty / self.volume_day)

    def bps(self, qty: float) -> float:
        return 1e4 * self.fraction(qty)

    def sigma_over(self, ns: int, day_ns: int = 23_400_000_000_000) -> float:
        """Volatility over `ns` of the trading day, diffusive scaling (6.5 h session)."""
        return self.sigma_day * math.sqrt(max(ns, 0) / day_ns)


DEFAULT_IMPACT = SquareRootImpact(y=0.7, sigma_day=0.02, volume_day=1e6, source="prior (no data)")


def fit_y(sizes: np.ndarray, moves: np.ndarray, sigma_day: float, volume_day: float) -> float:
    """Least squares through the origin of moves (signed relative) on sigma * sqrt(size / V)."""
    x = sigma_day * np.sqrt(np.asarray(sizes, dtype=np.float64) / volume_day)
    denom = float(np.dot(x, x))
    if denom <= 0:
        raise RoutingError("no marketable orders to fit the impact constant on")
    return float(np.dot(x, np.asarray(moves, dtype=np.float64)) / denom)


def _mids(day: MarketDay) -> np.ndarray:
    """The visible mid after every message (NaN where a side is empty)."""
    book = day.visible_book
    if book is None:
        raise RoutingError(f"{day.path}: the impact fit needs the LOBSTER order-book file beside the messages")
    ask, bid = book[:, 0].astype(np.float64), book[:, 2].astype(np.float64)
    ok = (ask > 0) & (bid > 0) & (ask < 9e9) & (bid > -9e9)
    return np.where(ok, (ask + bid) / 2.0, np.nan)


def realised_sigma_day(day: MarketDay) -> float:
    mids = _mids(day)
    ts = day.ts_ns
    grid = np.arange(ts[0], ts[-1], MINUTE_NS)
    idx = np.searchsorted(ts, grid, side="right") - 1
    sampled = mids[np.clip(idx, 0, len(mids) - 1)]
    sampled = sampled[np.isfinite(sampled)]
    if len(sampled) < 3:
        raise RoutingError(f"{day.path}: less than three minutes of two-sided quotes, no volatility estimate")
    r = np.diff(np.log(sampled))
    covered = (len(sampled) - 1) * MINUTE_NS
    # realised variance over the covered time, scaled to a 6.5 h day
    return float(math.sqrt(float(np.sum(r * r)) * 23_400_000_000_000 / covered))


def marketable_orders(day: MarketDay, horizon_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """(size, signed relative mid move) of each aggressive order: a run of visible executions with one
    timestamp against one side."""
    mids = _mids(day)
    execs = np.flatnonzero(day.kind == Kind.EXECUTE)
    sizes: list[int] = []
    moves: list[float] = []
    k = 0
    while k < len(execs):
        i = j = int(execs[k])
        q = int(day.qty[i])
        while k + 1 < len(execs) and day.ts_ns[execs[k + 1]] == day.ts_ns[i] and day.side[execs[k + 1]] == day.side[i]:
            k += 1
            j = int(execs[k])
            q += int(day.qty[j])
        k += 1
        after = int(np.searchsorted(day.ts_ns, day.ts_ns[j] + horizon_ns, side="right")) - 1 if horizon_ns else j
        before_mid, after_mid = mids[i - 1] if i else np.nan, mids[max(after, j)]
        if not (np.isfinite(before_mid) and np.isfinite(after_mid)):
            continue
        # a resting buy executed means the aggressor sold
        sign = -1.0 if day.side[i] == BUY else 1.0
        sizes.append(q)
        moves.append(sign * math.log(after_mid / before_mid))
    return np.asarray(sizes, dtype=np.float64), np.asarray(moves, dtype=np.float64)


def estimate_from_day(day: MarketDay, horizon_ns: int = 0) -> SquareRootImpact:
    sigma = realised_sigma_day(day)
    volume = float(day.qty[np.isin(day.kind, [Kind.EXECUTE, Kind.HIDDEN])].sum())
    if volume <= 0:
        raise RoutingError(f"{day.path}: no executions, no volume for the impact model")
    sizes, moves = marketable_orders(day, horizon_ns)
    y = fit_y(sizes, moves, sigma, volume)
    return SquareRootImpact(y=y, sigma_day=sigma, volume_day=volume, samples=len(sizes),
                            source=f"fitted on {day.path.name}: {len(sizes)} marketable orders, horizon {horizon_ns} ns")
