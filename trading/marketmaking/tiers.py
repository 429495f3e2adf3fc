"""Multi-tier liquidity: how many shares to rest at each depth, by a mean-variance allocation.

Tier i rests x_i shares at distance delta_i from the mid (delta_1 < delta_2 < ...). Over a horizon
H a tier fills with probability p_i = 1 - exp(-A exp(-k delta_i) H) (the Avellaneda-Stoikov
intensity), and the tiers are nested: a market order that reaches tier j has gone through every
tier before it, so F_j = 1 implies F_i = 1 for i < j and E[F_i F_j] = p_max(i,j).

Per share, a fill at tier i earns the distance plus the maker rebate and loses the adverse move
that follows it (the markout at the horizon, as a positive cost ``adverse_i``):

    mu_i = p_i * (delta_i + rebate - adverse_i)

and the filled shares carry inventory risk until they are unwound, variance sigma^2 * hold per
share held, so the risk of an allocation is x' S x with S_ij = sigma^2 * hold * E[F_i F_j]. The
allocation maximises the mean-variance utility (Markowitz 1952, applied to liquidity provision)

    mu' x - (lambda / 2) x' S x,   0 <= x_i <= cap_i,   sum x_i <= total,

a small concave quadratic program, solved by projected gradient (the projection onto the capped
simplex is exact, by bisection). The report lists each tier's terms, so a user can read why a tier
got its size: edge, fill probability, adverse selection, marginal risk.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from trading.marketmaking.errors import ParameterError

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TierInputs:
    distances: tuple[float, ...]       # price units from the mid, increasing
    adverse: tuple[float, ...]         # expected adverse move after a fill there, price units
    A: float
    k: float
    sigma: float
    horizon_s: float
    hold_s: float
    rebate: float
    risk_aversion: float
    cap: float                         # shares per tier
    total: float                       # shares over all tiers on one side

    def validate(self) -> None:
        n = len(self.distances)
        if n == 0:
            raise ParameterError("distances", self.distances, "at least one tier")
        if len(self.adverse) != n:
            raise ParameterError("adverse", self.adverse, f"needs {n} values, one per tier")
        if any(b <= a for a, b in zip(self.distances, self.distances[1:])):
            raise ParameterError("distances", self.distances, "must increase")
        for name in ("A", "k", "horizon_s", "hold_s", "risk_aversion", "cap", "total"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ParameterError(name, v, "must be > 0")
        if not (math.isfinite(self.sigma) and self.sigma >= 0):
            raise ParameterError("sigma", self.sigma, "must be >= 0")


@dataclass(frozen=True)
class TierAllocation:
    sizes: FloatArray             # shares per tier (continuous optimum)
    fill_probability: FloatArray
    expected_edge: FloatArray     # mu_i per share
    covariance: FloatArray        # S
    utility: float


def tier_moments(inp: TierInputs) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(p, mu, S) of the allocation problem."""
    d = np.asarray(inp.distances, dtype=np.float64)
    p = 1.0 - np.exp(-inp.A * np.exp(-inp.k * d) * inp.horizon_s)
    mu = p * (d + inp.rebate - np.asarray(inp.adverse, dtype=np.float64))
    idx = np.arange(d.size)
    deeper = np.maximum.outer(idx, idx)
    S = inp.sigma ** 2 * inp.hold_s * p[deeper]
    return p, mu, S


def project_capped(y: FloatArray, cap: float, total: float) -> FloatArray:
    """Euclidean projection onto {0 <= x <= cap, sum x <= total}."""
    x = np.clip(y, 0.0, cap)
    if x.sum() <= total:
        return x
    lo, hi = 0.0, float(np.max(y))
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if np.clip(y - mid, 0.0, cap).sum() > total:
            lo = mid
        else:
            hi = mid
    out: FloatArray = np.clip(y - hi, 0.0, cap)
    return out


def utility(x: FloatArray, mu: FloatArray, S: FloatArray, risk_aversion: float) -> float:
    return float(mu @ x - 0.5 * risk_aversion * x @ S @ x)


def allocate(inp: TierInputs, iterations: int = 5000) -> TierAllocation:
    """The mean-variance optimal sizes per tier (continuous; round to lots with ``to_lots``)."""
    inp.validate()
    p, mu, S = tier_moments(inp)
    H = inp.risk_aversion * S
    step = 1.0 / max(float(np.linalg.eigvalsh(H).max()), 1e-12)
    x = np.zeros(mu.size)
    for _ in range(iterations):
        nxt = project_capped(x + step * (mu - H @ x), inp.cap, inp.total)
        if float(np.max(np.abs(nxt - x))) < 1e-9 * max(inp.cap, 1.0):
            x = nxt
            break
        x = nxt
    return TierAllocation(sizes=x, fill_probability=p, expected_edge=mu, covariance=S,
                          utility=utility(x, mu, S, inp.risk_aversion))


def to_lots(sizes: FloatArray, lot: int) -> list[int]:
    """Round down to whole lots (never above the continuous optimum, so caps still hold)."""
    return [int(s // lot) * lot for s in sizes]
