"""A strategy context that follows two instruments: a second instrument's book (from the journal at
attach, then from the event log), orders placed in it, positions and P&L per instrument and in
total, and a stop that cancels the strategy's orders in both; against a real engine process with
two instruments. The single-instrument API is unchanged (the other tests of this folder)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest

from gateway.launcher import stop, wait_for
from native.messages import MassCancel, NewOrder
from shm.client import EngineClient
from shm.engine_segments import engine_serving, remove_leftovers
from trading.strategy.api import BUY, SELL, Fill, Strategy
from trading.strategy.context import Context
from trading.strategy.ledger import FeeSchedule
from trading.strategy.live import LiveRunner, OtherInstrument

ACCOUNT = 7


@pytest.fixture
def engine(tmp_path):
    name = f"tm{uuid.uuid4().hex[:8]}"
    cpu = max(os.sched_getaffinity(0))
    journal = tmp_path / "journal"
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "engine", "--name", name, "--cpu", str(cpu),
                             "--instruments", "1:1:1:10000,2:5:1:5000", "--producers", "4", "--no-mlock",
                             "--journal", str(journal), "--durability", "async"], stderr=subprocess.PIPE, text=True)
    wait_for(lambda: engine_serving(name), "the engine's control segment", watch={"engine": proc})
    yield name, str(journal)
    stop(proc)
    remove_leftovers(name)


def _limit(instrument: int, oid: int, side: int, price: int, qty: int, tif: int = 2) -> NewOrder:
    return NewOrder(instrument_id=instrument, order_id=oid, price=price, qty=qty, side=side, ord_type=1, tif=tif,
                    account_id=1)


def _until(runner: LiveRunner, cond, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 30
    while not cond():
        runner.step()
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.001)


class PairTrader(Strategy):
    """Rests a bid in its primary instrument and lifts the other instrument's offer once it sees one."""

    def __init__(self) -> None:
        super().__init__()
        self.other_books: list[int] = []
        self.fills: list[Fill] = []
        self.lifted = False

    def on_start(self, ctx: Context) -> None:
        ctx.buy(9_960, 40)
        self.standing_ask = ctx.instrument(2).book.best_ask

    def on_other_book(self, ctx: Context, instrument_id: int) -> None:
        self.other_books.append(instrument_id)
        ask = ctx.instrument(2).book.best_ask
        if not self.lifted and ask is not None:
            ctx.buy(ask, 30, tif="IOC", instrument=2)
            ctx.sell(ask + 50, 10, instrument=2)           # one resting in the other instrument too
            self.lifted = True

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        self.fills.append(fill)


def test_two_instruments_books_orders_positions_and_pnl(engine):
    name, journal = engine
    fees = FeeSchedule(maker_per_share=-0.002, taker_per_share=0.003)
    with EngineClient(name) as market:
        market.submit_many([_limit(1, 1, BUY, 9_950, 100), _limit(1, 2, SELL, 10_050, 100),
                            _limit(2, 3, SELL, 5_005, 100)])        # standing before the strategy attaches
        runner = LiveRunner(name, PairTrader(), 1, ACCOUNT, fees=fees, journal_dir=journal,
                            others=[OtherInstrument(2, tick_size=5)])
        runner.start()
        s = runner.strategy
        assert isinstance(s, PairTrader) and s.standing_ask == 5_005      # the other book from the journal
        market.submit(_limit(2, 4, BUY, 4_995, 20))                          # the other book changes
        _until(runner, lambda: runner.ctx.instrument(2).ledger.position == 30, "the fill in instrument 2")
        assert s.other_books and set(s.other_books) == {2}
        market.submit(_limit(1, 5, SELL, 9_960, 15, tif=4))                  # hits our bid in instrument 1
        _until(runner, lambda: runner.ctx.position == 15, "the fill in instrument 1")
        ctx = runner.ctx
        assert ctx.positions == {1: 15, 2: 30}
        by_instrument = {(f.instrument_id, f.maker, f.price, f.qty) for f in s.fills}
        assert by_instrument == {(2, False, 5_005, 30), (1, True, 9_960, 15)}
        two = ctx.instrument(2)
        assert two.ledger.fees == pytest.approx(30 * 0.003) and ctx.ledger.fees == pytest.approx(-15 * 0.002)
        # each marked at its own mid: instrument 2 (4,995 + 5,005) / 2; 1 (our 9,960 + 10,050) / 2
        assert two.book.mid == 5_000 and ctx.book.mid == 10_005
        assert two.pnl == pytest.approx(30 * (5_000 - 5_005) / 10_000 - 30 * 0.003)
        assert ctx.pnl == pytest.approx(15 * (10_005 - 9_960) / 10_000 + 15 * 0.002)
        assert ctx.total_pnl == pytest.approx(ctx.pnl + two.pnl)
        _until(runner, lambda: sum(o.status == "live" for o in ctx.orders.values()) == 2, "two resting orders")
        assert sorted(o.instrument_id for o in ctx.orders.values()) == [1, 2]
        runner.stop()          # mass cancel in both instruments
        for instrument in (1, 2):
            left = market.submit(MassCancel(instrument_id=instrument, account_id=ACCOUNT, by_account=1,
                                            by_instrument=1))
            assert left.first_event.affected == 0, instrument


def test_unknown_or_repeated_instrument_refused_before_anything_is_sent():
    ctx = Context(instrument_id=1, account_id=2)
    ctx.add_instrument(2, tick_size=5)
    with pytest.raises(ValueError, match="instrument 3 is not followed .*followed: 1, 2"):
        ctx.buy(100, 1, instrument=3)
    for bad in ((2,), (0,), (4, 10_000, 0)):
        with pytest.raises(ValueError, match="instrument"):
            ctx.add_instrument(*bad)
    assert ctx.outbox == [] and ctx.orders == {}
    for text in ("x", "2:0", "-1", "2:a"):
        with pytest.raises(ValueError, match="--other-instrument"):
            OtherInstrument.parse(text)
    assert OtherInstrument.parse("2:5") == OtherInstrument(2, 5)


def test_command_line_follows_another_instrument(engine):
    name, _ = engine
    r = subprocess.run([sys.executable, "-m", "trading", "strategy", "run", "--venue", name, "--strategy", "quote",
                        "--account", str(ACCOUNT), "--instrument", "1", "--other-instrument", "2:5",
                        "--param", "interval_ms=10", "--duration", "0.5"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "instrument 2: position 0" in r.stdout
    bad = subprocess.run([sys.executable, "-m", "trading", "strategy", "run", "--venue", name, "--strategy", "quote",
                          "--account", str(ACCOUNT), "--instrument", "1", "--other-instrument", "2:x"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--other-instrument" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
