"""Replays of the LOBSTER samples through the strategy runtime: a strategy that only watches sees
the published book after every message; the quoting strategy's results are byte-identical across
runs, and do not depend on how the engine batches (one message at a time or long batches)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tests.trading.replay.conftest import AAPL, GOOG, sample
from trading.replay.history import build_history
from trading.replay.latency import Constant
from trading.replay.lobster import levels_of, load_lobster
from trading.replay.charges import ChargesFileError, load_charges
from trading.replay.results import to_json, write
from trading.replay.runtime import ComputeChargesMismatch, ReplayConfig, run_replay
from trading.strategy.api import BUY, SELL, Strategy
from trading.strategy.context import Context
from trading.strategy.examples import TouchQuoter


class Watcher(Strategy):
    """Never trades; compares what it sees with the order-book file at every book change."""

    def __init__(self, day) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.day, self.checked, self.bad = day, 0, []

    def on_book(self, ctx: Context) -> None:
        row = int(np.searchsorted(self.day.ts_ns, ctx.now, side="right")) - 1
        n = self.day.depth
        got = [(SELL, p, q) for p, q in ctx.book.depth(SELL, n)] + [(BUY, p, q) for p, q in ctx.book.depth(BUY, n)]
        self.checked += 1
        if got != levels_of(self.day.visible_book[row]) and len(self.bad) < 3:
            self.bad.append((row + 1, got, levels_of(self.day.visible_book[row])))


@pytest.mark.parametrize("name", [AAPL, GOOG])
def test_a_strategy_that_never_trades_sees_the_published_book_after_every_message(name):
    day = load_lobster(sample(name))
    w = Watcher(day)
    r = run_replay(build_history(day), w, ReplayConfig(compute="none"))
    distinct_times = len(np.unique(day.ts_ns[1:]))
    print(f"\n{name}: {w.checked} book changes checked against the file ({distinct_times} distinct message times)")
    assert not w.bad and r.error is None
    assert w.checked > 0.9 * distinct_times and not r.fills


def _quote(day, extra_on_book: bool = False, seed: int = 3):  # type: ignore[no-untyped-def]
    class Quoter(TouchQuoter):
        pass
    if extra_on_book:
        Quoter.on_book = lambda self, ctx: None  # type: ignore[method-assign]
    cfg = ReplayConfig(order_latency=Constant(30_000), feed_latency=Constant(20_000), compute=5_000, seed=seed)
    return run_replay(build_history(day), Quoter(interval_ms=50), cfg)


def test_two_runs_give_identical_result_files(tmp_path):
    day = load_lobster(sample(AAPL))
    a, b = _quote(day), _quote(day)
    write(a, tmp_path / "a", plots=False)
    write(b, tmp_path / "b", plots=False)
    assert (tmp_path / "a" / "result.json").read_bytes() == (tmp_path / "b" / "result.json").read_bytes()
    assert (tmp_path / "a" / "fills.csv").read_bytes() == (tmp_path / "b" / "fills.csv").read_bytes()
    assert len(a.fills) > 10


def test_measured_compute_charges_rerun_byte_identically(tmp_path):
    """The default mode (compute measured): the run records its readings; a rerun given them
    writes byte-identical result files; readings from another run are refused, not guessed."""
    day = load_lobster(sample(AAPL))
    cfg = dict(order_latency=Constant(30_000), feed_latency=Constant(20_000), seed=3)
    first = run_replay(build_history(day), TouchQuoter(interval_ms=50), ReplayConfig(**cfg))
    assert first.config["compute"] == "measured" and len(first.compute_charges) > len(first.fills) > 10
    write(first, tmp_path / "a", plots=False)
    charges = load_charges(tmp_path / "a" / "compute_charges.json", "TouchQuoter")
    assert charges == tuple(first.compute_charges)
    again = run_replay(build_history(day), TouchQuoter(interval_ms=50), ReplayConfig(**cfg, compute_charges=charges))
    write(again, tmp_path / "b", plots=False)
    for name in ("result.json", "fills.csv", "compute_charges.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    with pytest.raises(ComputeChargesMismatch, match="ran out"):
        run_replay(build_history(day), TouchQuoter(interval_ms=50), ReplayConfig(**cfg, compute_charges=charges[:5]))
    with pytest.raises(ComputeChargesMismatch, match="of"):
        run_replay(build_history(day), TouchQuoter(interval_ms=50), ReplayConfig(**cfg, compute_charges=charges + (1,)))
    with pytest.raises(ChargesFileError, match="recorded for strategy 'TouchQuoter'"):
        load_charges(tmp_path / "a" / "compute_charges.json", "NoOp")


def test_batched_and_one_by_one_replays_agree():
    day = load_lobster(sample(AAPL))
    batched, stepped = _quote(day), _quote(day, extra_on_book=True)
    assert stepped.engine_commands == batched.engine_commands
    assert json.dumps(to_json(batched)["fills"]) == json.dumps(to_json(stepped)["fills"])
