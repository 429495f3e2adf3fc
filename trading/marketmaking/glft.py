"""Gueant-Lehalle-Fernandez-Tapia (2013) quotes with inventory bounds.

Source: O. Gueant, C.-A. Lehalle and J. Fernandez-Tapia, "Dealing with the inventory risk: a
solution to the market making problem", Mathematics and Financial Economics 7:477-507, 2013.

Same market as Avellaneda-Stoikov (mid ds = sigma dW, fills with intensity A exp(-k delta), CARA
utility with risk aversion gamma), plus a hard inventory bound |q| <= Q: at q = Q the bid is not
quoted, at q = -Q the ask is not. With theta the value function's inventory part, the HJB becomes,
through v_q = exp(k * theta_q), the linear system (their Theorem 1)

    dv/dt = M v,  v(T) = 1,   M[q, q] = alpha q^2,  M[q, q+-1] = -eta,
    alpha = (k / 2) gamma sigma^2,   eta = A (1 + gamma / k)^-(1 + k / gamma)

so v(t) = exp(-M (T - t)) 1, and the optimal distances are

    delta_b(t, q) = (1/k) ln(v_q / v_{q+1}) + (1/gamma) ln(1 + gamma / k)
    delta_a(t, q) = (1/k) ln(v_q / v_{q-1}) + (1/gamma) ln(1 + gamma / k).

As T - t grows, v aligns with M's ground-state eigenvector f0 (the spectral characterisation, their
section 4), and for q small against Q the paper's closed-form approximation is

    delta_b ~ c + (2q + 1)/2 * w,   delta_a ~ c - (2q - 1)/2 * w,
    c = (1/gamma) ln(1 + gamma/k),  w = sqrt(sigma^2 gamma / (2 k A) * (1 + gamma/k)^(1 + k/gamma)).

``glft_exact`` computes the first form (M is symmetric: an eigendecomposition gives the matrix
exponential), ``glft_stationary`` the T -> infinity limit, ``glft_closed_form`` the approximation
(the quotes a live market maker uses). tests/trading/marketmaking/test_glft.py checks them against a
direct numerical solution of the HJB (glft_grid.py).
"""
from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from trading.marketmaking.avellaneda_stoikov import ModelQuote

FloatArray = npt.NDArray[np.float64]


def glft_constants(gamma: float, sigma: float, A: float, k: float) -> tuple[float, float]:
    """(alpha, eta) of the linear system."""
    alpha = 0.5 * k * gamma * sigma * sigma
    eta = A * (1.0 + gamma / k) ** (-(1.0 + k / gamma))
    return alpha, eta


def _matrix(Q: int, alpha: float, eta: float) -> FloatArray:
    q = np.arange(-Q, Q + 1, dtype=np.float64)
    m = np.diag(alpha * q * q)
    off = np.full(2 * Q, -eta)
    return m + np.diag(off, 1) + np.diag(off, -1)


def glft_v(Q: int, gamma: float, sigma: float, A: float, k: float, tau: float) -> FloatArray:
    """v(T - tau) for q = -Q..Q, normalised to max 1 (only ratios matter)."""
    alpha, eta = glft_constants(gamma, sigma, A, k)
    lam, vec = np.linalg.eigh(_matrix(Q, alpha, eta))
    # exp(-M tau) 1 = V exp(-Lambda tau) V^T 1; shift by the smallest eigenvalue so nothing overflows
    weights = np.exp(-(lam - lam[0]) * tau) * (vec.T @ np.ones(2 * Q + 1))
    v: FloatArray = vec @ weights
    out: FloatArray = v / float(np.max(np.abs(v)))
    return out


def glft_ground_state(Q: int, gamma: float, sigma: float, A: float, k: float) -> FloatArray:
    """f0: the eigenvector of M's smallest eigenvalue, positive (Perron-Frobenius on -M)."""
    alpha, eta = glft_constants(gamma, sigma, A, k)
    _, vec = np.linalg.eigh(_matrix(Q, alpha, eta))
    f0: FloatArray = np.abs(vec[:, 0])
    return f0


def _distances(v: FloatArray, Q: int, gamma: float, k: float) -> tuple[FloatArray, FloatArray]:
    """(delta_b, delta_a) per q = -Q..Q from v; NaN where the side is not quoted."""
    c = math.log1p(gamma / k) / gamma
    lv = np.log(v)
    bid = np.full(2 * Q + 1, np.nan)
    ask = np.full(2 * Q + 1, np.nan)
    bid[:-1] = (lv[:-1] - lv[1:]) / k + c
    ask[1:] = (lv[1:] - lv[:-1]) / k + c
    return bid, ask


def glft_exact(Q: int, gamma: float, sigma: float, A: float, k: float,
               tau: float) -> tuple[FloatArray, FloatArray]:
    """Exact optimal (delta_b, delta_a) for q = -Q..Q at time-to-horizon tau (NaN: side not quoted)."""
    return _distances(glft_v(Q, gamma, sigma, A, k, tau), Q, gamma, k)


def glft_stationary(Q: int, gamma: float, sigma: float, A: float,
                    k: float) -> tuple[FloatArray, FloatArray]:
    """The tau -> infinity limit of glft_exact (from the ground state f0)."""
    return _distances(glft_ground_state(Q, gamma, sigma, A, k), Q, gamma, k)


def glft_closed_form(q: float, gamma: float, sigma: float, A: float, k: float) -> tuple[float, float]:
    """The paper's closed-form approximation (delta_b, delta_a) at inventory q."""
    c = math.log1p(gamma / k) / gamma
    w = math.sqrt(sigma * sigma * gamma / (2.0 * k * A) * (1.0 + gamma / k) ** (1.0 + k / gamma))
    return c + (2.0 * q + 1.0) * 0.5 * w, c - (2.0 * q - 1.0) * 0.5 * w


def glft_quote(s: float, q: int, Q: int, gamma: float, sigma: float, A: float, k: float) -> ModelQuote:
    """Closed-form GLFT quotes at mid s and inventory q (in clips), with the bound |q| <= Q: no bid
    at q >= Q, no ask at q <= -Q. The reservation price is the midpoint of the two quotes."""
    db, da = glft_closed_form(q, gamma, sigma, A, k)
    return ModelQuote(reservation=s + 0.5 * (da - db), bid_distance=db, ask_distance=da,
                      bid_ok=q < Q, ask_ok=q > -Q)
