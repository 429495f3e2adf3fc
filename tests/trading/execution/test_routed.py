"""Slices through the smart order router when several venues exist: the GOOG day split into three
lit venues and a dark pool (trading/routing/replay_market.py); a TWAP and an IS parent are
executed slice by slice through Router.route_order / execute_routing_plan: the whole order is
filled across more than one venue, the slices follow the schedule, the run is deterministic for a
seed, and VWAP/POV are refused with nothing sent. Skips without ../shared/data."""
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


@pytest.mark.parametrize("algo", ["VWAP", "POV"])
def test_volume_driven_algorithms_are_refused_through_the_router(synthetic: Any, algo: str) -> None:
    from trading.routing import Router
    from trading.routing.replay_market import MultiVenueReplay
    market = MultiVenueReplay(synthetic, seed=1)
    order = ParentOrder(1, 1, 2000, algo, START, START + 10 * MINUTES)
    with pytest.raises(ParentOrderRefused, match="only TWAP and IS"):
        execute_routed(order, TwapSchedule(2000, START, START + 10 * MINUTES, 10), Router(synthetic.venues, market=market),
                       market, decision_ns=10 ** 9)
    assert market.now_ns() < START                # nothing ran, nothing was sent
