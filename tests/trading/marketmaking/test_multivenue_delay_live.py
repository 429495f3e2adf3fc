"""The venue's latency applied live (trading/marketmaking/multivenue_live.py: DelayedRunner): a
command reaches the engine's ring no earlier than one draw of the venue's delay model after the
strategy made it (the engine's acknowledgement is seen after that), commands leave in the order
they were made, each command's hold is at least its draw, a venue without a model is not held, and
at stop what is still held goes out ahead of the mass cancel (no order is left behind). Real engine
processes, one per venue."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest

from gateway.launcher import stop, wait_for
from gateway.venues.delay_line import DelayModel
from native.messages import MassCancel
from shm.client import EngineClient
from shm.engine_segments import engine_serving, remove_leftovers
from trading.marketmaking.multivenue import MultiVenueMarketMaker, VenueTerms
from trading.marketmaking.multivenue_live import DelayedRunner, MultiVenueRunner
from trading.strategy.api import OwnOrder, Strategy
from trading.strategy.context import Context
from trading.strategy.ledger import FeeSchedule
from trading.strategy.live import LiveRunner

ACCOUNT = 6


@pytest.fixture
def engine() -> Iterator[str]:
    name = f"md{uuid.uuid4().hex[:8]}"
    cpu = max(os.sched_getaffinity(0))
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "engine", "--name", name, "--cpu", str(cpu),
                             "--instruments", "1:1:1:10000", "--producers", "4", "--no-mlock"],
                            stderr=subprocess.PIPE, text=True)
    wait_for(lambda: engine_serving(name), "the engine's control segment", watch={"engine": proc})
    yield name
    stop(proc)
    remove_leftovers(name)


class Bids(Strategy):
    """Places `count` bids far below the market at start; notes when each acknowledgement is seen."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count
        self.acked_at: dict[int, int] = {}
        self.ack_order: list[int] = []

    def on_start(self, ctx: Context) -> None:
        for k in range(self.count):
            ctx.buy(5_000 - k, 10)

    def on_accepted(self, ctx: Context, order: OwnOrder) -> None:
        self.acked_at[order.order_id] = time.monotonic_ns()
        self.ack_order.append(order.order_id)


def _until(runner: LiveRunner, cond, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 30
    while not cond():
        runner.step()
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.0005)


def test_commands_wait_out_their_draw_in_order(engine: str) -> None:
    strategy = Bids(count=40)
    runner = DelayedRunner(engine, strategy, 1, ACCOUNT, delay=DelayModel(3_000.0, 9_000.0, seed=4))
    runner.start()
    sent = {o.order_id: o.sent_ns for o in runner.ctx.orders.values()}
    _until(runner, lambda: len(strategy.acked_at) == 40, "40 acknowledgements")
    assert len(runner.holds) == 40 and runner.released_at_stop == 0
    assert all(hold >= drawn for drawn, hold in runner.holds)
    last = 0
    for oid, (drawn, _) in zip(sorted(sent), runner.holds):
        last = max(sent[oid] + drawn, last)
        assert strategy.acked_at[oid] >= last        # the engine had it only after its hold
    assert strategy.ack_order == sorted(sent)        # in the order made: none overtook another
    runner.stop()


def test_stop_sends_what_is_held_ahead_of_the_mass_cancel(engine: str) -> None:
    strategy = Bids(count=3)
    runner = DelayedRunner(engine, strategy, 1, ACCOUNT, delay=DelayModel(10_000_000.0, 10_000_000.0, seed=1))
    runner.start()                      # held for 10 s
    assert len(runner.held) == 3 and not strategy.acked_at
    runner.stop()
    assert runner.released_at_stop == 3 and not runner.holds
    with EngineClient(engine) as market:
        left = market.submit(MassCancel(account_id=ACCOUNT, by_account=1))
        # nothing of ours left to cancel: the answer is the command's ack with 0 affected
        assert getattr(left.first_event, "affected", None) == 0, left.first_event


def test_a_venue_without_a_model_is_not_held_and_bad_delays_are_refused(engine: str) -> None:
    terms = [VenueTerms("A", FeeSchedule(), 100.0), VenueTerms("B", FeeSchedule(), 300.0)]
    maker = MultiVenueMarketMaker(terms)
    with pytest.raises(ValueError, match="delays: venue 'C'"):
        MultiVenueRunner({"A": engine, "B": engine}, maker, 1, ACCOUNT, delays={"C": DelayModel(1.0, 2.0, 0)})
    runner = MultiVenueRunner({"A": engine}, MultiVenueMarketMaker(terms[:1]), 1, ACCOUNT,
                              delays={"A": DelayModel(50.0, 150.0, 0)})
    assert isinstance(runner.runners["A"], DelayedRunner)
    runner.stop()
    plain = MultiVenueRunner({"A": engine}, MultiVenueMarketMaker(terms[:1]), 1, ACCOUNT)
    assert type(plain.runners["A"]) is LiveRunner
    plain.stop()
