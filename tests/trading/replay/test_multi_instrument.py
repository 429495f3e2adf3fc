"""Two instruments of one day through one engine (trading/replay/multi.py): each instrument's book
is what its own replay builds; a strategy that ignores the second instrument makes exactly the
fills it makes alone; the market maker quoting one and hedging in the other (configured ratio on
the LOBSTER samples, estimated ratio on simulated data with a known ratio) is deterministic and its
P&L decomposition with the hedge leg adds up exactly and equals the runtime's ledgers; days that
do not belong together are refused naming the file and the field."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.trading.replay.conftest import AAPL, GOOG, sample
from tests.trading.replay.two_instruments import write_pair
from trading.marketmaking.strategy import MarketMakingStrategy
from trading.replay.history import History, build_history
from trading.replay.lobster import load_lobster
from trading.replay.multi import (
    MultiDayError,
    MultiInstrumentReplay,
    merge_histories,
    run_multi_replay,
)
from trading.replay.runtime import Replay, ReplayConfig, run_replay
from trading.strategy.api import BUY, SELL
from trading.strategy.examples import NoOp

MM = {"model": "as", "gamma": "0.05", "A": "2.0", "k": "60.0", "max_inventory": "500", "quote_size": "100",
      "tau_s": "30"}


@pytest.fixture(scope="module")
def samples() -> tuple[History, History]:
    return build_history(load_lobster(sample(AAPL))), build_history(load_lobster(sample(GOOG)))


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[History, History]:
    x, y = write_pair(tmp_path_factory.mktemp("pair"))
    return build_history(load_lobster(x)), build_history(load_lobster(y))


def _fills(result: Any) -> list[tuple[int, int, int, int, int, int]]:
    return [(f.ts_ns, f.order_id, f.side, f.price, f.qty, f.instrument_id) for f in result.fills]


def _checked_report(strategy: MarketMakingStrategy, result: Any) -> dict[str, Any]:
    assert result.error is None, result.error
    rep: dict[str, Any] = strategy.report(result.ctx)
    assert rep["pnl_parts_add_up"]
    assert rep["pnl_matches_runtime"], (rep["pnl"], rep["runtime_pnl"])
    assert rep["max_abs_inventory"] <= rep["max_inventory"]
    return rep


def test_each_instrument_gets_the_book_of_its_own_replay(samples: tuple[History, History]) -> None:
    """With no strategy, instrument k of the shared engine ends with the book its day's replay
    alone builds (order ids shifted apart, history commands refused alike)."""
    multi = MultiInstrumentReplay(samples, NoOp())
    multi.run()
    for k, h in enumerate(samples, start=1):
        alone = Replay(h, NoOp())
        alone.run()
        for side in (BUY, SELL):
            assert multi.eng.depth(k, side, 50) == alone.eng.depth(1, side, 50), (h.day.symbol, side)


def test_an_ignored_second_instrument_changes_nothing(samples: tuple[History, History]) -> None:
    aapl, _ = samples
    s1, s2 = MarketMakingStrategy(**MM), MarketMakingStrategy(**MM)
    alone = run_replay(aapl, s1, ReplayConfig(compute="none"))
    both = run_multi_replay(samples, s2, ReplayConfig(compute="none"))
    assert len(alone.fills) > 0
    assert _fills(alone) == _fills(both)
    assert s1.report(alone.ctx)["pnl"] == s2.report(both.ctx)["pnl"]
    assert both.ctx.positions[2] == 0


def test_quote_aapl_hedge_in_goog_adds_up_and_is_deterministic(samples: tuple[History, History]) -> None:
    params = {**MM, "hedge_threshold": "100", "hedge_instrument": "2", "hedge_ratio": "0.5"}
    runs = []
    for _ in range(2):
        strategy = MarketMakingStrategy(**params)
        result = run_multi_replay(samples, strategy, ReplayConfig(compute="none"))
        runs.append((strategy, result, _checked_report(strategy, result)))
    (_, r1, rep), (_, r2, rep2) = runs
    assert rep["hedge_fills"] > 0 and rep["hedge"]["shares_hedged"] > 0
    assert {f.instrument_id for f in r1.fills} == {1, 2}
    assert r1.ctx.positions[2] == rep["hedge"]["position"] != 0
    assert rep["pnl"]["hedge_leg_spread"] != 0
    assert sum(rep["runtime_pnl_by_instrument"].values()) == pytest.approx(rep["pnl"]["total"], abs=1e-6)
    assert _fills(r1) == _fills(r2) and rep2["pnl"] == rep["pnl"]


def test_estimated_ratio_on_simulated_pair_and_the_hedge(simulated: tuple[History, History]) -> None:
    """x = 2 y + noise: the estimated ratio within 5 % of 2; the hedge acts; everything adds up."""
    params = {**MM, "hedge_threshold": "200", "hedge_instrument": "2", "hedge_ratio": "0"}
    strategy = MarketMakingStrategy(**params)
    result = run_multi_replay(simulated, strategy, ReplayConfig(compute="none"))
    _check_estimate(strategy, result)
    again = MarketMakingStrategy(**params)
    assert _fills(run_multi_replay(simulated, again, ReplayConfig(compute="none"))) == _fills(result)


def test_estimated_ratio_when_both_books_move_at_the_same_instant(tmp_path: Path) -> None:
    """Both instruments' messages at the same times: the other book's callback comes first (as
    live); the ratio's sample must take the quoted book as it stands then, not as of its last
    on_book (which gave 1.65 for 2 before the maker took it fresh)."""
    x, y = write_pair(tmp_path, y_lag=0.0)
    params = {**MM, "hedge_threshold": "200", "hedge_instrument": "2", "hedge_ratio": "0"}
    strategy = MarketMakingStrategy(**params)
    result = run_multi_replay([build_history(load_lobster(x)), build_history(load_lobster(y))], strategy,
                              ReplayConfig(compute="none"))
    _check_estimate(strategy, result)


def _check_estimate(strategy: MarketMakingStrategy, result: Any) -> None:
    rep = _checked_report(strategy, result)
    assert rep["hedge"]["ratio"] == pytest.approx(2.0, rel=0.05)
    assert rep["hedge"]["correlation"] > 0.9
    assert rep["hedge_fills"] > 0 and rep["passive_fills"] > 50


def test_days_that_do_not_belong_together_are_refused(tmp_path: Path, simulated: tuple[History, History]) -> None:
    x, y = simulated
    _, other_day = write_pair(tmp_path, steps=20, date="2012-06-22")
    with pytest.raises(MultiDayError, match="date 2012-06-22 is not the first file's"):
        merge_histories([x, build_history(load_lobster(other_day))])
    with pytest.raises(MultiDayError, match="symbol X is given twice"):
        merge_histories([x, x])
    finer = build_history(load_lobster(y.day.path, tick_size=50))
    with pytest.raises(MultiDayError, match="tick_size 50 differs"):
        merge_histories([x, finer])
    with pytest.raises(MultiDayError, match="2..8 days"):
        merge_histories([x])


def test_hedge_instrument_not_replayed_is_refused_by_name(simulated: tuple[History, History]) -> None:
    strategy = MarketMakingStrategy(**{**MM, "hedge_threshold": "200", "hedge_instrument": "3"})
    result = run_multi_replay(simulated, strategy, ReplayConfig(compute="none"))
    assert result.error is not None and "hedge_instrument" in result.error
    assert result.fills == [] and result.ctx.sent["NEW"] == 0


def test_measured_run_with_latencies_reruns_byte_identically(simulated: tuple[History, History],
                                                              tmp_path: Path) -> None:
    """Two instruments with order and feed latency, compute measured: the run's readings replay
    it to byte-identical result files (fills name their instrument)."""
    from trading.replay.latency import Constant
    from trading.replay.results import write
    params = {**MM, "hedge_threshold": "200", "hedge_instrument": "2", "hedge_ratio": "2"}
    cfg = dict(order_latency=Constant(40_000), feed_latency=Constant(25_000), seed=2)
    first = run_multi_replay(simulated, MarketMakingStrategy(**params), ReplayConfig(**cfg))
    assert first.error is None and {f.instrument_id for f in first.fills} == {1, 2}
    again = run_multi_replay(simulated, MarketMakingStrategy(**params),
                             ReplayConfig(**cfg, compute_charges=tuple(first.compute_charges)))
    write(first, tmp_path / "a", plots=False)
    write(again, tmp_path / "b", plots=False)
    for name in ("result.json", "fills.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
