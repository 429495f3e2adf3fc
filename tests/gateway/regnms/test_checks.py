"""Rules 610, 611, 612 as checks, property-tested over random multi-venue books against a direct,
share-by-share computation written here independently of gateway/regnms/checks.py."""
from __future__ import annotations

import datetime as dt
import json

from hypothesis import given, settings, strategies as st

from gateway.reasons import Reason
from gateway.regnms import checks
from gateway.regnms.checks import BUY, SELL, AwayQuote, Level
from gateway.regnms.rules import load_rules

RULES_2024 = load_rules().in_force(dt.date(2026, 1, 5))
RULES_2005 = load_rules().in_force(dt.date(2020, 1, 6))

TICK = 100
prices = st.integers(990_000, 1_010_000).map(lambda p: p - p % TICK)


@st.composite
def venue_books(draw):
    """Three venues' books (bids best first, asks best first), uncrossed within each venue."""
    books = []
    for _ in range(3):
        mid = draw(prices)
        bids = sorted({mid - TICK * draw(st.integers(1, 30)) for _ in range(draw(st.integers(0, 4)))}, reverse=True)
        asks = sorted({mid + TICK * draw(st.integers(0, 30)) for _ in range(draw(st.integers(0, 4)))})
        books.append(([Level(p, draw(st.integers(1, 500))) for p in bids],
                      [Level(p, draw(st.integers(1, 500))) for p in asks]))
    return books


def away_of(books, me):
    """The other venues' best bid and offer (their protected quotes), computed directly."""
    bids = [b[0].price for i, (b, _) in enumerate(books) if i != me and b]
    asks = [a[0].price for i, (_, a) in enumerate(books) if i != me and a]
    return AwayQuote(max(bids) if bids else None, min(asks) if asks else None)


def share_prices(side, limit, qty, opposite):
    """The price of every share the order would take, one share at a time."""
    out = []
    for level in opposite:
        for _ in range(level.qty):
            if len(out) == qty:
                return out
            if limit is not None and (level.price > limit if side == BUY else level.price < limit):
                return out
            out.append(level.price)
    return out


@settings(max_examples=300, deadline=None)
@given(venue_books(), st.integers(0, 2), st.sampled_from([BUY, SELL]), st.one_of(st.none(), prices),
       st.integers(1, 1500), st.booleans())
def test_no_execution_through_a_protected_quote(books, me, side, limit, qty, ioc):
    bids, asks = books[me]
    opposite = asks if side == BUY else bids
    away = away_of(books, me)
    refusal = checks.check_order_protection(side, limit, qty, ioc, False, opposite, away)
    fills = share_prices(side, limit, qty, opposite)
    through = [p for p in fills if (side == BUY and away.ask is not None and p > away.ask)
               or (side == SELL and away.bid is not None and p < away.bid)]
    if through:
        assert refusal is not None and refusal.reason == Reason.ENG_REJ_REGNMS_TRADE_THROUGH
        return
    rests = len(fills) < qty and not ioc and limit is not None
    locks = rests and ((side == BUY and away.ask is not None and limit >= away.ask)
                       or (side == SELL and away.bid is not None and limit <= away.bid))
    if locks:
        assert refusal is not None and refusal.reason == Reason.ENG_REJ_REGNMS_LOCK_CROSS
    else:
        assert refusal is None
    # route away: what the venue may keep never trades through, and one share more would
    keep = checks.protected_quantity(side, limit, qty, opposite, away)
    assert keep == sum(1 for p in fills if p not in through) == len(fills)


@settings(max_examples=200, deadline=None)
@given(venue_books(), st.integers(0, 2), st.sampled_from([BUY, SELL]), st.integers(1, 1500))
def test_route_away_keeps_only_what_does_not_trade_through(books, me, side, qty):
    bids, asks = books[me]
    opposite = asks if side == BUY else bids
    away = away_of(books, me)
    fills = share_prices(side, None, qty, opposite)
    keep = checks.protected_quantity(side, None, qty, opposite, away)
    worse = [(p > away.ask) if side == BUY and away.ask is not None else
             (p < away.bid) if side == SELL and away.bid is not None else False for p in fills]
    assert keep == sum(1 for w in worse if not w)
    assert all(not w for w in worse[:keep])


def test_an_intermarket_sweep_order_is_accepted_when_ioc_limit():
    opposite = [Level(1_000_200, 100)]
    away = AwayQuote(bid=999_900, ask=1_000_100)
    through = checks.check_order_protection(BUY, 1_000_200, 100, True, False, opposite, away)
    assert through is not None and through.rule == "611"
    assert checks.check_order_protection(BUY, 1_000_200, 100, True, True, opposite, away) is None
    bad = checks.check_order_protection(BUY, 1_000_200, 100, False, True, opposite, away)
    assert bad is not None and bad.reason == Reason.ENG_REJ_REGNMS_BAD_ISO
    line = json.loads(through.audit_line(venue="LITA", order=7))
    assert line["reason_name"] == "ENG_REJ_REGNMS_TRADE_THROUGH" and line["venue"] == "LITA"


@settings(max_examples=500, deadline=None)
@given(st.integers(1, 5_000_000), st.sampled_from(["penny", "half_penny"]))
def test_sub_penny_prices_are_refused(price, tick_class):
    for rules, half in ((RULES_2024, 50), (RULES_2005, 100)):
        increment = 1 if price < 10_000 else (half if tick_class == "half_penny" else 100)
        refusal = checks.check_price_increment(price, rules, tick_class)
        if price % increment:
            assert refusal is not None and refusal.reason == Reason.ENG_REJ_REGNMS_SUB_PENNY
        else:
            assert refusal is None


@settings(max_examples=300, deadline=None)
@given(st.floats(0, 60, allow_nan=False), st.floats(0, 1, allow_nan=False))
def test_fees_above_the_cap_are_refused(mils, pct):
    for rules, cap, cap_pct in ((RULES_2024, 10.0, 0.1), (RULES_2005, 30.0, 0.3)):
        refusal = checks.check_access_fee(mils, pct, rules)
        assert (refusal is not None) == (mils > cap or pct > cap_pct)
        if refusal is not None:
            assert refusal.reason == Reason.ENG_REJ_REGNMS_FEE_CAP


def test_market_state():
    assert [checks.market_state(b, a) for b, a in ((None, None), (1, None), (1, 2), (2, 2), (3, 2))] == \
        ["empty", "one_sided", "normal", "locked", "crossed"]
