"""Information shares and component shares: a simulated VECM with known shares (uncorrelated and
correlated innovations, with the closed-form bounds), a leader-follower two-venue market, batch ==
streaming, bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest

from trading.analytics.discovery import InformationShareStream, gg_two_venues, information_shares
from trading.analytics.errors import AnalyticsInputError


def simulate_vecm(a1: float, a2: float, omega: np.ndarray, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    e = rng.multivariate_normal([0, 0], omega, n)
    p = np.zeros((n, 2))
    p[0] = [100.0, 100.0]
    for t in range(1, n):
        z = p[t - 1, 0] - p[t - 1, 1]
        p[t] = p[t - 1] + np.array([a1 * z, a2 * z]) + e[t]
    return p


def test_known_shares_uncorrelated() -> None:
    a1, a2 = -0.2, 0.3
    omega = np.diag([1.0, 2.0]) * 1e-4
    res = information_shares(simulate_vecm(a1, a2, omega, 40000, 1), lags=1)
    np.testing.assert_allclose(res.alpha[:, 0], [a1, a2], atol=0.02)
    gg = gg_two_venues(a1, a2)                                     # (0.6, 0.4)
    np.testing.assert_allclose(res.component_share, gg, atol=0.02)
    psi = np.array(gg)                                             # Gamma(1) = I, alpha_perp' iota = 1
    is_true = psi ** 2 * np.diag(omega) / (psi ** 2 @ np.diag(omega))   # (0.529, 0.471)
    np.testing.assert_allclose(res.is_mid, is_true, atol=0.02)
    assert np.all(res.is_upper - res.is_lower < 0.02)                # no correlation: bounds meet


def test_known_bounds_correlated() -> None:
    a1, a2, rho = -0.1, 0.4, 0.6
    omega = np.array([[1.0, rho], [rho, 1.0]]) * 1e-4
    res = information_shares(simulate_vecm(a1, a2, omega, 40000, 2), lags=1)
    psi = np.array(gg_two_venues(a1, a2))                          # (0.8, 0.2)
    total = psi @ (omega / 1e-4) @ psi
    upper1 = (psi[0] + rho * psi[1]) ** 2 / total                 # venue 1 first in the Cholesky order
    lower1 = psi[0] ** 2 * (1 - rho ** 2) / total                 # venue 1 second
    assert abs(res.is_upper[0] - upper1) < 0.03 and abs(res.is_lower[0] - lower1) < 0.03
    np.testing.assert_allclose(res.is_lower + res.is_upper[::-1], [1.0, 1.0], atol=1e-9)


def test_leader_follower_market() -> None:
    """Venue 1 quotes the efficient price; venue 2 copies venue 1's previous quote with a little
    noise: all price discovery happens on venue 1."""
    rng = np.random.default_rng(3)
    n = 20000
    m = 100 + np.cumsum(rng.normal(0, 0.01, n))
    p2 = np.concatenate([[100.0], m[:-1]]) + rng.normal(0, 0.001, n)
    res = information_shares(np.column_stack([m, p2]), lags=2)
    assert res.is_lower[0] > 0.95 and res.component_share[0] > 0.9


def test_batch_equals_streaming() -> None:
    p = simulate_vecm(-0.2, 0.3, np.diag([1.0, 2.0]) * 1e-4, 5000, 4)
    p3 = np.column_stack([p, p[:, 1] + np.random.default_rng(5).normal(0, 0.01, len(p))])
    batch = information_shares(p3, lags=2)
    for chunk in (1, 333):
        st = InformationShareStream(3, lags=2)
        for i in range(0, len(p3), chunk):
            st.update_many(p3[i:i + chunk])
        got = st.estimate()
        assert got.rows == batch.rows
        np.testing.assert_allclose(got.is_mid, batch.is_mid, rtol=1e-8)
        np.testing.assert_allclose(got.component_share, batch.component_share, rtol=1e-8)
        np.testing.assert_allclose(got.omega, batch.omega, rtol=1e-8)
    # OLS against numpy's least squares on the same design.
    dp = np.diff(p3, axis=0)
    z = p3[:-1, :1] - p3[:-1, 1:]
    x = np.hstack([z[2:], dp[1:-1], dp[:-2]])
    coef, *_ = np.linalg.lstsq(x, dp[2:], rcond=None)
    np.testing.assert_allclose(batch.alpha, coef[:2].T, rtol=1e-7, atol=1e-10)


def test_bad_input() -> None:
    with pytest.raises(AnalyticsInputError, match="two venues"):
        information_shares(np.ones((100, 1)))
    with pytest.raises(AnalyticsInputError, match="NaN"):
        information_shares([[1.0, 1.0], [float("nan"), 1.0]])
    with pytest.raises(AnalyticsInputError, match="rows"):
        information_shares(np.random.default_rng(0).normal(size=(20, 2)).cumsum(axis=0))
    flat = np.column_stack([np.linspace(1, 2, 500), np.linspace(1, 2, 500)])
    with pytest.raises(AnalyticsInputError, match="singular"):
        information_shares(flat)
    st = InformationShareStream(2)
    with pytest.raises(AnalyticsInputError, match="columns"):
        st.update([1.0, 2.0, 3.0])
    assert math.isclose(sum(gg_two_venues(-0.5, 0.5)), 1.0)
