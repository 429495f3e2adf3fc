"""Plans print, store as JSON and load back equal; bad input to every entry point is refused with a
message naming the problem."""
from __future__ import annotations

import msgspec
import pytest

from gateway.regnms.rules import load_rules
from trading.routing import ParentOrder, Router, RoutingError, plan_from_json, venue
from trading.routing.market import Level, MarketSnapshot, VenueBook
from trading.routing.venue import fee_cap_usd

VENUES = [venue("A", market_share=0.6, taker_fee_mils=9.0),
          venue("B", market_share=0.4, taker_fee_mils=5.0),
          venue("D", kind="dark", market_share=0.1, taker_fee_mils=5.0)]
BOOK = load_rules()
RULES_2005, RULES_2024 = BOOK.named("regnms-2005"), BOOK.named("regnms-2024")
SNAP = MarketSnapshot(ts_ns=5, instrument_id=1, books=(
    VenueBook(venue_id="A", bids=(Level(999_900, 300),), asks=(Level(1_000_100, 200), Level(1_000_200, 500))),
    VenueBook(venue_id="B", bids=(Level(999_800, 100),), asks=(Level(1_000_000, 100), Level(1_000_300, 100))),
    VenueBook(venue_id="D")))


def test_plan_round_trips_through_json_and_prints() -> None:
    parent = ParentOrder(parent_id="P1", instrument_id=1, side="buy", qty=500)
    plan = Router(VENUES).route_order(parent, "fill_probability", snapshot=SNAP, now_ns=5)
    again = plan_from_json(plan.to_json())
    assert again == plan
    text = plan.describe()
    for c in plan.children:
        assert c.child_id in text and c.venue_id in text
    # B's 10.00 is better than A's asks: any child at A beyond it sweeps B first, flagged ISO
    by_venue = {c.venue_id: c for c in plan.children}
    assert by_venue["B"].qty >= 100 and by_venue["B"].price >= 1_000_000
    assert all(c.intermarket_sweep for c in plan.children if c.venue_id == "A" and c.price > 1_000_000)


@pytest.mark.parametrize("doc, where", [
    (b"{}", "parent"),
    (b"[1,2]", "Expected `object`"),
    (b"not json", "not a routing plan"),
])
def test_a_document_that_is_not_a_plan_is_refused(doc: bytes, where: str) -> None:
    with pytest.raises(RoutingError, match="not a routing plan") as info:
        plan_from_json(doc)
    assert where in str(info.value) or "not a routing plan" in str(info.value)


def test_a_stored_plan_with_a_bad_parent_is_refused() -> None:
    parent = ParentOrder(parent_id="P1", instrument_id=1, side="buy", qty=500)
    plan = Router(VENUES).route_order(parent, "cost_minimization", snapshot=SNAP, now_ns=5)
    doc = msgspec.json.decode(plan.to_json())
    doc["parent"]["qty"] = -3
    with pytest.raises(RoutingError, match="quantity -3 must be positive"):
        plan_from_json(msgspec.json.encode(doc))


@pytest.mark.parametrize("fields, message", [
    (dict(qty=0), "quantity 0 must be positive"),
    (dict(side="hold"), "not a routing plan|side"),
    (dict(limit_price=-5), "limit price -5"),
    (dict(collar_bps=0.0), "collar"),
    (dict(max_waves=0), "max_waves"),
    (dict(dark_min_qty=10_000), "dark minimum quantity"),
])
def test_bad_parent_orders_are_refused(fields: dict[str, object], message: str) -> None:
    base = dict(parent_id="P", instrument_id=1, side="buy", qty=100)
    base.update(fields)
    router = Router(VENUES)
    with pytest.raises((RoutingError, msgspec.ValidationError), match=message):
        order = msgspec.convert(base, ParentOrder) if fields.get("side") != "hold" else ParentOrder(**base)  # type: ignore[arg-type]
        router.route_order(order, "cost_minimization", snapshot=SNAP, now_ns=5)


def test_unknown_strategy_and_wrong_instrument_are_refused() -> None:
    router = Router(VENUES)
    parent = ParentOrder(parent_id="P", instrument_id=1, side="sell", qty=100)
    with pytest.raises(RoutingError, match="unknown routing strategy 'fastest'.*cost_minimization"):
        router.route_order(parent, "fastest", snapshot=SNAP, now_ns=5)
    with pytest.raises(RoutingError, match="snapshot is of instrument 1, the order of 2"):
        router.route_order(msgspec.structs.replace(parent, instrument_id=2), "dark_first", snapshot=SNAP, now_ns=5)
    with pytest.raises(RoutingError, match="needs a snapshot"):
        router.route_order(parent, "dark_first")


@pytest.mark.parametrize("fields, message", [
    (dict(venue_id=""), "venue id is empty"),
    (dict(venue_id="A", market_share=1.5), "market_share 1.5"),
    (dict(venue_id="A", reliability=0.0), "reliability"),
    (dict(venue_id="A", avg_us=10.0, p99_us=5.0), "latency"),
    (dict(venue_id="A", avg_us=10.0, p99_us=1000.0), "lognormal"),
    (dict(venue_id="A", taker_fee_mils=-2.0), "taker rebate is not an access fee"),
    (dict(venue_id="A", taker_fee_mils=float("nan")), "finite"),
])
def test_bad_venues_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(RoutingError, match=message):
        Router([venue(**fields)])  # type: ignore[arg-type]


def test_a_venue_of_an_unknown_type_is_refused() -> None:
    with pytest.raises(RoutingError, match="type"):
        venue("A", kind="ecn")  # type: ignore[arg-type]


def test_venue_sets_need_unique_ids_and_a_lit_venue() -> None:
    with pytest.raises(RoutingError, match="unique"):
        Router([VENUES[0], VENUES[0]])
    with pytest.raises(RoutingError, match="lit venue"):
        Router([VENUES[2]])


def test_fee_caps_from_the_rule_data() -> None:
    assert fee_cap_usd(RULES_2024, 1_000_000) == pytest.approx(0.001)
    assert fee_cap_usd(RULES_2005, 1_000_000) == pytest.approx(0.003)
    assert fee_cap_usd(RULES_2024, 5_000) == pytest.approx(0.001 * 0.5)   # 0.1 % of $0.50
    assert fee_cap_usd(RULES_2005, 5_000) == pytest.approx(0.003 * 0.5)


def test_a_venue_above_the_fee_cap_is_excluded_and_said_why() -> None:
    pricey = venue("C", market_share=0.9, taker_fee_mils=25.0)
    snap = MarketSnapshot(ts_ns=5, instrument_id=1, books=SNAP.books + (
        VenueBook(venue_id="C", bids=(Level(999_900, 100),), asks=(Level(999_900, 5000),)),))
    plan = Router(VENUES + [pricey], rules=RULES_2024).route_order(ParentOrder(parent_id="P", instrument_id=1, side="buy", qty=300),
                                                  "largest_venue", snapshot=snap, now_ns=5)
    assert all(c.venue_id != "C" for c in plan.children)
    assert any(v == "C" and "Rule 610 cap" in why for v, why in plan.excluded)


def test_router_from_the_shipped_multi_venue_config() -> None:
    from pathlib import Path

    from gateway.venues import config as mv
    multi = mv.load_multi_config(Path(mv.__file__).with_name("multi_venue.toml"))
    router = Router.from_config(multi, "GLOBX")
    assert set(router.venues) == {v.id for v in multi.venues if "GLOBX" in v.instruments}
    assert router.tick_class == "half_penny" and router.rules == multi.rules()
    with pytest.raises(RoutingError, match="no venue of the configuration trades 'NOPE'"):
        Router.from_config(multi, "NOPE")


def test_a_child_passing_a_set_aside_venues_quote_goes_as_an_iso() -> None:
    router = Router(VENUES)
    router.scores.record_timeout("B", now_ns=5)          # B (10.00 offer) stopped answering: self-help
    plan = router.route_order(ParentOrder(parent_id="P", instrument_id=1, side="buy", qty=150),
                              "cost_minimization", snapshot=SNAP, now_ns=6)
    assert [(c.venue_id, c.price, c.intermarket_sweep) for c in plan.children] == [("A", 1_000_100, True)]
    assert any(v == "B" and "stopped answering" in why for v, why in plan.excluded)
