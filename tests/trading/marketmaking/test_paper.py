"""The Avellaneda-Stoikov experiment: deterministic, the paper's qualitative finding, and the rows
that compare like with like within Monte Carlo error of the published table."""
from __future__ import annotations

import math

import pytest

from trading.marketmaking.paper import PUBLISHED, ExperimentConfig, run, table


@pytest.mark.parametrize("gamma", [0.1, 0.01, 1.0])
def test_inventory_strategy_has_less_variance(gamma: float) -> None:
    res = run(gamma)
    inv, sym = res["inventory"], res["symmetric"]
    assert inv.profit_std < sym.profit_std
    assert inv.q_std < sym.q_std


@pytest.mark.parametrize("gamma", [0.1, 0.01, 1.0])
def test_symmetric_rows_match_the_published_table(gamma: float) -> None:
    sym = run(gamma)["symmetric"]
    pub = PUBLISHED[gamma]["symmetric"]
    se = sym.profit_std / math.sqrt(1000)
    assert abs(sym.profit_mean - pub[1]) < 3 * se
    assert sym.profit_std == pytest.approx(pub[2], rel=0.10)
    assert sym.q_std == pytest.approx(pub[4], rel=0.10)


@pytest.mark.parametrize("gamma", [0.1, 0.01])
def test_inventory_rows_close_to_the_published_table(gamma: float) -> None:
    inv = run(gamma)["inventory"]
    pub = PUBLISHED[gamma]["inventory"]
    assert inv.profit_mean == pytest.approx(pub[1], rel=0.03)
    assert inv.profit_std == pytest.approx(pub[2], rel=0.15)
    assert inv.q_std == pytest.approx(pub[4], rel=0.15)


def test_deterministic_for_a_seed() -> None:
    cfg = ExperimentConfig(paths=200, seed=5)
    assert run(0.1, cfg) == run(0.1, cfg)
    assert run(0.1, cfg) != run(0.1, ExperimentConfig(paths=200, seed=6))
    text, _ = table((0.1,), cfg)
    assert "published" in text and "inventory" in text and "symmetric" in text
