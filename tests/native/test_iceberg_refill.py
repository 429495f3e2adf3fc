"""Iceberg orders: only the peak shows; an exhausted peak refills from the reserve and the order
goes to the back of its level before the level is reported."""
from __future__ import annotations

from tests.native import events as ev
from tests.native.streams import CommandStream, opening
from tests.oracle import ENG

BUY, SELL = ENG.SIDE_BUY, ENG.SIDE_SELL
ICEBERG = ENG.FLAG_ICEBERG


def _continuous(make_engine):
    eng, s = make_engine(), CommandStream()
    eng.submit(opening(s))
    return eng, s


def test_iceberg_shows_only_its_peak(make_engine):
    eng, s = _continuous(make_engine)
    sell = s.limit(1, 1, SELL, 30, 10_000, flags=ICEBERG, display_qty=10)
    assert eng.submit([sell]) == [ev.accepted(sell), ev.level(sell, SELL, 10_000, 10, 1)]
    info = eng.order(1)
    assert (info["shown_qty"], info["reserve_qty"], info["leaves_qty"], info["display_qty"]) == \
        (10, 20, 30, 10)


def test_exhausted_peak_refills_and_moves_behind_later_orders(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, SELL, 30, 10_000, flags=ICEBERG, display_qty=10),
                s.limit(1, 2, SELL, 5, 10_000)])
    assert eng.depth(1, SELL) == [(10_000, 15, 2)]
    buy = s.limit(1, 3, BUY, 12, 10_000)
    assert eng.submit([buy]) == [
        ev.accepted(buy),
        ev.trade(buy, 1, 3, 1, 10_000, 10, 2, 20, BUY),
        ev.level(buy, SELL, 10_000, 15, 2),
        ev.trade(buy, 2, 3, 2, 10_000, 2, 0, 3, BUY),
        ev.level(buy, SELL, 10_000, 13, 2),
    ]
    assert [o["order_id"] for o in eng.orders(1, SELL)] == [2, 1]
    info = eng.order(1)
    assert (info["shown_qty"], info["reserve_qty"], info["leaves_qty"]) == (10, 10, 20)


def test_lone_iceberg_is_traded_peak_after_peak_by_one_aggressor(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, SELL, 30, 10_000, flags=ICEBERG, display_qty=10)])
    buy = s.limit(1, 2, BUY, 25, 10_000)
    assert eng.submit([buy]) == [
        ev.accepted(buy),
        ev.trade(buy, 1, 2, 1, 10_000, 10, 15, 20, BUY),
        ev.level(buy, SELL, 10_000, 10, 1),
        ev.trade(buy, 2, 2, 1, 10_000, 10, 5, 10, BUY),
        ev.level(buy, SELL, 10_000, 10, 1),
        ev.trade(buy, 3, 2, 1, 10_000, 5, 0, 5, BUY),
        ev.level(buy, SELL, 10_000, 5, 1),
    ]
    assert eng.order(1)["reserve_qty"] == 0


def test_last_refill_shows_only_what_is_left_of_the_reserve(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, BUY, 14, 10_000, flags=ICEBERG, display_qty=10)])
    sell = s.limit(1, 2, SELL, 10, 10_000)
    assert eng.submit([sell]) == [
        ev.accepted(sell),
        ev.trade(sell, 1, 1, 2, 10_000, 10, 4, 0, SELL),
        ev.level(sell, BUY, 10_000, 4, 1),
    ]


def test_iceberg_display_must_be_below_its_quantity(make_engine):
    eng, s = _continuous(make_engine)
    too_big = s.limit(1, 1, SELL, 10, 10_000, flags=ICEBERG, display_qty=10)
    no_flag = s.limit(1, 2, SELL, 10, 10_000, display_qty=5)
    assert eng.submit([too_big, no_flag]) == [ev.rejected(too_big, ENG.REJ_BAD_DISPLAY_QTY),
                                              ev.rejected(no_flag, ENG.REJ_BAD_DISPLAY_QTY)]
