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


def test_children_rejected_by_a_halted_venue_are_re_routed(synthetic: SyntheticVenues) -> None:
    market, router = _start(synthetic, 3 * HOUR)
    parent = ParentOrder(parent_id="H1", instrument_id=1, side="buy", qty=900)
    plan = router.route_order(parent, "fill_probability")
    halted = max(plan.children, key=lambda c: c.qty).venue_id
    market.halt(halted)                 # its engine now refuses every order, and says so
    report = router.execute_routing_plan(plan)
    _accounted(report, parent.qty)
    assert report.filled_qty == parent.qty
    refused = [o for o in report.outcomes if o.venue_id == halted]
    assert refused and all(o.state == "rejected" and "REJ_PHASE" in o.reason for o in refused)
    assert report.venues_down == ()     # it answered: rejected, not silent
    assert router.scores.score(halted).reject_rate > 0.0
    # two rejects in a row set it aside: the later waves do not try it
    assert len(refused) <= 2 and not router.scores.available(halted, market.now_ns())
    assert {f.venue_id for f in report.fills} <= {c.venue_id for c in report.children} - {halted}


def test_scores_follow_what_venues_do() -> None:
    from trading.routing.scores import VenueScoreboard
    board = VenueScoreboard(tuple(VENUES), alpha=0.5, down_for_ns=1_000)
    a = board.score("XNAS")
    assert (a.fill_rate, a.latency_ns, a.reject_rate) == (1.0, 200_000.0, 0.0)
    board.record_answer("XNAS", sent_qty=100, filled_qty=50, latency_ns=400_000, rejected=False)
    assert (a.fill_rate, a.latency_ns) == (0.75, 300_000.0)
    board.record_answer("XNAS", sent_qty=100, filled_qty=0, latency_ns=400_000, rejected=True)
    assert a.reject_rate == 0.5 and a.fill_rate == 0.75      # a reject says nothing about fills
    board.record_markout("XNAS", -4.0)
    assert a.markout_bps == -2.0
    q = a.quality()
    board.record_answer("XNAS", sent_qty=100, filled_qty=0, latency_ns=1, rejected=True, now_ns=5)
    assert not board.available("XNAS", 5) and "rejected 2 orders in a row" in board.why_down("XNAS")
    assert board.available("XNAS", 1_005)
    board.record_timeout("XNAS", now_ns=10)
    assert not board.available("XNAS", 10) and board.down(500) == frozenset({"XNAS"})
    assert a.quality() < q
    assert board.available("XNAS", 1_010)    # rested: tried again


def _after_hidden_print(synthetic: SyntheticVenues, min_qty: int) -> tuple[int, int, int]:
    """(time, side of the hidden order, its size) of a hidden execution an hour or more in."""
    day = synthetic.day
    start = int(day.ts_ns[0]) + HOUR
    for i in np.flatnonzero(day.kind == 5):
        if day.ts_ns[i] > start and day.qty[i] >= min_qty:
            return int(day.ts_ns[i]), int(day.side[i]), int(day.qty[i])
    raise AssertionError("no hidden execution of that size")


def test_dark_first_fills_at_the_midpoint_in_the_dark_engine(synthetic: SyntheticVenues) -> None:
    t, hidden_side, size = _after_hidden_print(synthetic, 100)
    market = MultiVenueReplay(synthetic, seed=3)
    market.advance_to(t + 1_000_000)
    router = Router(VENUES, market=market)
    side = "buy" if hidden_side == SELL else "sell"      # against the hidden order
    plan = router.route_order(ParentOrder(parent_id="D1", instrument_id=1, side=side, qty=60), "dark_first")
    assert [(c.venue_id, c.style) for c in plan.children] == [("DARK", "midpoint")]
    report = router.execute_routing_plan(plan)
    _accounted(report, 60)
    dark = [f for f in report.fills if f.venue_id == "DARK"]
    n = plan.nbbo()
    assert dark and sum(f.qty for f in dark) == 60
    assert all(f.price * 2 == n.bid + n.ask for f in dark), (dark, n)    # the exact midpoint, half ticks allowed
    assert report.filled_qty == 60 and {c.wave for c in report.children} == {1}


def test_the_dark_pool_honours_the_minimum_quantity(synthetic: SyntheticVenues) -> None:
    t, hidden_side, size = _after_hidden_print(synthetic, 100)
    market = MultiVenueReplay(synthetic, seed=3)
    market.advance_to(t + 1_000_000)
    router = Router(VENUES, market=market)
    side = "buy" if hidden_side == SELL else "sell"
    big = size * 50       # far more than any single hidden counterparty holds
    parent = ParentOrder(parent_id="D2", instrument_id=1, side=side, qty=big, dark_min_qty=big)
    report = router.execute_routing_plan(router.route_order(parent, "dark_first"))
    _accounted(report, big)
    first = report.outcomes[0]
    assert first.venue_id == "DARK" and first.state == "unfilled" and first.filled_qty == 0
    assert all(f.venue_id != "DARK" for f in report.fills) and report.filled_qty > 0   # swept on the lit venues


def test_a_one_sided_market_is_measured_from_its_quote_and_an_empty_one_refused() -> None:
    from trading.routing.execution import _Run
    from trading.routing.market import Level, MarketSnapshot, VenueBook
    from trading.routing.errors import RoutingError
    one_sided = MarketSnapshot(ts_ns=1, instrument_id=1, books=(
        VenueBook(venue_id="XNAS", asks=(Level(1_000_100, 100),)), VenueBook(venue_id="ARCX"),
        VenueBook(venue_id="BATY"), VenueBook(venue_id="DARK")))
    router = Router(VENUES)
    buy = router.route_order(ParentOrder(parent_id="O1", instrument_id=1, side="buy", qty=50), "cost_minimization",
                             snapshot=one_sided, now_ns=1)
    run = _Run(router, buy, market=None)  # type: ignore[arg-type]
    assert (run.arrival_mid, run.arrival_touch) == (1_000_100.0, 1_000_100)
    empty = msgspec.structs.replace(one_sided, books=tuple(VenueBook(venue_id=v) for v in ("XNAS", "ARCX", "BATY", "DARK")))
    plan = router.route_order(ParentOrder(parent_id="O2", instrument_id=1, side="sell", qty=50), "dark_first",
                              snapshot=empty, now_ns=1)
    assert plan.children == () and plan.deferred_qty == 50
    with pytest.raises(RoutingError, match="no quote on either side at arrival"):
        _Run(router, plan, market=None)  # type: ignore[arg-type]
