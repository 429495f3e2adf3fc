"""Avellaneda-Stoikov (2008) inventory-aware quotes.

Source: M. Avellaneda and S. Stoikov, "High-frequency trading in a limit order book", Quantitative
Finance 8(3):217-224, 2008, section 3 (the approximate solution, their equations (29)-(30)):

    reservation price   r(s, q, t) = s - q * gamma * sigma^2 * (T - t)
    optimal spread      delta_a + delta_b = gamma * sigma^2 * (T - t) + (2 / gamma) * ln(1 + gamma / k)

and the quotes are r -/+ spread / 2. The mid s follows ds = sigma dW, the market maker maximises
E[-exp(-gamma * terminal wealth)], and a quote at distance delta from the mid is hit with Poisson
intensity A * exp(-k * delta). Inventory q counts fills (one fill = one clip of the quote size).

The infinite-horizon form replaces T - t by a constant tau (a rolling horizon): the quotes then
depend on (s, q) only, which is how the model is run through a trading day with no session end in
the utility.
"""
from __future__ import annotations

import math
from typing import NamedTuple


class ModelQuote(NamedTuple):
    """Distances of the optimal bid and ask below / above the mid (currency, may be negative) and
    the reservation price; ``bid_ok``/``ask_ok`` are False where a model refuses to quote a side
    (GLFT at an inventory bound)."""
    reservation: float
    bid_distance: float
    ask_distance: float
    bid_ok: bool = True
    ask_ok: bool = True


def reservation_price(s: float, q: float, gamma: float, sigma: float, tau: float) -> float:
    """r = s - q * gamma * sigma^2 * tau (AS 2008, eq. 29 with tau = T - t)."""
    return s - q * gamma * sigma * sigma * tau


def optimal_spread(gamma: float, sigma: float, k: float, tau: float) -> float:
    """delta_a + delta_b = gamma * sigma^2 * tau + (2 / gamma) * ln(1 + gamma / k) (AS 2008, eq. 30)."""
    return gamma * sigma * sigma * tau + (2.0 / gamma) * math.log1p(gamma / k)


def as_quote(s: float, q: float, gamma: float, sigma: float, k: float, tau: float) -> ModelQuote:
    """The AS quotes at mid s and inventory q, as distances from the mid."""
    r = reservation_price(s, q, gamma, sigma, tau)
    half = 0.5 * optimal_spread(gamma, sigma, k, tau)
    return ModelQuote(reservation=r, bid_distance=s - (r - half), ask_distance=(r + half) - s)
