"""Price discovery across venues: Hasbrouck information shares and Gonzalo-Granger component shares.

Sources: J. Hasbrouck, "One Security, Many Markets: Determining the Contributions to Price
Discovery", J. Finance 50(4), 1995; J. Gonzalo and C. W. J. Granger, "Estimation of Common Long-
Memory Components in Cointegrated Systems", J. Business & Economic Statistics 13(1), 1995; both
written in one VECM notation by R. T. Baillie, G. G. Booth, Y. Tse and T. Zabotina, "Price discovery
and common factor models", J. Financial Markets 5(3), 2002 (their eqs. 1-9 are followed here).

The N venues' mids p_t (one row per bar, the same security, log or level prices) are cointegrated
with the N - 1 vectors beta_j = e_1 - e_{j+1} (every venue's price minus the first's is stationary).
The VECM with k lags of price changes is fitted by OLS without a constant:

    dp_t = alpha beta' p_{t-1} + sum_{i=1..k} Gamma_i dp_{t-i} + e_t,   Omega = Cov(e_t)

(Omega with denominator T, the number of rows fitted). Then:

- Gonzalo-Granger component shares: alpha_perp (alpha_perp' alpha = 0) normalised to sum to one;
  for two venues gamma_1 = alpha_2 / (alpha_2 - alpha_1).
- Hasbrouck information shares: psi = alpha_perp' / (alpha_perp' Gamma(1) iota), Gamma(1) =
  I - sum Gamma_i, iota a vector of ones (psi is the common row of the long-run impact matrix
  beta_perp (alpha_perp' Gamma(1) beta_perp)^-1 alpha_perp'); with F the lower Cholesky factor of
  Omega, IS_j = ([psi F]_j)^2 / (psi Omega psi'). IS depends on the venues' order in the
  Cholesky factorisation when the innovations are correlated: every order is computed and
  ``is_lower``/``is_upper`` are the bounds, ``is_mid`` their midpoint (Baillie et al.).

InformationShareStream keeps the OLS cross-products X'X, X'Y, Y'Y as bars arrive (one update, or
update_many per micro-batch) and estimates on demand: the same values as the batch
``information_shares`` on the same bars up to rounding (relative 1e-9). Bad input: fewer than two
venues, NaN prices, fewer rows than 10 times the coefficients, or a singular design (a venue that
never moves) raise AnalyticsInputError.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from trading.analytics.errors import AnalyticsInputError, FloatArray, as_float_array

MAX_ORDERINGS_VENUES = 6    # all N! Cholesky orderings up to this many venues


@dataclass(frozen=True)
class PriceDiscovery:
    alpha: FloatArray          # N x (N-1) adjustment coefficients
    gamma: list[FloatArray]    # Gamma_1..Gamma_k, each N x N
    omega: FloatArray          # N x N innovation covariance
    component_share: FloatArray  # Gonzalo-Granger, sums to 1
    psi: FloatArray
    is_lower: FloatArray
    is_upper: FloatArray
    is_mid: FloatArray
    rows: int


def _design(prices: FloatArray, lags: int) -> tuple[FloatArray, FloatArray]:
    """Rows t = lags+1..T-1 of X = [beta' p_{t-1}, dp_{t-1}..dp_{t-k}] and Y = dp_t."""
    dp = np.diff(prices, axis=0)
    z = prices[:-1, :1] - prices[:-1, 1:]              # beta' p_{t-1}: p_1 - p_j, j = 2..N
    rows = len(dp) - lags
    blocks = [z[lags:lags + rows]] + [dp[lags - i:lags - i + rows] for i in range(1, lags + 1)]
    return np.hstack(blocks), dp[lags:lags + rows]


def _shares(xtx: FloatArray, xty: FloatArray, yty: FloatArray, rows: int, n: int, lags: int) -> PriceDiscovery:
    ncoef = (n - 1) + n * lags
    if rows < 10 * ncoef:
        raise AnalyticsInputError(f"price discovery: {rows} rows for {ncoef} coefficients per equation "
                                  f"(need at least {10 * ncoef})")
    if np.linalg.cond(xtx) > 1e12:
        raise AnalyticsInputError("price discovery: singular design (a venue's price never moves, or two "
                                  "venues are identical)")
    b = np.linalg.solve(xtx, xty)                      # ncoef x N
    omega = (yty - xty.T @ b) / rows
    omega = (omega + omega.T) / 2.0
    alpha: FloatArray = np.asarray(b[:n - 1].T, dtype=np.float64)   # N x (N-1)
    gamma: list[FloatArray] = [np.asarray(b[(n - 1) + n * i:(n - 1) + n * (i + 1)].T, dtype=np.float64)
                               for i in range(lags)]
    # alpha_perp: the null space of alpha' (the last right singular vector).
    _, _, vt = np.linalg.svd(alpha.T)
    a_perp = vt[-1]
    cs = a_perp / a_perp.sum()
    g1 = np.eye(n) - sum(gamma, np.zeros((n, n)))
    psi = a_perp / float(a_perp @ g1 @ np.ones(n))
    total = float(psi @ omega @ psi)
    if not total > 0:
        raise AnalyticsInputError("price discovery: innovation covariance is not positive definite")
    orders = (itertools.permutations(range(n)) if n <= MAX_ORDERINGS_VENUES
              else [tuple(range(n)), tuple(reversed(range(n)))])
    shares = []
    for order in orders:
        o = list(order)
        try:
            f = np.linalg.cholesky(omega[np.ix_(o, o)])
        except np.linalg.LinAlgError:
            raise AnalyticsInputError("price discovery: innovation covariance is not positive definite") from None
        s = np.empty(n)
        s[o] = (psi[o] @ f) ** 2 / total
        shares.append(s)
    arr = np.array(shares)
    lo, hi = arr.min(axis=0), arr.max(axis=0)
    return PriceDiscovery(alpha, gamma, omega, cs, psi, lo, hi, (lo + hi) / 2.0, rows)


def _prices(prices: Any) -> FloatArray:
    p = as_float_array("prices", prices, ndim=2)
    if p.shape[1] < 2:
        raise AnalyticsInputError(f"prices: need at least two venues (columns), got {p.shape[1]}")
    return p


def information_shares(prices: Any, lags: int = 1) -> PriceDiscovery:
    """Batch: prices is T x N (bars x venues), lags >= 1 the VECM's lagged changes."""
    p = _prices(prices)
    if int(lags) < 1:
        raise AnalyticsInputError(f"lags: must be >= 1, got {lags!r}")
    if len(p) < lags + 3:
        raise AnalyticsInputError(f"prices: {len(p)} rows, too few for {lags} lags")
    x, y = _design(p, lags)
    return _shares(x.T @ x, x.T @ y, y.T @ y, len(y), p.shape[1], lags)


class InformationShareStream:
    """Streaming VECM cross-products: update(prices_row) or update_many(rows); estimate() any time."""

    def __init__(self, venues: int, lags: int = 1) -> None:
        if int(venues) < 2 or int(lags) < 1:
            raise AnalyticsInputError(f"need venues >= 2 and lags >= 1, got {venues!r}, {lags!r}")
        self.n, self.lags = int(venues), int(lags)
        ncoef = (self.n - 1) + self.n * self.lags
        self.xtx = np.zeros((ncoef, ncoef))
        self.xty = np.zeros((ncoef, self.n))
        self.yty = np.zeros((self.n, self.n))
        self.rows = 0
        self._tail = np.zeros((0, self.n))         # the last lags + 1 price rows

    def update(self, row: Any) -> None:
        self.update_many(np.asarray(row, dtype=np.float64).reshape(1, -1))

    def update_many(self, rows: Any) -> None:
        p = as_float_array("prices", rows, ndim=2, allow_empty=True)
        if p.shape[1] != self.n:
            raise AnalyticsInputError(f"prices: {p.shape[1]} columns, expected {self.n} venues")
        if not len(p):
            return
        full = np.vstack([self._tail, p])
        if len(full) >= self.lags + 2:
            x, y = _design(full, self.lags)
            self.xtx += x.T @ x
            self.xty += x.T @ y
            self.yty += y.T @ y
            self.rows += len(y)
        self._tail = full[-(self.lags + 1):]

    def estimate(self) -> PriceDiscovery:
        return _shares(self.xtx, self.xty, self.yty, self.rows, self.n, self.lags)


def gg_two_venues(alpha1: float, alpha2: float) -> tuple[float, float]:
    """Closed form of the two-venue component shares (Baillie et al. 2002, eq. 12)."""
    if math.isclose(alpha1, alpha2):
        raise AnalyticsInputError("gg_two_venues: alpha1 == alpha2, shares undefined")
    g1 = alpha2 / (alpha2 - alpha1)
    return g1, 1.0 - g1
