"""A direct numerical solution of the GLFT market-making HJB on an inventory grid.

This is the independent check of glft.py: it integrates the HJB in its original, nonlinear form

    d theta_q / dt = (1/2) gamma sigma^2 q^2 - H(theta_q - theta_{q+1}) 1{q < Q} - H(theta_q - theta_{q-1}) 1{q > -Q},
    H(p) = sup_delta A exp(-k delta) (1 - exp(-gamma (delta - p))) / gamma,     theta(T, q) = 0,

backward in time with classical Runge-Kutta steps, and finds each supremum numerically (a grid of
candidate distances, refined by a parabola through the best three), without the change of variables
to a linear system and without the closed-form maximiser. The optimal distance of a side is the
numerical argmax. Slow on purpose; for tests and for the curious.
"""
from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def _sup(p: FloatArray, A: float, k: float, gamma: float, span: float,
         points: int) -> tuple[FloatArray, FloatArray]:
    """(H(p), argmax delta) elementwise, by grid search over delta in [p, p + span] (below p the
    bracket is negative, so the supremum lies above p)."""
    offsets = np.linspace(0.0, span, points)
    delta = p[:, None] + offsets[None, :]
    h = A * np.exp(-k * delta) * (1.0 - np.exp(-gamma * (delta - p[:, None]))) / gamma
    i = np.clip(np.argmax(h, axis=1), 1, points - 2)
    rows = np.arange(p.size)
    y0, y1, y2 = h[rows, i - 1], h[rows, i], h[rows, i + 1]
    denom = y0 - 2.0 * y1 + y2
    step = offsets[1] - offsets[0]
    shift = np.where(denom < 0, 0.5 * (y0 - y2) / np.where(denom < 0, denom, -1.0), 0.0)
    best = delta[rows, i] + shift * step
    hmax = y1 - 0.25 * (y0 - y2) * shift
    return hmax, best


def solve_hjb(Q: int, gamma: float, sigma: float, A: float, k: float, T: float,
              steps: int = 2000, points: int = 2001) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Integrate from theta(T) = 0 back to t = 0; returns (theta(0), delta_b(0), delta_a(0)) for
    q = -Q..Q (NaN where a side is not quoted)."""
    q = np.arange(-Q, Q + 1, dtype=np.float64)
    span = 5.0 / k  # the argmax lies within 1/k above p: 1/gamma ln(1 + gamma/k) < 1/k

    def rhs(theta: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        # d theta / d(tau), tau = T - t: the time-reversed HJB
        hb, db = _sup(theta[:-1] - theta[1:], A, k, gamma, span, points)
        ha, da = _sup(theta[1:] - theta[:-1], A, k, gamma, span, points)
        out = -0.5 * gamma * sigma * sigma * q * q
        out[:-1] += hb
        out[1:] += ha
        return out, db, da

    theta = np.zeros(2 * Q + 1)
    h = T / steps
    for _ in range(steps):
        k1, _, _ = rhs(theta)
        k2, _, _ = rhs(theta + 0.5 * h * k1)
        k3, _, _ = rhs(theta + 0.5 * h * k2)
        k4, _, _ = rhs(theta + h * k3)
        theta = theta + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    _, db, da = rhs(theta)
    bid = np.full(2 * Q + 1, np.nan)
    ask = np.full(2 * Q + 1, np.nan)
    bid[:-1] = db
    ask[1:] = da
    return theta, bid, ask
