"""Impossible parameters are refused with the field named, before a quote exists."""
from __future__ import annotations

import pytest

from trading.marketmaking.errors import ParameterError
from trading.marketmaking.params import (GridParams, LimitParams, MarketMakerParams, ModelParams)
from trading.marketmaking.quoting import Quoter


@pytest.mark.parametrize("pairs, field", [
    ({"gamma": "-0.1"}, "gamma"),
    ({"gamma": "0"}, "gamma"),
    ({"gamma": "nan"}, "gamma"),
    ({"tick": "0"}, "tick"),
    ({"tick": "-1"}, "tick"),
    ({"lot": "0"}, "lot"),
    ({"max_inventory": "50"}, "max_inventory"),         # below one lot of 100
    ({"quote_size": "0"}, "quote_size"),
    ({"quote_size": "150"}, "quote_size"),              # not whole lots
    ({"quote_size": "2000"}, "quote_size"),             # above max_inventory
    ({"model": "black-scholes"}, "model"),
    ({"sigma": "-2"}, "sigma"),
    ({"k": "0"}, "k"),
    ({"A": "abc"}, "A"),
    ({"price_threshold_ticks": "0"}, "price_threshold_ticks"),
    ({"toxicity_pull": "0.2"}, "toxicity_pull"),         # below toxicity_widen
    ({"taker_fee": "-0.01"}, "taker_fee"),
    ({"no_such_thing": "1"}, "no_such_thing"),
])
def test_refused_with_field_named(pairs: dict[str, str], field: str) -> None:
    with pytest.raises(ParameterError) as err:
        MarketMakerParams.from_strings(pairs)
    assert err.value.field == field
    assert field in str(err.value)


def test_good_strings_parse() -> None:
    p = MarketMakerParams.from_strings({"model": "glft", "gamma": "0.05", "sigma": "auto",
                                        "tick": "0.01", "max_inventory": "500"})
    assert p.model.model == "glft" and p.model.gamma == 0.05 and p.model.sigma is None
    assert p.limits.max_inventory == 500


def test_quoter_refuses_before_quoting() -> None:
    bad = MarketMakerParams(grid=GridParams(tick=0.0))
    with pytest.raises(ParameterError, match="tick"):
        Quoter(bad)
    bad_limits = MarketMakerParams(limits=LimitParams(max_inventory=10, quote_size=10))
    with pytest.raises(ParameterError, match="max_inventory"):
        Quoter(bad_limits)
    bad_gamma = MarketMakerParams(model=ModelParams(gamma=-1.0))
    with pytest.raises(ParameterError, match="gamma"):
        Quoter(bad_gamma)
