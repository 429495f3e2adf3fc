"""MASS_CANCEL and the kill switch: cancel every matching live order in book order, across
instruments in ascending id, then one CMD_ACK counting them."""
from __future__ import annotations

from tests.native import events as ev
from tests.native.streams import CommandStream, opening
from tests.oracle import ENG

BUY, SELL = ENG.SIDE_BUY, ENG.SIDE_SELL


def _two_instruments(make_engine):
    eng, s = make_engine(), CommandStream()
    eng.submit(opening(s, instrument_id=1) + opening(s, instrument_id=2))
    eng.submit([s.limit(2, 1, BUY, 5, 9_990, account_id=1),
                s.limit(1, 2, SELL, 4, 10_010, account_id=1),
                s.limit(1, 3, BUY, 3, 9_980, account_id=1),
                s.limit(1, 4, BUY, 2, 9_995, account_id=2),
                s.new_order(1, 5, SELL, 1, ord_type=ENG.ORD_STOP, stop_price=9_000, account_id=1)])
    return eng, s


def test_mass_cancel_by_account_cancels_in_book_order_across_instruments(make_engine):
    eng, s = _two_instruments(make_engine)
    mass = s.mass_cancel(account_id=1, by_account=1)
    assert eng.submit([mass]) == [
        ev.cancelled(mass, 3, ENG.CXL_MASS, 3, account=1),
        ev.level(mass, BUY, 9_980, 0, 0),
        ev.cancelled(mass, 2, ENG.CXL_MASS, 4, account=1),
        ev.level(mass, SELL, 10_010, 0, 0),
        ev.cancelled(mass, 5, ENG.CXL_MASS, 1, account=1),
        ev.cancelled(mass, 1, ENG.CXL_MASS, 5, account=1, instrument_id=2),
        ev.level(mass, BUY, 9_990, 0, 0, instrument_id=2),
        ev.ack(mass, 4),
    ]
    assert eng.depth(1, BUY) == [(9_995, 2, 1)]


def test_mass_cancel_by_instrument_leaves_other_instruments_alone(make_engine):
    eng, s = _two_instruments(make_engine)
    mass = s.mass_cancel(instrument_id=2, by_instrument=1)
    assert eng.submit([mass]) == [
        ev.cancelled(mass, 1, ENG.CXL_MASS, 5, account=1, instrument_id=2),
        ev.level(mass, BUY, 9_990, 0, 0, instrument_id=2),
        ev.ack(mass, 1),
    ]
    assert len(eng.orders(1, BUY)) == 2


def test_mass_cancel_with_nothing_to_cancel_acks_zero(make_engine):
    eng, s = _two_instruments(make_engine)
    mass = s.mass_cancel(account_id=3, by_account=1)
    assert eng.submit([mass]) == [ev.ack(mass, 0)]


def test_mass_cancel_with_unknown_instrument_or_bad_account_is_rejected(make_engine):
    eng, s = _two_instruments(make_engine)
    unknown = s.mass_cancel(instrument_id=3, by_instrument=1)
    bad_account = s.mass_cancel(account_id=8, by_account=1)
    assert eng.submit([unknown, bad_account]) == [
        ev.rejected(unknown, ENG.REJ_UNKNOWN_INSTRUMENT),
        ev.rejected(bad_account, ENG.REJ_BAD_ACCOUNT)]


def test_kill_switch_cancels_the_account_everywhere_and_refuses_its_orders(make_engine):
    eng, s = _two_instruments(make_engine)
    kill = s.set_kill_switch(2, 1)
    assert eng.submit([kill]) == [
        ev.cancelled(kill, 4, ENG.CXL_KILL_SWITCH, 2, account=2),
        ev.level(kill, BUY, 9_995, 0, 0),
        ev.ack(kill, 1),
    ]
    refused = s.limit(1, 6, BUY, 1, 9_990, account_id=2)
    release = s.set_kill_switch(2, 0)
    allowed = s.limit(1, 7, BUY, 1, 9_990, account_id=2)
    assert eng.submit([refused, release, allowed]) == [
        ev.rejected(refused, ENG.REJ_KILL_SWITCH), ev.ack(release, 0), ev.accepted(allowed),
        ev.level(allowed, BUY, 9_990, 1, 1)]
