"""Tier allocation against a brute-force numerical optimum, and its constraints."""
from __future__ import annotations

import numpy as np
import pytest

from trading.marketmaking.errors import ParameterError
from trading.marketmaking.tiers import TierInputs, allocate, tier_moments, to_lots, utility

BASE = TierInputs(distances=(0.01, 0.02, 0.04), adverse=(0.012, 0.008, 0.004), A=2.0, k=40.0,
                  sigma=0.02, horizon_s=5.0, hold_s=30.0, rebate=0.002, risk_aversion=0.05,
                  cap=800.0, total=1200.0)


def test_matches_brute_force_optimum() -> None:
    res = allocate(BASE)
    _, mu, S = tier_moments(BASE)
    grid = np.arange(0.0, 801.0, 5.0)
    X = np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), axis=-1).reshape(-1, 3)
    X = X[X.sum(axis=1) <= BASE.total]
    values = X @ mu - 0.5 * BASE.risk_aversion * np.einsum("ni,ij,nj->n", X, S, X)
    best = float(values.max())
    assert utility(X[int(values.argmax())], mu, S, BASE.risk_aversion) == pytest.approx(best)
    assert res.utility >= best - 1e-6 * abs(best)
    assert res.sizes.sum() <= BASE.total + 1e-6
    assert np.all(res.sizes >= -1e-9) and np.all(res.sizes <= BASE.cap + 1e-9)


def test_losing_tier_gets_nothing() -> None:
    # at the first tier the adverse move exceeds distance + rebate: negative edge
    inp = TierInputs(**{**BASE.__dict__, "adverse": (0.05, 0.008, 0.004)})
    res = allocate(inp)
    assert res.expected_edge[0] < 0 and res.sizes[0] == pytest.approx(0.0, abs=1e-6)


def test_more_risk_aversion_less_size() -> None:
    low = allocate(BASE).sizes.sum()
    high = allocate(TierInputs(**{**BASE.__dict__, "risk_aversion": 1.0})).sizes.sum()
    assert high < low


def test_lots_and_bad_input() -> None:
    assert to_lots(np.array([250.0, 99.0, 800.0]), 100) == [200, 0, 800]
    with pytest.raises(ParameterError, match="distances"):
        allocate(TierInputs(**{**BASE.__dict__, "distances": (0.02, 0.01, 0.04)}))
    with pytest.raises(ParameterError, match="adverse"):
        allocate(TierInputs(**{**BASE.__dict__, "adverse": (0.01,)}))
