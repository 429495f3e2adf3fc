"""STOP and STOP_LIMIT orders: wait off the book, trigger on the last trade price, then behave
as a newly arrived MARKET or LIMIT order; triggers cascade and wait out non-continuous phases."""
from __future__ import annotations

from tests.native import events as ev
from tests.native.streams import CommandStream, opening
from tests.oracle import ENG

BUY, SELL = ENG.SIDE_BUY, ENG.SIDE_SELL


def _continuous(make_engine):
    eng, s = make_engine(), CommandStream()
    eng.submit(opening(s))
    return eng, s


def test_waiting_stop_is_not_in_the_book_and_is_listed_as_a_waiting_stop(make_engine):
    eng, s = _continuous(make_engine)
    stop = s.new_order(1, 1, BUY, 5, ord_type=ENG.ORD_STOP, stop_price=10_001, account_id=2)
    assert eng.submit([stop]) == [ev.accepted(stop)]
    assert eng.depth(1, BUY) == []
    [waiting] = eng.orders(1, ENG.SIDE_NONE)
    assert (waiting["order_id"], waiting["waiting_stop"], waiting["leaves_qty"]) == (1, 1, 5)
    assert eng.position(2, 1)["open_buy_qty"] == 5


def test_buy_stop_triggers_on_a_trade_at_its_stop_price_and_sweeps_as_a_market_order(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, SELL, 5, 10_000), s.limit(1, 2, SELL, 5, 10_001),
                s.limit(1, 3, SELL, 10, 10_002),
                s.new_order(1, 10, BUY, 5, ord_type=ENG.ORD_STOP, stop_price=10_001)])
    buy = s.limit(1, 11, BUY, 6, 10_001)
    assert eng.submit([buy]) == [
        ev.accepted(buy),
        ev.trade(buy, 1, 11, 1, 10_000, 5, 1, 0, BUY),
        ev.level(buy, SELL, 10_000, 0, 0),
        ev.trade(buy, 2, 11, 2, 10_001, 1, 0, 4, BUY),
        ev.level(buy, SELL, 10_001, 4, 1),
        ev.triggered(buy, 10, 10_001, 10_001),
        ev.trade(buy, 3, 10, 2, 10_001, 4, 1, 0, BUY),
        ev.level(buy, SELL, 10_001, 0, 0),
        ev.trade(buy, 4, 10, 3, 10_002, 1, 0, 9, BUY),
        ev.level(buy, SELL, 10_002, 9, 1),
    ]
    assert eng.orders(1, ENG.SIDE_NONE) == []


def test_triggered_sell_stop_limit_trades_then_rests_its_remainder(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, BUY, 1, 9_999), s.limit(1, 2, BUY, 3, 9_998),
                s.new_order(1, 3, SELL, 10, 9_998, ord_type=ENG.ORD_STOP_LIMIT,
                            stop_price=9_999)])
    sell = s.limit(1, 4, SELL, 1, 9_999)
    assert eng.submit([sell]) == [
        ev.accepted(sell),
        ev.trade(sell, 1, 1, 4, 9_999, 1, 0, 0, SELL),
        ev.level(sell, BUY, 9_999, 0, 0),
        ev.triggered(sell, 3, 9_999, 9_999),
        ev.trade(sell, 2, 2, 3, 9_998, 3, 0, 7, SELL),
        ev.level(sell, BUY, 9_998, 0, 0),
        ev.level(sell, SELL, 9_998, 7, 1),
    ]


def test_stop_whose_condition_already_holds_triggers_right_after_acceptance(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, SELL, 2, 10_000), s.limit(1, 2, BUY, 2, 10_000),
                s.limit(1, 3, SELL, 4, 10_003)])
    stop = s.new_order(1, 4, BUY, 3, ord_type=ENG.ORD_STOP, tif=ENG.TIF_IOC, stop_price=9_990)
    assert eng.submit([stop]) == [
        ev.accepted(stop),
        ev.triggered(stop, 4, 9_990, 10_000),
        ev.trade(stop, 2, 4, 3, 10_003, 3, 0, 1, BUY),
        ev.level(stop, SELL, 10_003, 1, 1),
    ]


def test_trades_of_a_triggered_stop_trigger_further_stops_in_acceptance_order(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, SELL, 1, 10_000), s.limit(1, 2, SELL, 1, 10_001),
                s.limit(1, 3, SELL, 1, 10_002),
                s.new_order(1, 20, BUY, 1, ord_type=ENG.ORD_STOP, stop_price=10_001),
                s.new_order(1, 21, BUY, 1, ord_type=ENG.ORD_STOP, stop_price=10_000)])
    buy = s.limit(1, 4, BUY, 1, 10_000)
    assert eng.submit([buy]) == [
        ev.accepted(buy),
        ev.trade(buy, 1, 4, 1, 10_000, 1, 0, 0, BUY),
        ev.level(buy, SELL, 10_000, 0, 0),
        ev.triggered(buy, 21, 10_000, 10_000),
        ev.trade(buy, 2, 21, 2, 10_001, 1, 0, 0, BUY),
        ev.level(buy, SELL, 10_001, 0, 0),
        ev.triggered(buy, 20, 10_001, 10_001),
        ev.trade(buy, 3, 20, 3, 10_002, 1, 0, 0, BUY),
        ev.level(buy, SELL, 10_002, 0, 0),
    ]


def test_stops_do_not_trigger_while_halted_and_trigger_after_the_reopening_auction(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, SELL, 1, 10_000), s.limit(1, 2, BUY, 1, 10_000),
                s.set_phase(1, ENG.PHASE_HALTED), s.set_phase(1, ENG.PHASE_PRE_OPEN)])
    stop = s.new_order(1, 3, SELL, 2, ord_type=ENG.ORD_STOP, stop_price=10_000)
    assert eng.submit([stop]) == [ev.accepted(stop)]  # pre-open: no trigger despite last 10000
    resting = s.limit(1, 4, BUY, 5, 9_995)
    eng.submit([resting])
    reopen = s.set_phase(1, ENG.PHASE_CONTINUOUS)
    assert eng.submit([reopen]) == [
        ev.auction(reopen, 0, 0, 0, ENG.SIDE_NONE, 0),
        ev.phase(reopen, ENG.PHASE_CONTINUOUS, ENG.PHASE_PRE_OPEN),
        ev.triggered(reopen, 3, 10_000, 10_000),
        ev.trade(reopen, 2, 4, 3, 9_995, 2, 3, 0, SELL),
        ev.level(reopen, BUY, 9_995, 3, 1),
        ev.ack(reopen),
    ]
