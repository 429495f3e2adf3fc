"""Property-based: over random multi-venue books, every strategy's every wave never trades through a
protected quote, never sends a sub-penny price and never routes to a venue whose fee is above the
Rule 610 cap. The checks here are written from the rules' text, apart from the router's own."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.trading.routing.books import TICK, snapshots, venues
from trading.routing.market import BUY, MarketSnapshot
from trading.routing.impact import SquareRootImpact
from trading.routing.plan import ChildOrder, ParentOrder
from trading.routing.router import Router
from gateway.regnms.rules import RuleVersion, load_rules
from trading.routing.venue import fee_cap_usd, taker_fee_usd
from trading.routing.strategies import STRATEGIES

# a busy instrument (many marketable orders a day): the passive strategy's queue model then makes it post often
BUSY = SquareRootImpact(y=0.7, sigma_day=0.01, volume_day=5e6, samples=25_000, source="property tests")
RULE_VERSIONS = load_rules().versions   # the 2005 values and the 2024 amendment (gateway/regnms/rules.toml)


def trade_throughs(children: tuple[ChildOrder, ...], snap: MarketSnapshot, side: int, unprotected: set[str]) -> list[str]:
    """Each take child at price p: every other protected quote strictly better than p must be swept
    in full by this wave's take child at its venue (ISO), and the child flagged ISO."""
    takes = {c.venue_id: c for c in children if c.style == "take"}
    bad = []
    for c in takes.values():
        for b in snap.books:
            if b.venue_id == c.venue_id or b.stale or b.venue_id in unprotected:
                continue
            contra = b.asks if side == BUY else b.bids
            if not contra:
                continue
            top = contra[0]
            strictly_better = top.price < c.price if side == BUY else top.price > c.price
            if not strictly_better:
                continue
            sweep = takes.get(b.venue_id)
            reaches = sweep is not None and (sweep.price >= top.price if side == BUY else sweep.price <= top.price)
            if not (reaches and sweep is not None and sweep.qty >= top.qty and c.intermarket_sweep):
                bad.append(f"{c.child_id} @ {c.price} through {b.venue_id} {top}")
    return bad


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_trade_through_no_sub_penny_no_fee_above_cap(data: st.DataObject) -> None:
    profiles = data.draw(venues())
    snap = data.draw(snapshots(profiles))
    rules: RuleVersion = data.draw(st.sampled_from(RULE_VERSIONS))
    side = data.draw(st.sampled_from(["buy", "sell"]))
    limit = data.draw(st.one_of(st.none(), st.integers(990_000 // TICK, 1_010_000 // TICK).map(lambda p: p * TICK)))
    parent = ParentOrder(parent_id="P", instrument_id=1, side=side, qty=data.draw(st.integers(1, 400)) * 10,
                         limit_price=limit, risk_aversion=data.draw(st.sampled_from([0.0, 1e-6, 1e-3])))
    router = Router(profiles, rules=rules, impact=BUSY)
    down = data.draw(st.sets(st.sampled_from([v.id for v in profiles]), max_size=1))
    for v in down:
        router.scores.record_timeout(v, now_ns=snap.ts_ns)
    strategy = data.draw(st.sampled_from(sorted(STRATEGIES)))
    wave = data.draw(st.integers(1, 3))
    plan = router.plan_wave(parent, strategy, parent.qty, wave, snap, snap.ts_ns, None, snap.ts_ns + parent.horizon_ns)
    assert sum(c.qty for c in plan.children) + plan.deferred_qty == parent.qty
    fees_ok_cap = {v.id: taker_fee_usd(v) for v in profiles}
    for c in plan.children:
        assert c.qty > 0
        if c.style == "take":
            assert c.price > 0 and c.price % TICK == 0, f"sub-penny or bad price {c.price}"
            if limit is not None:
                assert (c.price <= limit) if side == "buy" else (c.price >= limit)
            assert fees_ok_cap[c.venue_id] <= fee_cap_usd(rules, c.price) + 1e-12, f"{c.venue_id} fee above the cap"
        elif c.style == "post":
            # on the grid, on a lit venue, and never locking or crossing a protected quote (610(d))
            assert c.price > 0 and c.price % TICK == 0 and c.venue_id.startswith("L")
            for b in snap.books:
                contra = b.asks if side == "buy" else b.bids
                if b.stale or b.venue_id in set(down) or not contra:
                    continue
                assert (c.price < contra[0].price) if side == "buy" else (c.price > contra[0].price), \
                    f"post {c.price} locks or crosses {b.venue_id}'s {contra[0]}"
        else:
            assert c.price == 0 and c.venue_id.startswith("D")
            assert fees_ok_cap[c.venue_id] <= fee_cap_usd(rules, 1_000_000) + 1e-12
        assert c.venue_id not in down
    unprotected = set(down) | {v for v, why in plan.excluded if "fee" in why}
    assert trade_throughs(plan.children, snap, parent.side_code, unprotected) == []
