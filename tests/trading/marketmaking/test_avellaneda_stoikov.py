"""The AS formulas against independent computations: the reservation price as the indifference
price of the frozen-inventory problem (expected utility by quadrature, root by bisection) and the
spread's liquidity term as the numerical maximiser of the one-sided objective."""
from __future__ import annotations

import math

import numpy as np
import pytest

from trading.marketmaking.avellaneda_stoikov import as_quote, optimal_spread, reservation_price


_NODES = np.polynomial.hermite_e.hermegauss(60)


def _expected_utility(x: float, s: float, q: float, gamma: float, sigma: float, tau: float) -> float:
    """E[-exp(-gamma (x + q S_T))], S_T = s + sigma sqrt(tau) Z, by Gauss-Hermite quadrature."""
    z, w = _NODES
    vals = -np.exp(-gamma * (x + q * (s + sigma * math.sqrt(tau) * z)))
    return float(np.sum(w * vals) / math.sqrt(2 * math.pi))


def _indifference(s: float, q: float, gamma: float, sigma: float, tau: float, side: int) -> float:
    """The price p at which buying (side=+1) or selling (-1) one share leaves utility unchanged."""
    target = _expected_utility(0.0, s, q, gamma, sigma, tau)
    lo, hi = s - 50.0, s + 50.0
    for _ in range(64):
        p = 0.5 * (lo + hi)
        u = _expected_utility(-side * p, s, q + side, gamma, sigma, tau)
        # buying at a higher price lowers utility; selling at a higher price raises it
        if (u > target) == (side > 0):
            lo = p
        else:
            hi = p
    return 0.5 * (lo + hi)


@pytest.mark.parametrize("q", [-3, 0, 2, 5])
def test_reservation_price_is_the_indifference_midpoint(q: int) -> None:
    s, gamma, sigma, tau = 100.0, 0.1, 2.0, 0.6
    bid = _indifference(s, q, gamma, sigma, tau, +1)
    ask = _indifference(s, q, gamma, sigma, tau, -1)
    assert 0.5 * (bid + ask) == pytest.approx(reservation_price(s, q, gamma, sigma, tau), abs=1e-6)


def test_liquidity_term_maximises_one_side() -> None:
    gamma, k, A = 0.1, 1.5, 140.0
    d = np.linspace(0.0, 5.0, 500001)
    objective = A * np.exp(-k * d) * (1.0 - np.exp(-gamma * d))
    best = float(d[np.argmax(objective)])
    assert 2.0 * best == pytest.approx(optimal_spread(gamma, 2.0, k, 0.0), abs=1e-4)


def test_quotes_skew_against_inventory() -> None:
    flat = as_quote(100.0, 0, 0.1, 2.0, 1.5, 0.5)
    long = as_quote(100.0, 3, 0.1, 2.0, 1.5, 0.5)
    assert flat.bid_distance == pytest.approx(flat.ask_distance)
    assert long.bid_distance > flat.bid_distance and long.ask_distance < flat.ask_distance
    assert long.bid_distance + long.ask_distance == pytest.approx(flat.bid_distance + flat.ask_distance)
