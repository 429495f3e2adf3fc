"""Passive children: the queue model against a simulation with a known answer, and posts in the
multi-venue replay of the GOOG day (every child accounted for, posts cancelled at their expiry or
when the touch moves away, a post's venue killed while it rests)."""
from __future__ import annotations

import math

import msgspec
import numpy as np
import pytest

from tests.trading.replay.conftest import GOOG, sample
from gateway.regnms.rules import rules_in_force
from trading.replay.lobster import load_lobster
from trading.routing import ParentOrder, Router
from trading.routing.flow import REPLAY_VENUES, run_flow, synthetic_parents
from trading.routing.impact import estimate_from_day
from trading.routing.queue import QueueModel, touch_move_rate
from trading.routing.replay_market import SyntheticVenues


def _simulated(rate: float, size: float, ahead: float, qty: float, horizon_s: float, move: float = 0.0,
               n: int = 200_000) -> tuple[float, float]:
    """Marketable orders as a Poisson process, simulated by their exponential gaps; the post cancelled
    at an exponential time of rate `move` (a better price in front of it) when that comes first."""
    rng = np.random.default_rng(7)
    gaps = rng.exponential(1.0 / rate, size=(n, 60))
    rests = np.minimum(horizon_s, rng.exponential(1.0 / move, size=n)) if move > 0 else np.full(n, horizon_s)
    arrivals = (np.cumsum(gaps, axis=1) <= rests[:, None]).sum(axis=1)
    fill = np.minimum(qty, np.maximum(0.0, arrivals * size - ahead))
    return float(fill.mean()), float((fill >= qty).mean())


@pytest.mark.parametrize("rate,size,ahead,qty,horizon,move", [
    (0.5, 100, 0, 100, 2.0, 0.0), (0.2, 120, 250, 300, 8.0, 0.0), (2.0, 50, 400, 200, 3.0, 0.0),
    (1.0, 100, 1000, 100, 1.0, 0.0), (0.5, 100, 0, 100, 4.0, 0.3), (1.0, 50, 120, 200, 6.0, 1.0),
    (0.13, 119, 0, 200, 8.0, 0.275)])
def test_the_queue_model_matches_a_simulated_poisson_queue(rate: float, size: float, ahead: float, qty: float,
                                                           horizon: float, move: float) -> None:
    model = QueueModel(rate_per_s=rate, trade_size=size, move_rate_per_s=move)
    sim_fill, sim_full = _simulated(rate, size, ahead, qty, horizon, move)
    assert model.expected_fill(ahead, qty, horizon) == pytest.approx(sim_fill, abs=0.01 * qty + 0.5)
    assert model.full_fill_probability(ahead, qty, horizon) == pytest.approx(sim_full, abs=0.01)


def test_closed_forms_and_bad_input() -> None:
    model = QueueModel(rate_per_s=0.5, trade_size=100)
    # nothing ahead, one trade's worth: filled at the first arrival
    assert model.full_fill_probability(0, 100, 2.0) == pytest.approx(1 - math.exp(-1.0), rel=1e-12)
    assert model.expected_fill(0, 100, 0.0) == 0.0
    assert model.expected_fill(10**6, 100, 1.0) == pytest.approx(0.0, abs=1e-9)
    for bad in (dict(rate_per_s=-1.0, trade_size=1.0), dict(rate_per_s=1.0, trade_size=0.0),
                dict(rate_per_s=float("nan"), trade_size=1.0), dict(rate_per_s=1.0, trade_size=1.0, move_rate_per_s=-1.0)):
        with pytest.raises(ValueError):
            QueueModel(**bad)   # type: ignore[arg-type]


def test_the_touch_move_rate_counts_the_days_best_price_improvements(goog: tuple[SyntheticVenues, object]) -> None:
    day = goog[0].day
    assert day.visible_book is not None
    moves, last = 0, None
    for row in day.visible_book:       # the slow way: row by row, two-sided instants only
        ask, bid = int(row[0]), int(row[2])
        if not (0 < ask < 9_000_000_000 and 0 < bid):
            continue
        if last is not None:
            moves += (bid > last[1]) + (ask < last[0])
        last = (ask, bid)
    span_s = (int(day.ts_ns[-1]) - int(day.ts_ns[0])) / 1e9
    assert touch_move_rate(day) == pytest.approx(moves / 2 / span_s, rel=1e-12)


@pytest.fixture(scope="module")
def goog() -> tuple[SyntheticVenues, object]:
    day = load_lobster(sample(GOOG))
    return SyntheticVenues.build(day, REPLAY_VENUES, seed=1), estimate_from_day(day, horizon_ns=1_000_000_000)


def _check_accounting(report: object) -> None:
    r = report
    sent = [c.child_id for c in r.children]                                   # type: ignore[attr-defined]
    assert len(sent) == len(set(sent)) == len(r.outcomes)                     # type: ignore[attr-defined]
    assert [o.child_id for o in r.outcomes] == sent                           # type: ignore[attr-defined]
    by_child: dict[str, int] = {}
    for f in r.fills:                                                         # type: ignore[attr-defined]
        by_child[f.child_id] = by_child.get(f.child_id, 0) + f.qty
    for c, o in zip(r.children, r.outcomes):                                  # type: ignore[attr-defined]
        assert o.filled_qty == by_child.get(c.child_id, 0) <= c.qty
    assert r.filled_qty == sum(by_child.values()) <= r.parent.qty             # type: ignore[attr-defined]


def test_posts_rest_and_are_cancelled_and_every_child_is_accounted_for(goog: tuple[SyntheticVenues, object]) -> None:
    syn, impact = goog
    parents = synthetic_parents(syn.day, 12, seed=5, horizon_ns=10_000_000_000, max_waves=50, post_ns=8_000_000_000)
    flow = run_flow(syn, "passive", parents, seed=5, impact=impact, rules=rules_in_force())   # type: ignore[arg-type]
    posts = [(c, o) for r in flow.reports for c, o in zip(r.children, r.outcomes) if c.style == "post"]
    assert posts, "the passive strategy posted nothing on 12 parents"
    for r in flow.reports:
        _check_accounting(r)
        for c, o in zip(r.children, r.outcomes):
            if c.style == "post":
                assert o.state == "filled" or o.reason.startswith("cancelled"), r.describe()
                assert o.answered_ns is not None
                # the sweep of what the post left is decided only once the post is over
                assert all(p.created_ns >= o.answered_ns for p in r.plans if p.wave > c.wave), r.describe()
        rested = [o for c, o in zip(r.children, r.outcomes) if c.style == "post" and o.state != "filled"]
        if rested and r.filled_qty < r.parent.qty:
            assert len(r.plans) > 1, "the post's remainder was never swept"


def test_a_posts_venue_killed_while_it_rests(goog: tuple[SyntheticVenues, object]) -> None:
    from trading.routing.replay_market import MultiVenueReplay
    syn, impact = goog
    parents = synthetic_parents(syn.day, 12, seed=5, horizon_ns=10_000_000_000, max_waves=50, post_ns=8_000_000_000)
    market = MultiVenueReplay(syn, seed=5)
    router = Router(syn.venues, impact=impact, market=market)   # type: ignore[arg-type]
    for t, parent in parents:
        market.advance_to(t)
        plan = router.route_order(parent, "passive")
        post = next((c for c in plan.children if c.style == "post"), None)
        if post is None:
            continue
        market.kill(post.venue_id, market.now_ns() + 1_000_000)      # dead 1 ms after the decision
        report = router.execute_routing_plan(plan)
        _check_accounting(report)
        out = dict(zip((c.child_id for c in report.children), report.outcomes))
        assert out[post.child_id].state == "timed_out", report.describe()
        assert post.venue_id in report.venues_down
        assert all(c.venue_id != post.venue_id for c in report.children if c.wave > 1)
        assert report.filled_qty == parent.qty, report.describe()
        return
    pytest.fail("no parent of 12 got a post")


def _book(vid: str, bid: int, ask: int, qty: int = 300) -> "VenueBook":
    from trading.routing.market import Level, VenueBook
    return VenueBook(venue_id=vid, bids=(Level(bid, qty),), asks=(Level(ask, qty),))


def test_a_post_goes_inside_a_wide_spread_never_locks_and_respects_the_limit() -> None:
    from trading.routing import venue
    from trading.routing.impact import SquareRootImpact
    from trading.routing.market import MarketSnapshot
    venues = [venue("L1", market_share=0.6, taker_fee_mils=10.0, maker_rebate_mils=8.0),
              venue("L2", market_share=0.4, taker_fee_mils=3.0, maker_rebate_mils=-2.0)]
    busy = SquareRootImpact(y=0.7, sigma_day=0.01, volume_day=5e6, samples=25_000, source="test")
    router = Router(venues, impact=busy)
    parent = ParentOrder(parent_id="P", instrument_id=1, side="buy", qty=500, post_ns=5_000_000_000)
    wide = MarketSnapshot(ts_ns=0, instrument_id=1, books=(_book("L1", 999_000, 1_001_000), _book("L2", 999_000, 1_001_000)))
    plan = router.route_order(parent, "passive", wide, 0)
    posts = [c for c in plan.children if c.style == "post"]
    assert len(posts) == 1, plan.describe()
    # a tick inside the 99.90 bid (nobody ahead) on the venue that pays the rebate; below every offer
    assert (posts[0].venue_id, posts[0].price) == ("L1", 999_100), plan.describe()
    # min(post_ns, horizon 5 s - one wave interval 0.2 s): the sweep keeps its last wave
    assert posts[0].expires_ns == 4_800_000_000 and 0 < posts[0].expected_fill_qty <= posts[0].qty
    assert sum(c.qty for c in plan.children) + plan.deferred_qty == parent.qty
    # a one-tick spread: inside would lock; the post joins the bid, behind the queue there
    tight = MarketSnapshot(ts_ns=0, instrument_id=1, books=(_book("L1", 999_900, 1_000_000, 100),
                                                            _book("L2", 999_900, 1_000_000, 100)))
    for c in router.route_order(parent, "passive", tight, 0).children:
        assert c.style != "post" or c.price == 999_900
    # a locked NBBO: no post at all; a limit below the bid: no post either
    locked = MarketSnapshot(ts_ns=0, instrument_id=1, books=(_book("L1", 1_000_000, 1_000_100), _book("L2", 999_900, 1_000_000)))
    assert all(c.style != "post" for c in router.route_order(parent, "passive", locked, 0).children)
    low = msgspec.structs.replace(parent, limit_price=998_000)
    assert all(c.style != "post" for c in router.route_order(low, "passive", wide, 0).children)
    # a quiet venue (no marketable flow): resting cannot beat crossing
    quiet = Router(venues, impact=SquareRootImpact(y=0.7, sigma_day=0.01, volume_day=1.0, samples=1, source="test"))
    assert all(c.style != "post" for c in quiet.route_order(parent, "passive", wide, 0).children)


def test_a_post_to_a_halted_venue_is_rejected_and_the_rest_swept(goog: tuple[SyntheticVenues, object]) -> None:
    from trading.routing.replay_market import MultiVenueReplay
    syn, impact = goog
    parents = synthetic_parents(syn.day, 12, seed=5, horizon_ns=10_000_000_000, max_waves=50, post_ns=8_000_000_000)
    market = MultiVenueReplay(syn, seed=5)
    router = Router(syn.venues, impact=impact, market=market)   # type: ignore[arg-type]
    for t, parent in parents:
        market.advance_to(t)
        plan = router.route_order(parent, "passive")
        post = next((c for c in plan.children if c.style == "post"), None)
        if post is None:
            continue
        market.halt(post.venue_id)          # before the post reaches it
        report = router.execute_routing_plan(plan)
        _check_accounting(report)
        out = dict(zip((c.child_id for c in report.children), report.outcomes))
        assert out[post.child_id].state == "rejected" and "REJ_PHASE" in out[post.child_id].reason, report.describe()
        assert out[post.child_id].filled_qty == 0
        assert report.filled_qty == parent.qty, report.describe()
        return
    pytest.fail("no parent of 12 got a post")
