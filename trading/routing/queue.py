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

with the Poisson probabilities summed in log space (mu may be large). A post is also cancelled as
soon as a better price steps in front of it (trading/routing/execution.py); with that happening at
rate nu (an exponential time S, independent of the orders), the post rests min(T, S) and

    P(N = n) = e^(-nu T) P(Poisson(lam T) = n) + nu/(lam+nu) (lam/(lam+nu))^n P(Poisson((lam+nu) T) > n)

(the second term integrates the Poisson(lam s) law against nu e^(-nu s) over s < T). nu is measured
from the day: the best bid's rises and best ask's falls per side and second (``touch_move_rate``). The rate at a venue is what
that venue trades at the touch: half its share of the day's traded volume (either side of the book
equally likely) in orders of the day's mean marketable order size (the impact model's fit: V_day
over the marketable orders it counted); for a post alone at the best price, the whole market's
(share 1: trading/routing/passive.py says why).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from trading.replay.data import MarketDay

SESSION_S = 23_400.0     # 6.5 h regular session


@dataclass(frozen=True)
class QueueModel:
    rate_per_s: float    # marketable orders a second against the child's side at its venue
    trade_size: float    # shares each takes from the touch
    move_rate_per_s: float = 0.0   # how often a better price steps in front of the post (it is then cancelled)

    def __post_init__(self) -> None:
        for name, rate in (("rate", self.rate_per_s), ("touch-move rate", self.move_rate_per_s)):
            if not (rate >= 0 and math.isfinite(rate)):
                raise ValueError(f"queue model: {name} {rate} must be a finite number >= 0")
        if not (self.trade_size > 0 and math.isfinite(self.trade_size)):
            raise ValueError(f"queue model: trade size {self.trade_size} must be a finite number > 0")

    def _pmf(self, horizon_s: float, terms: int) -> list[float]:
        """P(N = n) for n < terms (fewer once the tail past the mode is below 1e-16): Poisson(lam T),
        or with a touch-move rate nu > 0 the mixture of the module docstring."""
        horizon = max(horizon_s, 0.0)
        lam, nu = self.rate_per_s, self.move_rate_per_s
        if lam * horizon <= 0:
            return [1.0] + [0.0] * (terms - 1) if terms > 0 else []
        stay = _poisson(lam * horizon, terms)
        if nu <= 0:
            return stay
        # cancelled at S ~ Exp(nu) before T: (nu / (lam + nu)) (lam / (lam + nu))^n P(Poisson((lam + nu) T) > n)
        both = _poisson((lam + nu) * horizon, terms + 1)
        keep, ratio, first = math.exp(-nu * horizon), lam / (lam + nu), nu / (lam + nu)
        out, below = [], 0.0
        for n in range(min(terms, len(stay))):
            below += both[n] if n < len(both) else 0.0
            out.append(first * ratio ** n * max(0.0, 1.0 - below) + keep * stay[n])
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


def _poisson(mu: float, terms: int) -> list[float]:
    """P(Poisson(mu) = n) for n < terms, in log space; stops once past the mode the terms fall
    below 1e-16 (what is left is then below 1e-15)."""
    out: list[float] = []
    log_mu = math.log(mu)
    for n in range(terms):
        p = math.exp(n * log_mu - mu - math.lgamma(n + 1))
        if n > mu + 1 and p < 1e-16:
            break
        out.append(p)
    return out


def touch_model(volume_day: float, market_share: float, trade_size: float, move_rate_per_s: float = 0.0) -> QueueModel:
    """The queue model of one venue's touch (module docstring: the rate)."""
    rate = 0.5 * max(volume_day, 0.0) * max(market_share, 0.0) / trade_size / SESSION_S
    return QueueModel(rate_per_s=rate, trade_size=trade_size, move_rate_per_s=move_rate_per_s)


def touch_move_rate(day: MarketDay) -> float:
    """How often a better price steps in front of a resting quote, a second, from a LOBSTER day: the
    best bid's rises and the best ask's falls in the order-book file (one-sided instants left out),
    per side, over the day's span."""
    book = day.visible_book
    if book is None or len(day) < 2:
        raise ValueError(f"{day.path}: the touch-move rate needs the LOBSTER order-book file beside the messages")
    ask, bid = book[:, 0].astype(np.int64), book[:, 2].astype(np.int64)
    ok = (ask > 0) & (bid > 0) & (ask < 9_000_000_000) & (bid > -9_000_000_000)
    ask, bid = ask[ok], bid[ok]
    moves = int(np.count_nonzero(np.diff(bid) > 0)) + int(np.count_nonzero(np.diff(ask) < 0))
    span_s = (int(day.ts_ns[-1]) - int(day.ts_ns[0])) / 1e9
    return moves / 2.0 / span_s if span_s > 0 else 0.0
