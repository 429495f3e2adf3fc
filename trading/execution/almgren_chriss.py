"""Almgren-Chriss optimal execution: the closed-form trajectory, its expected cost and variance,
and the efficient frontier.

Source: R. Almgren and N. Chriss, "Optimal execution of portfolio transactions", Journal of Risk
3(2), 2000 (sections 1-2). A position of X shares is traded over T in N intervals of tau = T/N;
x_k is the holding after interval k (x_0 = X, x_N = 0) and n_k = x_{k-1} - x_k the slice. With
linear permanent impact g(v) = gamma v and linear temporary impact h(v) = eps sgn(v) + eta v:

    E[cost] = 1/2 gamma X^2 + eps sum |n_k| + (eta~ / tau) sum n_k^2,   eta~ = eta (1 - gamma tau / (2 eta))
    Var[cost] = sigma^2 tau sum_{k=1..N} x_k^2

Minimising E + lambda V gives x_j = sinh(kappa (T - t_j)) / sinh(kappa T) X, t_j = j tau, where
kappa solves 2 / tau^2 (cosh(kappa tau) - 1) = lambda sigma^2 / eta~ (the paper's eq. for kappa~^2).
lambda = 0 (or sigma = 0) is the straight line (TWAP). The units are the caller's: in the paper's
example time is in days, sigma in $/share/day^1/2, eta in $/share per share/day, gamma in $/share
per share; anything consistent works (the execution algorithms use seconds).

The paper's worked example (section 2.4 and figure 1) is ``paper_example()``: X = 10^6 shares,
S0 = 50, sigma = 0.95, eps = 0.0625, eta = 2.5e-6, gamma = 2.5e-7, T = 5 days, N = 5, lambda = 1e-6,
for which kappa ~ 0.6 per day (half-life 1/kappa ~ 1.7 days) and the straight line costs
E = $662,500 with V = 1.083e12 $^2. tests/trading/execution/test_almgren_chriss.py checks the
closed form against a numerical minimisation of E + lambda V over all trajectories.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class ACModel:
    """One Almgren-Chriss problem: what to trade (X over T in N intervals) and the market's
    parameters (sigma, eps, eta, gamma), with the trader's risk aversion lam."""
    X: float
    T: float
    N: int
    sigma: float
    eta: float
    gamma: float = 0.0
    eps: float = 0.0
    lam: float = 0.0
    S0: float = 0.0

    def __post_init__(self) -> None:
        if self.N < 1:
            raise ValueError(f"N must be at least 1, got {self.N}")
        if not self.T > 0:
            raise ValueError(f"T must be positive, got {self.T}")
        if self.sigma < 0 or self.eps < 0 or self.gamma < 0 or self.lam < 0:
            raise ValueError("sigma, eps, gamma and lambda must not be negative")
        if not self.eta_tilde > 0:
            raise ValueError(f"eta~ = eta - gamma tau / 2 must be positive (eta {self.eta}, gamma {self.gamma}, "
                             f"tau {self.tau}): the temporary impact must outweigh half the permanent one")

    @property
    def tau(self) -> float:
        return self.T / self.N

    @property
    def eta_tilde(self) -> float:
        return self.eta - 0.5 * self.gamma * self.tau

    def with_lambda(self, lam: float) -> ACModel:
        return replace(self, lam=lam)


def kappa(m: ACModel) -> float:
    """The trajectory's urgency: the root of 2/tau^2 (cosh(kappa tau) - 1) = lambda sigma^2 / eta~."""
    kappa_tilde_sq = m.lam * m.sigma ** 2 / m.eta_tilde
    # cosh(kappa tau) = 1 + tau^2 kappa~^2 / 2, so kappa tau = acosh(...), exactly
    return math.acosh(1.0 + 0.5 * m.tau ** 2 * kappa_tilde_sq) / m.tau


def optimal_holdings(m: ACModel) -> np.ndarray:
    """x_0 .. x_N of the optimal trajectory (x_0 = X, x_N = 0)."""
    k = kappa(m)
    t = np.arange(m.N + 1) * m.tau
    if k * m.T < 1e-9:          # lambda sigma^2 -> 0: the limit of the sinh ratio is the straight line
        return m.X * (1.0 - t / m.T)
    if k * m.T > 700:           # sinh overflows; the ratio is exp(-kappa t) to double precision
        x = m.X * np.exp(-k * t)
    else:
        x = m.X * np.sinh(k * (m.T - t)) / math.sinh(k * m.T)
    x[0], x[-1] = m.X, 0.0      # exact ends (the ratio at t = 0 is 1 only up to rounding)
    return np.asarray(x, dtype=float)


def straight_line_holdings(m: ACModel) -> np.ndarray:
    """The TWAP trajectory: equal slices, x_k = X (1 - k/N)."""
    return m.X * (1.0 - np.arange(m.N + 1) / m.N)


def expected_cost(m: ACModel, holdings: np.ndarray) -> float:
    """E[implementation shortfall] of a trajectory x_0..x_N (x_0 = X, x_N = 0), currency units."""
    x = np.asarray(holdings, dtype=float)
    n = -np.diff(x)
    return float(0.5 * m.gamma * m.X ** 2 + m.eps * np.abs(n).sum() + m.eta_tilde / m.tau * (n ** 2).sum())


def variance(m: ACModel, holdings: np.ndarray) -> float:
    """Var[implementation shortfall] of a trajectory: sigma^2 tau sum_{k=1..N} x_k^2."""
    x = np.asarray(holdings, dtype=float)
    return float(m.sigma ** 2 * m.tau * (x[1:] ** 2).sum())


@dataclass(frozen=True)
class FrontierPoint:
    lam: float
    kappa: float
    expected_cost: float
    variance: float


def efficient_frontier(m: ACModel, lambdas: np.ndarray) -> list[FrontierPoint]:
    """(E, V) of the optimal trajectory for each risk aversion: the efficient frontier."""
    out = []
    for lam in lambdas:
        mm = m.with_lambda(float(lam))
        x = optimal_holdings(mm)
        out.append(FrontierPoint(float(lam), kappa(mm), expected_cost(mm, x), variance(mm, x)))
    return out


def paper_example() -> ACModel:
    """Almgren & Chriss (2000), section 2.4: a sale of 10^6 shares at S0 = 50 over 5 days."""
    return ACModel(X=1_000_000, T=5.0, N=5, sigma=0.95, eta=2.5e-6, gamma=2.5e-7, eps=0.0625, lam=1e-6, S0=50.0)
