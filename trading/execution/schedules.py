"""The four schedules: how much of the parent order should be done by now.

Each schedule answers ``target(now_ns, market_volume)``: the cumulative quantity it wants executed
by now, given the instrument's volume traded since the parent order started. The strategy
(strategy.py) turns the gap between target and what is done into child orders, within the
participation cap and the placement rule (placement.py).

- TWAP: the horizon cut into equal slices; each slice's quantity falls due at a random moment
  inside its slice (uniform, seeded), so the child orders do not land on a predictable clock.
- VWAP: follows the volume profile, re-planned at every decision from the volume actually
  traded: target = Q v / (v + V_rem(t)), where v is the volume traded since the start and V_rem(t)
  the volume the profile still expects before the end. When the market trades more (less) than
  forecast the schedule runs ahead (behind) of the static profile; at the end V_rem = 0 and the
  target is Q.
- POV: target = rate * v (the target participation of the volume traded so far).
- IS: the Almgren-Chriss trajectory (almgren_chriss.py) over N = horizon / slice intervals, with
  linear interpolation inside an interval; adaptive: at every interval boundary it re-solves from
  the quantity still to do, the time left and the volatility observed so far.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from trading.execution.almgren_chriss import ACModel, optimal_holdings
from trading.execution.profile import VolumeProfile


class Schedule:
    def target(self, now_ns: int, market_volume: int) -> float:
        raise NotImplementedError


@dataclass
class TwapSchedule(Schedule):
    qty: int
    start_ns: int
    end_ns: int
    slices: int
    seed: int = 0
    due_ns: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        width = (self.end_ns - self.start_ns) / self.slices
        # each slice falls due somewhere in the first 80 % of its slice, leaving time to work it
        self.due_ns = (self.start_ns + width * (np.arange(self.slices) + 0.8 * rng.random(self.slices))).astype(np.int64)

    def target(self, now_ns: int, market_volume: int) -> float:
        if now_ns >= self.end_ns:
            return float(self.qty)
        due = int(np.searchsorted(self.due_ns, now_ns, side="right"))
        return self.qty * due / self.slices


@dataclass
class VwapSchedule(Schedule):
    qty: int
    start_ns: int
    end_ns: int
    profile: VolumeProfile
    tod_offset_ns: int = 0      # runner clock + offset = ns after midnight (the profile's clock)

    def target(self, now_ns: int, market_volume: int) -> float:
        if now_ns >= self.end_ns:
            return float(self.qty)
        t = (now_ns + self.tod_offset_ns) / 1e9
        remaining = self.profile.volume_between(max(t, (self.start_ns + self.tod_offset_ns) / 1e9),
                                                (self.end_ns + self.tod_offset_ns) / 1e9)
        if market_volume + remaining <= 0:
            # a profile that expects nothing in the horizon: fall back to time
            return self.qty * (now_ns - self.start_ns) / (self.end_ns - self.start_ns)
        return self.qty * market_volume / (market_volume + remaining)


@dataclass
class PovSchedule(Schedule):
    qty: int
    rate: float

    def target(self, now_ns: int, market_volume: int) -> float:
        return min(float(self.qty), self.rate * market_volume)


@dataclass
class IsSchedule(Schedule):
    """Adaptive Almgren-Chriss. sigma: currency units per share per sqrt(second); eta: per share
    per (share/second); gamma: per share per share; lam: the risk aversion (per currency unit)."""
    qty: int
    start_ns: int
    end_ns: int
    intervals: int
    sigma: float
    eta: float
    gamma: float
    eps: float
    lam: float
    plan_start_ns: int = field(init=False)
    plan_qty: float = field(init=False)
    plan_done: float = field(init=False)
    holdings: np.ndarray = field(init=False)
    replans: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._plan(self.start_ns, float(self.qty), 0.0, self.intervals)

    def model(self, remaining: float, horizon_s: float, intervals: int) -> ACModel:
        # eta~ must stay positive at the interval length: cap gamma below 2 eta / tau
        tau = horizon_s / intervals
        gamma = min(self.gamma, 1.9 * self.eta / tau)
        return ACModel(X=remaining, T=horizon_s, N=intervals, sigma=self.sigma, eta=self.eta, gamma=gamma,
                       eps=self.eps, lam=self.lam)

    def _plan(self, t0: int, remaining: float, done: float, intervals: int) -> None:
        self.plan_start_ns, self.plan_qty, self.plan_done = t0, remaining, done
        horizon_s = (self.end_ns - t0) / 1e9
        self.holdings = optimal_holdings(self.model(remaining, horizon_s, intervals)) if remaining > 0 \
            else np.zeros(intervals + 1)

    def interval_ns(self) -> float:
        return (self.end_ns - self.start_ns) / self.intervals

    def replan(self, now_ns: int, filled: int, sigma: float | None) -> bool:
        """At an interval boundary: a new trajectory from what is left (adaptive IS). Returns
        whether it re-solved."""
        k = math.floor((now_ns - self.start_ns) / self.interval_ns() + 1e-9)
        left = self.intervals - k
        boundary = self.start_ns + k * self.interval_ns()
        if left < 1 or boundary <= self.plan_start_ns:
            return False
        if sigma is not None and sigma > 0:
            self.sigma = sigma
        self._plan(int(boundary), float(self.qty - filled), float(filled), left)
        self.replans += 1
        return True

    def target(self, now_ns: int, market_volume: int) -> float:
        if now_ns >= self.end_ns:
            return float(self.qty)
        n = len(self.holdings) - 1
        x = (now_ns - self.plan_start_ns) / (self.end_ns - self.plan_start_ns) * n
        k = min(int(x), n - 1)
        held = float(self.holdings[k] + (self.holdings[k + 1] - self.holdings[k]) * (x - k))
        return self.plan_done + (self.plan_qty - held)
