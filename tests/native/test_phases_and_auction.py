"""Trading phases and the opening/reopening auction: allowed transitions, what each phase refuses,
and the uncross (max volume, then min imbalance, then nearest the reference, then lower price)."""
from __future__ import annotations

import pytest

from tests.native import events as ev
from tests.native.streams import CommandStream
from tests.oracle import ENG

BUY, SELL = ENG.SIDE_BUY, ENG.SIDE_SELL
CLOSED, PRE_OPEN, CONTINUOUS, HALTED = (ENG.PHASE_CLOSED, ENG.PHASE_PRE_OPEN,
                                        ENG.PHASE_CONTINUOUS, ENG.PHASE_HALTED)


def _pre_open(make_engine, reference_price=10_000):
    eng, s = make_engine(), CommandStream()
    eng.submit([s.add_instrument(1, reference_price=reference_price),
                s.set_phase(1, PRE_OPEN)])
    return eng, s


def test_new_instrument_starts_closed_and_refuses_orders(make_engine):
    eng, s = make_engine(), CommandStream()
    add = s.add_instrument(1)
    buy = s.limit(1, 1, BUY, 1, 10_000)
    assert eng.submit([add, buy]) == [ev.ack(add), ev.rejected(buy, ENG.REJ_PHASE)]
    assert eng.instrument(1)["phase"] == CLOSED
    assert eng.instrument(1)["has_last_trade"] == 0


@pytest.mark.parametrize("path, bad", [((), CONTINUOUS), ((), HALTED), ((PRE_OPEN,), HALTED),
                                       ((PRE_OPEN, CONTINUOUS), PRE_OPEN),
                                       ((PRE_OPEN,), PRE_OPEN), ((), 9)])
def test_disallowed_phase_transitions_are_rejected(make_engine, path, bad):
    eng, s = make_engine(), CommandStream()
    eng.submit([s.add_instrument(1)] + [s.set_phase(1, p) for p in path])
    cmd = s.set_phase(1, bad)
    assert eng.submit([cmd]) == [ev.rejected(cmd, ENG.REJ_BAD_PHASE_TRANSITION)]


def test_pre_open_accepts_crossing_limits_without_matching(make_engine):
    eng, s = _pre_open(make_engine)
    buy, sell = s.limit(1, 1, BUY, 5, 10_002), s.limit(1, 2, SELL, 5, 9_998)
    assert eng.submit([buy, sell]) == [ev.accepted(buy), ev.level(buy, BUY, 10_002, 5, 1),
                                       ev.accepted(sell), ev.level(sell, SELL, 9_998, 5, 1)]


def test_uncross_picks_the_max_volume_price_and_pairs_orders_in_book_order(make_engine):
    eng, s = _pre_open(make_engine)
    eng.submit([s.limit(1, 1, BUY, 5, 10_002, account_id=1),
                s.limit(1, 2, BUY, 5, 10_000, account_id=1),
                s.limit(1, 3, SELL, 3, 9_999, account_id=2),
                s.limit(1, 4, SELL, 4, 10_001, account_id=2),
                s.limit(1, 5, SELL, 6, 10_003, account_id=2)])
    # B(10000)=10 S(10000)=3 V=3; B(10001)=5 S(10001)=7 V=5; B(10002)=5 S=7 V=5, imbalance 2
    # both: 10001 and 10002 tie on volume and imbalance; 10001 is nearer the reference 10000.
    reopen = s.set_phase(1, CONTINUOUS)
    assert eng.submit([reopen]) == [
        ev.trade(reopen, 1, 1, 3, 10_001, 3, 2, 0, ENG.SIDE_NONE, 1, 2),
        ev.level(reopen, BUY, 10_002, 2, 1),
        ev.level(reopen, SELL, 9_999, 0, 0),
        ev.trade(reopen, 2, 1, 4, 10_001, 2, 0, 2, ENG.SIDE_NONE, 1, 2),
        ev.level(reopen, BUY, 10_002, 0, 0),
        ev.level(reopen, SELL, 10_001, 2, 1),
        ev.auction(reopen, 10_001, 5, 2, SELL, 1),
        ev.phase(reopen, CONTINUOUS, PRE_OPEN),
        ev.ack(reopen),
    ]
    assert eng.instrument(1)["last_trade_price"] == 10_001
    assert eng.position(1, 1)["position"] == 5


def test_uncross_breaks_a_full_tie_with_the_lower_price(make_engine):
    eng, s = _pre_open(make_engine, reference_price=10_001)
    eng.submit([s.limit(1, 1, BUY, 5, 10_002), s.limit(1, 2, SELL, 5, 10_000)])
    # V=5 and imbalance 0 at 10000 and at 10002, both 1 tick from the reference: lower wins.
    reopen = s.set_phase(1, CONTINUOUS)
    assert eng.submit([reopen])[0].price == 10_000


def test_uncross_fills_iceberg_reserve_and_refills_it_to_the_back(make_engine):
    eng, s = _pre_open(make_engine)
    eng.submit([s.limit(1, 1, BUY, 20, 10_000, flags=ENG.FLAG_ICEBERG, display_qty=5),
                s.limit(1, 2, BUY, 5, 10_000),
                s.limit(1, 3, SELL, 8, 10_000)])
    reopen = s.set_phase(1, CONTINUOUS)
    assert eng.submit([reopen]) == [
        ev.trade(reopen, 1, 1, 3, 10_000, 8, 12, 0, ENG.SIDE_NONE),
        ev.level(reopen, BUY, 10_000, 10, 2),
        ev.level(reopen, SELL, 10_000, 0, 0),
        ev.auction(reopen, 10_000, 8, 17, BUY, 1),
        ev.phase(reopen, CONTINUOUS, PRE_OPEN),
        ev.ack(reopen),
    ]
    assert [o["order_id"] for o in eng.orders(1, BUY)] == [2, 1]


def test_halt_refuses_orders_allows_cancels_and_reopens_through_pre_open(make_engine):
    eng, s = _pre_open(make_engine)
    eng.submit([s.limit(1, 1, BUY, 5, 9_990), s.set_phase(1, CONTINUOUS)])
    halt = s.set_phase(1, HALTED)
    refused = s.limit(1, 2, BUY, 5, 9_990)
    replace = s.replace(1, 1, 9_991, 5)
    cancel = s.cancel(1, 1)
    assert eng.submit([halt, refused, replace, cancel]) == [
        ev.phase(halt, HALTED, CONTINUOUS), ev.ack(halt),
        ev.rejected(refused, ENG.REJ_PHASE), ev.rejected(replace, ENG.REJ_PHASE),
        ev.cancelled(cancel, 1, ENG.CXL_USER, 5), ev.level(cancel, BUY, 9_990, 0, 0)]
    direct = s.set_phase(1, CONTINUOUS)
    assert eng.submit([direct]) == [ev.rejected(direct, ENG.REJ_BAD_PHASE_TRANSITION)]
    pre_open, reopen = s.set_phase(1, PRE_OPEN), s.set_phase(1, CONTINUOUS)
    assert eng.submit([pre_open, reopen]) == [
        ev.phase(pre_open, PRE_OPEN, HALTED), ev.ack(pre_open),
        ev.auction(reopen, 0, 0, 0, ENG.SIDE_NONE, 0),
        ev.phase(reopen, CONTINUOUS, PRE_OPEN), ev.ack(reopen)]
