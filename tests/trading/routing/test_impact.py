"""The square-root impact model: the formula, the fit against simulated data with a known constant,
and the estimate from the LOBSTER day."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tests.trading.replay.conftest import GOOG, sample
from trading.replay.lobster import load_lobster
from trading.routing.errors import RoutingError
from trading.routing.impact import SquareRootImpact, estimate_from_day, fit_y


def test_formula() -> None:
    m = SquareRootImpact(y=0.8, sigma_day=0.02, volume_day=4_000_000)
    # 1 % of the day's volume: 0.8 * 0.02 * 0.1 = 0.0016 = 16 bps
    assert m.bps(40_000) == pytest.approx(16.0)
    assert m.fraction(0) == 0.0
    assert m.sigma_over(23_400_000_000_000) == pytest.approx(0.02)
    assert m.sigma_over(23_400_000_000_000 // 4) == pytest.approx(0.01)


@pytest.mark.parametrize("y_true", [0.3, 1.0, 2.5])
def test_fit_recovers_a_known_constant_from_simulated_orders(y_true: float) -> None:
    rng = np.random.default_rng(7)
    sigma, volume = 0.015, 2_000_000.0
    sizes = rng.integers(100, 20_000, size=20_000).astype(np.float64)
    noise = rng.normal(0.0, 2e-4, size=sizes.shape)
    moves = y_true * sigma * np.sqrt(sizes / volume) + noise
    assert fit_y(sizes, moves, sigma, volume) == pytest.approx(y_true, rel=0.03)


def test_fit_without_orders_is_refused() -> None:
    with pytest.raises(RoutingError, match="no marketable orders"):
        fit_y(np.zeros(0), np.zeros(0), 0.01, 1.0)


def test_estimate_from_the_goog_day() -> None:
    day = load_lobster(sample(GOOG))
    m = estimate_from_day(day, horizon_ns=1_000_000_000)
    assert m.samples > 1000
    assert m.volume_day == float(day.qty[(day.kind == 4) | (day.kind == 5)].sum())
    # realised volatility by a direct loop over minute marks, as a cross-check of the vectorised one
    book = day.visible_book
    assert book is not None
    mids, t, k = [], int(day.ts_ns[0]), 0
    while t < day.ts_ns[-1]:
        while k + 1 < len(day) and day.ts_ns[k + 1] <= t:
            k += 1
        mids.append((book[k, 0] + book[k, 2]) / 2)
        t += 60_000_000_000
    r = np.diff(np.log(mids))
    direct = math.sqrt(float(np.sum(r * r)) * 23_400 / (60 * (len(mids) - 1)))
    assert m.sigma_day == pytest.approx(direct, rel=1e-6)
    assert 0.05 < m.y < 20.0
