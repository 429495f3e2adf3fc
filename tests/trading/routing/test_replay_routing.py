"""The router in the multi-venue replay of the GOOG day: the split rule, plans completing, a venue
killed mid-route, stored plans replaying to the same result."""
from __future__ import annotations

import msgspec
import numpy as np
import pytest

from tests.trading.replay.conftest import GOOG, sample
from trading.replay.data import BUY, SELL
from trading.replay.lobster import load_lobster
from trading.routing import ParentOrder, Router, plan_from_json, venue
from trading.routing.replay_market import MultiVenueReplay, SyntheticVenues, split_day

VENUES = [
    venue("XNAS", market_share=0.45, taker_fee_mils=10.0, avg_us=200.0, p99_us=600.0),
    venue("ARCX", market_share=0.30, taker_fee_mils=9.0, avg_us=300.0, p99_us=900.0),
    venue("BATY", market_share=0.25, taker_fee_mils=2.0, avg_us=150.0, p99_us=500.0),
    venue("DARK", kind="dark", market_share=0.10, taker_fee_mils=5.0),
]
HOUR = 3_600_000_000_000


@pytest.fixture(scope="module")
def synthetic() -> SyntheticVenues:
    return SyntheticVenues.build(load_lobster(sample(GOOG)), VENUES, seed=11)


def test_split_gives_every_message_to_one_venue_and_the_open_book_adds_up(synthetic: SyntheticVenues) -> None:
    day = synthetic.day
    days = split_day(day, synthetic.venues, seed=11)
    order_msgs = int(np.isin(day.kind, [1, 2, 3, 4]).sum()) - day.first_message
    assert sum(int(np.isin(d.kind, [1, 2, 3, 4]).sum()) for d in days.values()) == order_msgs
    for side in (BUY, SELL):
        whole = {(p, q) for s, p, q in day.initial_levels if s == side}
        parts: dict[int, int] = {}
        for d in days.values():
            for s, p, q in d.initial_levels:
                if s == side:
                    parts[p] = parts.get(p, 0) + q
        assert set(parts.items()) == whole
    # every order id lives on exactly one venue
    owners: dict[int, str] = {}
    for v, d in days.items():
        for oid in np.unique(d.order_id[d.order_id > 0]):
            assert owners.setdefault(int(oid), v) == v
    # the same seed splits the same way; another seed differently
    again = split_day(day, synthetic.venues, seed=11)
    other = split_day(day, synthetic.venues, seed=12)
    assert all(np.array_equal(again[v].row, days[v].row) for v in days)
    assert not all(np.array_equal(other[v].row, days[v].row) for v in days)


def _start(synthetic: SyntheticVenues, at: int, seed: int = 3) -> tuple[MultiVenueReplay, Router]:
    market = MultiVenueReplay(synthetic, seed=seed)
    market.advance_to(market.now_ns() + at)
    return market, Router(VENUES, market=market)


def _accounted(report, parent_qty: int) -> None:   # type: ignore[no-untyped-def]
    ids = [c.child_id for c in report.children]
    assert len(ids) == len(set(ids)), "a child id sent twice"
    assert [o.child_id for o in report.outcomes] == ids, "every child sent has exactly one outcome"
    assert report.filled_qty <= parent_qty
    for o in report.outcomes:
        assert o.filled_qty == sum(f.qty for f in report.fills if f.child_id == o.child_id)
    assert report.filled_qty == sum(o.filled_qty for o in report.outcomes)


@pytest.mark.parametrize("strategy", ["cost_minimization", "implementation_shortfall", "fill_probability",
                                      "dark_first", "largest_venue"])
def test_each_strategy_completes_a_parent_in_replay(synthetic: SyntheticVenues, strategy: str) -> None:
    market, router = _start(synthetic, HOUR)
    parent = ParentOrder(parent_id=f"P-{strategy}", instrument_id=1, side="sell", qty=800)
    report = router.execute_routing_plan(router.route_order(parent, strategy))
    _accounted(report, parent.qty)
    assert report.filled_qty == parent.qty
    for f in report.fills:
        assert f.price >= report.plans[0].snapshot.nbbo().bid - int(report.arrival_touch * 0.005) - 100


def test_a_venue_killed_mid_route_is_avoided_and_the_plan_completes(synthetic: SyntheticVenues) -> None:
    market, router = _start(synthetic, 2 * HOUR)
    parent = ParentOrder(parent_id="K1", instrument_id=1, side="buy", qty=1500)
    plan = router.route_order(parent, "fill_probability")
    victim = max((c for c in plan.children), key=lambda c: c.qty).venue_id
    assert len({c.venue_id for c in plan.children}) >= 2
    # the children are on their way: the venue dies before any of them arrives
    market.kill(victim, market.now_ns() + 1)
    report = router.execute_routing_plan(plan)
    _accounted(report, parent.qty)
    assert report.filled_qty == parent.qty
    dead = [o for o in report.outcomes if o.venue_id == victim]
    assert dead and all(o.state == "timed_out" and o.filled_qty == 0 for o in dead)
    assert report.venues_down == (victim,)
    later = [c for c in report.children if c.wave > 1]
    assert later and all(c.venue_id != victim for c in later)
    assert router.scores.score(victim).down_until_ns > market.now_ns()
    # the next parent does not even try it
    plan2 = router.route_order(ParentOrder(parent_id="K2", instrument_id=1, side="sell", qty=500), "cost_minimization")
    assert all(c.venue_id != victim for c in plan2.children)
    assert any(v == victim and "down" in why for v, why in plan2.excluded)


def test_a_stored_plan_replays_to_the_same_report(synthetic: SyntheticVenues) -> None:
    market, router = _start(synthetic, HOUR + 123_456_789)
    parent = ParentOrder(parent_id="R1", instrument_id=1, side="buy", qty=1200)
    plan = router.route_order(parent, "implementation_shortfall")
    first = router.execute_routing_plan(plan)
    stored = plan.to_json()

    market2 = MultiVenueReplay(synthetic, seed=3)
    market2.advance_to(plan.created_ns)
    again = Router(VENUES, market=market2).execute_routing_plan(plan_from_json(stored))
    assert msgspec.json.encode(again) == msgspec.json.encode(first)
    assert again.filled_qty == parent.qty
