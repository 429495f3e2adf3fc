"""Post-only limit orders: refused when they would take liquidity in continuous trading."""
from __future__ import annotations

from tests.native import events as ev
from tests.native.streams import CommandStream, opening
from tests.oracle import ENG

BUY, SELL = ENG.SIDE_BUY, ENG.SIDE_SELL
POST_ONLY = ENG.FLAG_POST_ONLY


def _continuous(make_engine):
    eng, s = make_engine(), CommandStream()
    eng.submit(opening(s) + [s.limit(1, 1, SELL, 5, 10_002), s.limit(1, 2, BUY, 5, 9_998)])
    return eng, s


def test_post_only_that_would_cross_is_rejected(make_engine):
    eng, s = _continuous(make_engine)
    buy = s.limit(1, 3, BUY, 1, 10_002, flags=POST_ONLY)
    sell = s.limit(1, 4, SELL, 1, 9_998, flags=POST_ONLY)
    assert eng.submit([buy, sell]) == [ev.rejected(buy, ENG.REJ_POST_ONLY_WOULD_TAKE),
                                       ev.rejected(sell, ENG.REJ_POST_ONLY_WOULD_TAKE)]
    assert eng.depth(1, SELL) == [(10_002, 5, 1)]


def test_post_only_inside_the_spread_rests(make_engine):
    eng, s = _continuous(make_engine)
    buy = s.limit(1, 3, BUY, 1, 10_001, flags=POST_ONLY)
    assert eng.submit([buy]) == [ev.accepted(buy), ev.level(buy, BUY, 10_001, 1, 1)]


def test_post_only_is_only_allowed_on_resting_limit_orders(make_engine):
    eng, s = _continuous(make_engine)
    ioc = s.limit(1, 3, BUY, 1, 9_990, tif=ENG.TIF_IOC, flags=POST_ONLY)
    stop = s.new_order(1, 4, BUY, 1, 10_005, ord_type=ENG.ORD_STOP_LIMIT, stop_price=10_005,
                       flags=POST_ONLY)
    unknown_bit = s.limit(1, 5, BUY, 1, 9_990, flags=8)
    assert eng.submit([ioc, stop, unknown_bit]) == [ev.rejected(ioc, ENG.REJ_BAD_FLAGS),
                                                    ev.rejected(stop, ENG.REJ_BAD_FLAGS),
                                                    ev.rejected(unknown_bit, ENG.REJ_BAD_FLAGS)]


def test_post_only_replace_to_a_crossing_price_is_rejected(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 3, BUY, 1, 9_999, flags=POST_ONLY)])
    rep = s.replace(1, 3, 10_002, 1)
    assert eng.submit([rep]) == [ev.rejected(rep, ENG.REJ_POST_ONLY_WOULD_TAKE)]
    assert eng.order(3)["price"] == 9_999


def test_post_only_crossing_in_pre_open_rests(make_engine):
    eng, s = make_engine(), CommandStream()
    eng.submit([s.add_instrument(1), s.set_phase(1, ENG.PHASE_PRE_OPEN),
                s.limit(1, 1, SELL, 5, 10_000)])
    buy = s.limit(1, 2, BUY, 1, 10_001, flags=POST_ONLY)
    assert eng.submit([buy]) == [ev.accepted(buy), ev.level(buy, BUY, 10_001, 1, 1)]
