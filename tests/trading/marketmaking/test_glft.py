"""GLFT: the closed forms against a direct numerical solution of the HJB on an inventory grid, and
inventory within its bounds in simulation."""
from __future__ import annotations

import math

import numpy as np
import pytest

from trading.marketmaking.glft import glft_closed_form, glft_exact, glft_quote, glft_stationary
from trading.marketmaking.glft_grid import solve_hjb

# the paper's example market (section 6): sigma 0.3 tick/sqrt(s), A 0.9 /s, k 0.3 /tick
SIGMA, A, K = 0.3, 0.9, 0.3


def test_exact_solution_matches_numerical_hjb() -> None:
    Q, gamma, T = 5, 0.1, 5.0
    _, num_bid, num_ask = solve_hjb(Q, gamma, SIGMA, A, K, T, steps=400)
    bid, ask = glft_exact(Q, gamma, SIGMA, A, K, T)
    assert np.isnan(bid[-1]) and np.isnan(num_bid[-1])      # no bid at q = +Q
    assert np.isnan(ask[0]) and np.isnan(num_ask[0])        # no ask at q = -Q
    np.testing.assert_allclose(bid[:-1], num_bid[:-1], atol=1e-4)
    np.testing.assert_allclose(ask[1:], num_ask[1:], atol=1e-4)


def test_stationary_is_the_long_horizon_limit() -> None:
    Q, gamma = 10, 0.05
    bid_inf, ask_inf = glft_stationary(Q, gamma, SIGMA, A, K)
    bid_T, ask_T = glft_exact(Q, gamma, SIGMA, A, K, tau=2000.0)
    np.testing.assert_allclose(bid_T[:-1], bid_inf[:-1], atol=1e-8)
    np.testing.assert_allclose(ask_T[1:], ask_inf[1:], atol=1e-8)


def test_closed_form_approximates_stationary_near_zero_inventory() -> None:
    # The approximation is the paper's continuous (large-Q, small gamma) limit: close for |q| small
    Q, gamma = 30, 0.01
    bid_inf, ask_inf = glft_stationary(Q, gamma, SIGMA, A, K)
    for q in (-2, -1, 0, 1, 2):
        db, da = glft_closed_form(q, gamma, SIGMA, A, K)
        assert db == pytest.approx(bid_inf[q + Q], rel=0.03)
        assert da == pytest.approx(ask_inf[q + Q], rel=0.03)


def test_inventory_stays_within_bounds_in_simulation() -> None:
    Q, gamma, dt, steps, paths = 4, 0.01, 0.1, 2000, 50
    rng = np.random.default_rng(7)
    q = np.zeros(paths, dtype=np.int64)
    reached = np.zeros(paths, dtype=bool)
    for _ in range(steps):
        u_b, u_a = rng.random(paths), rng.random(paths)
        for i in range(paths):
            quote = glft_quote(0.0, int(q[i]), Q, gamma, SIGMA, A, K)
            hit_b = quote.bid_ok and u_b[i] < A * math.exp(-K * max(quote.bid_distance, 0.0)) * dt
            hit_a = quote.ask_ok and u_a[i] < A * math.exp(-K * max(quote.ask_distance, 0.0)) * dt
            q[i] += int(hit_b) - int(hit_a)
        assert int(np.abs(q).max()) <= Q
        reached |= np.abs(q) == Q
    assert reached.mean() > 0.5    # the bound is really tested: most paths touch it
