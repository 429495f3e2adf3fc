"""Live mode against a real engine process (python -m gateway engine): the same TouchQuoter that
runs in replay quotes through its own producer slot, sees its fills on the event log, keeps its
ledger; a strategy that raises is stopped with its orders cancelled and the venue keeps trading;
`python -m trading strategy run` does the same from the command line."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest

from native.messages import MassCancel, NewOrder, Phase, SetPhase
from shm.client import EngineClient
from shm.engine_segments import engine_serving, remove_leftovers
from gateway.launcher import stop, wait_for
from trading.strategy.api import BUY, SELL, Strategy
from trading.strategy.context import Context
from trading.strategy.examples import TouchQuoter
from trading.strategy.live import LiveRunner

ACCOUNT = 5


@pytest.fixture
def engine():
    name = f"tl{uuid.uuid4().hex[:8]}"
    cpu = max(os.sched_getaffinity(0))
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "engine", "--name", name, "--cpu", str(cpu),
                             "--instruments", "1:1:1:10000", "--producers", "4", "--no-mlock"],
                            stderr=subprocess.PIPE, text=True)
    wait_for(lambda: engine_serving(name), "the engine's control segment", watch={"engine": proc})
    yield name
    stop(proc)
    remove_leftovers(name)


def _limit(oid: int, side: int, price: int, qty: int, account: int = 1, tif: int = 2) -> NewOrder:
    return NewOrder(instrument_id=1, order_id=oid, price=price, qty=qty, side=side, ord_type=1, tif=tif,
                    account_id=account)


def _until(runner: LiveRunner, cond, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 20
    while not cond():
        runner.step()
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.001)


def test_touch_quoter_quotes_and_is_filled_live(engine):
    runner = LiveRunner(engine, TouchQuoter(interval_ms=5, size=100), 1, ACCOUNT)
    runner.start()      # the book view is built from the events after attaching
    with EngineClient(engine) as market:
        market.submit_many([_limit(1, BUY, 9_990, 100), _limit(2, SELL, 10_010, 100)])
        _until(runner, lambda: len([o for o in runner.ctx.orders.values() if o.status == "live"]) == 2, "two live quotes")
        assert sorted((o.side, o.price) for o in runner.ctx.orders.values()) == [(BUY, 9_990), (SELL, 10_010)]
        market.submit(_limit(3, SELL, 9_990, 150, tif=4))      # IOC: takes the market's 100, then 50 of ours
        _until(runner, lambda: runner.ctx.position == 50, "our fill of 50")
        assert runner.ctx.fill_count == 1 and runner.ctx.ledger.maker_volume == 50
        runner.stop()
        left = market.submit(MassCancel(account_id=ACCOUNT, by_account=1))
        assert left.first_event.affected == 0            # the runner cancelled everything it had


class Explodes(Strategy):
    def on_start(self, ctx: Context) -> None:
        ctx.buy(9_000, 10)
        ctx.set_timer(2_000_000)

    def on_timer(self, ctx: Context) -> None:
        if ctx.orders and all(o.status == "live" for o in ctx.orders.values()):
            raise ZeroDivisionError("on purpose")


def test_strategy_that_raises_is_stopped_and_the_venue_goes_on(engine):
    runner = LiveRunner(engine, Explodes(), 1, ACCOUNT)
    _until(runner, lambda: runner.error is not None, "the strategy's failure")
    _until(runner, lambda: not runner.ctx.orders, "its orders cancelled")
    assert "ZeroDivisionError: on purpose" in runner.error
    runner.stop()
    with EngineClient(engine) as market:
        r = market.submit_many([_limit(10, BUY, 10_000, 5), _limit(11, SELL, 10_000, 5)])
        assert r[1].event_count == 3                      # accepted, trade, level: the venue trades on


def test_strategy_run_command_line(engine, tmp_path):
    r = subprocess.run([sys.executable, "-m", "trading", "strategy", "run", "--venue", engine, "--strategy", "quote",
                        "--account", str(ACCOUNT), "--instrument", "1", "--param", "interval_ms=10", "--duration", "1"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "TouchQuoter on instrument 1 account 5" in r.stdout
    bad = subprocess.run([sys.executable, "-m", "trading", "strategy", "run", "--venue", "nosuchvenue", "--strategy",
                          "quote", "--account", "5", "--instrument", "1"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    listed = subprocess.run([sys.executable, "-m", "trading", "strategy", "list"], capture_output=True, text=True,
                            timeout=60)
    assert "quote" in listed.stdout and "interval_ms=100" in listed.stdout


@pytest.fixture
def journaled_engine(tmp_path):
    name = f"tj{uuid.uuid4().hex[:8]}"
    cpu = max(os.sched_getaffinity(0))
    journal = tmp_path / "journal"
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "engine", "--name", name, "--cpu", str(cpu),
                             "--instruments", "1:1:1:10000,2:1:1:10000", "--producers", "4", "--no-mlock",
                             "--journal", str(journal), "--durability", "async"], stderr=subprocess.PIPE, text=True)
    wait_for(lambda: engine_serving(name), "the engine's control segment", watch={"engine": proc})
    yield name, str(journal)
    stop(proc)
    remove_leftovers(name)


class SeesAtStart(Strategy):
    def on_start(self, ctx: Context) -> None:
        self.at_start = (ctx.book.depth(BUY, 5), ctx.book.depth(SELL, 5), ctx.book.last_trade_price)


def test_strategy_starts_with_the_standing_book_from_the_journal(journaled_engine):
    name, journal = journaled_engine
    with EngineClient(name) as market:
        market.submit_many([_limit(1, BUY, 9_990, 100), _limit(2, BUY, 9_990, 50), _limit(3, BUY, 9_980, 70),
                            _limit(4, SELL, 10_010, 100), _limit(5, SELL, 10_020, 30),
                            _limit(6, SELL, 9_990, 20, tif=4),     # a trade at 9,990: last price, 130 left
                            NewOrder(instrument_id=2, order_id=7, price=5_000, qty=9, side=BUY, ord_type=1, tif=2,
                                     account_id=1)])
        blind = LiveRunner(name, SeesAtStart(), 1, ACCOUNT)
        runner = LiveRunner(name, SeesAtStart(), 1, ACCOUNT + 1, journal_dir=journal)
        runner.start()
        blind.start()
        assert runner.strategy.at_start == ([(9_990, 130), (9_980, 70)], [(10_010, 100), (10_020, 30)], 9_990)
        assert blind.strategy.at_start == ([], [], None)        # without the journal: only what changes later
        assert runner.snapshot["from"] == journal and runner.snapshot["through_seq"] > 0
        # the live log goes on after the journal: a later trade counts once, the level moves on
        market.submit(_limit(8, SELL, 9_990, 30, tif=4))
        _until(runner, lambda: runner.ctx.book.traded_volume > 0, "the live trade")
        for _ in range(50):
            runner.step()
        assert runner.ctx.book.traded_volume == 30 and runner.ctx.book.depth(BUY, 1) == [(9_990, 100)]
        runner.stop()
        blind.stop()
    with pytest.raises(ValueError, match="no such directory"):
        LiveRunner(name, SeesAtStart(), 1, ACCOUNT, journal_dir=journal + "-typo")


class PhaseLog(Strategy):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str, str | None]] = []

    def on_phase(self, ctx: Context, phase: str, previous: str) -> None:
        self.seen.append((phase, previous, ctx.phase))


def test_halt_and_reopening_reach_the_live_strategy(engine):
    runner = LiveRunner(engine, PhaseLog(), 1, ACCOUNT)
    runner.start()
    with EngineClient(engine) as market:
        for phase in (Phase.HALTED, Phase.PRE_OPEN, Phase.CONTINUOUS):    # a halt, the reopening auction
            market.submit(SetPhase(instrument_id=1, phase=int(phase)))
        _until(runner, lambda: len(runner.strategy.seen) == 3, "three phase changes")
    assert runner.strategy.seen == [("HALTED", "CONTINUOUS", "HALTED"), ("PRE_OPEN", "HALTED", "PRE_OPEN"),
                                    ("CONTINUOUS", "PRE_OPEN", "CONTINUOUS")]
    runner.stop()
