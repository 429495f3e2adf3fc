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
from native import records
from native.engine import Engine
from trading.replay.history import build_history
from trading.routing.replay_market import MultiVenueReplay, SyntheticVenues, split_history

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


def _depth(engine: Engine, side: int) -> dict[int, int]:
    return {p: q for p, q, _ in engine.depth(1, side, 10_000)}


def test_the_venues_books_add_up_to_the_real_book_at_every_instant(synthetic: SyntheticVenues) -> None:
    """One engine replaying the whole day against the sum of the venues' engines, level by level,
    at 25 instants through the day; and the same seed splits the same way, another differently."""
    whole = build_history(synthetic.day)
    single = Engine(max_orders=len(whole) + 1024, max_levels=1 << 14, max_instruments=1, max_accounts=8)
    market = MultiVenueReplay(synthetic, seed=1)
    done = 0
    for t in np.linspace(whole.ts_ns[0], whole.ts_ns[-1], 25).astype(np.int64):
        j = int(np.searchsorted(whole.ts_ns, t, side="right"))
        recs = whole.records[done:j].copy()
        recs.view(records.dtype_of("eng_cmd_hdr_t"))["seq"] = np.arange(done + 1, j + 1, dtype=np.uint64)
        single.submit_records(recs)
        done = j
        market.advance_to(int(t))
        market.snapshot(1)    # brings every venue's engine up to t
        for side in (BUY, SELL):
            summed: dict[int, int] = {}
            for v, eng in market.engines.items():
                for p, q in _depth(eng, side).items():
                    summed[p] = summed.get(p, 0) + q
            assert summed == _depth(single, side), f"at {t} side {side}"
    tops = {v: _depth(eng, SELL) and min(_depth(eng, SELL)) for v, eng in market.engines.items()}
    assert len(set(tops.values())) > 1, "the venues should not all show the same top"
    again = split_history(whole, synthetic.venues, seed=11)
    other = split_history(whole, synthetic.venues, seed=12)
    for v, h in synthetic.histories.items():
        assert np.array_equal(again[v].records, h.records)
    assert not all(np.array_equal(other[v].order_id, h.order_id) for v, h in synthetic.histories.items())


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


def test_a_replayed_flow_is_deterministic_and_every_parent_accounted(synthetic: SyntheticVenues) -> None:
    from gateway.regnms.rules import rules_in_force
    from trading.routing.flow import run_flow, summarize, synthetic_parents
    from trading.routing.impact import DEFAULT_IMPACT
    parents = synthetic_parents(synthetic.day, 6, seed=2, horizon_ns=3_000_000_000, max_waves=10)
    assert [p.parent_id for _, p in parents] == [f"F{k}" for k in range(1, 7)]
    assert all(b[0] - a[0] >= 30_000_000_000 for a, b in zip(parents, parents[1:]))
    one = run_flow(synthetic, "dark_first", parents, seed=4, impact=DEFAULT_IMPACT, rules=rules_in_force())
    two = run_flow(synthetic, "dark_first", parents, seed=4, impact=DEFAULT_IMPACT, rules=rules_in_force())
    assert [msgspec.json.encode(r) for r in one.reports] == [msgspec.json.encode(r) for r in two.reports]
    for (_, p), r in zip(parents, one.reports):
        _accounted(r, p.qty)
    s = summarize(one.reports)
    assert s.filled == sum(r.filled_qty for r in one.reports) and s.parents == 6
    # a fill gets a markout when the NBBO a second after its parent is two-sided
    assert 0 < len(one.markouts_bps) <= sum(len(r.fills) for r in one.reports)
    with pytest.raises(ValueError, match="n > 0"):
        synthetic_parents(synthetic.day, 0, seed=1)
