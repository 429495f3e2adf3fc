"""Prices and sizes from the models: tick rounding, passivity, sizes from limits, fees."""
from __future__ import annotations

import pytest

from trading.marketmaking.errors import ParameterError
from trading.marketmaking.params import (FeeParams, GridParams, LimitParams, MarketMakerParams,
                                         ModelParams)
from trading.marketmaking.quoting import MarketInputs, Quoter

M = MarketInputs(sigma=0.02, A=1.0, k=20.0)


def _quoter(model: str = "as", rebate: float = 0.0, max_inv: int = 500) -> Quoter:
    return Quoter(MarketMakerParams(
        model=ModelParams(model=model, gamma=0.5, tau_s=60.0),  # type: ignore[arg-type]
        grid=GridParams(tick=0.01, lot=100),
        limits=LimitParams(max_inventory=max_inv, quote_size=100),
        fees=FeeParams(maker_rebate=rebate)))


@pytest.mark.parametrize("model", ["as", "glft"])
def test_prices_on_the_grid_and_passive(model: str) -> None:
    tq = _quoter(model).target(100.005, 0, 0.0, M, best_bid_ticks=10000, best_ask_ticks=10001)
    assert tq.bid is not None and tq.ask is not None
    assert tq.bid.price_ticks < tq.ask.price_ticks
    assert tq.bid.price_ticks <= 10000 and tq.ask.price_ticks >= 10001
    assert tq.bid.size == 100 and tq.ask.size == 100


@pytest.mark.parametrize("model", ["as", "glft"])
def test_inventory_limit_stops_one_side(model: str) -> None:
    q = _quoter(model)
    at_long = q.target(100.0, 500, 0.0, M)
    assert at_long.bid is None and at_long.ask is not None
    at_short = q.target(100.0, -500, 0.0, M)
    assert at_short.ask is None and at_short.bid is not None
    near = q.target(100.0, 450, 0.0, M)     # room for 50 shares only: less than a lot
    assert near.bid is None


def test_long_inventory_lowers_both_quotes() -> None:
    q = _quoter()
    flat, long = q.target(100.0, 0, 0.0, M), q.target(100.0, 300, 0.0, M)
    assert long.reservation < flat.reservation
    assert long.model_bid_distance > flat.model_bid_distance


def test_rebate_narrows_each_side_by_its_amount() -> None:
    base = _quoter().target(100.0, 0, 0.0, M)
    rebated = _quoter(rebate=0.002).target(100.0, 0, 0.0, M)
    assert rebated.model_bid_distance == pytest.approx(base.model_bid_distance - 0.002)
    assert rebated.model_ask_distance == pytest.approx(base.model_ask_distance - 0.002)


def test_widen_and_skew() -> None:
    q = _quoter()
    base = q.target(100.0, 0, 0.0, M)
    wide = q.target(100.0, 0, 0.0, M, widen=2.0, skew=0.01)
    assert wide.model_bid_distance + wide.model_ask_distance == pytest.approx(
        2.0 * (base.model_bid_distance + base.model_ask_distance))
    assert wide.model_ask_distance - wide.model_bid_distance == pytest.approx(0.02)


def test_missing_market_parameter_refused() -> None:
    with pytest.raises(ParameterError, match="sigma"):
        _quoter().target(100.0, 0, 0.0, MarketInputs(sigma=0.0, A=1.0, k=20.0))
