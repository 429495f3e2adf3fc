"""IOC limit orders: trade what they can at their limit, the remainder is cancelled, never rests."""
from __future__ import annotations

from tests.native import events as ev
from tests.native.streams import CommandStream, opening
from tests.oracle import ENG

BUY, SELL = ENG.SIDE_BUY, ENG.SIDE_SELL


def _continuous(make_engine):
    eng, s = make_engine(), CommandStream()
    eng.submit(opening(s))
    return eng, s


def test_ioc_fills_up_to_its_limit_and_cancels_the_remainder(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, SELL, 4, 10_000), s.limit(1, 2, SELL, 4, 10_005)])
    buy = s.limit(1, 3, BUY, 10, 10_001, tif=ENG.TIF_IOC, account_id=2)
    assert eng.submit([buy]) == [
        ev.accepted(buy),
        ev.trade(buy, 1, 3, 1, 10_000, 4, 6, 0, BUY, buy_account=2),
        ev.level(buy, SELL, 10_000, 0, 0),
        ev.cancelled(buy, 3, ENG.CXL_IOC_REMAINDER, 6, account=2),
    ]
    assert eng.depth(1, BUY) == []
    assert eng.order(3) is None
    assert eng.position(2, 1)["open_buy_qty"] == 0


def test_ioc_that_does_not_cross_is_cancelled_whole(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, BUY, 4, 9_990)])
    sell = s.limit(1, 2, SELL, 3, 9_995, tif=ENG.TIF_IOC)
    assert eng.submit([sell]) == [ev.accepted(sell),
                                  ev.cancelled(sell, 2, ENG.CXL_IOC_REMAINDER, 3)]
    assert eng.depth(1, SELL) == []


def test_fully_filled_ioc_has_no_remainder_event(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, SELL, 4, 10_000)])
    buy = s.limit(1, 2, BUY, 4, 10_000, tif=ENG.TIF_IOC)
    assert eng.submit([buy]) == [ev.accepted(buy),
                                 ev.trade(buy, 1, 2, 1, 10_000, 4, 0, 0, BUY),
                                 ev.level(buy, SELL, 10_000, 0, 0)]


def test_ioc_in_pre_open_is_rejected_for_phase(make_engine):
    eng, s = make_engine(), CommandStream()
    eng.submit(opening(s)[:2])
    buy = s.limit(1, 1, BUY, 4, 10_000, tif=ENG.TIF_IOC)
    assert eng.submit([buy]) == [ev.rejected(buy, ENG.REJ_PHASE)]
