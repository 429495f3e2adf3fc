"""Iceberg display from the observed fill rate; hedging beyond a threshold with a given or
estimated hedge ratio, cost booked."""
from __future__ import annotations

import numpy as np
import pytest

from trading.marketmaking.errors import ParameterError
from trading.marketmaking.hedging import HedgeConfig, Hedger, HedgeRatioEstimator
from trading.marketmaking.iceberg import FillRateMeter, display_size


def test_display_follows_the_fill_rate() -> None:
    meter = FillRateMeter(half_life_s=1e9)
    for t in range(1, 101):
        meter.observe(float(t), 50.0)          # 50 shares per second at the level
    meter.observe(0.0 + 101.0, 50.0)
    assert meter.rate() == pytest.approx(50.0, rel=1e-9)
    assert display_size(meter.rate(), 10.0, 100, 5000) == 500
    assert display_size(0.0, 10.0, 100, 5000) == 100          # nothing observed: one lot
    assert display_size(1e6, 10.0, 100, 5000) == 5000         # never more than the total
    with pytest.raises(ParameterError, match="total"):
        display_size(10.0, 10.0, 100, 50)


def test_hedge_ratio_recovered() -> None:
    rng = np.random.default_rng(2)
    est = HedgeRatioEstimator(half_life_obs=1e9)
    x, y = 100.0, 50.0
    for _ in range(5000):
        dy = rng.standard_normal() * 0.1
        x += 1.7 * dy + rng.standard_normal() * 0.02
        y += dy
        est.update(x, y)
    assert est.beta() == pytest.approx(1.7, rel=0.02)
    corr = est.correlation()
    assert corr is not None and corr > 0.9


def test_hedge_beyond_threshold_same_instrument() -> None:
    h = Hedger(HedgeConfig(threshold=500, taker_fee=0.003, tick=0.01, hedge_lot=100), own_instrument=1)
    assert h.check(500, 9999, 10001) is None
    order = h.check(730, 9999, 10001)
    assert order is not None
    assert order.side == -1 and order.qty == 700 and order.limit_ticks == 9999
    assert order.expected_cost == pytest.approx((0.01 + 0.003) * 700)
    cost = h.realised_cost(-1, 700, 99.99, 100.00)
    assert cost == pytest.approx((0.01 + 0.003) * 700) and h.booked_cost == pytest.approx(cost)


def test_hedge_in_correlated_instrument() -> None:
    h = Hedger(HedgeConfig(threshold=100, hedge_instrument=2, beta=0.5, hedge_lot=10), own_instrument=1)
    order = h.check(-400, 5000, 5002)
    assert order is not None and order.instrument == 2 and order.side == 1 and order.qty == 200
    est = Hedger(HedgeConfig(threshold=100, hedge_instrument=2, beta=None), own_instrument=1)
    assert est.check(-400, 5000, 5002) is None                # no estimate yet: no hedge


def test_hedge_config_refused() -> None:
    with pytest.raises(ParameterError, match="threshold"):
        HedgeConfig(threshold=0).validate()
    with pytest.raises(ParameterError, match="beta"):
        HedgeConfig(threshold=10, beta=0.0).validate()
