"""Hedging in a correlated instrument, live: the market maker quotes instrument 1 of a real engine
process with two instruments and follows instrument 2 (LiveRunner's ``others``); market sells
into its bid push its inventory past the threshold, and it hedges with an IOC in instrument 2 that
trades against the market's bid there. The decomposition (with the hedge leg's spread, carry and
fee) adds up exactly and equals the runtime's ledgers of both instruments; a hedge instrument
the runner does not follow is refused by name before any order reaches the engine."""
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
from trading.marketmaking.strategy import MarketMakingStrategy
from trading.strategy.api import BUY, SELL
from trading.strategy.ledger import FeeSchedule
from trading.strategy.live import LiveRunner, OtherInstrument

ACCOUNT = 9
PARAMS = {"gamma": "0.05", "sigma": "0.02", "A": "2.0", "k": "60.0", "stale_after_s": "30.0",
          "max_inventory": "1000", "tau_s": "30", "regime": "0", "timer_ms": "50",
          "hedge_threshold": "150", "hedge_instrument": "2", "hedge_ratio": "0.5"}


@pytest.fixture
def engine():
    name = f"th{uuid.uuid4().hex[:8]}"
    cpu = max(os.sched_getaffinity(0))
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "engine", "--name", name, "--cpu", str(cpu),
                             "--instruments", "1:100:1:5000000,2:50:1:2000000", "--producers", "4", "--no-mlock"],
                            stderr=subprocess.PIPE, text=True)
    wait_for(lambda: engine_serving(name), "the engine's control segment", watch={"engine": proc})
    yield name
    stop(proc)
    remove_leftovers(name)


def _limit(instrument: int, oid: int, side: int, price: int, qty: int, tif: int = 2) -> NewOrder:
    return NewOrder(instrument_id=instrument, order_id=oid, price=price, qty=qty, side=side, ord_type=1, tif=tif,
                    account_id=1)


def _taker(oid: int, side: int, price: int, qty: int) -> NewOrder:
    return NewOrder(instrument_id=1, order_id=oid, price=price, qty=qty, side=side, ord_type=1, tif=4, account_id=3)


def _until(runner: LiveRunner, cond, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 60
    while not cond():
        runner.step()
        assert runner.error is None, runner.error
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {runner.ctx.messages[-5:]} rejects "
                                 f"{runner.ctx.rejects} sent {runner.ctx.sent} orders {runner.ctx.orders} pos {runner.ctx.positions} "
                                 f"reason {runner.strategy.maker.reason} book {runner.ctx.book.bids} {runner.ctx.book.asks}")
        time.sleep(0.001)


def test_inventory_beyond_the_threshold_is_hedged_in_the_other_instrument(engine):
    fees = FeeSchedule(-0.002, 0.003)
    runner = LiveRunner(engine, MarketMakingStrategy(**PARAMS), 1, ACCOUNT, fees=fees, tick_size=100,
                        others=[OtherInstrument(2, tick_size=50, fees=FeeSchedule(-0.001, 0.0025))])
    runner.start()
    s = runner.strategy
    assert isinstance(s, MarketMakingStrategy)
    ctx = runner.ctx
    with EngineClient(engine) as market:
        # balanced public flow first (10 buyer- and 10 seller-initiated trades of 500 between two
        # other accounts, never two-sided so nothing is quoted yet): the sells into our bid below
        # then leave the flow imbalance far below the guard's toxicity_pull
        flow = [_limit(1, 100, SELL, 5_000_000, 5_000)]
        flow += [_taker(200 + i, BUY, 5_000_000, 500) for i in range(10)]
        flow += [_limit(1, 300, BUY, 5_000_000, 5_000)]
        flow += [_taker(400 + i, SELL, 5_000_000, 500) for i in range(10)]
        market.submit_many(flow)
        _until(runner, lambda: ctx.book.traded_volume == 10_000, "the balanced flow")
        market.submit_many([_limit(2, 1, BUY, 2_000_000, 1_000), _limit(2, 2, SELL, 2_000_100, 1_000),
                            _limit(1, 3, BUY, 4_990_000, 100), _limit(1, 4, SELL, 5_010_000, 1_000)])

        def our_bid():  # type: ignore[no-untyped-def]
            return next((o for o in ctx.orders.values() if o.side == BUY and o.instrument_id == 1
                         and o.status == "live"), None)

        oid = 10
        while ctx.position < 200:          # sell into our bid (above the market's 4,990,000)
            _until(runner, lambda: our_bid() is not None, "our bid")
            bid = our_bid()
            before = ctx.position
            oid += 1
            market.submit(_limit(1, oid, SELL, bid.price, min(100, bid.leaves_qty), tif=4))
            _until(runner, lambda: ctx.position > before, "a fill of our bid")
        inventory = ctx.position
        _until(runner, lambda: ctx.instrument(2).ledger.position != 0, "the hedge in instrument 2")
        hedge = ctx.instrument(2).ledger
        # 0.5 shares of instrument 2 per share held, in lots of 100, sold at its bid
        assert hedge.position == -(int(0.5 * inventory) // 100 * 100) and hedge.position <= -100
        assert hedge.volume == -hedge.position and hedge.maker_volume == 0
        assert ctx.instrument(2).book.best_bid == 2_000_000
        runner.stop()
        rep = s.report(ctx)
        assert rep["pnl_parts_add_up"] and rep["pnl_matches_runtime"], rep
        assert rep["hedge"]["position"] == hedge.position and rep["hedge_fills"] >= 1
        # the leg crossed half of instrument 2's 100-unit spread (the mid did not move)
        assert rep["pnl"]["hedge_leg_spread"] == pytest.approx(hedge.position * 50 / 10_000)
        assert rep["pnl"]["hedge_leg_carry"] == 0.0
        for instrument in (1, 2):
            left = market.submit(MassCancel(instrument_id=instrument, account_id=ACCOUNT, by_account=1,
                                            by_instrument=1))
            assert not hasattr(left.first_event, "order_id"), (instrument, left, ctx.orders, ctx.sent)


def test_hedge_instrument_not_followed_is_refused_before_any_order(engine):
    runner = LiveRunner(engine, MarketMakingStrategy(**PARAMS), 1, ACCOUNT, tick_size=100)
    runner.start()
    assert runner.error is not None and "hedge_instrument" in runner.error
    assert runner.ctx.sent["NEW"] == 0
    runner.stop()
