"""Slices through the smart order router when several venues exist: the GOOG day split into three
lit venues and a dark pool (trading/routing/replay_market.py); a TWAP and an IS parent are
executed slice by slice through Router.route_order / execute_routing_plan: the whole order is
filled across more than one venue, the slices follow the schedule, the run is deterministic for a
seed. VWAP and POV follow the traded volume the router reports per venue: the venues' volumes add up
to the day's executions, and every routed slice keeps within the participation cap.
Skips without ../shared/data."""
from __future__ import annotations

from typing import Any

import pytest

from tests.trading.replay.conftest import GOOG, sample
from trading.execution.parent import ParentOrder, ParentOrderRefused
from trading.execution.routed import execute_routed
from trading.execution.schedules import IsSchedule, TwapSchedule

START = 36_000 * 10 ** 9
MINUTES = 60 * 10 ** 9


@pytest.fixture(scope="module")
def synthetic() -> Any:
    from trading.replay.lobster import load_lobster
    from trading.routing import venue
    from trading.routing.replay_market import SyntheticVenues
    venues = [venue("XNAS", market_share=0.45, taker_fee_mils=10.0, avg_us=200.0, p99_us=600.0),
              venue("ARCX", market_share=0.30, taker_fee_mils=9.0, avg_us=300.0, p99_us=900.0),
              venue("BATY", market_share=0.25, taker_fee_mils=2.0, avg_us=150.0, p99_us=500.0),
              venue("DARK", kind="dark", market_share=0.10, taker_fee_mils=5.0)]
    return SyntheticVenues.build(load_lobster(sample(GOOG)), venues, seed=11)


def run(synthetic: Any, algo: str, seed: int = 3) -> tuple[Any, Any]:
    from trading.routing import Router
    from trading.routing.replay_market import MultiVenueReplay
    market = MultiVenueReplay(synthetic, seed=seed)
    router = Router(synthetic.venues, market=market)
    order = ParentOrder(1, 1, 2000, algo, START, START + 10 * MINUTES, risk_aversion=1e-5)
    if algo == "TWAP":
        schedule: Any = TwapSchedule(order.qty, order.start_ns, order.end_ns, 10, seed=seed)
    else:
        schedule = IsSchedule(order.qty, order.start_ns, order.end_ns, 10, sigma=0.04, eta=0.05, gamma=0.0,
                              eps=0.15, lam=1e-5)
    return order, execute_routed(order, schedule, router, market, decision_ns=10 * 10 ** 9, lot=100)


@pytest.mark.parametrize("algo", ["TWAP", "IS"])
def test_slices_through_the_router_fill_the_parent_across_venues(synthetic: Any, algo: str) -> None:
    order, res = run(synthetic, algo)
    assert res.filled == order.qty
    assert sum(s.filled for s in res.slices) == order.qty
    assert len({v for s in res.slices for v in s.venues}) > 1          # the router spread the slices
    assert all(s.qty % 100 == 0 and s.ts_ns < order.end_ns for s in res.slices)
    assert res.arrival_mid is not None and res.shortfall_bps(order.side) is not None
    if algo == "TWAP":
        # a slice of 200 falls due per minute: no slice sent before the first is due
        assert res.slices[0].ts_ns >= START and len([s for s in res.slices if not s.skipped]) >= 5


def test_routed_run_is_deterministic_for_a_seed(synthetic: Any) -> None:
    def key(res: Any) -> list[tuple[Any, ...]]:
        return [(s.ts_ns, s.qty, s.filled, s.venues) for s in res.slices]
    assert key(run(synthetic, "TWAP", seed=5)[1]) == key(run(synthetic, "TWAP", seed=5)[1])


def test_router_reports_each_venues_prints_and_they_add_up_to_the_day(synthetic: Any) -> None:
    """No order of ours: at every instant the lit venues' volumes add up to the day's visible
    executions so far (those of named orders printed by the venues' engines, the rest booked as
    removals of anonymous liquidity), the dark pool's (the only one: all the dark share) to the
    day's hidden executions."""
    import numpy as np

    from trading.replay.data import Kind
    from trading.routing import Router
    from trading.routing.replay_market import MultiVenueReplay
    market = MultiVenueReplay(synthetic, seed=1)
    router = Router(synthetic.venues, market=market)
    day = synthetic.day
    visible, hidden = day.kind == Kind.EXECUTE, day.kind == Kind.HIDDEN
    for t in (START - 30 * MINUTES, START, START + 7 * MINUTES, START + 61 * MINUTES):
        market.advance_to(t)
        vol = router.traded_volume(1)
        upto = day.ts_ns <= market.now_ns()     # the clock starts at the first message
        assert vol["XNAS"] + vol["ARCX"] + vol["BATY"] == int(day.qty[visible & upto].sum())
        assert vol["DARK"] == int(day.qty[hidden & upto].sum())
        if t >= START:
            assert min(vol["XNAS"], vol["ARCX"], vol["BATY"]) > 0
    assert market.history_rejects == 0
    assert int(np.sum(day.qty[visible])) > 0


def _volume_run(synthetic: Any, algo: str, tmp_path: Any) -> tuple[Any, Any]:
    from trading.execution.profile import VolumeProfile
    from trading.execution.schedules import PovSchedule, VwapSchedule
    from trading.replay.data import Kind
    from trading.routing import Router
    from trading.routing.replay_market import MultiVenueReplay
    day = synthetic.day
    market = MultiVenueReplay(synthetic, seed=2)
    router = Router(synthetic.venues, market=market)
    order = ParentOrder(1, 1, 1500, algo, START, START + 10 * MINUTES, max_participation=0.2,
                        target_participation=0.1, min_participation=0.05)
    if algo == "VWAP":
        ex = (day.kind == Kind.EXECUTE) | (day.kind == Kind.HIDDEN)
        profile = VolumeProfile.from_executions(day.ts_ns[ex], day.qty[ex], 34_200, 57_600, 1800)
        schedule: Any = VwapSchedule(order.qty, order.start_ns, order.end_ns, profile, 0)
    else:
        schedule = PovSchedule(order.qty, order.target_participation)
    return order, execute_routed(order, schedule, router, market, decision_ns=10 * 10 ** 9, lot=100)


@pytest.mark.parametrize("algo", ["VWAP", "POV"])
def test_volume_driven_algorithms_through_the_router_keep_the_participation_cap(synthetic: Any, algo: str,
                                                                               tmp_path: Any) -> None:
    order, res = _volume_run(synthetic, algo, tmp_path)
    sent = [s for s in res.slices if not s.skipped]
    assert sent and res.filled > 0
    assert len({v for s in sent for v in s.venues}) > 1                 # across venues
    for s in res.slices:                                                 # the cap at every decision
        assert s.filled_before + s.qty <= order.max_participation * s.market_volume
        assert s.qty % 100 == 0 and s.qty > 0
    final_volume = res.slices[-1].market_volume
    if algo == "POV":
        # POV follows 10 % of the volume: at the last decision it had done at least its 5 % floor
        # minus one lot and at most the 20 % cap of what had traded
        last = res.slices[-1]
        assert last.filled_before + last.filled >= 0.05 * final_volume - 100
        assert res.filled <= order.qty
    else:
        assert res.filled <= order.qty and res.slices[0].ts_ns >= START
    assert [(s.ts_ns, s.qty, s.filled) for s in res.slices] == \
        [(s.ts_ns, s.qty, s.filled) for s in _volume_run(synthetic, algo, tmp_path)[1].slices]   # deterministic
