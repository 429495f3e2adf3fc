"""FOK orders: all or nothing, decided by a fill check over leaves (reserves included) first."""
from __future__ import annotations

from tests.native import events as ev
from tests.native.streams import CommandStream, opening
from tests.oracle import ENG

BUY, SELL = ENG.SIDE_BUY, ENG.SIDE_SELL


def _continuous(make_engine):
    eng, s = make_engine(), CommandStream()
    eng.submit(opening(s))
    return eng, s


def test_fok_that_cannot_fill_completely_is_cancelled_and_leaves_the_book_untouched(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, SELL, 4, 10_000), s.limit(1, 2, SELL, 4, 10_002)])
    buy = s.limit(1, 3, BUY, 6, 10_001, tif=ENG.TIF_FOK)
    assert eng.submit([buy]) == [ev.accepted(buy),
                                 ev.cancelled(buy, 3, ENG.CXL_FOK_NOT_FILLABLE, 6)]
    assert eng.depth(1, SELL) == [(10_000, 4, 1), (10_002, 4, 1)]


def test_fok_counts_iceberg_reserve_and_fills_across_levels(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, SELL, 9, 10_000, flags=ENG.FLAG_ICEBERG, display_qty=3),
                s.limit(1, 2, SELL, 4, 10_001)])
    buy = s.limit(1, 3, BUY, 11, 10_001, tif=ENG.TIF_FOK)
    assert eng.submit([buy]) == [
        ev.accepted(buy),
        ev.trade(buy, 1, 3, 1, 10_000, 3, 8, 6, BUY),
        ev.level(buy, SELL, 10_000, 3, 1),
        ev.trade(buy, 2, 3, 1, 10_000, 3, 5, 3, BUY),
        ev.level(buy, SELL, 10_000, 3, 1),
        ev.trade(buy, 3, 3, 1, 10_000, 3, 2, 0, BUY),
        ev.level(buy, SELL, 10_000, 0, 0),
        ev.trade(buy, 4, 3, 2, 10_001, 2, 0, 2, BUY),
        ev.level(buy, SELL, 10_001, 2, 1),
    ]


def test_fok_fill_check_stops_at_an_order_of_its_own_stp_group(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, SELL, 4, 10_000, stp_group=7),
                s.limit(1, 2, SELL, 10, 10_000)])
    buy = s.limit(1, 3, BUY, 5, 10_000, tif=ENG.TIF_FOK, stp_group=7,
                  stp_mode=ENG.STP_CANCEL_AGGRESSING)
    assert eng.submit([buy]) == [ev.accepted(buy),
                                 ev.cancelled(buy, 3, ENG.CXL_FOK_NOT_FILLABLE, 5)]


def test_fok_fill_check_skips_own_group_under_cancel_resting(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, SELL, 4, 10_000, stp_group=7),
                s.limit(1, 2, SELL, 10, 10_000)])
    buy = s.limit(1, 3, BUY, 5, 10_000, tif=ENG.TIF_FOK, stp_group=7,
                  stp_mode=ENG.STP_CANCEL_RESTING)
    assert eng.submit([buy]) == [
        ev.accepted(buy),
        ev.cancelled(buy, 1, ENG.CXL_STP, 4),
        ev.level(buy, SELL, 10_000, 10, 1),
        ev.trade(buy, 1, 3, 2, 10_000, 5, 0, 5, BUY),
        ev.level(buy, SELL, 10_000, 5, 1),
    ]
