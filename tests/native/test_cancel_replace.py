"""CANCEL and REPLACE: cancels free the whole order; a replace keeps priority only when the price
is unchanged and the quantity not increased; a new price re-enters as an aggressor."""
from __future__ import annotations

from tests.native import events as ev
from tests.native.streams import CommandStream, opening
from tests.oracle import ENG

BUY, SELL = ENG.SIDE_BUY, ENG.SIDE_SELL


def _continuous(make_engine):
    eng, s = make_engine(), CommandStream()
    eng.submit(opening(s))
    return eng, s


def test_cancel_removes_the_order_and_reports_its_level(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, BUY, 5, 9_990, account_id=2), s.limit(1, 2, BUY, 3, 9_990)])
    cancel = s.cancel(1, 1)
    assert eng.submit([cancel]) == [ev.cancelled(cancel, 1, ENG.CXL_USER, 5, account=2),
                                    ev.level(cancel, BUY, 9_990, 3, 1)]
    assert eng.order(1) is None
    assert eng.position(2, 1)["open_buy_qty"] == 0


def test_cancel_of_a_waiting_stop_has_no_level_event(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.new_order(1, 1, SELL, 5, ord_type=ENG.ORD_STOP, stop_price=9_000)])
    cancel = s.cancel(1, 1)
    assert eng.submit([cancel]) == [ev.cancelled(cancel, 1, ENG.CXL_USER, 5)]


def test_cancel_of_an_unknown_or_other_instruments_order_is_rejected(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit(opening(s, instrument_id=2) + [s.limit(1, 1, BUY, 5, 9_990)])
    unknown, elsewhere = s.cancel(1, 99), s.cancel(2, 1)
    assert eng.submit([unknown, elsewhere]) == [ev.rejected(unknown, ENG.REJ_UNKNOWN_ORDER),
                                                ev.rejected(elsewhere, ENG.REJ_UNKNOWN_ORDER)]
    assert eng.depth(1, BUY) == [(9_990, 5, 1)]


def test_replace_reducing_quantity_keeps_time_priority(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, BUY, 5, 9_990), s.limit(1, 2, BUY, 3, 9_990)])
    rep = s.replace(1, 1, 9_990, 2)
    assert eng.submit([rep]) == [ev.replaced(rep, 1, 9_990, 2, 2, 1),
                                 ev.level(rep, BUY, 9_990, 5, 2)]
    assert [o["order_id"] for o in eng.orders(1, BUY)] == [1, 2]


def test_replace_to_the_same_quantity_changes_nothing_and_reports_no_level(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, BUY, 5, 9_990)])
    rep = s.replace(1, 1, 9_990, 5)
    assert eng.submit([rep]) == [ev.replaced(rep, 1, 9_990, 5, 5, 1)]


def test_replace_increasing_quantity_loses_time_priority(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, BUY, 5, 9_990), s.limit(1, 2, BUY, 3, 9_990)])
    rep = s.replace(1, 1, 9_990, 6)
    assert eng.submit([rep]) == [ev.replaced(rep, 1, 9_990, 6, 6, 0),
                                 ev.level(rep, BUY, 9_990, 9, 2)]
    assert [o["order_id"] for o in eng.orders(1, BUY)] == [2, 1]


def test_replace_to_a_crossing_price_trades_then_rests_the_remainder(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, BUY, 5, 9_990), s.limit(1, 2, SELL, 3, 10_000)])
    rep = s.replace(1, 1, 10_000, 5)
    assert eng.submit([rep]) == [
        ev.replaced(rep, 1, 10_000, 5, 5, 0),
        ev.level(rep, BUY, 9_990, 0, 0),
        ev.trade(rep, 1, 1, 2, 10_000, 3, 2, 0, BUY),
        ev.level(rep, SELL, 10_000, 0, 0),
        ev.level(rep, BUY, 10_000, 2, 1),
    ]
    info = eng.order(1)
    assert (info["price"], info["leaves_qty"], info["accept_seq"]) == (10_000, 2, 4)


def test_replace_of_an_iceberg_reduces_its_reserve_first(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, SELL, 30, 10_000, flags=ENG.FLAG_ICEBERG, display_qty=10)])
    rep = s.replace(1, 1, 10_000, 25)
    assert eng.submit([rep]) == [ev.replaced(rep, 1, 10_000, 25, 10, 1)]
    assert eng.order(1)["reserve_qty"] == 15


def test_replace_of_a_waiting_stop_or_with_bad_values_is_rejected_and_changes_nothing(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit(opening(s, instrument_id=2, tick_size=5, lot_size=10, reference_price=5_000))
    eng.submit([s.new_order(1, 1, SELL, 5, ord_type=ENG.ORD_STOP, stop_price=9_000),
                s.limit(2, 2, BUY, 20, 4_990)])
    stop, zero, off_lot, off_tick = (s.replace(1, 1, 9_000, 5), s.replace(2, 2, 4_990, 0),
                                     s.replace(2, 2, 4_990, 15), s.replace(2, 2, 4_991, 20))
    assert eng.submit([stop, zero, off_lot, off_tick]) == [
        ev.rejected(stop, ENG.REJ_BAD_REPLACE), ev.rejected(zero, ENG.REJ_BAD_QTY),
        ev.rejected(off_lot, ENG.REJ_OFF_LOT), ev.rejected(off_tick, ENG.REJ_OFF_TICK)]
    assert eng.depth(2, BUY) == [(4_990, 20, 1)]
