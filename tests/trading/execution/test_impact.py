"""The square-root impact model: recovers a known coefficient from simulated buckets, and gives
an order-one coefficient on the GOOG day (skips without ../shared/data)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trading.execution.impact import estimate, estimate_from_day

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
GOOG = DATA / "GOOG_2012-06-21_34200000_57600000_message_1.csv"


def test_recovers_a_known_square_root_coefficient() -> None:
    rng = np.random.default_rng(3)
    n, V, sigma, Y = 4000, 1e6, 6.0, 0.7
    q = rng.laplace(0, 2000, n)
    r = Y * sigma * np.sign(q) * np.sqrt(np.abs(q) / V) + rng.normal(0, 0.05, n)
    m = estimate(q, r, V, 23_400.0, 60.0, 0.01, sigma_day=sigma)
    assert abs(m.Y - Y) < 3 * m.Y_stderr + 0.02
    assert m.impact(0.01 * V) == pytest.approx(m.Y * sigma * 0.1)


def test_recovers_a_known_linear_coefficient() -> None:
    rng = np.random.default_rng(4)
    q = rng.normal(0, 1000, 3000)
    r = 2e-4 * q + rng.normal(0, 0.02, 3000)
    m = estimate(q, r, 1e6, 23_400.0, 60.0, 0.01)
    assert abs(m.kyle - 2e-4) < 3 * m.kyle_stderr


def test_refuses_what_cannot_be_fitted() -> None:
    with pytest.raises(ValueError, match="equal length"):
        estimate(np.ones(5), np.ones(4), 1e6, 23_400.0, 60.0, 0.01)
    with pytest.raises(ValueError, match="too few"):
        estimate(np.ones(2), np.ones(2), 1e6, 23_400.0, 60.0, 0.01)
    with pytest.raises(ValueError, match="daily volume"):
        estimate(np.ones(5), np.ones(5), 0.0, 23_400.0, 60.0, 0.01)


def test_goog_day_estimate_is_order_one() -> None:
    if not GOOG.exists():
        pytest.skip(f"LOBSTER sample not in {DATA}")
    from trading.replay.lobster import load_lobster
    m = estimate_from_day(load_lobster(GOOG), bucket_s=60.0)
    assert 0.2 < m.Y < 5.0 and m.Y_stderr < m.Y / 3
    assert m.kyle > 0
    assert 1.0 < m.sigma_day < 30.0                  # GOOG at ~$580: a few dollars a day
    assert 0.005 < m.half_spread < 1.0
    sigma_s, eta, gamma, eps = m.ac_parameters(7000, 3600.0)
    assert eta * 7000 / 3600.0 == pytest.approx(m.impact(7000))
