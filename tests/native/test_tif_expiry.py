"""Time in force: GTD orders expire when engine time reaches their expiry (before the command that
moves the clock is processed); END_OF_DAY expires DAY orders, waiting stops included."""
from __future__ import annotations

from native.messages import Time
from tests.native import events as ev
from tests.native.streams import CommandStream, opening
from tests.oracle import ENG

BUY, SELL = ENG.SIDE_BUY, ENG.SIDE_SELL


def _continuous(make_engine):
    eng, s = make_engine(), CommandStream()
    eng.submit(opening(s))
    return eng, s


def test_gtd_orders_expire_in_expiry_then_acceptance_order_when_time_reaches_them(make_engine):
    eng, s = _continuous(make_engine)
    deadline = s.ts_ns + 10_000
    eng.submit([s.limit(1, 1, BUY, 5, 9_990, tif=ENG.TIF_GTD, expire_ts_ns=deadline + 500),
                s.limit(1, 2, BUY, 4, 9_991, tif=ENG.TIF_GTD, expire_ts_ns=deadline),
                s.limit(1, 3, SELL, 3, 10_010, tif=ENG.TIF_GTD, expire_ts_ns=deadline + 500,
                        account_id=1)])
    not_yet = s.time(s.ts_step_ns)
    assert eng.submit([not_yet]) == [ev.ack(not_yet)]
    tick = s.time(deadline + 500 - s.ts_ns)
    assert eng.submit([tick]) == [
        ev.expired(tick, 2, ENG.EXP_GTD, 4),
        ev.level(tick, BUY, 9_991, 0, 0),
        ev.expired(tick, 1, ENG.EXP_GTD, 5),
        ev.level(tick, BUY, 9_990, 0, 0),
        ev.expired(tick, 3, ENG.EXP_GTD, 3, account=1),
        ev.level(tick, SELL, 10_010, 0, 0),
        ev.ack(tick, 0),
    ]


def test_order_expiring_at_the_commands_time_is_gone_before_the_command_matches(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, SELL, 5, 10_000, tif=ENG.TIF_GTD, expire_ts_ns=s.ts_ns + 2_000)])
    buy = s.limit(1, 2, BUY, 5, 10_000)
    assert buy.ts_ns == eng.order(1)["expire_ts_ns"]
    assert eng.submit([buy]) == [
        ev.expired(buy, 1, ENG.EXP_GTD, 5),
        ev.level(buy, SELL, 10_000, 0, 0),
        ev.accepted(buy),
        ev.level(buy, BUY, 10_000, 5, 1),
    ]


def test_gtd_expiry_must_be_in_the_future_and_only_on_gtd(make_engine):
    eng, s = _continuous(make_engine)
    past = s.limit(1, 1, BUY, 5, 9_990, tif=ENG.TIF_GTD, expire_ts_ns=1)
    on_gtc = s.limit(1, 2, BUY, 5, 9_990, tif=ENG.TIF_GTC, expire_ts_ns=10**12)
    assert eng.submit([past, on_gtc]) == [ev.rejected(past, ENG.REJ_BAD_EXPIRY),
                                          ev.rejected(on_gtc, ENG.REJ_BAD_EXPIRY)]


def test_end_of_day_expires_day_orders_and_day_stops_in_book_order(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, SELL, 5, 10_005, tif=ENG.TIF_DAY),
                s.limit(1, 2, BUY, 4, 9_990, tif=ENG.TIF_DAY),
                s.limit(1, 3, BUY, 3, 9_995, tif=ENG.TIF_GTC),
                s.limit(1, 4, BUY, 2, 9_995, tif=ENG.TIF_DAY),
                s.new_order(1, 5, SELL, 1, ord_type=ENG.ORD_STOP, tif=ENG.TIF_DAY,
                            stop_price=9_000)])
    eod = s.end_of_day(1)
    assert eng.submit([eod]) == [
        ev.expired(eod, 4, ENG.EXP_DAY, 2),
        ev.level(eod, BUY, 9_995, 3, 1),
        ev.expired(eod, 2, ENG.EXP_DAY, 4),
        ev.level(eod, BUY, 9_990, 0, 0),
        ev.expired(eod, 1, ENG.EXP_DAY, 5),
        ev.level(eod, SELL, 10_005, 0, 0),
        ev.expired(eod, 5, ENG.EXP_DAY, 1),
        ev.ack(eod, 4),
    ]
    assert eng.depth(1, BUY) == [(9_995, 3, 1)]


def test_end_of_day_for_an_unknown_instrument_is_rejected(make_engine):
    eng, s = _continuous(make_engine)
    eod = s.end_of_day(7)
    assert eng.submit([eod]) == [ev.rejected(eod, ENG.REJ_UNKNOWN_INSTRUMENT)]
