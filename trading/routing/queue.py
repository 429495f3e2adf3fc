"""How much of a passive child fills while it rests: a queue model.

Source: Cont, Stoikov and Talreja (2010), "A stochastic model for order book dynamics", Operations
Research 58(3), 549-563: the queue at the best quote is depleted by market orders that arrive as a
Poisson process. Here every marketable order against the child's side takes `trade_size` shares
from the touch, and cancellations ahead of the child are not credited (each one only moves the
child up, so the estimate is a lower bound; the multi-venue replay applies the same rule).

A child of q shares joins the back of the queue, A shares ahead of it at its price. Marketable
orders arrive at rate lam a second; by time T their number is N ~ Poisson(mu), mu = lam T, and the
volume through the queue is N m (m = trade_size). The child's fill is min(q, max(0, N m - A)):

    E[fill]   = sum_{n < K} P(N = n) min(q, max(0, n m - A)) + q P(N >= K),   K = ceil((A + q) / m)
    P(full)   = P(N >= K)

with the Poisson probabilities summed in log space (mu may be large). The rate at a venue is what
that venue trades at the touch: half its share of the day's traded volume (either side of the book
equally likely) in orders of the day's mean marketable order size (the impact model's fit: V_day
over the marketable orders it counted); for a post alone at the best price, the whole market's
(share 1: trading/routing/passive.py says why).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

SESSION_S = 23_400.0     # 6.5 h regular session


@dataclass(frozen=True)
class QueueModel:
    rate_per_s: float    # marketable orders a second against the child's side at its venue
    trade_size: float    # shares each takes from the touch

    def __post_init__(self) -> None:
        if not (self.rate_per_s >= 0 and math.isfinite(self.rate_per_s)):
            raise ValueError(f"queue model: rate {self.rate_per_s} must be a finite number >= 0")
        if not (self.trade_size > 0 and math.isfinite(self.trade_size)):
            raise ValueError(f"queue model: trade size {self.trade_size} must be a finite number > 0")

    def _pmf(self, horizon_s: float, terms: int) -> list[float]:
        """P(N = n) for n < terms (fewer once the tail past the mode is below 1e-16)."""
        mu = self.rate_per_s * max(horizon_s, 0.0)
        if mu <= 0:
            return [1.0] + [0.0] * (terms - 1) if terms > 0 else []
        out: list[float] = []
        log_mu = math.log(mu)
        for n in range(terms):
            p = math.exp(n * log_mu - mu - math.lgamma(n + 1))
            if n > mu + 1 and p < 1e-16:
                break    # past the mode the terms fall geometrically: what is left is below 1e-15
            out.append(p)
        return out

    def expected_fills(self, queue_ahead: float, sizes: list[int] | list[float], horizon_s: float) -> list[float]:
        """E[fill] for each size (module docstring), the Poisson terms computed once for all; terms
        with n m <= A (the queue ahead not yet gone) add nothing and are skipped."""
        ahead, m = max(queue_ahead, 0.0), self.trade_size
        pmf = self._pmf(horizon_s, math.ceil((ahead + max(sizes, default=0)) / m))
        cdf = list(itertools.accumulate(pmf))
        first = int(ahead // m) + 1          # the first n whose volume reaches past the queue ahead
        out = []
        for qty in sizes:
            if qty <= 0:
                out.append(0.0)
                continue
            k = min(math.ceil((ahead + qty) / m), len(pmf))
            expected = sum(pmf[n] * (n * m - ahead) for n in range(first, k))   # n m - A < q below k
            out.append(expected + qty * max(0.0, 1.0 - (cdf[k - 1] if k else 0.0)))
        return out

    def expected_fill(self, queue_ahead: float, qty: float, horizon_s: float) -> float:
        return self.expected_fills(queue_ahead, [qty], horizon_s)[0]

    def full_fill_probability(self, queue_ahead: float, qty: float, horizon_s: float) -> float:
        """P(N m >= A + q) = P(N >= K)."""
        if qty <= 0:
            return 1.0
        k = math.ceil((max(queue_ahead, 0.0) + qty) / self.trade_size)
        return max(0.0, 1.0 - sum(self._pmf(horizon_s, k)))


def touch_model(volume_day: float, market_share: float, trade_size: float) -> QueueModel:
    """The queue model of one venue's touch (module docstring: the rate)."""
    rate = 0.5 * max(volume_day, 0.0) * max(market_share, 0.0) / trade_size / SESSION_S
    return QueueModel(rate_per_s=rate, trade_size=trade_size)
