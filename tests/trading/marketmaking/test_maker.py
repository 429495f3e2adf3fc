"""The runtime-independent market maker on a simulated market with a known answer: fills from the
AS intensity around a random-walk mid. Inventory stays within its limit, the P&L decomposition adds
up exactly, sigma/A/k are estimated online, and the guard pulls on a halt and on stale data."""
from __future__ import annotations

import math

import numpy as np
import pytest

from trading.marketmaking.errors import ParameterError
from trading.marketmaking.hedging import HedgeConfig
from trading.marketmaking.maker import ASK, BID, Intent, MakerConfig, MarketMaker
from trading.marketmaking.params import (GridParams, GuardParams, LimitParams, MarketMakerParams,
                                         ModelParams)
from trading.marketmaking.refresh import Action

TICK = 100          # price units per tick (LOBSTER: 1/10000 dollar, tick one cent)


def _maker(model: str, estimate: bool = False, hedge: HedgeConfig | None = None,
           max_inventory: int = 500) -> MarketMaker:
    mp = ModelParams(model=model, gamma=2e-4, sigma=None if estimate else 30.0,  # type: ignore[arg-type]
                     A=None if estimate else 2.0, k=None if estimate else 0.02, tau_s=30.0)
    params = MarketMakerParams(model=mp, grid=GridParams(tick=TICK, lot=100),
                               limits=LimitParams(max_inventory=max_inventory, quote_size=100),
                               guard=GuardParams(stale_after_s=5.0, toxicity_widen=0.9, toxicity_pull=1.0))
    return MarketMaker(MakerConfig(params=params, maker_rebate_units=20, taker_fee_units=30, hedge=hedge,
                                   min_fit_fills=30, price_scale=10000.0))


def _run(maker: MarketMaker, steps: int, seed: int, A: float = 2.0, k: float = 0.02,
         sigma: float = 30.0, dt: float = 0.1) -> None:
    """A mid random walk on a one-tick-wide touch; our quotes are hit with probability
    A exp(-k delta) dt per step; a public trade at a random depth each step."""
    rng = np.random.default_rng(seed)
    mid = 5_000_000.0
    t = 0.0
    for _ in range(steps):
        t += dt
        mid += sigma * math.sqrt(dt) * rng.standard_normal()
        bid = int(mid // TICK) * TICK
        ask = bid + TICK
        m = 0.5 * (bid + ask)
        intents = maker.on_book(t, bid, ask)
        for it in intents:
            if it.action == "hedge":
                maker.on_fill(t, it.side, it.price, it.qty, passive=False, hedge=True)
        # public market orders reaching an exponential depth: intensity A exp(-k d) at d
        depth = rng.exponential(1.0 / k)
        if rng.random() < A * dt:
            side = 1 if rng.random() < 0.5 else -1
            maker.on_trade(t, int(m + side * depth), 100, side)
        for side in (BID, ASK):
            live = maker.live[side]
            if live is None:
                continue
            price = live.price_ticks * TICK
            delta = (m - price) if side == BID else (price - m)
            if rng.random() < A * math.exp(-k * max(delta, 0.0)) * dt:
                maker.on_fill(t, side, price, live.size, passive=True)


@pytest.mark.parametrize("model", ["as", "glft"])
def test_inventory_within_limits_and_pnl_adds_up(model: str) -> None:
    mm = _maker(model)
    _run(mm, 20000, seed=1)
    assert 0 < mm.max_abs_inventory <= 500
    b = mm.ledger.breakdown()
    assert b.passive_fills > 100
    assert b.check()
    assert b.spread_capture2 > 0
    assert b.fees2 == 2 * 20 * b.passive_volume


def test_estimates_sigma_and_A_k_online() -> None:
    mm = _maker("as", estimate=True)
    _run(mm, 20000, seed=2, sigma=300.0)
    inputs = mm.market_inputs()
    assert inputs is not None and mm.fit is not None
    # the EWMA (half-life 120 s) over the last few minutes of a 2,000 s path: within 20 %
    assert inputs.sigma == pytest.approx(300.0, rel=0.2)
    assert inputs.k == pytest.approx(0.02, rel=0.25)
    assert mm.snapshot()["fit"]["fills"] >= 30


def test_hedges_beyond_threshold_and_books_the_cost() -> None:
    hedge = HedgeConfig(threshold=300, hedge_lot=100, taker_fee=0.003, tick=TICK / 10000.0)
    mm = _maker("as", hedge=hedge, max_inventory=1000)
    _run(mm, 20000, seed=3)
    b = mm.ledger.breakdown()
    assert b.check()
    assert mm.hedger is not None and mm.hedger.hedged_shares > 0
    assert b.hedging2 != 0 and b.hedge_fills > 0


def test_pulls_on_halt_and_stale_data() -> None:
    mm = _maker("as")
    intents = mm.on_book(1.0, 5_000_000, 5_000_100)
    assert {i.side for i in intents} == {BID, ASK}
    pulled = mm.on_book(2.0, 5_000_000, 5_000_100, halted=True)
    assert all(i.action is Action.CANCEL for i in pulled) and len(pulled) == 2
    assert mm.reason == "halted"
    mm.on_book(3.0, 5_000_000, 5_000_100)
    assert mm.live[BID] is not None
    stale = mm.on_timer(30.0)
    assert [i.action for i in stale] == [Action.CANCEL, Action.CANCEL] and mm.reason == "stale data"
    locked = mm.on_book(31.0, 5_000_100, 5_000_100)
    assert locked == [] and mm.reason == "locked book"


def test_no_flicker_when_the_mid_jitters_inside_a_tick() -> None:
    mm = _maker("as")
    first = mm.on_book(1.0, 5_000_000, 5_000_100)
    assert len(first) == 2
    sent: list[Intent] = []
    for i in range(100):                    # the touch flickers by a tick's fraction: no new quotes
        sent += mm.on_book(1.0 + 0.01 * i, 5_000_000, 5_000_100)
    assert sent == []


def test_tiers_sized_by_the_allocation_and_within_limits() -> None:
    mp = ModelParams(model="as", gamma=2e-4, sigma=30.0, A=2.0, k=0.02, tau_s=30.0)
    params = MarketMakerParams(model=mp, grid=GridParams(tick=TICK, lot=100),
                               limits=LimitParams(max_inventory=600, quote_size=200),
                               guard=GuardParams(stale_after_s=5.0, toxicity_widen=0.9, toxicity_pull=1.0))
    mm = MarketMaker(MakerConfig(params=params, tiers=3, tier_step_ticks=2, maker_rebate_units=20))
    intents = mm.on_book(1.0, 5_000_000, 5_000_100)
    tiers = {(i.side, i.tier): i for i in intents}
    assert {t for _, t in tiers} == {0, 1, 2}
    for side in (BID, ASK):
        assert sum(i.qty for (s, _), i in tiers.items() if s == side) <= 600
        prices = [tiers[(side, t)].price for t in (0, 1, 2) if (side, t) in tiers]
        assert prices == sorted(prices, reverse=side == BID)        # deeper tiers behind
    # a fill on a deep tier is booked to that tier; the inventory cap then shrinks the bid side
    deep = tiers[(BID, 2)]
    mm.on_fill(1.5, BID, deep.price, deep.qty, tier=2)
    assert mm.deep[(BID, 2)] is None
    again = mm.on_book(2.0, 5_000_000, 5_000_100)
    live_bid = sum(s.size for (side, _), s in mm.deep.items() if side == BID and s is not None)
    top = mm.live[BID]
    live_bid += top.size if top is not None else 0
    assert live_bid + mm.inventory <= 600
    assert isinstance(again, list)
    with pytest.raises(ParameterError, match="tiers"):
        MarketMaker(MakerConfig(params=params, tiers=0))


def test_no_flicker_from_the_guards_own_widening() -> None:
    """The guard's toxicity is measured against the model's half spread, not the one it quoted
    after widening: measured against its own output it flipped (widen -> lower toxicity -> narrow
    -> higher toxicity -> widen), a REPLACE per flip, each woken by the last one's REPLACED (4.85 M
    replaces on the first 8,000 GOOG messages). Adverse fills put the toxicity inside the
    widening band; then the market stands still and the maker is asked again and again."""
    mp = ModelParams(model="as", gamma=2e-4, sigma=30.0, A=2.0, k=0.02, tau_s=30.0)
    params = MarketMakerParams(model=mp, grid=GridParams(tick=TICK, lot=100),
                               limits=LimitParams(max_inventory=5_000, quote_size=100),
                               guard=GuardParams(stale_after_s=50.0, toxicity_widen=0.05, toxicity_pull=0.99))
    mm = MarketMaker(MakerConfig(params=params, maker_rebate_units=20, taker_fee_units=30, price_scale=10000.0))
    t, bid = 1.0, 5_000_000
    mm.on_book(t, bid, bid + TICK)
    for _ in range(8):          # our bid is hit, the market drops 2 ticks at once (within the
        t += 0.5                # 0.1 s markout horizon) and stays there
        live = mm.live[BID]
        mm.on_fill(t, BID, live.price_ticks * TICK if live else bid, 100, passive=True)
        bid -= 2 * TICK
        mm.on_book(t + 0.05, bid, bid + TICK)
        t += 0.5
        mm.on_book(t, bid, bid + TICK)
    assert 0.05 < mm.last_decision.toxicity < 0.99 and mm.last_decision.widen > 1.0, mm.last_decision
    # Asked again with nothing changed, it must want what it wanted: the same widening and the
    # same target every time (before, each answer moved the next one's toxicity).
    seen = []
    for _ in range(4):
        sent = mm.on_book(t, bid, bid + TICK)
        seen.append((mm.last_decision.widen, mm.last_target))
    assert sent == [] and all(s == seen[1] for s in seen[1:]), seen


def test_a_live_retune_requotes_with_the_new_parameters_and_keeps_the_grid() -> None:
    """The ops shell's `strategy set` path (MarketMakingStrategy.on_params -> MarketMaker.retune):
    the next decision quotes the new size and the new risk aversion's spread; the state built on
    the tick, the lot and the markout horizons cannot change under a running maker."""
    mm = _maker("as")
    before = {it.side: it for it in mm.on_book(1.0, 5_000_000, 5_000_100)}
    assert {it.qty for it in before.values()} == {100}
    wider = MarketMakerParams(model=ModelParams(model="as", gamma=2e-3, sigma=30.0, A=2.0, k=0.02, tau_s=30.0),
                              grid=GridParams(tick=TICK, lot=100),
                              limits=LimitParams(max_inventory=500, quote_size=200),
                              guard=GuardParams(stale_after_s=5.0, toxicity_widen=0.9, toxicity_pull=1.0))
    mm.retune(wider, latency_s=0.0)
    after = {it.side: it for it in mm.on_book(1.1, 5_000_000, 5_000_100)}
    assert {it.qty for it in after.values()} == {200}
    fresh = MarketMaker(MakerConfig(params=wider, maker_rebate_units=20, taker_fee_units=30, min_fit_fills=30,
                                    price_scale=10000.0))
    expected = {it.side: (it.price, it.qty) for it in fresh.on_book(1.1, 5_000_000, 5_000_100)}
    assert {side: (it.price, it.qty) for side, it in after.items()} == expected
    for name, changed in (("tick", GridParams(tick=2 * TICK, lot=100)), ("lot", GridParams(tick=TICK, lot=200))):
        with pytest.raises(ParameterError, match=name):
            mm.retune(MarketMakerParams(model=wider.model, grid=changed, limits=wider.limits, guard=wider.guard))
    assert mm.params is not None and mm.params.grid.tick == TICK
