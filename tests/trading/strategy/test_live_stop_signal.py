"""A stop (SIGTERM) that arrives while a live strategy is being handed a poll's events: the poll
is finished, every fill of it reaches the ledger, and the strategy stops cleanly. The handlers
used to raise wherever the runner was: inside a callback (the strategy was stopped as failed,
exit 1) or between two events of a poll (the rest of them, fills included, never reached the
ledger, which then disagrees with the journal). Real engine process; the signal is raised from the
strategy's own on_fill, so it lands in the middle of the poll every time."""
from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from gateway.demo import strategy_process
from shm.client import EngineClient
from trading.strategy.api import BUY, SELL, Fill, Strategy
from trading.strategy.context import Context
from trading.strategy.live import LiveRunner

from .test_live_runner import ACCOUNT, _limit, _until, engine  # noqa: F401  (fixture)


class SignalsOnFill(Strategy):
    """Two resting bids; its first fill raises SIGTERM in its own process."""

    def on_start(self, ctx: Context) -> None:
        ctx.buy(9_990, 10)
        ctx.buy(9_990, 10)

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        if ctx.fill_count == 1:
            signal.raise_signal(signal.SIGTERM)     # its handler runs here, inside the callback


@pytest.fixture
def sigterm_restored() -> Iterator[None]:
    previous = signal.getsignal(signal.SIGTERM)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        strategy_process._stop_requested = False


def _both_live_then_taken(engine: str, runner: LiveRunner) -> None:
    runner.start()
    _until(runner, lambda: len([o for o in runner.ctx.orders.values() if o.status == "live"]) == 2,
           "two live bids")
    with EngineClient(engine) as market:
        market.submit(_limit(1, SELL, 9_990, 20, tif=4))    # IOC: both bids filled by one command


def test_demo_strategy_process_finishes_the_poll_on_sigterm(engine, sigterm_restored) -> None:  # noqa: F811
    signal.signal(signal.SIGTERM, strategy_process.on_sigterm)
    runner = LiveRunner(engine, SignalsOnFill(), 1, ACCOUNT)
    _both_live_then_taken(engine, runner)
    strategy_process.run_live(runner, 0.001)
    assert runner.error is None
    assert runner.ctx.fill_count == 2 and runner.ctx.position == 20 and not runner.ctx.orders


def test_runner_request_stop_returns_after_the_poll(engine, sigterm_restored) -> None:  # noqa: F811
    runner = LiveRunner(engine, SignalsOnFill(), 1, ACCOUNT)
    signal.signal(signal.SIGTERM, lambda signum, frame: runner.request_stop())
    _both_live_then_taken(engine, runner)
    runner.run(duration_s=30.0)         # returns at the stop request, long before
    assert runner.error is None
    assert runner.ctx.fill_count == 2 and runner.ctx.position == 20
    runner.stop()
