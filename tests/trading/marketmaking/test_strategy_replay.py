"""The market maker through the strategy runtime over the LOBSTER samples (real engine, simulated
clock): deterministic; the P&L decomposition adds up exactly and equals the runtime's own ledger;
inventory within its limit; quoting pulled when the touch is crossed or locked; bad parameters
refused with the field named before the first order. Skips without ../shared/data."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from trading.marketmaking.errors import ParameterError

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
AAPL = "AAPL_2012-06-21_34200000_57600000_message_10_first999.csv"

# quotes near the touch so that a short sample trades: given A and k (per second, per dollar)
PARAMS = {"model": "as", "gamma": "0.05", "A": "2.0", "k": "60.0", "max_inventory": "500",
          "quote_size": "100", "tau_s": "30"}


def run(data: Path, params: dict[str, str], seed: int = 0, compute: str | int = "none") -> tuple[Any, Any]:
    """One replay; returns (strategy, result)."""
    from trading.marketmaking.strategy import MarketMakingStrategy
    from trading.replay.history import build_history
    from trading.replay.lobster import load_lobster
    from trading.replay.runtime import ReplayConfig, run_replay
    strategy = MarketMakingStrategy(**params)
    result = run_replay(build_history(load_lobster(data)), strategy, ReplayConfig(seed=seed, compute=compute))
    assert result.error is None, result.error
    return strategy, result


def check_run(strategy: Any, result: Any) -> dict[str, Any]:
    rep: dict[str, Any] = strategy.report(result.ctx)
    assert rep["pnl_parts_add_up"]
    assert rep["pnl_matches_runtime"], (rep["pnl"], rep["runtime_pnl"])
    assert rep["max_abs_inventory"] <= rep["max_inventory"]
    return rep


@pytest.fixture
def data() -> Path:
    if not (DATA / AAPL).exists():
        pytest.skip(f"LOBSTER sample data not found at {DATA} (a clone without ../shared/data)")
    return DATA


@pytest.mark.parametrize("model", ["as", "glft"])
def test_aapl_sample_adds_up_and_is_deterministic(data: Path, model: str) -> None:
    params = {**PARAMS, "model": model}
    s1, r1 = run(data / AAPL, params)
    rep = check_run(s1, r1)
    assert rep["passive_fills"] > 0
    s2, r2 = run(data / AAPL, params)
    assert [(f.order_id, f.price, f.qty) for f in r1.fills] == [(f.order_id, f.price, f.qty) for f in r2.fills]
    assert s2.report(r2.ctx)["pnl"] == rep["pnl"]


def test_estimated_parameters_on_aapl(data: Path) -> None:
    s, r = run(data / AAPL, {"model": "glft", "gamma": "0.05", "max_inventory": "300"})
    rep = check_run(s, r)
    assert rep["sigma"] is not None and rep["k"] is not None and rep["fit"]["fills"] >= 30


@pytest.mark.parametrize("name, value", [("gamma", "-1"), ("quote_size", "0"), ("max_inventory", "50"),
                                         ("k", "-3"), ("model", "nope"), ("timer_ms", "0")])
def test_bad_parameters_refused_before_any_order(name: str, value: str) -> None:
    from trading.marketmaking.strategy import MarketMakingStrategy
    from trading.strategy.context import Context
    strategy = MarketMakingStrategy(**{name: value})
    ctx = Context(instrument_id=1, account_id=2, tick_size=100)
    with pytest.raises(ParameterError) as err:
        strategy.on_start(ctx)
    assert err.value.field == name
    assert ctx.outbox == []


GOOG = "GOOG_2012-06-21_34200000_57600000_message_1.csv"


def test_goog_full_day_adds_up_within_its_inventory_limit() -> None:
    """The full GOOG day with the command line's defaults (parameters estimated online, 20 us of
    simulated time charged per callback):
    the P&L parts add up exactly to the runtime's ledger and inventory stays within its limit. On
    this machine it takes about 1.5 CPU-minutes (`python -m trading mm replay --data ...GOOG...`
    prints the same report)."""
    if not (DATA / GOOG).exists():
        pytest.skip(f"LOBSTER sample data not found at {DATA} (a clone without ../shared/data)")
    s, r = run(DATA / GOOG, {}, compute=20_000)     # the command line's default charge per callback
    rep = check_run(s, r)
    assert rep["passive_fills"] > 100 and rep["max_abs_inventory"] > 0
